"""Plant seawatch's behaviours into real AIS data, so that the detectors are tested against real
background traffic too.

``inject(base, out, seed=)`` reads ``base`` (anything ``seawatch ingest`` reads: NMEA logs of any
kind, NOAA or DMA CSV, seawatch Parquet; plain, .gz or .zip) with seawatch's own readers, finds
its time span and where its traffic is, plants behaviours into that sea and time, and writes
into ``out``:

- ``base.<ext>``: the base as given (a symbolic link to it, or a copy where links fail);
- ``planted.nmea``: the planted vessels as tag-blocked NMEA 0183 (types 1/3, 5, 18, 24), written
  by the scenario engine of :mod:`seawatch.simulate`;
- ``truth.jsonl``: one record per planted behaviour, the format of ``seawatch simulate``;
- ``README.md``: the base, what was planted where and when, what was skipped and why.

Then ``seawatch ingest out/base.* out/planted.nmea --db DB``, ``seawatch detect --db DB --out
events.jsonl`` and ``seawatch eval --truth out/truth.jsonl --events events.jsonl``.

**Where.** Spots are positions where real vessels were seen (there is water there, and receivers
hear it), densest traffic first (distinct real vessels within 20 nm), at least 3 km from every
port and anchorage of the port table (:func:`seawatch.zones.ports.ports_table` plus the
anchorages inferred from the base), 20 km for the encounter. Plans stay within a few nautical
miles of their spot: outside the zones seawatch ships (111-159E, 14-56N) there is no land mask
to steer by. Inside them, every planned position is checked against the land polygons, and the
plants other than the night approach keep beyond the territorial sea. Spots of different
plants are kept apart (their radii plus 1 nm).

**When.** The base's *main span* is its largest run of receive times without a silence of 6 h
(a few rows with far-off clock values do not stretch it). The plants end at ``E = max(end,
start + 1.5 h)`` and their key moments (the rename, the dash, the encounter, the cloned MMSI)
include the time 1.5 h before ``E``: inside the base's span when it is long, at its start when
it is short.
Behaviours that need more time than the base has run beyond it, backwards: a real vessel last
heard less than 2 h before the data's end can never look "gone dark", so planted traffic before
the real data changes nothing for the real vessels. Every planted vessel transmits until ``E``.
A base without receive times (plain NMEA without tag blocks) gets a nominal window ending at
:data:`UNTIMED_END`; its traffic is not tracked by seawatch (no time, no track).

**What, and what is skipped.**

- ``ais_gap``: only where the base's main span is at least :data:`GAP_NEED_H` long: a fishing
  vessel towing amid real traffic goes silent for 3.25 h and reappears 4 nm on, at least 5 km
  from every port; real positions (not planted ones) must be heard within 16 nm of both ends of
  the silence in every hour of it, at least twice the detector's minimum in all. A short or
  untimed base cannot witness a gap: the plant is skipped, with that reason.
- ``encounter``: a tanker and a small craft 45 m apart for 3.5 h, drifting at 0.3 kn, at least
  20 km from every port.
- ``speed_anomaly``: a declared fishing vessel (type 30) towing at 3.5 kn, dashing at 31-33 kn
  for ~25 min round a triangle of 4.4 nm legs.
- ``position_jump``: one MMSI on two transmitters at least 100 nm apart (the nearest such pair
  of spots) when the real traffic spans that far, else as far apart as it allows (at least
  :data:`JUMP_MIN_NM`: heard within a minute of each other, that already implies 300 kn, far
  beyond the detector's 60 kn).
- ``identity_change``: a tanker at anchor renamed (name and call sign, same MMSI and IMO).
- ``identity_mismatch``: a Chinese MMSI with a Japanese call sign.
- ``night_coastal_approach``: only where seawatch's zones answer (111-159E, 14-56N): a foreign
  declared fishing boat (a flag other than the coastal state's) comes in from 15 nm out and
  hovers for 2.5 h at 0.6-1.8 kn 4.5-8.5 nm from shore, at least 8 km from ports, in the last
  night of at least 2.5 h within 36 h of ``E``. Elsewhere it is skipped, with that reason.

Planted MMSIs have valid MIDs and are checked against every MMSI of the base (positions, statics
and other messages). Planted identities are consistent except where the behaviour is the
inconsistency.

**Real vessels stay as they were.** The only detector through which planted traffic could change
a verdict on a real vessel is ``ais_gap`` (other vessels' positions are its reception evidence).
Spots near where a real vessel's silence is weighed (its dead-reckoned position for an open
silence, both ends of a closed one) are not used; then :func:`inject` runs the detector's own gap
and reception code over the real tracks with and without the planted ones, and a plant that
would turn a real vessel's silence into an ``ais_gap`` event, or whose own vessels would get one
it does not plant, is moved to another spot (or, after :data:`MAX_ATTEMPTS`, left out, with that
reason). A real vessel that lingers (under 3 kn) near a spot while it is used would make a
real-planted encounter: such spots are not used either. Reading, tracking and checking hold the
base in memory: it is meant for samples and days of data, not for years.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import os
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .errors import SeawatchError
from .tracks import VESSEL_CLASSES, destination, haversine_nm

__all__ = [
    "GAP_NEED_H",
    "JUMP_MIN_NM",
    "PLANT_TYPES",
    "UNTIMED_END",
    "Base",
    "describe_base",
    "inject",
    "inject_command",
    "read_base",
]

H = 3600.0
MIN = 60.0
UTC = timezone.utc
EARTH_R_NM = 6371.0088 / 1.852

#: The behaviours :func:`inject` plants, in the order it places them.
PLANT_TYPES = ("ais_gap", "encounter", "position_jump", "speed_anomaly", "identity_change", "identity_mismatch",
               "night_coastal_approach")
#: End of the planted window for a base without receive times (nominal: such data has no date).
UNTIMED_END = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
#: A silence of this long splits the base's receive times; the largest run is the main span.
CLUSTER_GAP_H = 6.0
#: The plants end at max(main span end, main span start + SHORT_TAIL_H): less than ais_gap's
#: 2 h after any real vessel's last report when the base is short.
SHORT_TAIL_H = 1.5
#: Key moments of the plants lie this long before the window's end.
LEAD_H = 1.5
#: Main span an ais_gap plant needs: 1 h heard, 3.25 h silent, 0.75 h heard again.
GAP_NEED_H = 5.0
GAP_OFF_H = 3.25
GAP_MOVE_NM = 4.0
#: Real positions within this distance of a gap's end surely count for the detector (its cells
#: of 5 nm count when their centre is within 20 nm: 20 - 5/sqrt(2)).
GAP_WITNESS_NM = 16.0
#: Encounter spots: at least this far from every port (the detector needs 10 km).
ENCOUNTER_PORT_KM = 20.0
#: Other plans: at least this far from every port (GFW's port-entry distance: not in port).
PORT_KM = 3.0
#: The planted gap's ends: this far from every port (ais_gap ignores gaps within 3 km of one).
GAP_PORT_KM = 5.0
#: position_jump: the transmitters at least this far apart if the real traffic spans it (nm).
JUMP_FAR_NM = 100.0
JUMP_MIN_NM = 5.0
#: Station range of the virtual receivers that hear the planted vessels (nm).
RX_RANGE_NM = 60.0
STATION = "seawatch-inject"
MAX_SEEDS = 3000
#: Seeds beyond this latitude are not used (no ship sails at 87 S: a garbage position).
MAX_SEED_LAT = 84.0
MAX_ATTEMPTS = 6
#: Everything is planned in seconds from this long before the window's end.
BACK_H = 48.0
NIGHT_SEARCH_H = 36.0
NIGHT_HOVER_H = 2.5

_GAP_FLAG, _ENC_FLAGS, _DASH_FLAG, _CLONE_FLAG, _RENAME_FLAG = "KOR", ("TGO", "RUS"), "CHN", "PAN", "LBR"
_NIGHT_FLAGS = ("PRK", "CHN", "RUS", "KOR", "PAN")


# ------------------------------------------------------------------------------------------------
# reading the base


@dataclass
class Base:
    """What :func:`inject` needs of a base file: its vessel positions (with a position; time may
    be null), every MMSI it mentions, and counts for the README."""

    path: Path
    formats: list[str]
    positions: pl.DataFrame
    mmsis: set[int]
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def timed(self) -> pl.DataFrame:
        return self.positions.filter(pl.col("ts").is_not_null())


_POS_COLS = ("mmsi", "ts", "lat", "lon", "sog_kn", "cog_deg", "heading_deg", "nav_status", "msg_type", "ais_class",
             "station", "n_rx")


def read_base(path: str | os.PathLike[str]) -> Base:
    """Read ``path`` with seawatch's readers (the ones ``seawatch ingest`` uses), keeping the
    vessel positions (classes A, B and long-range; 0N 0E is no position) and every MMSI."""
    from .ingest.files import DEFAULT_CHUNK_BYTES, _check_input, _head, _members
    from .ingest.nmea import NmeaDecoder
    from .ingest.providers import read_provider, sniff

    p = _check_input(path)
    parts: list[pl.DataFrame] = []
    mmsis: set[int] = set()
    rows = {"lines_read": 0, "positions": 0, "statics": 0, "other": 0}
    formats: list[str] = []

    def take(res: Any) -> None:
        rows["lines_read"] += int(res.lines_read)
        for name in ("positions", "statics", "other"):
            df = getattr(res, name)
            rows[name] += df.height
            if df.height:
                mmsis.update(int(x) for x in df["mmsi"].drop_nulls().unique().to_list())
        pos = res.positions
        if pos.height:
            parts.append(pos.filter(
                pl.col("mmsi").is_not_null() & pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
                & ~((pl.col("lat") == 0) & (pl.col("lon") == 0))
                & (pl.col("ais_class").is_null() | pl.col("ais_class").is_in(VESSEL_CLASSES))
            ).select(_POS_COLS))

    for m in _members(p):
        fmt = sniff(_head(m), m.sniff_name)
        if fmt not in formats:
            formats.append(fmt)
        f, _ = m.opener()
        with contextlib.closing(f):
            try:
                if fmt == "nmea":
                    dec = NmeaDecoder(m.source)
                    while data := f.read(DEFAULT_CHUNK_BYTES):
                        take(dec.feed(data))
                    take(dec.finish())
                else:
                    for res in read_provider(m.path if (fmt == "parquet" and m.path) else f, fmt, m.source):
                        take(res)
            except (EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as e:
                raise SeawatchError(f"cannot read {m.source}: {e}") from None
    from . import schema

    positions = pl.concat(parts) if parts else schema.empty("positions").select(_POS_COLS)
    return Base(p, formats, positions, mmsis, rows)


def _main_span(ts_us: np.ndarray) -> tuple[int, int] | None:
    """(start, end) in epoch microseconds of the largest run of times without a CLUSTER_GAP_H silence."""
    if len(ts_us) == 0:
        return None
    t = np.sort(ts_us)
    cut = np.flatnonzero(np.diff(t) > CLUSTER_GAP_H * H * 1e6)
    starts = np.concatenate([[0], cut + 1])
    ends = np.concatenate([cut, [len(t) - 1]])
    k = int(np.argmax(ends - starts))
    return int(t[starts[k]]), int(t[ends[k]])


def _dt(us: float) -> datetime:
    return datetime.fromtimestamp(us / 1e6, UTC)


def _iso(d: datetime | None) -> str | None:
    return None if d is None else d.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_base(base: Base) -> dict[str, Any]:
    """Counts and spans of a base: positions (timed / untimed), vessels, vessels with a track (at
    least two timed positions at distinct times), the main span, the data's end, the area."""
    pos = base.positions
    timed = base.timed
    tracked = (timed.group_by("mmsi").agg(pl.col("ts").n_unique().alias("n")).filter(pl.col("n") >= 2).height
               if timed.height else 0)
    span = _main_span(timed["ts"].dt.epoch("us").to_numpy()) if timed.height else None
    out: dict[str, Any] = {
        "path": str(base.path),
        "format": "+".join(base.formats) or "empty",
        "lines_read": base.rows.get("lines_read", 0),
        "positions": pos.height,
        "timed_positions": timed.height,
        "untimed_positions": pos.height - timed.height,
        "vessels": pos["mmsi"].n_unique() if pos.height else 0,
        "mmsis": len(base.mmsis),
        "tracked_vessels": tracked,
        "span_start": _iso(_dt(span[0])) if span else None,
        "span_end": _iso(_dt(span[1])) if span else None,
        "span_h": round((span[1] - span[0]) / 3.6e9, 6) if span else None,
        "data_end": _iso(timed["ts"].max()) if timed.height else None,
        "area": None,
    }
    if pos.height:
        out["area"] = [round(float(x), 4) for x in (pos["lat"].min(), pos["lat"].max(), pos["lon"].min(), pos["lon"].max())]
    out["has_tracks"] = tracked >= 5
    return out


# ------------------------------------------------------------------------------------------------
# geometry helpers


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _chord(nm: float) -> float:
    return 2.0 * np.sin(min(nm / EARTH_R_NM, np.pi) / 2.0)


def _route_samples(vessels: list, t_from: float, t_to: float, step: float = 300.0) -> tuple[np.ndarray, ...]:
    """(t, lat, lon) of every vessel's plan every ``step`` seconds within [t_from, t_to]."""
    ts, las, los = [], [], []
    for v in vessels:
        t = np.array(v.route.t)
        a, b = max(t[0], t_from), min(t[-1], t_to)
        if b < a:
            continue
        g = np.append(np.arange(a, b, step), b)
        ts.append(g)
        las.append(np.interp(g, t, v.route.lat))
        los.append(np.interp(g, t, v.route.lon))
    if not ts:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return np.concatenate(ts), np.concatenate(las), np.concatenate(los)


# ------------------------------------------------------------------------------------------------
# the guard: planted and real traffic must not become each other's ais_gap evidence


class _GapGuard:
    """ais_gap is the one detector where other vessels' positions are evidence (its reception
    count). The guard runs the detector's own gap and reception code (:mod:`seawatch.detect.gap`)
    over the real tracks, alone and with the planted tracks, and reports (a) real vessels'
    silences that the planted positions would turn into ais_gap events and (b) silences of
    planted vessels, other than the planted gap, that real or planted traffic would make events.
    The port rule is left out: it could only drop events, so the guard errs on the safe side."""

    def __init__(self, timed: pl.DataFrame, window_end: datetime):
        from .detect import gap as gapmod
        from .tracks import build_tracks

        self.gapmod = gapmod
        self.p = gapmod.PRESETS["coastal"]
        self.min_gap_s = self.p.min_gap_h * H
        self.real = None
        self.before: set = set()
        self.end_base = None
        self.end_comb = window_end
        self.danger_pts = np.zeros((0, 3))
        if timed.height == 0:
            return
        pts = build_tracks(timed, places=False).points.filter(pl.col("seg_id").is_not_null())
        if pts.height == 0:
            return
        self.real = pts
        self.end_base = pts["ts"].max()
        self.end_comb = max(self.end_base, window_end)
        gaps = gapmod._gaps(pts, self.min_gap_s, self.end_base)
        self.before = self._good(gaps.with_row_index("gi"), pts) if gaps.height else set()
        # where planted positions could tip a real silence over: around the dead-reckoned last
        # position of open silences, around both ends of closed ones (cells count up to
        # RX_CELL_NM / sqrt(2) beyond the radius)
        g = gapmod._gaps(pts, self.min_gap_s, self.end_comb)
        if self.before and g.height:
            g = g.filter(pl.Series([k not in self.before for k in zip(g["mmsi"].to_list(), g["t0"].to_list())]))
        if g.height:
            slack = gapmod.RX_CELL_NM / np.sqrt(2.0) + 1.0
            is_open = g["t1"].is_null().to_numpy()
            sog = g["sog0"].cast(pl.Float64).fill_null(0.0).to_numpy()
            cog = g["cog0"].cast(pl.Float64).fill_null(0.0).to_numpy()
            dla, dlo = destination(g["lat0"].to_numpy(), g["lon0"].to_numpy(), cog, sog * self.p.min_gap_h)
            la0 = np.where(is_open, dla, g["lat0"].to_numpy())
            lo0 = np.where(is_open, dlo, g["lon0"].to_numpy())
            r0 = np.where(is_open, self.p.open_radius_nm, self.p.reception_radius_nm) + slack
            closed = ~is_open
            self.danger_pts = np.concatenate([
                np.column_stack([la0, lo0, r0]),
                np.column_stack([g["lat1"].to_numpy()[closed], g["lon1"].to_numpy()[closed],
                                 np.full(int(closed.sum()), self.p.reception_radius_nm + slack)]),
            ])

    def _good(self, gaps: pl.DataFrame, pts: pl.DataFrame, end: Any = None) -> set:
        p = self.p
        end = self.end_base if end is None else end
        rx = self.gapmod._reception(gaps, pts.select("mmsi", "ts", "lat", "lon"), p.reception_radius_nm, end,
                                    open_radius_nm=p.open_radius_nm, open_ahead_h=p.min_gap_h)
        g = gaps.join(rx, on="gi").filter(
            (pl.col("rx0") >= p.min_other_positions)
            & (pl.col("t1").is_null() | (pl.col("rx1") >= p.min_other_positions))
        )
        return set(zip(g["mmsi"].to_list(), g["t0"].to_list()))

    def danger(self, lat: np.ndarray, lon: np.ndarray, radius: float) -> np.ndarray:
        """Spots whose plan (``radius`` nm) could lend reception to a real vessel's silence."""
        out = np.zeros(len(lat), bool)
        if not len(self.danger_pts) or not len(lat):
            return out
        from scipy.spatial import cKDTree

        tree = cKDTree(_xyz(self.danger_pts[:, 0], self.danger_pts[:, 1]))
        rmax = float(self.danger_pts[:, 2].max()) + radius
        for k, ix in enumerate(tree.query_ball_point(_xyz(lat, lon), _chord(rmax))):
            if ix:
                d = haversine_nm(lat[k], lon[k], self.danger_pts[ix, 0], self.danger_pts[ix, 1])
                out[k] = bool((d <= self.danger_pts[ix, 2] + radius).any())
        return out

    def problems(self, planted: pl.DataFrame, intended: set[int]) -> tuple[set, set]:
        """(real silences made events, planted MMSIs with an unintended event-making silence).
        ``planted``: mmsi, ts, lat, lon, sog_kn, cog_deg of the planted positions; ``intended``:
        MMSIs whose (closed) silence is the planted ais_gap."""
        from .tracks import build_tracks

        if planted.height == 0:
            return set(), set()
        ptr = build_tracks(planted.select("mmsi", "ts", "lat", "lon", "sog_kn", "cog_deg"), places=False).points
        ptr = ptr.filter(pl.col("seg_id").is_not_null())
        cols = ["mmsi", "seg_id", "ts", "lat", "lon", "sog_kn", "cog_deg", "dt_s", "dist_to_shore_nm", "port_dist_km"]
        parts = [ptr.select(cols)]
        if self.real is not None:
            parts.insert(0, self.real.select(cols))
        comb = pl.concat(parts, how="vertical_relaxed")
        end = max(self.end_comb, ptr["ts"].max())
        g = self.gapmod._gaps(comb, self.min_gap_s, end).with_row_index("gi")
        good = self._good(g, comb, end) if g.height else set()
        pm = set(planted["mmsi"].unique().to_list())
        flips = {x for x in good if x[0] not in pm} - self.before
        closed = set(zip(*[g.filter(pl.col("t1").is_not_null())[c].to_list() for c in ("mmsi", "t0")])) if g.height else set()
        bad = {m for m, t in good if m in pm and not (m in intended and (m, t) in closed)}
        return flips, bad


# ------------------------------------------------------------------------------------------------
# the planner


@dataclass(frozen=True)
class _Window:
    a: datetime | None  # main span of the base's receive times
    b: datetime | None
    E: datetime  # the planted window's end


def _window(base: Base) -> _Window:
    timed = base.timed
    span = _main_span(timed["ts"].dt.epoch("us").to_numpy()) if timed.height else None
    if span is None:
        return _Window(None, None, UNTIMED_END)
    a, b = _dt(span[0]), _dt(span[1])
    E = max(b, a + timedelta(hours=SHORT_TAIL_H))
    E = E.replace(microsecond=0) + (timedelta(seconds=1) if E.microsecond else timedelta(0))
    return _Window(a, b, E)


@dataclass
class _Placed:
    event_type: str
    vessels: list
    plants: list
    spots: list[tuple[float, float, float]]  # (lat, lon, radius nm) claimed
    seeds: list[int]  # seed indices used (excluded on a retry)
    where: str


class _Planner:
    def __init__(self, base: Base, info: dict, seed: int, excluded: dict[str, set[int]], guard: _GapGuard,
                 win: _Window):
        from .scenarios import Registry
        from .tracks import ports_with_anchorages
        from .zones.ports import ports_table

        self.base, self.info, self.seed = base, info, seed
        self.excluded = excluded
        self.rng = np.random.default_rng([seed, 11])
        self.reg = Registry(np.random.default_rng([seed, 12]))
        self.reg.mmsis |= base.mmsis  # never an MMSI of the base
        timed = base.timed
        self.guard = guard
        self.a, self.b, self.E = win.a, win.b, win.E
        self._danger: dict[float, np.ndarray] = {}
        self.origin = self.E - timedelta(hours=BACK_H)
        self.t_end = BACK_H * H  # seconds from origin
        self.tm = self.t_end - LEAD_H * H
        # seeds: real vessel positions, thinned, densest traffic first
        pos = base.positions.filter(pl.col("lat").abs() <= MAX_SEED_LAT).with_columns(
            qa=(pl.col("lat") * 50).round(), qo=(pl.col("lon") * 50).round(),
        ).unique(["mmsi", "qa", "qo"], keep="first", maintain_order=True)
        if pos.height > MAX_SEEDS:
            pos = pos.gather(np.linspace(0, pos.height - 1, MAX_SEEDS).astype(np.int64))
        self.seeds = pos
        lat, lon = pos["lat"].to_numpy(), pos["lon"].to_numpy()
        self.lat, self.lon = lat, lon
        from scipy.spatial import cKDTree

        allp = base.positions.with_columns(qa=(pl.col("lat") * 20).round(), qo=(pl.col("lon") * 20).round()).unique(
            ["mmsi", "qa", "qo"])
        tree = cKDTree(_xyz(allp["lat"].to_numpy(), allp["lon"].to_numpy()))
        near = tree.query_ball_point(_xyz(lat, lon), _chord(20.0))
        mm = allp["mmsi"].to_numpy()
        self.density = np.array([len(np.unique(mm[ix])) for ix in near], np.int64)
        self.ports = ports_with_anchorages(timed) if timed.height else ports_table()
        self._port_tree = cKDTree(_xyz(self.ports["lat"].to_numpy(), self.ports["lon"].to_numpy()))
        self.port_km = self.port_dist_km(lat, lon)
        self.order = np.lexsort((self.rng.random(len(lat)), -self.density))
        # zones (null outside 111-159E, 14-56N)
        from . import zones

        z = zones.lookup(lat, lon) if len(lat) else None
        self.shore = z["dist_to_shore_nm"].cast(pl.Float64).to_numpy() if z is not None else np.zeros(0)
        self.covered = bool(len(self.shore) and np.isfinite(self.shore).any())
        self.zone = z
        # real vessels that linger long enough to meet a planted one (encounter needs hours)
        self._lingerers = None
        if timed.height:
            span_v = timed.group_by("mmsi").agg(s=(pl.col("ts").max() - pl.col("ts").min()).dt.total_seconds())
            long_v = span_v.filter(pl.col("s") >= 1.5 * H)["mmsi"]
            slow = timed.filter(pl.col("mmsi").is_in(long_v.implode()) & (pl.col("sog_kn").is_null() | (pl.col("sog_kn") < 3)))
            if slow.height:
                self._lingerers = (cKDTree(_xyz(slow["lat"].to_numpy(), slow["lon"].to_numpy())),
                                   (slow["ts"].dt.epoch("us").to_numpy() / 1e6 - self.origin.timestamp()))
        self.claimed: list[tuple[float, float, float]] = []

    # -- spot checks --------------------------------------------------------------------------
    def port_dist_km(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Great-circle km to the nearest port or anchorage (as seawatch.zones.ports.nearest_port)."""
        if not len(lat):
            return np.zeros(0)
        chord, _ = self._port_tree.query(_xyz(lat, lon), k=1)
        return 2.0 * EARTH_R_NM * 1.852 * np.arcsin(np.minimum(np.asarray(chord) / 2.0, 1.0))

    def _free(self, lat: float, lon: float, radius: float) -> bool:
        return all(float(haversine_nm(lat, lon, a, b)) >= radius + r + 1.0 for a, b, r in self.claimed)

    def candidates(self, kind: str, radius: float, min_port_km: float = PORT_KM):
        """Seed indices usable as the centre of a plan of ``radius`` nm, best first."""
        bad = self.excluded.get(kind, set())
        for i in self.order:
            i = int(i)
            if i in bad or self.port_km[i] < min_port_km:
                continue
            if self.covered and np.isfinite(self.shore[i]) and self.shore[i] < 12.0 + radius + 1.5:
                continue
            if self.covered and self.zone is not None and self.zone["on_land"][i]:
                continue
            if not self._free(self.lat[i], self.lon[i], radius):
                continue
            if self.danger(radius)[i]:
                continue
            yield i

    def danger(self, radius: float) -> np.ndarray:
        if radius not in self._danger:
            self._danger[radius] = self.guard.danger(self.lat, self.lon, radius)
        return self._danger[radius]

    def plan_ok(self, vessels: list, t_from: float, *, min_port_km: float = PORT_KM, port_span=None,
                night: bool = False) -> bool:
        """The plans of ``vessels`` stay off land and (except the night approach) beyond the
        territorial sea where zones answer, away from ports, and clear of lingering real vessels."""
        t, la, lo = _route_samples(vessels, t_from, self.t_end, 120.0)
        if not len(t):
            return False
        from . import zones

        if self.covered:
            z = zones.lookup(la, lo)
            if z["on_land"].fill_null(False).any():
                return False
            shore = z["dist_to_shore_nm"].cast(pl.Float64).to_numpy()
            if not night and (np.isfinite(shore) & (shore <= 12.5)).any():
                return False
        pk = self.port_dist_km(la, lo)
        if port_span is not None:  # the stricter distance only while the behaviour lasts
            inside = (t >= port_span[0]) & (t <= port_span[1])
            if (pk[inside] < min_port_km).any() or (pk < PORT_KM).any():
                return False
        elif (pk < min_port_km).any():
            return False
        if self.guard.danger(la, lo, 0.0).any():
            return False
        if self._lingerers is not None:
            tree, tt = self._lingerers
            for k, ix in enumerate(tree.query_ball_point(_xyz(la, lo), _chord(1.5))):
                if ix and (np.abs(tt[ix] - t[k]) <= H).any():
                    return False
        return True

    def claim(self, spots: list[tuple[float, float, float]]) -> None:
        self.claimed.extend(spots)

    # -- the plants ---------------------------------------------------------------------------
    def gap(self) -> _Placed | str:
        from scipy.spatial import cKDTree

        from .scenarios import plant_gap_at

        if self.a is None:
            return ("the base has no receive times: its traffic is not tracked, so nothing real can be "
                    "heard around a silence")
        span_h = (self.b - self.a).total_seconds() / H
        if span_h < GAP_NEED_H:
            return (f"the base's timed traffic spans {_dur(span_h)}; a {GAP_OFF_H:g} h silence needs real traffic "
                    f"heard around it all the while, about {GAP_NEED_H:g} h of data: planted vessels may run "
                    "beyond the base's span, but the gap detector needs real traffic during the gap")
        timed = self.base.timed
        t_real = timed["ts"].dt.epoch("us").to_numpy() / 1e6 - self.origin.timestamp()
        xyz_real = _xyz(timed["lat"].to_numpy(), timed["lon"].to_numpy())
        a_s = (self.a - self.origin).total_seconds()
        b_s = (self.b - self.origin).total_seconds()
        g_hi = min(b_s, self.t_end) - (GAP_OFF_H + 0.75) * H
        grid = np.arange(g_hi, max(a_s, 0.0) + 1.0 * H - 1, -0.5 * H)[:48]  # the latest day of starts
        k = self.gapmod_min()
        chord = _chord(GAP_WITNESS_NM)
        for g0 in grid:
            g1 = g0 + GAP_OFF_H * H
            windows = [(g0 + 600, g1 - 600)] + [(g0 + h * H, min(g0 + (h + 1) * H, g1)) for h in range(int(np.ceil(GAP_OFF_H)))]
            trees = []
            for w0, w1 in windows:
                sel = (t_real > w0) & (t_real < w1)
                trees.append(cKDTree(xyz_real[sel]) if sel.any() else None)
            if any(tr is None for tr in trees):
                continue

            def witnessed(lat: np.ndarray, lon: np.ndarray, trees: list = trees) -> np.ndarray:
                x = _xyz(lat, lon)
                ok = trees[0].query_ball_point(x, chord, return_length=True) >= 2 * k
                for tr in trees[1:]:
                    ok &= tr.query_ball_point(x, chord, return_length=True) >= 1
                return ok

            good0 = witnessed(self.lat, self.lon)
            for i in self.candidates("ais_gap", GAP_MOVE_NM + 1.0, GAP_PORT_KM):
                if not good0[i]:
                    continue
                p0 = (float(self.lat[i]), float(self.lon[i]))
                for brg in np.arange(0, 360, 45) + float(self.rng.uniform(0, 45)):
                    q = destination(p0[0], p0[1], brg, GAP_MOVE_NM)
                    p1 = (float(q[0]), float(q[1]))
                    if not witnessed(np.array([p1[0]]), np.array([p1[1]]))[0]:
                        continue
                    vs, pl_ = plant_gap_at(self.rng, self.reg, p0, p1, g0, g1, g0 - 1.0 * H, self.t_end, flag=_GAP_FLAG)
                    if not self.plan_ok(vs, g0 - 1.0 * H, min_port_km=GAP_PORT_KM):
                        continue
                    mid = destination(p0[0], p0[1], brg, GAP_MOVE_NM / 2)
                    spots = [(float(mid[0]), float(mid[1]), GAP_MOVE_NM / 2 + 1.0)]
                    self.claim(spots)
                    return _Placed("ais_gap", vs, pl_, spots, [i], f"{p0[0]:.3f}, {p0[1]:.3f}")
        return (f"no spot at least {GAP_PORT_KM:g} km from every port where real traffic is heard within "
                f"{GAP_WITNESS_NM:g} nm of both ends of a {GAP_OFF_H:g} h silence in every hour of it")

    def gapmod_min(self) -> int:
        from .detect import gap as gapmod

        return int(gapmod.PRESETS["coastal"].min_other_positions)

    def encounter(self) -> _Placed | str:
        from .scenarios import plant_encounter_at

        t0, t1 = self.tm - 2.5 * H, self.tm + 1.0 * H
        for i in self.candidates("encounter", 2.5, ENCOUNTER_PORT_KM):
            spot = (float(self.lat[i]), float(self.lon[i]))
            vs, pl_ = plant_encounter_at(self.rng, self.reg, spot, t0, t1, self.t_end,
                                         tanker_flag=_ENC_FLAGS[0], craft_flag=_ENC_FLAGS[1])
            if self.plan_ok(vs, t0 - 1.25 * H, min_port_km=ENCOUNTER_PORT_KM, port_span=(t0, t1)):
                spots = [(spot[0], spot[1], 2.5)]
                self.claim(spots)
                return _Placed("encounter", vs, pl_, spots, [i], f"{spot[0]:.3f}, {spot[1]:.3f}")
        return (f"no position of real traffic at least {ENCOUNTER_PORT_KM:g} km (plus the drift) from every port "
                "of the port table: an encounter nearer a port is a port call, not an encounter")

    def jump(self) -> _Placed | str:
        from .scenarios import plant_clone_at

        t_from = self.tm - 1.0 * H
        partners = np.zeros(len(self.lat), bool)
        partners[list(self.candidates("position_jump", 2.0))] = True
        best = None  # (distance, a, b)
        for n, i in enumerate(self.candidates("position_jump", 0.5)):
            if n >= 60:
                break
            d = haversine_nm(self.lat[i], self.lon[i], self.lat, self.lon)
            ok = partners & (d >= JUMP_MIN_NM)
            if not ok.any():
                continue
            far = ok & (d >= JUMP_FAR_NM)
            # the nearest partner 100 nm or more away, else the farthest one
            j = int(np.flatnonzero(far)[np.argmin(d[far])]) if far.any() else int(np.flatnonzero(ok)[np.argmax(d[ok])])
            a = (float(self.lat[i]), float(self.lon[i]))
            b = (float(self.lat[j]), float(self.lon[j]))
            vs, pl_ = plant_clone_at(self.rng, self.reg, a, b, t_from, self.t_end, flag=_CLONE_FLAG)
            if not self.plan_ok(vs, t_from - 0.5 * H):
                continue
            if best is None or d[j] > best[0]:
                best = (float(d[j]), a, b, vs, pl_, i, j)
            if d[j] >= JUMP_FAR_NM:
                break
        if best is not None:
            dist, a, b, vs, pl_, i, j = best
            spots = [(a[0], a[1], 0.5), (b[0], b[1], 2.0)]
            self.claim(spots)
            return _Placed("position_jump", vs, pl_, spots, [i, j],
                           f"{a[0]:.3f}, {a[1]:.3f} and {b[0]:.3f}, {b[1]:.3f} ({dist:.0f} nm apart)")
        return (f"no two positions of real traffic at least {JUMP_MIN_NM:g} nm apart that are free (away from ports, "
                "the other plants and real vessels' silences)")

    def _single(self, kind: str, radius: float, build, t_from: float) -> _Placed | str:
        for i in self.candidates(kind, radius):
            spot = (float(self.lat[i]), float(self.lon[i]))
            vs, pl_ = build(spot)
            if self.plan_ok(vs, t_from):
                spots = [(spot[0], spot[1], radius)]
                self.claim(spots)
                return _Placed(kind, vs, pl_, spots, [i], f"{spot[0]:.3f}, {spot[1]:.3f}")
        return "no free spot at sea near the real traffic, away from ports and the other plants"

    def dash(self) -> _Placed | str:
        from .scenarios import plant_dash_at

        t_from, t_dash = self.tm - 1.25 * H, self.tm - 10 * MIN
        return self._single("speed_anomaly", 5.0, lambda s: plant_dash_at(
            self.rng, self.reg, s, t_dash, t_from, self.t_end, flag=_DASH_FLAG), t_from)

    def rename(self) -> _Placed | str:
        from .scenarios import plant_rename_at

        t_from = self.tm - 1.5 * H
        return self._single("identity_change", 0.5, lambda s: plant_rename_at(
            self.rng, self.reg, s, self.tm, t_from, self.t_end, flag=_RENAME_FLAG), t_from)

    def mismatch(self) -> _Placed | str:
        from .scenarios import plant_mismatch_at

        t_from = self.tm - 1.5 * H
        return self._single("identity_mismatch", 2.0, lambda s: plant_mismatch_at(
            self.rng, self.reg, s, t_from, self.t_end), t_from)

    def _hover_spots(self) -> list[tuple[int, tuple[float, float], float, str]]:
        """Points 4.5-8.5 nm from shore in a territorial sea (of a known state), at least 8 km from
        ports, near real traffic inside the zones: (seed, point, distance to shore, coastal state),
        the seeds in their usual order, for each the nearest such point within 40 nm."""
        from . import zones

        z = self.zone
        bad = self.excluded.get("night_coastal_approach", set())
        on_land = z["on_land"].fill_null(True).to_numpy()
        seeds = [int(i) for i in self.order if np.isfinite(self.shore[i]) and not on_land[i]
                 and self.shore[i] <= 40.0 and int(i) not in bad][:60]
        if not seeds:
            return []
        dist = np.concatenate([[0.0], np.arange(2.0, 40.01, 2.0)])
        brg = np.arange(0.0, 360.0, 20.0)
        dd, bb = np.meshgrid(dist, brg, indexing="ij")
        dd, bb = dd.ravel(), bb.ravel()
        la, lo = destination(np.repeat(self.lat[seeds], len(dd)), np.repeat(self.lon[seeds], len(dd)),
                             np.tile(bb, len(seeds)), np.tile(dd, len(seeds)))
        zz = zones.lookup(la, lo)
        sh = zz["dist_to_shore_nm"].cast(pl.Float64).fill_null(-1).to_numpy()
        ok = ((sh >= 4.5) & (sh <= 8.5) & ~zz["on_land"].fill_null(True).to_numpy()
              & (zz["zone_kind"] == "territorial_sea").fill_null(False).to_numpy()
              & zz["zone_state"].is_not_null().to_numpy())
        ok &= self.port_dist_km(la, lo) >= 8.0
        ok &= ~self.guard.danger(la, lo, 16.0)
        state = zz["zone_state"].to_numpy()
        out = []
        for k, i in enumerate(seeds):
            sl = slice(k * len(dd), (k + 1) * len(dd))
            hit = np.flatnonzero(ok[sl])
            hit = [h for h in hit if self._free(la[sl][h], lo[sl][h], 1.0)]
            if hit:
                h = hit[int(np.argmin(dd[hit]))]
                out.append((i, (float(la[sl][h]), float(lo[sl][h])), float(sh[sl][h]), str(state[sl][h])))
        return out

    def night(self) -> _Placed | str:
        from . import astro, zones
        from .scenarios import plant_night_hover_at

        if not self.covered:
            return ("outside the zones seawatch ships (111-159E, 14-56N): no distance to shore or territorial "
                    "sea to hover in, so the night_coastal_approach detector cannot fire here")
        cand = self._hover_spots()
        if not cand:
            n_in = int(np.isfinite(self.shore).sum())
            return (f"{n_in} of the {len(self.shore)} spots of real traffic lie inside the zones seawatch ships "
                    "(111-159E, 14-56N), and there is no point 4.5-8.5 nm from shore in a territorial sea near "
                    "them, away from ports, to hover in")
        grid = np.arange(self.t_end - NIGHT_SEARCH_H * H, self.t_end - 0.5 * H, 300.0)
        for i, hover, shore_nm, coast_state in cand:
            ring = destination(hover[0], hover[1], np.arange(0, 360, 45), 1.0)
            zr = zones.lookup(ring[0], ring[1])
            if zr["on_land"].fill_null(True).any() or (zr["dist_to_shore_nm"].fill_null(0) < 2.5).any():
                continue
            # the way out: a bearing whose 15 nm line stays at sea and ends beyond 14.5 nm from shore
            best = None
            for brg in np.arange(0, 360, 15.0):
                line = destination(hover[0], hover[1], brg, np.arange(0.5, 18.01, 0.5))
                zl = zones.lookup(line[0], line[1])
                if zl["on_land"].fill_null(True).any():
                    continue
                sh = zl["dist_to_shore_nm"].cast(pl.Float64).fill_null(0).to_numpy()
                if sh[29] >= 14.5 and sh[29:].min() >= 13.5 and (best is None or sh[29] > best[1]):
                    best = (float(brg), float(sh[29]))
            if best is None:
                continue
            outer = tuple(float(x) for x in destination(hover[0], hover[1], best[0], 15.0))
            night = np.asarray(astro.is_night(np.full(len(grid), hover[0]), np.full(len(grid), hover[1]),
                                              pl.Series([self.origin + timedelta(seconds=float(s)) for s in grid])), bool)
            n_need = int(NIGHT_HOVER_H * H / 300.0) + 1
            ok = np.convolve(night.astype(int), np.ones(n_need, int), "valid") == n_need
            if not ok.any():
                return f"no night of {NIGHT_HOVER_H:g} h at {hover[0]:.2f}, {hover[1]:.2f} in the {NIGHT_SEARCH_H:g} h before the window's end"
            h0 = float(grid[np.flatnonzero(ok)[-1]])
            h1 = h0 + (n_need - 1) * 300.0
            flag = next(f for f in _NIGHT_FLAGS if f != coast_state)
            vs, pl_ = plant_night_hover_at(self.rng, self.reg, outer, hover, h0, h1, self.t_end, flag=flag,
                                           drift_bearing=best[0])
            if not self.plan_ok(vs, h0 - 3 * H, night=True):
                continue
            # beyond the hover it must stay outside the territorial sea
            t, la, lo = _route_samples(vs, h1 + 1.6 * H, self.t_end, 300.0)
            sh = zones.lookup(la, lo)["dist_to_shore_nm"].cast(pl.Float64).fill_null(99).to_numpy() if len(t) else np.zeros(0)
            if len(sh) and sh.min() < 13.0:
                continue
            spots = [(hover[0], hover[1], 1.0), (outer[0], outer[1], 1.5)]
            self.claim(spots)
            return _Placed("night_coastal_approach", vs, pl_, spots, [i],
                           f"{hover[0]:.3f}, {hover[1]:.3f} ({shore_nm:.1f} nm from shore, territorial sea of "
                           f"{coast_state}), in from {outer[0]:.3f}, {outer[1]:.3f}")
        return ("no spot 4-9 nm from shore in a territorial sea near the real traffic, with open water "
                "around it and a way out to sea")

    def plan(self) -> tuple[list[_Placed], dict[str, str]]:
        placed: list[_Placed] = []
        skipped: dict[str, str] = {}
        for kind, fn in (("ais_gap", self.gap), ("encounter", self.encounter), ("position_jump", self.jump),
                         ("speed_anomaly", self.dash), ("identity_change", self.rename),
                         ("identity_mismatch", self.mismatch), ("night_coastal_approach", self.night)):
            res = fn()
            if isinstance(res, str):
                skipped[kind] = res
            else:
                placed.append(res)
        return placed, skipped


def _dur(h: float) -> str:
    s = h * H
    if s < 120:
        return f"{s:.0f} s"
    if s < 2 * H:
        return f"{s / 60:.0f} min"
    return f"{h:.1f} h"


# ------------------------------------------------------------------------------------------------
# the public function


def _transmit(placed: list[_Placed], planner: _Planner, seed: int):
    from .simulate import Station, _encode, _heard_times, _receive, _resolve, _transmit

    vessels = [v for p in placed for v in p.vessels]
    plants = [x for p in placed for x in p.plants]
    stations = tuple(Station(f"{STATION}-{k + 1}", lat, lon, RX_RANGE_NM)
                     for k, (lat, lon, _) in enumerate(s for p in placed for s in p.spots))
    duration = planner.t_end
    msgs = _transmit(vessels, duration, seed)
    rx = _receive(msgs, vessels, stations, seed)
    records, rec_t = _encode(msgs, rx, stations, planner.origin, seed)
    heard = _heard_times(msgs, rx, len(vessels))
    epoch0 = int(planner.origin.timestamp())
    truth, cut = _resolve(plants, vessels, heard, msgs["idents"], duration, epoch0)
    # planted positions as the store will hold them (first reception of each message heard)
    first = np.unique(rx["msg"], return_index=True)
    m, k = first[0], first[1]
    is_pos = (msgs["kind"][m] == 1) | (msgs["kind"][m] == 18)
    m, k = m[is_pos], k[is_pos]
    mmsi_of = np.array([i.mmsi for i in msgs["idents"]], np.int64)
    vi = msgs["vi"][m]
    points = pl.DataFrame({
        "mmsi": mmsi_of[msgs["ident"][m]],
        "ts": ((epoch0 + np.floor(rx["t"][k])) * 1e6).astype(np.int64),
        "lat": msgs["lat"][m], "lon": msgs["lon"][m], "sog_kn": msgs["sog"][m], "cog_deg": msgs["cog"][m], "vi": vi,
    }).with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")))
    owner = np.concatenate([[n] * len(p.vessels) for n, p in enumerate(placed)]).astype(np.int64) if vessels else np.zeros(0, np.int64)
    points = points.with_columns(plant=pl.Series(owner[vi] if len(vi) else np.zeros(0, np.int64)))
    return {"records": records, "rec_t": rec_t, "truth": truth, "cut": cut, "points": points, "stations": stations,
            "vessels": vessels, "epoch0": epoch0}


def _offenders(guard: _GapGuard, placed: list[_Placed], points: pl.DataFrame) -> list[int]:
    """Indices of the plants that make, or help make, an ais_gap event that should not be."""
    intended = {v.ident.mmsi for p in placed if p.event_type == "ais_gap" for v in p.vessels}
    flips, bad = guard.problems(points, intended)
    if not flips and not bad:
        return []
    owner = {v.ident.mmsi: n for n, p in enumerate(placed) for v in p.vessels}
    out = sorted({owner[m] for m in bad})
    if flips:  # add plants one by one until real silences flip
        acc: list[int] = []
        for n in range(len(placed)):
            if guard.problems(points.filter(pl.col("plant").is_in(acc + [n])), intended)[0]:
                out.append(n)
                break
            acc.append(n)
    return sorted(set(out))


def _base_name(base: Base) -> str:
    name = base.path.name
    low = name.lower()
    for comp in (".gz", ".zip"):
        if low.endswith(comp):
            inner = Path(name[: -len(comp)]).suffix
            return f"base{inner}{comp}"
    suf = Path(name).suffix
    if suf and len(suf) <= 10:
        return f"base{suf}"
    fmt = base.formats[0] if base.formats else "nmea"
    return "base." + {"nmea": "nmea", "noaa_csv": "csv", "dma_csv": "csv", "parquet": "parquet"}.get(fmt, "dat")


def _place_base(base: Base, out: Path) -> Path:
    """``out/base.<ext>``: a symbolic link to the base (a copy where links are not possible).

    Links left by an earlier run are replaced; a regular ``base.*`` file is kept only when it is
    this base's copy under this name, otherwise it is the user's and inject stops."""
    from .ingest.files import fingerprint

    target = out / _base_name(base)
    src = base.path.resolve()
    for old in sorted(out.glob("base.*")):
        if old.is_symlink():
            if old != target or old.resolve() != src:
                old.unlink()
        elif old.is_file():
            if old == target and fingerprint(old) == fingerprint(src):
                return target
            raise SeawatchError(f"{old} exists and is not a link to {src}: `seawatch ingest {out}/base.*` would "
                                "read it too — move it away or choose another --out")
    if target.is_symlink():
        return target
    try:
        os.symlink(src, target)
    except OSError:
        shutil.copyfile(src, target)
    return target


def inject(base: str | os.PathLike[str], out: str | os.PathLike[str], *, seed: int = 0) -> dict[str, Any]:
    """Plant seawatch's behaviours into the real data of ``base``; write ``base.<ext>``,
    ``planted.nmea``, ``truth.jsonl`` and ``README.md`` into ``out`` (see the module doc).

    Returns a summary: ``base`` (:func:`describe_base`), ``out``, ``seed``, the files
    (``base_file``, ``planted``, ``truth``, ``readme``), ``window`` (first and last planted
    message, ISO UTC), ``lines`` of planted NMEA, ``planted`` (the truth records),
    ``skipped`` (``{event_type: reason}`` for every behaviour not planted), ``places``
    (``{event_type: where}``) and ``mmsis`` (the planted MMSIs). Same base, same seed, same files.
    """
    b = read_base(base)
    info = describe_base(b)
    if b.positions.height == 0:
        raise SeawatchError(f"{b.path} holds no vessel positions: there is no sea to plant into — "
                            "give a file with AIS position reports (types 1-3, 18, 19 or 27)")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SeawatchError(f"cannot create output directory {out}: {e.strerror}") from None
    excluded: dict[str, set[int]] = {}
    win = _window(b)
    guard = _GapGuard(b.timed, win.E)
    dropped: dict[str, str] = {}
    for attempt in range(MAX_ATTEMPTS + 1):
        planner = _Planner(b, info, seed, excluded, guard, win)
        placed, skipped = planner.plan()
        skipped.update(dropped)
        placed = [p for p in placed if p.event_type not in dropped]
        sim = _transmit(placed, planner, seed)
        offenders = _offenders(guard, placed, sim["points"])
        if not offenders:
            break
        for n in offenders:
            kind = placed[n].event_type
            if attempt + 1 >= MAX_ATTEMPTS:  # give up on it, and say so
                dropped[kind] = ("every spot tried would have made planted and real traffic each other's "
                                 "ais_gap evidence (a real vessel's silence with planted reception around it, "
                                 "or a planted vessel's)")
            excluded.setdefault(kind, set()).update(placed[n].seeds)
    while offenders:  # the last attempt still had some: leave them out
        for n in offenders:
            skipped[placed[n].event_type] = dropped.get(placed[n].event_type, "") or (
                "every spot tried would have made planted and real traffic each other's ais_gap evidence")
        placed = [p for n, p in enumerate(placed) if n not in offenders]
        sim = _transmit(placed, planner, seed)
        offenders = _offenders(guard, placed, sim["points"])
    if sim["cut"]:  # a plan that does not complete within the window (not expected): left out, and said
        cut = {r["event_type"]: r["note"] for r in sim["cut"]}
        for kind, note in cut.items():
            skipped[kind] = f"not complete within the planted window: {note}"
        placed = [p for p in placed if p.event_type not in cut]
        sim = _transmit(placed, planner, seed)
    # write
    base_file = _place_base(b, out)
    text = "\n".join(sim["records"]) + ("\n" if sim["records"] else "")
    planted = out / "planted.nmea"
    planted.write_text(text, encoding="ascii")
    truth = out / "truth.jsonl"
    truth.write_text("".join(json.dumps(r) + "\n" for r in sim["truth"]), encoding="utf-8")
    rec_t = sim["rec_t"]
    e0 = sim["epoch0"]
    window = ([_iso(datetime.fromtimestamp(e0 + int(np.floor(rec_t.min())), UTC)),
               _iso(datetime.fromtimestamp(e0 + int(np.floor(rec_t.max())), UTC))] if len(rec_t) else [None, None])
    summary = {
        "base": info,
        "out": str(out),
        "seed": seed,
        "base_file": str(base_file),
        "planted_file": str(planted),
        "truth": str(truth),
        "readme": str(out / "README.md"),
        "window": window,
        "window_end": _iso(planner.E),
        "key_time": _iso(planner.origin + timedelta(seconds=planner.tm)),
        "lines": text.count("\n"),
        "planted": list(sim["truth"]),
        "skipped": {k: skipped[k] for k in PLANT_TYPES if k in skipped},
        "places": {p.event_type: p.where for p in placed},
        "mmsis": sorted({v.ident.mmsi for v in sim["vessels"]}),
        "stations": [s.name for s in sim["stations"]],
        "attempts": attempt + 1,
    }
    (out / "README.md").write_text(_readme(summary, planner), encoding="utf-8")
    return summary


# ------------------------------------------------------------------------------------------------
# README


def _readme(s: dict[str, Any], planner: _Planner) -> str:
    b = s["base"]
    base_name = Path(s["base_file"]).name
    lines = [
        f"# Behaviours planted into `{Path(b['path']).name}` (seed {s['seed']})",
        "",
        f"Made by `seawatch inject --base {b['path']} --out {s['out']} --seed {s['seed']}`.",
        "",
        "## The base",
        "",
        f"- `{base_name}` -> `{b['path']}` (format {b['format']}, {b['lines_read']:,} lines read).",
        (f"- {b['positions']:,} vessel positions ({b['timed_positions']:,} with a receive time, "
         f"{b['untimed_positions']:,} without) of {b['vessels']:,} vessels; {b['mmsis']:,} MMSIs in all messages; "
         f"{b['tracked_vessels']:,} vessels with at least two timed positions."),
    ]
    if b["area"]:
        la0, la1, lo0, lo1 = b["area"]
        lines.append(f"- Area: {la0:.2f} to {la1:.2f} N, {lo0:.2f} to {lo1:.2f} E.")
    if b["span_start"]:
        lines.append(f"- Main span of receive times: {b['span_start']} to {b['span_end']} ({_dur(b['span_h'])}); "
                     f"data end {b['data_end']}.")
    else:
        lines.append(f"- No receive times: seawatch keeps these rows but tracks none of them. The planted window "
                     f"ends at the nominal {_iso(UNTIMED_END)}.")
    lines += [
        "",
        "## The planted window",
        "",
        (f"Planted messages run from {s['window'][0]} to {s['window'][1]} ({s['lines']:,} NMEA lines in "
         f"`planted.nmea`, {len(s['mmsis'])} MMSIs: {', '.join(map(str, s['mmsis']))}; none of them is in the base)."),
    ]
    if b["span_start"] and s["window"][0]:
        if s["window"][0] >= b["span_start"]:
            lines.append("The behaviours lie within the base's span, ending at its end.")
        else:
            lines.append(
                f"The base's timed traffic spans {_dur(b['span_h'])}, less than the behaviours need, so they start "
                f"before it (planted vessels may run beyond the base's span where the detectors still work: only "
                f"ais_gap needs real traffic throughout). Their key moments include {s['key_time']}, as near the "
                "start of the base's span as they can be: the rename happens then, the dash, the encounter and the "
                f"two transmitters of the cloned MMSI are under way then. Every planted message ends by {s['window_end']} (at the span's end, or "
                f"{SHORT_TAIL_H:g} h after its start if it is shorter), so that no real vessel's last report is "
                "followed by the 2 h of data that would make it look \"gone dark\".")
    lines += [
        "",
        "## Planted behaviours (truth.jsonl)",
        "",
        "| event_type | mmsi | other_mmsi | start_time | end_time | where | what |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in s["planted"]:
        lines.append(f"| {r['event_type']} | {r['mmsi']} | {r['other_mmsi'] or ''} | {r['start_time']} | "
                     f"{r['end_time'] or '(open)'} | {s['places'].get(r['event_type'], '')} | {r['note']} |")
    lines += ["", "## Not planted", ""]
    if s["skipped"]:
        lines += [f"- **{k}**: {v}." for k, v in s["skipped"].items()]
    else:
        lines.append("Nothing: every behaviour was planted.")
    lines += [
        "",
        "## How the plants were placed",
        "",
        "- Spots are positions where real vessels were seen (densest traffic first: distinct real vessels within "
        f"20 nm), at least {PORT_KM:g} km from every port of the port table and the anchorages inferred from the base, "
        f"{ENCOUNTER_PORT_KM:g} km for the encounter; spots of different plants are kept apart. Plans stay within a "
        "few nautical miles of their spot"
        + (" and every planned position was checked against the land polygons (the plants other than the night "
           "approach keep beyond the territorial sea)." if planner.covered else
           ": outside 111-159E, 14-56N seawatch has no land polygons to check them against."),
        "- Planted vessels are heard by virtual receivers named `" + STATION + "-N` at their spots "
        f"({RX_RANGE_NM:g} nm range, 2 % of receptions lost, receiver duplicates where two are in range), with ITU "
        "reporting intervals as in `seawatch simulate`.",
        ("- No planted position changes what the ais_gap detector decides about a real vessel (checked with the "
         "detector's own gap and reception code, real tracks with and without the plants); spots where a real "
         "vessel lingers under 3 kn for hours are not used."),
        "",
        "## Use",
        "",
        "```",
        f"seawatch ingest {s['out']}/{base_name} {s['out']}/planted.nmea --db DB",
        "seawatch detect --db DB --out events.jsonl",
        f"seawatch eval --truth {s['out']}/truth.jsonl --events events.jsonl",
        "```",
        "",
        ("Real vessels can genuinely show the planted behaviours (a real identity mismatch, a real gap): such events "
         "count as false positives here. Run the detectors on the base alone to tell them apart."),
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# command line (registered by seawatch.cli)


def _cli_errors(f):
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import click

        try:
            return f(*args, **kwargs)
        except SeawatchError as e:
            click.echo(f"Error: {' '.join(str(e).split())}", err=True)
            sys.exit(2)
        except OSError as e:
            where = f": {e.filename}" if getattr(e, "filename", None) else ""
            click.echo(f"Error: {e.strerror or e}{where}", err=True)
            sys.exit(1)

    return wrapper


def _make_command():
    import click

    @click.command("inject")
    @click.option("--base", required=True, metavar="FILE",
                  help="Real AIS data: NMEA, NOAA or DMA CSV, Parquet (plain, .gz or .zip).")
    @click.option("--out", required=True, metavar="DIR",
                  help="Directory for base.<ext>, planted.nmea, truth.jsonl and README.md.")
    @click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same files).")
    @_cli_errors
    def inject_command(base: str, out: str, seed: int) -> None:
        """Plant the scenarios' behaviours into real AIS data, with their truth.

        Then: seawatch ingest DIR/base.* DIR/planted.nmea --db DB; seawatch detect --db DB
        --out events.jsonl; seawatch eval --truth DIR/truth.jsonl --events events.jsonl.
        """
        res = inject(base, out, seed=seed)
        b = res["base"]
        span = f"{b['span_start']} + {_dur(b['span_h'])}" if b["span_start"] else "no receive times"
        click.echo(f"base: {b['positions']:,} positions of {b['vessels']:,} vessels ({span})")
        click.echo(f"planted {len(res['planted'])} behaviours ({res['lines']:,} lines, {res['window'][0]} to "
                   f"{res['window'][1]}) -> {res['planted_file']}, {res['truth']}")
        for k, v in res["skipped"].items():
            click.echo(f"skipped {k}: {v}")
        click.echo(f"see {res['readme']}")

    return inject_command


inject_command = _make_command()
