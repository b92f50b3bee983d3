"""Live NMEA sources for ``seawatch watch``, and ``seawatch replay`` (a recorded file served like
a shore receiver).

A source is a URL:

- ``tcp://host:port`` — connect to a receiver or aggregator that serves NMEA over TCP (10110 is
  the IANA port for NMEA 0183, the default). Reconnects with exponential backoff (0.5 s doubling
  to 30 s, reset once a connection delivers data); a watchdog drops and reconnects a connection
  that has been silent for ``stall_s`` (a half-open TCP connection never reports an error).
- ``tcp-listen://host:port`` — listen; receivers connect and push to us. Each connection is its
  own stream (multi-sentence messages are reassembled per stream).
- ``udp://host:port`` — bind and receive datagrams (one stream per sending host).
- ``file://PATH`` — follow a growing log file (``tail -F``: a truncated or replaced file is read
  again from its start). ``file:///abs/path`` or ``file://relative/path``.

Each source runs as one asyncio task and hands raw bytes to a :class:`Sink` (the watcher): it
never decodes. It counts what happens in :class:`SourceStats` — bytes, connections, reconnects,
and faults by kind: ``disconnect`` (the peer closed or reset the connection), ``stall`` (silent
for ``stall_s``), ``connect_failed``, ``overflow`` (UDP data dropped because the watcher fell
behind), ``truncated`` (a followed file shrank or was replaced). Garbage lines are counted by the
watcher, which decodes (``garbage`` in the same ``faults`` map).

:class:`Replay` serves a recorded NMEA file over TCP to every connected client, paced by the
lines' receive times (the decoder's time logic: tag block ``c:``, USCG trailing epoch,
``$PGHP``, leading epoch/ISO prefix) at ``speed`` times real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from .errors import SeawatchError

#: IANA port for NMEA 0183 over TCP/UDP
DEFAULT_PORT = 10110
#: reconnect backoff: first wait, doubling up to the maximum (seconds)
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
#: a TCP connection silent this long is dropped and reconnected (seconds)
STALL_S = 60.0
#: a connection attempt that takes longer than this fails (seconds)
CONNECT_TIMEOUT_S = 10.0
#: how often a followed file is polled for new bytes (seconds)
FILE_POLL_S = 0.2
READ_BYTES = 1 << 16
FILE_READ_BYTES = 1 << 20
#: most UDP peers that get a stream (decoder) of their own; the rest share one
UDP_MAX_PEERS = 64

FAULT_KINDS = ("disconnect", "stall", "connect_failed", "garbage", "overflow", "truncated")
KINDS = ("tcp", "tcp-listen", "udp", "file")


@dataclass
class SourceStats:
    """Counters of one source, as shown in the watcher's status."""

    name: str
    kind: str
    state: str = "starting"
    bytes: int = 0
    connects: int = 0
    reconnects: int = 0
    clients: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    last_data: float | None = None  # time.time() of the last bytes received
    last_error: str | None = None
    # filled in by the watcher
    lines: int = 0
    decoded: int = 0
    rejected: int = 0
    positions: int = 0
    duplicates: int = 0
    #: every fault as (time.time(), kind, detail), the last 50
    log: list[tuple[float, str, str]] = field(default_factory=list)

    def fault(self, kind: str, detail: str = "", n: int = 1) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + n
        if detail:
            self.last_error = f"{kind}: {detail}"
        self.log.append((time.time(), kind, detail))
        del self.log[:-50]

    def as_dict(self) -> dict[str, Any]:
        now = time.time()
        return {
            "name": self.name, "kind": self.kind, "state": self.state, "bytes": self.bytes,
            "lines": self.lines, "decoded": self.decoded, "rejected": self.rejected,
            "positions": self.positions, "duplicates": self.duplicates,
            "connects": self.connects, "reconnects": self.reconnects, "clients": self.clients,
            "faults": dict(self.faults),
            "silent_s": None if self.last_data is None else round(now - self.last_data, 1),
            "last_error": self.last_error,
        }


class Sink(Protocol):
    """What a source hands its bytes to (the watcher)."""

    def data(self, stream: str, source: Source, data: bytes, offset: int | None = None) -> None:
        """Bytes from ``stream`` (``offset``: where they start in a followed file)."""

    def cut(self, stream: str, *, final: bool = False, reset: bool = False) -> None:
        """The connection of ``stream`` ended: an unterminated last line is complete as it is;
        ``final``: the stream will not come back (finish its decoder); ``reset``: a followed
        file starts again from offset 0."""

    async def room(self) -> None:
        """Wait while the watcher's input buffers are full (backpressure)."""

    stopping: bool
    """True once the watcher winds down: sources stop (re)connecting."""


def _host_port(spec: str, netloc: str) -> tuple[str, int]:
    try:
        u = urlsplit(f"//{netloc}")
        host, port = u.hostname, u.port
    except ValueError as e:
        raise SeawatchError(f"bad source {spec!r}: {e} — use e.g. tcp://127.0.0.1:{DEFAULT_PORT}") from None
    if not host:
        raise SeawatchError(f"bad source {spec!r}: no host — use e.g. tcp://127.0.0.1:{DEFAULT_PORT}")
    return host, port or DEFAULT_PORT


class Source:
    """A live source (see the module docstring); build with :func:`parse_source`."""

    kind = ""

    def __init__(self, spec: str):
        self.name = spec
        self.stats = SourceStats(spec, self.kind)
        self.stall_s = STALL_S
        self.backoff_min = BACKOFF_MIN_S
        self.backoff_max = BACKOFF_MAX_S

    async def run(self, sink: Sink) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _keepalive(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


async def _read_until_silent(reader: asyncio.StreamReader, stats: SourceStats, stall_s: float) -> bytes | str:
    """One read: bytes, or the fault kind that ended the connection ('disconnect' or 'stall')."""
    try:
        data = await asyncio.wait_for(reader.read(READ_BYTES), timeout=stall_s)
    except asyncio.TimeoutError:
        return "stall"
    except (ConnectionError, OSError) as e:
        stats.last_error = f"disconnect: {e}"
        return "disconnect"
    return data if data else "disconnect"


class TcpClient(Source):
    """``tcp://host:port``: connect, read, reconnect with backoff; watchdog on silence."""

    kind = "tcp"

    def __init__(self, spec: str, host: str, port: int):
        super().__init__(spec)
        self.host, self.port = host, port

    async def run(self, sink: Sink) -> None:
        st = self.stats
        backoff = self.backoff_min
        while not getattr(sink, "stopping", False):
            st.state = "connecting"
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), timeout=CONNECT_TIMEOUT_S)
            except (OSError, asyncio.TimeoutError) as e:
                st.fault("connect_failed", str(e) or type(e).__name__)
                st.state = "backoff"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max)
                continue
            _keepalive(writer)
            st.connects += 1
            st.reconnects = st.connects - 1
            st.state = "connected"
            got = 0
            try:
                while not getattr(sink, "stopping", False):
                    await sink.room()
                    data = await _read_until_silent(reader, st, self.stall_s)
                    if isinstance(data, str):
                        st.fault(data, f"{self.host}:{self.port} silent for {self.stall_s:g} s"
                                 if data == "stall" else f"{self.host}:{self.port} closed the connection")
                        break
                    got += len(data)
                    st.bytes += len(data)
                    st.last_data = time.time()
                    sink.data(self.name, self, data)
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), 1.0)
                sink.cut(self.name)
            if got:
                backoff = self.backoff_min  # a connection that delivered: start over
            st.state = "backoff"
            await asyncio.sleep(backoff)
            if not got:
                backoff = min(backoff * 2, self.backoff_max)


class TcpListen(Source):
    """``tcp-listen://host:port``: receivers connect and push; one stream per connection."""

    kind = "tcp-listen"

    def __init__(self, spec: str, host: str, port: int):
        super().__init__(spec)
        self.host, self.port = host, port
        self.bound_port: int | None = None
        self._n = 0

    async def run(self, sink: Sink) -> None:
        st = self.stats

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peer = writer.get_extra_info("peername")
            self._n += 1
            stream = f"{self.name}#{self._n}"
            _keepalive(writer)
            st.connects += 1
            st.clients += 1
            try:
                while True:
                    await sink.room()
                    data = await _read_until_silent(reader, st, self.stall_s)
                    if isinstance(data, str):
                        st.fault(data, f"{peer} silent for {self.stall_s:g} s" if data == "stall"
                                 else f"{peer} closed the connection")
                        break
                    st.bytes += len(data)
                    st.last_data = time.time()
                    sink.data(stream, self, data)
            finally:
                st.clients -= 1
                writer.close()
                sink.cut(stream, final=True)

        try:
            server = await asyncio.start_server(handle, self.host, self.port)
        except OSError as e:
            st.state = "failed"
            st.last_error = f"cannot listen on {self.host}:{self.port}: {e.strerror or e}"
            raise SeawatchError(f"{self.name}: cannot listen on {self.host}:{self.port}: {e.strerror or e}") from None
        self.bound_port = server.sockets[0].getsockname()[1]
        st.state = "listening"
        async with server:
            await server.serve_forever()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, src: UdpListen, sink: Sink):
        self.src, self.sink = src, sink

    def datagram_received(self, data: bytes, addr: Any) -> None:
        st = self.src.stats
        if getattr(self.sink, "full", lambda: False)():
            st.fault("overflow", f"{len(data)} bytes from {addr[0]} dropped: the watcher is behind")
            return
        st.bytes += len(data)
        st.last_data = time.time()
        if not data.endswith(b"\n"):
            data += b"\n"  # a datagram holds whole sentences
        peers = self.src.peers
        host = addr[0]
        if host not in peers:
            peers[host] = f"{self.src.name}#{host}" if len(peers) < UDP_MAX_PEERS else f"{self.src.name}#other"
            st.clients = len(peers)
        self.sink.data(peers[host], self.src, data)

    def error_received(self, exc: Exception) -> None:  # pragma: no cover - ICMP errors
        self.src.stats.last_error = f"udp: {exc}"


class UdpListen(Source):
    """``udp://host:port``: bind and receive datagrams; one stream per sending host."""

    kind = "udp"

    def __init__(self, spec: str, host: str, port: int):
        super().__init__(spec)
        self.host, self.port = host, port
        self.peers: dict[str, str] = {}
        self.bound_port: int | None = None

    async def run(self, sink: Sink) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self, sink), local_addr=(self.host, self.port))
        except OSError as e:
            self.stats.state = "failed"
            raise SeawatchError(f"{self.name}: cannot bind {self.host}:{self.port}: {e.strerror or e}") from None
        self.bound_port = transport.get_extra_info("sockname")[1]
        self.stats.state = "listening"
        try:
            while True:
                await asyncio.sleep(3600)
        finally:
            transport.close()
            for stream in set(self.peers.values()):
                sink.cut(stream, final=True)


class FileFollow(Source):
    """``file://PATH``: follow a growing file from ``start_offset`` (set by the watcher to resume)."""

    kind = "file"

    def __init__(self, spec: str, path: Path):
        super().__init__(spec)
        self.path = path
        self.start_offset = 0
        self.start_inode: int | None = None
        self.poll_s = FILE_POLL_S
        self.inode: int | None = None

    async def run(self, sink: Sink) -> None:
        st = self.stats
        offset = self.start_offset
        f = None
        waiting_logged = False
        try:
            while True:
                if f is None:
                    try:
                        f = open(self.path, "rb")
                    except FileNotFoundError:
                        if not waiting_logged:
                            st.last_error = f"waiting for {self.path} to appear"
                            waiting_logged = True
                        st.state = "waiting"
                        await asyncio.sleep(self.poll_s)
                        continue
                    ino = os.fstat(f.fileno()).st_ino
                    if self.start_inode is not None and ino != self.start_inode and offset:
                        offset = 0  # not the file we stopped in: a rotated log starts anew
                        sink.cut(self.name, reset=True)
                    self.inode = ino
                    self.start_inode = ino
                    size = os.fstat(f.fileno()).st_size
                    if offset > size:
                        st.fault("truncated", f"{self.path} is shorter ({size} bytes) than the resume point ({offset})")
                        offset = 0
                        sink.cut(self.name, reset=True)
                    f.seek(offset)
                    st.connects += 1
                    st.reconnects = st.connects - 1
                    st.state = "following"
                await sink.room()
                data = f.read(FILE_READ_BYTES)
                if data:
                    st.bytes += len(data)
                    st.last_data = time.time()
                    sink.data(self.name, self, data, offset)
                    offset += len(data)
                    continue
                # nothing new: rotated (another file at the path) or truncated?
                try:
                    s = os.stat(self.path)
                except FileNotFoundError:
                    s = None
                cur = os.fstat(f.fileno())
                if s is not None and s.st_ino != cur.st_ino:
                    f.close()  # replaced: the old file is read to its end; read the new one from 0
                    f = None
                    offset = 0
                    self.start_inode = None
                    sink.cut(self.name, reset=True)
                    continue
                if cur.st_size < offset:
                    st.fault("truncated", f"{self.path} shrank from {offset} to {cur.st_size} bytes")
                    offset = 0
                    f.seek(0)
                    sink.cut(self.name, reset=True)
                    continue
                await asyncio.sleep(self.poll_s)
        finally:
            if f is not None:
                f.close()


def parse_source(spec: str) -> Source:
    """A :class:`Source` from its URL (see the module docstring)."""
    if not isinstance(spec, str) or "://" not in spec:
        raise SeawatchError(
            f"bad source {spec!r}: use tcp://HOST:PORT, tcp-listen://HOST:PORT, udp://HOST:PORT or file://PATH")
    scheme, rest = spec.split("://", 1)
    scheme = scheme.lower()
    if scheme == "file":
        if not rest:
            raise SeawatchError(f"bad source {spec!r}: no path — use file:///abs/path or file://relative/path")
        return FileFollow(spec, Path(rest))
    if scheme not in ("tcp", "tcp-listen", "udp"):
        raise SeawatchError(
            f"unknown source scheme {scheme!r} in {spec!r}: use tcp://, tcp-listen://, udp:// or file://")
    netloc = rest.split("/", 1)[0]
    host, port = _host_port(spec, netloc)
    return {"tcp": TcpClient, "tcp-listen": TcpListen, "udp": UdpListen}[scheme](spec, host, port)


# -------------------------------------------------------------------------------------------------
# replay: a recorded file served like a receiver

_TAG_C = re.compile(rb"^\\[^\\]*?(?:^|[\\,])c:(\d{9,13})")
_USCG = re.compile(rb"\*[0-9A-Fa-f]{2}(?:,[^,\r\n]*)*?,(\d{10})(?:\.\d*)?(?:,|\r?$)")
_PREFIX_EPOCH = re.compile(rb"^\s*(\d{9,13})(?:\.(\d+))?[\s,;|]")
_PREFIX_ISO = re.compile(rb"^\s*(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:\.\d+)?)")


def _line_times_regex(lines: list[bytes]) -> np.ndarray:
    """Receive time (epoch seconds, NaN if none) of each line, with plain regular expressions."""
    from datetime import datetime, timezone

    out = np.full(len(lines), np.nan)
    for i, ln in enumerate(lines):
        m = _TAG_C.match(ln)
        if m:
            v = int(m.group(1))
            out[i] = v / 1000.0 if v >= 10**11 else float(v)
            continue
        m = _USCG.search(ln)
        if m:
            out[i] = float(m.group(1))
            continue
        m = _PREFIX_EPOCH.match(ln)
        if m:
            v = int(m.group(1))
            out[i] = v / 1000.0 if v >= 10**11 else float(v)
            continue
        m = _PREFIX_ISO.match(ln)
        if m:
            try:
                out[i] = datetime.fromisoformat(f"{m.group(1).decode()}T{m.group(2).decode()}").replace(
                    tzinfo=timezone.utc).timestamp()
            except ValueError:
                pass
    return out


def line_times(buf: bytes) -> np.ndarray:
    """Receive time (epoch seconds; NaN where a line has none) of each line of ``buf``
    (complete lines), by the NMEA decoder's own rules when available."""
    n = buf.count(b"\n") + (0 if buf.endswith(b"\n") or not buf else 1)
    try:  # the decoder's parser: exactly its precedence of tag block, USCG, $PGHP, prefix
        from .ingest.nmea import _parse

        P = _parse(buf)
        out = np.full(P.n_lines, np.nan)
        if len(P.p):
            ok = P.ts_ok
            # the first timed sentence of each line
            lines = P.s_line[ok][::-1]
            out[lines] = P.ts_us[ok][::-1] / 1e6
        if P.n_lines == n:
            return out
    except Exception:  # noqa: BLE001, S110  # pragma: no cover - the private parser changed: fall back
        pass
    return _line_times_regex(buf.splitlines())


@dataclass
class ReplayStats:
    lines: int = 0
    lines_sent: int = 0
    bytes_sent: int = 0
    clients: int = 0
    connections: int = 0
    t0_data: float | None = None  # first line's time (epoch s)
    t0_wall: float | None = None  # time.time() when the first line was sent
    last_data: float | None = None  # time of the last line sent
    done: bool = False


class Replay:
    """Serve a recorded NMEA file over TCP like a receiver: every connected client gets each
    line when it is due, ``(t_i - t_0) / speed`` after the start (``speed`` 0: as fast as
    possible). Lines without a time keep the pace of the line before them.

    ``wait_client``: the clock starts when the first client connects (nothing is sent into the
    void). A slow client slows the replay down (TCP backpressure) rather than losing lines.
    ``once``: when the file is done, close the connections and return; otherwise keep them open
    (a quiet receiver) until cancelled. ``on_sent(line_index_end, wall_time)`` is called after
    each write (for tests measuring delays).
    """

    def __init__(self, path: str | os.PathLike[str], host: str = "127.0.0.1", port: int = DEFAULT_PORT, *,
                 speed: float = 1.0, wait_client: bool = True, once: bool = False,
                 chunk_bytes: int = 4 << 20, on_sent: Callable[[int, float], None] | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise SeawatchError(f"no such file: {self.path} — check the path")
        if not (speed >= 0 and np.isfinite(speed)):
            raise SeawatchError(f"speed must be >= 0 (0: as fast as possible), not {speed!r}")
        self.host, self.port, self.speed = host, port, float(speed)
        self.wait_client, self.once = wait_client, once
        self.chunk_bytes = chunk_bytes
        self.on_sent = on_sent
        self.stats = ReplayStats()
        self.bound_port: int | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._client_event = asyncio.Event()
        self.ready = asyncio.Event()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        self.stats.clients = len(self._clients)
        self.stats.connections += 1
        self._client_event.set()
        try:
            while await reader.read(4096):  # ignore what clients say; notice when they leave
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self._clients.discard(writer)
            self.stats.clients = len(self._clients)
            writer.close()

    async def _send(self, block: bytes) -> None:
        dead = []
        for w in list(self._clients):
            try:
                w.write(block)
            except (ConnectionError, OSError, RuntimeError):
                dead.append(w)
        for w in list(self._clients):
            if w in dead:
                continue
            try:
                await w.drain()
            except (ConnectionError, OSError, RuntimeError):
                dead.append(w)
        for w in dead:
            self._clients.discard(w)
            w.close()
        self.stats.clients = len(self._clients)
        self.stats.bytes_sent += len(block)

    def _blocks(self):
        """(lines, times) per chunk of complete lines of the file."""
        with open(self.path, "rb") as f:
            tail = b""
            while True:
                data = f.read(self.chunk_bytes)
                buf = tail + data
                if not data:
                    if buf:
                        yield [buf if buf.endswith(b"\n") else buf + b"\n"], line_times(buf)
                    return
                cut = buf.rfind(b"\n") + 1
                tail = buf[cut:]
                if cut:
                    chunk = buf[:cut]
                    yield chunk.splitlines(keepends=True), line_times(chunk)

    async def serve(self) -> ReplayStats:
        server = await asyncio.start_server(self._handle, self.host, self.port)
        self.bound_port = server.sockets[0].getsockname()[1]
        self.ready.set()
        st = self.stats
        with open(self.path, "rb") as f:  # the total, for progress and the summary
            last = b"\n"
            while block := f.read(1 << 22):
                st.lines += block.count(b"\n")
                last = block[-1:]
            st.lines += last != b"\n"
        try:
            if self.wait_client:
                await self._client_event.wait()
            last_t = np.nan
            wall0 = 0.0
            n = 0
            for lines, times in self._blocks():
                # untimed lines keep the pace of the line before them
                ff = times.copy()
                if np.isnan(ff[0]):
                    ff[0] = last_t
                idx = np.where(~np.isnan(ff), np.arange(len(ff)), 0)
                ff = ff[np.maximum.accumulate(idx)]
                if len(ff):
                    last_t = ff[-1]
                i = 0
                while i < len(lines):
                    paced = self.speed > 0 and not np.isnan(ff[i])
                    if paced:
                        if st.t0_data is None:
                            st.t0_data, wall0 = float(ff[i]), time.time()
                        delay = wall0 + (ff[i] - st.t0_data) / self.speed - time.time()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        # every line due by now (plus 2 ms) goes in this write
                        limit = st.t0_data + (time.time() + 0.002 - wall0) * self.speed
                        j = i + 1
                        while j < len(lines) and j - i < 5000 and not ff[j] > limit:
                            j += 1
                    else:
                        j = min(len(lines), i + 5000)
                    if st.t0_wall is None:
                        st.t0_wall = time.time()
                        if st.t0_data is None and not np.isnan(ff[i]):
                            st.t0_data = float(ff[i])
                    await self._send(b"".join(lines[i:j]))
                    n += j - i
                    st.lines_sent = n
                    st.last_data = None if np.isnan(ff[j - 1]) else float(ff[j - 1])
                    if self.on_sent is not None:
                        self.on_sent(n, time.time())
                    i = j
            st.done = True
            if not self.once:
                await asyncio.Event().wait()  # a quiet receiver, until cancelled
        finally:
            for w in list(self._clients):
                w.close()
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()
        return st


__all__ = [
    "BACKOFF_MAX_S",
    "BACKOFF_MIN_S",
    "DEFAULT_PORT",
    "FAULT_KINDS",
    "STALL_S",
    "FileFollow",
    "Replay",
    "ReplayStats",
    "Sink",
    "Source",
    "SourceStats",
    "TcpClient",
    "TcpListen",
    "UdpListen",
    "line_times",
    "parse_source",
]
