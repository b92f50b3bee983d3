"""Loitering: one vessel moving slower than ``max_speed_kn`` for at least ``min_duration_h``,
away from ports and anchorages (a vessel that may be meeting another one that does not transmit,
waiting for a rendezvous, or drifting on a fishing ground).

Definition (Global Fishing Watch's loitering events, https://github.com/GlobalFishingWatch/
pipe-loitering and the GFW map's "loitering: average speed < 2 knots, at least 20 nm from
shore"): runs of consecutive slow stretches of one segment, with the average speed of the run
= distance travelled / time (``avg_speed_knots`` in GFW), the run's duration (``loitering_hours``)
and its time-weighted mean distance from shore (``avg_distance_from_shore_nm``).

Which speed: the **implied speed** (distance travelled / time), as GFW does, not the reported
SOG (often missing or stale on small craft; a drifting ship reports SOG 0 while the current
carries it at 2 kn). As in GFW: the points of each segment are thinned to one per ``thin_s``
(60 s, the first report of each minute: GFW's research messages are "thinned to one minute per
segment"), the legs between them are summed per time bucket of ``bucket_s`` (GFW: one hour;
seawatch: 10 minutes, for start and end times to the nearest 10 minutes), and a bucket is *slow*
when its distance / time is below ``max_speed_kn``. Thinning matters: between class A reports
2 s apart, 5 m of GPS jitter alone implies 5 kn; over one minute it is 0.3 kn. Path length (not
displacement) keeps a vessel steaming in circles fast. A bucket is also not slow when a leg in
it lasts longer than ``max_silence_h`` (a vessel not heard for hours was not *seen* loitering:
that is the ``ais_gap`` detector's business) or when any of its points is within
``port_exclusion_km`` of a port or anchorage (a ferry at its berth, a ship at its anchorage, is
not loitering). An event is a run of consecutive slow buckets of one segment, from the last
point before the run (as GFW) to its last point, lasting ``min_duration_h`` or more, with its
mean speed = distance / time; with the ``gfw`` preset its time-weighted mean distance to shore
(TRACKS ``dist_to_shore_nm``) must also be at least 20 nm. Where the shore distance is unknown
(null: outside zone coverage, or tracks built with ``places=False``) the event is kept and its
evidence says ``dist_to_shore_nm: null``.

Port distances: see :func:`seawatch.detect.port_visit.points_with_ports`.

Severity and score (seawatch's choice, explainable): ``low``, or ``medium`` from
``medium_after_h`` (8 h: a full watch and more at under 2 kn away from any port); score
0.2 at ``min_duration_h`` rising linearly to 1.0 at 24 h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import schema
from ..errors import SeawatchError
from ..tracks import EARTH_RADIUS_NM, haversine_nm
from .base import Inputs, finish, runs
from .port_visit import points_with_ports

__all__ = ["EVENT_TYPES", "PRESETS", "Params", "detect"]

EVENT_TYPES = ("loitering",)

_SCORE_FULL_H = 24.0


@dataclass(frozen=True)
class Params:
    """Loitering thresholds.

    - ``max_speed_kn`` = 2.0: GFW's loitering speed ("average speed < 2 knots"; pipe-loitering's
      ``slow_threshold``).
    - ``min_duration_h`` = 2.0: the issue's definition (GFW's published loitering layer applies
      its own minimum duration downstream; the RFMO transshipment reports used 4 h for carriers).
    - ``min_shore_nm`` = 0.0 (coastal: coastal loitering matters here); 20.0 in the ``gfw`` preset
      (GFW: "at least 20 nautical miles from shore", ``avg_distance_from_shore_nm >= 20``).
    - ``port_exclusion_km`` = 3.0: within this distance of a port or anchorage a vessel is in port
      (GFW's port-entry distance, as in :mod:`seawatch.detect.port_visit`), not loitering. With a
      port registry of one point per port, large harbours reach beyond 3 km: add inferred
      anchorages (:func:`seawatch.zones.ports.infer_anchorages`) to ``Inputs.ports``, as GFW does.
    - ``thin_s`` = 60: one point per minute of each segment (GFW's thinned research messages),
      which makes implied speeds robust to GPS jitter (see the module doc).
    - ``bucket_s`` = 600: legs are summed per 10-minute bucket to decide slow or not (GFW: per
      hour; finer here so that start and end times are good to 10 minutes).
    - ``max_silence_h`` = 2.0: a stretch longer than this between two reports breaks a run
      (seawatch's choice; GFW does not split, its segmenter limits gaps instead).
    - ``medium_after_h`` = 8.0: from this duration severity is ``medium`` (seawatch's choice).
    """

    max_speed_kn: float = 2.0
    min_duration_h: float = 2.0
    min_shore_nm: float = 0.0
    port_exclusion_km: float = 3.0
    thin_s: float = 60.0
    bucket_s: float = 600.0
    max_silence_h: float = 2.0
    medium_after_h: float = 8.0

    def __post_init__(self) -> None:
        for name in ("max_speed_kn", "min_duration_h", "thin_s", "bucket_s", "max_silence_h", "medium_after_h"):
            if not getattr(self, name) > 0:
                raise SeawatchError(f"loitering.Params.{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("min_shore_nm", "port_exclusion_km"):
            if not getattr(self, name) >= 0:
                raise SeawatchError(f"loitering.Params.{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.thin_s <= self.bucket_s <= self.max_silence_h * 3600:
            raise SeawatchError("loitering.Params: need thin_s <= bucket_s <= max_silence_h")


#: Skylight defines no loitering event (its "dark rendezvous" is a model), so its preset is coastal.
PRESETS = {
    "coastal": Params(),
    "gfw": Params(min_shore_nm=20.0),
    "skylight": Params(),
}


def _f64(df: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64) if name in df.columns else pl.lit(None, dtype=pl.Float64)


def detect(inputs: Inputs, params: Params | None = None) -> pl.DataFrame:
    """Loitering events (schema.EVENTS rows), one per run of slow stretches of a segment.
    ``params`` defaults to the preset named by ``inputs.preset``."""
    p = params if params is not None else PRESETS[inputs.preset]
    pts = points_with_ports(inputs, max(50.0, p.port_exclusion_km))
    if pts.height == 0:
        return schema.empty("events")
    # thinning (each segment's rows are together and in time, Inputs.points): a segment's first
    # and last point and the first point of each thin_s slot are kept; a leg joins each kept point
    # to the kept point before it in its segment
    seg = np.cumsum(inputs.segment_starts()) - 1  # segments numbered in row order
    ts_us = pts["ts"].dt.epoch("us").to_numpy()
    slot = ts_us // round(p.thin_s * 1e6)
    first = np.ones(len(seg), dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    keep = first.copy()
    keep[:-1] |= first[1:]  # a segment's last point
    keep[-1] = True  # the frame's last point (pts is not empty)
    keep[1:] |= slot[1:] != slot[:-1]
    kept = np.flatnonzero(keep)
    leg = np.flatnonzero(~first[kept])  # kept points with a kept point before them in their segment
    cur, prev = kept[leg], kept[leg - 1]
    if len(cur) == 0:
        return schema.empty("events")
    lat, lon = pts["lat"].cast(pl.Float64).to_numpy(), pts["lon"].cast(pl.Float64).to_numpy()
    dt = (ts_us[cur] - ts_us[prev]) / 1e6
    fast = dt * (p.max_speed_kn * (1 + 1e-9)) + 1e-9  # a leg this long (x 3600) or longer is not slow
    # a leg is at least as long as its change of latitude (haversine: a >= sin^2(dlat / 2)): the
    # legs that long already are measured only if their bucket has a slow leg (below)
    with np.errstate(invalid="ignore"):
        sure = ((np.abs(np.radians(lat[cur]) - np.radians(lat[prev])) * EARTH_RADIUS_NM) * (1 - 1e-6) - 1e-9) * 3600.0 >= fast
    dist = np.full(len(cur), np.nan)
    m = np.flatnonzero(~sure)
    dist[m] = haversine_nm(lat[prev[m]], lon[prev[m]], lat[cur[m]], lon[cur[m]])
    # each (segment, bucket)'s legs are together: numbered in order, they group as slices
    bucket = ts_us[cur] // round(p.bucket_s * 1e6)
    seg_l = seg[cur]
    new_gid = np.ones(len(cur), dtype=bool)
    new_gid[1:] = (seg_l[1:] != seg_l[:-1]) | (bucket[1:] != bucket[:-1])
    gid = np.cumsum(new_gid)
    # a bucket is slow only if one of its legs is (its speed is a ratio of sums: with every leg
    # at or over the limit, so is the bucket): the legs of the others are left out, and a run
    # breaks where a bucket was left out. A hair of margin keeps rounding on the safe side.
    slowish = ~sure & ~(dist * 3600.0 >= fast)
    has_slow = np.zeros(int(gid[-1]) + 1, dtype=bool)  # gid rises from 1, by bucket
    has_slow[gid[slowish]] = True
    sel = np.flatnonzero(has_slow[gid])
    m = sel[sure[sel]]  # the long legs of those buckets, measured now
    dist[m] = haversine_nm(lat[prev[m]], lon[prev[m]], lat[cur[m]], lon[cur[m]])
    cur, prev = cur[sel], prev[sel]
    narrow = pts.select([c for c in ("mmsi", "ts", "lat", "lon", "seg_id", "port_dist_km", "port_name", "dist_to_shore_nm")
                         if c in pts.columns])
    port_ok = pl.col("port_dist_km").is_null() | (pl.col("port_dist_km") > p.port_exclusion_km)
    at = narrow[cur]
    legs = at.select(
        "mmsi", "ts", "lat", "lon", "seg_id",
        port_ok=port_ok,
        port_km=_f64(at, "port_dist_km"),
        port_name=pl.col("port_name"),
        shore_nm=_f64(at, "dist_to_shore_nm"),
    ).with_columns(
        lat0=pl.Series(lat[prev]), lon0=pl.Series(lon[prev]), t0=narrow["ts"][prev],
        port_ok0=narrow.select("port_dist_km")[prev].select(port_ok).to_series(),
        dist_nm=pl.Series(dist[sel]), dt_s=pl.Series(dt[sel]), gid=pl.Series(gid[sel], dtype=pl.Int64).set_sorted(),
    )
    # first what decides slow or not, for those buckets; then the rest, for the slow runs' only
    buckets = legs.group_by("gid", maintain_order=True).agg(
        pl.col("seg_id").first(),
        pl.col("mmsi").first(),
        t0=pl.col("t0").min(),
        t1=pl.col("ts").max(),
        dist_nm=pl.col("dist_nm").sum(),
        dt_s=pl.col("dt_s").sum(),
        max_dt_s=pl.col("dt_s").max(),
        port_ok=(pl.col("port_ok") & pl.col("port_ok0")).all(),
    )
    slow = (
        (pl.col("dist_nm") / pl.col("dt_s") * 3600.0 < p.max_speed_kn)
        & (pl.col("max_dt_s") <= p.max_silence_h * 3600.0)
        & pl.col("port_ok")
    ).fill_null(False)
    buckets = buckets.with_columns(run=runs(slow, "seg_id", breaks=pl.col("gid") != pl.col("gid").shift(1) + 1))
    buckets = buckets.filter(pl.col("run").is_not_null())
    if buckets.height:
        lon_ref = pl.col("lon").first()
        rel_lon = (pl.col("lon") - lon_ref + 540.0) % 360.0 - 180.0
        has_shore = pl.col("shore_nm").is_not_null()
        where = legs.join(buckets.select("gid"), on="gid", how="semi", maintain_order="left")
        buckets = buckets.join(where.group_by("gid", maintain_order=True).agg(
            n=pl.len(),
            lat_sum=pl.col("lat").sum(),
            lon_ref=lon_ref,
            rel_lon_sum=rel_lon.sum(),
            shore_w=(pl.col("shore_nm") * pl.col("dt_s")).filter(has_shore).sum(),
            shore_dt=pl.col("dt_s").filter(has_shore).sum(),
            shore_known=has_shore.any(),
            port_km=pl.col("port_km").min(),
            port_name=pl.col("port_name").sort_by("port_km", nulls_last=True).first(),
        ), on="gid", how="left", maintain_order="left")
    if buckets.height == 0:
        return schema.empty("events")
    run_ref = pl.col("lon_ref").first()
    ev = (
        buckets.group_by("run")
        .agg(
            pl.col("mmsi").first(),
            pl.col("seg_id").first(),
            start_time=pl.col("t0").min(),
            end_time=pl.col("t1").max(),
            distance_nm=pl.col("dist_nm").sum(),
            moving_s=pl.col("dt_s").sum(),
            longest_silence_s=pl.col("max_dt_s").max(),
            n_points=pl.col("n").sum() + 1,
            lat=pl.col("lat_sum").sum() / pl.col("n").sum(),
            # mean longitude, safe across the antimeridian
            lon=(run_ref + ((pl.col("lon_ref") - run_ref + 540.0) % 360.0 - 180.0 + pl.col("rel_lon_sum") / pl.col("n"))
                 .dot(pl.col("n")) / pl.col("n").sum() + 540.0) % 360.0 - 180.0,
            shore_nm=pl.col("shore_w").sum() / pl.col("shore_dt").sum(),
            shore_known=pl.col("shore_known").any(),
            port_km=pl.col("port_km").min(),
            port_name=pl.col("port_name").sort_by("port_km", nulls_last=True).first(),
        )
        .with_columns(
            duration_h=(pl.col("end_time") - pl.col("start_time")).dt.total_microseconds() / 3.6e9,
            mean_speed_kn=pl.col("distance_nm") / pl.col("moving_s") * 3600.0,
            shore_nm=pl.when(pl.col("shore_known")).then(pl.col("shore_nm")),
        )
        .filter(
            (pl.col("duration_h") >= p.min_duration_h - 1e-9)
            & (pl.col("mean_speed_kn") < p.max_speed_kn)
            & (pl.col("shore_nm").is_null() | (pl.col("shore_nm") >= p.min_shore_nm))
        )
        .sort("mmsi", "start_time", "seg_id")
    )
    if ev.height == 0:
        return schema.empty("events")
    dur = pl.col("duration_h")
    out = ev.select(
        "mmsi",
        "start_time",
        "end_time",
        "lat",
        "lon",
        severity=pl.when(dur >= p.medium_after_h).then(pl.lit("medium")).otherwise(pl.lit("low")),
        score=(0.2 + 0.8 * (dur - p.min_duration_h) / max(_SCORE_FULL_H - p.min_duration_h, 1e-9))
        .clip(0.0, 1.0)
        .cast(pl.Float32),
        evidence=pl.struct(
            duration_h=dur.round(3),
            mean_speed_kn=pl.col("mean_speed_kn").round(3),
            distance_nm=pl.col("distance_nm").round(3),
            n_points=pl.col("n_points"),
            longest_silence_h=(pl.col("longest_silence_s") / 3600.0).round(3),
            dist_to_shore_nm=pl.col("shore_nm").round(2),
            nearest_port=pl.col("port_name"),
            nearest_port_km=pl.col("port_km").round(2),
            seg_id=pl.col("seg_id"),
            speed=pl.lit("implied: path length / time of points thinned to one per thin_s, per bucket_s"),
            max_speed_kn=pl.lit(p.max_speed_kn),
            min_duration_h=pl.lit(p.min_duration_h),
            min_shore_nm=pl.lit(p.min_shore_nm),
            port_exclusion_km=pl.lit(p.port_exclusion_km),
            thin_s=pl.lit(p.thin_s),
            bucket_s=pl.lit(p.bucket_s),
            max_silence_h=pl.lit(p.max_silence_h),
        ),
    )
    return finish(out, "loitering", inputs.preset)
