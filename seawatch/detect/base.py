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

import numpy as np
import polars as pl

from .. import schema
from ..errors import SeawatchError

PRESET_NAMES = ("coastal", "gfw", "skylight")
_LABELS = ("ais_class", "zone_name", "zone_kind", "zone_state", "port_name")

#: The TRACKS columns the detectors read; :class:`Inputs` keeps only these (memory).
DETECT_COLUMNS = (
    "mmsi", "ts", "lat", "lon", "sog_kn", "cog_deg", "ais_class", "seg_id", "is_noise", "dt_s", "dist_nm",
    "implied_speed_kn", "is_night", "dist_to_shore_nm", "zone_name", "zone_kind", "zone_state",
    "custom_zones", "port_name", "port_dist_km",
)


@dataclass
class Inputs:
    """The tables a detector may use. ``tracks`` and ``segments`` as built by
    :func:`seawatch.tracks.build_tracks`; ``statics`` as ingested; ``ports`` the PORTS table
    (built-in plus inferred anchorages); ``preset`` the preset's name, written on every event.

    On construction the tracks are cut to :data:`DETECT_COLUMNS` and split: ``tracks`` (also
    ``points``) keeps the points of segments, contiguous per segment and in time, ``noise`` the
    noise points. Pass the tracks without keeping another reference to save memory, or pass
    tracks without noise and the noise points as ``noise`` (read apart from a store).
    ``ports_in_tracks``: the tracks' ``port_*`` columns were computed with ``ports`` (as
    ``seawatch tracks`` does), so detectors reuse them instead of looking every point up again.
    """

    tracks: pl.DataFrame
    segments: pl.DataFrame = field(default_factory=lambda: schema.empty("segments"))
    statics: pl.DataFrame = field(default_factory=lambda: schema.empty("statics"))
    ports: pl.DataFrame | None = None
    preset: str = "coastal"
    noise: pl.DataFrame | None = None
    ports_in_tracks: bool = False
    detections: pl.DataFrame | None = None
    #: the caller vouches that ``tracks`` are contiguous per segment and in time (e.g. whole
    #: vessels of earlier Inputs joined: the live watch), so the check over every row is skipped
    contiguous: bool = False
    #: which rows of ``tracks`` (noise-free, as given) start a segment, if the caller knows (the
    #: live watch carries them); see :meth:`segment_starts`
    seg_starts: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.preset not in PRESET_NAMES:
            raise SeawatchError(f"unknown preset {self.preset!r}: use one of {', '.join(PRESET_NAMES)}")
        missing = [c for c in ("mmsi", "ts", "lat", "lon", "seg_id") if c not in self.tracks.columns]
        if missing:
            raise SeawatchError(
                f"tracks lack columns {missing}: pass the output of seawatch.tracks.build_tracks(...).points"
            )
        # repeated labels as categoricals: a tenth of the memory of strings on millions of rows
        sel = self.tracks.select([c for c in self.tracks.columns if c in DETECT_COLUMNS]).with_columns(
            pl.col(c).cast(pl.Categorical) for c in _LABELS if c in self.tracks.columns
        )
        is_noise = pl.col("seg_id").is_null()
        n_noise = sel.select(is_noise.sum()).item()
        #: noise points (positions no segment explains); ``tracks`` keeps the others, so the
        #: full table is not held twice
        given = self.noise.select([c for c in self.noise.columns if c in DETECT_COLUMNS]) if self.noise is not None else None
        self.noise = sel.filter(is_noise) if n_noise else (given if given is not None else sel.clear())
        points = sel.filter(~is_noise) if n_noise else sel
        del sel
        # build_tracks gives rows by (mmsi, seg_id, ts): sort only if someone reordered them
        from ..tracks import _contiguous

        if not self.contiguous and not _contiguous(points):
            points = points.sort("seg_id", "ts")
            self.seg_starts = None
        if n_noise or (self.seg_starts is not None and len(self.seg_starts) != points.height):
            self.seg_starts = None
        self.tracks = points

    def segment_starts(self) -> np.ndarray:
        """Bool per row of :attr:`points`: the row is its segment's first (each segment's rows
        are together, so: its seg_id differs from the row before's). Computed once (or given),
        for every detector that needs the segments' bounds."""
        if self.seg_starts is None:
            self.seg_starts = segment_starts(self.tracks["seg_id"])
        return self.seg_starts

    @property
    def points(self) -> pl.DataFrame:
        """Track points that belong to a segment (noise removed), contiguous per segment, in time."""
        return self.tracks


def differing_rows(old: pl.DataFrame, new: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """The rows of ``old`` not in ``new`` and of ``new`` not in ``old``, compared on ``on``
    (nulls equal): what was removed, added or changed between two versions of a table."""
    return pl.concat([old.join(new, on=on, how="anti", nulls_equal=True),
                      new.join(old, on=on, how="anti", nulls_equal=True)])


def segment_starts(seg_id: pl.Series) -> np.ndarray:
    """Bool per row: the row starts its segment, its ``seg_id`` differing from the row before's
    (rows of each segment together, as :attr:`Inputs.points` has them)."""
    return seg_id.ne_missing(seg_id.shift(1)).fill_null(True).to_numpy() if len(seg_id) else np.zeros(0, dtype=bool)


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


def finish(df: pl.DataFrame, event_type: str, preset: str, *, zones: bool = True, ids: bool = True) -> pl.DataFrame:
    """Raw detector rows -> schema.EVENTS.

    ``df`` has ``mmsi, start_time, end_time, lat, lon, severity, score`` and ``evidence`` (a
    struct column, or a JSON string), optionally ``other_mmsi``, ``status`` (default 'closed')
    and zone columns (looked up at lat/lon when absent and ``zones``). ``ids=False``: no
    ``event_id`` (null: the caller sets it).
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
    if ids:
        df = df.with_columns(
            event_id=event_ids(df["event_type"], df["mmsi"].cast(pl.Int64), df["other_mmsi"].cast(pl.Int64), df["start_time"])
        )
    bad = set(df["severity"].unique().drop_nulls().to_list()) - set(schema.SEVERITIES)
    if bad:
        raise AssertionError(f"detector {event_type} produced unknown severities {bad}")
    names = schema.polars_schema("events")  # once, not per column
    return schema.conform("events", df.select([c for c in df.columns if c in names]))


def runs(flag: pl.Expr, by: str | list[str], breaks: pl.Expr | None = None) -> pl.Expr:
    """An id for each run of consecutive true ``flag`` rows within ``by`` (null where false);
    a true ``breaks`` starts a new run even when the row before was flagged too.

    Use on a frame whose rows of each ``by`` group are together and in time (sorted by ``by``
    then time, or :attr:`Inputs.points` as given): ``df.with_columns(run=runs(pl.col('slow'), 'seg_id'))``.
    The row before is compared directly (no window per group: the groups are contiguous).
    """
    keys = [by] if isinstance(by, str) else list(by)
    same_group = pl.all_horizontal([pl.col(k) == pl.col(k).shift(1) for k in keys])
    start = flag & ~(flag.shift(1) & same_group).fill_null(False)
    if breaks is not None:
        start = start | (flag & breaks.fill_null(False))
    return pl.when(flag).then(start.cast(pl.Int64).cum_sum())


__all__ = ["DETECT_COLUMNS", "Inputs", "PRESET_NAMES", "event_ids", "finish", "runs", "segment_starts"]
