"""seawatch serve: the JSON API (every endpoint, bad parameters, the token rule), --get, live SSE."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("fastapi")

from click.testing import CliRunner

from seawatch import schema
from seawatch.errors import SeawatchError
from seawatch.serve import models, queries
from seawatch.serve.app import create_app, request
from seawatch.serve.cli import is_loopback, serve_command
from seawatch.serve.sample import build_sample_store
from seawatch.store import Store

TOKEN = "test-token-0123456789abcdef"
ERROR_KEYS = {"status", "code", "message", "param"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    db = tmp_path_factory.mktemp("serve") / "db"
    res = build_sample_store(db, vessels=20, hours=1.0, seed=3)
    return {"db": db, "planted": res["planted"], "events": res["events"], "store": Store(db)}


@pytest.fixture(scope="module")
def app(sample):
    return create_app(sample["db"])


def get(app, path, **kw):
    return request(app, path, **kw)


def ok_json(app, path, model=None, **kw):
    r = get(app, path, **kw)
    assert r.status == 200, (path, r.status, r.text[:300])
    data = r.json()
    if model is not None:
        model.model_validate(data)  # the OpenAPI document describes what is served (extra keys forbidden)
    return data


def assert_error(r, status, code=None, param=None):
    assert r.status == status, (r.status, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    e = body["error"]
    assert e["status"] == status and e["message"] and "\n" not in e["message"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    if code is not None:
        assert e["code"] == code, e
    if param is not None:
        assert e["param"] == param, e
    return e


# -- meta -------------------------------------------------------------------------------------------
def test_openapi_documents_every_endpoint(app):
    doc = ok_json(app, "/openapi.json")
    paths = set(doc["paths"])
    for p in ("/api", "/api/health", "/api/stats", "/api/vessels", "/api/vessels/{mmsi}", "/api/vessels/{mmsi}/track",
              "/api/events", "/api/events/{event_id}", "/api/zones", "/api/land", "/api/live"):
        assert p in paths, p
        op = doc["paths"][p]["get"]
        assert op.get("summary")
    assert "ErrorBody" in doc["components"]["schemas"]
    assert "VesselPage" in doc["components"]["schemas"] and "EventPage" in doc["components"]["schemas"]
    ev_params = {p["name"] for p in doc["paths"]["/api/events"]["get"]["parameters"]}
    assert {"type", "severity", "start", "end", "bbox", "mmsi", "limit", "offset"} <= ev_params
    assert "400" in doc["paths"]["/api/vessels"]["get"]["responses"]
    # the stock docs pages would load scripts from a CDN: not served
    assert_error(get(app, "/docs"), 404, "not_found")
    assert_error(get(app, "/redoc"), 404, "not_found")
    idx = ok_json(app, "/api", models.Index)
    assert "/api/vessels" in idx["endpoints"]
    assert ok_json(app, "/api/health", models.Health)["ok"] is True


def test_map_page_and_assets_are_served_locally(app):
    r = get(app, "/")
    assert r.status == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "/vendor/maplibre-gl.js" in html and "/static/app.js" in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    js = get(app, "/vendor/maplibre-gl.js")
    assert js.status == 200 and js.headers["content-type"].startswith("text/javascript")
    assert b"maplibregl" in js.body[:2000]
    assert get(app, "/vendor/maplibre-gl.css").status == 200
    for f in ("app.js", "app.css"):
        assert get(app, f"/static/{f}").status == 200
    assert_error(get(app, "/vendor/other.js"), 404, "not_found")
    assert_error(get(app, "/static/nope.js"), 404, "not_found")
    # the page's script never writes untrusted text as HTML
    src = (Path(__file__).resolve().parents[1] / "seawatch" / "serve" / "static" / "app.js").read_text()
    assert "innerHTML" not in src and "insertAdjacentHTML" not in src


def test_stats(app, sample):
    st = ok_json(app, "/api/stats", models.Stats)
    ref = sample["store"].stats()
    for k in ("positions", "statics", "vessels", "files", "time_start", "time_end"):
        assert st[k] == ref[k], k
    assert st["events"] == sample["events"].height
    assert st["derived"]["events"]["generation"] >= 1
    assert st["version"]["files"] == 1


# -- vessels ------------------------------------------------------------------------------------------
def test_vessels_list_pagination_and_shape(app, sample):
    store = sample["store"]
    n = store.query("SELECT count(DISTINCT mmsi) AS n FROM positions WHERE lat IS NOT NULL")["n"][0]
    p1 = ok_json(app, "/api/vessels?limit=7", models.VesselPage)
    assert p1["total"] == n and len(p1["items"]) == 7 and p1["next_offset"] == 7 and p1["offset"] == 0
    p2 = ok_json(app, "/api/vessels?limit=7&offset=7", models.VesselPage)
    assert not {v["mmsi"] for v in p1["items"]} & {v["mmsi"] for v in p2["items"]}
    last = ok_json(app, f"/api/vessels?limit=7&offset={n - 2}")
    assert len(last["items"]) == 2 and last["next_offset"] is None
    beyond = ok_json(app, "/api/vessels?offset=100000")
    assert beyond["items"] == [] and beyond["total"] == n and beyond["next_offset"] is None
    allv = ok_json(app, "/api/vessels?limit=5000")["items"]
    # highest risk first; the planted gap vessel has the most
    gap = sample["planted"].filter(pl.col("event_type") == "ais_gap")["mmsi"][0]
    assert allv[0]["mmsi"] == gap and allv[0]["risk"] > 0 and allv[0]["n_events"] >= 1
    assert [v["risk"] for v in allv] == sorted((v["risk"] for v in allv), reverse=True)
    for v in allv:
        assert -90 <= v["lat"] <= 90 and v["ts"].endswith("Z") and v["type_group"] in queries.TYPE_GROUPS
        assert v["age_s"] >= 0
        if v["mmsi"] // 1_000_000 in (431, 432):
            assert v["flag_state"] == "JPN" and v["flag_name"] == "Japan"
    # last position is the latest one of each vessel
    m = allv[3]["mmsi"]
    last_ts = store.query("SELECT max(ts) AS t FROM positions WHERE mmsi = $m", {"m": m})["t"][0]
    assert allv[3]["ts"] == queries.iso(last_ts)


def test_vessels_filters(app, sample):
    allv = ok_json(app, "/api/vessels?limit=5000")["items"]
    one = allv[5]
    assert [v["mmsi"] for v in ok_json(app, f"/api/vessels?mmsi={one['mmsi']}")["items"]] == [one["mmsi"]]
    got = ok_json(app, f"/api/vessels?mmsi={allv[1]['mmsi']},{allv[2]['mmsi']}&sort=mmsi")["items"]
    assert [v["mmsi"] for v in got] == sorted([allv[1]["mmsi"], allv[2]["mmsi"]])
    g = one["type_group"]
    got = ok_json(app, f"/api/vessels?group={g}&limit=5000")
    assert got["total"] == sum(v["type_group"] == g for v in allv) and all(v["type_group"] == g for v in got["items"])
    got = ok_json(app, "/api/vessels?min_risk=1")
    assert got["total"] == sum(v["risk"] >= 1 for v in allv) >= 1
    assert ok_json(app, "/api/vessels?flag=JPN")["total"] == sum(v["flag_state"] == "JPN" for v in allv)
    assert ok_json(app, "/api/vessels?class=B")["total"] == sum(v["ais_class"] == "B" for v in allv)
    named = next(v for v in allv if v["name"])
    hits = ok_json(app, f"/api/vessels?q={named['name'][:6].lower().replace(' ', '%20')}")["items"]
    assert named["mmsi"] in [v["mmsi"] for v in hits]
    assert ok_json(app, f"/api/vessels?q={str(one['mmsi'])[:9]}")["items"][0]["mmsi"] == one["mmsi"]
    lat, lon = one["lat"], one["lon"]
    box = ok_json(app, f"/api/vessels?bbox={lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}")["items"]
    assert one["mmsi"] in [v["mmsi"] for v in box]
    assert all(abs(v["lat"] - lat) <= 0.0011 for v in box)
    for sort in queries.VESSEL_SORTS:
        assert ok_json(app, f"/api/vessels?sort={sort}&limit=5000")["total"] == len(allv)


def test_vessels_replay_at_a_time(app, sample):
    st = sample["store"].stats()
    t_mid = "2024-06-01T00:20:00Z"
    assert st["time_start"] < t_mid < st["time_end"]
    past = ok_json(app, f"/api/vessels?at={t_mid}&limit=5000", models.VesselPage)
    assert past["ref_time"] == t_mid
    assert all(v["ts"] <= t_mid for v in past["items"])
    assert all(v["age_s"] >= 0 for v in past["items"])
    early = ok_json(app, "/api/vessels?at=2024-06-01T00:00:30Z&limit=5000")
    assert early["total"] <= past["total"]
    assert ok_json(app, "/api/vessels?at=2000-01-01")["total"] == 0
    fresh = ok_json(app, f"/api/vessels?at={t_mid}&max_age_s=60&limit=5000")
    assert all(v["age_s"] <= 60 for v in fresh["items"]) and fresh["total"] <= past["total"]


def test_vessel_detail(app, sample):
    planted = sample["planted"]
    gap = planted.filter(pl.col("event_type") == "ais_gap").row(0, named=True)
    d = ok_json(app, f"/api/vessels/{gap['mmsi']}", models.VesselDetail)
    assert d["mmsi"] == gap["mmsi"]
    assert d["flag"]["state"] == "JPN" and d["flag"]["mmsi_kind"] == "ship" and d["flag"]["mmsi_problem"] is None
    assert d["identity"]["name"] and d["identity"]["statics_reports"] > 0
    assert d["last_position"]["ts"] == d["last_seen"]
    assert d["positions"] > 10
    ids = {r["event_id"] for r in d["risk"]["reasons"]}
    enc = planted.filter(pl.col("event_type") == "encounter")["event_id"][0]
    assert gap["event_id"] in ids and enc in ids  # a two-vessel event counts for both
    assert d["risk"]["score"] > 0 and d["events_total"] == 2
    reason = next(r for r in d["risk"]["reasons"] if r["event_id"] == gap["event_id"])
    assert reason["severity"] == "high" and reason["points"] > 0 and reason["start_time"].endswith("Z")
    assert d["place"] is not None and d["place"]["zone_kind"] in schema.ZONE_KINDS
    assert d["identity_history"]["shipname"][0]["value"] == d["identity"]["name"]
    # a vessel known only from an event still answers
    mism = planted.filter(pl.col("event_type") == "identity_mismatch")["mmsi"][0]
    assert ok_json(app, f"/api/vessels/{mism}")["risk"]["n_events"] == 1
    assert_error(get(app, "/api/vessels/123456789"), 404, "not_found", "mmsi")
    assert_error(get(app, "/api/vessels/abc"), 400, "bad_parameter", "mmsi")
    assert_error(get(app, "/api/vessels/0"), 400, "bad_parameter", "mmsi")
    assert_error(get(app, "/api/vessels/1234567890"), 400, "bad_parameter", "mmsi")


def test_track(app, sample):
    store = sample["store"]
    m = sample["planted"]["mmsi"][0]
    n = store.query("SELECT count(*) AS n FROM tracks WHERE mmsi = $m", {"m": m})["n"][0]
    t = ok_json(app, f"/api/vessels/{m}/track", models.TrackPage)
    assert t["total"] == n == len(t["items"]) and t["source"] == "tracks"
    ts = [p["ts"] for p in t["items"]]
    assert ts == sorted(ts) and all(p["seg_id"] for p in t["items"])
    page = ok_json(app, f"/api/vessels/{m}/track?limit=5&offset=5")
    assert [p["ts"] for p in page["items"]] == ts[5:10] and page["next_offset"] == 10
    a, b = ts[10], ts[20]
    win = ok_json(app, f"/api/vessels/{m}/track?start={a}&end={b}")
    assert win["total"] == 11 and win["items"][0]["ts"] == a and win["items"][-1]["ts"] == b
    thin = ok_json(app, f"/api/vessels/{m}/track?thin_s=600")
    assert 3 <= thin["total"] <= 8  # one point per 10 min of a 1 h track
    assert ok_json(app, f"/api/vessels/{m}/track?start=2030-01-01")["total"] == 0
    assert_error(get(app, f"/api/vessels/{m}/track?start={b}&end={a}"), 400, "bad_parameter", "start")
    assert_error(get(app, f"/api/vessels/{m}/track?limit=20001"), 400, "bad_parameter", "limit")
    assert_error(get(app, "/api/vessels/123456789/track"), 404, "not_found")


def test_track_falls_back_to_positions_when_tracks_are_stale(sample, tmp_path):
    db = tmp_path / "db"
    shutil.copytree(sample["db"], db)
    st = Store(db)
    info = json.loads((db / "_derived" / "tracks.json").read_text())
    info["meta"]["files"] = 99  # tracks built from another set of files
    info["meta"]["files_key"] = "0" * 16
    (db / "_derived" / "tracks.json").write_text(json.dumps(info))
    m = sample["planted"]["mmsi"][0]
    t = queries.track(st, m)
    assert t["source"] == "positions" and t["total"] > 10 and t["items"][0]["seg_id"] is None


# -- events -------------------------------------------------------------------------------------------
def test_events_list_and_filters(app, sample):
    events, planted = sample["events"], sample["planted"]
    p = ok_json(app, "/api/events?limit=2", models.EventPage)
    assert p["total"] == events.height and len(p["items"]) == min(2, events.height)
    allev = ok_json(app, "/api/events?limit=1000", models.EventPage)["items"]
    starts = [e["start_time"] for e in allev]
    assert starts == sorted(starts, reverse=True)
    assert all(isinstance(e["evidence"], dict) for e in allev)
    gap = planted.filter(pl.col("event_type") == "ais_gap").row(0, named=True)
    got = ok_json(app, "/api/events?type=ais_gap")["items"]
    assert gap["event_id"] in [e["event_id"] for e in got] and all(e["event_type"] == "ais_gap" for e in got)
    e = next(x for x in got if x["event_id"] == gap["event_id"])
    assert e["evidence"]["planted"] is True and e["shipname"]
    both = ok_json(app, "/api/events?type=ais_gap&type=encounter")["total"]
    assert both == ok_json(app, "/api/events?type=ais_gap,encounter")["total"] == events.filter(
        pl.col("event_type").is_in(["ais_gap", "encounter"])).height
    assert ok_json(app, "/api/events?severity=high")["total"] == events.filter(pl.col("severity") == "high").height
    assert ok_json(app, "/api/events?min_severity=medium")["total"] == events.filter(
        pl.col("severity").is_in(["medium", "high"])).height
    assert ok_json(app, "/api/events?status=open")["total"] == events.filter(pl.col("status") == "open").height
    # a vessel's events include those where it is the other vessel of a pair
    a = gap["mmsi"]
    mine = ok_json(app, f"/api/events?mmsi={a}")["items"]
    assert {e["event_type"] for e in mine} >= {"ais_gap", "encounter"}
    enc = next(e for e in mine if e["event_type"] == "encounter")
    assert enc["other_mmsi"] == a and enc["other_shipname"]
    # time: events overlapping [start, end]; an open event goes on
    gs, ge = queries.iso(gap["start_time"]), queries.iso(gap["end_time"])
    ids = [e["event_id"] for e in ok_json(app, f"/api/events?start={gs}&end={ge}&limit=1000")["items"]]
    assert gap["event_id"] in ids
    assert gap["event_id"] not in [e["event_id"] for e in ok_json(app, "/api/events?end=2024-06-01T00:00:01Z")["items"]]
    late = [e["event_id"] for e in ok_json(app, "/api/events?start=2030-01-01")["items"]]
    assert set(late) == set(events.filter(pl.col("end_time").is_null())["event_id"])
    # area
    lat, lon = gap["lat"], gap["lon"]
    box = ok_json(app, f"/api/events?bbox={lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}")["items"]
    assert gap["event_id"] in [e["event_id"] for e in box] and all(e["lat"] is not None for e in box)
    assert ok_json(app, "/api/events?bbox=170,-10,-170,10")["total"] == 0  # across the antimeridian, elsewhere
    for sort in queries.EVENT_SORTS:
        assert ok_json(app, f"/api/events?sort={sort}")["total"] == events.height
    sev = [e["severity"] for e in ok_json(app, "/api/events?sort=-severity&limit=1000")["items"]]
    rank = [queries.SEVERITY_RANK[s] for s in sev]
    assert rank == sorted(rank, reverse=True)


def test_event_by_id(app, sample):
    gap = sample["planted"].filter(pl.col("event_type") == "ais_gap").row(0, named=True)
    e = ok_json(app, f"/api/events/{gap['event_id']}", models.Event)
    assert e["event_type"] == "ais_gap" and e["severity"] == "high" and e["evidence"]["gap_h"] > 0
    assert e["start_time"] == queries.iso(gap["start_time"])
    assert_error(get(app, "/api/events/0000000000000000"), 404, "not_found", "event_id")
    assert_error(get(app, "/api/events/x'%20OR%201=1"), 400, "bad_parameter", "event_id")


# -- zones and land ------------------------------------------------------------------------------------
def test_zones_geojson(app):
    fc = ok_json(app, "/api/zones", models.ZoneCollection)
    assert fc["type"] == "FeatureCollection" and fc["total"] == len(fc["features"]) > 10
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert {"territorial_sea", "contiguous_zone", "eez", "custom"} <= kinds
    user = [f for f in fc["features"] if f["properties"]["kind"] == "custom"]
    assert user[0]["properties"]["name"] == "Watch box" and user[0]["geometry"]["type"] == "Polygon"
    assert "OpenStreetMap" in fc["attribution"]
    ts = ok_json(app, "/api/zones?kind=territorial_sea")
    assert ts["total"] >= 3 and all(f["properties"]["kind"] == "territorial_sea" for f in ts["features"])
    p = ok_json(app, "/api/zones?limit=2&offset=1")
    assert len(p["features"]) == 2 and p["next_offset"] == 3 and p["total"] == fc["total"]
    near = ok_json(app, "/api/zones?bbox=138,37.5,139,38.5&kind=territorial_sea")
    assert {f["properties"]["state"] for f in near["features"]} == {"JPN"}
    full = get(app, "/api/zones?kind=territorial_sea&bbox=138,37.5,139,38.5").body
    simple = get(app, "/api/zones?kind=territorial_sea&bbox=138,37.5,139,38.5&simplify=0.01").body
    assert len(simple) < len(full) / 2
    r = get(app, "/api/zones", headers={"accept-encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip" and json.loads(gzip.decompress(r.body))["total"] == fc["total"]
    assert_error(get(app, "/api/zones?kind=ocean"), 400, "bad_parameter", "kind")
    assert_error(get(app, "/api/zones?simplify=1"), 400, "bad_parameter", "simplify")


def test_land_geojson(app):
    r = get(app, "/api/land", headers={"accept-encoding": "gzip, deflate"})
    assert r.status == 200 and r.headers["content-encoding"] == "gzip"
    fc = r.json()
    assert fc["features"][0]["geometry"]["type"] == "MultiPolygon"
    import shapely

    land = shapely.from_geojson(json.dumps(fc["features"][0]["geometry"]))
    assert land.contains(shapely.Point(139.05, 37.90))  # Niigata city
    assert not land.contains(shapely.Point(138.8, 37.9))  # the Sado strait


# -- bad requests: one error shape ---------------------------------------------------------------------
@pytest.mark.parametrize("path, param", [
    ("/api/vessels?limit=0", "limit"),
    ("/api/vessels?limit=5001", "limit"),
    ("/api/vessels?limit=ten", "limit"),
    ("/api/vessels?offset=-1", "offset"),
    ("/api/vessels?at=yesterday", "at"),
    ("/api/vessels?at=1850-01-01", "at"),
    ("/api/vessels?max_age_s=-5", "max_age_s"),
    ("/api/vessels?bbox=1,2,3", "bbox"),
    ("/api/vessels?bbox=a,b,c,d", "bbox"),
    ("/api/vessels?bbox=0,50,10,40", "bbox"),
    ("/api/vessels?bbox=190,0,200,10", "bbox"),
    ("/api/vessels?bbox=nan,0,1,1", "bbox"),
    ("/api/vessels?group=boats", "group"),
    ("/api/vessels?flag=japan", "flag"),
    ("/api/vessels?class=C", "class"),
    ("/api/vessels?min_risk=101", "min_risk"),
    ("/api/vessels?mmsi=12x", "mmsi"),
    ("/api/vessels?sort=speed", "sort"),
    ("/api/vessels?q=" + "x" * 65, "q"),
    ("/api/vessels?q=", "q"),
    ("/api/events?type=smuggling", "type"),
    ("/api/events?severity=extreme", "severity"),
    ("/api/events?min_severity=extreme", "min_severity"),
    ("/api/events?status=done", "status"),
    ("/api/events?zone_kind=sea", "zone_kind"),
    ("/api/events?start=2024-06-01T25:00:00Z", "start"),
    ("/api/events?start=2024-06-02&end=2024-06-01", "start"),
    ("/api/events?mmsi=-3", "mmsi"),
    ("/api/events?limit=1001", "limit"),
    ("/api/events?sort=mmsi", "sort"),
    ("/api/events?type=" + ",".join(["ais_gap"] * 51), "type"),
    ("/api/events?type=" + "a" * 65, "type"),
    ("/api/zones?limit=501", "limit"),
    ("/api/live?interval_s=0", "interval_s"),
    ("/api/live?timeout_s=7200", "timeout_s"),
])
def test_bad_parameters_are_clear_400s(app, path, param):
    e = assert_error(get(app, path), 400, param=param)
    assert e["code"] == "bad_parameter"
    assert param in e["message"]


def test_unknown_and_repeated_parameters(app):
    e = assert_error(get(app, "/api/vessels?lim=5"), 400, "unknown_parameter", "lim")
    assert "limit" in e["message"]  # says what is allowed
    assert_error(get(app, "/api/stats?verbose=1"), 400, "unknown_parameter", "verbose")
    assert_error(get(app, "/api/vessels?limit=5&limit=6"), 400, "bad_parameter", "limit")
    assert get(app, "/api/events?type=ais_gap&type=encounter").status == 200  # lists may repeat


def test_not_found_method_and_size_errors(app):
    assert_error(get(app, "/api/nothing"), 404, "not_found")
    assert_error(get(app, "/etc/passwd"), 404, "not_found")
    assert_error(get(app, "/static/../app.py"), 404)
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):
        r = get(app, "/api/vessels", method=method)
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["allow"] == "GET"
    assert_error(get(app, "/api/vessels?q=" + "a" * 5000), 414, "uri_too_long")


def test_sql_is_parametrised(app, sample):
    n = sample["store"].stats()["positions"]
    r = ok_json(app, "/api/vessels?q=%27%3B%20DROP%20TABLE%20positions%3B%20--")
    assert r["total"] == 0
    r = ok_json(app, "/api/vessels?q=%25")  # a LIKE wildcard is just a character
    assert r["total"] == 0
    assert_error(get(app, "/api/events?type=ais_gap%27%20OR%20%271%27=%271"), 400, "bad_parameter", "type")
    assert sample["store"].stats()["positions"] == n


def test_failures_never_leak_tracebacks(app, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret internal detail /etc/shadow")

    monkeypatch.setattr(queries, "vessels", boom)
    e = assert_error(get(app, "/api/vessels"), 500, "internal_error")
    assert "secret" not in e["message"]

    def store_broken(*a, **k):
        raise SeawatchError("corrupt pointer: delete it and recompute events")

    monkeypatch.setattr(queries, "events", store_broken)
    e = assert_error(get(app, "/api/events"), 503, "store_error")
    assert "corrupt pointer" in e["message"]


# -- host and token rules -------------------------------------------------------------------------------
def test_without_token_only_loopback_host_names_are_answered(app):
    for host in ("127.0.0.1:8080", "localhost", "[::1]:8080"):
        assert get(app, "/api/health", headers={"host": host}).status == 200
    assert_error(get(app, "/api/health", headers={"host": "attacker.example:8080"}), 400, "bad_host")
    assert_error(get(app, "/", headers={"host": "192.168.1.9"}), 400, "bad_host")


def test_token_rule(sample):
    app = create_app(sample["db"], token=TOKEN)
    for path in ("/", "/api/vessels", "/api/stats", "/openapi.json", "/static/app.js", "/vendor/maplibre-gl.js",
                 "/api/live?timeout_s=0.1", "/api/nothing"):
        r = get(app, path)
        assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert_error(get(app, path, headers={"authorization": "Bearer wrong-token-wrong-token"}), 401, "unauthorized")
    assert_error(get(app, "/api/vessels?token=nope"), 401)
    assert_error(get(app, "/api/vessels", headers={"cookie": "seawatch_token=nope"}), 401)
    # header, query parameter (sets the cookie the map then uses), cookie
    assert get(app, "/api/vessels", headers={"authorization": f"Bearer {TOKEN}"}).status == 200
    r = get(app, f"/?token={TOKEN}")
    assert r.status == 200 and r.headers["set-cookie"].startswith(f"seawatch_token={TOKEN};")
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
    assert get(app, "/api/vessels", headers={"cookie": f"other=1; seawatch_token={TOKEN}"}).status == 200
    assert get(app, f"/api/vessels?token={TOKEN}&limit=1").json()["limit"] == 1
    # with a token, any Host may be used (the server was bound beyond loopback on purpose)
    assert get(app, "/api/health", headers={"host": "10.0.0.5:8080", "authorization": f"Bearer {TOKEN}"}).status == 200
    with pytest.raises(SeawatchError, match="16-256"):
        create_app(sample["db"], token="short")


def test_cli_refuses_non_loopback_without_token(sample, monkeypatch):
    monkeypatch.delenv("SEAWATCH_TOKEN", raising=False)
    r = CliRunner().invoke(serve_command, ["--db", str(sample["db"]), "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "Error:" in r.output and "--token" in r.output
    r = CliRunner().invoke(serve_command, ["--db", str(sample["db"]), "--host", "0.0.0.0", "--token", "abc"])
    assert r.exit_code == 2 and "16-256" in r.output
    r = CliRunner().invoke(serve_command, ["--db", str(sample["db"]), "--host", "0.0.0.0"],
                           env={"SEAWATCH_TOKEN": "bad token"})
    assert r.exit_code == 2
    r = CliRunner().invoke(serve_command, ["--db", str(sample["db"].parent / "missing")])
    assert r.exit_code == 2 and "no seawatch store" in r.output
    assert is_loopback("127.0.0.1") and is_loopback("127.3.4.5") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")
    assert not is_loopback("::")


def test_cli_port_in_use_is_a_clear_error(sample):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        r = CliRunner().invoke(serve_command, ["--db", str(sample["db"]), "--port", str(s.getsockname()[1])])
        assert r.exit_code == 2 and "cannot listen" in r.output
    finally:
        s.close()


# -- --get ---------------------------------------------------------------------------------------------
def test_cli_get_runs_one_request_in_process(sample, monkeypatch):
    monkeypatch.delenv("SEAWATCH_TOKEN", raising=False)
    db = str(sample["db"])
    r = CliRunner().invoke(serve_command, ["--db", db, "--get", "/api/vessels?limit=2"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert len(data["items"]) == 2 and data["total"] > 2
    r = CliRunner().invoke(serve_command, ["--db", db, "--get", "/api/vessels?limit=0"])
    assert r.exit_code == 1 and json.loads(r.output)["error"]["param"] == "limit"
    r = CliRunner().invoke(serve_command, ["--db", db, "--get", "/api/health", "--headers"])
    assert r.exit_code == 0 and r.output.startswith("HTTP/1.1 200") and "content-security-policy" in r.output
    r = CliRunner().invoke(serve_command, ["--db", db, "--get", "api/health"])
    assert r.exit_code == 2 and "starting with '/'" in r.output
    r = CliRunner().invoke(serve_command, ["--db", db, "--get", "/api/live?timeout_s=0.2"])
    assert r.exit_code == 0 and "event: hello" in r.output and "event: bye" in r.output
    # with a token set, --get carries it (it is this process's own request)
    r = CliRunner().invoke(serve_command, ["--db", db, "--get", "/api/stats"], env={"SEAWATCH_TOKEN": TOKEN})
    assert r.exit_code == 0 and json.loads(r.output)["files"] == 1


# -- live updates ----------------------------------------------------------------------------------------
def _parse_sse(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.split("\n\n"):
        name, data = None, None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if name:
            out.append((name, data))
    return out


def test_live_stream_reports_store_changes(sample, tmp_path):
    db = tmp_path / "db"
    shutil.copytree(sample["db"], db)
    app = create_app(db)
    store = Store(db)

    def change():
        time.sleep(0.6)
        ev = store.table("events")
        store.write_derived("events", ev.head(ev.height - 1))
        time.sleep(0.6)
        from seawatch.ingest import ingest
        from seawatch.simulate import generate_feed

        f = tmp_path / "more.nmea"
        generate_feed(f, vessels=2, hours=0.1, seed=9, start_epoch=1_717_210_000)
        ingest([f], db)

    t = threading.Thread(target=change)
    t.start()
    r = request(app, "/api/live?interval_s=0.1&timeout_s=4")
    t.join()
    assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream")
    msgs = _parse_sse(r.text)
    assert msgs[0][0] == "hello" and msgs[-1][0] == "bye"
    changes = [set(d["changed"]) for n, d in msgs if n == "update"]
    assert {"events"} in changes
    assert any("positions" in c for c in changes)
    assert msgs[-2][1]["version"]["files"] == 2


def test_live_stream_over_http(sample):
    import uvicorn

    app = create_app(sample["db"], poll_s=0.2)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1))
    th = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    th.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/live?timeout_s=1", timeout=10) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            body = resp.read().decode()
        assert [n for n, _ in _parse_sse(body)] == ["hello", "bye"]
        with pytest.raises(urllib.error.HTTPError) as ei:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/vessels", method="POST",
                                                          data=b"{}"), timeout=10)
        assert ei.value.code == 405 and json.loads(ei.value.read())["error"]["code"] == "method_not_allowed"
    finally:
        server.should_exit = True
        th.join(timeout=10)
        sock.close()


def test_empty_store_answers_every_endpoint(tmp_path):
    Store(tmp_path / "empty", create=True)
    app = create_app(tmp_path / "empty")
    st = ok_json(app, "/api/stats", models.Stats)
    assert st["positions"] == 0 and st["time_start"] is None and st["events"] == 0
    v = ok_json(app, "/api/vessels", models.VesselPage)
    assert v == {"items": [], "total": 0, "limit": 500, "offset": 0, "next_offset": None, "ref_time": None}
    assert ok_json(app, "/api/vessels?at=2024-06-01")["total"] == 0
    assert ok_json(app, "/api/events", models.EventPage)["total"] == 0
    assert ok_json(app, "/api/zones?kind=custom")["total"] == 0
    assert ok_json(app, "/api/zones")["total"] > 10  # the built-in zones are always there
    assert_error(get(app, "/api/vessels/431000001"), 404, "not_found")
    assert_error(get(app, "/api/vessels/431000001/track"), 404, "not_found")
    assert get(app, "/").status == 200


def test_unreadable_store_is_a_503_not_a_crash(sample, tmp_path):
    db = tmp_path / "db"
    shutil.copytree(sample["db"], db)
    # a derived table written without a column the schema now has (an older seawatch)
    part = next((db / "risk").glob("gen-*/part.parquet"))
    pl.read_parquet(part).drop("reasons").write_parquet(part)
    app = create_app(db)
    e = assert_error(get(app, "/api/vessels"), 503, "store_error")
    assert "seawatch detect" in e["message"]
    assert get(app, "/api/health").status == 200
