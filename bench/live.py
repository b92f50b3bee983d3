"""Live watch: sustained throughput and alert latency of ``seawatch watch``, one core.

    python bench/live.py [--json] [--only throughput|paced|latency] [--batch-s S] [--rate R]

Three runs, each with the watcher in its own fresh Python process pinned with
``os.sched_setaffinity`` to one CPU, ``POLARS_MAX_THREADS=1`` (and friends, as bench/decode.py),
fed over loopback TCP by :class:`seawatch.sources.Replay` running in this (parent) process,
pinned to another CPU when there is one:

* **throughput** -- the 1,000,000-sentence file of bench/nmea_gen.py (cached under
  bench/_cache/, 3,000 vessels, 2.8 h of data time; ``--file`` for another) replayed as fast as
  possible (``speed=0``; TCP backpressure when the watcher's 64 MiB buffer is full) into a
  :class:`seawatch.live.Watcher` with its defaults (``batch_s`` 0.25 s, 24 h window, detection
  every batch over the whole window, the store committed every batch). Every micro-batch is
  timed in the worker (decode, de-duplication, store, detection); the **sustained** rate is
  the slope of the cumulative counts between 10% and 90% of the lines processed (no start-up,
  no final flush), the **overall** rate is first batch start -> last line processed.
  messages = rows stored + content duplicates dropped (a two-sentence type 5 is one message).
* **paced** -- the same file replayed at ``--paced-rate`` messages/s (default 20,000): the
  processed rate, the lag after each batch (its end minus the send of its newest line) and
  *kept up* = the lag after the last line (the stop flush excluded) is at most two batch cycles,
  ``2 x (batch_s + batch seconds p50)``. Printed beside it, as a diagnostic only: *no backlog*,
  the same lag against two cycles of the last three batches' longest (``2 x (batch_s + that)``):
  a watcher whose pass grows with the window fails the first when the last line lands early in a
  long pass, while the second tells whether unprocessed input piled up.
* **latency** -- a planted-behaviour scenario of :func:`seawatch.simulate.simulate` (default
  ``all``: every planted behaviour, 12 h) replayed paced at ``--rate`` messages/s (default
  5,000; the replay speed is set from the file's messages per data second). Each alert
  (``open`` / ``escalate``) is taken when the watcher emits it (its ``on_alert`` callback,
  ``time.time()``); each line's send time is recorded by the replay (``on_sent``).

  **Latency definition.** The watcher detects once per micro-batch, and the line that completed
  an event's condition lies among the lines new in that batch: those with a data (receive) time
  after the previous batch's data time "now" and up to this batch's (the alert's
  ``data_time``). Two figures bracket the true latency:

  - ``newest``: from the send of the first line whose data time >= the alert's ``data_time``
    (the newest line of the batch) -- a lower bound;
  - ``oldest`` (**the headline**): from the send of the first line whose data time is after the
    previous batch's data time (the first line of the batch) -- an upper bound: the triggering
    line waited at most this long.

  p50 / p99 / max over the alerts; the target is judged on the headline. Alerts of the first
  batch (the watcher's warm start) are included.

Only the watcher is on the pinned core; the replay and this driver use another. Times are wall
time (``time.time()`` in both processes: same machine, same clock).

``--json`` prints one JSON object; ``--keep`` keeps the temporary stores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import SINGLE_THREAD_ENV, peak_mb, pin  # noqa: E402
REPO = HERE.parent

TARGET_MSGS_S = 20_000
TARGET_P99_S = 1.0
TARGET_RATE = 5_000


# ---------------------------------------------------------------------------------------------
# the worker: a Watcher on one core, every batch timed
# ---------------------------------------------------------------------------------------------


class _Timer:
    """Seconds spent in wrapped callables, per name, for the current batch and in total."""

    def __init__(self) -> None:
        self.batch: dict[str, float] = {}
        self.total: dict[str, float] = {}

    def wrap(self, name: str, f):
        def g(*a, **k):
            t0 = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                dt = time.perf_counter() - t0
                self.batch[name] = self.batch.get(name, 0.0) + dt
                self.total[name] = self.total.get(name, 0.0) + dt
        return g


def _worker(args: dict) -> dict:
    sys.path.insert(0, str(REPO))
    pinned = pin(args.get("cpu"))
    import seawatch.detect as sdetect
    import seawatch.tracks as stracks
    from seawatch.live import WatchConfig, Watcher

    db = args["db"]
    alerts: list[dict] = []

    def on_alert(rec: dict) -> None:
        alerts.append({"t": time.time(), "data_time": rec.get("data_time"), "action": rec.get("action"),
                       "event_type": rec.get("event_type"), "mmsi": rec.get("mmsi"),
                       "start_time": rec.get("start_time"), "event_id": rec.get("event_id")})

    w = Watcher(WatchConfig(sources=[f"tcp://127.0.0.1:{args['port']}"], db=db, batch_s=args["batch_s"],
                            status_every_s=0, on_alert=on_alert, alerts=args["alerts"]))
    w.warm_up()  # zone and port data, detector modules: not charged to the first batch
    tm = _Timer()
    # stage timers (bench-side wrappers; seawatch is not modified)
    w._feed = tm.wrap("decode", w._feed)
    w.seen.filter = tm.wrap("dedup", w.seen.filter)
    w.store.write_chunk = tm.wrap("store_write", w.store.write_chunk)
    w.store.commit_file = tm.wrap("store_commit", w.store.commit_file)
    w._write_events = tm.wrap("events_write", w._write_events)
    w._detect = tm.wrap("detect_total", w._detect)
    sdetect.detect = tm.wrap("detect.detect", sdetect.detect)
    stracks.build_tracks = tm.wrap("build_tracks", stracks.build_tracks)
    stracks.ports_with_anchorages = tm.wrap("ports_with_anchorages", stracks.ports_with_anchorages)
    w._window = tm.wrap("window", w._window)
    batches: list[dict] = []
    orig_process = w._process

    def process(work, final=False):
        tm.batch = {}
        t0 = time.time()
        pc = time.perf_counter()
        orig_process(work, final)
        src = w.sources[0].stats
        batches.append({
            "t0": t0, "t1": time.time(), "s": time.perf_counter() - pc, "final": final,
            "bytes_in": sum(len(x[1]) for x in work), "lines": src.lines, "rows": sum(w.rows[t] for t in ("positions", "statics", "other")),
            "positions": w.rows["positions"], "dups": w.duplicates, "data_now_us": w.data_now_us,
            "win_rows": sum(f.height for f in w.win.get("positions", [])), "stages": dict(tm.batch),
        })

    w._process = process
    total = args.get("total_lines")
    idle_s = args.get("idle_s", 3.0)

    def monitor() -> None:
        while w.loop is None:
            time.sleep(0.05)
        t_last_change, last = time.time(), -1
        while True:
            time.sleep(0.2)
            n = w.sources[0].stats.lines
            if n != last:
                last, t_last_change = n, time.time()
            if total is not None and n >= total and not w._buffered:
                break
            if args.get("stop_file") and os.path.exists(args["stop_file"]) and not w._buffered and \
                    time.time() - t_last_change >= idle_s:
                break
        w.stop()

    import asyncio

    th = threading.Thread(target=monitor, daemon=True)
    th.start()
    st = asyncio.run(w.run())
    return {"pinned": pinned, "batches": batches, "alerts": alerts, "stage_totals": tm.total,
            "status": {k: st[k] for k in ("rows", "duplicates", "alerts", "actions", "events", "errors")},
            "peak_mb": peak_mb(),
            "threads_env": {k: os.environ.get(k) for k in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS")}}


def _worker_main(args_json: str) -> None:
    args = json.loads(args_json)
    try:
        out = _worker(args)
        out["ok"] = True
    except Exception as e:  # noqa: BLE001 - reported to the parent
        import traceback

        out = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=8)}
    with open(args["out"], "w") as f:
        json.dump(out, f)


def _spawn(args: dict, pin: bool) -> subprocess.Popen:
    env = dict(os.environ, **SINGLE_THREAD_ENV) if pin else dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", json.dumps(args)]
    return subprocess.Popen(cmd, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


# ---------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------

def _count_messages(path: Path) -> tuple[int, int]:
    """(lines, messages): a message is a line that is not fragment 2+ of a multi-sentence one."""
    import re

    rx = re.compile(rb"!AIVD[MO],(\d),(\d),")
    lines = frag = 0
    with open(path, "rb") as f:
        for ln in f:
            lines += 1
            m = rx.search(ln)
            if m and m.group(2) != b"1":
                frag += 1
    return lines, lines - frag


def _run(kind: str, feed: Path, speed: float, a, cpus: tuple[int | None, int | None], tmp: Path, log) -> dict:
    """Replay ``feed`` at ``speed`` into a pinned worker; returns the worker's result + send log."""
    sys.path.insert(0, str(REPO))
    import numpy as np

    from seawatch.live import ReplayThread

    sends: list[tuple[int, float]] = []
    total_lines, _ = _count_messages(feed)
    rp = ReplayThread(feed, speed=speed, once=False, on_sent=lambda n, t: sends.append((n, t)))
    out = tmp / f"{kind}.result.json"
    db = tmp / f"{kind}-store"
    args = {"cpu": cpus[0], "port": rp.port, "db": str(db), "batch_s": a.batch_s, "total_lines": total_lines,
            "out": str(out), "alerts": str(tmp / f"{kind}.alerts.jsonl")}
    log(f"{kind}: replaying {feed} ({total_lines:,} lines) at "
        + ("full speed" if speed == 0 else f"{speed:g}x real time") + f" into a watcher on {cpus[0]} ...")
    p = _spawn(args, pin=cpus[0] is not None)
    try:
        _, err = p.communicate(timeout=a.timeout_s)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        err = f"timed out after {a.timeout_s:g} s\n" + (err or "")
    finally:
        rp.stop()
    if not out.exists():
        return {"ok": False, "error": f"worker exited {p.returncode}: {(err or '').strip()[-2000:]}"}
    res = json.loads(out.read_text())
    res["sends"] = np.array(sends, dtype=float) if sends else np.zeros((0, 2))
    res["total_lines"] = total_lines
    return res


def _throughput(res: dict) -> dict:
    import numpy as np

    b = [x for x in res["batches"] if x["lines"] > 0 or x["bytes_in"]]
    if not b:
        return {"ok": False, "error": "no batch processed any line"}
    t_start = b[0]["t0"]
    t = np.array([t_start] + [x["t1"] for x in b])
    lines = np.array([0] + [x["lines"] for x in b], float)
    msgs = np.array([0] + [x["rows"] + x["dups"] for x in b], float)
    rows = np.array([0] + [x["rows"] for x in b], float)
    n = lines[-1]

    def at(frac: float) -> float:
        return float(np.interp(frac * n, lines, t))

    ta, tb = at(0.1), at(0.9)
    sustained = {k: float((np.interp(tb, t, v) - np.interp(ta, t, v)) / (tb - ta)) for k, v in
                 (("lines_s", lines), ("messages_s", msgs), ("rows_s", rows))}
    overall_s = float(t[-1] - t_start)
    steady = [x for x in b if ta <= x["t1"] <= tb and not x["final"]]
    stage_keys = sorted({k for x in b for k in x["stages"]})
    det = np.array([x["stages"].get("detect_total", 0.0) for x in steady]) if steady else np.zeros(0)
    cyc = np.array([x["s"] for x in steady]) if steady else np.zeros(0)
    stage_share = {k: float(sum(x["stages"].get(k, 0.0) for x in steady)) for k in stage_keys}
    busy = float(cyc.sum())
    return {
        "ok": True, "lines": int(n), "messages": int(msgs[-1]), "rows_stored": int(rows[-1]),
        "duplicates": int(b[-1]["dups"]), "batches": len(b), "overall_s": overall_s,
        "overall_lines_s": n / overall_s if overall_s > 0 else None,
        "overall_messages_s": msgs[-1] / overall_s if overall_s > 0 else None,
        "sustained": sustained, "steady_window_s": tb - ta, "steady_batches": len(steady),
        "steady_busy_share": busy / (tb - ta) if tb > ta else None,
        "batch_s_p50": float(np.median(cyc)) if len(cyc) else None, "batch_s_max": float(cyc.max()) if len(cyc) else None,
        "detect_s_p50": float(np.median(det)) if len(det) else None, "detect_s_max": float(det.max()) if len(det) else None,
        "detect_share_of_busy": float(det.sum() / busy) if busy else None,
        "steady_stage_seconds": stage_share,
        "window_rows_end": b[-1]["win_rows"],
        "lines_per_batch_p50": float(np.median(np.diff(lines)[1:])) if len(lines) > 2 else None,
        "stage_totals": res["stage_totals"], "peak_mb": res["peak_mb"], "pinned": res["pinned"],
        "status": res["status"],
    }


def _iso_us(s: str) -> int:
    from datetime import datetime, timezone

    return int(datetime.strptime(s.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S")
               .replace(tzinfo=timezone.utc).timestamp() * 1_000_000)


def _latency(res: dict, feed: Path) -> dict:
    import numpy as np

    from seawatch.sources import line_times

    ff = line_times(feed.read_bytes())
    idx = np.where(~np.isnan(ff), np.arange(len(ff)), 0)  # untimed lines: the time before them
    ff = ff[np.maximum.accumulate(idx)]
    ff_us = np.round(np.nan_to_num(ff, nan=-1) * 1e6).astype(np.int64)
    ff_us = np.maximum.accumulate(ff_us)  # the send order is the file order: monotone "reached" time
    sends = res["sends"]
    if not len(sends) or not res["alerts"]:
        return {"ok": False, "error": f"{len(res['alerts'])} alerts, {len(sends)} sends", "status": res.get("status")}
    send_end, send_t = sends[:, 0].astype(np.int64), sends[:, 1]

    def sent_at(line_idx: int) -> float:  # 0-based line -> wall time of the write that held it
        k = int(np.searchsorted(send_end, line_idx + 1, side="left"))
        return float(send_t[min(k, len(send_t) - 1)])

    batches = [x for x in res["batches"]]
    b_now = [x["data_now_us"] for x in batches]
    b_t1 = np.array([x["t1"] for x in batches])
    rows = []
    for al in res["alerts"]:
        dt_us = _iso_us(al["data_time"])
        i_new = int(np.searchsorted(ff_us, dt_us, side="left"))
        # the batch that emitted it: the first batch ending at/after the alert; its predecessor's now
        k = int(np.searchsorted(b_t1, al["t"], side="left"))
        prev_now = next((b_now[j] for j in range(k - 1, -1, -1) if b_now[j] is not None), None)
        i_old = 0 if prev_now is None else int(np.searchsorted(ff_us, prev_now, side="right"))
        i_old = min(i_old, i_new)
        rows.append({**al, "newest_s": al["t"] - sent_at(min(i_new, len(ff_us) - 1)),
                     "oldest_s": al["t"] - sent_at(i_old), "line_newest": i_new, "line_oldest": i_old})
    lat = {}
    for key in ("oldest_s", "newest_s"):
        v = np.array([r[key] for r in rows])
        lat[key] = {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)),
                    "max": float(v.max()), "min": float(v.min())}
    sent_n, dur = int(send_end[-1]), float(send_t[-1] - send_t[0])
    det = np.array([x["stages"].get("detect_total", 0.0) for x in batches if x["lines"]])
    cyc = np.array([x["s"] for x in batches if x["lines"]])
    by_type: dict[str, int] = {}
    for r in rows:
        by_type[r["event_type"]] = by_type.get(r["event_type"], 0) + 1
    return {"ok": True, "alerts": len(rows), "by_type": by_type, "latency": lat,
            "lines_sent": sent_n, "send_s": dur, "lines_s": sent_n / dur if dur > 0 else None,
            "batch_s_p50": float(np.median(cyc)) if len(cyc) else None,
            "batch_s_p99": float(np.percentile(cyc, 99)) if len(cyc) else None,
            "detect_s_p50": float(np.median(det)) if len(det) else None,
            "detect_s_max": float(det.max()) if len(det) else None,
            "stage_totals": res["stage_totals"], "peak_mb": res["peak_mb"], "pinned": res["pinned"],
            "status": res["status"], "per_alert": rows}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_worker"]:
        _worker_main(argv[1])
        return 0
    ap = argparse.ArgumentParser(description="seawatch watch: sustained throughput and alert latency, one core")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--only", choices=("throughput", "paced", "latency"), default=None)
    ap.add_argument("--sentences", "-n", type=int, default=1_000_000, help="throughput file size (bench/nmea_gen.py)")
    ap.add_argument("--file", help="throughput: replay this NMEA file instead of the generated one")
    ap.add_argument("--paced-rate", type=float, default=TARGET_MSGS_S,
                    help="throughput: also replay the file paced at this many messages/s (0: skip; default 20000)")
    ap.add_argument("--scenario", default="all", help="latency: the simulated scenario (default all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hours", type=float, default=None, help="latency: scenario hours (default: its own)")
    ap.add_argument("--rate", type=float, default=TARGET_RATE, help="latency: messages/s to replay at (default 5000)")
    ap.add_argument("--batch-s", type=float, default=None, help="the watcher's --batch-s (default: its default, seawatch.live.BATCH_S)")
    ap.add_argument("--cpu", type=int, default=None, help="CPU for the watcher (default: first allowed)")
    ap.add_argument("--all-cores", action="store_true", help="for comparison: no pinning, no thread limits")
    ap.add_argument("--timeout-s", type=float, default=900.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary stores")
    a = ap.parse_args(argv)
    log = (lambda s: print(s, file=sys.stderr, flush=True))
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(REPO))
    if a.batch_s is None:
        from seawatch.live import BATCH_S

        a.batch_s = BATCH_S
    import decode  # bench/decode.py: machine description

    machine = decode._machine()  # before the driver re-pins itself
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    wcpu = a.cpu if a.cpu is not None else allowed[0]
    others = [c for c in allowed if c != wcpu]
    if a.all_cores:
        cpus: tuple[int | None, int | None] = (None, None)
    else:
        cpus = (wcpu, others[0] if others else None)
        if others:
            os.sched_setaffinity(0, set(others))  # the replay and the driver stay off the watcher's core
        else:
            log("warning: one CPU only: the replay shares the watcher's core")
    tmp = Path(tempfile.mkdtemp(prefix="seawatch-bench-live-"))
    result: dict = {"benchmark": "live", "machine": machine, "batch_s": a.batch_s,
                    "watcher_cpu": cpus[0], "replay_cpu": cpus[1],
                    "targets": {"sustained_messages_s": TARGET_MSGS_S, "p99_alert_latency_s": TARGET_P99_S,
                                "at_messages_s": TARGET_RATE}}
    try:
        if a.only in (None, "throughput", "paced"):
            if a.file:
                feed = Path(a.file)
            else:
                import nmea_gen

                feed = nmea_gen.cached(a.sentences, a.seed, log=log)
            if a.only != "paced":
                res = _run("throughput", feed, 0.0, a, cpus, tmp, log)
                tp = _throughput(res) if res.get("ok") else res
                tp["file"] = str(feed)
                if tp.get("ok"):
                    tp["target_met"] = tp["sustained"]["messages_s"] >= TARGET_MSGS_S
                result["throughput"] = tp
            if a.paced_rate > 0:
                # the same file paced at the target rate: does the watcher keep up, with what lag?
                import numpy as np

                from seawatch.sources import line_times

                lt = line_times(feed.read_bytes())
                span = float(np.nanmax(lt) - np.nanmin(lt))
                _, fm = _count_messages(feed)
                speed = a.paced_rate * span / fm
                res = _run("paced", feed, speed, a, cpus, tmp, log)
                pc = _throughput(res) if res.get("ok") else res
                if pc.get("ok"):
                    snd = res["sends"]
                    # the stop flush (final=True: ports recomputed, decoders finished) is not input lag
                    t_done = max(x["t1"] for x in res["batches"] if x["lines"] and not x["final"])
                    pc["sent_messages_s"] = fm / float(snd[-1, 1] - snd[0, 1])
                    pc["processed_messages_s"] = pc["messages"] / float(t_done - snd[0, 1])
                    pc["end_lag_s"] = float(t_done - snd[-1, 1])
                    # lag after each batch: its end minus the send of its newest line (data time "now")
                    ff = np.nan_to_num(lt, nan=-1)
                    ff_us = np.maximum.accumulate(np.round(ff * 1e6).astype(np.int64))
                    send_end = snd[:, 0].astype(np.int64)
                    lags = []
                    for x in res["batches"]:
                        if x["lines"] and x["data_now_us"] is not None and not x["final"]:
                            i = min(int(np.searchsorted(ff_us, x["data_now_us"], side="left")), len(ff_us) - 1)
                            k = min(int(np.searchsorted(send_end, i + 1, side="left")), len(send_end) - 1)
                            lags.append(round(x["t1"] - float(snd[k, 1]), 2))
                    pc["lag_s_per_batch"] = lags
                    # kept up: no backlog beyond two batch cycles at the end
                    pc["kept_up"] = pc["end_lag_s"] <= 2 * (a.batch_s + (pc["batch_s_p50"] or 0))
                    # a diagnostic beside it, not the criterion: no backlog beyond two cycles of the
                    # batches the watcher was running at the end (a pass grows with the window)
                    last = [x for x in res["batches"] if x["lines"] and not x["final"]][-3:]
                    pc["last_batch_s"] = max(x["s"] for x in last)
                    pc["no_backlog"] = pc["end_lag_s"] <= 2 * (a.batch_s + pc["last_batch_s"])
                pc.update(file=str(feed), speed=speed, asked_messages_s=a.paced_rate)
                result["paced"] = pc
        if a.only in (None, "latency"):
            from seawatch.simulate import simulate

            out = HERE / "_cache" / (f"sim_{a.scenario}_s{a.seed}" + ("" if a.hours is None else f"_h{a.hours:g}"))
            feed = out / "feed.nmea"
            if not feed.exists():
                log(f"simulating {a.scenario} (seed {a.seed}) into {out} ...")
                simulate(a.scenario, out, seed=a.seed, hours=a.hours)
            import numpy as np

            from seawatch.sources import line_times

            lt = line_times(feed.read_bytes())
            span = float(np.nanmax(lt) - np.nanmin(lt))
            lines, msgs = _count_messages(feed)
            speed = a.rate * span / msgs
            res = _run("latency", feed, speed, a, cpus, tmp, log)
            la = _latency(res, feed) if res.get("ok") else res
            la.update(file=str(feed), scenario=a.scenario, speed=speed, file_lines=lines, file_messages=msgs,
                      data_span_s=span, target_rate=a.rate,
                      messages_s=(msgs / la["send_s"]) if la.get("send_s") else None)
            if la.get("ok"):
                la["target_met"] = la["latency"]["oldest_s"]["p99"] < TARGET_P99_S
                la["target_met_lower_bound"] = la["latency"]["newest_s"]["p99"] < TARGET_P99_S
            result["latency"] = la
        tp, pc = result.get("throughput") or {}, result.get("paced") or {}
        if tp.get("ok"):
            result["throughput_target_met"] = bool(tp["target_met"] and pc.get("kept_up", True) is not False)
        if (result.get("latency") or {}).get("ok"):
            result["latency_target_met"] = bool(result["latency"]["target_met"])
    finally:
        if a.keep:
            result["stores"] = str(tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        _print(result)
    return 0


def _fmt(x, nd=0) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def _print(r: dict) -> None:
    m = r["machine"]
    print(f"seawatch watch, one core (watcher on cpu {r['watcher_cpu']}, replay on cpu {r['replay_cpu']}), "
          f"batch_s {r['batch_s']:g}")
    print(f"{m['cpu']}, {m['cpus_available']} CPUs, Python {m['python']}, polars {m['polars']}, "
          f"seawatch {m['seawatch_git']} (sources {m['seawatch_sources_sha256']})")
    tp = r.get("throughput")
    if tp is not None:
        print()
        if not tp.get("ok"):
            print(f"throughput: FAILED: {tp.get('error')}")
        else:
            s = tp["sustained"]
            print(f"## throughput: {tp['file']} as fast as possible")
            print("| measure | lines/s | messages/s | rows stored/s |")
            print("|---|---|---|---|")
            print(f"| sustained (10%-90% of lines, {tp['steady_window_s']:.1f} s, {tp['steady_batches']} batches) | "
                  f"{_fmt(s['lines_s'])} | **{_fmt(s['messages_s'])}** | {_fmt(s['rows_s'])} |")
            print(f"| overall ({tp['lines']:,} lines in {tp['overall_s']:.1f} s, {tp['batches']} batches) | "
                  f"{_fmt(tp['overall_lines_s'])} | {_fmt(tp['overall_messages_s'])} | - |")
            print(f"batch seconds p50 {_fmt(tp['batch_s_p50'], 2)} max {_fmt(tp['batch_s_max'], 2)}; detection per "
                  f"batch p50 {_fmt(tp['detect_s_p50'], 2)} s max {_fmt(tp['detect_s_max'], 2)} s = "
                  f"{_fmt(100 * (tp['detect_share_of_busy'] or 0))}% of batch time; window at the end "
                  f"{tp['window_rows_end']:,} positions; peak {_fmt(tp['peak_mb'])} MB")
            st = tp["steady_stage_seconds"]
            tot = sum(v for k, v in st.items() if k in ("decode", "dedup", "store_write", "store_commit", "detect_total"))
            print("steady-period seconds by stage: " + ", ".join(
                f"{k} {v:.1f}" for k, v in sorted(st.items(), key=lambda kv: -kv[1])) + f" (sum of top-level {tot:.1f})")
            print(f"as fast as possible: >= {TARGET_MSGS_S:,} messages/s: "
                  + ("yes" if tp["target_met"] else "no") + f" ({_fmt(s['messages_s'])} in the 10%-90% period, "
                  f"{_fmt(tp['overall_messages_s'])} overall)")
    pc = r.get("paced")
    if pc is not None:
        print()
        if not pc.get("ok"):
            print(f"paced: FAILED: {pc.get('error')}")
        else:
            print(f"## the same file paced at {pc['asked_messages_s']:,.0f} messages/s ({pc['speed']:.0f}x real time)")
            print("| sent messages/s | processed messages/s | batches | batch s p50 / max | detection s p50 / max | lag after the last line | kept up |")
            print("|---|---|---|---|---|---|---|")
            print(f"| {_fmt(pc['sent_messages_s'])} | {_fmt(pc['processed_messages_s'])} | {pc['batches']} | "
                  f"{_fmt(pc['batch_s_p50'], 2)} / {_fmt(pc['batch_s_max'], 2)} | {_fmt(pc['detect_s_p50'], 2)} / "
                  f"{_fmt(pc['detect_s_max'], 2)} | {pc['end_lag_s']:.1f} s | {'yes' if pc['kept_up'] else 'NO'} |")
            if pc.get("lag_s_per_batch"):
                print("lag (s) after each batch, batch end - send of its newest line: "
                      + " ".join(f"{v:.1f}" for v in pc["lag_s_per_batch"]))
            print("kept up: the lag after the last line is at most two batch cycles (2 x (batch_s + batch s p50))")
            if "no_backlog" in pc:
                print(f"no backlog at the end (a diagnostic, not the target): the lag after the last line is at most two "
                      f"cycles of the last batches' size (2 x (batch_s + {pc['last_batch_s']:.2f} s)): "
                      f"{'yes' if pc['no_backlog'] else 'NO'}")
    la = r.get("latency")
    if la is not None:
        print()
        if not la.get("ok"):
            print(f"latency: FAILED: {la.get('error')}")
        else:
            L = la["latency"]
            print(f"## alert latency: scenario {la['scenario']} ({la['file_messages']:,} messages) paced at "
                  f"{la['speed']:.0f}x = {_fmt(la['messages_s'])} messages/s achieved (asked {la['target_rate']:,.0f})")
            print("| from the send of | alerts | p50 s | p99 s | max s |")
            print("|---|---|---|---|---|")
            print(f"| the batch's oldest new line (upper bound, headline) | {la['alerts']} | {L['oldest_s']['p50']:.2f} | "
                  f"**{L['oldest_s']['p99']:.2f}** | {L['oldest_s']['max']:.2f} |")
            print(f"| the first line at the alert's data_time (lower bound) | {la['alerts']} | {L['newest_s']['p50']:.2f} | "
                  f"{L['newest_s']['p99']:.2f} | {L['newest_s']['max']:.2f} |")
            print("alerts by type: " + ", ".join(f"{k} {v}" for k, v in sorted(la["by_type"].items())))
            print(f"batch seconds p50 {_fmt(la['batch_s_p50'], 2)} p99 {_fmt(la['batch_s_p99'], 2)}; detection p50 "
                  f"{_fmt(la['detect_s_p50'], 2)} s max {_fmt(la['detect_s_max'], 2)} s; peak {_fmt(la['peak_mb'])} MB")
            print(f"p99 < {TARGET_P99_S:g} s at {TARGET_RATE:,} messages/s: "
                  + ("MET" if la["target_met"] else "NOT MET") + f" (headline {L['oldest_s']['p99']:.2f} s; "
                  f"lower bound {L['newest_s']['p99']:.2f} s: " + ("met" if la["target_met_lower_bound"] else "not met") + ")")
    print()
    print("## targets")
    if tp is not None and tp.get("ok"):
        full = tp["target_met"]
        kept = pc.get("kept_up") if pc is not None and pc.get("ok") else None
        ok = full and kept is not False
        print(f"- >= {TARGET_MSGS_S:,} messages/s sustained, one core: " + ("MET" if ok else "NOT MET")
              + f" (as fast as possible {_fmt(tp['overall_messages_s'])}/s overall"
              + ("" if kept is None else f"; paced at {pc['asked_messages_s']:,.0f}/s it "
                 + ("keeps up" if kept else f"falls behind: {_fmt(pc['processed_messages_s'])}/s processed, "
                    f"{pc['end_lag_s']:.1f} s behind at the end")) + ")")
    if la is not None and la.get("ok"):
        print(f"- p99 alert latency < {TARGET_P99_S:g} s at {TARGET_RATE:,} messages/s: "
              + ("MET" if la["target_met"] else "NOT MET")
              + f" (p99 {la['latency']['oldest_s']['p99']:.2f} s from the batch's first new line; "
              f"{la['latency']['newest_s']['p99']:.2f} s from the newest; batch_s {r['batch_s']:g})")


if __name__ == "__main__":
    sys.exit(main())
