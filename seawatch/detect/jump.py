"""position_jump: one identity in two places at once.

Two rules, both about one MMSI:

- *concurrent segments*: the segmenter (:mod:`seawatch.tracks`) kept two segments of the MMSI
  alive at the same time, far apart: two transmitters share the identity (a cloned or spoofed
  MMSI). One event per pair of overlapping segments; evidence names a position of each, taken
  at the closest times, and the speed a single vessel would need.
- *repeated jumps*: at least ``min_jumps`` noise points (positions no segment of the MMSI can
  explain) that imply more than ``min_speed_kn`` from the track, within ``window_h``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..tracks import haversine_nm
from .base import Inputs, finish

EVENT_TYPES = ("position_jump",)


@dataclass(frozen=True)
class Params:
    """position_jump thresholds (coastal = gfw = skylight: neither publishes such a rule).

    - ``min_speed_kn`` = 60 kn (the issue's definition): no ship covers the distance between
      the two positions in the time between them.
    - ``min_overlap_min`` = 10 min: segments must both be alive this long together.
    - ``min_jumps`` = 2 within ``window_h`` = 24 h: one glitch is noise, repeated ones are not.
    """

    min_speed_kn: float = 60.0
    min_overlap_min: float = 10.0
    min_jumps: int = 2
    window_h: float = 24.0


PRESETS = {"coastal": Params(), "gfw": Params(), "skylight": Params()}


def _concurrent(inputs: Inputs, p: Params) -> pl.DataFrame:
    seg = inputs.segments
    if seg.height == 0:
        return pl.DataFrame()
    s = seg.select("seg_id", "mmsi", "start_time", "end_time")
    pairs = (
        s.join(s, on="mmsi", suffix="_b")
        .filter(pl.col("seg_id") < pl.col("seg_id_b"))
        .with_columns(
            o0=pl.max_horizontal("start_time", "start_time_b"),
            o1=pl.min_horizontal("end_time", "end_time_b"),
        )
        .filter((pl.col("o1") - pl.col("o0")).dt.total_seconds() >= p.min_overlap_min * 60)
    )
    if pairs.height == 0:
        return pl.DataFrame()
    involved = pl.concat([pairs["seg_id"], pairs["seg_id_b"]]).unique().implode()
    pts = inputs.points.filter(pl.col("seg_id").is_in(involved)).select("seg_id", "ts", "lat", "lon")
    # a position of each segment at the middle of the overlap (closest in time)
    mid = pairs.with_columns(tm=pl.col("o0") + (pl.col("o1") - pl.col("o0")) / 2).select("seg_id", "seg_id_b", "mmsi", "o0", "o1", "tm")

    def at(col: str, suffix: str) -> pl.DataFrame:
        q = mid.select(pl.col(col).alias("seg_id"), "tm", pl.col("seg_id").alias("_a"), pl.col("seg_id_b").alias("_b")).sort("tm")
        return q.join_asof(pts.sort("ts"), left_on="tm", right_on="ts", by="seg_id", strategy="nearest", check_sortedness=False).select(
            "_a", "_b", pl.col("ts").alias(f"t{suffix}"), pl.col("lat").alias(f"lat{suffix}"), pl.col("lon").alias(f"lon{suffix}")
        )

    m = mid.join(at("seg_id", "a"), left_on=["seg_id", "seg_id_b"], right_on=["_a", "_b"]).join(
        at("seg_id_b", "b"), left_on=["seg_id", "seg_id_b"], right_on=["_a", "_b"]
    )
    d = haversine_nm(m["lata"].to_numpy(), m["lona"].to_numpy(), m["latb"].to_numpy(), m["lonb"].to_numpy())
    dt_h = np.abs((m["ta"] - m["tb"]).dt.total_seconds().to_numpy()) / 3600.0
    # a position 60 s apart still needs a finite speed: floor the time at 1 min
    speed = d / np.maximum(dt_h, 1 / 60)
    m = m.with_columns(dist_nm=pl.Series(d), speed_kn=pl.Series(speed)).filter(pl.col("speed_kn") > p.min_speed_kn)
    if m.height == 0:
        return pl.DataFrame()
    return m.select(
        "mmsi",
        start_time=pl.col("o0"),
        end_time=pl.col("o1"),
        lat=pl.col("lata"),
        lon=pl.col("lona"),
        severity=pl.lit("high"),
        score=pl.lit(1.0, pl.Float32),
        evidence=pl.struct(
            pl.lit("concurrent_segments").alias("rule"),
            pl.col("seg_id").alias("seg_a"),
            pl.col("seg_id_b").alias("seg_b"),
            pl.concat_list(pl.col("lata").round(5), pl.col("lona").round(5)).alias("position_a"),
            pl.col("ta").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("time_a"),
            pl.concat_list(pl.col("latb").round(5), pl.col("lonb").round(5)).alias("position_b"),
            pl.col("tb").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("time_b"),
            pl.col("dist_nm").round(2),
            pl.col("speed_kn").round(1).alias("implied_speed_kn"),
            pl.lit(p.min_speed_kn).alias("min_speed_kn"),
            ((pl.col("o1") - pl.col("o0")).dt.total_seconds() / 60).round(1).alias("overlap_min"),
        ),
    )


def _repeated(inputs: Inputs, p: Params) -> pl.DataFrame:
    noise = inputs.noise.select("mmsi", "ts", "lat", "lon")
    if noise.height == 0:
        return pl.DataFrame()
    good = (
        inputs.points.filter(pl.col("mmsi").is_in(noise["mmsi"].unique().implode()))
        .select("mmsi", pl.col("ts").alias("tg"), pl.col("ts").alias("ts"), pl.col("lat").alias("glat"), pl.col("lon").alias("glon"))
        .sort("ts")
    )
    n = noise.sort("ts").join_asof(good, on="ts", by="mmsi", strategy="nearest", check_sortedness=False).filter(pl.col("tg").is_not_null())
    if n.height == 0:
        return pl.DataFrame()
    d = haversine_nm(n["lat"].to_numpy(), n["lon"].to_numpy(), n["glat"].to_numpy(), n["glon"].to_numpy())
    dt_h = np.abs((n["ts"] - n["tg"]).dt.total_seconds().to_numpy()) / 3600.0
    n = n.with_columns(dist_nm=pl.Series(d), speed_kn=pl.Series(d / np.maximum(dt_h, 1 / 60))).filter(
        pl.col("speed_kn") > p.min_speed_kn
    )
    if n.height == 0:
        return pl.DataFrame()
    # jumps of one MMSI within window_h of each other form one group
    n = n.sort("mmsi", "ts").with_columns(
        grp=(
            (pl.col("ts") - pl.col("ts").shift(1).over("mmsi")).dt.total_seconds().fill_null(float("inf"))
            > p.window_h * 3600
        ).cum_sum()
    )
    g = n.group_by("grp").agg(
        pl.col("mmsi").first(),
        start_time=pl.col("ts").min(),
        end_time=pl.col("ts").max(),
        lat=pl.col("lat").first(),
        lon=pl.col("lon").first(),
        n=pl.len(),
        positions=pl.concat_list(pl.col("lat").round(5), pl.col("lon").round(5)),
        track_positions=pl.concat_list(pl.col("glat").round(5), pl.col("glon").round(5)),
        max_speed=pl.col("speed_kn").max(),
        max_dist=pl.col("dist_nm").max(),
    ).filter(pl.col("n") >= p.min_jumps)
    if g.height == 0:
        return pl.DataFrame()
    return g.select(
        "mmsi", "start_time", "end_time", "lat", "lon",
        severity=pl.when(pl.col("n") >= 2 * p.min_jumps).then(pl.lit("high")).otherwise(pl.lit("medium")),
        score=(0.5 + 0.1 * pl.col("n")).clip(0, 1).cast(pl.Float32),
        evidence=pl.struct(
            pl.lit("repeated_jumps").alias("rule"),
            pl.col("n").alias("jumps"),
            pl.col("positions").alias("jump_positions"),
            pl.col("track_positions").alias("track_positions_nearest_in_time"),
            pl.col("max_speed").round(1).alias("max_implied_speed_kn"),
            pl.col("max_dist").round(2).alias("max_dist_nm"),
            pl.lit(p.min_speed_kn).alias("min_speed_kn"),
            pl.lit(p.min_jumps).alias("min_jumps"),
            pl.lit(p.window_h).alias("window_h"),
        ),
    )


def detect(inputs: Inputs, params: Params) -> pl.DataFrame:
    parts = [f for f in (_concurrent(inputs, params), _repeated(inputs, params)) if f.height]
    if not parts:
        return finish(pl.DataFrame(), "position_jump", inputs.preset)
    ev = pl.concat([f.with_columns(pl.col("evidence").struct.json_encode()) for f in parts], how="vertical_relaxed")
    return finish(ev, "position_jump", inputs.preset)


__all__ = ["EVENT_TYPES", "PRESETS", "Params", "detect"]
