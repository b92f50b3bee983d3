"""speed_anomaly: faster than the declared ship type plausibly goes, or a sudden dash.

Two rules, on the reported speed over ground (``sog_kn``; the implied speed between positions
where SOG is not available):

- *over type*: speed above the limit of the vessel's declared ITU ship type (its latest type
  5 / 24B ship_type) sustained for at least ``min_duration_min``. A declared fishing boat doing
  30 kn is the signature of the 1999 Noto and 2001 Amami spy boats.
- *dash*: a rise of at least ``dash_rise_kn`` within ``dash_window_min`` to above
  ``dash_min_kn`` (fleeing when approached).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from .base import Inputs, finish, runs

EVENT_TYPES = ("speed_anomaly",)

#: Plausible top speed by ITU ship type (first digit or exact code), knots. Sources: typical
#: service speeds (fishing vessels rarely exceed 12-15 kn; the issue's table: fishing 18,
#: cargo 26, tanker 22) with headroom. 40-49 (high-speed craft) has no limit here.
DEFAULT_TYPE_LIMITS: dict[str, float] = {
    "30": 18.0,  # fishing
    "31": 16.0, "32": 16.0,  # towing
    "33": 16.0,  # dredging / underwater operations
    "34": 20.0,  # diving operations
    "35": 45.0,  # military operations
    "36": 20.0,  # sailing
    "37": 45.0,  # pleasure craft
    "50": 35.0,  # pilot vessel
    "51": 45.0,  # search and rescue
    "52": 16.0,  # tug
    "53": 25.0,  # port tender
    "54": 20.0,  # anti-pollution
    "55": 45.0,  # law enforcement
    "58": 35.0,  # medical transport
    "6x": 30.0,  # passenger (fast ferries declare 40-49)
    "7x": 26.0,  # cargo
    "8x": 22.0,  # tanker
    "9x": 30.0,  # other
    "unknown": 40.0,  # no or reserved type: only the implausible for any conventional vessel
}


@dataclass(frozen=True)
class Params:
    """speed_anomaly thresholds (coastal; gfw and skylight publish no such rule, so their
    presets are the same).

    - ``type_limits_kn``: :data:`DEFAULT_TYPE_LIMITS` (keys: an exact ITU type '30', a decade
      '7x', or 'unknown'); the issue's examples: fishing 18 kn, cargo 26 kn, tanker 22 kn.
    - ``min_duration_min`` = 10 min: a single fast report is noise; sustained speed is not.
    - ``dash_rise_kn`` = 10 kn within ``dash_window_min`` = 15 min to above ``dash_min_kn`` =
      20 kn: an abrupt acceleration to planing speed (Skylight's speed-range events use fixed
      speed bands; this is the acceleration rule of the 2001 Amami chase).
    - ``dash_types_below_kn`` = 35 kn: the dash rule applies to vessels whose type limit is
      below this: not to high-speed craft, pilot, SAR, law enforcement, military or pleasure
      craft, nor to vessels with no declared type, all of which accelerate hard for a living.
    - ``merge_min`` = 15 min: dashes and over-speed runs closer than this are one event.
    """

    type_limits_kn: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TYPE_LIMITS))
    min_duration_min: float = 10.0
    dash_rise_kn: float = 10.0
    dash_window_min: float = 15.0
    dash_min_kn: float = 20.0
    dash_types_below_kn: float = 35.0
    merge_min: float = 15.0

    def __hash__(self) -> int:  # dict field: hash by value for frozen use
        return hash((tuple(sorted(self.type_limits_kn.items())), self.min_duration_min, self.dash_rise_kn,
                     self.dash_window_min, self.dash_min_kn, self.dash_types_below_kn, self.merge_min))


PRESETS = {"coastal": Params(), "gfw": Params(), "skylight": Params()}


def type_limit(ship_type: pl.Expr, limits: dict[str, float]) -> pl.Expr:
    """The speed limit of an ITU ship type code (null/0 -> 'unknown'; 40-49 -> no limit)."""
    t = ship_type.cast(pl.Int32)
    decade = (t // 10).cast(pl.Utf8) + "x"
    expr = pl.lit(limits.get("unknown", 40.0))
    by_decade = {k: v for k, v in limits.items() if k.endswith("x")}
    exact = {k: v for k, v in limits.items() if k.isdigit()}
    for k, v in by_decade.items():
        expr = pl.when(decade == k).then(pl.lit(v)).otherwise(expr)
    for k, v in exact.items():
        expr = pl.when(t == int(k)).then(pl.lit(v)).otherwise(expr)
    return pl.when((t >= 40) & (t <= 49)).then(pl.lit(None, pl.Float64)).otherwise(expr)


def declared_types(statics: pl.DataFrame) -> pl.DataFrame:
    """The latest declared ship type per MMSI."""
    if statics.height == 0:
        return pl.DataFrame(schema={"mmsi": pl.Int64, "ship_type": pl.Int16})
    return (
        statics.filter(pl.col("ship_type").is_not_null())
        .sort("mmsi", "ts", nulls_last=False)
        .group_by("mmsi")
        .agg(pl.col("ship_type").last())
    )


def detect(inputs: Inputs, params: Params) -> pl.DataFrame:
    pts = inputs.points
    if pts.height == 0:
        return finish(pl.DataFrame(), "speed_anomaly", inputs.preset)
    # type and limit once per vessel (the limit of a vessel without a declared type: 'unknown')
    per_vessel = (
        pts.select(pl.col("mmsi").unique())
        .join(declared_types(inputs.statics), on="mmsi", how="left")
        .with_columns(limit=type_limit(pl.col("ship_type"), params.type_limits_kn))
    )
    speed = pl.coalesce(pl.col("sog_kn"), pl.col("implied_speed_kn")).cast(pl.Float64)
    # a segment without a point over its limit or fast enough for a dash has no event: the
    # rolling minimum below is computed for the others only. Found per segment from its top
    # speed (a NaN speed compares above any limit, as in polars; a missing one never does)
    starts = np.flatnonzero(inputs.segment_starts())
    top = np.maximum.reduceat(pts.select(speed.fill_null(-np.inf)).to_series().to_numpy(), starts)
    lim = pl.DataFrame({"mmsi": pts["mmsi"].gather(starts)}).join(
        per_vessel.select("mmsi", "limit"), on="mmsi", how="left", maintain_order="left")["limit"]
    limit = lim.fill_null(np.nan).to_numpy()
    with np.errstate(invalid="ignore"):
        maybe = lim.is_not_null().to_numpy() & (
            (top > limit) | np.isnan(top) | np.isnan(limit)
            | ((limit < params.dash_types_below_kn) & (top > params.dash_min_kn)))
    if not maybe.any():
        return finish(pl.DataFrame(), "speed_anomaly", inputs.preset)
    rows = np.repeat(maybe, np.diff(np.append(starts, pts.height)))
    p = (
        pts.filter(pl.Series(rows)).select("mmsi", "seg_id", "ts", "lat", "lon", "sog_kn", "implied_speed_kn")
        .join(per_vessel, on="mmsi", how="left", maintain_order="left")  # whole segments, in order
        .with_columns(speed=speed)
    )
    over = (pl.col("speed") > pl.col("limit")).fill_null(False)
    # dash: rise within the window (rolling min over the previous window, per segment)
    p = p.with_columns(
        min_before=pl.col("speed")
        .rolling_min_by("ts", window_size=f"{int(params.dash_window_min * 60)}s")
        .over("seg_id")
    )
    dash = (
        (pl.col("speed") > params.dash_min_kn)
        & (pl.col("speed") - pl.col("min_before") >= params.dash_rise_kn)
        & (pl.col("limit") < params.dash_types_below_kn)
    ).fill_null(False)
    p = p.with_columns(over=over, dash=dash, flag=over | dash)
    p = p.with_columns(run=runs(pl.col("flag"), "seg_id"))
    hits = p.filter(pl.col("run").is_not_null())
    if hits.height == 0:
        return finish(pl.DataFrame(), "speed_anomaly", inputs.preset)
    ev = hits.group_by("run").agg(
        pl.col("mmsi").first(),
        pl.col("seg_id").first(),
        start_time=pl.col("ts").min(),
        end_time=pl.col("ts").max(),
        lat=pl.col("lat").first(),
        lon=pl.col("lon").first(),
        max_speed_kn=pl.col("speed").max(),
        mean_speed_kn=pl.col("speed").mean(),
        limit_kn=pl.col("limit").first(),
        ship_type=pl.col("ship_type").first(),
        n_over=pl.col("over").sum(),
        n_dash=pl.col("dash").sum(),
        min_before_kn=pl.col("min_before").min(),
    )
    # merge runs of one segment closer than merge_min
    ev = ev.sort("seg_id", "start_time").with_columns(
        grp=(
            (pl.col("start_time") - pl.col("end_time").shift(1).over("seg_id")).dt.total_seconds()
            .fill_null(float("inf"))
            > params.merge_min * 60
        ).cum_sum()
    )
    ev = ev.group_by("grp").agg(
        pl.col("mmsi").first(), pl.col("seg_id").first(), pl.col("start_time").min(), pl.col("end_time").max(),
        pl.col("lat").first(), pl.col("lon").first(), pl.col("max_speed_kn").max(), pl.col("mean_speed_kn").mean(),
        pl.col("limit_kn").first(), pl.col("ship_type").first(), pl.col("n_over").sum(), pl.col("n_dash").sum(),
        pl.col("min_before_kn").min(),
    )
    dur_min = (pl.col("end_time") - pl.col("start_time")).dt.total_seconds() / 60.0
    ev = ev.with_columns(duration_min=dur_min).filter(
        (pl.col("n_dash") > 0) | ((pl.col("n_over") > 0) & (pl.col("duration_min") >= params.min_duration_min))
    )
    if ev.height == 0:
        return finish(pl.DataFrame(), "speed_anomaly", inputs.preset)
    excess = (pl.col("max_speed_kn") - pl.col("limit_kn").fill_null(pl.col("max_speed_kn"))).clip(0, None)
    ev = ev.with_columns(
        rule=pl.when((pl.col("n_over") > 0) & (pl.col("duration_min") >= params.min_duration_min))
        .then(pl.when(pl.col("n_dash") > 0).then(pl.lit("over_type_limit+dash")).otherwise(pl.lit("over_type_limit")))
        .otherwise(pl.lit("dash")),
        score=(0.5 + excess / 20.0 + (pl.col("n_dash") > 0).cast(pl.Float64) * 0.25).clip(0.0, 1.0).cast(pl.Float32),
    ).with_columns(
        severity=pl.when(pl.col("score") >= 0.75).then(pl.lit("high")).otherwise(pl.lit("medium")),
        evidence=pl.struct(
            "rule",
            pl.col("max_speed_kn").round(2),
            pl.col("mean_speed_kn").round(2),
            pl.col("duration_min").round(1),
            pl.col("ship_type"),
            pl.col("limit_kn"),
            pl.col("min_before_kn").round(2).alias("speed_before_dash_kn"),
            pl.lit(params.min_duration_min).alias("min_duration_min"),
            pl.lit(params.dash_rise_kn).alias("dash_rise_kn"),
            pl.lit(params.dash_window_min).alias("dash_window_min"),
            pl.lit(params.dash_min_kn).alias("dash_min_kn"),
            "seg_id",
        ),
    )
    return finish(ev, "speed_anomaly", inputs.preset)


__all__ = ["DEFAULT_TYPE_LIMITS", "EVENT_TYPES", "PRESETS", "Params", "declared_types", "detect", "type_limit"]
