"""Synthetic AIS traffic with planted behaviours, written as real NMEA 0183 with ground truth.

``simulate(scenario, out, seed=, hours=)`` writes into ``out``:

- ``feed.nmea``: IEC 61162-1 tag-blocked ``!AIVDM`` sentences (``\\s:station,c:epoch*hh\\``) as
  shore receivers log them: types 1/3 (class A position), 18 (class B position), 5 (class A
  static and voyage data, two sentences with a sequential message id) and 24 A/B (class B static
  data), sorted by receive time;
- ``truth.jsonl``: one record per planted behaviour, ``{"event_type", "mmsi", "other_mmsi",
  "start_time", "end_time", "note"}``, times ISO-8601 UTC with ``Z``, event types exactly those
  of the detectors (:data:`seawatch.schema.EVENT_TYPES`);
- ``README.md``: what was planted, the receivers, and the honest traffic's statistics (speed
  distribution per ship type, reporting intervals per class and state, message counts);
- for scenarios with sensors (:class:`Radar`, :class:`SatellitePass`), ``detections.csv``: shore
  radar plots and satellite detections of the true positions of every vessel, AIS or not
  (schema DETECTIONS, :mod:`seawatch.detections`), and ``detections_truth.csv``: which vessel each
  detection shows, its AIS state (``on``, ``off``, ``none``) and whether a shore station heard it.
  Planted vessels seen while dark add ``dark_target`` / ``dark_track`` records (with ``vessel``,
  the simulated vessel of detections_truth.csv) to ``truth.jsonl``.

The scenarios (real Japanese geography, see :mod:`seawatch.scenarios`) are listed in
:data:`SCENARIOS`.

**The engine.** Every vessel is a plan: waypoints (time, position) joined by legs, each leg with
its navigational status (:class:`Route`). Its reports are sampled at its reporting interval
(:func:`report_interval`) and its position interpolated along the legs, all with numpy;
transmitter-off intervals remove reports. Reception is vectorised too: the distance of every
message to every shore station; a message is heard by the stations within range (class A
:data:`VHF_RANGE_NM`, class B a shorter :data:`CLASS_B_RANGE_FACTOR` of it: 2 W against 12.5 W),
less :data:`LOSS_SHARE` of receptions lost to slot collisions; the nearest station that heard it
stamps it, and a second station in range logs it again in :data:`DUPLICATE_SHARE` of cases, 0-2 s
later (a receiver duplicate). Vessels beyond every station's range are genuinely not heard.
All messages of one type are packed by one :func:`armour` call; checksums are computed over all
sentences at once. Same seed, same files.

**Reporting intervals** (ITU-R M.1371-5, Annex 1, Table 1 and 2), as simulated:

- class A under way: ITU prescribes 2-10 s (10 s at 0-14 kn, 6 s at 14-23 kn, 2 s above
  23 kn). seawatch **down-samples** to one report every :data:`CLASS_A_UNDERWAY_S` = 30 s at
  every speed, as a shore receiver logging every third to fifteenth report would, to keep the
  feeds small (the ``all`` scenario, 12 h of about 140 vessels, is ~200,000 sentences).
- class A at anchor or moored and slower than 3 kn: every 3 min (ITU, not down-sampled).
- class B "CS": every 30 s above 2 kn, every 3 min at 2 kn or less (ITU, not down-sampled).
- static and voyage data: type 5 (class A) every 6 min; type 24 part A and, within a minute,
  part B (class B) every 6 min (ITU).

:func:`generate_feed` keeps the older entry point (a small honest sea off Niigata, used by
``seawatch demo``) on the same engine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SeawatchError
from .tracks import bearing_deg, destination, haversine_nm

NM_PER_DEG_LAT = 60.0
M_PER_NM = 1852.0

#: Class A under way: one report every 30 s (ITU: 2-10 s; a documented down-sampling).
CLASS_A_UNDERWAY_S = 30.0
#: Class A at anchor or moored (status 1 or 5) and under 3 kn: 3 min (ITU).
CLASS_A_MOORED_S = 180.0
#: Class B CS above 2 kn: 30 s (ITU).
CLASS_B_S = 30.0
#: Class B CS at 2 kn or less: 3 min (ITU).
CLASS_B_SLOW_S = 180.0
#: Static and voyage data (type 5, type 24 A and B): every 6 min (ITU).
STATIC_S = 360.0
#: Class A range of a shore station over the sea, nautical miles (VHF, antenna ~50 m).
VHF_RANGE_NM = 40.0
#: Class B units transmit 2 W (class A 12.5 W): heard to this share of a station's range.
CLASS_B_RANGE_FACTOR = 0.65
#: Share of messages a second station in range logs again (0-2 s later): receiver duplicates.
DUPLICATE_SHARE = 0.10
#: Share of receptions lost (slot collisions, fading); the vessel is still heard overall.
LOSS_SHARE = 0.02
#: GPS noise of reported positions, metres (one sigma, each axis).
GPS_SIGMA_M = 4.0

#: Navigational status codes used by the plans (ITU-R M.1371 message 1).
UNDER_WAY, AT_ANCHOR, RESTRICTED, MOORED, FISHING = 0, 1, 3, 5, 7

# ------------------------------------------------------------------------------------------------
# six-bit encoding and NMEA sentences


def _text_codes(texts: list[str], nchars: int) -> np.ndarray:
    """Six-bit codes of text fields, padded with '@' (code 0)."""
    out = np.zeros((len(texts), nchars), np.int64)
    for i, t in enumerate(texts):  # one short string per identity, not per message
        b = np.frombuffer(t.upper()[:nchars].encode("ascii", "replace"), np.uint8).astype(np.int64)
        out[i, : len(b)] = np.where(b >= 64, b - 64, b)
    return out


def armour(fields: list[tuple[np.ndarray, int]]) -> tuple[list[str], int]:
    """Pack (values, width) fields into armoured payloads; returns (payloads, fill_bits).

    Values are integer arrays of one length (two's complement is applied for negatives); a
    2-D array of six-bit codes packs as consecutive 6-bit fields (text).
    """
    cols = []
    for v, w in fields:
        v = np.asarray(v, np.int64)
        if v.ndim == 2:
            cols.extend((v[:, i], 6) for i in range(v.shape[1]))
        else:
            cols.append((v, w))
    n = len(cols[0][0])
    nbits = sum(w for _, w in cols)
    bits = np.zeros((n, nbits + (-nbits) % 6), np.uint8)
    pos = 0
    for v, w in cols:
        u = v & ((1 << w) - 1)
        bits[:, pos : pos + w] = (u[:, None] >> np.arange(w - 1, -1, -1)[None, :]) & 1
        pos += w
    six = bits.reshape(n, -1, 6) @ (1 << np.arange(5, -1, -1))
    chars = six + 48
    chars = np.where(chars > 87, chars + 8, chars).astype(np.uint8)
    width = chars.shape[1]
    payloads = chars.view(f"S{width}").ravel().astype(str).tolist()
    return payloads, (-nbits) % 6


def checksum(body: str) -> str:
    """NMEA checksum (two upper-case hex digits) of the text between '!'/'$'/'\\' and '*'."""
    c = 0
    for ch in body.encode("ascii"):
        c ^= ch
    return f"{c:02X}"


_HEX = np.array([f"{i:02X}" for i in range(256)])


def _checksums(bodies: list[str]) -> list[str]:
    """:func:`checksum` of many bodies at once (one XOR reduction over their bytes)."""
    if not bodies:
        return []
    lens = np.fromiter(map(len, bodies), np.int64, len(bodies))
    if (lens == 0).any():
        raise ValueError("empty NMEA body")
    buf = np.frombuffer("".join(bodies).encode("ascii"), np.uint8)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    return _HEX[np.bitwise_xor.reduceat(buf, starts)].tolist()


def sentences(payload: str, fill: int, channel: str, seq: int, talker: str = "AIVDM") -> list[str]:
    """Split a payload into NMEA sentences of at most 60 characters."""
    parts = [payload[i : i + 60] for i in range(0, len(payload), 60)] or [""]
    n = len(parts)
    out = []
    for k, part in enumerate(parts, 1):
        body = f"{talker},{n},{k},{seq if n > 1 else ''},{channel},{part},{fill if k == n else 0}"
        out.append(f"!{body}*{checksum(body)}")
    return out


def tag_block(station: str, epoch_s: int) -> str:
    body = f"s:{station},c:{epoch_s}"
    return f"\\{body}*{checksum(body)}\\"


def _records(payloads: list[str], fill: int, channels: list[str], seqs: np.ndarray,
             stations: list[str], epochs: np.ndarray) -> list[str]:
    """Tag-blocked NMEA text of many receptions of messages of one type (vectorised checksums).

    A payload longer than 60 characters becomes two sentences (one record, two lines), both
    with the same tag block and sequential message id."""
    n = len(payloads)
    if n == 0:
        return []
    tags = [f"s:{s},c:{int(e)}" for s, e in zip(stations, epochs)]
    tcs = _checksums(tags)
    heads = [f"\\{t}*{c}\\" for t, c in zip(tags, tcs)]
    if len(payloads[0]) <= 60:
        bodies = [f"AIVDM,1,1,,{c},{p},{fill}" for c, p in zip(channels, payloads)]
        cs = _checksums(bodies)
        return [f"{h}!{b}*{c}" for h, b, c in zip(heads, bodies, cs)]
    b1 = [f"AIVDM,2,1,{q},{c},{p[:60]},0" for q, c, p in zip(seqs, channels, payloads)]
    b2 = [f"AIVDM,2,2,{q},{c},{p[60:]},{fill}" for q, c, p in zip(seqs, channels, payloads)]
    c1, c2 = _checksums(b1), _checksums(b2)
    return [f"{h}!{x}*{cx}\n{h}!{y}*{cy}" for h, x, cx, y, cy in zip(heads, b1, c1, b2, c2)]


# ------------------------------------------------------------------------------------------------
# plans


@dataclass(frozen=True)
class Station:
    """A shore receiver: name (the tag block's ``s:``), position, class A range in nm."""

    name: str
    lat: float
    lon: float
    range_nm: float = VHF_RANGE_NM


@dataclass(frozen=True)
class Identity:
    """What a transmitter says it is (types 5 and 24)."""

    mmsi: int
    name: str
    callsign: str = ""
    ship_type: int = 0
    imo: int = 0
    length_m: int = 20
    beam_m: int = 6
    draught_m: float = 2.0
    destination: str = ""


class Route:
    """A vessel's plan: waypoints (seconds from the scenario start, lat, lon) and the nav status
    of each leg between them. Builder methods return the route, so legs chain::

        Route(37.96, 139.08).wait(600).to(37.99, 139.03, 8).to(38.08, 138.46, 17)
    """

    def __init__(self, lat: float, lon: float, t: float = 0.0):
        self.t = [float(t)]
        self.lat = [float(lat)]
        self.lon = [float(lon)]
        self.status: list[int] = []

    @property
    def now(self) -> float:
        return self.t[-1]

    @property
    def here(self) -> tuple[float, float]:
        return self.lat[-1], self.lon[-1]

    def _add(self, t: float, lat: float, lon: float, status: int) -> Route:
        if t <= self.t[-1] + 1e-6:
            return self  # a zero-length leg adds nothing
        self.t.append(float(t))
        self.lat.append(float(lat))
        self.lon.append(float(lon))
        self.status.append(int(status))
        return self

    def to(self, lat: float, lon: float, kn: float, status: int = UNDER_WAY) -> Route:
        """Go to (lat, lon) at ``kn`` knots."""
        d = float(haversine_nm(self.lat[-1], self.lon[-1], lat, lon))
        return self._add(self.t[-1] + d / kn * 3600.0, lat, lon, status)

    def via(self, points: list[tuple[float, float]], kn: float, status: int = UNDER_WAY) -> Route:
        for la, lo in points:
            self.to(la, lo, kn, status)
        return self

    def to_by(self, lat: float, lon: float, t: float, status: int = UNDER_WAY) -> Route:
        """Go to (lat, lon), arriving at time ``t`` (the speed follows)."""
        return self._add(t, lat, lon, status)

    def steer(self, bearing: float, kn: float, seconds: float, status: int = UNDER_WAY) -> Route:
        """Hold ``bearing`` at ``kn`` for ``seconds`` (also a drift: status FISHING, 0.5 kn)."""
        la, lo = destination(self.lat[-1], self.lon[-1], bearing, kn * seconds / 3600.0)
        return self._add(self.t[-1] + seconds, float(la), float(lo), status)

    def wait(self, seconds: float, status: int = MOORED) -> Route:
        """Stay here for ``seconds`` (moored, at anchor, or stopped)."""
        return self._add(self.t[-1] + seconds, self.lat[-1], self.lon[-1], status)

    def until(self, t: float, status: int = MOORED) -> Route:
        """Stay here until time ``t`` (nothing if that is past)."""
        return self._add(t, self.lat[-1], self.lon[-1], status)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        st = self.status or [MOORED]
        return np.array(self.t), np.array(self.lat), np.array(self.lon), np.array(st, np.int64)


@dataclass(eq=False)
class Vessel:
    """A transmitter with its plan. Two Vessels may share one Identity (a cloned MMSI).

    ``off``: intervals (s from start) with the transmitter switched off. ``renames``:
    ``(t, Identity)``: from ``t`` its static messages say this (same MMSI). ``kind`` names the
    honest category in the README's statistics; ``honest=False`` marks planted vessels.
    ``ais=False``: the vessel carries no AIS at all (it is seen only by radar and satellites);
    ``rcs``: its radar cross-section relative to a steel hull of its length (a wooden boat
    ~0.7), which scales the sensors' probability of detection.
    """

    ident: Identity
    route: Route
    klass: str = "A"
    kind: str = "other"
    honest: bool = True
    off: list[tuple[float, float]] = field(default_factory=list)
    renames: list[tuple[float, Identity]] = field(default_factory=list)
    msg_type: int = 1
    label: str = ""
    in_port: list[tuple[float, float]] = field(default_factory=list)  # (t0, t1) spans at a berth
    ais: bool = True
    rcs: float = 1.0


@dataclass(eq=False)
class Plant:
    """A planted behaviour and how its truth times are read off the simulation.

    ``how``: ``plan`` (start_s/end_s as planned), ``gap`` (from the last report heard before
    ``start_s`` to the first heard after ``end_s``; ``end_s=None``: an open gap), ``overlap``
    (while both transmitters ``vessel`` and ``other`` are heard: one MMSI in two places),
    ``rename`` (the last static heard with the old identity before ``start_s`` to the first with
    the new one) or ``statics`` (first to last static heard of ``vessel``).
    """

    event_type: str
    vessel: Vessel
    other: Vessel | None = None
    start_s: float | None = None
    end_s: float | None = None
    note: str = ""
    how: str = "plan"
    pair: bool = False  # a two-vessel event: other_mmsi is the other vessel's MMSI


@dataclass(frozen=True)
class Radar:
    """A shore surveillance radar and its logged plots (see :func:`_detections`).

    ``name`` is the detections' ``source`` (``<name>-radar``); ``antenna_m`` the antenna height
    above the sea, which with the target's height sets the radio horizon; ``sector`` the seaward
    azimuths it reports, clockwise ``(from, to)`` in degrees (land and harbour are blanked; equal
    values: all round); ``max_range_nm`` its instrumented range; ``sweep_s`` how often a sweep is
    logged and ``phase_s`` the first one; ``range_sigma_m`` / ``azimuth_sigma_deg`` the plot
    noise (one sigma); ``clutter_per_sweep`` the mean number of sea-clutter plots per sweep, at
    ``clutter_nm`` (from, to) from the antenna."""

    name: str
    lat: float
    lon: float
    antenna_m: float = 60.0
    sector: tuple[float, float] = (0.0, 0.0)
    max_range_nm: float = 32.0
    sweep_s: float = 180.0
    phase_s: float = 0.0
    range_sigma_m: float = 25.0
    azimuth_sigma_deg: float = 0.25
    clutter_per_sweep: float = 0.3
    clutter_nm: tuple[float, float] = (0.8, 4.0)


@dataclass(frozen=True)
class SatellitePass:
    """One satellite snapshot (SAR or optical) over a swath (see :func:`_detections`).

    ``name`` is the detections' ``source`` (e.g. ``sentinel-1a``), ``sensor`` ``sar`` or
    ``optical``; the scene is acquired from ``t_s`` (seconds from the run's start) for
    ``scene_s`` along the ground track ``track`` (two (lat, lon) points, the swath's centre
    line, in flight direction), ``half_width_nm`` either side. Only the sea within ``aoi_nm`` of a
    shore AIS station is ordered (the area of interest). ``sigma_m``: position error per axis
    (one sigma); ``length_sigma``: relative error of the length estimate (log-normal)."""

    name: str
    sensor: str
    t_s: float
    track: tuple[tuple[float, float], tuple[float, float]]
    half_width_nm: float
    scene_s: float = 35.0
    sigma_m: float = 200.0
    length_sigma: float = 0.12
    aoi_nm: float = 24.0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    start: datetime
    hours: float
    stations: tuple[Station, ...]
    build: Callable[[np.random.Generator, float], tuple[list[Vessel], list[Plant]]]
    story: str = ""
    region: str = ""
    radars: tuple[Radar, ...] = ()
    passes: tuple[SatellitePass, ...] = ()


def report_interval(klass: str | np.ndarray, sog_kn: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Seconds between position reports as simulated (see the module docstring)."""
    sog = np.asarray(sog_kn, float)
    status = np.asarray(status)
    is_b = np.asarray(klass) == "B"
    moored = np.isin(status, (AT_ANCHOR, MOORED)) & (sog < 3.0)
    a = np.where(moored, CLASS_A_MOORED_S, CLASS_A_UNDERWAY_S)
    b = np.where(sog <= 2.0, CLASS_B_SLOW_S, CLASS_B_S)
    return np.where(is_b, b, a)


# ------------------------------------------------------------------------------------------------
# transmission: plans -> messages


def _legs(route: Route) -> dict[str, np.ndarray]:
    t, lat, lon, st = route.arrays()
    if len(t) < 2:  # a vessel that never moves: one leg to the end of time
        t = np.array([t[0], t[0] + 1e9])
        lat = np.repeat(lat[:1], 2)
        lon = np.repeat(lon[:1], 2)
    dt = np.diff(t)
    d = haversine_nm(lat[:-1], lon[:-1], lat[1:], lon[1:])
    speed = np.where(dt > 0, d / np.maximum(dt, 1e-9) * 3600.0, 0.0)
    brg = np.where(d > 1e-4, bearing_deg(lat[:-1], lon[:-1], lat[1:], lon[1:]), np.nan)
    return {"t": t, "lat": lat, "lon": lon, "status": st[: len(dt)], "speed": speed, "bearing": brg}


def _on_mask(ts: np.ndarray, off: list[tuple[float, float]]) -> np.ndarray:
    ok = np.ones(len(ts), bool)
    for a, b in off:
        ok &= ~((ts >= a) & (ts < b))
    return ok


def _sample_times(legs: dict[str, np.ndarray], klass: str, t_end: float, rng: np.random.Generator) -> np.ndarray:
    """Report times along the legs at each leg's reporting interval (one phase carried over)."""
    t = legs["t"]
    iv = report_interval(klass, legs["speed"], legs["status"])
    out = []
    nxt = t[0] + float(rng.uniform(0, iv[0]))
    for i in range(len(iv)):  # a few dozen legs per vessel, never a loop per report
        a, b = t[i], min(t[i + 1], t_end)
        if b <= a:
            continue
        start = min(max(nxt, a), a + iv[i])
        ts = np.arange(start, b, iv[i])
        if len(ts):
            out.append(ts)
            nxt = ts[-1] + iv[i]
    if not out:
        return np.zeros(0)
    return np.concatenate(out)


def _transmit(vessels: list[Vessel], duration: float, seed: int) -> dict[str, np.ndarray]:
    """All messages the vessels send within [0, duration): positions and statics, as arrays."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "vi", "kind", "t", "lat", "lon", "sog", "cog", "hdg", "status", "ident")}
    idents: list[Identity] = []
    ident_ix: dict[Identity, int] = {}

    def ix(idt: Identity) -> int:
        if idt not in ident_ix:
            ident_ix[idt] = len(idents)
            idents.append(idt)
        return ident_ix[idt]

    for vi, v in enumerate(vessels):
        if not v.ais:
            continue  # no transponder: only radar and satellites see it
        rng = np.random.default_rng([seed, 1, vi])
        legs = _legs(v.route)
        t_end = min(duration, legs["t"][-1])
        t0 = max(0.0, legs["t"][0])
        # positions
        nominal = _sample_times(legs, v.klass, t_end, rng)
        ts = nominal + rng.uniform(0.0, 0.9, len(nominal))  # SOTDMA slot jitter within the second
        keep = (ts >= t0) & (ts < t_end) & _on_mask(ts, v.off)
        ts, nominal = ts[keep], nominal[keep]
        n = len(ts)
        leg = np.clip(np.searchsorted(legs["t"], nominal, side="right") - 1, 0, len(legs["speed"]) - 1)
        lat = np.interp(ts, legs["t"], legs["lat"])
        lon = np.interp(ts, legs["t"], legs["lon"])
        speed = legs["speed"][leg]
        brg = legs["bearing"][leg]
        moving = speed >= 0.05
        drifting = moving & (speed < 2.0)
        head0 = float(rng.uniform(0, 360))
        sog = np.where(moving, speed + rng.normal(0, 0.12, n) * np.where(drifting, 0.5, 1.0), rng.uniform(0, 0.1, n))
        sog = np.clip(sog, 0.0, 102.2)
        cog_noise = np.where(drifting, rng.normal(0, 8.0, n), rng.normal(0, 1.2, n))
        cog = np.where(moving, np.nan_to_num(brg, nan=head0) + cog_noise, rng.uniform(0, 360, n)) % 360.0
        hdg = np.where(moving & ~drifting, cog + rng.normal(0, 2.0, n), head0 + rng.normal(0, 4.0, n)) % 360.0
        sigma = GPS_SIGMA_M / M_PER_NM / NM_PER_DEG_LAT
        lat = lat + rng.normal(0, sigma, n)
        lon = lon + rng.normal(0, sigma, n) / np.cos(np.radians(lat))
        cols["vi"].append(np.full(n, vi))
        cols["kind"].append(np.full(n, 1 if v.klass == "A" else 18))
        for k, a in (("t", ts), ("lat", lat), ("lon", lon), ("sog", sog), ("cog", cog), ("hdg", hdg),
                     ("status", legs["status"][leg])):
            cols[k].append(a)
        cols["ident"].append(np.full(n, ix(v.ident)))
        # statics: type 5 (A) or 24 A + B (B), every 6 min
        st = np.arange(t0 + float(rng.uniform(0, STATIC_S)), t_end, STATIC_S)
        st = st[_on_mask(st, v.off)]
        idt = np.full(len(st), ix(v.ident))
        for t_from, new in sorted(v.renames, key=lambda x: x[0]):
            idt[st >= t_from] = ix(new)
        if v.klass == "A":
            parts = [(st, 5)]
        else:
            lag = rng.uniform(5.0, 50.0, len(st))
            parts = [(st, 24), (st + lag, 25)]
        for tt, kind in parts:
            keep = tt < t_end
            tt = tt[keep]
            m = len(tt)
            cols["vi"].append(np.full(m, vi))
            cols["kind"].append(np.full(m, kind))
            cols["t"].append(tt)
            cols["lat"].append(np.interp(tt, legs["t"], legs["lat"]))
            cols["lon"].append(np.interp(tt, legs["t"], legs["lon"]))
            for k in ("sog", "cog", "hdg"):
                cols[k].append(np.zeros(m))
            cols["status"].append(np.zeros(m, np.int64))
            cols["ident"].append(idt[keep])
    out = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in cols.items()}
    for k in ("vi", "kind", "status", "ident"):
        out[k] = out[k].astype(np.int64)
    out["idents"] = idents  # type: ignore[assignment]
    out["msg_type"] = np.array([v.msg_type for v in vessels], np.int64)  # 1 or 3, per vessel
    return out


# ------------------------------------------------------------------------------------------------
# reception


def _receive(msgs: dict[str, Any], vessels: list[Vessel], stations: tuple[Station, ...], seed: int) -> dict[str, np.ndarray]:
    """Which station logs which message when: arrays ``msg`` (index), ``station``, ``t`` (s)."""
    rng = np.random.default_rng([seed, 2])
    n = len(msgs["t"])
    if n == 0:
        return {"msg": np.zeros(0, np.int64), "station": np.zeros(0, np.int64), "t": np.zeros(0)}
    s_lat = np.array([s.lat for s in stations])
    s_lon = np.array([s.lon for s in stations])
    s_rng = np.array([s.range_nm for s in stations])
    is_b = np.array([v.klass == "B" for v in vessels])[msgs["vi"]]
    d = haversine_nm(msgs["lat"][:, None], msgs["lon"][:, None], s_lat[None, :], s_lon[None, :])
    reach = s_rng[None, :] * np.where(is_b, CLASS_B_RANGE_FACTOR, 1.0)[:, None]
    heard = (d <= reach) & (rng.random(d.shape) >= LOSS_SHARE)
    dd = np.where(heard, d, np.inf)
    order = np.argsort(dd, axis=1, kind="stable")
    ar = np.arange(n)
    first = order[:, 0]
    has1 = np.isfinite(dd[ar, first])
    if len(stations) > 1:
        second = order[:, 1]
        has2 = np.isfinite(dd[ar, second]) & (rng.random(n) < DUPLICATE_SHARE)
    else:
        second = first
        has2 = np.zeros(n, bool)
    delay = rng.integers(0, 3, n).astype(float)
    m1 = ar[has1]
    m2 = ar[has2]
    msg = np.concatenate([m1, m2])
    sta = np.concatenate([first[has1], second[has2]])
    t = np.concatenate([msgs["t"][m1], msgs["t"][m2] + delay[m2]])
    return {"msg": msg, "station": sta, "t": t}


# ------------------------------------------------------------------------------------------------
# encoding


def _eta_fields(start: datetime, n: int, rng: np.random.Generator, ship_type: np.ndarray) -> list[np.ndarray]:
    eta = [start + timedelta(hours=float(h)) for h in rng.uniform(6, 30, n)]
    month = np.array([e.month for e in eta])
    day = np.array([e.day for e in eta])
    hour = np.array([e.hour for e in eta])
    minute = np.array([e.minute for e in eta])
    na = (ship_type // 10 == 3)  # fishing, towing, pleasure...: ETA not available
    return [np.where(na, 0, month), np.where(na, 0, day), np.where(na, 24, hour), np.where(na, 60, minute)]


def _encode(msgs: dict[str, Any], rx: dict[str, np.ndarray], stations: tuple[Station, ...],
            start: datetime, seed: int) -> tuple[list[str], np.ndarray]:
    """NMEA records of every reception, sorted by receive time; returns (records, times)."""
    rng = np.random.default_rng([seed, 3])
    epoch0 = int(start.timestamp())
    idents: list[Identity] = msgs["idents"]
    mmsi_of = np.array([i.mmsi for i in idents], np.int64)
    kinds = msgs["kind"]
    n = len(kinds)
    channel = np.where(rng.random(n) < 0.5, "A", "B")
    msg_type_of_vessel = msgs["msg_type"]
    records: list[str] = []
    rec_t: list[np.ndarray] = []
    station_names = [s.name for s in stations]
    # per message type: one armour call, then every reception of those messages
    for kind in (1, 18, 5, 24, 25):
        sel = np.flatnonzero(kinds == kind)
        if len(sel) == 0:
            continue
        m = len(sel)
        mm = mmsi_of[msgs["ident"][sel]]
        z = np.zeros(m, np.int64)
        one = np.ones(m, np.int64)
        sec = np.floor(msgs["t"][sel]).astype(np.int64) % 60
        lon_i = np.round(msgs["lon"][sel] * 600000).astype(np.int64)
        lat_i = np.round(msgs["lat"][sel] * 600000).astype(np.int64)
        sog = np.round(msgs["sog"][sel] * 10).astype(np.int64)
        cog = np.round(msgs["cog"][sel] * 10).astype(np.int64) % 3600
        hdg = np.round(msgs["hdg"][sel]).astype(np.int64) % 360
        if kind == 1:
            mtype = msg_type_of_vessel[msgs["vi"][sel]]
            payloads, fill = armour([
                (mtype, 6), (z, 2), (mm, 30), (msgs["status"][sel], 4), (np.full(m, -128), 8), (sog, 10),
                (one, 1), (lon_i, 28), (lat_i, 27), (cog, 12), (hdg, 9), (sec, 6), (z, 2), (z, 3), (z, 1), (z, 19),
            ])
        elif kind == 18:
            payloads, fill = armour([
                (np.full(m, 18), 6), (z, 2), (mm, 30), (z, 8), (sog, 10), (z, 1), (lon_i, 28), (lat_i, 27),
                (cog, 12), (hdg, 9), (sec, 6), (z, 2), (one, 1), (z, 5), (z, 1), (z, 20),
            ])
        else:
            idx = msgs["ident"][sel]
            uniq, inv = np.unique(idx, return_inverse=True)
            ids = [idents[i] for i in uniq]
            stype = np.array([i.ship_type for i in ids], np.int64)[inv]
            length = np.array([i.length_m for i in ids], np.int64)[inv]
            beam = np.array([i.beam_m for i in ids], np.int64)[inv]
            stern = np.maximum(1, length // 5)
            bow = np.clip(length - stern, 1, 511)
            port = np.clip(beam // 2, 1, 63)
            stbd = np.clip(beam - beam // 2, 1, 63)
            call = _text_codes([i.callsign for i in ids], 7)[inv]
            name = _text_codes([i.name for i in ids], 20)[inv]
            if kind == 5:
                imo = np.array([i.imo for i in ids], np.int64)[inv]
                draught = np.array([round(i.draught_m * 10) for i in ids], np.int64)[inv]
                dest = _text_codes([i.destination for i in ids], 20)[inv]
                mo, dy, hr, mi = _eta_fields(start, m, rng, stype)
                payloads, fill = armour([
                    (np.full(m, 5), 6), (z, 2), (mm, 30), (z, 2), (imo, 30), (call, 42), (name, 120),
                    (stype, 8), (bow, 9), (stern, 9), (port, 6), (stbd, 6), (one, 4), (mo, 4), (dy, 5),
                    (hr, 5), (mi, 6), (np.clip(draught, 0, 255), 8), (dest, 120), (z, 1), (z, 1),
                ])
            elif kind == 24:
                payloads, fill = armour([(np.full(m, 24), 6), (z, 2), (mm, 30), (z, 2), (name, 120)])
            else:
                payloads, fill = armour([
                    (np.full(m, 24), 6), (z, 2), (mm, 30), (one, 2), (stype, 8), (z, 42), (call, 42),
                    (bow, 9), (stern, 9), (port, 6), (stbd, 6), (z, 6),
                ])
        # receptions of these messages
        pos_in_sel = np.full(n, -1, np.int64)
        pos_in_sel[sel] = np.arange(m)
        r = np.flatnonzero(pos_in_sel[rx["msg"]] >= 0)
        k = pos_in_sel[rx["msg"][r]]
        seq = (k % 10) if kind == 5 else np.zeros(len(k), np.int64)
        epochs = epoch0 + np.floor(rx["t"][r]).astype(np.int64)
        records.extend(_records(
            [payloads[i] for i in k], fill, channel[sel][k].tolist(), seq,
            [station_names[s] for s in rx["station"][r]], epochs,
        ))
        rec_t.append(rx["t"][r])
    t = np.concatenate(rec_t) if rec_t else np.zeros(0)
    order = np.argsort(np.floor(t), kind="stable")
    return [records[i] for i in order], t[order]


# ------------------------------------------------------------------------------------------------
# radar plots and satellite detections

#: The radio horizon: d [nm] = 2.23 x (sqrt(antenna height m) + sqrt(target height m)) (standard
#: refraction, 4/3 earth radius).
HORIZON_NM_PER_SQRT_M = 2.23
#: The radar antenna turns once in 2.4 s: a plot's time is its sweep's start plus azimuth/360 of that.
RADAR_ROTATION_S = 2.4
#: No radar plot closer than this to the antenna (the main-bang blanking), nautical miles.
RADAR_MIN_RANGE_NM = 0.3
#: Harbours are masked by the radars (land and harbour blanking) and by satellite ship detection
#: (a land mask with a buffer): nothing is detected within 1 nm of a berth.
HARBOUR_MASK_NM = 1.0
#: A detection's truth calls the vessel's AIS *heard* when one of its position reports was received
#: (by any shore station) within 10 min of the detection.
HEARD_WINDOW_S = 600.0


def target_height_m(length_m: Any) -> np.ndarray:
    """Height of a vessel's highest reflecting structure above the sea: 15% of its length, 1.5-35 m."""
    return np.clip(0.15 * np.asarray(length_m, float), 1.5, 35.0)


def radar_range_nm(radar: Radar, length_m: Any) -> np.ndarray:
    """How far ``radar`` sees a vessel of ``length_m``: the radio horizon of antenna and target,
    at most the instrumented range (from a 60 m antenna: a 14 m boat 20.5 nm, a 150 m ship 27.9 nm)."""
    h = HORIZON_NM_PER_SQRT_M * (math.sqrt(radar.antenna_m) + np.sqrt(target_height_m(length_m)))
    return np.minimum(h, radar.max_range_nm)


def radar_pd(length_m: Any, rcs: Any, range_frac: Any) -> np.ndarray:
    """Probability that a logged sweep shows a plot of a vessel: 0.57 for a 7 m boat rising to 0.95
    from 50 m, times its relative radar cross-section, and halved at the horizon (range_frac 1)."""
    pd = 0.55 + 0.40 * np.clip((np.asarray(length_m, float) - 5.0) / 45.0, 0.0, 1.0)
    return np.clip(pd * np.asarray(rcs, float) * (1.0 - 0.5 * np.asarray(range_frac, float) ** 4), 0.0, 0.98)


def satellite_pd(length_m: Any, rcs: Any) -> np.ndarray:
    """Probability that a satellite scene shows a vessel (SAR at 5-20 m resolution): 5% at 7 m
    and less, 50% at 16 m, 97% from 25 m; times its relative radar cross-section."""
    return np.clip((np.asarray(length_m, float) - 6.0) / 20.0, 0.05, 0.97) * np.asarray(rcs, float)


def _in_sector(az: np.ndarray, sector: tuple[float, float]) -> np.ndarray:
    a, b = sector
    width = (b - a) % 360.0
    if width == 0:
        return np.ones(np.shape(az), bool)
    return ((np.asarray(az) - a) % 360.0) <= width


def _positions(vessels: list[Vessel], t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True (planned) position of every vessel at times ``t``, as AIS reports them before GPS noise:
    ``lat, lon, exists, course`` of shape (vessels, times); course is NaN below 0.5 kn."""
    nv, nt = len(vessels), len(t)
    lat, lon = np.zeros((nv, nt)), np.zeros((nv, nt))
    exists = np.zeros((nv, nt), bool)
    course = np.full((nv, nt), np.nan)
    for i, v in enumerate(vessels):  # one interpolation per vessel, over all the times
        legs = _legs(v.route)
        lat[i] = np.interp(t, legs["t"], legs["lat"])
        lon[i] = np.interp(t, legs["t"], legs["lon"])
        exists[i] = (t >= legs["t"][0]) & (t <= legs["t"][-1])
        k = np.clip(np.searchsorted(legs["t"], t, side="right") - 1, 0, len(legs["speed"]) - 1)
        course[i] = np.where(legs["speed"][k] >= 0.5, legs["bearing"][k], np.nan)
    return lat, lon, exists, course


def _positions_of(vessels: list[Vessel], vi: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True position and course of vessel ``vi[k]`` at time ``t[k]`` (one pass per vessel)."""
    lat, lon, course = np.zeros(len(t)), np.zeros(len(t)), np.full(len(t), np.nan)
    for i in np.unique(vi):
        m = vi == i
        la, lo, _, c = _positions([vessels[int(i)]], t[m])
        lat[m], lon[m], course[m] = la[0], lo[0], c[0]
    return lat, lon, course


def _detections(sc: Scenario, vessels: list[Vessel], duration: float, seed: int,
                heard_pos: list[np.ndarray], epoch0: int) -> tuple[Any, Any, dict] | None:
    """Radar plots and satellite detections of the true vessel positions (AIS or not), and their
    truth; ``None`` when the scenario has no sensors. Returns (DETECTIONS frame, truth frame, counts).

    Radar: every logged sweep, each vessel that exists, lies within the sector, beyond
    :data:`RADAR_MIN_RANGE_NM`, within :func:`radar_range_nm` for its length and outside the
    harbour mask gives a plot with probability :func:`radar_pd` (else a missed detection); the
    plot's range and azimuth carry Gaussian noise; no length or heading. Sea clutter: a Poisson
    number of plots per sweep near the antenna, weak (confidence 0.10-0.45). Satellite pass: every
    vessel inside the swath (and the area of interest, and outside harbours) at its acquisition
    time is detected with probability :func:`satellite_pd`, with a position error, a length
    estimate (log-normal error, within 0.7-1.4 of the true length) and a heading (course, 8 deg
    noise, 15% reversed by 180 deg; random when stopped). All numpy, one pass per sensor."""
    if not sc.radars and not sc.passes:
        return None
    import polars as pl

    from .detections import conform
    from .scenarios import PORTS

    rng = np.random.default_rng([seed, 4])
    nv = len(vessels)
    length = np.array([v.ident.length_m for v in vessels], float)
    rcs = np.array([v.rcs for v in vessels], float)
    berths = np.array([p.berth for p in PORTS.values()])
    s_lat = np.array([s.lat for s in sc.stations])
    s_lon = np.array([s.lon for s in sc.stations])

    def harbour(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        d = haversine_nm(la[..., None], lo[..., None], berths[:, 0], berths[:, 1])
        return d.min(-1) < HARBOUR_MASK_NM

    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "source", "sensor", "t", "pass_t", "vi", "lat", "lon", "true_lat", "true_lon", "length_m", "heading_deg",
        "confidence")}
    counts: dict[str, dict[str, int]] = {}

    def add(n: int, **kw: Any) -> None:
        for k, v in kw.items():
            cols[k].append(np.full(n, v) if np.ndim(v) == 0 else np.asarray(v))

    for r in sc.radars:
        sweeps = np.arange(r.phase_s, duration, r.sweep_s)
        la, lo, ex, _ = _positions(vessels, sweeps)
        d = haversine_nm(r.lat, r.lon, la, lo)
        az = bearing_deg(r.lat, r.lon, la, lo)
        rmax = radar_range_nm(r, length)[:, None]
        seen = ex & (d >= RADAR_MIN_RANGE_NM) & (d <= rmax) & _in_sector(az, r.sector) & ~harbour(la, lo)
        pd = radar_pd(length[:, None], rcs[:, None], d / rmax)
        hit = seen & (rng.random(d.shape) < pd)
        vi, k = np.nonzero(hit)
        n = len(vi)
        t = sweeps[k] + az[vi, k] / 360.0 * RADAR_ROTATION_S
        tla, tlo, _ = _positions_of(vessels, vi, t)
        rng_nm = haversine_nm(r.lat, r.lon, tla, tlo) + rng.normal(0.0, r.range_sigma_m, n) / M_PER_NM
        azn = bearing_deg(r.lat, r.lon, tla, tlo) + rng.normal(0.0, r.azimuth_sigma_deg, n)
        ola, olo = destination(r.lat, r.lon, azn, np.maximum(rng_nm, 0.0))
        conf = np.clip(0.45 + 0.5 * pd[vi, k] + rng.normal(0.0, 0.03, n), 0.5, 0.99)
        source = f"{r.name}-radar"
        add(n, source=source, sensor="radar", t=t, pass_t=sweeps[k], vi=vi, lat=ola, lon=olo, true_lat=tla,
            true_lon=tlo, length_m=np.nan, heading_deg=np.nan, confidence=conf)
        # sea clutter: weak plots near the antenna, in the middle of its sector
        nc = rng.poisson(r.clutter_per_sweep, len(sweeps))
        ck = np.repeat(np.arange(len(sweeps)), nc)
        m = len(ck)
        a0, width = r.sector[0], (r.sector[1] - r.sector[0]) % 360.0 or 360.0
        caz = (a0 + 20.0 + rng.uniform(0.0, max(width - 40.0, 0.0), m)) % 360.0
        cla, clo = destination(r.lat, r.lon, caz, rng.uniform(r.clutter_nm[0], r.clutter_nm[1], m))
        keep = ~harbour(cla, clo)  # harbour blanking covers clutter too
        ck, caz, cla, clo = ck[keep], caz[keep], cla[keep], clo[keep]
        cconf = rng.uniform(0.10, 0.45, m)[keep]
        m = len(ck)
        add(m, source=source, sensor="radar", t=sweeps[ck] + caz / 360.0 * RADAR_ROTATION_S, pass_t=sweeps[ck],
            vi=np.full(m, -1), lat=cla, lon=clo, true_lat=cla, true_lon=clo, length_m=np.nan, heading_deg=np.nan,
            confidence=cconf)
        counts[source] = {"sweeps": len(sweeps), "plots": n, "missed": int((seen & ~hit).sum()), "clutter": m}

    for sp in sc.passes:
        if not 0.0 <= sp.t_s < duration:
            continue
        (a_lat, a_lon), (b_lat, b_lon) = sp.track
        track_nm = float(haversine_nm(a_lat, a_lon, b_lat, b_lon))
        tb = float(bearing_deg(a_lat, a_lon, b_lat, b_lon))
        la, lo, ex, _ = _positions(vessels, np.array([sp.t_s + sp.scene_s / 2.0]))
        la, lo, ex = la[:, 0], lo[:, 0], ex[:, 0]
        dist = haversine_nm(a_lat, a_lon, la, lo)
        off = np.radians(bearing_deg(a_lat, a_lon, la, lo) - tb)
        along, cross = dist * np.cos(off), dist * np.sin(off)
        aoi = haversine_nm(la[:, None], lo[:, None], s_lat[None, :], s_lon[None, :]).min(1) <= sp.aoi_nm
        inside = ex & (along >= 0) & (along <= track_nm) & (np.abs(cross) <= sp.half_width_nm) & aoi & ~harbour(la, lo)
        pd = satellite_pd(length, rcs)
        hit = inside & (rng.random(nv) < pd)
        vi = np.flatnonzero(hit)
        n = len(vi)
        t = sp.t_s + np.clip(along[vi] / max(track_nm, 1e-9), 0.0, 1.0) * sp.scene_s
        tla, tlo, course = _positions_of(vessels, vi, t)
        ola = tla + rng.normal(0.0, sp.sigma_m, n) / (M_PER_NM * NM_PER_DEG_LAT)
        olo = tlo + rng.normal(0.0, sp.sigma_m, n) / (M_PER_NM * NM_PER_DEG_LAT * np.cos(np.radians(tla)))
        L = length[vi]
        est = np.round(np.clip(L * np.exp(rng.normal(0.0, sp.length_sigma, n)), 0.7 * L, 1.4 * L))
        flip = np.where(rng.random(n) < 0.15, 180.0, 0.0)
        hd = np.where(np.isfinite(course), course + rng.normal(0.0, 8.0, n) + flip, rng.uniform(0.0, 360.0, n)) % 360.0
        conf = np.clip(0.45 + 0.5 * pd[vi] + rng.normal(0.0, 0.03, n), 0.5, 0.99)
        add(n, source=sp.name, sensor=sp.sensor, t=t, pass_t=np.full(n, sp.t_s), vi=vi, lat=ola, lon=olo,
            true_lat=tla, true_lon=tlo, length_m=est, heading_deg=np.round(hd, 1), confidence=conf)
        counts[sp.name] = {"passes": 1, "plots": n, "missed": int((inside & ~hit).sum()), "clutter": 0}

    a = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in cols.items()}
    us = np.round((epoch0 + a["t"]) * 1000.0).astype(np.int64) * 1000
    pass_us = np.round((epoch0 + a["pass_t"]) * 1000.0).astype(np.int64) * 1000
    utc = pl.Datetime("us", "UTC")
    raw = pl.DataFrame({
        "ts": pl.Series(us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "pass_ts": pl.Series(pass_us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "t": a["t"], "source": a["source"].astype(str), "sensor": a["sensor"].astype(str),
        "vi": a["vi"].astype(np.int64), "lat": np.round(a["lat"], 6), "lon": np.round(a["lon"], 6),
        "true_lat": np.round(a["true_lat"], 6), "true_lon": np.round(a["true_lon"], 6),
        "length_m": a["length_m"], "heading_deg": a["heading_deg"], "confidence": np.round(a["confidence"], 3),
    }).with_columns(pl.col("ts", "pass_ts").cast(utc)).fill_nan(None)
    raw = raw.sort("t", "source", "lat", "lon").with_columns(
        detection_id=pl.col("source") + "-" + (pl.int_range(pl.len()).over("source") + 1).cast(pl.Utf8).str.zfill(6),
        pass_id=pl.col("source") + "|" + pl.col("pass_ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    det = conform(raw.select("detection_id", "ts", "lat", "lon", "source", "sensor", "pass_id", "length_m",
                             "heading_deg", "confidence"))
    # truth: which vessel, its MMSI, whether its AIS was on, off or absent, and heard
    vi = raw["vi"].to_numpy()
    t = raw["t"].to_numpy()
    state = np.full(len(vi), -1, np.int64)  # 0 on, 1 off, 2 none; -1 clutter
    heard = np.zeros(len(vi), bool)
    for i in np.unique(vi[vi >= 0]):  # one pass per vessel
        m = np.flatnonzero(vi == i)
        v = vessels[int(i)]
        if not v.ais:
            state[m] = 2
            continue
        state[m] = np.where(_on_mask(t[m], v.off), 0, 1)
        hp = heard_pos[int(i)]
        if len(hp):
            j = np.searchsorted(hp, t[m])
            prev = np.abs(t[m] - hp[np.clip(j - 1, 0, len(hp) - 1)])
            nxt = np.abs(hp[np.clip(j, 0, len(hp) - 1)] - t[m])
            heard[m] = np.minimum(prev, nxt) <= HEARD_WINDOW_S
    fleet = pl.DataFrame({  # one row per vessel
        "vessel": np.arange(nv, dtype=np.int64),
        "mmsi": pl.Series([v.ident.mmsi if v.ais else None for v in vessels], dtype=pl.Int64),
        "name": pl.Series([v.ident.name for v in vessels], dtype=pl.Utf8),
        "label": pl.Series([v.label or v.kind for v in vessels], dtype=pl.Utf8),
        "planted": pl.Series([not v.honest for v in vessels], dtype=pl.Boolean),
        "length_m": pl.Series([v.ident.length_m for v in vessels], dtype=pl.Int64),
    }, schema_overrides={"vessel": pl.Int64})
    clutter = vi < 0
    truth = pl.DataFrame({
        "detection_id": raw["detection_id"],
        "source": raw["source"],
        "vessel": pl.Series(vi, dtype=pl.Int64).set(pl.Series(clutter), None),
        "state": pl.Series(state, dtype=pl.Int64),
        "heard": pl.Series(heard, dtype=pl.Boolean).set(pl.Series(clutter), None),
        "true_lat": raw["true_lat"], "true_lon": raw["true_lon"],
    }).join(fleet, on="vessel", how="left", maintain_order="left").select(
        "detection_id", "source", "vessel", "mmsi", "name",
        pl.col("label").fill_null("clutter"), pl.col("planted").fill_null(False),
        ais=pl.col("state").replace_strict({0: "on", 1: "off", 2: "none"}, default=None, return_dtype=pl.Utf8),
        heard=pl.col("heard"), true_lat=pl.col("true_lat"), true_lon=pl.col("true_lon"), length_m=pl.col("length_m"),
    )
    return det, truth, counts


def _dark_truth(vessels: list[Vessel], det: Any, truth: Any, epoch0: int) -> list[dict]:
    """Truth records of the planted vessels the sensors saw while dark: per vessel and AIS-off
    interval (one for a vessel without AIS), a ``dark_target`` from its first to its last
    detection while dark, and a ``dark_track`` when it was seen on 3 or more sweeps / passes.
    ``vessel`` ties the record to ``detections_truth.csv``; ``mmsi`` is null without AIS."""
    import polars as pl

    j = truth.join(det.select("detection_id", "ts", "pass_id", "sensor"), on="detection_id")
    dk = j.filter(pl.col("planted") & pl.col("ais").is_in(["off", "none"]))
    if dk.height == 0:
        return []
    t = dk["ts"].dt.epoch("us").to_numpy() / 1e6 - epoch0
    vi = dk["vessel"].to_numpy()
    interval = np.zeros(len(vi), np.int64)
    for i in np.unique(vi):  # one pass per dark vessel
        m = vi == i
        for k, (a, b) in enumerate(vessels[int(i)].off):
            interval[m & (t >= a) & (t < b)] = k
    g = dk.with_columns(interval=pl.Series(interval)).group_by("vessel", "interval").agg(
        start=pl.col("ts").min(), end=pl.col("ts").max(), n=pl.len(), passes=pl.col("pass_id").n_unique(),
        sensors=pl.col("source").unique().sort(),
    ).sort("start", "vessel")
    out = []
    for r in g.iter_rows(named=True):  # a few records
        v = vessels[int(r["vessel"])]
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        seen = f"seen {r['n']} times on {r['passes']} radar sweeps and satellite passes ({', '.join(r['sensors'])})"
        if v.ais:
            what = f"{v.ident.name} (MMSI {v.ident.mmsi}) with its AIS switched off, {seen}"
        else:
            what = f"{v.label.removeprefix('PLANT ') or v.kind}, carrying no AIS at all, {seen}"
        for typ in ("dark_target", "dark_track") if r["passes"] >= 3 else ("dark_target",):
            out.append({"event_type": typ, "mmsi": int(v.ident.mmsi) if v.ais else None, "other_mmsi": None,
                        "start_time": iso(r["start"]), "end_time": iso(r["end"]), "note": what,
                        "vessel": int(r["vessel"])})
    return out


# ------------------------------------------------------------------------------------------------
# the public functions


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(math.floor(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _heard_times(msgs: dict[str, Any], rx: dict[str, np.ndarray], n_vessels: int) -> dict[str, list[np.ndarray]]:
    """Per vessel: sorted transmit times of position reports heard, and of statics heard."""
    heard = np.zeros(len(msgs["t"]), bool)
    heard[rx["msg"]] = True
    out: dict[str, list[np.ndarray]] = {"pos": [], "static": []}
    vi = msgs["vi"]
    order = np.lexsort((msgs["t"], vi))
    bounds = np.searchsorted(vi[order], np.arange(n_vessels + 1))
    for i in range(n_vessels):  # one slice per vessel
        o = order[bounds[i]: bounds[i + 1]]
        o = o[heard[o]]
        k = msgs["kind"][o]
        out["pos"].append(msgs["t"][o[(k == 1) | (k == 18)]])
        out["static"].append(np.stack([msgs["t"][o[(k == 5) | (k == 24)]], msgs["ident"][o[(k == 5) | (k == 24)]]]))
    return out


def _resolve(plants: list[Plant], vessels: list[Vessel], heard: dict[str, list[np.ndarray]],
             idents: list[Identity], duration: float, epoch0: int) -> tuple[list[dict], list[dict]]:
    """Truth records of the plants that happen within the run; and those cut off by it."""
    vix = {id(v): i for i, v in enumerate(vessels)}
    truth, cut = [], []
    for p in plants:
        i = vix[id(p.vessel)]
        pos = heard["pos"][i]
        start: float | None = p.start_s
        end: float | None = p.end_s
        complete = (p.end_s is None or p.end_s <= duration) and (p.start_s is None or p.start_s < duration)
        if p.how == "gap":
            before = pos[pos < p.start_s]
            start = float(before[-1]) if len(before) else None
            if p.end_s is None:
                end = None
                complete = complete and start is not None
            else:
                after = pos[pos >= p.end_s]
                end = float(after[0]) if len(after) else None
                complete = complete and start is not None and end is not None
        elif p.how == "overlap":
            other = heard["pos"][vix[id(p.other)]]
            if len(pos) and len(other):
                start = float(max(pos[0], other[0]))
                end = float(min(pos[-1], other[-1]))
            complete = complete and len(pos) > 0 and len(other) > 0 and end is not None and end > start
        elif p.how == "rename":
            st_t, st_i = heard["static"][i]
            new_ix = idents.index(dict(p.vessel.renames)[p.start_s]) if p.start_s in dict(p.vessel.renames) else -1
            old = st_t[(st_t < p.start_s) & (st_i != new_ix)]
            new = st_t[(st_t >= p.start_s) & (st_i == new_ix)]
            complete = complete and len(old) > 0 and len(new) > 0
            if complete:
                start, end = float(old[-1]), float(new[0])
        elif p.how == "statics":
            st_t = heard["static"][i][0]
            complete = complete and len(st_t) > 0
            if complete:
                start, end = float(st_t[0]), float(st_t[-1])
        other_mmsi = None
        mmsi = p.vessel.ident.mmsi
        if p.pair and p.other is not None:
            a, b = sorted((p.vessel.ident.mmsi, p.other.ident.mmsi))
            mmsi, other_mmsi = a, b
        rec = {
            "event_type": p.event_type,
            "mmsi": int(mmsi),
            "other_mmsi": None if other_mmsi is None else int(other_mmsi),
            "start_time": _iso(None if start is None else epoch0 + start),
            "end_time": _iso(None if end is None else epoch0 + end),
            "note": p.note,
        }
        (truth if complete else cut).append(rec)
    truth.sort(key=lambda r: (r["start_time"] or "", r["event_type"], r["mmsi"]))
    return truth, cut


def scenario(name: str) -> Scenario:
    """The :class:`Scenario` called ``name`` (see :data:`SCENARIOS`)."""
    from .scenarios import SCENARIO_DEFS

    try:
        return SCENARIO_DEFS[name]
    except KeyError:
        raise SeawatchError(
            f"unknown scenario {name!r}: use one of {', '.join(SCENARIO_DEFS)}"
        ) from None


@dataclass
class Simulation:
    """Everything one run produced (for tests and the README): the plans, the messages sent,
    the receptions, and the truth."""

    scenario: Scenario
    seed: int
    duration_s: float
    vessels: list[Vessel]
    plants: list[Plant]
    msgs: dict[str, Any]
    rx: dict[str, np.ndarray]
    truth: list[dict]
    cut: list[dict]
    heard: dict[str, list[np.ndarray]]
    detections: Any = None  # DETECTIONS frame (radar plots, satellite detections); None without sensors
    detections_truth: Any = None  # per detection: vessel, mmsi, AIS state, heard (see _detections)
    sensor_counts: dict = field(default_factory=dict)

    @property
    def epoch0(self) -> int:
        return int(self.scenario.start.timestamp())


def run(name: str, *, seed: int = 0, hours: float | None = None) -> tuple[Simulation, list[str]]:
    """Simulate scenario ``name`` in memory: returns the :class:`Simulation` and the feed's records."""
    sc = scenario(name)
    hours = sc.hours if hours is None else hours
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise SeawatchError(f"hours must be a number of hours, e.g. 6, got {hours!r}") from None
    if not hours > 0 or not math.isfinite(hours):
        raise SeawatchError(f"hours must be > 0, e.g. 6, got {hours!r}")
    duration = hours * 3600.0
    rng = np.random.default_rng([seed, 0])
    vessels, plants = sc.build(rng, duration)
    msgs = _transmit(vessels, duration, seed)
    rx = _receive(msgs, vessels, sc.stations, seed)
    records, _ = _encode(msgs, rx, sc.stations, sc.start, seed)
    heard = _heard_times(msgs, rx, len(vessels))
    epoch0 = int(sc.start.timestamp())
    truth, cut = _resolve(plants, vessels, heard, msgs["idents"], duration, epoch0)
    sensed = _detections(sc, vessels, duration, seed, heard["pos"], epoch0)
    det = det_truth = None
    counts: dict = {}
    if sensed is not None:
        det, det_truth, counts = sensed
        truth = sorted(truth + _dark_truth(vessels, det, det_truth, epoch0),
                       key=lambda r: (r["start_time"] or "", r["event_type"], r["mmsi"] or 0))
    sim = Simulation(sc, seed, duration, vessels, plants, msgs, rx, truth, cut, heard, det, det_truth, counts)
    return sim, records


def simulate(scenario: str, out: str | Path, *, seed: int = 0, hours: float | None = None) -> dict:
    """Write ``feed.nmea``, ``truth.jsonl`` and ``README.md`` of ``scenario`` into ``out``, and
    for scenarios with sensors ``detections.csv`` (radar plots and satellite detections, schema
    DETECTIONS: ``seawatch ingest --detections``) and ``detections_truth.csv`` (per detection:
    ``detection_id, source, vessel, mmsi, name, label, planted, ais, heard, true_lat, true_lon,
    length_m``; ``ais`` is ``on``, ``off`` or ``none``, null for clutter).

    Returns a summary: ``scenario, seed, hours, start, end, feed, truth, readme, lines,
    messages`` (distinct messages heard), ``receptions``, ``duplicates``, ``vessels`` (MMSIs
    heard), ``transmitters``, ``by_type`` (messages heard per AIS type), ``planted`` (the truth
    records), ``cut`` (plants left out of the truth because the run ends before they do),
    ``detections`` (count; 0 without sensors), ``sensors`` (per source: plots, missed, clutter)
    and, with sensors, the paths ``detections_file`` and ``detections_truth``.
    """
    sim, records = run(scenario, seed=seed, hours=hours)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SeawatchError(f"cannot create output directory {out}: {e.strerror}") from None
    feed = out / "feed.nmea"
    text = "\n".join(records) + ("\n" if records else "")
    feed.write_text(text, encoding="ascii")
    truth = out / "truth.jsonl"
    truth.write_text("".join(json.dumps(r) + "\n" for r in sim.truth), encoding="utf-8")
    summary = summary_of(sim, text.count("\n"))
    if sim.detections is not None:
        summary.update(write_detections(sim, out))
    readme = out / "README.md"
    summary.update(feed=str(feed), truth=str(truth), readme=str(readme), out=str(out), feed_bytes=len(text))
    readme.write_text(readme_text(sim, summary), encoding="utf-8")
    return summary


def write_detections(sim: Simulation, out: Path) -> dict:
    """Write ``detections.csv`` and ``detections_truth.csv`` of ``sim`` into ``out`` (times ISO-8601
    UTC with milliseconds); returns their paths."""
    import polars as pl

    det = sim.detections.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
    path, tpath = out / "detections.csv", out / "detections_truth.csv"
    det.write_csv(path)
    sim.detections_truth.write_csv(tpath)
    return {"detections_file": str(path), "detections_truth": str(tpath)}


# ------------------------------------------------------------------------------------------------
# statistics and the scenario README


def summary_of(sim: Simulation, lines: int) -> dict:
    """Counts of one run (see :func:`simulate`)."""
    m = sim.msgs
    heard = np.unique(sim.rx["msg"])
    kinds = m["kind"][heard]
    mtype = m["msg_type"][m["vi"][heard]]
    by_type: dict[str, int] = {}
    for label, sel in (("1", (kinds == 1) & (mtype == 1)), ("3", (kinds == 1) & (mtype == 3)), ("18", kinds == 18),
                       ("5", kinds == 5), ("24A", kinds == 24), ("24B", kinds == 25)):
        if sel.any():
            by_type[label] = int(sel.sum())
    vi_heard = np.unique(m["vi"][heard])
    mmsis = {sim.vessels[i].ident.mmsi for i in vi_heard}
    end = sim.scenario.start + timedelta(seconds=sim.duration_s)
    return {
        "scenario": sim.scenario.name,
        "seed": sim.seed,
        "hours": sim.duration_s / 3600.0,
        "start": sim.scenario.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lines": lines,
        "messages": len(heard),
        "messages_sent": len(m["t"]),
        "receptions": len(sim.rx["msg"]),
        "duplicates": int(len(sim.rx["msg"]) - len(heard)),
        "vessels": len(mmsis),
        "transmitters": len(vi_heard),
        "by_type": by_type,
        "planted": list(sim.truth),
        "cut": list(sim.cut),
        "detections": 0 if sim.detections is None else sim.detections.height,
        "sensors": dict(sim.sensor_counts),
    }


def _pct(x: np.ndarray, q: float) -> str:
    return f"{np.percentile(x, q):.1f}" if len(x) else "-"


def honest_speed_table(sim: Simulation) -> list[dict]:
    """Per honest kind: vessels heard, ITU type, class, flags, reports, SOG percentiles under way."""
    m = sim.msgs
    pos = (m["kind"] == 1) | (m["kind"] == 18)
    heard = np.zeros(len(m["t"]), bool)
    heard[sim.rx["msg"]] = True
    rows = []
    kinds = sorted({v.kind for v in sim.vessels if v.honest})
    for kind in kinds:
        vix = np.array([i for i, v in enumerate(sim.vessels) if v.honest and v.kind == kind])
        sel = pos & np.isin(m["vi"], vix)
        got = sel & heard
        vs = [sim.vessels[i] for i in np.unique(m["vi"][got])]
        if not vs:
            continue
        uw = got & ~np.isin(m["status"], (AT_ANCHOR, MOORED)) & (m["sog"] >= 0.5)
        sog = m["sog"][uw]
        rows.append({
            "kind": kind,
            "ship_type": ", ".join(sorted({str(v.ident.ship_type) for v in vs})),
            "class": ", ".join(sorted({v.klass for v in vs})),
            "vessels": len({v.ident.mmsi for v in vs}),
            "flags": ", ".join(sorted({_flag(v.ident.mmsi) for v in vs})),
            "reports": int(got.sum()),
            "under_way": int(uw.sum()),
            "p10": _pct(sog, 10), "p50": _pct(sog, 50), "p90": _pct(sog, 90),
            "max": f"{sog.max():.1f}" if len(sog) else "-",
        })
    return rows


def interval_table(sim: Simulation) -> list[dict]:
    """Seconds between consecutive position reports of one honest transmitter, per class and
    state (transmitted, and as received after range and loss), and between static reports."""
    m = sim.msgs
    heard = np.zeros(len(m["t"]), bool)
    heard[sim.rx["msg"]] = True
    honest = np.array([v.honest for v in sim.vessels])[m["vi"]]
    is_b = np.array([v.klass == "B" for v in sim.vessels])[m["vi"]]
    out = []
    specs = [
        ("A", "under way", "2-10 s (down-sampled to 30 s)", (m["kind"] == 1), lambda st, sog: ~(np.isin(st, (AT_ANCHOR, MOORED)) & (sog < 3))),
        ("A", "at anchor / moored, < 3 kn", "3 min", (m["kind"] == 1), lambda st, sog: np.isin(st, (AT_ANCHOR, MOORED)) & (sog < 3)),
        ("B", "> 2 kn", "30 s", (m["kind"] == 18), lambda st, sog: sog > 2.0),
        ("B", "<= 2 kn", "3 min", (m["kind"] == 18), lambda st, sog: sog <= 2.0),
        ("A", "type 5 static and voyage", "6 min", (m["kind"] == 5), None),
        ("B", "type 24 part A", "6 min", (m["kind"] == 24), None),
    ]
    for klass, state, itu, base, cond in specs:
        sel = base & honest & (is_b == (klass == "B"))
        for label, mask in (("sent", sel), ("received", sel & heard)):
            idx = np.flatnonzero(mask)
            o = idx[np.lexsort((m["t"][idx], m["vi"][idx]))]
            if len(o) < 2:
                continue
            same = m["vi"][o[1:]] == m["vi"][o[:-1]]
            dt = np.diff(m["t"][o])
            if cond is not None:
                st_prev, sog_prev = m["status"][o[:-1]], m["sog"][o[:-1]]
                st_next, sog_next = m["status"][o[1:]], m["sog"][o[1:]]
                same &= cond(st_prev, sog_prev) & cond(st_next, sog_next)
            dt = dt[same & (dt < 1200)]
            if not len(dt):
                continue
            out.append({"class": klass, "state": state, "itu": itu, "as": label, "n": len(dt),
                        "median": f"{np.median(dt):.0f}", "p5": f"{np.percentile(dt, 5):.0f}",
                        "p95": f"{np.percentile(dt, 95):.0f}"})
    return out


def _flag(mmsi: int) -> str:
    from .flags import flag_state

    return flag_state([mmsi]).to_list()[0] or f"MID {mmsi // 1_000_000}"


def _night_text(sim: Simulation) -> str:
    """Sunrise and sunset at the first station, around the run (seawatch.astro)."""
    from . import astro

    st = sim.scenario.stations[0]
    day = np.datetime64((sim.scenario.start + timedelta(hours=9)).date())  # the JST date
    rise0, set0 = astro.sunrise_sunset(st.lat, st.lon, day)
    rise1, _ = astro.sunrise_sunset(st.lat, st.lon, day + np.timedelta64(1, "D"))

    def hm(x: np.ndarray) -> str:
        return str(np.datetime64(x[()], "m")).replace("T", " ") + "Z"

    return (f"At {st.name} ({st.lat:.2f} N, {st.lon:.2f} E): sunrise {hm(rise0)}, sunset {hm(set0)}, "
            f"next sunrise {hm(rise1)} (the sun's upper limb, standard refraction).")


def _sensors_text(sim: Simulation) -> list[str]:
    """The README's section on radar and satellite detections (empty without sensors)."""
    sc = sim.scenario
    if sim.detections is None:
        return []
    tr = sim.detections_truth
    n = tr.height
    by = tr.group_by("ais").len()
    by_ais = dict(zip(by["ais"].to_list(), by["len"].to_list()))
    out = [
        "## Sensors: radar plots and satellite detections (detections.csv, detections_truth.csv)",
        "",
        f"{n:,} detections of the true vessel positions, with or without AIS "
        f"({by_ais.get('on', 0):,} of vessels transmitting, {by_ais.get('off', 0):,} with AIS switched off, "
        f"{by_ais.get('none', 0):,} of vessels without AIS, {by_ais.get(None, 0):,} sea clutter). "
        f"Ingest with `seawatch ingest --detections detections.csv`; `detections_truth.csv` says per "
        f"detection which vessel it shows (`vessel`, `mmsi`), whether its AIS was `on`, `off` or `none`, "
        f"and whether a shore station heard it within {HEARD_WINDOW_S / 60:.0f} min (`heard`).",
        "",
        "| radar (source) | lat | lon | antenna m | seaward sector deg | range nm: 10 m / 50 m / 150 m | sweep logged | plots | missed | clutter |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sc.radars:
        c = sim.sensor_counts.get(f"{r.name}-radar", {})
        rr = radar_range_nm(r, np.array([10.0, 50.0, 150.0]))
        out.append(f"| {r.name}-radar | {r.lat:.3f} | {r.lon:.3f} | {r.antenna_m:.0f} | {r.sector[0]:.0f}-{r.sector[1]:.0f} | "
                   f"{rr[0]:.1f} / {rr[1]:.1f} / {rr[2]:.1f} | every {r.sweep_s:.0f} s | {c.get('plots', 0):,} | "
                   f"{c.get('missed', 0):,} | {c.get('clutter', 0):,} |")
    start = sc.start
    if sc.passes:
        out += ["", "| satellite pass (source) | sensor | time | swath | detected | missed |", "|---|---|---|---|---|---|"]
        for sp in sc.passes:
            c = sim.sensor_counts.get(sp.name, {})
            when = (start + timedelta(seconds=sp.t_s)).strftime("%Y-%m-%d %H:%MZ")
            (a, b), (c2, d) = sp.track
            out.append(f"| {sp.name} | {sp.sensor} | {when} | {2 * sp.half_width_nm:.0f} nm wide, {a:.2f} N {b:.2f} E to "
                       f"{c2:.2f} N {d:.2f} E | {c.get('plots', 0):,} | {c.get('missed', 0):,} |")
    out += [
        "",
        f"Radar: a vessel is seen to the radio horizon ({HORIZON_NM_PER_SQRT_M} x (sqrt(antenna m) + sqrt(target m)) nm, "
        "target height 15% of its length, 1.5-35 m), within the seaward sector and outside harbours (1 nm from a "
        "berth), on each logged sweep with a probability of 0.57 (7 m) to 0.95 (50 m and more), scaled by its "
        "radar cross-section (a wooden boat 0.7) and halved at the horizon; plots carry range (25 m) and azimuth "
        "(0.25 deg) noise, no length or heading. Sea clutter: weak plots (confidence 0.10-0.45) within a few nm "
        "of the antenna. Satellite: each vessel in the swath (and within "
        "the area of interest near the coast) is detected with a probability rising with length (50% at 16 m), "
        "with a 200 m position error per axis, a length estimate (12% log-normal error, within 0.7-1.4 of the "
        "true length) and a heading (8 deg noise, 15% reversed). Not modelled: radar shadows behind headlands, "
        "merged plots of vessels closer than the radar's resolution, the SAR azimuth shift of moving ships.",
        "",
    ]
    dark = [r for r in sim.truth if r["event_type"] in ("dark_target", "dark_track")]
    if dark:
        out += ["Dark truth: a planted vessel seen while it transmitted no AIS is an expected `dark_target` (its first to "
                "last detection while dark) and, seen on 3 or more sweeps or passes, a `dark_track`; `vessel` in "
                "truth.jsonl is the `vessel` of detections_truth.csv.", ""]
    return out


def readme_text(sim: Simulation, summary: dict) -> str:
    sc = sim.scenario
    start = sc.start
    end = start + timedelta(seconds=sim.duration_s)
    jst = lambda d: (d + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"# seawatch scenario `{sc.name}` (seed {sim.seed})",
        "",
        sc.description[0].upper() + sc.description[1:] + ".",
        "",
        sc.story,
        "",
        f"- Time: {summary['start']} to {summary['end']} ({summary['hours']:g} h; {jst(start)} to {jst(end)} JST).",
        f"- {_night_text(sim)}",
        (f"- Files: `feed.nmea` ({summary['lines']:,} lines, {summary['messages']:,} AIS messages heard of "
         f"{summary['messages_sent']:,} sent, {summary['duplicates']:,} receiver duplicates), `truth.jsonl` "
         f"({len(sim.truth)} planted behaviours), "
         + (f"`detections.csv` ({summary['detections']:,} radar and satellite detections) and "
            "`detections_truth.csv`, " if sim.detections is not None else "") + "this README."),
        f"- Vessels heard: {summary['vessels']} MMSIs ({summary['transmitters']} transmitters); messages by type: "
        + ", ".join(f"{k}: {v:,}" for k, v in summary["by_type"].items()) + ".",
        f"- Reproduce: `seawatch simulate {sc.name} --out DIR --seed {sim.seed}"
        + (f" --hours {summary['hours']:g}" if abs(summary['hours'] - sc.hours) > 1e-9 else "") + "`.",
        "",
        "## Planted behaviours (truth.jsonl)",
        "",
        "| event_type | mmsi | other_mmsi | start_time | end_time | what |",
        "|---|---|---|---|---|---|",
    ]
    for r in sim.truth:
        lines.append(f"| {r['event_type']} | {r['mmsi'] or '(no AIS)'} | {r['other_mmsi'] or ''} | {r['start_time']} | "
                     f"{r['end_time'] or '(open)'} | {r['note']} |")
    if sim.cut:
        lines += ["", "Not in the truth because this run ends before they are complete (use the default --hours):", ""]
        lines += [f"- {r['event_type']} of {r['mmsi']}: {r['note']}" for r in sim.cut]
    lines += [
        "",
        "Truth times are those of the feed: a gap runs from the last report heard before the transmitter went",
        "off to the first heard after it came back (an open gap has no end); a cloned MMSI from when both",
        "transmitters are heard to when one stops being heard; an identity change from the last static report",
        "heard with the old identity to the first with the new one.",
        "",
        "## Receivers",
        "",
        "| station (tag block s:) | lat | lon | class A range nm | class B range nm |",
        "|---|---|---|---|---|",
    ]
    for s in sc.stations:
        lines.append(f"| {s.name} | {s.lat:.3f} | {s.lon:.3f} | {s.range_nm:.0f} | {s.range_nm * CLASS_B_RANGE_FACTOR:.0f} |")
    lines += [
        "",
        f"A message is heard by every station within range ({LOSS_SHARE:.0%} of receptions lost to slot collisions);",
        f"the nearest stamps it (tag block `c:`), and a second station in range logs it again in {DUPLICATE_SHARE:.0%} of",
        "cases, 0-2 s later. Vessels beyond every station's range are not heard at all (no data, not a gap).",
        "",
    ]
    lines += _sensors_text(sim)
    lines += [
        "## Honest traffic: speed over ground per kind (reports heard, under way, SOG >= 0.5 kn)",
        "",
        "| kind | ITU type | class | vessels | flags | reports | under way | SOG p10 | p50 | p90 | max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in honest_speed_table(sim):
        lines.append(f"| {r['kind']} | {r['ship_type']} | {r['class']} | {r['vessels']} | {r['flags']} | {r['reports']:,} | "
                     f"{r['under_way']:,} | {r['p10']} | {r['p50']} | {r['p90']} | {r['max']} |")
    lines += [
        "",
        "## Reporting intervals of honest transmitters (seconds between consecutive reports of one vessel)",
        "",
        "| class | state | ITU-R M.1371 | sent / received | pairs | median | p5 | p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in interval_table(sim):
        lines.append(f"| {r['class']} | {r['state']} | {r['itu']} | {r['as']} | {r['n']:,} | {r['median']} | {r['p5']} | {r['p95']} |")
    lines += [
        "",
        f"Class A under way is down-sampled from ITU's 2-10 s to one report every {CLASS_A_UNDERWAY_S:.0f} s (a shore log",
        "keeping every 3rd-15th report) to keep the feed small; everything else follows ITU-R M.1371-5. Received",
        "intervals are longer where a report was lost or the vessel was at the edge of range.",
        "",
    ]
    return "\n".join(x for x in lines if x is not None) + "\n"


# ------------------------------------------------------------------------------------------------
# the demo's small sea (kept for seawatch demo and older callers)


def generate_feed(
    out: str | Path, *, vessels: int = 40, hours: float = 1.0, seed: int = 0, start_epoch: int = 1_717_200_000
) -> dict:
    """Write ``out`` (NMEA with tag blocks) for a small honest sea off Niigata; returns a summary.

    ``vessels`` honest vessels (cargo, tankers, ferries, fishing boats, an anchored ship,
    pleasure craft; class A and B) on straight legs in the Sado strait, all within reach of the
    Niigata and Sado receivers, simulated by the same engine as :func:`simulate`.
    """
    if vessels < 1 or hours <= 0:
        raise SeawatchError("vessels must be >= 1 and hours > 0, e.g. vessels=40, hours=1")
    from .scenarios import NIIGATA_STATIONS, demo_fleet

    rng = np.random.default_rng([seed, 0])
    duration = hours * 3600.0
    fleet = demo_fleet(rng, vessels, duration)
    start = datetime.fromtimestamp(start_epoch, timezone.utc)
    msgs = _transmit(fleet, duration, seed)
    rx = _receive(msgs, fleet, NIIGATA_STATIONS, seed)
    records, _ = _encode(msgs, rx, NIIGATA_STATIONS, start, seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(records) + "\n"
    out.write_text(text, encoding="ascii")
    return {"path": str(out), "vessels": vessels, "lines": text.count("\n"), "hours": hours, "seed": seed}


def __getattr__(name: str) -> Any:
    if name == "SCENARIOS":  # name -> one-line description (defined in seawatch.scenarios)
        from .scenarios import SCENARIOS

        return SCENARIOS
    raise AttributeError(name)


__all__ = [
    "CLASS_A_MOORED_S",
    "CLASS_A_UNDERWAY_S",
    "CLASS_B_RANGE_FACTOR",
    "CLASS_B_S",
    "CLASS_B_SLOW_S",
    "DUPLICATE_SHARE",
    "SCENARIOS",  # noqa: F822 (module __getattr__: defined in seawatch.scenarios)
    "STATIC_S",
    "VHF_RANGE_NM",
    "HARBOUR_MASK_NM",
    "HEARD_WINDOW_S",
    "Identity",
    "Plant",
    "Radar",
    "Route",
    "SatellitePass",
    "Scenario",
    "Simulation",
    "Station",
    "Vessel",
    "armour",
    "checksum",
    "generate_feed",
    "radar_pd",
    "radar_range_nm",
    "report_interval",
    "satellite_pd",
    "run",
    "scenario",
    "sentences",
    "simulate",
    "tag_block",
    "write_detections",
]
