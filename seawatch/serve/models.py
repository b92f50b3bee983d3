"""The API's response shapes, for the OpenAPI document (``/openapi.json``).

The endpoints return plain dicts built by :mod:`seawatch.serve.queries`; these models describe
them (tests validate real responses against them with ``extra="forbid"``, so the document
cannot drift from what is served).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorInfo(_Model):
    status: int = Field(description="the HTTP status code, repeated")
    code: str = Field(description="machine-readable: bad_parameter, unknown_parameter, not_found, "
                                  "method_not_allowed, unauthorized, bad_host, uri_too_long, "
                                  "store_error, internal_error")
    message: str = Field(description="one line saying what was wrong and what to do")
    param: str | None = Field(None, description="the query or path parameter at fault, if one")


class ErrorBody(_Model):
    """Every error response, whatever the status."""

    error: ErrorInfo


class _Page(_Model):
    total: int = Field(description="items matching the filters, over all pages")
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


class Vessel(_Model):
    mmsi: int
    name: str | None = Field(description="latest declared name (AIS static data)")
    callsign: str | None
    imo: int | None
    ship_type: int | None = Field(description="ITU ship and cargo type 1-99")
    ship_type_text: str | None
    type_group: str = Field(description="cargo, tanker, passenger, high_speed, fishing, tug_special, "
                                        "pleasure, other, unknown, aton, base_station, sar_aircraft")
    flag_state: str | None = Field(description="ISO 3166 alpha-3 from the MMSI's MID")
    flag_name: str | None
    ais_class: str | None
    ts: str = Field(description="time of the last position, ISO-8601 UTC")
    lat: float
    lon: float
    sog_kn: float | None
    cog_deg: float | None
    heading_deg: float | None
    course_deg: float | None = Field(description="course over ground, else heading: the arrow's direction")
    nav_status: int | None
    nav_status_text: str | None
    moving: bool = Field(description="speed >= 0.5 kn with a known course (drawn as an arrow)")
    age_s: float | None = Field(description="seconds from the last position to ref_time")
    risk: float = Field(description="0-100 (0 when no event counts)")
    n_events: int


class VesselPage(_Page):
    items: list[Vessel]
    ref_time: str | None = Field(description="the time ages are measured from: `at`, else the latest position")


class Identity(_Model):
    name: str | None
    callsign: str | None
    imo: int | None
    imo_valid: bool | None = Field(description="IMO check digit passes (null: no IMO)")
    ship_type: int | None
    ship_type_text: str | None
    type_group: str
    ais_class: str | None
    length_m: int | None
    beam_m: int | None
    draught_m: float | None
    to_bow_m: int | None
    to_stern_m: int | None
    to_port_m: int | None
    to_starboard_m: int | None
    destination: str | None
    eta: str | None
    mothership_mmsi: int | None
    statics_reports: int


class Flag(_Model):
    state: str | None
    name: str | None
    mid: int | None
    mmsi_kind: str | None = Field(description="ITU-R M.585 kind: ship, aton, coast_station, ..., invalid")
    mmsi_problem: str | None = Field(description="why the MMSI cannot be a ship station; null if it can")
    callsign_state: str | None = Field(description="ISO3 of the holder of the call sign's ITU series")
    callsign_matches_flag: bool | None


class Position(_Model):
    ts: str
    lat: float
    lon: float
    sog_kn: float | None
    cog_deg: float | None
    heading_deg: float | None
    nav_status: int | None
    nav_status_text: str | None
    ais_class: str | None
    moving: bool


class Place(_Model):
    ts: str
    zone_name: str | None
    zone_kind: str | None
    zone_state: str | None
    dist_to_shore_nm: float | None
    on_land: bool | None
    is_night: bool | None
    port_name: str | None
    port_dist_km: float | None


class RiskReason(_Model):
    event_type: str
    event_id: str
    severity: str
    points: float
    start_time: str | None
    end_time: str | None
    lat: float | None
    lon: float | None
    status: str | None


class Risk(_Model):
    score: float = Field(description="0-100")
    n_events: int
    reasons: list[RiskReason] = Field(description="each event's contribution (seawatch/detect/risk.py)")


class HistoryValue(_Model):
    value: Any
    first_seen: str | None
    last_seen: str | None
    reports: int


class VesselDetail(_Model):
    mmsi: int
    identity: Identity
    flag: Flag
    last_position: Position | None
    place: Place | None = Field(description="zone, shore distance, night, nearest port at the last track point")
    first_seen: str | None
    last_seen: str | None
    positions: int
    risk: Risk
    events_total: int
    identity_history: dict[str, list[HistoryValue]] = Field(
        description="shipname, callsign, imo, ship_type: each value declared, with when")


class TrackPoint(_Model):
    ts: str
    lat: float
    lon: float
    sog_kn: float | None
    cog_deg: float | None
    heading_deg: float | None
    nav_status: int | None
    seg_id: str | None = Field(description="segment (one transmitter's continuous track); null from positions")
    is_noise: bool | None = Field(description="an isolated glitch point; null from positions")


class TrackPage(_Page):
    items: list[TrackPoint]
    mmsi: int
    source: str = Field(description="'tracks' when the tracks table is up to date, else 'positions'")
    first_seen: str | None
    last_seen: str | None


class Event(_Model):
    event_id: str
    event_type: str
    mmsi: int | None
    other_mmsi: int | None
    start_time: str | None
    end_time: str | None = Field(description="null while open")
    lat: float | None
    lon: float | None
    zone_name: str | None
    zone_kind: str | None
    zone_state: str | None
    severity: str | None
    score: float | None
    status: str | None
    preset: str | None
    evidence: dict[str, Any] = Field(description="the measured values and the thresholds they crossed")
    shipname: str | None
    other_shipname: str | None


class EventPage(_Page):
    items: list[Event]


class ZoneProperties(_Model):
    zone_id: str
    name: str | None
    kind: str | None
    state: str | None
    claimants: str | None
    source: str | None


class ZoneFeature(_Model):
    type: str = "Feature"
    id: str
    properties: ZoneProperties
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, lon/lat")


class ZoneCollection(_Page):
    type: str = "FeatureCollection"
    attribution: str
    features: list[ZoneFeature]


class DetectionProperties(_Model):
    detection_id: str
    ts: str = Field(description="time of the observation, ISO-8601 UTC")
    source: str | None = Field(description="provider or input file")
    sensor: str | None = Field(description="radar, sar, optical, ... ('unknown' if not given)")
    pass_id: str | None = Field(description="the sweep or satellite pass")
    length_m: float | None
    heading_deg: float | None
    confidence: float | None = Field(description="0-1; null if the provider gives none")
    matched: bool | None = Field(description="an AIS vessel explains the detection; null when it is not "
                                             "correlated yet (ingested since the last `seawatch detect`)")
    dark: bool | None = Field(description="not matched: no AIS vessel there (null as for matched)")
    mmsi: int | None = Field(description="the matched vessel")
    shipname: str | None = Field(description="the matched vessel's latest declared name")
    match_dist_m: float | None = Field(description="distance to the matched vessel's AIS position at ts, metres")
    event_id: str | None = Field(description="the dark_target event of this detection (none for a weak one)")
    severity: str | None = Field(description="that event's severity")


class DetectionFeature(_Model):
    type: str = "Feature"
    id: str = Field(description="the detection id")
    properties: DetectionProperties
    geometry: dict[str, Any] = Field(description="GeoJSON Point, lon/lat")


class DetectionCollection(_Page):
    type: str = "FeatureCollection"
    correlated: bool = Field(description="every detection of the store has its AIS correlation")
    features: list[DetectionFeature]


class DarkTrackProperties(_Model):
    event_id: str = Field(description="the dark_track event (GET /api/events/{event_id})")
    start_time: str | None
    end_time: str | None
    lat: float | None = Field(description="the event's place (mean of its detections)")
    lon: float | None
    zone_name: str | None
    severity: str | None
    score: float | None
    status: str | None
    n_detections: int | None
    n_passes: int | None
    sensors: list[str] | None
    mean_speed_kn: float | None
    course_deg: float | None = Field(description="from the first detection to the last")
    detection_ids: list[str] = Field(description="the detections the line goes through, in time order")
    evidence: dict[str, Any]


class DarkTrackFeature(_Model):
    type: str = "Feature"
    id: str = Field(description="the event id")
    properties: DarkTrackProperties
    geometry: dict[str, Any] = Field(description="GeoJSON LineString through the detections (a Point if "
                                                 "fewer than two are in the store)")


class DarkTrackCollection(_Page):
    type: str = "FeatureCollection"
    features: list[DarkTrackFeature]


class DerivedInfo(_Model):
    generation: int | None
    rows: int | None
    created: str | None


class Version(_Model):
    id: str = Field(description="changes whenever a file is ingested or a derived table recomputed")
    files: int
    generations: dict[str, int | None]


class Stats(BaseModel):
    """:meth:`seawatch.store.Store.stats` (its keys may grow) plus events, derived, version."""

    model_config = ConfigDict(extra="allow")

    files: int
    lines_read: int
    lines_decoded: int
    lines_rejected: int
    duplicates: int
    skipped: int
    errors: int
    rejects_by_reason: dict[str, int]
    messages_by_type: dict[str, int]
    positions: int
    statics: int
    other: int
    rejects: int
    tracks: int
    segments: int
    vessels: int
    time_start: str | None
    time_end: str | None
    untimed: int
    events: int
    derived: dict[str, DerivedInfo | None]
    version: Version


class Health(_Model):
    ok: bool
    version: str = Field(description="seawatch version")


class Index(_Model):
    name: str
    version: str
    openapi: str
    endpoints: list[str]
