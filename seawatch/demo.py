"""``seawatch demo``: the whole pipeline on a simulated sea with ground truth, offline.

simulate a scenario (default ``all``: every planted behaviour among ~140 honest vessels off
Niigata) -> NMEA feed -> ingest into a store -> tracks -> detect -> risk -> score against the
truth -> (the web map, when ``seawatch serve`` is installed).
"""

from __future__ import annotations

from pathlib import Path


from .store import Store

def run_demo(db: str | Path, *, scenario: str = "all", seed: int = 0, hours: float | None = None,
             preset: str = "coastal") -> dict:
    """Simulate ``scenario``, ingest it into the store at ``db``, detect, score.

    Returns ``{"feed", "truth", "ingest", "stats", "events", "risk", "eval"}``. Rerunning on the
    same store adds nothing (the feed is fingerprinted) and gives the same event ids.
    """
    from .detect import run_detect
    from .eval import evaluate
    from .ingest.files import ingest
    from .simulate import simulate

    db = Path(db)
    out = db / "feed" / (f"{scenario}-s{seed}" + ("" if hours is None else f"-h{hours:g}"))
    feed, truth = out / "feed.nmea", out / "truth.jsonl"
    if not (feed.exists() and truth.exists()):
        simulate(scenario, out, seed=seed, hours=hours)
    summary = ingest([feed], db, progress=False)
    res = run_detect(db, preset=preset)
    return {
        "feed": str(feed),
        "truth": str(truth),
        "ingest": summary,
        "stats": Store(db).stats(),
        "events": res["events"],
        "risk": res["risk"],
        "eval": evaluate(truth, res["events"]),
    }
