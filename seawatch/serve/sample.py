"""A small store to look at: for the serve tests, the browser test and the README screenshot.

    from seawatch.serve.sample import build_sample_store
    build_sample_store("/tmp/sw")            # 20 honest vessels, 1 h, plus planted events
    build_sample_store("/tmp/sw", scenario="all")   # a scenario of seawatch.simulate instead

Simulated traffic is ingested, tracks and detectors run; then a few events are planted on real
vessels of the store (honest traffic alone gives the map no alerts): an AIS gap, an encounter
between two vessels, an identity mismatch (no position), an open zone entry; the risk table is
recomputed from all events, and a user area (``custom`` zone) is added to the store's zones.
A scenario's simulated radar and satellite detections are ingested too. With
``detections=True``, radar plots are ingested before detection (:func:`radar_plots`): some
on real vessels (matched to AIS), a silent boat seen on four sweeps (dark targets and a dark
track) and a lone dark plot.
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


def radar_plots(store: Store, n_matched: int = 4) -> pl.DataFrame:
    """Radar plots (DETECTIONS columns) for the traffic in ``store``, deterministic: four sweeps
    10 min apart ending 5 min before the last position; on the last sweep a plot 150 m from each
    of ``n_matched`` moving vessels; on every sweep a silent boat at 8 kn on 045 where no vessel
    comes within 8 km, at sea at least 1 nm from the shore (``boat0``..``boat3``); and one lone
    plot 6 nm from the boat's first (``lone``)."""
    import datetime as dt

    import numpy as np

    from ..tracks import destination, haversine_nm
    from ..zones import lookup

    pos = store.table("positions").drop_nulls(["ts", "lat", "lon"])
    if pos.height == 0:
        return pl.DataFrame()
    t_last = pos["ts"].max() - dt.timedelta(minutes=5)
    sweeps = [t_last - dt.timedelta(minutes=10 * k) for k in (3, 2, 1, 0)]
    rows: list[dict[str, Any]] = []
    at_last = (
        pos.filter((pl.col("ts") - t_last).abs() <= dt.timedelta(seconds=30), pl.col("sog_kn") >= 3)
        .sort("mmsi", "ts").unique("mmsi", keep="first", maintain_order=True).head(n_matched)
    )
    for r in at_last.iter_rows(named=True):
        la, lo = destination(r["lat"], r["lon"], 90, 150 / 1852)
        rows.append({"detection_id": f"ais-{r['mmsi']}", "ts": r["ts"], "lat": float(la), "lon": float(lo),
                     "confidence": 0.9})  # no length: a radar plot's would not match every vessel's
    # the silent boat: the first spot around the traffic's middle that no vessel comes near
    near = pos.filter(pl.col("ts").is_between(sweeps[0] - dt.timedelta(minutes=20), t_last + dt.timedelta(minutes=20)))
    lat0, lon0 = float(pos["lat"].median()), float(pos["lon"].median())
    plat, plon = near["lat"].to_numpy(), near["lon"].to_numpy()
    for ring in range(1, 12):
        for bearing in range(0, 360, 30):
            la, lo = destination(lat0, lon0, bearing, 3.0 * ring)
            track = [destination(float(la), float(lo), 45, 8 * k * 10 / 60) for k in range(4)]
            lone = destination(float(la), float(lo), 315, 6.0)
            spots = [*track, lone]
            if not all(np.min(haversine_nm(plat, plon, float(a), float(b))) > 8 / 1.852 for a, b in spots):
                continue
            place = lookup(np.array([float(a) for a, _ in spots]), np.array([float(b) for _, b in spots]))
            if not place["on_land"].any() and (place["dist_to_shore_nm"] >= 1).all():
                break
        else:
            continue
        break
    for k, (t, (a, b)) in enumerate(zip(sweeps, track)):
        rows.append({"detection_id": f"boat{k}", "ts": t, "lat": float(a), "lon": float(b), "heading_deg": 45.0,
                     "length_m": 18.0, "confidence": 0.8})
    rows.append({"detection_id": "lone", "ts": sweeps[1], "lat": float(lone[0]), "lon": float(lone[1]),
                 "length_m": 25.0, "confidence": 0.7})
    return pl.DataFrame(rows, schema_overrides={"ts": schema.UTC_TS}).with_columns(
        source=pl.lit("sample-radar"), sensor=pl.lit("radar"))


def build_sample_store(db: str | Path, *, vessels: int = 20, hours: float = 1.0, seed: int = 0,
                       scenario: str | None = None, plant: bool = True, detections: bool = False) -> dict[str, Any]:
    """Simulate, ingest, detect, plant; returns ``{"db", "feed", "planted", "events"}`` (and
    ``"detections"``, the plots ingested, with ``detections=True``)."""
    from ..detect import run_detect
    from ..detect.risk import risk_scores
    from ..detections import ingest_detections
    from ..ingest import ingest

    db = Path(db)
    feed_dir = db.parent / (db.name + "-feed")
    feed_dir.mkdir(parents=True, exist_ok=True)
    if scenario is not None:
        from ..simulate import simulate

        feed = Path(simulate(scenario, feed_dir, seed=seed)["feed"])
        sim_dets = feed_dir / "detections.csv"  # a scenario with radars or satellite passes
    else:
        from ..simulate import generate_feed

        feed = feed_dir / "feed.nmea"
        generate_feed(feed, vessels=vessels, hours=hours, seed=seed)
    ingest([feed], db)
    plots = None
    if scenario is not None and sim_dets.exists():
        ingest_detections([sim_dets], db)
    if detections:
        plots = radar_plots(Store(db))
        if plots.height:
            f = feed_dir / "radar.csv"
            plots.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")).write_csv(f)
            ingest_detections([f], db)
    run_detect(db)
    store = Store(db)
    planted = planted_events(store) if plant else schema.empty("events")
    if planted.height:
        events = pl.concat([store.table("events"), planted]).unique("event_id", keep="last", maintain_order=True)
        store.write_derived("events", events, {"preset": "coastal", "planted": planted.height})
        store.write_derived("risk", risk_scores(events, store.table("statics")), {"preset": "coastal"})
        store.write_derived("zones", user_area(store), {"source": "seawatch.serve.sample"})
    out = {"db": str(db), "feed": str(feed), "planted": planted, "events": store.table("events")}
    if plots is not None:
        out["detections"] = plots
    return out


__all__ = ["build_sample_store", "planted_events", "radar_plots", "user_area"]
