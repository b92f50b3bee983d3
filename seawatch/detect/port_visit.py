"""Port visits: Global Fishing Watch's port state machine, per segment, without a per-point loop.

A vessel is *in port* from the first point within ``entry_km`` of a port or anchorage until the
first point beyond ``exit_km`` (between the two it keeps its previous state: hysteresis, so a
ship riding at anchor 3.5 km out does not enter and leave a dozen times). Inside a port it is
*stopped* from a report at or below ``stop_kn`` until one at or above ``start_kn`` (hysteresis
again). This is GFW's anchorages pipeline (``pipe_anchorages/transforms/create_in_out_events.py``
in https://github.com/GlobalFishingWatch/anchorages_pipeline: ``PORT_ENTRY`` / ``PORT_STOP_BEGIN``
/ ``PORT_STOP_END`` / ``PORT_GAP`` / ``PORT_EXIT``), with its published thresholds: "port entry
3 km, exit 4 km, stop < 0.2 kn, start > 0.5 kn", and a silence of 4 h inside a port counting as
a *gap* (``min_gap_minutes=240``).

One event per visit per segment: ``start_time`` is the entry (the first point in port),
``end_time`` the exit (the first point back beyond ``exit_km``); a segment whose last point is
still in port gives an open visit (``end_time`` null, ``status`` 'open'). As in GFW
(``create_port_visits.py``), each visit gets a *confidence*: 4 = entry, stop or gap, and exit;
3 = a stop or gap and one of entry/exit; 2 = a stop or gap only (the segment starts and ends in
port); 1 = entry and/or exit without a stop or gap: a ship that passed within 3 km at speed.
GFW publishes visits of confidence >= 2; so does seawatch (``min_confidence``).

Where the distances come from: :func:`port_distance` (shared with the loitering and encounter
detectors) uses ``Inputs.ports`` when given (any PORTS frame: the registry plus
:func:`seawatch.zones.ports.infer_anchorages`), else the TRACKS columns ``port_name`` /
``port_dist_km`` when :func:`seawatch.tracks.build_tracks` filled them, else
:func:`seawatch.zones.ports.nearest_port` over the built-in registry. The speed is the reported
SOG (as in GFW, whose records carry the reported speed), or the implied speed where SOG is not
available.

Severity ``info``, score ``Params.score`` (0.1): a port visit is context for the risk score
(where a vessel went after an encounter), not a suspicion by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import schema
from ..errors import SeawatchError
from .base import Inputs, finish

__all__ = ["EVENT_TYPES", "PRESETS", "Params", "detect", "points_with_ports", "port_distance"]

EVENT_TYPES = ("port_visit",)

#: Distance up to which TRACKS' ``port_dist_km`` is filled (seawatch.zones.ports.PORT_SEARCH_KM).
_TRACKS_PORT_SEARCH_KM = 50.0


@dataclass(frozen=True)
class Params:
    """Thresholds of the port-visit state machine (all from GFW's anchorages pipeline,
    https://github.com/GlobalFishingWatch/anchorages_pipeline, and its port-visit documentation:
    "port entry 3 km, exit 4 km, stop < 0.2 kn, start > 0.5 kn").

    - ``entry_km`` = 3.0: a point this close to a port or anchorage is in port
      (``anchorage_entry_distance_km``).
    - ``exit_km`` = 4.0: a point this far or farther is out of port; in between a point keeps the
      previous state (``anchorage_exit_distance_km``).
    - ``stop_kn`` = 0.2: at or below this speed in port the vessel is stopped
      (``stopped_begin_speed_knots``).
    - ``start_kn`` = 0.5: at or above this speed it moves again (``stopped_end_speed_knots``).
    - ``gap_h`` = 4.0: a silence this long while in port counts like a stop (GFW ``PORT_GAP``,
      ``min_gap_minutes=240``).
    - ``min_confidence`` = 2: GFW's visit confidence (see the module doc); 2 keeps visits with a
      stop or a gap, 1 also ships that merely passed within ``entry_km``.
    - ``score`` = 0.1: a port visit is information, it weighs little in the risk score
      (seawatch's choice).
    """

    entry_km: float = 3.0
    exit_km: float = 4.0
    stop_kn: float = 0.2
    start_kn: float = 0.5
    gap_h: float = 4.0
    min_confidence: int = 2
    score: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.entry_km <= self.exit_km:
            raise SeawatchError(
                f"port_visit.Params: need 0 < entry_km <= exit_km, got {self.entry_km!r} and {self.exit_km!r}"
            )
        if not 0 <= self.stop_kn <= self.start_kn:
            raise SeawatchError(
                f"port_visit.Params: need 0 <= stop_kn <= start_kn, got {self.stop_kn!r} and {self.start_kn!r}"
            )
        if not self.gap_h > 0:
            raise SeawatchError(f"port_visit.Params.gap_h must be > 0 hours, got {self.gap_h!r}")
        if self.min_confidence not in (1, 2, 3, 4):
            raise SeawatchError(f"port_visit.Params.min_confidence must be 1-4, got {self.min_confidence!r}")
        if not 0 <= self.score <= 1:
            raise SeawatchError(f"port_visit.Params.score must lie in [0, 1], got {self.score!r}")


#: GFW defines port visits; Skylight does not, so its preset is the coastal one.
PRESETS = {"coastal": Params(), "gfw": Params(), "skylight": Params()}


# -- port distances, shared by the detectors --------------------------------------------------------
def port_distance(inputs: Inputs, lat, lon, search_km: float = _TRACKS_PORT_SEARCH_KM) -> pl.DataFrame:
    """``port_name`` and ``port_dist_km`` (km, null beyond ``search_km``) for each position:
    against ``inputs.ports`` when given (an empty frame means no ports), else against the
    built-in registry (:func:`seawatch.zones.ports.ports_table`)."""
    from ..zones import ports as _ports

    n = len(lat)
    if inputs.ports is not None:
        valid = inputs.ports.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null()) if (
            "lat" in inputs.ports.columns and "lon" in inputs.ports.columns
        ) else inputs.ports
        valid = _ports_around(valid, lat, lon, search_km)
        if valid.height == 0:
            return pl.DataFrame(
                {"port_name": pl.Series([None] * n, dtype=pl.Utf8),
                 "port_dist_km": pl.Series([None] * n, dtype=pl.Float32)}
            )
        return _ports.nearest_port(lat, lon, ports=valid, search_km=search_km)
    return _ports.nearest_port(lat, lon, search_km=search_km)


def _ports_around(ports: pl.DataFrame, lat, lon, search_km: float) -> pl.DataFrame:
    """The rows of ``ports`` (in their order) inside the lat/lon box of the positions widened by
    more than ``search_km``: the only ones that can be found, so the search index is smaller
    (a day of one coast against the world's 20,000 ports). All of them when the box comes near
    a pole or the antimeridian, or for a search wider than 500 km."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    ok = np.isfinite(la) & np.isfinite(lo)
    if not ok.any() or search_km > 500.0 or "lat" not in ports.columns or "lon" not in ports.columns:
        return ports
    # a degree of latitude is at least 110.5 km; of longitude at least 111.3 km x cos(latitude)
    dlat = search_km / 110.0 * 1.1
    lat_lo, lat_hi = la[ok].min() - dlat, la[ok].max() + dlat
    pole = max(abs(lat_lo), abs(lat_hi))
    if pole >= 80.0:
        return ports
    dlon = search_km / (111.0 * np.cos(np.radians(pole))) * 1.1
    lon_lo, lon_hi = lo[ok].min() - dlon, lo[ok].max() + dlon
    if lon_lo <= -180.0 or lon_hi >= 180.0:
        return ports
    return ports.filter(pl.col("lat").is_between(lat_lo, lat_hi) & pl.col("lon").is_between(lon_lo, lon_hi))


def points_with_ports(inputs: Inputs, search_km: float = _TRACKS_PORT_SEARCH_KM) -> pl.DataFrame:
    """``inputs.points`` with ``port_name`` and ``port_dist_km`` filled (see the module doc for
    where they come from). Cached on ``inputs``, so detectors run on one Inputs share the work."""
    cache = inputs.__dict__.setdefault("_port_cache", {})
    key = (id(inputs.ports), float(search_km))
    if key in cache:
        return cache[key]
    pts = inputs.points
    reuse = (
        (inputs.ports is None or inputs.ports_in_tracks)
        and search_km <= _TRACKS_PORT_SEARCH_KM
        and "port_dist_km" in pts.columns
        and "port_name" in pts.columns
        and pts.height > 0
        and pts["port_dist_km"].null_count() < pts.height
    )
    if not reuse and pts.height:
        near = port_distance(inputs, pts["lat"], pts["lon"], search_km)
        pts = pts.with_columns(port_name=near["port_name"], port_dist_km=near["port_dist_km"])
    elif not reuse:
        pts = pts.with_columns(
            port_name=pl.lit(None, dtype=pl.Utf8), port_dist_km=pl.lit(None, dtype=pl.Float32)
        )
    cache[key] = pts
    return pts


def _col(df: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    """A column if the frame has it, else nulls (Inputs only requires mmsi, ts, lat, lon, seg_id)."""
    return pl.col(name).cast(dtype) if name in df.columns else pl.lit(None, dtype=dtype)


def _first_of(group: str) -> pl.Expr:
    """True on the first row of each run of equal ``group`` values (rows of a group together)."""
    return (pl.col(group) != pl.col(group).shift(1)).fill_null(True)


def _in_port(pts: pl.DataFrame, p: Params) -> pl.DataFrame | None:
    """The points in port (None if none), in their order, with ``seg_first`` (the segment's
    first point), ``t_next`` (the segment's next point's time) and ``visit`` (an id per run of
    in-port points of one segment, rising with the rows).

    In port: hysteresis between entry and exit distance: a point within ``entry_km`` is in port,
    one at ``exit_km`` or beyond (or without a distance) is not, one in between keeps the state
    of the point before in its segment (a segment starts out of port). Inputs.points: each
    segment's rows together and in time. Found in numpy: the state ignoring segments first (the
    last decisive point before each), then the segment starts checked on the few points that
    state puts in port only."""
    n = pts.height
    d = pts["port_dist_km"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    enter = d <= p.entry_km
    leave = ~(d < p.exit_km)  # at or beyond exit_km, null or NaN (NaN compares as the largest)
    decisive = enter | leave
    anchor = np.maximum.accumulate(np.where(decisive, np.arange(n), -1))
    cand = np.flatnonzero((anchor >= 0) & enter[np.maximum(anchor, 0)])
    if cand.size == 0:
        return None
    # a segment start among the candidates resets the state (an earlier segment's entry does
    # not carry over); a candidate's row before is a candidate too unless it entered itself
    seg = pts["seg_id"]
    prev = pl.Series(cand - 1, dtype=pl.Int64).scatter(np.flatnonzero(cand == 0), None)
    new_seg = seg.gather(cand).ne_missing(seg.gather(prev)).to_numpy()
    e = enter[cand]
    dec = e | new_seg
    last = np.maximum.accumulate(np.where(dec, np.arange(cand.size), 0))
    inside = e[last]
    rows = cand[inside]
    if rows.size == 0:
        return None
    first = new_seg[inside]
    nxt = pl.Series(rows + 1, dtype=pl.Int64).scatter(np.flatnonzero(rows + 1 >= n), None)
    same_next = seg.gather(rows).eq_missing(seg.gather(nxt)).to_numpy() & (rows + 1 < n)
    prev_in = np.empty(rows.size, dtype=bool)
    prev_in[0] = False
    prev_in[1:] = rows[1:] == rows[:-1] + 1
    visit = np.cumsum(first | ~prev_in)
    ts = pts["ts"]
    speed = pl.coalesce(_col(pts, "sog_kn", pl.Float64), _col(pts, "implied_speed_kn", pl.Float64))
    nxt_row = pl.Series(np.where(same_next, rows + 1, 0), dtype=pl.Int64).scatter(np.flatnonzero(~same_next), None)
    return pts.select(
        pl.col("mmsi", "ts", "lat", "lon", "seg_id", "port_name").gather(rows),
        pl.col("port_dist_km").cast(pl.Float64).gather(rows),
        speed.gather(rows).alias("speed_kn"),
    ).with_columns(
        in_port=pl.lit(True),
        seg_first=pl.Series(first),
        t_next=ts.gather(nxt_row),
        visit=pl.Series(visit, dtype=pl.Int64).set_sorted(),
    )


# -- the detector -------------------------------------------------------------------------------------
def detect(inputs: Inputs, params: Params | None = None) -> pl.DataFrame:
    """Port visits (schema.EVENTS rows), one per visit per segment. ``params`` defaults to the
    preset named by ``inputs.preset``."""
    p = params if params is not None else PRESETS[inputs.preset]
    pts = points_with_ports(inputs, max(_TRACKS_PORT_SEARCH_KM, p.exit_km))
    if pts.height == 0:
        return schema.empty("events")
    df = _in_port(pts, p)
    if df is None:
        return schema.empty("events")
    s = pl.col("speed_kn")
    df = df.with_columns(
        # stopped: hysteresis between stop and start speed, reset at each entry
        stopped=pl.when(s <= p.stop_kn).then(True)
        .when(s >= p.start_kn).then(False)
        .otherwise(pl.when(_first_of("visit")).then(False))
        .forward_fill(),
        dt_next_s=(pl.col("t_next") - pl.col("ts")).dt.total_microseconds() / 1e6,
    )
    v = (
        df.group_by("visit", maintain_order=True)
        .agg(
            pl.col("mmsi").first(),
            pl.col("seg_id").first(),
            start_time=pl.col("ts").first(),
            last_ts=pl.col("ts").last(),
            exit_time=pl.col("t_next").last(),
            seg_first=pl.col("seg_first").first(),
            n_points=pl.len(),
            stop_s=pl.col("dt_next_s").filter(pl.col("stopped")).sum(),
            any_stop=pl.col("stopped").any(),
            max_gap_s=pl.col("dt_next_s").max(),
            port_name=pl.col("port_name").sort_by("port_dist_km").first(),
            port_dist_km=pl.col("port_dist_km").min(),
            lat=pl.col("lat").sort_by("port_dist_km").first(),
            lon=pl.col("lon").sort_by("port_dist_km").first(),
        )
        .with_columns(
            has_entry=~pl.col("seg_first"),
            has_exit=pl.col("exit_time").is_not_null(),
            has_gap=(pl.col("max_gap_s") >= p.gap_h * 3600.0).fill_null(False),
        )
    )
    stop_or_gap = pl.col("any_stop") | pl.col("has_gap")
    v = v.with_columns(
        confidence=pl.when(stop_or_gap & pl.col("has_entry") & pl.col("has_exit")).then(4)
        .when(stop_or_gap & (pl.col("has_entry") | pl.col("has_exit"))).then(3)
        .when(stop_or_gap).then(2)
        .otherwise(1)
    ).filter(pl.col("confidence") >= p.min_confidence)
    if v.height == 0:
        return schema.empty("events")
    until = pl.coalesce(pl.col("exit_time"), pl.col("last_ts"))
    v = v.sort("mmsi", "start_time", "seg_id").with_columns(
        duration_h=(until - pl.col("start_time")).dt.total_microseconds() / 3.6e9,
    )
    out = v.select(
        "mmsi",
        "start_time",
        end_time=pl.col("exit_time"),
        lat="lat",
        lon="lon",
        severity=pl.lit("info"),
        score=pl.lit(p.score, dtype=pl.Float32),
        evidence=pl.struct(
            pl.col("port_name"),
            closest_port_km=pl.col("port_dist_km").round(3),
            duration_h=pl.col("duration_h").round(3),
            stop_h=(pl.col("stop_s") / 3600.0).round(3),
            longest_silence_h=(pl.col("max_gap_s") / 3600.0).round(3),
            entry=pl.col("has_entry"),
            exit=pl.col("has_exit"),
            gap=pl.col("has_gap"),
            confidence=pl.col("confidence"),
            n_points=pl.col("n_points"),
            seg_id=pl.col("seg_id"),
            entry_km=pl.lit(p.entry_km),
            exit_km=pl.lit(p.exit_km),
            stop_kn=pl.lit(p.stop_kn),
            start_kn=pl.lit(p.start_kn),
            gap_threshold_h=pl.lit(p.gap_h),
            min_confidence=pl.lit(p.min_confidence),
        ),
    )
    return finish(out, "port_visit", inputs.preset)
