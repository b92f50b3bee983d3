"""Maritime zones: built-in data, lookups, accuracy against exact geometry and official lines, imports."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import shapely

from seawatch import schema
from seawatch.errors import SeawatchError
from seawatch.zones import Zones, geo, import_zones, lookup, zones_table

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "seawatch" / "zones" / "data"


def one(lat, lon, **kw) -> dict:
    return lookup([lat], [lon], **kw).row(0, named=True)


def off(lat, lon, bearing, nm):
    la, lo = geo.destination(lat, lon, bearing, nm)
    return float(la), float(lo)


# -- contract ------------------------------------------------------------------------------------


def test_lookup_columns_match_tracks_schema():
    df = lookup([37.0, 0.0], [135.0, 0.0])
    tracks = schema.polars_schema("tracks")
    assert df.columns == ["on_land", "dist_to_shore_nm", "zone_name", "zone_kind", "zone_state"]
    assert {c: df.schema[c] for c in df.columns} == {c: tracks[c] for c in df.columns}
    extra = lookup([37.0], [135.0], claimants=True, custom=True)
    assert extra.columns[-2:] == ["zone_claimants", "custom_zones"]
    assert extra.schema["zone_claimants"] == pl.Utf8 and extra.schema["custom_zones"] == pl.Utf8


def test_zones_table_conforms_and_names_match_lookup():
    t = zones_table()
    assert t.schema == schema.polars_schema("zones")
    assert t.equals(schema.conform("zones", t))
    assert set(t["kind"]) <= set(schema.ZONE_KINDS)
    assert t["zone_id"].n_unique() == t.height
    geoms = shapely.from_wkb(t["geometry"].to_list())
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    disputed = t.filter(pl.col("kind") == "disputed")
    assert disputed["state"].null_count() == disputed.height and disputed["claimants"].null_count() == 0
    states = t.filter(pl.col("kind") != "disputed").filter(pl.col("kind") != "high_seas")
    assert states["state"].null_count() == 0
    assert {"JPN-territorial_sea", "JPN-contiguous_zone", "JPN-eez", "KOR-eez", "RUS-eez", "CHN-eez",
            "disputed-takeshima-territorial_sea", "disputed-northern_territories-eez", "high_seas"} <= set(t["zone_id"])
    # every zone name a lookup can return is a row of the table
    rng = np.random.default_rng(3)
    df = lookup(rng.uniform(14, 56, 20000), rng.uniform(111, 159, 20000))
    assert set(df["zone_name"].drop_nulls()) <= set(t["name"])


def test_zones_table_polygons_agree_with_lookup():
    """The table's CZ/EEZ polygons are a polygonised 1/32-degree grid: +-1.5 nm at their edges."""
    t = zones_table()
    rng = np.random.default_rng(11)
    la, lo = rng.uniform(14, 56, 20000), rng.uniform(111, 159, 20000)
    df = lookup(la, lo)
    sea = ~df["on_land"].to_numpy()
    names = df["zone_name"].to_numpy()
    found = np.full(len(la), None, dtype=object)
    for r in t.iter_rows(named=True):
        g = shapely.from_wkb(r["geometry"])
        found[shapely.contains_xy(g, lo, la)] = r["name"]
    agree = (found[sea] == names[sea]).mean()
    print(f"zones_table polygons vs lookup: {agree:.3%} of {sea.sum()} sea points")
    assert agree > 0.995, agree


def test_data_files_are_small_and_attributed():
    sizes = {p.name: p.stat().st_size for p in DATA.iterdir()}
    assert sum(sizes.values()) < 4_000_000, sizes
    readme = (DATA / "README.md").read_text()
    assert "OpenStreetMap contributors" in readme and "ODbL" in readme
    meta = json.loads((DATA / "zones.json").read_text())
    pins = {s["package"]: s["sha256"] for s in meta["sources"]}
    assert pins["@geo-maps/countries-maritime-10m"] == "c63144607cc8aeb5784f8e14b7bf8c8fcdaf2e000b93fe44b1991257773e13a1"
    build = (ROOT / "tools" / "build_zones.py").read_text()
    assert all(sha in build for sha in pins.values())


# -- the places --------------------------------------------------------------------------

NIIGATA = (37.92, 139.05)


def test_niigata_territorial_sea_contiguous_zone_eez():
    ts = one(*off(*NIIGATA, 0, 5))
    assert (ts["zone_kind"], ts["zone_state"], ts["zone_name"]) == ("territorial_sea", "JPN", "JPN territorial sea")
    assert ts["on_land"] is False and 2 < ts["dist_to_shore_nm"] < 5
    # Japan's straight baselines (Sado - Awashima) put 20 nm off Niigata still in the territorial
    # sea; the limit crosses the meridian about 44 nm north, so 50 nm north is contiguous zone.
    assert one(*off(*NIIGATA, 0, 20))["zone_kind"] == "territorial_sea"
    cz = one(*off(*NIIGATA, 0, 50))
    assert (cz["zone_kind"], cz["zone_state"]) == ("contiguous_zone", "JPN") and cz["dist_to_shore_nm"] > 12
    eez = one(*off(*NIIGATA, 0, 100))
    assert (eez["zone_kind"], eez["zone_state"], eez["zone_name"]) == ("eez", "JPN", "JPN EEZ")


def test_normal_baseline_island_12_24_200():
    # Hachijo-jima: no straight baselines, so the zones follow the distance to the coast
    for bearing in (90, 180):
        for nm, kind in ((5, "territorial_sea"), (20, "contiguous_zone")):
            r = one(*off(33.1, 139.79, bearing, nm))
            assert (r["zone_kind"], r["zone_state"]) == (kind, "JPN"), (bearing, nm, r)
    r = one(*off(33.1, 139.79, 90, 30))
    assert r["zone_kind"] == "eez" and 24 < r["dist_to_shore_nm"] < 30


def test_ulleungdo_is_korean_not_japanese():
    near = one(37.5, 131.1)  # 8 nm east of Ulleungdo
    assert (near["zone_kind"], near["zone_state"]) == ("territorial_sea", "KOR")
    for lat, lon in ((37.5, 130.5), (37.5, 130.0)):
        r = one(lat, lon)
        assert r["zone_state"] == "KOR" and r["zone_kind"] in ("contiguous_zone", "eez"), r


def test_inland_is_on_land():
    r = one(36.5, 138.5)
    assert r["on_land"] is True and r["dist_to_shore_nm"] == 0.0 and r["zone_name"] is None


def test_takeshima_is_disputed():
    r = one(37.24, 131.87, claimants=True)
    assert r["zone_kind"] == "disputed" and r["zone_state"] is None and r["zone_claimants"] == "JPN;KOR"
    assert r["zone_name"] == "Takeshima / Dokdo (disputed) territorial sea"
    assert r["dist_to_shore_nm"] < 1.0  # the rocks are a point of coast
    # the EEZ nearer to Takeshima than to any undisputed coast is disputed too, never KOR or JPN
    eez = one(37.8, 132.3, claimants=True)
    assert eez["zone_name"] == "Takeshima / Dokdo (disputed) EEZ" and eez["zone_claimants"] == "JPN;KOR"


@pytest.mark.parametrize("lat,lon", [(44.0, 146.0), (43.6, 146.35), (43.7, 146.8), (44.9, 147.2), (43.8, 145.3)])
def test_northern_territories_are_disputed(lat, lon):
    r = one(lat, lon, claimants=True)  # Kunashiri, Habomai, Shikotan, Etorofu waters, Nemuro strait
    assert r["zone_kind"] == "disputed" and r["zone_state"] is None and r["zone_claimants"] == "JPN;RUS", r
    assert r["zone_name"].startswith("Northern Territories / Southern Kurils (disputed)")


def test_northern_territories_do_not_swallow_undisputed_coasts():
    assert one(43.15, 145.6)["zone_state"] == "JPN"  # off Nemuro (Hokkaido)
    assert one(46.3, 143.6)["zone_state"] == "RUS"  # Aniva bay (Sakhalin)
    assert one(45.55, 149.5)["zone_state"] == "RUS"  # off Urup, north-east of the four islands


def test_senkaku_is_disputed_with_three_claimants():
    r = one(25.75, 123.6, claimants=True)
    assert r["zone_kind"] == "disputed" and r["zone_claimants"] == "JPN;CHN;TWN"
    assert r["zone_name"] == "Senkaku / Diaoyu (disputed) territorial sea"
    t = one(*off(25.9233, 124.56, 0, 6), claimants=True)  # Taisho-jima, missing from OSM land
    assert t["zone_name"].startswith("Senkaku") and t["zone_kind"] == "disputed"


@pytest.mark.parametrize(
    "name,lat,lon",
    [("Tsugaru", 41.45, 140.5), ("Soya", 45.60, 141.97), ("Tsushima west channel", 34.4, 128.95),
     ("Tsushima east channel", 34.0, 129.5), ("Osumi", 30.8, 130.6)],
)
def test_specified_straits_are_not_territorial_sea(name, lat, lon):
    # OSM already draws Japan's 3 nm limit in the five specified straits; the water between is
    # within 24 nm of the baselines: Japan's contiguous zone (which is part of its EEZ).
    r = one(lat, lon)
    assert r["zone_kind"] == "contiguous_zone" and r["zone_state"] == "JPN", (name, r)
    assert r["dist_to_shore_nm"] > 3


def _nearest_coast_nm(lat, lon, box):
    eng = geo.engine()
    parts = shapely.get_parts(eng.land.intersection(shapely.box(*box)))
    g = geo.project_geom(shapely.union_all(parts), lat, lon)
    return shapely.distance(shapely.Point(0, 0), g)


def test_tsushima_strait_goes_to_the_nearer_state():
    for lat, lon in ((34.55, 128.95), (34.45, 129.05), (34.0, 129.0), (34.6, 129.05)):
        r = one(lat, lon)
        d_kor = _nearest_coast_nm(lat, lon, (127.5, 34.3, 129.6, 35.6))  # Korean south coast
        d_jpn = _nearest_coast_nm(lat, lon, (129.1, 33.9, 129.6, 34.8))  # Tsushima
        assert r["zone_kind"] in ("territorial_sea", "contiguous_zone", "eez")
        if abs(d_kor - d_jpn) > 0.5:
            assert r["zone_state"] == ("KOR" if d_kor < d_jpn else "JPN"), (lat, lon, d_kor, d_jpn, r)


def test_outside_coverage_and_null_positions_are_null():
    df = lookup([0.0, float("nan"), 70.0, 35.0], [0.0, 140.0, 140.0, float("nan")])
    assert df.null_count().row(0) == (4, 4, 4, 4, 4)
    s = lookup(pl.Series([35.0, None]), pl.Series([139.8, 139.8]))
    assert s["zone_name"][1] is None and s["on_land"][0] is not None


# -- accuracy --------------------------------------------------------------------------------------


def test_dist_to_shore_matches_exact_geodesic_distance():
    """~200 random sea points: within 1 nm (in fact ~0.01) of shapely's distance in an AEQD
    projection centred on the point (distances from the centre are exact great-circle)."""
    eng = geo.engine()
    rng = np.random.default_rng(42)
    la, lo = rng.uniform(14, 56, 3000), rng.uniform(111, 159, 3000)
    df = lookup(la, lo)
    ok = (~df["on_land"].to_numpy()) & df["dist_to_shore_nm"].is_not_null().to_numpy()
    idx = np.nonzero(ok)[0][:200]
    assert len(idx) == 200
    parts = shapely.get_parts(eng.land)
    tree = shapely.STRtree(parts)
    islets = eng._z["islet_xy"] / geo.COORD_SCALE
    errs = []
    for i in idx:
        d = float(df["dist_to_shore_nm"][int(i)])
        r_lat = (d + 5) / 60.0
        r_lon = r_lat / max(np.cos(np.radians(abs(la[i]) + r_lat)), 0.05)
        win = (lo[i] - r_lon, la[i] - r_lat, lo[i] + r_lon, la[i] + r_lat)
        cand = shapely.clip_by_rect(parts[tree.query(shapely.box(*win))], *win)
        g = shapely.union_all(cand[~shapely.is_empty(cand)])
        ref = np.inf
        if not g.is_empty:
            ref = shapely.distance(shapely.Point(0, 0), shapely.boundary(geo.project_geom(g, la[i], lo[i])))
        ref = min(ref, float(geo.haversine_nm(la[i], lo[i], islets[:, 1], islets[:, 0]).min()))
        errs.append(abs(ref - d))
    errs = np.asarray(errs)
    print(f"dist_to_shore vs exact: max {errs.max():.6f} nm, median {np.median(errs):.7f} nm")
    assert errs.max() < 1.0 and np.median(errs) < 0.05, (errs.max(), np.median(errs))


def test_fast_path_agrees_with_exact_computation():
    eng = geo.engine()
    rng = np.random.default_rng(7)
    la, lo = rng.uniform(14, 56, 40000), rng.uniform(111, 159, 40000)
    xy = geo.decode_coords(eng._z["land_xy"])
    xy = xy[eng.covered(xy[:, 1], xy[:, 0])]
    near = xy[rng.integers(0, len(xy), 40000)] + rng.normal(0, 0.05, (40000, 2))
    la, lo = np.concatenate([la, near[:, 1]]), np.concatenate([lo, near[:, 0]])
    la, lo = la[eng.covered(la, lo)], lo[eng.covered(la, lo)]
    f_land, f_d, f_code = eng.classify(la, lo)
    e_land, e_d, e_code = eng.exact(la, lo)
    assert (f_code == e_code).mean() > 0.9999 and (f_land == e_land).all()
    both = np.isfinite(f_d)
    assert np.abs(f_d[both] - e_d[both]).max() < 0.25


def _dense_tracks(rng, n_spots=400, per_spot=150):
    """Track-like positions: many points in few places (moored/anchored jitter, short legs),
    near coasts, in straits and on median lines, the way real AIS tracks fill the lookup."""
    eng = geo.engine()
    xy = geo.decode_coords(eng._z["land_xy"])
    xy = xy[eng.covered(xy[:, 1], xy[:, 0])]
    spots = xy[rng.integers(0, len(xy), n_spots)] + rng.normal(0, 0.03, (n_spots, 2))
    special = np.array([[129.6, 34.5], [130.0, 33.9], [131.87, 37.24], [141.8, 45.5], [140.6, 41.45],
                        [131.1, 36.2], [124.0, 25.9], [146.0, 43.6], [139.8, 35.3], [135.2, 34.5]])
    spots = np.vstack([spots, special + rng.normal(0, 0.02, special.shape)])
    pts = []
    for x, y in spots:
        if rng.random() < 0.5:  # anchored: jitter of tens of metres
            pts.append(np.column_stack([x + rng.normal(0, 0.0004, per_spot), y + rng.normal(0, 0.0003, per_spot)]))
        else:  # a leg of a few nm
            t = np.sort(rng.random(per_spot))[:, None]
            a = rng.uniform(0, 2 * np.pi)
            pts.append(np.column_stack([x, y]) + t * 0.1 * np.array([[np.cos(a), np.sin(a)]]))
    p = np.vstack(pts)
    ok = eng.covered(p[:, 1], p[:, 0])
    return p[ok, 1], p[ok, 0]


def test_dense_tracks_agree_with_exact_computation():
    """Where the sub-cell corner field answers (dense points), it agrees with the reference."""
    eng = geo.engine()
    la, lo = _dense_tracks(np.random.default_rng(11))
    f_land, f_d, f_code = eng.classify(la, lo)
    e_land, e_d, e_code = eng.exact(la, lo)
    assert (f_land == e_land).all()
    assert (f_code == e_code).mean() > 0.9999, (f_code != e_code).sum()
    both = np.isfinite(f_d) & np.isfinite(e_d)
    assert (np.isfinite(f_d) == np.isfinite(e_d)).all()
    err = np.abs(f_d[both] - e_d[both])
    print(f"dense tracks: {len(la)} points, |fast - exact| max {err.max():.4f} nm, p99 {np.percentile(err, 99):.4f} nm")
    # the fast path's corner segments are within 0.12 nm (module docs); the field adds at most
    # FIELD_TOL_NM to what its corners were measured with (next test)
    assert err.max() < 0.12 and np.percentile(err, 99) < 0.05


def test_a_position_gets_the_same_answer_alone_or_among_many():
    """The field is used for dense calls only: a position alone gets the per-point answer,
    within FIELD_TOL_NM (plus the far path's own tolerance) and in the same zone."""
    eng = geo.engine()
    la, lo = _dense_tracks(np.random.default_rng(5), n_spots=150)
    land, d, code = eng.classify(la, lo)
    idx = np.random.default_rng(0).choice(len(la), 400, replace=False)
    alone = [eng.classify(la[i : i + 1], lo[i : i + 1]) for i in idx]
    a_land = np.array([a[0][0] for a in alone])
    a_d = np.array([a[1][0] for a in alone])
    a_code = np.array([a[2][0] for a in alone])
    assert (a_land == land[idx]).all() and (a_code == code[idx]).mean() > 0.995
    both = np.isfinite(a_d) & np.isfinite(d[idx])
    diff = np.abs(a_d[both] - d[idx][both])
    assert diff.max() <= geo.FIELD_TOL_NM + 0.005 and diff.max() > 0  # > 0: the field did answer


def test_polygon_tests_by_tile_match_whole_polygons_on_tile_edges():
    """Crossed sub-cells are tested against land and TS clipped to 1-degree tiles: the same
    answers as the whole polygons, also for points exactly on a tile's edge."""
    eng = geo.engine()
    rng = np.random.default_rng(2)
    lines = []
    for k in range(30, 44):  # latitudes crossing Japan and Korea, exactly on tile edges
        lines.append(np.column_stack([rng.uniform(125, 146, 3000), np.full(3000, float(k))]))
    for k in range(127, 146):  # longitudes
        lines.append(np.column_stack([np.full(3000, float(k)), rng.uniform(30, 46, 3000)]))
    p = np.vstack(lines)
    la, lo = p[:, 1], p[:, 0]
    got = eng._land_or_ts(la, lo)
    land = shapely.contains_xy(eng.land, lo, la)
    t = eng.in_ts(la, lo)
    want = np.where(land, geo.LAND, np.where(t >= 0, geo.ts_code(np.maximum(t, 0)), geo.MIXED_SEA))
    assert (got == want).all() and land.any() and (t >= 0).any()


@pytest.fixture(scope="module")
def gfw(shared_data) -> Path:
    """Marine Regions-derived Sea of Japan lines published with Park et al. 2020 (see its README)."""
    return shared_data / "gfw-sea-of-japan-boundaries"


def _read(folder: Path, name: str):
    from seawatch.zones.files import read_polygons

    return shapely.union_all([g for _, g in read_polygons(folder / name)])


def test_russian_territorial_sea_agrees_with_marine_regions(gfw):
    """Against Marine Regions' Russian 12 nm zone in the Sea of Japan (GFW paper's copy).

    Peter the Great Gulf (Vladivostok) is Russian internal waters closed by a straight line:
    Marine Regions' 12 nm layer leaves it out while OSM's polygon (land + internal waters + TS)
    covers it, so it is reported apart."""
    ref = _read(gfw, "eez_rus_12nm.json")
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = ref.bounds
    la, lo = rng.uniform(y0, y1, 60000), rng.uniform(x0, x1, 60000)
    df = lookup(la, lo)
    sea = (~df["on_land"].fill_null(True)).to_numpy() & (df["dist_to_shore_nm"].fill_null(999).to_numpy() < 30)
    ins = shapely.contains_xy(ref, lo, la)
    ours = ((df["zone_state"] == "RUS") & (df["zone_kind"] == "territorial_sea")).fill_null(False).to_numpy()
    gulf = (lo > 130.6) & (lo < 133.2) & (la > 42.2) & (la < 43.5)
    rest = sea & ~gulf
    agree_rest = (ins[rest] == ours[rest]).mean()
    agree_all = (ins[sea] == ours[sea]).mean()
    print(f"RUS TS agreement: {agree_rest:.2%} outside Peter the Great Gulf ({rest.sum()} points), "
          f"{agree_all:.2%} with it ({sea.sum()} points)")
    assert agree_rest > 0.96
    # beyond 2 nm from shore (no bays, no coastline differences) the lines agree better still
    far = rest & (df["dist_to_shore_nm"].fill_null(0).to_numpy() > 2)
    assert (ins[far] == ours[far]).mean() > 0.985


def test_russian_and_north_korean_eez_against_published_lines(gfw):
    rus = shapely.union_all([_read(gfw, n) for n in ("eez_rus_near_prk_wo_12nm.json", "eez_rus_north_wo_12nm.json",
                                                 "eez_rus_south_wo_12nm.json")])
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = rus.bounds
    la, lo = rng.uniform(y0, y1, 60000), rng.uniform(x0, x1, 60000)
    df = lookup(la, lo)
    kind, state = df["zone_kind"].to_numpy(), df["zone_state"].to_numpy()
    sea = (~df["on_land"].fill_null(True)).to_numpy() & (kind != "territorial_sea")
    ins = shapely.contains_xy(rus, lo, la)
    ours = (state == "RUS") & np.isin(kind, ["contiguous_zone", "eez"])
    agree = (ins[sea] == ours[sea]).mean()
    print(f"RUS EEZ (beyond 12 nm) agreement: {agree:.2%} of {sea.sum()} points")
    assert agree > 0.95
    # North Korea's *claimed* EEZ goes beyond the median lines with Korea and Japan: ours is the
    # equidistance part of it
    prk = _read(gfw, "eez_prk.json")
    x0, y0, x1, y1 = prk.bounds
    la, lo = rng.uniform(y0, y1, 60000), rng.uniform(x0, x1, 60000)
    df = lookup(la, lo)
    sea = (~df["on_land"].fill_null(True)).to_numpy()
    ins = shapely.contains_xy(prk, lo, la)
    ours = df["zone_state"].to_numpy() == "PRK"
    inside_claim = ins[sea & ours].mean()
    claim_covered = ours[sea & ins].mean()
    print(f"PRK: {inside_claim:.2%} of our PRK zones inside the claim; {claim_covered:.2%} of the claim is ours PRK")
    assert inside_claim > 0.93 and claim_covered > 0.7


# -- imports -----------------------------------------------------------------------------------------

NIIGATA_PORT = [[139.00, 37.93], [139.12, 37.93], [139.12, 38.02], [139.00, 38.02], [139.00, 37.93]]
TOYAMA_BAY = [[137.0, 36.8], [137.6, 36.8], [137.6, 37.2], [137.0, 37.2]]  # unclosed on purpose


def test_import_geojson_and_kml_custom_areas(tmp_path):
    gj = tmp_path / "areas.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Niigata port approach"},
         "geometry": {"type": "Polygon", "coordinates": [NIIGATA_PORT]}}]}))
    kml = tmp_path / "watch.kml"
    coords = " ".join(f"{x},{y},0" for x, y in TOYAMA_BAY)
    kml.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Toyama bay watch</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon>
</Placemark></Document></kml>""")
    a = import_zones(gj, "custom")
    b = import_zones(kml, "custom")
    kmz = tmp_path / "watch.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", kml.read_text())
    assert import_zones(kmz, "custom").drop("source").equals(b.drop("source"))
    for f in (a, b):
        assert f.schema == schema.polars_schema("zones") and f.height == 1
        assert f["kind"][0] == "custom" and f["state"][0] is None
    assert a["zone_id"][0] == "custom-niigata_port_approach" and b["name"][0] == "Toyama bay watch"
    z = Zones.default().with_imported(pl.concat([a, b]))
    df = z.lookup([37.97, 37.0, 40.0], [139.06, 137.3, 135.0], custom=True)
    assert df["custom_zones"].to_list() == ["Niigata port approach", "Toyama bay watch", None]
    # custom areas do not replace the zone itself
    assert df["zone_kind"].to_list()[:2] == ["territorial_sea", "territorial_sea"]
    assert z.table().height == zones_table().height + 2
    # overlapping custom areas are all reported
    c = import_zones(gj, "custom", name="Niigata wide")
    df = Zones.default().with_imported(pl.concat([a, c])).lookup([37.97], [139.06], custom=True)
    assert df["custom_zones"][0] == "Niigata port approach;Niigata wide"


def test_imported_official_zone_takes_precedence(tmp_path, gfw):
    ref = gfw / "eez_rus_12nm.json"
    f = import_zones(ref, "territorial_sea", name="RUS territorial sea (Marine Regions)", state="RUS")
    assert f["state"][0] == "RUS" and f["source"][0] == "imported from eez_rus_12nm.json"
    z = Zones.default().with_imported(f)
    # just outside OSM's line at the mouth of Peter the Great Gulf, inside Marine Regions'
    lat, lon = 42.444, 132.406
    assert lookup([lat], [lon])["zone_kind"][0] != "territorial_sea"
    r = z.lookup([lat], [lon]).row(0, named=True)
    assert (r["zone_name"], r["zone_kind"], r["zone_state"]) == ("RUS territorial sea (Marine Regions)", "territorial_sea", "RUS")
    # imported zones also answer outside the built-in coverage; land is not a zone
    g = tmp_path / "far.geojson"
    g.write_text(json.dumps({"type": "Polygon", "coordinates": [[[10, 55], [12, 55], [12, 57], [10, 57], [10, 55]]]}))
    z2 = Zones.default().with_imported(import_zones(g, "eez", state="DNK"))
    r = z2.lookup([56.0], [11.0]).row(0, named=True)
    assert (r["zone_name"], r["zone_kind"], r["zone_state"], r["on_land"]) == ("far", "eez", "DNK", None)
    assert z2.lookup([36.5], [138.5])["zone_name"][0] is None


def test_import_disputed_with_claimants(tmp_path):
    g = tmp_path / "d.geojson"
    g.write_text(json.dumps({"type": "Feature", "properties": {"NAME": "Test area"},
                             "geometry": {"type": "Polygon", "coordinates": [NIIGATA_PORT]}}))
    f = import_zones(g, "disputed", claimants=["JPN", "KOR"])
    assert (f["name"][0], f["state"][0], f["claimants"][0]) == ("Test area", None, "JPN;KOR")
    r = Zones.default().with_imported(f).lookup([37.97], [139.06], claimants=True).row(0, named=True)
    assert (r["zone_kind"], r["zone_state"], r["zone_claimants"]) == ("disputed", None, "JPN;KOR")


def test_import_errors_say_how_to_fix(tmp_path, monkeypatch):
    g = tmp_path / "a.geojson"
    g.write_text(json.dumps({"type": "Polygon", "coordinates": [NIIGATA_PORT]}))
    with pytest.raises(SeawatchError, match="unknown zone kind 'harbour': use one of"):
        import_zones(g, "harbour")
    with pytest.raises(SeawatchError, match="zone file not found"):
        import_zones(tmp_path / "missing.geojson", "custom")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(SeawatchError, match="not readable as GeoJSON"):
        import_zones(bad, "custom")
    pts = tmp_path / "pts.geojson"
    pts.write_text(json.dumps({"type": "Point", "coordinates": [139, 38]}))
    with pytest.raises(SeawatchError, match="no polygon found"):
        import_zones(pts, "custom")
    with pytest.raises(SeawatchError, match="has no state"):
        import_zones(g, "custom", state="JPN")
    with pytest.raises(SeawatchError, match="ISO 3166 alpha-3"):
        import_zones(g, "eez", state="Japan")
    txt = tmp_path / "zones.txt"
    txt.write_text("x")
    with pytest.raises(SeawatchError, match="unsupported zone file type"):
        import_zones(txt, "custom")
    with pytest.raises(SeawatchError, match="is a directory"):
        import_zones(tmp_path, "custom")
    kml = tmp_path / "broken.kml"
    kml.write_text("<kml><Placemark>")
    with pytest.raises(SeawatchError, match="not readable as KML"):
        import_zones(kml, "custom")
    gpkg = tmp_path / "zones.gpkg"
    gpkg.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "pyogrio", None)
    monkeypatch.setitem(sys.modules, "pyogrio.raw", None)
    with pytest.raises(SeawatchError, match="pip install pyogrio"):
        import_zones(gpkg, "eez", state="JPN")
    with pytest.raises(SeawatchError, match="same length"):
        lookup([35.0, 36.0], [139.0])
    with pytest.raises(SeawatchError, match="must be numbers"):
        lookup(["north"], [139.0])
    with pytest.raises(SeawatchError, match="with_imported"):
        Zones.default().with_imported("zones.geojson")
