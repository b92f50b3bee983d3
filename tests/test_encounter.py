"""Encounter detector: two vessels within 500 m for 2 h, slow, away from ports (GFW); Skylight's
250 m / 30 min rendezvous. Positives, hard negatives, the cell join, determinism, scale."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seawatch import schema
from seawatch.detect import encounter
from seawatch.detect.base import Inputs
from seawatch.testing import concat, fleet, track, tracks_of
from seawatch.tracks import destination, haversine_nm

SEA = {"lat": 38.6, "lon": 137.6}  # Sea of Japan, ~45 nm off Sado
PORT = {"lat": 37.935, "lon": 139.06}  # Niigata
PORTS = schema.conform(
    "ports",
    pl.DataFrame({"port_id": ["P1"], "name": ["Niigata"], "kind": ["port"], "lat": [PORT["lat"]], "lon": [PORT["lon"]]}),
)


# -- one-line builders ------------------------------------------
def at(lat, lon, bearing_deg, metres):
    la, lo = destination(lat, lon, bearing_deg, metres / 1852.0)
    return float(la), float(lo)


def pair(a=431000001, b=431000002, *, sep_m=200.0, sog_kn=0.5, cog_deg=90.0, hours=3.0, every_s=60.0,
         start="2024-06-01T00:00:00Z", lat=SEA["lat"], lon=SEA["lon"], lag_s=20):
    """Two vessels side by side (b ``sep_m`` abeam to starboard of a), same speed and course."""
    blat, blon = at(lat, lon, cog_deg + 90.0, sep_m)
    t_b = (np.datetime64(start.replace("Z", "")) + np.timedelta64(lag_s, "s")).astype(str) + "Z"
    return (
        track(a, start=start, lat=lat, lon=lon, sog_kn=sog_kn, cog_deg=cog_deg, hours=hours, every_s=every_s),
        track(b, start=t_b, lat=blat, lon=blon, sog_kn=sog_kn, cog_deg=cog_deg, hours=hours, every_s=every_s),
    )


def events(*frames, preset="coastal", ports=PORTS, params=None, tracks=None):
    tr = tracks if tracks is not None else tracks_of(concat(*frames), places=False)
    ev = encounter.detect(Inputs(tracks=tr, ports=ports, preset=preset), params)
    assert ev.schema == schema.polars_schema("events")
    return ev


def evidence(ev):
    return [json.loads(e) for e in ev["evidence"]]


# -- positives ------------------------------------------------------------------------------------------
def test_two_vessels_drifting_200_m_apart_for_3_h_at_sea_are_one_encounter_with_evidence():
    ev = events(*pair(431000001, 431000002, sep_m=200, sog_kn=0.5, hours=3))
    assert ev.height == 1
    e = ev.row(0, named=True)
    assert e["event_type"] == "encounter" and e["mmsi"] == 431000001 and e["other_mmsi"] == 431000002
    assert e["status"] == "closed" and e["preset"] == "coastal" and e["severity"] == "medium"
    assert e["start_time"].isoformat() == "2024-06-01T00:10:00+00:00"  # first grid time both are seen
    assert e["end_time"].isoformat() == "2024-06-01T03:00:00+00:00"
    assert abs(e["lat"] - SEA["lat"]) < 0.01 and abs(e["lon"] - SEA["lon"]) < 0.05
    ed = evidence(ev)[0]
    assert ed["duration_h"] == pytest.approx(2 + 5 / 6, abs=1e-3)
    assert ed["median_distance_m"] == pytest.approx(200, abs=10) and ed["min_distance_m"] <= ed["median_distance_m"]
    assert ed["median_speed_kn"] == pytest.approx(0.5, abs=0.05)
    assert ed["other_median_speed_kn"] == pytest.approx(0.5, abs=0.05)
    assert ed["nearest_port_km"] is None  # Niigata is > 50 km away
    assert ed["night_share"] == 0.0
    assert (ed["max_distance_m"], ed["min_duration_h"], ed["max_median_speed_kn"], ed["min_port_km"],
            ed["merge_gap_h"]) == (500, 2, 2, 10, 4)
    assert 0.5 <= e["score"] <= 1.0


def test_one_event_per_pair_under_the_smaller_mmsi_whatever_the_order():
    ev = events(*pair(538000009, 431000002))
    assert ev.height == 1 and (ev["mmsi"][0], ev["other_mmsi"][0]) == (431000002, 538000009)


def test_an_encounter_at_night_is_high():
    # 12:00 UTC is 21:00 in Japan
    ev = events(*pair(start="2024-06-01T12:00:00Z"))
    assert ev.height == 1 and ev["severity"][0] == "high" and evidence(ev)[0]["night_share"] == 1.0


def test_stationary_ships_rafted_up_are_an_encounter():
    ev = events(*pair(sep_m=30, sog_kn=0.0, hours=2.5))
    assert ev.height == 1 and evidence(ev)[0]["median_speed_kn"] == 0.0


def test_three_vessels_together_are_three_pairs():
    a, b = pair(431000001, 431000002, sep_m=150)
    _, c = pair(431000001, 431000003, sep_m=300)
    ev = events(a, b, c)
    assert sorted(zip(ev["mmsi"], ev["other_mmsi"])) == [
        (431000001, 431000002), (431000001, 431000003), (431000002, 431000003)]


def _meeting_with_a_break(silence_h, a=431000001, b=431000002, lat=SEA["lat"], lon=SEA["lon"]):
    """a drifts 9 h; b alongside for 2.5 h, silent ``silence_h`` (> 1 h: not interpolated), back for 2.5 h."""
    drift = track(a, sog_kn=0.3, cog_deg=90, hours=9, lat=lat, lon=lon)
    lat2, lon2 = at(lat, lon, 90, 0.3 * 1852 * (2.5 + silence_h))
    blat1, blon1 = at(lat, lon, 180, 200)
    blat2, blon2 = at(lat2, lon2, 180, 200)
    b1 = track(b, sog_kn=0.3, cog_deg=90, hours=2.5, lat=blat1, lon=blon1)
    start2 = (np.datetime64("2024-06-01T00:00") + np.timedelta64(int((2.5 + silence_h) * 60), "m")).astype(str) + "Z"
    b2 = track(b, sog_kn=0.3, cog_deg=90, hours=2.5, lat=blat2, lon=blon2, start=start2)
    return drift, b1, b2


def test_meetings_of_one_pair_less_than_4_h_apart_merge_into_one():
    ev = events(*_meeting_with_a_break(1.5))
    assert ev.height == 1
    assert ev["start_time"][0].isoformat() == "2024-06-01T00:00:00+00:00"
    assert ev["end_time"][0].isoformat() == "2024-06-01T06:30:00+00:00"
    assert evidence(ev)[0]["close_steps"] == 16 + 16  # two runs of 2.5 h on a 10-min grid


def test_meetings_of_one_pair_4_h_or_more_apart_are_two():
    ev = events(*_meeting_with_a_break(4.5))
    assert ev.height == 2 and ev["event_id"].n_unique() == 2
    assert [t.isoformat() for t in ev["start_time"]] == ["2024-06-01T00:00:00+00:00", "2024-06-01T07:00:00+00:00"]


def test_skylight_rendezvous_is_250_m_for_30_min():
    short = pair(sep_m=200, hours=0.75, lag_s=0)
    assert events(*short).height == 0  # coastal/GFW: 2 h
    ev = events(*short, preset="skylight")
    assert ev.height == 1 and ev["preset"][0] == "skylight"
    assert evidence(ev)[0]["max_distance_m"] == 250 and evidence(ev)[0]["min_duration_h"] == 0.5
    assert events(*pair(sep_m=400, hours=0.75), preset="skylight").height == 0  # 400 m > 250 m
    assert events(*pair(sep_m=400, hours=3)).height == 1  # but within GFW's 500 m


# -- hard negatives ------------------------------------------------------------------------------------
def test_two_tugs_alongside_in_port_are_not_an_encounter():
    tugs = pair(sep_m=20, sog_kn=0.0, hours=6, **PORT)
    assert events(*tugs).height == 0
    # the port is what rules it out: with no port known the same tracks are an encounter
    assert events(*tugs, ports=PORTS.clear()).height == 1


def test_a_meeting_9_km_from_a_port_is_not_an_encounter_but_11_km_is():
    for km, n in ((9.0, 0), (11.0, 1)):
        lat, lon = at(PORT["lat"], PORT["lon"], 0, km * 1000)
        ev = events(*pair(sep_m=100, sog_kn=0.0, lat=lat, lon=lon))
        assert ev.height == n
        if n:
            assert evidence(ev)[0]["nearest_port_km"] == pytest.approx(km, abs=0.2)


def test_two_vessels_passing_each_other_at_12_kn_are_not_an_encounter():
    east = track(431000001, sog_kn=12, cog_deg=90, hours=3, **SEA)
    lat, lon = at(SEA["lat"], SEA["lon"], 90, 36 * 1852)  # 36 nm east, 150 m to the north
    lat, lon = at(lat, lon, 0, 150)
    west = track(431000002, sog_kn=12, cog_deg=270, hours=3, lat=lat, lon=lon)
    assert events(east, west).height == 0


def test_two_ships_in_convoy_at_12_kn_for_hours_are_not_an_encounter():
    convoy = pair(sep_m=300, sog_kn=12, hours=4)
    assert events(*convoy).height == 0
    # they are close all along: only the speed rule rules them out
    assert events(*convoy, params=encounter.Params(max_median_speed_kn=20)).height == 1


def test_two_segments_of_one_mmsi_never_meet_themselves():
    tr = tracks_of(concat(*pair(431000001, 431000002, sep_m=150)), places=False)
    assert tr["seg_id"].n_unique() == 2 and events(tracks=tr).height == 1
    same = tr.with_columns(mmsi=pl.lit(431000001, dtype=pl.Int64))  # two transmitters, one identity
    assert same["seg_id"].n_unique() == 2
    assert events(tracks=same).height == 0


def test_a_silence_longer_than_an_hour_is_not_interpolated_into_a_meeting():
    a = track(431000001, sog_kn=0.0, hours=4, **SEA)
    blat, blon = at(SEA["lat"], SEA["lon"], 180, 200)
    b = concat(track(431000002, sog_kn=0.0, hours=0.25, lat=blat, lon=blon),
               track(431000002, sog_kn=0.0, hours=0.25, lat=blat, lon=blon, start="2024-06-01T03:30:00Z"))
    assert events(a, b).height == 0


def test_noise_and_empty_input_give_no_events():
    assert events(tracks=schema.empty("tracks")).height == 0
    assert events(track(431000001, sog_kn=0.0, hours=3, **SEA)).height == 0


# -- the cell join finds every pair within the distance ---------------------------------------------------
@pytest.mark.parametrize("max_m", [250.0, 500.0, 2000.0])
def test_close_steps_match_a_brute_force_search_everywhere_on_the_globe(max_m):
    rng = np.random.default_rng(7)
    centres = [(0.0, 0.0), (38.6, 137.6), (61.0, 5.0), (78.5, 15.0), (-45.0, 179.999), (10.0, -179.9995), (89.99, 0.0)]
    lat, lon, mmsi, k = [], [], [], []
    for ci, (clat, clon) in enumerate(centres):
        n = 120
        # points scattered over ~3 km around the centre, many pairs near the threshold
        d = rng.uniform(0, 3000, n)
        la, lo = destination(np.full(n, clat), np.full(n, clon), rng.uniform(0, 360, n), d / 1852.0)
        lat += list(la)
        lon += list(lo)
        mmsi += list(rng.integers(1, 40, n))
        k += list(rng.integers(0, 2, n))
    grid = pl.DataFrame({"mmsi": mmsi, "seg": 0, "k": k, "lat": lat, "lon": lon, "speed_kn": 0.0},
                        schema=encounter._GRID_SCHEMA)
    got = encounter.close_steps(grid, max_m)
    la, lo, mm, kk = (np.asarray(x) for x in (lat, lon, mmsi, k))
    i, j = np.triu_indices(len(la), 1)
    d = haversine_nm(la[i], lo[i], la[j], lo[j]) * 1852.0
    keep = (d <= max_m) & (kk[i] == kk[j]) & (mm[i] != mm[j])
    ii, jj = i[keep], j[keep]
    swap = mm[ii] > mm[jj]
    want = sorted(zip(np.where(swap, jj, ii).tolist(), np.where(swap, ii, jj).tolist()))
    assert len(want) > 100
    assert sorted(zip(got["i"].to_list(), got["j"].to_list())) == want


def test_close_rows_searched_again_only_where_points_moved_equal_a_full_search():
    """The live watch keeps the close pairs of the last pass and searches again only at the
    (vessel, grid time) whose points were added, removed or moved: the same rows as a search
    over the whole new grid, round after round of changes."""
    rng = np.random.default_rng(11)
    p = encounter.Params()

    def points(n, k_hi):
        la, lo = destination(np.full(n, SEA["lat"]), np.full(n, SEA["lon"]), rng.uniform(0, 360, n),
                             rng.uniform(0, 1.5, n))
        return pl.DataFrame({"mmsi": rng.integers(1, 30, n), "seg": 0, "k": rng.integers(0, k_hi, n), "lat": la,
                             "lon": lo, "speed_kn": rng.uniform(0, 3, n), "port_km": rng.uniform(20, 40, n)},
                            schema={**encounter._GRID_SCHEMA, "port_km": pl.Float64})

    def by_vessel(g):
        return g.unique(["mmsi", "k"], keep="first", maintain_order=True)  # one point a vessel and time

    def rows_sorted(r):
        return r.sort(r.columns)

    grid = by_vessel(points(600, 12))
    rows = encounter.close_rows(grid, p)
    assert rows.height > 50
    for rnd in range(6):
        moved_v = rng.choice(grid["mmsi"].unique().to_numpy(), 4, replace=False)  # vessels rebuilt
        old = grid.filter(pl.col("mmsi").is_in(moved_v))
        keep = old.sample(fraction=0.7, seed=rnd, shuffle=True)  # some points gone, some moved
        shifted = keep.head(5).with_columns(lat=pl.col("lat") + 0.001)
        new = by_vessel(pl.concat([shifted, keep.slice(5), points(30, 14).with_columns(
            mmsi=pl.Series(rng.choice(moved_v, 30)))]))
        grid = pl.concat([grid.filter(~pl.col("mmsi").is_in(moved_v)), new])
        rows = encounter.close_rows(grid, p, carried=rows, changed=encounter.changed_points(old, new))
        assert_frame_equal(rows_sorted(rows), rows_sorted(encounter.close_rows(grid, p)))
    assert encounter.close_rows(grid, p, carried=rows, changed=encounter.changed_points(grid, grid)) is rows


def test_resample_interpolates_on_the_10_min_grid_and_not_across_long_silences():
    tr = tracks_of(concat(track(431000001, sog_kn=6, cog_deg=0, hours=1, every_s=240, **SEA)), places=False)
    g = encounter.resample(tr, 600.0, 1.0)
    assert g["k"].to_list() == list(range(g["k"][0], g["k"][0] + 7))  # 00:00 ... 01:00
    assert g["speed_kn"].drop_nulls().to_numpy() == pytest.approx(6.0, rel=1e-3)
    gap = tr.filter((pl.col("ts").dt.minute() < 10) | (pl.col("ts").dt.minute() > 55) | (pl.col("ts").dt.hour() == 1))
    g2 = encounter.resample(gap, 600.0, 0.5)  # reports 00:08 and 00:56: 48 min apart, over 0.5 h
    assert g2["k"].to_list() == [g["k"][0], g["k"][0] + 6]  # only 00:00 and 01:00, where reports are


# -- determinism and scale -------------------------------------------------------------------------------
def test_rerun_and_shuffled_input_give_the_same_event_ids():
    frames = concat(*pair(431000001, 431000002), *_meeting_with_a_break(4.5, 431000003, 431000004, lat=39.5),
                    *pair(431000005, 431000006, start="2024-06-01T12:00:00Z", lat=40.0))
    a = events(frames)
    b = events(frames)
    c = events(frames.sample(fraction=1.0, shuffle=True, seed=1))
    assert a.height == 4
    assert a["event_id"].to_list() == b["event_id"].to_list() == c["event_id"].to_list()
    assert a.equals(c)


def test_a_million_points_with_planted_meetings():
    walkers = fleet(1000, 1000)
    planted = tracks_of(concat(*(f for i in range(5) for f in pair(
        431000000 + 2 * i, 431000001 + 2 * i, lat=41.0 + 0.1 * i, lon=138.5, hours=4, start="2024-06-01T02:00:00Z"))),
        places=False)
    tr = pl.concat([schema.conform("tracks", walkers), planted])
    ev = events(tracks=tr, ports=PORTS)
    found = set(zip(ev["mmsi"], ev["other_mmsi"]))
    assert {(431000000 + 2 * i, 431000001 + 2 * i) for i in range(5)} <= found
    assert all(m >= 431000000 and m < 431000010 for m in ev["mmsi"])  # random walkers at 5-15 kn never qualify


# -- the live watch's incremental grid ------------------------------------------------------------------
def test_grown_grid_points_add_what_grid_points_over_the_grown_segments_add():
    """encounter.grown_grid_points (the live watch: grid points of segments that grew at their
    end) with the grid points from before equals grid_points over the grown segments: a segment
    cut exactly at a grid time, just after one, inside a silence longer than max_interp_gap_h,
    one whose old part had no grid time yet, and one whose new points reach no new grid time;
    one of them passes a port (the port_km filter)."""
    from seawatch.detect.gap import grown_vessel_grid, vessel_grid

    p = encounter.PRESETS["coastal"]
    pieces = {
        431000101: (track(431000101, sog_kn=6, cog_deg=20, hours=3, every_s=60), "2024-06-01T00:50:00"),
        431000102: (track(431000102, sog_kn=3, lat=39.6, lon=136.0, hours=3, every_s=47), "2024-06-01T01:00:20"),
        431000103: (concat(track(431000103, sog_kn=1, lat=38.5, hours=1, every_s=60),
                           track(431000103, sog_kn=1, lat=38.5, hours=1, every_s=60, start="2024-06-01T02:10:00Z")),
                    "2024-06-01T01:30:00"),
        431000104: (track(431000104, sog_kn=4, lat=39.0, hours=1, every_s=60, start="2024-06-01T00:01:00Z"),
                    "2024-06-01T00:05:00"),
        431000105: (track(431000105, sog_kn=4, lat=39.2, hours=0.45, every_s=30), "2024-06-01T00:21:00"),
        # passing Niigata port (37.95N 139.06E): its grid points within min_port_km are dropped
        431000106: (track(431000106, sog_kn=8, cog_deg=90, lat=37.95, lon=138.9, hours=2, every_s=60), "2024-06-01T00:40:00"),
    }
    full = Inputs(tracks_of(*(f for f, _ in pieces.values()), places=False))
    pts = full.points
    assert pts["seg_id"].n_unique() == len(pieces)  # one segment each
    cut = pl.DataFrame({"mmsi": list(pieces), "cut": [c for _, c in pieces.values()]}).with_columns(
        pl.col("cut").str.to_datetime(time_zone="UTC", time_unit="us"))
    old_mask = pts.join(cut, on="mmsi", how="left", maintain_order="left").select(pl.col("ts") <= pl.col("cut")).to_series()
    old = Inputs(pts.filter(old_mask))
    first = np.flatnonzero((pts["seg_id"] != pts["seg_id"].shift(1)).fill_null(True).to_numpy())
    n = np.diff(np.append(first, pts.height))
    n_old = pts.select(old_mask.alias("o")).with_columns(s=pts["seg_id"]).group_by("s", maintain_order=True).agg(
        pl.col("o").sum())["o"].to_numpy()
    assert (n_old >= 1).all() and (n > n_old).all()
    key = ["mmsi", "k"]
    want = encounter.grid_points(full, p).drop("seg").sort(key)
    old_grid = encounter.grid_points(old, p)
    added = encounter.grown_grid_points(full, p, first, n_old, n)
    got = pl.concat([old_grid, added]).drop("seg").sort(key)
    assert_frame_equal(got, want, check_exact=True)
    assert added.height > 10 and want.height < encounter.resample(pts, p.step_s, p.max_interp_gap_h).height
    assert 431000105 not in added["mmsi"].to_list()  # no new grid time
    assert want.filter(pl.col("mmsi") == 431000103)["speed_kn"].null_count() == 2  # a first point, after the silence
    # the reception counts of ais_gap grow the same way
    new_rows = np.concatenate([np.arange(f + o, f + m) for f, o, m in zip(first, n_old, n)])
    rx, tb = grown_vessel_grid(vessel_grid(old.points), pts[new_rows])
    rx_key = ["mmsi", "cy", "cx", "tb"]
    assert_frame_equal(rx.sort(rx_key), vessel_grid(pts).sort(rx_key), check_exact=True)
    assert sorted(tb.to_list()) == sorted(set(vessel_grid(pts[new_rows])["tb"].to_list()))
