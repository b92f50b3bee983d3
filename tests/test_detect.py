"""Detectors owned by seawatch.detect: ais_gap, speed_anomaly, position_jump, zone crossings,
night_coastal_approach, risk scores, presets and config. Each with positives and hard negatives."""

from __future__ import annotations

import json

import polars as pl
import pytest

from seawatch import schema
from seawatch.detect import detect, params_for, risk_scores
from seawatch.errors import SeawatchError
from seawatch.testing import concat, ping, static, track, tracks_of
from seawatch.tracks import destination

SEA = dict(lat=38.6, lon=137.6)  # Sea of Japan, ~45 nm off Sado: far from ports, inside Japan's EEZ


def events(tracks, statics=None, only=None, preset="coastal", **kw):
    ev = detect(tracks, statics=statics, only=only, preset=preset, **kw)
    assert ev.schema == schema.polars_schema("events")
    return ev


def evidence(ev):
    return [json.loads(e) for e in ev["evidence"]]


# -- ais_gap ----------------------------------------------------------------------------------------
def _neighbours(n=3, hours=6):
    # drifting a few nm east of SEA: within 20 nm of both ends of _silent's gap
    return [track(431100000 + i, lat=SEA["lat"] + 0.05 * i, lon=SEA["lon"] + 0.15, sog_kn=0.5, hours=hours, every_s=300) for i in range(n)]


def _silent(hours_before=1, silent_h=3, hours_after=1, sog=4.0, **at):
    at = {**SEA, **at}
    a = track(431000001, sog_kn=sog, cog_deg=90, hours=hours_before, every_s=60, **at)
    lat, lon = destination(at["lat"], at["lon"], 90, sog * (hours_before + silent_h))
    b = track(431000001, sog_kn=sog, cog_deg=90, hours=hours_after, every_s=60, lat=float(lat), lon=float(lon),
              start=f"2024-06-01T{hours_before + silent_h:02d}:00:00Z")
    return a, b


def test_gap_where_others_are_heard_is_an_ais_gap_with_evidence():
    a, b = _silent(silent_h=3)
    ev = events(tracks_of(a, b, *_neighbours()), only=["ais_gap"])
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["mmsi"] == 431000001 and e["status"] == "closed" and e["event_type"] == "ais_gap"
    assert e["start_time"].isoformat() == "2024-06-01T01:00:00+00:00"
    ed = evidence(ev)[0]
    assert ed["gap_h"] == pytest.approx(3.0) and ed["min_gap_h"] == 2.0
    assert ed["implied_speed_kn"] == pytest.approx(4.0, rel=0.02)
    assert ed["reception_positions_start"] >= 5 and ed["reception_vessels_start"] == 3
    assert e["zone_state"] == "JPN"


def test_a_vessel_beyond_any_receiver_with_no_other_traffic_heard_is_not_an_ais_gap():
    a, b = _silent(silent_h=3)
    assert events(tracks_of(a, b), only=["ais_gap"]).height == 0


def test_short_silences_and_the_gfw_preset_thresholds():
    a, b = _silent(silent_h=1, hours_after=4)  # reports until the neighbours stop
    assert events(tracks_of(a, b, *_neighbours()), only=["ais_gap"]).height == 0
    a, b = _silent(silent_h=3)
    assert events(tracks_of(a, b, *_neighbours()), only=["ais_gap"], preset="gfw").height == 0


def test_a_vessel_that_goes_dark_while_others_are_heard_is_an_open_gap():
    a = track(431000001, sog_kn=8, hours=1, every_s=60, **SEA)
    # traffic heard where it would have been: 8 kn east for the 2 h of min_gap_h (~16 nm on)
    ahead = [track(431200000 + i, lat=SEA["lat"] + 0.05 * i, lon=SEA["lon"] + 0.5, sog_kn=0.5, hours=5, every_s=300)
             for i in range(3)]
    ev = events(tracks_of(a, *_neighbours(hours=5), *ahead), only=["ais_gap"])
    assert ev.height == 1 and ev["status"][0] == "open" and ev["end_time"][0] is None
    assert ev["severity"][0] == "high"


def test_a_ship_steaming_out_of_range_is_not_an_open_gap():
    # heard until it leaves the receivers' range; the traffic behind it is still heard, none ahead
    a = track(431000001, sog_kn=12, cog_deg=270, hours=1, every_s=60, **SEA)
    assert events(tracks_of(a, *_neighbours(hours=5)), only=["ais_gap"]).height == 0


def test_a_gap_in_port_is_not_an_ais_gap():
    # Niigata port: the ship switches off at its berth
    port = dict(lat=37.935, lon=139.06)
    a = track(431000001, sog_kn=0, hours=1, every_s=60, **port)
    b = track(431000001, sog_kn=0, hours=1, every_s=60, start="2024-06-01T05:00:00Z", **port)
    others = [track(431100000 + i, sog_kn=0, hours=6, every_s=300, lat=port["lat"] + 0.002 * i, lon=port["lon"]) for i in range(3)]
    assert events(tracks_of(a, b, *others), only=["ais_gap"]).height == 0


def test_reception_counts_carried_between_calls_equal_counting_again():
    """The live watch keeps ais_gap's reception counts between passes (gap.ReceptionCache) and
    counts a gap again only when its ends or buckets moved or the grid changed in one of its
    buckets: the counts equal a count from scratch, call after call."""
    import numpy as np
    from polars.testing import assert_frame_equal

    from seawatch.detect import gap

    rng = np.random.default_rng(3)
    t_start = np.datetime64("2024-06-01T00:00:00", "us")

    def heard(n, h0, h1):  # n positions of 40 vessels around SEA between hours h0 and h1
        return pl.DataFrame({
            "mmsi": rng.integers(431100000, 431100040, n),
            "ts": pl.Series(t_start + (rng.uniform(h0, h1, n) * 3.6e9).astype("timedelta64[us]")).dt.replace_time_zone("UTC"),
            "lat": SEA["lat"] + rng.uniform(-0.4, 0.4, n), "lon": SEA["lon"] + rng.uniform(-0.5, 0.5, n)})

    n_gaps = 30
    t0 = t_start + (rng.uniform(0, 3, n_gaps) * 3.6e9).astype("timedelta64[us]")
    t1 = t0 + (rng.uniform(2, 4, n_gaps) * 3.6e9).astype("timedelta64[us]")
    is_open = np.arange(n_gaps) % 3 == 0
    gaps = pl.DataFrame({
        "t0": pl.Series(t0).dt.replace_time_zone("UTC"),
        "t1": pl.Series(t1).dt.replace_time_zone("UTC").scatter(np.flatnonzero(is_open), None),
        "lat0": SEA["lat"] + rng.uniform(-0.3, 0.3, n_gaps), "lon0": SEA["lon"] + rng.uniform(-0.3, 0.3, n_gaps),
        "lat1": pl.Series(SEA["lat"] + rng.uniform(-0.3, 0.3, n_gaps)).scatter(np.flatnonzero(is_open), None),
        "lon1": pl.Series(SEA["lon"] + rng.uniform(-0.3, 0.3, n_gaps)).scatter(np.flatnonzero(is_open), None),
        "sog0": rng.uniform(0, 6, n_gaps).astype(np.float32), "cog0": rng.uniform(0, 360, n_gaps).astype(np.float32),
    }).with_row_index("gi")
    pts = heard(4000, 0, 8)
    cache = gap.ReceptionCache()

    def both(points, end):
        grid = gap.vessel_grid(points)
        kw = dict(open_radius_nm=10.0, open_ahead_h=2.0, grid=grid)
        got = gap._reception(gaps, None, 20.0, end, cache=cache, **kw)
        assert_frame_equal(got, gap._reception(gaps, None, 20.0, end, **kw))
        return grid

    end = pts["ts"].max()
    grid = both(pts, end)
    assert cache.counted == n_gaps and cache.reused == 0 and (grid["n"] > 0).all()
    both(pts, end)  # nothing changed: every gap's counts reused
    assert cache.counted == n_gaps and cache.reused == n_gaps
    # new positions of some vessels between hours 3 and 4, the grid changes in those buckets only
    more = pl.concat([pts, heard(300, 3, 4)])
    new = gap.vessel_grid(more)
    cache.grid_changed(pl.concat([grid.join(new, on=grid.columns, how="anti"), new.join(grid, on=grid.columns, how="anti")])["tb"])
    both(more, end)
    assert 0 < cache.counted - n_gaps < n_gaps and cache.reused > n_gaps  # some counted again, some reused
    # data time moves on by an hour: open gaps reach new buckets and are counted again
    before = cache.counted
    both(more, end + np.timedelta64(1, "h"))
    assert cache.counted - before >= int(is_open.sum())


# -- speed_anomaly -----------------------------------------------------------------------------------
def test_a_declared_fishing_vessel_at_32_kn_is_a_speed_anomaly():
    ev = events(tracks_of(track(412000001, sog_kn=32, hours=0.5, **SEA)), statics=static(412000001, ship_type=30), only=["speed_anomaly"])
    assert ev.height == 1
    ed = evidence(ev)[0]
    assert ed["limit_kn"] == 18 and ed["max_speed_kn"] == pytest.approx(32) and ed["ship_type"] == 30
    assert ev["severity"][0] == "high"


def test_a_30_kn_fast_ferry_type_40_is_not_a_speed_anomaly_even_leaving_port():
    slow = track(431000040, sog_kn=2, hours=0.2, **SEA)
    fast = track(431000040, sog_kn=30, hours=1, start="2024-06-01T00:12:10Z", lat=slow["lat"][-1], lon=slow["lon"][-1])
    assert events(tracks_of(slow, fast), statics=static(431000040, ship_type=40), only=["speed_anomaly"]).height == 0


def test_a_cargo_ship_at_service_speed_is_not_a_speed_anomaly():
    assert events(tracks_of(track(431000070, sog_kn=20, hours=2, **SEA)), statics=static(431000070, ship_type=70), only=["speed_anomaly"]).height == 0


def test_a_dash_from_drifting_to_25_kn_within_15_min_is_a_speed_anomaly():
    drift = track(412000002, sog_kn=1, hours=1, every_s=60, **SEA)
    dash = track(412000002, sog_kn=25, hours=0.1, every_s=60, start="2024-06-01T01:01:00Z", lat=drift["lat"][-1], lon=drift["lon"][-1])
    # declared a cargo ship: 25 kn is under its limit, so only the dash rule can fire
    ev = events(tracks_of(drift, dash), statics=static(412000002, ship_type=70), only=["speed_anomaly"])
    assert ev.height == 1 and evidence(ev)[0]["rule"] == "dash"
    assert evidence(ev)[0]["speed_before_dash_kn"] == pytest.approx(1)


def test_a_short_burst_over_the_limit_is_not_sustained():
    slow = track(412000003, sog_kn=10, hours=1, every_s=60, **SEA)
    burst = track(412000003, sog_kn=19.5, hours=5 / 60, every_s=60, start="2024-06-01T01:01:00Z", lat=slow["lat"][-1], lon=slow["lon"][-1])
    assert events(tracks_of(slow, burst), statics=static(412000003, ship_type=30), only=["speed_anomaly"]).height == 0


# -- position_jump -----------------------------------------------------------------------------------
def test_two_transmitters_on_one_mmsi_are_a_position_jump_naming_both_positions():
    a = track(431000001, lat=37.5, lon=135.0, every_s=60, hours=2)
    b = track(431000001, lat=38.6, lon=137.6, every_s=60, hours=2, start="2024-06-01T00:00:30Z")
    ev = events(tracks_of(a, b), only=["position_jump"])
    assert ev.height == 1
    ed = evidence(ev)[0]
    assert ed["rule"] == "concurrent_segments" and ed["implied_speed_kn"] > 60
    lats = sorted([ed["position_a"][0], ed["position_b"][0]])
    assert lats[0] == pytest.approx(37.5, abs=0.01) and lats[1] == pytest.approx(38.6, abs=0.01)


def test_one_glitch_is_not_a_position_jump_but_repeated_ones_are():
    ship = track(431000003, hours=3, every_s=60, **SEA)
    g1 = ping(431000003, ts="2024-06-01T01:00:30Z", lat=40.0, lon=140.0)
    assert events(tracks_of(ship, g1), only=["position_jump"]).height == 0
    g2 = ping(431000003, ts="2024-06-01T02:00:30Z", lat=36.0, lon=134.0)
    ev = events(tracks_of(ship, g1, g2), only=["position_jump"])
    assert ev.height == 1 and evidence(ev)[0]["jumps"] == 2 and evidence(ev)[0]["rule"] == "repeated_jumps"


def test_an_honest_vessel_is_not_a_position_jump():
    assert events(tracks_of(track(431000009, sog_kn=14, hours=3, **SEA)), only=["position_jump"]).height == 0


# -- zone crossings ------------------------------------------------------------------------------
def _approach(mmsi, start="2024-06-01T03:00:00Z", hours=3.5, sog=12.0, every_s=120):
    # due east towards the Akita coast (Oga, open sea to the west): EEZ -> contiguous zone -> TS
    lat, lon = destination(39.72, 140.0, 270, 44)
    return track(mmsi, lat=float(lat), lon=float(lon), cog_deg=90, sog_kn=sog, hours=hours, every_s=every_s, start=start)


def test_a_foreign_vessel_entering_the_territorial_sea_crosses_the_contiguous_zone_then_the_territorial_sea():
    ev = events(tracks_of(_approach(412000010)), only=["zone_crossing"])
    entries = ev.filter(pl.col("event_type") == "zone_entry").sort("start_time")
    assert entries["zone_kind"].to_list() == ["contiguous_zone", "territorial_sea"]
    assert entries["zone_state"].to_list() == ["JPN", "JPN"]
    ts = entries.row(1, named=True)
    assert ts["severity"] in ("medium", "high") and evidence(entries)[1]["vessel_flag"] == "CHN"
    assert ev.filter(pl.col("event_type") == "zone_exit").height == 0  # it never left


def test_a_jump_from_the_eez_into_the_territorial_sea_enters_both_zones_at_once():
    # one report 44 nm off (EEZ), the next 80 min later 10 nm off (territorial sea): the vessel
    # entered the contiguous zone and the territorial sea at the same point and time, and the
    # territorial-sea entry (the one that matters) is not lost behind the contiguous-zone one
    ev = events(tracks_of(_approach(412000012, hours=2.7, every_s=4800)), only=["zone_crossing"])
    entries = ev.filter(pl.col("event_type") == "zone_entry")
    assert sorted(entries["zone_kind"].to_list()) == ["contiguous_zone", "territorial_sea"]
    assert entries["start_time"].n_unique() == 1 and entries["event_id"].n_unique() == 2
    assert entries.filter(pl.col("zone_kind") == "territorial_sea")["severity"].item() in ("medium", "high")


def test_an_own_flag_vessel_entering_is_info_only():
    ev = events(tracks_of(_approach(431000010)), only=["zone_crossing"])
    assert set(ev.filter(pl.col("event_type") == "zone_entry")["severity"]) == {"info"}


def test_a_vessel_leaving_the_territorial_sea_makes_an_exit():
    lat, lon = destination(39.72, 140.0, 270, 2)  # off Akita, heading out to sea
    ev = events(tracks_of(track(412000011, lat=float(lat), lon=float(lon), cog_deg=270, sog_kn=12, hours=2.75, every_s=120)), only=["zone_crossing"])
    exits = ev.filter(pl.col("event_type") == "zone_exit")
    assert "territorial_sea" in exits["zone_kind"].to_list()
    assert ev.filter(pl.col("event_type") == "zone_entry").height == 0  # started inside: no crossing in


# -- night_coastal_approach ------------------------------------------------------------------------
def _hover(mmsi, start, lat=None, lon=None, hours=1.0, sog=1.0):
    if lat is None:
        lat, lon = destination(37.95, 139.05, 315, 6)  # 6 nm off Niigata
    return track(mmsi, lat=float(lat), lon=float(lon), sog_kn=sog, cog_deg=45, hours=hours, every_s=120, start=start)


def test_a_foreign_boat_hovering_6_nm_off_niigata_at_night_is_a_night_coastal_approach():
    # 15:00 UTC = midnight JST
    ev = events(tracks_of(_hover(445000001, "2024-06-01T15:00:00Z")), only=["night_coastal_approach"])
    assert ev.height == 1 and ev["severity"][0] == "high"
    ed = evidence(ev)[0]
    assert ed["vessel_flag"] == "PRK" and ed["coastal_state"] == "JPN"
    assert ed["duration_min"] == pytest.approx(60) and ed["min_dist_to_shore_nm"] < 12


def test_night_approach_hard_negatives():
    # the same hover by day (03:00 UTC = noon JST); by a Japanese vessel; moving at 10 kn; 20 min only
    assert events(tracks_of(_hover(445000001, "2024-06-01T03:00:00Z")), only=["night_coastal_approach"]).height == 0
    assert events(tracks_of(_hover(431000001, "2024-06-01T15:00:00Z")), only=["night_coastal_approach"]).height == 0
    assert events(tracks_of(_hover(445000001, "2024-06-01T15:00:00Z", sog=10, hours=0.3)), only=["night_coastal_approach"]).height == 0
    assert events(tracks_of(_hover(445000001, "2024-06-01T15:00:00Z", hours=1 / 3)), only=["night_coastal_approach"]).height == 0
    # in Niigata port at night
    assert events(tracks_of(_hover(445000001, "2024-06-01T15:00:00Z", lat=37.935, lon=139.06, sog=0)), only=["night_coastal_approach"]).height == 0


# -- all together: ids, risk, presets, config ----------------------------------------------------------
def _scene():
    a, b = _silent(silent_h=3)
    # the dasher reports until the neighbours stop: it does not also go dark
    dash = track(412000001, sog_kn=32, hours=0.5, **SEA)
    on = track(412000001, sog_kn=10, hours=5.5, start="2024-06-01T00:31:00Z", lat=dash["lat"][-1], lon=dash["lon"][-1])
    return tracks_of(a, b, *_neighbours(), _hover(445000001, "2024-06-01T15:00:00Z"), dash, on)


def test_rerunning_gives_the_same_event_ids():
    t = _scene()
    st = static(412000001, ship_type=30)
    a = events(t, statics=st)
    b = events(t.sample(fraction=1.0, shuffle=True, seed=2), statics=st)
    assert a["event_id"].to_list() == b["event_id"].to_list() and a.height >= 3
    assert a["event_id"].n_unique() == a.height


def test_risk_ranks_the_night_hoverer_first_and_lists_its_reasons():
    ev = events(_scene(), statics=static(412000001, ship_type=30))
    r = risk_scores(ev)
    assert r.schema == schema.polars_schema("risk")
    assert r["mmsi"][0] == 445000001 and 0 < r["risk"][0] <= 100
    reasons = json.loads(r["reasons"][0])
    assert reasons[0]["event_type"] == "night_coastal_approach" and reasons[0]["points"] > 0
    assert sum(x["points"] for x in reasons) == pytest.approx(r["risk"][0], abs=0.05)
    # the drifting neighbours loiter (low severity): a few points, far below the suspects
    assert r.filter(pl.col("mmsi") == 431100000)["risk"][0] < 5


def test_config_overrides_and_mistakes(tmp_path):
    p = params_for("coastal", {"ais_gap": {"min_gap_h": 4}})
    assert p["ais_gap"].min_gap_h == 4 and params_for("gfw")["ais_gap"].min_gap_h == 12
    a, b = _silent(silent_h=3)
    assert events(tracks_of(a, b, *_neighbours()), only=["ais_gap"], config={"ais_gap": {"min_gap_h": 4}}).height == 0
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ais_gap]\nmin_gap_h = 4\n")
    assert params_for("coastal", cfg)["ais_gap"].min_gap_h == 4
    with pytest.raises(SeawatchError, match="unknown keys"):
        params_for("coastal", {"ais_gap": {"min_gap": 4}})
    with pytest.raises(SeawatchError, match="unknown sections"):
        params_for("coastal", {"gaps": {}})
    with pytest.raises(SeawatchError, match="unknown preset"):
        params_for("nope")
    cfg.write_text("[ais_gap\n")
    with pytest.raises(SeawatchError, match="not valid TOML"):
        params_for("coastal", cfg)


# -- over a store, from the command line ------------------------------------------------------------
def _store(tmp_path, *frames, statics=None):
    import hashlib

    from seawatch.ingest.result import IngestResult
    from seawatch.store import Store

    st = Store(tmp_path / "db", create=True)
    pos = concat(*frames)
    fp = hashlib.sha256(b"scene").hexdigest()
    st.begin_file(fp)
    st.write_chunk(fp, 0, IngestResult(positions=pos, statics=statics if statics is not None else schema.empty("statics"),
                                       other=schema.empty("other"), rejects=schema.empty("rejects"),
                                       lines_read=pos.height, lines_decoded=pos.height, duplicates=0))
    st.commit_file(fp, {"path": "scene", "format": "test"})
    return st


def test_a_user_area_imported_into_the_store_gives_entry_and_exit_events(tmp_path):
    from click.testing import CliRunner

    from seawatch.cli import main

    st = _store(tmp_path, _approach(412000010))
    area = tmp_path / "watch.geojson"
    # a box astride the approach, 10-20 nm off the coast
    box = [[139.55, 39.6], [139.75, 39.6], [139.75, 39.85], [139.55, 39.85], [139.55, 39.6]]
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Oga watch box"}, "geometry": {"type": "Polygon", "coordinates": [box]}}]}))
    r = CliRunner().invoke(main, ["zones", "import", str(area), "--kind", "custom", "--db", str(st.path)])
    assert r.exit_code == 0 and "custom-oga_watch_box" in r.output, r.output
    listed = CliRunner().invoke(main, ["zones", "list", "--db", str(st.path)])
    assert "Oga watch box" in listed.output and "imported" in listed.output
    out = tmp_path / "events.jsonl"
    r = CliRunner().invoke(main, ["detect", "--db", str(st.path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    ev = [json.loads(x) for x in out.read_text().splitlines()]
    custom = [e for e in ev if e["zone_kind"] == "custom"]
    assert {e["event_type"] for e in custom} == {"zone_entry", "zone_exit"}
    assert all(e["zone_name"] == "Oga watch box" for e in custom)
    assert isinstance(custom[0]["evidence"], dict) and custom[0]["start_time"].endswith("Z")


def test_detect_and_vessels_commands_over_a_store(tmp_path):
    from click.testing import CliRunner

    from seawatch.cli import main
    from seawatch.store import Store

    a, b = _silent(silent_h=3)
    st = _store(tmp_path, a, b, *_neighbours(), _hover(445000001, "2024-06-01T15:00:00Z"),
                statics=static(445000001, shipname="CHOSUN 1", ship_type=30))
    run = CliRunner()
    no = run.invoke(main, ["vessels", "--db", str(st.path)])
    assert no.exit_code == 2 and "run `seawatch detect" in no.output
    r1 = run.invoke(main, ["detect", "--db", str(st.path)])
    assert r1.exit_code == 0 and "night_coastal_approach" in r1.output and "ais_gap" in r1.output, r1.output
    ids1 = sorted(Store(st.path).table("events")["event_id"].to_list())
    r2 = run.invoke(main, ["detect", "--db", str(st.path)])
    ids2 = sorted(Store(st.path).table("events")["event_id"].to_list())
    assert ids1 == ids2 and len(ids1) == len(set(ids1))  # same ids, no duplicates on rerun
    v = run.invoke(main, ["vessels", "--db", str(st.path), "--top", "2"])
    assert v.exit_code == 0 and "445000001" in v.output.splitlines()[1] and "CHOSUN 1" in v.output
    js = json.loads(run.invoke(main, ["vessels", "--db", str(st.path), "--json"]).output)
    assert js[0]["mmsi"] == 445000001 and js[0]["reasons"][0]["event_type"] == "night_coastal_approach"
    gfw = run.invoke(main, ["detect", "--db", str(st.path), "--preset", "gfw"])
    assert gfw.exit_code == 0 and "ais_gap" not in gfw.output  # 3 h < 12 h
    for ext in ("csv", "geojson", "parquet", "kml", "geoparquet"):
        out = tmp_path / f"ev.{ext}"
        assert run.invoke(main, ["detect", "--db", str(st.path), "--out", str(out)]).exit_code == 0
        assert out.stat().st_size > 100
    bad = run.invoke(main, ["detect", "--db", str(st.path), "--out", str(tmp_path / "ev.txt")])
    assert bad.exit_code == 2 and "Error:" in bad.output
