"""The data behind the API: plain functions of a :class:`~seawatch.store.Store`, returning
JSON-ready dicts (times as ISO-8601 UTC with ``Z``, floats rounded, evidence parsed).

Every value that comes from a request is passed to DuckDB as a parameter (``$name``); the only
text put into SQL is fixed fragments chosen from the whitelists here (sort orders, conditions).
Callers (:mod:`seawatch.serve.app`) validate types and ranges first; these functions assume
valid arguments.

Lists are paginated: ``{"items", "total", "limit", "offset", "next_offset"}`` (``next_offset``
is null on the last page).
"""

from __future__ import annotations

import datetime as _dt
import functools
import gzip
import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from .. import schema
from ..errors import SeawatchError
from ..store import DERIVED, FILES_DIR, ISO_UTC_FORMAT, Store

# -- vocabularies ----------------------------------------------------------------------------------

#: Vessel type groups, as the map colours them (MarineTraffic's grouping of ITU ship types).
TYPE_GROUPS: tuple[str, ...] = (
    "cargo", "tanker", "passenger", "high_speed", "fishing", "tug_special", "pleasure", "other",
    "unknown", "aton", "base_station", "sar_aircraft",
)

#: ITU-R M.1371 ship and cargo types (first digit / exact codes) as text.
_SHIP_TYPE_EXACT = {
    30: "fishing", 31: "towing", 32: "towing (long or wide tow)", 33: "dredging or underwater ops",
    34: "diving ops", 35: "military ops", 36: "sailing", 37: "pleasure craft", 50: "pilot vessel",
    51: "search and rescue vessel", 52: "tug", 53: "port tender", 54: "anti-pollution equipment",
    55: "law enforcement", 58: "medical transport", 59: "noncombatant ship (RR Res. 18)",
}
_SHIP_TYPE_DECADE = {
    2: "wing in ground", 4: "high speed craft", 6: "passenger", 7: "cargo", 8: "tanker", 9: "other type",
}
_HAZARD = {1: "hazardous category A", 2: "hazardous category B", 3: "hazardous category C",
           4: "hazardous category D"}

#: ITU-R M.1371 navigational status codes as text.
NAV_STATUS_TEXT: dict[int, str] = {
    0: "under way using engine", 1: "at anchor", 2: "not under command", 3: "restricted manoeuvrability",
    4: "constrained by her draught", 5: "moored", 6: "aground", 7: "engaged in fishing",
    8: "under way sailing", 9: "reserved (HSC)", 10: "reserved (WIG)", 11: "power-driven vessel towing astern",
    12: "power-driven vessel pushing ahead or towing alongside", 13: "reserved", 14: "AIS-SART / MOB / EPIRB active",
    15: "not defined",
}

SEVERITY_RANK = {s: i for i, s in enumerate(schema.SEVERITIES)}

#: Speed at or above which a vessel is drawn as an arrow along its course (knots).
MOVING_KN = 0.5

#: Sort orders of the lists: name -> (polars columns, descending flags) or SQL ORDER BY.
VESSEL_SORTS = ("-risk", "risk", "-last_seen", "last_seen", "mmsi", "-mmsi", "name", "-name")
EVENT_SORTS: dict[str, str] = {
    "-start_time": "start_time DESC, event_id",
    "start_time": "start_time ASC, event_id",
    "-severity": "sev_rank DESC, start_time DESC, event_id",
    "-score": "score DESC NULLS LAST, start_time DESC, event_id",
}


def ship_type_text(code: int | None) -> str | None:
    """The ITU name of a ship and cargo type code (1-99), e.g. 70 -> 'cargo'."""
    if code is None:
        return None
    code = int(code)
    if code in _SHIP_TYPE_EXACT:
        return _SHIP_TYPE_EXACT[code]
    decade, unit = divmod(code, 10)
    if decade in _SHIP_TYPE_DECADE:
        base = _SHIP_TYPE_DECADE[decade]
        return f"{base}, {_HAZARD[unit]}" if unit in _HAZARD and decade != 9 else base
    if 1 <= code <= 19:
        return "reserved"
    return "reserved" if 56 <= code <= 57 else None


def type_group_expr(ship_type: pl.Expr, ais_class: pl.Expr) -> pl.Expr:
    """The :data:`TYPE_GROUPS` value of each row (ITU ship type, or the AIS class for stations)."""
    st = ship_type
    return (
        pl.when(ais_class == "aton").then(pl.lit("aton"))
        .when(ais_class == "base").then(pl.lit("base_station"))
        .when(ais_class == "sar").then(pl.lit("sar_aircraft"))
        .when(st == 30).then(pl.lit("fishing"))
        .when(st.is_between(40, 49)).then(pl.lit("high_speed"))
        .when(st.is_between(60, 69)).then(pl.lit("passenger"))
        .when(st.is_between(70, 79)).then(pl.lit("cargo"))
        .when(st.is_between(80, 89)).then(pl.lit("tanker"))
        .when(st.is_in([36, 37])).then(pl.lit("pleasure"))
        .when(st.is_in([31, 32, 33, 34, 35, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59])).then(pl.lit("tug_special"))
        .when(st.is_not_null()).then(pl.lit("other"))
        .otherwise(pl.lit("unknown"))
    )


@functools.cache
def _flag_names() -> dict[str, str]:
    from ..flags import mid_table

    out: dict[str, str] = {}
    for iso, name in zip(mid_table()["state_iso3"], mid_table()["itu_name"]):
        out.setdefault(iso, name)
    return out


def flag_name(iso3: str | None) -> str | None:
    """The ITU name of the state or territory with this ISO3 code (from the MID table)."""
    return None if iso3 is None else _flag_names().get(iso3)


# -- helpers ----------------------------------------------------------------------------------------
def _iso(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime(ISO_UTC_FORMAT)


def iso(t: _dt.datetime | None) -> str | None:
    """A datetime as ISO-8601 UTC with Z (fraction only when non-zero)."""
    if t is None:
        return None
    t = t.astimezone(_dt.timezone.utc)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += f".{t.microsecond:06d}".rstrip("0")
    return s + "Z"


def _round(df: pl.DataFrame, spec: dict[str, int]) -> pl.DataFrame:
    cols = [pl.col(c).cast(pl.Float64).round(d).alias(c) for c, d in spec.items() if c in df.columns]
    return df.with_columns(cols) if cols else df


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _dicts(df: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in r.items()} for r in df.iter_rows(named=True)]


def page(items: list[dict[str, Any]], total: int, limit: int, offset: int, **extra: Any) -> dict[str, Any]:
    """The paginated list shape."""
    nxt = offset + len(items)
    return {"items": items, "total": int(total), "limit": limit, "offset": offset,
            "next_offset": nxt if nxt < total and items else None, **extra}


def _run(con: Any, sql: str, params: dict[str, Any]) -> pl.DataFrame:
    import duckdb

    try:
        rel = con.sql(sql, params=params)
        return pl.from_arrow(rel.to_arrow_table())  # type: ignore[return-value]
    except duckdb.Error as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SeawatchError(f"query failed: {msg}") from None


def _connect(store: Store) -> Any:
    """store.connect(), with a store that cannot be read (e.g. a derived table written under an
    older schema) reported as a SeawatchError, which the API answers with a 503."""
    import duckdb

    try:
        return store.connect()
    except duckdb.Error as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SeawatchError(f"the store cannot be read ({msg}); rebuild its derived tables "
                            "with `seawatch detect --db DIR`") from None


def _bbox_sql(bbox: Sequence[float] | None, params: dict[str, Any], lat: str = "lat", lon: str = "lon") -> str:
    """A parametrised condition for a bounding box W,S,E,N (W > E crosses the antimeridian)."""
    if bbox is None:
        return "TRUE"
    w, s, e, n = bbox
    params.update(bbox_w=w, bbox_s=s, bbox_e=e, bbox_n=n)
    lon_ok = (f"({lon} >= $bbox_w AND {lon} <= $bbox_e)" if w <= e
              else f"({lon} >= $bbox_w OR {lon} <= $bbox_e)")
    return f"({lat} >= $bbox_s AND {lat} <= $bbox_n AND {lon_ok})"


def _bbox_expr(bbox: Sequence[float], lat: str = "lat", lon: str = "lon") -> pl.Expr:
    w, s, e, n = bbox
    lon_ok = pl.col(lon).is_between(w, e) if w <= e else (pl.col(lon) >= w) | (pl.col(lon) <= e)
    return pl.col(lat).is_between(s, n) & lon_ok


# -- store version (what the live stream watches) ---------------------------------------------------
def version(store: Store) -> dict[str, Any]:
    """A cheap fingerprint of what the store holds: the committed input files and the
    generation of each derived table. It changes whenever an ingest commits a file or a derived
    table (tracks, events, risk, zones, ...) is recomputed."""
    names = sorted(p.name for p in (store.path / FILES_DIR).glob("*.json"))
    gens: dict[str, int | None] = {}
    for t in DERIVED:
        try:
            gens[t] = store.generation(t)
        except SeawatchError:  # a pointer being replaced or corrupt: report it as unknown
            gens[t] = None
    sig = hashlib.sha1(("\n".join(names) + json.dumps(gens, sort_keys=True)).encode()).hexdigest()[:16]
    return {"id": sig, "files": len(names), "generations": gens}


def _tracks_current(store: Store) -> bool:
    info = store.derived_info("tracks")
    return info is not None and store.files_current(info.get("meta", {}))


# -- stats --------------------------------------------------------------------------------------------
def stats(store: Store) -> dict[str, Any]:
    """:meth:`Store.stats` plus the derived tables' generations and the store version."""
    import duckdb

    try:
        st = store.stats()
    except duckdb.Error as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SeawatchError(f"the store cannot be read ({msg})") from None
    derived = {}
    for t in DERIVED:
        info = store.derived_info(t)
        derived[t] = None if info is None else {
            "generation": info.get("generation"), "rows": info.get("rows"), "created": info.get("created"),
        }
    st["derived"] = derived
    st["events"] = (derived["events"] or {}).get("rows") or 0
    st["version"] = version(store)
    return st


# -- vessels ------------------------------------------------------------------------------------------
_LAST_POS_SQL = """
SELECT mmsi, ts, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, ais_class
FROM positions
WHERE {cond}
QUALIFY row_number() OVER (PARTITION BY mmsi ORDER BY ts DESC) = 1
"""

_IDENTITY_SQL = """
SELECT mmsi,
       arg_max(shipname, ts) FILTER (WHERE shipname IS NOT NULL) AS shipname,
       arg_max(callsign, ts) FILTER (WHERE callsign IS NOT NULL) AS callsign,
       arg_max(imo, ts) FILTER (WHERE imo IS NOT NULL) AS imo,
       arg_max(ship_type, ts) FILTER (WHERE ship_type IS NOT NULL) AS ship_type
FROM statics
WHERE {cond}
GROUP BY mmsi
"""


def vessels(
    store: Store,
    *,
    at: _dt.datetime | None = None,
    max_age_s: float | None = None,
    bbox: Sequence[float] | None = None,
    q: str | None = None,
    groups: Sequence[str] | None = None,
    flags: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    min_risk: float | None = None,
    mmsi: Sequence[int] | None = None,
    sort: str = "-risk",
    limit: int = 500,
    offset: int = 0,
) -> dict[str, Any]:
    """Each vessel's last position (at or before ``at``), identity, flag and risk.

    ``age_s`` is the time from the last position to the reference time: ``at`` if given, else
    the latest position in the store (the data's "now"; for a live feed that is the present).
    """
    from ..flags import flag_state

    params: dict[str, Any] = {}
    pos_cond = ["ts IS NOT NULL", "lat IS NOT NULL", "lon IS NOT NULL", "NOT (lat = 0 AND lon = 0)"]
    st_cond = ["TRUE"]
    if at is not None:
        params["at"] = at
        pos_cond.append("ts <= $at")
        st_cond = ["(ts IS NULL OR ts <= $at)"]
    if mmsi:
        params["mmsis"] = [int(m) for m in mmsi]
        pos_cond.append("list_contains($mmsis, mmsi)")
    sql = (
        "SELECT p.*, s.shipname, s.callsign, s.imo, s.ship_type, r.risk, r.n_events "
        f"FROM ({_LAST_POS_SQL.format(cond=' AND '.join(pos_cond))}) p "
        f"LEFT JOIN ({_IDENTITY_SQL.format(cond=' AND '.join(st_cond))}) s USING (mmsi) "
        "LEFT JOIN risk r USING (mmsi)"
    )
    con = _connect(store)
    try:
        df = _run(con, sql, params)
    finally:
        con.close()
    if df.height:
        ref = at if at is not None else df["ts"].max()
    else:
        ref = at
    ref_lit = pl.lit(ref, dtype=schema.UTC_TS) if ref is not None else pl.lit(None, dtype=schema.UTC_TS)
    df = df.with_columns(
        flag_state=flag_state(df["mmsi"]) if df.height else pl.lit(None, dtype=pl.Utf8),
        type_group=type_group_expr(pl.col("ship_type"), pl.col("ais_class")),
        age_s=((ref_lit - pl.col("ts")).dt.total_milliseconds() / 1000.0),
        risk=pl.col("risk").cast(pl.Float64).fill_null(0.0),
        n_events=pl.col("n_events").fill_null(0),
        course_deg=pl.coalesce(pl.col("cog_deg"), pl.col("heading_deg")),
    ).with_columns(
        moving=(pl.col("sog_kn").fill_null(0) >= MOVING_KN) & pl.col("course_deg").is_not_null(),
    )
    if max_age_s is not None:
        df = df.filter(pl.col("age_s") <= max_age_s)
    if bbox is not None:
        df = df.filter(_bbox_expr(bbox))
    if groups:
        df = df.filter(pl.col("type_group").is_in(list(groups)))
    if flags:
        df = df.filter(pl.col("flag_state").is_in(list(flags)))
    if classes:
        df = df.filter(pl.col("ais_class").is_in(list(classes)))
    if min_risk is not None:
        df = df.filter(pl.col("risk") >= min_risk)
    if q:
        ql = q.lower()
        cond = (
            pl.col("shipname").str.to_lowercase().str.contains(ql, literal=True).fill_null(False)
            | pl.col("callsign").str.to_lowercase().str.contains(ql, literal=True).fill_null(False)
            | pl.col("mmsi").cast(pl.Utf8).str.starts_with(ql)
        )
        if ql.isdigit():
            cond = cond | (pl.col("imo") == int(ql[:12]))
        df = df.filter(cond)
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    col = {"risk": "risk", "last_seen": "ts", "mmsi": "mmsi", "name": "shipname"}[key]
    if col == "mmsi":
        df = df.sort("mmsi", descending=desc)
    else:
        df = df.sort([col, "mmsi"], descending=[desc, False], nulls_last=True)
    total = df.height
    df = df.slice(offset, limit)
    df = _round(df, {"lat": 6, "lon": 6, "sog_kn": 1, "cog_deg": 1, "heading_deg": 1, "course_deg": 1,
                     "risk": 1, "age_s": 1})
    out = df.select(
        "mmsi", pl.col("shipname").alias("name"), "callsign", "imo", "ship_type", "type_group",
        "flag_state", "ais_class", _iso("ts").alias("ts"), "lat", "lon", "sog_kn", "cog_deg",
        "heading_deg", "course_deg", "nav_status", "moving", "age_s", "risk", "n_events",
    )
    items = _dicts(out)
    for it in items:
        it["flag_name"] = flag_name(it["flag_state"])
        it["ship_type_text"] = ship_type_text(it["ship_type"])
        it["nav_status_text"] = NAV_STATUS_TEXT.get(it["nav_status"]) if it["nav_status"] is not None else None
    return page(items, total, limit, offset, ref_time=iso(ref))


def _field_history(con: Any, mmsi: int, field: str) -> list[dict[str, Any]]:
    # ``field`` is one of a fixed list of column names (see vessel()), never request text
    df = _run(
        con,
        f"SELECT {field} AS value, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS reports "
        f"FROM statics WHERE mmsi = $mmsi AND {field} IS NOT NULL GROUP BY {field} ORDER BY first_seen NULLS FIRST",
        {"mmsi": mmsi},
    )
    return _dicts(df.with_columns(_iso("first_seen").alias("first_seen"), _iso("last_seen").alias("last_seen")))


_IDENTITY_FIELDS = ("shipname", "callsign", "imo", "ship_type", "to_bow_m", "to_stern_m", "to_port_m",
                    "to_starboard_m", "draught_m", "destination", "eta", "epfd", "mothership_mmsi")


def vessel(store: Store, mmsi: int) -> dict[str, Any] | None:
    """Everything about one vessel: identity (and its history), flag, last position and place,
    risk with each reason, event count. None if the store has never heard of the MMSI."""
    from .. import flags as fl

    con = _connect(store)
    try:
        p = {"mmsi": mmsi}
        agg = ", ".join(
            f"arg_max({f}, coalesce(ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')) FILTER (WHERE {f} IS NOT NULL) AS {f}"
            for f in _IDENTITY_FIELDS
        )
        ident = _run(con, f"SELECT count(*) AS n_statics, {agg} FROM statics WHERE mmsi = $mmsi", p)
        last = _run(
            con,
            "SELECT ts, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, ais_class FROM positions "
            "WHERE mmsi = $mmsi AND ts IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL "
            "AND NOT (lat = 0 AND lon = 0) ORDER BY ts DESC LIMIT 1",
            p,
        )
        span = _run(con, "SELECT count(*) AS n, min(ts) AS first_seen, max(ts) AS last_seen FROM positions "
                         "WHERE mmsi = $mmsi", p)
        risk = _run(con, "SELECT risk, n_events, reasons FROM risk WHERE mmsi = $mmsi", p)
        n_ev = _run(con, "SELECT count(*) AS n FROM events WHERE mmsi = $mmsi OR other_mmsi = $mmsi", p)["n"][0]
        place = None
        if store.derived_info("tracks") is not None:
            pl_df = _run(
                con,
                "SELECT ts, zone_name, zone_kind, zone_state, dist_to_shore_nm, on_land, is_night, port_name, "
                "port_dist_km FROM tracks WHERE mmsi = $mmsi AND NOT coalesce(is_noise, FALSE) "
                "ORDER BY ts DESC LIMIT 1",
                p,
            )
            if pl_df.height:
                place = _dicts(_round(pl_df.with_columns(_iso("ts").alias("ts")),
                                      {"dist_to_shore_nm": 2, "port_dist_km": 2}))[0]
        history = {f: _field_history(con, mmsi, f) for f in ("shipname", "callsign", "imo", "ship_type")}
        reason_events: dict[str, dict[str, Any]] = {}
        reasons: list[dict[str, Any]] = []
        if risk.height:
            try:
                reasons = json.loads(risk["reasons"][0] or "[]")
            except ValueError:
                reasons = []
            ids = [str(r.get("event_id")) for r in reasons if r.get("event_id")]
            if ids:
                evs = _run(con, "SELECT event_id, start_time, end_time, lat, lon, status FROM events "
                                "WHERE list_contains($ids, event_id)", {"ids": ids})
                evs = _round(evs.with_columns(_iso("start_time").alias("start_time"), _iso("end_time").alias("end_time")),
                             {"lat": 6, "lon": 6})
                reason_events = {r["event_id"]: r for r in _dicts(evs)}
    finally:
        con.close()
    n_pos = int(span["n"][0])
    n_statics = int(ident["n_statics"][0])
    if n_pos == 0 and n_statics == 0 and int(n_ev) == 0 and risk.height == 0:
        return None
    idr = _dicts(_round(ident, {"draught_m": 1}))[0]
    dims = [idr.get(k) for k in ("to_bow_m", "to_stern_m", "to_port_m", "to_starboard_m")]
    length = dims[0] + dims[1] if dims[0] is not None and dims[1] is not None else None
    beam = dims[2] + dims[3] if dims[2] is not None and dims[3] is not None else None
    s = pl.Series([mmsi], dtype=pl.Int64)
    flag_iso = fl.flag_state(s)[0]
    cs = idr.get("callsign")
    cs_state = fl.callsign_state(pl.Series([cs], dtype=pl.Utf8))[0] if cs else None
    matches = None
    if flag_iso and cs_state:
        adm = fl.administration(pl.Series([flag_iso, cs_state], dtype=pl.Utf8)).to_list()
        matches = adm[0] is not None and adm[0] == adm[1]
    imo = idr.get("imo")
    ais_class = last["ais_class"][0] if last.height else None
    ship_type = idr.get("ship_type")
    group = pl.select(type_group_expr(pl.lit(ship_type, dtype=pl.Int16), pl.lit(ais_class, dtype=pl.Utf8))).item()
    last_pos = None
    if last.height:
        lp = _dicts(_round(last.with_columns(_iso("ts").alias("ts")),
                           {"lat": 6, "lon": 6, "sog_kn": 1, "cog_deg": 1, "heading_deg": 1}))[0]
        lp["nav_status_text"] = NAV_STATUS_TEXT.get(lp["nav_status"]) if lp["nav_status"] is not None else None
        lp["moving"] = (lp["sog_kn"] or 0) >= MOVING_KN and (lp["cog_deg"] if lp["cog_deg"] is not None else lp["heading_deg"]) is not None
        last_pos = lp
    for r in reasons:
        ev = reason_events.get(str(r.get("event_id")), {})
        r.update({k: ev.get(k) for k in ("start_time", "end_time", "lat", "lon", "status")})
    return {
        "mmsi": mmsi,
        "identity": {
            "name": idr.get("shipname"), "callsign": cs, "imo": imo,
            "imo_valid": fl.imo_valid(pl.Series([imo], dtype=pl.Int64))[0] if imo is not None else None,
            "ship_type": ship_type, "ship_type_text": ship_type_text(ship_type), "type_group": group,
            "ais_class": ais_class, "length_m": length, "beam_m": beam, "draught_m": idr.get("draught_m"),
            "to_bow_m": dims[0], "to_stern_m": dims[1], "to_port_m": dims[2], "to_starboard_m": dims[3],
            "destination": idr.get("destination"), "eta": idr.get("eta"),
            "mothership_mmsi": idr.get("mothership_mmsi"), "statics_reports": n_statics,
        },
        "flag": {
            "state": flag_iso, "name": flag_name(flag_iso), "mid": fl.mid_of(s, any_kind=True)[0],
            "mmsi_kind": fl.mmsi_kind(s)[0], "mmsi_problem": fl.mmsi_problem(s)[0],
            "callsign_state": cs_state, "callsign_matches_flag": matches,
        },
        "last_position": last_pos,
        "place": place,
        "first_seen": iso(span["first_seen"][0]), "last_seen": iso(span["last_seen"][0]),
        "positions": n_pos,
        "risk": {
            "score": round(float(risk["risk"][0]), 1) if risk.height else 0.0,
            "n_events": int(risk["n_events"][0]) if risk.height else 0,
            "reasons": reasons,
        },
        "events_total": int(n_ev),
        "identity_history": history,
    }


# -- track ----------------------------------------------------------------------------------------------
def track(
    store: Store,
    mmsi: int,
    *,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    thin_s: float | None = None,
    limit: int = 5000,
    offset: int = 0,
) -> dict[str, Any]:
    """A vessel's positions in time order, from the ``tracks`` table when it is up to date with
    the ingested files (then with ``seg_id`` and ``is_noise``), else from ``positions``.
    ``thin_s`` keeps the first point of every ``thin_s`` seconds."""
    params: dict[str, Any] = {"mmsi": mmsi}
    cond = ["mmsi = $mmsi", "ts IS NOT NULL", "lat IS NOT NULL", "lon IS NOT NULL", "NOT (lat = 0 AND lon = 0)"]
    if start is not None:
        params["start"] = start
        cond.append("ts >= $start")
    if end is not None:
        params["end"] = end
        cond.append("ts <= $end")
    use_tracks = _tracks_current(store)
    if use_tracks:
        inner = ("SELECT ts, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, seg_id, is_noise FROM tracks "
                 f"WHERE {' AND '.join(cond)}")
    else:
        inner = ("SELECT ts, lat, lon, sog_kn, cog_deg, heading_deg, nav_status, NULL::VARCHAR AS seg_id, "
                 f"NULL::BOOLEAN AS is_noise FROM positions WHERE {' AND '.join(cond)}")
    if thin_s:
        params["thin_s"] = float(thin_s)
        inner = (f"SELECT * FROM ({inner}) QUALIFY row_number() OVER "
                 "(PARTITION BY floor(epoch(ts) / $thin_s) ORDER BY ts) = 1")
    con = _connect(store)
    try:
        total = int(_run(con, f"SELECT count(*) AS n FROM ({inner})", params)["n"][0])
        span = _run(con, "SELECT min(ts) AS t0, max(ts) AS t1 FROM positions WHERE mmsi = $mmsi", {"mmsi": mmsi})
        df = _run(con, f"SELECT * FROM ({inner}) ORDER BY ts LIMIT $limit OFFSET $offset",
                  {**params, "limit": limit, "offset": offset})
    finally:
        con.close()
    df = _round(df.with_columns(_iso("ts").alias("ts")),
                {"lat": 6, "lon": 6, "sog_kn": 1, "cog_deg": 1, "heading_deg": 1})
    return page(_dicts(df), total, limit, offset, mmsi=mmsi, source="tracks" if use_tracks else "positions",
                first_seen=iso(span["t0"][0]), last_seen=iso(span["t1"][0]))


# -- events -----------------------------------------------------------------------------------------------
_NAMES_SQL = """
SELECT mmsi, arg_max(shipname, coalesce(ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')) AS shipname
FROM statics WHERE shipname IS NOT NULL GROUP BY mmsi
"""


def _event_rows(df: pl.DataFrame) -> list[dict[str, Any]]:
    df = _round(df.with_columns(_iso("start_time").alias("start_time"), _iso("end_time").alias("end_time")),
                {"lat": 6, "lon": 6, "score": 3})
    cols = [c.name for c in schema.EVENTS] + ["shipname", "other_shipname"]
    items = _dicts(df.select([c for c in cols if c in df.columns]))
    for it in items:
        raw = it.get("evidence")
        try:
            it["evidence"] = json.loads(raw) if raw else {}
        except ValueError:
            it["evidence"] = {"text": raw}
    return items


def events(
    store: Store,
    *,
    types: Sequence[str] | None = None,
    severities: Sequence[str] | None = None,
    min_severity: str | None = None,
    statuses: Sequence[str] | None = None,
    zone_kinds: Sequence[str] | None = None,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    bbox: Sequence[float] | None = None,
    mmsi: int | None = None,
    sort: str = "-start_time",
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Events matching every filter given. ``start``/``end``: events whose span overlaps the
    range (an open event lasts until now); ``mmsi`` matches either vessel of a pair."""
    params: dict[str, Any] = {}
    cond = ["TRUE"]
    if types:
        params["types"] = list(types)
        cond.append("list_contains($types, event_type)")
    if severities:
        params["sevs"] = list(severities)
        cond.append("list_contains($sevs, severity)")
    if min_severity:
        params["min_sevs"] = [s for s in schema.SEVERITIES if SEVERITY_RANK[s] >= SEVERITY_RANK[min_severity]]
        cond.append("list_contains($min_sevs, severity)")
    if statuses:
        params["stats"] = list(statuses)
        cond.append("list_contains($stats, status)")
    if zone_kinds:
        params["zkinds"] = list(zone_kinds)
        cond.append("list_contains($zkinds, zone_kind)")
    if start is not None:
        params["start"] = start
        cond.append("(end_time IS NULL OR end_time >= $start)")
    if end is not None:
        params["end"] = end
        cond.append("start_time <= $end")
    if mmsi is not None:
        params["mmsi"] = mmsi
        cond.append("(mmsi = $mmsi OR other_mmsi = $mmsi)")
    cond.append(_bbox_sql(bbox, params))
    where = " AND ".join(cond)
    rank = "CASE severity " + " ".join(f"WHEN '{s}' THEN {i}" for s, i in SEVERITY_RANK.items()) + " ELSE -1 END"
    con = _connect(store)
    try:
        total = int(_run(con, f"SELECT count(*) AS n FROM events WHERE {where}", params)["n"][0])
        df = _run(
            con,
            f"SELECT e.*, {rank} AS sev_rank, n1.shipname AS shipname, n2.shipname AS other_shipname "
            f"FROM (SELECT * FROM events WHERE {where}) e "
            f"LEFT JOIN ({_NAMES_SQL}) n1 ON n1.mmsi = e.mmsi LEFT JOIN ({_NAMES_SQL}) n2 ON n2.mmsi = e.other_mmsi "
            f"ORDER BY {EVENT_SORTS[sort]} LIMIT $limit OFFSET $offset",
            {**params, "limit": limit, "offset": offset},
        )
    finally:
        con.close()
    return page(_event_rows(df), total, limit, offset)


def event(store: Store, event_id: str) -> dict[str, Any] | None:
    """One event by id, or None."""
    con = _connect(store)
    try:
        df = _run(
            con,
            "SELECT e.*, n1.shipname AS shipname, n2.shipname AS other_shipname FROM "
            f"(SELECT * FROM events WHERE event_id = $id) e LEFT JOIN ({_NAMES_SQL}) n1 ON n1.mmsi = e.mmsi "
            f"LEFT JOIN ({_NAMES_SQL}) n2 ON n2.mmsi = e.other_mmsi",
            {"id": event_id},
        )
    finally:
        con.close()
    rows = _event_rows(df)
    return rows[0] if rows else None


# -- detections (radar, satellite) and dark tracks ----------------------------------------------------------
def _collection(features: list[str], total: int, limit: int, offset: int, **extra: Any) -> bytes:
    """A GeoJSON FeatureCollection (features already JSON) with the pagination members."""
    nxt = offset + len(features)
    head = {"type": "FeatureCollection", "total": int(total), "limit": limit, "offset": offset,
            "next_offset": nxt if nxt < total and features else None, **extra}
    return (json.dumps(head)[:-1] + ',"features":[' + ",".join(features) + "]}").encode()


def _feature(fid: str, props: dict[str, Any], geometry: dict[str, Any]) -> str:
    return json.dumps({"type": "Feature", "id": fid, "properties": props, "geometry": geometry},
                      allow_nan=False, separators=(",", ":"))


#: one correlation row per detection id
_CORRELATION_SQL = """
SELECT detection_id, matched, mmsi, match_dist_m FROM correlation
QUALIFY row_number() OVER (PARTITION BY detection_id ORDER BY ts DESC, matched DESC, mmsi) = 1
"""

#: the dark_target event of each detection (its evidence names the detection)
_DARK_TARGET_SQL = """
SELECT json_extract_string(evidence, '$.detection_id') AS detection_id,
       arg_min(event_id, event_id) AS event_id, arg_min(severity, event_id) AS severity
FROM events WHERE event_type = 'dark_target' GROUP BY 1
"""


def detections_geojson(
    store: Store,
    *,
    bbox: Sequence[float] | None = None,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    dark: bool | None = None,
    sensors: Sequence[str] | None = None,
    limit: int = 5000,
    offset: int = 0,
) -> bytes:
    """Detections as a GeoJSON FeatureCollection of Points, newest first, with their AIS
    correlation (table ``correlation``, by ``detection_id``: written by ``seawatch detect``,
    and by ``seawatch watch`` for the detections it has reached): ``matched`` (an AIS vessel
    explains it: ``mmsi``, ``shipname``, ``match_dist_m``) or ``dark``, and the ``dark_target``
    event it raised (``event_id``, ``severity``; none for a weak detection). A detection not
    correlated yet has ``matched`` and ``dark`` null (the ``dark`` filter leaves it out);
    ``correlated`` says whether every detection of the store is correlated."""
    params: dict[str, Any] = {}
    cond = ["d.ts IS NOT NULL", "d.lat IS NOT NULL", "d.lon IS NOT NULL"]
    if start is not None:
        params["start"] = start
        cond.append("d.ts >= $start")
    if end is not None:
        params["end"] = end
        cond.append("d.ts <= $end")
    if sensors:
        params["sensors"] = list(sensors)
        cond.append("list_contains($sensors, d.sensor)")
    if dark is not None:
        params["dark"] = bool(dark)
        cond.append("c.matched = NOT $dark")
    cond.append(_bbox_sql(bbox, params, lat="d.lat", lon="d.lon"))
    inner = ("SELECT d.detection_id, d.ts, d.lat, d.lon, d.source, d.sensor, d.pass_id, d.length_m, d.heading_deg, "
             f"d.confidence, c.matched, c.mmsi, c.match_dist_m FROM detections d LEFT JOIN ({_CORRELATION_SQL}) c "
             f"ON c.detection_id = d.detection_id WHERE {' AND '.join(cond)}")
    con = _connect(store)
    try:
        total = int(_run(con, f"SELECT count(*) AS n FROM ({inner})", params)["n"][0])
        correlated = not int(_run(con, "SELECT count(*) AS n FROM detections d ANTI JOIN correlation c "
                                       "ON c.detection_id = d.detection_id", {})["n"][0])
        df = _run(
            con,
            f"SELECT d.*, n.shipname, e.event_id, e.severity FROM ({inner}) d "
            f"LEFT JOIN ({_NAMES_SQL}) n ON n.mmsi = d.mmsi "
            f"LEFT JOIN ({_DARK_TARGET_SQL}) e ON e.detection_id = d.detection_id "
            "ORDER BY d.ts DESC, d.detection_id LIMIT $limit OFFSET $offset",
            {**params, "limit": limit, "offset": offset},
        )
    finally:
        con.close()
    df = _round(df.with_columns(_iso("ts").alias("ts")),
                {"lat": 6, "lon": 6, "length_m": 1, "heading_deg": 1, "confidence": 3, "match_dist_m": 1})
    feats = []
    for r in _dicts(df):
        lat, lon = r.pop("lat"), r.pop("lon")
        r["dark"] = None if r["matched"] is None else not r["matched"]
        feats.append(_feature(r["detection_id"], r, {"type": "Point", "coordinates": [lon, lat]}))
    return _collection(feats, total, limit, offset, correlated=correlated)


_TRACK_KEYS = ("n_detections", "n_passes", "sensors", "mean_speed_kn", "course_deg")


def dark_tracks_geojson(
    store: Store,
    *,
    bbox: Sequence[float] | None = None,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    limit: int = 500,
    offset: int = 0,
) -> bytes:
    """``dark_track`` events as a GeoJSON FeatureCollection of LineStrings through their
    detections in time order (a Point at the event's place if fewer than two of them are in
    the store), newest first. ``start``/``end``: tracks overlapping the range; ``bbox``: tracks
    with a vertex inside."""
    params: dict[str, Any] = {}
    cond = ["event_type = 'dark_track'"]
    if start is not None:
        params["start"] = start
        cond.append("(end_time IS NULL OR end_time >= $start)")
    if end is not None:
        params["end"] = end
        cond.append("start_time <= $end")
    con = _connect(store)
    try:
        ev = _run(con, "SELECT event_id, start_time, end_time, lat, lon, zone_name, severity, score, status, evidence "
                       f"FROM events WHERE {' AND '.join(cond)} ORDER BY start_time DESC, event_id", params)
        evidence = []
        for raw in ev["evidence"].to_list():
            try:
                e = json.loads(raw) if raw else {}
            except ValueError:
                e = {}
            evidence.append(e if isinstance(e, dict) else {})
        ids = sorted({str(i) for e in evidence for i in (e.get("detection_ids") or [])})
        pts = _run(con, "SELECT detection_id, ts, lat, lon FROM detections "
                        "WHERE detection_id IN (SELECT unnest($ids)) AND ts IS NOT NULL AND lat IS NOT NULL",
                   {"ids": ids}) if ids else pl.DataFrame()
    finally:
        con.close()
    where = {r["detection_id"]: (r["ts"], round(r["lon"], 6), round(r["lat"], 6)) for r in pts.iter_rows(named=True)}
    ev = _round(ev.with_columns(_iso("start_time").alias("start_time"), _iso("end_time").alias("end_time")),
                {"lat": 6, "lon": 6, "score": 3})
    feats = []
    for r, e in zip(_dicts(ev.drop("evidence")), evidence):
        found = sorted((where[i] + (i,) for i in {str(i) for i in (e.get("detection_ids") or [])} if i in where),
                       key=lambda x: (x[0], x[3]))
        coords = [[x[1], x[2]] for x in found]
        if len(coords) >= 2:
            geom: dict[str, Any] = {"type": "LineString", "coordinates": coords}
        elif r["lat"] is not None and r["lon"] is not None:
            geom = {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
        else:
            continue
        if bbox is not None and not any(_in_bbox(bbox, x, y) for x, y in _geom_points(geom)):
            continue
        props = {**r, **{k: e.get(k) for k in _TRACK_KEYS},
                 "detection_ids": [x[3] for x in found], "evidence": e}
        feats.append(_feature(r["event_id"], props, geom))
    total = len(feats)
    return _collection(feats[offset: offset + limit], total, limit, offset)


def _geom_points(geom: dict[str, Any]) -> list[list[float]]:
    return geom["coordinates"] if geom["type"] == "LineString" else [geom["coordinates"]]


def _in_bbox(bbox: Sequence[float], lon: float, lat: float) -> bool:
    w, s, e, n = bbox
    return s <= lat <= n and ((w <= lon <= e) if w <= e else (lon >= w or lon <= e))


# -- zones and land -------------------------------------------------------------------------------------
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _builtin_zones() -> pl.DataFrame:
    try:
        from ..zones import zones_table
    except ImportError:  # pragma: no cover - the zones package is not installed
        return schema.empty("zones")
    return zones_table()


def zones_frame(store: Store) -> pl.DataFrame:
    """The built-in zones plus the store's (imported user areas and official zones); a zone of
    the store replaces a built-in one with the same ``zone_id``."""
    own = store.table("zones") if store.derived_info("zones") is not None else schema.empty("zones")
    builtin = _builtin_zones()
    if own.height:
        builtin = builtin.filter(~pl.col("zone_id").is_in(own["zone_id"].implode()))
    return pl.concat([builtin, schema.conform("zones", own)])


def _round_geom(g: Any, decimals: int = 5) -> Any:
    import shapely

    return shapely.transform(g, lambda xy: np.round(xy, decimals))


@functools.lru_cache(maxsize=16)
def _zone_features(key: tuple, kinds: tuple[str, ...] | None, bbox: tuple[float, ...] | None,
                   simplify: float) -> tuple[list[str], list[str]]:
    """(zone ids, feature JSON strings) for the filters; ``key`` names the zones' generation."""
    import shapely

    z = _zones_for_key[key]
    if kinds:
        z = z.filter(pl.col("kind").is_in(list(kinds)))
    if z.height == 0:
        return [], []
    geoms = shapely.from_wkb(z["geometry"].to_numpy())
    keep = np.ones(len(geoms), dtype=bool)
    if bbox is not None:
        w, s, e, n = bbox
        boxes = [shapely.box(w, s, e, n)] if w <= e else [shapely.box(w, s, 180, n), shapely.box(-180, s, e, n)]
        keep = np.zeros(len(geoms), dtype=bool)
        for b in boxes:
            keep |= shapely.intersects(geoms, b)
    ids, feats = [], []
    for row, g, k in zip(z.drop("geometry").iter_rows(named=True), geoms, keep):
        if not k or g is None:
            continue
        if simplify > 0:
            g = shapely.simplify(g, simplify, preserve_topology=True)
        g = _round_geom(g)
        props = json.dumps({c: row[c] for c in ("zone_id", "name", "kind", "state", "claimants", "source")})
        feats.append(f'{{"type":"Feature","id":{json.dumps(row["zone_id"])},"properties":{props},'
                     f'"geometry":{shapely.to_geojson(g)}}}')
        ids.append(row["zone_id"])
    return ids, feats


_zones_for_key: dict[tuple, pl.DataFrame] = {}


def zones_geojson(
    store: Store,
    *,
    kinds: Sequence[str] | None = None,
    bbox: Sequence[float] | None = None,
    simplify: float = 0.0,
    limit: int = 100,
    offset: int = 0,
) -> bytes:
    """Zones as a GeoJSON FeatureCollection (WGS84 lon/lat, coordinates to 5 decimals), with the
    pagination members ``total, limit, offset, next_offset``. ``simplify``: Douglas-Peucker
    tolerance in degrees (0: as stored)."""
    key = (str(store.path), store.generation("zones"))
    with _lock:
        if key not in _zones_for_key:
            _zones_for_key.clear()
            _zone_features.cache_clear()
            _zones_for_key[key] = zones_frame(store)
    _, feats = _zone_features(key, tuple(kinds) if kinds else None, tuple(bbox) if bbox else None, float(simplify))
    total = len(feats)
    chunk = feats[offset: offset + limit]
    nxt = offset + len(chunk)
    head = {"type": "FeatureCollection", "total": total, "limit": limit, "offset": offset,
            "next_offset": nxt if nxt < total and chunk else None,
            "attribution": "Zones derived from OpenStreetMap data, (c) OpenStreetMap contributors, ODbL 1.0"}
    text = json.dumps(head)[:-1] + ',"features":[' + ",".join(chunk) + "]}"
    return text.encode()


@functools.lru_cache(maxsize=1)
def land_geojson() -> tuple[bytes, bytes]:
    """The shipped land polygons (OpenStreetMap via geo-maps, see seawatch/zones/data/README.md)
    as a GeoJSON FeatureCollection, plain and gzipped. Empty when the zone data is missing."""
    import shapely

    feats = []
    try:
        from ..zones.geo import engine

        land = engine().land
    except (ImportError, OSError, SeawatchError, KeyError):  # pragma: no cover - no zone data
        land = None
    if land is not None and not land.is_empty:
        g = _round_geom(land, 4)
        feats.append('{"type":"Feature","id":"land","properties":{"kind":"land"},"geometry":'
                     + shapely.to_geojson(g) + "}")
    text = ('{"type":"FeatureCollection","attribution":"Land (c) OpenStreetMap contributors, ODbL 1.0 '
            '(geo-maps earth-lands-10m 0.6.0)","features":[' + ",".join(feats) + "]}").encode()
    return text, gzip.compress(text, 6)
