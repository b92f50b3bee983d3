"""Detectors: suspicious-behaviour events with evidence, presets and vessel risk scores.

One module per detector (see :mod:`seawatch.detect.base` for the contract). :func:`detect` runs
them all (or some) over tables; :func:`run_detect` over a store, storing the events and risk.

Presets: ``coastal`` (default: what a coastal state watching its 12/24 nm belt needs), ``gfw``
(Global Fishing Watch's published definitions) and ``skylight`` (Skylight's). A TOML config
overrides single thresholds::

    [loitering]
    max_speed_kn = 1.5
    [ais_gap]
    min_gap_h = 4
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path
from typing import Any

import polars as pl

from .. import schema
from ..errors import SeawatchError
from .base import PRESET_NAMES, Inputs, finish
from .risk import WEIGHTS, risk_scores

#: detector name -> module (under seawatch.detect). Names are the config sections.
DETECTORS: dict[str, str] = {
    "zone_crossing": "zone_crossing",
    "port_visit": "port_visit",
    "ais_gap": "gap",
    "loitering": "loitering",
    "encounter": "encounter",
    "speed_anomaly": "speed",
    "position_jump": "jump",
    "identity": "identity",
    "night_coastal_approach": "night_approach",
    "dark": "dark",
}


def module(name: str) -> Any:
    """The module of detector ``name`` (see :data:`DETECTORS`)."""
    try:
        return importlib.import_module(f"{__name__}.{DETECTORS[name]}")
    except KeyError:
        raise SeawatchError(f"unknown detector {name!r}: use one of {', '.join(DETECTORS)}") from None


def params_for(preset: str = "coastal", config: dict[str, Any] | str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The Params of every detector for ``preset``, with ``config`` (a dict or a TOML file)
    overriding single fields: ``{"loitering": {"max_speed_kn": 1.5}}``."""
    if preset not in PRESET_NAMES:
        raise SeawatchError(f"unknown preset {preset!r}: use one of {', '.join(PRESET_NAMES)}")
    if isinstance(config, (str, os.PathLike)):
        import tomllib

        path = Path(config)
        try:
            config = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SeawatchError(f"no such config file: {path}") from None
        except tomllib.TOMLDecodeError as e:
            raise SeawatchError(f"{path} is not valid TOML: {e}") from None
    config = dict(config or {})
    out = {}
    for name in DETECTORS:
        p = module(name).PRESETS[preset]
        over = config.pop(name, None)
        if over:
            fields = {f.name for f in dataclasses.fields(p)}
            bad = sorted(set(over) - fields)
            if bad:
                raise SeawatchError(
                    f"config [{name}] has unknown keys {bad}: known are {', '.join(sorted(fields))}"
                )
            try:
                p = dataclasses.replace(p, **over)
            except (TypeError, ValueError, SeawatchError) as e:
                raise SeawatchError(f"config [{name}]: {e}") from None
        out[name] = p
    if config:
        raise SeawatchError(f"config has unknown sections {sorted(config)}: use {', '.join(DETECTORS)}")
    return out


def detect(
    tracks: pl.DataFrame,
    segments: pl.DataFrame | None = None,
    statics: pl.DataFrame | None = None,
    *,
    preset: str = "coastal",
    config: dict[str, Any] | str | os.PathLike[str] | None = None,
    only: list[str] | tuple[str, ...] | None = None,
    ports: pl.DataFrame | None = None,
    noise: pl.DataFrame | None = None,
    ports_in_tracks: bool = False,
    detections: pl.DataFrame | None = None,
    correlation_out: list[pl.DataFrame] | None = None,
    contiguous: bool = False,
    seg_starts: Any = None,
) -> pl.DataFrame:
    """Run the detectors over tables; returns schema.EVENTS sorted by start_time, event_type.

    ``tracks`` and ``segments`` come from :func:`seawatch.tracks.build_tracks`; ``statics`` from
    the store. ``only`` picks detectors by name (see :data:`DETECTORS`). ``correlation_out``: a
    list to which the dark detector appends its correlation of the ``detections`` with AIS
    (schema.CORRELATION, one row per detection), computed once for its events and this.
    ``contiguous``: the caller vouches that each segment's rows are together and in time (as
    :class:`Inputs` leaves them), so the check over every row is skipped. ``seg_starts``: which
    rows of ``tracks`` start a segment, if known (:attr:`Inputs.seg_starts`).
    """
    params = params_for(preset, config)
    names = list(only) if only else list(DETECTORS)
    for n in names:
        module(n)
    if segments is None:
        from ..tracks import segments_of

        segments = segments_of(tracks)
    inputs = Inputs(
        tracks=tracks,
        segments=segments,
        statics=statics if statics is not None else schema.empty("statics"),
        ports=ports,
        preset=preset,
        noise=noise,
        ports_in_tracks=ports_in_tracks,
        detections=detections,
        contiguous=contiguous,
        seg_starts=seg_starts,
    )
    del tracks  # Inputs holds the columns the detectors need; let the rest go
    frames = []
    for n in names:
        if n == "dark" and correlation_out is not None:
            # dark.detect, keeping the correlation its events come from
            dk = module(n)
            dets = inputs.detections
            if dets is None or dets.height == 0:
                correlation_out.append(schema.empty("correlation"))
                frames.append(schema.empty("events"))
                continue
            corr = dk.correlate(dets, inputs.points, inputs.statics, params[n])
            correlation_out.append(corr)
            frames.append(dk.events_from(corr, params[n], inputs.preset))
        else:
            frames.append(module(n).detect(inputs, params[n]))
    return combine_events(frames)


def combine_events(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Detector outputs -> one events frame: one row per id (the first), sorted by start_time,
    event_type, mmsi, event_id (what :func:`detect` returns)."""
    ev = pl.concat([f for f in frames if f.height] or [schema.empty("events")])
    ev = ev.unique("event_id", keep="first", maintain_order=True)
    return ev.sort("start_time", "event_type", "mmsi", "event_id")


def run_detect(
    db: Any,
    *,
    preset: str = "coastal",
    config: dict[str, Any] | str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Detect over the store at ``db`` (building tracks first if they are missing or older than
    the positions), store the events and risk tables, and write ``out`` if given (format by
    extension: .jsonl, .csv, .geojson, .parquet, .kml). Same store, same ids: rerunning replaces
    the tables with identical rows. With detections in the store, their AIS correlation is
    stored too (table ``correlation``: which detection matched which vessel, which are dark).
    Returns ``{"events", "risk", "correlation", "out"}`` (correlation None without detections).
    """
    from ..store import Store
    from ..tracks import materialise_tracks

    store = db if isinstance(db, Store) else Store(db)
    info = store.derived_info("tracks")
    meta = (info or {}).get("meta", {})
    stale = (
        info is None
        or not store.files_current(meta)  # files ingested (or compacted) since
        or meta.get("zones_generation") != store.generation("zones")  # zones imported since
        or not meta.get("places", False)
    )
    if stale:
        materialise_tracks(store)
    from .base import DETECT_COLUMNS

    ports = store.table("ports") if store.derived_info("ports") is not None else None
    statics = store.table("statics")
    # segment points and noise points read apart: the tracks table is never held twice
    seg = pl.col("seg_id").is_not_null()
    det_gen = store.generation("detections")
    corr: list[pl.DataFrame] = []
    events = detect(store.table("tracks", columns=DETECT_COLUMNS, where=seg), store.table("segments"),
                    statics, preset=preset, config=config, ports=ports,
                    ports_in_tracks=ports is not None,  # materialise_tracks used these ports
                    detections=store.table("detections") if det_gen is not None else None,
                    noise=store.table("tracks", columns=DETECT_COLUMNS, where=~seg),
                    correlation_out=corr)
    risk = risk_scores(events, statics)
    correlation = None
    if det_gen is not None and corr:
        # which detection matched which vessel, for the map and the API (seawatch.serve)
        correlation = corr[0]
        store.write_derived("correlation", correlation, {"preset": preset, "detections_generation": det_gen})
    store.write_derived("events", events, {"preset": preset})
    store.write_derived("risk", risk, {"preset": preset})
    written = None
    if out is not None:
        written = write_events(events, out)
    return {"events": events, "risk": risk, "correlation": correlation, "out": written}


EVENT_FORMATS = (".jsonl", ".csv", ".parquet", ".geojson", ".geoparquet", ".kml")


def write_events(events: pl.DataFrame, out: str | os.PathLike[str]) -> str:
    """Write events to ``out``; the format comes from the extension (:data:`EVENT_FORMATS`).
    In JSONL and GeoJSON the evidence is a nested object; times are ISO-8601 UTC with Z."""
    from ..export import GEO_FORMATS, write_geo

    out = Path(out)
    ext = out.suffix.lower()
    if ext not in EVENT_FORMATS:
        raise SeawatchError(f"cannot write events to {out.name!r}: use a file name ending in {', '.join(EVENT_FORMATS)}")
    if not out.parent.exists():
        raise SeawatchError(f"no such directory: {out.parent} — create it first")
    if ext in GEO_FORMATS:
        write_geo("events", events, out)
        if ext == ".geojson":  # evidence as an object, not a string
            import json

            fc = json.loads(out.read_text())
            for f in fc["features"]:
                f["properties"]["evidence"] = json.loads(f["properties"]["evidence"] or "{}")
            out.write_text(json.dumps(fc))
        return str(out)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    flat = events.with_columns(pl.col("start_time", "end_time").dt.strftime(iso))
    tmp = out.with_name(out.name + ".tmp")
    if ext == ".parquet":
        events.write_parquet(tmp, compression="zstd")
    elif ext == ".csv":
        flat.write_csv(tmp)
    else:
        import json

        with open(tmp, "w", encoding="utf-8") as f:
            for row in flat.iter_rows(named=True):  # one line per event
                row["evidence"] = json.loads(row["evidence"]) if row["evidence"] else {}
                f.write(json.dumps(row) + "\n")
    os.replace(tmp, out)
    return str(out)


__all__ = [
    "DETECTORS",
    "EVENT_FORMATS",
    "Inputs",
    "PRESET_NAMES",
    "WEIGHTS",
    "combine_events",
    "detect",
    "finish",
    "module",
    "params_for",
    "risk_scores",
    "run_detect",
    "write_events",
]
