"""A small store to look at: for the serve tests, the browser test and the README screenshot.

    from seawatch.serve.sample import build_sample_store
    build_sample_store("/tmp/sw")            # 20 honest vessels, 1 h, plus planted events
    build_sample_store("/tmp/sw", scenario="all")   # a scenario of seawatch.simulate instead

Simulated traffic is ingested, tracks and detectors run; then a few events are planted on real
vessels of the store (honest traffic alone gives the map no alerts): an AIS gap, an encounter
between two vessels, an identity mismatch (no position), an open zone entry; the risk table is
recomputed from all events, and a user area (``custom`` zone) is added to the store's zones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl

from .. import schema
from ..store import Store


def _event_id(event_type: str, mmsi: int, other: int | None, start: Any) -> str:
    return hashlib.sha1(f"{event_type}|{mmsi}|{other}|{start}".encode()).hexdigest()[:16]


def planted_events(store: Store) -> pl.DataFrame:
    """Four events on vessels of ``store`` (schema.EVENTS), chosen deterministically."""
    tr = store.table("tracks")
    if tr.height == 0:
        tr = store.table("positions").drop_nulls(["ts", "lat", "lon"])
    moving = (
        tr.group_by("mmsi").agg(pl.len().alias("n"), pl.col("sog_kn").mean().alias("v"))
        .filter(pl.col("n") >= 10).sort(["v", "mmsi"], descending=[True, False])
    )
    ids = moving["mmsi"].to_list()
    if len(ids) < 4:
        return schema.empty("events")
    a, b, c, d = ids[0], ids[1], ids[2], ids[3]

    def at(mmsi: int, frac: float) -> dict[str, Any]:
        rows = tr.filter(pl.col("mmsi") == mmsi).sort("ts")
        return rows.row(min(rows.height - 1, int(rows.height * frac)), named=True)

    pa, pa2 = at(a, 0.4), at(a, 0.6)
    pb = at(b, 0.5)
    pc = at(c, 0.3)
    pd = at(d, 0.7)
    rows = [
        {"event_type": "ais_gap", "mmsi": a, "other_mmsi": None, "start_time": pa["ts"], "end_time": pa2["ts"],
         "lat": pa["lat"], "lon": pa["lon"], "severity": "high", "score": 0.9, "status": "closed",
         "evidence": {"gap_h": round((pa2["ts"] - pa["ts"]).total_seconds() / 3600, 2), "min_gap_h": 2.0,
                      "reception_positions_start": 120, "planted": True}},
        {"event_type": "encounter", "mmsi": b, "other_mmsi": a, "start_time": pb["ts"], "end_time": None,
         "lat": pb["lat"], "lon": pb["lon"], "severity": "medium", "score": 0.7, "status": "open",
         "evidence": {"min_distance_m": 180.0, "max_distance_m": 500.0, "duration_h": 2.4, "planted": True}},
        {"event_type": "identity_mismatch", "mmsi": c, "other_mmsi": None, "start_time": pc["ts"],
         "end_time": pc["ts"], "lat": None, "lon": None, "severity": "medium", "score": 0.8, "status": "closed",
         "evidence": {"mid_state": "JPN", "callsign_state": "KOR", "planted": True}},
        {"event_type": "zone_entry", "mmsi": d, "other_mmsi": None, "start_time": pd["ts"], "end_time": None,
         "lat": pd["lat"], "lon": pd["lon"], "severity": "info", "score": 0.2, "status": "open",
         "evidence": {"zone": pd.get("zone_name"), "own_flag": True, "planted": True}},
    ]
    for r in rows:
        r["event_id"] = _event_id(r["event_type"], r["mmsi"], r["other_mmsi"], r["start_time"])
        r["evidence"] = json.dumps(r["evidence"])
        r["preset"] = "coastal"
        r["zone_name"] = r["zone_kind"] = r["zone_state"] = None
    return schema.conform("events", pl.DataFrame(rows, schema_overrides={
        "start_time": schema.UTC_TS, "end_time": schema.UTC_TS, "other_mmsi": pl.Int64, "lat": pl.Float64,
        "lon": pl.Float64}))


def user_area(store: Store) -> pl.DataFrame:
    """A ``custom`` zone (a watch box) around the middle of the traffic."""
    import shapely

    pos = store.table("positions").drop_nulls(["lat", "lon"])
    lat, lon = float(pos["lat"].median()), float(pos["lon"].median())
    box = shapely.box(lon - 0.08, lat - 0.05, lon + 0.08, lat + 0.05)
    return schema.conform("zones", pl.DataFrame([{
        "zone_id": "custom-watch-box", "name": "Watch box", "kind": "custom", "state": None, "claimants": None,
        "source": "seawatch.serve.sample", "geometry": shapely.to_wkb(box),
    }]))


def build_sample_store(db: str | Path, *, vessels: int = 20, hours: float = 1.0, seed: int = 0,
                       scenario: str | None = None, plant: bool = True) -> dict[str, Any]:
    """Simulate, ingest, detect, plant; returns ``{"db", "feed", "planted", "events"}``."""
    from ..detect import run_detect
    from ..detect.risk import risk_scores
    from ..ingest import ingest

    db = Path(db)
    feed_dir = db.parent / (db.name + "-feed")
    feed_dir.mkdir(parents=True, exist_ok=True)
    if scenario is not None:
        from ..simulate import simulate

        feed = Path(simulate(scenario, feed_dir, seed=seed)["feed"])
    else:
        from ..simulate import generate_feed

        feed = feed_dir / "feed.nmea"
        generate_feed(feed, vessels=vessels, hours=hours, seed=seed)
    ingest([feed], db)
    run_detect(db)
    store = Store(db)
    planted = planted_events(store) if plant else schema.empty("events")
    if planted.height:
        events = pl.concat([store.table("events"), planted]).unique("event_id", keep="last", maintain_order=True)
        store.write_derived("events", events, {"preset": "coastal", "planted": planted.height})
        store.write_derived("risk", risk_scores(events, store.table("statics")), {"preset": "coastal"})
        store.write_derived("zones", user_area(store), {"source": "seawatch.serve.sample"})
    return {"db": str(db), "feed": str(feed), "planted": planted, "events": store.table("events")}


__all__ = ["build_sample_store", "planted_events", "user_area"]
