"""Dark vessels: detections vs AIS correlation, dark_target / dark_track / identity_mismatch,
and the detections readers with their reject accounting. Small, hand-built cases (fast)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest

from seawatch import schema
from seawatch.detect import dark
from seawatch.detect.base import Inputs
from seawatch.detections import DETECTIONS, conform, read_detections
from seawatch.testing import static, track, tracks_of
from seawatch.tracks import destination

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)  # 21:00 JST: night off Niigata
SEA = dict(lat=38.6, lon=137.6)
NEAR = dict(lat=37.98, lon=138.95)  # ~7 nm off Niigata, inside the territorial sea


def dets(rows: list[dict]) -> pl.DataFrame:
    """Detections from dicts (ts as seconds after T0)."""
    out = []
    for k, r in enumerate(rows):
        r = dict(r)
        r["ts"] = T0 + timedelta(seconds=float(r.get("ts", 0)))
        r.setdefault("detection_id", f"d{k}")
        r.setdefault("source", "test")
        r.setdefault("sensor", "radar")
        r.setdefault("pass_id", f"p{int(r['ts'].timestamp())}")
        out.append(r)
    return conform(pl.DataFrame(out))


def at(lat, lon, bearing, m):
    la, lo = destination(lat, lon, bearing, m / 1852.0)
    return float(la), float(lon if lo is None else lo)


def pts(*frames):
    return tracks_of(*frames, places=False)


def test_a_detection_beside_an_interpolated_ais_position_matches_it():
    # reports every 10 min: the detection at +5 min lies between two of them, 300 m off the track
    v = track(431000001, start=T0, sog_kn=10, cog_deg=90, hours=1, every_s=600, **SEA)
    la, lo = destination(SEA["lat"], SEA["lon"], 90, 10 * 5 / 60)  # where it is at +5 min
    la, lo = destination(la, lo, 0, 300 / 1852)
    c = dark.correlate(dets([{"ts": 300, "lat": float(la), "lon": float(lo)}]), pts(v))
    assert c.schema == pl.Schema({x.name: x.dtype for x in dark.CORRELATION})
    r = c.row(0, named=True)
    assert r["matched"] and r["mmsi"] == 431000001 and r["match_method"] == "interpolated"
    assert r["match_dist_m"] == pytest.approx(300, abs=15)
    assert abs(r["match_dt_s"]) == pytest.approx(300, abs=1)
    # at the last report's time + 5 min: dead reckoning still finds it
    la2, lo2 = destination(SEA["lat"], SEA["lon"], 90, 10 * 65 / 60)
    c2 = dark.correlate(dets([{"ts": 3900, "lat": float(la2), "lon": float(lo2)}]), pts(v))
    assert c2["matched"][0] and c2["match_method"][0] == "extrapolated" and c2["match_dist_m"][0] < 100


def test_two_vessels_near_detections_resolve_one_to_one_globally():
    # A at x=0, B 1000 m east; d0 550 m east of A (nearer B), d1 1800 m east of A (only B reaches)
    a = track(431000001, start=T0, sog_kn=0.2, cog_deg=0, hours=0.5, every_s=60, **SEA)
    bl, bo = destination(SEA["lat"], SEA["lon"], 90, 1000 / 1852)
    b = track(431000002, start=T0, sog_kn=0.2, cog_deg=0, hours=0.5, every_s=60, lat=float(bl), lon=float(bo))
    d0 = destination(SEA["lat"], SEA["lon"], 90, 550 / 1852)
    d1 = destination(SEA["lat"], SEA["lon"], 90, 1800 / 1852)
    d = dets([{"ts": 600, "lat": float(d0[0]), "lon": float(d0[1])},
              {"ts": 600, "lat": float(d1[0]), "lon": float(d1[1])}])
    c = dark.correlate(d, pts(a, b))
    assert c["mmsi"].to_list() == [431000001, 431000002]  # greedy nearest would give d0 B, d1 none
    assert c["n_candidates"].to_list() == [2, 1]
    # one detection between two vessels: exactly one of them matches it
    c1 = dark.correlate(d.head(1), pts(a, b))
    assert c1["matched"].to_list() == [True] and c1["mmsi"][0] == 431000002


def test_one_vessel_matches_one_detection_per_pass_only():
    v = track(431000001, start=T0, sog_kn=0.2, cog_deg=0, hours=0.5, every_s=60, **SEA)
    e = destination(SEA["lat"], SEA["lon"], 90, 200 / 1852)
    w = destination(SEA["lat"], SEA["lon"], 270, 900 / 1852)
    d = dets([{"ts": 600, "lat": float(e[0]), "lon": float(e[1])},
              {"ts": 600, "lat": float(w[0]), "lon": float(w[1])}])
    c = dark.correlate(d, pts(v))
    assert c["matched"].to_list() == [True, False]


def test_a_detection_far_from_every_track_is_a_dark_target_with_place_and_night():
    v = track(431000001, start=T0, sog_kn=10, cog_deg=90, hours=1, every_s=60, **SEA)
    d = dets([{"ts": 600, "lat": NEAR["lat"], "lon": NEAR["lon"], "confidence": 0.9},
              {"ts": 600, "lat": 38.0, "lon": 137.0, "confidence": 0.2}])  # weak: not reported
    c = dark.correlate(d, pts(v))
    assert c["matched"].to_list() == [False, False] and c["mmsi"].null_count() == 2
    ev = dark.events_from(c, dark.Params())
    assert ev.schema == schema.polars_schema("events")
    assert ev["event_type"].to_list() == ["dark_target"]
    e = ev.row(0, named=True)
    assert e["mmsi"] is None and e["zone_kind"] == "territorial_sea" and e["severity"] == "high"
    evd = json.loads(e["evidence"])
    assert evd["detection_id"] == "d0" and evd["is_night"] is True and evd["dist_to_shore_nm"] < 12


def test_a_silent_boat_seen_on_five_radar_sweeps_is_one_dark_track():
    rows, rng = [], np.random.default_rng(1)
    for k in range(5):  # sweeps every 10 min, boat at 8 kn on 045 plus clutter elsewhere
        la, lo = destination(NEAR["lat"], NEAR["lon"], 45, 8 * k * 10 / 60)
        rows.append({"ts": 600 * k, "lat": float(la), "lon": float(lo), "heading_deg": 45.0, "detection_id": f"boat{k}"})
        for j in range(3):  # sea clutter scattered over a 40 nm radar picture
            rows.append({"ts": 600 * k, "lat": 37.6 + rng.uniform(0, 0.6), "lon": 137.6 + rng.uniform(0, 0.8),
                         "detection_id": f"clutter{k}-{j}"})
    v = track(431000001, start=T0, sog_kn=10, cog_deg=90, hours=1, every_s=60, **SEA)
    inputs = Inputs(tracks=pts(v))
    inputs.detections = dets(rows)
    ev = dark.detect(inputs, dark.PRESETS["coastal"])
    assert (ev["event_type"] == "dark_target").sum() == 20
    tr = ev.filter(pl.col("event_type") == "dark_track")
    assert tr.height == 1
    e = tr.row(0, named=True)
    evd = json.loads(e["evidence"])
    assert evd["detection_ids"] == [f"boat{k}" for k in range(5)]
    assert evd["mean_speed_kn"] == pytest.approx(8, abs=0.3) and evd["course_deg"] == pytest.approx(45, abs=1)
    assert e["start_time"] == T0 and e["end_time"] == T0 + timedelta(seconds=2400)
    assert ev["event_id"].n_unique() == ev.height


def test_a_detection_twice_the_ais_length_is_an_identity_mismatch():
    v = track(431000001, start=T0, sog_kn=0.2, cog_deg=0, hours=0.5, every_s=60, **SEA)
    st = static(431000001, T0).with_columns(to_bow_m=pl.lit(10, pl.Int16), to_stern_m=pl.lit(5, pl.Int16))
    d = dets([{"ts": 600, "lat": SEA["lat"], "lon": SEA["lon"], "length_m": 80.0}])
    c = dark.correlate(d, pts(v), st)
    assert c["matched"][0] and c["ais_length_m"][0] == 15
    ev = dark.events_from(c, dark.Params())
    assert ev["event_type"].to_list() == ["identity_mismatch"] and ev["mmsi"][0] == 431000001
    assert json.loads(ev["evidence"][0])["detection_id"] == "d0"


def test_readers_keep_every_row_and_count_rejects(tmp_path):
    csv = tmp_path / "radar.csv"
    csv.write_text(
        "time,latitude,longitude,sensor,length,heading,score,id\n"
        "2024-06-01T12:00:00Z,37.9,138.9,radar,30,90,0.9,a1\n"
        "2024-06-01 12:00:00,37.9,138.9,,,,,\n"
        "\n"
        "yesterday,37.9,138.9,radar,,,,\n"
        "1717243200,95,138.9,radar,,,,\n"
        "1717243200000,37.9,138.9,radar,-3,,,\n"
        "short,line\n"
    )
    r = read_detections(csv)
    assert r.rows_read == 7 == r.rows_decoded + r.rejects.height
    assert r.reasons() == {"bad_row": 2, "bad_value": 1, "blank": 1, "position_out_of_range": 1}
    assert r.detections.schema == pl.Schema({c.name: c.dtype for c in DETECTIONS})
    assert r.detections["detection_id"].to_list() == ["a1", "radar.csv:3"]
    assert r.detections["sensor"].to_list() == ["radar", "unknown"]
    gj = tmp_path / "sar.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [138.9, 37.9]},
         "properties": {"timestamp": "2024-06-01T12:00:00Z", "length_m": 40, "confidence": 0.8}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}, "properties": {}},
        {"type": "Feature", "geometry": None, "properties": {"timestamp": "2024-06-01T12:00:00Z"}},
    ]}))
    g = read_detections(gj)
    assert (g.rows_read, g.rows_decoded, g.reasons()) == (3, 1, {"bad_row": 2})
    assert g.detections["lon"][0] == 138.9 and g.detections["length_m"][0] == 40
    pq = tmp_path / "d.parquet"
    pl.DataFrame({"ts": [T0, None], "lat": [37.9, 1.0], "lon": [138.9, 2.0], "sensor": ["sar", "sar"]}).write_parquet(pq)
    p = read_detections(pq)
    assert (p.rows_read, p.rows_decoded, p.reasons()) == (2, 1, {"bad_row": 1})
    assert p.detections["ts"][0] == T0
    bad = tmp_path / "junk.parquet"
    bad.write_bytes(b"not parquet")
    assert read_detections(bad).reasons() == {"bad_row": 1}


def test_cli_ingest_detections_then_detect_reports_dark_targets(tmp_path):
    import json as _json

    from click.testing import CliRunner

    from seawatch.cli import main
    from seawatch.store import Store
    from seawatch.testing import track
    from seawatch.tracks import destination

    # one AIS vessel and two radar plots at 15:00Z (night in Niigata): one on it, one 6 nm off the coast, dark
    ais = track(431000001, lat=38.3, lon=138.0, sog_kn=10, cog_deg=90, hours=1, start="2024-06-01T14:30:00Z")
    ais.write_parquet(tmp_path / "ais.parquet")
    on = ais.filter(ais["ts"] == ais["ts"].dt.replace(minute=30, hour=14) + __import__("datetime").timedelta(minutes=30))
    la, lo = destination(37.95, 139.05, 315, 6)
    csv = tmp_path / "radar.csv"
    csv.write_text("id,time,lat,lon,sensor\n"
                   f"r1,2024-06-01T15:00:00Z,{on['lat'][0]:.6f},{on['lon'][0]:.6f},radar\n"
                   f"r2,2024-06-01T15:00:00Z,{float(la):.6f},{float(lo):.6f},radar\n"
                   "r3,not a time,38,139,radar\n")
    db = tmp_path / "db"
    run = CliRunner()
    r = run.invoke(main, ["ingest", str(tmp_path / "ais.parquet"), "--detections", str(csv), "--db", str(db)])
    assert r.exit_code == 0 and "2 detections, 1 rejected" in r.output, r.output
    again = run.invoke(main, ["ingest", "--detections", str(csv), "--db", str(db)])
    assert "already in the store" in again.output
    assert Store(db).table("detections").height == 2
    assert Store(db).stats()["rejects_by_reason"].get("bad_row") == 1
    out = tmp_path / "ev.jsonl"
    d = run.invoke(main, ["detect", "--db", str(db), "--out", str(out)])
    assert d.exit_code == 0, d.output
    dark = [e for e in map(_json.loads, out.read_text().splitlines()) if e["event_type"] == "dark_target"]
    assert len(dark) == 1 and dark[0]["mmsi"] is None and dark[0]["zone_kind"] == "territorial_sea"


def test_correlation_cut_into_small_chunks_gives_the_same_result(monkeypatch):
    # dense traffic (200 vessels in ~40 x 35 km), some with a 25-min gap (longer than a time
    # bin), radar plots of 60 s sweeps near the vessels and elsewhere: cutting the detections
    # into chunks of 7 (at most 40 cell rows), on one thread or two, changes nothing
    from seawatch.testing import fleet

    rng = np.random.default_rng(3)
    f = fleet(200, 90, seed=3).with_columns(
        lat=38.5 + (pl.col("lat") - 38.5) * 0.1, lon=135.0 + (pl.col("lon") - 135.0) * 0.1,
        cog_deg=(pl.col("mmsi") * 37 % 360).cast(pl.Float32),
    )
    t0 = f["ts"].min()
    gap = (pl.col("mmsi") % 5 == 0) & pl.col("ts").is_between(t0 + timedelta(minutes=20), t0 + timedelta(minutes=45))
    f = f.filter(~gap)
    pick = f[rng.integers(0, f.height, 300)]
    la, lo = destination(pick["lat"].to_numpy(), pick["lon"].to_numpy(), rng.uniform(0, 360, 300), rng.uniform(0, 0.3, 300))
    t = pick["ts"].dt.epoch("us").to_numpy() + rng.integers(-120, 120, 300) * 1_000_000
    t = np.concatenate([t, t0.timestamp() * 1e6 + rng.uniform(0, 5400e6, 100)]).astype(np.int64) // 60_000_000 * 60_000_000
    d = conform(pl.DataFrame({
        "detection_id": [f"d{k}" for k in range(400)],
        "ts": pl.Series(t).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "lat": np.concatenate([la, rng.uniform(38.3, 38.7, 100)]),
        "lon": np.concatenate([lo, rng.uniform(134.8, 135.2, 100)]),
        "source": "test", "sensor": "radar", "length_m": rng.uniform(10, 200, 400),
    }).with_columns(pass_id=pl.col("ts").dt.strftime("radar|%H:%M")))
    whole = dark.correlate(d, f)
    assert 200 < whole["matched"].sum() < 400 and whole["n_candidates"].max() >= 3
    monkeypatch.setattr(dark, "_CHUNK_DETECTIONS", 7)
    monkeypatch.setattr(dark, "_CHUNK_ROWS", 40)
    for threads in (1, 2):
        monkeypatch.setattr(dark, "_THREADS", threads)
        assert dark.correlate(d, f).equals(whole)
