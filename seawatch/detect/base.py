"""What every detector shares: its inputs, how its rows become EVENTS, and run helpers.

A detector is a module of :mod:`seawatch.detect` with

- ``Params``: a frozen dataclass of thresholds whose docstring cites the source of each default;
- ``PRESETS``: ``{"coastal": Params(...), "gfw": Params(...), "skylight": Params(...)}``
  (a preset a source does not define is the coastal one);
- ``EVENT_TYPES``: the event types it emits;
- ``detect(inputs: Inputs, params: Params) -> pl.DataFrame``: a pure function of tables that
  returns rows built with :func:`finish` (schema.EVENTS). Batch and live call the same function.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from .. import schema
from ..errors import SeawatchError

PRESET_NAMES = ("coastal", "gfw", "skylight")


@dataclass
class Inputs:
    """The tables a detector may use. ``tracks`` and ``segments`` as built by
    :func:`seawatch.tracks.build_tracks`; ``statics`` as ingested; ``ports`` the PORTS table
    (built-in plus inferred anchorages); ``preset`` the preset's name, written on every event."""

    tracks: pl.DataFrame
    segments: pl.DataFrame = field(default_factory=lambda: schema.empty("segments"))
    statics: pl.DataFrame = field(default_factory=lambda: schema.empty("statics"))
    ports: pl.DataFrame | None = None
    preset: str = "coastal"

    def __post_init__(self) -> None:
        if self.preset not in PRESET_NAMES:
            raise SeawatchError(f"unknown preset {self.preset!r}: use one of {', '.join(PRESET_NAMES)}")
        missing = [c for c in ("mmsi", "ts", "lat", "lon", "seg_id") if c not in self.tracks.columns]
        if missing:
            raise SeawatchError(
                f"tracks lack columns {missing}: pass the output of seawatch.tracks.build_tracks(...).points"
            )

    @property
    def points(self) -> pl.DataFrame:
        """Track points that belong to a segment (noise removed), sorted by segment and time."""
        cached = getattr(self, "_points", None)
        if cached is None:
            cached = self.tracks.filter(pl.col("seg_id").is_not_null())
            # build_tracks gives rows by (mmsi, seg_id, ts): sort only if someone reordered them
            from ..tracks import _contiguous

            if not _contiguous(cached):
                cached = cached.sort("seg_id", "ts")
            object.__setattr__(self, "_points", cached)
        return cached


def event_ids(event_type: pl.Series, mmsi: pl.Series, other: pl.Series, start: pl.Series) -> pl.Series:
    """sha1(type|mmsi|other|start ISO) -> 16 hex digits: the same event gets the same id on rerun."""
    keys = pl.DataFrame({"t": event_type, "m": mmsi, "o": other, "s": start}).select(
        pl.concat_str(
            [
                pl.col("t"),
                pl.col("m").cast(pl.Utf8).fill_null(""),
                pl.col("o").cast(pl.Utf8).fill_null(""),
                pl.col("s").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").fill_null(""),
            ],
            separator="|",
        )
    ).to_series()
    return pl.Series(
        "event_id",
        [hashlib.sha1(k.encode()).hexdigest()[:16] for k in keys.to_list()],  # one per event
        dtype=pl.Utf8,
    )


def finish(df: pl.DataFrame, event_type: str, preset: str, *, zones: bool = True) -> pl.DataFrame:
    """Raw detector rows -> schema.EVENTS.

    ``df`` has ``mmsi, start_time, end_time, lat, lon, severity, score`` and ``evidence`` (a
    struct column, or a JSON string), optionally ``other_mmsi``, ``status`` (default 'closed')
    and zone columns (looked up at lat/lon when absent and ``zones``).
    """
    if df.height == 0:
        return schema.empty("events")
    if "evidence" in df.columns and isinstance(df.schema["evidence"], pl.Struct):
        df = df.with_columns(pl.col("evidence").struct.json_encode())
    if "other_mmsi" not in df.columns:
        df = df.with_columns(other_mmsi=pl.lit(None, dtype=pl.Int64))
    if "status" not in df.columns:
        df = df.with_columns(status=pl.when(pl.col("end_time").is_null()).then(pl.lit("open")).otherwise(pl.lit("closed")))
    if zones and "zone_kind" not in df.columns:
        from .. import zones as _zones

        z = _zones.lookup(df["lat"].to_numpy(), df["lon"].to_numpy())
        df = df.with_columns(zone_name=z["zone_name"], zone_kind=z["zone_kind"], zone_state=z["zone_state"])
    df = df.with_columns(event_type=pl.lit(event_type), preset=pl.lit(preset))
    df = df.with_columns(
        event_id=event_ids(df["event_type"], df["mmsi"].cast(pl.Int64), df["other_mmsi"].cast(pl.Int64), df["start_time"])
    )
    bad = set(df["severity"].unique().drop_nulls().to_list()) - set(schema.SEVERITIES)
    if bad:
        raise AssertionError(f"detector {event_type} produced unknown severities {bad}")
    return schema.conform("events", df.select([c for c in df.columns if c in schema.polars_schema("events")]))


def runs(flag: pl.Expr, by: str | list[str], breaks: pl.Expr | None = None) -> pl.Expr:
    """An id for each run of consecutive true ``flag`` rows within ``by`` (null where false);
    a true ``breaks`` starts a new run even when the row before was flagged too.

    Use on a frame sorted by ``by`` then time: ``df.with_columns(run=runs(pl.col('slow'), 'seg_id'))``.
    """
    start = flag & ~flag.shift(1).over(by).fill_null(False)
    if breaks is not None:
        start = start | (flag & breaks.fill_null(False))
    return pl.when(flag).then(start.cast(pl.Int64).cum_sum())


def severity_at_least(a: str, b: str) -> str:
    """The higher of two severities."""
    order = {s: i for i, s in enumerate(schema.SEVERITIES)}
    return a if order[a] >= order[b] else b


def clip01(x: Any) -> Any:
    return np.clip(x, 0.0, 1.0)


__all__ = ["Inputs", "PRESET_NAMES", "event_ids", "finish", "runs", "severity_at_least", "clip01"]
