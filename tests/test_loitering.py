"""Loitering detector: under 2 kn for 2 h or more away from ports (GFW: also 20 nm from shore).
Positives, hard negatives (a ferry in its port, a trawler at 3 kn), jitter, determinism, scale."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from seawatch import schema
from seawatch.detect import loitering
from seawatch.detect.base import Inputs
from seawatch.testing import concat, fleet, track, tracks_of
from seawatch.tracks import destination

T0 = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
SEA = {"lat": 38.6, "lon": 137.6}  # Sea of Japan, ~45 nm off Sado
PORT = {"lat": 37.935, "lon": 139.06}  # Niigata
PORTS = schema.conform(
    "ports",
    pl.DataFrame({"port_id": ["P1"], "name": ["Niigata"], "kind": ["port"], "lat": [PORT["lat"]], "lon": [PORT["lon"]]}),
)


# -- local builders (proposed for seawatch.testing) --------------------------------------------------------
def legs(mmsi=431000001, *parts, start_h=0.0, every_s=60.0, **at):
    """One vessel through consecutive legs ``(sog_kn, hours)`` heading east: a POSITIONS frame."""
    lat, lon = at.get("lat", SEA["lat"]), at.get("lon", SEA["lon"])
    frames, t = [], start_h
    for sog, hours in parts:
        start = (np.datetime64("2024-06-01T00:00") + np.timedelta64(round(t * 3600), "s")).astype(str) + "Z"
        frames.append(track(mmsi, start=start, lat=lat, lon=lon, sog_kn=sog, cog_deg=90, hours=hours, every_s=every_s))
        la, lo = destination(lat, lon, 90, sog * hours)
        lat, lon, t = float(la), float(lo), t + hours + every_s / 3600.0
    return concat(*frames)


def events(*frames, preset="coastal", ports=PORTS, params=None, tracks=None):
    tr = tracks if tracks is not None else tracks_of(concat(*frames), places=False)
    ev = loitering.detect(Inputs(tracks=tr, ports=ports, preset=preset), params)
    assert ev.schema == schema.polars_schema("events")
    return ev


def evidence(ev):
    return [json.loads(e) for e in ev["evidence"]]


# -- positives ------------------------------------------------------------------------------------------
def test_a_vessel_at_half_a_knot_for_3_h_at_sea_is_loitering_with_evidence():
    ev = events(track(431000001, sog_kn=0.5, hours=3, **SEA))
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["event_type"] == "loitering" and e["mmsi"] == 431000001 and e["other_mmsi"] is None
    assert e["start_time"].isoformat() == "2024-06-01T00:00:00+00:00"
    assert e["end_time"].isoformat() == "2024-06-01T03:00:00+00:00"
    assert e["status"] == "closed" and e["severity"] == "low" and e["preset"] == "coastal"
    ed = evidence(ev)[0]
    assert ed["duration_h"] == pytest.approx(3.0) and ed["mean_speed_kn"] == pytest.approx(0.5, rel=0.01)
    assert ed["distance_nm"] == pytest.approx(1.5, rel=0.01)
    assert ed["nearest_port_km"] is None and ed["dist_to_shore_nm"] is None
    assert (ed["max_speed_kn"], ed["min_duration_h"], ed["port_exclusion_km"], ed["min_shore_nm"]) == (2, 2, 3, 0)
    assert e["score"] == pytest.approx(0.2 + 0.8 * 1 / 22, abs=1e-4)
    assert abs(e["lat"] - SEA["lat"]) < 0.01


def test_the_last_point_counts_whatever_the_vessel_order():
    """A segment's last point is kept by the thinning even when it is not the first of its
    minute and its vessel comes last in the frame: the event ends at that point either way."""
    a = track(431000001, sog_kn=0.5, hours=3.01, every_s=20, **SEA)  # ends 03:00:40, not the first point of its minute
    b = track(431000002, sog_kn=0.5, hours=3.01, every_s=20, lat=SEA["lat"] + 0.5, lon=SEA["lon"])
    tr = tracks_of(concat(a, b), places=False)
    first = tr.filter(pl.col("mmsi") == 431000001)
    swapped = pl.concat([tr.filter(pl.col("mmsi") != 431000001), first])
    ends = [events(tracks=t).sort("mmsi").select("mmsi", "end_time", "evidence") for t in (tr, swapped)]
    assert ends[0].equals(ends[1])
    assert ends[0]["end_time"].to_list() == [first["ts"].max(), tr.filter(pl.col("mmsi") == 431000002)["ts"].max()]


def test_loitering_for_10_h_is_medium():
    ev = events(track(431000001, sog_kn=1.0, hours=10, every_s=300, **SEA))
    assert ev.height == 1 and ev["severity"][0] == "medium"


def h(t):
    """Hours since 2024-06-01T00:00Z."""
    return (t - T0).total_seconds() / 3600.0


def test_transit_loiter_transit_gives_one_event_around_the_slow_part():
    ev = events(legs(431000001, (12, 1), (1.0, 3), (12, 1)))  # slow from 01:01 to 04:01
    assert ev.height == 1
    assert h(ev["start_time"][0]) == pytest.approx(1.0, abs=1 / 6)  # to the 10-min bucket
    assert h(ev["end_time"][0]) == pytest.approx(4.0, abs=1 / 6)
    assert evidence(ev)[0]["mean_speed_kn"] == pytest.approx(1.0, abs=0.1)


def test_an_anchored_ship_reporting_every_2_s_with_gps_jitter_is_loitering():
    rng = np.random.default_rng(0)
    base = track(431000001, sog_kn=0.0, hours=3, every_s=2, **SEA)
    noise_m = rng.normal(0, 5, (base.height, 2))  # 5 m GPS noise
    jittery = base.with_columns(
        lat=pl.col("lat") + noise_m[:, 0] / 111_195.0,
        lon=pl.col("lon") + noise_m[:, 1] / (111_195.0 * np.cos(np.radians(SEA["lat"]))),
    )
    tr = tracks_of(jittery, places=False)
    assert tr["implied_speed_kn"].median() > 2.0  # point-to-point speeds are all jitter
    ev = events(tracks=tr)
    assert ev.height == 1 and evidence(ev)[0]["duration_h"] == pytest.approx(3.0, abs=0.01)
    assert evidence(ev)[0]["mean_speed_kn"] < 0.5  # ~9 m of jitter per one-minute leg: 0.3 kn


# -- hard negatives ------------------------------------------------------------------------------------
def test_a_ferry_in_its_port_is_not_loitering():
    ferry = track(431000001, sog_kn=0.2, hours=5, **PORT)
    assert events(ferry).height == 0
    assert events(ferry, ports=PORTS.clear()).height == 1  # only the port rules it out


def test_a_trawler_at_3_kn_is_not_loitering():
    assert events(track(431000001, sog_kn=3.0, hours=6, **SEA)).height == 0


def test_a_vessel_steaming_in_circles_at_8_kn_is_not_loitering():
    # 8 kn round a 0.4 nm circle: back where it started every 18.85 min, whatever the sampling
    t = np.arange(6 * 60) * 60.0
    period_s = 2 * np.pi * 0.4 / 8 * 3600
    lat, lon = destination(SEA["lat"], SEA["lon"], np.degrees(2 * np.pi * t / period_s), 0.4)
    circle = schema.conform("positions", pl.DataFrame({
        "mmsi": 431000001, "ts": [T0 + dt.timedelta(seconds=float(x)) for x in t], "lat": lat, "lon": lon,
        "sog_kn": 8.0, "ais_class": "A"}))
    assert events(circle).height == 0


def test_loitering_shorter_than_2_h_is_not_an_event():
    assert events(track(431000001, sog_kn=0.5, hours=1.5, **SEA)).height == 0
    assert events(track(431000001, sog_kn=0.5, hours=1.5, **SEA), params=loitering.Params(min_duration_h=1.0)).height == 1


def test_a_long_silence_breaks_a_run():
    a = track(431000001, sog_kn=0.0, hours=1.5, **SEA)
    b = track(431000001, sog_kn=0.0, hours=1.5, start="2024-06-01T04:30:00Z", **SEA)
    assert events(a, b).height == 0  # 3 h of silence: not seen loitering
    assert events(a, b, params=loitering.Params(max_silence_h=4.0)).height == 1


def test_gfw_preset_needs_20_nm_from_shore():
    tr = tracks_of(track(431000001, sog_kn=0.5, hours=3, **SEA), places=False)
    near = tr.with_columns(dist_to_shore_nm=pl.lit(5.0, dtype=pl.Float32))
    far = tr.with_columns(dist_to_shore_nm=pl.lit(30.0, dtype=pl.Float32))
    assert events(tracks=near).height == 1  # coastal: shore distance does not matter
    assert events(tracks=near, preset="gfw").height == 0
    ev = events(tracks=far, preset="gfw")
    assert ev.height == 1 and evidence(ev)[0]["dist_to_shore_nm"] == pytest.approx(30.0)
    assert evidence(ev)[0]["min_shore_nm"] == 20 and ev["preset"][0] == "gfw"
    unknown = events(tracks=tr, preset="gfw")  # no shore distance: kept, and the evidence says so
    assert unknown.height == 1 and evidence(unknown)[0]["dist_to_shore_nm"] is None


def test_port_distance_comes_from_tracks_when_no_ports_are_given():
    tr = tracks_of(track(431000001, sog_kn=0.2, hours=4, **SEA), places=False)
    in_port = tr.with_columns(port_name=pl.lit("Somewhere"), port_dist_km=pl.lit(1.0, dtype=pl.Float32))
    assert events(tracks=in_port, ports=None).height == 0
    out = tr.with_columns(port_name=pl.lit("Somewhere"), port_dist_km=pl.lit(8.0, dtype=pl.Float32))
    ev = events(tracks=out, ports=None)
    assert ev.height == 1 and evidence(ev)[0]["nearest_port"] == "Somewhere"
    assert evidence(ev)[0]["nearest_port_km"] == pytest.approx(8.0)


def test_empty_input_gives_no_events():
    assert events(tracks=schema.empty("tracks")).height == 0


# -- determinism and scale -------------------------------------------------------------------------------
def test_rerun_and_shuffled_input_give_the_same_event_ids():
    frames = concat(track(431000001, sog_kn=0.5, hours=3, **SEA), legs(431000002, (12, 1), (1.0, 3), (12, 1), lat=39.0),
                    track(431000003, sog_kn=1.0, hours=10, every_s=300, lat=40.0, lon=137.0))
    a, b = events(frames), events(frames)
    c = events(frames.sample(fraction=1.0, shuffle=True, seed=1))
    assert a.height == 3 and a["event_id"].n_unique() == 3
    assert a["event_id"].to_list() == b["event_id"].to_list() == c["event_id"].to_list()
    assert a.equals(c)


def test_legs_skipped_by_their_change_of_latitude_change_nothing(monkeypatch):
    """A leg whose change of latitude alone makes it too long to be slow is measured only when
    its bucket has a slow leg: the events (every number in them) are the same as with every leg
    measured. Slow drifts and dashes on every heading, some buckets mixing both."""
    rng = np.random.default_rng(4)
    frames = []
    for i in range(24):
        lat, lon, t, parts = 38.0 + 0.05 * i, 137.0, 0.0, []
        for _ in range(6):
            sog, hours, cog = float(rng.choice([0.3, 1.2, 1.9, 6.0, 14.0])), float(rng.uniform(0.3, 2.5)), float(rng.uniform(0, 360))
            start = (np.datetime64("2024-06-01T00:00") + np.timedelta64(round(t * 3600), "s")).astype(str) + "Z"
            parts.append(track(431000100 + i, start=start, lat=lat, lon=lon, sog_kn=sog, cog_deg=cog, hours=hours,
                               every_s=float(rng.choice([10, 45, 60, 180]))))
            la, lo = destination(lat, lon, cog, sog * hours)
            lat, lon, t = float(la), float(lo), t + hours + 0.02
        frames.append(concat(*parts))
    tr = tracks_of(concat(*frames), places=False)
    got = events(tracks=tr)
    monkeypatch.setattr(loitering, "EARTH_RADIUS_NM", 0.0)  # no leg is sure to be long: all measured
    want = events(tracks=tr)
    assert got.height >= 5 and got.equals(want)


def test_a_million_points_with_planted_loiterers():
    planted = tracks_of(concat(*(track(431000000 + i, sog_kn=0.5, hours=4, lat=41.0 + 0.1 * i, lon=138.5)
                                 for i in range(5))), places=False)
    tr = pl.concat([schema.conform("tracks", fleet(1000, 1000)), planted])
    ev = events(tracks=tr)
    assert sorted(ev["mmsi"].to_list()) == [431000000 + i for i in range(5)]
