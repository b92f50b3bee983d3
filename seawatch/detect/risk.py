"""Vessel risk scores (0-100) from events, with every contribution listed.

An event contributes ``points = WEIGHTS[event_type] x SEVERITY_FACTOR[severity] x (0.5 + 0.5 x
score)``. Repetition counts, with diminishing returns: the k-th strongest event of one type for
one vessel is multiplied by 0.5^(k-1), so one type can give at most twice its weight. A vessel's
risk is the sum, capped at 100. Retracted events count for nothing; a two-vessel event
(encounter) counts for both vessels.

The weights rank the behaviours of the 1999 Noto / 2001 Amami boats: hovering off the coast at
night, one identity in two places, going dark where others are heard, meeting at sea and
dashing at 30+ kn weigh most; identity anomalies next; legal-but-notable things (a foreign
vessel entering the territorial sea, loitering) least; port visits and zone exits not at all.
They are seawatch's own judgement, documented here and in the README, and overridable.
"""

from __future__ import annotations

import polars as pl

from .. import schema

WEIGHTS: dict[str, float] = {
    "night_coastal_approach": 40.0,
    "dark_track": 30.0,
    "dark_target": 15.0,
    "position_jump": 30.0,
    "ais_gap": 25.0,
    "encounter": 25.0,
    "speed_anomaly": 25.0,
    "identity_invalid": 20.0,
    "identity_mismatch": 20.0,
    "identity_change": 10.0,
    "loitering": 10.0,
    "zone_entry": 10.0,
    "zone_exit": 0.0,
    "port_visit": 0.0,
}
SEVERITY_FACTOR: dict[str, float] = {"info": 0.0, "low": 0.25, "medium": 0.5, "high": 1.0}
REPEAT_DECAY = 0.5


def risk_scores(events: pl.DataFrame, statics: pl.DataFrame | None = None,
                weights: dict[str, float] | None = None) -> pl.DataFrame:
    """schema.RISK: one row per vessel with at least one contributing event, highest risk first."""
    from ..flags import flag_state

    w = {**WEIGHTS, **(weights or {})}
    # vessel-less events (a dark target has no MMSI) belong to no vessel's risk
    ev = events.filter((pl.col("status") != "retracted") & pl.col("mmsi").is_not_null())
    if ev.height == 0:
        return schema.empty("risk")
    both = pl.concat(
        [
            ev.select("event_id", "event_type", "severity", "score", "mmsi"),
            ev.filter(pl.col("other_mmsi").is_not_null()).select(
                "event_id", "event_type", "severity", "score", pl.col("other_mmsi").alias("mmsi")
            ),
        ]
    )
    c = both.with_columns(
        base=pl.col("event_type").replace_strict(w, default=0.0, return_dtype=pl.Float64)
        * pl.col("severity").replace_strict(SEVERITY_FACTOR, default=0.0, return_dtype=pl.Float64)
        * (0.5 + 0.5 * pl.col("score").cast(pl.Float64).fill_null(0.5))
    ).filter(pl.col("base") > 0)
    if c.height == 0:
        return schema.empty("risk")
    c = c.sort(["mmsi", "event_type", "base", "event_id"], descending=[False, False, True, False]).with_columns(
        k=pl.int_range(pl.len()).over("mmsi", "event_type")
    ).with_columns(points=(pl.col("base") * pl.lit(REPEAT_DECAY).pow(pl.col("k"))).round(2))
    out = (
        c.sort(["mmsi", "points", "event_id"], descending=[False, True, False])
        .group_by("mmsi", maintain_order=True)
        .agg(
            risk=pl.col("points").sum().clip(0, 100).cast(pl.Float32),
            n_events=pl.len().cast(pl.Int64),
            reasons=pl.struct("event_type", "event_id", "severity", "points").struct.json_encode(),
        )
        .with_columns(reasons=pl.lit("[") + pl.col("reasons").list.join(", ") + pl.lit("]"))
    )
    if statics is not None and statics.height:
        names = (
            statics.filter(pl.col("shipname").is_not_null()).sort("mmsi", "ts", nulls_last=False)
            .group_by("mmsi").agg(pl.col("shipname").last())
        )
        out = out.join(names, on="mmsi", how="left")
    out = out.with_columns(flag_state=flag_state(out["mmsi"]))
    return schema.conform("risk", out.sort(["risk", "mmsi"], descending=[True, False]))


__all__ = ["REPEAT_DECAY", "SEVERITY_FACTOR", "WEIGHTS", "risk_scores"]
