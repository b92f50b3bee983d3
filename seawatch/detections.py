"""Vessel detections from non-AIS sensors (radar sweeps, SAR / optical satellite passes).

A detection is "something is there": a time, a position, the sensor that saw it and, when the
sensor gives them, a length, a heading and a confidence. The question seawatch asks of them
(:mod:`seawatch.detect.dark`) is which have no AIS track there.

Table ``detections`` (:data:`DETECTIONS`, to be added to :mod:`seawatch.schema`)::

    detection_id, ts, lat, lon, source, sensor, pass_id, length_m, heading_deg, confidence

Readers (:func:`read_detections`) for CSV (plain or .gz), GeoJSON (FeatureCollection of Points)
and Parquet. Columns are matched by name, case-insensitively, with common aliases
(:data:`ALIASES`: ``time``/``timestamp``/``datetime`` for ``ts``, ``latitude``, ``longitude``/
``lng``, ``length``, ``heading``, ``score``, ``id``...). Times: ISO 8601 (``Z``, an offset, or
naive = UTC, ``T`` or space) or epoch seconds / milliseconds.

Reject accounting, as for AIS: every input row becomes a detection or a reject (schema
``rejects``: ``source, line_no, ts, reason, raw``), never an exception;
``rows_read == rows_decoded + rejects.height``. Reasons (:data:`REJECT_REASONS`):

- ``blank``: an empty CSV line (skipped);
- ``bad_row``: time or position missing / unparsable, a wrong number of CSV fields, a GeoJSON
  feature that is not a Point;
- ``position_out_of_range``: |lat| > 90 or |lon| > 180;
- ``bad_value``: a length <= 0, a heading outside [0, 360] or a confidence outside [0, 1].

Defaults: ``source`` the file name when the column is absent or empty; ``sensor`` ``'unknown'``;
``detection_id`` ``'<source>:<line_no>'`` when absent (deterministic); ``pass_id`` (one sensor
sweep / satellite pass; an AIS vessel may match at most one detection of a pass) defaults to
``'<source>|<sensor>|<ts ISO>'``. ``line_no`` counts a CSV header as line 1, and is the 1-based
feature / row number for GeoJSON and Parquet.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from . import schema
from .errors import SeawatchError
from .schema import UTC_TS

DETECTIONS = schema.DETECTIONS

#: Per-detection result of AIS correlation (seawatch.detect.dark.correlate), as in the schema
CORRELATION = schema.CORRELATION

REJECT_REASONS: dict[str, str] = {
    "blank": "empty line (skipped)",
    "bad_row": "time or position missing or unparsable, wrong field count, or a non-Point feature",
    "position_out_of_range": "latitude beyond +/-90 or longitude beyond +/-180",
    "bad_value": "length <= 0, heading outside [0, 360] or confidence outside [0, 1]",
}

#: canonical name -> accepted column names (lower case)
ALIASES: dict[str, tuple[str, ...]] = {
    "detection_id": ("detection_id", "id", "detect_id", "det_id", "uuid"),
    "ts": ("ts", "time", "timestamp", "datetime", "date_time", "detect_time", "acquisition_time", "basedatetime"),
    "lat": ("lat", "latitude", "y"),
    "lon": ("lon", "lng", "long", "longitude", "x"),
    "source": ("source", "provider"),
    "sensor": ("sensor", "sensor_type", "platform"),
    "pass_id": ("pass_id", "pass", "sweep_id", "scene_id", "image_id"),
    "length_m": ("length_m", "length", "vessel_length_m", "est_length"),
    "heading_deg": ("heading_deg", "heading", "orientation"),
    "confidence": ("confidence", "score", "probability", "conf"),
}

CSV_EXTS = (".csv", ".csv.gz")
GEOJSON_EXTS = (".geojson", ".json", ".geojson.gz", ".json.gz")
PARQUET_EXTS = (".parquet", ".geoparquet", ".pq")


@dataclass
class DetectionResult:
    """Detections read from one input, with the accounting: ``rows_read == rows_decoded +
    rejects.height``; every unreadable row is in ``rejects`` with its reason and text."""

    detections: pl.DataFrame = field(default_factory=lambda: empty())
    rejects: pl.DataFrame = field(default_factory=lambda: schema.empty("rejects"))
    rows_read: int = 0

    @property
    def rows_decoded(self) -> int:
        return self.detections.height

    def reasons(self) -> dict[str, int]:
        if self.rejects.height == 0:
            return {}
        return dict(self.rejects.group_by("reason").len().sort("reason").iter_rows())


def polars_schema() -> pl.Schema:
    return pl.Schema({c.name: c.dtype for c in DETECTIONS})


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema())


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """Select and cast to :data:`DETECTIONS` (missing columns null; unknown columns an error)."""
    sch = polars_schema()
    unknown = [c for c in df.columns if c not in sch]
    if unknown:
        raise SeawatchError(f"columns {unknown} are not in the detections schema")
    return df.select([(pl.col(n) if n in df.columns else pl.lit(None)).cast(t).alias(n) for n, t in sch.items()])


# -- parsing -------------------------------------------------------------------------------------
_TS_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
)


def parse_ts(s: pl.Expr) -> pl.Expr:
    """Text -> Datetime(us, UTC): ISO 8601 (Z / offset / naive as UTC) or epoch s / ms; else null."""
    t = s.str.strip_chars().str.replace(r"Z$", "+00:00")
    cands = []
    for f in _TS_FORMATS:
        if f.endswith("%z"):
            cands.append(t.str.to_datetime(f, strict=False, time_unit="us").dt.convert_time_zone("UTC"))
        else:
            cands.append(t.str.to_datetime(f, strict=False, time_unit="us").dt.replace_time_zone("UTC"))
    num = t.cast(pl.Float64, strict=False)
    # epoch: milliseconds when > 1e11 (after 1973 in ms, year 5138 in s)
    us = pl.when(num.abs() > 1e11).then(num * 1e3).otherwise(num * 1e6)
    epoch = pl.when(num.is_finite()).then(us.cast(pl.Int64, strict=False)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return pl.coalesce(*cands, epoch)


def _canonical(columns: list[str]) -> dict[str, str]:
    """input column -> canonical name (first alias wins)."""
    low = {c.strip().strip('"').lstrip("#").strip().lower().lstrip("\ufeff"): c for c in columns}
    out: dict[str, str] = {}
    for name, al in ALIASES.items():
        for a in al:
            if a in low and low[a] not in out:
                out[low[a]] = name
                break
    return out


def _convert(txt: pl.DataFrame, source: str, raw: pl.Series, line_no: pl.Series) -> DetectionResult:
    """Text columns (canonical names, possibly missing) -> DetectionResult."""
    n = txt.height
    cols = set(txt.columns)

    def c(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Utf8).str.strip_chars() if name in cols else pl.lit(None, pl.Utf8)

    def num(name: str) -> pl.Expr:
        return c(name).cast(pl.Float64, strict=False)

    df = txt.with_columns(__raw=raw, __line=line_no).select(
        "__raw", "__line",
        ts=parse_ts(c("ts")),
        lat=num("lat"), lon=num("lon"),
        length_m=num("length_m"), heading_deg=num("heading_deg"), confidence=num("confidence"),
        src=c("source"), sensor=c("sensor"), pass_id=c("pass_id"), detection_id=c("detection_id"),
        # numbers present but unreadable are a bad value, not a silent null
        bad_num=pl.any_horizontal(
            [(c(k).is_not_null() & (c(k) != "") & num(k).is_null()) for k in ("length_m", "heading_deg", "confidence")]
        ) if n else pl.lit(False),
    )
    empty_s = lambda e: e.is_null() | (e == "")  # noqa: E731
    reason = (
        pl.when(pl.col("ts").is_null() | pl.col("lat").is_null() | pl.col("lon").is_null()
                | ~pl.col("lat").is_finite() | ~pl.col("lon").is_finite()).then(pl.lit("bad_row"))
        .when((pl.col("lat").abs() > 90) | (pl.col("lon").abs() > 180)).then(pl.lit("position_out_of_range"))
        .when(pl.col("bad_num") | (pl.col("length_m") <= 0)
              | (pl.col("heading_deg") < 0) | (pl.col("heading_deg") > 360)
              | (pl.col("confidence") < 0) | (pl.col("confidence") > 1)).then(pl.lit("bad_value"))
    )
    df = df.with_columns(__reason=reason)
    bad = df.filter(pl.col("__reason").is_not_null())
    good = df.filter(pl.col("__reason").is_null())
    rejects = schema.conform("rejects", bad.select(
        source=pl.lit(source), line_no=pl.col("__line"), ts=pl.col("ts"), reason=pl.col("__reason"), raw=pl.col("__raw"),
    ))
    src = pl.when(empty_s(pl.col("src"))).then(pl.lit(source)).otherwise(pl.col("src"))
    sensor = pl.when(empty_s(pl.col("sensor"))).then(pl.lit("unknown")).otherwise(pl.col("sensor"))
    good = good.with_columns(source=src, sensor=sensor).with_columns(
        detection_id=pl.when(empty_s(pl.col("detection_id")))
        .then(pl.lit(source + ":") + pl.col("__line").cast(pl.Utf8)).otherwise(pl.col("detection_id")),
        pass_id=pl.when(empty_s(pl.col("pass_id"))).then(
            pl.concat_str([pl.col("source"), pl.col("sensor"), pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")], separator="|")
        ).otherwise(pl.col("pass_id")),
        heading_deg=pl.col("heading_deg") % 360.0,
    )
    det = conform(good.drop("__raw", "__line", "__reason", "bad_num", "src"))
    return DetectionResult(detections=det, rejects=rejects, rows_read=n)


def _row_text(df: pl.DataFrame) -> pl.Series:
    if df.width == 0:
        return pl.Series("raw", [""] * df.height, dtype=pl.Utf8)
    return df.select(pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in df.columns], separator=",")).to_series()


def _rename(df: pl.DataFrame) -> pl.DataFrame:
    m = _canonical(df.columns)
    return df.select([pl.col(k).alias(v) for k, v in m.items()])


def _open_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="backslashreplace")


def read_csv(path: str | os.PathLike[str], source: str | None = None) -> DetectionResult:
    """CSV with a header row. Lines with the wrong number of fields are ``bad_row``, empty lines
    ``blank``; ``line_no`` counts the header as 1."""
    import csv

    path = Path(path)
    source = source or path.name
    text = _open_text(path)
    lines = text.splitlines()
    if not lines:
        return DetectionResult()
    header = next(csv.reader([lines[0]]))
    width = len(header)
    rows, keep_no, rej = [], [], []
    # detections are one line each: parse line by line so line numbers and widths are exact
    body = lines[1:]
    parsed = list(csv.reader(body))
    for k, (line, f) in enumerate(zip(body, parsed)):
        no = k + 2
        if not line.strip():
            rej.append((no, "blank", line))
        elif len(f) != width:
            rej.append((no, "bad_row", line))
        else:
            rows.append(f)
            keep_no.append(no)
    txt = pl.DataFrame(rows, schema={h: pl.Utf8 for h in _dedupe(header)}, orient="row") if rows else \
        pl.DataFrame(schema={h: pl.Utf8 for h in _dedupe(header)})
    raw = pl.Series("raw", [body[n - 2] for n in keep_no], dtype=pl.Utf8)
    res = _convert(_rename(txt), source, raw, pl.Series("line_no", keep_no, dtype=pl.Int64))
    if rej:
        extra = schema.conform("rejects", pl.DataFrame({
            "source": [source] * len(rej), "line_no": [r[0] for r in rej], "reason": [r[1] for r in rej],
            "raw": [r[2] for r in rej]}))
        res.rejects = pl.concat([res.rejects, extra]).sort("line_no")
        res.rows_read += len(rej)
    return res


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        out.append(n if k == 0 else f"{n}__{k}")
        seen[n] = k + 1
    return out


def read_geojson(path: str | os.PathLike[str], source: str | None = None) -> DetectionResult:
    """GeoJSON FeatureCollection (or a bare list of features, or newline-delimited features) of
    Point features; properties carry the other columns. A feature that is not a Point with two
    numbers is ``bad_row``; a file that is not JSON at all is one ``bad_row`` (line 1)."""
    path = Path(path)
    source = source or path.name
    text = _open_text(path)
    feats: list[Any]
    try:
        obj = json.loads(text)
        feats = obj.get("features", [obj] if obj.get("type") == "Feature" else []) if isinstance(obj, dict) else list(obj)
    except (json.JSONDecodeError, AttributeError):
        feats = []
        for line in text.splitlines():  # newline-delimited GeoJSON features
            if line.strip():
                try:
                    feats.append(json.loads(line))
                except json.JSONDecodeError:
                    feats.append(line)
        if not feats:
            feats = [text[:2000]]
    recs, raws = [], []
    for f in feats:
        raws.append(f if isinstance(f, str) else json.dumps(f)[:2000])
        r: dict[str, Any] = {}
        if isinstance(f, dict):
            props = f.get("properties") or {}
            if isinstance(props, dict):
                r.update({str(k): (None if v is None else str(v)) for k, v in props.items()})
            g = f.get("geometry") or {}
            coords = g.get("coordinates") if isinstance(g, dict) else None
            if isinstance(g, dict) and g.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
                r["__lon"], r["__lat"] = str(coords[0]), str(coords[1])
        recs.append(r)
    keys = sorted({k for r in recs for k in r})
    txt = pl.DataFrame({k: [r.get(k) for r in recs] for k in keys}, schema={k: pl.Utf8 for k in keys})
    ren = _rename(txt.drop([k for k in ("__lat", "__lon") if k in keys]))
    # the geometry wins over lat/lon properties
    geo = [pl.col(f"__{k}").alias(k) for k in ("lat", "lon") if f"__{k}" in keys]
    if geo:
        ren = ren.drop([k for k in ("lat", "lon") if k in ren.columns]).with_columns(txt.select(geo))
    else:
        ren = ren.drop([k for k in ("lat", "lon") if k in ren.columns])
    return _convert(ren, source, pl.Series("raw", raws, dtype=pl.Utf8), pl.Series("line_no", np.arange(1, len(recs) + 1), dtype=pl.Int64))


def read_parquet(path: str | os.PathLike[str], source: str | None = None, *, chunk_rows: int = 1_000_000) -> DetectionResult:
    """Parquet (columns by name as for CSV; a ``ts`` that is already a Datetime is taken as is,
    naive = UTC). GeoParquet geometry is not decoded: give lat/lon columns."""
    import pyarrow.parquet as pq

    path = Path(path)
    source = source or path.name
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # not parquet: one reject, no crash
        rej = schema.conform("rejects", pl.DataFrame({"source": [source], "line_no": [1], "reason": ["bad_row"],
                                                      "raw": [f"unreadable parquet: {e}"[:2000]]}))
        return DetectionResult(rejects=rej, rows_read=1)
    parts, row0 = [], 0
    for batch in pf.iter_batches(batch_size=chunk_rows):
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        ren = _rename(df)
        if "ts" in ren.columns and isinstance(ren.schema["ts"], pl.Datetime):
            tz = ren.schema["ts"].time_zone  # type: ignore[union-attr]
            t = pl.col("ts").dt.convert_time_zone("UTC") if tz else pl.col("ts").dt.replace_time_zone("UTC")
            ren = ren.with_columns(t.cast(UTC_TS).dt.strftime("%Y-%m-%dT%H:%M:%S%.f%z"))
        ren = ren.with_columns(pl.all().cast(pl.Utf8))
        lines = pl.Series("line_no", np.arange(row0 + 1, row0 + df.height + 1), dtype=pl.Int64)
        parts.append(_convert(ren, source, _row_text(df.with_columns(pl.all().cast(pl.Utf8))), lines))
        row0 += df.height
    return concat(parts)


def concat(results: list[DetectionResult]) -> DetectionResult:
    if not results:
        return DetectionResult()
    return DetectionResult(
        detections=pl.concat([r.detections for r in results]),
        rejects=pl.concat([r.rejects for r in results]),
        rows_read=sum(r.rows_read for r in results),
    )


def read_detections(path: str | os.PathLike[str], source: str | None = None) -> DetectionResult:
    """Read a detections file; the format comes from the extension (CSV, GeoJSON, Parquet).
    Raises SeawatchError only for a usage mistake (no such file, unknown extension); bad rows
    are rejects."""
    path = Path(path)
    if not path.is_file():
        raise SeawatchError(f"no such detections file: {path}")
    name = path.name.lower()
    if name.endswith(CSV_EXTS):
        return read_csv(path, source)
    if name.endswith(GEOJSON_EXTS):
        return read_geojson(path, source)
    if name.endswith(PARQUET_EXTS):
        return read_parquet(path, source)
    raise SeawatchError(
        f"cannot read detections from {path.name!r}: use a file ending in "
        f"{', '.join(CSV_EXTS + GEOJSON_EXTS + PARQUET_EXTS)}"
    )


__all__ = [
    "ALIASES", "CORRELATION", "DETECTIONS", "DetectionResult", "REJECT_REASONS", "concat", "conform", "empty",
    "parse_ts", "read_csv", "read_detections", "read_geojson", "read_parquet",
]


def ingest_detections(paths: list[str | os.PathLike[str]], db: Any) -> pl.DataFrame:
    """Read detection files into the store at ``db`` (created if needed).

    Detections go to the ``detections`` table (merged by ``detection_id``: re-ingesting a file
    adds nothing); each file's rejects go to the quarantine through the same commit protocol as
    AIS files (a manifest with the row accounting, so ``seawatch stats`` counts them). Returns
    one summary row per file: ``path, status, rows_read, detections, rejected``.
    """
    from .ingest.result import IngestResult
    from .store import Store

    store = db if isinstance(db, Store) else Store(db, create=True)
    rows = []
    for path in paths:
        data = Path(path).read_bytes() if Path(path).is_file() else None
        if data is None:
            raise SeawatchError(f"no such detections file: {path}")
        h = store.new_hash()  # the store's algorithm, as for AIS files
        h.update(b"detections\0")
        h.update(data)
        fp = h.hexdigest()
        if store.has_file(fp):
            rows.append({"path": str(path), "status": "already in the store", "rows_read": 0, "detections": 0, "rejected": 0})
            continue
        r = read_detections(path)
        with store.lock(fp):
            old = store.table("detections") if store.derived_info("detections") else empty()
            merged = pl.concat([old, r.detections], how="vertical_relaxed").unique(
                "detection_id", keep="last", maintain_order=True
            )
            store.write_derived("detections", merged, {"last_file": str(path)})
            store.begin_file(fp)
            store.write_chunk(fp, 0, IngestResult(
                positions=schema.empty("positions"), statics=schema.empty("statics"), other=schema.empty("other"),
                rejects=r.rejects, lines_read=r.rows_read, lines_decoded=r.rows_decoded, duplicates=0,
            ))
            store.commit_file(fp, {"path": str(path), "format": "detections", "lines_read": r.rows_read,
                                   "lines_decoded": r.rows_decoded, "lines_rejected": r.rejects.height,
                                   "duplicates": 0, "detections": r.rows_decoded})
        rows.append({"path": str(path), "status": "ingested", "rows_read": r.rows_read,
                     "detections": r.rows_decoded, "rejected": r.rejects.height})
    return pl.DataFrame(rows, schema={"path": pl.Utf8, "status": pl.Utf8, "rows_read": pl.Int64,
                                      "detections": pl.Int64, "rejected": pl.Int64})
