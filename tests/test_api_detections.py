"""seawatch serve: detections (matched to AIS or dark) and dark tracks, from a store built the
public way: AIS positions ingested, a radar file ingested with ingest_detections, run_detect."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest

pytest.importorskip("fastapi")

from seawatch import schema
from seawatch.detect import run_detect
from seawatch.detections import CORRELATION, ingest_detections
from seawatch.ingest import ingest
from seawatch.serve import models
from seawatch.serve.app import create_app, request
from seawatch.store import Store
from seawatch.testing import track
from seawatch.tracks import destination

ERROR_KEYS = {"status", "code", "message", "param"}
AIS_MMSI = 431000001
START = "2024-06-01T14:30:00Z"
SWEEPS = ["2024-06-01T15:00:00Z", "2024-06-01T15:10:00Z", "2024-06-01T15:20:00Z", "2024-06-01T15:30:00Z"]
BOAT = (37.98, 138.95)  # ~7 nm off Niigata, inside the territorial sea, night at 15:00Z


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One AIS vessel at 10 kn; radar sweeps every 10 min: a plot 200 m beside the vessel
    (matched), a silent boat at 8 kn on 045 seen on all four sweeps (dark, one dark track), and
    a weak plot far from everything (dark, below the dark_target confidence)."""
    tmp = tmp_path_factory.mktemp("apidet")
    ais = track(AIS_MMSI, lat=38.3, lon=138.0, sog_kn=10, cog_deg=90, hours=1.5, start=START)
    ais.write_parquet(tmp / "ais.parquet")
    at15 = ais.filter(pl.col("ts") == pl.lit(SWEEPS[0]).str.to_datetime(time_zone="UTC")).row(0, named=True)
    m_lat, m_lon = destination(at15["lat"], at15["lon"], 0, 200 / 1852)
    rows = ["id,time,lat,lon,sensor,length,confidence",
            f"m1,{SWEEPS[0]},{float(m_lat):.6f},{float(m_lon):.6f},radar,40,0.9"]
    for k, t in enumerate(SWEEPS):
        la, lo = destination(BOAT[0], BOAT[1], 45, 8 * k * 10 / 60)
        rows.append(f"b{k},{t},{float(la):.6f},{float(lo):.6f},radar,15,0.8")
    rows.append(f"w1,{SWEEPS[1]},38.9,137.2,radar,,0.2")
    (tmp / "radar.csv").write_text("\n".join(rows) + "\n")
    db = tmp / "db"
    ingest([tmp / "ais.parquet"], db, progress=False)
    ingest_detections([tmp / "radar.csv"], db)
    res = run_detect(db)
    return {"db": db, "tmp": tmp, "run": res, "store": Store(db)}


@pytest.fixture(scope="module")
def app(store):
    return create_app(store["db"])


def ok_geojson(app, path, model):
    r = request(app, path)
    assert r.status == 200, (path, r.status, r.text[:300])
    assert r.headers["content-type"].startswith("application/geo+json")
    data = r.json()
    model.model_validate(data)  # the OpenAPI document describes what is served (extra keys forbidden)
    return data


def assert_error(r, status, code, param=None):
    assert r.status == status, (r.status, r.text[:300])
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    assert body["error"]["status"] == status and body["error"]["code"] == code
    if param is not None:
        assert body["error"]["param"] == param, body
    assert "Traceback" not in r.text


def test_run_detect_stores_the_correlation_once_per_detection(store):
    st = store["store"]
    corr = st.table("correlation")
    assert corr.schema == schema.polars_schema("correlation")
    # one contract: the dark detector's output and the stored table have the same columns
    assert [(c.name, c.dtype) for c in CORRELATION] == [(c.name, c.dtype) for c in schema.CORRELATION]
    assert sorted(corr["detection_id"]) == ["b0", "b1", "b2", "b3", "m1", "w1"]
    by = {r["detection_id"]: r for r in corr.iter_rows(named=True)}
    assert by["m1"]["matched"] and by["m1"]["mmsi"] == AIS_MMSI and by["m1"]["match_dist_m"] == pytest.approx(200, abs=30)
    assert not any(by[k]["matched"] for k in ("b0", "b1", "b2", "b3", "w1"))
    info = st.derived_info("correlation")
    assert info["meta"]["detections_generation"] == st.generation("detections")
    assert store["run"]["correlation"].height == 6
    # its events are the ones the correlation gives (dark_target per confident dark plot, one track)
    ev = st.table("events")
    assert sorted(ev.filter(pl.col("event_type") == "dark_target")["evidence"].map_elements(
        lambda e: json.loads(e)["detection_id"], return_dtype=pl.Utf8)) == ["b0", "b1", "b2", "b3"]
    assert ev.filter(pl.col("event_type") == "dark_track").height == 1


def test_detections_endpoint_flags_matched_and_dark(app, store):
    fc = ok_geojson(app, "/api/detections", models.DetectionCollection)
    assert fc["type"] == "FeatureCollection" and fc["correlated"] is True
    assert fc["total"] == 6 and fc["next_offset"] is None
    props = {f["properties"]["detection_id"]: f["properties"] for f in fc["features"]}
    m = props["m1"]
    assert m["matched"] is True and m["dark"] is False and m["mmsi"] == AIS_MMSI
    assert m["match_dist_m"] == pytest.approx(200, abs=30) and m["event_id"] is None
    assert m["sensor"] == "radar" and m["source"] == "radar.csv" and m["confidence"] == pytest.approx(0.9)
    assert m["length_m"] == 40 and m["ts"] == SWEEPS[0]
    for k in ("b0", "b1", "b2", "b3", "w1"):
        assert props[k]["dark"] is True and props[k]["matched"] is False and props[k]["mmsi"] is None
    dt = store["store"].table("events").filter(pl.col("event_type") == "dark_target")
    ids = {json.loads(e)["detection_id"]: i for e, i in zip(dt["evidence"], dt["event_id"])}
    assert props["b0"]["event_id"] == ids["b0"] and props["b0"]["severity"] in schema.SEVERITIES
    assert props["w1"]["event_id"] is None  # too weak for a dark_target event, but still dark
    f = next(f for f in fc["features"] if f["id"] == "m1")
    assert f["geometry"]["type"] == "Point"
    corr = store["store"].table("correlation").filter(pl.col("detection_id") == "m1").row(0, named=True)
    assert f["geometry"]["coordinates"] == pytest.approx([corr["lon"], corr["lat"]], abs=1e-6)
    ts = [f["properties"]["ts"] for f in fc["features"]]
    assert ts == sorted(ts, reverse=True)  # newest first


def test_detections_filters_and_pagination(app):
    dark = ok_geojson(app, "/api/detections?dark=true", models.DetectionCollection)
    assert sorted(f["id"] for f in dark["features"]) == ["b0", "b1", "b2", "b3", "w1"]
    assert [f["id"] for f in ok_geojson(app, "/api/detections?dark=false", models.DetectionCollection)["features"]] == ["m1"]
    win = ok_geojson(app, f"/api/detections?start={SWEEPS[1]}&end={SWEEPS[2]}", models.DetectionCollection)
    assert sorted(f["id"] for f in win["features"]) == ["b1", "b2", "w1"]
    lat, lon = BOAT
    box = ok_geojson(app, f"/api/detections?bbox={lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}",
                     models.DetectionCollection)
    assert [f["id"] for f in box["features"]] == ["b0"]
    assert ok_geojson(app, "/api/detections?sensor=sar", models.DetectionCollection)["total"] == 0
    assert ok_geojson(app, "/api/detections?sensor=radar,sar", models.DetectionCollection)["total"] == 6
    p1 = ok_geojson(app, "/api/detections?limit=4", models.DetectionCollection)
    p2 = ok_geojson(app, "/api/detections?limit=4&offset=4", models.DetectionCollection)
    assert p1["next_offset"] == 4 and p2["next_offset"] is None and p1["total"] == p2["total"] == 6
    assert len({f["id"] for f in p1["features"] + p2["features"]}) == 6


def test_dark_tracks_are_lines_through_their_detections(app, store):
    fc = ok_geojson(app, "/api/dark_tracks", models.DarkTrackCollection)
    assert fc["total"] == 1
    f = fc["features"][0]
    ev = store["store"].table("events").filter(pl.col("event_type") == "dark_track").row(0, named=True)
    assert f["id"] == ev["event_id"] == f["properties"]["event_id"]
    assert f["geometry"]["type"] == "LineString"
    assert f["properties"]["detection_ids"] == ["b0", "b1", "b2", "b3"]
    det = store["store"].table("detections").sort("ts").filter(pl.col("detection_id").str.starts_with("b"))
    coords = f["geometry"]["coordinates"]
    assert len(coords) == 4
    assert [x for c in coords for x in c] == pytest.approx([x for lo, la in zip(det["lon"], det["lat"]) for x in (lo, la)],
                                                           abs=1e-6)
    p = f["properties"]
    assert p["start_time"] == SWEEPS[0] and p["end_time"] == SWEEPS[-1] and p["n_detections"] == 4
    assert p["mean_speed_kn"] == pytest.approx(8, abs=0.3) and p["course_deg"] == pytest.approx(45, abs=1)
    assert p["evidence"]["detection_ids"] == ["b0", "b1", "b2", "b3"]
    # the same event in the events API
    assert request(app, f"/api/events/{ev['event_id']}").json()["event_type"] == "dark_track"
    # filters: area, time
    lat, lon = BOAT
    assert ok_geojson(app, f"/api/dark_tracks?bbox={lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}",
                      models.DarkTrackCollection)["total"] == 1
    assert ok_geojson(app, "/api/dark_tracks?bbox=137,38.8,137.4,39", models.DarkTrackCollection)["total"] == 0
    assert ok_geojson(app, "/api/dark_tracks?end=2024-06-01T14:59:00Z", models.DarkTrackCollection)["total"] == 0
    assert ok_geojson(app, "/api/dark_tracks?start=2024-06-01T15:25:00Z", models.DarkTrackCollection)["total"] == 1
    assert ok_geojson(app, "/api/dark_tracks?offset=1", models.DarkTrackCollection)["features"] == []


def test_endpoints_are_listed_and_documented(app):
    idx = request(app, "/api").json()
    assert "/api/detections" in idx["endpoints"] and "/api/dark_tracks" in idx["endpoints"]
    doc = request(app, "/openapi.json").json()
    for p in ("/api/detections", "/api/dark_tracks"):
        assert doc["paths"][p]["get"]["summary"]
        assert "400" in doc["paths"][p]["get"]["responses"]
    names = {p["name"] for p in doc["paths"]["/api/detections"]["get"]["parameters"]}
    assert {"bbox", "start", "end", "dark", "sensor", "limit", "offset"} <= names
    assert {"DetectionCollection", "DarkTrackCollection"} <= set(doc["components"]["schemas"])


@pytest.mark.parametrize("path, param", [
    ("/api/detections?bbox=1,2,3", "bbox"),
    ("/api/detections?bbox=0,50,10,40", "bbox"),
    ("/api/detections?bbox=190,0,200,10", "bbox"),
    ("/api/detections?start=yesterday", "start"),
    ("/api/detections?start=2024-06-02&end=2024-06-01", "start"),
    ("/api/detections?dark=maybe", "dark"),
    ("/api/detections?sensor=" + "x" * 65, "sensor"),
    ("/api/detections?sensor=a%20b", "sensor"),
    ("/api/detections?limit=0", "limit"),
    ("/api/detections?limit=20001", "limit"),
    ("/api/dark_tracks?bbox=a,b,c,d", "bbox"),
    ("/api/dark_tracks?end=2024-13-01", "end"),
    ("/api/dark_tracks?limit=5001", "limit"),
])
def test_bad_parameters_are_the_one_error_shape(app, path, param):
    assert_error(request(app, path), 400, "bad_parameter", param)


def test_unknown_and_repeated_parameters(app):
    assert_error(request(app, "/api/detections?matched=true"), 400, "unknown_parameter", "matched")
    assert_error(request(app, "/api/dark_tracks?dark=1"), 400, "unknown_parameter", "dark")
    assert_error(request(app, "/api/detections?limit=1&limit=2"), 400, "bad_parameter", "limit")
    assert request(app, "/api/detections?sensor=radar&sensor=sar").status == 200  # lists may repeat


def test_detections_ingested_after_detect_are_served_uncorrelated(store, tmp_path):
    db = tmp_path / "db"
    shutil.copytree(store["db"], db)
    (tmp_path / "more.csv").write_text("id,time,lat,lon,sensor\nn1,2024-06-01T15:40:00Z,38.0,138.5,sar\n")
    ingest_detections([tmp_path / "more.csv"], db)
    app = create_app(db)
    fc = ok_geojson(app, "/api/detections", models.DetectionCollection)
    assert fc["correlated"] is False and fc["total"] == 7
    by = {f["id"]: f["properties"] for f in fc["features"]}
    assert by["n1"]["matched"] is None and by["n1"]["dark"] is None  # not correlated yet
    assert by["m1"]["matched"] is True and by["b0"]["dark"] is True  # the others keep theirs
    assert ok_geojson(app, "/api/detections?dark=true", models.DetectionCollection)["total"] == 5
    run_detect(db)
    fc = ok_geojson(app, "/api/detections", models.DetectionCollection)
    assert fc["correlated"] is True and fc["total"] == 7
    assert {f["id"]: f["properties"]["dark"] for f in fc["features"]}["n1"] is True


def test_a_store_without_detections_answers_empty_collections(tmp_path):
    Store(tmp_path / "empty", create=True)
    app = create_app(tmp_path / "empty")
    fc = ok_geojson(app, "/api/detections", models.DetectionCollection)
    assert fc["total"] == 0 and fc["features"] == [] and fc["correlated"] is True  # none waits
    assert ok_geojson(app, "/api/dark_tracks", models.DarkTrackCollection)["total"] == 0


def test_a_partial_correlation_serves_the_detections_it_covers(store, tmp_path):
    # seawatch watch writes the correlation of the detections it has reached so far
    db = tmp_path / "db"
    shutil.copytree(store["db"], db)
    st = Store(db)
    part = st.table("correlation").filter(pl.col("detection_id").is_in(["m1", "b0"]))
    st.write_derived("correlation", part, {"live": True})
    fc = ok_geojson(create_app(db), "/api/detections", models.DetectionCollection)
    assert fc["correlated"] is False and fc["total"] == 6
    by = {f["id"]: f["properties"] for f in fc["features"]}
    assert by["m1"]["matched"] is True and by["b0"]["dark"] is True
    assert all(by[k]["matched"] is None for k in ("b1", "b2", "b3", "w1"))
