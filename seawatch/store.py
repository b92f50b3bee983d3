"""The embedded store: Parquet files on disk, queried with DuckDB.

Layout of a store directory ``DIR``::

    DIR/_store.json                                   marks the directory as a seawatch store
    DIR/positions/day=YYYY-MM-DD/<fp16>-<chunk>.parquet   rows by UTC day of ``ts``
    DIR/positions/day=untimed/<fp16>-<chunk>.parquet      rows whose ``ts`` is null
    DIR/statics/day=.../...                           same partitioning as positions
    DIR/other/day=.../...                             same partitioning as positions
    DIR/rejects/<fp16>-<chunk>.parquet                the quarantine, not partitioned
    DIR/_files/<fingerprint>.json                     one manifest per ingested input file
    DIR/_locks/<fp16>.lock                            held (flock) while a file is being ingested
    DIR/_sizes/<bytes>                                an input file of this size was ingested
    DIR/_pending/<name>                               held (flock) while parts are written under a
                                                      provisional name (see below)

``fingerprint`` is the hash (hex) of an input file's bytes, ``fp16`` its first 16 hex digits
and ``chunk`` a zero-padded 5-digit chunk number (``00000``) within that file. Every table row of
an input file lives in a part named after that file's fingerprint, so a file's parts can be found
(and removed) by name alone.

The hash is a property of the store, named by ``"fingerprint"`` in ``_store.json``: ``xxh3_128``
(32 hex digits) for stores made now; a ``_store.json`` without the key is a store made by an
earlier version, which keeps ``sha256`` (64 hex digits), so a file it already holds is still
recognised. One store never mixes the two (:attr:`Store.fingerprint_algorithm`,
:meth:`Store.new_hash`, :meth:`Store.fingerprint_file`).

Commit protocol (crash safety):

1. :meth:`Store.begin_file` deletes any parts named after the fingerprint: leftovers of an
   earlier ingest of the same file that was interrupted before its manifest was written.
2. :meth:`Store.write_chunk` (or a :class:`ChunkWriter`, which writes a part a row group at a
   time) writes each part to ``<name>.parquet.tmp``, fsyncs it and renames it into place with
   :func:`os.replace` (atomic), so a part is either whole or absent.
3. :meth:`Store.commit_file` fsyncs the directories the parts were renamed in, then writes the
   manifest last, also tmp + fsync + ``os.replace``.

A new file is read once, not twice: when no file of its size was ever ingested
(:meth:`Store.may_hold` is false: ``_sizes/`` has no entry for it), it is almost surely not in
the store, so :func:`~seawatch.ingest.ingest` writes its parts under a random provisional
fingerprint (:meth:`Store.provisional`) while it hashes the bytes it decodes; once the hash is
known, :meth:`Store.adopt` (under the file's lock) renames the parts after it, or removes them if
the store holds that file after all (another process committed it meanwhile, or its size was
not recorded). A provisional name is never committed, so readers
never see its parts; those of an ingest that died are removed by :meth:`Store.sweep` (run first
by every ingest), which recognises them by their ``_pending/`` entry no longer being locked. Any
other file (the same size as one ingested, compressed, a provider table) is fingerprinted first,
then decoded if it is new. Stores made before ``_sizes/`` existed fingerprint every file first.

A file counts as ingested exactly when its manifest exists. Readers (:meth:`Store.table`,
:meth:`Store.query`, :meth:`Store.stats`) take a snapshot of the manifests and read only parts
that belong to a committed file, so a query run while another process is ingesting sees whole
files or nothing of them, and never a ``*.tmp`` file. Rerunning an interrupted ingest gives the
same rows as a clean one: no loss, no duplicates.

Derived tables (tracks, segments, zones, events, ...) are not ingested but computed from the
store; each computation replaces the whole table, as one *generation*::

    DIR/<table>/gen-<n>/day=YYYY-MM-DD/part.parquet   (or gen-<n>/part.parquet when not by day)
    DIR/_derived/<table>.json                         names the current generation: the commit

:meth:`Store.write_derived` writes generation n+1 (tmp + rename per part), then replaces the
pointer atomically; readers list parts from the pointer, so they see the old table or the new
one, never a mixture. The generation before the current one is kept (a reader may still be on
it); older ones are deleted.

The manifest holds ``path``, ``fingerprint``, ``format``, the line accounting (``lines_read``,
``lines_decoded``, ``lines_rejected``, ``duplicates``), the row counts written per table and
``ingested_at`` (ISO-8601 UTC).

Compaction (:meth:`Store.compact`; the live watcher commits a small file per stream and batch,
and compacts them every few minutes): the rows of several committed files are rewritten as one
file ``C``, then ``DIR/_files/C.replaces`` (the fingerprints it replaces) is written, then C's
manifest (the commit), then the replaced manifests are deleted. A reader that sees C's manifest
also sees C.replaces and ignores the replaced files, so it reads every row once, before or after.
The replaced parts are deleted by a later compaction, at least ``keep_s`` after the commit (a
reader may still be reading them); :meth:`Store.has_file` stays true for a replaced file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq

from . import schema
from .errors import SeawatchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Tables stored in the store, in display order.
TABLE_NAMES: tuple[str, ...] = tuple(schema.TABLES)
#: Tables partitioned by the UTC day of ``ts``.
DAY_PARTITIONED: frozenset[str] = frozenset({"positions", "statics", "other"})
#: Tables computed from the store (replaced as a whole by :meth:`Store.write_derived`), and the
#: time column each is partitioned by (None: one file).
DERIVED: dict[str, str | None] = {
    "tracks": "ts", "segments": None, "zones": None, "ports": None, "events": None, "risk": None,
    "detections": "ts", "correlation": "ts",
}
DERIVED_DIR = "_derived"
#: Tables whose rows are AIS messages (``msg_type`` column).
MESSAGE_TABLES: tuple[str, ...] = ("positions", "statics", "other")

STORE_MARKER = "_store.json"
FILES_DIR = "_files"
LOCKS_DIR = "_locks"
SIZES_DIR = "_sizes"
PENDING_DIR = "_pending"
STORE_FORMAT_VERSION = 1
UNTIMED = "untimed"
#: The fingerprint algorithm of the stores made now, and of those whose ``_store.json`` names none
#: (made before the key existed).
FINGERPRINT_ALGORITHM = "xxh3_128"
LEGACY_FINGERPRINT_ALGORITHM = "sha256"
FINGERPRINT_ALGORITHMS: tuple[str, ...] = (FINGERPRINT_ALGORITHM, LEGACY_FINGERPRINT_ALGORITHM)

_FP_RE = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")  # used with fullmatch
_EXPORT_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}
#: How timestamps are written to CSV and JSONL: ISO-8601 UTC with ``Z``; fraction only if needed.
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def _check_table(name: str) -> str:
    if name not in schema.TABLES:
        raise SeawatchError(f"unknown table {name!r}: use one of {', '.join(TABLE_NAMES)}")
    return name


def _check_fp(fingerprint: str) -> str:
    if not isinstance(fingerprint, str) or not _FP_RE.fullmatch(fingerprint):
        raise SeawatchError(
            f"bad fingerprint {fingerprint!r}: expected 32 (xxh3_128) or 64 (sha256) lowercase hex digits"
        )
    return fingerprint


def new_hash(algorithm: str = FINGERPRINT_ALGORITHM) -> Any:
    """A fresh streaming hash object (``update``, ``hexdigest``) of a fingerprint algorithm."""
    if algorithm == "xxh3_128":
        try:
            import xxhash
        except ImportError:  # pragma: no cover - a dependency
            raise SeawatchError("the xxhash package is missing: pip install 'xxhash>=3.0'") from None
        return xxhash.xxh3_128()
    if algorithm == "sha256":
        import hashlib

        return hashlib.sha256()
    raise SeawatchError(
        f"unknown fingerprint algorithm {algorithm!r}: use one of {', '.join(FINGERPRINT_ALGORITHMS)}"
    )


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _place(tmp: Path, path: Path) -> None:
    """fsync the part written to ``tmp``, then rename it to ``path`` (whole or absent)."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


_PLACER: Any = None


def _placer() -> Any:
    """The thread that fsyncs and renames parts while the caller goes on (an fsync is mostly
    waiting for the disk: about 7 ms for the bench file's 16 MB of positions)."""
    global _PLACER
    if _PLACER is None:
        from concurrent.futures import ThreadPoolExecutor

        _PLACER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seawatch-fsync")
    return _PLACER


def _forget_placer() -> None:
    global _PLACER
    _PLACER = None


if hasattr(os, "register_at_fork"):  # a forked child has no thread behind the parent's executor
    os.register_at_fork(after_in_child=_forget_placer)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


#: Columns of the ingested tables that get Parquet statistics (what queries filter on).
STATS_COLUMNS: tuple[str, ...] = ("ts", "mmsi", "lat", "lon")
#: Columns written without a dictionary: nearly unique per row, or timestamps and line numbers.
_PLAIN_COLUMNS = frozenset({"ts", "line_no", "payload", "raw"})
_part_options_cache: dict[str, dict[str, Any]] = {}


def _part_options(table: str) -> dict[str, Any]:
    """:func:`seawatch.parquet.write_parquet` options for parts of an ingested table: a
    dictionary for the columns with few distinct values per part (codes, classes, names, MMSIs,
    float32 readings); statistics only for the columns queries filter on; LZ4 for every column
    but the float64 ones (latitude and longitude, nearly unique: LZ4 saved 3% of their size for
    7 ms per column on the bench file's 838,096 positions). Measured on the bench file (960,000
    messages, one core): pyarrow's writer with the equivalent options took 145 ms for the
    positions and wrote 17.7 MB; this writer takes about 60 ms and writes 19.6 MB."""
    opts = _part_options_cache.get(table)
    if opts is None:
        cols = schema.columns(table)
        f64 = {c.name for c in cols if c.dtype == pl.Float64}
        opts = _part_options_cache[table] = {
            "dictionary": [c.name for c in cols if c.name not in _PLAIN_COLUMNS and c.name not in f64
                           and not isinstance(c.dtype, pl.Datetime)],
            "statistics": [c for c in STATS_COLUMNS if c in {x.name for x in cols}],
            "compress": [c.name for c in cols if c.name not in f64],
        }
    return opts


def _duck_type(dtype: Any) -> str:
    """The DuckDB type of a schema column's polars dtype (for the null columns of older parts)."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ"
    names = {pl.Utf8: "VARCHAR", pl.Int64: "BIGINT", pl.Int32: "INTEGER", pl.Int16: "SMALLINT", pl.Int8: "TINYINT",
             pl.Float64: "DOUBLE", pl.Float32: "FLOAT", pl.Boolean: "BOOLEAN"}
    return next(v for k, v in names.items() if dtype == k)


def _scan(table: str, files: list[str]) -> pl.LazyFrame:
    """Lazy scan of parts in the table's schema (columns missing from old parts become null)."""
    return pl.scan_parquet(
        files,
        schema=schema.polars_schema(table),
        hive_partitioning=False,
        glob=False,
        missing_columns="insert",
        extra_columns="ignore",
    )


def iso_utc(epoch_us: int | None) -> str | None:
    """Microseconds since the epoch -> ``2019-08-07T22:59:58Z`` (fraction only when non-zero)."""
    if epoch_us is None:
        return None
    t = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(microseconds=epoch_us)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += f".{t.microsecond:06d}".rstrip("0")
    return s + "Z"


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class ChunkWriter:
    """The parts of one chunk of an ingested file (:meth:`Store.open_chunk`), written as frames
    arrive: :meth:`append` conforms each table's frame, splits positions, statics and other by
    the UTC day of ``ts`` and writes each piece at once as a row group of its part (so a decoded
    chunk's memory is free again before the next chunk is decoded); :meth:`close` finishes the
    parts and has them fsynced and renamed into place in the background (:meth:`Store.commit_file`
    waits for that). Until then a part is ``<name>.parquet.tmp``, which readers never see and
    :meth:`Store.begin_file` removes."""

    def __init__(self, store: Store, fname: str):
        self._store = store
        self._fname = fname
        self._open: dict[Path, tuple[Path, Any]] = {}  # part path -> (its tmp path, ParquetWriter)
        self.rows = 0

    def _writer(self, table: str, path: Path) -> Any:
        opened = self._open.get(path)
        if opened is None:
            # (imported here: seawatch.parquet imports numba, needed only when something is ingested)
            from .parquet import ParquetWriter

            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            opened = self._open[path] = (tmp, ParquetWriter(tmp, schema.polars_schema(table), writeback=True,
                                                            **_part_options(table)))
        return opened[1]

    def append(self, result: Any) -> dict[str, int]:
        """Write one chunk's tables (an IngestResult, or a mapping table name -> frame); returns
        rows written per table."""
        tables: Mapping[str, pl.DataFrame] = result.tables() if hasattr(result, "tables") else result
        root = self._store.path
        written: dict[str, int] = {}
        for name, df in tables.items():
            _check_table(name)
            if df is None or df.height == 0:
                written[name] = 0
                continue
            df = schema.conform(name, df)
            written[name] = df.height
            self.rows += df.height
            if name not in DAY_PARTITIONED:
                self._writer(name, root / name / self._fname).write(df)
                continue
            ts = df["ts"]
            lo, hi = ts.min(), ts.max()
            if ts.null_count() == 0 and lo.date() == hi.date():  # one day (the usual chunk): no split
                self._writer(name, root / name / f"day={lo.date().isoformat()}" / self._fname).write(df)
                continue
            day = (
                pl.when(pl.col("ts").is_null())
                .then(pl.lit(UNTIMED))
                .otherwise(pl.col("ts").dt.strftime("%Y-%m-%d"))
                .alias("__day")
            )
            parts = df.with_columns(day).partition_by("__day", as_dict=True, include_key=False)
            for (key,), part in parts.items():
                self._writer(name, root / name / f"day={key}" / self._fname).write(part)
        return written

    def close(self) -> None:
        """Finish the parts; they are fsynced and renamed into place in the background."""
        opened, self._open = self._open, {}
        written = self._store._written.setdefault(self._fname[:16], [])
        for path, (tmp, w) in opened.items():
            w.close()
            self._store._placing.append(_placer().submit(_place, tmp, path))
            written.append(path)

    def abort(self) -> None:
        """Close the unfinished parts without placing them (left as ``*.tmp``)."""
        opened, self._open = self._open, {}
        for _, w in opened.values():
            w.abandon()


class Store:
    """A seawatch store directory (see the module docstring for the layout).

    ``Store(path)`` opens an existing store; ``Store(path, create=True)`` creates it if needed.
    """

    def __init__(self, path: str | os.PathLike[str], create: bool = False):
        self.path = Path(path)
        self._replaces_cache: dict[str, frozenset[str]] = {}  # committed compactions never change
        self._fp_algorithm: str | None = None  # read from _store.json when first needed
        self._placing: list[Any] = []  # parts being fsynced and renamed (ChunkWriter.close)
        self._written: dict[str, list[Path]] = {}  # fp16 -> parts written, until committed
        marker = self.path / STORE_MARKER
        if not marker.is_file():
            if not create:
                raise SeawatchError(
                    f"no seawatch store at {self.path} — run `seawatch ingest FILE --db {self.path}` first"
                )
            if self.path.exists() and not self.path.is_dir():
                raise SeawatchError(
                    f"cannot create a seawatch store at {self.path}: it is a file, not a directory"
                )
            self.path.mkdir(parents=True, exist_ok=True)
            for name in TABLE_NAMES:
                (self.path / name).mkdir(exist_ok=True)
            (self.path / FILES_DIR).mkdir(exist_ok=True)
            (self.path / SIZES_DIR).mkdir(exist_ok=True)  # this store records sizes (may_hold)
            _atomic_write_bytes(
                marker,
                json.dumps(
                    {"format": "seawatch-store", "version": STORE_FORMAT_VERSION,
                     "fingerprint": FINGERPRINT_ALGORITHM}, indent=2
                ).encode(),
            )
        (self.path / FILES_DIR).mkdir(exist_ok=True)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- fingerprints ----------------------------------------------------------------------------
    @property
    def fingerprint_algorithm(self) -> str:
        """How this store fingerprints input files: ``"xxh3_128"``, or ``"sha256"`` for a store
        made before ``_store.json`` named it (see the module docstring)."""
        if self._fp_algorithm is None:
            marker = self.path / STORE_MARKER
            try:
                meta = json.loads(marker.read_text())
                if not isinstance(meta, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as e:
                raise SeawatchError(
                    f"cannot read {marker} ({e}): rewrite it as {{\"format\": \"seawatch-store\", \"version\": 1}}, "
                    f"adding \"fingerprint\": \"xxh3_128\" if the names in {FILES_DIR}/ have 32 hex digits"
                ) from None
            algorithm = meta.get("fingerprint", LEGACY_FINGERPRINT_ALGORITHM)
            if algorithm not in FINGERPRINT_ALGORITHMS:
                raise SeawatchError(
                    f"{marker} names fingerprint {algorithm!r}, which this seawatch does not know "
                    f"(it knows {', '.join(FINGERPRINT_ALGORITHMS)}): upgrade seawatch"
                )
            self._fp_algorithm = algorithm
        return self._fp_algorithm

    def new_hash(self) -> Any:
        """A fresh streaming hash object of this store's fingerprint algorithm (``update``,
        ``hexdigest``), for fingerprints of things other than a whole file (a live batch, a
        detections file, a compaction)."""
        return new_hash(self.fingerprint_algorithm)

    def fingerprint_file(self, path: str | os.PathLike[str]) -> str:
        """The fingerprint of a file's bytes with this store's algorithm."""
        from .ingest.files import fingerprint

        return fingerprint(path, algorithm=self.fingerprint_algorithm)

    # -- manifests -------------------------------------------------------------------------------
    def _manifest_path(self, fingerprint: str) -> Path:
        return self.path / FILES_DIR / f"{fingerprint}.json"

    def has_file(self, fingerprint: str) -> bool:
        """True if the file with this fingerprint was ingested completely (manifest committed,
        or its rows compacted into another file)."""
        return self._manifest_path(_check_fp(fingerprint)).is_file() or fingerprint in self._replaced()

    def _replaced(self) -> set[str]:
        """Fingerprints whose rows a committed compaction holds (see the module docstring)."""
        out: set[str] = set()
        for p in (self.path / FILES_DIR).glob("*.replaces"):
            fps = self._replaces_cache.get(p.name)
            if fps is None:
                if not p.with_suffix(".json").is_file():  # the compaction was not committed
                    continue
                try:
                    fps = self._replaces_cache[p.name] = frozenset(json.loads(p.read_text()))
                except (FileNotFoundError, ValueError):  # pragma: no cover - removed concurrently
                    continue
            out.update(fps)
        return out

    def manifest(self, fingerprint: str) -> dict[str, Any] | None:
        """The manifest of an ingested file, or None."""
        try:
            return json.loads(self._manifest_path(_check_fp(fingerprint)).read_text())
        except FileNotFoundError:
            return None

    def manifests(self) -> list[dict[str, Any]]:
        """The manifests of all ingested files, oldest first (a compacted file's in place of the
        files it replaces)."""
        out = []
        replaced = self._replaced()
        for p in sorted((self.path / FILES_DIR).glob("*.json")):
            if p.stem in replaced:
                continue
            try:
                out.append(json.loads(p.read_text()))
            except FileNotFoundError:  # pragma: no cover - removed concurrently
                continue
        out.sort(key=lambda m: (m.get("ingested_at", ""), m.get("fingerprint", "")))
        return out

    def files_key(self) -> str:
        """A fingerprint of the committed files (which ones, not how many: a compaction keeps the
        rows but changes the files). Derived tables record it in their meta as ``files_key``;
        :meth:`files_current` compares."""
        import hashlib

        return hashlib.sha1("\n".join(sorted(self._committed())).encode()).hexdigest()[:16]

    def files_current(self, meta: Mapping[str, Any]) -> bool:
        """Were the derived tables with this ``meta`` computed from the files committed now?
        (By ``files_key``; meta written before it existed compare the count ``files``.)"""
        if "files_key" in meta:
            return meta["files_key"] == self.files_key()
        return meta.get("files") == len(self.manifests())

    def files(self) -> pl.DataFrame:
        """One row per ingested file: path, fingerprint, format, counts, ingested_at."""
        rows = self.manifests()
        cols = {
            "path": pl.Utf8,
            "fingerprint": pl.Utf8,
            "format": pl.Utf8,
            "lines_read": pl.Int64,
            "lines_decoded": pl.Int64,
            "lines_rejected": pl.Int64,
            "duplicates": pl.Int64,
            "ingested_at": pl.Utf8,
        }
        return pl.DataFrame(
            [{c: r.get(c) for c in cols} for r in rows], schema=cols, orient="row"
        )

    # -- writing ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, fingerprint: str) -> Iterator[None]:
        """Hold an exclusive lock on one input file while ingesting it.

        Two processes ingesting the same file at once take turns: the second waits, then finds
        the file committed. The lock (``DIR/_locks/<fp16>.lock``, ``flock``) is released when the
        process ends, so a crash never leaves it held. A no-op where ``fcntl`` is missing.
        """
        _check_fp(fingerprint)
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        ldir = self.path / LOCKS_DIR
        ldir.mkdir(exist_ok=True)
        with open(ldir / f"{fingerprint[:16]}.lock", "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    # -- files fingerprinted while they are read (see the module docstring) ------------------------
    def may_hold(self, size: int) -> bool:
        """Could a file of ``size`` bytes already be in this store? False only when the store
        records the sizes of the files ingested into it (``_sizes/``, stores made since it
        exists) and none had this size: such a file is almost surely new, so it is decoded
        before its fingerprint is known (:meth:`provisional`), and :meth:`adopt` makes sure
        (a size lost in a crash, or a file committed by a seawatch that records none, is
        found there). Always true where ``fcntl`` is missing (:meth:`sweep` needs it)."""
        d = self.path / SIZES_DIR
        return fcntl is None or not d.is_dir() or (d / str(int(size))).exists()

    def record_size(self, size: int) -> None:
        """Note that a file of ``size`` bytes is being committed (for :meth:`may_hold`); nothing in
        a store that does not record sizes. Not fsynced: an entry lost in a crash only costs the
        next ingest of that file a decode that :meth:`adopt` then discards."""
        d = self.path / SIZES_DIR
        if d.is_dir():
            (d / str(int(size))).touch()

    @contextlib.contextmanager
    def provisional(self) -> Iterator[str]:
        """A random fingerprint to write a file's parts under (:meth:`open_chunk`) before its real
        one is known; then :meth:`adopt` them. ``_pending/<name>`` is locked (``flock``) while
        the block runs and removed when it ends normally; if it raises (or the process dies),
        the entry stays with its lock free, and the next :meth:`sweep` removes the parts."""
        if fcntl is None:  # pragma: no cover - Windows (may_hold is always true there)
            raise SeawatchError("provisional names need fcntl (POSIX); fingerprint the file first")
        import secrets

        pdir = self.path / PENDING_DIR
        pdir.mkdir(exist_ok=True)
        for _ in range(8):
            name = secrets.token_hex(16)
            tmp = pdir / f"{name}.tmp"  # locked before it gets the name sweep() looks at
            f = open(tmp, "a+b")  # noqa: SIM115 - closed below or by the with block
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:  # a sweep may have taken the unlocked entry just before: then it is gone
                if os.stat(tmp).st_ino == os.fstat(f.fileno()).st_ino:
                    break
            except FileNotFoundError:
                pass
            f.close()
        else:  # pragma: no cover - eight sweeps in a row at the same instant
            raise SeawatchError(f"could not reserve a provisional name in {pdir}: retry the ingest")
        entry = pdir / name
        with f:
            os.replace(tmp, entry)
            try:
                yield name
            finally:
                self._written.pop(name[:16], None)
            entry.unlink(missing_ok=True)

    def adopt(self, provisional: str, fingerprint: str) -> bool:
        """Rename the parts written under ``provisional`` after the file's ``fingerprint`` (hold
        :meth:`lock` on it), ready for :meth:`commit_file`. False (and the parts removed) if
        the store holds that file after all: another process committed it meanwhile, or its
        size was not recorded."""
        _check_fp(provisional)
        _check_fp(fingerprint)
        self._settle()
        parts = self._written.pop(provisional[:16], None)
        if parts is None:  # written through another Store object: find them
            parts = self._parts_of(provisional[:16], include_tmp=False)
        if self.has_file(fingerprint):
            for p in parts:
                p.unlink(missing_ok=True)
            return False
        self.begin_file(fingerprint)
        fp16 = fingerprint[:16]
        renamed = self._written.setdefault(fp16, [])
        for p in parts:
            dst = p.with_name(fp16 + p.name[16:])
            os.replace(p, dst)
            renamed.append(dst)
        return True

    def sweep(self) -> int:
        """Remove the parts left under provisional names by ingests that did not finish (their
        ``_pending/`` entry is no longer locked), and those entries; returns how many parts
        were removed."""
        pdir = self.path / PENDING_DIR
        if fcntl is None or not pdir.is_dir():
            return 0
        removed = 0
        for entry in pdir.iterdir():
            name = entry.name.removesuffix(".tmp")  # (.tmp: its ingest died before naming it)
            if not _FP_RE.fullmatch(name):
                continue
            try:
                f = open(entry, "rb")  # noqa: SIM115 - entered just below
            except FileNotFoundError:  # pragma: no cover - finished meanwhile
                continue
            with f:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:  # its ingest is running
                    continue
                for p in self._parts_of(name[:16]):
                    p.unlink(missing_ok=True)
                    removed += 1
                entry.unlink(missing_ok=True)
        return removed

    def _parts_of(self, fp16: str, include_tmp: bool = True) -> list[Path]:
        out: list[Path] = []
        for name in TABLE_NAMES:
            tdir = self.path / name
            if not tdir.is_dir():
                continue
            pattern = f"{fp16}-*.parquet"
            globs = [pattern, f"{pattern}.tmp"] if include_tmp else [pattern]
            for g in globs:
                if name in DAY_PARTITIONED:
                    out.extend(tdir.glob(f"day=*/{g}"))
                else:
                    out.extend(tdir.glob(g))
        return out

    def begin_file(self, fingerprint: str) -> int:
        """Prepare to (re)write a file's parts: delete leftovers of an interrupted ingest.

        Returns how many stale part files were removed. Raises SeawatchError if the file is
        already committed (ingesting the same file twice adds nothing: check :meth:`has_file`).
        """
        _check_fp(fingerprint)
        if self.has_file(fingerprint):
            raise SeawatchError(
                f"file {fingerprint[:16]} is already in the store at {self.path}: nothing to do"
            )
        self._settle()
        self._written.pop(fingerprint[:16], None)  # (an earlier attempt's, deleted below)
        removed = 0
        for p in self._parts_of(fingerprint[:16]):
            try:
                p.unlink()
                removed += 1
            except FileNotFoundError:  # pragma: no cover
                pass
        return removed

    def _write_part(self, df: pl.DataFrame, path: Path) -> None:
        """Write ``df`` as one part of a derived table (tmp, fsync, rename), with polars."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        df.write_parquet(tmp, compression="zstd", statistics=True)
        _place(tmp, path)

    def _settle(self, quiet: bool = False) -> None:
        """Wait until the parts being placed in the background are in place; raise the first
        error (``quiet``: none, when an error is already on its way)."""
        placing, self._placing = self._placing, []
        for f in placing:
            if quiet:
                f.exception()
            else:
                f.result()

    def abandon_file(self, fingerprint: str) -> None:
        """After an error while writing a file's parts: wait for the parts being placed in the
        background (their errors ignored: one is already on its way) and forget them. They stay
        on disk, invisible, until the next :meth:`begin_file` of that fingerprint or, under a
        provisional name, the next :meth:`sweep`."""
        self._settle(quiet=True)
        self._written.pop(fingerprint[:16], None)

    def open_chunk(self, fingerprint: str, chunk_index: int) -> ChunkWriter:
        """A :class:`ChunkWriter` for the parts of chunk ``chunk_index`` of the file with this
        fingerprint: frames are appended as they are decoded, each written at once as a row group."""
        fp16 = _check_fp(fingerprint)[:16]
        if not (isinstance(chunk_index, int) and 0 <= chunk_index <= 99999):
            raise SeawatchError(f"chunk_index must be an int in 0..99999, not {chunk_index!r}")
        return ChunkWriter(self, f"{fp16}-{chunk_index:05d}.parquet")

    def write_chunk(self, fingerprint: str, chunk_index: int, result: Any) -> dict[str, int]:
        """Write one chunk's tables (an IngestResult, or a mapping table name -> frame), each as
        its parts, in place when this returns.

        Positions, statics and other are split by the UTC day of ``ts``. Each frame is conformed
        to its schema first. Returns rows written per table. If it raises, the file's parts
        are left invisible on disk and forgotten (:meth:`abandon_file`).
        """
        w = self.open_chunk(fingerprint, chunk_index)
        try:
            written = w.append(result)
            w.close()
            self._settle()
        except BaseException:
            w.abort()  # (nothing left to abort once closed)
            self.abandon_file(fingerprint)
            raise
        return written

    def commit_file(self, fingerprint: str, meta: Mapping[str, Any]) -> dict[str, Any]:
        """Write the file's manifest (last, atomically): from now on the file counts as ingested.

        ``meta`` holds path, format and the counts; ``fingerprint`` and ``ingested_at`` are added.
        Returns the manifest written.
        """
        _check_fp(fingerprint)
        self._settle()
        manifest = dict(meta)
        manifest["fingerprint"] = fingerprint
        manifest.setdefault(
            "ingested_at",
            _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )
        dirs = {p.parent for p in self._written.pop(fingerprint[:16], ())}
        for d in sorted(dirs | {self.path / name for name in TABLE_NAMES}):
            _fsync_dir(d)
        _atomic_write_bytes(
            self._manifest_path(fingerprint),
            (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode(),
        )
        _fsync_dir(self.path / FILES_DIR)
        return manifest

    # -- reading ---------------------------------------------------------------------------------
    def _committed(self) -> set[str]:
        """Fingerprints of the committed files whose rows no compaction has taken over."""
        return {p.stem for p in (self.path / FILES_DIR).glob("*.json")} - self._replaced()

    def _committed_fp16(self) -> set[str]:
        return {n[:16] for n in self._committed()}

    def compact(self, fingerprints: Sequence[str], meta: Mapping[str, Any] | None = None,
                *, keep_s: float = 60.0) -> dict[str, Any] | None:
        """Rewrite the rows of these committed files as one file (see the module docstring);
        returns its manifest, or None when there are fewer than two. The manifest sums the
        counts of the files it replaces, takes ``ingested_at`` (and ``live``) from the newest,
        lists them in ``replaces`` and adds ``meta``. Also deletes the parts of files replaced
        more than ``keep_s`` seconds ago."""
        self._purge_replaced(keep_s)
        fps = sorted({_check_fp(f) for f in fingerprints})
        if len(fps) < 2:
            return None
        mans = [self.manifest(f) for f in fps]
        missing = [f[:16] for f, m in zip(fps, mans) if m is None]
        if missing:
            raise SeawatchError(f"cannot compact files that are not committed: {', '.join(missing)}")
        h = self.new_hash()  # the store's algorithm: a rerun of this compaction finds it
        h.update(("compact\0" + "\0".join(fps)).encode())
        new = h.hexdigest()
        with self.lock(new):
            if self.has_file(new):
                return self.manifest(new)
            self.begin_file(new)
            committed = {f[:16] for f in fps}
            tables = {}
            for name in (*MESSAGE_TABLES, "rejects"):
                files = self.parts(name, committed)
                tables[name] = _scan(name, files).collect() if files else schema.empty(name)
            self.write_chunk(new, 0, tables)
            newest = max(mans, key=lambda m: (m.get("ingested_at", ""), (m.get("live") or {}).get("seq", 0)))
            counts = ("lines_read", "lines_decoded", "lines_rejected", "duplicates")
            man: dict[str, Any] = {
                "path": newest.get("path"), "format": newest.get("format"),
                **{k: sum(int(m.get(k, 0) or 0) for m in mans) for k in counts},
                "rows": {t: sum(int((m.get("rows") or {}).get(t, 0)) for m in mans) for t in (*MESSAGE_TABLES, "rejects")},
                "chunks": 1, "ingested_at": newest.get("ingested_at"), "replaces": fps, **dict(meta or {}),
            }
            if "live" in newest:
                man["live"] = newest["live"]
            _atomic_write_bytes(self.path / FILES_DIR / f"{new}.replaces", json.dumps(fps).encode())
            manifest = self.commit_file(new, man)
            for f in fps:
                with contextlib.suppress(FileNotFoundError):
                    self._manifest_path(f).unlink()
            _fsync_dir(self.path / FILES_DIR)
        return manifest

    def _purge_replaced(self, keep_s: float) -> int:
        """Delete the parts of files a compaction replaced more than ``keep_s`` seconds ago
        (the ``.replaces`` record stays, marked ``.purged``: has_file() of a replaced file stays
        true). Returns how many parts were deleted."""
        import time

        done, fp16s = [], set()
        for rp in (self.path / FILES_DIR).glob("*.replaces"):
            if rp.with_suffix(".purged").exists() or not rp.with_suffix(".json").is_file() \
                    or time.time() - rp.stat().st_mtime < keep_s:
                continue
            try:
                fp16s.update(f[:16] for f in json.loads(rp.read_text()))
            except (FileNotFoundError, ValueError):  # pragma: no cover
                continue
            done.append(rp)
        n = 0
        if fp16s:
            for name in (*MESSAGE_TABLES, "rejects"):
                tdir = self.path / name
                pattern = "day=*/*.parquet" if name in DAY_PARTITIONED else "*.parquet"
                for part in tdir.glob(pattern) if tdir.is_dir() else ():
                    if part.name[:16] in fp16s:
                        with contextlib.suppress(FileNotFoundError):
                            part.unlink()
                            n += 1
        for rp in done:
            rp.with_suffix(".purged").touch()
        return n

    def parts(self, table: str, committed: set[str] | None = None) -> list[str]:
        """Paths of the committed Parquet parts of a table (a snapshot; no ``*.tmp`` files).

        ``committed``: the fp16 prefixes of committed files to use (default: list them now).
        """
        _check_table(table)
        if table in DERIVED:
            gen = self.generation(table)
            if gen is None:
                return []
            gdir = self.path / table / f"gen-{gen}"
            pattern = "day=*/*.parquet" if DERIVED[table] else "*.parquet"
            return sorted(str(p) for p in gdir.glob(pattern))
        if committed is None:
            committed = self._committed_fp16()
        tdir = self.path / table
        pattern = "day=*/*.parquet" if table in DAY_PARTITIONED else "*.parquet"
        return sorted(str(p) for p in tdir.glob(pattern) if p.name[:16] in committed)

    # -- derived tables ---------------------------------------------------------------------------
    def generation(self, table: str) -> int | None:
        """The current generation of a derived table, or None if it was never computed."""
        ptr = self.path / DERIVED_DIR / f"{table}.json"
        try:
            return int(json.loads(ptr.read_text())["generation"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as e:
            raise SeawatchError(f"corrupt pointer {ptr}: {e}; delete it and recompute {table}") from None

    def derived_info(self, table: str) -> dict[str, Any] | None:
        """The pointer record of a derived table (generation, rows, created, meta), or None."""
        ptr = self.path / DERIVED_DIR / f"{table}.json"
        try:
            return json.loads(ptr.read_text())
        except FileNotFoundError:
            return None

    def write_derived(self, table: str, df: pl.DataFrame, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Replace the derived table ``table`` with ``df`` (conformed to its schema), atomically.

        Returns the new pointer record: ``{"table", "generation", "rows", "created", "meta"}``.
        """
        if table not in DERIVED:
            raise SeawatchError(
                f"{table!r} is not a derived table: use one of {', '.join(DERIVED)}"
            )
        df = schema.conform(table, df)
        old = self.generation(table)
        gen = (old or 0) + 1
        gdir = self.path / table / f"gen-{gen}"
        if gdir.exists():  # leftovers of an interrupted write of this generation
            shutil.rmtree(gdir)
        gdir.mkdir(parents=True)
        col = DERIVED[table]
        if col and df.height:
            days = df.select(
                pl.col(col).dt.strftime("%Y-%m-%d").fill_null(UNTIMED).alias("_day")
            ).to_series()
            for (day,), part in df.with_columns(_day=days).partition_by("_day", as_dict=True, maintain_order=True).items():
                d = gdir / f"day={day}"
                d.mkdir()
                self._write_part(part.drop("_day"), d / "part.parquet")
        else:
            self._write_part(df, gdir / "part.parquet")
        _fsync_dir(gdir)
        return self.commit_generation(table, gen, df.height, meta)

    def commit_generation(self, table: str, gen: int, rows: int, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Make generation ``gen`` of derived ``table`` (its parts already written and synced
        under ``DIR/<table>/gen-<gen>/``, by :meth:`write_derived` or by workers elsewhere) the
        current one: the pointer is replaced atomically, then generations older than the
        previous one are deleted. Returns the pointer record."""
        record = {
            "table": table,
            "generation": gen,
            "rows": int(rows),
            "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "meta": dict(meta or {}),
        }
        (self.path / DERIVED_DIR).mkdir(exist_ok=True)
        _atomic_write_bytes(self.path / DERIVED_DIR / f"{table}.json", json.dumps(record, indent=2).encode())
        # keep the previous generation for readers still on it; delete older ones
        for g in (self.path / table).glob("gen-*"):
            try:
                n = int(g.name[4:])
            except ValueError:
                continue
            if n < gen - 1:
                shutil.rmtree(g, ignore_errors=True)
        return record

    def table(self, name: str, columns: Sequence[str] | None = None, where: pl.Expr | None = None) -> pl.DataFrame:
        """All committed rows of a table, in its schema (an empty frame when there are none);
        ``columns``: only these (the others are not read); ``where``: only rows where this
        polars expression is true (applied while reading)."""
        files = self.parts(name)
        frame = _scan(name, files) if files else schema.empty(name).lazy()
        if where is not None:
            frame = frame.filter(where)
        if columns is not None:
            unknown = [c for c in columns if c not in schema.polars_schema(name)]
            if unknown:
                raise SeawatchError(f"table {name} has no columns {unknown}")
            frame = frame.select(list(columns))
        return frame.collect()

    def connect(self, committed: set[str] | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with views positions, statics, other and rejects.

        The views are over one snapshot of the committed files taken now (or the fp16 prefixes
        given in ``committed``); open a new connection to see files committed later. The
        session time zone is UTC.
        """
        if committed is None:
            committed = self._committed_fp16()
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        for name in TABLE_NAMES:
            files = self.parts(name, committed)
            if files:
                lst = "[" + ", ".join(_sql_str(f) for f in files) + "]"
                src = f"read_parquet({lst}, union_by_name = true, hive_partitioning = false)"
                # ingested tables: a column added to the schema later is null in older parts;
                # a derived table lacking one is an error (rebuild it: `seawatch detect`)
                have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()} \
                    if name not in DERIVED else {c.name for c in schema.columns(name)}
                con.execute(
                    f"CREATE VIEW {name} AS SELECT "
                    + ", ".join(f'"{c.name}"' if c.name in have else f'NULL::{_duck_type(c.dtype)} AS "{c.name}"'
                                for c in schema.columns(name))
                    + f" FROM {src}"
                )
            else:
                con.register(f"__empty_{name}", schema.empty(name).to_arrow())
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM __empty_{name}")
        return con

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Run SQL over the views positions, statics, other, rejects; ``?``/``$name`` parameters."""
        con = self.connect()
        try:
            try:
                rel = con.sql(sql, params=params) if params is not None else con.sql(sql)
            except duckdb.Error as e:
                msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise SeawatchError(f"query failed: {msg}") from None
            if rel is None:  # a statement without a result, e.g. SET
                return pl.DataFrame()
            return pl.from_arrow(rel.to_arrow_table())
        finally:
            con.close()

    def stats(self) -> dict[str, Any]:
        """Accounting of everything in the store, as a JSON-ready dict.

        Keys: files, lines_read, lines_decoded, lines_rejected, duplicates, skipped, errors,
        rejects_by_reason, messages_by_type, positions, statics, other, rejects, tracks (points),
        segments, vessels,
        time_start, time_end, untimed. ``skipped`` counts rejects whose reason is in
        ``schema.SKIPPED_REASONS`` (not AIS, not an error); ``errors`` the other rejects.
        """
        # One snapshot of the committed files for both the line accounting and the rows.
        manifests = self.manifests()
        committed = {m["fingerprint"][:16] for m in manifests if "fingerprint" in m}
        con = self.connect(committed)
        try:
            def one(sql: str) -> tuple:
                return con.execute(sql).fetchone()

            counts = {n: one(f"SELECT count(*) FROM {n}")[0] for n in TABLE_NAMES}
            reasons = con.execute(
                "SELECT reason, count(*) FROM rejects GROUP BY reason ORDER BY 2 DESC, 1"
            ).fetchall()
            msg_union = " UNION ALL ".join(
                f"SELECT msg_type, ts FROM {n}" for n in MESSAGE_TABLES
            )
            by_type = con.execute(
                f"SELECT msg_type, count(*) FROM ({msg_union}) GROUP BY msg_type ORDER BY msg_type"
            ).fetchall()
            t0, t1, untimed = one(
                f"SELECT epoch_us(min(ts)), epoch_us(max(ts)), count(*) FILTER (WHERE ts IS NULL)"
                f" FROM ({msg_union})"
            )
            vessels = one("SELECT count(DISTINCT mmsi) FROM positions")[0]
        finally:
            con.close()
        rejects_by_reason = {str(r): int(n) for r, n in reasons}
        skipped = sum(n for r, n in rejects_by_reason.items() if r in schema.SKIPPED_REASONS)
        return {
            "files": len(manifests),
            "lines_read": sum(int(m.get("lines_read", 0)) for m in manifests),
            "lines_decoded": sum(int(m.get("lines_decoded", 0)) for m in manifests),
            "lines_rejected": sum(int(m.get("lines_rejected", 0)) for m in manifests),
            "duplicates": sum(int(m.get("duplicates", 0)) for m in manifests),
            "skipped": skipped,
            "errors": counts["rejects"] - skipped,
            "rejects_by_reason": rejects_by_reason,
            "messages_by_type": {
                ("null" if t is None else str(int(t))): int(n) for t, n in by_type
            },
            "positions": counts["positions"],
            "statics": counts["statics"],
            "other": counts["other"],
            "rejects": counts["rejects"],
            "tracks": counts["tracks"],
            "segments": counts["segments"],
            "vessels": int(vessels),
            "time_start": iso_utc(t0),
            "time_end": iso_utc(t1),
            "untimed": int(untimed or 0),
        }


def export_table(
    db: str | os.PathLike[str] | Store, table: str, out: str | os.PathLike[str]
) -> dict[str, Any]:
    """Write every committed row of ``table`` to ``out``; the format comes from its extension.

    ``.parquet`` (types kept), ``.csv`` (header row) or ``.jsonl`` (one JSON object a line);
    ``.geojson``, ``.geoparquet`` or ``.kml`` for tables with a place (see :mod:`seawatch.export`;
    segments become lines). In CSV and JSONL, timestamps are ISO-8601 UTC with ``Z`` (``2019-08-07T22:59:58Z``).
    Streams (bounded memory); writes ``out`` atomically. Returns
    ``{"table", "out", "format", "rows"}``.
    """
    from .export import GEO_FORMATS, write_geo

    _check_table(table)
    out = Path(out)
    fmt = _EXPORT_FORMATS.get(out.suffix.lower())
    if fmt is None and out.suffix.lower() not in GEO_FORMATS:
        raise SeawatchError(
            f"cannot export to {out.name!r}: use a file name ending in "
            + ", ".join([*_EXPORT_FORMATS, *GEO_FORMATS])
        )
    store = db if isinstance(db, Store) else Store(db)
    if not out.parent.exists():
        raise SeawatchError(f"no such directory: {out.parent} — create it first")
    if fmt is None:
        tracks = store.table("tracks") if table == "segments" else None
        rows = write_geo(table, store.table(table), out, tracks=tracks)
        return {"table": table, "out": str(out), "format": GEO_FORMATS[out.suffix.lower()], "rows": rows}
    files = store.parts(table)
    if files:
        lf = _scan(table, files)
    else:
        lf = schema.empty(table).lazy()
    if fmt != "parquet":
        lf = lf.with_columns(
            pl.col(c.name).dt.strftime(ISO_UTC_FORMAT)
            for c in schema.columns(table)
            if c.dtype == schema.UTC_TS
        )
    tmp = out.with_name(out.name + ".tmp")
    try:
        if fmt == "parquet":
            lf.sink_parquet(tmp, compression="zstd")
        elif fmt == "csv":
            lf.sink_csv(tmp)
        else:
            lf.sink_ndjson(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return {"table": table, "out": str(out), "format": fmt, "rows": rows}


def open_store(path: str | os.PathLike[str], create: bool = False) -> Store:
    """Same as ``Store(path, create)``."""
    return Store(path, create=create)


__all__ = ["TABLE_NAMES", "Store", "export_table", "iso_utc", "open_store"]
