"""Encounters: two vessels close together, slow, away from ports, for hours (transshipment,
bunkering, crew or catch transfers, smuggling).

Definition (Global Fishing Watch, Miller et al. 2018, https://doi.org/10.3389/fmars.2018.00240,
and https://github.com/GlobalFishingWatch/encounters_pipeline): two vessels "within 500 meters
of one another for a duration of at least 2 hours, traveling at a median speed of less than 2
knots, located at least 10 kilometers from a coastal anchorage"; encounters of one pair less
than 4 hours apart are merged into one (``min_hours_between_encounters=4``). The ``skylight``
preset uses Skylight's "Standard Rendezvous": "two vessels, both on AIS, within 250 meters of
each other for more than 30 minutes" (Skylight help, *Event icons*,
https://skylight.helpjuice.com/en_US/event-icons); what Skylight does not state (speed, ports,
merging) is the coastal value.

Method (columnar, as GFW's pipeline but as joins instead of per-vessel loops):

1. **resample** every segment onto a common time grid of ``step_s`` (10 min, aligned to the
   epoch; GFW ``RESAMPLE_INCREMENT_MINUTES = 10``), interpolating positions linearly between the
   two reports around each grid time when they are at most ``max_interp_gap_h`` apart (1 h; GFW
   ``MAX_GAP_HOURS = 1``). No extrapolation beyond a segment's first and last report. A grid
   point's speed is the implied speed from the segment's previous grid point (as GFW, which takes
   the median of implied speeds between resampled records).
2. **away from ports**: grid points within ``min_port_km`` of a port or anchorage are dropped
   (two tugs alongside in port are not an encounter).
3. **space-time cells**: each grid point falls in a cell of a latitude/longitude grid whose cells
   are at least ``max_distance_m`` wide at that latitude (longitude steps widen towards the
   poles and divide 360 exactly, so the antimeridian is handled); each point is joined with the
   points of the same grid time in its own and the 8 neighbouring cells (polars hash join), so
   no pair within the distance is missed, whatever side of a cell edge it is on.
4. **close steps**: pairs of *different MMSI* (two segments of one MMSI never meet themselves)
   within ``max_distance_m`` (great-circle), one row per pair and time (the closest segments).
5. **runs**: consecutive close steps of one pair; runs shorter than ``min_duration_h`` are
   dropped (as GFW's raw encounters), and runs of one pair less than ``merge_gap_h`` apart are
   merged. An encounter then needs the median speed of *each* vessel over its close steps below
   ``max_median_speed_kn`` (two ships in convoy at 12 kn are not an encounter).

One event per pair: ``mmsi`` is the smaller MMSI, ``other_mmsi`` the larger (the risk score
credits both). ``lat``/``lon`` is the mean midpoint of the close steps; evidence holds the
duration, median and minimum distance, both median speeds, the nearest port, the share of close
steps at night and the thresholds.

Severity and score (seawatch's choice, explainable): ``medium``; ``high`` when most of the
close steps were at night (sun below the horizon: meetings in the dark are what the watch is
for). Score 0.5 at ``min_duration_h`` rising linearly to 1.0 six hours later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import schema
from ..errors import SeawatchError
from ..tracks import _first_after, _ranges, haversine_nm
from .base import Inputs, differing_rows, finish
from .port_visit import port_distance

__all__ = ["EVENT_TYPES", "PRESETS", "Params", "close_steps", "detect", "events_from_steps", "grid_points",
           "grown_grid_points", "pair_rows", "resample"]

EVENT_TYPES = ("encounter",)

_KM_PER_DEG = 6371.0088 * np.pi / 180.0  # mean Earth radius (IUGG), km per degree of latitude
_M_PER_NM = 1852.0
_SCORE_RAMP_H = 6.0


@dataclass(frozen=True)
class Params:
    """Encounter thresholds.

    - ``max_distance_m`` = 500: GFW ("within 500 meters"); 250 in ``skylight`` (Standard
      Rendezvous: "within 250 meters of each other").
    - ``min_duration_h`` = 2.0: GFW ("for a duration of at least 2 hours"); 0.5 in ``skylight``
      ("for more than 30 minutes").
    - ``max_median_speed_kn`` = 2.0: GFW ("traveling at a median speed of less than 2 knots"),
      required of each vessel.
    - ``min_port_km`` = 10.0: GFW ("at least 10 kilometers (5.4 nautical miles) from a coastal
      anchorage").
    - ``merge_gap_h`` = 4.0: GFW's merge step (``min_hours_between_encounters`` default 4).
    - ``step_s`` = 600: GFW's resampling grid (``RESAMPLE_INCREMENT_MINUTES = 10``).
    - ``max_interp_gap_h`` = 1.0: GFW's ``MAX_GAP_HOURS = 1``: no position is interpolated between
      reports further apart.
    - ``night_high_share`` = 0.5: severity ``high`` when at least this share of the close steps
      is at night (seawatch's choice).
    """

    max_distance_m: float = 500.0
    min_duration_h: float = 2.0
    max_median_speed_kn: float = 2.0
    min_port_km: float = 10.0
    merge_gap_h: float = 4.0
    step_s: float = 600.0
    max_interp_gap_h: float = 1.0
    night_high_share: float = 0.5

    def __post_init__(self) -> None:
        for name in ("max_distance_m", "max_median_speed_kn", "step_s", "max_interp_gap_h"):
            if not getattr(self, name) > 0:
                raise SeawatchError(f"encounter.Params.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("min_duration_h", "min_port_km", "merge_gap_h"):
            if not getattr(self, name) >= 0:
                raise SeawatchError(f"encounter.Params.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.max_distance_m > 50_000:
            raise SeawatchError(f"encounter.Params.max_distance_m must be at most 50 km, got {self.max_distance_m!r}")
        if not 0 <= self.night_high_share <= 1:
            raise SeawatchError(f"encounter.Params.night_high_share must lie in [0, 1], got {self.night_high_share!r}")


PRESETS = {
    "coastal": Params(),
    "gfw": Params(),
    "skylight": Params(max_distance_m=250.0, min_duration_h=0.5),
}

_GRID_SCHEMA = {
    "mmsi": pl.Int64, "seg": pl.Int64, "k": pl.Int64,
    "lat": pl.Float64, "lon": pl.Float64, "speed_kn": pl.Float64,
}


# -- 1. resampling ------------------------------------------------------------------------------------
def resample(points: pl.DataFrame, step_s: float = 600.0, max_interp_gap_h: float = 1.0) -> pl.DataFrame:
    """Track points (sorted by ``seg_id``, ``ts``, as ``Inputs.points``) on a common time grid.

    Returns ``mmsi, seg`` (segment number), ``k`` (grid time = ``k * step_s`` seconds since the
    epoch), ``lat, lon`` (linear interpolation between the reports around the grid time, when at
    most ``max_interp_gap_h`` apart) and ``speed_kn`` (implied speed from the segment's previous
    grid point; null at a segment's first grid point and after a gap). Vectorised numpy.
    """
    n = points.height
    if n == 0:
        return pl.DataFrame(schema=_GRID_SCHEMA)
    seg_id = points["seg_id"]
    seg = seg_id.rle_id().cast(pl.Int64).to_numpy()  # segment number: runs of one seg_id, from 0
    t = points["ts"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
    lat = points["lat"].to_numpy().astype(np.float64)
    lon = points["lon"].to_numpy().astype(np.float64)
    mmsi = points["mmsi"].to_numpy().astype(np.int64)

    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    ends = np.r_[starts[1:], n] - 1
    k0 = np.ceil(t[starts] / step_s).astype(np.int64)
    k1 = np.floor(t[ends] / step_s).astype(np.int64)
    cnt = np.maximum(k1 - k0 + 1, 0)
    g = int(cnt.sum())
    if g == 0:
        return pl.DataFrame(schema=_GRID_SCHEMA)
    gs = np.repeat(np.arange(len(starts)), cnt)  # segment number of each grid point
    k = _ranges(k0, cnt)
    tg = k.astype(np.float64) * step_s

    # the report at or before each grid time, within its segment (one searchsorted on a composite key)
    t_min = t.min()
    span = t.max() - t_min + 2.0 * step_s + 1.0
    key = seg.astype(np.float64) * span + (t - t_min)
    gkey = gs.astype(np.float64) * span + (tg - t_min)
    ip = np.searchsorted(key, gkey, side="right") - 1
    ip = np.clip(ip, starts[gs], ends[gs])
    inx = np.minimum(ip + 1, ends[gs])
    gap = t[inx] - t[ip]
    exact = np.abs(tg - t[ip]) < 1e-3
    ok = exact | ((gap > 0) & (gap <= max_interp_gap_h * 3600.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        mix = np.where((gap > 0) & ~exact, np.clip((tg - t[ip]) / gap, 0.0, 1.0), 0.0)
    glat = lat[ip] + mix * (lat[inx] - lat[ip])
    dlon = (lon[inx] - lon[ip] + 540.0) % 360.0 - 180.0
    glon = (lon[ip] + mix * dlon + 540.0) % 360.0 - 180.0

    # implied speed from the previous grid point of the same segment
    speed = np.full(g, np.nan)
    if g > 1:
        prev_ok = (gs[1:] == gs[:-1]) & (k[1:] == k[:-1] + 1) & ok[1:] & ok[:-1]
        d = haversine_nm(glat[:-1], glon[:-1], glat[1:], glon[1:])
        speed[1:] = np.where(prev_ok, d * 3600.0 / step_s, np.nan)
    return pl.DataFrame(
        {
            "mmsi": mmsi[starts][gs][ok],
            "seg": gs[ok].astype(np.int64),
            "k": k[ok],
            "lat": glat[ok],
            "lon": glon[ok],
            "speed_kn": pl.Series(speed[ok]).fill_nan(None),
        },
        schema=_GRID_SCHEMA,
    )


# -- 3. space-time cells --------------------------------------------------------------------------------
def _n_cols(row: np.ndarray, dlat: float) -> np.ndarray:
    """Longitude cells per latitude row, each at least as wide as the largest longitude
    difference two points within the distance threshold can have in this row or next to it.

    From the haversine formula, two points within great-circle distance ``d`` differ in
    longitude by at most ``2 asin(sin(d/2) / cos(phi))``, ``phi`` the larger of their absolute
    latitudes; ``phi`` is taken at the row's poleward edge plus one row (a neighbour may sit in
    the next row), with a 1% margin, and the count is whole so cells tile the parallel exactly
    (the antimeridian is an ordinary cell edge). Near the poles a row is one cell."""
    edge = (np.maximum(np.abs(row), np.abs(row + 1)) + 1).astype(np.float64) * dlat
    cos_phi = np.cos(np.radians(np.minimum(edge, 90.0)))
    x = np.sin(np.radians(dlat) / 2.0) / np.maximum(cos_phi, 1e-300)
    width = np.where(x < 1.0, 1.01 * 2.0 * np.degrees(np.arcsin(np.minimum(x, 1.0))), 360.0)
    return np.maximum(np.floor(360.0 / width), 1.0).astype(np.int64)


def _col_of(lon: np.ndarray, n_cols: np.ndarray) -> np.ndarray:
    c = np.floor((lon + 180.0) / (360.0 / n_cols)).astype(np.int64)
    return np.mod(c, n_cols)


def close_steps(grid: pl.DataFrame, max_distance_m: float) -> pl.DataFrame:
    """Pairs of grid points of different MMSI at the same grid time within ``max_distance_m``.

    Returns ``i, j`` (row numbers in ``grid``, ``mmsi[i] < mmsi[j]``) and ``dist_m``. Each pair
    is found once: point ``i`` in its own cell is joined with point ``j`` listed in its own and
    its 8 neighbouring cells.
    """
    empty = pl.DataFrame(schema={"i": pl.Int64, "j": pl.Int64, "dist_m": pl.Float64})
    if grid.height < 2:
        return empty
    lat = grid["lat"].to_numpy()
    lon = grid["lon"].to_numpy()
    k = grid["k"].to_numpy()
    mmsi = grid["mmsi"].to_numpy()
    dlat = max_distance_m / 1000.0 / _KM_PER_DEG
    row = np.floor(lat / dlat).astype(np.int64)
    own = pl.DataFrame({"i": np.arange(len(lat), dtype=np.int64), "k": k, "row": row,
                        "col": _col_of(lon, _n_cols(row, dlat))})
    parts = []
    for dr in (-1, 0, 1):
        r = row + dr
        nc = _n_cols(r, dlat)
        c = _col_of(lon, nc)
        for dc in (-1, 0, 1):
            parts.append(pl.DataFrame({"j": own["i"], "k": k, "row": r, "col": np.mod(c + dc, nc)}))
    nbr = pl.concat(parts).unique()  # near the poles a row may have fewer than 3 cells
    pairs = own.join(nbr, on=["k", "row", "col"], how="inner").select("i", "j")
    i = pairs["i"].to_numpy()
    j = pairs["j"].to_numpy()
    keep = mmsi[i] < mmsi[j]
    i, j = i[keep], j[keep]
    dist = haversine_nm(lat[i], lon[i], lat[j], lon[j]) * _M_PER_NM
    near = dist <= max_distance_m
    return pl.DataFrame({"i": i[near], "j": j[near], "dist_m": dist[near]}, schema=empty.schema)


# -- the detector -------------------------------------------------------------------------------------
def detect(inputs: Inputs, params: Params | None = None, grid: pl.DataFrame | None = None,
           rows: pl.DataFrame | None = None) -> pl.DataFrame:
    """Encounters (schema.EVENTS rows), one per pair of vessels and merged meeting.
    ``params`` defaults to the preset named by ``inputs.preset``. ``grid``: the
    :func:`grid_points` of every vessel in ``inputs``, if already computed (they are per vessel:
    any union of whole vessels' grid points will do). ``rows``: their close pairs
    (:func:`close_rows`), if already found."""
    p = params if params is not None else PRESETS[inputs.preset]
    if rows is None:
        grid = grid_points(inputs, p) if grid is None else grid
        if grid.height < 2 or grid["mmsi"].n_unique() < 2:
            return schema.empty("events")
        # 3-4. close steps: one row per pair and grid time (the closest pair of segments)
        rows = close_rows(grid, p)
    return events_from_steps(rows, p, inputs.preset)


#: the columns that identify a grid point's content (``seg`` is a running number of one resample
#: call, not stable between calls)
_POINT_KEY = ["mmsi", "k", "lat", "lon", "speed_kn", "port_km"]


def changed_points(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """``mmsi, k`` of the grid points that differ between ``old`` and ``new``
    (:func:`grid_points` of the same vessels before and after their rows changed): added,
    removed or moved. The input of :func:`close_rows`."""
    cols = [c for c in _POINT_KEY if c in old.columns and c in new.columns]
    return differing_rows(old.select(cols), new.select(cols), cols).select("mmsi", "k").unique()


def close_rows(grid: pl.DataFrame, p: Params, *, carried: pl.DataFrame | None = None,
               changed: pl.DataFrame | None = None) -> pl.DataFrame:
    """The :func:`pair_rows` of every close pair of points of ``grid``.

    With ``carried`` (what this returned for an earlier grid) and ``changed`` (``mmsi, k`` of
    the grid points added, removed or changed since: :func:`changed_points`), only the pairs
    that touch a changed (vessel, grid time) are searched again, among the points at those grid
    times (pairs form at one grid time only); the other carried rows stand. The result has the
    same rows as a search over the whole grid (the live watch relies on it; tests/test_live.py
    compares pass by pass)."""
    if carried is None or changed is None:
        return pair_rows(grid, close_steps(grid, p.max_distance_m))
    if changed.height == 0:
        return carried
    keys = changed.select(pl.col("mmsi").cast(pl.Int64), pl.col("k").cast(pl.Int64))
    kept = carried.join(keys, on=["mmsi", "k"], how="anti").join(
        keys.rename({"mmsi": "other_mmsi"}), on=["other_mmsi", "k"], how="anti")
    sub = grid.join(keys.select("k").unique(), on="k", how="semi")
    pairs = close_steps(sub, p.max_distance_m)
    if pairs.height:
        touched = sub.select("mmsi", "k").with_row_index("r").join(keys, on=["mmsi", "k"], how="semi")["r"].to_numpy()
        hit = np.zeros(sub.height, dtype=bool)
        hit[touched] = True
        pairs = pairs.filter(pl.Series(hit[pairs["i"].to_numpy()] | hit[pairs["j"].to_numpy()]))
    return pl.concat([kept, pair_rows(sub, pairs)])


def grid_points(inputs: Inputs, p: Params, points: pl.DataFrame | None = None) -> pl.DataFrame:
    """Steps 1-2, per vessel: the segments resampled (:func:`resample`) with ``port_km``, the
    grid points within ``min_port_km`` of a port or anchorage dropped. ``points``: these track
    points (as ``inputs.points``: contiguous per segment, in time) instead of ``inputs.points``."""
    grid = resample(inputs.points if points is None else points, p.step_s, p.max_interp_gap_h)
    if grid.height == 0:
        return grid.with_columns(port_km=pl.lit(None, pl.Float64))
    # 2. away from ports: drop grid points within min_port_km of a port or anchorage
    near = port_distance(inputs, grid["lat"], grid["lon"], max(50.0, p.min_port_km))
    grid = grid.with_columns(port_km=near["port_dist_km"].cast(pl.Float64))
    if p.min_port_km > 0:
        grid = grid.filter(pl.col("port_km").is_null() | (pl.col("port_km") >= p.min_port_km))
    return grid


def grown_grid_points(inputs: Inputs, p: Params, first: np.ndarray, n_old: np.ndarray, n: np.ndarray) -> pl.DataFrame:
    """The grid points :func:`grid_points` gains when segments grow at their end (new points
    after their last, as :func:`seawatch.tracks.extend` adds them): segment ``i``'s points are
    rows ``first[i]`` to ``first[i] + n[i] - 1`` of ``inputs.points``, the first ``n_old[i]`` of
    them there before. The grid points up to the old last point's grid time are unchanged (each
    is placed between the reports around it, and the last one's time was at or after it); the
    later ones are resampled from the last report at or before that grid time (where their
    positions and speeds are decided), only the grid times after it kept. With the unchanged
    points, equal to grid_points over the grown segments (``seg`` numbers aside)."""
    first, n_old, n = (np.asarray(a, dtype=np.int64) for a in (first, n_old, n))
    pts = inputs.points
    t_us = pts["ts"].dt.epoch("us").to_numpy() if len(first) else np.zeros(0, np.int64)
    sec = lambda rows: t_us[rows].astype(np.float64) / 1e6  # noqa: E731 - as resample reads times
    k_old = np.floor(sec(first + n_old - 1) / p.step_s).astype(np.int64)
    k_new = np.floor(sec(first + n - 1) / p.step_s).astype(np.int64)
    more = k_new > k_old  # segments with grid times after the old last one
    first, n_old, n, k_old = first[more], n_old[more], n[more], k_old[more]
    # per segment, the first old row after the old last grid time (a binary search on each)
    lo = _first_after(sec, first, first + n_old, k_old.astype(np.float64) * p.step_s)
    p0 = np.maximum(lo - 1, first)  # the last report at or before it (else the segment's first)
    grid = grid_points(inputs, p, points=pts[_ranges(p0, first + n - p0)])
    # resample numbers the segments 0, 1, ... in row order: segment i is range i
    return grid.filter(pl.col("k") > pl.Series(k_old).gather(grid["seg"]))


_STEP_SCHEMA = {
    "mmsi": pl.Int64, "other_mmsi": pl.Int64, "k": pl.Int64, "dist_m": pl.Float64, "lat": pl.Float64,
    "lon": pl.Float64, "speed_kn": pl.Float64, "other_speed_kn": pl.Float64, "port_km": pl.Float64,
}


def pair_rows(grid: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """One row per close pair of grid points (``pairs`` from :func:`close_steps`): the pair,
    grid time, distance, midpoint, both speeds and the nearer port distance. Not yet reduced
    to one row per pair and time (a vessel may have two segments there)."""
    if pairs.height == 0:
        return pl.DataFrame(schema=_STEP_SCHEMA)
    a = grid[pairs["i"].to_numpy()]
    b = grid[pairs["j"].to_numpy()]
    mid_lat = (a["lat"].to_numpy() + b["lat"].to_numpy()) / 2.0
    dlon = (b["lon"].to_numpy() - a["lon"].to_numpy() + 540.0) % 360.0 - 180.0
    mid_lon = (a["lon"].to_numpy() + dlon / 2.0 + 540.0) % 360.0 - 180.0
    return pl.DataFrame(
        {
            "mmsi": a["mmsi"], "other_mmsi": b["mmsi"], "k": a["k"],
            "dist_m": pairs["dist_m"],
            "lat": mid_lat, "lon": mid_lon,
            "speed_kn": a["speed_kn"], "other_speed_kn": b["speed_kn"],
            "port_km": pl.Series(np.fmin(a["port_km"].fill_null(np.nan).to_numpy(),
                                         b["port_km"].fill_null(np.nan).to_numpy())).fill_nan(None),
        },
        schema=_STEP_SCHEMA,
    )


def events_from_steps(rows: pl.DataFrame, p: Params, preset: str) -> pl.DataFrame:
    """Steps 4-6 over the :func:`pair_rows` of some pairs (every row of each pair it holds):
    the closest row per pair and time, runs, merged meetings, the speed rule, events."""
    from .. import astro

    if rows.height == 0:
        return schema.empty("events")
    steps = (
        rows.sort("mmsi", "other_mmsi", "k", "dist_m")
        .unique(subset=["mmsi", "other_mmsi", "k"], keep="first", maintain_order=True)
    )
    ts_us = steps["k"].to_numpy() * round(p.step_s * 1e6)
    night = astro.is_night(steps["lat"].to_numpy(), steps["lon"].to_numpy(), ts_us.astype("datetime64[us]"))
    steps = steps.with_columns(night=pl.Series(np.asarray(night, dtype=bool)))

    # 5. runs of consecutive close steps of a pair, long enough; then merge runs < merge_gap_h apart
    pair = ["mmsi", "other_mmsi"]
    steps = steps.with_columns(
        run=((pl.col("k") - pl.col("k").shift(1).over(pair)) != 1).fill_null(True).cast(pl.Int64).cum_sum()
    )
    min_steps = p.min_duration_h * 3600.0 / p.step_s - 1e-9
    spans = (
        steps.group_by("run")
        .agg(pl.col("mmsi").first(), pl.col("other_mmsi").first(),
             k0=pl.col("k").min(), k1=pl.col("k").max())
        .filter((pl.col("k1") - pl.col("k0")) >= min_steps)
        .sort("mmsi", "other_mmsi", "k0")
        .with_columns(
            meeting=(
                ((pl.col("k0") - pl.col("k1").shift(1).over(pair)) * p.step_s >= p.merge_gap_h * 3600.0)
                .fill_null(True)
                .cast(pl.Int64)
                .cum_sum()
            )
        )
    )
    if spans.height == 0:
        return schema.empty("events")
    lon_ref = pl.col("lon").first()
    ev = (
        steps.join(spans.select("run", "meeting"), on="run", how="inner")
        .group_by("meeting")
        .agg(
            pl.col("mmsi").first(),
            pl.col("other_mmsi").first(),
            k0=pl.col("k").min(),
            k1=pl.col("k").max(),
            n_steps=pl.len(),
            median_distance_m=pl.col("dist_m").median(),
            min_distance_m=pl.col("dist_m").min(),
            median_speed_kn=pl.col("speed_kn").median(),
            other_median_speed_kn=pl.col("other_speed_kn").median(),
            nearest_port_km=pl.col("port_km").min(),
            night_share=pl.col("night").mean(),
            lat=pl.col("lat").mean(),
            lon=(lon_ref + ((pl.col("lon") - lon_ref + 540.0) % 360.0 - 180.0).mean() + 540.0) % 360.0 - 180.0,
        )
        .filter(
            (pl.col("median_speed_kn") < p.max_median_speed_kn)
            & (pl.col("other_median_speed_kn") < p.max_median_speed_kn)
        )
        .sort("mmsi", "other_mmsi", "k0")
    )
    if ev.height == 0:
        return schema.empty("events")
    step_us = round(p.step_s * 1e6)
    as_ts = lambda c: (pl.col(c) * step_us).cast(pl.Datetime("us", "UTC"))
    dur = (pl.col("k1") - pl.col("k0")) * p.step_s / 3600.0
    out = ev.select(
        "mmsi",
        "other_mmsi",
        start_time=as_ts("k0"),
        end_time=as_ts("k1"),
        lat="lat",
        lon="lon",
        severity=pl.when(pl.col("night_share") >= p.night_high_share)
        .then(pl.lit("high"))
        .otherwise(pl.lit("medium")),
        score=(0.5 + 0.5 * (dur - p.min_duration_h) / _SCORE_RAMP_H).clip(0.0, 1.0).cast(pl.Float32),
        evidence=pl.struct(
            duration_h=dur.round(3),
            close_steps=pl.col("n_steps"),
            median_distance_m=pl.col("median_distance_m").round(1),
            min_distance_m=pl.col("min_distance_m").round(1),
            median_speed_kn=pl.col("median_speed_kn").round(3),
            other_median_speed_kn=pl.col("other_median_speed_kn").round(3),
            nearest_port_km=pl.col("nearest_port_km").round(2),
            night_share=pl.col("night_share").round(3),
            max_distance_m=pl.lit(p.max_distance_m),
            min_duration_h=pl.lit(p.min_duration_h),
            max_median_speed_kn=pl.lit(p.max_median_speed_kn),
            min_port_km=pl.lit(p.min_port_km),
            merge_gap_h=pl.lit(p.merge_gap_h),
            step_s=pl.lit(p.step_s),
            max_interp_gap_h=pl.lit(p.max_interp_gap_h),
        ),
    )
    return finish(out, "encounter", preset)
