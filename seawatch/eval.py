"""Score events against ground truth: per event type TP, FP, FN, precision, recall, F0.5, delay.

Matching rules:

- a detected event and a truth record *match* when they have the same ``event_type``, the same
  vessel (``mmsi``) — or, for two-vessel events, the same pair in either order — and their time
  spans overlap, each widened by ``tolerance_s`` (default 10 min) on both sides. An open event
  (``end_time`` null) extends to the end of time; an instant (no end) is a point.
- a truth record is *found* (true positive) when at least one event matches it; otherwise it is
  a false negative. An event that matches no truth record is a false positive. An event split
  in two by the detector (two events matching one truth record) is one true positive and no
  false positive: precision is the share of events that match some truth.
- precision = matching events / events; recall = found truths / truths; F0.5 weighs precision
  twice as much as recall (Global Fishing Watch's choice for its event models: a false alarm
  costs an analyst more than a miss). Undefined ratios (0/0) are null.
- delay: when events carry ``alert_time`` (live watch), for each found truth the earliest
  ``alert_time`` of its matching events minus the truth's ``start_time``; reported as median
  and max seconds.

Only event types present in the truth are scored; other types are counted as ``unscored``.

**Dark vessels** (``dark_target``, ``dark_track``: events with no MMSI). They are matched through
the *detections truth* (``detections_truth.csv``, written by ``seawatch simulate`` beside
``truth.jsonl`` and found there by itself, or given as ``detections=``), which says for every
radar / satellite detection which simulated ``vessel`` it shows (null for clutter), whether that
vessel's AIS was ``on``, ``off`` or ``none`` (it carries none) and whether a shore station
``heard`` it around then:

- a ``dark_target`` event belongs to the vessel of its detection (``evidence.detection_id``);
  a ``dark_track`` to the vessel that more than half of its detections show
  (``evidence.detection_ids``); otherwise (clutter, a mix) to none;
- it matches a dark truth record of the same type and the same ``vessel`` whose time span
  overlaps it (widened by ``tolerance_s``), as above; so a dark event on a vessel that was
  transmitting, or on clutter, is a false positive.

Two more figures, on the ``all`` row, when a detections truth is there: ``silent_vessels`` (the
vessels seen that carry no AIS) and ``silent_found`` (those with at least one dark_target or
dark_track event of theirs: each must be reported dark), and ``ais_detections`` (detections of
vessels transmitting AIS that a shore station heard) and ``false_dark`` (how many of those were
called a ``dark_target``: the false-dark share is ``false_dark / ais_detections``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from .errors import SeawatchError

UTC = pl.Datetime("us", "UTC")
TRUTH_COLUMNS = ("event_type", "mmsi", "other_mmsi", "start_time", "end_time")
#: Events of a vessel without an MMSI, matched through the detections truth.
DARK_TYPES = ("dark_target", "dark_track")
#: Name of the detections truth beside truth.jsonl (seawatch.simulate).
DETECTIONS_TRUTH = "detections_truth.csv"


def _read(path_or_frame: Any, what: str) -> pl.DataFrame:
    if isinstance(path_or_frame, pl.DataFrame):
        df = path_or_frame
    else:
        p = Path(path_or_frame)
        if not p.is_file():
            raise SeawatchError(f"no such {what} file: {p}")
        ext = p.suffix.lower()
        try:
            if ext == ".jsonl":
                rows = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
                for r in rows:  # evidence as JSON text (dark events name their detections in it)
                    if "evidence" in r and not isinstance(r["evidence"], str | None):
                        r["evidence"] = json.dumps(r["evidence"])
                df = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
            elif ext == ".csv":
                df = pl.read_csv(p, infer_schema_length=None)
            elif ext == ".parquet":
                df = pl.read_parquet(p)
            else:
                raise SeawatchError(f"{what} file {p.name!r}: use .jsonl, .csv or .parquet")
        except (json.JSONDecodeError, pl.exceptions.ComputeError) as e:
            raise SeawatchError(f"cannot read {what} file {p}: {str(e).splitlines()[0]}") from None
    if df.height == 0:
        df = pl.DataFrame(schema={c: pl.Utf8 for c in TRUTH_COLUMNS})
    missing = [c for c in ("event_type", "mmsi", "start_time") if c not in df.columns]
    if missing:
        raise SeawatchError(f"{what} lacks columns {missing}: each record needs event_type, mmsi, start_time")
    for c in ("other_mmsi", "end_time", "alert_time", "vessel", "evidence"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None).alias(c))
    if isinstance(df.schema["evidence"], pl.Struct):
        df = df.with_columns(pl.col("evidence").struct.json_encode())
    out = df.select(
        pl.col("event_type").cast(pl.Utf8),
        pl.col("mmsi").cast(pl.Int64),
        pl.col("other_mmsi").cast(pl.Int64),
        *[_time(df, c) for c in ("start_time", "end_time", "alert_time")],
        pl.col("vessel").cast(pl.Int64),
        pl.col("evidence").cast(pl.Utf8),
    )
    if "status" in df.columns:
        out = out.with_columns(df["status"].cast(pl.Utf8)).filter(pl.col("status").ne_missing("retracted"))
    return out


def _time(df: pl.DataFrame, c: str) -> pl.Expr:
    dt = df.schema[c]
    if isinstance(dt, pl.Datetime):
        return pl.col(c).dt.convert_time_zone("UTC").cast(UTC) if dt.time_zone else pl.col(c).dt.replace_time_zone("UTC").cast(UTC)
    return pl.col(c).cast(pl.Utf8).str.to_datetime(time_zone="UTC", strict=False).cast(UTC).alias(c)


def _detections_truth(detections: Any, truth: Any) -> pl.DataFrame | None:
    """The detections truth (``detection_id, vessel, ais, heard``): ``detections`` (a frame or a
    .csv/.parquet path), else ``detections_truth.csv`` beside a truth file, else None."""
    if detections is None and isinstance(truth, str | os.PathLike):
        beside = Path(truth).with_name(DETECTIONS_TRUTH)
        detections = beside if beside.is_file() else None
    if detections is None:
        return None
    if isinstance(detections, pl.DataFrame):
        df = detections
    else:
        p = Path(detections)
        if not p.is_file():
            raise SeawatchError(f"no such detections truth file: {p}")
        if p.suffix.lower() == ".parquet":
            df = pl.read_parquet(p)
        elif p.suffix.lower() == ".csv":
            df = pl.read_csv(p, infer_schema_length=None, schema_overrides={"detection_id": pl.Utf8})
        else:
            raise SeawatchError(f"detections truth {p.name!r}: use .csv or .parquet")
    missing = [c for c in ("detection_id", "vessel", "ais", "heard") if c not in df.columns]
    if missing:
        raise SeawatchError(f"detections truth lacks columns {missing}: it needs detection_id, vessel, ais, heard")
    return df.select(pl.col("detection_id").cast(pl.Utf8), pl.col("vessel").cast(pl.Int64),
                     pl.col("ais").cast(pl.Utf8), pl.col("heard").cast(pl.Boolean))


def dark_attribution(events: pl.DataFrame, dtruth: pl.DataFrame) -> pl.DataFrame:
    """``ei, vessel`` of each dark event (``ei``, ``event_type``, ``evidence``): the vessel of a
    dark_target's detection, the vessel of more than half of a dark_track's detections, else null."""
    ev = events.filter(pl.col("event_type").is_in(DARK_TYPES))
    ids = ev.select(
        "ei",
        ids=pl.when(pl.col("event_type") == "dark_target")
        .then(pl.concat_list(pl.col("evidence").str.json_path_match("$.detection_id")))
        .otherwise(pl.col("evidence").str.json_path_match("$.detection_ids").str.json_decode(pl.List(pl.Utf8))),
    ).with_columns(n=pl.col("ids").list.len().fill_null(0)).explode("ids")
    per = (
        ids.join(dtruth.select("detection_id", "vessel"), left_on="ids", right_on="detection_id", how="left")
        .filter(pl.col("vessel").is_not_null())
        .group_by("ei", "vessel").agg(k=pl.len(), n=pl.col("n").first())
        .filter(pl.col("k") * 2 > pl.col("n"))
        .select("ei", "vessel")
    )
    return ev.select("ei").join(per, on="ei", how="left")


def evaluate(truth: Any, events: Any, *, tolerance_s: float = 600.0, detections: Any = None) -> pl.DataFrame:
    """Per event type: truths, events, tp, fp, fn, precision, recall, f05, delay_median_s,
    delay_max_s (frames or .jsonl/.csv/.parquet paths). A final row ``event_type='all'``
    sums the counts over the scored types, and carries ``unscored_events`` and, with a
    detections truth (``detections``, or ``detections_truth.csv`` beside the truth file),
    ``silent_vessels``, ``silent_found``, ``ais_detections`` and ``false_dark`` (see the module
    docstring)."""
    t = _read(truth, "truth").with_row_index("ti")
    e = _read(events, "events").with_row_index("ei")
    dtruth = _detections_truth(detections, truth)
    scored = sorted(set(t["event_type"].to_list()))
    dark_scored = [x for x in scored if x in DARK_TYPES]
    if dark_scored and dtruth is None:
        raise SeawatchError(
            f"the truth has {', '.join(dark_scored)} records: they are scored through the detections truth "
            f"({DETECTIONS_TRUTH} beside the truth file, or detections=...)")
    e_scored = e.filter(pl.col("event_type").is_in(scored))
    tol = pl.duration(microseconds=int(tolerance_s * 1e6))
    far = pl.lit(None, UTC).fill_null(pl.datetime(9999, 1, 1, time_zone="UTC"))

    def keyed(df: pl.DataFrame) -> pl.DataFrame:
        # unordered pair key: (min, max) of mmsi and other_mmsi
        return df.with_columns(
            k1=pl.min_horizontal("mmsi", pl.col("other_mmsi").fill_null(pl.col("mmsi"))),
            k2=pl.when(pl.col("other_mmsi").is_null()).then(pl.lit(None, pl.Int64)).otherwise(
                pl.max_horizontal("mmsi", "other_mmsi")
            ),
        )

    dark = pl.col("event_type").is_in(DARK_TYPES)
    tk = keyed(t.filter(~dark))
    ek = keyed(e_scored.filter(~dark))
    pairs = tk.join(ek, on=["event_type", "k1"], suffix="_e", nulls_equal=True).filter(
        pl.col("k2").eq_missing(pl.col("k2_e"))
    )
    if dark_scored:  # dark events: the same vessel through the detections truth
        who = dark_attribution(e_scored, dtruth)  # type: ignore[arg-type]
        ed = e_scored.filter(dark).join(who, on="ei", how="left", suffix="_a").drop("vessel").rename({"vessel_a": "vessel"})
        dpairs = t.filter(dark & pl.col("vessel").is_not_null()).join(ed, on=["event_type", "vessel"], suffix="_e")
        pairs = pl.concat([pairs.select("ti", "ei", "start_time", "end_time", "start_time_e", "end_time_e", "alert_time_e"),
                           dpairs.select("ti", "ei", "start_time", "end_time", "start_time_e", "end_time_e", "alert_time_e")])
    pairs = pairs.filter(
        (pl.col("start_time") - tol <= pl.col("end_time_e").fill_null(far) + tol)
        & (pl.col("start_time_e") - tol <= pl.col("end_time").fill_null(pl.col("start_time")) + tol)
    )
    found = pairs.group_by("ti").agg(first_alert=pl.col("alert_time_e").min())
    matched_e = pairs.select("ei").unique()
    t2 = t.join(found, on="ti", how="left").with_columns(found=pl.col("ti").is_in(found["ti"].implode()))
    e2 = e_scored.with_columns(ok=pl.col("ei").is_in(matched_e["ei"].implode()))
    rows = []
    every_delay = []
    for typ in scored:
        tt = t2.filter(pl.col("event_type") == typ)
        ee = e2.filter(pl.col("event_type") == typ)
        tp = int(tt["found"].sum())
        fn = tt.height - tp
        ok = int(ee["ok"].sum())
        fp = ee.height - ok
        delays = tt.filter(pl.col("found") & pl.col("first_alert").is_not_null()).select(
            d=(pl.col("first_alert") - pl.col("start_time")).dt.total_microseconds() / 1e6
        )["d"]
        every_delay.append(delays)
        rows.append(_metrics(typ, tt.height, ee.height, tp, fp, fn, ok, delays))
    tot_t = sum(r["truths"] for r in rows)
    tot_e = sum(r["events"] for r in rows)
    tp = sum(r["tp"] for r in rows)
    fp = sum(r["fp"] for r in rows)
    fn = sum(r["fn"] for r in rows)
    all_delays = pl.concat(every_delay) if every_delay else pl.Series([], dtype=pl.Float64)
    rows.append(_metrics("all", tot_t, tot_e, tp, fp, fn, tot_e - fp, all_delays))
    out = pl.DataFrame(rows, schema=_SCHEMA)
    unscored = e.filter(~pl.col("event_type").is_in(scored)).height
    is_all = pl.col("event_type") == "all"
    out = out.with_columns(unscored_events=pl.when(is_all).then(pl.lit(unscored)).otherwise(0))
    figures = dark_figures(e, dtruth) if dtruth is not None else {}
    return out.with_columns(
        pl.when(is_all).then(pl.lit(figures.get(k), pl.Int64)).otherwise(pl.lit(None, pl.Int64)).alias(k)
        for k in DARK_FIGURES
    )


#: The dark-vessel figures on the ``all`` row (null without a detections truth).
DARK_FIGURES = ("silent_vessels", "silent_found", "ais_detections", "false_dark")


def dark_figures(events: pl.DataFrame, dtruth: pl.DataFrame) -> dict[str, int]:
    """``silent_vessels``: vessels without AIS that some detection shows; ``silent_found``: those
    with a dark_target or dark_track event of theirs; ``ais_detections``: detections of vessels
    transmitting AIS, heard by a shore station; ``false_dark``: those that are a dark_target."""
    ev = events if "ei" in events.columns else events.with_row_index("ei")
    who = dark_attribution(ev, dtruth)
    silent = dtruth.filter(pl.col("ais") == "none")["vessel"].unique()
    on = dtruth.filter((pl.col("ais") == "on") & pl.col("heard").fill_null(False))
    called = ev.filter(pl.col("event_type") == "dark_target").select(
        detection_id=pl.col("evidence").str.json_path_match("$.detection_id"))
    return {
        "silent_vessels": silent.len(),
        "silent_found": who.filter(pl.col("vessel").is_in(silent.implode()))["vessel"].n_unique(),
        "ais_detections": on.height,
        "false_dark": on.filter(pl.col("detection_id").is_in(called["detection_id"].unique().implode())).height,
    }


_SCHEMA = {
    "event_type": pl.Utf8, "truths": pl.Int64, "events": pl.Int64, "tp": pl.Int64, "fp": pl.Int64,
    "fn": pl.Int64, "precision": pl.Float64, "recall": pl.Float64, "f05": pl.Float64,
    "delay_median_s": pl.Float64, "delay_max_s": pl.Float64,
}


def _metrics(typ: str, n_t: int, n_e: int, tp: int, fp: int, fn: int, ok: int, delays: pl.Series) -> dict[str, Any]:
    precision = ok / n_e if n_e else None
    recall = tp / n_t if n_t else None
    if precision is None or recall is None or (precision == 0 and recall == 0):
        f05 = None if precision is None or recall is None else 0.0
    else:
        f05 = 1.25 * precision * recall / (0.25 * precision + recall)
    return {
        "event_type": typ, "truths": n_t, "events": n_e, "tp": tp, "fp": fp, "fn": fn,
        "precision": precision, "recall": recall, "f05": f05,
        "delay_median_s": float(delays.median()) if len(delays) else None,
        "delay_max_s": float(delays.max()) if len(delays) else None,
    }


def format_eval(df: pl.DataFrame) -> str:
    """A fixed-width table of :func:`evaluate`'s result."""
    def f(x: Any, pct: bool = False) -> str:
        if x is None:
            return "-"
        return f"{x:.3f}" if pct else f"{x:,.0f}"

    lines = [f"{'event_type':<24}{'truths':>7}{'events':>7}{'tp':>5}{'fp':>5}{'fn':>5}{'prec':>7}{'recall':>7}{'F0.5':>7}{'delay_s':>9}"]
    for r in df.iter_rows(named=True):
        lines.append(
            f"{r['event_type']:<24}{r['truths']:>7}{r['events']:>7}{r['tp']:>5}{r['fp']:>5}{r['fn']:>5}"
            f"{f(r['precision'], True):>7}{f(r['recall'], True):>7}{f(r['f05'], True):>7}{f(r['delay_median_s']):>9}"
        )
    un = df.filter(pl.col("event_type") == "all")["unscored_events"]
    if len(un) and un[0]:
        lines.append(f"({un[0]:,} events of types not in the truth were not scored)")
    a = df.filter(pl.col("event_type") == "all")
    if a.height and "false_dark" in a.columns and a["ais_detections"][0] is not None:
        r = a.row(0, named=True)
        share = r["false_dark"] / r["ais_detections"] if r["ais_detections"] else None
        lines.append(f"dark: {r['silent_found']} of {r['silent_vessels']} vessels without AIS reported dark; "
                     f"{r['false_dark']:,} of {r['ais_detections']:,} detections of vessels transmitting AIS called dark"
                     + (f" ({share:.2%})" if share is not None else ""))
    return "\n".join(lines)


__all__ = ["DARK_FIGURES", "DARK_TYPES", "dark_attribution", "dark_figures", "evaluate", "format_eval"]

