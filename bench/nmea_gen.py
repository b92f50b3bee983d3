"""Realistic synthetic AIS NMEA for benchmarks: a shore network around the Sea of Japan.

``generate(path, n_sentences=1_000_000, seed=0)`` writes exactly ``n_sentences`` lines, each an
``!AIVDM`` sentence behind an IEC 61162-1 tag block ``\\s:<station>,c:<epoch seconds>*hh\\``::

    \\s:niigata,c:1717200012*40\\!AIVDM,1,1,,A,16K29h@01s9bqH0D5I`3rC8IP000,0*22

What is in it (shares are of sentences, i.e. of lines):

* ~3000 vessels with 9-digit MMSIs under real MIDs (Japan, Korea, China, Panama, Liberia, ...):
  ~2300 class A (cargo, tanker, passenger, fishing, tug, other; ~12% at anchor or moored) and
  ~700 class B (pleasure craft and small fishing boats). They move in straight lines at a
  speed typical of their class through sea areas of the Sea of Japan, Korea Strait, Yellow Sea
  and East China Sea; report rates follow ITU-R M.1371 (2-10 s moving class A, 3 min at anchor,
  30 s class B), thinned to the requested volume as a real network's reception is.
* Call signs (types 5 and 24) from the ITU series of the vessel's flag, except 2% from another
  administration's (:data:`CALLSIGN_MISMATCH`). Version 1 drew them from a fixed letter per
  country (all class B got a Japanese one), so 64% of vessels had a mismatched call sign, an
  identity_mismatch event each: far more than a real feed.
* 70% types 1/2/3 (about 85/5/10), 15% type 18, 8% type 5 as two sentences each (both
  fragments; sequential message id 0-9 cycling per receiving station, channel A or B),
  4% type 24 (parts A and B alternating per vessel), 2% type 4 from ~20 base stations (every
  ~10 s), 1% type 21 from ~170 aids to navigation.
* Several receiving stations (tag block ``s:``); each transmission is heard by the station
  nearest its sender, and ~5% of transmissions are also heard by the second-nearest station,
  0.05-1.5 s later (same payload, same channel, own tag block): the duplicates a shore network
  really produces and a decoder is expected to merge.
* Receive times (tag block ``c:``) increase from 2024-06-01T00:00:00Z across ``n/100`` seconds
  (2.8 h for 1M lines); the UTC second inside each position report matches its ``c:`` time.

Types 5, 21 and 24 are encoded with :func:`pyais.encode.encode_dict` (types 5/24 once per
vessel, 21 once per report). The bulk position reports (types 1/2/3/18) and type 4 are packed
by a vectorised numpy six-bit encoder; :func:`generate` checks a random sample of those
sentences against ``pyais.encode.encode_dict`` byte for byte before writing anything.

Apart from the deliberate receiver duplicates no payload repeats within 10 seconds
(:func:`verify` checks it, along with both checksums of every line and a full pyais decode).

``cached(n_sentences, seed)`` returns the path of the file under ``bench/_cache/``, generating
it once (keyed by parameters and generator version). Run ``python bench/nmea_gen.py --help``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

GEN_VERSION = 2  # 2: call signs from the flag's ITU series (v1: 64% of vessels had another administration's)
CACHE_DIR = Path(__file__).resolve().parent / "_cache"

EPOCH0 = 1_717_200_000  # 2024-06-01T00:00:00Z, divisible by 60
SENTENCES_PER_SECOND = 100.0  # network volume: sets the time span covered by the file

#: share of *sentences* per message kind ("123" = types 1, 2 and 3)
SENTENCE_SHARES = {"123": 0.70, "18": 0.15, "5": 0.08, "24": 0.04, "4": 0.02, "21": 0.01}
DUP_FRACTION = 0.05  # of transmissions also heard by a second station

N_CLASS_A = 2300
N_CLASS_B = 700

# receiving stations: name, lat, lon
STATIONS = [
    ("otaru", 43.20, 141.00),
    ("sakata", 38.92, 139.82),
    ("niigata", 37.95, 139.06),
    ("maizuru", 35.48, 135.38),
    ("hamada", 34.90, 132.07),
    ("fukuoka", 33.62, 130.40),
    ("nagasaki", 32.75, 129.85),
    ("kagoshima", 31.58, 130.56),
    ("naha", 26.21, 127.68),
    ("busan", 35.10, 129.04),
    ("pohang", 36.03, 129.38),
    ("mokpo", 34.79, 126.38),
    ("jeju", 33.51, 126.52),
    ("zhoushan", 30.00, 122.10),
    ("vladivostok", 43.10, 131.90),
]
#: MID of each station's country, for base station (00MIDxxxx) and AtoN (99MIDxxxx) MMSIs
STATION_MID = {name: 431 for name, _, _ in STATIONS} | {
    "busan": 440, "pohang": 440, "mokpo": 440, "jeju": 440, "zhoushan": 412, "vladivostok": 273}

# sea areas where vessels are: lat0, lat1, lon0, lon1, weight
SEA_BOXES = [
    (37.5, 41.5, 132.0, 137.5, 0.25),  # Sea of Japan, central
    (35.8, 37.2, 131.5, 135.0, 0.10),  # Sea of Japan, off San'in
    (33.9, 34.6, 128.9, 130.0, 0.15),  # Korea / Tsushima Strait
    (28.0, 32.0, 123.0, 128.0, 0.30),  # East China Sea
    (33.5, 36.5, 122.0, 125.0, 0.20),  # Yellow Sea, south
]

# flag MIDs with weights (class A); class B is mostly local
MIDS_A = {431: 14, 432: 4, 440: 10, 441: 4, 412: 10, 413: 8, 414: 5, 477: 6, 416: 3, 273: 3,
          351: 4, 352: 3, 353: 3, 355: 2, 370: 3, 371: 3, 372: 2, 373: 2, 636: 7, 538: 5,
          563: 3, 564: 2, 565: 2, 566: 2, 248: 2, 229: 2, 209: 1, 218: 1}
MIDS_B = {431: 45, 440: 30, 412: 15, 413: 5, 416: 5}

PORTS = ["TOKYO", "YOKOHAMA", "NAGOYA", "KOBE", "OSAKA", "NIIGATA", "HAKATA", "MOJI", "BUSAN",
         "ULSAN", "INCHEON", "GWANGYANG", "SHANGHAI", "NINGBO", "QINGDAO", "DALIAN", "TIANJIN",
         "VLADIVOSTOK", "NAKHODKA", "KAOHSIUNG", "KEELUNG", "HONG KONG", "SINGAPORE",
         "JP TYO", "JP UKB", "KR PUS", "KR USN", "CN SHA", "CN NGB", "CN TAO", "RU VVO"]
NAME_A = ["NIPPON", "SHIN", "OCEAN", "PACIFIC", "ASIA", "HANJIN", "HYUNDAI", "COSCO", "EVER",
          "SINOKOR", "KOTA", "MOL", "NYK", "PAN", "GOLDEN", "STAR", "SEA", "GREAT", "HAI",
          "DONG", "TOKYO", "KOREA", "JIN", "HUA", "CAPE", "MSC", "ONE", "YM", "TS", "SITC"]
NAME_B = ["MARU", "STAR", "HOPE", "GLORY", "PIONEER", "WAVE", "BRIDGE", "TRADER", "SPIRIT",
          "LEADER", "HARMONY", "EXPRESS", "PRINCESS", "DRAGON", "PHOENIX", "FORTUNE", "BREEZE",
          "VICTORY", "UNITY", "LUCKY", "SUNRISE", "PEARL", "QUEEN", "ACE", "FRONTIER"]

# class-A categories: name, share, ship_type range, speed mean, sd, lo, hi (knots), anchored share
CATS_A = [
    ("cargo", 0.38, (70, 79), 13.0, 2.5, 7.0, 22.0, 0.12, (120, 300)),
    ("tanker", 0.18, (80, 89), 11.5, 2.0, 7.0, 16.0, 0.18, (100, 330)),
    ("passenger", 0.06, (60, 69), 17.0, 3.5, 10.0, 28.0, 0.08, (60, 220)),
    ("fishing", 0.22, (30, 30), 7.0, 3.0, 0.5, 12.0, 0.10, (20, 70)),
    ("tug", 0.06, (52, 52), 6.0, 3.0, 0.5, 12.0, 0.20, (25, 45)),
    ("other", 0.10, (90, 99), 9.0, 4.0, 1.0, 18.0, 0.10, (30, 150)),
]

_SIXBIT_CHARS = np.array(
    [ord(c) for c in "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"],
    dtype=np.uint8,
)
_HEX2 = [f"{i:02X}" for i in range(256)]


# ---------------------------------------------------------------------------------------------
# encoding helpers
# ---------------------------------------------------------------------------------------------

def _pack168(fields: list[tuple[np.ndarray, int]]) -> list[str]:
    """Pack unsigned fields (values, width) totalling 168 bits into 28-char AIS payloads."""
    assert sum(w for _, w in fields) == 168
    n = len(fields[0][0])
    out: list[str] = []
    chunk = 100_000
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        bits = np.empty((e - s, 168), dtype=np.uint8)
        pos = 0
        for vals, width in fields:
            v = np.asarray(vals[s:e], dtype=np.int64) & ((1 << width) - 1)
            shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
            bits[:, pos:pos + width] = ((v[:, None] >> shifts) & 1).astype(np.uint8)
            pos += width
        six = bits.reshape(e - s, 28, 6) @ np.array([32, 16, 8, 4, 2, 1], dtype=np.uint8)
        chars = _SIXBIT_CHARS[six]
        raw = chars.tobytes().decode("ascii")
        out.extend(raw[i:i + 28] for i in range(0, len(raw), 28))
    return out


def _rot_raw(rot_deg_min: np.ndarray) -> np.ndarray:
    """ITU ROT_AIS raw value from degrees/minute, as pyais.messages.from_turn does it."""
    r = np.asarray(rot_deg_min, dtype=np.float64)
    raw = np.copysign(np.round(4.733 * np.sqrt(np.abs(r))), r)
    return np.clip(raw, -126, 126).astype(np.int64)


def _encode_pyais(d: dict) -> list[tuple[str, int]]:
    """(payload, fill bits) of each fragment, via pyais' encoder."""
    from pyais.encode import encode_dict

    out = []
    for s in encode_dict(d, talker_id="AI", sentence_type="VDM", radio_channel="A"):
        f = s.split("*")[0].split(",")
        out.append((f[5], int(f[6])))
    return out


def _checksums(strings: list[str]) -> list[str]:
    """Two-hex-digit XOR checksum of each string (all characters), vectorised."""
    if not strings:
        return []
    lens = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    buf = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    x = np.bitwise_xor.reduceat(buf, starts)
    x[lens == 0] = 0
    return [_HEX2[v] for v in x.tolist()]


def _xor(s: str) -> int:
    v = 0
    for ch in s.encode("ascii"):
        v ^= ch
    return v


def _imo_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid 7-digit IMO numbers (check digit = sum of digit*weight 7..2, mod 10)."""
    six = rng.integers(900_000, 999_999, size=n)  # 9000000-9999999 range, like most ships
    digits = np.stack([(six // 10 ** (5 - i)) % 10 for i in range(6)], axis=1)
    check = (digits * np.arange(7, 1, -1)).sum(axis=1) % 10
    return six * 10 + check


def _mmsis(rng: np.random.Generator, mids: dict[int, int], n: int, taken: set[int]) -> np.ndarray:
    keys = np.array(list(mids))
    p = np.array(list(mids.values()), dtype=float)
    p /= p.sum()
    out = []
    while len(out) < n:
        mid = int(rng.choice(keys, p=p))
        m = mid * 1_000_000 + int(rng.integers(0, 1_000_000))
        if m not in taken:
            taken.add(m)
            out.append(m)
    return np.array(out, dtype=np.int64)


def _apportion_times(rng, counts: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-sender event times spread evenly over [0, span) with jitter: (sender idx, t)."""
    idx = np.repeat(np.arange(len(counts)), counts)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    k = np.arange(len(idx)) - np.repeat(start, counts)
    gap = span / np.maximum(counts, 1)[idx]
    phase = rng.random(len(counts))[idx]
    jitter = rng.uniform(-0.25, 0.25, len(idx))
    t = (k + 0.5 * phase + 0.25 + jitter) * gap
    return idx, np.clip(t, 0.0, span - 1e-3)


def _nearest_stations(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    slat = np.array([s[1] for s in STATIONS])
    slon = np.array([s[2] for s in STATIONS])
    d = (lat[:, None] - slat[None, :]) ** 2 + (
        (lon[:, None] - slon[None, :]) * np.cos(np.radians(lat[:, None]))
    ) ** 2
    order = np.argsort(d, axis=1)
    return order[:, 0], order[:, 1]


# ---------------------------------------------------------------------------------------------
# the world
# ---------------------------------------------------------------------------------------------

def plan_counts(n: int) -> dict[str, dict[str, int]]:
    """Sentences, transmissions and duplicates per kind, adding up to exactly ``n`` lines."""
    sent = {k: int(round(v * n)) for k, v in SENTENCE_SHARES.items() if k != "123"}
    sent["5"] -= sent["5"] % 2
    sent["123"] = n - sum(sent.values())
    out = {}
    for k, s in sent.items():
        per = 2 if k == "5" else 1
        msgs = s // per
        base = int(round(msgs / (1 + DUP_FRACTION)))
        out[k] = {"sentences": s, "messages": msgs, "transmissions": base, "duplicates": msgs - base}
    return out


#: share of vessels whose call sign is from another administration's ITU series than their
#: MMSI's flag (a re-flagged vessel that kept its call sign, or a false flag): a few in a real feed
CALLSIGN_MISMATCH = 0.02


class _CallSigns:
    """Call sign prefixes (three characters of an ITU series, RR Appendix 42) for vessels: from
    their flag's administration's series, except :data:`CALLSIGN_MISMATCH` of them. Its own
    random stream, so the rest of the file does not depend on it."""

    def __init__(self, seed: int):
        from seawatch.flags import _administrations, _callsign_maps, flag_state

        self._flag_state, self._adm = flag_state, _administrations()
        self._by_adm: dict[str, list[str]] = {}
        for key, iso in sorted(_callsign_maps()[0].items()):
            if iso:
                self._by_adm.setdefault(self._adm.get(iso, iso), []).append(key)
        self._all = sorted(k for v in self._by_adm.values() for k in v)
        self._rng = np.random.default_rng([seed, 24])

    def prefix(self, mmsi: int) -> str:
        iso = self._flag_state([mmsi])[0]
        own = self._by_adm.get(self._adm.get(iso, iso), []) if iso else []
        if not own or self._rng.random() < CALLSIGN_MISMATCH:
            mine = set(own)
            others = [k for k in self._all if k not in mine]
            return others[int(self._rng.integers(len(others)))]
        return own[int(self._rng.integers(len(own)))]


def _vessels(rng: np.random.Generator, span: float) -> dict[str, np.ndarray]:
    """Class A and B vessels: identity, class, motion."""
    taken: set[int] = set()
    na, nb = N_CLASS_A, N_CLASS_B
    n = na + nb
    mmsi = np.concatenate([_mmsis(rng, MIDS_A, na, taken), _mmsis(rng, MIDS_B, nb, taken)])
    is_a = np.arange(n) < na

    boxes = np.array([b[:4] for b in SEA_BOXES])
    w = np.array([b[4] for b in SEA_BOXES])
    box = rng.choice(len(SEA_BOXES), size=n, p=w / w.sum())
    lat0 = rng.uniform(boxes[box, 0], boxes[box, 1])
    lon0 = rng.uniform(boxes[box, 2], boxes[box, 3])

    cat = np.full(n, -1)
    cat_p = np.array([c[1] for c in CATS_A])
    cat[:na] = rng.choice(len(CATS_A), size=na, p=cat_p / cat_p.sum())
    sog = np.zeros(n)
    ship_type = np.zeros(n, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    anchored = np.zeros(n, dtype=bool)
    for ci, (_, _, (st0, st1), mu, sd, lo, hi, anch, (l0, l1)) in enumerate(CATS_A):
        m = cat == ci
        k = int(m.sum())
        sog[m] = np.clip(rng.normal(mu, sd, k), lo, hi)
        ship_type[m] = rng.integers(st0, st1 + 1, k)
        length[m] = rng.integers(l0, l1 + 1, k)
        anchored[m] = rng.random(k) < anch
    # class B: pleasure (37) or fishing (30); 40% stationary
    mb = ~is_a
    ship_type[mb] = np.where(rng.random(nb) < 0.55, 37, 30)
    sog[mb] = np.where(ship_type[mb] == 37, rng.uniform(3, 22, nb), rng.uniform(0.5, 9, nb))
    anchored[mb] = rng.random(nb) < 0.40
    length[mb] = rng.integers(6, 24, nb)
    sog[anchored] = rng.uniform(0.0, 0.3, int(anchored.sum()))
    cog = rng.uniform(0, 360, n)
    # fishing vessels engaged in fishing (status 7), anchored 1 or moored 5, else 0
    status = np.zeros(n, dtype=np.int64)
    status[(cat == 3) & (rng.random(n) < 0.5)] = 7
    status[anchored] = np.where(rng.random(int(anchored.sum())) < 0.6, 1, 5)
    # ITU-R M.1371 nominal reporting interval, seconds
    interval = np.where(
        is_a,
        np.select([anchored, sog > 23, sog > 14], [180.0, 2.0, 6.0], 10.0),
        np.where(anchored | (sog < 2), 180.0, 30.0),
    )
    has_rot = is_a & (rng.random(n) < 0.7)
    has_heading = is_a | (rng.random(n) < 0.15)
    st1, st2 = _nearest_stations(lat0, lon0)
    return dict(mmsi=mmsi, is_a=is_a, lat0=lat0, lon0=lon0, sog=sog, cog=cog, status=status,
                ship_type=ship_type, length=length, anchored=anchored, interval=interval,
                has_rot=has_rot, has_heading=has_heading, st1=st1, st2=st2, cat=cat)


def _positions_at(v: dict, idx: np.ndarray, t: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    dt_h = (t - span / 2) / 3600.0
    nm = v["sog"][idx] * dt_h
    cog = np.radians(v["cog"][idx])
    lat = v["lat0"][idx] + nm * np.cos(cog) / 60.0
    lon = v["lon0"][idx] + nm * np.sin(cog) / 60.0 / np.cos(np.radians(v["lat0"][idx]))
    return lat, lon


class _Pool:
    """Payload strings ('payload,fill') referenced by index."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, items: list[str]) -> np.ndarray:
        start = len(self.items)
        self.items.extend(items)
        return np.arange(start, start + len(items), dtype=np.int64)


def _build(n: int, seed: int, check_sample: int = 400) -> tuple[list[str], dict]:
    rng = np.random.default_rng(seed)
    plan = plan_counts(n)
    span = max(600.0, n / SENTENCES_PER_SECOND)
    v = _vessels(rng, span)
    nv = len(v["mmsi"])
    is_a = v["is_a"]
    pool = _Pool()
    recs = []  # per kind: dict(t, st1, st2, ch, p1, p2)
    checks: list[tuple[str, dict]] = []  # (payload string, dict for pyais encode_dict)

    def counts_for(weights: np.ndarray, total: int) -> np.ndarray:
        return rng.multinomial(total, weights / weights.sum())

    # ---- types 1/2/3 (class A) and 18 (class B) position reports ------------------------------
    for kind, mask in (("123", is_a), ("18", ~is_a)):
        total = plan[kind]["transmissions"]
        ids = np.flatnonzero(mask)
        cnt = counts_for(1.0 / v["interval"][ids], total)
        j, t = _apportion_times(rng, cnt, span)
        i = ids[j]
        m = len(i)
        lat, lon = _positions_at(v, i, t, span)
        lat_raw = np.round(lat * 600000.0).astype(np.int64)
        lon_raw = np.round(lon * 600000.0).astype(np.int64)
        sog = np.clip(v["sog"][i] + rng.normal(0, 0.15, m) * (~v["anchored"][i]), 0, 102.2)
        sog_raw = np.round(sog * 10).astype(np.int64)
        cog = (v["cog"][i] + rng.normal(0, 1.5, m)) % 360
        cog = np.where(v["anchored"][i], rng.uniform(0, 360, m), cog)
        cog_raw = np.minimum(np.round(cog * 10).astype(np.int64), 3599)
        hdg = np.round(v["cog"][i] + rng.normal(0, 2.0, m)).astype(np.int64) % 360
        hdg = np.where(v["has_heading"][i], hdg, 511)
        sec = (np.floor(t).astype(np.int64)) % 60
        acc = (rng.random(m) < 0.3).astype(np.int64)
        raim = (rng.random(m) < 0.1).astype(np.int64)
        mmsi = v["mmsi"][i]
        if kind == "123":
            mtype = rng.choice([1, 2, 3], size=m, p=[0.85, 0.05, 0.10])
            rot = np.where(v["anchored"][i], 0.0, np.round(rng.normal(0, 3.0, m)))
            rot_raw = np.where(v["has_rot"][i], _rot_raw(rot), -128)
            status = v["status"][i]
            radio = rng.integers(0, 1 << 19, m)
            fields = [(mtype, 6), (np.zeros(m, np.int64), 2), (mmsi, 30), (status, 4),
                      (rot_raw, 8), (sog_raw, 10), (acc, 1), (lon_raw, 28), (lat_raw, 27),
                      (cog_raw, 12), (hdg, 9), (sec, 6), (np.zeros(m, np.int64), 2),
                      (np.zeros(m, np.int64), 3), (raim, 1), (radio, 19)]
        else:
            mtype = np.full(m, 18)
            radio = np.where(rng.random(m) < 0.8, 393222, rng.integers(0, 1 << 20, m))
            one = np.ones(m, np.int64)
            zero = np.zeros(m, np.int64)
            fields = [(mtype, 6), (zero, 2), (mmsi, 30), (zero, 8), (sog_raw, 10), (acc, 1),
                      (lon_raw, 28), (lat_raw, 27), (cog_raw, 12), (hdg, 9), (sec, 6), (zero, 2),
                      (one, 1), (zero, 1), (one, 1), (one, 1), (one, 1), (zero, 1), (raim, 1),
                      (radio, 20)]
        payloads = _pack168(fields)
        for r in rng.choice(m, size=min(check_sample, m), replace=False).tolist():
            d = {"type": int(mtype[r]), "msg_type": int(mtype[r]), "mmsi": int(mmsi[r]), "speed": sog_raw[r] / 10,
                 "accuracy": int(acc[r]), "lon": lon_raw[r] / 600000.0, "lat": lat_raw[r] / 600000.0,
                 "course": cog_raw[r] / 10, "heading": int(hdg[r]), "second": int(sec[r]),
                 "raim": int(raim[r]), "radio": int(radio[r])}
            if kind == "123":
                d.update(status=int(v["status"][i[r]]), turn=_turn_for_pyais(int(rot_raw[r])),
                         maneuver=0)
            else:
                d.update(cs=1, display=0, dsc=1, band=1, msg22=1, assigned=0)
            checks.append((payloads[r], d))
        p1 = pool.add([p + ",0" for p in payloads])
        recs.append(dict(kind=kind, t=t, st1=v["st1"][i], st2=v["st2"][i], p1=p1,
                         p2=np.full(m, -1)))

    # ---- type 5 (class A static and voyage), two sentences each --------------------------------
    ids_a = np.flatnonzero(is_a)
    na = len(ids_a)
    cs = _CallSigns(seed)
    imo = _imo_numbers(rng, na)
    t5_pay = {}
    for k, vi in enumerate(ids_a.tolist()):
        length = int(v["length"][vi])
        bow = int(length * rng.uniform(0.75, 0.9))
        beam = max(4, int(length / rng.uniform(5.5, 7.5)))
        port = beam // 2
        draught = round(float(np.clip(length / 22 * rng.uniform(0.6, 1.0), 1.5, 21.0)), 1)
        name = f"{NAME_A[rng.integers(len(NAME_A))]} {NAME_B[rng.integers(len(NAME_B))]}"
        if rng.random() < 0.5:
            name += f" {int(rng.integers(1, 99))}"
        callsign = cs.prefix(int(v["mmsi"][vi])) + "".join(chr(65 + int(x)) for x in rng.integers(0, 26, 3))
        eta = EPOCH0 + span + rng.uniform(3600, 5 * 86400)
        tm = time.gmtime(eta)
        d = {"type": 5, "mmsi": int(v["mmsi"][vi]), "ais_version": int(rng.integers(0, 3)),
             "imo": int(imo[k]) if v["cat"][vi] != 3 else 0, "callsign": callsign,
             "shipname": name[:20], "ship_type": int(v["ship_type"][vi]),
             "to_bow": bow, "to_stern": length - bow, "to_port": port, "to_starboard": beam - port,
             "epfd": 1, "month": tm.tm_mon, "day": tm.tm_mday, "hour": tm.tm_hour,
             "minute": tm.tm_min, "draught": draught,
             "destination": PORTS[int(rng.integers(len(PORTS)))], "dte": 0}
        frags = _encode_pyais(d)
        assert len(frags) == 2, frags
        t5_pay[vi] = [f"{p},{f}" for p, f in frags]
    cnt = counts_for(np.ones(na), plan["5"]["transmissions"])
    j, t = _apportion_times(rng, cnt, span)
    i = ids_a[j]
    first = pool.add([t5_pay[x][0] for x in i.tolist()])
    second = pool.add([t5_pay[x][1] for x in i.tolist()])
    recs.append(dict(kind="5", t=t, st1=v["st1"][i], st2=v["st2"][i], p1=first, p2=second))

    # ---- type 24 (class B static), parts A and B alternating -----------------------------------
    ids_b = np.flatnonzero(~is_a)
    t24 = {}
    for vi in ids_b.tolist():
        name = f"{NAME_B[rng.integers(len(NAME_B))]} {int(rng.integers(1, 99))}"
        length = int(v["length"][vi])
        bow = int(length * 0.7)
        a = _encode_pyais({"type": 24, "mmsi": int(v["mmsi"][vi]), "partno": 0, "shipname": name})
        b = _encode_pyais({"type": 24, "mmsi": int(v["mmsi"][vi]), "partno": 1,
                           "ship_type": int(v["ship_type"][vi]),
                           "vendorid": ["SRT", "TRM", "FUR", "JRC", "ICO"][int(rng.integers(5))],
                           "model": int(rng.integers(1, 15)), "serial": int(rng.integers(1, 1 << 20)),
                           "callsign": cs.prefix(int(v["mmsi"][vi]))
                           + "".join(chr(65 + int(x)) for x in rng.integers(0, 26, 5))[:4],
                           "to_bow": bow, "to_stern": length - bow, "to_port": 1, "to_starboard": 2})
        t24[vi] = [f"{a[0][0]},{a[0][1]}", f"{b[0][0]},{b[0][1]}"]
    cnt = counts_for(np.ones(len(ids_b)), plan["24"]["transmissions"])
    j, t = _apportion_times(rng, cnt, span)
    i = ids_b[j]
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    part = (np.arange(len(j)) - np.repeat(start, cnt) + rng.integers(0, 2, len(cnt))[j]) % 2
    p1 = pool.add([t24[x][pp] for x, pp in zip(i.tolist(), part.tolist())])
    recs.append(dict(kind="24", t=t, st1=v["st1"][i], st2=v["st2"][i], p1=p1, p2=np.full(len(i), -1)))

    # ---- type 4 (base stations, ~every 10 s) ---------------------------------------------------
    total4 = plan["4"]["transmissions"]
    nbs = int(np.clip(round(total4 / (span / 10.0)), 3, 60))
    site = np.arange(nbs) % len(STATIONS)
    bs_lat = np.array([STATIONS[s][1] for s in site]) + rng.uniform(-0.15, 0.15, nbs)
    bs_lon = np.array([STATIONS[s][2] for s in site]) + rng.uniform(-0.15, 0.15, nbs)
    bs_mid = np.array([STATION_MID[STATIONS[s][0]] for s in site])
    bs_mmsi = bs_mid * 10_000 + 1000 + np.arange(nbs) * 7  # 00MIDxxxx
    bs_st1, bs_st2 = _nearest_stations(bs_lat, bs_lon)
    cnt = counts_for(np.ones(nbs), total4)
    j, t = _apportion_times(rng, cnt, span)
    m = len(j)
    ts = EPOCH0 + np.floor(t).astype(np.int64)
    tm = ts.astype("datetime64[s]")
    year = tm.astype("datetime64[Y]").astype(np.int64) + 1970
    month = tm.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (tm.astype("datetime64[D]") - tm.astype("datetime64[M]")).astype(np.int64) + 1
    sod = ts % 86400
    hour, minute, sec = sod // 3600, (sod // 60) % 60, sod % 60
    lat_raw = np.round(bs_lat[j] * 600000.0).astype(np.int64)
    lon_raw = np.round(bs_lon[j] * 600000.0).astype(np.int64)
    radio = rng.integers(0, 1 << 19, m)
    one = np.ones(m, np.int64)
    zero = np.zeros(m, np.int64)
    fields = [(np.full(m, 4), 6), (zero, 2), (bs_mmsi[j], 30), (year, 14), (month, 4), (day, 5),
              (hour, 5), (minute, 6), (sec, 6), (one, 1), (lon_raw, 28), (lat_raw, 27),
              (np.full(m, 7), 4), (zero, 10), (zero, 1), (radio, 19)]
    payloads = _pack168(fields)
    for r in rng.choice(m, size=min(check_sample // 4, m), replace=False).tolist():
        checks.append((payloads[r], {
            "type": 4, "mmsi": int(bs_mmsi[j][r]), "year": int(year[r]), "month": int(month[r]),
            "day": int(day[r]), "hour": int(hour[r]), "minute": int(minute[r]),
            "second": int(sec[r]), "accuracy": 1, "lon": lon_raw[r] / 600000.0,
            "lat": lat_raw[r] / 600000.0, "epfd": 7, "raim": 0, "radio": int(radio[r])}))
    p1 = pool.add([p + ",0" for p in payloads])
    recs.append(dict(kind="4", t=t, st1=bs_st1[j], st2=bs_st2[j], p1=p1, p2=np.full(m, -1)))

    # ---- type 21 (aids to navigation, ~every 3 min) --------------------------------------------
    total21 = plan["21"]["transmissions"]
    nat = int(np.clip(round(total21 / (span / 180.0)), 5, 600))
    asite = rng.integers(0, len(STATIONS), nat)
    at_lat = np.array([STATIONS[s][1] for s in asite]) + rng.uniform(-0.4, 0.4, nat)
    at_lon = np.array([STATIONS[s][2] for s in asite]) + rng.uniform(-0.4, 0.4, nat)
    at_st1, at_st2 = _nearest_stations(at_lat, at_lon)
    at_mid = np.array([STATION_MID[STATIONS[s][0]] for s in asite])
    at_mmsi = 990_000_000 + at_mid * 10_000 + np.arange(nat) * 3 + 100  # 99MIDxxxx
    at_type = rng.choice([1, 3, 5, 9, 13, 14, 20, 24, 25, 30], size=nat)
    at_virtual = rng.random(nat) < 0.1
    at_name = [f"{STATIONS[s][0].upper()} {['BUOY', 'LT', 'BCN', 'HBR LT', 'RACON'][k % 5]} {k}"[:20]
               for k, s in enumerate(asite.tolist())]
    cnt = counts_for(np.ones(nat), total21)
    j, t = _apportion_times(rng, cnt, span)
    items = []
    for a, tt in zip(j.tolist(), t.tolist()):
        frag = _encode_pyais({
            "type": 21, "mmsi": int(at_mmsi[a]), "aid_type": int(at_type[a]), "name": at_name[a],
            "accuracy": 1, "lat": float(np.round(at_lat[a], 5)), "lon": float(np.round(at_lon[a], 5)),
            "to_bow": 2, "to_stern": 2, "to_port": 1, "to_starboard": 1, "epfd": 7,
            "second": int(math.floor(tt)) % 60, "off_position": 0, "virtual_aid": int(at_virtual[a])})
        assert len(frag) == 1
        items.append(f"{frag[0][0]},{frag[0][1]}")
    p1 = pool.add(items)
    recs.append(dict(kind="21", t=t, st1=at_st1[j], st2=at_st2[j], p1=p1, p2=np.full(len(j), -1)))

    # ---- check the vectorised encoder against pyais --------------------------------------------
    from pyais.encode import encode_dict

    for payload, d in checks:
        ref = encode_dict(d, talker_id="AI", sentence_type="VDM")[0].split(",")[5]
        if ref != payload:
            raise AssertionError(f"vectorised encoder differs from pyais for {d}: {payload} != {ref}")

    # ---- receptions: primary station plus ~5% duplicates at the second-nearest -----------------
    T, ST, CH, P1, P2 = [], [], [], [], []
    for r in recs:
        m = len(r["t"])
        ch = rng.integers(0, 2, m)
        dups = rng.choice(m, size=plan[r["kind"]]["duplicates"], replace=False)
        T += [r["t"], r["t"][dups] + rng.uniform(0.05, 1.5, len(dups))]
        ST += [r["st1"], r["st2"][dups]]
        CH += [ch, ch[dups]]
        P1 += [r["p1"], r["p1"][dups]]
        P2 += [r["p2"], r["p2"][dups]]
    t = np.concatenate(T)
    st = np.concatenate(ST)
    ch = np.concatenate(CH)
    p1 = np.concatenate(P1)
    p2 = np.concatenate(P2)
    order = np.argsort(t, kind="stable")
    t, st, ch, p1, p2 = t[order], st[order], ch[order], p1[order], p2[order]
    c = EPOCH0 + np.floor(t).astype(np.int64)
    multi = p2 >= 0
    # sequential message id 0-9 per receiving station, in the order that station heard them
    seq = np.zeros(len(t), dtype=np.int64)
    mi = np.flatnonzero(multi)
    o = np.argsort(st[mi], kind="stable")
    sst = st[mi][o]
    grp_start = np.concatenate([[0], np.flatnonzero(np.diff(sst)) + 1])
    lens = np.diff(np.concatenate([grp_start, [len(sst)]]))
    rank = np.arange(len(sst)) - np.repeat(grp_start, lens)
    seq[mi[o]] = rank % 10

    # ---- lines --------------------------------------------------------------------------------
    names = [s[0] for s in STATIONS]
    items = pool.items
    chs = "AB"
    tags: list[str] = []
    bodies: list[str] = []
    for ci, si, chi, a, b, q in zip(c.tolist(), st.tolist(), ch.tolist(), p1.tolist(),
                                    p2.tolist(), seq.tolist()):
        tag = f"s:{names[si]},c:{ci}"
        if b < 0:
            tags.append(tag)
            bodies.append(f"AIVDM,1,1,,{chs[chi]},{items[a]}")
        else:
            tags += [tag, tag]
            bodies.append(f"AIVDM,2,1,{q},{chs[chi]},{items[a]}")
            bodies.append(f"AIVDM,2,2,{q},{chs[chi]},{items[b]}")
    assert len(bodies) == n, (len(bodies), n)
    tx = _checksums(tags)
    bx = _checksums(bodies)
    lines = [f"\\{a}*{ax}\\!{b}*{bxx}\n" for a, ax, b, bxx in zip(tags, tx, bodies, bx)]
    meta = {
        "generator": "bench/nmea_gen.py", "version": GEN_VERSION, "n_sentences": n, "seed": seed,
        "start": EPOCH0, "span_s": span, "stations": len(STATIONS), "vessels": nv,
        "class_a": int(is_a.sum()), "class_b": int((~is_a).sum()), "base_stations": nbs,
        "aids_to_navigation": nat, "plan": plan,
        "messages": sum(p["messages"] for p in plan.values()),
        "duplicates": sum(p["duplicates"] for p in plan.values()),
        "pyais_encoder_checks": len(checks),
    }
    return lines, meta


def _turn_for_pyais(raw: int):
    """A rate of turn (deg/min) that pyais' encoder turns into ``raw``."""
    if raw == -128:
        return -128
    return math.copysign((raw / 4.733) ** 2, raw) if raw else 0


# ---------------------------------------------------------------------------------------------
# public
# ---------------------------------------------------------------------------------------------

def generate(path: str | os.PathLike, n_sentences: int = 1_000_000, seed: int = 0) -> dict:
    """Write ``n_sentences`` lines of tag-blocked AIS NMEA to ``path``; return its description
    (also written next to it as ``<path>.meta.json``)."""
    if n_sentences < 1000:
        raise ValueError("n_sentences must be at least 1000")
    t0 = time.perf_counter()
    lines, meta = _build(int(n_sentences), int(seed))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="ascii", newline="") as f:
        f.writelines(lines)
    os.replace(tmp, path)
    meta["generate_s"] = round(time.perf_counter() - t0, 2)
    meta["bytes"] = path.stat().st_size
    Path(str(path) + ".meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def cached(n_sentences: int = 1_000_000, seed: int = 0, log=None) -> Path:
    """Path of the generated file under bench/_cache/, generating it if needed."""
    path = CACHE_DIR / f"ais_n{n_sentences}_s{seed}_v{GEN_VERSION}.nmea"
    if not (path.exists() and Path(str(path) + ".meta.json").exists()):
        if log:
            log(f"generating {n_sentences:,} sentences -> {path} ...")
        meta = generate(path, n_sentences, seed)
        if log:
            log(f"  done in {meta['generate_s']} s ({meta['bytes'] / 1e6:.0f} MB)")
    return path


def meta_of(path: str | os.PathLike) -> dict:
    return json.loads(Path(str(path) + ".meta.json").read_text())


TYPE_NAMES = {"123": "1/2/3", "18": "18", "5": "5 (2 frags)", "24": "24", "4": "4", "21": "21"}


def verify(path: str | os.PathLike) -> dict:
    """Check a generated file: both checksums of every line, that pyais decodes every message,
    the type mix (share of sentences), and that no payload repeats within 10 s except receiver
    duplicates (same payload heard by a different station within 2 s)."""
    from pyais.stream import FileReaderStream

    path = Path(path)
    n_lines = 0
    bad_tag = bad_nmea = 0
    by_type: dict[int, int] = {}
    rows = []  # (c, station, payload-joined) per message
    pending: dict[tuple, list] = {}
    with open(path, encoding="ascii") as f:
        for line in f:
            n_lines += 1
            line = line.rstrip("\n")
            _, tag, rest = line.split("\\", 2)
            tbody, thx = tag.split("*")
            if f"{_xor(tbody):02X}" != thx:
                bad_tag += 1
            body, hx = rest[1:].split("*")
            if f"{_xor(body):02X}" != hx:
                bad_nmea += 1
            fl = body.split(",")
            kv = dict(x.split(":", 1) for x in tbody.split(","))
            mtype = _SIXBIT_CHARS.tolist().index(ord(fl[5][0])) if fl[2] == "1" else None
            if fl[2] == "1":
                by_type[mtype] = by_type.get(mtype, 0) + 1
                if fl[1] == "1":
                    rows.append((int(kv["c"]), kv["s"], fl[5]))
                else:
                    pending[(kv["s"], fl[3])] = [int(kv["c"]), kv["s"], fl[5]]
            else:
                by_type[5] = by_type.get(5, 0) + 1  # only type 5 is multi-sentence here
                c0, s0, p0 = pending.pop((kv["s"], fl[3]))
                rows.append((c0, s0, p0 + fl[5]))
    n_msgs = 0
    decode_errors = 0
    invalid = 0
    for msg in FileReaderStream(str(path)):
        n_msgs += 1
        if not msg.is_valid:
            invalid += 1
        try:
            msg.decode()
        except Exception:  # noqa: BLE001 - we count them
            decode_errors += 1
    # repeats within 10 s
    last: dict[str, tuple[int, str]] = {}
    dup_pairs = 0
    bad_repeats = 0
    for c, s, p in rows:
        prev = last.get(p)
        if prev is not None and c - prev[0] <= 10:
            if prev[1] != s and c - prev[0] <= 2:
                dup_pairs += 1
            else:
                bad_repeats += 1
        last[p] = (c, s)
    share = {}
    groups = {"123": (1, 2, 3), "18": (18,), "5": (5,), "24": (24,), "4": (4,), "21": (21,)}
    for k, ts in groups.items():
        share[k] = sum(by_type.get(x, 0) for x in ts)
    meta_path = Path(str(path) + ".meta.json")
    expected_dups = json.loads(meta_path.read_text())["duplicates"] if meta_path.exists() else None
    return {
        "lines": n_lines, "messages_pyais": n_msgs, "messages_expected": len(rows),
        "pyais_decode_errors": decode_errors, "pyais_invalid": invalid,
        "bad_tag_checksums": bad_tag, "bad_nmea_checksums": bad_nmea,
        "sentences_by_type": dict(sorted(by_type.items())),
        "mix_pct": {TYPE_NAMES[k]: round(100.0 * v / n_lines, 2) for k, v in share.items()},
        "receiver_duplicates": dup_pairs, "receiver_duplicates_expected": expected_dups,
        "repeats_within_10s_not_duplicates": bad_repeats,
        "first_c": rows[0][0] if rows else None, "last_c": max(r[0] for r in rows) if rows else None,
        "stations": sorted({r[1] for r in rows}),
        "ok": (decode_errors == 0 and invalid == 0 and bad_tag == 0 and bad_nmea == 0
               and n_msgs == len(rows) and bad_repeats == 0
               and expected_dups in (None, dup_pairs)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sentences", "-n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write here instead of the bench/_cache/ file")
    ap.add_argument("--verify", action="store_true", help="check the file (pyais decode, mix...)")
    a = ap.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr)  # noqa: E731
    if a.out:
        meta = generate(a.out, a.sentences, a.seed)
        path = Path(a.out)
        log(f"wrote {path} in {meta['generate_s']} s")
    else:
        path = cached(a.sentences, a.seed, log=log)
    print(path)
    if a.verify:
        t0 = time.perf_counter()
        res = verify(path)
        res["verify_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(res, indent=1))
        return 0 if res["ok"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
