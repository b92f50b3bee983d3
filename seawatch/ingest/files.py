"""Files in, store out: the function behind ``seawatch ingest``.

Inputs may be plain, gzip (``.gz``) or zip (``.zip``, every member in turn) files; they are read
in bounded chunks (``chunk_bytes``, 64 MiB by default), so memory stays bounded whatever the file
size. Each input file is fingerprinted (a hash of its bytes, with the store's algorithm: xxh3-128,
or sha256 in stores made before that; see :mod:`seawatch.store`); a file whose fingerprint is
already in the store is skipped, so ingesting the same file twice adds nothing. A plain NMEA file
of a size the store has never ingested is almost surely new: it is hashed as it is decoded, one
read instead of two, and checked once the hash is known (:meth:`Store.may_hold
<seawatch.store.Store.may_hold>`). The format of each file (or zip member) is sniffed from its
first 64 KiB, decompressed.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import polars as pl

from ..errors import SeawatchError
from ..store import FINGERPRINT_ALGORITHM, ChunkWriter, Store, new_hash

DEFAULT_CHUNK_BYTES = 64 << 20
#: Bytes fed to the NMEA decoder at a time by :func:`ingest`. The decoder's working memory is
#: roughly 15x its input chunk (measured: 1M lines / 75 MB, peak RSS 1.1 GB at 64 MiB, 0.47 GB
#: at 16 MiB, and 16 MiB was no slower), so ingest uses 16 MiB.
INGEST_CHUNK_BYTES = 16 << 20
#: Decoded rows :func:`ingest` writes into one set of parts (:class:`~seawatch.store.ChunkWriter`)
#: before starting the next: each decoder / reader chunk is written at once as a row group of
#: its parts, so no decoded chunk is held, and fewer, larger parts cost less (on the bench file,
#: 960,000 messages in five 16 MiB chunks, a part per chunk was 15-20 ms slower than one part of
#: five row groups: per-part costs and fsyncs).
WRITE_ROWS = 1 << 20
SNIFF_BYTES = 64 << 10
HASH_BLOCK = 1 << 20

#: Columns of the frame :func:`ingest` returns, one row per input file.
INGEST_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.Utf8,
    "fingerprint": pl.Utf8,
    "format": pl.Utf8,
    "status": pl.Utf8,
    "lines_read": pl.Int64,
    "lines_decoded": pl.Int64,
    "lines_rejected": pl.Int64,
    "positions": pl.Int64,
    "statics": pl.Int64,
    "other": pl.Int64,
    "duplicates": pl.Int64,
    "seconds": pl.Float64,
}


# -- reading files ---------------------------------------------------------------------------------
@dataclass
class _Member:
    """One stream of input: a plain or gzip file, or one member of a zip."""

    source: str  # name used in rejects.source: the path, or "archive.zip!member"
    sniff_name: str  # file name handed to sniff(), compression suffix removed
    size: int  # this member's share of the progress total
    opener: Callable[[], tuple[IO[bytes], Callable[[], int]]]  # -> (stream, bytes done so far)
    path: Path | None = None  # set for plain files (providers may read them by path)


def _check_input(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise SeawatchError(f"no such file: {p} — check the path")
    if not p.is_file():
        raise SeawatchError(f"not a file: {p} — give files, not directories")
    return p


def _members(path: Path) -> list[_Member]:
    name = path.name
    lower = name.lower()
    size = path.stat().st_size
    if lower.endswith(".gz"):
        def open_gz() -> tuple[IO[bytes], Callable[[], int]]:
            raw = open(path, "rb")
            gz = gzip.GzipFile(fileobj=raw, mode="rb")
            # closing the gzip file does not close the raw file it wraps: chain them
            orig_close = gz.close

            def close() -> None:
                try:
                    orig_close()
                finally:
                    raw.close()

            gz.close = close  # type: ignore[method-assign]
            return gz, raw.tell

        return [_Member(str(path), name[: -len(".gz")], size, open_gz)]
    if lower.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
        except zipfile.BadZipFile as e:
            raise SeawatchError(f"cannot read {path} as a zip file: {e}") from None
        out = []
        for info in infos:
            def open_member(info: zipfile.ZipInfo = info) -> tuple[IO[bytes], Callable[[], int]]:
                zf = zipfile.ZipFile(path)
                f = zf.open(info)
                done = [0]
                orig_read, orig_close = f.read, f.close

                def read(n: int = -1) -> bytes:
                    b = orig_read(n)
                    done[0] += len(b)
                    return b

                def close() -> None:
                    try:
                        orig_close()
                    finally:
                        zf.close()

                f.read = read  # type: ignore[method-assign]
                f.close = close  # type: ignore[method-assign]
                return f, lambda: done[0]

            out.append(
                _Member(f"{path}!{info.filename}", Path(info.filename).name, info.file_size,
                        open_member)
            )
        return out

    def open_plain() -> tuple[IO[bytes], Callable[[], int]]:
        f = open(path, "rb")
        return f, f.tell

    return [_Member(str(path), name, size, open_plain, path=path)]


def iter_chunks(path: str | os.PathLike[str], chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
    """The (decompressed) bytes of a plain, ``.gz`` or ``.zip`` file, in chunks of at most
    ``chunk_bytes``. Zip members come one after the other; a newline is inserted between two
    members when the first does not end with one, so no line spans two members."""
    if chunk_bytes <= 0:
        raise SeawatchError(f"chunk_bytes must be positive, not {chunk_bytes}")
    p = _check_input(path)
    members = _members(p)
    for i, m in enumerate(members):
        f, _ = m.opener()
        last = b"\n"
        with contextlib.closing(f):
            while True:
                try:
                    data = f.read(chunk_bytes)
                except (OSError, EOFError, zipfile.BadZipFile) as e:
                    raise SeawatchError(f"cannot read {m.source}: {e}") from None
                if not data:
                    break
                last = data[-1:]
                yield data
        if i + 1 < len(members) and last != b"\n":
            yield b"\n"


def _head(m: _Member, n: int = SNIFF_BYTES) -> bytes:
    f, _ = m.opener()
    with contextlib.closing(f):
        out = bytearray()
        try:
            while len(out) < n:
                b = f.read(n - len(out))
                if not b:
                    break
                out += b
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise SeawatchError(f"cannot read {m.source}: {e}") from None
        return bytes(out)


def fingerprint(path: str | os.PathLike[str], *, algorithm: str = FINGERPRINT_ALGORITHM) -> str:
    """The hash (hex) of a file's bytes, read in blocks into one reused buffer: ``"xxh3_128"``
    (32 hex digits, the default) or ``"sha256"`` (64). A store's files are fingerprinted with
    its own algorithm: :meth:`Store.fingerprint_file <seawatch.store.Store.fingerprint_file>`."""
    h = new_hash(algorithm)
    buf = bytearray(HASH_BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


# -- progress --------------------------------------------------------------------------------------
class _Progress:
    """A one-line ``\\r`` progress display on stderr: bytes read / total for one input file."""

    def __init__(self, label: str, total: int, enabled: bool, stream: Any = None):
        self.label, self.total, self.enabled = label, max(total, 0), enabled
        self.stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        self._shown = False
        self._line = ""

    def update(self, done: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        done = min(done, self.total) if self.total else done
        pct = 100.0 * done / self.total if self.total else 100.0
        width = 30
        filled = int(width * pct / 100)
        bar = "#" * filled + "-" * (width - filled)
        line = f"\r{self.label} [{bar}] {pct:5.1f}% {done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB"
        if line != self._line:
            self._line = line
            self.stream.write(line)
            self.stream.flush()
            self._shown = True

    def close(self) -> None:
        if self.enabled:
            self.update(self.total, force=True)
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()


# -- ingest ----------------------------------------------------------------------------------------
def _summary_row(path: Path, fp: str, fmt: str, status: str, counts: dict[str, int],
                 seconds: float) -> dict[str, Any]:
    row: dict[str, Any] = {"path": str(path), "fingerprint": fp, "format": fmt, "status": status}
    for k in ("lines_read", "lines_decoded", "lines_rejected", "positions", "statics", "other",
              "duplicates"):
        row[k] = int(counts.get(k, 0))
    row["seconds"] = float(seconds)
    return row


def _ingest_one(
    path: Path,
    store: Store,
    *,
    show_progress: bool,
    chunk_bytes: int,
    chunk_rows: int,
) -> dict[str, Any]:
    from .providers import read_provider, sniff

    t0 = time.perf_counter()
    members = _members(path)
    plain = len(members) == 1 and members[0].path is not None
    fmt_plain = sniff(_head(members[0]), members[0].sniff_name) if plain else None  # (sniffed once)
    # a plain NMEA file of a size never ingested is almost surely new: it is hashed while it is
    # decoded (one read, not two) and its parts, written under a provisional name, renamed once
    # the hash is known (Store.may_hold, Store.provisional, Store.adopt)
    one_read = fmt_plain == "nmea" and not store.may_hold(members[0].size)
    with contextlib.ExitStack() as held:
        hasher: _Hashing | None = None
        if one_read:
            name = held.enter_context(store.provisional())
            hasher = _Hashing(store.new_hash())
        else:
            fp = store.fingerprint_file(path)
            held.enter_context(store.lock(fp))
            if store.has_file(fp):
                return _already(path, fp, store, t0)
            store.begin_file(fp)
            name = fp
        counts = dict.fromkeys(
            ("lines_read", "lines_decoded", "lines_rejected", "positions", "statics", "other",
             "rejects", "duplicates"), 0)
        formats: list[str] = []
        chunk = 0  # sets of parts written (see WRITE_ROWS)
        parts: ChunkWriter | None = None

        def flush() -> None:
            nonlocal chunk, parts
            if parts is not None:
                parts.close()
                parts = None
                chunk += 1

        def write(result: Any) -> None:
            nonlocal parts
            counts["lines_read"] += int(result.lines_read)
            counts["lines_decoded"] += int(result.lines_decoded)
            counts["lines_rejected"] += int(result.lines_rejected)
            counts["duplicates"] += int(result.duplicates)
            tables = result.tagged(m.source)
            if any(df.height for df in tables.values()):
                if parts is None:
                    parts = store.open_chunk(name, chunk)
                for k, n in parts.append(tables).items():
                    counts[k] += n
                if parts.rows >= WRITE_ROWS:
                    flush()

        total = sum(m.size for m in members)
        progress = _Progress(path.name, total, show_progress)
        base = 0  # progress of the zip members already done
        try:
            for m in members:
                fmt = fmt_plain or sniff(_head(m), m.sniff_name)
                if fmt not in formats:
                    formats.append(fmt)
                f, done = m.opener()
                with contextlib.closing(f):
                    try:
                        if fmt == "nmea":
                            from .nmea import NmeaDecoder

                            decoder = NmeaDecoder(m.source)
                            # a plain file is read straight into the decoder's buffer
                            read = ((lambda: decoder.read_chunk(f, chunk_bytes, hasher)) if m.path is not None
                                    else (lambda: f.read(chunk_bytes) or None))
                            while (piece := read()) is not None:
                                write(decoder.feed(piece))
                                progress.update(base + done())
                            write(decoder.finish())
                        else:
                            data_arg: Any = m.path if (fmt == "parquet" and m.path) else f
                            for result in read_provider(data_arg, fmt, m.source,
                                                        chunk_rows=chunk_rows):
                                write(result)
                                progress.update(base + done())
                    except (EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as e:
                        raise SeawatchError(f"cannot read {m.source}: {e}") from None
                base += m.size
            flush()
        except BaseException:
            if parts is not None:  # left as *.tmp: the next ingest of this file (or, under a
                parts.abort()      # provisional name, the next sweep) removes them
            store.abandon_file(name)  # (the parts already closed are in place)
            raise
        finally:
            progress.close()
        size = members[0].size
        if hasher is not None:  # (the bytes decoded are the bytes hashed)
            fp, size = hasher.h.hexdigest(), hasher.n
            held.enter_context(store.lock(fp))
            if not store.adopt(name, fp):  # the store holds this file after all
                return _already(path, fp, store, t0)
        fmt_name = "+".join(formats) if formats else "empty"
        if plain:  # (only plain files are read once: see Store.may_hold)
            store.record_size(size)
        store.commit_file(
            fp,
            {
                "path": str(path),
                "format": fmt_name,
                "lines_read": counts["lines_read"],
                "lines_decoded": counts["lines_decoded"],
                "lines_rejected": counts["lines_rejected"],
                "duplicates": counts["duplicates"],
                "rows": {k: counts[k] for k in ("positions", "statics", "other", "rejects")},
                "chunks": chunk,
            },
        )
        return _summary_row(path, fp, fmt_name, "ingested", counts, time.perf_counter() - t0)


class _Hashing:
    """The store's hash of the bytes the decoder reads (``update``), and how many there were."""

    def __init__(self, h: Any):
        self.h, self.n = h, 0

    def update(self, b: Any) -> None:
        self.h.update(b)
        self.n += len(b)


def _already(path: Path, fp: str, store: Store, t0: float) -> dict[str, Any]:
    m = store.manifest(fp) or {}
    return _summary_row(path, fp, str(m.get("format", "")), "already_ingested", {}, time.perf_counter() - t0)


def ingest(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    db: str | os.PathLike[str] | Store,
    *,
    progress: bool | None = None,
    chunk_bytes: int = INGEST_CHUNK_BYTES,
    chunk_rows: int = 1_000_000,
) -> pl.DataFrame:
    """Ingest files into the store at ``db`` (created if needed); one summary row per file.

    Columns: path, fingerprint, format, status ("ingested" or "already_ingested"), lines_read,
    lines_decoded, lines_rejected, positions, statics, other, duplicates, seconds. Row counts
    of an already ingested file are 0: it adds nothing. ``progress`` shows a progress line on
    stderr (None: only when stderr is a terminal). Every path is checked before anything is
    ingested; a missing one raises SeawatchError. Memory is bounded by ``chunk_bytes`` (bytes
    of NMEA decoded at a time) and ``chunk_rows`` (rows of a provider table at a time).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    checked = [_check_input(p) for p in paths]
    if chunk_bytes <= 0:
        raise SeawatchError(f"chunk_bytes must be positive, not {chunk_bytes}")
    store = db if isinstance(db, Store) else Store(db, create=True)
    store.sweep()  # parts of earlier ingests that died before naming them
    if progress is None:
        try:
            progress = sys.stderr.isatty()
        except (AttributeError, ValueError):
            progress = False
    rows = [
        _ingest_one(p, store, show_progress=bool(progress), chunk_bytes=chunk_bytes,
                    chunk_rows=chunk_rows)
        for p in checked
    ]
    return pl.DataFrame(rows, schema=INGEST_SUMMARY_SCHEMA, orient="row") if rows else \
        pl.DataFrame(schema=INGEST_SUMMARY_SCHEMA)


__all__ = ["iter_chunks", "ingest", "fingerprint", "INGEST_SUMMARY_SCHEMA"]
