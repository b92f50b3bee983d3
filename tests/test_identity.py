"""seawatch.detect.identity: identity_invalid, identity_mismatch, identity_change — positives and
hard negatives, built one line each with seawatch.testing (track, static, concat, tracks_of)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest

from seawatch import schema
from seawatch.detect import identity
from seawatch.detect.base import Inputs
from seawatch.errors import SeawatchError
from seawatch.testing import concat, static, track, tracks_of

T0 = datetime(2024, 6, 1, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(tracks=None, statics=None, preset="coastal", params=None) -> pl.DataFrame:
    """identity.detect over TRACKS points (places=False: no zone data needed) and STATICS."""
    tr = tracks if tracks is not None else schema.empty("tracks")
    st = statics if statics is not None else schema.empty("statics")
    ev = identity.detect(Inputs(tracks=tr, statics=st, preset=preset), params or identity.PRESETS[preset])
    assert ev.schema == schema.polars_schema("events")
    assert ev["event_id"].is_unique().all()
    return ev


def pts(*frames):
    return tracks_of(*frames, places=False)


def of(ev, event_type):
    return ev.filter(pl.col("event_type") == event_type)


def ev_json(ev):
    return [json.loads(e) for e in ev["evidence"]]


# -- identity_invalid -------------------------------------------------------------------------------


@pytest.mark.parametrize("mmsi, reason", [
    (123456789, "pattern"), (111111111, "pattern"), (12345, "short"), (200456781, "mid_unassigned"),
    (412000000, "pattern"),
])
def test_an_mmsi_that_cannot_be_a_ship_is_identity_invalid(mmsi, reason):
    ev = of(run(pts(track(mmsi, lat=38.6, lon=137.6, hours=2, every_s=600))), "identity_invalid")
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["mmsi"] == mmsi and e["severity"] == "medium" and e["status"] == "closed"
    assert (e["start_time"], e["end_time"]) == (T0, at(120))
    assert (e["lat"], e["lon"]) == pytest.approx((38.6, 137.6))  # the first track position
    d = ev_json(ev)[0]
    assert d["field"] == "mmsi" and d["reason"] == reason and d["n_positions"] == 13 and d["n_statics"] == 0


def test_an_invalid_mmsi_heard_only_in_statics_has_no_position():
    ev = of(run(statics=concat(static(200456781, at(0), shipname="GHOST"), static(200456781, at(30), shipname="GHOST"))),
            "identity_invalid")
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["lat"] is None and e["lon"] is None and (e["start_time"], e["end_time"]) == (T0, at(30))
    assert ev_json(ev)[0]["mid"] == 200 and ev_json(ev)[0]["n_statics"] == 2


def test_a_bad_imo_check_digit_is_identity_invalid_but_imo_0_or_none_is_not():
    st = concat(static(431000001, at(0), imo=9074728), static(431000001, at(6), imo=9074728),
                static(431000002, at(0), imo=9074729), static(431000003, at(0), imo=0),
                static(431000004, at(0), imo=None))
    ev = of(run(pts(track(431000001)), st), "identity_invalid")
    assert ev["mmsi"].to_list() == [431000001]
    e = ev.row(0, named=True)
    assert e["severity"] == "low" and (e["start_time"], e["end_time"]) == (T0, at(6))
    d = ev_json(ev)[0]
    assert d == {**d, "field": "imo", "imo": 9074728, "reason": "check_digit", "check_digit_sent": 8,
                 "check_digit_expected": 9, "n_messages": 2}


def test_an_invalid_mmsi_and_its_bad_imo_first_heard_together_are_two_events_with_two_ids():
    ev = of(run(statics=static(200456781, at(0), imo=9074728)), "identity_invalid")
    assert ev.height == 2 and ev["event_id"].n_unique() == 2
    assert sorted(d["field"] for d in ev_json(ev)) == ["imo", "mmsi"]


def test_valid_stations_of_other_kinds_are_not_identity_invalid():
    # a coast station, an AtoN, a SAR aircraft, a SART, a net buoy: valid in their own ITU-R M.585 kinds,
    # even when a misconfigured one sends class A reports or ship statics
    others = [2191000, 4310001, 992191234, 111431501, 970012345, 979123456, 984312001]
    tr = pts(*[track(m, lat=38.0 + 0.1 * i, hours=0.5) for i, m in enumerate(others)])
    st = concat(*[static(m, shipname="X") for m in others])
    assert of(run(tr, st), "identity_invalid").height == 0


def test_an_aton_type_21_static_is_not_considered():
    assert run(statics=static(999999999, msg_type=21, shipname="BUOY")).height == 0


def test_class_a_ship_with_valid_mmsi_and_imo_raises_nothing():
    st = concat(static(431000001, at(0), shipname="KAIYO MARU", callsign="JD2345", imo=9074729, ship_type=70),
                static(431000001, at(6), shipname="KAIYO MARU", callsign="JD2345", imo=9074729, ship_type=70))
    assert run(pts(track(431000001)), st).height == 0


# -- identity_mismatch ------------------------------------------------------------------------------


def test_a_chinese_mmsi_with_a_japanese_call_sign_is_identity_mismatch():
    st = concat(static(412345678, at(10), callsign="JD2345"), static(412345678, at(40), callsign="JD 2345"))
    ev = of(run(pts(track(412345678, lat=38.6, lon=137.6)), st), "identity_mismatch")
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["severity"] == "medium" and (e["start_time"], e["end_time"]) == (at(10), at(40))
    assert e["lat"] is not None
    d = ev_json(ev)[0]
    assert {k: d[k] for k in ("mmsi", "mid", "flag_state", "callsign", "callsign_state")} == {
        "mmsi": 412345678, "mid": 412, "flag_state": "CHN", "callsign": "JD2345", "callsign_state": "JPN"}
    assert d["n_messages"] == 2


@pytest.mark.parametrize("mmsi, callsign", [
    (431000001, "JD2345"), (431000001, "7JAB"), (432000001, "JA1234"), (440000001, "DSAB3"), (445000001, "P5ZZ"),
    (412000001, "BPAA"), (477000001, "VRAB3"), (477000001, "BPAA"),  # Hong Kong: VR or China's B
    (416000001, "BMAA"),  # Taiwan: B series, as the ITU lists it
    (310000001, "ZCAB3"), (236000001, "ZBAB"), (231000001, "OWAB"),  # Bermuda, Gibraltar, Faroes
    (351000001, "3FAB9"), (538000001, "V7AB2"), (636000001, "A8AB3"),
    (412000001, "NONE"), (412000001, "0000"), (412000001, "4UABC"), (412000001, "Z6AB"), (412000001, "JA"),
    (992191234, "JD2345"),  # an AtoN
])
def test_matching_or_uncomparable_call_signs_are_not_a_mismatch(mmsi, callsign):
    assert of(run(statics=static(mmsi, callsign=callsign)), "identity_mismatch").height == 0


def test_a_ship_with_two_foreign_call_signs_has_one_mismatch_per_call_sign():
    st = concat(static(412345678, at(0), callsign="JD2345"), static(412345678, at(0), callsign="DSAB3"))
    ev = of(run(statics=st), "identity_mismatch")
    assert ev.height == 2 and ev["event_id"].n_unique() == 2
    assert sorted(d["callsign_state"] for d in ev_json(ev)) == ["JPN", "KOR"]


# -- identity_change --------------------------------------------------------------------------------


def test_a_name_change_is_identity_change_with_before_and_after():
    st = concat(static(431000001, at(0), shipname="KAIYO MARU"), static(431000001, at(6), shipname="KAIYO MARU"),
                static(431000001, at(90), shipname="HAI XING 8"), static(431000001, at(96), shipname="HAI XING 8"))
    ev = of(run(pts(track(431000001, lat=38.6, lon=137.6, hours=2)), st), "identity_change")
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["start_time"] == at(90) and e["end_time"] == at(90) and e["severity"] == "low"
    assert e["lat"] is not None
    d = ev_json(ev)[0]
    assert {k: d[k] for k in ("field", "before", "after", "before_first_seen", "before_last_seen", "after_first_seen",
                              "after_last_seen")} == {
        "field": "shipname", "before": "KAIYO MARU", "after": "HAI XING 8",
        "before_first_seen": "2024-06-01T00:00:00Z", "before_last_seen": "2024-06-01T00:06:00Z",
        "after_first_seen": "2024-06-01T01:30:00Z", "after_last_seen": "2024-06-01T01:36:00Z"}


def test_the_event_is_placed_at_the_vessels_nearest_point_in_time_whatever_the_row_order():
    """Each vessel's rows together and in time, but vessels not in time order (the live watch
    hands them over so): no global sort is needed, and a shuffled frame gives the same places."""
    late = track(431000001, start=at(600), lat=38.6, lon=137.6, hours=2, every_s=600)   # 10:00-12:00
    early = track(431000002, start=at(0), lat=37.9, lon=139.2, hours=2, every_s=600)    # 00:00-02:00
    st = concat(static(431000001, at(640), shipname="A"), static(431000001, at(672), shipname="B"),
                static(431000002, at(40), shipname="C"), static(431000002, at(97), shipname="D"))  # no ties in time
    tr = pts(late, early)
    blocks = run(tr, st).sort("mmsi")
    shuffled = run(tr.sample(fraction=1.0, shuffle=True, seed=3), st).sort("mmsi")
    assert blocks.select("mmsi", "lat", "lon").equals(shuffled.select("mmsi", "lat", "lon"))
    for e in of(blocks, "identity_change").iter_rows(named=True):
        own = tr.filter(pl.col("mmsi") == e["mmsi"])
        nearest = own.row(int((own["ts"] - e["start_time"]).abs().arg_min()), named=True)
        assert (e["lat"], e["lon"]) == (nearest["lat"], nearest["lon"])
    assert of(blocks, "identity_change").height == 2


def test_the_nearest_point_on_a_tie_is_the_later_and_the_last_of_equal_times():
    """identity._place (a binary search per event in its vessel's rows) picks what polars'
    as-of join "nearest" picks, tie rules included: at equal distance the later time, of rows
    at one time the last; no position (no rows of the MMSI, no start time) gives nulls."""
    rng = np.random.default_rng(0)
    for trial in range(200):
        n, k, nv = int(rng.integers(0, 40)), int(rng.integers(0, 15)), int(rng.integers(1, 6))
        pos = pl.DataFrame({"mmsi": np.sort(rng.integers(1, nv + 1, n)), "_pos_ts": rng.integers(0, 20, n) * 1_000_000,
                            "lat": rng.random(n), "lon": np.arange(n, dtype=float)}).with_columns(
            pl.col("mmsi").cast(pl.Int64), pl.col("_pos_ts").cast(pl.Datetime("us", "UTC"))).sort(
            "mmsi", "_pos_ts", maintain_order=True)  # times repeat: ties before, after and at an event
        ev = pl.DataFrame({"mmsi": rng.integers(1, nv + 2, k), "start_time": rng.integers(-3, 23, k) * 1_000_000,
                           "x": np.arange(k)}).with_columns(
            pl.col("mmsi").cast(pl.Int64), pl.col("start_time").cast(pl.Datetime("us", "UTC")))
        ev = ev.with_columns(start_time=pl.when(pl.col("x") == 3).then(None).otherwise(pl.col("start_time")))
        want = ev.sort("start_time").join_asof(pos, left_on="start_time", right_on="_pos_ts", by="mmsi",
                                               strategy="nearest", check_sortedness=False).drop("_pos_ts")
        assert identity._place(ev, identity._by_time(pos.rename({"_pos_ts": "ts"}))).sort("x").equals(want.sort("x")), trial


def test_class_b_name_in_24a_then_call_sign_in_24b_is_not_a_change():
    st = concat(
        static(431000001, at(0), msg_type=24, part_num=0, shipname="SEA BIRD"),
        static(431000001, at(1), msg_type=24, part_num=1, callsign="JD2345", ship_type=37),
        static(431000001, at(7), msg_type=24, part_num=0, shipname="SEA BIRD"),
        static(431000001, at(8), msg_type=24, part_num=1, callsign="JD2345", ship_type=37),
    )
    assert run(pts(track(431000001, ais_class="B")), st).height == 0


def test_empty_to_value_and_spelling_variants_are_not_changes():
    st = concat(
        static(431000001, at(0), shipname=None, callsign=None, imo=None, ship_type=None),
        static(431000001, at(6), shipname="kaiyo  maru ", callsign="JD-2345", imo=9074729, ship_type=30),
        static(431000001, at(12), shipname="KAIYO MARU", callsign="JD 2345", imo=None, ship_type=None),
        static(431000001, at(18), shipname="KAIYO MARU", callsign="NONE", imo=0, ship_type=30),
    )
    assert run(statics=st).height == 0


def test_name_and_call_sign_changed_in_one_message_are_two_events_medium_as_a_burst():
    st = concat(static(431000001, at(0), shipname="KAIYO MARU", callsign="JD2345"),
                static(431000001, at(60), shipname="HAI XING 8", callsign="BPAA"),
                static(431000001, at(120), shipname="HAI XING 8", callsign="BPAA", imo=9074729))
    ev = of(run(statics=st), "identity_change")
    assert sorted(d["field"] for d in ev_json(ev)) == ["callsign", "shipname"]
    assert ev["event_id"].n_unique() == 2 and ev["start_time"].to_list() == [at(60), at(60)]
    assert set(ev["severity"]) == {"low"}  # one re-identification: one change time
    # the package runner de-duplicates by event_id: both must survive it
    from seawatch.detect import detect

    ev2 = detect(pts(track(431000001)), statics=st, only=["identity"])
    assert of(ev2, "identity_change").height == 2


def test_several_changes_within_24_h_are_medium_and_a_single_one_low():
    hop = concat(static(431000001, at(0), shipname="A"), static(431000001, at(120), shipname="B"),
                 static(431000001, at(300), callsign="JD2345"), static(431000001, at(360), callsign="JD2346"))
    ev = of(run(statics=hop), "identity_change")
    assert ev.height == 2 and set(ev["severity"]) == {"medium"} and (ev["score"] >= 0.7).all()
    assert all(d["changes_within_window"] == 2 for d in ev_json(ev))
    apart = concat(static(431000001, at(0), shipname="A"), static(431000001, at(120), shipname="B"),
                   static(431000001, at(120 + 3 * 1440), shipname="C"))
    ev = of(run(statics=apart), "identity_change")
    assert ev.height == 2 and set(ev["severity"]) == {"low"}


def test_an_imo_change_is_medium_and_a_flip_flop_is_two_changes():
    st = concat(static(431000001, at(0), imo=9074729), static(431000001, at(5000), imo=9321483),
                static(431000001, at(10000), imo=9074729))
    ev = of(run(statics=st), "identity_change")
    assert ev.height == 2 and set(ev["severity"]) == {"medium"}
    assert [(d["before"], d["after"]) for d in ev_json(ev)] == [("9074729", "9321483"), ("9321483", "9074729")]


def test_ship_type_change_is_low():
    st = concat(static(431000001, at(0), ship_type=30), static(431000001, at(60), ship_type=70))
    ev = of(run(statics=st), "identity_change")
    assert ev.height == 1 and ev["severity"][0] == "low" and ev["score"][0] == pytest.approx(0.3)


def test_untimed_statics_are_ignored():
    st = concat(static(431000001, at(0), shipname="A"), static(431000001, at(5), shipname="B"))
    st = st.with_columns(ts=pl.lit(None, st.schema["ts"]))
    assert run(statics=st).height == 0


# -- the detector contract ----------------------------------------------------------------------------


def test_presets_params_and_config():
    assert identity.EVENT_TYPES == ("identity_invalid", "identity_mismatch", "identity_change")
    assert set(identity.PRESETS) == {"coastal", "gfw", "skylight"}
    assert identity.PRESETS["gfw"] == identity.PRESETS["coastal"] == identity.PRESETS["skylight"]
    hash(identity.Params())
    with pytest.raises(SeawatchError, match="use one of"):
        identity.Params(mismatch_severity="severe")
    with pytest.raises(SeawatchError, match="from 0 to 1"):
        identity.Params(burst_score=2)
    from seawatch.detect import params_for

    p = params_for("coastal", {"identity": {"check_imo": False, "position_classes": ["A"]}})["identity"]
    assert p.check_imo is False and p.position_classes == ("A",)
    with pytest.raises(SeawatchError):
        params_for("coastal", {"identity": {"burst_changes": 0}})


def test_check_imo_off_and_position_classes():
    st = static(431000001, imo=9074728)
    assert run(statics=st, params=identity.Params(check_imo=False)).height == 0
    # an invalid MMSI heard only as class B is not considered when only class A counts
    tr = pts(track(200456781, ais_class="B"))
    assert run(tr, params=identity.Params(position_classes=("A",))).height == 0
    assert run(tr).height == 1


def test_same_input_same_ids_and_empty_input_gives_empty_events():
    tr = pts(track(123456789), track(412345678, lat=38.0))
    st = concat(static(412345678, at(0), callsign="JD2345", shipname="A"), static(412345678, at(9), shipname="B"))
    a, b = run(tr, st), run(tr, st)
    assert a.height == 3 and a["event_id"].to_list() == b["event_id"].to_list()
    assert run().height == 0


def test_wrong_statics_say_what_to_pass():
    with pytest.raises(SeawatchError, match="STATICS"):
        run(statics=pl.DataFrame({"mmsi": [1]}))


def test_zones_are_looked_up_where_there_is_a_position(monkeypatch):
    from seawatch import zones

    def lookup(lat, lon):
        n = len(lat)
        return {"zone_name": ["JPN territorial sea"] * n, "zone_kind": ["territorial_sea"] * n, "zone_state": ["JPN"] * n}

    monkeypatch.setattr(zones, "lookup", lookup, raising=False)
    ev = run(pts(track(123456789)), static(200456781, shipname="GHOST"))
    by = {m: r for m, r in zip(ev["mmsi"], ev.iter_rows(named=True))}
    assert by[123456789]["zone_state"] == "JPN" and by[123456789]["zone_kind"] == "territorial_sea"
    assert by[200456781]["lat"] is None and by[200456781]["zone_state"] is None


def test_vectorised_on_a_day_of_statics_for_5000_vessels():
    n, per = 5000, 40  # 200,000 static reports
    rng = np.random.default_rng(1)
    mmsi = np.repeat(431_000_000 + np.arange(1, n + 1) * 7, per)
    ts = np.tile(np.arange(per) * 6 * 60_000_000, n) + int(T0.timestamp() * 1e6)
    names = np.array([f"MARU {i}" for i in range(n)])[np.repeat(np.arange(n), per)]
    renamed = np.repeat(rng.random(n) < 0.01, per) & (np.tile(np.arange(per), n) >= per // 2)
    st = schema.conform("statics", pl.DataFrame({
        "mmsi": mmsi, "ts": pl.Series(ts).cast(pl.Datetime("us", "UTC")), "msg_type": np.full(n * per, 5),
        "shipname": np.where(renamed, "NEW NAME", names), "callsign": np.full(n * per, "JD2345"),
    }))
    ev = run(statics=st)
    assert ev.height == int(renamed.reshape(n, per)[:, -1].sum()) > 0
    assert set(ev["event_type"]) == {"identity_change"}


def test_two_transmitters_alternating_names_make_one_event_per_transition():
    st = concat(*[static(431000001, at(6 * i), shipname="KAIYO MARU" if i % 2 == 0 else "HAI XING 8") for i in range(20)])
    ev = of(run(statics=st), "identity_change")
    assert ev.height == 2 and set(ev["severity"]) == {"medium"}
    d = {(x["before"], x["after"]): x for x in ev_json(ev)}
    assert d[("KAIYO MARU", "HAI XING 8")]["times"] == 10 and d[("HAI XING 8", "KAIYO MARU")]["times"] == 9
    first = ev.filter(pl.col("start_time") == at(6)).row(0, named=True)
    assert first["end_time"] == at(6 * 19)


def test_a_placeholder_mmsi_shared_by_many_boats_is_invalid_but_not_changing_or_mismatched():
    st = concat(*[static(412000000, at(i), shipname=f"ZHE YU {i}", callsign="JD2345") for i in range(10)])
    ev = run(statics=st)
    assert ev["event_type"].to_list() == ["identity_invalid"]
