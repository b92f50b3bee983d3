"""zone_entry and zone_exit: a segment crosses into, or out of, a maritime zone.

Zones nest by law: a state's territorial sea lies inside its contiguous zone, which lies inside
its EEZ (UNCLOS arts. 3, 33, 57). Track points carry the innermost zone they are in
(``zone_kind``, ``zone_state``); crossings are found level by level, so a vessel going from the
EEZ into the contiguous zone and on into the territorial sea *enters* the contiguous zone and
then the territorial sea, without "leaving" the EEZ. Disputed areas are a level of their own.

``zone_entry`` spans the visit: from the first point inside to the last point inside (``open``
while the track is still inside); ``zone_exit`` is the moment of leaving (first point outside).
A segment that starts inside did not cross in; only the crossings are events.

Severity follows the legal meaning for the vessel's flag (its MMSI's MID): own-flag vessels are
``info``; a foreign vessel entering a territorial sea is ``medium`` (``high`` at night), a
contiguous zone ``low``, an EEZ ``info``; a disputed area ``low``; an unidentifiable flag counts
as foreign.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .base import Inputs, finish

EVENT_TYPES = ("zone_entry", "zone_exit")

#: level -> zone kinds that are inside that level's zone
LEVELS: dict[str, tuple[str, ...]] = {
    "eez": ("internal_waters", "territorial_sea", "contiguous_zone", "eez"),
    "contiguous_zone": ("internal_waters", "territorial_sea", "contiguous_zone"),
    "territorial_sea": ("internal_waters", "territorial_sea"),
    "disputed": ("disputed",),
    "custom": (),  # user areas: membership from the custom_zones column, one area at a time
}


@dataclass(frozen=True)
class Params:
    """zone_entry / zone_exit settings (the same in every preset; Skylight's "entry" events are
    entries into user areas, which seawatch treats as zones of kind ``custom``).

    - ``levels``: which zone levels produce events (default all: eez, contiguous_zone,
      territorial_sea, disputed, and custom: the user areas imported with
      ``seawatch zones import --kind custom``, severity ``low`` for any vessel).
    - ``min_inside_min`` = 0: a visit shorter than this is not reported (raise it to silence
      vessels grazing a boundary).
    """

    levels: tuple[str, ...] = ("eez", "contiguous_zone", "territorial_sea", "disputed", "custom")
    min_inside_min: float = 0.0


PRESETS = {"coastal": Params(), "gfw": Params(), "skylight": Params()}

_SEV_FOREIGN = {"territorial_sea": "medium", "contiguous_zone": "low", "eez": "info", "disputed": "low",
                "custom": "low"}
_SCORE = {"info": 0.1, "low": 0.3, "medium": 0.6, "high": 0.9}


def detect(inputs: Inputs, params: Params) -> pl.DataFrame:
    from ..flags import flag_state

    pts = inputs.points
    need = {"zone_kind", "zone_state", "zone_name"}
    if pts.height == 0 or not need <= set(pts.columns) or pts["zone_kind"].null_count() == pts.height:
        return pl.concat([finish(pl.DataFrame(), t, inputs.preset) for t in EVENT_TYPES])
    p = pts.select("mmsi", "seg_id", "ts", "lat", "lon", "zone_kind", "zone_state", "zone_name",
                   pl.col("is_night") if "is_night" in pts.columns else pl.lit(None, pl.Boolean).alias("is_night"),
                   pl.col("custom_zones") if "custom_zones" in pts.columns else pl.lit(None, pl.Utf8).alias("custom_zones"))
    # only the rows where a zone starts or ends matter: keep each segment's first and last row
    # and the rows whose zone differs from the row before or after (a tiny share of the track)
    zcols = ["zone_kind", "zone_state", "zone_name", "custom_zones"]
    same = p.select(pl.struct("seg_id", *zcols).rle_id()).to_series()  # runs of one segment and zone
    p = p.filter((same != same.shift(1)).fill_null(True) | (same != same.shift(-1)).fill_null(True))
    flags = flag_state(p["mmsi"])
    p = p.with_columns(flag=flags)
    out = []
    passes: list[tuple[str, pl.Expr]] = []
    for level in params.levels:
        if level == "custom":
            areas = sorted(set(p["custom_zones"].drop_nulls().str.split(";").explode().to_list()))
            passes += [("custom", pl.when(pl.col("custom_zones").str.split(";").list.contains(pl.lit(a)))
                        .then(pl.lit(a))) for a in areas]  # one pass per user area, not per point
        else:
            passes.append((level, pl.when(pl.col("zone_kind").is_in(LEVELS[level])).then(
                pl.col("zone_name") if level == "disputed" else pl.col("zone_state"))))
    for level, key in passes:
        # each segment's rows are together and in time: the row before, the segment's first
        # time and per-segment counts without a window per segment
        seg_start = (pl.col("seg_id") != pl.col("seg_id").shift(1)).fill_null(True)
        q = p.with_columns(key=key).with_columns(prev=pl.when(~seg_start).then(pl.col("key").shift(1)),
                                                 first=pl.col("ts") == pl.when(seg_start).then(pl.col("ts")).forward_fill())
        # a run of one key: a visit; it is an entry when the point before it was outside
        q = q.with_columns(
            change=(pl.col("key").ne_missing(pl.col("prev"))) & ~pl.col("first"), start=seg_start,
        ).with_columns(total=pl.col("change").cast(pl.Int32).cum_sum()).with_columns(
            run=pl.col("total") - pl.when(pl.col("start")).then(pl.col("total") - pl.col("change").cast(pl.Int32)).forward_fill()
        ).drop("start", "total")
        visits = (
            q.filter(pl.col("key").is_not_null())
            .group_by("seg_id", "run")
            .agg(
                pl.col("mmsi").first(),
                pl.col("key").first(),
                pl.col("flag").first(),
                entered=pl.col("change").first(),
                start_time=pl.col("ts").first(),
                last_inside=pl.col("ts").last(),
                lat=pl.col("lat").first(),
                lon=pl.col("lon").first(),
                zone_name=pl.col("zone_name").first(),
                zone_state=pl.col("zone_state").first(),
                night=pl.col("is_night").first(),
                entry_kind=pl.col("zone_kind").first(),
            )
        )
        # the first point after each visit (if the segment goes on outside it): the exit
        after = (
            q.select("seg_id", pl.col("run") - 1, pl.col("ts").alias("exit_time"), pl.col("lat").alias("exit_lat"),
                     pl.col("lon").alias("exit_lon"), pl.col("zone_name").alias("exit_to"))
            .group_by("seg_id", "run")
            .agg(pl.all().first())
        )
        visits = visits.join(after, on=["seg_id", "run"], how="left").sort("seg_id", "start_time")
        if visits.height == 0:
            continue
        own = pl.col("flag").is_not_null() & (pl.col("flag") == pl.col("zone_state")) & pl.lit(level != "custom")
        foreign_sev = _SEV_FOREIGN[level]
        sev = pl.when(own).then(pl.lit("info")).otherwise(pl.lit(foreign_sev))
        if level == "territorial_sea":
            sev = pl.when(~own & pl.col("night").fill_null(False)).then(pl.lit("high")).otherwise(sev)
        level_name = {"eez": "EEZ", "contiguous_zone": "contiguous zone", "territorial_sea": "territorial sea",
                      "disputed": "disputed area", "custom": ""}[level]
        visits = visits.with_columns(
            severity=sev,
            zone_label=pl.when(pl.lit(level in ("disputed", "custom"))).then(pl.col("key")).otherwise(
                pl.col("key") + pl.lit(f" {level_name}")
            ),
            inside_min=((pl.col("exit_time").fill_null(pl.col("last_inside")) - pl.col("start_time")).dt.total_seconds() / 60),
        ).filter(pl.col("inside_min") >= params.min_inside_min)
        visits = visits.with_columns(score=pl.col("severity").replace_strict(_SCORE, return_dtype=pl.Float32))
        entries = visits.filter(pl.col("entered")).select(
            "mmsi", "start_time",
            end_time=pl.col("exit_time"),
            lat="lat", lon="lon", severity="severity", score="score",
            zone_kind=pl.lit(level),
            zone_name=pl.col("zone_label"),
            zone_state=pl.when(pl.lit(level in ("disputed", "custom"))).then(pl.lit(None, pl.Utf8)).otherwise(pl.col("key")),
            evidence=pl.struct(
                pl.lit(level).alias("level"),
                pl.col("zone_label").alias("zone"),
                pl.col("flag").alias("vessel_flag"),
                own.alias("own_flag"),
                pl.col("night").alias("at_night"),
                pl.col("inside_min").round(1).alias("inside_min"),
                pl.col("seg_id"),
            ),
        )
        exits = visits.filter(pl.col("exit_time").is_not_null()).select(
            "mmsi",
            start_time=pl.col("exit_time"),
            end_time=pl.col("exit_time"),
            lat=pl.col("exit_lat"), lon=pl.col("exit_lon"),
            severity=pl.lit("info"), score=pl.lit(0.05, pl.Float32),
            zone_kind=pl.lit(level),
            zone_name=pl.col("zone_label"),
            zone_state=pl.when(pl.lit(level in ("disputed", "custom"))).then(pl.lit(None, pl.Utf8)).otherwise(pl.col("key")),
            evidence=pl.struct(
                pl.lit(level).alias("level"),
                pl.col("zone_label").alias("zone"),
                pl.col("flag").alias("vessel_flag"),
                pl.col("start_time").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("entered"),
                pl.col("entered").alias("crossed_in"),
                pl.col("inside_min").round(1).alias("inside_min"),
                pl.col("exit_to").alias("now_in"),
                pl.col("seg_id"),
            ),
        )
        out.append(finish(entries, "zone_entry", inputs.preset))
        out.append(finish(exits, "zone_exit", inputs.preset))
    if not out:
        return pl.concat([finish(pl.DataFrame(), t, inputs.preset) for t in EVENT_TYPES])
    return pl.concat(out)


__all__ = ["EVENT_TYPES", "LEVELS", "PRESETS", "Params", "detect"]
