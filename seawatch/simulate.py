"""Synthetic AIS traffic written as real NMEA 0183, for the demo and tests.

This is the first piece of the scenario simulator: honest vessels on straight legs off the Sea of
Japan coast of Niigata, reporting at ITU-R M.1371 intervals (class A every 10 s under way, a
documented down-sampling of the 2-10 s rule; 3 min at anchor; class B every 30 s; static and
voyage data every 6 min), received by shore stations with a VHF range, some messages heard twice.

The encoder is vectorised: every field of every message of one type is packed in one numpy pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SeawatchError

NM_PER_DEG_LAT = 60.0

# ------------------------------------------------------------------------------------------------
# six-bit encoding


def _text_codes(texts: list[str], nchars: int) -> np.ndarray:
    """Six-bit codes of text fields, padded with '@' (code 0)."""
    out = np.zeros((len(texts), nchars), np.int64)
    for i, t in enumerate(texts):  # one short string per vessel, not per message
        b = np.frombuffer(t.upper()[:nchars].encode("ascii", "replace"), np.uint8).astype(np.int64)
        out[i, : len(b)] = np.where(b >= 64, b - 64, b)
    return out


def armour(fields: list[tuple[np.ndarray, int]]) -> tuple[list[str], int]:
    """Pack (values, width) fields into armoured payloads; returns (payloads, fill_bits).

    Values are integer arrays of one length (two's complement is applied for negatives); a
    2-D array of six-bit codes packs as consecutive 6-bit fields (text).
    """
    cols = []
    for v, w in fields:
        v = np.asarray(v, np.int64)
        if v.ndim == 2:
            cols.extend((v[:, i], 6) for i in range(v.shape[1]))
        else:
            cols.append((v, w))
    n = len(cols[0][0])
    nbits = sum(w for _, w in cols)
    bits = np.zeros((n, nbits + (-nbits) % 6), np.uint8)
    pos = 0
    for v, w in cols:
        u = v & ((1 << w) - 1)
        bits[:, pos : pos + w] = (u[:, None] >> np.arange(w - 1, -1, -1)[None, :]) & 1
        pos += w
    six = bits.reshape(n, -1, 6) @ (1 << np.arange(5, -1, -1))
    chars = six + 48
    chars = np.where(chars > 87, chars + 8, chars).astype(np.uint8)
    width = chars.shape[1]
    payloads = chars.view(f"S{width}").ravel().astype(str).tolist()
    return payloads, (-nbits) % 6


def checksum(body: str) -> str:
    """NMEA checksum (two upper-case hex digits) of the text between '!'/'$'/'\\' and '*'."""
    c = 0
    for ch in body.encode("ascii"):
        c ^= ch
    return f"{c:02X}"


def sentences(payload: str, fill: int, channel: str, seq: int, talker: str = "AIVDM") -> list[str]:
    """Split a payload into NMEA sentences of at most 60 characters."""
    parts = [payload[i : i + 60] for i in range(0, len(payload), 60)] or [""]
    n = len(parts)
    out = []
    for k, part in enumerate(parts, 1):
        body = f"{talker},{n},{k},{seq if n > 1 else ''},{channel},{part},{fill if k == n else 0}"
        out.append(f"!{body}*{checksum(body)}")
    return out


def tag_block(station: str, epoch_s: int) -> str:
    body = f"s:{station},c:{epoch_s}"
    return f"\\{body}*{checksum(body)}\\"


# ------------------------------------------------------------------------------------------------
# a small sea


@dataclass(frozen=True)
class Vessel:
    mmsi: int
    name: str
    callsign: str
    ship_type: int
    klass: str  # "A" or "B"
    lat: float
    lon: float
    sog_kn: float
    cog_deg: float
    length_m: int


_STATIONS = (("niigata", 37.95, 139.05), ("sado", 38.08, 138.25), ("kashiwazaki", 37.37, 138.55))
VHF_RANGE_NM = 40.0


def _fleet(rng: np.random.Generator, n: int) -> list[Vessel]:
    kinds = [  # (ITU ship type, class, speed range kn, name stem, MID)
        (70, "A", (11, 16), "CARGO", 431),
        (80, "A", (10, 14), "TANKER", 477),
        (60, "A", (15, 22), "FERRY", 431),
        (30, "B", (3, 4), "FISHER", 431),
        (30, "A", (0, 0.4), "ANCHORED", 440),
        (37, "B", (5, 12), "PLEASURE", 431),
    ]
    out = []
    for i in range(n):
        st, kl, (lo, hi), stem, mid = kinds[i % len(kinds)]
        out.append(
            Vessel(
                mmsi=mid * 1_000_000 + 100_000 + i,
                name=f"{stem} MARU {i}",
                callsign=f"J{chr(65 + i % 26)}{1000 + i}",
                ship_type=st,
                klass=kl,
                lat=float(rng.uniform(37.6, 38.6)),
                lon=float(rng.uniform(138.0, 139.2)),
                sog_kn=float(rng.uniform(lo, hi)),
                cog_deg=float(rng.uniform(0, 360)),
                length_m=int(rng.uniform(15, 200)),
            )
        )
    return out


def generate_feed(
    out: str | Path, *, vessels: int = 40, hours: float = 1.0, seed: int = 0, start_epoch: int = 1_717_200_000
) -> dict:
    """Write ``out`` (NMEA with tag blocks) for a small honest sea; returns a summary dict."""
    if vessels < 1 or hours <= 0:
        raise SeawatchError("vessels must be >= 1 and hours > 0, e.g. vessels=40, hours=1")
    rng = np.random.default_rng(seed)
    fleet = _fleet(rng, vessels)
    duration = int(hours * 3600)
    lines: list[tuple[int, str]] = []
    seq = 0
    for v in fleet:
        interval = 30 if v.klass == "B" else (180 if v.sog_kn < 0.5 else 10)
        t = np.arange(int(rng.integers(0, interval)), duration, interval)
        dist_nm = v.sog_kn * t / 3600.0
        lat = v.lat + dist_nm * np.cos(np.radians(v.cog_deg)) / NM_PER_DEG_LAT
        lon = v.lon + dist_nm * np.sin(np.radians(v.cog_deg)) / (NM_PER_DEG_LAT * np.cos(np.radians(v.lat)))
        n = len(t)
        sog = np.round(np.full(n, v.sog_kn) * 10).astype(np.int64)
        cog = np.full(n, int(round(v.cog_deg * 10)) % 3600)
        hdg = np.full(n, int(round(v.cog_deg)) % 360)
        sec = (start_epoch + t) % 60
        lon_i = np.round(lon * 600000).astype(np.int64)
        lat_i = np.round(lat * 600000).astype(np.int64)
        mm = np.full(n, v.mmsi)
        if v.klass == "A":
            status = np.full(n, 1 if v.sog_kn < 0.5 else 0)
            payloads, fill = armour([
                (np.full(n, 1), 6), (np.zeros(n), 2), (mm, 30), (status, 4), (np.zeros(n), 8),
                (sog, 10), (np.ones(n), 1), (lon_i, 28), (lat_i, 27), (cog, 12), (hdg, 9),
                (sec, 6), (np.zeros(n), 2), (np.zeros(n), 3), (np.zeros(n), 1), (np.zeros(n), 19),
            ])
        else:
            payloads, fill = armour([
                (np.full(n, 18), 6), (np.zeros(n), 2), (mm, 30), (np.zeros(n), 8), (sog, 10),
                (np.zeros(n), 1), (lon_i, 28), (lat_i, 27), (cog, 12), (hdg, 9), (sec, 6),
                (np.zeros(n), 2), (np.ones(n), 1), (np.zeros(n), 5), (np.zeros(n), 1), (np.zeros(n), 20),
            ])
        # receivers within VHF range hear it; the nearest stamps it, a second one sometimes too
        for k in range(n):
            heard = [
                name for name, slat, slon in _STATIONS
                if np.hypot((lat[k] - slat) * 60, (lon[k] - slon) * 60 * np.cos(np.radians(slat))) <= VHF_RANGE_NM
            ]
            for j, station in enumerate(heard[:2]):
                if j == 1 and rng.random() > 0.1:
                    break
                ts = start_epoch + int(t[k]) + j
                ch = "AB"[k % 2]
                lines.append((ts, tag_block(station, ts) + sentences(payloads[k], fill, ch, 0)[0]))
        # static and voyage data every 6 minutes (type 5, class A) or 24 A/B (class B)
        ts6 = np.arange(int(rng.integers(0, 360)), duration, 360)
        for ts_off in ts6:
            ts = start_epoch + int(ts_off)
            station = _STATIONS[0][0]
            if v.klass == "A":
                p, f = armour([
                    (np.array([5]), 6), (np.array([0]), 2), (np.array([v.mmsi]), 30), (np.array([0]), 2),
                    (np.array([9_000_000 + v.mmsi % 1_000_000 * 7 % 1_000_000]), 30),
                    (_text_codes([v.callsign], 7), 42), (_text_codes([v.name], 20), 120),
                    (np.array([v.ship_type]), 8), (np.array([v.length_m * 2 // 3]), 9),
                    (np.array([v.length_m // 3]), 9), (np.array([5]), 6), (np.array([5]), 6),
                    (np.array([1]), 4), (np.array([6]), 4), (np.array([1]), 5), (np.array([12]), 5),
                    (np.array([0]), 6), (np.array([45]), 8), (_text_codes(["NIIGATA"], 20), 120),
                    (np.array([0]), 1), (np.array([0]), 1),
                ])
                seq = (seq + 1) % 10
                for s in sentences(p[0], f, "A", seq):
                    lines.append((ts, tag_block(station, ts) + s))
            else:
                pa_, fa = armour([(np.array([24]), 6), (np.array([0]), 2), (np.array([v.mmsi]), 30),
                                  (np.array([0]), 2), (_text_codes([v.name], 20), 120)])
                pb, fb = armour([(np.array([24]), 6), (np.array([0]), 2), (np.array([v.mmsi]), 30),
                                 (np.array([1]), 2), (np.array([v.ship_type]), 8), (np.zeros(1), 42),
                                 (_text_codes([v.callsign], 7), 42), (np.array([v.length_m // 2]), 9),
                                 (np.array([v.length_m // 2]), 9), (np.array([2]), 6), (np.array([2]), 6),
                                 (np.zeros(1), 6)])
                lines.append((ts, tag_block(station, ts) + sentences(pa_[0], fa, "B", 0)[0]))
                lines.append((ts, tag_block(station, ts) + sentences(pb[0], fb, "B", 0)[0]))
    lines.sort(key=lambda x: x[0])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(s for _, s in lines) + "\n", encoding="ascii")
    return {"path": str(out), "vessels": vessels, "lines": len(lines), "hours": hours, "seed": seed}
