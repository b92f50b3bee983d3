"""``seawatch demo``: the whole pipeline on a simulated sea with ground truth, offline.

simulate a scenario (default ``all``: every planted behaviour among ~140 honest vessels off
Niigata) -> NMEA feed (and, for scenarios with sensors, radar and satellite detections) ->
ingest into a store -> tracks -> detect (dark targets included) -> risk -> score against the
truth -> (the web map, when ``seawatch serve`` is installed).
"""

from __future__ import annotations

from pathlib import Path


from .store import Store

def run_demo(db: str | Path, *, scenario: str = "all", seed: int = 0, hours: float | None = None,
             preset: str = "coastal") -> dict:
    """Simulate ``scenario``, ingest it into the store at ``db``, detect, score.

    Returns ``{"feed", "truth", "detections", "ingest", "ingest_detections", "stats", "events",
    "risk", "eval"}`` (``detections``: the radar/satellite file, None for a scenario without
    sensors). Rerunning on the same store adds nothing (the files are fingerprinted) and gives
    the same event ids.
    """
    from .detect import run_detect
    from .detections import ingest_detections
    from .eval import evaluate
    from .ingest.files import ingest
    from .simulate import scenario as scenario_def
    from .simulate import simulate

    db = Path(db)
    out = db / "feed" / (f"{scenario}-s{seed}" + ("" if hours is None else f"-h{hours:g}"))
    feed, truth = out / "feed.nmea", out / "truth.jsonl"
    sc = scenario_def(scenario)
    sensors = bool(sc.radars or sc.passes)
    dets, det_truth = out / "detections.csv", out / "detections_truth.csv"
    if not (feed.exists() and truth.exists()) or (sensors and not (dets.exists() and det_truth.exists())):
        simulate(scenario, out, seed=seed, hours=hours)
    summary = ingest([feed], db, progress=False)
    summary_d = ingest_detections([dets], db) if sensors else None
    res = run_detect(db, preset=preset)
    return {
        "feed": str(feed),
        "truth": str(truth),
        "detections": str(dets) if sensors else None,
        "ingest": summary,
        "ingest_detections": summary_d,
        "stats": Store(db).stats(),
        "events": res["events"],
        "risk": res["risk"],
        "eval": evaluate(truth, res["events"], detections=det_truth if sensors else None),
    }
