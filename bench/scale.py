"""The Dask engine at scale: tracks + every detector over tens of millions of positions on a
LocalCluster of 1 and 2 workers, beside the single-process engine.

    python bench/scale.py                       # 10 M and 50 M positions, 1 and 2 workers
    python bench/scale.py --sizes 10 --workers 1 2 --json

Data: ``bench/positions_gen.py`` (realistic traffic around Japan, 10 M positions a day from
20,000 vessels), one generated day per 10 M (seeds 0, 1, ...; day i shifted by i days), written
as a Parquet dataset of 1 M-row files under ``bench/_cache/scale_n<N>/`` and ingested once into
a store beside it (``seawatch.scale.ingest_dask``, 2 workers: one task per file; its time is
printed when the store is made).

Each run is a fresh process over that store. Single process: ``materialise_tracks`` +
``run_detect`` (the local engine: ``seawatch tracks`` + ``seawatch detect``, polars on every
core). Dask: ``tracks_dask`` + ``detect_dask`` on a LocalCluster of 1 or 2 single-threaded
worker processes (polars limited to one thread each), 3.5 GiB memory limit per worker. Printed:
seconds (cluster start apart), positions/s, each worker's peak resident memory (psutil, sampled
every 0.25 s) or the process's, the events found, and whether every run found the same event
ids as the others of its size.

Targets (issue 9): 2 workers >= 1.6x the speed of 1 worker; peak memory per worker < 3 GB at
both sizes. The machine is shared: the load average is printed before and after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import code_version, cpu_model, peak_mb  # noqa: E402

PER_DAY = 10_000_000
MEMORY_LIMIT = "3.5GiB"


def dataset(n: int, log=print) -> Path:
    """The Parquet dataset of ``n`` positions (1 M-row files), generated once."""
    import polars as pl

    import positions_gen

    out = HERE / "_cache" / f"scale_n{n}"
    done = out / "_done"
    if done.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    days = max(1, n // PER_DAY)
    per = n // days
    for d in range(days):
        pos = pl.read_parquet(positions_gen.cached(per, seed=d, log=log))
        pos = pos.with_columns(pl.col("ts") + pl.duration(days=d))
        for i in range(0, pos.height, 1_000_000):
            pos.slice(i, 1_000_000).write_parquet(out / f"day{d:02d}-part{i // 1_000_000:03d}.parquet")
        del pos
    done.write_text(json.dumps({"n": n, "days": days}))
    return out


def _ingest(ds: str, db: str) -> dict:
    from seawatch.scale import ingest_dask

    t = time.perf_counter()
    summary = ingest_dask(sorted(str(f) for f in Path(ds).glob("*.parquet")), db, workers=2)
    return {"ingest_s": time.perf_counter() - t, "files": summary.height, "positions": int(summary["positions"].sum())}


def store_of(n: int, log=print) -> tuple[Path, dict]:
    """The store holding the dataset of ``n`` positions (ingested once, in parallel)."""
    out = HERE / "_cache" / f"scale_store_n{n}"
    done = out / "_bench.json"
    if done.exists():
        return out, json.loads(done.read_text())
    ds = dataset(n, log=log)
    shutil.rmtree(out, ignore_errors=True)
    info = _fresh("ingest", str(ds), str(out))
    if "error" in info:
        raise SystemExit(f"ingest failed: {info['error']}")
    done.write_text(json.dumps(info))
    return out, info


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _ids_sha(events) -> str:
    import hashlib

    return hashlib.sha1("".join(sorted(events["event_id"].to_list())).encode()).hexdigest()[:12]


def _single(db: str) -> dict:
    """The local engine in this process: seawatch tracks + seawatch detect."""
    from seawatch.detect import run_detect
    from seawatch.tracks import materialise_tracks

    t = time.perf_counter()
    tr = materialise_tracks(db)
    tracks_s = time.perf_counter() - t
    points = tr.stats["points"]
    del tr
    t = time.perf_counter()
    ev = run_detect(db)["events"]
    detect_s = time.perf_counter() - t
    return {"tracks_s": tracks_s, "detect_s": detect_s, "total_s": tracks_s + detect_s, "points": points,
            "events": ev.height, "events_sha1": _ids_sha(ev), "peak_mb": peak_mb()}


def _dask(db: str, workers: int, partition_rows: int) -> dict:
    from seawatch.scale import PeakMemory, ScaleParams, dask_client, detect_dask, tracks_dask

    t = time.perf_counter()
    with dask_client(workers=workers, threads_per_worker=1, memory_limit=MEMORY_LIMIT) as client:
        start_s = time.perf_counter() - t
        sp = ScaleParams(partition_rows=partition_rows)
        with PeakMemory(client) as mem:
            t = time.perf_counter()
            st = tracks_dask(db, client=client, scale=sp)
            tracks_s = time.perf_counter() - t
            t = time.perf_counter()
            res = detect_dask(db, client=client, scale=sp)
            detect_s = time.perf_counter() - t
        ev = res["events"]
    return {"workers": workers, "cluster_start_s": start_s, "tracks_s": tracks_s, "detect_s": detect_s,
            "total_s": tracks_s + detect_s, "points": st["points"], "positions": st["positions"],
            "events": ev.height, "events_sha1": _ids_sha(ev),
            "worker_peak_mb": sorted(mem.peak_mb.values(), reverse=True), "client_peak_mb": peak_mb()}


def _fresh(stage: str, *args) -> dict:
    code = (f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import scale as s; "
            f"print('RESULT ' + json.dumps(s._{stage}(*{list(args)!r})))")
    load0 = _load()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE.parent)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}",
                "load_before": load0, "load_after": _load()}
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return {**json.loads(line[7:]), "load_before": load0, "load_after": _load()}


def run(sizes: list[int], workers: list[int], single_max: int, partition_rows: int) -> dict:
    rep: dict = {"machine": {"cpu": cpu_model(), "cores": os.cpu_count(), **code_version()},
                 "memory_limit_per_worker": MEMORY_LIMIT, "partition_rows": partition_rows, "runs": [],
                 "ingest": {}}
    for n in sizes:
        db, info = store_of(n)
        rep["ingest"][n] = info
        if n <= single_max:
            rep["runs"].append({"n": n, "engine": "single process", **_fresh("single", str(db))})
        else:
            rep["runs"].append({"n": n, "engine": "single process",
                                "skipped": f"not run above {single_max:,} positions: it holds the whole "
                                           "dataset in memory (see its peak at the smaller size)"})
        for w in workers:
            rep["runs"].append({"n": n, "engine": f"dask {w} worker{'s' if w > 1 else ''}",
                                **_fresh("dask", str(db), w, partition_rows)})
        print(json.dumps(rep["runs"][-len(workers) - 1:]), file=sys.stderr, flush=True)
    return rep


def report(rep: dict) -> str:
    lines = [f"machine: {rep['machine']['cpu']}, {rep['machine']['cores']} cores; seawatch "
             f"{rep['machine']['seawatch_git']} ({rep['machine']['seawatch_sources_sha256']}); "
             f"partitions of {rep['partition_rows']:,} positions, {rep['memory_limit_per_worker']} per worker",
             f"{'positions':>11}  {'engine':<18}{'seconds':>9}{'tracks':>8}{'detect':>8}{'rows/s':>10}"
             f"{'peak MB/worker':>16}{'events':>8}  load avg (1 min) before/after"]
    by = {}
    for r in rep["runs"]:
        n = r["n"]
        if "skipped" in r or "error" in r:
            lines.append(f"{n:>11,}  {r['engine']:<18}  {r.get('skipped') or 'failed: ' + r['error']}")
            continue
        by[(n, r["engine"])] = r
        peak = ", ".join(f"{x:,.0f}" for x in r["worker_peak_mb"]) if "worker_peak_mb" in r else f"{r['peak_mb']:,.0f} (process)"
        lines.append(f"{n:>11,}  {r['engine']:<18}{r['total_s']:>9.1f}{r['tracks_s']:>8.1f}{r['detect_s']:>8.1f}"
                     f"{n / r['total_s']:>10,.0f}{peak:>16}{r['events']:>8,}  {r['load_before'][0]} / {r['load_after'][0]}")
    for n in sorted({r["n"] for r in rep["runs"]}):
        done = [r for (m, _), r in by.items() if m == n]
        shas = {r["events_sha1"] for r in done}
        same = ("" if len(done) < 2 else "every run found the same event ids" if len(shas) == 1
                else "runs found DIFFERENT events")
        ing = rep["ingest"].get(n, {})
        if "ingest_s" in ing:
            lines.append(f"{n:>11,}: ingest of {ing['files']} Parquet files, 2 workers: {ing['ingest_s']:.1f} s "
                         f"({ing['positions'] / ing['ingest_s']:,.0f} positions/s); {same}")
        one, two = by.get((n, "dask 1 worker")), by.get((n, "dask 2 workers"))
        if one and two:
            ratio = one["total_s"] / two["total_s"]
            lines.append(f"{n:>11,}: 2 workers / 1 worker speed {ratio:.2f}x (target >= 1.6x: "
                         f"{'met' if ratio >= 1.6 else 'NOT met'}); cluster start "
                         f"{one['cluster_start_s']:.1f} / {two['cluster_start_s']:.1f} s")
    peaks = [max(r["worker_peak_mb"]) for r in by.values() if "worker_peak_mb" in r]
    if peaks:
        lines.append(f"peak memory per worker: at most {max(peaks):,.0f} MB (target < 3,000 MB: "
                     f"{'met' if max(peaks) < 3000 else 'NOT met'})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[10, 50], help="millions of positions (default 10 50)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--single-max", type=float, default=10, help="run the single process up to this many millions")
    ap.add_argument("--partition-rows", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    rep = run([int(s * 1e6) for s in a.sizes], a.workers, int(a.single_max * 1e6), a.partition_rows)
    print(json.dumps(rep, indent=1) if a.json else report(rep))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
