"""Live watch: the time of one detection pass against the size of the window, full vs incremental.

    python bench/window.py [--positions N ...] [--json]

A watcher (:class:`seawatch.live.Watcher`) holds the last ``--window-h`` of positions in memory
and, after each micro-batch, detects over them. A *full* pass rebuilds every vessel's track and
runs every detector over the whole window; an *incremental* pass (what the watch does after its
first pass, see ``Watcher._vessels``) rebuilds only the vessels with new rows, carries the others'
tracks and per-vessel events over, and runs the cross-vessel detectors (encounter, ais_gap,
dark) over the whole window. This measures both on one core (fresh process pinned with
``os.sched_setaffinity``, ``POLARS_MAX_THREADS=1``), in the situation of a watch on a real-time
feed:

* the window: a day of bench/positions_gen.py positions (N reports of 2,000 x N / 1e6 vessels
  around Japan, so N / 86,400 messages a second: 1 M = 12/s, 3 M = 35/s, a regional shore
  network), with their place columns, less the last 10 minutes;
* then the next minute arrives in batches of 1 s, and the 5 minutes after it in batches of 10 s, of data time (what a watch on
  a live feed gets per micro-batch, every ``--batch-s`` of wall time), each followed by a pass.

Printed per window: positions, vessels, full pass s, incremental pass s (median over the
batches, and the largest), vessels rebuilt per pass (median), and the peak resident MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import SINGLE_THREAD_ENV, peak_mb, pin  # noqa: E402

REPO = HERE.parent


def _worker(n: int, cpu: int | None) -> dict:
    sys.path.insert(0, str(REPO))
    pinned = pin(cpu)
    from datetime import timedelta

    import numpy as np
    import polars as pl

    import positions_gen
    from seawatch.live import WINDOW_COLUMNS, Watcher, WatchConfig
    from seawatch.tracks import add_places, ports_with_anchorages
    from seawatch.zones import Zones

    pos = positions_gen.load(n, 0)
    pos = pos.filter(pl.col("ts").is_not_null()).select(WINDOW_COLUMNS).sort("ts")
    end = pos["ts"].max()
    cut = end - timedelta(minutes=10)
    w = Watcher(WatchConfig(sources=[], db=Path(tempfile.mkdtemp(prefix="seawatch-bench-window-")) / "db"))
    w.warm_up()
    zones = Zones.default()
    old = pos.filter(pl.col("ts") < cut)
    w.ports = ports_with_anchorages(old)
    w.ports_at_us = int(cut.timestamp() * 1e6)
    w.ports_at_wall = time.monotonic()  # no port refresh during the run (it forces a full pass)
    w.zones = zones
    placed = add_places(pos, w.ports, zones)
    w.win["positions"] = [placed.filter(pl.col("ts") < cut)]
    w.data_now_us = int(old["ts"].max().timestamp() * 1e6)
    t0 = time.perf_counter()
    w._detect()  # the first pass is full
    full_s = time.perf_counter() - t0
    vessels = w.last_pass_vessels
    out = {"positions": old.height, "vessels": vessels, "full_s": full_s, "pinned": pinned}
    t0 = time.perf_counter()
    w._full = True
    w._detect()
    out["full_again_s"] = time.perf_counter() - t0
    for step_s in (1, 10):
        times, rebuilt, rows = [], [], []
        t = cut
        stop = cut + timedelta(seconds=60 if step_s == 1 else 300)
        while t < stop:
            new = placed.filter((pl.col("ts") >= t) & (pl.col("ts") < t + timedelta(seconds=step_s)))
            t += timedelta(seconds=step_s)
            if new.height == 0:
                continue
            w.win["positions"].append(new)
            w._changed.append(new["mmsi"])
            w.data_now_us = int(new["ts"].max().timestamp() * 1e6)
            t0 = time.perf_counter()
            w._detect()
            times.append(time.perf_counter() - t0)
            rebuilt.append(w.last_pass_vessels)
            rows.append(new.height)
        out[f"incremental_{step_s}s"] = {
            "passes": len(times), "p50_s": float(np.median(times)), "max_s": float(np.max(times)),
            "rows_per_batch_p50": float(np.median(rows)), "vessels_rebuilt_p50": float(np.median(rebuilt)),
        }
    out["passes"] = dict(w.passes)
    out["peak_mb"] = peak_mb()
    w.close()
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_worker"]:
        a = json.loads(argv[1])
        print(json.dumps(_worker(a["n"], a["cpu"])))
        return 0
    ap = argparse.ArgumentParser(description="watch detection pass time vs window size, full vs incremental, one core")
    ap.add_argument("--positions", type=int, nargs="+", default=[1_000_000, 3_000_000],
                    help="window sizes: positions of a generated day (default 1000000 3000000)")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first allowed)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    cpu = a.cpu if a.cpu is not None else sorted(os.sched_getaffinity(0))[0]
    import positions_gen

    rows = []
    for n in a.positions:
        positions_gen.cached(n, 0, log=lambda s: print(s, file=sys.stderr, flush=True))
        env = dict(os.environ, **SINGLE_THREAD_ENV)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_worker", json.dumps({"n": n, "cpu": cpu})],
                           env=env, cwd=str(REPO), capture_output=True, text=True)
        if p.returncode:
            print(p.stderr[-3000:], file=sys.stderr)
            return 1
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r["day_positions"] = n
        rows.append(r)
    load = os.getloadavg()[0]
    if a.json:
        print(json.dumps({"benchmark": "window", "load_1min_after": load, "runs": rows}, indent=1))
        return 0
    print(f"watch detection pass vs window, one core (cpu {cpu}); load average after: {load:.2f}")
    print("| window positions | vessels | full pass s | incremental, 1 s batches: p50 / max s (vessels rebuilt) "
          "| 10 s batches: p50 / max s (vessels rebuilt) | peak MB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        i1, i10 = r["incremental_1s"], r["incremental_10s"]
        print(f"| {r['positions']:,} | {r['vessels']:,} | {min(r['full_s'], r['full_again_s']):.2f} | "
              f"{i1['p50_s']:.2f} / {i1['max_s']:.2f} ({i1['vessels_rebuilt_p50']:.0f}) | "
              f"{i10['p50_s']:.2f} / {i10['max_s']:.2f} ({i10['vessels_rebuilt_p50']:.0f}) | {r['peak_mb']:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
