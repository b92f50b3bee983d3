"""All detectors over millions of generated positions: rows/s and peak memory.

    python bench/detect.py                 # 10 million positions (generated once, cached)
    python bench/detect.py --n 1000000 --json

Two stages, each in its own fresh process, as ``seawatch tracks`` and ``seawatch detect`` run:
1. positions (Parquet, realistic mix of bench/positions_gen.py) -> ``build_tracks``
   (segmentation, kinematics, night, shore distance, zones, ports) -> Parquet;
2. the stored tracks, segments and statics -> every detector (coastal preset) -> risk scores.
Printed: seconds per stage and per detector, rows/s, events by type and each process's peak RSS.
Target (issue 4): all detectors in under 60 s and under 4 GB on the 2-core reference machine.
No peer runs the same rule set, so this benchmark reports absolute figures only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import rusage_maxrss_mb  # noqa: E402


def statics_for(positions):
    """One type 5 report per class A MMSI with a ship type by its speed profile (so the
    speed_anomaly limits apply), as a provider archive would hold."""
    import polars as pl

    from seawatch import schema

    per = positions.group_by("mmsi").agg(
        pl.col("ts").min(), pl.col("sog_kn").quantile(0.9).alias("v90"), pl.col("nav_status").mode().first().alias("st")
    )
    st = per.select(
        "mmsi", "ts",
        msg_type=pl.lit(5, pl.Int8),
        ship_type=pl.when(pl.col("st") == 7).then(30)
        .when(pl.col("v90") > 20).then(60)
        .when(pl.col("v90") > 14).then(70)
        .when(pl.col("v90") > 8).then(80)
        .otherwise(52).cast(pl.Int16),
        shipname=pl.concat_str(pl.lit("VESSEL "), pl.col("mmsi").cast(pl.Utf8)),
    )
    return schema.conform("statics", st)


def _tracks_stage(n: int, seed: int) -> dict:
    """Stage 1 (own process): positions -> tracks and segments, written to bench/_cache."""
    import polars as pl

    import positions_gen
    from seawatch.tracks import build_tracks

    path = positions_gen.cached(n, seed, log=lambda m: print(m, file=sys.stderr))
    out = HERE / "_cache" / f"tracks_n{n}_s{seed}"
    pos = pl.read_parquet(path)
    statics_for(pos).write_parquet(f"{out}.statics.parquet")
    t = time.perf_counter()
    tr = build_tracks(pos, places=True)
    s = time.perf_counter() - t
    tr.points.write_parquet(f"{out}.points.parquet")
    tr.segments.write_parquet(f"{out}.segments.parquet")
    return {"tracks_s": s, "track_points": tr.points.height, "segments": tr.segments.height,
            "peak_rss_mb": rusage_maxrss_mb(), "prefix": str(out)}


def _detect_stage(prefix: str) -> dict:
    """Stage 2 (fresh process): the stored tables -> every detector -> risk, as run_detect."""
    import polars as pl

    from seawatch.detect import DETECTORS, Inputs, module, params_for, risk_scores

    t0 = time.perf_counter()
    from seawatch.detect.base import DETECT_COLUMNS

    scan = pl.scan_parquet(f"{prefix}.points.parquet").select(list(DETECT_COLUMNS))
    points = scan.filter(pl.col("seg_id").is_not_null()).collect()  # as run_detect reads the store
    noise = scan.filter(pl.col("seg_id").is_null()).collect()
    segments = pl.read_parquet(f"{prefix}.segments.parquet")
    statics = pl.read_parquet(f"{prefix}.statics.parquet")
    read_s = time.perf_counter() - t0
    params = params_for("coastal")
    inputs = Inputs(tracks=points, segments=segments, statics=statics, preset="coastal", noise=noise)
    del points  # as seawatch.detect.detect does
    per: dict = {}
    frames = []
    t = time.perf_counter()
    for name in DETECTORS:
        t1 = time.perf_counter()
        ev = module(name).detect(inputs, params[name])
        per[name] = {"s": time.perf_counter() - t1, "events": ev.height}
        frames.append(ev)
    events = pl.concat([f for f in frames if f.height])
    risk = risk_scores(events, statics)
    return {
        "read_s": read_s, "detect_s": time.perf_counter() - t, "detectors": per,
        "events_by_type": dict(events.group_by("event_type").len().sort("event_type").iter_rows()),
        "vessels_with_risk": risk.height, "peak_rss_mb": rusage_maxrss_mb(),
    }


def _in_fresh_process(stage: str, *args) -> dict:
    import subprocess

    code = (f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import detect; "
            f"print(json.dumps(detect._{stage}_stage(*{list(args)!r})))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE.parent)
    if r.returncode != 0:
        raise SystemExit(f"{stage} stage failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(n: int, seed: int) -> dict:
    tr = _in_fresh_process("tracks", n, seed)
    det = _in_fresh_process("detect", tr["prefix"])
    rep = {"n": n, "seed": seed, "tracks": tr, "detect": det}
    rep["rows_per_s_detect"] = tr["track_points"] / det["detect_s"]
    rep["target"] = {"detect_s": 60, "peak_rss_mb": 4096}
    rep["met"] = det["detect_s"] < 60 and det["peak_rss_mb"] < 4096
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000, help="positions (default 10,000,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    a = ap.parse_args(argv)
    rep = run(a.n, a.seed)
    if a.json:
        print(json.dumps(rep, indent=2))
        return 0
    tr, det = rep["tracks"], rep["detect"]
    print(f"positions            {rep['n']:>14,}")
    print(f"track points         {tr['track_points']:>14,}   segments {tr['segments']:,}")
    print(f"stage 1: tracks      {tr['tracks_s']:>12.2f} s   {rep['n'] / tr['tracks_s']:,.0f} rows/s, "
          f"peak RSS {tr['peak_rss_mb']:,.0f} MB")
    print(f"stage 2: read tables {det['read_s']:>12.2f} s")
    for name, d in det["detectors"].items():
        print(f"  {name:<23}{d['s']:>8.2f} s   {d['events']:,} events")
    print(f"detect (all)         {det['detect_s']:>12.2f} s   {rep['rows_per_s_detect']:,.0f} rows/s, "
          f"peak RSS {det['peak_rss_mb']:,.0f} MB")
    print(f"target (detectors): < 60 s and < 4096 MB: {'met' if rep['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
