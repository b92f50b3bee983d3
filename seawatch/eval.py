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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from .errors import SeawatchError

UTC = pl.Datetime("us", "UTC")
TRUTH_COLUMNS = ("event_type", "mmsi", "other_mmsi", "start_time", "end_time")


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
                for r in rows:
                    r.pop("evidence", None)
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
    for c in ("other_mmsi", "end_time", "alert_time"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None).alias(c))
    out = df.select(
        pl.col("event_type").cast(pl.Utf8),
        pl.col("mmsi").cast(pl.Int64),
        pl.col("other_mmsi").cast(pl.Int64),
        *[_time(df, c) for c in ("start_time", "end_time", "alert_time")],
    )
    if "status" in df.columns:
        out = out.with_columns(df["status"].cast(pl.Utf8)).filter(pl.col("status").ne_missing("retracted"))
    return out


def _time(df: pl.DataFrame, c: str) -> pl.Expr:
    dt = df.schema[c]
    if isinstance(dt, pl.Datetime):
        return pl.col(c).dt.convert_time_zone("UTC").cast(UTC) if dt.time_zone else pl.col(c).dt.replace_time_zone("UTC").cast(UTC)
    return pl.col(c).cast(pl.Utf8).str.to_datetime(time_zone="UTC", strict=False).cast(UTC).alias(c)


def evaluate(truth: Any, events: Any, *, tolerance_s: float = 600.0) -> pl.DataFrame:
    """Per event type: truths, events, tp, fp, fn, precision, recall, f05, delay_median_s,
    delay_max_s (frames or .jsonl/.csv/.parquet paths). A final row ``event_type='all'``
    sums the counts over the scored types."""
    t = _read(truth, "truth").with_row_index("ti")
    e = _read(events, "events").with_row_index("ei")
    scored = sorted(set(t["event_type"].to_list()))
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

    tk = keyed(t)
    ek = keyed(e_scored)
    pairs = tk.join(ek, on=["event_type", "k1"], suffix="_e", nulls_equal=True).filter(
        pl.col("k2").eq_missing(pl.col("k2_e"))
    )
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
    return out.with_columns(unscored_events=pl.when(pl.col("event_type") == "all").then(pl.lit(unscored)).otherwise(0))


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
    return "\n".join(lines)


__all__ = ["evaluate", "format_eval"]

