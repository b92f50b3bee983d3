"""night_coastal_approach: a foreign or unidentifiable vessel hovering near the coast at night.

The pattern of the 1999 Noto incident: boats declaring themselves fishing vessels, inside the
12 nm belt off the Japanese coast after dark, barely moving. A run of consecutive track points of
one segment that are all

- within ``max_shore_nm`` of shore (``dist_to_shore_nm``),
- at night (``is_night``: sun below the horizon),
- slower than ``max_speed_kn`` (reported SOG, else implied speed),
- not in port (farther than ``port_radius_km`` from a port or anchorage),
- of a vessel that is foreign to the coast (its MMSI's flag differs from ``zone_state``) or
  unidentifiable (no flag from its MMSI),

lasting at least ``min_duration_min``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .base import Inputs, finish

EVENT_TYPES = ("night_coastal_approach",)


@dataclass(frozen=True)
class Params:
    """night_coastal_approach thresholds (coastal; GFW and Skylight define no such event, so
    their presets are the same).

    - ``max_shore_nm`` = 12 nm: the breadth of the territorial sea (UNCLOS art. 3).
    - ``max_speed_kn`` = 3 kn and ``min_duration_min`` = 30 min: hovering, not passing (a vessel
      in innocent passage must proceed "continuously and expeditiously", UNCLOS art. 18(2)).
    - ``port_radius_km`` = 3 km: GFW's port entry distance.
    - ``max_step_h`` = 1 h: two points further apart in time are not one continuous hover.
    """

    max_shore_nm: float = 12.0
    max_speed_kn: float = 3.0
    min_duration_min: float = 30.0
    port_radius_km: float = 3.0
    max_step_h: float = 1.0


PRESETS = {"coastal": Params(), "gfw": Params(), "skylight": Params()}


def detect(inputs: Inputs, params: Params) -> pl.DataFrame:
    from ..flags import flag_state

    pts = inputs.points
    need = {"dist_to_shore_nm", "is_night", "zone_state"}
    if pts.height == 0 or not need <= set(pts.columns):
        return finish(pl.DataFrame(), "night_coastal_approach", inputs.preset)
    # the conditions of the point alone first: they leave few rows (night, near shore, slow)
    speed = pl.coalesce(pl.col("sog_kn"), pl.col("implied_speed_kn")).cast(pl.Float64)
    port_km = pl.col("port_dist_km") if "port_dist_km" in pts.columns else pl.lit(None, pl.Float32)
    near = (
        (pl.col("dist_to_shore_nm") <= params.max_shore_nm)
        & pl.col("is_night")
        & (speed < params.max_speed_kn)
        & (port_km.is_null() | (port_km > params.port_radius_km))
    ).fill_null(False)
    rows = np.flatnonzero(pts.select(near).to_series().to_numpy())
    if rows.size == 0:
        return finish(pl.DataFrame(), "night_coastal_approach", inputs.preset)
    p = pts.select(
        pl.col("mmsi", "seg_id", "ts", "lat", "lon", "dist_to_shore_nm", "zone_state", "zone_name", "zone_kind",
               "dt_s").gather(rows),
        speed=speed.gather(rows),
    )
    vessels = p["mmsi"].unique()  # the flag once per vessel, not per point
    p = p.with_columns(flag=pl.col("mmsi").replace_strict(vessels, flag_state(vessels), return_dtype=pl.Utf8))
    coast_state = pl.col("zone_state")
    foreign = pl.col("flag").is_null() | coast_state.is_null() | (pl.col("flag") != coast_state)
    keep = p.select(foreign.fill_null(False)).to_series().to_numpy()
    p, rows = p.filter(keep), rows[keep]
    if p.height == 0:
        return finish(pl.DataFrame(), "night_coastal_approach", inputs.preset)
    # runs of consecutive hovering points of one segment (Inputs.points: each segment's rows
    # together and in time); a long silence breaks a hover in two
    seg = p["seg_id"]
    after = np.zeros(rows.size, dtype=bool)  # the row before hovers too, in the same segment
    after[1:] = (rows[1:] == rows[:-1] + 1) & seg.slice(1).eq_missing(seg.slice(0, rows.size - 1)).to_numpy()
    breaks = p.select((pl.col("dt_s") > params.max_step_h * 3600).fill_null(False)).to_series().to_numpy()
    hits = p.with_columns(hover_run=pl.Series(np.cumsum(~after | breaks), dtype=pl.Int64).set_sorted())
    ev = (
        hits.group_by("hover_run", maintain_order=True)
        .agg(
            pl.col("mmsi").first(),
            pl.col("flag").first(),
            start_time=pl.col("ts").min(),
            end_time=pl.col("ts").max(),
            lat=pl.col("lat").mean(),
            lon=pl.col("lon").mean(),
            zone_state=pl.col("zone_state").drop_nulls().first(),
            zone_name=pl.col("zone_name").drop_nulls().first(),
            zone_kind=pl.col("zone_kind").drop_nulls().first(),
            mean_speed=pl.col("speed").mean(),
            min_shore=pl.col("dist_to_shore_nm").min(),
            n=pl.len(),
            seg_id=pl.col("seg_id").first(),
        )
        .with_columns(duration_min=(pl.col("end_time") - pl.col("start_time")).dt.total_seconds() / 60)
        .filter(pl.col("duration_min") >= params.min_duration_min)
    )
    if ev.height == 0:
        return finish(pl.DataFrame(), "night_coastal_approach", inputs.preset)
    ev = ev.with_columns(
        severity=pl.lit("high"),
        score=(0.7 + pl.col("duration_min") / 600).clip(0, 1).cast(pl.Float32),
        evidence=pl.struct(
            pl.col("duration_min").round(1),
            pl.col("mean_speed").round(2).alias("mean_speed_kn"),
            pl.col("min_shore").round(2).alias("min_dist_to_shore_nm"),
            pl.col("flag").alias("vessel_flag"),
            pl.col("zone_state").alias("coastal_state"),
            pl.col("n").alias("points"),
            pl.lit(params.max_shore_nm).alias("max_shore_nm"),
            pl.lit(params.max_speed_kn).alias("max_speed_kn"),
            pl.lit(params.min_duration_min).alias("min_duration_min"),
            pl.col("seg_id"),
        ),
    )
    return finish(ev, "night_coastal_approach", inputs.preset)


__all__ = ["EVENT_TYPES", "PRESETS", "Params", "detect"]
