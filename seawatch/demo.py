"""``seawatch demo``: the whole pipeline that exists today, on generated data, offline.

simulate a small sea -> NMEA feed -> ingest into a store -> statistics and a vessel summary.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .ingest.files import ingest
from .simulate import generate_feed
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


def run_demo(db: str | Path, *, vessels: int = 40, hours: float = 1.0, seed: int = 0) -> dict:
    """Simulate, ingest and summarise; returns {"feed", "ingest", "stats", "vessels"}."""
    db = Path(db)
    feed = db / "feed" / f"demo-v{vessels}-h{hours:g}-s{seed}.nmea"
    if not feed.exists():
        generate_feed(feed, vessels=vessels, hours=hours, seed=seed)
    summary = ingest([feed], db, progress=False)
    return {
        "feed": str(feed),
        "ingest": summary,
        "stats": Store(db).stats(),
        "vessels": vessel_summary(db),
    }
