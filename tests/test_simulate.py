"""The scenario simulator: real NMEA that seawatch and pyais both decode without a reject, truth
that matches the feed, honest traffic that stays at sea and out of the planted event types,
ITU reporting intervals, determinism.

Checks against land use the OpenStreetMap land polygons in ``shared/data/japan-zones-osm``
(skipped when that folder is missing); the simulator itself never reads them.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from seawatch import decode_nmea, flags
from seawatch.errors import SeawatchError
from seawatch.scenarios import PORTS, SCENARIO_DEFS
from seawatch.schema import EVENT_TYPES
from seawatch.simulate import (
    AT_ANCHOR,
    CLASS_B_RANGE_FACTOR,
    MOORED,
    SCENARIOS,
    generate_feed,
    run,
    simulate,
)
from seawatch.tracks import haversine_nm

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NAMES = ["amami-2001", "niigata-night", "sts-transfer", "going-dark", "mmsi-clone", "identity-swap", "all"]
PLANTED = {
    "amami-2001": {"speed_anomaly"},
    "niigata-night": {"night_coastal_approach", "ais_gap", "dark_target", "dark_track"},
    "sts-transfer": {"encounter"},
    "going-dark": {"ais_gap"},
    "mmsi-clone": {"position_jump"},
    "identity-swap": {"identity_change", "identity_mismatch"},
    "all": {"speed_anomaly", "night_coastal_approach", "ais_gap", "encounter", "position_jump", "identity_change",
            "identity_mismatch", "dark_target", "dark_track"},
}
LAND_FILE = SHARED_DATA / "japan-zones-osm" / "east_asia_countries_land.geojson"
BERTHS = np.array([p.berth for p in PORTS.values()])


@cache
def sim_of(name: str, seed: int = 0, hours: float | None = None):
    return run(name, seed=seed, hours=hours)


@cache
def decoded(name: str):
    _, records = sim_of(name)
    return decode_nmea(("\n".join(records) + "\n").encode())


@lru_cache(maxsize=1)
def land() -> tuple:
    """The land polygons (per country, clipped to the seas of the scenarios)."""
    if not LAND_FILE.is_file():
        pytest.skip(f"land polygons not found at {LAND_FILE}")
    import shapely
    from shapely.geometry import shape

    fc = json.loads(LAND_FILE.read_text())
    parts = [shapely.clip_by_rect(shape(f["geometry"]), 125.0, 25.0, 142.0, 42.0) for f in fc["features"]]
    parts = tuple(g for g in parts if not g.is_empty)
    for g in parts:
        shapely.prepare(g)
    return parts


def on_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    import shapely

    out = np.zeros(len(lat), bool)
    for g in land():
        out |= shapely.contains_xy(g, lon, lat)
    return out


@cache
def _projected_land(lat_c: float, lon_c: float) -> tuple:
    """Land within ~2 degrees of (lat_c, lon_c), in a local equirectangular projection (nm)."""
    import shapely
    from shapely.affinity import affine_transform

    out = []
    for g in land():
        part = shapely.clip_by_rect(g, lon_c - 2.5, lat_c - 2, lon_c + 2.5, lat_c + 2)
        if not part.is_empty:
            out.append(affine_transform(part, [np.cos(np.radians(lat_c)) * 60, 0, 0, 60, 0, 0]))
    return tuple(out)


def shore_nm(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance to the nearest land, nm (local projection; for points within ~100 nm of land)."""
    import shapely

    lat_c, lon_c = round(float(np.median(lat))), round(float(np.median(lon)))
    c = np.cos(np.radians(lat_c)) * 60
    pts = shapely.points(lon * c, lat * 60)
    return np.min([shapely.distance(g, pts) for g in _projected_land(lat_c, lon_c)], axis=0)


def near_berth_km(lat, lon) -> np.ndarray:
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return (haversine_nm(lat[:, None], lon[:, None], BERTHS[None, :, 0], BERTHS[None, :, 1]).min(axis=1) * 1.852)


def ts_of(sim, t_s) -> np.ndarray:
    return np.datetime64(sim.scenario.start.replace(tzinfo=None), "us") + (np.asarray(t_s) * 1e6).astype("timedelta64[us]")


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# -- the API -------------------------------------------------------------------------------------------
def test_scenarios_table_and_unknown_name():
    assert list(SCENARIOS) == NAMES
    assert all(isinstance(d, str) and 20 < len(d) < 140 for d in SCENARIOS.values())
    with pytest.raises(SeawatchError) as e:
        simulate("noto-1999", "/tmp/never")
    assert "noto-1999" in str(e.value) and all(n in str(e.value) for n in NAMES)
    with pytest.raises(SeawatchError):
        run("all", hours=0)


def test_simulate_writes_feed_truth_readme(tmp_path):
    res = simulate("niigata-night", tmp_path / "out", seed=3, hours=2.0)
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"feed.nmea", "truth.jsonl", "README.md", "detections.csv",
                                               "detections_truth.csv"}
    assert res["feed"] == str(out / "feed.nmea") and res["lines"] == len((out / "feed.nmea").read_text().splitlines())
    assert res["messages"] > 1000 and res["vessels"] > 20 and res["duplicates"] > 0
    assert res["receptions"] == res["messages"] + res["duplicates"]
    # a 2-hour run ends before the night approach: it is left out of the truth, and said so
    assert res["planted"] == [] and {c["event_type"] for c in res["cut"]} == {"night_coastal_approach", "ais_gap"}
    readme = (out / "README.md").read_text()
    for heading in ("## Planted behaviours", "## Receivers", "speed over ground per kind", "## Reporting intervals"):
        assert heading in readme
    assert "Not in the truth because this run ends" in readme


def test_generate_feed_still_serves_the_demo(tmp_path):
    res = generate_feed(tmp_path / "demo.nmea", vessels=12, hours=0.5, seed=3)
    r = decode_nmea(tmp_path / "demo.nmea")
    assert r.rejects.height == 0 and res["lines"] == r.lines_read
    assert r.positions["mmsi"].n_unique() == 12
    named = r.statics.filter(pl.col("shipname").is_not_null())["mmsi"].unique()
    assert named.len() == 12  # every vessel's name arrived


# -- the feed is real NMEA --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_feed_decodes_in_seawatch_and_pyais_without_a_reject(name, tmp_path):
    from pyais.stream import FileReaderStream

    res = simulate(name, tmp_path, seed=1, hours=1.5)
    feed = tmp_path / "feed.nmea"
    r = decode_nmea(feed)
    assert r.rejects.height == 0, r.rejects.head()
    assert r.lines_read == r.lines_decoded == res["lines"]
    assert r.untimed == 0 if hasattr(r, "untimed") else True
    assert r.positions["ts"].null_count() == 0 and r.positions["station"].null_count() == 0
    n_pos = sum(v for k, v in res["by_type"].items() if k in ("1", "3", "18"))
    n_stat = sum(v for k, v in res["by_type"].items() if k in ("5", "24A", "24B"))
    assert r.positions.height == n_pos and r.statics.height == n_stat  # receiver duplicates merged
    n = 0
    types: dict[int, int] = {}
    for msg in FileReaderStream(str(feed)):
        assert msg.is_valid and msg.tag_block is not None
        d = msg.decode()
        types[d.msg_type] = types.get(d.msg_type, 0) + 1
        n += 1
    assert n == res["receptions"]
    assert types.get(5, 0) > 0 and types.get(18, 0) > 0 and types.get(24, 0) > 0
    # multi-part type 5: two sentences, sequential id, same tag block
    lines = feed.read_text().splitlines()
    first = next(i for i, x in enumerate(lines) if ",2,1," in x)
    assert ",2,2," in lines[first + 1] and lines[first].split("!")[0] == lines[first + 1].split("!")[0]


def test_decoded_values_match_pyais(tmp_path):
    from pyais import decode as pdecode

    simulate("amami-2001", tmp_path, seed=2, hours=0.5)
    lines = (tmp_path / "feed.nmea").read_text().splitlines()
    one = [x for x in lines if ",1,1,," in x][:300]
    r = decode_nmea("\n".join(one) + "\n", dedup=False)
    ours = {(row["mmsi"], round(row["lat"], 5), round(row["lon"], 5), round(row["sog_kn"], 1)) for row in r.positions.iter_rows(named=True)}
    theirs = set()
    for line in one:
        m = pdecode(line.split("\\")[-1]).asdict()
        if m["msg_type"] in (1, 2, 3, 18):
            theirs.add((m["mmsi"], round(m["lat"], 5), round(m["lon"], 5), round(m["speed"], 1)))
    assert len(theirs) > 100 and ours == theirs


def test_reception_respects_range_and_stations():
    sim, _ = sim_of("all")
    r = decoded("all")
    st = {s.name: s for s in sim.scenario.stations}
    p = r.positions
    assert set(p["station"].unique()) <= set(st)
    s_lat = np.array([st[x].lat for x in p["station"]])
    s_lon = np.array([st[x].lon for x in p["station"]])
    rng = np.array([st[x].range_nm for x in p["station"]]) * np.where(p["ais_class"].to_numpy() == "B", CLASS_B_RANGE_FACTOR, 1.0)
    d = haversine_nm(p["lat"].to_numpy(), p["lon"].to_numpy(), s_lat, s_lon)
    assert (d <= rng + 0.05).all()
    # the stamping station is the nearest in range, so vessels far out are not heard at all
    assert sim.msgs["t"].size > len(np.unique(sim.rx["msg"]))


# -- truth ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_truth_records_are_well_formed_and_complete(name):
    sim, _ = sim_of(name)
    assert {t["event_type"] for t in sim.truth} == PLANTED[name]
    assert not sim.cut
    for t in sim.truth:
        keys = {"event_type", "mmsi", "other_mmsi", "start_time", "end_time", "note"}
        # dark records name the simulated vessel of detections_truth.csv (a boat without AIS has no MMSI)
        assert set(t) == (keys | {"vessel"} if t["event_type"] in ("dark_target", "dark_track") else keys)
        assert t["event_type"] in EVENT_TYPES and len(t["note"]) > 20
        assert t["start_time"].endswith("Z") and (t["end_time"] is None or t["end_time"].endswith("Z"))
        if t["end_time"] is not None:
            assert epoch(t["end_time"]) >= epoch(t["start_time"])
        if t["event_type"] == "encounter":
            assert t["other_mmsi"] is not None and t["mmsi"] < t["other_mmsi"]
        else:
            assert t["other_mmsi"] is None
    assert sum(t["end_time"] is None for t in sim.truth) == (1 if name in ("going-dark", "all") else 0)


def _positions_of(r, mmsi, t0=None, t1=None):
    p = r.positions.filter(pl.col("mmsi") == mmsi).sort("ts")
    if t0 is not None:
        p = p.filter(pl.col("ts").dt.epoch("ms") / 1000 >= t0)
    if t1 is not None:
        p = p.filter(pl.col("ts").dt.epoch("ms") / 1000 <= t1)
    return p


@pytest.mark.parametrize("name", NAMES)
def test_truth_matches_the_feed(name):
    """Every planted behaviour is in the decoded feed, well inside the detectors' thresholds."""
    from seawatch import astro

    sim, _ = sim_of(name)
    r = decoded(name)
    declared = r.statics.filter(pl.col("ship_type").is_not_null()).group_by("mmsi").agg(pl.col("ship_type").last())
    declared = dict(zip(declared["mmsi"], declared["ship_type"]))
    for t in sim.truth:
        t0 = epoch(t["start_time"])
        t1 = epoch(t["end_time"]) if t["end_time"] else None
        kind = t["event_type"]
        if kind == "ais_gap":
            assert _positions_of(r, t["mmsi"], t0 + 1, (t1 or 1e12) - 1).height == 0
            assert _positions_of(r, t["mmsi"], t0, t0).height >= 1
            if t1 is None:
                assert sim.epoch0 + sim.duration_s - t0 >= 4 * 3600  # open: silent 4 h+ before the end
            else:
                assert t1 - t0 >= 2.9 * 3600
                assert _positions_of(r, t["mmsi"], t1, t1).height >= 1
            # good reception around it: other vessels heard within 20 nm during the silence
            p = r.positions.filter(pl.col("mmsi") != t["mmsi"], pl.col("ts").dt.epoch("s") > t0,
                                   pl.col("ts").dt.epoch("s") < (t1 or t0 + 4 * 3600))
            last = _positions_of(r, t["mmsi"], None, t0).tail(1)
            d = haversine_nm(p["lat"].to_numpy(), p["lon"].to_numpy(), last["lat"][0], last["lon"][0])
            assert (d <= 20).sum() >= 50
        elif kind == "speed_anomaly":
            assert declared[t["mmsi"]] == 30
            fast = _positions_of(r, t["mmsi"], t0 + 120, t1 - 60)
            assert fast.height >= 30 and fast["sog_kn"].min() >= 30 and fast["sog_kn"].max() <= 34
            assert t1 - t0 >= 20 * 60
            before = _positions_of(r, t["mmsi"], t0 - 900, t0)
            assert before["sog_kn"].min() < 5
        elif kind == "night_coastal_approach":
            assert t["mmsi"] // 1_000_000 == 445
            p = _positions_of(r, t["mmsi"], t0, t1)
            assert p.height >= 100 and p["sog_kn"].max() < 2.5 and t1 - t0 >= 3600
            assert astro.is_night(p["lat"].to_numpy(), p["lon"].to_numpy(), p["ts"]).all()
            if LAND_FILE.is_file():
                d = shore_nm(p["lat"].to_numpy(), p["lon"].to_numpy())
                assert d.max() < 10.0 and d.min() > 3.0
            assert near_berth_km(p["lat"], p["lon"]).min() > 10
        elif kind == "encounter":
            a = _positions_of(r, t["mmsi"], t0 + 60, t1 - 60)
            b = _positions_of(r, t["other_mmsi"], t0 + 60, t1 - 60)
            assert t1 - t0 >= 3 * 3600
            bt = b["ts"].dt.epoch("ms").to_numpy() / 1000
            at = a["ts"].dt.epoch("ms").to_numpy() / 1000
            blat = np.interp(at, bt, b["lat"].to_numpy())
            blon = np.interp(at, bt, b["lon"].to_numpy())
            d_m = haversine_nm(a["lat"].to_numpy(), a["lon"].to_numpy(), blat, blon) * 1852
            assert d_m.max() < 100 and a["sog_kn"].max() < 1 and b["sog_kn"].max() < 1
            assert near_berth_km(a["lat"], a["lon"]).min() > 25
            if LAND_FILE.is_file():
                assert shore_nm(a["lat"].to_numpy(), a["lon"].to_numpy()).min() > 16  # well beyond 12 nm
        elif kind == "position_jump":
            p = _positions_of(r, t["mmsi"], t0, t1)
            assert t1 - t0 >= 3 * 3600
            la, lo = p["lat"].to_numpy(), p["lon"].to_numpy()
            north = la > 38.5
            assert north.sum() > 100 and (~north).sum() > 50
            d = haversine_nm(la[north].mean(), lo[north].mean(), la[~north].mean(), lo[~north].mean())
            assert d > 100
            # the two transmitters interleave: both heard within every hour of the overlap
            hours = ((p["ts"].dt.epoch("s").to_numpy() - t0) // 3600).astype(int)
            for h in range(int((t1 - t0) // 3600)):
                assert north[hours == h].any() and (~north[hours == h]).any()
        elif kind == "identity_change":
            s = r.statics.filter(pl.col("mmsi") == t["mmsi"], pl.col("msg_type") == 5).sort("ts")
            before = s.filter(pl.col("ts").dt.epoch("s") <= t0)
            after = s.filter(pl.col("ts").dt.epoch("s") >= t1)
            assert before.height >= 2 and after.height >= 2
            assert before["shipname"].n_unique() == 1 and after["shipname"].n_unique() == 1
            assert before["shipname"][0] != after["shipname"][0]
            assert before["callsign"][0] != after["callsign"][0]
        elif kind == "identity_mismatch":
            s = r.statics.filter(pl.col("mmsi") == t["mmsi"], pl.col("callsign").is_not_null())
            assert s.height >= 10
            cs = s["callsign"].unique().to_list()
            assert len(cs) == 1
            assert flags.callsign_state(cs).to_list() == ["JPN"]
            assert flags.flag_state([t["mmsi"]]).to_list() == ["CHN"]


# -- honest traffic -------------------------------------------------------------------------------------------
def _honest_positions(sim):
    m = sim.msgs
    pos = (m["kind"] == 1) | (m["kind"] == 18)
    honest = np.array([v.honest for v in sim.vessels])[m["vi"]]
    return pos, honest


@pytest.mark.parametrize("name", NAMES)
def test_traffic_stays_off_land(name):
    assert on_land(np.array([38.0, 37.7, 28.3]), np.array([138.4, 139.0, 129.4])).all()  # Sado, Niigata, Amami
    sim, _ = sim_of(name)
    m = sim.msgs
    pos, _ = _honest_positions(sim)
    lat, lon = m["lat"][pos], m["lon"][pos]
    on = on_land(lat, lon) & (near_berth_km(lat, lon) > 2.0)
    bad = {sim.vessels[i].label for i in np.unique(m["vi"][pos][on])}
    assert not bad, f"positions on land: {bad}"


@pytest.mark.parametrize("name", NAMES)
def test_honest_identities_are_consistent(name):
    sim, _ = sim_of(name)
    idents = {v.ident for v in sim.vessels if v.honest}
    mmsi = [i.mmsi for i in idents]
    assert flags.mmsi_is_valid_ship(mmsi).all()
    fl = flags.administration(flags.flag_state(mmsi))
    cs = flags.administration(flags.callsign_state([i.callsign for i in idents]))
    for f, c, i in zip(fl, cs, idents):
        assert c is None or f == c, (i.mmsi, i.callsign)
    imo = [i.imo for i in idents if i.imo]
    assert imo and flags.imo_valid(imo).all()
    # every MMSI is one vessel (except the planted clone)
    assert len(mmsi) == len(set(mmsi))


@pytest.mark.parametrize("name", NAMES)
def test_honest_traffic_raises_no_planted_behaviour(name):
    """Honest vessels: no silence (once heard, heard until they leave or berth), fishing boats
    under 15 kn, no slow pair within 2 km for an hour away from port, no gentle-acceleration
    breach (a rise of 8 kn within 15 min to over 19 kn) for types the dash rule covers."""
    sim, _ = sim_of(name)
    m = sim.msgs
    pos, _ = _honest_positions(sim)
    problems = []
    for i, v in enumerate(sim.vessels):
        if not v.honest:
            continue
        t = sim.heard["pos"][i]
        for j in np.flatnonzero(np.diff(t) > 3600):
            a, b = t[j], t[j + 1]
            la = np.interp([a, b], v.route.t, v.route.lat)
            lo = np.interp([a, b], v.route.t, v.route.lon)
            if not (near_berth_km(la, lo) < 3).all():
                problems.append(f"silent {v.label} {a / 3600:.1f}-{b / 3600:.1f} h")
        sel = pos & (m["vi"] == i)
        sog, ts = m["sog"][sel], m["t"][sel]
        if v.ident.ship_type == 30 and sog.max(initial=0) >= 15:
            problems.append(f"fishing at {sog.max():.1f} kn: {v.label}")
        if v.ident.ship_type // 10 != 4 and v.ident.ship_type not in (35, 37, 51, 55) and sog.max(initial=0) > 19:
            for j in np.flatnonzero(sog > 19):
                w = (ts >= ts[j] - 900) & (ts <= ts[j])
                if sog[j] - sog[w].min() >= 8:
                    problems.append(f"dash {v.label}")
                    break
    # slow pairs on a 10-min grid of the plans
    grid = np.arange(0, sim.duration_s, 600.0)
    n = len(sim.vessels)
    la = np.full((n, len(grid)), np.nan)
    lo = np.full((n, len(grid)), np.nan)
    sp = np.full((n, len(grid)), np.inf)
    for i, v in enumerate(sim.vessels):
        t = np.array(v.route.t)
        ok = (grid >= t[0]) & (grid <= t[-1])
        la[i, ok] = np.interp(grid[ok], t, v.route.lat)
        lo[i, ok] = np.interp(grid[ok], t, v.route.lon)
        sp[i, ok] = haversine_nm(la[i, ok], lo[i, ok], np.interp(grid[ok] + 60, t, v.route.lat),
                                 np.interp(grid[ok] + 60, t, v.route.lon)) * 60
    honest_v = np.array([v.honest for v in sim.vessels])
    close = np.zeros((n, n), int)
    for k in range(len(grid)):
        s = np.flatnonzero((sp[:, k] < 2.0) & np.isfinite(la[:, k]))
        s = s[near_berth_km(la[s, k], lo[s, k]) > 10] if len(s) else s
        if len(s) < 2:
            continue
        d = haversine_nm(la[s, k][:, None], lo[s, k][:, None], la[s, k][None, :], lo[s, k][None, :]) * 1.852
        limit = np.where(honest_v[s][:, None] & honest_v[s][None, :], 2.0, 1.0)
        close[np.ix_(s, s)] += d < limit
    for a, b in zip(*np.nonzero(np.triu(close, 1) >= 6)):
        if honest_v[a] or honest_v[b]:
            problems.append(f"slow pair {sim.vessels[a].label} / {sim.vessels[b].label}")
    assert not problems, problems


@pytest.mark.parametrize("name", NAMES)
def test_foreign_honest_vessels_do_not_hover_off_the_coast_at_night(name):
    from seawatch import astro
    from seawatch.zones.ports import nearest_port

    sim, _ = sim_of(name)
    m = sim.msgs
    pos, honest = _honest_positions(sim)
    fl = flags.flag_state([v.ident.mmsi for v in sim.vessels]).to_numpy()
    foreign = (fl != "JPN")[m["vi"]]
    idx = np.flatnonzero(pos & honest & foreign & (m["sog"] < 5))
    idx = idx[astro.is_night(m["lat"][idx], m["lon"][idx], ts_of(sim, m["t"][idx]))]
    if not len(idx):
        return
    d = shore_nm(m["lat"][idx], m["lon"][idx])
    port_km = nearest_port(m["lat"][idx], m["lon"][idx])["port_dist_km"].fill_null(99.0).to_numpy()
    bad = idx[(d < 14) & (port_km > 3)]
    assert not len(bad), {sim.vessels[i].label for i in m["vi"][bad]}


def test_honest_sea_looks_like_a_sea():
    sim, _ = sim_of("all")
    kinds = {v.kind for v in sim.vessels if v.honest}
    assert {"cargo", "tanker", "car ferry", "jetfoil", "trawler", "squid jigger", "pleasure craft", "patrol"} <= kinds
    heard = {sim.vessels[i].ident.mmsi for i in np.unique(sim.msgs["vi"][sim.rx["msg"]])}
    assert len(heard) >= 120
    classes = {v.klass for v in sim.vessels if v.honest}
    assert classes == {"A", "B"}
    m = sim.msgs
    jet = np.array([v.kind == "jetfoil" for v in sim.vessels])[m["vi"]] & (m["kind"] == 1)
    assert 42 <= m["sog"][jet].max() <= 45  # the Sado jetfoil: a hard negative at 43 kn
    squid = np.array([v.kind == "squid jigger" and v.honest for v in sim.vessels])[m["vi"]] & (m["kind"] == 1)
    night = astro_night(sim, m["lat"][squid], m["lon"][squid], m["t"][squid])
    drifting = (m["sog"][squid] < 1.0)
    assert drifting[night].mean() > 0.6  # squid jiggers drift at night
    trawl = np.array([v.kind == "trawler" and v.honest for v in sim.vessels])[m["vi"]] & (m["status"] == 7)
    assert 3.0 <= np.median(m["sog"][trawl]) <= 4.0  # trawlers tow at 3-4 kn


def astro_night(sim, lat, lon, t):
    from seawatch import astro

    return astro.is_night(lat, lon, ts_of(sim, t))


# -- reporting intervals ------------------------------------------------------------------------------------
def test_reporting_intervals_are_as_documented():
    sim, _ = sim_of("all")
    m = sim.msgs
    is_b = np.array([v.klass == "B" for v in sim.vessels])[m["vi"]]
    for kind, klass, moored_iv, moving_iv in ((1, "A", 180, 30), (18, "B", 180, 30)):
        idx = np.flatnonzero(m["kind"] == kind)
        o = idx[np.lexsort((m["t"][idx], m["vi"][idx]))]
        same = m["vi"][o[1:]] == m["vi"][o[:-1]]
        dt = np.diff(m["t"][o])
        st0, st1 = m["status"][o[:-1]], m["status"][o[1:]]
        s0, s1 = m["sog"][o[:-1]], m["sog"][o[1:]]
        if klass == "A":
            slow0 = np.isin(st0, (AT_ANCHOR, MOORED)) & (s0 < 3)
            slow1 = np.isin(st1, (AT_ANCHOR, MOORED)) & (s1 < 3)
        else:
            slow0, slow1 = s0 <= 1.8, s1 <= 1.8
            fast = same & (s0 > 2.3) & (s1 > 2.3)
            assert np.all(np.abs(dt[fast] - moving_iv) <= 1.0)
        assert np.all(np.abs(dt[same & slow0 & slow1 & (dt < 1000)] - moored_iv) <= 1.0)
        if klass == "A":
            moving = same & ~slow0 & ~slow1 & (dt < 1000)
            assert np.all(np.abs(dt[moving] - moving_iv) <= 1.0)
        assert not is_b[o].any() if klass == "A" else is_b[o].all()
    for kind in (5, 24):
        idx = np.flatnonzero(m["kind"] == kind)
        o = idx[np.lexsort((m["t"][idx], m["vi"][idx]))]
        same = m["vi"][o[1:]] == m["vi"][o[:-1]]
        dt = np.diff(m["t"][o])[same]
        assert np.all((np.abs(dt - 360) < 1e-6) | (dt > 400))  # 6 min (longer only across AIS off)
    # 24B follows 24A within a minute
    a = np.sort(m["t"][m["kind"] == 24])
    b = np.sort(m["t"][m["kind"] == 25])
    assert len(a) and len(b) <= len(a)


# -- determinism ---------------------------------------------------------------------------------------------
def test_same_seed_same_files_other_seed_other_sea(tmp_path):
    a = simulate("going-dark", tmp_path / "a", seed=7, hours=1.0)
    b = simulate("going-dark", tmp_path / "b", seed=7, hours=1.0)
    c = simulate("going-dark", tmp_path / "c", seed=8, hours=1.0)
    for f in ("feed.nmea", "truth.jsonl", "README.md"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / "feed.nmea").read_bytes() != (tmp_path / "c" / "feed.nmea").read_bytes()
    assert a["lines"] == b["lines"]
    del c


def test_scenarios_have_real_dates_and_places():
    assert SCENARIO_DEFS["amami-2001"].start.isoformat().startswith("2001-12-21T22:00")
    names = {s.name for s in SCENARIO_DEFS["amami-2001"].stations}
    assert {"naze", "tokunoshima"} <= names
    niigata = {s.name for s in SCENARIO_DEFS["all"].stations}
    assert {"niigata", "ryotsu", "kashiwazaki", "naoetsu"} <= niigata
    # the Niigata night: the run covers sunset to sunrise
    from seawatch import astro

    sim, _ = sim_of("niigata-night")
    st = sim.scenario.stations[0]
    _, sset = astro.sunrise_sunset(st.lat, st.lon, np.datetime64("2024-06-01"))
    start = np.datetime64(sim.scenario.start.replace(tzinfo=None), "us")
    assert start < sset[()] < start + np.timedelta64(3, "h")
