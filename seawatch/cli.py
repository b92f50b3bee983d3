"""The ``seawatch`` command line: a thin face over the public Python functions.

``seawatch ingest``  -> :func:`seawatch.ingest.files.ingest`
``seawatch stats``   -> :meth:`seawatch.store.Store.stats`
``seawatch export``  -> :func:`seawatch.store.export_table`
``seawatch tracks``  -> :func:`seawatch.tracks.materialise_tracks` (``--engine dask``: :func:`seawatch.scale.tracks_dask`)
``seawatch zones``   -> :func:`seawatch.zones.list_zones`, :func:`seawatch.zones.import_zones_into`
``seawatch detect``  -> :func:`seawatch.detect.run_detect` (``--engine dask``: :func:`seawatch.scale.detect_dask`)
``seawatch vessels`` -> the store's ``risk`` table (:func:`seawatch.detect.risk_scores`)
``seawatch simulate`` -> :func:`seawatch.simulate.simulate`
``seawatch eval``    -> :func:`seawatch.eval.evaluate`
``seawatch inject``  -> :func:`seawatch.inject.inject`
``seawatch watch``   -> :func:`seawatch.live.watch` (live feeds, incremental detection, alerts)
``seawatch replay``  -> :class:`seawatch.live.Replay` (serve a recorded NMEA file over TCP)
``seawatch serve``   -> :func:`seawatch.serve.app.create_app` (JSON API and web map)
``seawatch demo``    -> :func:`seawatch.demo.run_demo`

A :class:`~seawatch.errors.SeawatchError` (a usage mistake) ends any command with a one-line
``Error: <message>`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import SeawatchError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
EXIT_IO = 1


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("seawatch")
    except PackageNotFoundError:  # a source checkout that is not installed
        from . import __version__

        return str(__version__)


def _one_line(msg: object) -> str:
    return " ".join(str(msg).split()) or "unknown error"


def handle_errors(f: F) -> F:
    """Turn SeawatchError into ``Error: <message>`` on stderr and exit 2 (OSError: exit 1)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except SeawatchError as e:
            click.echo(f"Error: {_one_line(e)}", err=True)
            sys.exit(EXIT_USAGE)
        except OSError as e:  # disk full, permission denied...: not a bug, say what happened
            where = f": {e.filename}" if getattr(e, "filename", None) else ""
            click.echo(f"Error: {_one_line(e.strerror or e)}{where}", err=True)
            sys.exit(EXIT_IO)

    return wrapper  # type: ignore[return-value]


DB_OPTION_HELP = "Store directory (DuckDB over Parquet)."


def engine_options(f: F) -> F:
    """--engine local|dask, --scheduler ADDRESS, --workers N (see seawatch.scale)."""
    f = click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                     help="With --engine dask and no --scheduler: workers of the LocalCluster "
                          "(default: one per core).")(f)
    f = click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="With --engine dask: the Dask scheduler to use, e.g. tcp://10.0.0.5:8786 "
                          "(default: start a LocalCluster). Workers must see the store's directory.")(f)
    f = click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help="local: this process; dask: partitions on a Dask cluster (same results, "
                          "memory per worker bounded; see README 'Scaling').")(f)
    return f


def _check_engine(engine: str, scheduler: str | None, workers: int | None) -> None:
    if engine == "local" and (scheduler or workers):
        raise SeawatchError("--scheduler and --workers need --engine dask")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", "-V", prog_name="seawatch",
                      message="%(prog)s %(version)s")
def main() -> None:
    """seawatch: maritime domain awareness from AIS.

    Decode AIS (NMEA, NOAA and DMA CSV, Parquet; plain, .gz or .zip) into a local store,
    then inspect and export it.
    """


# -- ingest ---------------------------------------------------------------------------------------
_SUMMARY_COLS = [
    ("file", "path", "<"),
    ("format", "format", "<"),
    ("status", "status", "<"),
    ("lines", "lines_read", ">"),
    ("decoded", "lines_decoded", ">"),
    ("rejected", "lines_rejected", ">"),
    ("positions", "positions", ">"),
    ("statics", "statics", ">"),
    ("other", "other", ">"),
    ("dups", "duplicates", ">"),
    ("seconds", "seconds", ">"),
]


def _fmt_cell(key: str, v: Any) -> str:
    if key == "seconds":
        return f"{v:.2f}"
    if key == "path":
        return Path(str(v)).name
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _render_table(rows: list[dict[str, Any]], total: dict[str, Any] | None) -> str:
    body = [[_fmt_cell(k, r[k]) for _, k, _ in _SUMMARY_COLS] for r in rows]
    if total is not None:
        body.append([_fmt_cell(k, total[k]) if k in total else "" for _, k, _ in _SUMMARY_COLS])
    head = [h for h, _, _ in _SUMMARY_COLS]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if a == "<" else c.rjust(w)
            for c, w, (_, _, a) in zip(cells, widths, _SUMMARY_COLS)
        ).rstrip()

    out = [line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in body[: len(rows)]]
    if total is not None:
        out += [line(["-" * w for w in widths]), line(body[-1])]
    return "\n".join(out)


@main.command("ingest")
@click.argument("paths", nargs=-1, required=False, metavar="PATH...")
@click.option("--db", required=True, metavar="DIR",
              help=DB_OPTION_HELP + " Created if it does not exist.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar on stderr. Default: only when stderr is a terminal.")
@click.option("--detections", "det_files", multiple=True, metavar="FILE",
              help="Radar or satellite detections (CSV, GeoJSON, Parquet) for dark-vessel "
                   "correlation; repeat for several files.")
@engine_options
@handle_errors
def ingest_cmd(paths: tuple[str, ...], db: str, progress: bool | None, det_files: tuple[str, ...],
               engine: str, scheduler: str | None, workers: int | None) -> None:
    """Decode files into the store at DIR.

    PATH is an NMEA log, a NOAA or DMA CSV or a Parquet file, plain, gzip (.gz) or zip (.zip);
    the format is detected from the content. --detections adds radar/satellite detections. A file already in the store (same
    fingerprint: xxh3-128 of its bytes, sha256 in stores made before that) is skipped. Lines that cannot be decoded are kept in the rejects table, with the reason; they
    do not make the command fail. --engine dask decodes the files in parallel, one task per
    file, each committed on its own.
    """
    from .ingest.files import ingest

    _check_engine(engine, scheduler, workers)
    if not paths and not det_files:
        raise SeawatchError("nothing to ingest: give AIS files (PATH...) and/or --detections FILE")
    if det_files:
        from .detections import ingest_detections

        for r in ingest_detections(list(det_files), db).iter_rows(named=True):
            click.echo(f"{r['path']}: {r['status']}: {r['rows_read']:,} rows, {r['detections']:,} detections, "
                       f"{r['rejected']:,} rejected")
        if not paths:
            return
    if engine == "dask":
        from .scale import ingest_dask

        summary = ingest_dask(list(paths), db, scheduler=scheduler, workers=workers)
    else:
        summary = ingest(list(paths), db, progress=progress)
    rows = summary.to_dicts()
    total: dict[str, Any] = {
        k: int(summary[k].sum())
        for k in ("lines_read", "lines_decoded", "lines_rejected", "positions", "statics",
                  "other", "duplicates")
    }
    total["seconds"] = float(summary["seconds"].sum())
    total["path"] = f"total ({len(rows)} files)" if len(rows) != 1 else "total"
    click.echo(_render_table(rows, total if len(rows) > 1 else None))
    n_new = sum(r["status"] == "ingested" for r in rows)
    n_old = len(rows) - n_new
    msg = f"{n_new} file{'s' if n_new != 1 else ''} ingested"
    if n_old:
        msg += f", {n_old} already in the store (skipped)"
    click.echo(f"{msg}; store: {db}")


# -- stats ----------------------------------------------------------------------------------------
def _reject_label(reason: str) -> str:
    from .schema import SKIPPED_REASONS

    return f"{reason} (skipped)" if reason in SKIPPED_REASONS else reason


def format_stats(st: dict[str, Any]) -> str:
    """The human-readable text of ``seawatch stats``."""

    def n(v: int) -> str:
        return f"{v:,}"

    lines = [
        f"files ingested   {n(st['files'])}",
        f"lines read       {n(st['lines_read'])}",
        f"  decoded        {n(st['lines_decoded'])}",
        f"  rejected       {n(st['lines_rejected'])}"
        f"  ({n(st['skipped'])} skipped non-AIS, {n(st['errors'])} errors)",
        f"  duplicates     {n(st['duplicates'])}  (receptions merged)",
        f"positions        {n(st['positions'])}",
        f"statics          {n(st['statics'])}",
        f"other            {n(st['other'])}",
        f"vessels          {n(st['vessels'])}  (distinct MMSI in positions)",
        f"track points     {n(st['tracks'])}",
        f"segments         {n(st['segments'])}",
    ]
    if st["time_start"]:
        lines.append(f"time span        {st['time_start']} .. {st['time_end']}")
    else:
        lines.append("time span        none (no timed rows)")
    lines.append(f"untimed rows     {n(st['untimed'])}")
    lines.append("messages by type")
    if st["messages_by_type"]:
        for t, c in st["messages_by_type"].items():
            lines.append(f"  type {t:<9} {n(c)}")
    else:
        lines.append("  none")
    lines.append("rejects by reason")
    if st["rejects_by_reason"]:
        for r, c in st["rejects_by_reason"].items():
            lines.append(f"  {_reject_label(r):<28} {n(c)}")
    else:
        lines.append("  none")
    return "\n".join(lines)


@main.command("stats")
@click.option("--db", required=True, metavar="DIR", help=DB_OPTION_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as a JSON object.")
@handle_errors
def stats_cmd(db: str, as_json: bool) -> None:
    """Show what the store at DIR holds.

    Lines read, decoded and rejected (by reason), messages by type, positions, statics,
    vessels, time span and untimed rows.
    """
    from .store import Store

    st = Store(db).stats()
    if as_json:
        click.echo(json.dumps(st, indent=2))
    else:
        click.echo(format_stats(st))


# -- export ---------------------------------------------------------------------------------------
@main.command("export")
@click.argument("table", metavar="TABLE")
@click.option("--db", required=True, metavar="DIR", help=DB_OPTION_HELP)
@click.option("--out", required=True, metavar="FILE",
              help="Output file; its extension picks the format: .parquet, .csv, .jsonl, "
                   ".geojson, .geoparquet or .kml.")
@handle_errors
def export_cmd(table: str, db: str, out: str) -> None:
    """Write every row of TABLE to FILE.

    TABLE is one of positions, statics, other, rejects, tracks, segments, zones, ports.
    Timestamps in CSV and JSONL are ISO-8601 UTC with a Z, e.g. 2019-08-07T22:59:58Z.
    GeoJSON, GeoParquet and KML draw rows with a position as points and segments as lines
    (KML writes one placemark per row: meant for events and segments, not millions of points).
    """
    from .store import export_table

    res = export_table(db, table, out)
    click.echo(f"{res['rows']:,} {res['table']} rows written to {res['out']} ({res['format']})")


# -- tracks ---------------------------------------------------------------------------------------
@main.command("tracks")
@click.option("--db", required=True, metavar="DIR", help=DB_OPTION_HELP)
@click.option("--max-gap-h", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Silence that ends a segment, hours (default 8, as GFW's segmenter).")
@click.option("--max-speed-kn", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Fastest plausible vessel, knots (default 50; faster jumps are another "
                   "transmitter or noise).")
@click.option("--no-places", is_flag=True,
              help="Skip night, distance to shore, zone and port columns (faster).")
@engine_options
@click.option("--positions", default=None, metavar="PATH",
              help="With --engine dask: track this Parquet file or dataset directory of positions "
                   "(seawatch's positions schema) instead of the store's; results go to DIR.")
@handle_errors
def tracks_cmd(db: str, max_gap_h: float | None, max_speed_kn: float | None, no_places: bool,
               engine: str, scheduler: str | None, workers: int | None, positions: str | None) -> None:
    """Build clean tracks and segments from the positions in the store at DIR.

    De-duplicates, separates transmitters sharing one MMSI, flags glitches as noise and adds
    dt_s, dist_nm, implied_speed_kn, turn_deg, is_night, dist_to_shore_nm, zone and port
    columns. Stored as the tables `tracks` and `segments` (replacing earlier ones); see them
    with `seawatch export tracks|segments`.
    """
    from dataclasses import replace

    from .tracks import SegmentParams, materialise_tracks

    params = SegmentParams()
    if max_gap_h is not None:
        params = replace(params, max_gap_h=max_gap_h)
    if max_speed_kn is not None:
        params = replace(params, max_speed_kn=max_speed_kn)
    _check_engine(engine, scheduler, workers)
    if engine == "dask":
        from .scale import tracks_dask

        st = tracks_dask(db, params, places=not no_places, scheduler=scheduler, workers=workers,
                         positions=positions)
    elif positions is not None:
        raise SeawatchError("--positions needs --engine dask (the local engine tracks the store's positions)")
    else:
        st = materialise_tracks(db, params, places=not no_places).stats
    click.echo(
        f"{st['points']:,} track points, {st['segments']:,} segments, {st['vessels']:,} vessels "
        f"from {st['positions']:,} positions"
    )
    click.echo(
        f"not tracked: {st['untracked_no_time_or_position']:,} without time or position, "
        f"{st['untracked_not_vessel']:,} not from vessels; {st['duplicates_merged']:,} duplicates "
        f"merged; {st['noise']:,} noise points"
    )


# -- zones ----------------------------------------------------------------------------------------
@main.group("zones")
def zones_group() -> None:
    """Maritime zones: list the built-in and imported ones, import your own."""


@zones_group.command("list")
@click.option("--db", default=None, metavar="DIR", help=DB_OPTION_HELP + " Adds the zones imported into it.")
@click.option("--json", "as_json", is_flag=True, help="Print the zones as a JSON list.")
@handle_errors
def zones_list_cmd(db: str | None, as_json: bool) -> None:
    """List the zones in use: name, kind, state, claimants, source."""
    from .zones import list_zones

    z = list_zones(db)
    if as_json:
        click.echo(json.dumps(z.to_dicts(), indent=2))
        return
    click.echo(f"{'zone_id':<44}{'kind':<17}{'state':<6}{'claimants':<13}{'origin':<9}name")
    for r in z.iter_rows(named=True):
        click.echo(f"{r['zone_id'][:43]:<44}{r['kind']:<17}{(r['state'] or ''):<6}"
                   f"{(r['claimants'] or ''):<13}{r['origin']:<9}{r['name']}")
    click.echo(f"{z.height} zones")


@zones_group.command("import")
@click.argument("file", metavar="FILE")
@click.option("--kind", required=True, metavar="KIND",
              help="territorial_sea, contiguous_zone, eez, internal_waters, high_seas, disputed or "
                   "custom (a user area of interest).")
@click.option("--db", required=True, metavar="DIR", help=DB_OPTION_HELP)
@click.option("--name", default=None, help="One name for all polygons in FILE (default: each "
              "feature's name property, or the file name).")
@click.option("--state", default=None, metavar="ISO3", help="Coastal state of a state zone, e.g. JPN.")
@click.option("--claimants", default=None, metavar="A;B", help="Claimants of a disputed zone, e.g. 'JPN;KOR'.")
@handle_errors
def zones_import_cmd(file: str, kind: str, db: str, name: str | None, state: str | None,
                     claimants: str | None) -> None:
    """Import zones from FILE (GeoJSON, KML/KMZ; GeoPackage or Shapefile with pyogrio).

    Official boundaries (e.g. Marine Regions EEZ / 12 nm / 24 nm) override the built-in ones
    where they cover a point; custom areas are reported in tracks' custom_zones and give
    zone_entry / zone_exit events. Rerun `seawatch tracks` (or `detect`) to apply them.
    """
    from .store import Store
    from .zones import import_zones_into

    rows = import_zones_into(Store(db), file, kind, name=name, state=state, claimants=claimants)
    for r in rows.iter_rows(named=True):
        click.echo(f"imported {r['zone_id']} ({r['kind']}{', ' + r['state'] if r['state'] else ''}): {r['name']}")


# -- detect ---------------------------------------------------------------------------------------
@main.command("detect")
@click.option("--db", required=True, metavar="DIR", help=DB_OPTION_HELP)
@click.option("--preset", type=click.Choice(["coastal", "gfw", "skylight"]), default="coastal",
              show_default=True, help="Event definitions: coastal (a coastal state's watch), "
              "gfw (Global Fishing Watch's), skylight (Skylight's).")
@click.option("--config", type=click.Path(dir_okay=False), default=None, metavar="FILE.toml",
              help="Override single thresholds, e.g. [ais_gap] min_gap_h = 4.")
@click.option("--out", default=None, metavar="FILE",
              help="Also write the events to FILE: .jsonl, .csv, .geojson, .geoparquet, .parquet or .kml.")
@engine_options
@handle_errors
def detect_cmd(db: str, preset: str, config: str | None, out: str | None, engine: str,
               scheduler: str | None, workers: int | None) -> None:
    """Find suspicious behaviour: events with evidence, and vessel risk.

    Builds tracks first if the store has none or new files were ingested since. Events and
    risk are stored as the tables `events` and `risk` (replacing earlier ones; rerunning gives
    the same event ids). See them with `seawatch vessels` or `seawatch export events`.
    """
    import polars as pl

    from .detect import run_detect

    _check_engine(engine, scheduler, workers)
    if engine == "dask":
        from .scale import detect_dask

        res = detect_dask(db, preset=preset, config=config, out=out, scheduler=scheduler, workers=workers)
    else:
        res = run_detect(db, preset=preset, config=config, out=out)
    ev = res["events"]
    click.echo(f"{ev.height:,} events ({preset} preset), {res['risk'].height:,} vessels with risk > 0")
    if ev.height:
        counts = ev.group_by("event_type", "severity").len().pivot(
            on="severity", index="event_type", values="len"
        ).fill_null(0)
        for sev in ("info", "low", "medium", "high"):
            if sev not in counts.columns:
                counts = counts.with_columns(pl.lit(0, pl.UInt32).alias(sev))
        counts = counts.select("event_type", "info", "low", "medium", "high").sort("event_type")
        click.echo(f"  {'event_type':<24}{'info':>7}{'low':>7}{'medium':>7}{'high':>7}")
        for row in counts.iter_rows():
            click.echo(f"  {row[0]:<24}" + "".join(f"{v:>7,}" for v in row[1:]))
    if res["out"]:
        click.echo(f"events written to {res['out']}")


def format_risk(risk: Any, reasons_shown: int) -> str:
    """A fixed-width table of RISK rows: mmsi, flag, risk, name and the first reasons."""
    lines = [f"{'mmsi':>10}  {'flag':<4}  {'risk':>5}  {'name':<20}  reasons"]
    for r in risk.iter_rows(named=True):
        reasons = json.loads(r["reasons"])
        summary = ", ".join(f"{x['event_type']} {x['severity']} +{x['points']:g}" for x in reasons[:reasons_shown])
        if len(reasons) > reasons_shown:
            summary += f", ... ({len(reasons)} in all)"
        lines.append(f"{r['mmsi']:>10}  {(r['flag_state'] or '?'):<4}  {r['risk']:>5.1f}  "
                     f"{(r['shipname'] or '')[:20]:<20}  {summary}")
    return "\n".join(lines)


@main.command("vessels")
@click.option("--db", required=True, metavar="DIR", help=DB_OPTION_HELP)
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 100000),
              help="How many vessels to list, highest risk first.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list with every reason.")
@handle_errors
def vessels_cmd(db: str, top: int, as_json: bool) -> None:
    """Rank vessels by risk (0-100), with the reasons for each."""
    from .store import Store

    st = Store(db)
    if st.derived_info("risk") is None:
        raise SeawatchError(f"no risk scores in {db} yet: run `seawatch detect --db {db}` first")
    risk = st.table("risk").sort(["risk", "mmsi"], descending=[True, False]).head(top)
    if as_json:
        rows = risk.to_dicts()
        for r in rows:
            r["reasons"] = json.loads(r["reasons"])
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(format_risk(risk, reasons_shown=4))


# -- simulate and eval ----------------------------------------------------------------------------
@main.command("simulate")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--out", required=True, metavar="DIR", help="Directory for feed.nmea, truth.jsonl and README.md.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same files).")
@click.option("--hours", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Hours of traffic (default: the scenario's own).")
@handle_errors
def simulate_cmd(scenario: str, out: str, seed: int, hours: float | None) -> None:
    """Write a scenario: real NMEA 0183 plus the truth of what was planted.

    SCENARIO is one of amami-2001, niigata-night, sts-transfer, going-dark, mmsi-clone,
    identity-swap, all. Then: seawatch ingest DIR/feed.nmea --db DB; seawatch detect --db DB
    --out events.jsonl; seawatch eval --truth DIR/truth.jsonl --events events.jsonl.
    """
    from .simulate import simulate

    res = simulate(scenario, out, seed=seed, hours=hours)
    click.echo(f"{scenario}: {res['messages']:,} messages from {res['vessels']:,} vessels "
               f"-> {res['feed']}; {len(res['planted'])} planted behaviours -> {res['truth']}")


@main.command("eval")
@click.option("--truth", required=True, metavar="FILE", help="Ground truth (.jsonl, .csv or .parquet).")
@click.option("--events", required=True, metavar="FILE", help="Events to score (.jsonl, .csv or .parquet).")
@click.option("--tolerance-s", default=600.0, show_default=True, type=click.FloatRange(min=0),
              help="Slack on both sides of each time span when matching, seconds.")
@click.option("--detections-truth", default=None, metavar="FILE",
              help="Which vessel each sensor detection shows, for dark_target / dark_track "
                   "(default: detections_truth.csv beside --truth, as `seawatch simulate` writes it).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@handle_errors
def eval_cmd(truth: str, events: str, tolerance_s: float, detections_truth: str | None, as_json: bool) -> None:
    """Score events against ground truth: precision, recall, F0.5 per type.

    An event matches a truth record of the same type and vessel (or pair, in either order)
    whose time span overlaps it (widened by the tolerance); a dark event (no MMSI) matches
    through the vessel its detections show. See seawatch.eval for the rules.
    """
    from .eval import evaluate, format_eval

    res = evaluate(truth, events, tolerance_s=tolerance_s, detections=detections_truth)
    if as_json:
        click.echo(json.dumps(res.to_dicts(), indent=2))
    else:
        click.echo(format_eval(res))


# -- demo -----------------------------------------------------------------------------------------
@main.command("demo")
@click.option("--db", default="seawatch-demo", show_default=True, metavar="DIR",
              help=DB_OPTION_HELP + " The simulated feed is written under DIR/feed/.")
@click.option("--scenario", default="all", show_default=True, metavar="NAME",
              help="Scenario to simulate (see `seawatch simulate --help`).")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option("--hours", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Hours of traffic (default: the scenario's own).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many vessels to list, highest risk first.")
@click.option("--no-serve", is_flag=True, help="Stop after the summary (do not start the web map).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the web map on 127.0.0.1.")
@click.option("--live", is_flag=True,
              help="Replay the scenario over loopback into `seawatch watch` and follow it on the map "
                   "(needs a new --db).")
@click.option("--speed", default=60.0, show_default=True, type=click.FloatRange(0),
              help="With --live: times real time (0: as fast as possible).")
@handle_errors
def demo_cmd(db: str, scenario: str, seed: int, hours: float | None, top: int, no_serve: bool, port: int,
             live: bool, speed: float) -> None:
    """Run the whole pipeline on a simulated sea, offline, and show what it found.

    Simulates SCENARIO (default `all`: a spy boat hovering off Niigata at night, a
    ship-to-ship transfer, vessels going dark, a cloned MMSI, identity swaps and a 32 kn dash
    among ~140 honest vessels) as real NMEA, ingests it into DIR, builds tracks, runs every
    detector, prints the top vessels by risk with their reasons and the score against the
    planted truth, then serves the web map (unless --no-serve). Rerunning adds nothing.
    """
    from .demo import run_demo
    from .eval import format_eval
    from .serve.cli import serve_command

    if live:
        from .live import start_live_demo

        demo = start_live_demo(db, scenario=scenario, seed=seed, hours=hours, speed=speed)
        click.echo(f"live: replaying {demo.feed} at {speed:g}x into {db}; alerts -> {demo.alerts}")
        try:
            if no_serve:
                demo.wait()
            else:
                click.get_current_context().invoke(serve_command, db=db, host="127.0.0.1", port=port, token=None,
                                                   get_path=None, show_headers=False, poll_s=2.0)
        finally:
            demo.stop()
            click.echo(format_eval(demo.score()))
        return
    res = run_demo(db, scenario=scenario, seed=seed, hours=hours)
    st = res["stats"]
    click.echo(f"simulated {scenario}: {res['feed']}")
    click.echo(f"ingested {st['lines_read']:,} lines: {st['positions']:,} positions, {st['vessels']:,} vessels, "
               f"{st['lines_rejected']:,} rejected; {st['tracks']:,} track points in {st['segments']:,} segments")
    ev = res["events"]
    click.echo(f"{ev.height:,} events; top vessels by risk:")
    if top:
        click.echo(format_risk(res["risk"].head(top), reasons_shown=3))
    click.echo("\nscore against the planted truth (seawatch eval):")
    click.echo(format_eval(res["eval"]))
    click.echo(f"\nnext: seawatch vessels --db {db}  |  seawatch export events --db {db} --out events.geojson")
    if no_serve:
        return
    click.get_current_context().invoke(serve_command, db=db, host="127.0.0.1", port=port, token=None,
                                       get_path=None, show_headers=False, poll_s=2.0)


from .inject import inject_command  # noqa: E402
from .live import replay_command, watch_command  # noqa: E402
from .serve.cli import serve_command  # noqa: E402  (FastAPI is imported only when it runs)

main.add_command(serve_command)
main.add_command(inject_command, "inject")
main.add_command(watch_command)
main.add_command(replay_command)


if __name__ == "__main__":  # pragma: no cover
    main()
