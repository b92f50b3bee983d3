"""Track building: de-duplication, segmentation by transmitter, kinematics (places: test_places)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from seawatch import schema
from seawatch.errors import SeawatchError
from seawatch.testing import concat, ping, track
from seawatch.tracks import SegmentParams, build_tracks, destination, haversine_nm


def tracks(*frames, **kw):
    return build_tracks(concat(*frames), places=False, **kw)


def test_two_transmitters_sharing_an_mmsi_200_nm_apart_are_two_segments_without_cross_over():
    west = track(431000001, lat=37.5, lon=135.0, cog_deg=0, every_s=10, hours=2)
    east = track(431000001, lat=37.5, lon=139.2, cog_deg=180, every_s=10, hours=2, start="2024-06-01T00:00:05Z")
    assert haversine_nm(37.5, 135.0, 37.5, 139.2) > 195
    r = tracks(west, east)
    assert r.segments.height == 2
    by_seg = r.points.group_by("seg_id").agg(pl.col("lon").min().alias("lo"), pl.col("lon").max().alias("hi"))
    for lo, hi in zip(by_seg["lo"], by_seg["hi"]):
        assert hi - lo < 0.01  # every segment stays on one side: no cross-over
    assert r.points["implied_speed_kn"].max() < 11
    assert not r.points["is_noise"].any()


def test_a_sparse_clone_under_a_dense_transmitter_is_stitched_into_its_own_segment():
    # class A every 2 s; a second transmitter on the same MMSI every 3 min, 90 reports apart
    dense = track(431000001, lat=37.5, lon=135.0, every_s=2, hours=1)
    sparse = track(431000001, lat=37.5, lon=139.2, every_s=180, hours=1, cog_deg=270, start="2024-06-01T00:00:01Z")
    r = tracks(dense, sparse)
    assert sorted(r.segments["n_points"].to_list()) == [sparse.height, dense.height]
    assert r.points["is_noise"].sum() == 0


def test_an_honest_vessel_silent_7_h_reappearing_where_dead_reckoning_puts_it_is_one_segment():
    before = track(431000002, lat=37.5, lon=138.0, sog_kn=10, cog_deg=90, hours=1)
    lat, lon = destination(37.5, 138.0, 90, 10 * 8)  # 1 h before + 7 h silent, at 10 kn
    after = track(431000002, start="2024-06-01T08:00:00Z", lat=float(lat), lon=float(lon), sog_kn=10, cog_deg=90, hours=1)
    r = tracks(before, after)
    assert r.segments.height == 1
    gap = r.points.filter(pl.col("dt_s") > 3600)
    assert gap.height == 1 and gap["dt_s"][0] == pytest.approx(7 * 3600)
    assert gap["implied_speed_kn"][0] == pytest.approx(10, rel=0.01)


def test_a_silence_longer_than_max_gap_starts_a_new_segment():
    before = track(431000002, hours=1)
    after = track(431000002, start="2024-06-01T10:00:00Z", lat=37.51, lon=138.6, hours=1)
    assert tracks(before, after).segments.height == 2
    assert tracks(before, after, params=SegmentParams(max_gap_h=12)).segments.height == 1


def test_a_single_500_kn_glitch_is_noise_not_a_new_vessel():
    ship = track(431000003, hours=2, every_s=60)
    glitch = ping(431000003, ts="2024-06-01T01:00:30Z", lat=38.3, lon=139.5)  # ~60 nm away in 30 s
    r = tracks(ship, glitch)
    assert r.segments.height == 1 and r.stats["noise"] == 1
    bad = r.points.filter(pl.col("is_noise"))
    assert bad["lat"].to_list() == [38.3] and bad["seg_id"].to_list() == [None]
    # the track around the glitch is continuous and at the vessel's speed
    assert r.points.filter(~pl.col("is_noise"))["implied_speed_kn"].max() < 10.5


def test_a_30_kn_dash_is_not_split():
    r = tracks(track(431000004, sog_kn=34, hours=1, every_s=10))
    assert r.segments.height == 1
    assert r.segments["max_implied_speed_kn"][0] == pytest.approx(34, rel=0.01)


def test_receiver_duplicates_are_merged_and_counted():
    a = track(431000005, hours=0.5, station="rx1")
    b = a.with_columns(station=pl.lit("rx2"))
    r = build_tracks(pl.concat([a, b]), places=False)
    assert r.points.height == a.height
    assert r.stats["duplicates_merged"] == a.height
    assert r.points["n_rx"].unique().to_list() == [2]


def test_untimed_rows_and_non_vessels_are_not_tracked_but_counted():
    ok = track(431000006, hours=0.1)
    untimed = ping(431000006).with_columns(ts=pl.lit(None, dtype=schema.UTC_TS))
    base = ping(4310001, ais_class="base")
    null_island = ping(431000006, ts="2024-06-01T00:03:30Z", lat=0.0, lon=0.0)
    r = build_tracks(pl.concat([ok, untimed, base, null_island]), places=False)
    assert r.stats["untracked_no_time_or_position"] == 2
    assert r.stats["untracked_not_vessel"] == 1
    assert r.points.height == ok.height


def test_kinematics_of_a_turning_track():
    leg1 = track(431000007, cog_deg=0, sog_kn=12, hours=0.5, every_s=300)
    lat, lon = leg1["lat"][-1], leg1["lon"][-1]
    leg2 = track(431000007, cog_deg=90, sog_kn=12, hours=0.5, every_s=300, lat=lat, lon=lon,
                 start="2024-06-01T00:30:00Z").slice(1)
    r = tracks(leg1, leg2)
    p = r.points
    assert p["dt_s"][0] is None and p["dt_s"][1] == 300
    assert p["dist_nm"][1] == pytest.approx(1.0, rel=1e-3)  # 12 kn x 5 min
    assert p["implied_speed_kn"][1:].to_numpy() == pytest.approx(np.full(p.height - 1, 12.0), rel=1e-3)
    turns = p["turn_deg"].drop_nulls().to_numpy()
    assert np.sum(np.abs(turns) > 1) == 1 and turns[np.abs(turns) > 1][0] == pytest.approx(90, abs=0.5)
    assert r.segments["dist_nm"][0] == pytest.approx(12.0, rel=1e-3)


def test_segment_ids_are_deterministic_and_readable():
    frames = concat(track(431000008, hours=0.2), track(431000009, hours=0.2))
    a = build_tracks(frames, places=False).points["seg_id"]
    b = build_tracks(frames.sample(fraction=1.0, shuffle=True, seed=3), places=False).points["seg_id"]
    assert a.to_list() == b.to_list()
    assert a[0] == "431000008-20240601T000000Z"


def test_output_matches_the_schema():
    r = tracks(track(431000010, hours=0.1))
    assert r.points.schema == schema.polars_schema("tracks")
    assert r.segments.schema == schema.polars_schema("segments")
    empty = build_tracks(schema.empty("positions"), places=False)
    assert empty.points.height == 0 and empty.segments.height == 0


def test_wrong_input_raises_a_seawatch_error_that_says_what_to_pass():
    with pytest.raises(SeawatchError, match="schema.POSITIONS"):
        build_tracks(pl.DataFrame({"mmsi": [1]}))
    with pytest.raises(SeawatchError, match="max_speed_kn"):
        SegmentParams(max_speed_kn=0)


# -- in the store, exported, from the command line ---------------------------------------------------
def _store_with(tmp_path, positions):
    from seawatch.store import Store

    st = Store(tmp_path / "db", create=True)
    import hashlib

    from seawatch.ingest.result import IngestResult

    fp = hashlib.sha256(b"t").hexdigest()
    st.begin_file(fp)
    res = IngestResult(positions=positions, statics=schema.empty("statics"), other=schema.empty("other"),
                       rejects=schema.empty("rejects"), lines_read=positions.height,
                       lines_decoded=positions.height, duplicates=0)
    st.write_chunk(fp, 0, res)
    st.commit_file(fp, {"path": "t", "format": "test"})
    return st


def test_materialise_is_deterministic_and_replaces_the_previous_generation(tmp_path):
    from seawatch.tracks import materialise_tracks

    st = _store_with(tmp_path, concat(track(431000011, hours=1), track(431000012, hours=1, lat=37.6)))
    a = materialise_tracks(st, places=False)
    first = st.table("tracks").sort("mmsi", "ts")
    b = materialise_tracks(st, places=False)
    again = st.table("tracks").sort("mmsi", "ts")
    assert first.equals(again) and a.stats == b.stats
    assert st.generation("tracks") == 2 and st.table("segments").height == 2
    materialise_tracks(st, places=False)
    gens = sorted(p.name for p in (st.path / "tracks").glob("gen-*"))
    assert gens == ["gen-2", "gen-3"]  # the previous generation is kept for readers, older ones go
    s = st.stats()
    assert s["tracks"] == first.height and s["segments"] == 2
    assert st.query("SELECT count(DISTINCT seg_id) AS n FROM tracks")["n"][0] == 2


def test_segments_export_as_lines_in_geojson_geoparquet_and_kml(tmp_path):
    import json
    import xml.etree.ElementTree as ET

    import pyarrow.parquet as pq
    import shapely

    from seawatch.store import export_table
    from seawatch.tracks import materialise_tracks

    st = _store_with(tmp_path, concat(track(431000011, hours=1, every_s=600), track(431000012, hours=1, lat=37.6, every_s=600)))
    materialise_tracks(st, places=False)
    gj = export_table(st, "segments", tmp_path / "s.geojson")
    fc = json.loads((tmp_path / "s.geojson").read_text())
    assert gj["rows"] == 2 and [f["geometry"]["type"] for f in fc["features"]] == ["LineString"] * 2
    assert len(fc["features"][0]["geometry"]["coordinates"]) == 7
    assert fc["features"][0]["properties"]["start_time"] == "2024-06-01T00:00:00Z"
    export_table(st, "segments", tmp_path / "s.geoparquet")
    t = pq.read_table(tmp_path / "s.geoparquet")
    geo = json.loads(t.schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["geometry_types"] == ["LineString"]
    lines = shapely.from_wkb(t.column("geometry").to_pylist())
    assert shapely.get_num_points(lines).tolist() == [7, 7]
    export_table(st, "segments", tmp_path / "s.kml")
    root = ET.parse(tmp_path / "s.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Placemark/k:LineString", ns)) == 2
    export_table(st, "tracks", tmp_path / "p.geojson")
    pts = json.loads((tmp_path / "p.geojson").read_text())["features"]
    assert len(pts) == 14 and pts[0]["geometry"]["type"] == "Point"


def test_cli_tracks_builds_and_reports(tmp_path):
    from click.testing import CliRunner

    from seawatch.cli import main

    st = _store_with(tmp_path, concat(track(431000011, hours=1), ping(431000011, ts="2024-06-01T00:30:30Z", lat=39.0, lon=140.0)))
    r = CliRunner().invoke(main, ["tracks", "--db", str(st.path), "--no-places"])
    assert r.exit_code == 0, r.output
    assert "62 track points, 1 segments, 1 vessels from 62 positions" in r.output
    assert "1 noise points" in r.output
    bad = CliRunner().invoke(main, ["tracks", "--db", str(tmp_path / "nope")])
    assert bad.exit_code == 2 and "Error: no seawatch store" in bad.output


def test_extend_places_new_points_as_segmenting_everything_again_would():
    """tracks.extend (the live watch's fast path) gives new points the segment id and
    kinematics build_tracks gives them over all the points, and refuses the cases where
    segmenting again could decide otherwise: a late point, a jump no ship makes, a
    one-point segment."""
    from seawatch.tracks import extend, usable_vessel_rows

    old = concat(track(431000001, sog_kn=12, cog_deg=30, hours=2, every_s=60),
                 track(431000002, sog_kn=8, cog_deg=200, hours=2, every_s=90, lat=38.0),
                 track(431000003, sog_kn=5, hours=2, every_s=120, lat=39.0),
                 track(431000004, sog_kn=5, hours=1, every_s=60, lat=39.5),
                 ping(431000005, lat=40.0, lon=139.0, ts="2024-06-01T01:00:00Z"))
    full_old = build_tracks(old, places=False)
    nxt = concat(track(431000001, sog_kn=12, cog_deg=30, hours=2, every_s=60, start="2024-06-01T02:00:30Z",
                       **dict(zip(("lat", "lon"), map(float, destination(37.5, 138.5, 30, 24.1))))),
                 track(431000002, sog_kn=8, cog_deg=200, hours=0.5, every_s=90, start="2024-06-01T01:30:00Z",
                       lat=38.0),  # late: before its latest point
                 ping(431000003, lat=41.0, lon=138.5, ts="2024-06-01T02:05:00Z"),  # 120 nm in 5 min
                 ping(431000004, lat=39.5, lon=138.6, ts="2024-06-01T01:30:00Z"),
                 ping(431000005, lat=40.0, lon=139.001, ts="2024-06-01T01:05:00Z"))  # a one-point segment
    pts, segs = full_old.points, full_old.segments
    lastrow = pts.group_by("mmsi", maintain_order=True).last().select("mmsi", "ts", "lat", "lon", "seg_id")
    last = lastrow.join(segs.select("seg_id", "n_points"), on="seg_id")
    ext, bad = extend(last, usable_vessel_rows(nxt))
    assert sorted(bad.to_list()) == [431000002, 431000003, 431000005]
    full = build_tracks(concat(old, nxt), places=False).points
    got = ext.select("mmsi", "ts", "seg_id", "dt_s", "dist_nm", "implied_speed_kn")
    want = full.join(got.select("mmsi", "ts"), on=["mmsi", "ts"], how="semi").select(got.columns)
    assert got.height == nxt.filter(pl.col("mmsi").is_in([431000001, 431000004])).height > 100
    assert got.sort("mmsi", "ts").equals(want.sort("mmsi", "ts"))
    # and the old points of the extended vessels are placed as before
    before = pts.filter(pl.col("mmsi").is_in([431000001, 431000004])).select(got.columns)
    assert full.join(before.select("mmsi", "ts"), on=["mmsi", "ts"], how="semi").select(got.columns).sort("mmsi", "ts").equals(
        before.sort("mmsi", "ts"))


def test_grown_segments_equal_segments_of_all_their_points():
    """tracks.grown_segments (the live watch's segments of the segments extend grew: first values
    kept, last ones and the maximum from the new points, the sums taken again) equals
    segments_of over every point of those segments, to the bit, with reported speeds missing
    here and there and segments long enough for numpy's pairwise sums to differ from running
    ones."""
    from datetime import timedelta

    from seawatch.tracks import SEGMENT_INPUTS, extend, grown_segments, segments_of, usable_vessel_rows

    rng = np.random.default_rng(3)
    old = concat(*[track(431000100 + i, sog_kn=float(rng.uniform(4, 14)), cog_deg=float(rng.uniform(0, 360)),
                         lat=37 + 0.1 * i, hours=3, every_s=float(rng.integers(20, 90))) for i in range(6)])
    old = old.with_columns(sog_kn=pl.when(pl.Series(rng.random(old.height) < 0.1)).then(None).otherwise(pl.col("sog_kn")))
    built = build_tracks(old, places=False)
    pts, segs = built.points, built.segments
    last = pts.group_by("mmsi", maintain_order=True).last().select("mmsi", "ts", "lat", "lon", "seg_id").join(
        segs.select("seg_id", "n_points"), on="seg_id")
    # each vessel's next points along its course, a few of them without a reported speed
    nxt = pl.concat([pl.DataFrame({"mmsi": [m] * 5, "ts": [t + timedelta(seconds=30 * (k + 1)) for k in range(5)],
                                   "lat": [la + 0.001 * (k + 1) for k in range(5)], "lon": [lo] * 5,
                                   "sog_kn": [None if k == 2 else 7.5 for k in range(5)]})
                     for m, t, la, lo in last.select("mmsi", "ts", "lat", "lon").iter_rows()], how="diagonal_relaxed")
    nxt = schema.conform("positions", nxt.with_columns(ais_class=pl.lit("A")))
    ext, bad = extend(last, usable_vessel_rows(nxt))
    assert bad.len() == 0 and ext.height == 30
    cols = list(SEGMENT_INPUTS)
    grown_pts = pl.concat([pts.select(cols), ext.select(cols).cast(pts.select(cols).schema)]).sort("mmsi", "ts")
    want = segments_of(grown_pts)
    n = want["n_points"].to_numpy()
    first = np.cumsum(n) - n  # one segment per vessel, in mmsi order
    got = grown_segments(segs.sort("mmsi"), grown_pts, first, n)
    assert want["n_points"].min() > 100 and want["mean_sog_kn"].null_count() == 0
    assert got.equals(want)
