"""Radar plots and satellite detections of the simulator: what the sensors see (range, sector,
harbour mask), with what error, what they miss, and the truth that ties each detection to a
vessel and its AIS state. The dark-vessel scores on the scenarios are in tests/test_demo.py."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
import pytest

from seawatch import astro, zones
from seawatch.detections import DETECTIONS, read_detections
from seawatch.scenarios import PORTS
from seawatch.simulate import (
    HARBOUR_MASK_NM,
    RADAR_MIN_RANGE_NM,
    _in_sector,
    radar_range_nm,
    run,
    simulate,
)
from seawatch.tracks import bearing_deg, haversine_nm

BERTHS = np.array([p.berth for p in PORTS.values()])


@cache
def sim_of(name: str, seed: int = 0):
    return run(name, seed=seed)[0]


@cache
def joined(name: str) -> pl.DataFrame:
    sim = sim_of(name)
    truth = sim.detections_truth.drop("source").rename({"length_m": "true_length_m"})
    return sim.detections.join(truth, on="detection_id", how="left")


def epoch_s(df: pl.DataFrame, sim) -> np.ndarray:
    return df["ts"].dt.epoch("us").to_numpy() / 1e6 - sim.epoch0


def test_files_follow_the_schema_and_read_back(tmp_path):
    res = simulate("niigata-night", tmp_path, seed=2, hours=4.0)
    r = read_detections(tmp_path / "detections.csv")
    assert r.rejects.height == 0 and r.detections.height == res["detections"] > 1000
    assert r.detections.schema == pl.Schema({c.name: c.dtype for c in DETECTIONS})
    assert r.detections["detection_id"].is_unique().all()
    truth = pl.read_csv(res["detections_truth"])
    assert truth["detection_id"].to_list() == r.detections["detection_id"].to_list()
    assert set(truth["ais"].drop_nulls()) <= {"on", "off", "none"}
    # a radar sweep or a satellite pass is one pass_id; plots of one sweep lie within a rotation
    d = r.detections
    assert set(d["sensor"]) == {"radar", "sar"}
    span = d.group_by("pass_id").agg(dt=(pl.col("ts").max() - pl.col("ts").min()).dt.total_seconds(fractional=True),
                                     sensor=pl.col("sensor").first())
    assert span.filter(pl.col("sensor") == "radar")["dt"].max() <= 2.4
    assert span.height == d["pass_id"].n_unique() > 4 * 79  # 4 radars, a sweep every 3 min, and a SAR pass
    readme = (tmp_path / "README.md").read_text()
    assert "## Sensors: radar plots and satellite detections" in readme and "kashiwazaki-radar" in readme


def test_same_seed_same_detections_other_seed_others(tmp_path):
    for d, seed in (("a", 3), ("b", 3), ("c", 4)):
        simulate("amami-2001", tmp_path / d, seed=seed, hours=4.0)
    for f in ("detections.csv", "detections_truth.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / "detections.csv").read_bytes() != (tmp_path / "c" / "detections.csv").read_bytes()


@pytest.mark.parametrize("name", ["all", "amami-2001"])
def test_radar_sees_within_its_horizon_and_sector_never_in_harbour(name):
    sim = sim_of(name)
    j = joined(name)
    radars = {f"{r.name}-radar": r for r in sim.scenario.radars}
    v = j.filter(pl.col("vessel").is_not_null())
    # nothing is detected in a harbour (radar blanking, the satellites' land mask)
    d_berth = haversine_nm(v["true_lat"].to_numpy()[:, None], v["true_lon"].to_numpy()[:, None], BERTHS[:, 0], BERTHS[:, 1])
    assert d_berth.min() >= HARBOUR_MASK_NM
    for src, r in radars.items():
        p = v.filter(pl.col("source") == src)
        assert p.height > 100
        la, lo = p["true_lat"].to_numpy(), p["true_lon"].to_numpy()
        d = haversine_nm(r.lat, r.lon, la, lo)
        limit = radar_range_nm(r, p["true_length_m"].to_numpy())
        assert (d <= limit + 0.01).all() and (d >= RADAR_MIN_RANGE_NM - 0.01).all()
        assert _in_sector(bearing_deg(r.lat, r.lon, la, lo), r.sector).all()
        # the horizon is reached: big ships are seen farther out than small craft
        small, big = p["true_length_m"].to_numpy() < 20, p["true_length_m"].to_numpy() > 80
        if small.any() and big.any():
            assert d[big].max() > d[small].max()
        c = j.filter((pl.col("source") == src) & pl.col("vessel").is_null())
        assert c.height > 10 and c["confidence"].max() < 0.5 and p["confidence"].min() >= 0.5  # clutter is weak
        dc = haversine_nm(r.lat, r.lon, c["lat"].to_numpy(), c["lon"].to_numpy())
        assert (dc >= r.clutter_nm[0] - 0.01).all() and (dc <= r.clutter_nm[1] + 0.01).all()
    # clutter and the vessels seen are at sea
    sea = j.filter(pl.col("vessel").is_null() | pl.col("label").str.contains("AIS-silent"))
    assert not zones.lookup(sea["true_lat"].to_numpy(), sea["true_lon"].to_numpy())["on_land"].any()


def test_radar_misses_some_plots_and_sees_big_ships_more_often():
    sim = sim_of("all")
    for src, c in sim.sensor_counts.items():
        assert c["plots"] > 0 and c["missed"] > 0, src
        if src.endswith("-radar"):
            assert 0.10 < c["missed"] / (c["plots"] + c["missed"]) < 0.6, (src, c)
    j = joined("all").filter(pl.col("sensor") == "radar", pl.col("vessel").is_not_null())
    # plots per vessel per sweep-in-range: the ferries and ships (> 80 m) are seen on more sweeps
    # than the small fishing boats; the silent wooden boat is missed on some sweeps too
    per = j.group_by("vessel").agg(n=pl.len(), label=pl.col("label").first())
    silent = per.filter(pl.col("label").str.contains("AIS-silent"))
    assert silent.height == 1
    r = {x.name + "-radar": x for x in sim.scenario.radars}["kashiwazaki-radar"]
    sweeps = np.arange(r.phase_s, sim.duration_s, r.sweep_s)
    vi = int(silent["vessel"][0])
    from seawatch.simulate import _positions

    la, lo, ex, _ = _positions([sim.vessels[vi]], sweeps)
    d = haversine_nm(r.lat, r.lon, la[0], lo[0])
    in_range = ex[0] & (d <= radar_range_nm(r, 14.0)) & _in_sector(bearing_deg(r.lat, r.lon, la[0], lo[0]), r.sector)
    seen = j.filter((pl.col("vessel") == vi) & (pl.col("source") == "kashiwazaki-radar")).height
    assert in_range.sum() > 60 and 0.3 * in_range.sum() < seen < in_range.sum()


def test_position_length_and_heading_errors():
    j = joined("all").filter(pl.col("vessel").is_not_null())
    err = haversine_nm(j["lat"].to_numpy(), j["lon"].to_numpy(), j["true_lat"].to_numpy(), j["true_lon"].to_numpy()) * 1852
    radar = (j["sensor"] == "radar").to_numpy()
    assert 30 < np.median(err[radar]) < 150 and np.percentile(err[radar], 99) < 600  # ~50-150 m
    assert 150 < np.median(err[~radar]) < 500 and err[~radar].max() < 1500  # satellite: 200-500 m
    r = j.filter(pl.col("sensor") == "radar")
    assert r["length_m"].null_count() == r.height and r["heading_deg"].null_count() == r.height
    s = j.filter(pl.col("sensor") == "sar")
    ratio = (s["length_m"] / s["true_length_m"]).to_numpy()
    assert s.height > 50 and ratio.min() >= 0.69 and ratio.max() <= 1.41 and 0.9 < np.median(ratio) < 1.1
    assert s["heading_deg"].null_count() == 0


def test_truth_ais_states_and_the_dark_records():
    sim = sim_of("all")
    j = joined("all")
    t = epoch_s(j, sim)
    ais = j["ais"].to_numpy()
    for i in j["vessel"].drop_nulls().unique().to_list():
        v = sim.vessels[i]
        m = (j["vessel"] == i).fill_null(False).to_numpy()
        off = np.zeros(int(m.sum()), bool)
        for a, b in v.off:
            off |= (t[m] >= a) & (t[m] < b)
        if not v.ais:
            assert set(ais[m]) == {"none"} and not (sim.msgs["vi"] == i).any()  # never sent a message
            assert j.filter(pl.col("vessel") == i)["mmsi"].null_count() == int(m.sum())
        else:
            assert ((ais[m] == "off") == off).all() and ((ais[m] == "on") == ~off).all()
            # honest vessels switch AIS off only at the berth, inside the harbour mask
            assert not v.honest or not off.any(), v.label
    # every vessel transmitting that a sensor sees is heard by a shore station (the sensors look
    # where the AIS receivers listen)
    assert j.filter(pl.col("ais") == "on")["heard"].all()
    # the dark truth: each planted vessel seen while dark, first to last detection
    dark = [r for r in sim.truth if r["event_type"] in ("dark_target", "dark_track")]
    assert {(r["event_type"], r["mmsi"] is None) for r in dark} >= {("dark_target", True), ("dark_track", True)}
    for r in dark:
        mine = j.filter((pl.col("vessel") == r["vessel"]) & pl.col("ais").is_in(["off", "none"]))
        ts = mine["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert ts.min() <= r["start_time"] <= ts.max() and r["end_time"] <= ts.max() and mine.height >= 3
        assert not sim.vessels[r["vessel"]].honest


def test_the_silent_boat_comes_at_night_close_to_the_coast():
    sim = sim_of("niigata-night")
    j = joined("niigata-night").filter(pl.col("ais") == "none")
    assert j["vessel"].n_unique() == 1 and j.height > 60
    assert j["source"].n_unique() >= 2  # two radars (and maybe the night SAR pass)
    night = astro.is_night(j["true_lat"].to_numpy(), j["true_lon"].to_numpy(), j["ts"])
    assert night.all()
    z = zones.lookup(j["true_lat"].to_numpy(), j["true_lon"].to_numpy())
    assert not z["on_land"].any() and z["dist_to_shore_nm"].min() < 4.0
    assert (z["zone_kind"] == "territorial_sea").sum() > 30
    # its route never touches land, from start to end
    v = sim.vessels[int(j["vessel"][0])]
    t = np.arange(v.route.t[0], v.route.t[-1], 120.0)
    la, lo = np.interp(t, v.route.t, v.route.lat), np.interp(t, v.route.t, v.route.lon)
    assert not zones.lookup(la, lo)["on_land"].any()
