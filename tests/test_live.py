"""Live watch over loopback: end to end against batch, faults, restarts, merging, retraction."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from seawatch.errors import SeawatchError
from seawatch.ingest.nmea import decode_nmea
from seawatch.live import (
    ReplayThread,
    WatchConfig,
    Watcher,
    replay_command,
    start_watch,
    watch_command,
)
from seawatch.sources import (
    FileFollow,
    TcpClient,
    TcpListen,
    UdpListen,
    line_times,
    parse_source,
)
from seawatch.store import Store

DAY = datetime(2024, 6, 1, tzinfo=timezone.utc)


def _wait(cond, timeout: float = 30.0, every: float = 0.05, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def _six(c: int) -> int:
    c -= 48
    return c - 8 if c > 40 else c


def _mmsi(line: bytes) -> int | None:
    """The MMSI in a single- or first-sentence AIVDM line (bits 8-37 of the payload)."""
    i = line.find(b"!")
    f = line[i:].split(b",")
    if len(f) < 7 or f[2] != b"1":
        return None
    bits = "".join(f"{_six(c):06b}" for c in f[5][:7])
    return int(bits[8:38], 2) if len(bits) >= 38 else None


@pytest.fixture(scope="module")
def going_dark(tmp_path_factory) -> dict:
    """The going-dark scenario cut to 10:36-15:12Z (both planted gaps, 4.6 h, ~32,000 lines)."""
    from seawatch.simulate import simulate

    out = tmp_path_factory.mktemp("going-dark")
    simulate("going-dark", out)
    raw = (out / "feed.nmea").read_bytes()
    lines = raw.splitlines(keepends=True)
    t = line_times(raw)
    lo, hi = (DAY + timedelta(hours=10.6)).timestamp(), (DAY + timedelta(hours=15.2)).timestamp()
    keep = [ln for ln, x in zip(lines, t) if lo <= x < hi]
    feed = out / "trim.nmea"
    feed.write_bytes(b"".join(keep))
    return {"dir": out, "feed": feed, "truth": out / "truth.jsonl", "lines": keep}


def _batch_events(feed: Path, db: Path) -> pl.DataFrame:
    from seawatch.detect import run_detect
    from seawatch.ingest.files import ingest

    ingest([feed], db, progress=False)
    return run_detect(db)["events"]


def _alerts(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


# -- sources -----------------------------------------------------------------------------------------
def test_parse_source() -> None:
    assert isinstance(parse_source("tcp://127.0.0.1:10110"), TcpClient)
    s = parse_source("tcp://ais.example.org")
    assert (s.host, s.port) == ("ais.example.org", 10110)  # the IANA NMEA port by default
    assert isinstance(parse_source("tcp-listen://0.0.0.0:5000"), TcpListen)
    assert isinstance(parse_source("udp://[::1]:5000"), UdpListen)
    f = parse_source("file:///var/log/ais.nmea")
    assert isinstance(f, FileFollow) and f.path == Path("/var/log/ais.nmea")
    for bad in ("ais.example.org:10110", "http://x:1", "tcp://:10110", "tcp://host:notaport", "file://"):
        with pytest.raises(SeawatchError):
            parse_source(bad)


def test_line_times() -> None:
    buf = (b"junk\n\\s:rx,c:1717228800*00\\!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23\n"
           b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23,rB,1717228805\n"
           b"2024-06-01T08:00:09Z !AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23\n")
    t = line_times(buf)
    assert np.isnan(t[0]) and t[1:].tolist() == [1717228800.0, 1717228805.0, 1717228809.0]


# -- end to end ---------------------------------------------------------------------------------------
SPEED = 1800.0
BATCH_S = 0.25


def test_live_matches_batch_and_alerts_the_planted_gaps(going_dark, tmp_path) -> None:
    """Replay 4.6 h of the going-dark scenario at 1800x over loopback into `watch`: the planted
    gaps are alerted, not before they are visible in the data, and the final events equal a batch
    run on the same file, event id for event id. (Alert latency is a benchmark: bench/live.py.)"""
    from seawatch.detect import detect
    from seawatch.eval import evaluate
    from seawatch.tracks import build_tracks, ports_with_anchorages

    feed, db, alerts = going_dark["feed"], tmp_path / "live", tmp_path / "alerts.jsonl"
    rp = ReplayThread(feed, speed=SPEED)
    w = start_watch([f"tcp://127.0.0.1:{rp.port}"], db, alerts=str(alerts), batch_s=BATCH_S, status_every_s=0,
                    status_path=str(tmp_path / "status.json"))
    try:
        _wait(lambda: w.status()["events"]["open"] > 0, 60, what="a first event")
        # readers work while the watcher writes: stats, and the web map's API
        from seawatch.serve.app import create_app, request

        assert Store(db).stats()["positions"] > 0
        app = create_app(db)
        assert request(app, "/api/events?status=open").json()["total"] > 0
        assert request(app, "/api/vessels?limit=5").status == 200
        _wait(lambda: rp.stats.done, 60, what="the replay")
        _wait(lambda: w.status()["sources"][0]["lines"] == rp.stats.lines_sent and not w.watcher._buffered,
              30, what="the watcher to catch up")
    finally:
        st = w.stop()
        rp.stop()
    src = st["sources"][0]
    assert src["lines"] == len(going_dark["lines"]) and src["reconnects"] == 0
    assert json.loads((tmp_path / "status.json").read_text())["sources"][0]["lines"] == src["lines"]

    # the same events as batch
    batch = _batch_events(feed, tmp_path / "batch")
    live = Store(db).table("events")
    assert live["event_id"].is_unique().all()
    active = live.filter(pl.col("status") != "retracted")
    cols = ["event_id", "event_type", "mmsi", "start_time", "end_time", "severity", "status"]
    assert active.select(cols).sort("event_id").equals(batch.select(cols).sort("event_id"))
    assert Store(db).stats()["positions"] == Store(tmp_path / "batch").stats()["positions"]

    # every planted behaviour was alerted, with the batch's event ids
    al = _alerts(alerts)
    opened = [a for a in al if a["action"] == "open"]
    assert len({a["event_id"] for a in opened}) == len(opened)  # each event opened once
    ev = evaluate(going_dark["truth"], pl.DataFrame(opened).drop("evidence"))
    gap = ev.filter(pl.col("event_type") == "ais_gap").row(0, named=True)
    assert gap["recall"] == 1.0 and gap["truths"] == 2
    truth = [json.loads(x) for x in going_dark["truth"].read_text().splitlines()]
    planted = {(t["mmsi"], _ts(t["start_time"])) for t in truth}
    first = {}
    for a in opened:
        if a["event_type"] == "ais_gap" and any(a["mmsi"] == m and abs(_ts(a["start_time"]) - s) < timedelta(minutes=10)
                                                for m, s in planted):
            first.setdefault(a["event_id"], a)
    assert len(first) == 2 and set(first) <= set(batch["event_id"])

    # no alert before the data showed the behaviour: when did each planted gap become visible
    # (batch detection on prefixes of the data, to the minute)? Latency is measured in bench/live.py.
    r = decode_nmea(feed)

    def visible_at(t: datetime) -> set[str]:
        pos = r.positions.filter(pl.col("ts") <= t)
        ports = ports_with_anchorages(pos)
        tr = build_tracks(pos, ports=ports)
        e = detect(tr.points, tr.segments, r.statics.filter(pl.col("ts") <= t), ports=ports, ports_in_tracks=True)
        return set(e["event_id"])

    for eid, a in first.items():
        hi = _ts(a["data_time"])
        lo = _ts(a["start_time"]) + timedelta(hours=2)  # the rule's minimum silence
        assert lo <= hi and eid in visible_at(hi)
        while hi - lo > timedelta(minutes=1):
            mid = lo + (hi - lo) / 2
            if eid in visible_at(mid):
                hi = mid
            else:
                lo = mid
        assert _ts(a["data_time"]) >= lo, (a["mmsi"], a["data_time"], lo)


# -- faults ---------------------------------------------------------------------------------------------
class FaultServer(threading.Thread):
    """A receiver that misbehaves: drops the connection inside a line, sends garbage, stalls,
    restarts (its port refuses connections for a while), then serves the rest."""

    def __init__(self, lines: list[bytes], k1: int, k2: int, down_s: float = 1.0):
        super().__init__(daemon=True)
        self.lines, self.k1, self.k2, self.down_s = lines, k1, k2, down_s
        self.sock = self._listen(0)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def _listen(self, port: int) -> socket.socket:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(4)
        s.settimeout(20)
        return s

    def run(self) -> None:
        try:
            L, k1, k2 = self.lines, self.k1, self.k2
            c, _ = self.sock.accept()  # 1: the first part, then half a line, then gone
            c.sendall(b"".join(L[:k1]) + L[k1][: len(L[k1]) // 2])
            time.sleep(0.2)
            c.close()
            c, _ = self.sock.accept()  # 2: garbage, the rest of the second part, then silence
            c.sendall(b"\x00\xffgarbage\n$GARBAGE,,*00\n!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*FF\n")
            c.sendall(b"".join(L[k1:k2]))
            c.settimeout(10)
            try:
                while c.recv(100):  # silent until the watcher's watchdog gives up on us
                    pass
            except OSError:
                pass
            c.close()
            self.sock.close()  # 3: restart: refused for down_s
            time.sleep(self.down_s)
            self.sock = self._listen(self.port)
            c, _ = self.sock.accept()
            c.sendall(b"".join(L[k2:]))
            self.done.set()
            self.stop.wait(30)
            c.close()
            self.sock.close()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e
            self.done.set()


def test_faults_recover_and_lose_nothing(going_dark, tmp_path) -> None:
    lines = going_dark["lines"][:3000]
    k1 = next(i for i in range(1000, 1100) if b",1,1," in lines[i])
    srv = FaultServer(lines, k1, 2000)
    srv.start()
    w = start_watch([f"tcp://127.0.0.1:{srv.port}"], tmp_path / "db", batch_s=0.1, stall_s=0.6, detect=False,
                    status_every_s=0, backoff_min_s=0.05, backoff_max_s=0.2)
    expected = decode_nmea(b"".join(lines))
    try:
        _wait(lambda: srv.done.is_set(), 30, what="the fault server")
        assert srv.error is None, srv.error
        _wait(lambda: Store(tmp_path / "db").stats()["positions"] == expected.positions.height, 15,
              what="every position")
    finally:
        srv.stop.set()
        st = w.stop()
    s = st["sources"][0]
    f = s["faults"]
    assert f["disconnect"] >= 1 and f["stall"] >= 1 and f["connect_failed"] >= 1, s
    assert f["garbage"] == 3, s  # the half line, a garbage line, a bad checksum ($GARBAGE is only skipped)
    assert s["reconnects"] >= 2 and s["state"] == "stopped"
    store = Store(tmp_path / "db")
    stats = store.stats()
    assert stats["positions"] == expected.positions.height  # nothing lost, nothing twice
    assert stats["statics"] == expected.statics.height
    assert stats["errors"] == 3
    assert stats["lines_read"] == stats["lines_decoded"] + stats["lines_rejected"]
    reasons = store.table("rejects")["reason"].to_list()
    assert "garbage" in reasons and "bad_checksum" in reasons


def test_tcp_listen_and_udp_merge_overlapping_receivers(going_dark, tmp_path) -> None:
    """Two receivers push the same messages, one over TCP, one over UDP: stored once, and each
    stream's batches name their source."""
    lines = going_dark["lines"][:2000]
    w = start_watch(["tcp-listen://127.0.0.1:0", "udp://127.0.0.1:0"], tmp_path / "db", batch_s=0.1,
                    detect=False, status_every_s=0)
    tl, ud = w.watcher.sources
    try:
        _wait(lambda: tl.bound_port and ud.bound_port, 5, what="the listeners")
        with socket.create_connection(("127.0.0.1", tl.bound_port)) as c:
            c.sendall(b"".join(lines))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(0, len(lines), 40):
            u.sendto(b"".join(lines[i:i + 40]), ("127.0.0.1", ud.bound_port))
            time.sleep(0.002)
        u.close()
        _wait(lambda: tl.stats.lines == len(lines) and ud.stats.lines == len(lines), 15, what="both streams")
    finally:
        st = w.stop()
    expected = decode_nmea(b"".join(lines))
    store = Store(tmp_path / "db")
    assert store.stats()["positions"] == expected.positions.height
    assert st["duplicates"] >= expected.positions.height  # the second copy of each was dropped
    by_src = {m["live"]["source"] for m in store.manifests()}
    assert by_src == {"tcp-listen://127.0.0.1:0", "udp://127.0.0.1:0"}
    # each row keeps the source that heard it first and the station its tag block names
    rows = store.query("SELECT source, station, count(*) AS n FROM positions GROUP BY ALL")
    assert set(rows["source"]) <= by_src and rows["n"].sum() == expected.positions.height
    assert set(rows["station"].drop_nulls()) == set(expected.positions["station"].drop_nulls())
    assert all(m["path"].startswith("live:") for m in store.manifests())
    assert st["sources"][0]["connects"] == 1 and st["sources"][0]["faults"]["disconnect"] == 1


# -- restarts -------------------------------------------------------------------------------------------
_RUN = ("import sys; from seawatch.live import watch; "
        "watch([sys.argv[1]], sys.argv[2], batch_s=0.2, status_every_s=0, status_path=sys.argv[3], alerts=sys.argv[4])")


def test_restart_after_crash_and_sigterm_no_duplicates(going_dark, tmp_path) -> None:
    """A followed file: the watcher is killed (SIGKILL) while the file grows, restarted, then
    stopped with SIGTERM: every row once, the rejects once, the events of a batch run."""
    lines = list(going_dark["lines"][:12000])
    for i in (100, 5000, 9000):  # garbage, to check that rejects are not stored twice
        lines.insert(i, b"!AIVDM,1,1,,A,NOT AIS AT ALL,0*00\n")
    log = tmp_path / "feed.nmea"
    db, status, alerts = tmp_path / "db", tmp_path / "status.json", tmp_path / "alerts.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", _RUN, f"file://{log}", str(db), str(status), str(alerts)],
                                env=env, stderr=subprocess.PIPE, text=True)

    def lines_done() -> int:
        try:
            return json.loads(status.read_text())["sources"][0]["lines"]
        except (FileNotFoundError, ValueError, KeyError, IndexError):
            return 0

    log.write_bytes(b"".join(lines[:4000]))
    p = start()
    try:
        _wait(lambda: lines_done() >= 4000, 30, what="the first part")
        with open(log, "ab") as f:  # the log grows while the watcher reads it...
            for i in range(4000, 8000, 250):
                f.write(b"".join(lines[i:i + 250]))
                f.flush()
                time.sleep(0.02)
        time.sleep(0.15)
        p.send_signal(signal.SIGKILL)  # ...and it crashes, maybe in the middle of a batch
        p.wait(10)
        with open(log, "ab") as f:
            f.write(b"".join(lines[8000:]))
        status.unlink(missing_ok=True)
        p = start()
        expected = decode_nmea(log)
        _wait(lambda: Store(db).stats()["positions"] >= expected.positions.height and lines_done() > 0, 30,
              what="the rest")
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
    store = Store(db)
    st = store.stats()
    assert st["positions"] == expected.positions.height
    assert st["statics"] == expected.statics.height
    assert st["errors"] == 3  # the three garbage lines, once each
    assert sorted(store.table("rejects")["line_no"].to_list()) == [101, 5001, 9001]
    final = json.loads(status.read_text())
    assert final["sources"][0]["state"] == "stopped"
    live = store.table("events")
    assert live["event_id"].is_unique().all()
    batch = _batch_events(log, tmp_path / "batch")
    cols = ["event_id", "end_time", "status", "severity"]
    assert live.filter(pl.col("status") != "retracted").select(cols).sort("event_id").equals(
        batch.select(cols).sort("event_id"))


def test_restart_with_a_source_that_resends_adds_nothing(going_dark, tmp_path) -> None:
    """The receiver restarts and resends its buffer, the watcher restarts: no row twice, no event
    twice, no alert again."""
    feed = tmp_path / "part.nmea"
    feed.write_bytes(b"".join(going_dark["lines"][:9000]))
    db, alerts = tmp_path / "db", tmp_path / "alerts.jsonl"
    counts = []
    for _ in range(2):
        rp = ReplayThread(feed, speed=0)
        w = start_watch([f"tcp://127.0.0.1:{rp.port}"], db, alerts=str(alerts), batch_s=0.1, status_every_s=0)
        try:
            _wait(lambda rp=rp, w=w: rp.stats.done and w.status()["sources"][0]["lines"] == rp.stats.lines_sent,
                  30, what="the replay")
        finally:
            st = w.stop()
            rp.stop()
        counts.append((Store(db).stats()["positions"], Store(db).table("events").height, len(_alerts(alerts)), st))
    (p1, e1, a1, _), (p2, e2, a2, st2) = counts
    assert p1 > 0 and p2 == p1 and e2 == e1 and a2 == a1
    assert st2["duplicates"] >= p1 and st2["rows"]["positions"] == 0


# -- late data ------------------------------------------------------------------------------------------
def test_late_data_retracts_a_gap(going_dark, tmp_path) -> None:
    """A vessel's reports of 12:00-14:30Z arrive late: first it is in an AIS gap (alert), then the
    late data show it never was (retracted), in the events table and as a retraction alert."""
    from seawatch.detect import detect
    from seawatch.tracks import build_tracks

    lines = going_dark["lines"]
    times = line_times(b"".join(lines))
    a, b = (DAY + timedelta(hours=12)).timestamp(), (DAY + timedelta(hours=14.5)).timestamp()
    mmsis = [_mmsi(ln) for ln in lines]
    r = decode_nmea(b"".join(lines))
    tr = build_tracks(r.positions)
    pts = tr.points.filter(pl.col("ts").is_between(DAY + timedelta(hours=11.5), DAY + timedelta(hours=15)))
    cands = (pts.group_by("mmsi").agg(n=pl.len(), port=pl.col("port_dist_km").min(), dt=pl.col("dt_s").max())
             .filter((pl.col("n") > 250) & (pl.col("port").is_null() | (pl.col("port") > 10)) & (pl.col("dt") < 120))
             .sort("n", "mmsi", descending=True)["mmsi"].to_list())
    for m in cands[:6]:
        late = [i for i, (x, t) in enumerate(zip(mmsis, times)) if x == m and a <= t < b]
        rest = sorted(set(range(len(lines))) - set(late))
        rr = decode_nmea(b"".join(lines[i] for i in rest))
        t2 = build_tracks(rr.positions)
        ev = detect(t2.points, t2.segments, rr.statics, only=["ais_gap"])
        if ev.filter(pl.col("mmsi") == m).height:
            break
    else:
        pytest.skip("no honest vessel whose silence makes a gap in this simulation")
    alerts = tmp_path / "alerts.jsonl"
    posted, hook = _webhook_server()
    w = Watcher(WatchConfig(sources=[], db=tmp_path / "db", alerts=str(alerts), alert_retractions=True,
                            webhook=f"http://127.0.0.1:{hook.server_port}/alerts"))
    try:
        w.feed(b"".join(lines[i] for i in rest))
        w.step()
        gap = w.events.filter((pl.col("mmsi") == m) & (pl.col("event_type") == "ais_gap"))
        assert gap.height == 1 and gap["status"][0] in ("open", "closed")
        eid = gap["event_id"][0]
        assert any(x["event_id"] == eid and x["action"] == "open" for x in _alerts(alerts))
        w.feed(b"".join(lines[i] for i in late))  # the late reports
        st = w.step(final=True)
    finally:
        w.close()
    stored = Store(tmp_path / "db").table("events")
    assert stored.filter(pl.col("event_id") == eid)["status"].to_list() == ["retracted"]
    assert any(x["event_id"] == eid and x["action"] == "retract" for x in _alerts(alerts))
    assert st["actions"]["retract"] >= 1
    assert Store(tmp_path / "db").stats()["positions"] == r.positions.height
    hook.shutdown()
    assert [(x["event_id"], x["action"]) for x in posted] == [(x["event_id"], x["action"]) for x in _alerts(alerts)]


def _webhook_server():
    """A local HTTP server collecting the JSON bodies POSTed to it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posted: list[dict] = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            posted.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return posted, srv


def test_live_demo(tmp_path) -> None:
    from seawatch.live import start_live_demo

    demo = start_live_demo(tmp_path / "db", scenario="going-dark", hours=1, speed=0)
    try:
        assert demo.wait(30)
        # a second watcher on the same store is refused
        with pytest.raises(SeawatchError, match="another `seawatch watch`"):
            Watcher(WatchConfig(sources=["tcp://127.0.0.1:1"], db=tmp_path / "db"))
    finally:
        st = demo.stop()
    assert st["rows"]["positions"] > 1000 and st["sources"][0]["faults"]["garbage"] == 0
    assert (tmp_path / "db" / "alerts.jsonl").exists()
    assert demo.score().filter(pl.col("event_type") == "all")["truths"][0] >= 0
    with pytest.raises(SeawatchError, match="already holds data"):
        start_live_demo(tmp_path / "db", scenario="going-dark", hours=1, speed=0)


# -- command line ---------------------------------------------------------------------------------------
def test_cli_watch_and_replay(going_dark, tmp_path) -> None:
    small = tmp_path / "small.nmea"
    small.write_bytes(b"".join(going_dark["lines"][:500]))
    runner = CliRunner()
    r = runner.invoke(watch_command, ["ais.example.org:10110", "--db", str(tmp_path / "x")])
    assert r.exit_code == 2 and r.output.startswith("Error: bad source") and "\n" == r.output[-1] and r.output.count("\n") == 1
    r = runner.invoke(watch_command, [f"file://{small}", "--db", str(tmp_path / "db"), "--exit-idle-s", "0.5",
                                      "--batch-s", "0.1", "--alerts", "-", "--status-every", "0"])
    assert r.exit_code == 0, r.output
    assert Store(tmp_path / "db").stats()["positions"] == decode_nmea(small).positions.height
    r = runner.invoke(replay_command, [str(small), "--listen", "127.0.0.1:0", "--speed", "0", "--once", "--no-wait"])
    assert r.exit_code == 0, r.output
    assert "sent 500 of 500 lines" in r.output
    r = runner.invoke(replay_command, [str(tmp_path / "nope.nmea")])
    assert r.exit_code == 2 and "Error: no such file" in r.output


def test_followed_file_truncated_and_rotated(going_dark, tmp_path) -> None:
    lines = going_dark["lines"]
    log = tmp_path / "ais.log"
    log.write_bytes(b"".join(lines[:300]))
    w = start_watch([f"file://{log}"], tmp_path / "db", batch_s=0.05, detect=False, status_every_s=0)
    src = w.watcher.sources[0]
    try:
        src.poll_s = 0.02
        _wait(lambda: src.stats.lines == 300, 10, what="the first lines")
        log.write_bytes(b"".join(lines[300:400]))  # truncated and rewritten (copytruncate)
        _wait(lambda: src.stats.lines == 400, 10, what="the lines after the truncation")
        log.rename(tmp_path / "ais.log.1")  # rotated: a new file at the path
        log.write_bytes(b"".join(lines[400:700]))
        _wait(lambda: src.stats.lines == 700, 10, what="the lines of the new file")
    finally:
        st = w.stop()
    assert st["sources"][0]["faults"]["truncated"] == 1
    assert Store(tmp_path / "db").stats()["positions"] == decode_nmea(b"".join(lines[:700])).positions.height


def test_batch_files_are_named_with_the_store_fingerprint_algorithm(going_dark, tmp_path) -> None:
    """A watch into a store made now names its batch files (and their compaction) by xxh3-128;
    into a store made before xxh3 (``_store.json`` without ``fingerprint``), by sha256 as before."""
    log = tmp_path / "ais.log"
    log.write_bytes(b"".join(going_dark["lines"][:600]))
    old = tmp_path / "old"
    Store(old, create=True)
    (old / "_store.json").write_text(json.dumps({"format": "seawatch-store", "version": 1}))
    for db, digits in ((tmp_path / "new", 32), (old, 64)):
        w = start_watch([f"file://{log}"], db, batch_s=0.05, detect=False, status_every_s=0)
        src = w.watcher.sources[0]
        try:
            src.poll_s = 0.02
            _wait(lambda src=src: src.stats.lines == 600, 10, what="the lines")
        finally:
            w.stop()
        names = [p.stem for p in (db / "_files").glob("*.json")]
        names += [f for p in (db / "_files").glob("*.replaces") for f in json.loads(p.read_text())]
        assert names and {len(n) for n in names} == {digits}, (db, names)
        assert Store(db).stats()["positions"] == decode_nmea(b"".join(going_dark["lines"][:600])).positions.height


def test_event_lifecycle_open_escalate_close_retract_and_final(tmp_path) -> None:
    """The diff of detector output against the known events, action by action."""
    from seawatch import schema

    alerts = tmp_path / "alerts.jsonl"
    w = Watcher(WatchConfig(sources=[], db=tmp_path / "db", alerts=str(alerts), window_h=6))
    t0 = DAY + timedelta(hours=10)

    def ev(eid, start_h, sev, end_h=None):
        return {"event_id": eid, "event_type": "ais_gap", "mmsi": 412000001, "start_time": t0 + timedelta(hours=start_h),
                "end_time": None if end_h is None else t0 + timedelta(hours=end_h), "lat": 38.0, "lon": 138.5,
                "severity": sev, "score": 0.5, "status": "open" if end_h is None else "closed", "preset": "coastal",
                "evidence": "{}"}

    def run(*rows, now_h):
        w.data_now_us = int((t0 + timedelta(hours=now_h)).timestamp() * 1e6)
        w._diff(pl.DataFrame(list(rows), schema=schema.polars_schema("events")))
        return {r["event_id"]: r["status"] for r in w.events.to_dicts()}

    try:
        assert run(ev("a", 0, "low"), ev("b", 1, "medium"), now_h=2) == {"a": "open", "b": "open"}
        assert run(ev("a", 0, "high"), ev("b", 1, "medium"), now_h=3) == {"a": "open", "b": "open"}  # a escalates
        assert run(ev("a", 0, "medium", 3), ev("b", 1, "medium"), now_h=4) == {"a": "closed", "b": "open"}
        assert run(ev("a", 0, "medium", 3), now_h=5) == {"a": "closed", "b": "retracted"}  # b no longer holds
        assert run(ev("b", 1, "medium"), now_h=6) == {"a": "retracted", "b": "open"}  # b back, a gone
        # data older than the window were dropped: events starting in its first 2 h are final
        w.evicted = True
        assert run(ev("c", 6.5, "low"), now_h=10) == {"a": "retracted", "b": "open", "c": "open"}
        assert run(ev("x", 4.1, "high"), now_h=10)["c"] == "retracted" and "x" not in w.events["event_id"]
    finally:
        w.close()
    got = [(a["event_id"], a["action"], a.get("previous_severity")) for a in _alerts(alerts)]
    assert got == [("a", "open", None), ("b", "open", None), ("a", "escalate", "low"), ("b", "open", None),
                   ("c", "open", None)]
    assert w.actions == {"open": 4, "escalate": 1, "update": 0, "close": 1, "retract": 3}


def test_compaction_keeps_every_row_once_and_a_restart_resumes_after_it(going_dark, tmp_path) -> None:
    """Batch files are compacted while the watch runs and readers read; a restarted watch on
    the compacted store resumes the followed file where it stopped: every row once."""
    lines = going_dark["lines"][:3000]
    log, db = tmp_path / "ais.log", tmp_path / "db"
    log.write_bytes(b"".join(lines[:1000]))
    w = start_watch([f"file://{log}"], db, batch_s=0.05, detect=False, status_every_s=0, compact_every_s=0.2)
    src = w.watcher.sources[0]
    try:
        src.poll_s = 0.02
        for k in (1000, 1500, 2000):
            if k > 1000:
                with open(log, "ab") as f:
                    f.write(b"".join(lines[k - 500:k]))
            _wait(lambda k=k: src.stats.lines == k, 10, what=f"{k} lines")
            # a reader meanwhile sees whole batches, each row once
            n = Store(db).stats()["positions"]
            assert n <= decode_nmea(b"".join(lines[:k])).positions.height
        _wait(lambda: w.watcher.compactions >= 1, 10, what="a compaction")
    finally:
        st = w.stop()
    store = Store(db)
    assert st["compactions"] >= 1 and len(store.manifests()) < st["files"]
    assert store.stats()["positions"] == decode_nmea(b"".join(lines[:2000])).positions.height
    with open(log, "ab") as f:
        f.write(b"".join(lines[2000:]))
    w2 = start_watch([f"file://{log}"], db, batch_s=0.05, detect=False, status_every_s=0, compact_every_s=0.2)
    try:
        w2.watcher.sources[0].poll_s = 0.02
        _wait(lambda: w2.watcher.sources[0].stats.lines == 1000, 10, what="the appended lines")
    finally:
        w2.stop()
    whole = decode_nmea(b"".join(lines))
    store = Store(db)
    assert store.stats()["positions"] == whole.positions.height
    assert store.stats()["lines_read"] == len(lines)
    got = store.table("positions").drop("source").sort(pl.all())
    assert got.equals(whole.positions.drop("source").sort(pl.all()))


def test_live_watch_correlates_sensor_detections_as_ais_arrives(tmp_path) -> None:
    """Radar plots in the store: the watch matches the one beside the AIS track, reports the
    one far from any track as a dark target, and leaves the ones ahead of the AIS data alone."""
    from seawatch.detections import ingest_detections
    from seawatch.testing import nmea_line, track
    from seawatch.tracks import destination

    t0 = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)  # 21:00 JST
    v = track(431000001, start=t0, lat=38.6, lon=137.6, sog_kn=10, cog_deg=90, hours=1, every_s=60)
    lines = "\n".join(nmea_line({"type": 1, "mmsi": r["mmsi"], "lat": r["lat"], "lon": r["lon"], "speed": r["sog_kn"],
                                 "course": r["cog_deg"]}, tagblock_time=r["ts"].timestamp())
                      for r in v.iter_rows(named=True)) + "\n"
    near = destination(38.6, 137.6, 90, 10 * 30 / 60)  # where the vessel is at +30 min
    far = destination(38.6, 137.6, 0, 20.0)  # 20 nm north of its track: nobody there
    rows = [("near", 1800, *near), ("far", 1800, *far), ("later", 3 * 3600, *far)]
    pl.DataFrame({
        "detection_id": [r[0] for r in rows], "ts": [t0 + timedelta(seconds=r[1]) for r in rows],
        "lat": [float(r[2]) for r in rows], "lon": [float(r[3]) for r in rows],
        "source": "test radar", "sensor": "radar", "confidence": 0.9,
    }).write_csv(tmp_path / "dets.csv")
    db = tmp_path / "db"
    ingest_detections([tmp_path / "dets.csv"], db)
    w = Watcher(WatchConfig(sources=[], db=db))
    try:
        w.feed(lines.encode())
        w.step(final=True)
    finally:
        w.close()
    dark = w.events.filter(pl.col("event_type") == "dark_target")
    assert dark.height == 1 and '"far"' in dark["evidence"][0]
    corr = Store(db).table("correlation").sort("detection_id")
    assert corr["detection_id"].to_list() == ["far", "near"]  # "later" waits for its AIS
    assert corr["matched"].to_list() == [False, True] and corr["mmsi"][1] == 431000001


def test_window_keeps_every_column_the_tracks_and_detectors_read() -> None:
    """The watcher's window drops the columns no detector reads (heading, station, ...): every
    column of seawatch.detect.base.DETECT_COLUMNS is either kept, a place column computed when a
    row arrives, or one build_tracks derives (segment and kinematics)."""
    from seawatch import schema, testing
    from seawatch.detect.base import DETECT_COLUMNS
    from seawatch.live import WINDOW_COLUMNS
    from seawatch.tracks import PLACE_COLUMNS, build_tracks

    pos = testing.track(hours=0.1)
    derived = set(build_tracks(pos).points.columns) - set(pos.columns)
    assert set(DETECT_COLUMNS) <= set(WINDOW_COLUMNS) | set(PLACE_COLUMNS) | derived
    assert set(WINDOW_COLUMNS) <= set(schema.polars_schema("positions"))


@pytest.mark.parametrize("fold", [True, False])
def test_a_dark_boat_on_radar_is_alerted_once_as_a_track_not_on_every_sweep(tmp_path, fold) -> None:
    """A boat with no AIS seen on five radar sweeps, 10 min apart, while the watch runs: its first
    two plots are alerted as dark targets, the third opens a dark track (one alert) and the
    plots of the track after that are folded into it; --every-dark-target alerts each plot."""
    from seawatch.detections import ingest_detections
    from seawatch.testing import nmea_line, track
    from seawatch.tracks import destination

    t0 = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)  # 21:00 JST
    v = track(431000001, start=t0, lat=38.6, lon=137.6, sog_kn=10, cog_deg=90, hours=1, every_s=60)
    start = destination(38.6, 137.6, 0, 20.0)  # 20 nm north of the AIS vessel
    rows = []
    for k in range(5):
        la, lo = destination(float(start[0]), float(start[1]), 45, 8 * k * 10 / 60)
        rows.append((f"boat{k}", t0 + timedelta(minutes=5 + 10 * k), float(la), float(lo)))
    pl.DataFrame({"detection_id": [r[0] for r in rows], "ts": [r[1] for r in rows],
                  "lat": [r[2] for r in rows], "lon": [r[3] for r in rows],
                  "heading_deg": 45.0, "source": "test radar", "sensor": "radar", "confidence": 0.9,
                  }).write_csv(tmp_path / "dets.csv")
    db = tmp_path / "db"
    ingest_detections([tmp_path / "dets.csv"], db)
    alerts: list[dict] = []
    w = Watcher(WatchConfig(sources=[], db=db, on_alert=alerts.append, fold_dark_targets=fold))
    try:
        for k in range(6):  # the AIS up to 10 min after each sweep, one micro-batch each
            part = v.filter((pl.col("ts") >= t0 + timedelta(minutes=10 * k)) & (pl.col("ts") < t0 + timedelta(minutes=10 * k + 10)))
            w.feed(("\n".join(nmea_line({"type": 1, "mmsi": r["mmsi"], "lat": r["lat"], "lon": r["lon"],
                                          "speed": r["sog_kn"], "course": r["cog_deg"]}, tagblock_time=r["ts"].timestamp())
                              for r in part.iter_rows(named=True)) + "\n").encode())
            w.step()
        w.step(final=True)
    finally:
        w.close()
    dark = [(a["event_type"], a["action"]) for a in alerts if a["event_type"].startswith("dark")]
    ev = w.events
    assert (ev["event_type"] == "dark_target").sum() == 5 and (ev["event_type"] == "dark_track").sum() == 1
    if fold:
        assert dark == [("dark_target", "open"), ("dark_target", "open"), ("dark_track", "open")]
        assert w.status()["alerts_folded"] == 3
    else:
        assert sorted(dark) == sorted([("dark_target", "open")] * 5 + [("dark_track", "open")])
        assert w.status()["alerts_folded"] == 0


def test_status_warns_when_detection_passes_are_slow(tmp_path) -> None:
    """A pass longer than slow_detect_s is a warning in the status and the status line: the
    officer learns that alerts lag and what to change."""
    from seawatch.testing import nmea_line, track

    v = track(431000001, hours=0.5, every_s=60)
    lines = "\n".join(nmea_line({"type": 1, "mmsi": r["mmsi"], "lat": r["lat"], "lon": r["lon"], "speed": r["sog_kn"],
                                 "course": r["cog_deg"]}, tagblock_time=r["ts"].timestamp()) for r in v.iter_rows(named=True))
    for slow_s, warned in ((1e-6, True), (3600.0, False)):
        w = Watcher(WatchConfig(sources=[], db=tmp_path / f"db{warned}", slow_detect_s=slow_s))
        try:
            w.feed((lines + "\n").encode())
            st = w.step()
        finally:
            w.close()
        assert st["window_positions"] == v.height
        assert bool(st["warnings"]) is warned
        if warned:
            assert "--window-h" in st["warnings"][0] and f"{v.height:,} positions" in st["warnings"][0]
            assert "WARNING detection takes" in w.status_line()


def _checked_against_full_passes(w: Watcher, every: int = 4) -> tuple[list[tuple[int, int]], list[dict[str, int]], dict]:
    """Make ``w`` compare, after every ``every``-th pass and the final one (``flag["final"]``),
    its carried tracks, segments and events with a full rebuild of the same window. Returns
    (vessels rebuilt and in the window per pass, event counts per compared pass, flag)."""
    from polars.testing import assert_frame_equal

    from seawatch.detect import detect
    from seawatch.detect.base import Inputs
    from seawatch.tracks import build_tracks

    rebuilt: list[tuple[int, int]] = []
    checked: list[dict[str, int]] = []
    flag = {"final": False}
    diff = w._diff

    def check(ev: pl.DataFrame) -> None:
        got = w._inputs
        rebuilt.append((w.last_pass_vessels, got.segments["mmsi"].n_unique()))
        if len(rebuilt) % every == 0 or flag["final"]:
            pos, st = w._window("positions"), w._window("statics")
            tr = build_tracks(pos, ports=w.ports, zones=w.zones)
            full = detect(tr.points, tr.segments, st, ports=w.ports, ports_in_tracks=True, detections=w._detections())
            want = Inputs(tr.points, tr.segments)
            for name, key in (("tracks", ["seg_id", "ts"]), ("noise", ["mmsi", "ts", "lat"]), ("segments", ["seg_id"])):
                assert_frame_equal(getattr(got, name).sort(key), getattr(want, name).sort(key))
            # the segment starts carried with the tracks are where their seg_id changes
            seg = got.tracks["seg_id"]
            assert (got.segment_starts() == seg.ne_missing(seg.shift(1)).to_numpy()).all()
            assert_frame_equal(ev, full)
            checked.append(dict(full["event_type"].value_counts().iter_rows()))
        diff(ev)

    w._diff = check
    return rebuilt, checked, flag


@pytest.mark.parametrize("copy_kept", [False, True])
def test_incremental_pass_equals_a_full_pass(going_dark, tmp_path, monkeypatch, copy_kept) -> None:
    """Each pass rebuilds only the vessels whose rows changed (added, or evicted from a 3 h
    window) and carries the others' tracks and per-vessel events over. The going-dark feed in
    20 time slices, each fed as four micro-batches of a quarter of the fleet (MMSI mod 4; the
    later quarters' rows arrive late within the slice): after every fourth pass and the final
    one, the carried tracks, segments and events equal a full rebuild of the same window (ports
    re-inferred as often as the data allow, statics arriving throughout). ``copy_kept``: the
    unchanged vessels' rows are copied in the extended vessels' gather every pass (what a fast
    replay, where nearly every vessel changes, does) instead of kept as slices."""
    import seawatch.live as live_mod

    monkeypatch.setattr(live_mod, "PORTS_MIN_WALL_S", 0.0)
    monkeypatch.setattr(live_mod, "PORTS_EVERY_S", 1800.0)
    copied = []
    if copy_kept:
        monkeypatch.setattr(live_mod, "MAX_CHUNKS", 0)
        monkeypatch.setattr(live_mod, "GATHER_COST", 0)
        extended = live_mod.Watcher._extended

        def spy(self, *a, **k):
            out = extended(self, *a, **k)
            copied.append(out.lead.height)
            return out

        monkeypatch.setattr(live_mod.Watcher, "_extended", spy)
    w = Watcher(WatchConfig(sources=[], db=tmp_path / "db", window_h=3.0))
    rebuilt, checked, flag = _checked_against_full_passes(w)
    lines, group, g = going_dark["lines"], [], 0
    for ln in lines:  # a second fragment goes with its first
        m = _mmsi(ln)
        g = m % 4 if m is not None else g
        group.append(g)
    k = len(lines) // 20 + 1
    try:
        for i in range(0, len(lines), k):
            for q in range(4):
                w.feed(b"".join(ln for ln, gq in zip(lines[i:i + k], group[i:i + k]) if gq == q))
                w.step()
        flag["final"] = True
        w.step(final=True)
    finally:
        w.close()
    assert len(rebuilt) == 81 and w.passes["incremental"] >= 60 and len(checked) == 21
    assert sum(n < total / 2 for n, total in rebuilt) > 40  # most passes rebuilt a part of the fleet
    assert any(c.get("ais_gap") for c in checked)  # with events of the cross-vessel detectors too
    # most rebuilt vessels' tracks were extended; some (late rows, evictions) segmented again
    assert w.extended["vessels"] > w.extended["segmented"] > 0
    assert not copy_kept or sum(n > 0 for n in copied) > 40


def test_an_anchorage_that_appears_rebuilds_only_the_vessels_near_it(tmp_path, monkeypatch) -> None:
    """Ports are re-inferred as the data time goes on. When an anchorage appears (four ships
    at anchor 12 h off Sado, and their port visits begin), the next pass rebuilds the vessels
    within reach of it (a trawler that drifted 2 km from it and has been silent since, a ship
    passing) and carries the far
    ones (four drifting off Oki, 200 km west): tracks and events still equal a full rebuild,
    pass after pass, and only the first and the final passes are full."""
    from polars.testing import assert_frame_equal

    import seawatch.live as live_mod
    from seawatch.testing import concat, nmea_line, track
    from seawatch.tracks import PORT_COLUMNS, add_places

    monkeypatch.setattr(live_mod, "PORTS_MIN_WALL_S", 0.0)
    monkeypatch.setattr(live_mod, "PORTS_EVERY_S", 1800.0)
    spot = {"lat": 38.3, "lon": 138.0}
    far = {"lat": 36.5, "lon": 135.8}
    pos = concat(
        *[track(431000100 + i, start="2024-06-01T00:00:00Z", lat=spot["lat"] + 0.001 * i, lon=spot["lon"],
                sog_kn=0.0, hours=15, every_s=600) for i in range(4)],
        track(431000200, start="2024-06-01T07:00:00Z", lat=spot["lat"] + 0.018, lon=spot["lon"], sog_kn=0.3,
              hours=4, every_s=120),  # loitering 2 km from the spot, silent before the anchorage is known
        track(431000300, start="2024-06-01T06:00:00Z", lat=spot["lat"] - 0.3, lon=spot["lon"] - 0.3, sog_kn=11,
              cog_deg=45, hours=9, every_s=300),
        *[track(431000400 + i, start="2024-06-01T00:00:00Z", lat=far["lat"] + 0.01 * i, lon=far["lon"], sog_kn=0.2,
                hours=15, every_s=600) for i in range(4)],
    )
    t = pos["ts"].dt.epoch("s").to_numpy()
    lines = [nmea_line({"type": 1, "mmsi": m, "lat": la, "lon": lo, "speed": s, "course": c, "status": 0},
                       tagblock_time=float(ts), station="r1").encode() + b"\n"
             for m, la, lo, s, c, ts in zip(pos["mmsi"], pos["lat"], pos["lon"], pos["sog_kn"], pos["cog_deg"], t)]
    w = Watcher(WatchConfig(sources=[], db=tmp_path / "db", window_h=24.0))
    rebuilt, checked, flag = _checked_against_full_passes(w, every=1)
    near_ports, marked = w._near_ports, []
    def recorded(pos, moved):
        pos, near = near_ports(pos, moved)
        marked.append(set(near.to_list()))
        return pos, near

    monkeypatch.setattr(w, "_near_ports", recorded)
    anchorages = []
    try:
        for h in np.arange(0.5, 15.5, 0.5):  # half-hour slices of data time
            w.feed(b"".join(ln for ln, ts in zip(lines, t) if h - 0.5 <= (ts - t.min()) / 3600 < h))
            w.step()
            anchorages.append(w.ports.filter(pl.col("source") == "inferred").height)
            win = w._window("positions")  # its port columns as if computed with the ports of now
            assert_frame_equal(win.select(PORT_COLUMNS),
                               add_places(win.drop(PORT_COLUMNS), w.ports, only=PORT_COLUMNS).select(PORT_COLUMNS))
        flag["final"] = True
        w.step(final=True)
    finally:
        w.close()
    assert anchorages[0] == 0 and anchorages[-2] > 0  # an anchorage appeared on the way
    near = {431000100, 431000101, 431000102, 431000103, 431000200, 431000300}
    assert marked and all(m <= near for m in marked) and 431000200 in marked[0]  # the far ones carried
    assert w.passes["full"] == 2 and len(checked) == len(rebuilt)
    assert checked[-1].get("port_visit") and not checked[0].get("port_visit")  # visits to the new anchorage


def test_duplicate_index_across_batches_and_evictions() -> None:
    """The duplicate filter (live._Seen: hashes kept sorted, each batch looking up only its own,
    rows older than the window forgotten) drops a message whose content was accepted within
    10 s of receive time, before or after, and nothing else: one message at a time against a
    plain list of what it remembers, then in batches against an index built again from the
    rows it kept; through prunes that forget rows, with late rows arriving under the window."""
    from seawatch import schema
    from seawatch.live import _W_US, _Seen

    rng = np.random.default_rng(7)
    n = 2400
    # few contents (vessel, position), so they repeat within and beyond 10 s; times mostly in order
    t_us = (np.sort(rng.integers(0, 900, n)) + rng.integers(-40, 5, n)) * 1_000_000 + rng.integers(0, 999_999, n)
    df = schema.conform("positions", pl.DataFrame({
        "mmsi": rng.integers(1, 30, n), "ts": pl.Series(t_us).cast(pl.Datetime("us", "UTC")),
        "lat": rng.integers(0, 3, n) * 0.5, "lon": np.full(n, 138.0)}))
    content = list(zip(df["mmsi"].to_list(), df["lat"].to_list()))
    seen, remembered, prunes = _Seen(), [], 0  # remembered: (content, time) of the rows kept
    for i in range(1200):  # one message at a time
        dup = any(c == content[i] and abs(t - int(t_us[i])) <= _W_US for c, t in remembered)
        keep, dropped = seen.filter("positions", df[i:i + 1])
        assert bool(keep[0]) is not dup and dropped == int(dup), i
        if not dup:
            remembered.append((content[i], int(t_us[i])))
        if i % 100 == 99:  # the window moves on: rows before it (less 10 s) are forgotten
            lo = int(t_us[: i + 1].max()) - 200 * 1_000_000
            seen.prune(lo)
            before = len(remembered)
            remembered = [(c, t) for c, t in remembered if t >= lo - _W_US]
            prunes += before > len(remembered)
        assert seen.size("positions") == len(remembered)
    assert prunes >= 5 and 100 < sum(1 for _ in remembered) < 1200
    kept_rows = [df[:0]]
    kept_rows += [df[i:i + 1] for i in range(1200) if (content[i], int(t_us[i])) in set(remembered)]
    for a in range(1200, n, 60):  # batches, against an index built again from what it kept
        batch = df[a:a + 60]
        ref = _Seen()
        ref.add("positions", pl.concat(kept_rows))
        want, want_n = ref.filter("positions", batch)
        keep, dropped = seen.filter("positions", batch)
        assert (keep == want).all() and dropped == want_n and 0 < dropped < 60
        kept_rows.append(batch.filter(pl.Series(keep)))
        lo = int(t_us[: a + 60].max()) - 200 * 1_000_000
        seen.prune(lo)
        kept_rows = [f.filter(pl.col("ts").dt.epoch("us") >= lo - _W_US) for f in kept_rows]
        assert seen.size("positions") == sum(f.height for f in kept_rows)


def test_carried_tracks_are_slices_of_the_vessels_kept() -> None:
    """A pass keeps the unchanged vessels' track rows as zero-copy slices and appends the rebuilt
    vessels: round after round, the same rows as filtering them out, and the row index of each
    vessel stays right (chunks are joined now and then)."""
    from polars.testing import assert_frame_equal

    from seawatch.live import _vessel_rows, _without_vessels

    limit = 16  # seawatch.live.MAX_CHUNKS, smaller
    rng = np.random.default_rng(5)
    n_of = dict(zip(range(1, 41), rng.integers(1, 30, 40)))
    tracks = pl.DataFrame({"mmsi": np.repeat(list(n_of), list(n_of.values())).astype(np.int64)}).with_row_index("x")
    rows = _vessel_rows(tracks)
    chunks = []
    for _ in range(60):
        drop = pl.Series("mmsi", rng.choice(list(n_of), rng.integers(0, 6), replace=False), dtype=pl.Int64)
        rebuilt = pl.DataFrame({"mmsi": np.repeat(drop.to_numpy(), rng.integers(1, 30, drop.len())).astype(np.int64)}
                               ).with_row_index("x", offset=10_000)
        want = pl.concat([tracks.filter(~pl.col("mmsi").is_in(drop.implode())), rebuilt])
        kept, rows = _without_vessels(tracks, rows, drop)
        rows = pl.concat([rows, _vessel_rows(rebuilt, offset=sum(f.height for f in kept))])
        tracks = pl.concat([*kept, rebuilt], rechunk=False)
        chunks.append(tracks.n_chunks())
        if tracks.n_chunks() > limit:
            tracks = tracks.rechunk()
        assert_frame_equal(tracks, want)
        assert_frame_equal(rows.sort("start"), _vessel_rows(tracks))
    assert max(chunks) > limit  # joined into one now and then


def test_the_watch_runs_every_detector() -> None:
    """Live passes call the per-vessel detectors by name and the cross-vessel ones (ais_gap,
    encounter, dark) by hand: a new detector must be added to one of them."""
    from seawatch.detect import DETECTORS
    from seawatch.scale import CLIENT_SIDE, CROSS_VESSEL, PER_VESSEL

    assert set(CROSS_VESSEL) == {"ais_gap", "encounter"} and set(CLIENT_SIDE) == {"dark"}
    assert set(PER_VESSEL) | set(CROSS_VESSEL) | set(CLIENT_SIDE) == set(DETECTORS)
