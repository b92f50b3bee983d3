"""zone_entry and zone_exit: a segment crosses into, or out of, a maritime zone.

Zones nest by law: a state's territorial sea lies inside its contiguous zone, which lies inside
its EEZ (UNCLOS arts. 3, 33, 57). Track points carry the innermost zone they are in
(``zone_kind``, ``zone_state``); crossings are found level by level, so a vessel going from the
EEZ into the contiguous zone and on into the territorial sea *enters* the contiguous zone and
then the territorial sea, without "leaving" the EEZ. Disputed areas are a level of their own.

``zone_entry`` spans the visit: from the first point inside to the last point inside (``open``
while the track is still inside); ``zone_exit`` is the moment of leaving (first point outside).
A segment that starts inside did not cross in; only the crossings are events.

Event ids hash the type qualified by the level (``zone_entry/territorial_sea``, or
``zone_entry/custom:<area>``) with the MMSI and the start time: a vessel that jumps from outside
the contiguous zone straight into the territorial sea (a reporting gap) enters both at the same
point and time, and both entries are events.

Severity follows the legal meaning for the vessel's flag (its MMSI's MID): own-flag vessels are
``info``; a foreign vessel entering a territorial sea is ``medium`` (``high`` at night), a
contiguous zone ``low``, an EEZ ``info``; a disputed area ``low``; an unidentifiable flag counts
as foreign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .base import Inputs, event_ids, finish

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


_NULL = np.uint32(2**32 - 1)


def _codes(s: pl.Series) -> np.ndarray:
    """uint32 codes of a label column, equal where the values are equal; ``_NULL`` for null."""
    if s.dtype != pl.Categorical:
        s = s.cast(pl.Utf8).cast(pl.Categorical)
    return s.to_physical().fill_null(_NULL).to_numpy()


def _edges(p: pl.DataFrame, new_seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows where a segment starts, rows where a segment or its zone starts or ends): the
    rows kept, as indices into ``p``, and which of them start a segment. Each segment's rows
    are together and in time (Inputs.points), so rows are compared with the row before.
    ``new_seg``: which rows start a segment (:meth:`Inputs.segment_starts`)."""
    n = p.height
    new_zone = new_seg.copy()
    for c in ("zone_kind", "zone_state", "zone_name"):
        x = _codes(p[c])
        new_zone[1:] |= x[1:] != x[:-1]
    cz = p["custom_zones"]
    if cz.null_count() < n:
        new_zone[1:] |= cz.ne_missing(cz.shift(1)).to_numpy()[1:]
    # a row is kept where its (segment, zone) run starts or ends; the frame's last row ends one
    keep = new_zone.copy()
    keep[:-1] |= new_zone[1:]
    keep[-1] = True
    idx = np.flatnonzero(keep)
    return idx, new_seg[idx]


def _visits(p: pl.DataFrame, key: pl.Series, seg_start: np.ndarray, first: np.ndarray) -> pl.DataFrame | None:
    """Each segment's visits of one zone level: runs of one non-null ``key`` (a run starts
    where the key differs from the row before, null counting as a value, except on rows at
    the segment's first time), with the first row after the run (the exit) when the segment
    goes on. None when there is no visit."""
    k = _codes(key)
    n = k.size
    prev = np.empty(n, dtype=k.dtype)
    prev[0] = _NULL
    prev[1:] = k[:-1]
    prev[seg_start] = _NULL  # no row before a segment's first
    change = (k != prev) & ~first
    head = seg_start | change  # a segment's or a run's first row (never both: first holds there)
    gid = np.cumsum(head) - 1
    inside = np.flatnonzero(k != _NULL)
    if inside.size == 0:
        return None
    g = gid[inside]
    new = np.empty(g.size, dtype=bool)
    new[0] = True
    new[1:] = g[1:] != g[:-1]
    fi = inside[new]  # first and last row inside of each visit
    la = inside[np.r_[new[1:], True]]
    heads = np.flatnonzero(head)
    nxt = gid[fi] + 1
    has = nxt < heads.size
    nxt_row = heads[np.minimum(nxt, heads.size - 1)]
    has &= change[nxt_row]  # the next run is in the same segment: its first row is the exit
    exit_idx = pl.Series(np.where(has, nxt_row, 0), dtype=pl.Int64).scatter(np.flatnonzero(~has), None)
    at = p[fi]
    ex = p.select(pl.col("ts", "lat", "lon", "zone_name").gather(exit_idx))  # null: no exit
    return pl.DataFrame({
        "seg_id": at["seg_id"], "mmsi": at["mmsi"], "key": key.gather(fi), "flag": at["flag"],
        "entered": change[fi], "start_time": at["ts"], "last_inside": p["ts"].gather(la),
        "lat": at["lat"], "lon": at["lon"], "zone_name": at["zone_name"], "zone_state": at["zone_state"],
        "night": at["is_night"], "entry_kind": at["zone_kind"],
        "exit_time": ex["ts"], "exit_lat": ex["lat"], "exit_lon": ex["lon"], "exit_to": ex["zone_name"],
    }).sort("seg_id", "start_time")


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
    idx, seg_start = _edges(p, inputs.segment_starts())
    p = p[idx]
    # the flag once per run of one MMSI, not per row
    mm = p["mmsi"]
    mrun = mm.rle_id()
    heads = np.flatnonzero(np.r_[True, mrun.to_numpy()[1:] != mrun.to_numpy()[:-1]])
    p = p.with_columns(flag=flag_state(mm.gather(heads)).gather(mrun))
    # a segment's rows at its first time (a run cannot start there)
    ts = p["ts"].to_physical().to_numpy()
    first = ts == ts[np.maximum.accumulate(np.where(seg_start, np.arange(p.height), 0))]
    pre: list[tuple[pl.DataFrame, pl.DataFrame, str]] = []  # entries, exits, id qualifier
    passes: list[tuple[str, str, pl.Expr]] = []  # level, id qualifier (module docstring), zone key
    for level in params.levels:
        if level == "custom":
            areas = sorted(set(p["custom_zones"].drop_nulls().str.split(";").explode().to_list()))
            passes += [("custom", f"custom:{a}", pl.when(pl.col("custom_zones").str.split(";").list.contains(pl.lit(a)))
                        .then(pl.lit(a))) for a in areas]  # one pass per user area, not per point
        else:
            passes.append((level, level, pl.when(pl.col("zone_kind").is_in(LEVELS[level])).then(
                pl.col("zone_name") if level == "disputed" else pl.col("zone_state"))))
    for level, qual, key in passes:
        visits = _visits(p, p.select(key.alias("key")).to_series(), seg_start, first)
        if visits is None or visits.height == 0:
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
        # labels as text and the evidence as JSON (as finish would), so the levels stack
        text = [pl.col("zone_name", "zone_state").cast(pl.Utf8), pl.col("evidence").struct.json_encode()]
        pre.append((entries.with_columns(text), exits.with_columns(text), qual))
    if not pre:
        return pl.concat([finish(pl.DataFrame(), t, inputs.preset) for t in EVENT_TYPES])
    # one finish per event type (event ids, schema), then back in the order level by level
    done = [finish(pl.concat([x[i] for x in pre]), t, inputs.preset, ids=False) for i, t in enumerate(EVENT_TYPES)]
    for i, t in enumerate(EVENT_TYPES):  # ids qualified by level: one crossing can enter several
        q = pl.Series([f"{t}/{x[2]}" for x in pre for _ in range(x[i].height)], dtype=pl.Utf8)
        done[i] = done[i].with_columns(event_id=event_ids(q, done[i]["mmsi"], done[i]["other_mmsi"], done[i]["start_time"]))
    out, at = [], [0, 0]
    for x in pre:
        for i in (0, 1):
            out.append(done[i].slice(at[i], x[i].height))
            at[i] += x[i].height
    return pl.concat(out)


__all__ = ["EVENT_TYPES", "LEVELS", "PRESETS", "Params", "detect"]
