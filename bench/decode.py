"""Decode throughput: seawatch vs a plain pyais loop on the same realistic NMEA file, one core.

    python bench/decode.py [--sentences N] [--keep] [--json]

Generates (once, cached under bench/_cache/) a file of N tag-blocked AIS sentences with
bench/nmea_gen.py (default 1,000,000; ~70% types 1-3, 15% type 18, 8% two-part type 5,
4% type 24, 2% type 4, 1% type 21; ~5% of transmissions heard by two stations), then times,
each in its own fresh subprocess pinned to one CPU with POLARS_MAX_THREADS=1, OMP_NUM_THREADS=1
(and friends):

* pyais    -- ``for msg in pyais.stream.FileReaderStream(path): msg.decode()``
* seawatch decode -- ``seawatch.ingest.nmea.decode_nmea(path)``: the columnar decoder alone,
  everything in memory (falls back to feeding ``NmeaDecoder`` 64 MiB chunks if there is no
  ``decode_nmea``)
* seawatch ingest -- ``seawatch.ingest.files.ingest([path], db=<fresh temp dir>,
  progress=False)``: what ``seawatch ingest`` does, end to end (fingerprint, decode, write the
  parquet store)

Only the call is timed (time.perf_counter), not interpreter start-up or imports. Before the timed
call each worker does the same job, untimed, on the file's first 2,000 sentences (``WARM_SENTENCES``;
seawatch ingest into a throwaway store): a process's first call pays one-off costs whatever the
input size (numba's import and JIT initialisation, loading each cached compiled kernel the first
time it is called (the decoder's and the Parquet writer's); about 0.55 s for seawatch, nothing measurable
for pyais). Memory the big run needs is still first touched in the timed call. The import and
warm-up times are printed under the table. Rates are AIS
messages (a two-sentence type 5 is one message; both receptions of a duplicated transmission
count) per second of wall time, the same message count for every tool, so the ratio is the
ratio of times. Peak MB is the worker process's peak resident set (VmHWM on Linux, imports
included; ru_maxrss is in the JSON too, but after fork+exec it also counts the parent). The
file is read from the page cache in every run (the generator or an earlier run just read it).

``--keep`` keeps the temporary seawatch store (and prints where it is); ``--json`` prints one
JSON object instead of the table. ``--pyais-sentences K`` times pyais on the first K sentences
only (rate is what matters; the output says so). ``--repeat R`` runs each timing R times (fresh
process each time) and keeps the fastest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import (  # noqa: E402
    SINGLE_THREAD_ENV, code_version, cpu_model, cpus_available, peak_mb, pin, rusage_maxrss_mb,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


TOOLS = ("pyais", "seawatch-decode", "seawatch-ingest")


# ---------------------------------------------------------------------------------------------
# workers: each runs in its own process, pinned, and prints one JSON line
# ---------------------------------------------------------------------------------------------


#: sentences at the head of the file that each worker processes, untimed, before the timed call
WARM_SENTENCES = 2_000


def _startup(out: dict, job, warm: str) -> None:
    """Run ``job`` on the warm-up file (the bench file's first sentences), untimed, and record how
    long it took: the one-off cost of a process's first call (for seawatch: numba's start-up and
    loading each cached compiled kernel, the decoder's and the Parquet writer's; the first run on a machine
    also compiles the kernels). Like imports, it is not in the rate."""
    t0 = time.perf_counter()
    job(warm)
    out["startup_seconds"] = time.perf_counter() - t0


def _worker_pyais(path: str, args: dict) -> dict:
    t_imp = time.perf_counter()
    import pyais
    from pyais.stream import FileReaderStream

    import_s = time.perf_counter() - t_imp

    def job(p: str) -> int:
        k = 0
        for msg in FileReaderStream(p):
            msg.decode()
            k += 1
        return k

    pre = {"import_seconds": import_s}
    _startup(pre, job, args["warm"])
    n = 0
    t0 = time.perf_counter()
    for msg in FileReaderStream(path):
        msg.decode()
        n += 1
    dt = time.perf_counter() - t0
    return {"messages": n, "seconds": dt, "version": pyais.__version__, **pre}


def _worker_seawatch_decode(path: str, args: dict) -> dict:
    sys.path.insert(0, str(REPO))
    t_imp = time.perf_counter()
    import seawatch.ingest.nmea as nmea

    pre = {"import_seconds": time.perf_counter() - t_imp}
    _startup(pre, nmea.decode_nmea, args["warm"])
    t0 = time.perf_counter()
    if hasattr(nmea, "decode_nmea"):
        how = "decode_nmea(path)"
        res = nmea.decode_nmea(path)
        results = [res]
    else:
        how = "NmeaDecoder.feed(64 MiB chunks) + finish()"
        dec = nmea.NmeaDecoder(path)
        results = []
        with open(path, "rb") as f:
            while data := f.read(64 << 20):
                results.append(dec.feed(data))
        results.append(dec.finish())
    dt = time.perf_counter() - t0
    out = {"seconds": dt, "how": how, "lines_read": 0, "lines_decoded": 0, "rejects": 0,
           "positions": 0, "statics": 0, "other": 0, "duplicates": 0, **pre}
    for r in results:
        out["lines_read"] += int(r.lines_read)
        out["lines_decoded"] += int(r.lines_decoded)
        out["rejects"] += int(r.rejects.height)
        out["positions"] += r.positions.height
        out["statics"] += r.statics.height
        out["other"] += r.other.height
        out["duplicates"] += int(r.duplicates)
    if out["rejects"]:
        rej = results[0].rejects if results[0].rejects.height else None
        if rej is not None:
            out["reject_reasons"] = {
                str(k): int(v) for k, v in rej["reason"].value_counts().iter_rows()}
    return out


def _worker_seawatch_ingest(path: str, args: dict) -> dict:
    sys.path.insert(0, str(REPO))
    t_imp = time.perf_counter()
    from seawatch.ingest.files import ingest

    pre = {"import_seconds": time.perf_counter() - t_imp}
    tmp = tempfile.mkdtemp(prefix="seawatch-bench-")
    db = os.path.join(tmp, "store")
    try:
        _startup(pre, lambda p: ingest([p], db=os.path.join(tmp, "warm"), progress=False), args["warm"])
        t0 = time.perf_counter()
        summary = ingest([path], db=db, progress=False)
        dt = time.perf_counter() - t0
        row = summary.row(0, named=True)
        out = {"seconds": dt, "how": "ingest([path], db=<temp>, progress=False)", **pre}
        for k in ("status", "lines_read", "lines_decoded", "lines_rejected", "positions",
                  "statics", "other", "duplicates"):
            out[k] = row[k]
        out["rejects"] = row["lines_rejected"]
        out["store_mb"] = sum(f.stat().st_size for f in Path(db).rglob("*") if f.is_file()) / 1e6
        if args.get("keep"):
            out["store"] = db
        return out
    finally:
        if not args.get("keep"):
            shutil.rmtree(tmp, ignore_errors=True)


WORKERS = {"pyais": _worker_pyais, "seawatch-decode": _worker_seawatch_decode,
           "seawatch-ingest": _worker_seawatch_ingest}


def _worker_main(tool: str, path: str, args_json: str) -> None:
    args = json.loads(args_json)
    pinned = pin(args["cpu"]) if args.get("cpu") is not None else "not pinned (all cores)"
    try:
        out = WORKERS[tool](path, args)
        out["ok"] = True
    except Exception as e:  # noqa: BLE001 - reported to the parent
        import traceback

        out = {"ok": False, "error": f"{type(e).__name__}: {e}",
               "traceback": traceback.format_exc(limit=6)}
    out["pinned"] = pinned
    out["peak_mb"] = peak_mb()
    out["peak_mb_ru_maxrss"] = rusage_maxrss_mb()
    out["threads_env"] = {k: os.environ.get(k) for k in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS")}
    print("@@RESULT " + json.dumps(out), flush=True)


def _run_worker(tool: str, path: Path, cpu: int | None, keep: bool, warm: Path) -> dict:
    env = dict(os.environ, **SINGLE_THREAD_ENV) if cpu is not None else dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", tool, str(path),
           json.dumps({"cpu": cpu, "keep": keep, "warm": str(warm)})]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(REPO))
    for line in p.stdout.splitlines():
        if line.startswith("@@RESULT "):
            return json.loads(line[len("@@RESULT "):])
    return {"ok": False, "error": f"worker exited {p.returncode}: {p.stderr.strip()[-2000:]}"}


# ---------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------

def _prefix_file(path: Path, k: int) -> Path:
    """The first ~k sentences of ``path`` (never cutting a multi-sentence message)."""
    out = path.with_name(path.stem + f".head{k}.nmea")
    if out.exists():
        return out
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    with open(path, encoding="ascii") as f, open(tmp, "w", encoding="ascii") as g:
        for i, line in enumerate(f):
            if i >= k and ",2,2," not in line:
                break
            g.write(line)
    os.replace(tmp, out)
    return out


def _missing(tool: str) -> str | None:
    """Why ``tool`` cannot run yet (the seawatch modules are being written), or None."""
    need = {"seawatch-decode": ["nmea.py"], "seawatch-ingest": ["nmea.py", "files.py"]}
    for f in need.get(tool, []):
        if not (REPO / "seawatch" / "ingest" / f).exists():
            return f"seawatch/ingest/{f} does not exist yet"
    return None


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 24), b""))


def _machine() -> dict:
    cpu = cpu_model()
    vers = {}
    for mod in ("numpy", "polars", "pyarrow", "duckdb", "pyais"):
        try:
            vers[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            vers[mod] = None
    return {"cpu": cpu, "cpus_available": cpus_available(), "python": platform.python_version(),
            "platform": platform.platform(), **code_version(), **vers}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_worker"]:
        _worker_main(argv[1], argv[2], argv[3])
        return 0
    ap = argparse.ArgumentParser(description="seawatch vs pyais decode throughput, one core")
    ap.add_argument("--sentences", "-n", type=int, default=1_000_000,
                    help="sentences in the generated file (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--file", help="use this NMEA file instead of a generated one")
    ap.add_argument("--keep", action="store_true", help="keep the temporary seawatch store")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--pyais-sentences", type=int, default=0,
                    help="time pyais on the first K sentences only (default: the whole file)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool, fastest kept")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first allowed)")
    ap.add_argument("--all-cores", action="store_true",
                    help="for comparison: no pinning, no thread limits (not the headline figure)")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma-separated subset of {','.join(TOOLS)}")
    a = ap.parse_args(argv)
    log = (lambda s: print(s, file=sys.stderr, flush=True))

    sys.path.insert(0, str(HERE))
    import nmea_gen

    if a.file:
        path = Path(a.file)
        meta = None
        n_sent = _count_lines(path)
    else:
        path = nmea_gen.cached(a.sentences, a.seed, log=log)
        meta = nmea_gen.meta_of(path)
        n_sent = meta["n_sentences"]
    file_messages = meta["messages"] if meta else None
    cpu = a.cpu if a.cpu is not None else (min(os.sched_getaffinity(0))
                                           if hasattr(os, "sched_getaffinity") else 0)
    if a.all_cores:
        cpu = None
    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}")
    warm = _prefix_file(path, WARM_SENTENCES)
    machine = _machine()  # before timing: the sources hash is of what is measured
    results: dict[str, dict] = {}
    for tool in tools:
        missing = _missing(tool)
        if missing:
            results[tool] = {"ok": False, "error": missing}
            continue
        tpath, t_sent = path, n_sent
        if tool == "pyais" and a.pyais_sentences and a.pyais_sentences < n_sent:
            tpath = _prefix_file(path, a.pyais_sentences)
            t_sent = _count_lines(tpath)
        best = None
        for r in range(max(1, a.repeat)):
            log(f"timing {tool} on {t_sent:,} sentences (run {r + 1}/{a.repeat}) ...")
            res = _run_worker(tool, tpath, cpu, a.keep, warm)
            if not res.get("ok"):
                best = res
                log(f"  {tool} failed: {res.get('error')}")
                if res.get("traceback"):
                    log(res["traceback"])
                break
            log(f"  {res['seconds']:.2f} s, peak {res['peak_mb']:.0f} MB")
            if best is None or res["seconds"] < best["seconds"]:
                best = res
        assert best is not None
        best["sentences"] = t_sent
        best["partial"] = tpath != path
        results[tool] = best

    # messages: what pyais yields on the whole file (== the generator's count); for a prefix,
    # pyais' own count. seawatch's table rows are checked against what the generator put in:
    # positions = types 1-3, 18, 4, 21; statics = types 5, 24, 21 (a type 21 is in both);
    # receptions of the same transmission by a second station merged
    expected = None
    if meta:
        tx = {k: v["transmissions"] for k, v in meta["plan"].items()}
        expected = {"positions": tx["123"] + tx["18"] + tx["4"] + tx["21"],
                    "statics": tx["5"] + tx["24"] + tx["21"], "other": 0,
                    "duplicates": meta["duplicates"]}
    for tool, res in results.items():
        if not res.get("ok"):
            continue
        if tool == "pyais":
            msgs = res["messages"]
            if not res["partial"] and file_messages is None:
                file_messages = msgs
        else:
            rows = res["positions"] + res["statics"] + res["other"]
            res["rows"] = rows
            msgs = file_messages if file_messages is not None else rows + res["duplicates"]
            res["messages"] = msgs
            warn = []
            if expected:
                for k, v in expected.items():
                    if res[k] != v:
                        warn.append(f"{k} {res[k]:,}, expected {v:,}")
            if res.get("rejects"):
                warn.append(f"{res['rejects']:,} lines rejected")
            if warn:
                res["warning"] = "; ".join(warn)
        res["messages_per_s"] = msgs / res["seconds"]
        res["sentences_per_s"] = res["sentences"] / res["seconds"]

    ratios = {}
    base = results.get("pyais")
    if base and base.get("ok"):
        for tool in ("seawatch-decode", "seawatch-ingest"):
            r = results.get(tool)
            if r and r.get("ok"):
                ratios[tool] = r["messages_per_s"] / base["messages_per_s"]

    report = {
        "benchmark": "bench/decode.py",
        "file": str(path),
        "sentences": n_sent,
        "messages_in_file": file_messages,
        "generator": {k: meta[k] for k in ("seed", "span_s", "vessels", "stations", "duplicates")}
        if meta else None,
        "single_core": {"cpu": cpu, "env": SINGLE_THREAD_ENV} if cpu is not None else None,
        "machine": machine,
        "sources_changed_during_run":
            _machine()["seawatch_sources_sha256"] != machine["seawatch_sources_sha256"],
        "results": results,
        "ratio_vs_pyais": ratios,
        "target_ratio": 20.0,
    }
    if a.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        print(_table(report))
    return 0 if all(r.get("ok") for r in results.values()) else 1


def _table(rep: dict) -> str:
    m = rep["machine"]
    lines = [
        f"decode benchmark: {rep['file']}",
        f"  {rep['sentences']:,} sentences, {rep['messages_in_file'] or 0:,} messages "
        f"(types 1-3 70%, 18 15%, 5 8% two-part, 24 4%, 4 2%, 21 1%; ~5% heard twice)",
        (f"  single core: every tool in a fresh process pinned to CPU {rep['single_core']['cpu']}, "
         "POLARS_MAX_THREADS=1 OMP_NUM_THREADS=1" if rep["single_core"] else
         "  ALL CORES: no pinning, no thread limits (for comparison; the target is single core)"),
        f"  machine: {m['cpu']} ({m['cpus_available']} CPUs available); python {m['python']}, "
        f"numpy {m['numpy']}, polars {m['polars']}, pyarrow {m['pyarrow']}, duckdb {m['duckdb']}, "
        f"pyais {m['pyais']}; seawatch {m['seawatch_git']} (sources {m['seawatch_sources_sha256']})",
        "",
        f"  {'tool':<17}{'sentences':>11}{'messages':>11}{'seconds':>9}{'messages/s':>12}"
        f"{'peak MB':>9}{'vs pyais':>10}",
    ]
    for tool, r in rep["results"].items():
        if not r.get("ok"):
            lines.append(f"  {tool:<17}  FAILED: {r.get('error')}")
            continue
        ratio = rep["ratio_vs_pyais"].get(tool)
        lines.append(
            f"  {tool:<17}{r['sentences']:>11,}{r['messages']:>11,}{r['seconds']:>9.2f}"
            f"{r['messages_per_s']:>12,.0f}{r['peak_mb']:>9.0f}"
            f"{(f'{ratio:.1f}x' if ratio else '1.0x' if tool == 'pyais' else '-'):>10}")
    notes = []
    for tool, r in rep["results"].items():
        if not r.get("ok"):
            continue
        if r.get("partial"):
            notes.append(f"{tool}: timed on the first {r['sentences']:,} sentences of the file only")
        if "rows" in r:
            notes.append(f"{tool}: {r['how']}; rows {r['rows']:,} (positions {r['positions']:,}, "
                         f"statics {r['statics']:,}, other {r['other']:,}), duplicates merged "
                         f"{r['duplicates']:,}, rejects {r['rejects']:,}"
                         + (f", store {r['store_mb']:.0f} MB" if "store_mb" in r else "")
                         + (f", kept at {r['store']}" if r.get("store") else ""))
        if "import_seconds" in r:
            notes.append(f"{tool}: one-off per process, not timed: import {r['import_seconds']:.2f} s"
                         + (f", the same job on the first {WARM_SENTENCES:,} sentences (start-up) "
                            f"{r['startup_seconds']:.2f} s" if "startup_seconds" in r else ""))
        if r.get("warning"):
            notes.append(f"{tool}: WARNING {r['warning']}")
    if notes:
        lines.append("")
        lines += ["  " + s for s in notes]
    if rep.get("sources_changed_during_run"):
        lines += ["", "  WARNING: seawatch/ sources changed while the benchmark ran; rerun for a clean figure"]
    if rep["ratio_vs_pyais"]:
        lines.append("")
        for tool, ratio in rep["ratio_vs_pyais"].items():
            verdict = "meets" if ratio >= rep["target_ratio"] else "BELOW"
            lines.append(f"  {tool} / pyais = {ratio:.1f}x  ({verdict} the {rep['target_ratio']:.0f}x target)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
