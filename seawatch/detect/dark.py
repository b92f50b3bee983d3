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
   vectorised (lowest cost), the others with ``scipy.optimize.linear_sum_assignment``, which
   first maximises the number of matches, then minimises the total cost.

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .. import schema
from ..detections import CORRELATION, DETECTIONS
from ..tracks import bearing_deg, destination, haversine_nm
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
    from ..tracks import _contiguous

    p = points.select("mmsi", "seg_id", "ts", "lat", "lon", "sog_kn", "cog_deg").filter(
        pl.col("seg_id").is_not_null() & pl.col("ts").is_not_null() & pl.col("lat").is_not_null()
    )
    if not _contiguous(p):
        p = p.sort("seg_id", "ts")
    new = (pl.col("seg_id") != pl.col("seg_id").shift(1)).fill_null(True)
    code = p.select((new.cast(pl.Int64).cum_sum() - 1).alias("c")).to_series().to_numpy()
    firsts = p.select(new).to_series().to_numpy()
    t = (p["ts"].dt.epoch("us").to_numpy() - base_us) / 1e6
    key = (code.astype(np.int64) << 31) | np.floor(np.maximum(t, 0)).astype(np.int64)
    return _Ais(
        seg=code, t=t, lat=p["lat"].to_numpy(), lon=p["lon"].to_numpy(),
        sog=p["sog_kn"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        cog=p["cog_deg"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        key=key, seg_ids=p["seg_id"].filter(pl.Series(firsts)), seg_mmsi=p["mmsi"].to_numpy()[firsts],
    )


def _cell_keys(lat: np.ndarray, lon: np.ndarray, tb: np.ndarray, cell: float) -> np.ndarray:
    la = np.floor((lat + 90.0) / cell).astype(np.int64)
    lo = np.floor((lon + 180.0) / cell).astype(np.int64)
    nla = int(np.ceil(180.0 / cell)) + 2
    nlo = int(np.ceil(360.0 / cell)) + 2
    return (tb.astype(np.int64) * nla + la) * nlo + lo


def _ais_cells(a: _Ais, p: Params) -> pl.DataFrame:
    """Unique (cell key, segment code) of every AIS point, plus the bins crossed by long legs."""
    tb = np.floor(a.t / p.bin_s).astype(np.int64)
    keys = [pl.DataFrame({"k": _cell_keys(a.lat, a.lon, tb, p.cell_deg), "s": a.seg}).unique()]
    if len(a.t) > 1:
        same = a.seg[1:] == a.seg[:-1]
        dt = a.t[1:] - a.t[:-1]
        nb = tb[1:] - tb[:-1]
        long = np.nonzero(same & (nb > 1) & (dt <= p.max_interp_gap_s))[0]
        if len(long):
            reps = (nb[long] - 1).astype(np.int64)
            leg = np.repeat(long, reps)
            off = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            b = tb[leg] + 1 + off
            f = np.clip(((b + 0.5) * p.bin_s - a.t[leg]) / dt[leg], 0.0, 1.0)
            la, lo = slerp(a.lat[leg], a.lon[leg], a.lat[leg + 1], a.lon[leg + 1], f)
            keys.append(pl.DataFrame({"k": _cell_keys(la, lo, b, p.cell_deg), "s": a.seg[leg]}).unique())
    return pl.concat(keys).unique() if len(keys) > 1 else keys[0]


def _det_cells(lat: np.ndarray, lon: np.ndarray, t: np.ndarray, p: Params) -> pl.DataFrame:
    """Each detection's 3 time bins x the 2 x 2 cells nearest to it: (k, d) rows."""
    n = len(lat)
    c = p.cell_deg
    fla = (lat + 90.0) / c
    flo = (lon + 180.0) / c
    dla = np.where(fla - np.floor(fla) < 0.5, -1, 1) * c
    dlo = np.where(flo - np.floor(flo) < 0.5, -1, 1) * c
    tb = np.floor(t / p.bin_s).astype(np.int64)
    ks = []
    for db in (-1, 0, 1):
        for sa in (0, 1):
            for so in (0, 1):
                ks.append(_cell_keys(lat + sa * dla, lon + so * dlo, tb + db, c))
    return pl.DataFrame({"k": np.concatenate(ks), "d": np.tile(np.arange(n, dtype=np.int64), 12)})


def _evaluate(a: _Ais, d_idx: np.ndarray, s: np.ndarray, dlat: np.ndarray, dlon: np.ndarray, dt_: np.ndarray,
              p: Params) -> dict[str, np.ndarray]:
    """AIS position of segment ``s`` at each pair's detection time, the distance and radius."""
    n = len(a.t)
    t = dt_[d_idx]
    q = (s.astype(np.int64) << 31) | np.floor(np.maximum(t, 0)).astype(np.int64)
    i = np.searchsorted(a.key, q, side="right") - 1
    ic = np.clip(i, 0, max(n - 1, 0))
    j = np.clip(i + 1, 0, max(n - 1, 0))
    has_p = (i >= 0) & (a.seg[ic] == s)
    has_n = (i + 1 < n) & (a.seg[j] == s)
    t0, t1 = a.t[ic], a.t[j]
    gap = t1 - t0
    interp = has_p & has_n & (gap <= p.max_interp_gap_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.clip(np.where(gap > 0, (t - t0) / np.where(gap > 0, gap, 1.0), 0.0), 0.0, 1.0)
    lat_i, lon_i = slerp(a.lat[ic], a.lon[ic], a.lat[j], a.lon[j], f)
    leg_kn = haversine_nm(a.lat[ic], a.lon[ic], a.lat[j], a.lon[j]) / np.maximum(gap, 1.0) * 3600.0
    # dead reckoning from the nearer real report
    use_prev = has_p & (~has_n | ((t - t0) <= (t1 - t)))
    k = np.where(use_prev, ic, j)
    dte = t - a.t[k]  # > 0 forward from prev, < 0 backward from next
    sog, cog = a.sog[k], a.cog[k]
    known = np.isfinite(sog) & np.isfinite(cog)
    brg = np.where(dte >= 0, cog, cog + 180.0)
    lat_e, lon_e = destination(a.lat[k], a.lon[k], np.where(known, brg, 0.0), np.where(known, sog * np.abs(dte) / 3600.0, 0.0))
    ok = interp | ((has_p | has_n) & (np.abs(dte) <= p.max_extrapolate_s))
    lat_a = np.where(interp, lat_i, lat_e)
    lon_a = np.where(interp, lon_i, lon_e)
    dt_near = np.where(interp, np.minimum(t - t0, t1 - t), np.abs(dte))
    sogs = np.fmax(np.where(has_p, a.sog[ic], np.nan), np.where(has_n, a.sog[j], np.nan))
    speed = np.where(interp, np.fmax(sogs, leg_kn), sog)
    speed = np.where(np.isfinite(speed), speed, p.default_speed_kn)
    growth = np.where(interp, p.interp_growth, p.extrap_growth)
    r = np.minimum(p.radius_m + growth * speed * KN_MS * np.maximum(dt_near, 0.0), p.max_radius_m)
    dist = haversine_nm(dlat[d_idx], dlon[d_idx], lat_a, lon_a) * M_PER_NM
    keep = ok & (dist <= r)
    return {"keep": keep, "dist": dist, "r": r, "dt": np.where(interp, np.where(t - t0 <= t1 - t, t - t0, t - t1), dte),
            "interp": interp, "lat": lat_a, "lon": lon_a}


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
    nd = np.bincount(lab[np.unique(d)], minlength=lab.max() + 1)
    ng = np.bincount(lab[np.unique(g) + n_det], minlength=lab.max() + 1)
    simple = (nd[comp] == 1) | (ng[comp] == 1)
    chosen = []
    e_s = np.nonzero(simple)[0]
    if len(e_s):
        o = e_s[np.lexsort((cost[e_s], comp[e_s]))]
        first = np.ones(len(o), dtype=bool)
        first[1:] = comp[o][1:] != comp[o][:-1]
        chosen.append(o[first])
    e_h = np.nonzero(~simple)[0]
    if len(e_h):
        o = e_h[np.argsort(comp[e_h], kind="stable")]
        cs = comp[o]
        cuts = np.nonzero(np.diff(cs))[0] + 1
        for grp in np.split(o, cuts):
            ud, di = np.unique(d[grp], return_inverse=True)
            ug, gi = np.unique(g[grp], return_inverse=True)
            m = np.full((len(ud), len(ug)), _BIG)
            m[di, gi] = cost[grp]
            eid = np.full((len(ud), len(ug)), -1, dtype=np.int64)
            eid[di, gi] = grp
            r, c = linear_sum_assignment(m)
            e = eid[r, c]
            chosen.append(e[e >= 0])
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


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
    pts = points.filter(pl.col("seg_id").is_not_null()) if points.height else points
    base_us = int(min(dts_us.min(), pts["ts"].min().timestamp() * 1e6 if pts.height else dts_us.min())) - 86_400_000_000
    dt_ = (dts_us - base_us) / 1e6
    dlat, dlon = det["lat"].to_numpy(), det["lon"].to_numpy()

    empty_res = {
        "matched": np.zeros(nd, dtype=bool), "mmsi": None, "seg_id": None, "n_candidates": np.zeros(nd, dtype=np.int32),
    }
    if pts.height == 0:
        return _result(det, empty_res, out_schema)
    a = _prepare_ais(pts, base_us)
    del pts
    cells = _ais_cells(a, p)
    pairs = _det_cells(dlat, dlon, dt_, p).join(cells, on="k", how="inner").select("d", "s").unique()
    del cells
    d_idx = pairs["d"].to_numpy()
    s = pairs["s"].to_numpy()
    del pairs
    ev = _evaluate(a, d_idx, s, dlat, dlon, dt_, p)
    keep = ev["keep"]
    d_idx, s = d_idx[keep], s[keep]
    ev = {k: v[keep] for k, v in ev.items() if k != "keep"}
    cost = ev["dist"] / ev["r"]
    lengths = ais_lengths(statics)
    ais_len = np.full(len(s), np.nan)
    if lengths.height and len(s):
        mm = pl.DataFrame({"mmsi": a.seg_mmsi[s]}).join(lengths, on="mmsi", how="left", maintain_order="left")
        ais_len = mm["ais_length_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        dl = det["length_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()[d_idx]
        both = np.isfinite(ais_len) & np.isfinite(dl)
        cost = cost + np.where(both, p.length_weight * np.abs(dl - ais_len) / np.fmax(np.fmax(dl, ais_len), 1.0), 0.0)
    # AIS node = (pass, segment): a segment matches one detection per pass
    pcode = det.select(pl.col("pass_id").rank("dense").cast(pl.Int64) - 1).to_series().to_numpy()
    gkey = pl.DataFrame({"p": pcode[d_idx], "s": s})
    g = gkey.select(pl.struct("p", "s").rank("dense").cast(pl.Int64) - 1).to_series().to_numpy() if len(s) else np.zeros(0, np.int64)
    chosen = _assign(d_idx, g, cost, nd)
    ncand = np.bincount(d_idx, minlength=nd).astype(np.int32)
    res: dict[str, Any] = {"matched": np.zeros(nd, dtype=bool), "n_candidates": ncand}
    cd = d_idx[chosen]
    res["matched"][cd] = True

    def put(v: np.ndarray, fill: Any = np.nan, dtype: Any = np.float64) -> np.ndarray:
        arr = np.full(nd, fill, dtype=dtype)
        arr[cd] = v[chosen]
        return arr

    res["mmsi_np"] = put(a.seg_mmsi[s], 0, np.int64)
    res["seg_np"] = put(s, -1, np.int64)
    res["match_dist_m"] = put(ev["dist"])
    res["match_dt_s"] = put(ev["dt"])
    res["match_radius_m"] = put(ev["r"])
    res["ais_lat"] = put(ev["lat"])
    res["ais_lon"] = put(ev["lon"])
    res["ais_length_m"] = put(ais_len)
    res["interp"] = put(ev["interp"], False, bool)
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
