"""``seawatch demo``: the whole pipeline on a simulated sea with ground truth, offline.

simulate a scenario (default ``all``: every planted behaviour among ~140 honest vessels off
Niigata) -> NMEA feed -> ingest into a store -> tracks -> detect -> risk -> score against the
truth -> (the web map, when ``seawatch serve`` is installed).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .store import Store

VESSEL_SUMMARY_SQL = """
WITH last_static AS (
    SELECT mmsi, arg_max(shipname, ts) AS shipname, arg_max(ship_type, ts) AS ship_type
    FROM statics WHERE shipname IS NOT NULL OR ship_type IS NOT NULL GROUP BY mmsi
)
SELECT p.mmsi, s.shipname, s.ship_type, count(*) AS positions,
       strftime(min(p.ts), '%Y-%m-%dT%H:%M:%SZ') AS first_seen,
       strftime(max(p.ts), '%Y-%m-%dT%H:%M:%SZ') AS last_seen,
       round(max(p.sog_kn)::DOUBLE, 1) AS max_sog_kn, sum(p.n_rx) - count(*) AS receiver_duplicates
FROM positions p LEFT JOIN last_static s USING (mmsi)
GROUP BY p.mmsi, s.shipname, s.ship_type
ORDER BY positions DESC, p.mmsi
"""


def vessel_summary(db: str | Path) -> pl.DataFrame:
    """One row per vessel in the store: identity, position count, time span, top speed."""
    return Store(db).query(VESSEL_SUMMARY_SQL)


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
