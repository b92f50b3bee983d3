"""Live watch: NMEA streams in, store appended continuously, events detected incrementally, alerts
out within seconds. The function behind ``seawatch watch`` and ``seawatch replay``.

Architecture (one asyncio loop, one worker thread)::

    sources (asyncio tasks: tcp / tcp-listen / udp / file, see seawatch.sources)
        -> raw bytes per stream (a connection, a file, a UDP peer) in a bounded buffer
    every --batch-s (wall time), in the worker thread:
        -> one NmeaDecoder per stream (multi-sentence messages and receiver duplicates are
           per stream and carried from batch to batch)
        -> content de-duplication across streams and against what the store already holds
           (the same message from two overlapping receivers, or resent by a restarted source:
           same decoded fields within 10 s of receive time)
        -> the store: each stream's rows of the batch are one committed "file" (parts + a
           manifest written last, see seawatch.store), its manifest naming the source, the
           stream and, for a followed file, the resume offset
        -> detection: the same detector functions as batch (seawatch.detect.detect) over a
           sliding window of the last --window-h hours of data time (all vessels: the gap rule
           needs the other vessels' reception, and an open gap is a vessel that sends nothing),
           then the events are diffed against the known ones by event_id (deterministic:
           type, vessels, start): new -> open, higher severity -> escalate, open -> closed ->
           close, other changes -> update, a known event that the data no longer support (a
           gap that late data shrank below its threshold) -> retract. The state carried from
           batch to batch is the window itself, its rows with their place columns (zone,
           shore, night, port: seawatch.tracks.add_places, computed once per row when it
           arrives, the port columns again when the inferred anchorages change), the known
           events, the de-duplication index, and per vessel what the last pass computed
           (tracks, per-vessel events, reception and encounter grid points, close pairs, gap
           reception counts): a pass rebuilds only the vessels whose rows changed (see
           Watcher._vessels) and equals a full pass. (A detection pass over a recent tail only was
           tried and dropped: port visits and encounters merge across hours-long silences, so
           a tail's events differ from the window's and raise alerts that are then retracted.)
        -> the ``events`` (with status open / closed / retracted) and ``risk`` tables are
           replaced (seawatch.store.Store.write_derived) when anything changed; alerts (the
           event record plus ``alert_time``, ``data_time`` and ``action``) go to --alerts
           (JSON lines, '-' for stdout) and --webhook when an event opens or its severity
           rises.

Data time: "now" is the latest receive time seen (ignoring times more than 10 min ahead of the
wall clock). An open gap (an MMSI silent >= 2 h while others are heard) is measured up to it.
Events that started in the first min(8 h, window / 3) of the window are final once data older than
the window has been dropped: the window's edge could otherwise cut them.

Restart: the window, the seen-message index and the known events are loaded from the store;
a followed file resumes at the offset its last committed batch recorded (rewound to the first
line of a multi-sentence message still incomplete at that point), so nothing is lost and no
row, reject or event is written twice. Alerts are at-least-once: an alert written just before a
crash, whose events table had not yet been committed, is written again on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import queue
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import click
import numpy as np
import polars as pl

from . import schema
from .detect.base import differing_rows
from .detect.gap import ReceptionCache
from .errors import SeawatchError
from .ingest.nmea import DEDUP_WINDOW_S, NmeaDecoder
from .ingest.result import IngestResult
from .scale import PER_VESSEL
from .sources import FileFollow, Replay, Source, parse_source
from .store import Store
from .zones.ports import PORT_SEARCH_KM

#: defaults of ``seawatch watch``
BATCH_S = 0.25
WINDOW_H = 24.0
STATUS_EVERY_S = 10.0
#: input bytes buffered before the sources are paused (TCP backpressure) or drop (UDP)
MAX_BUFFER_BYTES = 64 << 20
#: receive times further ahead of the wall clock than this do not move "now"
FUTURE_SLACK_S = 600.0
#: the inferred anchorages (ports table) are recomputed after this much data time, and not more
#: often than every PORTS_MIN_WALL_S of wall time (a replay at 1000x would otherwise redo them
#: every few seconds: a day's anchorages do not move in a minute)
PORTS_EVERY_S = 3600.0
PORTS_MIN_WALL_S = 60.0
#: the carried tracks are kept as slices of earlier passes' frames (no copy) up to this many
#: chunks, then copied into one
MAX_CHUNKS = 64
#: gathering a row of the tracks costs about as much as copying this many in a rechunk
GATHER_COST = 4
#: events starting in the first GUARD_H hours of the window are final (see the module docstring)
GUARD_H = 8.0
#: every this many seconds, each stream's batch files committed since are compacted into one
COMPACT_EVERY_S = 300.0
MANIFEST_FORMAT = "nmea-live"
#: DIR/_live/ holds the watcher's lock
LIVE_DIR = "_live"
SEVERITY_RANK = {s: i for i, s in enumerate(schema.SEVERITIES)}
_US = 1_000_000
#: the positions columns the detection window keeps (before its place columns): what
#: seawatch.tracks.build_tracks needs to segment and what the detectors read
#: (seawatch.detect.base.DETECT_COLUMNS); heading, status, station and the like stay in the store
WINDOW_COLUMNS = ("mmsi", "ts", "lat", "lon", "sog_kn", "cog_deg", "ais_class")
_W_US = DEDUP_WINDOW_S * _US
_ISO_MS = "%Y-%m-%dT%H:%M:%S.%fZ"


def _detection_id(row: dict[str, Any]) -> Any:
    """The detection a dark_target event stands for (from its evidence)."""
    try:
        return json.loads(row.get("evidence") or "{}").get("detection_id")
    except (ValueError, AttributeError):
        return None


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    s = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return s + "Z"


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime(_ISO_MS)[:-4] + "Z"


# -------------------------------------------------------------------------------------------------
# content de-duplication across streams and restarts

#: columns that identify a message's content (everything but receive time, station, source, n_rx)
_DEDUP_KEYS = {
    t: [c.name for c in schema.columns(t) if c.name not in ("ts", "station", "source", "n_rx")]
    for t in ("positions", "statics", "other")
}


class _Seen:
    """Hashes and receive times of the messages accepted recently: a message whose content equals
    one of them within :data:`DEDUP_WINDOW_S` seconds of receive time is a duplicate (another
    receiver's copy, or a source resending after a restart). Untimed rows are never dropped.

    Per table, the hashes are kept sorted (numpy, with their times): a batch looks up only its
    own hashes (binary search) and merges its kept ones in, instead of scanning a day of
    messages."""

    def __init__(self) -> None:
        self.h = {t: np.zeros(0, np.uint64) for t in _DEDUP_KEYS}
        self.t = {t: np.zeros(0, np.int64) for t in _DEDUP_KEYS}
        self.t_min = {t: None for t in _DEDUP_KEYS}  # the earliest time in self.t[table]

    @staticmethod
    def _hash(table: str, df: pl.DataFrame) -> pl.Series:
        return df.select(_DEDUP_KEYS[table]).hash_rows(seed=11)

    def size(self, table: str) -> int:
        """Rows remembered for ``table``."""
        return len(self.h[table])

    def _insert(self, table: str, h: np.ndarray, t: np.ndarray, at: np.ndarray | None = None) -> None:
        """Remember rows ``h, t``; ``at``: they are in hash order, to go before these rows (the
        ends of their hashes' runs)."""
        if at is None:
            order = np.argsort(h, kind="stable")
            h, t = h[order], t[order]
            at = np.searchsorted(self.h[table], h, side="right")
        self.h[table] = np.insert(self.h[table], at, h)
        self.t[table] = np.insert(self.t[table], at, t)
        lo = int(t.min()) if len(t) else None
        if lo is not None and (self.t_min[table] is None or lo < self.t_min[table]):
            self.t_min[table] = lo

    def add(self, table: str, df: pl.DataFrame) -> None:
        df = df.filter(pl.col("ts").is_not_null())
        if df.height:
            self._insert(table, self._hash(table, df).to_numpy(), df["ts"].dt.epoch("us").to_numpy())

    def filter(self, table: str, df: pl.DataFrame) -> tuple[np.ndarray, int]:
        """Keep-mask over ``df``'s rows (rows in arrival order) and the number dropped; the kept
        timed rows are remembered."""
        keep = np.ones(df.height, bool)
        if df.height == 0:
            return keep, 0
        ts = df["ts"].dt.epoch("us")
        rows = np.flatnonzero(ts.is_not_null().to_numpy())
        if len(rows) == 0:
            return keep, 0
        # the timed rows in hash order (arrival order within a hash)
        h = self._hash(table, df).to_numpy()[rows]
        order = np.argsort(h, kind="stable")
        h, t, rows = h[order], ts.fill_null(0).to_numpy()[rows][order], rows[order]
        H, T = self.h[table], self.t[table]
        lo, hi = np.searchsorted(H, h, side="left"), np.searchsorted(H, h, side="right")
        again = np.zeros(len(h), bool)  # a hash met before in this batch
        again[1:] = h[1:] == h[:-1]
        # only a row whose hash was remembered, or comes twice in the batch, can be a duplicate
        look = (hi > lo) | again | np.append(again[1:], False)
        dup = np.zeros(0, np.int64)
        if look.any():
            u = np.flatnonzero(look & ~again)  # each such hash once
            n = (hi - lo)[u]
            from .tracks import _ranges

            idx = _ranges(lo[u], n)
            # of those remembered, only the ones within the window of one of the batch's rows of
            # their hash can decide (a farther one, or none, leaves a row kept all the same)
            head = np.flatnonzero(~again)
            t_lo = np.minimum.reduceat(t, head)[np.searchsorted(head, u)] - _W_US
            t_hi = np.maximum.reduceat(t, head)[np.searchsorted(head, u)] + _W_US
            near = (T[idx] >= np.repeat(t_lo, n)) & (T[idx] <= np.repeat(t_hi, n))
            idx = idx[near]
            prior = pl.DataFrame({"h": pl.Series(H[idx], dtype=pl.UInt64), "t": pl.Series(T[idx], dtype=pl.Int64),
                                  "i": pl.Series(np.full(len(idx), -1), dtype=pl.Int64)})
            cand = pl.DataFrame({"h": pl.Series(h[look], dtype=pl.UInt64), "t": pl.Series(t[look], dtype=pl.Int64),
                                 "i": pl.Series(rows[look], dtype=pl.Int64)})
            # a row is a duplicate when a remembered row of its hash is within the window before or
            # after it, or the row before it (in time, of its hash) is
            allf = pl.concat([prior, cand]).sort("h", "t", "i")
            pt = pl.when(pl.col("i") < 0).then(pl.col("t"))
            allf = allf.with_columns(
                lp=pt.forward_fill().over("h"), nx=pt.backward_fill().over("h"),
                ph=pl.col("h").shift(1), pt_=pl.col("t").shift(1),
            )
            dup = allf.filter(
                (pl.col("i") >= 0)
                & (((pl.col("t") - pl.col("lp")) <= _W_US).fill_null(False)
                   | ((pl.col("nx") - pl.col("t")) <= _W_US).fill_null(False)
                   | ((pl.col("ph") == pl.col("h")) & ((pl.col("t") - pl.col("pt_")) <= _W_US)).fill_null(False))
            )["i"].to_numpy()
            keep[dup] = False
        kept = keep[rows]
        self._insert(table, h[kept], t[kept], at=hi[kept])
        return keep, len(dup)

    def prune(self, lo_us: int) -> None:
        """Forget the rows received before ``lo_us`` less the de-duplication window."""
        floor = lo_us - _W_US
        for table, t in self.t.items():
            if self.t_min[table] is not None and self.t_min[table] < floor:
                live = t >= floor
                self.h[table], self.t[table] = self.h[table][live], t[live]
                self.t_min[table] = int(t[live].min()) if live.any() else None


# -------------------------------------------------------------------------------------------------
# streams


@dataclass
class _Stream:
    """One byte stream (a TCP connection, a followed file, a UDP peer) and its decoder."""

    name: str
    source: Source
    decoder: NmeaDecoder
    buf: bytearray = field(default_factory=bytearray)
    is_file: bool = False
    offset: int = 0  # file offset of buf[0]
    line_base: int = 0  # decoder line n is file line line_base + n
    lines_fed: int = 0
    skip_rejects_upto: int = 0  # file lines <= this were settled by an earlier run (resume overlap)
    marks: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (first decoder line, starts)
    seq: int = 0
    final: bool = False


def _lock_store(store: Store) -> IO[bytes] | None:
    """Hold DIR/_live/watch.lock (flock) while watching: two watchers on one store would write
    the same events twice. Released when the watcher closes or its process ends."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    d = store.path / LIVE_DIR
    d.mkdir(exist_ok=True)
    fh = open(d / "watch.lock", "a+b")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise SeawatchError(f"another `seawatch watch` is writing to {store.path}: stop it first, or use another --db") from None
    return fh


class _PySource(Source):
    """Bytes handed in by Python (:meth:`Watcher.feed`)."""

    kind = "python"

    def __init__(self, name: str):
        super().__init__(name)
        self.stats.state = "python"


# -------------------------------------------------------------------------------------------------
# alert outputs


class _Webhook:
    """POST each alert as JSON to a URL from a background thread; retries 3 times with backoff.
    Never blocks the watcher: when 1,000 alerts are waiting, new ones are dropped and counted."""

    def __init__(self, url: str, timeout_s: float = 5.0):
        from urllib.parse import urlsplit

        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise SeawatchError(f"bad webhook URL {url!r}: use http://host[:port]/path or https://...")
        self.url, self.timeout_s = url, timeout_s
        self.q: queue.Queue[bytes | None] = queue.Queue(maxsize=1000)
        self.sent = self.failed = self.dropped = 0
        self.last_error: str | None = None
        self.thread = threading.Thread(target=self._run, name="seawatch-webhook", daemon=True)
        self.thread.start()

    def post(self, record: dict[str, Any]) -> None:
        try:
            self.q.put_nowait(json.dumps(record).encode())
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        import urllib.error
        import urllib.request

        while True:
            body = self.q.get()
            if body is None:
                return
            for attempt in range(4):
                try:
                    req = urllib.request.Request(self.url, data=body, method="POST",
                                                 headers={"content-type": "application/json",
                                                          "user-agent": "seawatch-watch"})
                    with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
                        r.read()
                    self.sent += 1
                    break
                except (urllib.error.URLError, OSError, ValueError) as e:
                    self.last_error = str(e)
                    if attempt == 3:
                        self.failed += 1
                    else:
                        time.sleep(0.5 * 2**attempt)

    def close(self, timeout_s: float = 5.0) -> None:
        with contextlib.suppress(queue.Full):
            self.q.put(None, timeout=timeout_s)
        self.thread.join(timeout_s)

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "sent": self.sent, "failed": self.failed, "dropped": self.dropped,
                "waiting": self.q.qsize(), "last_error": self.last_error}


# -------------------------------------------------------------------------------------------------
# the watcher


@dataclass
class WatchConfig:
    """Settings of :class:`Watcher` (the options of ``seawatch watch``)."""

    sources: Sequence[str]
    db: str | os.PathLike[str]
    preset: str = "coastal"
    config: Any = None
    alerts: str | os.PathLike[str] | IO[str] | None = None
    webhook: str | None = None
    batch_s: float = BATCH_S
    stall_s: float = 60.0
    window_h: float = WINDOW_H
    compact_every_s: float = COMPACT_EVERY_S
    status_path: str | os.PathLike[str] | None = None
    status_every_s: float = STATUS_EVERY_S
    status_stream: IO[str] | None = None  # where the periodic status line goes (None: stderr)
    exit_idle_s: float | None = None
    alert_retractions: bool = False
    #: a dark_target whose detection is part of a dark_track is not alerted on its own (the
    #: track's alert stands for the boat); False alerts every unmatched plot
    fold_dark_targets: bool = True
    #: a detection pass longer than this (seconds) puts a warning in the status: alerts lag by
    #: about a pass, and a pass grows with the window (about 2 us of one core a position)
    slow_detect_s: float = 5.0
    detect: bool = True
    max_buffer_bytes: int = MAX_BUFFER_BYTES
    backoff_min_s: float | None = None
    backoff_max_s: float | None = None
    on_alert: Callable[[dict[str, Any]], None] | None = None


@dataclass
class _Fresh:
    """The changed vessels' detector inputs of an incremental pass (:meth:`Watcher._extended`)."""

    inputs: Any  # seawatch.detect.base.Inputs of every changed vessel
    lead: pl.DataFrame  # the carried track rows asked for, copied with the extended vessels' rows
    lead_starts: np.ndarray  # which of those rows start a segment
    extended: pl.Series  # mmsi of the vessels whose tracks were extended (first in inputs.tracks)
    grown: pl.DataFrame  # per segment that grew: its rows in inputs.tracks (first, n) and n_old before
    again: Any  # Inputs of the vessels segmented again (the rest of inputs.tracks)


def _vessel_rows(tracks: pl.DataFrame, offset: int = 0) -> pl.DataFrame:
    """``mmsi, start, n``: where each vessel's rows are in ``tracks`` (whose rows are
    contiguous per vessel), ``offset`` added to the starts."""
    m = tracks["mmsi"]
    first = np.flatnonzero((m != m.shift(1)).fill_null(True).to_numpy()) if len(m) else np.zeros(0, np.int64)
    return pl.DataFrame({"mmsi": m.gather(first), "start": first.astype(np.int64) + offset,
                         "n": np.diff(np.append(first, len(m))).astype(np.int64)})


def _without_vessels(tracks: pl.DataFrame, rows: pl.DataFrame, drop: pl.Series) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """``tracks`` without the rows of the vessels ``drop``, as zero-copy slices (the runs of
    vessels kept), and where the kept vessels' rows are in those slices put end to end
    (``rows``: :func:`_vessel_rows` of ``tracks``)."""
    keep = rows.filter(~pl.col("mmsi").is_in(drop.implode())).sort("start")
    if keep.height == 0:
        return [], keep
    s = keep["start"].to_numpy()
    e = s + keep["n"].to_numpy()
    head = np.ones(len(s), dtype=bool)
    head[1:] = s[1:] != e[:-1]  # a vessel whose rows do not follow the previous kept vessel's
    run = np.cumsum(head) - 1
    rs, re = s[head], e[np.append(head[1:], True)]
    off = np.concatenate([[0], np.cumsum(re - rs)[:-1]]).astype(np.int64)
    kept = [tracks.slice(int(a), int(b - a)) for a, b in zip(rs, re)]
    return kept, keep.with_columns(start=pl.Series(off[run] + (s - rs[run]), dtype=pl.Int64))


class Watcher:
    """The streaming loop (see the module docstring). ``await Watcher(cfg).run()`` until
    :meth:`stop`; or :func:`start_watch` to run it in a thread."""

    def __init__(self, cfg: WatchConfig):
        from .detect import params_for

        if not cfg.batch_s > 0:
            raise SeawatchError(f"batch_s must be > 0, not {cfg.batch_s!r}")
        if not cfg.stall_s > 0:
            raise SeawatchError(f"stall_s must be > 0, not {cfg.stall_s!r}")
        if not cfg.window_h > 0:
            raise SeawatchError(f"window_h must be > 0, not {cfg.window_h!r}")
        self.cfg = cfg
        self.params = params_for(cfg.preset, cfg.config)  # checks preset and config now
        names = [str(s) for s in cfg.sources]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SeawatchError(f"source given twice: {', '.join(dup)}")
        self.sources: list[Source] = [parse_source(s) for s in names]
        for s in self.sources:
            s.stall_s = cfg.stall_s
            if cfg.backoff_min_s is not None:
                s.backoff_min = cfg.backoff_min_s
            if cfg.backoff_max_s is not None:
                s.backoff_max = cfg.backoff_max_s
        self.store = Store(cfg.db, create=True)
        self._lock_fh: IO[bytes] | None = None
        self.session = uuid.uuid4().hex[:12]
        self.streams: dict[str, _Stream] = {}
        self.retiring: list[_Stream] = []
        self._buffered = 0
        self._room: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        # state of the worker thread
        self.seen = _Seen()
        self.win: dict[str, list[pl.DataFrame]] = {"positions": [], "statics": []}
        self.data_now_us: int | None = None
        self.evicted = False
        self.events = schema.empty("events")
        self.ports: pl.DataFrame | None = None
        self.ports_at_us: int | None = None
        self.ports_at_wall = 0.0
        self.zones: Any = None
        #: the store's sensor detections (radar, satellite) and the generation they were read at
        self.detections: pl.DataFrame | None = None
        self.detections_gen: int | None = None
        self.dirty = False  # new rows since the last detection
        # carried per-vessel state: the last pass's tracks and segments (as detector inputs) and
        # the events of the per-vessel detectors; a pass rebuilds only the vessels
        # whose rows changed since (seawatch.scale's kernel contract: per-vessel kernels see
        # whole vessels, so the others' results stand)
        self._inputs: Any = None  # seawatch.detect.base.Inputs of the last pass
        self._parts: dict[str, pl.DataFrame] | None = None  # per-vessel events, rx grid, encounter grid, close pairs
        self._rx_cache = ReceptionCache()  # ais_gap's reception counts of the last pass
        self._rows: pl.DataFrame | None = None  # where each vessel's rows are in self._inputs.tracks
        self._changed: list[pl.Series] = []  # mmsi of window rows added or evicted since
        self._resegment: list[pl.Series] = []  # mmsi whose tracks cannot just be extended (rows evicted, ports moved)
        self._new_pos: list[pl.DataFrame] = []  # the positions added to the window since
        self.extended = {"vessels": 0, "segmented": 0}  # dirty vessels of incremental passes: tracks extended / built again
        self._full = True  # the next pass rebuilds every vessel
        self.passes = {"full": 0, "incremental": 0}
        self.port_refreshes = 0  # times the ports (inferred anchorages) were recomputed
        self.last_pass_vessels = 0  # vessels rebuilt by the last pass
        self.resume: dict[str, dict[str, Any]] = {}
        #: per stream, the batch files committed and not yet compacted (oldest first)
        self.small: dict[str, list[str]] = {}
        self.compacted_at = time.monotonic()
        self.compactions = 0
        #: set when run() winds down: sources stop reconnecting
        self.stopping = False
        self._py_sources: dict[str, Source] = {}
        # counters
        self.started = time.time()
        self.cycles = 0
        self.last_cycle_s = 0.0
        self.last_detect_s = 0.0
        self.rows = dict.fromkeys(("positions", "statics", "other", "rejects"), 0)
        self.duplicates = 0
        self.alerts_sent = 0
        self.folded = 0  # dark_target alerts folded into their dark_track's
        self.folded_ids: set[str] = set()  # ... and those events' ids (alerted if the track goes)
        self.actions = dict.fromkeys(("open", "escalate", "update", "close", "retract"), 0)
        self.files_committed = 0
        self.last_input = time.time()
        self.errors: list[str] = []
        # outputs
        self._alert_fh: IO[str] | None = None
        self._own_alert_fh = False
        if cfg.alerts is not None:
            if cfg.alerts == "-":
                self._alert_fh = sys.stdout
            elif hasattr(cfg.alerts, "write"):
                self._alert_fh = cfg.alerts  # type: ignore[assignment]
            else:
                p = Path(cfg.alerts)  # type: ignore[arg-type]
                if not p.parent.exists():
                    raise SeawatchError(f"no such directory for --alerts: {p.parent} — create it first")
                self._alert_fh = open(p, "a", encoding="utf-8")
                self._own_alert_fh = True
        self.webhook = _Webhook(cfg.webhook) if cfg.webhook else None
        if cfg.status_path is not None and not Path(cfg.status_path).parent.exists():
            raise SeawatchError(f"no such directory for --status: {Path(cfg.status_path).parent}")
        try:
            self._lock_fh = _lock_store(self.store)
            self._load()
        except BaseException:
            self.close()
            raise

    # -- start-up state --------------------------------------------------------------------------
    def _load(self) -> None:
        st = self.store
        # where each stream stopped (followed files resume there)
        for m in st.manifests():
            live = m.get("live")
            if not isinstance(live, dict) or "stream" not in live:
                continue
            if "replaces" not in m and m.get("fingerprint"):
                self.small.setdefault(live["stream"], []).append(m["fingerprint"])
            prev = self.resume.get(live["stream"])
            if prev is None or (m.get("ingested_at", ""), live.get("seq", 0)) >= (prev["_at"], prev.get("seq", 0)):
                self.resume[live["stream"]] = {**live, "_at": m.get("ingested_at", "")}
        for s in self.sources:
            r = self.resume.get(s.name)
            if isinstance(s, FileFollow) and r and "resume_offset" in r:
                s.start_offset = int(r["resume_offset"])
                s.start_inode = r.get("inode")
        # imported zones (the window's place columns use them)
        if st.derived_info("zones") is not None:
            from .zones import Zones

            self.zones = Zones.default().with_imported(st.table("zones"))
        # the window and the seen index
        mx = st.query("SELECT epoch_us(max(ts)) AS t FROM positions WHERE ts IS NOT NULL")
        t = mx["t"][0] if mx.height else None
        limit = int((time.time() + FUTURE_SLACK_S) * _US)
        if t is not None and t > limit:  # a far-future receive time must not become "now"
            mx = st.query(f"SELECT epoch_us(max(ts)) AS t FROM positions WHERE epoch_us(ts) <= {limit}")
            t = mx["t"][0] if mx.height else None
        if t is not None:
            self.data_now_us = int(t)
            lo = self._window_lo()
            lo_dt = datetime.fromtimestamp((lo - _W_US) / _US, timezone.utc)
            for table in ("positions", "statics", "other"):
                df = st.table(table, where=pl.col("ts") >= lo_dt)
                self.seen.add(table, df)
                if table in self.win and df.height:
                    df = df.filter(pl.col("ts") >= self._dt(lo))
                    self.win[table].append(self._placed(df) if table == "positions" else df)
            older = st.query(f"SELECT count(*) AS n FROM positions WHERE epoch_us(ts) < {lo}")
            self.evicted = bool(older["n"][0])
            self.dirty = True
        if st.derived_info("events") is not None:
            ev = st.table("events")
            info = st.derived_info("events") or {}
            if ev.height and (info.get("meta", {}).get("preset", self.cfg.preset) == self.cfg.preset):
                self.events = ev

    @staticmethod
    def _dt(us: int) -> datetime:
        return datetime.fromtimestamp(us / _US, timezone.utc)

    def _window_lo(self) -> int:
        assert self.data_now_us is not None
        return self.data_now_us - int(self.cfg.window_h * 3600 * _US)

    # -- the sink the sources write to (event-loop thread) -----------------------------------------
    def _stream(self, name: str, source: Source, offset: int | None) -> _Stream:
        s = self.streams.get(name)
        if s is None:
            s = _Stream(name, source, NmeaDecoder(name), is_file=isinstance(source, FileFollow))
            r = self.resume.get(name)
            if s.is_file:
                s.offset = offset or 0
                if r and offset and int(r.get("resume_offset", -1)) == offset:
                    s.line_base = int(r.get("resume_line", 0))
                    s.skip_rejects_upto = int(r.get("settled_line", 0))
            if r:
                s.seq = int(r.get("seq", 0)) + 1
            self.streams[name] = s
        return s

    def data(self, stream: str, source: Source, data: bytes, offset: int | None = None) -> None:
        s = self._stream(stream, source, offset)
        s.buf += data
        self._buffered += len(data)
        self.last_input = time.time()
        if self._room is not None and self._buffered >= self.cfg.max_buffer_bytes:
            self._room.clear()

    def cut(self, stream: str, *, final: bool = False, reset: bool = False) -> None:
        s = self.streams.get(stream)
        if s is None:
            return
        if s.buf and not s.buf.endswith(b"\n"):
            s.buf += b"\n"  # the connection ended inside a line: it is complete as it is
        if final or reset:
            s.final = True
            self.retiring.append(s)
            del self.streams[stream]
            if reset:  # the file starts again at offset 0, line 1
                self.resume.pop(stream, None)

    async def room(self) -> None:
        if self._room is not None:
            await self._room.wait()

    def full(self) -> bool:
        return self._buffered >= self.cfg.max_buffer_bytes

    def _take(self, final: bool = False) -> list[tuple[_Stream, bytes, int, bool]]:
        """Complete lines buffered per stream (event-loop thread). ``final``: everything, and
        finish the decoders of streams that do not resume (all but followed files)."""
        work = []
        for s in [*self.retiring, *self.streams.values()]:
            fin = s.final or (final and not s.is_file)
            if fin:
                if s.buf and not s.buf.endswith(b"\n"):
                    s.buf += b"\n"
                cut = len(s.buf)
            else:
                cut = s.buf.rfind(b"\n") + 1
            data = bytes(s.buf[:cut])
            del s.buf[:cut]
            off0 = s.offset
            s.offset += len(data)
            self._buffered -= len(data)
            if data or fin:
                work.append((s, data, off0, fin))
        self.retiring.clear()
        if self._room is not None and self._buffered < self.cfg.max_buffer_bytes:
            self._room.set()
        return work

    # -- one batch (worker thread) ------------------------------------------------------------------
    def _feed(self, s: _Stream, data: bytes, off0: int, fin: bool) -> tuple[IngestResult, dict[str, Any]]:
        parts = []
        first_line = s.lines_fed + 1
        if data:
            if s.is_file:
                a = np.frombuffer(data, np.uint8)
                nl = np.flatnonzero(a == 10)
                starts = np.concatenate([[0], nl[:-1] + 1]).astype(np.int64) + off0 if len(nl) else np.zeros(0, np.int64)
                s.marks.append((first_line, starts))
            parts.append(s.decoder.feed(data))
            s.lines_fed += data.count(b"\n")
        if fin:
            parts.append(s.decoder.finish())
        res = IngestResult.concat(parts) if parts else IngestResult()
        live: dict[str, Any] = {"source": s.source.name, "kind": s.source.kind, "stream": s.name,
                                "seq": s.seq, "session": self.session}
        if s.is_file:
            if res.rejects.height:
                rj = res.rejects.with_columns(pl.col("line_no") + s.line_base)
                before = rj.height
                if s.skip_rejects_upto:
                    rj = rj.filter(pl.col("line_no") > s.skip_rejects_upto)
                res.rejects = rj
                res.lines_read -= before - rj.height
            pend = s.decoder.pending_first_line
            end_off = off0 + len(data)
            if pend is None:
                resume_off, resume_line = end_off, s.line_base + s.lines_fed
                s.marks.clear()
            else:
                resume_off, resume_line = end_off, s.line_base + s.lines_fed
                for first, starts in s.marks:
                    if first <= pend < first + len(starts):
                        resume_off, resume_line = int(starts[pend - first]), s.line_base + pend - 1
                        break
                s.marks = [(f, st) for f, st in s.marks if f + len(st) > pend]
            path = getattr(s.source, "path", None)
            live.update(path=str(path) if path else None, inode=getattr(s.source, "inode", None),
                        offset_start=off0, offset_end=end_off, resume_offset=resume_off,
                        resume_line=resume_line, settled_line=s.line_base + s.lines_fed)
        return res, live

    def _process(self, work: list[tuple[_Stream, bytes, int, bool]], final: bool = False) -> None:
        t0 = time.perf_counter()
        fed = [(s, data, off0, *self._feed(s, data, off0, fin)) for s, data, off0, fin in work]
        # content de-duplication across the streams of this batch and against the recent past
        tables: list[dict[str, pl.DataFrame]] = [r.tables() for _, _, _, r, _ in fed]
        dups = [r.duplicates for _, _, _, r, _ in fed]
        for table in ("positions", "statics", "other"):
            frames = [t[table] for t in tables]
            sizes = [f.height for f in frames]
            if not sum(sizes):
                continue
            allf = pl.concat(frames)
            keep, _ = self.seen.filter(table, allf)
            offs = np.cumsum([0, *sizes])
            for k, t in enumerate(tables):
                m = keep[offs[k]:offs[k + 1]]
                if not m.all():
                    dups[k] += int((~m).sum())
                    t[table] = t[table].filter(pl.Series(m))
        # the store: one committed file per stream and batch
        for k, (s, data, off0, res, live) in enumerate(fed):
            tb = tables[k]
            for t in ("positions", "statics", "other"):  # each row keeps the source that heard it
                if tb[t].height:
                    tb[t] = tb[t].with_columns(source=pl.lit(s.source.name, dtype=pl.Utf8))
            n_rows = sum(df.height for df in tb.values())
            src_stats = s.source.stats
            src_stats.lines += res.lines_read
            src_stats.decoded += res.lines_decoded
            src_stats.rejected += res.rejects.height
            bad = res.rejects.filter(~pl.col("reason").is_in(list(schema.SKIPPED_REASONS)))
            if bad.height:
                src_stats.fault("garbage", f"{bad.height} bad line(s) in {s.name}, e.g. {bad['reason'][0]}: "
                                f"{(bad['raw'][0] or '')[:60]!r}", n=bad.height)
            src_stats.positions += tb["positions"].height
            src_stats.duplicates += dups[k]
            self.duplicates += dups[k]
            if not (n_rows or res.lines_read):
                continue
            ts = pl.concat([tb[t]["ts"] for t in ("positions", "statics", "other")]).drop_nulls()
            live.update(data_start=_iso(ts.min()) if len(ts) else None, data_end=_iso(ts.max()) if len(ts) else None)
            # a followed file's batch is named by its bytes and offset (reading it again gives the
            # same name); a network batch by the session and its sequence number
            key = f"{s.name}\0{off0}" if s.is_file else f"{s.name}\0{self.session}\0{s.seq}"
            h = self.store.new_hash()  # the store's algorithm (sha256 in stores made before xxh3)
            h.update(key.encode() + b"\0")
            h.update(data)
            fp = h.hexdigest()
            s.seq += 1
            if self.store.has_file(fp):
                continue
            with self.store.lock(fp):
                self.store.begin_file(fp)
                written = self.store.write_chunk(fp, 0, tb) if n_rows else {}
                self.store.commit_file(fp, {
                    "path": f"live:{s.name}", "format": MANIFEST_FORMAT,
                    "lines_read": res.lines_read, "lines_decoded": res.lines_decoded,
                    "lines_rejected": res.rejects.height, "duplicates": dups[k],
                    "rows": {t: int(written.get(t, 0)) for t in ("positions", "statics", "other", "rejects")},
                    "chunks": 1 if n_rows else 0, "live": live,
                })
            self.files_committed += 1
            self.small.setdefault(s.name, []).append(fp)
            for t, n in written.items():
                self.rows[t] = self.rows.get(t, 0) + n
            # the detection window
            for t in ("positions", "statics"):
                df = tb[t].filter(pl.col("ts").is_not_null())
                if df.height:
                    if t == "positions":
                        self._bump_now(df)
                    if self.cfg.detect:
                        self.win[t].append(self._placed(df) if t == "positions" else df)
                        if t == "positions":
                            self._new_pos.append(self.win[t][-1])
                        self._changed.append(df["mmsi"])
                        self.dirty = True
        if self.data_now_us is not None and not self.cfg.detect:
            self.seen.prune(self._window_lo())
        if self.cfg.detect and (self.dirty or final):
            td = time.perf_counter()
            self._detect(final=final)
            self.last_detect_s = time.perf_counter() - td
        if final or self._compaction_due():
            self._compact(final)
        self.cycles += 1
        self.last_cycle_s = time.perf_counter() - t0

    def _compaction_due(self) -> bool:
        return bool(self.cfg.compact_every_s) and time.monotonic() - self.compacted_at >= self.cfg.compact_every_s \
            and any(len(f) > 2 for f in self.small.values())

    def _compact(self, final: bool = False) -> None:
        """Compact each stream's batch files committed since the last compaction into one
        (seawatch.store.Store.compact): a day of 0.25 s batches would otherwise be 350,000
        files per stream for every reader to list. The newest stays apart until the final
        flush (nothing depends on it, but it keeps each compaction to whole past batches)."""
        self.compacted_at = time.monotonic()
        if not self.cfg.compact_every_s:
            return
        for stream, fps in self.small.items():
            take = fps if final else fps[:-1]
            if len(take) < 2:
                continue
            try:
                self.store.compact(take, {"path": f"live:{stream}", "format": MANIFEST_FORMAT})
            except Exception as e:  # noqa: BLE001 - the watch goes on with the files as they are
                self.errors.append(f"compaction of {stream}: {e!r}")
                continue
            self.small[stream] = fps[len(take):]
            self.compactions += 1

    def _bump_now(self, df: pl.DataFrame) -> None:
        """Move data time "now" to the latest receive time in ``df`` (not far ahead of the clock)."""
        limit = datetime.fromtimestamp(time.time() + FUTURE_SLACK_S, timezone.utc)
        t = df.filter(pl.col("ts") <= limit).select(pl.col("ts").dt.epoch("us").max()).item()
        if t is not None:
            us = int(t)
            if self.data_now_us is None or us > self.data_now_us:
                self.data_now_us = us

    def _placed(self, df: pl.DataFrame) -> pl.DataFrame:
        """New window positions with their place columns (zone, shore, night, port), computed once
        per row here rather than over the whole window in every batch. Only the columns the
        tracks and detectors read are kept (:data:`WINDOW_COLUMNS`): the window holds a day of
        every feed, and each pass gathers and sorts all of it."""
        from .tracks import add_places

        return add_places(df.select([c for c in WINDOW_COLUMNS if c in df.columns]), self.ports, self.zones)

    def _window(self, table: str) -> pl.DataFrame:
        """The window's rows of ``table``: the frames appended since, the rows older than the
        window dropped (their vessels are rebuilt in the next pass). Frames are joined into one
        only now and then (a pass reads them as they are)."""
        frames = self.win[table]
        if self.data_now_us is not None:
            lo = self._window_lo()
            lo_dt = self._dt(lo)
            kept = []
            for f in frames:
                if f["ts"].min() < lo_dt:
                    self.evicted = True
                    gone = f.filter(pl.col("ts") < lo_dt)["mmsi"]  # these vessels lose rows
                    self._changed.append(gone)
                    self._resegment.append(gone)
                    f = f.filter(pl.col("ts") >= lo_dt)
                if f.height:
                    kept.append(f)
            frames = kept
            self.seen.prune(lo)
        if len(frames) > 16:
            frames = [pl.concat(frames, how="vertical_relaxed", rechunk=True)]
        self.win[table] = frames
        return pl.concat(frames, how="vertical_relaxed", rechunk=False) if frames else schema.empty(table)

    def _detect(self, final: bool = False) -> None:
        from .detect import combine_events, dark, encounter, gap
        from .tracks import PORT_COLUMNS, add_places, ports_with_anchorages

        self.dirty = False
        pos = self._window("positions")
        statics = self._window("statics")
        if pos.height == 0 or self.data_now_us is None:
            return
        if self.ports is None or final or self.ports_at_us is None or (
                self.data_now_us - self.ports_at_us >= PORTS_EVERY_S * _US
                and time.monotonic() - self.ports_at_wall >= PORTS_MIN_WALL_S):
            old, self.ports = self.ports, ports_with_anchorages(pos)
            self.port_refreshes += 1
            self.ports_at_us = self.data_now_us
            self.ports_at_wall = time.monotonic()
            # the ports that came, went or moved
            moved = None if old is None or final else differing_rows(old, self.ports, old.columns)
            if moved is None:
                pos = add_places(pos, self.ports, only=PORT_COLUMNS)  # the ports changed
                self.win["positions"] = [pos]
                self._full = True
            elif moved.height:  # rebuild the vessels within reach of a port that came, went or moved
                pos, near = self._near_ports(pos, moved)
                self.win["positions"] = [pos]
                self._changed.append(near)
                self._resegment.append(near)
        inputs, parts = self._vessels(pos, statics, full=self._full or final)
        # the cross-vessel detectors (seawatch.scale.CROSS_VESSEL and CLIENT_SIDE) over the whole
        # window, from the per-vessel parts; dark only with sensor detections in the window
        frames = [parts["events"], gap.detect(inputs, self.params["ais_gap"], grid=parts["rx"], cache=self._rx_cache),
                  encounter.detect(inputs, self.params["encounter"], rows=parts["enc_rows"])]
        dets = self._detections()
        corr = dark.correlate(dets, inputs.points, statics, self.params["dark"]) if dets is not None else None
        if corr is not None:
            frames.append(dark.events_from(corr, self.params["dark"], self.cfg.preset))
        self._diff(combine_events(frames))  # as detect() over every detector at once
        if corr is not None and corr.height:
            self.store.write_derived("correlation", corr, {"live": True, "session": self.session})

    def _near_ports(self, pos: pl.DataFrame, moved: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
        """After the ports changed (``moved``: the ports that came, went or moved): the window
        with the port columns of the rows within :data:`PORT_SEARCH_KM` (+1 km) of a moved port
        recomputed (no other row's nearest port can have changed), and the MMSIs with a row
        within reach of one: the farthest any detector looks for a port (50 km, or a larger port
        parameter), plus 50 km for the encounter detector's grid points interpolated between
        reports (at most 1 h apart at 50 kn: 46 km)."""
        from .tracks import PORT_COLUMNS, add_places
        from .zones.ports import nearest_port

        reach = max([PORT_SEARCH_KM] + [float(getattr(p, f)) for p in self.params.values() for f in
                                        ("port_exclusion_km", "min_port_km", "port_radius_km", "entry_km", "exit_km")
                                        if hasattr(p, f)])
        d = nearest_port(pos["lat"], pos["lon"], ports=moved, search_km=reach + 50.0)["port_dist_km"]
        idx = np.flatnonzero((d <= PORT_SEARCH_KM + 1.0).fill_null(False).to_numpy())
        if len(idx):
            again = add_places(pos[idx].select("ts", "lat", "lon"), self.ports, only=PORT_COLUMNS)
            pos = pos.with_columns(pos[c].scatter(idx, again[c]) for c in PORT_COLUMNS)
        return pos, pos.filter(d.is_not_null())["mmsi"].drop_nulls().unique()

    def _vessels(self, pos: pl.DataFrame, statics: pl.DataFrame, *, full: bool) -> tuple[Any, dict[str, Any]]:
        """The window's tracks (as detector inputs: segment points and noise points apart) and
        what is computed per vessel for the detectors: the per-vessel detectors' events, the
        reception count of ais_gap and the grid points of encounter. Rebuilt for the vessels
        whose rows changed since the last pass, carried over for the others (all of them when
        ``full``: the first pass, the final flush; new anchorages add the vessels near them).
        Vessels are whole on either side,
        so only the row order between vessels differs from a full rebuild, and no detector
        depends on it (tests/test_live.py checks pass by pass)."""
        from .detect import detect, encounter, gap
        from .detect.base import Inputs
        from .tracks import _ranges, build_tracks

        kw = dict(preset=self.cfg.preset, config=self.cfg.config, ports=self.ports, ports_in_tracks=True)
        changed = pl.concat(self._changed).unique() if self._changed else pl.Series("mmsi", [], pl.Int64)
        resegment = pl.concat(self._resegment).unique() if self._resegment else pl.Series("mmsi", [], pl.Int64)
        new_pos = pl.concat(self._new_pos, how="vertical_relaxed") if self._new_pos else None
        self._changed, self._resegment, self._new_pos = [], [], []
        carried, parts = self._inputs, self._parts
        self._full = True  # until this pass has finished
        mine = pl.col("mmsi").is_in(changed.implode()).fill_null(False)  # a row without mmsi is nobody's
        full = full or carried is None or parts is None
        if full:
            tr = build_tracks(pos, ports=self.ports, zones=self.zones)
            fresh = Inputs(tr.points, tr.segments, statics, ports=self.ports, preset=self.cfg.preset, ports_in_tracks=True)
        else:
            statics = statics.filter(mine)
            kept, kept_rows = _without_vessels(carried.tracks, self._rows, changed)
            # the kept vessels' rows stay zero-copy slices, unless these would have to be joined
            # into one chunk (a copy of every row) and are a small part of the window (in a fast
            # replay nearly every vessel changes every pass): then they are copied in the gather
            # of the extended vessels' rows
            kept_at = self._rows.filter(~pl.col("mmsi").is_in(changed.implode())).sort("start")  # as in kept
            lead = None
            if sum(f.n_chunks() for f in kept) + 2 > MAX_CHUNKS and \
                    sum(f.height for f in kept) * GATHER_COST < carried.tracks.height:
                lead = kept_at
            fr = self._extended(carried, changed, resegment, new_pos, pos, statics, lead)
            fresh = fr.inputs
            if lead is not None:
                kept, kept_starts = [fr.lead], fr.lead_starts
            else:
                kept_starts = carried.segment_starts()[_ranges(kept_at["start"].to_numpy(), kept_at["n"].to_numpy())]
        ep = self.params["encounter"]
        new_parts = {
            "events": detect(fresh.tracks, fresh.segments, fresh.statics, noise=fresh.noise, only=list(PER_VESSEL),
                             contiguous=True, seg_starts=fresh.segment_starts(), **kw),  # Inputs left each segment's rows together, in time
        }
        if full:
            new_parts.update(rx=gap.vessel_grid(fresh.points), encounter=encounter.grid_points(fresh, ep))
            inputs = fresh
            rows = _vessel_rows(fresh.tracks)
            self._rx_cache.clear()
            new_parts["enc_rows"] = encounter.close_rows(new_parts["encounter"], self.params["encounter"])
            self.passes["full"] += 1
            self.last_pass_vessels = fresh.segments["mmsi"].n_unique()
        else:
            rows = pl.concat([kept_rows, _vessel_rows(fresh.tracks, offset=sum(f.height for f in kept))])
            tracks = pl.concat([*kept, fresh.tracks], rechunk=False)
            if tracks.n_chunks() > MAX_CHUNKS:
                tracks = tracks.rechunk()
            inputs = Inputs(
                tracks,
                pl.concat([carried.segments.filter(~mine), fresh.segments]),
                ports=self.ports, preset=self.cfg.preset, ports_in_tracks=True,
                noise=pl.concat([carried.noise.filter(~mine), fresh.noise]), contiguous=True,
                seg_starts=np.concatenate([kept_starts, fresh.segment_starts()]))
            # reception counts and encounter grid points: the extended vessels' carried ones, their
            # new points' added (the old ones stand); the others' counted again
            of = lambda m: pl.col("mmsi").is_in(m.implode())  # noqa: E731
            again = changed.filter(~changed.is_in(fr.extended.implode()))
            first, n_old, n = (fr.grown[c].to_numpy() for c in ("first", "n_old", "n"))
            rx_ext, tb = gap.grown_vessel_grid(parts["rx"].filter(of(fr.extended)), fresh.points[_ranges(first + n_old, n - n_old)])
            rx_again, old_rx = gap.vessel_grid(fr.again.points), parts["rx"].filter(of(again))
            self._rx_cache.grid_changed(tb)
            self._rx_cache.grid_changed(differing_rows(old_rx, rx_again, old_rx.columns)["tb"].unique())
            enc_add, enc_again = encounter.grown_grid_points(fresh, ep, first, n_old, n), encounter.grid_points(fr.again, ep)
            moved = pl.concat([enc_add.select("mmsi", "k"),
                               encounter.changed_points(parts["encounter"].filter(of(again)), enc_again)]).unique()
            new_parts.update(rx=pl.concat([rx_ext, rx_again]),
                             encounter=pl.concat([parts["encounter"].filter(of(fr.extended)), enc_add, enc_again]))
            new_parts = {k: pl.concat([parts[k].filter(~mine), v], how="vertical_relaxed") for k, v in new_parts.items()}
            # close pairs searched again only where grid points moved
            new_parts["enc_rows"] = encounter.close_rows(new_parts["encounter"], self.params["encounter"],
                                                         carried=parts["enc_rows"], changed=moved)
            self.passes["incremental"] += 1
            self.last_pass_vessels = changed.len()
        self._inputs, self._parts, self._rows = inputs, new_parts, rows
        self._full = False
        return inputs, new_parts

    def _extended(self, carried: Any, changed: pl.Series, resegment: pl.Series, new_pos: pl.DataFrame | None,
                  pos: pl.DataFrame, statics: pl.DataFrame, lead: pl.DataFrame | None = None) -> _Fresh:
        """Detector inputs of the ``changed`` vessels, whole: their carried tracks extended by
        their new positions where :func:`seawatch.tracks.extend` allows it (the common case: a
        vessel reporting along its course), the others (rows evicted, ports moved, a late or
        implausible position, a new vessel) segmented again from their window rows. Also the
        carried track rows at ``lead`` (``start, n`` in the carried tracks), copied in the same
        gather as the extended vessels' rows (one chunk with them); empty without ``lead``."""
        from .detect.base import Inputs
        from .tracks import _ranges, build_tracks, extend, grown_segments, usable_vessel_rows

        tracks, segs, noise = carried.tracks, carried.segments, carried.noise
        rows = self._rows.join(changed.to_frame(), on="mmsi", how="semi").filter(
            ~pl.col("mmsi").is_in(resegment.implode()))
        # each candidate's latest track point, if it is the vessel's latest usable position
        at = rows.select("mmsi", last=pl.col("start") + pl.col("n") - 1)
        last = tracks[at["last"].to_numpy()].select("mmsi", "ts", "lat", "lon", "seg_id")
        last = last.join(segs.select("seg_id", "n_points"), on="seg_id", how="left")
        latest = segs.join(changed.to_frame(), on="mmsi", how="semi").group_by("mmsi").agg(
            end=pl.col("end_time").max(), n_end=(pl.col("end_time") == pl.col("end_time").max()).sum())
        noise_end = noise.join(changed.to_frame(), on="mmsi", how="semi").group_by("mmsi").agg(noise_end=pl.col("ts").max())
        last = (last.join(latest, on="mmsi", how="left").join(noise_end, on="mmsi", how="left")
                .filter((pl.col("ts") == pl.col("end")) & (pl.col("n_end") == 1)
                        & (pl.col("noise_end").is_null() | (pl.col("noise_end") < pl.col("ts"))))
                .select("mmsi", "ts", "lat", "lon", "seg_id", "n_points"))
        new = usable_vessel_rows(new_pos) if new_pos is not None else pos.clear()
        ext, bad = extend(last, new)
        keep = last.filter(~pl.col("mmsi").is_in(bad.implode()))["mmsi"]
        again = changed.filter(~changed.is_in(keep.implode()))
        # extended vessels: their carried rows, then their new rows (a single gather, after the
        # rows of the vessels ``lead`` when given)
        ext = ext.select(tracks.columns).cast(tracks.schema)
        kr = rows.join(keep.to_frame(), on="mmsi", how="semi").sort("mmsi")
        en = ext.group_by("mmsi", maintain_order=True).len()
        kr = kr.join(en, on="mmsi", how="left").with_columns(pl.col("len").fill_null(0)).join(
            last.select("mmsi", "n_points", "seg_id"), on="mmsi", how="left")
        e_len = kr["len"].to_numpy().astype(np.int64)
        e_start = np.cumsum(e_len) - e_len
        v_len = kr["n"].to_numpy().astype(np.int64)
        starts = np.column_stack([kr["start"].to_numpy(), tracks.height + e_start]).ravel()
        lens = np.column_stack([v_len, e_len]).ravel()
        n_lead = 0
        if lead is not None and lead.height:
            starts = np.concatenate([lead["start"].to_numpy(), starts])
            lens = np.concatenate([lead["n"].to_numpy().astype(np.int64), lens])
            n_lead = int(lead["n"].sum())
        total = int(lens.sum())
        both = pl.concat([tracks, ext], rechunk=False)  # ext is sorted by vessel and time
        idx = _ranges(starts, lens)
        out = both[idx] if total else tracks.clear()
        lead_tracks, ext_tracks = out.slice(0, n_lead), out.slice(n_lead)
        # which rows start a segment: as they did (a new row never does)
        out_starts = np.concatenate([carried.segment_starts(), np.zeros(ext.height, dtype=bool)])[idx]
        # the segment each grew: the last of its vessel's rows (the latest point was its end)
        g = e_len > 0
        v_end = np.cumsum(v_len + e_len)
        first = (v_end - e_len - kr["n_points"].to_numpy().astype(np.int64))[g]
        n_grown = (kr["n_points"].to_numpy() + e_len)[g]
        grown = kr.filter(pl.Series(g)).select("seg_id")
        old_grown = grown.join(segs, on="seg_id", how="left", maintain_order="left")
        ext_segs = pl.concat([segs.join(keep.to_frame(), on="mmsi", how="semi").filter(~pl.col("seg_id").is_in(grown["seg_id"].implode())),
                              grown_segments(old_grown, ext_tracks, first, n_grown)])
        ext_noise = noise.join(keep.to_frame(), on="mmsi", how="semi")
        self.extended["vessels"] += keep.len()
        # the others: segmented again from their window rows; not those that had no track or noise
        # point and have no new position to track (base stations, aids to navigation: never one)
        had = pl.concat([self._rows["mmsi"], noise["mmsi"], new["mmsi"]]).implode()
        again = again.filter(again.is_in(had))
        self.extended["segmented"] += again.len()
        tr = build_tracks(pos.filter(pl.col("mmsi").is_in(again.implode())), ports=self.ports, zones=self.zones)
        seg_again = Inputs(tr.points, tr.segments, ports=self.ports, preset=self.cfg.preset, ports_in_tracks=True)
        fresh = Inputs(pl.concat([ext_tracks, seg_again.tracks.cast(tracks.schema)], rechunk=False),
                       pl.concat([ext_segs, seg_again.segments]).sort("mmsi", "start_time", "seg_id"), statics,
                       ports=self.ports, preset=self.cfg.preset, ports_in_tracks=True,
                       noise=pl.concat([ext_noise, seg_again.noise.cast(noise.schema)]), contiguous=True,
                       seg_starts=np.concatenate([out_starts[n_lead:], seg_again.segment_starts()]))
        grown_rows = pl.DataFrame({"first": first, "n_old": kr["n_points"].to_numpy()[g], "n": n_grown}, schema=dict.fromkeys(("first", "n_old", "n"), pl.Int64))
        return _Fresh(fresh, lead_tracks, out_starts[:n_lead], keep, grown_rows, seg_again)

    def _detections(self) -> pl.DataFrame | None:
        """The sensor detections in the window up to data time "now" (`seawatch ingest
        --detections` while the watch runs adds them): the dark detector correlates them with
        the AIS window. Later ones wait: the AIS that would explain them has not arrived yet."""
        gen = self.store.generation("detections")
        if gen is None:
            return None
        if gen != self.detections_gen:
            self.detections, self.detections_gen = self.store.table("detections"), gen
        assert self.detections is not None and self.data_now_us is not None
        lo, hi = self._dt(self._window_lo()), self._dt(self.data_now_us)
        d = self.detections.filter(pl.col("ts").is_between(lo, hi))
        return d if d.height else None

    # -- events: diff, store, alert --------------------------------------------------------------
    def _guard_lo(self) -> datetime | None:
        if not self.evicted or self.data_now_us is None:
            return None
        guard = min(GUARD_H, self.cfg.window_h / 3)
        return self._dt(self._window_lo() + int(guard * 3600 * _US))

    def _diff(self, ev: pl.DataFrame) -> None:
        """Compare this pass's events with the known ones: open, escalate, update, close, retract;
        alerts, then the events table. The comparison is columnar (a join on the id); only the
        events that changed become Python rows."""
        guard = self._guard_lo()
        if guard is not None:
            ev = ev.filter(pl.col("start_time") >= guard)
        fields = ("end_time", "severity", "score", "status", "lat", "lon", "zone_name", "zone_kind",
                  "zone_state", "evidence", "other_mmsi")
        old_df = self.events
        o = old_df.select("event_id", *[pl.col(f).alias(f"{f}__old") for f in fields])
        same = pl.all_horizontal([pl.col(f).eq_missing(pl.col(f"{f}__old")) for f in fields])
        cand = ev.join(o, on="event_id", how="left").filter(~(pl.col("status__old").is_not_null() & same))
        # what happened to each changed event, decided over columns (thousands update each pass
        # on a busy window: open zone visits grow; only the alerted ones become Python rows)
        was_open = pl.col("status__old").is_null() | (pl.col("status__old") == "retracted")
        cand = cand.with_columns(
            _action=pl.when(was_open).then(pl.lit("open"))
            .when(pl.col("severity").replace_strict(SEVERITY_RANK, default=0, return_dtype=pl.Int64).fill_null(0)
                  > pl.col("severity__old").replace_strict(SEVERITY_RANK, default=0, return_dtype=pl.Int64).fill_null(0))
            .then(pl.lit("escalate"))
            .when((pl.col("status__old") == "open") & (pl.col("status") == "closed")).then(pl.lit("close"))
            .otherwise(pl.lit("update")),
            _prev_sev=pl.when(was_open).then(pl.lit(None, pl.Utf8)).otherwise(pl.col("severity__old")),
        ).select(*ev.columns, "_action", "_prev_sev")
        gone = old_df.filter(~pl.col("event_id").is_in(ev["event_id"].implode()) & (pl.col("status") != "retracted"))
        alerts: list[dict[str, Any]] = []
        data_time = _iso(self._dt(self.data_now_us)) if self.data_now_us is not None else None
        # the detections that belong to a dark track (its open / escalate alerts cover them)
        tracked = {d for ev_js in ev.filter(pl.col("event_type") == "dark_track")["evidence"].to_list()
                   for d in (json.loads(ev_js or "{}").get("detection_ids") or ())}
        # folded plots whose track is gone (late data matched a plot, say): alerted now
        folded_now = {r["event_id"]: r for r in ev.filter(pl.col("event_id").is_in(
            pl.Series(sorted(self.folded_ids), dtype=pl.Utf8).implode())).to_dicts()}
        unfolded = [e for e in self.folded_ids if not (e in folded_now and _detection_id(folded_now[e]) in tracked)]
        for action, n in cand["_action"].value_counts().iter_rows():
            self.actions[action] += n
        for row in cand.filter(pl.col("_action").is_in(["open", "escalate"])).to_dicts():
            action, prev_sev = row.pop("_action"), row.pop("_prev_sev")
            if action == "open" and row["event_type"] == "dark_target" and self.cfg.fold_dark_targets \
                    and _detection_id(row) in tracked:
                self.folded += 1  # a plot of a dark track: the track's alert stands for it
                self.folded_ids.add(row["event_id"])
            else:
                alerts.append(self._alert(row, action, prev_sev, data_time))
        for eid in unfolded:
            self.folded_ids.discard(eid)
            if eid in folded_now:
                alerts.append(self._alert(folded_now[eid], "open", None, data_time))
        if guard is not None:  # final: the window no longer holds its start
            gone = gone.filter(pl.col("start_time").is_null() | (pl.col("start_time") >= guard))
        gone = gone.with_columns(status=pl.lit("retracted"))
        self.actions["retract"] += gone.height
        if self.cfg.alert_retractions:
            for row in gone.to_dicts():
                alerts.append(self._alert(row, "retract", row["severity"], data_time))
        # alerts first (at-least-once), then the tables
        for a in alerts:
            self._emit(a)
        updated = pl.concat([cand.select(ev.columns), gone.select(ev.columns)])
        if updated.height:
            events = pl.concat([
                old_df.filter(~pl.col("event_id").is_in(updated["event_id"].implode())),
                schema.conform("events", updated),
            ])
            events = events.sort("start_time", "event_type", "mmsi", "event_id", nulls_last=True)
            self.events = events
            self._write_events(events)

    def _write_events(self, events: pl.DataFrame) -> None:
        from .detect import risk_scores

        meta = {"preset": self.cfg.preset, "live": True, "session": self.session,
                "data_time": _iso(self._dt(self.data_now_us)) if self.data_now_us is not None else None}
        self.store.write_derived("events", events, meta)
        active = events.filter(pl.col("status") != "retracted")
        self.store.write_derived("risk", risk_scores(active, self._window("statics")), meta)

    def _alert(self, row: dict[str, Any], action: str, prev_sev: str | None, data_time: str | None) -> dict[str, Any]:
        rec: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, datetime):
                v = _iso(v)
            elif k == "evidence":
                try:
                    v = json.loads(v) if v else {}
                except (TypeError, ValueError):
                    pass
            rec[k] = v
        rec["action"] = action
        if prev_sev is not None:
            rec["previous_severity"] = prev_sev
        rec["data_time"] = data_time
        rec["alert_time"] = _now_iso()
        return rec

    def _emit(self, rec: dict[str, Any]) -> None:
        self.alerts_sent += 1
        if self._alert_fh is not None:
            try:
                self._alert_fh.write(json.dumps(rec) + "\n")
                self._alert_fh.flush()
                if self._own_alert_fh:
                    os.fsync(self._alert_fh.fileno())
            except OSError as e:
                self.errors.append(f"alerts: {e}")
        if self.webhook is not None:
            self.webhook.post(rec)
        if self.cfg.on_alert is not None:
            try:
                self.cfg.on_alert(rec)
            except Exception as e:  # noqa: BLE001 - a callback's bug must not stop the watch
                self.errors.append(f"on_alert: {e!r}")

    # -- synchronous use (no event loop): embed the watcher, or test it --------------------------
    def feed(self, data: bytes, stream: str = "python") -> None:
        """Buffer ``data`` as bytes of ``stream`` (its own decoder). For use without :meth:`run`:
        then call :meth:`step`."""
        src = self._py_sources.get(stream)
        if src is None:
            src = self._py_sources[stream] = _PySource(stream)
            self.sources.append(src)
        self.data(stream, src, bytes(data))

    def step(self, final: bool = False) -> dict[str, Any]:
        """Process what is buffered now, as one micro-batch (store, detect, alert); ``final``:
        also finish the streams' decoders and recompute the ports. Returns the status."""
        self._process(self._take(final=final), final)
        return self.status()

    def close(self) -> None:
        """Close the alert file and the webhook, release the store (after synchronous use)."""
        if self._lock_fh is not None:
            self._lock_fh.close()  # releases the flock
            self._lock_fh = None
        if self.webhook is not None:
            self.webhook.close()
            self.webhook = None
        if self._own_alert_fh and self._alert_fh is not None:
            self._alert_fh.close()
            self._alert_fh = None

    def warm_up(self) -> None:
        """Load the decoder's compiled kernels (its first call loads or compiles them: seconds)
        and, when the watch detects, the zone and port data and the detector modules now, not
        in the first batch."""
        from .simulate import run as simulate

        _, lines = simulate("all", hours=0.05)  # a few minutes of every kind of message
        dec = NmeaDecoder("warm-up")
        dec.feed(("\n".join(lines) + "\n").encode())
        dec.finish()
        if not self.cfg.detect:
            return
        from .detect import DETECTORS, module
        from .zones import lookup
        from .zones.ports import ports_table

        for n in DETECTORS:
            module(n)
        ports_table()
        lookup(np.array([38.0]), np.array([138.5]))

    # -- status ----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        ev = self.events
        by_status = {s: 0 for s in ("open", "closed", "retracted")}
        if ev.height:
            for s, n in ev.group_by("status").len().iter_rows():
                by_status[s] = int(n)
        now = time.time()
        data_now = self._dt(self.data_now_us) if self.data_now_us is not None else None
        return {
            "session": self.session, "db": str(self.store.path), "preset": self.cfg.preset,
            "started": _iso(datetime.fromtimestamp(self.started, timezone.utc)), "now": _now_iso(),
            "uptime_s": round(now - self.started, 1),
            "data_time": _iso(data_now),
            "lag_s": None if data_now is None else round(now - data_now.timestamp(), 1),
            "cycles": self.cycles, "last_cycle_s": round(self.last_cycle_s, 3),
            "last_detect_s": round(self.last_detect_s, 3), "window_positions": self.window_rows(),
            "passes": dict(self.passes), "last_pass_vessels": self.last_pass_vessels,
            "warnings": self.warnings(), "files": self.files_committed, "compactions": self.compactions,
            "rows": dict(self.rows), "duplicates": self.duplicates, "buffered_bytes": self._buffered,
            "events": by_status, "actions": dict(self.actions), "alerts": self.alerts_sent,
            "alerts_folded": self.folded,
            "webhook": self.webhook.as_dict() if self.webhook else None,
            "errors": self.errors[-5:],
            "sources": [s.stats.as_dict() for s in self.sources],
        }

    def window_rows(self) -> int:
        """Positions in the detection window (each pass re-reads all of them)."""
        return sum(f.height for f in self.win.get("positions", []))

    def warnings(self) -> list[str]:
        """What the watch officer should know about the watch itself (not the sea)."""
        out = []
        if self.cfg.detect and self.last_detect_s > self.cfg.slow_detect_s:
            out.append(f"detection takes {self.last_detect_s:.1f} s a pass over {self.window_rows():,} positions "
                       f"(--window-h {self.cfg.window_h:g}): alerts come that much later; a shorter --window-h "
                       "or fewer feeds per watch brings it down")
        return out

    def status_line(self) -> str:
        st = self.status()
        parts = [(f"watch {st['data_time'] or '-'}: {st['rows']['positions']:,} positions, "
                  f"{st['events']['open']} open / {st['events']['closed']} closed events, {st['alerts']} alerts")]
        parts += [f"WARNING {w}" for w in st["warnings"]]
        for s in st["sources"]:
            f = {k: v for k, v in s["faults"].items() if v}
            parts.append(f"{s['name']} {s['state']} {s['bytes'] / 1e6:.1f} MB {s['lines']:,} lines "
                         f"{s['reconnects']} reconnects" + (" faults " + ",".join(f"{k}={v}" for k, v in f.items()) if f else ""))
        return " | ".join(parts)

    def _write_status(self) -> None:
        if self.cfg.status_path is None:
            return
        p = Path(self.cfg.status_path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(json.dumps(self.status(), indent=2) + "\n")
        os.replace(tmp, p)

    # -- the loop --------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask :meth:`run` to flush and return (thread-safe)."""
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)

    async def run(self) -> dict[str, Any]:
        """Run until :meth:`stop` (or ``exit_idle_s`` of silence); flush, and return the status."""
        if not any(not isinstance(s, _PySource) for s in self.sources):
            raise SeawatchError("no sources: give at least one, e.g. tcp://127.0.0.1:10110 or file://feed.nmea")
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        tasks = {asyncio.create_task(s.run(self), name=s.name): s for s in self.sources if not isinstance(s, _PySource)}
        status_out = self.cfg.status_stream if self.cfg.status_stream is not None else sys.stderr
        last_status = time.monotonic()
        last_file_status = 0.0
        try:
            await asyncio.to_thread(self.warm_up)
            if self.dirty and self.cfg.detect:  # bring the loaded window's events up to date
                await asyncio.to_thread(self._process, [], False)
            next_batch = time.monotonic() + self.cfg.batch_s
            while not self._stop.is_set():
                # batches start every batch_s: the wait is what is left after the last batch's work
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(0.0, next_batch - time.monotonic()))
                next_batch = max(next_batch + self.cfg.batch_s, time.monotonic())
                if self._stop.is_set():
                    break
                for t, s in tasks.items():  # a source that failed for good (e.g. cannot bind)
                    if t.done() and not t.cancelled() and t.exception() is not None:
                        raise t.exception()  # type: ignore[misc]
                work = self._take()
                if work or self.dirty:
                    await asyncio.to_thread(self._process, work)
                elif self._compaction_due():  # a quiet feed is compacted too
                    await asyncio.to_thread(self._compact)
                now = time.monotonic()
                if self.cfg.status_every_s and now - last_status >= self.cfg.status_every_s:
                    last_status = now
                    with contextlib.suppress(Exception):
                        print(self.status_line(), file=status_out, flush=True)
                if now - last_file_status >= 1.0:
                    last_file_status = now
                    self._write_status()
                if self.cfg.exit_idle_s is not None and not self._buffered and \
                        time.time() - self.last_input >= self.cfg.exit_idle_s:
                    break
        finally:
            self.stopping = True
            pending = set(tasks)
            for _ in range(20):  # cancel until done (Python 3.11's wait_for can swallow a cancel)
                for t in pending:
                    t.cancel()
                _, pending = await asyncio.wait(pending, timeout=0.25)
                if not pending:
                    break
            for s in self.sources:
                s.stats.state = "stopped"
            try:
                work = self._take(final=True)
                await asyncio.to_thread(self._process, work, True)
                self._write_status()
            finally:
                self.close()
        return self.status()


# -------------------------------------------------------------------------------------------------
# running it


def watch(sources: Sequence[str], db: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
    """Run :class:`Watcher` in this thread until SIGINT/SIGTERM (or ``exit_idle_s``); returns the
    final status. Keyword arguments are the fields of :class:`WatchConfig`."""
    return run_watcher(Watcher(WatchConfig(sources=list(sources), db=db, **kwargs)))


def run_watcher(w: Watcher) -> dict[str, Any]:
    """Run a built :class:`Watcher` in this thread: the first SIGINT/SIGTERM flushes and stops
    it, a second one stops waiting for the flush. Returns the final status."""

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        hits = [0]
        me = asyncio.current_task()

        def on_signal() -> None:
            hits[0] += 1
            if hits[0] == 1:
                w.stop()
            elif me is not None:
                me.cancel()

        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal)
                installed.append(sig)
        try:
            return await w.run()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        raise SeawatchError("stopped before the last batch was flushed (second interrupt); "
                            "restart `seawatch watch` on the same store to resume") from None


class WatchThread:
    """A :class:`Watcher` running in a background thread (tests, the live demo)."""

    def __init__(self, cfg: WatchConfig):
        self.watcher = Watcher(cfg)
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self._started = threading.Event()
        self.thread = threading.Thread(target=self._main, name="seawatch-watch", daemon=True)
        self.thread.start()
        self._started.wait(10)

    def _main(self) -> None:
        async def go() -> dict[str, Any]:
            self._started.set()
            return await self.watcher.run()

        try:
            self.result = asyncio.run(go())
        except BaseException as e:  # noqa: BLE001 - reported by stop()
            self.error = e
            self._started.set()

    def status(self) -> dict[str, Any]:
        return self.watcher.status()

    def stop(self, timeout_s: float = 60.0) -> dict[str, Any]:
        """Flush, stop and return the final status."""
        deadline = time.time() + 5
        while self.watcher.loop is None and self.thread.is_alive() and time.time() < deadline:
            time.sleep(0.01)
        self.watcher.stop()
        self.thread.join(timeout_s)
        if self.error is not None:
            raise self.error
        if self.thread.is_alive():
            raise SeawatchError(f"the watcher did not stop within {timeout_s:g} s")
        return self.result or self.watcher.status()


def start_watch(sources: Sequence[str], db: str | os.PathLike[str], **kwargs: Any) -> WatchThread:
    """Start a watcher in a background thread; ``.stop()`` flushes and returns the status."""
    return WatchThread(WatchConfig(sources=list(sources), db=db, **kwargs))


class ReplayThread:
    """A :class:`seawatch.sources.Replay` running in a background thread; ``.port`` is bound."""

    def __init__(self, path: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 0, **kwargs: Any):
        self.replay = Replay(path, host, port, **kwargs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self.error: BaseException | None = None
        ready = threading.Event()

        def main() -> None:
            async def go() -> None:
                self.loop = asyncio.get_running_loop()
                self._task = asyncio.create_task(self.replay.serve())
                while not (self.replay.ready.is_set() or self._task.done()):
                    await asyncio.sleep(0.005)
                ready.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

            try:
                asyncio.run(go())
            except BaseException as e:  # noqa: BLE001 - reported by the caller
                self.error = e
            finally:
                ready.set()

        self.thread = threading.Thread(target=main, name="seawatch-replay", daemon=True)
        self.thread.start()
        ready.wait(10)
        if self.error is not None:
            raise self.error
        if self._task is not None and self._task.done() and self._task.exception() is not None:
            raise self._task.exception()  # type: ignore[misc]

    @property
    def port(self) -> int:
        assert self.replay.bound_port is not None
        return self.replay.bound_port

    @property
    def stats(self) -> Any:
        return self.replay.stats

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.loop is not None and self._task is not None:
            self.loop.call_soon_threadsafe(self._task.cancel)
        self.thread.join(timeout_s)


# -------------------------------------------------------------------------------------------------
# the live demo


@dataclass
class LiveDemo:
    """``seawatch demo --live``: a scenario replayed over loopback into a watcher on ``db``."""

    feed: str
    truth: str
    alerts: str
    replay: ReplayThread
    watch: WatchThread

    def caught_up(self) -> bool:
        """True when the whole feed was sent and the watcher has processed all of it."""
        st = self.replay.stats
        w = self.watch.watcher
        return bool(st.done and w.sources[0].stats.lines >= st.lines_sent and not w._buffered)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until :meth:`caught_up` (True) or ``timeout_s`` passed (False)."""
        deadline = None if timeout_s is None else time.time() + timeout_s
        while not self.caught_up():
            if self.watch.error is not None or not self.watch.thread.is_alive():
                return False
            if deadline is not None and time.time() >= deadline:
                return False
            time.sleep(0.2)
        time.sleep(0.5)  # the last batch's detection
        return True

    def stop(self) -> dict[str, Any]:
        """Stop the replay, flush and stop the watcher; returns its final status."""
        self.replay.stop()
        return self.watch.stop()

    def score(self) -> pl.DataFrame:
        """:func:`seawatch.eval.evaluate` of the alerts so far against the planted truth (the
        detection delay in ``delay_*_s`` is wall time since each truth's start, scaled by the
        replay speed only when it is 1)."""
        from .eval import evaluate

        rows = [json.loads(x) for x in Path(self.alerts).read_text().splitlines() if x.strip()] \
            if Path(self.alerts).exists() else []
        rows = [{k: v for k, v in r.items() if k != "evidence"} for r in rows if r.get("action") == "open"]
        return evaluate(self.truth, pl.DataFrame(rows) if rows else schema.empty("events").drop("evidence"))


def start_live_demo(db: str | os.PathLike[str], *, scenario: str = "all", seed: int = 0, hours: float | None = None,
                    speed: float = 60.0, alerts: str | os.PathLike[str] | None = None,
                    preset: str = "coastal") -> LiveDemo:
    """Simulate ``scenario`` (written under DIR/feed/ as ``seawatch demo`` does), serve it with
    :class:`Replay` on a free loopback port at ``speed`` x real time and watch it into ``db``
    (alerts to ``alerts``, default DIR/alerts.jsonl). Returns handles; ``.stop()`` ends both.
    Run ``seawatch serve --db DIR`` (or the demo's map) alongside: it follows the store.

    The store must be new or empty: a replay into a store that already holds the feed would
    be dropped as duplicates and show nothing happening."""
    from .simulate import simulate

    from .detections import ingest_detections

    db = Path(db)
    if (db / "_files").is_dir() and any((db / "_files").glob("*.json")):
        raise SeawatchError(f"{db} already holds data: give the live demo a new --db (or delete {db})")
    out = db / "feed" / (f"{scenario}-s{seed}" + ("" if hours is None else f"-h{hours:g}"))
    feed, truth = out / "feed.nmea", out / "truth.jsonl"
    if not (feed.exists() and truth.exists()):
        simulate(scenario, out, seed=seed, hours=hours)
    if (out / "detections.csv").exists():  # radar and satellite: the watch correlates them as AIS arrives
        ingest_detections([out / "detections.csv"], db)
    alerts = str(alerts if alerts is not None else db / "alerts.jsonl")
    rp = ReplayThread(feed, speed=speed, once=False)
    try:
        w = start_watch([f"tcp://127.0.0.1:{rp.port}"], db, preset=preset, alerts=alerts, status_every_s=0)
    except BaseException:
        rp.stop()
        raise
    return LiveDemo(str(feed), str(truth), alerts, rp, w)


# -------------------------------------------------------------------------------------------------
# command line (registered by seawatch.cli)


def _handled(f: Callable[..., Any]) -> Callable[..., Any]:
    """SeawatchError -> ``Error: <one line>`` on stderr, exit 2; OSError -> exit 1."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except SeawatchError as e:
            click.echo("Error: " + (" ".join(str(e).split()) or "unknown error"), err=True)
            sys.exit(2)
        except OSError as e:
            where = f": {e.filename}" if getattr(e, "filename", None) else ""
            click.echo("Error: " + " ".join(str(e.strerror or e).split()) + where, err=True)
            sys.exit(1)

    return wrapper


@click.command("watch")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--db", required=True, metavar="DIR", help="Store directory (DuckDB over Parquet). Created if it does not exist.")
@click.option("--preset", type=click.Choice(["coastal", "gfw", "skylight"]), default="coastal", show_default=True,
              help="Event definitions: coastal (a coastal state's watch), gfw (Global Fishing Watch's), skylight (Skylight's).")
@click.option("--config", type=click.Path(dir_okay=False), default=None, metavar="FILE.toml",
              help="Override single thresholds, e.g. [ais_gap] min_gap_h = 4.")
@click.option("--alerts", default=None, metavar="FILE|-",
              help="Append alerts (JSON lines: the event plus alert_time, data_time, action) to FILE; '-' for stdout.")
@click.option("--webhook", default=None, metavar="URL", help="Also POST each alert as JSON to URL (http or https).")
@click.option("--batch-s", default=BATCH_S, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds of wall time per micro-batch: store commit and detection.")
@click.option("--stall-s", default=60.0, show_default=True, type=click.FloatRange(0.1, 86400),
              help="Reconnect a TCP feed silent for this many seconds (watchdog).")
@click.option("--window-h", default=WINDOW_H, show_default=True, type=click.FloatRange(0.5, 24 * 30),
              help="Hours of data time kept for detection (events starting earlier are final).")
@click.option("--status", "status_path", default=None, metavar="FILE",
              help="Keep a JSON status (per-source counters and faults, events, lag) in FILE, rewritten every second.")
@click.option("--status-every", default=STATUS_EVERY_S, show_default=True, type=click.FloatRange(0),
              help="Seconds between status lines on stderr (0: none).")
@click.option("--exit-idle-s", default=None, type=click.FloatRange(0, min_open=True), metavar="S",
              help="Flush and exit after S seconds without input (for scripts; default: run until Ctrl-C).")
@click.option("--alert-retractions", is_flag=True, help="Also alert when an event is retracted (action 'retract').")
@click.option("--every-dark-target", is_flag=True,
              help="Alert every unmatched radar/satellite plot (default: the plots of a dark track are folded into the track's alert).")
@_handled
def watch_command(sources: tuple[str, ...], db: str, preset: str, config: str | None, alerts: str | None,
                  webhook: str | None, batch_s: float, stall_s: float, window_h: float, status_path: str | None,
                  status_every: float, exit_idle_s: float | None, alert_retractions: bool,
                  every_dark_target: bool) -> None:
    """Watch live AIS feeds: store, detect and alert continuously.

    SOURCE is tcp://HOST:PORT (connect; reconnects with backoff), tcp-listen://HOST:PORT
    (receivers push to us), udp://HOST:PORT or file://PATH (follow a growing log); 10110 is the
    default port. Several sources are merged; a message heard by two receivers is stored once.
    Readers (seawatch serve, stats) work while it runs. Ctrl-C or SIGTERM flushes and exits; a
    restart on the same store resumes without duplicates.
    """
    w = Watcher(WatchConfig(sources=list(sources), db=db, preset=preset, config=config, alerts=alerts,
                            webhook=webhook, batch_s=batch_s, stall_s=stall_s, window_h=window_h,
                            status_path=status_path, status_every_s=status_every, exit_idle_s=exit_idle_s,
                            alert_retractions=alert_retractions, fold_dark_targets=not every_dark_target))
    click.echo(f"watching {', '.join(sources)} into {db} ({preset} preset); Ctrl-C stops", err=True)
    st = run_watcher(w)
    click.echo(f"stopped: {st['rows']['positions']:,} positions, {st['duplicates']:,} duplicates dropped, "
               f"{st['events']['open']} open / {st['events']['closed']} closed / {st['events']['retracted']} "
               f"retracted events, {st['alerts']} alerts", err=True)


def _listen_addr(s: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    try:
        u = urlsplit("//" + s)
        host, port = u.hostname, u.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise SeawatchError(f"bad --listen {s!r}: use HOST:PORT, e.g. 127.0.0.1:10110 (port 0: any free port)")
    return host, port


@click.command("replay")
@click.argument("file", metavar="FILE")
@click.option("--listen", default="127.0.0.1:10110", show_default=True, metavar="HOST:PORT",
              help="Address to serve on (port 0: any free port, printed at start).")
@click.option("--speed", default=1.0, show_default=True, type=click.FloatRange(0),
              help="Times real time, paced by the lines' receive times (0: as fast as possible).")
@click.option("--once", is_flag=True, help="Close the connections and exit when the file is done (default: stay connected, quiet).")
@click.option("--no-wait", is_flag=True, help="Start at once instead of waiting for the first client to connect.")
@_handled
def replay_command(file: str, listen: str, speed: float, once: bool, no_wait: bool) -> None:
    """Serve a recorded NMEA file over TCP like a shore receiver.

    Every connected client gets each line when it is due: its receive time (tag block c:,
    USCG epoch, $PGHP or a leading time) divided by --speed after the first line. A slow
    client slows the replay rather than losing lines. Try: seawatch replay feed.nmea --speed 60
    & seawatch watch tcp://127.0.0.1:10110 --db DIR.
    """
    host, port = _listen_addr(listen)
    rp = Replay(file, host, port, speed=speed, wait_client=not no_wait, once=once)

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(rp.serve())
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, task.cancel)
        while not (rp.ready.is_set() or task.done()):
            await asyncio.sleep(0.01)
        if rp.bound_port is not None:
            pace = "as fast as possible" if speed == 0 else f"at {speed:g}x real time"
            click.echo(f"replaying {file} on tcp://{host}:{rp.bound_port} {pace}"
                       + ("" if no_wait else " once a client connects") + "; Ctrl-C stops", err=True)
        try:
            return await task
        except asyncio.CancelledError:
            return rp.stats

    try:
        asyncio.run(main())
    except OSError as e:
        raise SeawatchError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    s = rp.stats
    click.echo(f"sent {s.lines_sent:,} of {s.lines:,} lines ({s.bytes_sent / 1e6:.1f} MB) to {s.connections} connection(s)",
               err=True)


__all__ = [
    "LiveDemo", "ReplayThread", "WatchConfig", "WatchThread", "Watcher", "replay_command", "run_watcher",
    "start_live_demo", "start_watch", "watch", "watch_command",
]
