"""seawatch.zones.ports: the harborly registry, inferred anchorages, nearest-port look-ups."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from seawatch import schema
from seawatch.errors import SeawatchError
from seawatch.zones.ports import (
    EARTH_RADIUS_KM,
    PORT_SEARCH_KM,
    infer_anchorages,
    nearest_port,
    ports_table,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
HARBORLY_REF = SHARED / "harborly-port-registry" / "port_registry.parquet"
GFW_ANCHORAGES = SHARED / "gfw-anchorages" / "anchorage_overrides.csv.gz"

T0 = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
SPOT = (37.99, 139.10)  # an anchorage off Niigata, planted in the synthetic data


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


# -- the registry ---------------------------------------------------------------------------------
def test_ports_table_conforms_and_is_cached():
    ports = ports_table()
    assert ports.schema == schema.polars_schema("ports")
    assert ports.height == 20_070  # 2,951 WPI + 17,119 GeoNames
    assert ports.filter(pl.col("country_code") == "JP").height == 2_015
    assert set(ports["kind"].unique()) == {"port", "anchorage"}
    assert ports["port_id"].n_unique() == ports.height
    assert ports["source"].str.starts_with("harborly 1.1.4 (").all()
    assert ports_table() is ports  # lru_cache


def test_ports_table_matches_reference_copy():
    if not HARBORLY_REF.exists():
        pytest.skip(f"{HARBORLY_REF} not present")
    ref = pl.read_parquet(HARBORLY_REF, columns=["registry_id", "latitude", "longitude"])
    got = ports_table().select("port_id", "lat", "lon")
    joined = ref.join(got, left_on="registry_id", right_on="port_id", how="full")
    assert joined.height == ref.height == got.height
    assert (joined["latitude"] == joined["lat"]).all()
    assert (joined["longitude"] == joined["lon"]).all()


# -- nearest port ---------------------------------------------------------------------------------
def test_niigata_port_is_near_a_port_named_niigata():
    # Niigata West port (Shinano river mouth) and Niigata East port entrance
    got = nearest_port([37.93, 37.985], [139.06, 139.225])
    assert got.schema == pl.Schema({"port_name": pl.Utf8, "port_dist_km": pl.Float32})
    assert got["port_name"].str.to_lowercase().str.contains("niigata").all()
    assert (got["port_dist_km"] < 3.0).all()


def test_far_offshore_has_no_port_within_search():
    lat, lon = 39.0, 137.0  # Sea of Japan, between Sado and the Yamato Bank
    ports = ports_table()
    d_all = haversine_km(lat, lon, ports["lat"].to_numpy(), ports["lon"].to_numpy())
    assert d_all.min() > 100.0  # really ~100 km from every registry port
    got = nearest_port([lat], [lon])
    assert PORT_SEARCH_KM == 50.0
    assert got["port_name"].to_list() == [None] and got["port_dist_km"].to_list() == [None]
    wide = nearest_port([lat], [lon], search_km=1000.0)
    assert wide["port_dist_km"][0] == pytest.approx(d_all.min(), rel=1e-6)


def test_distances_agree_with_haversine_within_0_1_percent():
    rng = np.random.default_rng(3)
    n = 200
    lat = rng.uniform(30.0, 45.0, n)
    lon = rng.uniform(128.0, 146.0, n)
    got = nearest_port(lat, lon, search_km=20_000.0)  # every point gets its nearest port
    ports = ports_table()
    d = haversine_km(lat[:, None], lon[:, None],
                     ports["lat"].to_numpy()[None, :], ports["lon"].to_numpy()[None, :])
    best = d.min(axis=1)
    dist = got["port_dist_km"].to_numpy().astype(np.float64)
    assert np.all(np.abs(dist - best) <= 1e-3 * best + 1e-6)
    # and it names the port at that distance (up to exact ties)
    names = ports["name"].to_numpy()
    at_best = np.abs(d - best[:, None]) <= 1e-7 * best[:, None] + 1e-9
    assert all(got["port_name"][i] in set(names[at_best[i]]) for i in range(n))


def test_missing_positions_give_nulls_and_big_inputs_run():
    got = nearest_port(pl.Series([37.93, None, np.nan]), pl.Series([139.06, 139.0, 139.0]))
    assert got["port_name"].null_count() == 2 and got["port_dist_km"].null_count() == 2
    rng = np.random.default_rng(0)
    n = 200_000
    big = nearest_port(rng.uniform(30.0, 45.0, n), rng.uniform(128.0, 146.0, n))
    assert big.height == n
    assert big["port_dist_km"].drop_nulls().max() <= PORT_SEARCH_KM


def _reference_nearest(lat, lon, ports, search_km):
    """Plain k-d tree search over the ports (one row per position, the first), as a check."""
    from scipy.spatial import cKDTree

    from seawatch.zones.ports import _unit_xyz

    ports = ports.unique(["lat", "lon"], keep="first", maintain_order=True)
    tree = cKDTree(_unit_xyz(ports["lat"].to_numpy(), ports["lon"].to_numpy()))
    chord, i = tree.query(_unit_xyz(lat, lon))
    km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2.0, 1.0))
    hit = km <= search_km
    names = np.where(hit, ports["name"].to_numpy()[np.minimum(i, ports.height - 1)], None)
    return names, np.where(hit, km, np.nan)


@pytest.mark.parametrize("search_km", [5.0, 50.0, 1000.0])
def test_cell_search_is_exact_on_dense_tracks(search_km):
    """Dense calls go through the cell search: same ports and distances as a plain k-d tree
    search, around Japan and at awkward places (antimeridian, poles, equator, open ocean)."""
    rng = np.random.default_rng(4)
    centres = [(35.3, 139.8), (34.6, 135.2), (37.99, 139.10), (43.0, 141.3), (-36.85, 174.8), (64.1, -21.9),
               (0.05, 32.6), (51.9, 4.1), (-0.02, -78.5), (89.99, 10.0), (-89.99, 0.0), (65.9, -179.99),
               (-16.2, 179.99), (39.0, 137.0), (1.26, 103.8)]
    lat, lon = [], []
    for la, lo in centres:
        k = 3000
        lat.append(np.clip(la + rng.normal(0, 0.05, k), -90, 90))
        lon.append((lo + rng.normal(0, 0.05, k) + 180.0) % 360.0 - 180.0)
    lat, lon = np.concatenate(lat), np.concatenate(lon)
    got = nearest_port(lat, lon, search_km=search_km)
    names, km = _reference_nearest(lat, lon, ports_table(), search_km)
    assert (got["port_name"].to_numpy() == names).all()
    d = got["port_dist_km"].to_numpy().astype(np.float64)
    assert (np.isnan(d) == np.isnan(km)).all()
    assert np.nanmax(np.abs(d - km)) < 1e-4 + 1e-6 * np.nanmax(km)


def test_cell_search_is_exact_on_tracks_spread_over_the_globe():
    """Many small clusters all over the world: cells numbered by sorting, same answers."""
    rng = np.random.default_rng(8)
    m = 3000
    clat, clon = np.degrees(np.arcsin(rng.uniform(-1, 1, m))), rng.uniform(-180, 180, m)
    lat = np.clip(np.repeat(clat, 40) + rng.normal(0, 0.01, 40 * m), -90, 90)
    lon = (np.repeat(clon, 40) + rng.normal(0, 0.01, 40 * m) + 180.0) % 360.0 - 180.0
    got = nearest_port(lat, lon, search_km=200.0)
    names, km = _reference_nearest(lat, lon, ports_table(), 200.0)
    assert (got["port_name"].to_numpy() == names).all() and np.isfinite(km).sum() > 1000
    d = got["port_dist_km"].to_numpy().astype(np.float64)
    assert (np.isnan(d) == np.isnan(km)).all() and np.nanmax(np.abs(d - km)) < 1e-3


def test_ports_at_one_position_the_first_row_wins():
    ports = pl.DataFrame({"name": ["first", "second", "elsewhere"], "lat": [37.9, 37.9, 38.5],
                          "lon": [139.0, 139.0, 139.5]})
    rng = np.random.default_rng(1)
    for n in (3, 20_000):  # point by point, and by cells
        got = nearest_port(37.9 + rng.normal(0, 0.01, n), 139.0 + rng.normal(0, 0.01, n), ports=ports)
        assert set(got["port_name"]) == {"first"}


@pytest.mark.parametrize(
    "call",
    [
        lambda: nearest_port([37.9], [139.0], search_km=0),
        lambda: nearest_port([37.9], [139.0], search_km="far"),
        lambda: nearest_port([37.9, 38.0], [139.0]),
        lambda: nearest_port([139.0], [37.9]),  # swapped: latitude 139
        lambda: nearest_port([37.9], [139.0], ports=pl.DataFrame({"name": ["x"]})),
        lambda: infer_anchorages(pl.DataFrame({"mmsi": [1], "lat": [1.0], "lon": [1.0]})),
        lambda: infer_anchorages(pl.DataFrame({"mmsi": [1], "ts": ["2024"], "lat": [1.0],
                                               "lon": [1.0]})),
        lambda: infer_anchorages(_stays(1, 13), min_vessels=0),
        lambda: infer_anchorages(_stays(1, 13), min_hours=-1),
        lambda: infer_anchorages(_stays(1, 13), radius_km=0),
    ],
)
def test_user_mistakes_raise_seawatch_error(call):
    with pytest.raises(SeawatchError):
        call()


# -- inferred anchorages --------------------------------------------------------------------------
def _stays(n_vessels: int, hours: float, spot=SPOT, mmsi0=431_000_000) -> pl.DataFrame:
    """n vessels reporting every 10 minutes for ``hours`` while swinging ~100 m about ``spot``."""
    k = int(hours * 6) + 1
    return pl.DataFrame({"i": np.arange(n_vessels * k)}).select(mmsi=mmsi0 + pl.col("i") // k, ts=pl.lit(T0) + pl.duration(minutes=10 * (pl.col("i") % k)), lat=spot[0] + 0.0009 * (pl.col("i") * 0.7).sin(), lon=spot[1] + 0.0011 * (pl.col("i") * 1.3).cos(), sog_kn=pl.lit(0.3, pl.Float32))


def _passing(n_vessels: int, spot=SPOT, mmsi0=432_000_000) -> pl.DataFrame:
    """n vessels steaming north at 10 kn through ``spot`` (a report a minute for 2 h), each a
    little further east."""
    return pl.DataFrame({"i": np.arange(n_vessels * 121)}).select(mmsi=mmsi0 + pl.col("i") // 121, ts=pl.lit(T0) + pl.duration(minutes=pl.col("i") % 121), lat=spot[0] - 10 / 60 + (pl.col("i") % 121) * (10 / 60 / 60), lon=spot[1] + 0.001 * (pl.col("i") // 121), sog_kn=pl.lit(10.0, pl.Float32))


def test_infer_anchorages_finds_a_planted_anchorage():
    positions = pl.concat([_stays(25, 13), _passing(25)]).sample(fraction=1.0, shuffle=True, seed=1)
    found = infer_anchorages(positions, min_vessels=20)
    assert found.schema == schema.polars_schema("ports")
    assert found.height >= 1
    assert (found["kind"] == "anchorage").all() and (found["source"] == "inferred").all()
    assert found["port_id"].str.starts_with("anch-").all()
    d = haversine_km(SPOT[0], SPOT[1], found["lat"].to_numpy(), found["lon"].to_numpy())
    assert d.min() < 0.2 and d.max() < 1.0
    # the anchorage then answers nearest-port look-ups offshore, beside the registry
    both = pl.concat([ports_table(), found])
    near = nearest_port([SPOT[0] + 0.002], [SPOT[1]], ports=both)
    assert near["port_name"][0].startswith("anchorage ")
    assert near["port_dist_km"][0] < 0.5


def test_infer_anchorages_ignores_passing_short_and_few():
    assert infer_anchorages(_passing(40), min_vessels=20).height == 0  # they only pass
    assert infer_anchorages(_stays(25, 11), min_vessels=20).height == 0  # 11 h < 12 h
    assert infer_anchorages(_stays(19, 13), min_vessels=20).height == 0  # 19 < 20 vessels
    assert infer_anchorages(_stays(5, 13), min_vessels=5).height >= 1  # N is configurable
    assert infer_anchorages(_stays(0, 13)).height == 0  # empty input


def test_a_vessel_is_counted_once_per_cell():
    one = _stays(1, 13)
    # the same vessel anchored there on 25 separate days is one vessel, not 25
    days = pl.concat([one.with_columns(pl.col("ts") + pl.duration(days=d)) for d in range(25)])
    assert infer_anchorages(days, min_vessels=2).height == 0


# -- cross-check with Global Fishing Watch's named anchorages ---------------------------------------
def test_gfw_japan_anchorage_labels_near_a_harborly_port():
    """What share of GFW's 75 Japanese anchorage labels has a harborly port within 5 km?

    A label counts when any of its anchorage cells is within 5 km of a registry port. Measured:
    59 of 75 (79 %); misses include NAGOYA (its WPI point is the inner harbour, its anchorage
    cells are in Ise Bay), TOKARA ISLANDS and a few GFW labels named from AIS destinations.
    """
    if not GFW_ANCHORAGES.exists():
        pytest.skip(f"{GFW_ANCHORAGES} not present")
    gfw = pl.read_csv(GFW_ANCHORAGES, schema_overrides={"s2id": pl.Utf8, "latitude": pl.Float64,
                                                        "longitude": pl.Float64}
                      ).filter(pl.col("iso3") == "JPN")
    assert gfw["label"].n_unique() == 75
    near = gfw.with_columns(nearest_port(gfw["latitude"], gfw["longitude"], search_km=5.0))
    per_label = near.group_by("label").agg(pl.col("port_dist_km").min())
    share = per_label["port_dist_km"].is_not_null().mean()
    assert share >= 0.70, f"only {share:.0%} of GFW's Japanese anchorage labels near a port"


def test_a_ports_frame_searched_again_reuses_its_index_unless_it_changed():
    """nearest_port keeps the index of the last ports frames it searched (the live watch
    searches one table for every batch): the same frame gives the same answers without
    building it again, and a frame changed in place is indexed afresh."""
    import seawatch.zones.ports as ports_mod

    ports = schema.conform("ports", pl.DataFrame({"port_id": ["A", "B"], "name": ["A", "B"], "kind": ["port", "port"],
                                                  "lat": [37.9, 38.5], "lon": [139.0, 139.5]}))
    lat, lon = np.array([37.91, 38.49]), np.array([139.0, 139.5])
    built = []
    real = ports_mod._PortIndex.__init__

    def spy(self, frame):
        built.append(frame.height)
        real(self, frame)

    try:
        ports_mod._PortIndex.__init__ = spy
        first = nearest_port(lat, lon, ports=ports)
        again = nearest_port(lat, lon, ports=ports)
        assert first.equals(again) and len(built) == 1
        ports[1, "lat"], ports[1, "lon"] = 37.91, 139.001  # B moves next to the first position
        moved = nearest_port(lat, lon, ports=ports)
        assert len(built) == 2 and moved["port_name"].to_list()[0] == "B"
    finally:
        ports_mod._PortIndex.__init__ = real
