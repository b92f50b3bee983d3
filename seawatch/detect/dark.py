"""Dark vessels: sensor detections (radar, SAR, optical) that no AIS track explains.

**Correlation** (:func:`correlate`), after Skylight and Global Fishing Watch: a detection is
*AIS-correlated* when an AIS position of some segment, interpolated to the detection's time,
lies within a radius of it; otherwise the vessel seen is *dark*.

1. *Candidates*, vectorised: AIS points and detections are binned into space-time cells
   (``cell_deg`` x ``cell_deg`` x ``bin_s``). Each detection looks in its own time bin and the
   two beside it, and in the 2 x 2 spatial cells nearest to it (so every AIS point within
   ``bin_s`` and ``cell_deg / 2`` of latitude / longitude is seen: 0.1 deg is 11 km north-south,
   8.8 km east-west at 38 N). Legs with a gap longer than a bin also key the bins they cross,
   at their interpolated position, so a detection inside a long gap still finds the segment.
   At scale (``bench/correlate.py``: a million detections against ten million AIS points):
   the AIS side is also filed under the bins beside its own, so a detection looks up 4 keys,
   not 12; detections are taken in time order, in chunks (at most 100,000 detections and
   250,000 cell rows met; two chunks at a time on two threads); each chunk's unique
   (detection, segment) pairs first go through a cheap screen (steps 2 and 3 approximated:
   linear interpolation, flat distance, the radius bounded from above, with margins over the
   approximation errors, so that no pair step 3 would keep is dropped; only where all data lie
   within 75 deg of the equator), then the exact evaluation, its AIS side once per (segment,
   time) since the detections of a pass share their time. A pair depends only on its detection
   and segment: chunking changes nothing.
2. *Position at t*: the segment's reports just before and after t (``searchsorted`` on
   (segment, time)). Both present and at most ``max_interp_gap_s`` apart: great-circle
   interpolation (slerp). Otherwise dead reckoning by SOG/COG from the nearest report, for at
   most ``max_extrapolate_s`` (no SOG/COG: the report's own position).
3. *Allowed distance*: ``r = radius_m + growth x speed x |dt|``, capped at ``max_radius_m``,
   where ``dt`` is the time to the nearest real report, ``speed`` the larger of the reported
   SOGs and the leg's implied speed (``default_speed_kn`` when nothing is known), and
   ``growth`` is ``interp_growth`` between two reports, ``extrap_growth`` when dead reckoning.
   Candidates with distance ``d > r`` are dropped. Cost ``d / r``, plus
   ``length_weight x |L_det - L_ais| / max(L_det, L_ais)`` when both lengths are known (AIS
   length = ``to_bow_m + to_stern_m`` of the latest static report of the MMSI).
4. *Assignment*, global and one-to-one: a detection matches at most one segment and a segment
   at most one detection *of the same pass* (``pass_id``: one radar sweep or satellite pass).
   The candidate graph (detections vs (pass, segment)) is cut into connected components
   (``scipy.sparse.csgraph``); components with one detection or one segment are solved
   vectorised (lowest cost; on a tie, the first candidate in (detection, segment) order), the
   others with ``scipy.optimize.linear_sum_assignment``, which first maximises the number of
   matches, then minimises the total cost.

**Events** (:func:`detect`):

- ``dark_target``: an unmatched detection (confidence >= ``min_confidence`` or unknown). Where
  (zone), at night or not (:func:`seawatch.astro.is_night`), distance to shore. Severity:
  ``high`` inside the territorial sea / internal waters at night within ``near_shore_nm`` of
  the coast; ``medium`` inside the territorial sea, or at night within ``near_shore_nm``;
  ``low`` otherwise. ``mmsi`` is null; the event id hashes the detection id.
- ``dark_track``: unmatched detections of different passes linked into a plausible track: each
  detection is linked to at most one successor in a later pass within ``max_link_gap_s``, with
  an implied speed <= ``max_track_speed_kn`` and, where the detections have headings, a
  course within ``max_heading_diff_deg`` of them (the link is chosen one-to-one, globally:
  earliest pass first, then nearest); a link that turns more than ``max_turn_deg`` from the
  leg before it, or changes speed by more than ``max_speed_ratio``, is cut. Chains of at least ``min_track_detections`` detections
  (default 3: two are a coincidence, three in line a track) are one event from the first to
  the last detection; evidence: detection ids, mean speed, course.
- ``identity_mismatch``: a matched detection whose length differs from the AIS length by more
  than ``max_length_ratio`` (0.5: half) of the AIS length; the detection is the evidence.

Inputs: ``inputs.detections`` (schema DETECTIONS of :mod:`seawatch.detections`), read with
``getattr`` so this module works before :class:`~seawatch.detect.base.Inputs` has the field.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

from .. import schema
from ..detections import CORRELATION, DETECTIONS
from ..tracks import EARTH_RADIUS_NM, _offsets, bearing_deg, destination, haversine_nm
from .base import Inputs, finish

EVENT_TYPES = ("dark_target", "dark_track", "identity_mismatch")

M_PER_NM = 1852.0
KN_MS = M_PER_NM / 3600.0


@dataclass(frozen=True)
class Params:
    """Dark-vessel thresholds.

    - ``radius_m`` = 1500 m at zero time offset: the "about 1.5 km" within which Skylight and
      Global Fishing Watch call a detection AIS-correlated (the issue; GFW's SAR matching,
      Paolo et al., Nature 2024, scores candidates by distance to the interpolated track).
    - ``interp_growth`` = 0.25, ``extrap_growth`` = 1.0: the radius grows by that share of the
      distance run since the nearest report (between two reports the track is constrained on
      both sides; dead reckoning is not); ``max_radius_m`` = 5000 m caps it.
    - ``max_interp_gap_s`` = 3600 s: interpolate across gaps up to an hour (longer: dead reckon
      from the nearer end); ``max_extrapolate_s`` = 600 s of dead reckoning at most.
    - ``default_speed_kn`` = 10 kn when a segment has no speed at all.
    - ``length_weight`` = 0.5: a full length mismatch costs half the distance budget.
    - ``cell_deg`` = 0.1 deg, ``bin_s`` = 600 s: candidate cells (see the module docstring).
    - ``min_confidence`` = 0.5: weaker detections are not reported as dark targets.
    - ``near_shore_nm`` = 12 nm: the territorial sea breadth (UNCLOS art. 3).
    - ``max_track_speed_kn`` = 40 kn (a go-fast; faster is two different targets),
      ``max_link_gap_s`` = 3600 s between two detections of a track, ``max_heading_diff_deg``
      = 45 deg between a detection's heading and the course to the next, and from one leg to
      the next a turn of at most ``max_turn_deg`` = 60 deg and a speed change of at most a
      factor ``max_speed_ratio`` = 2 (a track, not a zigzag through clutter);
      ``min_track_detections`` = 3.
    - ``max_length_ratio`` = 0.5: identity mismatch when |L_det - L_ais| > 0.5 L_ais (the issue).
    """

    radius_m: float = 1500.0
    interp_growth: float = 0.25
    extrap_growth: float = 1.0
    max_radius_m: float = 5000.0
    max_interp_gap_s: float = 3600.0
    max_extrapolate_s: float = 600.0
    default_speed_kn: float = 10.0
    length_weight: float = 0.5
    cell_deg: float = 0.1
    bin_s: float = 600.0
    min_confidence: float = 0.5
    near_shore_nm: float = 12.0
    max_track_speed_kn: float = 40.0
    max_link_gap_s: float = 3600.0
    max_heading_diff_deg: float = 45.0
    max_turn_deg: float = 60.0
    max_speed_ratio: float = 2.0
    min_track_detections: int = 3
    max_length_ratio: float = 0.5


PRESETS = {"coastal": Params(), "gfw": Params(), "skylight": Params()}

_BIG = 1e6  # cost of a non-edge in the assignment matrices


# -- geometry -------------------------------------------------------------------------------------
def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    c = np.cos(la)
    return np.stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)])


def slerp(lat0: np.ndarray, lon0: np.ndarray, lat1: np.ndarray, lon1: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle interpolation: the point a fraction ``f`` of the way from 0 to 1."""
    a, b = _xyz(lat0, lon0), _xyz(lat1, lon1)
    dot = np.clip((a * b).sum(0), -1.0, 1.0)
    om = np.arccos(dot)
    so = np.sin(om)
    small = so < 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        wa = np.where(small, 1.0 - f, np.sin((1.0 - f) * om) / np.where(small, 1.0, so))
        wb = np.where(small, f, np.sin(f * om) / np.where(small, 1.0, so))
    p = a * wa + b * wb
    lat = np.degrees(np.arctan2(p[2], np.hypot(p[0], p[1])))
    lon = np.degrees(np.arctan2(p[1], p[0]))
    return lat, lon


# -- AIS side -------------------------------------------------------------------------------------
def ais_lengths(statics: pl.DataFrame | None) -> pl.DataFrame:
    """``mmsi, ais_length_m``: to_bow_m + to_stern_m of the latest static report that has one
    (NOAA rows carry the whole length in to_bow_m)."""
    if statics is None or statics.height == 0 or "to_bow_m" not in statics.columns:
        return pl.DataFrame(schema={"mmsi": pl.Int64, "ais_length_m": pl.Float32})
    s = statics.select(
        "mmsi", "ts",
        L=(pl.col("to_bow_m").cast(pl.Float32).fill_null(0) + pl.col("to_stern_m").cast(pl.Float32).fill_null(0)),
    ).filter(pl.col("L") > 0)
    return (
        s.sort("ts", nulls_last=False).group_by("mmsi").agg(pl.col("L").last().alias("ais_length_m"))
        .with_columns(pl.col("ais_length_m").cast(pl.Float32))
    )


@dataclass
class _Ais:
    seg: np.ndarray  # int64 segment code, sorted with t
    t: np.ndarray  # float64 seconds from base
    lat: np.ndarray
    lon: np.ndarray
    sog: np.ndarray  # float64, nan = n/a
    cog: np.ndarray
    key: np.ndarray  # seg << 31 | floor(t)
    seg_ids: pl.Series  # code -> seg_id
    seg_mmsi: np.ndarray  # code -> mmsi


def _prepare_ais(points: pl.DataFrame, base_us: int) -> _Ais:
    p = points.select("mmsi", "seg_id", "ts", "lat", "lon", "sog_kn", "cog_deg").filter(
        pl.col("seg_id").is_not_null() & pl.col("ts").is_not_null() & pl.col("lat").is_not_null()
    )
    new = (pl.col("seg_id") != pl.col("seg_id").shift(1)).fill_null(True)
    # rows of each segment together (no seg_id starts two runs) and in time order?
    contiguous = p.select(
        pl.col("seg_id").filter(new).is_unique().all() & (new | (pl.col("ts") >= pl.col("ts").shift(1))).all()
    ).item() if p.height else True
    if not contiguous:
        p = p.sort("seg_id", "ts")
    firsts = p.select(new).to_series().to_numpy()
    code = np.cumsum(firsts, dtype=np.int64) - 1
    t = (p["ts"].dt.epoch("us").to_numpy() - base_us) / 1e6
    key = (code << 31) | np.floor(np.maximum(t, 0)).astype(np.int64)
    return _Ais(
        seg=code, t=t, lat=p["lat"].to_numpy(), lon=p["lon"].to_numpy(),
        sog=p["sog_kn"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        cog=p["cog_deg"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        key=key, seg_ids=p["seg_id"].filter(pl.Series(firsts)), seg_mmsi=p["mmsi"].to_numpy()[firsts],
    )


def _grid(cell: float) -> tuple[int, int]:
    return int(np.ceil(180.0 / cell)) + 2, int(np.ceil(360.0 / cell)) + 2


def _cell_keys(lat: np.ndarray, lon: np.ndarray, tb: np.ndarray, cell: float) -> np.ndarray:
    la = np.floor((lat + 90.0) / cell).astype(np.int64)
    lo = np.floor((lon + 180.0) / cell).astype(np.int64)
    nla, nlo = _grid(cell)
    return (tb.astype(np.int64) * nla + la) * nlo + lo


def _unique_rows(k: np.ndarray, s: np.ndarray, n_seg: int) -> tuple[np.ndarray, np.ndarray]:
    """The unique (k, s) rows, sorted by k, then s (``0 <= s < n_seg``)."""
    if len(k) and k.min() >= 0 and (int(k.max()) + 1) * max(n_seg, 1) < 2**62:
        c = k * n_seg + s
        c.sort()
        c = c[np.concatenate(([True], c[1:] != c[:-1]))]
        return c // n_seg, (c % n_seg).astype(np.int32)
    df = pl.DataFrame({"k": k, "s": s.astype(np.int32)}).unique().sort("k", "s")
    return df["k"].to_numpy(), df["s"].to_numpy()


def _ais_cells(a: _Ais, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """Where the segments are: the unique (cell key, segment code) of every AIS point, plus the
    bins crossed by long legs; each row is also filed under the time bins just before and after
    its own, so that a detection looks up its own bin only and finds what its bin +/- 1 holds.
    Returns ``k`` (int64) and ``s`` (int32), sorted by key, then segment."""
    n_seg = len(a.seg_mmsi)
    tb = np.floor(a.t / p.bin_s).astype(np.int64)
    k = _cell_keys(a.lat, a.lon, tb, p.cell_deg)
    rep = np.zeros(len(k), dtype=bool)  # same cell and segment as the point before
    rep[1:] = (k[1:] == k[:-1]) & (a.seg[1:] == a.seg[:-1])
    ks, ss = [k[~rep]], [a.seg[~rep]]
    del k, rep
    if len(a.t) > 1:
        same = a.seg[1:] == a.seg[:-1]
        dt = a.t[1:] - a.t[:-1]
        nb = tb[1:] - tb[:-1]
        long = np.nonzero(same & (nb > 1) & (dt <= p.max_interp_gap_s))[0]
        if len(long):
            reps = (nb[long] - 1).astype(np.int64)
            leg = np.repeat(long, reps)
            b = tb[leg] + 1 + _offsets(reps)
            f = np.clip(((b + 0.5) * p.bin_s - a.t[leg]) / dt[leg], 0.0, 1.0)
            la, lo = slerp(a.lat[leg], a.lon[leg], a.lat[leg + 1], a.lon[leg + 1], f)
            ks.append(_cell_keys(la, lo, b, p.cell_deg))
            ss.append(a.seg[leg])
    k, s = _unique_rows(np.concatenate(ks), np.concatenate(ss), n_seg)
    nla, nlo = _grid(p.cell_deg)
    step = nla * nlo  # one time bin in key units
    return _unique_rows(np.concatenate([k - step, k, k + step]), np.tile(s.astype(np.int64), 3), n_seg)


def _det_cells(lat: np.ndarray, lon: np.ndarray, t: np.ndarray, p: Params) -> np.ndarray:
    """The keys of the 2 x 2 cells nearest to each detection, in its own time bin: shape (n, 4)
    (the AIS side is filed under the bins beside its own, see :func:`_ais_cells`)."""
    c = p.cell_deg
    fla = (lat + 90.0) / c
    flo = (lon + 180.0) / c
    dla = np.where(fla - np.floor(fla) < 0.5, -1, 1) * c
    dlo = np.where(flo - np.floor(flo) < 0.5, -1, 1) * c
    tb = np.floor(t / p.bin_s).astype(np.int64)
    return np.stack([_cell_keys(lat + sa * dla, lon + so * dlo, tb, c) for sa in (0, 1) for so in (0, 1)], axis=1)


def _pairs(cell_s: np.ndarray, first: np.ndarray, cnt: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (detection, segment) candidate pairs of one chunk of ``n`` detections, from the
    cell rows ``first[j] .. first[j] + cnt[j]`` each of its keys meets (keys ``4 d .. 4 d + 3``
    are detection ``d``'s). Sorted by segment, then detection."""
    m = cnt > 0
    kd = np.nonzero(m)[0] // 4
    first, cnt = first[m], cnt[m]
    tot = int(cnt.sum())
    if tot == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ends = np.cumsum(cnt)
    rows = np.arange(tot, dtype=np.int64) + np.repeat(first - (ends - cnt), cnt)
    code = cell_s[rows].astype(np.int64) * n + np.repeat(kd, cnt)
    del rows
    code.sort()
    code = code[np.concatenate(([True], code[1:] != code[:-1]))]
    return code % n, code // n


_R_M = EARTH_RADIUS_NM * M_PER_NM
_DEG_M = np.radians(1.0) * _R_M  # metres per degree of great circle


def _runs(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of equal (segment, time) among adjacent pairs (pairs come sorted by segment, then
    time, and many detections of a pass share its time): the first pair of each run, and each
    pair's run. The AIS side of a pair depends on (segment, time) only."""
    new = np.empty(len(s), dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    new[1:] |= t[1:] != t[:-1]
    return np.flatnonzero(new), np.cumsum(new) - 1


def _locate(a: _Ais, s: np.ndarray, t: np.ndarray, p: Params, i: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The reports of segment ``s`` around time ``t``: the one at or before (``i``, ``ic``;
    ``has_p``) and after (``j``; ``has_n``), whether to interpolate, the nearer report ``k`` and
    the time from it ``dte``, and whether the segment has a position at ``t`` at all (``ok``)."""
    n = len(a.t)
    if i is None:
        q = (s.astype(np.int64) << 31) | np.floor(np.maximum(t, 0)).astype(np.int64)
        i = np.searchsorted(a.key, q, side="right") - 1
    ic = np.clip(i, 0, max(n - 1, 0))
    j = np.clip(i + 1, 0, max(n - 1, 0))
    has_p = (i >= 0) & (a.seg[ic] == s)
    has_n = (i + 1 < n) & (a.seg[j] == s)
    t0, t1 = a.t[ic], a.t[j]
    gap = t1 - t0
    interp = has_p & has_n & (gap <= p.max_interp_gap_s)
    use_prev = has_p & (~has_n | ((t - t0) <= (t1 - t)))
    k = np.where(use_prev, ic, j)
    dte = t - a.t[k]  # > 0 forward from prev, < 0 backward from next
    ok = interp | ((has_p | has_n) & (np.abs(dte) <= p.max_extrapolate_s))
    return {"i": i, "ic": ic, "j": j, "has_p": has_p, "has_n": has_n, "t0": t0, "t1": t1, "gap": gap,
            "interp": interp, "k": k, "dte": dte, "ok": ok}


def _screen(a: _Ais, d_idx: np.ndarray, s: np.ndarray, dlat: np.ndarray, dlon: np.ndarray, dt_: np.ndarray,
            p: Params, wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    """A cheap first pass over candidate pairs; for data within 75 deg of the equator (the
    caller's test). Returns a mask of the pairs that may be kept (the others certainly fail
    :func:`_evaluate`'s test) and, for those, the AIS report at or before the detection time
    (what :func:`_evaluate` searches for). Same reports and ``ok`` rule as there; the position
    is approximated (linear in lat/lon between the reports, flat dead reckoning), the distance
    is equirectangular and the radius bounded from above, with margins above the errors: a
    leg or run of length L puts the approximate position at most 0.5 L^2 / R (1 + tan lat)
    from the true one (checked numerically up to 80 deg and 200 km; the margin is 10 L^2 / R;
    longer than 50 km: not screened); the leg's flat length is its great-circle length within
    1e-9; the distance is within 1 % for the distances that matter. ``wrap``: longitudes may
    differ by more than 180 deg."""
    t = dt_[d_idx]
    u, inv = _runs(s, t)
    su, tu = s[u], t[u]
    loc = _locate(a, su, tu, p)
    nu = len(u)
    lat_x = np.zeros(nu)
    lon_x = np.zeros(nu)
    lim = np.full(nu, -1.0)  # distance allowed, metres (< 0: no position at t, the pair fails)
    with np.errstate(invalid="ignore", divide="ignore"):
        # between two reports (most pairs)
        w = np.flatnonzero(loc["interp"])
        ic, j, gap = loc["ic"][w], loc["j"][w], loc["gap"][w]
        la0, lo0, la1, lo1 = a.lat[ic], a.lon[ic], a.lat[j], a.lon[j]
        f = np.clip(np.where(gap > 0, (tu[w] - loc["t0"][w]) / np.where(gap > 0, gap, 1.0), 0.0), 0.0, 1.0)
        dla, dlo = la1 - la0, lo1 - lo0
        if wrap:
            dlo = (dlo + 180.0) % 360.0 - 180.0
        lat_x[w] = la0 + f * dla
        lon_x[w] = lo0 + f * dlo
        leg = np.hypot(dlo * np.cos(np.radians((la0 + la1) * 0.5)), dla) * _DEG_M
        speed = np.fmax(np.fmax(a.sog[ic], a.sog[j]), leg * 1.001 / M_PER_NM / np.maximum(gap, 1.0) * 3600.0 + 1e-6)
        speed = np.where(np.isfinite(speed), speed, p.default_speed_kn)
        dt_near = np.minimum(tu[w] - loc["t0"][w], loc["t1"][w] - tu[w])
        r = np.minimum(p.radius_m + p.interp_growth * speed * KN_MS * np.maximum(dt_near, 0.0), p.max_radius_m)
        lim[w] = np.where(leg <= 50e3, r + 10.0 + 10.0 * leg * leg / _R_M, np.inf)
        # dead reckoning from the nearer report (or its position), at most max_extrapolate_s
        w = np.flatnonzero(loc["ok"] & ~loc["interp"])
        k, dte = loc["k"][w], loc["dte"][w]
        sog, cog = a.sog[k], a.cog[k]
        known = np.isfinite(sog) & np.isfinite(cog)
        run = np.where(known, sog * np.abs(dte) / 3600.0, 0.0)  # nm
        brg = np.radians(np.where(dte >= 0, cog, cog + 180.0))
        run_deg = np.degrees(run / EARTH_RADIUS_NM)
        la = a.lat[k]
        lat_x[w] = la + np.where(known, run_deg * np.cos(brg), 0.0)
        lon_x[w] = a.lon[k] + np.where(known, run_deg * np.sin(brg) / np.maximum(np.cos(np.radians(la)), 1e-6), 0.0)
        speed = np.where(np.isfinite(sog), sog, p.default_speed_kn)
        r = np.minimum(p.radius_m + p.extrap_growth * speed * KN_MS * np.abs(dte), p.max_radius_m)
        run_m = run * M_PER_NM
        lim[w] = np.where(run_m <= 50e3, r + 10.0 + 10.0 * run_m * run_m / _R_M, np.inf)
        # per pair: equirectangular distance at the detection's latitude, 1 % margin
        lim_deg2 = np.square(lim / 0.99 / _DEG_M)
        lim_deg2[lim < 0] = -1.0
        dx = dlon[d_idx] - lon_x[inv]
        if wrap:
            dx = (dx + 180.0) % 360.0 - 180.0
        dx *= np.cos(np.radians(dlat))[d_idx]
        dy = dlat[d_idx] - lat_x[inv]
        dx *= dx
        dy *= dy
        dx += dy
        maybe = ~(dx > lim_deg2[inv])  # NaN (a NaN coordinate): let _evaluate decide
    return maybe, loc["i"][inv[maybe]]


def _evaluate(a: _Ais, d_idx: np.ndarray, s: np.ndarray, dlat: np.ndarray, dlon: np.ndarray, dt_: np.ndarray,
              p: Params, i: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """AIS position of segment ``s`` at each pair's detection time, the distance and radius.
    ``i``: the pairs' AIS report at or before the detection time, when already searched. The
    AIS side is computed once per run of equal (segment, time)."""
    t_all = dt_[d_idx]
    u, inv = _runs(s, t_all)
    s, t = s[u], t_all[u]
    loc = _locate(a, s, t, p, None if i is None else i[u])
    ic, j, has_p, has_n, t0, t1, gap = (loc[x] for x in ("ic", "j", "has_p", "has_n", "t0", "t1", "gap"))
    interp, k, dte, ok = loc["interp"], loc["k"], loc["dte"], loc["ok"]
    lat_a, lon_a, leg_kn = np.empty(len(t)), np.empty(len(t)), np.full(len(t), np.nan)
    # between two reports: great-circle interpolation
    w = np.flatnonzero(interp)
    ic_, j_, gap_ = ic[w], j[w], gap[w]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.clip(np.where(gap_ > 0, (t[w] - t0[w]) / np.where(gap_ > 0, gap_, 1.0), 0.0), 0.0, 1.0)
    lat_a[w], lon_a[w] = slerp(a.lat[ic_], a.lon[ic_], a.lat[j_], a.lon[j_], f)
    leg_kn[w] = haversine_nm(a.lat[ic_], a.lon[ic_], a.lat[j_], a.lon[j_]) / np.maximum(gap_, 1.0) * 3600.0
    # otherwise dead reckoning from the nearer real report
    w = np.flatnonzero(~interp)
    k_, dte_ = k[w], dte[w]
    sog_, cog_ = a.sog[k_], a.cog[k_]
    known = np.isfinite(sog_) & np.isfinite(cog_)
    brg = np.where(dte_ >= 0, cog_, cog_ + 180.0)
    lat_a[w], lon_a[w] = destination(a.lat[k_], a.lon[k_], np.where(known, brg, 0.0),
                                     np.where(known, sog_ * np.abs(dte_) / 3600.0, 0.0))
    sog = a.sog[k]
    dt_near = np.where(interp, np.minimum(t - t0, t1 - t), np.abs(dte))
    sogs = np.fmax(np.where(has_p, a.sog[ic], np.nan), np.where(has_n, a.sog[j], np.nan))
    speed = np.where(interp, np.fmax(sogs, leg_kn), sog)
    speed = np.where(np.isfinite(speed), speed, p.default_speed_kn)
    growth = np.where(interp, p.interp_growth, p.extrap_growth)
    r = np.minimum(p.radius_m + growth * speed * KN_MS * np.maximum(dt_near, 0.0), p.max_radius_m)
    dt = np.where(interp, np.where(t - t0 <= t1 - t, t - t0, t - t1), dte)
    lat_a, lon_a, r = lat_a[inv], lon_a[inv], r[inv]
    dist = haversine_nm(dlat[d_idx], dlon[d_idx], lat_a, lon_a) * M_PER_NM
    keep = ok[inv] & (dist <= r)
    return {"keep": keep, "dist": dist, "r": r, "dt": dt[inv], "interp": interp[inv], "lat": lat_a, "lon": lon_a}


def _rank_in_component(nodes: np.ndarray, lab: np.ndarray, n: int) -> np.ndarray:
    """Rank of each of ``nodes`` (ascending ids) among the nodes of its component, by id."""
    o = np.argsort(lab[nodes], kind="stable")
    ls = lab[nodes][o]
    start = np.ones(len(o), dtype=bool)
    start[1:] = ls[1:] != ls[:-1]
    pos = np.arange(len(o))
    rank = np.zeros(n, dtype=np.int64)
    rank[nodes[o]] = pos - np.maximum.accumulate(np.where(start, pos, 0))
    return rank


def _assign(d: np.ndarray, g: np.ndarray, cost: np.ndarray, n_det: int) -> np.ndarray:
    """One-to-one assignment on the bipartite candidate graph (detection ``d`` - AIS node ``g``).
    Returns the indices of the chosen edges."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(d) == 0:
        return np.zeros(0, dtype=np.int64)
    n_g = int(g.max()) + 1
    nn = n_det + n_g
    adj = coo_matrix((np.ones(len(d), dtype=np.int8), (d, g + n_det)), shape=(nn, nn))
    _, lab = connected_components(adj, directed=False)
    comp = lab[d]
    # detections and AIS nodes per component
    has = np.zeros(nn, dtype=bool)
    has[d] = True
    has[g + n_det] = True
    d_nodes = np.flatnonzero(has[:n_det])
    g_nodes = np.flatnonzero(has[n_det:])
    nd = np.bincount(lab[d_nodes], minlength=lab.max() + 1)
    ng = np.bincount(lab[g_nodes + n_det], minlength=lab.max() + 1)
    simple = (nd[comp] == 1) | (ng[comp] == 1)
    chosen = []
    e_s = np.nonzero(simple)[0]
    if len(e_s):
        # per component the cheapest edge, the first one of equal cost
        o = e_s[np.argsort(comp[e_s], kind="stable")]
        cs, c = comp[o], cost[o]
        start = np.ones(len(o), dtype=bool)
        start[1:] = cs[1:] != cs[:-1]
        if np.isnan(c).any():
            o = e_s[np.lexsort((cost[e_s], comp[e_s]))]
            chosen.append(o[start])
        else:
            grp = np.cumsum(start) - 1
            cand = np.flatnonzero(c == np.minimum.reduceat(c, np.flatnonzero(start))[grp])
            first = np.ones(len(cand), dtype=bool)
            first[1:] = grp[cand][1:] != grp[cand][:-1]
            chosen.append(o[cand[first]])
    e_h = np.nonzero(~simple)[0]
    if len(e_h):
        # one dense cost matrix per component (rows: its detections, columns: its AIS nodes, both
        # ascending), laid end to end in one buffer; then linear_sum_assignment on each
        o = e_h[np.argsort(comp[e_h], kind="stable")]
        cs = comp[o]
        hc = cs[np.concatenate(([True], cs[1:] != cs[:-1]))]
        nr, nc = nd[hc], ng[hc]
        row = _rank_in_component(d_nodes, lab[:n_det], n_det)[d[o]]
        col = _rank_in_component(g_nodes, lab[n_det:], n_g)[g[o]]
        off = np.concatenate(([0], np.cumsum(nr * nc)))
        ci = np.cumsum(np.concatenate(([False], cs[1:] != cs[:-1])))  # component number, 0..
        pos = off[ci] + row * nc[ci] + col
        m = np.full(int(off[-1]), _BIG)
        m[pos] = cost[o]
        eid = np.full(int(off[-1]), -1, dtype=np.int64)
        eid[pos] = o
        cells = []
        for c0, c1, r_, c_ in zip(off[:-1].tolist(), off[1:].tolist(), nr.tolist(), nc.tolist()):
            r, c = linear_sum_assignment(m[c0:c1].reshape(r_, c_))
            cells.append(c0 + r * c_ + c)
        e = eid[np.concatenate(cells)]
        chosen.append(e[e >= 0])
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


#: detections per correlation chunk (in time order), and candidate cell rows per chunk at most
_CHUNK_DETECTIONS = 100_000
_CHUNK_ROWS = 250_000
#: chunks processed at once (threads)
_THREADS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _candidate_edges(a: _Ais, dlat: np.ndarray, dlon: np.ndarray, dt_: np.ndarray,
                     p: Params) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Every kept (detection, segment) pair: ``d_idx`` and ``s`` sorted by detection, then
    segment (whatever the chunks), their evaluation ``ev`` (:func:`_evaluate` minus ``keep``) in
    the order found, and ``o``: ``ev[x][o]`` is in the sorted order. Detections are taken in
    time order, in chunks of at most ``_CHUNK_DETECTIONS`` detections and ``_CHUNK_ROWS`` cell
    rows met: each chunk's pairs are deduplicated, screened (:func:`_screen`) and evaluated on
    their own (a pair only depends on its detection and segment, so chunking changes nothing)."""
    cell_k, cell_s = _ais_cells(a, p)
    nd = len(dt_)
    order = np.argsort(dt_, kind="stable")
    keys = _det_cells(dlat[order], dlon[order], dt_[order], p).ravel()  # 4 per detection, in time order
    first = np.searchsorted(cell_k, keys, side="left")
    cnt = np.searchsorted(cell_k, keys, side="right") - first
    del keys, cell_k
    rows = np.concatenate(([0], np.cumsum(cnt.reshape(nd, 4).sum(axis=1))))  # cell rows before each detection
    with np.errstate(invalid="ignore"):
        # the screen's error bounds hold within 75 deg of the equator; longitudes to wrap?
        screen = bool(max(np.nanmax(np.abs(a.lat), initial=0.0), np.nanmax(np.abs(dlat), initial=0.0)) <= 75.0)
        lo_min = min(np.nanmin(a.lon, initial=180.0), np.nanmin(dlon, initial=180.0))
        lo_max = max(np.nanmax(a.lon, initial=-180.0), np.nanmax(dlon, initial=-180.0))
        wrap = not bool(lo_max - lo_min < 180.0)
    bounds = [0]
    while bounds[-1] < nd:
        c0 = bounds[-1]
        c1 = int(np.searchsorted(rows, rows[c0] + _CHUNK_ROWS, side="right")) - 1
        bounds.append(min(max(c1, c0 + 1), c0 + _CHUNK_DETECTIONS, nd))

    def chunk(c0: int, c1: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None:
        idx = order[c0:c1]
        dl, s = _pairs(cell_s, first[4 * c0:4 * c1], cnt[4 * c0:4 * c1], c1 - c0)
        if not len(dl):
            return None
        la, lo, t = dlat[idx], dlon[idx], dt_[idx]
        i = None
        if screen:
            maybe, i = _screen(a, dl, s, la, lo, t, p, wrap)
            dl, s = dl[maybe], s[maybe]
        ev = _evaluate(a, dl, s, la, lo, t, p, i=i)
        keep = ev.pop("keep")
        return idx[dl[keep]], s[keep], {k: v[keep] for k, v in ev.items()}

    # chunks are independent and numpy releases the GIL: two at a time where there are two cores
    spans = list(pairwise(bounds))
    if _THREADS > 1 and len(spans) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(_THREADS) as ex:
            found = list(ex.map(lambda b: chunk(*b), spans))
    else:
        found = [chunk(c0, c1) for c0, c1 in spans]
    parts = [x for x in found if x is not None]
    del found
    if not parts:
        z = np.zeros(0)
        return (np.zeros(0, np.int64), np.zeros(0, np.int64),
                {"dist": z, "r": z, "dt": z, "interp": np.zeros(0, bool), "lat": z, "lon": z}, np.zeros(0, np.int64))
    d_idx = np.concatenate([x[0] for x in parts])
    s = np.concatenate([x[1] for x in parts]).astype(np.int64)
    o = np.argsort(d_idx * (int(s.max()) + 1) + s)
    ev = {k: np.concatenate([x[2][k] for x in parts]) for k in parts[0][2]}
    return d_idx[o], s[o], ev, o


def correlate(detections: pl.DataFrame, points: pl.DataFrame, statics: pl.DataFrame | None = None,
              params: Params | None = None) -> pl.DataFrame:
    """Match every detection to at most one AIS segment; returns CORRELATION (one row per
    detection, in the detections' order). ``points``: TRACKS (``mmsi, seg_id, ts, lat, lon,
    sog_kn, cog_deg``; noise rows, with a null seg_id, are ignored)."""
    p = params or Params()
    det = detections.select([c.name for c in DETECTIONS if c.name in detections.columns])
    nd = det.height
    out_schema = pl.Schema({c.name: c.dtype for c in CORRELATION})
    if nd == 0:
        return pl.DataFrame(schema=out_schema)
    if "pass_id" not in det.columns or det["pass_id"].null_count():
        dflt = pl.concat_str([pl.col("source").fill_null(""), pl.col("sensor").fill_null(""),
                              pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")], separator="|")
        det = det.with_columns(pass_id=pl.coalesce(pl.col("pass_id"), dflt) if "pass_id" in det.columns else dflt)
    dts_us = det["ts"].dt.epoch("us").to_numpy()
    seg_ok = pl.col("seg_id").is_not_null()
    n_pts, ts_min = points.lazy().filter(seg_ok).select(pl.len(), pl.col("ts").min()).collect().row(0) if points.height else (0, None)
    base_us = int(min(dts_us.min(), ts_min.timestamp() * 1e6 if n_pts else dts_us.min())) - 86_400_000_000
    dt_ = (dts_us - base_us) / 1e6
    dlat, dlon = det["lat"].to_numpy(), det["lon"].to_numpy()

    empty_res = {
        "matched": np.zeros(nd, dtype=bool), "mmsi": None, "seg_id": None, "n_candidates": np.zeros(nd, dtype=np.int32),
    }
    if n_pts == 0:
        return _result(det, empty_res, out_schema)
    a = _prepare_ais(points, base_us)
    d_idx, s, ev, o = _candidate_edges(a, dlat, dlon, dt_, p)
    cost = ev["dist"][o] / ev["r"][o]
    lengths = ais_lengths(statics)
    ais_len = np.full(len(s), np.nan)
    if lengths.height and len(s):
        mm = pl.DataFrame({"mmsi": a.seg_mmsi}).join(lengths, on="mmsi", how="left", maintain_order="left")
        ais_len = mm["ais_length_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()[s]
        dl = det["length_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()[d_idx]
        both = np.isfinite(ais_len) & np.isfinite(dl)
        cost = cost + np.where(both, p.length_weight * np.abs(dl - ais_len) / np.fmax(np.fmax(dl, ais_len), 1.0), 0.0)
    # AIS node = (pass, segment): a segment matches one detection per pass
    pcode = det.select(pl.col("pass_id").rank("dense").cast(pl.Int64) - 1).to_series().to_numpy()
    nseg = len(a.seg_mmsi)
    g = (pl.Series(pcode[d_idx] * nseg + s).rank("dense").cast(pl.Int64) - 1).to_numpy() if len(s) else np.zeros(0, np.int64)
    chosen = _assign(d_idx, g, cost, nd)
    ncand = np.bincount(d_idx, minlength=nd).astype(np.int32)
    res: dict[str, Any] = {"matched": np.zeros(nd, dtype=bool), "n_candidates": ncand}
    cd = d_idx[chosen]
    res["matched"][cd] = True

    def put(v: np.ndarray, fill: Any = np.nan, dtype: Any = np.float64, at: np.ndarray = chosen) -> np.ndarray:
        arr = np.full(nd, fill, dtype=dtype)
        arr[cd] = v[at]
        return arr

    found = o[chosen]  # the chosen edges in ev's order
    res["mmsi_np"] = put(a.seg_mmsi[s], 0, np.int64)
    res["seg_np"] = put(s, -1, np.int64)
    res["match_dist_m"] = put(ev["dist"], at=found)
    res["match_dt_s"] = put(ev["dt"], at=found)
    res["match_radius_m"] = put(ev["r"], at=found)
    res["ais_lat"] = put(ev["lat"], at=found)
    res["ais_lon"] = put(ev["lon"], at=found)
    res["ais_length_m"] = put(ais_len)
    res["interp"] = put(ev["interp"], False, bool, at=found)
    res["seg_ids"] = a.seg_ids
    return _result(det, res, out_schema)


def _result(det: pl.DataFrame, res: dict[str, Any], out_schema: pl.Schema) -> pl.DataFrame:
    nd = det.height
    m = pl.Series("matched", res["matched"])
    cols: dict[str, Any] = {"matched": m, "n_candidates": pl.Series(res["n_candidates"]).cast(pl.Int32)}
    if "mmsi_np" in res:
        cols["mmsi"] = pl.Series(res["mmsi_np"]).set(~m, None) if nd else pl.Series([], dtype=pl.Int64)
        segi = res["seg_np"]
        seg_ids = res["seg_ids"]
        cols["seg_id"] = pl.Series("seg_id", seg_ids.gather(np.where(segi >= 0, segi, 0)) if len(seg_ids) else [None] * nd,
                                   dtype=pl.Utf8).set(~m, None)
        for k in ("match_dist_m", "match_dt_s", "match_radius_m", "ais_lat", "ais_lon", "ais_length_m"):
            cols[k] = pl.Series(k, res[k], nan_to_null=True)
        cols["match_method"] = pl.Series(np.where(res["interp"], "interpolated", "extrapolated")).set(~m, None)
    out = det.with_columns(**cols)
    return out.select([(pl.col(n) if n in out.columns else pl.lit(None)).cast(t).alias(n) for n, t in out_schema.items()])


# -- events ---------------------------------------------------------------------------------------
def _place(lat: np.ndarray, lon: np.ndarray, ts: pl.Series) -> pl.DataFrame:
    from .. import astro, zones

    z = zones.lookup(lat, lon)
    night = astro.is_night(lat, lon, ts.to_numpy()) if len(lat) else np.zeros(0, dtype=bool)
    return z.with_columns(is_night=pl.Series(night, dtype=pl.Boolean))


def _severity(df: pl.DataFrame, p: Params) -> pl.DataFrame:
    ts_ = pl.col("zone_kind").is_in(["territorial_sea", "internal_waters"]).fill_null(False)
    near = (pl.col("dist_to_shore_nm") <= p.near_shore_nm).fill_null(False)
    night = pl.col("is_night").fill_null(False)
    return df.with_columns(
        severity=pl.when(ts_ & night & near).then(pl.lit("high"))
        .when(ts_ | (night & near)).then(pl.lit("medium")).otherwise(pl.lit("low")),
        score=(0.3 + 0.3 * ts_.cast(pl.Float32) + 0.2 * night.cast(pl.Float32) + 0.2 * near.cast(pl.Float32)).cast(pl.Float32),
    )


def _ids(event_type: str, keys: list[str]) -> pl.Series:
    return pl.Series("event_id", [hashlib.sha1(f"{event_type}|{k}".encode()).hexdigest()[:16] for k in keys], dtype=pl.Utf8)


def dark_tracks(dark: pl.DataFrame, p: Params) -> pl.DataFrame:
    """Link unmatched detections of different passes into tracks; returns ``detection index,
    track`` (track = index of the chain's first detection) for chains of at least
    ``min_track_detections`` detections. ``dark``: DETECTIONS rows with pass_id."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = dark.height
    if n < p.min_track_detections:
        return pl.DataFrame(schema={"i": pl.Int64, "track": pl.Int64})
    reach_deg = p.max_track_speed_kn * p.max_link_gap_s / 3600.0 / 60.0  # degrees of latitude
    cell = max(reach_deg, 1e-3)
    t = dark["ts"].dt.epoch("us").to_numpy() / 1e6
    lat, lon = dark["lat"].to_numpy(), dark["lon"].to_numpy()
    pas = dark.select(pl.col("pass_id").rank("dense")).to_series().to_numpy()
    cos = np.maximum(np.cos(np.radians(np.clip(np.abs(lat), 0, 80))), 0.17)
    ci = np.floor(lat / cell).astype(np.int64)
    cj = np.floor(lon * cos.min() / cell).astype(np.int64)  # conservative east-west cell
    base = pl.DataFrame({"i": np.arange(n), "ci": ci, "cj": cj})
    nb = pl.concat([base.with_columns(ci=pl.col("ci") + a, cj=pl.col("cj") + b).rename({"i": "j"})
                    for a in (-1, 0, 1) for b in (-1, 0, 1)])
    pr = base.join(nb, on=["ci", "cj"]).select("i", "j")
    i, j = pr["i"].to_numpy(), pr["j"].to_numpy()
    gap = t[j] - t[i]
    m = (gap > 0) & (gap <= p.max_link_gap_s) & (pas[i] != pas[j])
    i, j, gap = i[m], j[m], gap[m]
    dist = haversine_nm(lat[i], lon[i], lat[j], lon[j])
    speed = dist / gap * 3600.0
    m = speed <= p.max_track_speed_kn
    hd = dark["heading_deg"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    course = bearing_deg(lat[i], lon[i], lat[j], lon[j])

    def off(h: np.ndarray) -> np.ndarray:
        dd = np.abs((h - course + 180.0) % 360.0 - 180.0)
        # headings from imagery are often ambiguous by 180 deg; moving < 0.5 nm says nothing
        dd = np.minimum(dd, 180.0 - dd)
        return np.where(np.isfinite(h) & (dist >= 0.5), dd, 0.0)

    m &= (off(hd[i]) <= p.max_heading_diff_deg) & (off(hd[j]) <= p.max_heading_diff_deg)
    i, j, gap, dist = i[m], j[m], gap[m], dist[m]
    if len(i) == 0:
        return pl.DataFrame(schema={"i": pl.Int64, "track": pl.Int64})
    # one successor per detection and one predecessor: earliest later pass first, then nearest;
    # resolved as a global assignment per connected component
    cost = gap / p.max_link_gap_s + dist / max(p.max_track_speed_kn * p.max_link_gap_s / 3600.0, 1e-9) * 0.5
    chosen = _assign(i, j, cost, n)
    li, lj = i[chosen], j[chosen]
    # a track keeps its speed and course: drop a link whose leg turns more than max_turn_deg
    # from the leg before it, or changes speed by more than max_speed_ratio (legs under
    # 0.5 nm, a boat at rest, have no course; two such legs in a row are consistent)
    succ = np.full(n, -1, dtype=np.int64)
    succ[li] = lj
    pred = np.full(n, -1, dtype=np.int64)
    pred[lj] = li
    h = pred[li]  # the leg h -> li before li -> lj
    has = h >= 0
    hh = np.where(has, h, li)
    d1 = haversine_nm(lat[hh], lon[hh], lat[li], lon[li])
    d2 = haversine_nm(lat[li], lon[li], lat[lj], lon[lj])
    v1 = d1 / np.maximum(t[li] - t[hh], 1.0)
    v2 = d2 / np.maximum(t[lj] - t[li], 1.0)
    turn = np.abs((bearing_deg(lat[li], lon[li], lat[lj], lon[lj]) - bearing_deg(lat[hh], lon[hh], lat[li], lon[li]) + 180.0) % 360.0 - 180.0)
    moving = (d1 >= 0.5) & (d2 >= 0.5)
    resting = (d1 < 0.5) & (d2 < 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(v1, v2) / np.maximum(np.minimum(v1, v2), 1e-12)
    ok = ~has | resting | (moving & (turn <= p.max_turn_deg) & (ratio <= p.max_speed_ratio))
    li, lj = li[ok], lj[ok]
    adj = coo_matrix((np.ones(len(li), dtype=np.int8), (li, lj)), shape=(n, n))
    _, lab = connected_components(adj, directed=False)
    size = np.bincount(lab)
    keep = size[lab] >= p.min_track_detections
    idx = np.nonzero(keep)[0]
    return pl.DataFrame({"i": idx.astype(np.int64), "track": lab[idx].astype(np.int64)})


def events_from(corr: pl.DataFrame, p: Params, preset: str = "coastal") -> pl.DataFrame:
    """dark_target, dark_track and identity_mismatch events from a CORRELATION frame."""
    frames = []
    dark = corr.filter(~pl.col("matched") & (pl.col("confidence").is_null() | (pl.col("confidence") >= p.min_confidence)))
    if dark.height:
        pl_ = _place(dark["lat"].to_numpy(), dark["lon"].to_numpy(), dark["ts"])
        dk = _severity(pl.concat([dark, pl_], how="horizontal"), p)
        ev = dk.with_columns(
            mmsi=pl.lit(None, pl.Int64), start_time=pl.col("ts"), end_time=pl.col("ts"),
            evidence=pl.struct(
                "detection_id", "source", "sensor", "pass_id", "length_m", "heading_deg", "confidence", "is_night",
                pl.col("dist_to_shore_nm").round(2), "n_candidates",
                pl.lit(p.radius_m).alias("radius_m"), pl.lit(p.min_confidence).alias("min_confidence"),
            ),
        )
        out = finish(ev, "dark_target", preset)
        frames.append(out.with_columns(_ids("dark_target", ev["detection_id"].to_list())))
        tr = dark_tracks(dark, p)
        if tr.height:
            dd = dk.with_row_index("i").with_columns(pl.col("i").cast(pl.Int64)).join(tr, on="i").sort("track", "ts")
            g = dd.group_by("track", maintain_order=True).agg(
                start_time=pl.col("ts").first(), end_time=pl.col("ts").last(),
                lat=pl.col("lat").mean(), lon=pl.col("lon").mean(),
                lat0=pl.col("lat").first(), lon0=pl.col("lon").first(),
                lat1=pl.col("lat").last(), lon1=pl.col("lon").last(),
                detection_ids=pl.col("detection_id"), n_detections=pl.len(), n_passes=pl.col("pass_id").n_unique(),
                sensors=pl.col("sensor").unique().sort(),
                lats=pl.col("lat"), lons=pl.col("lon"),
                score=pl.col("score").max(), sev=pl.col("severity"),
                night=pl.col("is_night").any(), min_shore=pl.col("dist_to_shore_nm").min(),
            )
            # length along the chain / duration
            along = []
            for la, lo in zip(g["lats"].to_list(), g["lons"].to_list()):
                along.append(float(haversine_nm(np.array(la[:-1]), np.array(lo[:-1]), np.array(la[1:]), np.array(lo[1:])).sum()))
            dur = (g["end_time"] - g["start_time"]).dt.total_seconds().to_numpy()
            rank = {s: k for k, s in enumerate(schema.SEVERITIES)}
            sev = [max(v, key=lambda s: rank[s]) for v in g["sev"].to_list()]
            g = g.with_columns(
                mean_speed_kn=pl.Series(np.round(np.array(along) / np.maximum(dur, 1.0) * 3600.0, 2)),
                course_deg=pl.Series(np.round(bearing_deg(g["lat0"].to_numpy(), g["lon0"].to_numpy(),
                                                           g["lat1"].to_numpy(), g["lon1"].to_numpy()), 1)),
                severity=pl.Series(sev, dtype=pl.Utf8),
                mmsi=pl.lit(None, pl.Int64),
            ).with_columns(
                evidence=pl.struct(
                    "detection_ids", "n_detections", "n_passes", "sensors", "mean_speed_kn", "course_deg",
                    pl.col("night").alias("at_night"), pl.col("min_shore").round(2).alias("min_dist_to_shore_nm"),
                    pl.lit(p.max_track_speed_kn).alias("max_track_speed_kn"),
                    pl.lit(p.min_track_detections).alias("min_track_detections"),
                )
            )
            out = finish(g.drop("lats", "lons", "sev"), "dark_track", preset)
            frames.append(out.with_columns(_ids("dark_track", [v[0] for v in g["detection_ids"].to_list()])))
    mis = corr.filter(
        pl.col("matched") & pl.col("length_m").is_not_null() & pl.col("ais_length_m").is_not_null()
        & ((pl.col("length_m") - pl.col("ais_length_m")).abs() > p.max_length_ratio * pl.col("ais_length_m"))
    )
    if mis.height:
        ev = mis.with_columns(
            start_time=pl.col("ts"), end_time=pl.col("ts"), severity=pl.lit("medium"),
            score=(0.4 + 0.4 * ((pl.col("length_m") - pl.col("ais_length_m")).abs() / pl.col("ais_length_m")).clip(0, 1)).cast(pl.Float32),
            evidence=pl.struct(
                pl.lit("detected_length").alias("rule"), "detection_id", "source", "sensor",
                pl.col("length_m").alias("detected_length_m"), "ais_length_m",
                pl.col("match_dist_m").round(1), pl.col("match_dt_s").round(1), "seg_id",
                pl.lit(p.max_length_ratio).alias("max_length_ratio"),
            ),
        )
        out = finish(ev.select("mmsi", "start_time", "end_time", "lat", "lon", "severity", "score", "evidence"),
                     "identity_mismatch", preset)
        frames.append(out.with_columns(_ids("identity_mismatch", mis["detection_id"].to_list())))
    frames = [f for f in frames if f.height]
    return pl.concat(frames) if frames else schema.empty("events")


def detect(inputs: Inputs, params: Params) -> pl.DataFrame:
    dets = getattr(inputs, "detections", None)
    if dets is None or dets.height == 0:
        return schema.empty("events")
    corr = correlate(dets, inputs.points, inputs.statics, params)
    return events_from(corr, params, inputs.preset)


__all__ = ["EVENT_TYPES", "PRESETS", "Params", "ais_lengths", "correlate", "dark_tracks", "detect", "events_from", "slerp"]
