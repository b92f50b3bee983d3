"""All detectors over millions of generated positions: rows/s and peak memory.

    python bench/detect.py                 # 10 million positions (generated once, cached)
    python bench/detect.py --n 1000000 --json

Pipeline timed, in one fresh process: positions (Parquet, realistic mix of bench/positions_gen.py)
-> ``seawatch.tracks.build_tracks`` (segmentation, kinematics, night, shore distance, zones,
ports) -> ``seawatch.detect.detect`` (every detector, coastal preset) -> ``risk_scores``.
Printed: seconds per stage and per detector, rows/s, events by type and the process's peak RSS.
Target (issue 4): all detectors in under 60 s and under 4 GB on the 2-core reference machine.
No peer runs the same rule set, so this benchmark reports absolute figures only.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


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


def run(n: int, seed: int) -> dict:
    import polars as pl

    import positions_gen
    from seawatch.detect import DETECTORS, Inputs, module, params_for, risk_scores
    from seawatch.tracks import build_tracks

    path = positions_gen.cached(n, seed, log=lambda m: print(m, file=sys.stderr))
    rep: dict = {"n": n, "seed": seed, "stages": {}, "detectors": {}}
    t0 = time.perf_counter()
    pos = pl.read_parquet(path)
    rep["stages"]["read_s"] = time.perf_counter() - t0
    statics = statics_for(pos)
    t = time.perf_counter()
    tr = build_tracks(pos, places=True)
    rep["stages"]["tracks_s"] = time.perf_counter() - t
    del pos
    rep["rss_after_tracks_mb"] = _peak_mb()
    params = params_for("coastal")
    inputs = Inputs(tracks=tr.points, segments=tr.segments, statics=statics, preset="coastal")
    frames = []
    t = time.perf_counter()
    for name in DETECTORS:
        t1 = time.perf_counter()
        ev = module(name).detect(inputs, params[name])
        rep["detectors"][name] = {"s": time.perf_counter() - t1, "events": ev.height}
        frames.append(ev)
    events = pl.concat([f for f in frames if f.height]) if any(f.height for f in frames) else frames[0]
    risk = risk_scores(events, statics)
    rep["stages"]["detect_s"] = time.perf_counter() - t
    rep["stages"]["total_s"] = time.perf_counter() - t0
    rep["events_by_type"] = dict(events.group_by("event_type").len().sort("event_type").iter_rows())
    rep["vessels_with_risk"] = risk.height
    rep["track_points"] = tr.points.height
    rep["segments"] = tr.segments.height
    rep["rows_per_s_total"] = n / rep["stages"]["total_s"]
    rep["rows_per_s_detect"] = n / rep["stages"]["detect_s"]
    rep["peak_rss_mb"] = _peak_mb()
    rep["target"] = {"detect_s": 60, "peak_rss_mb": 4096}
    rep["met"] = rep["stages"]["tracks_s"] + rep["stages"]["detect_s"] < 60 and rep["peak_rss_mb"] < 4096
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
    s = rep["stages"]
    print(f"positions            {rep['n']:>14,}")
    print(f"track points         {rep['track_points']:>14,}   segments {rep['segments']:,}")
    print(f"read                 {s['read_s']:>12.2f} s")
    print(f"tracks (+places)     {s['tracks_s']:>12.2f} s   {rep['n'] / s['tracks_s']:,.0f} rows/s")
    for name, d in rep["detectors"].items():
        print(f"  {name:<19}{d['s']:>12.2f} s   {d['events']:,} events")
    print(f"detect (all)         {s['detect_s']:>12.2f} s   {rep['rows_per_s_detect']:,.0f} rows/s")
    print(f"total                {s['total_s']:>12.2f} s   {rep['rows_per_s_total']:,.0f} rows/s")
    print(f"peak RSS             {rep['peak_rss_mb']:>12,.0f} MB")
    print(f"target: tracks + detect < 60 s and < 4096 MB: {'met' if rep['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
