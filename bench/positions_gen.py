"""Realistic synthetic AIS positions around Japan, as a polars frame in seawatch's POSITIONS schema.

``generate(n=1_000_000, seed=0)`` returns ``(frame, meta)``: exactly ``n`` position reports of one
day (2024-06-01, 00:00-24:00 UTC) from ``2000 * n / 1e6`` vessels (at least 20) in the seas
around Japan (lon 128-142E, lat 30-44N), sorted by receive time as a shore network delivers them.
``cached(n, seed)`` keeps the result as Parquet under ``bench/_cache/`` (keyed by ``n``, seed and
generator version) and ``load(n, seed)`` reads it back. Everything is vectorised numpy: no
per-point Python loop (1M rows take ~2 s). Run ``python bench/positions_gen.py --help``.

What is in it (shares are of vessels):

* **Class A on sea lanes (40%)**: cargo 11-17 kn, tankers 10-14 kn, passenger ships and ferries
  15-24 kn, following one of 13 waypoint lanes that stay at sea (Tokyo Bay - Irago - Kii
  channel - Osaka, the Seto Inland Sea - Kanmon - Busan, Korea Strait - East China Sea, Osaka -
  south of Shikoku - Osumi strait, Busan - Vladivostok, Niigata - Vladivostok, the San'in coast
  route Kanmon - Tsugaru, Tsugaru strait, Tokyo - Sendai, ...) in either direction, with a
  per-vessel lateral offset (keep to starboard, 0-1 nm; the narrowest straits such as Kanmon
  are narrower than that, so a few points there touch land), a slow wander of +-0.1 nm and a
  speed that varies by +-3%: they turn at the waypoints. A vessel is in coverage for 1-9 h of the day
  (it enters or leaves the receivers' range, or arrives).
* **Class A fishing (10%)**: 2-10 kn in open-sea fishing grounds (Yamato bank, off San'in, East
  China Sea, south of Honshu, off Sanriku, off west Hokkaido, east of Tsushima), with a random
  walk of course and a 90-200 degree turn every 20-60 min (trawling back and forth); status 7
  for most. 2-8 h in coverage.
* **Class A harbour craft (5%)**: tugs, pilots and work boats at 3-10 kn looping around a home
  point (Lissajous figures of 1-4 nm, always turning) inside one of 13 bays and harbour areas
  (Tokyo Bay, Osaka Bay, Ise Bay, Hakata, Busan, Suruga Bay, ...). 1-6 h.
* **Class A at anchor or moored (15%)**: at 24 anchorages (Tokyo Bay, Nagoya, Osaka, Mizushima,
  Kanmon, Busan, Ulsan, Niigata, Tomakomai, ...), swinging on a 50-200 m circle over 2-6 h
  (anchored, status 1) or still (moored, status 5), with 3-5 m of GPS noise and SOG 0-0.3 kn.
  Mostly in coverage all day.
* **Class B under way (18%)**: pleasure craft and small fishing boats at 3-20 kn, looping in
  the bays like harbour craft; 1-6 h. **Class B stationary (12%)**: in harbours near the
  anchorages, all day.

Report intervals. ITU-R M.1371 has class A under way report every 2-10 s (by speed and turn),
class A at anchor or moored every 3 min, class B under way every 30 s and below 2 kn every
3 min. A day of that would be tens of millions of rows, so moving class A vessels are
**down-sampled to one kept report every 10-60 s** (log-uniform per vessel; fishing 20-60 s), as
providers thin their archives (NOAA MarineCadastre keeps one a minute); anchored/moored class A
and stationary class B keep 3 min, moving class B keeps 30 s. Report times jitter +-30% of the
interval; 5% of class A and 25% of class B reports are lost (weaker class B transmitters). All
intervals are multiplied by one common factor (``meta["interval_factor"]``, close to 1) so that
exactly ``n`` rows result.

Irregularities a track builder must handle:

* **Gaps**: 10% of vessels leave coverage once for 30 min to 12 h (log-uniform; about one in
  eight of those gaps is longer than 8 h, so the track is split there) and come back further on.
* **Shared MMSIs**: 0.5% of the moving vessels are paired (south-west with north-east) and in
  each pair at least 300 nm apart the second transmits the first's MMSI over the same 1-4 h
  (a misconfigured or spoofed transponder): interleaved reports whose implied speed is hundreds
  of knots (4 pairs at 1M; ``meta["shared_mmsi_pairs"]``).
* **GPS glitches**: 1 report in 4000 of moving vessels is displaced by 0.2-3 degrees (a fifth
  of them to 0N 0E, "null island"); single isolated points.
* **Position not available**: 1 report in 3000 has null lat/lon (91/181 sent), and is
  otherwise a normal report.
* **Receivers**: ``station`` is the nearest of 24 shore stations; ``n_rx`` is 1 (85%), 2 (12%)
  or 3 (3%) receptions merged.

Columns: ``mmsi, ts, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, ais_class, station,
n_rx`` plus ``msg_type`` (1/3 class A, 18 class B), ``pos_accuracy`` and ``utc_second``;
``seawatch.schema.conform("positions", ...)`` adds the rest as nulls. Times are whole
milliseconds; lat/lon are rounded to the AIS resolution (1/10000 minute); SOG to 0.1 kn, COG
to 0.1 degree, heading to 1 degree (null for 85% of class B, which send 511).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

GEN_VERSION = 2
CACHE_DIR = Path(__file__).resolve().parent / "_cache"

EPOCH0 = 1_717_200_000  # 2024-06-01T00:00:00Z
SPAN_S = 86_400.0
VESSELS_PER_MILLION = 2000
NM_PER_DEG = 60.0

# share of vessels by kind
KINDS = {
    "a_lane": 0.40,
    "a_fish": 0.10,
    "a_harbour": 0.05,
    "a_anchor": 0.15,
    "b_move": 0.18,
    "b_still": 0.12,
}
GAP_SHARE = 0.10  # of vessels with one coverage gap
SHARED_SHARE = 0.005  # of vessels whose MMSI is also sent by another far-away transmitter
GLITCH_RATE = 1 / 4000  # of reports of moving vessels
NULL_POS_RATE = 1 / 3000
LOSS_A, LOSS_B = 0.05, 0.25

# shore receiving stations: name, lat, lon
STATIONS = [
    ("wakkanai", 43.40, 141.70), ("otaru", 43.20, 141.00), ("hakodate", 41.78, 140.73),
    ("hachinohe", 40.52, 141.52), ("akita", 39.75, 140.05), ("sakata", 38.92, 139.82),
    ("sendai", 38.26, 141.02), ("niigata", 37.95, 139.06), ("choshi", 35.73, 140.83),
    ("tokyo", 35.45, 139.78), ("shimizu", 35.01, 138.50), ("nagoya", 34.90, 136.85),
    ("kushimoto", 33.47, 135.78), ("kobe", 34.67, 135.20), ("muroto", 33.25, 134.17),
    ("maizuru", 35.48, 135.38), ("hamada", 34.90, 132.07), ("moji", 33.95, 130.96),
    ("fukuoka", 33.62, 130.40), ("nagasaki", 32.75, 129.85), ("kagoshima", 31.58, 130.56),
    ("busan", 35.10, 129.04), ("pohang", 36.03, 129.38), ("vladivostok", 43.10, 131.90),
]

# sea lanes: waypoints (lat, lon), all at sea; traffic weight
LANES = [
    ("tokyo-irago-kii-osaka", 0.16, [
        (35.45, 139.80), (35.20, 139.75), (34.85, 139.70), (34.50, 139.55), (34.45, 138.50),
        (34.45, 137.60), (34.15, 136.95), (33.85, 136.50), (33.35, 135.85), (33.60, 135.05),
        (34.00, 134.95), (34.28, 135.00), (34.55, 135.20)]),
    ("nagoya-tokyo", 0.08, [
        (35.00, 136.85), (34.80, 136.80), (34.60, 136.95), (34.45, 137.05), (34.45, 137.60),
        (34.45, 138.50), (34.50, 139.55), (34.85, 139.70), (35.20, 139.75), (35.45, 139.80)]),
    ("osaka-seto-kanmon-busan", 0.14, [
        (34.55, 135.20), (34.62, 135.02), (34.50, 134.60), (34.40, 133.90), (34.25, 133.40),
        (34.12, 132.99), (33.95, 132.50), (33.90, 131.90), (33.85, 131.40), (33.92, 131.05),
        (33.96, 130.93), (33.93, 130.85), (34.05, 130.60), (34.40, 130.00), (34.80, 129.60),
        (35.05, 129.10)]),
    ("busan-east-china-sea", 0.10, [
        (35.05, 129.10), (34.80, 128.90), (34.30, 128.60), (33.50, 128.20), (32.50, 128.00),
        (31.50, 128.00)]),
    ("hakata-goto-east-china-sea", 0.06, [
        (33.62, 130.38), (33.75, 130.20), (33.90, 130.10), (34.00, 129.60), (33.60, 129.00),
        (32.80, 128.50), (31.80, 128.00)]),
    ("nagasaki-east-china-sea", 0.04, [
        (32.73, 129.80), (32.70, 129.60), (32.30, 128.80), (31.60, 128.00)]),
    ("osaka-shikoku-osumi-ecs", 0.09, [
        (34.55, 135.20), (34.28, 135.00), (34.00, 134.95), (33.60, 135.05), (33.10, 134.25),
        (32.60, 133.05), (32.00, 131.85), (31.25, 131.50), (30.90, 130.82), (30.95, 130.20),
        (30.60, 129.40), (30.30, 128.50), (30.10, 128.00)]),
    ("busan-vladivostok", 0.07, [
        (35.05, 129.10), (35.30, 129.60), (37.00, 130.20), (40.00, 131.20), (42.50, 131.90),
        (42.90, 131.95)]),
    ("niigata-vladivostok", 0.04, [
        (37.98, 139.05), (38.20, 138.90), (38.50, 138.70), (40.00, 136.50), (42.00, 133.50),
        (42.90, 131.95)]),
    ("kanmon-sanin-noto-tsugaru", 0.09, [
        (33.96, 130.93), (34.05, 130.75), (34.50, 130.85), (35.10, 131.80), (35.70, 133.60),
        (35.85, 135.20), (36.90, 136.40), (37.70, 137.40), (37.65, 138.40), (38.10, 138.90),
        (38.60, 138.95), (40.00, 139.40), (41.40, 139.90)]),
    ("tsugaru-hachinohe", 0.05, [
        (41.40, 139.90), (41.33, 140.28), (41.60, 140.80), (41.55, 141.40), (41.00, 141.75),
        (40.60, 141.60)]),
    ("tokyo-sendai", 0.05, [
        (35.20, 139.75), (34.85, 139.75), (34.80, 140.00), (35.00, 140.50), (35.70, 141.05),
        (36.50, 140.95), (37.50, 141.30), (38.10, 141.35)]),
    ("ulsan-pohang-donghae", 0.03, [
        (35.05, 129.10), (35.45, 129.50), (36.05, 129.60), (36.80, 129.60), (37.50, 129.30)]),
]

# anchorages / harbours: lat, lon (at sea)
ANCHORAGES = [
    (35.45, 139.85), (35.42, 139.72), (34.95, 136.80), (34.50, 135.20), (34.62, 135.20),
    (34.45, 133.75), (34.30, 132.45), (33.97, 131.00), (33.68, 130.30), (32.70, 129.70),
    (31.45, 130.60), (38.00, 139.00), (35.70, 135.35), (35.02, 129.05), (35.45, 129.45),
    (42.55, 141.60), (41.78, 140.68), (40.58, 141.55), (38.20, 141.10), (35.90, 140.80),
    (35.00, 138.52), (33.45, 133.60), (33.30, 131.70), (42.95, 131.95),
]

# bays and harbour areas for harbour craft and class B: lat0, lat1, lon0, lon1
BAYS = [
    (35.30, 35.55, 139.75, 139.90), (34.40, 34.60, 135.10, 135.30), (34.70, 34.95, 136.70, 136.90),
    (33.70, 34.00, 130.00, 130.40), (34.90, 35.05, 129.05, 129.40), (34.05, 34.30, 133.10, 133.50),
    (34.80, 35.05, 138.50, 138.70), (38.05, 38.20, 141.10, 141.30), (35.55, 35.75, 135.30, 135.80),
    (37.95, 38.20, 138.70, 138.95), (31.30, 31.50, 130.55, 130.70), (41.60, 41.75, 140.50, 140.80),
    (33.25, 33.35, 131.55, 131.80),
]

# open-sea fishing grounds: lat0, lat1, lon0, lon1
FISHING_GROUNDS = [
    (38.5, 40.5, 133.5, 136.0), (36.4, 37.2, 131.0, 132.5), (30.5, 32.3, 128.2, 129.0),
    (33.0, 33.9, 136.8, 138.3), (36.0, 37.6, 141.4, 142.0), (42.5, 43.8, 138.6, 139.8),
    (33.95, 34.3, 129.8, 130.3),
]

# flag MIDs with weights
MIDS_A = {431: 30, 432: 8, 440: 12, 441: 5, 412: 9, 413: 6, 414: 3, 477: 5, 416: 3, 273: 3,
          351: 3, 352: 2, 353: 2, 370: 2, 371: 2, 636: 3, 538: 2, 563: 2, 564: 1}
MIDS_B = {431: 70, 432: 10, 440: 15, 416: 5}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def _grouped_cumsum(x: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``x`` restarting at each group (groups are contiguous runs)."""
    cs = np.cumsum(x)
    base = np.repeat(cs[starts] - x[starts], counts)
    return cs - base


def _mmsis(rng: np.random.Generator, mids: dict[int, int], n: int, taken: np.ndarray) -> np.ndarray:
    keys = np.array(list(mids), dtype=np.int64)
    p = np.array(list(mids.values()), dtype=float)
    p /= p.sum()
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        cand = rng.choice(keys, size=2 * (n - len(out)), p=p) * 1_000_000 + rng.integers(
            0, 1_000_000, size=2 * (n - len(out)))
        cand = np.setdiff1d(np.unique(cand), np.concatenate([taken, out]))
        out = np.concatenate([out, rng.permutation(cand)[: n - len(out)]])
    return out


def _local_nm(lat0, lon0, lat1, lon1):
    """(east, north) nautical miles from (lat0, lon0) to (lat1, lon1), equirectangular."""
    east = (lon1 - lon0) * NM_PER_DEG * np.cos(np.radians(0.5 * (lat0 + lat1)))
    north = (lat1 - lat0) * NM_PER_DEG
    return east, north


def _lane_tables():
    """Concatenated lane vertices on one global distance axis (lanes 1000 nm apart), with the
    unit normal (to starboard when travelling forward) at each vertex."""
    xs, lats, lons, nes, nns, offsets, lengths = [], [], [], [], [], [], []
    base = 0.0
    for _, _, pts in LANES:
        p = np.array(pts)
        e, n = _local_nm(p[:-1, 0], p[:-1, 1], p[1:, 0], p[1:, 1])
        seg = np.hypot(e, n)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        ue, un = e / seg, n / seg
        # starboard normal of each segment: (un, -ue); at vertices average the adjacent ones
        se, sn = un, -ue
        ve = np.concatenate([[se[0]], 0.5 * (se[:-1] + se[1:]), [se[-1]]])
        vn = np.concatenate([[sn[0]], 0.5 * (sn[:-1] + sn[1:]), [sn[-1]]])
        norm = np.hypot(ve, vn)
        xs.append(base + cum)
        lats.append(p[:, 0])
        lons.append(p[:, 1])
        nes.append(ve / norm)
        nns.append(vn / norm)
        offsets.append(base)
        lengths.append(cum[-1])
        base += cum[-1] + 1000.0
    return (np.concatenate(xs), np.concatenate(lats), np.concatenate(lons), np.concatenate(nes),
            np.concatenate(nns), np.array(offsets), np.array(lengths))


def _nearest_station(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    slat = np.array([s[1] for s in STATIONS])
    slon = np.array([s[2] for s in STATIONS])
    best = np.zeros(len(lat), dtype=np.int64)
    bestd = np.full(len(lat), np.inf)
    c = np.cos(np.radians(np.clip(lat, -80, 80)))
    for i in range(len(STATIONS)):  # 24 stations: a loop over stations, not over points
        d = (lat - slat[i]) ** 2 + ((lon - slon[i]) * c) ** 2
        m = d < bestd
        best[m] = i
        bestd[m] = d[m]
    return best


# ---------------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------------

def _vessels(rng: np.random.Generator, nv: int) -> dict[str, np.ndarray]:
    names = list(KINDS)
    share = np.array([KINDS[k] for k in names])
    counts = np.floor(share * nv).astype(int)
    counts[0] += nv - counts.sum()
    kind = np.repeat(np.arange(len(names)), counts)
    is_a = kind <= names.index("a_anchor")
    mmsi = np.empty(nv, dtype=np.int64)
    mmsi[is_a] = _mmsis(rng, MIDS_A, int(is_a.sum()), np.empty(0, np.int64))
    mmsi[~is_a] = _mmsis(rng, MIDS_B, int((~is_a).sum()), mmsi[is_a])
    K = {k: kind == i for i, k in enumerate(names)}

    base_sog = np.zeros(nv)
    status = np.full(nv, -1, dtype=np.int64)  # -1 = null (class B)
    # lanes: cargo 55%, tanker 25%, passenger 20%
    ml = K["a_lane"]
    nl = int(ml.sum())
    sub = rng.choice(3, size=nl, p=[0.55, 0.25, 0.20])
    base_sog[ml] = np.choose(sub, [rng.uniform(11, 17, nl), rng.uniform(10, 14, nl),
                                   rng.uniform(15, 24, nl)])
    status[ml] = np.where(rng.random(nl) < 0.9, 0, 15)
    mf = K["a_fish"]
    base_sog[mf] = rng.uniform(2, 10, int(mf.sum()))
    status[mf] = np.where(rng.random(int(mf.sum())) < 0.7, 7, 0)
    mh = K["a_harbour"]
    base_sog[mh] = rng.uniform(3, 10, int(mh.sum()))
    status[mh] = np.where(rng.random(int(mh.sum())) < 0.2, 3, 0)
    ma = K["a_anchor"]
    moored = ma & (rng.random(nv) < 0.35)
    status[ma] = np.where(moored[ma], 5, 1)
    mb = K["b_move"]
    base_sog[mb] = rng.uniform(3, 20, int(mb.sum()))

    # nominal (kept) report interval, seconds, before the common factor
    interval = np.full(nv, 180.0)
    moving_a = ml | mh
    interval[moving_a] = np.exp(rng.uniform(np.log(10), np.log(60), int(moving_a.sum())))
    interval[mf] = np.exp(rng.uniform(np.log(20), np.log(60), int(mf.sum())))
    interval[mb] = 30.0

    # time in coverage (hours, gap excluded)
    dur_h = np.full(nv, 24.0)
    dur_h[ml] = rng.uniform(1, 9, nl)
    dur_h[mf] = rng.uniform(2, 8, int(mf.sum()))
    dur_h[mh] = rng.uniform(1, 6, int(mh.sum()))
    dur_h[mb] = rng.uniform(1, 6, int(mb.sum()))
    part = (ma | K["b_still"]) & (rng.random(nv) < 0.3)
    dur_h[part] = rng.uniform(4, 24, int(part.sum()))

    # lanes: which lane and direction; the voyage must fit on the lane, so a fast vessel on a
    # short lane is in coverage for less time
    lane_w = np.array([w for _, w, _ in LANES])
    lane = np.full(nv, -1)
    lane[ml] = rng.choice(len(LANES), size=nl, p=lane_w / lane_w.sum())
    direction = np.where(rng.random(nv) < 0.5, 1.0, -1.0)
    lat_off = np.clip(rng.normal(0.5, 0.25, nv), 0.0, 1.0)  # nm to starboard of the lane
    lane_len = _lane_tables()[6]
    max_h = np.where(ml, 0.9 * lane_len[np.maximum(lane, 0)] / np.maximum(base_sog * 1.04, 1e-9),
                     24.0)

    # one coverage gap for some
    has_gap = rng.random(nv) < GAP_SHARE
    gap_h = np.where(has_gap, np.exp(rng.uniform(np.log(0.5), np.log(12), nv)), 0.0)
    tot_h = np.minimum(np.minimum(dur_h + gap_h, 24.0), max_h)
    dur_h = np.where(has_gap, np.maximum(tot_h - gap_h, np.minimum(0.5, tot_h / 2)),
                     np.minimum(dur_h, tot_h))
    gap_h = np.where(has_gap, tot_h - dur_h, 0.0)
    has_gap &= gap_h > 0

    # shared MMSIs: a few moving vessels, later paired by distance, transmit at the same time
    n_pairs = max(1, round(SHARED_SHARE * nv / 2))
    movers = np.flatnonzero(ml | mf | mb)
    shared = rng.permutation(movers)[: 2 * n_pairs]
    has_gap[shared] = False
    gap_h[shared] = 0.0
    tot_h[shared] = dur_h[shared] = min(4.0, float(tot_h[shared].min()))

    start = rng.uniform(0, 1, nv) * (SPAN_S - tot_h * 3600)
    start[shared] = start[shared[0]]
    gap0 = start + rng.uniform(0.1, 0.9, nv) * dur_h * 3600  # gap begins after this much coverage
    return {"names": np.array(names), "kind": kind, "K": K, "is_a": is_a, "mmsi": mmsi, "base_sog": base_sog,
                "status": status, "moored": moored, "interval": interval, "dur_h": dur_h, "gap_h": gap_h,
                "tot_h": tot_h, "start": start, "gap0": gap0, "has_gap": has_gap, "lane": lane,
                "direction": direction, "lat_off": lat_off, "shared": shared}


def _point_times(rng, v, n):
    """Per-vessel report times, exactly n kept, as (vessel index, seconds since EPOCH0)."""
    nv = len(v["mmsi"])
    loss = np.where(v["is_a"], LOSS_A, LOSS_B)
    span_s = v["tot_h"] * 3600

    def grid_counts(f):
        return np.maximum(np.floor(span_s / (v["interval"] * f)).astype(np.int64), 2)

    def expected(f):
        c = grid_counts(f)
        in_gap = np.where(v["has_gap"], v["gap_h"] / v["tot_h"], 0.0)
        return float((c * (1 - in_gap) * (1 - loss)).sum())

    lo, hi = 0.01, 100.0
    for _ in range(60):  # bisection on the common interval factor
        mid = np.sqrt(lo * hi)
        if expected(mid) > n:
            lo = mid
        else:
            hi = mid
    f = lo
    counts = grid_counts(f)
    total = int(counts.sum())
    vi = np.repeat(np.arange(nv), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    k = np.arange(total) - np.repeat(starts, counts)
    iv = (v["interval"] * f)[vi]
    t = v["start"][vi] + (k + 0.5 + rng.uniform(-0.3, 0.3, total)) * iv
    g0 = v["gap0"][vi]
    in_gap = v["has_gap"][vi] & (t >= g0) & (t < g0 + v["gap_h"][vi] * 3600)
    keep = ~in_gap & (rng.random(total) >= loss[vi])
    diff = n - int(keep.sum())
    if diff > 0:  # bring back some lost reports (never ones inside a gap)
        cand = np.flatnonzero(~keep & ~in_gap)
        if len(cand) < diff:
            raise RuntimeError("generator: not enough reports to reach n; raise the interval range")
        keep[rng.choice(cand, size=diff, replace=False)] = True
    elif diff < 0:
        cand = np.flatnonzero(keep)
        keep[rng.choice(cand, size=-diff, replace=False)] = False
    return vi[keep], np.clip(t[keep], 0.0, SPAN_S - 1e-3), f


def _box_tracks(rng, v, vi, t, m, boxes, turn_lo, turn_hi, every_lo, every_hi, rate_lo, rate_hi,
                wander_deg):
    """Course and position of vessels that wander in a box: random start in one of ``boxes``,
    a random walk of course plus a turn of ``turn_lo..turn_hi`` degrees (either side) every
    ``every_lo..every_hi`` minutes at ``rate_lo..rate_hi`` degrees/minute. Returns lat, lon, cog
    (true course, degrees), sog for the points ``m`` (which are grouped by vessel, time-sorted)."""
    nv = len(v["mmsi"])
    idx = np.flatnonzero(m)
    pv = vi[idx]
    pt = t[idx]
    # per-vessel: box, start position, initial course
    box = np.array(boxes)
    b = rng.integers(0, len(boxes), nv)
    lat0 = rng.uniform(box[b, 0], box[b, 1])
    lon0 = rng.uniform(box[b, 2], box[b, 3])
    cog0 = rng.uniform(0, 360, nv)
    phase = rng.uniform(0, 2 * np.pi, nv)
    period = rng.uniform(1800, 7200, nv)
    # turn events of the vessels present here, on one global time axis (vessel v at v*BIG + t)
    vs = np.unique(pv)
    span = v["tot_h"][vs] * 3600
    n_ev = np.ceil(span / (every_lo * 60)).astype(np.int64) + 1
    ev_v = np.repeat(vs, n_ev)
    ev_start = np.concatenate([[0], np.cumsum(n_ev)[:-1]])
    gap = rng.uniform(every_lo * 60, every_hi * 60, len(ev_v))
    # events at least every_lo apart, longer than any turn (dur < every_lo): x stays increasing
    ev_t = (v["start"][ev_v] - rng.uniform(0, every_lo * 60, len(vs))[np.repeat(np.arange(len(vs)), n_ev)]
            + _grouped_cumsum(gap, ev_start, n_ev))
    amount = rng.uniform(turn_lo, turn_hi, len(ev_v)) * np.where(rng.random(len(ev_v)) < 0.5, -1, 1)
    rate = rng.uniform(rate_lo, rate_hi, len(ev_v)) / 60.0  # deg/s
    dur = np.minimum(np.abs(amount) / rate, 0.45 * every_lo * 60)
    BIG = 10 * SPAN_S
    xs = np.empty(2 * len(ev_v))
    ys = np.empty(2 * len(ev_v))
    xs[0::2] = ev_v * BIG + ev_t
    xs[1::2] = ev_v * BIG + ev_t + dur
    cum = np.cumsum(amount)
    ys[0::2] = cum - amount
    ys[1::2] = cum
    turn = np.interp(pv * BIG + pt, xs, ys)
    # points of each vessel are contiguous in idx order (caller sorts by vessel, then time)
    _, pstart, pcount = np.unique(pv, return_index=True, return_counts=True)
    walk = _grouped_cumsum(rng.normal(0, wander_deg, len(idx)), pstart, pcount)
    cog = (cog0[pv] + turn + walk) % 360
    sog = v["base_sog"][pv] * (1 + 0.12 * np.sin(2 * np.pi * pt / period[pv] + phase[pv]))
    dt = np.diff(pt, prepend=pt[0])
    dt[pstart] = 0.0
    dt = np.minimum(dt, 600.0)  # across a long gap the vessel was elsewhere: do not fly off
    # course at the middle of each step: previous and current course averaged on the circle
    prev = np.roll(cog, 1)
    prev[pstart] = cog[pstart]
    d = ((cog - prev + 180) % 360) - 180
    mid = np.radians(prev + 0.5 * d)
    step_nm = sog * dt / 3600
    lat = lat0[pv] + _grouped_cumsum(step_nm * np.cos(mid) / NM_PER_DEG, pstart, pcount)
    lon = lon0[pv] + _grouped_cumsum(
        step_nm * np.sin(mid) / (NM_PER_DEG * np.cos(np.radians(lat))), pstart, pcount)
    return idx, lat, lon, cog, sog


def _orbit_tracks(rng, v, vi, t, m, boxes):
    """Harbour craft and small boats: loops around a home point inside one of ``boxes`` (a
    Lissajous figure of 1-4 nm, kept inside the box), at ``base_sog`` knots on average."""
    nv = len(v["mmsi"])
    idx = np.flatnonzero(m)
    pv = vi[idx]
    pt = t[idx]
    box = np.array(boxes)
    b = rng.integers(0, len(boxes), nv)
    clat = 0.5 * (box[b, 0] + box[b, 1])
    clon = 0.5 * (box[b, 2] + box[b, 3])
    half_n = 0.5 * (box[b, 1] - box[b, 0]) * NM_PER_DEG
    half_e = 0.5 * (box[b, 3] - box[b, 2]) * NM_PER_DEG * np.cos(np.radians(clat))
    an = np.minimum(rng.uniform(1.0, 4.0, nv), 0.6 * half_n)
    ae = np.minimum(rng.uniform(1.0, 4.0, nv), 0.6 * half_e)
    hn = rng.uniform(-1, 1, nv) * (half_n - an) * 0.9
    he = rng.uniform(-1, 1, nv) * (half_e - ae) * 0.9
    r = rng.uniform(0.6, 1.6, nv)
    we = v["base_sog"] * np.sqrt(2.0 / (ae ** 2 + (an * r) ** 2)) / 3600  # rad/s
    wn = we * r
    pe, pn = rng.uniform(0, 2 * np.pi, (2, nv))
    e = he[pv] + ae[pv] * np.sin(we[pv] * pt + pe[pv])
    n = hn[pv] + an[pv] * np.sin(wn[pv] * pt + pn[pv])
    ve = ae[pv] * we[pv] * np.cos(we[pv] * pt + pe[pv]) * 3600  # knots
    vn = an[pv] * wn[pv] * np.cos(wn[pv] * pt + pn[pv]) * 3600
    lat = clat[pv] + n / NM_PER_DEG
    lon = clon[pv] + e / (NM_PER_DEG * np.cos(np.radians(lat)))
    cog = np.degrees(np.arctan2(ve, vn)) % 360
    sog = np.hypot(ve, vn)
    return idx, lat, lon, cog, sog


def _lane_tracks(rng, v, vi, t, m, tables):
    lx, llat, llon, lne, lnn, loff, llen = tables
    nv = len(v["mmsi"])
    idx = np.flatnonzero(m)
    pv = vi[idx]
    pt = t[idx]
    L = llen[np.maximum(v["lane"], 0)]
    period = rng.uniform(1800, 5400, nv)
    phase = rng.uniform(0, 2 * np.pi, nv)
    wper = rng.uniform(2400, 5400, nv)
    wph = rng.uniform(0, 2 * np.pi, nv)
    # the voyage fits on the lane (_vessels capped the time in coverage): random start on it
    sog_base = v["base_sog"]
    s0 = rng.uniform(0, 1, nv) * np.maximum(L - sog_base * v["tot_h"] * 1.04, 0)

    def pos(tt):
        dtv = tt - v["start"][pv]
        a = 0.03
        P = period[pv]
        ph = phase[pv]
        run = sog_base[pv] / 3600 * (dtv + a * P / (2 * np.pi) * (np.cos(ph) - np.cos(
            2 * np.pi * dtv / P + ph)))
        s = np.where(v["direction"][pv] > 0, s0[pv] + run, L[pv] - s0[pv] - run)
        s = np.clip(s, 0, L[pv])
        x = loff[v["lane"][pv]] + s
        la = np.interp(x, lx, llat)
        lo = np.interp(x, lx, llon)
        ne = np.interp(x, lx, lne)
        nn = np.interp(x, lx, lnn)
        off = (v["lat_off"][pv] + 0.1 * np.sin(2 * np.pi * dtv / wper[pv] + wph[pv])) * v["direction"][pv]
        la2 = la + off * nn / NM_PER_DEG
        lo2 = lo + off * ne / (NM_PER_DEG * np.cos(np.radians(la)))
        return la2, lo2

    lat, lon = pos(pt)
    la_a, lo_a = pos(pt - 5.0)
    la_b, lo_b = pos(pt + 5.0)
    e, n = _local_nm(la_a, lo_a, la_b, lo_b)
    cog = np.degrees(np.arctan2(e, n)) % 360
    sog = np.hypot(e, n) / 10.0 * 3600
    return idx, lat, lon, cog, sog


def _anchor_tracks(rng, v, vi, t, m, spots, spread_nm, swing):
    nv = len(v["mmsi"])
    idx = np.flatnonzero(m)
    pv = vi[idx]
    pt = t[idx]
    sp = np.array(spots)
    s = rng.integers(0, len(spots), nv)
    r = spread_nm * np.sqrt(rng.random(nv))
    a = rng.uniform(0, 2 * np.pi, nv)
    alat = sp[s, 0] + r * np.cos(a) / NM_PER_DEG
    alon = sp[s, 1] + r * np.sin(a) / (NM_PER_DEG * np.cos(np.radians(sp[s, 0])))
    radius = np.where(swing & ~v["moored"], rng.uniform(0.03, 0.11, nv), 0.0)[pv]  # nm
    per = rng.uniform(2, 6, nv)[pv] * 3600
    th = rng.uniform(0, 2 * np.pi, nv)[pv] + 2 * np.pi * pt / per
    noise = rng.normal(0, 0.002, (2, len(idx)))  # ~4 m
    lat = alat[pv] + (radius * np.cos(th)) / NM_PER_DEG + noise[0] / NM_PER_DEG
    lon = alon[pv] + (radius * np.sin(th) + noise[1]) / (NM_PER_DEG * np.cos(np.radians(alat[pv])))
    cog = np.degrees(th + np.pi / 2) % 360
    sog = np.abs(rng.normal(0, 0.12, len(idx)))
    heading = np.degrees(th + np.pi) % 360  # bow towards the anchor
    return idx, lat, lon, cog, sog, heading


def generate(n: int = 1_000_000, seed: int = 0):
    """``(polars frame in the positions schema, meta dict)``: exactly ``n`` reports."""
    import polars as pl

    if n < 1000:
        raise ValueError("n must be at least 1000")
    t_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    nv = max(20, round(VESSELS_PER_MILLION * n / 1e6))
    v = _vessels(rng, nv)
    K = v["K"]

    vi, t, f = _point_times(rng, v, n)
    # group by vessel, time-sorted (for the per-vessel integrations)
    o = np.lexsort((t, vi))
    vi, t = vi[o], t[o]
    N = len(vi)
    lat = np.empty(N)
    lon = np.empty(N)
    cog = np.empty(N)
    sog = np.empty(N)
    heading = np.full(N, np.nan)

    kind_of = v["kind"][vi]
    names = list(v["names"])

    def km(name):
        return kind_of == names.index(name)

    i, la, lo, c, s = _lane_tracks(rng, v, vi, t, km("a_lane"), _lane_tables())
    lat[i], lon[i], cog[i], sog[i] = la, lo, c, s
    i, la, lo, c, s = _box_tracks(rng, v, vi, t, km("a_fish"), FISHING_GROUNDS, 90, 200, 20, 60,
                                  12, 30, 1.0)
    lat[i], lon[i], cog[i], sog[i] = la, lo, c, s
    i, la, lo, c, s = _orbit_tracks(rng, v, vi, t, km("a_harbour"), BAYS)
    lat[i], lon[i], cog[i], sog[i] = la, lo, c, s
    i, la, lo, c, s = _orbit_tracks(rng, v, vi, t, km("b_move"), BAYS)
    lat[i], lon[i], cog[i], sog[i] = la, lo, c, s
    i, la, lo, c, s, h = _anchor_tracks(rng, v, vi, t, km("a_anchor"), ANCHORAGES, 2.0, True)
    lat[i], lon[i], cog[i], sog[i], heading[i] = la, lo, c, s, h
    i, la, lo, c, s, h = _anchor_tracks(rng, v, vi, t, km("b_still"), ANCHORAGES, 1.0, False)
    lat[i], lon[i], cog[i], sog[i], heading[i] = la, lo, c, s, h

    moving = ~(km("a_anchor") | km("b_still"))
    hd = cog + rng.normal(0, 2.5, N)  # heading: course plus drift angle
    heading = np.where(moving, hd, heading) % 360

    # shared-MMSI pairs: report the distance actually achieved
    mean_lat = np.bincount(vi, weights=lat, minlength=nv) / np.maximum(np.bincount(vi, minlength=nv), 1)
    mean_lon = np.bincount(vi, weights=lon, minlength=nv) / np.maximum(np.bincount(vi, minlength=nv), 1)
    # pair the sharing vessels far apart: sort them along the SW-NE diagonal, pair opposite
    # ends; a pair closer than 300 nm keeps its own MMSIs
    chosen = v["shared"][np.argsort(mean_lat[v["shared"]] + mean_lon[v["shared"]])]
    h = len(chosen) // 2
    mmsi_v = v["mmsi"].copy()
    pairs, pair_nm = [], []
    for a_, b_ in zip(chosen[:h], chosen[::-1][:h]):
        d = float(np.hypot(*_local_nm(mean_lat[a_], mean_lon[a_], mean_lat[b_], mean_lon[b_])))
        if d >= 300:
            mmsi_v[b_] = mmsi_v[a_]
            pairs.append((int(a_), int(b_)))
            pair_nm.append(d)

    # reported values: noise and AIS resolution
    is_a = v["is_a"][vi]
    sog_r = np.round(np.maximum(sog + rng.normal(0, 0.1, N), 0), 1)
    sog_r = np.where(moving, sog_r, np.round(np.minimum(sog, 0.3), 1))
    cog_r = np.round((cog + rng.normal(0, 1.0, N)) % 360, 1) % 360
    head_r = np.round(heading) % 360
    has_heading = is_a | (rng.random(nv) < 0.15)[vi]

    # glitches and n/a positions
    glitch = moving & (rng.random(N) < GLITCH_RATE)
    ng = int(glitch.sum())
    null_island = glitch & (rng.random(N) < 0.2)
    jump = glitch & ~null_island
    nj = int(jump.sum())
    lat[jump] += rng.uniform(0.2, 3.0, nj) * np.where(rng.random(nj) < 0.5, -1, 1)
    lon[jump] += rng.uniform(0.2, 3.0, nj) * np.where(rng.random(nj) < 0.5, -1, 1)
    lat[null_island] = 0.0
    lon[null_island] = 0.0
    null_pos = (rng.random(N) < NULL_POS_RATE) & ~glitch
    res = 1 / 600_000
    lat = np.round(lat / res) * res
    lon = np.round(lon / res) * res

    station = _nearest_station(np.where(null_pos, 35.0, lat), np.where(null_pos, 135.0, lon))
    n_rx = rng.choice([1, 2, 3], size=N, p=[0.85, 0.12, 0.03]).astype(np.int16)
    ts_ms = np.round((EPOCH0 + t) * 1000).astype(np.int64)
    msg_type = np.where(is_a, np.where(rng.random(N) < 0.85, 1, 3), 18).astype(np.int8)
    status = v["status"][vi]

    df = pl.DataFrame({
        "mmsi": mmsi_v[vi],
        "ts": pl.Series(ts_ms * 1000).cast(pl.Datetime("us", "UTC")),
        "lat": lat,
        "lon": lon,
        "sog_kn": sog_r.astype(np.float32),
        "cog_deg": cog_r.astype(np.float32),
        "heading_deg": head_r.astype(np.float32),
        "nav_status": status.astype(np.int8),
        "pos_accuracy": rng.random(N) < 0.6,
        "utc_second": ((ts_ms // 1000) % 60).astype(np.int8),
        "msg_type": msg_type,
        "ais_class": np.where(is_a, "A", "B"),
        "station": np.array([s[0] for s in STATIONS])[station],
        "n_rx": n_rx,
    })
    df = df.with_columns(
        pl.when(pl.Series(null_pos)).then(None).otherwise(pl.col("lat")).alias("lat"),
        pl.when(pl.Series(null_pos)).then(None).otherwise(pl.col("lon")).alias("lon"),
        pl.when(pl.Series(status < 0)).then(None).otherwise(pl.col("nav_status")).alias("nav_status"),
        pl.when(pl.Series(has_heading)).then(pl.col("heading_deg")).otherwise(None).alias("heading_deg"),
    ).sort("ts", "mmsi")

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from seawatch.schema import conform

    df = conform("positions", df)
    gaps_h = v["gap_h"][v["has_gap"]]
    meta = {
        "generator": "bench/positions_gen.py", "version": GEN_VERSION, "n": N, "seed": seed,
        "start": "2024-06-01T00:00:00Z", "span_h": SPAN_S / 3600, "vessels": nv,
        "mmsis": len(np.unique(mmsi_v)),
        "vessels_by_kind": {k: int(K[k].sum()) for k in KINDS},
        "points_by_kind": {k: int(km(k).sum()) for k in KINDS},
        "class_a_points": int(is_a.sum()), "class_b_points": int((~is_a).sum()),
        "interval_factor": round(f, 4),
        "gaps": int(v["has_gap"].sum()), "gaps_over_8h": int((gaps_h > 8).sum()),
        "shared_mmsi_pairs": len(pairs),
        "shared_mmsi_min_distance_nm": round(min(pair_nm), 1) if pair_nm else None,
        "glitches": ng, "null_island": int(null_island.sum()), "null_positions": int(null_pos.sum()),
        "lat_range": [float(np.nanmin(np.where(glitch | null_pos, np.nan, lat))),
                      float(np.nanmax(np.where(glitch | null_pos, np.nan, lat)))],
        "lon_range": [float(np.nanmin(np.where(glitch | null_pos, np.nan, lon))),
                      float(np.nanmax(np.where(glitch | null_pos, np.nan, lon)))],
        "generate_s": round(time.perf_counter() - t_start, 2),
    }
    return df, meta


def cache_path(n: int = 1_000_000, seed: int = 0) -> Path:
    return CACHE_DIR / f"positions_n{n}_s{seed}_v{GEN_VERSION}.parquet"


def cached(n: int = 1_000_000, seed: int = 0, log=None) -> Path:
    """Path of the cached Parquet file under bench/_cache/, generating it if needed."""
    path = cache_path(n, seed)
    meta_path = Path(str(path) + ".meta.json")
    if not (path.exists() and meta_path.exists()):
        if log:
            log(f"generating {n:,} positions -> {path} ...")
        df, meta = generate(n, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        df.write_parquet(tmp)
        os.replace(tmp, path)
        meta["bytes"] = path.stat().st_size
        meta_path.write_text(json.dumps(meta, indent=1))
        if log:
            log(f"  done in {meta['generate_s']} s ({meta['bytes'] / 1e6:.0f} MB)")
    return path


def meta_of(path: str | os.PathLike) -> dict:
    return json.loads(Path(str(path) + ".meta.json").read_text())


def load(n: int = 1_000_000, seed: int = 0, log=None):
    """The cached positions as a polars frame (generated on first use)."""
    import polars as pl

    return pl.read_parquet(cached(n, seed, log=log))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="realistic synthetic AIS positions around Japan")
    ap.add_argument("-n", "--n", type=int, default=1_000_000, help="positions (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write Parquet here instead of the bench/_cache/ file")
    a = ap.parse_args(argv)
    log = (lambda s: print(s, file=sys.stderr, flush=True))
    if a.out:
        df, meta = generate(a.n, a.seed)
        df.write_parquet(a.out)
        path = Path(a.out)
    else:
        path = cached(a.n, a.seed, log=log)
        meta = meta_of(path)
    print(json.dumps({"path": str(path), **meta}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
