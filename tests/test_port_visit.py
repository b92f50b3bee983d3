"""Port visits: GFW's state machine (entry 3 km, exit 4 km, stop 0.2 kn, start 0.5 kn, 4 h gaps).
Calls, pass-bys, hysteresis, open visits, confidence, determinism, scale."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from seawatch import schema
from seawatch.detect import port_visit
from seawatch.detect.base import Inputs
from seawatch.errors import SeawatchError
from seawatch.testing import concat, fleet, track, tracks_of
from seawatch.tracks import destination

T0 = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
PORT = {"lat": 37.935, "lon": 139.06}  # Niigata
PORTS = schema.conform(
    "ports",
    pl.DataFrame({"port_id": ["P1"], "name": ["Niigata"], "kind": ["port"], "lat": [PORT["lat"]], "lon": [PORT["lon"]]}),
)


# -- local builders (proposed for seawatch.testing) --------------------------------------------------------
def off(km, bearing=180.0, lat=PORT["lat"], lon=PORT["lon"]):
    """The point ``km`` from the port (or from lat, lon) on ``bearing``: a dict for track(**...)."""
    la, lo = destination(lat, lon, bearing, km / 1.852)
    return {"lat": float(la), "lon": float(lo)}


def voyage(mmsi, start, *legs, start_h=0.0, every_s=60.0):
    """One vessel from ``start`` (a lat/lon dict) through legs ``(sog_kn, cog_deg, hours)``, each
    continuing where the last ended, reporting every ``every_s``: a POSITIONS frame."""
    lat, lon, t, frames = start["lat"], start["lon"], start_h, []
    for sog, cog, hours in legs:
        frames.append(track(mmsi, start=T0 + dt.timedelta(hours=t), lat=lat, lon=lon, sog_kn=sog, cog_deg=cog,
                            hours=hours, every_s=every_s))
        la, lo = destination(lat, lon, cog, sog * (hours + every_s / 3600.0))
        lat, lon, t = float(la), float(lo), t + hours + every_s / 3600.0
    return concat(*frames)


def call(mmsi=431000001, stay_h=2.0, approach_km=10.0, start_h=0.0):
    """A ferry call: in from ``approach_km`` south at 10 kn, ``stay_h`` at the berth, out south."""
    run_h = approach_km / 1.852 / 10.0 - 1 / 60
    return voyage(mmsi, off(approach_km), (10, 0, run_h), (0, 0, stay_h), (10, 180, run_h), start_h=start_h)


def events(*frames, preset="coastal", ports=PORTS, params=None, tracks=None):
    tr = tracks if tracks is not None else tracks_of(concat(*frames), places=False)
    ev = port_visit.detect(Inputs(tracks=tr, ports=ports, preset=preset), params)
    assert ev.schema == schema.polars_schema("events")
    return ev


def evidence(ev):
    return [json.loads(e) for e in ev["evidence"]]


def h(t):
    return (t - T0).total_seconds() / 3600.0


# -- visits ---------------------------------------------------------------------------------------------
def test_a_ferry_call_is_one_visit_from_entry_at_3_km_to_exit_at_4_km():
    ev = events(call(stay_h=2.0))
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["event_type"] == "port_visit" and e["mmsi"] == 431000001 and e["other_mmsi"] is None
    assert e["severity"] == "info" and e["score"] == pytest.approx(0.1) and e["status"] == "closed"
    # 10 km out at 10 kn (18.52 km/h): 3 km from the port after 7 km, 22.7 min -> first report at 23 min
    assert h(e["start_time"]) == pytest.approx(23 / 60, abs=1e-6)
    # leaves at ~2 h 34 min; 4 km at 10 kn takes 13 min
    depart_h = 10 / 18.52 + 2.0 + 1 / 60
    assert h(e["end_time"]) == pytest.approx(depart_h + 4 / 18.52, abs=1.5 / 60)
    assert abs(e["lat"] - PORT["lat"]) < 0.001 and abs(e["lon"] - PORT["lon"]) < 0.001
    ed = evidence(ev)[0]
    assert ed["port_name"] == "Niigata" and ed["closest_port_km"] < 0.1
    assert ed["stop_h"] == pytest.approx(2.0, abs=0.05)
    assert ed["entry"] and ed["exit"] and not ed["gap"] and ed["confidence"] == 4
    assert (ed["entry_km"], ed["exit_km"], ed["stop_kn"], ed["start_kn"], ed["gap_threshold_h"]) == (3, 4, 0.2, 0.5, 4)


def test_a_ship_passing_2_km_off_the_port_at_12_kn_has_not_visited_it():
    passing = voyage(431000001, off(10, 180, **off(2, 90)), (12, 0, 1.5))
    assert events(passing).height == 0
    # it did come within 3 km: GFW's confidence 1 (entry and exit, no stop)
    ev = events(passing, params=port_visit.Params(min_confidence=1))
    assert ev.height == 1 and evidence(ev)[0]["confidence"] == 1 and evidence(ev)[0]["stop_h"] == 0


def test_hysteresis_a_ship_that_came_in_and_anchors_3_5_km_out_is_still_in_port():
    # in to 2.5 km, back out to 3.5 km, 3 h at anchor there, then away
    v = voyage(431000001, off(10), (10, 0, 7.5 / 18.52), (10, 180, 1 / 18.52), (0.1, 90, 3), (10, 180, 0.5))
    ev = events(v)
    assert ev.height == 1 and evidence(ev)[0]["stop_h"] == pytest.approx(3.0, abs=0.1)
    # at anchor 3.5 km out without ever coming within 3 km: not in port
    assert events(voyage(431000001, off(10), (10, 0, 6.5 / 18.52), (0.1, 90, 3), (10, 180, 0.5))).height == 0


def test_a_ship_still_at_its_berth_at_the_end_of_its_track_is_an_open_visit():
    v = voyage(431000001, off(10), (10, 0, 10 / 18.52 - 1 / 60), (0, 0, 3))
    ev = events(v)
    assert ev.height == 1 and ev["status"][0] == "open" and ev["end_time"][0] is None
    ed = evidence(ev)[0]
    assert ed["entry"] and not ed["exit"] and ed["confidence"] == 3
    assert ed["duration_h"] == pytest.approx(3.0 + 3 / 18.52, abs=0.05)  # entry at 3 km -> last report


def test_a_track_starting_at_the_berth_is_a_visit_without_entry():
    ev = events(voyage(431000001, PORT, (0, 0, 2), (10, 180, 0.5)))
    assert ev.height == 1 and ev["start_time"][0] == T0
    ed = evidence(ev)[0]
    assert not ed["entry"] and ed["exit"] and ed["confidence"] == 3


def test_two_calls_in_one_segment_are_two_visits():
    v = concat(call(stay_h=1.0), call(stay_h=1.5, start_h=4.0))
    tr = tracks_of(v, places=False)
    assert tr["seg_id"].n_unique() == 1
    ev = events(tracks=tr)
    assert ev.height == 2 and ev["event_id"].n_unique() == 2
    assert [round(e["stop_h"], 1) for e in evidence(ev)] == [1.0, 1.5]


def test_a_4_h_silence_in_port_counts_like_a_stop():
    inb = voyage(431000001, off(10), (10, 0, 9 / 18.52))  # ends 1 km from the port, never stopped
    out = voyage(431000001, off(1), (1.0, 180, 0.2), (10, 180, 0.5), start_h=9 / 18.52 + 5)
    ev = events(inb, out)
    assert ev.height == 1
    ed = evidence(ev)[0]
    assert ed["gap"] and ed["stop_h"] == 0 and ed["confidence"] == 4 and ed["longest_silence_h"] >= 4.9
    assert events(inb, out, params=port_visit.Params(gap_h=6)).height == 0


def test_port_distance_comes_from_tracks_when_no_ports_are_given():
    tr = tracks_of(call(), places=False)
    from seawatch.tracks import haversine_nm

    km = haversine_nm(tr["lat"].to_numpy(), tr["lon"].to_numpy(), PORT["lat"], PORT["lon"]) * 1.852
    placed = tr.with_columns(port_name=pl.lit("Niigata-from-tracks"),
                             port_dist_km=pl.Series(km, dtype=pl.Float32))
    ev = events(tracks=placed, ports=None)
    assert ev.height == 1 and evidence(ev)[0]["port_name"] == "Niigata-from-tracks"
    assert events(tracks=placed).height == 1 and evidence(events(tracks=placed))[0]["port_name"] == "Niigata"


def test_no_ports_and_empty_input_give_no_visits():
    assert events(call(), ports=PORTS.clear()).height == 0
    assert events(tracks=schema.empty("tracks")).height == 0


def test_params_are_checked():
    with pytest.raises(SeawatchError, match="entry_km <= exit_km"):
        port_visit.Params(entry_km=5, exit_km=4)
    with pytest.raises(SeawatchError, match="stop_kn <= start_kn"):
        port_visit.Params(stop_kn=1, start_kn=0.5)
    assert port_visit.PRESETS["gfw"] == port_visit.Params() and set(port_visit.PRESETS) == {"coastal", "gfw", "skylight"}


# -- determinism and scale -------------------------------------------------------------------------------
def test_rerun_and_shuffled_input_give_the_same_event_ids():
    frames = concat(call(431000001), call(431000002, stay_h=3, start_h=1), concat(call(431000003, stay_h=1.0),
                                                                                  call(431000003, start_h=4.0)))
    a, b = events(frames), events(frames)
    c = events(frames.sample(fraction=1.0, shuffle=True, seed=1))
    assert a.height == 4 and a["event_id"].n_unique() == 4
    assert a["event_id"].to_list() == b["event_id"].to_list() == c["event_id"].to_list()
    assert a.equals(c)


def test_a_million_points_with_planted_calls():
    planted = tracks_of(concat(*(call(431000000 + i, start_h=i) for i in range(5))), places=False)
    tr = pl.concat([schema.conform("tracks", fleet(1000, 1000)), planted])
    ev = events(tracks=tr)
    assert sorted(ev["mmsi"].to_list()) == [431000000 + i for i in range(5)]


def test_in_port_state_does_not_cross_segments_and_last_row_stays_in_port():
    """The hysteresis state is per segment (a segment starting between entry_km and exit_km is
    out of port, even right after a segment that ended in port) and the frame's last row can be
    in port (an open visit); the events do not depend on which vessel comes first."""
    def seg(mmsi, seg_id, h0, dists, sogs):
        n = len(dists)
        return pl.DataFrame({
            "mmsi": [mmsi] * n, "ts": [T0 + dt.timedelta(hours=h0, minutes=10 * i) for i in range(n)],
            "lat": [PORT["lat"]] * n, "lon": [PORT["lon"]] * n, "seg_id": [seg_id] * n,
            "sog_kn": pl.Series(sogs, dtype=pl.Float32), "port_name": ["Niigata"] * n,
            "port_dist_km": pl.Series(dists, dtype=pl.Float32),
        })
    a = pl.concat([seg(431000001, "a1", 0, [10.0, 2.0, 1.0], [5.0, 0.0, 0.0]),
                   seg(431000001, "a2", 2, [3.5, 3.5, 5.0], [0.0, 0.0, 0.0])])
    b = seg(431000002, "b1", 0, [5.0, 2.0, 2.5], [5.0, 0.0, 0.0])
    out = []
    for tr in (pl.concat([a, b]), pl.concat([b, a])):
        ev = port_visit.detect(Inputs(tracks=tr))
        out.append(ev.sort("event_id"))
        assert sorted(e["seg_id"] for e in evidence(ev)) == ["a1", "b1"]
        assert ev["status"].to_list() == ["open", "open"] and ev["end_time"].null_count() == 2
        assert all(e["confidence"] == 3 and e["entry"] and not e["exit"] for e in evidence(ev))
    assert out[0].equals(out[1])
