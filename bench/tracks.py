"""Track building: seawatch vs MovingPandas on the same 1M realistic AIS positions, one core.

    python bench/tracks.py [--n N] [--tools seawatch,movingpandas] [--budget-s S] [--json]

Generates (once, cached under bench/_cache/) N positions with bench/positions_gen.py (default
1,000,000: one day of ~2000 vessels around Japan, with coverage gaps, shared MMSIs, GPS
glitches and n/a positions), then times, each in its own fresh subprocess pinned to one CPU
with POLARS_MAX_THREADS=1, OMP_NUM_THREADS=1 (and friends), from the polars frame in memory to
the finished result:

* seawatch      -- ``seawatch.tracks.build_tracks(positions)``: segmentation (gaps, noise,
  shared MMSIs), derived columns (dt, distance, implied speed, turn, night) and zone lookup;
  ``.points`` (TRACKS table) and ``.segments`` (SEGMENTS table)
* movingpandas  -- what a MovingPandas user writes for the nearest equivalent: drop rows
  without a position, ``GeoDataFrame`` with Point geometries (EPSG:4326) from the polars frame,
  ``TrajectoryCollection(gdf, "mmsi", t="ts")``, ``ObservationGapSplitter(tc).split(gap=8 h)``,
  ``add_speed(overwrite=True, units=("nm", "h"))``. Each stage is timed too.

MovingPandas does much less (no noise or shared-MMSI handling, no turn, night, zones or
ports), so the ratio flatters it. If MovingPandas would take longer than ``--budget-s``
(default 900 s; a short probe on a small subsample predicts it), it is timed on a subsample of
``--subsample`` points (default 100,000) made of whole vessels, and its full-size time is
extrapolated linearly (its work is per point and per trajectory); the output says so. A full
run that overruns the budget anyway is stopped and replaced by the subsample.

Only the calls are timed (time.perf_counter), not interpreter start-up, imports or reading the
Parquet file. Peak MB is the worker's peak resident set (VmHWM on Linux, imports and the input
frame included); base MB is its resident set just before the timed call; ru_maxrss is in the
JSON too (after fork+exec it also counts the parent, see bench/README.md). ``--repeat R``
keeps the fastest of R fresh processes per tool.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import (  # noqa: E402
    SINGLE_THREAD_ENV, code_version, cpu_model, cpus_available, peak_mb, pin, rusage_maxrss_mb, status_mb,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


TOOLS = ("seawatch", "movingpandas")
TARGET_RATIO = 50.0
MAX_GAP_H = 8.0  # the seawatch segmenter's maximum gap; MovingPandas splits at the same gap


# ---------------------------------------------------------------------------------------------
# workers: each runs in its own process, pinned, and prints one JSON line
# ---------------------------------------------------------------------------------------------


def subsample_vessels(df, n_points: int, seed: int = 0):
    """Whole vessels (MMSIs) in a seeded random order until at least ``n_points`` rows."""
    import numpy as np
    import polars as pl

    counts = df.group_by("mmsi").len().sort("mmsi")
    order = np.random.default_rng(seed).permutation(counts.height)
    c = counts["len"].to_numpy()[order]
    k = int(np.searchsorted(np.cumsum(c), n_points)) + 1
    keep = counts["mmsi"].to_numpy()[order[:k]]
    return df.filter(pl.col("mmsi").is_in(pl.Series(keep)))


def _worker_seawatch(positions, args: dict) -> dict:
    sys.path.insert(0, str(REPO))
    import seawatch.tracks as tracks

    params = getattr(tracks, "SegmentParams", None)
    gap_h = getattr(params(), "max_gap_h", None) if params else None
    kw = {} if args.get("places", True) else {"places": False}
    out: dict = {"how": "seawatch.tracks.build_tracks(positions"
                 + (", places=False)" if kw else ")")}
    out["rss_before_mb"] = status_mb("VmRSS")
    t0 = time.perf_counter()
    res = tracks.build_tracks(positions, **kw)
    out["seconds"] = time.perf_counter() - t0
    if isinstance(getattr(res, "stats", None), dict):
        out["stats"] = {k: (int(v) if isinstance(v, (int, float)) else str(v))
                        for k, v in res.stats.items()}
    pts = getattr(res, "points", None)
    seg = getattr(res, "segments", None)
    if pts is not None:
        out["points_out"] = pts.height
        if "is_noise" in pts.columns:
            out["noise_points"] = int(pts["is_noise"].sum())
        if "seg_id" in pts.columns:
            out["segments_in_points"] = int(pts["seg_id"].drop_nulls().n_unique())
        try:
            sys.path.insert(0, str(REPO))
            from seawatch.schema import polars_schema

            if pts.schema != polars_schema("tracks"):
                out["schema_warning"] = "points do not match the TRACKS schema"
        except Exception:  # noqa: BLE001
            pass
    if seg is not None:
        out["segments"] = seg.height
    if gap_h is not None:
        out["max_gap_s"] = float(gap_h) * 3600
    return out


def _worker_movingpandas(positions, args: dict) -> dict:
    import inspect
    import warnings
    from datetime import timedelta

    warnings.filterwarnings("ignore")  # tz-aware times are made naive with a UserWarning
    import geopandas as gpd
    import movingpandas as mpd
    import polars as pl

    gap = timedelta(hours=args.get("max_gap_h", MAX_GAP_H))
    has_units = "units" in inspect.signature(mpd.TrajectoryCollection.add_speed).parameters
    out: dict = {"version": mpd.__version__}
    out["rss_before_mb"] = status_mb("VmRSS")
    t0 = time.perf_counter()
    p = positions.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
                         & pl.col("ts").is_not_null())
    pdf = p.to_pandas()
    gdf = gpd.GeoDataFrame(pdf, geometry=gpd.points_from_xy(pdf["lon"], pdf["lat"]),
                           crs="EPSG:4326")
    t1 = time.perf_counter()
    tc = mpd.TrajectoryCollection(gdf, "mmsi", t="ts")
    t2 = time.perf_counter()
    split = mpd.ObservationGapSplitter(tc).split(gap=gap)
    t3 = time.perf_counter()
    if has_units:
        split.add_speed(overwrite=True, units=("nm", "h"))
        how_speed = 'add_speed(overwrite=True, units=("nm", "h"))'
    else:  # older MovingPandas: metres per second, converted to knots
        split.add_speed(overwrite=True)
        for tr in split.trajectories:
            tr.df["speed"] = tr.df["speed"] * (3600 / 1852)
        how_speed = "add_speed(overwrite=True) * 3600/1852"
    t4 = time.perf_counter()
    out["seconds"] = t4 - t0
    out["stages"] = {"geodataframe": t1 - t0, "trajectory_collection": t2 - t1,
                     "gap_split": t3 - t2, "add_speed": t4 - t3}
    out["how"] = (f"GeoDataFrame(points_from_xy) -> TrajectoryCollection(gdf, 'mmsi', t='ts') -> "
                  f"ObservationGapSplitter.split(gap={gap}) -> {how_speed}")
    out["trajectories_before_split"] = len(tc.trajectories)
    out["trajectories"] = len(split.trajectories)
    out["points_out"] = int(sum(len(tr.df) for tr in split.trajectories))
    sp = [tr.df["speed"] for tr in split.trajectories[:200]]
    if sp:
        import pandas as pd

        s = pd.concat(sp)
        out["speed_median_kn_first200"] = float(s.median())
    return out


WORKERS = {"seawatch": _worker_seawatch, "movingpandas": _worker_movingpandas}


def _worker_main(tool: str, path: str, args_json: str) -> None:
    args = json.loads(args_json)
    pinned = pin(args["cpu"]) if args.get("cpu") is not None else "not pinned (all cores)"
    try:
        import polars as pl

        positions = pl.read_parquet(path)
        n_file = positions.height
        if args.get("subsample") and args["subsample"] < n_file:
            positions = subsample_vessels(positions, args["subsample"], args.get("seed", 0))
        positions = positions.rechunk()
        out = WORKERS[tool](positions, args)
        out["points"] = positions.height
        out["vessels"] = positions["mmsi"].n_unique()
        out["partial"] = positions.height < n_file
        out["ok"] = True
    except Exception as e:  # noqa: BLE001 - reported to the parent
        import traceback

        out = {"ok": False, "error": f"{type(e).__name__}: {e}",
               "traceback": traceback.format_exc(limit=8)}
    out["pinned"] = pinned
    out["peak_mb"] = peak_mb()
    out["peak_mb_ru_maxrss"] = rusage_maxrss_mb()
    out["threads_env"] = {k: os.environ.get(k) for k in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS")}
    print("@@RESULT " + json.dumps(out), flush=True)


def _run_worker(tool: str, path: Path, cpu: int | None, extra: dict,
                timeout: float | None = None) -> dict:
    env = dict(os.environ, **SINGLE_THREAD_ENV) if cpu is not None else dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", tool, str(path),
           json.dumps({"cpu": cpu, **extra})]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(REPO),
                           timeout=timeout)
    except subprocess.TimeoutExpired:  # subprocess.run killed the worker
        return {"ok": False, "timeout": True, "error": f"stopped after {timeout:.0f} s"}
    for line in p.stdout.splitlines():
        if line.startswith("@@RESULT "):
            return json.loads(line[len("@@RESULT "):])
    return {"ok": False, "error": f"worker exited {p.returncode}: {p.stderr.strip()[-2000:]}"}


# ---------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------

def _missing(tool: str) -> str | None:
    """Why ``tool`` cannot run here, or None."""
    if tool == "seawatch":
        if not ((REPO / "seawatch" / "tracks.py").exists()
                or (REPO / "seawatch" / "tracks" / "__init__.py").exists()):
            return "seawatch/tracks.py does not exist yet"
    if tool == "movingpandas":
        for mod in ("movingpandas", "geopandas"):
            if importlib.util.find_spec(mod) is None:
                return f"{mod} is not installed (pip install movingpandas)"
    return None


def _machine() -> dict:
    cpu = cpu_model()
    vers = {}
    for mod in ("numpy", "polars", "pyarrow", "pandas", "geopandas", "shapely", "pyproj",
                "movingpandas", "geopy"):
        try:
            if importlib.util.find_spec(mod) is None:
                vers[mod] = None
                continue
            from importlib.metadata import version

            vers[mod] = version(mod)
        except Exception:  # noqa: BLE001
            vers[mod] = None
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"cpu": cpu, "cpus_available": cpus_available(), "loadavg": load,
            "python": platform.python_version(), "platform": platform.platform(), **code_version(), **vers}


def _best_of(tool: str, path: Path, cpu, extra: dict, repeat: int, log,
             timeout: float | None = None) -> dict:
    best = None
    for r in range(max(1, repeat)):
        what = f"{extra['subsample']:,}-point subsample" if extra.get("subsample") else "all points"
        log(f"timing {tool} on {what} (run {r + 1}/{repeat}) ...")
        res = _run_worker(tool, path, cpu, extra, timeout)
        if not res.get("ok"):
            log(f"  {tool} failed: {res.get('error')}")
            if res.get("traceback"):
                log(res["traceback"])
            return res
        log(f"  {res['seconds']:.2f} s on {res['points']:,} points, peak {res['peak_mb']:.0f} MB")
        if best is None or res["seconds"] < best["seconds"]:
            best = res
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_worker"]:
        _worker_main(argv[1], argv[2], argv[3])
        return 0
    ap = argparse.ArgumentParser(description="seawatch vs MovingPandas track building, one core")
    ap.add_argument("--n", "-n", type=int, default=1_000_000,
                    help="positions in the generated input (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--file", help="a Parquet file in the positions schema instead of a generated one")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma-separated subset of {','.join(TOOLS)}")
    ap.add_argument("--budget-s", type=float, default=900.0,
                    help="longest MovingPandas run allowed on the full input, seconds (default 900); "
                         "beyond it MovingPandas is timed on --subsample points and extrapolated")
    ap.add_argument("--subsample", type=int, default=100_000,
                    help="points (whole vessels) for MovingPandas when over budget (default 100,000)")
    ap.add_argument("--mpd-points", type=int, default=0,
                    help="always time MovingPandas on this many points (whole vessels) and extrapolate")
    ap.add_argument("--no-places", action="store_true",
                    help="seawatch without night/shore/zone/port columns (build_tracks(places=False)); "
                         "for diagnosis, not the headline figure")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool, fastest kept")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first allowed)")
    ap.add_argument("--all-cores", action="store_true",
                    help="for comparison: no pinning, no thread limits (not the headline figure)")
    a = ap.parse_args(argv)
    log = (lambda s: print(s, file=sys.stderr, flush=True))

    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}: use {','.join(TOOLS)}")

    sys.path.insert(0, str(HERE))
    import positions_gen

    if a.file:
        path = Path(a.file)
        meta = None
        import polars as pl

        n_points = pl.scan_parquet(path).select(pl.len()).collect().item()
    else:
        path = positions_gen.cached(a.n, a.seed, log=log)
        meta = positions_gen.meta_of(path)
        n_points = meta["n"]
    cpu = a.cpu if a.cpu is not None else (min(os.sched_getaffinity(0))
                                           if hasattr(os, "sched_getaffinity") else 0)
    if a.all_cores:
        cpu = None
    machine = _machine()
    base_extra = {"seed": a.seed, "max_gap_h": MAX_GAP_H, "places": not a.no_places}
    results: dict[str, dict] = {}
    for tool in tools:
        missing = _missing(tool)
        if missing:
            results[tool] = {"ok": False, "error": missing}
            log(f"{tool}: skipped, {missing}")
            continue
        if tool != "movingpandas":
            results[tool] = _best_of(tool, path, cpu, dict(base_extra), a.repeat, log)
            continue
        # MovingPandas: full size if it fits the budget, else a subsample, extrapolated
        sub = a.mpd_points if a.mpd_points and a.mpd_points < n_points else 0
        probe = None
        if not sub:
            k = min(n_points, max(10_000, n_points // 50))
            if n_points > a.subsample:  # (at or below --subsample points it runs in full anyway)
                log(f"probing movingpandas on a {k:,}-point subsample to predict its time ...")
                probe = _run_worker(tool, path, cpu, {**base_extra, "subsample": k})
                if probe.get("ok"):
                    predicted = probe["seconds"] * n_points / probe["points"]
                    probe["predicted_full_s"] = predicted
                    log(f"  {probe['seconds']:.2f} s on {probe['points']:,} points: "
                        f"~{predicted:.0f} s predicted for {n_points:,} (budget {a.budget_s:.0f} s)")
                    if predicted > a.budget_s:
                        sub = min(a.subsample, n_points)
                else:
                    log(f"  probe failed: {probe.get('error')}")
                    if probe.get("traceback"):
                        log(probe["traceback"])
                    results[tool] = probe
                    continue
        if sub and sub < n_points:
            res = _best_of(tool, path, cpu, {**base_extra, "subsample": sub}, a.repeat, log)
        else:
            # imports and reading take a few seconds more than the timed call
            res = _best_of(tool, path, cpu, dict(base_extra), a.repeat, log,
                           timeout=a.budget_s * 1.2 + 60)
            if res.get("timeout"):
                log(f"  movingpandas overran the {a.budget_s:.0f} s budget: timing a "
                    f"{a.subsample:,}-point subsample instead")
                res = _best_of(tool, path, cpu, {**base_extra, "subsample": a.subsample},
                               a.repeat, log)
                res["overran_budget"] = True
        if probe is not None:
            res["probe"] = {k: probe.get(k) for k in ("points", "vessels", "seconds",
                                                      "predicted_full_s", "peak_mb")}
        results[tool] = res

    # rates: every tool is credited with the points it was given; a subsample is extrapolated
    # linearly to the full input
    for tool, r in results.items():
        if not r.get("ok"):
            continue
        r["points_per_s"] = r["points"] / r["seconds"]
        if r.get("partial"):
            scale = n_points / r["points"]
            r["extrapolated"] = True
            r["scale"] = scale
            r["seconds_full_est"] = r["seconds"] * scale
        r["seconds_full"] = r.get("seconds_full_est", r["seconds"])
    ratio = None
    sw, mp = results.get("seawatch"), results.get("movingpandas")
    if sw and sw.get("ok") and mp and mp.get("ok"):
        ratio = mp["seconds_full"] / sw["seconds_full"]

    report = {
        "benchmark": "bench/tracks.py",
        "file": str(path),
        "points": n_points,
        "generator": meta,
        "max_gap_h": MAX_GAP_H,
        "seawatch_places": not a.no_places,
        "single_core": {"cpu": cpu, "env": SINGLE_THREAD_ENV} if cpu is not None else None,
        "budget_s": a.budget_s,
        "machine": machine,
        "sources_changed_during_run": "seawatch" in results
            and _machine()["seawatch_sources_sha256"] != machine["seawatch_sources_sha256"],
        "results": results,
        "ratio_seawatch_vs_movingpandas": ratio,
        "ratio_extrapolated": bool(mp and mp.get("extrapolated")),
        "target_ratio": TARGET_RATIO,
    }
    if a.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        print(_table(report))
    return 0 if all(r.get("ok") for r in results.values()) else 1


def _table(rep: dict) -> str:
    m = rep["machine"]
    g = rep.get("generator")
    lines = [f"tracks benchmark: {rep['file']}"]
    if g:
        lines.append(
            f"  {rep['points']:,} positions, {g['mmsis']:,} MMSIs ({g['vessels']:,} transmitters), "
            f"{g['span_h']:.0f} h around Japan; {g['gaps']} coverage gaps ({g['gaps_over_8h']} > 8 h), "
            f"{g['shared_mmsi_pairs']} shared MMSIs, {g['glitches']} GPS glitches, "
            f"{g['null_positions']} n/a positions")
    else:
        lines.append(f"  {rep['points']:,} positions")
    lines += [
        (f"  single core: every tool in a fresh process pinned to CPU {rep['single_core']['cpu']}, "
         "POLARS_MAX_THREADS=1 OMP_NUM_THREADS=1" if rep["single_core"] else
         "  ALL CORES: no pinning, no thread limits (for comparison; the headline is single core)"),
        (f"  machine: {m['cpu']} ({m['cpus_available']} CPUs available, load "
        f"{'/'.join(f'{x:.1f}' for x in m['loadavg']) if m.get('loadavg') else '?'}); "
        f"python {m['python']}, numpy {m['numpy']}, polars {m['polars']}, pyarrow {m['pyarrow']}, "
        f"pandas {m['pandas']}, geopandas {m['geopandas']}, shapely {m['shapely']}, "
        f"movingpandas {m['movingpandas']}, geopy {m['geopy']}; "
        f"seawatch {m['seawatch_git']} (sources {m['seawatch_sources_sha256']})"),
        "",
        (f"  {'tool':<14}{'points':>11}{'seconds':>10}{'points/s':>11}{'base MB':>9}{'peak MB':>9}"
        f"{'vs MovingPandas':>17}"),
    ]
    ratio = rep["ratio_seawatch_vs_movingpandas"]
    for tool, r in rep["results"].items():
        if not r.get("ok"):
            lines.append(f"  {tool:<14}  FAILED: {r.get('error')}")
            continue
        rel = (f"{ratio:.1f}x" if tool == "seawatch" and ratio else
               "1.0x" if tool == "movingpandas" else "-")
        base = f"{r['rss_before_mb']:.0f}" if r.get("rss_before_mb") is not None else "-"
        lines.append(f"  {tool:<14}{r['points']:>11,}{r['seconds']:>10.2f}{r['points_per_s']:>11,.0f}"
                     f"{base:>9}{r['peak_mb']:>9.0f}{rel:>17}")
        if r.get("extrapolated"):
            lines.append(f"  {'  (est. full)':<14}{rep['points']:>11,}{r['seconds_full_est']:>10.1f}"
                         f"{r['points_per_s']:>11,.0f}{'':>9}{'?':>9}{'':>17}")
    notes = []
    for tool, r in rep["results"].items():
        if not r.get("ok"):
            continue
        if r.get("extrapolated"):
            notes.append(
                f"{tool}: EXTRAPOLATED: timed on {r['points']:,} points ({r['vessels']:,} whole "
                f"vessels) and scaled linearly x{r['scale']:.1f} to {rep['points']:,}; "
                + ("the full run overran the budget" if r.get("overran_budget") else
                   f"a full run was predicted to exceed the {rep['budget_s']:.0f} s budget"
                   if r.get("probe") else "subsample requested")
                + "; its peak MB is that of the subsample (memory does not scale linearly: "
                  "measured 1.1 GB for 1M points vs 0.37 GB for 100k on MovingPandas 0.23)")
        if r.get("probe") and not r.get("extrapolated"):
            p = r["probe"]
            notes.append(f"{tool}: probe {p['seconds']:.1f} s on {p['points']:,} points predicted "
                         f"{p['predicted_full_s']:.0f} s; measured on all points")
        if tool == "movingpandas":
            st = r["stages"]
            notes.append(
                f"movingpandas stages: GeoDataFrame {st['geodataframe']:.1f} s, TrajectoryCollection "
                f"{st['trajectory_collection']:.1f} s, ObservationGapSplitter {st['gap_split']:.1f} s, "
                f"add_speed {st['add_speed']:.1f} s; {r['trajectories_before_split']:,} trajectories "
                f"-> {r['trajectories']:,} after the split, {r['points_out']:,} points out")
        if tool == "seawatch":
            bits = [r["how"]]
            if not r.get("stats"):
                if "points_out" in r:
                    bits.append(f"{r['points_out']:,} track points")
                if "segments" in r:
                    bits.append(f"{r['segments']:,} segments")
                if "noise_points" in r:
                    bits.append(f"{r['noise_points']:,} noise points")
            if r.get("stats"):
                st = r["stats"]
                bits.append(", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                      for k, v in st.items()))
            if "max_gap_s" in r:
                bits.append(f"max gap {r['max_gap_s'] / 3600:g} h")
            notes.append("seawatch: " + "; ".join(bits))
            if r.get("max_gap_s") and abs(r["max_gap_s"] / 3600 - rep["max_gap_h"]) > 1e-9:
                notes.append(f"seawatch: WARNING its max gap differs from the {rep['max_gap_h']:g} h "
                             "given to MovingPandas")
            if r.get("schema_warning"):
                notes.append(f"seawatch: WARNING {r['schema_warning']}")
    if notes:
        lines.append("")
        lines += ["  " + s for s in notes]
    if rep.get("sources_changed_during_run"):
        lines += ["", "  WARNING: seawatch/ sources changed while the benchmark ran; rerun for a clean figure"]
    if not rep.get("seawatch_places", True):
        notes_np = "  NOTE: seawatch ran with places=False (no night, shore, zone or port columns)"
        lines += ["", notes_np]
    if ratio:
        verdict = "meets" if ratio >= rep["target_ratio"] else "BELOW"
        extra = " (MovingPandas extrapolated from a subsample)" if rep["ratio_extrapolated"] else ""
        lines += ["", (f"  seawatch / movingpandas = {ratio:.1f}x{extra}  "
                      f"({verdict} the {rep['target_ratio']:.0f}x target)")]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
