"""The contract between stages: every table's column names, types and units, in one place.

Conventions (DEVELOPERS.md): units live in names (``_kn`` knots, ``_deg`` degrees, ``_m`` metres,
``_nm`` nautical miles, ``_s`` seconds); times are tz-aware UTC (``Datetime("us", "UTC")``);
positions are WGS84 degrees. ITU-R M.1371 "not available" values are null, never sentinels.

Nothing else in seawatch invents a column name: stages build frames with :func:`empty` or
:func:`conform`, and tests check that every table produced matches its schema here.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .errors import SeawatchError

UTC_TS = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    doc: str


def _table(*cols: Column) -> tuple[Column, ...]:
    return cols


# -- positions: one row per position report (types 1, 2, 3, 4, 9, 18, 19, 21, 27) ----------------
POSITIONS = _table(
    Column("mmsi", pl.Int64, "Maritime Mobile Service Identity of the sender"),
    Column("ts", UTC_TS, "receive time (tag block, USCG field, $PGHP or line prefix); null if none"),
    Column("lat", pl.Float64, "latitude, degrees WGS84; null (with lon) when either is not available (91 / 181)"),
    Column("lon", pl.Float64, "longitude, degrees WGS84; null (with lat) when either is not available (181 / 91)"),
    Column("sog_kn", pl.Float32, "speed over ground, knots; null when not available (102.3)"),
    Column("cog_deg", pl.Float32, "course over ground, degrees true; null when not available (360)"),
    Column("heading_deg", pl.Float32, "true heading, degrees; null when not available (511)"),
    Column("rot_deg_min", pl.Float32, "rate of turn, degrees/minute (ITU ROT_AIS decoded); null n/a"),
    Column("nav_status", pl.Int8, "navigational status code 0-15 (15 = not defined); null if not sent"),
    Column("pos_accuracy", pl.Boolean, "position accuracy flag (true = high, < 10 m)"),
    Column("utc_second", pl.Int8, "UTC second of the report as sent (60 = n/a, 61-63 special)"),
    Column("msg_type", pl.Int8, "AIS message type"),
    Column("ais_class", pl.Utf8, "'A' (1-3), 'B' (18, 19), 'base' (4), 'sar' (9), 'aton' (21), 'lr' (27)"),
    Column("altitude_m", pl.Float32, "SAR aircraft altitude, metres (type 9 only)"),
    Column("station", pl.Utf8, "receiving station or source id, when the input names one"),
    Column("n_rx", pl.Int16, "how many receptions of this same message were merged into this row"),
    Column("source", pl.Utf8, "the feed or file the row came from: a live source (tcp://host:port, udp://..., file://...) or the ingested file's name"),
)

# -- statics: voyage and identity data (types 5, 19, 21, 24A, 24B) ---------------------------------
STATICS = _table(
    Column("mmsi", pl.Int64, "MMSI of the sender"),
    Column("ts", UTC_TS, "receive time; null if none"),
    Column("msg_type", pl.Int8, "AIS message type"),
    Column("part_num", pl.Int8, "type 24 part number (0 = A, 1 = B); null for other types"),
    Column("imo", pl.Int64, "IMO number; null when 0 (not available)"),
    Column("callsign", pl.Utf8, "call sign; '@' padding and trailing spaces removed; null when empty"),
    Column("shipname", pl.Utf8, "vessel (or aid-to-navigation) name; padding and trailing spaces removed; null when empty"),
    Column("ship_type", pl.Int16, "ITU ship and cargo type 1-99; null when 0 (not available)"),
    Column("aid_type", pl.Int8, "aid-to-navigation type (type 21 only)"),
    Column("to_bow_m", pl.Int16, "distance from reference point to bow, metres; null when 0"),
    Column("to_stern_m", pl.Int16, "to stern, metres; null when 0"),
    Column("to_port_m", pl.Int16, "to port side, metres; null when 0"),
    Column("to_starboard_m", pl.Int16, "to starboard side, metres; null when 0"),
    Column("draught_m", pl.Float32, "maximum present static draught, metres; null when 0"),
    Column("destination", pl.Utf8, "destination as sent, padding and trailing spaces removed; null when empty"),
    Column("eta", pl.Utf8, "estimated time of arrival as sent, 'MM-DDTHH:MM' (no year); null n/a"),
    Column("epfd", pl.Int8, "type of position fixing device"),
    Column("ais_version", pl.Int8, "AIS version indicator (type 5)"),
    Column("mothership_mmsi", pl.Int64, "type 24B auxiliary craft: MMSI of the mother ship"),
    Column("station", pl.Utf8, "receiving station, when known"),
    Column("n_rx", pl.Int16, "receptions merged into this row"),
    Column("source", pl.Utf8, "the feed or file the row came from: a live source (tcp://host:port, udp://..., file://...) or the ingested file's name"),
)

# -- other: messages of types seawatch does not decode, kept raw -----------------------------------
OTHER = _table(
    Column("mmsi", pl.Int64, "MMSI of the sender (bits 8-37 of every AIS message)"),
    Column("ts", UTC_TS, "receive time; null if none"),
    Column("msg_type", pl.Int8, "AIS message type"),
    Column("payload", pl.Utf8, "armoured six-bit payload, all fragments joined"),
    Column("fill_bits", pl.Int8, "fill bits of the last fragment"),
    Column("station", pl.Utf8, "receiving station, when known"),
    Column("n_rx", pl.Int16, "receptions merged into this row"),
    Column("source", pl.Utf8, "the feed or file the row came from: a live source (tcp://host:port, udp://..., file://...) or the ingested file's name"),
)

# -- rejects: the quarantine. Every input line that did not become data is here, with why ---------
REJECTS = _table(
    Column("source", pl.Utf8, "input file (or stream) name"),
    Column("line_no", pl.Int64, "1-based line number in the source (row number for tables)"),
    Column("ts", UTC_TS, "receive time if one could be read from the line"),
    Column("reason", pl.Utf8, "machine-readable reason, one of REJECT_REASONS"),
    Column("raw", pl.Utf8, "the input line as read (non-ASCII bytes escaped)"),
)

# -- tracks: positions cleaned, segmented and placed (seawatch.tracks.build_tracks) ------------------
TRACKS = _table(
    Column("mmsi", pl.Int64, "MMSI of the sender"),
    Column("ts", UTC_TS, "receive time (rows without a time or position are not tracked)"),
    Column("lat", pl.Float64, "latitude, degrees WGS84"),
    Column("lon", pl.Float64, "longitude, degrees WGS84"),
    Column("sog_kn", pl.Float32, "reported speed over ground, knots; null n/a"),
    Column("cog_deg", pl.Float32, "reported course over ground, degrees true; null n/a"),
    Column("heading_deg", pl.Float32, "reported true heading, degrees; null n/a"),
    Column("nav_status", pl.Int8, "navigational status code; null if not sent"),
    Column("ais_class", pl.Utf8, "'A', 'B', ... as in positions"),
    Column("station", pl.Utf8, "receiving station, when known"),
    Column("n_rx", pl.Int16, "receptions merged into this row"),
    Column("seg_id", pl.Utf8, "segment: one transmitter's continuous track, '<mmsi>-<first ts as YYYYmmddTHHMMSSZ>'; null for noise"),
    Column("is_noise", pl.Boolean, "an isolated point no segment can explain (GPS glitch, spoofed burst)"),
    Column("dt_s", pl.Float64, "seconds since the previous point of the same segment; null at its first point"),
    Column("dist_nm", pl.Float64, "great-circle distance from the previous point of the segment, nautical miles"),
    Column("implied_speed_kn", pl.Float32, "dist_nm / dt_s in knots; null when dt_s is 0 or null"),
    Column("turn_deg", pl.Float32, "signed change of course over the last two legs, degrees in [-180, 180); + is starboard"),
    Column("is_night", pl.Boolean, "the sun is below the horizon there and then (upper limb, refraction: -0.833 deg)"),
    Column("dist_to_shore_nm", pl.Float32, "distance to the nearest land, nautical miles; null outside zone coverage"),
    Column("on_land", pl.Boolean, "the position lies on land (a glitch, or a vessel on a river or in a dock)"),
    Column("zone_name", pl.Utf8, "the maritime zone the point is in, e.g. 'JPN territorial sea'"),
    Column("zone_kind", pl.Utf8, "one of ZONE_KINDS"),
    Column("zone_state", pl.Utf8, "ISO 3166 alpha-3 of the coastal state; null for high seas and disputed"),
    Column("zone_claimants", pl.Utf8, "for a disputed zone, the claimant states ISO alpha-3 joined by ';'"),
    Column("custom_zones", pl.Utf8, "names of the user areas (imported, kind custom) holding the point, ';'-joined"),
    Column("port_name", pl.Utf8, "the nearest port or anchorage within PORT_SEARCH_KM"),
    Column("port_dist_km", pl.Float32, "distance to that port or anchorage, km; null if none within PORT_SEARCH_KM"),
)

# -- segments: one row per segment of TRACKS ------------------------------------------------------
SEGMENTS = _table(
    Column("seg_id", pl.Utf8, "segment id as in tracks"),
    Column("mmsi", pl.Int64, "MMSI"),
    Column("start_time", UTC_TS, "first point"),
    Column("end_time", UTC_TS, "last point"),
    Column("n_points", pl.Int64, "points in the segment"),
    Column("lat_start", pl.Float64, "first latitude"),
    Column("lon_start", pl.Float64, "first longitude"),
    Column("lat_end", pl.Float64, "last latitude"),
    Column("lon_end", pl.Float64, "last longitude"),
    Column("dist_nm", pl.Float64, "length along the track, nautical miles"),
    Column("duration_s", pl.Float64, "end_time - start_time, seconds"),
    Column("mean_sog_kn", pl.Float32, "mean reported speed, knots"),
    Column("max_implied_speed_kn", pl.Float32, "largest point-to-point implied speed, knots"),
)

# -- zones: maritime zones and user areas (built-in for East Asia, or imported) ---------------------
ZONES = _table(
    Column("zone_id", pl.Utf8, "stable id, e.g. 'JPN-territorial_sea' or 'custom-<name>'"),
    Column("name", pl.Utf8, "human name, e.g. 'JPN territorial sea', 'Takeshima / Dokdo (disputed)'"),
    Column("kind", pl.Utf8, "one of ZONE_KINDS"),
    Column("state", pl.Utf8, "ISO 3166 alpha-3 of the coastal state; null when disputed or custom"),
    Column("claimants", pl.Utf8, "for disputed zones, the claimant states ISO alpha-3 joined by ';'"),
    Column("source", pl.Utf8, "where the geometry comes from (package and version, or imported file)"),
    Column("geometry", pl.Binary, "polygon or multipolygon, WKB, WGS84 lon/lat"),
)

# -- ports: ports and anchorages used for port lookups ---------------------------------------------
PORTS = _table(
    Column("port_id", pl.Utf8, "stable id (registry id, or 'anch-<cell>' for inferred anchorages)"),
    Column("name", pl.Utf8, "port or anchorage name"),
    Column("kind", pl.Utf8, "'port' or 'anchorage'"),
    Column("country_code", pl.Utf8, "ISO 3166 alpha-2, when known"),
    Column("lat", pl.Float64, "latitude, degrees WGS84"),
    Column("lon", pl.Float64, "longitude, degrees WGS84"),
    Column("source", pl.Utf8, "e.g. 'harborly 1.1.4 (NGA WPI)', 'inferred'"),
)

# -- detections: non-AIS sightings (radar plots, satellite detections) for dark-vessel correlation --
DETECTIONS = _table(
    Column("detection_id", pl.Utf8, "the provider's id of the detection, or '<source>:<line_no>'"),
    Column("ts", UTC_TS, "time of the observation (sweep or image acquisition)"),
    Column("lat", pl.Float64, "latitude, degrees WGS84"),
    Column("lon", pl.Float64, "longitude, degrees WGS84"),
    Column("source", pl.Utf8, "provider or input file, e.g. 'skylight', 'gfw-sar', 'niigata-radar'"),
    Column("sensor", pl.Utf8, "sensor: 'radar', 'sar', 'optical', 'viirs', ... ('unknown' if not given)"),
    Column("pass_id", pl.Utf8, "one sweep / satellite pass; default '<source>|<sensor>|<ts ISO>'"),
    Column("length_m", pl.Float32, "estimated vessel length, metres; null if the sensor gives none"),
    Column("heading_deg", pl.Float32, "estimated heading, degrees true; null if none"),
    Column("confidence", pl.Float32, "0-1 detection confidence; null if the provider gives none"),
)

# -- correlation: each detection matched (or not) to an AIS segment (seawatch.detect.dark.correlate) --
CORRELATION = DETECTIONS + _table(
    Column("matched", pl.Boolean, "an AIS segment was assigned to this detection"),
    Column("mmsi", pl.Int64, "the matched vessel; null if dark"),
    Column("seg_id", pl.Utf8, "the matched AIS segment"),
    Column("match_dist_m", pl.Float32, "distance detection - AIS position at ts (interpolated), metres"),
    Column("match_dt_s", pl.Float32, "seconds from ts to the nearest real AIS report of the segment"),
    Column("match_radius_m", pl.Float32, "allowed distance at that time offset, metres"),
    Column("match_method", pl.Utf8, "'interpolated' (between two reports) or 'extrapolated' (dead reckoning)"),
    Column("ais_lat", pl.Float64, "the AIS position at ts"),
    Column("ais_lon", pl.Float64, "the AIS position at ts"),
    Column("ais_length_m", pl.Float32, "vessel length from AIS statics (to_bow_m + to_stern_m)"),
    Column("n_candidates", pl.Int32, "AIS segments within the allowed distance before assignment"),
)

# -- events: what the detectors found, with the evidence -------------------------------------------
EVENTS = _table(
    Column("event_id", pl.Utf8, "deterministic: sha1 of event_type, mmsi, other_mmsi and start_time (16 hex)"),
    Column("event_type", pl.Utf8, "one of EVENT_TYPES"),
    Column("mmsi", pl.Int64, "the vessel"),
    Column("other_mmsi", pl.Int64, "the other vessel of a two-vessel event (encounter); null otherwise"),
    Column("start_time", UTC_TS, "when the behaviour began"),
    Column("end_time", UTC_TS, "when it ended; null while open"),
    Column("lat", pl.Float64, "where, degrees WGS84 (a representative point of the event)"),
    Column("lon", pl.Float64, "where, degrees WGS84"),
    Column("zone_name", pl.Utf8, "maritime zone at (lat, lon)"),
    Column("zone_kind", pl.Utf8, "one of ZONE_KINDS"),
    Column("zone_state", pl.Utf8, "ISO 3166 alpha-3 of the zone's coastal state"),
    Column("severity", pl.Utf8, "one of SEVERITIES"),
    Column("score", pl.Float32, "0-1: how strongly the rule was met (its weight in the risk score)"),
    Column("status", pl.Utf8, "'open', 'closed' or 'retracted'"),
    Column("preset", pl.Utf8, "the preset whose thresholds were used: coastal, gfw, skylight"),
    Column("evidence", pl.Utf8, "JSON object: the measured values and the thresholds they crossed"),
)

EVENT_TYPES = (
    "zone_entry",
    "zone_exit",
    "port_visit",
    "ais_gap",
    "loitering",
    "encounter",
    "speed_anomaly",
    "position_jump",
    "identity_invalid",
    "identity_mismatch",
    "identity_change",
    "night_coastal_approach",
    "dark_target",
    "dark_track",
)
SEVERITIES = ("info", "low", "medium", "high")
EVENT_STATUSES = ("open", "closed", "retracted")

# -- risk: one row per vessel, its score and why ----------------------------------------------------
RISK = _table(
    Column("mmsi", pl.Int64, "the vessel"),
    Column("risk", pl.Float32, "0-100"),
    Column("n_events", pl.Int64, "events counted (not retracted)"),
    Column("shipname", pl.Utf8, "latest declared name"),
    Column("flag_state", pl.Utf8, "ISO 3166 alpha-3 from the MMSI's MID; null if none"),
    Column("reasons", pl.Utf8, "JSON list of {event_type, event_id, severity, points}: each contribution"),
)

#: Zone kinds, in legal order from the coast outwards; ``custom`` is a user area of interest.
ZONE_KINDS = (
    "internal_waters",
    "territorial_sea",
    "contiguous_zone",
    "eez",
    "high_seas",
    "disputed",
    "custom",
)

#: Why a line is in the quarantine. ``skipped`` reasons are not errors: the line was not AIS.
REJECT_REASONS: dict[str, str] = {
    # skipped, not errors
    "blank": "empty line (skipped)",
    "comment": "comment line starting with '#' (skipped)",
    "non_ais_sentence": "an NMEA sentence that is not AIS, e.g. $GPGGA, $PGHP (skipped)",
    # errors
    "garbage": "no NMEA sentence found on the line",
    "bad_sentence": "an !..VDM/VDO sentence whose fields cannot be parsed (truncated, wrong field count)",
    "bad_checksum": "the NMEA checksum does not match the sentence",
    "bad_payload": "payload holds characters outside the AIS six-bit alphabet, or fill bits > 5",
    "orphan_fragment": "a fragment of a multi-sentence message whose other fragments never came",
    "payload_too_short": "the payload has fewer bits than its message type needs",
    "bad_msg_type": "message type 0 or above 27",
    "position_out_of_range": "latitude beyond +/-90 or longitude beyond +/-180 (not the 91/181 n/a values)",
    "bad_row": "a provider table row that cannot be read (unparsable time, missing MMSI)",
    "bad_value": "a detection with length <= 0, heading outside [0, 360] or confidence outside [0, 1]",
}
SKIPPED_REASONS = frozenset({"blank", "comment", "non_ais_sentence"})

TABLES: dict[str, tuple[Column, ...]] = {
    "positions": POSITIONS,
    "statics": STATICS,
    "other": OTHER,
    "rejects": REJECTS,
    "tracks": TRACKS,
    "segments": SEGMENTS,
    "zones": ZONES,
    "ports": PORTS,
    "detections": DETECTIONS,
    "correlation": CORRELATION,
    "events": EVENTS,
    "risk": RISK,
}


def polars_schema(table: str) -> pl.Schema:
    """The polars schema of a table, e.g. ``polars_schema("positions")``."""
    return pl.Schema({c.name: c.dtype for c in columns(table)})


def columns(table: str) -> tuple[Column, ...]:
    try:
        return TABLES[table]
    except KeyError:
        raise SeawatchError(
            f"unknown table {table!r}: use one of {', '.join(TABLES)}"
        ) from None


def empty(table: str) -> pl.DataFrame:
    """An empty frame with the table's schema."""
    return pl.DataFrame(schema=polars_schema(table))


def conform(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``df`` to the table's schema; missing columns become nulls.

    Raises SeawatchError if ``df`` has a column the schema does not know (nothing invents names).
    """
    schema = polars_schema(table)
    if df.schema == schema:  # already conformant (names, order and types): nothing to do
        return df
    unknown = [c for c in df.columns if c not in schema]
    if unknown:
        raise SeawatchError(
            f"columns {unknown} are not in the {table} schema: add them to seawatch/schema.py first"
        )
    return df.select(
        [
            (pl.col(n) if n in df.columns else pl.lit(None)).cast(t).alias(n)
            for n, t in schema.items()
        ]
    )
