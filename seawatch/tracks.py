"""Positions -> clean per-vessel tracks: de-duplicated, segmented by transmitter, with kinematics
and place (night, distance to shore, maritime zone, nearest port).

Segmentation follows Global Fishing Watch's segmenter (gpsdio-segment / pipe-segment): one MMSI
may carry several *segments* at once (two transmitters sharing an identity, a cloned MMSI), and
every new point goes to the segment that explains it. A point is explained by an earlier point
when the vessel could have got there: the gap is at most ``max_gap_h`` and the great-circle
distance at most ``max_speed_kn`` x gap + ``slack_nm`` (GPS noise over very short gaps). Among
the earlier points that explain it, the most recent one wins, and among points that compete for
the same predecessor the one closest to its dead-reckoned position (reported SOG/COG) wins.

The work is columnar, in three passes, none of them a Python loop per point:

1. *links*: each point looks back over its MMSI's previous ``window`` points (numpy shifts) for
   the most recent plausible predecessor; a predecessor taken by two points goes to the one
   closest to its dead-reckoned position. Links form chains (pointer jumping finds their heads).
2. *stitching*: chains are joined head-to-tail when a sparse transmitter was more than
   ``window`` points apart from its previous report (e.g. a class B unit every 3 minutes under
   a class A unit every 2 s sharing its MMSI). Rounds of vectorised candidate search over the
   chain tails that came before each head (up to ``stitch_candidates`` of them) until nothing
   changes.
3. *noise*: a chain of at most ``noise_max_points`` points with another chain of the same MMSI
   within ``max_gap_h`` of it is noise (a GPS glitch, a burst of spoofed positions): its
   ``is_noise`` is true, it has no segment, and it is not counted as a vessel of its own.

Segment ids are deterministic: ``<mmsi>-<first ts as YYYYmmddTHHMMSSZ>`` (``-2``, ``-3`` when
several start in the same second), so re-running gives the same ids.

Defaults and their sources are in :class:`SegmentParams`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from . import schema
from .errors import SeawatchError

EARTH_RADIUS_NM = 6371.0088 / 1.852  # mean Earth radius (IUGG), in nautical miles

#: AIS classes that are vessels. Base stations and aids to navigation do not move; SAR aircraft
#: fly at aircraft speeds. Null (provider tables without a class) counts as a vessel.
VESSEL_CLASSES = ("A", "B", "lr")


@dataclass(frozen=True)
class SegmentParams:
    """Thresholds of the segmenter.

    - ``max_gap_h`` = 8 h: gpsdio-segment's ``max_hours`` default (Global Fishing Watch). A
      silence longer than this starts a new segment even where dead reckoning would match.
    - ``max_speed_kn`` = 50 kn: gpsdio-segment uses 25-30 kn for fishing vessels; seawatch
      watches craft that dash at 30+ kn (the 1999 Noto and 2001 Amami spy boats made 30-35 kn),
      and a segmenter that split them at 25 kn would hide the very dash it must show. 50 kn is
      above any ship and below any GPS glitch worth the name.
    - ``slack_nm`` = 0.25 nm: GPS and reception-time jitter over gaps of seconds (a 25 m jump
      in 2 s is 24 kn) must not break a track.
    - ``window`` = 16: how many earlier points of the same MMSI each point looks at; two
      interleaved transmitters are separated directly when fewer than 16 reports of the other
      sit between two of one's own; stitching handles the rest.
    - ``stitch_candidates`` = 8: chain tails each chain head considers per stitching round.
    - ``noise_max_points`` = 1: a lone point that no segment explains is noise.
    """

    max_gap_h: float = 8.0
    max_speed_kn: float = 50.0
    slack_nm: float = 0.25
    window: int = 16
    stitch_candidates: int = 8
    noise_max_points: int = 1

    def __post_init__(self) -> None:
        for name in ("max_gap_h", "max_speed_kn"):
            if not getattr(self, name) > 0:
                raise SeawatchError(f"SegmentParams.{name} must be > 0, got {getattr(self, name)!r}")
        if self.slack_nm < 0:
            raise SeawatchError(f"SegmentParams.slack_nm must be >= 0, got {self.slack_nm!r}")
        if self.window < 1 or self.stitch_candidates < 1 or self.noise_max_points < 0:
            raise SeawatchError(
                "SegmentParams.window and stitch_candidates must be >= 1, noise_max_points >= 0"
            )


@dataclass
class Tracks:
    """What :func:`build_tracks` returns: ``points`` (schema.TRACKS), ``segments``
    (schema.SEGMENTS) and ``stats``: how many positions came in and why some are not tracked."""

    points: pl.DataFrame
    segments: pl.DataFrame
    stats: dict[str, int] = field(default_factory=dict)


# -- geometry (numpy, vectorised) -------------------------------------------------------------------
def haversine_nm(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in nautical miles (haversine, mean Earth radius)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_NM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bearing_deg(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Initial great-circle bearing from point 1 to point 2, degrees true in [0, 360)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360.0


def destination(lat: Any, lon: Any, bearing: Any, dist_nm: Any) -> tuple[np.ndarray, np.ndarray]:
    """The point ``dist_nm`` from (lat, lon) along the great circle of initial ``bearing``."""
    p1, l1 = np.radians(lat), np.radians(lon)
    b = np.radians(bearing)
    d = np.asarray(dist_nm, dtype=float) / EARTH_RADIUS_NM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 540.0) % 360.0 - 180.0


# -- segmentation -------------------------------------------------------------------------------------
def _heads(pred: np.ndarray) -> np.ndarray:
    """Pointer jumping: for each node, the root of its chain (``pred == -1`` marks a root)."""
    root = np.where(pred < 0, np.arange(len(pred)), pred)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def _resolve_claims(claimant: np.ndarray, target: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Keep, for each target claimed more than once, the claimant of lowest cost. Returns a mask
    over the claims."""
    if len(target) == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((claimant, cost, target))
    t = target[order]
    first = np.ones(len(t), dtype=bool)
    first[1:] = t[1:] != t[:-1]
    keep = np.zeros(len(t), dtype=bool)
    keep[order[first]] = True
    return keep


def _segment(
    mmsi: np.ndarray,
    t_s: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    sog: np.ndarray,
    cog: np.ndarray,
    p: SegmentParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chains of points, rows sorted by (mmsi, ts). Returns, per point, its chain's root, whether
    it is noise, its predecessor in its segment (-1 at a segment's first point and for noise),
    and its distance from the row before it (NaN at row 0; for :func:`_kinematics`)."""
    n = len(mmsi)
    max_gap_s = p.max_gap_h * 3600.0

    def plausible(i: np.ndarray, j: np.ndarray, d: np.ndarray | None = None) -> np.ndarray:
        """Can point j (earlier) explain point i? (``d``: their distance, when known)"""
        dt = t_s[i] - t_s[j]
        ok = (mmsi[i] == mmsi[j]) & (dt >= 0) & (dt <= max_gap_s)
        if d is None:
            d = haversine_nm(lat[j], lon[j], lat[i], lon[i])
        return ok & (d <= p.max_speed_kn * dt / 3600.0 + p.slack_nm)

    def miss_nm(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """How far point i is from where j's reported speed and course put it (dead reckoning)."""
        s = np.where(np.isnan(sog[j]), 0.0, sog[j])
        c = np.where(np.isnan(cog[j]), 0.0, cog[j])
        elat, elon = destination(lat[j], lon[j], c, s * (t_s[i] - t_s[j]) / 3600.0)
        return haversine_nm(elat, elon, lat[i], lon[i])

    def keep_best(claimant: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Mask over claims: a target claimed more than once keeps the claimant it explains best."""
        keep = np.ones(len(target), dtype=bool)
        if len(target) == 0:
            return keep
        dup = np.bincount(target, minlength=n)[target] > 1
        if dup.any():
            c, t = claimant[dup], target[dup]
            keep[np.flatnonzero(dup)] = _resolve_claims(c, t, miss_nm(c, t))
        return keep

    # 1. links: most recent plausible predecessor among the previous `window` points
    pred = np.full(n, -1, dtype=np.int64)
    todo = np.arange(1, n, dtype=np.int64)
    # distance from each row's previous row: the first look-back, and most kinematic legs
    step_nm = np.full(n, np.nan)
    step_nm[1:] = haversine_nm(lat[:-1], lon[:-1], lat[1:], lon[1:])
    for k in range(1, p.window + 1):
        todo = todo[todo - k >= 0]
        if len(todo) == 0:
            break
        j = todo - k
        ok = plausible(todo, j, step_nm[todo] if k == 1 else None)
        pred[todo[ok]] = j[ok]
        todo = todo[~ok & (mmsi[todo] == mmsi[j]) & (t_s[todo] - t_s[j] <= max_gap_s)]
    linked = np.flatnonzero(pred >= 0)
    pred[linked[~keep_best(linked, pred[linked])]] = -1
    root = _heads(pred)

    # 2. stitching: chain heads to earlier chain tails, in rounds
    has_succ = np.zeros(n, dtype=bool)
    has_succ[pred[pred >= 0]] = True
    is_head = pred < 0
    mmsi_rank = np.unique(mmsi, return_inverse=True)[1].astype(np.int64)
    span = int(t_s.max() - t_s.min()) + 2 if n else 1
    key = mmsi_rank * span + (t_s - (t_s.min() if n else 0)).astype(np.int64)
    chain_link = np.full(n, -1, dtype=np.int64)  # at chain heads: the tail they were stitched to
    tail_free = ~has_succ
    head_open = is_head.copy()
    for _ in range(50):
        tails = np.flatnonzero(tail_free)
        heads = np.flatnonzero(head_open)
        if len(tails) == 0 or len(heads) == 0:
            break
        tk = key[tails]  # rows are sorted by (mmsi, ts): key order = row order
        pos = np.searchsorted(tk, key[heads], side="left") - 1
        cand_h, cand_t = [], []
        alive = np.ones(len(heads), dtype=bool)
        for c in range(p.stitch_candidates):
            idx = pos - c
            valid = alive & (idx >= 0)
            if not valid.any():
                break
            h = heads[valid]
            tl = tails[idx[valid]]
            same = mmsi[tl] == mmsi[h]
            # a tail of the head's own chain cannot precede its head; skip those, stop at mmsi edge
            ok = plausible(h, tl) & same & (root[tl] != root[h])
            cand_h.append(h[ok])
            cand_t.append(tl[ok])
            # a head takes its most recent plausible tail: stop looking once found
            found = np.zeros(len(heads), dtype=bool)
            found[np.flatnonzero(valid)[ok]] = True
            gone = np.zeros(len(heads), dtype=bool)
            gone[np.flatnonzero(valid)[~same]] = True
            alive &= ~found & ~gone
        if not cand_h:
            break
        ch, ct = np.concatenate(cand_h), np.concatenate(cand_t)
        if len(ch) == 0:
            break
        keep = keep_best(ch, ct)
        ch, ct = ch[keep], ct[keep]
        # no cycles: a head may not be stitched to a tail of a chain that already leads to it
        chain_link[ch] = ct
        tail_free[ct] = False
        head_open[ch] = False
        # re-root: heads now point at tails; jump through chains
        stitched = pred.copy()
        hs = np.flatnonzero(chain_link >= 0)
        stitched[hs] = chain_link[hs]
        new_root = _heads(stitched)
        if np.array_equal(new_root, root):
            break
        root = new_root
        # heads whose stitch failed stay open for the next round; those left with no candidate
        # will fail again, which ends the loop via the unchanged-root check

    # 3. noise: small chains near another chain of the same MMSI
    roots, inv, counts = np.unique(root, return_inverse=True, return_counts=True)
    size = counts[inv]
    noise = np.zeros(n, dtype=bool)
    small = np.flatnonzero(size <= p.noise_max_points)
    if len(small):
        # chain time spans
        c_start = np.full(len(roots), np.inf)
        c_end = np.full(len(roots), -np.inf)
        np.minimum.at(c_start, inv, t_s)
        np.maximum.at(c_end, inv, t_s)
        c_mmsi = mmsi[roots]
        big = counts > p.noise_max_points
        # for each small point: is there a big chain of its MMSI within max_gap of it?
        bi = np.flatnonzero(big)
        order = np.lexsort((c_start[bi], c_mmsi[bi]))
        bi = bi[order]
        if len(bi):
            b_m = c_mmsi[bi]
            lo = np.searchsorted(b_m, mmsi[small], side="left")
            hi = np.searchsorted(b_m, mmsi[small], side="right")
            # small MMSIs with big chains: check the nearest few by start time (vectorised by k)
            near = np.zeros(len(small), dtype=bool)
            width = hi - lo
            for k in range(int(width.max()) if len(width) else 0):
                has = k < width
                if not has.any():
                    break
                b = bi[np.minimum(lo + k, len(bi) - 1)]
                ts_ = t_s[small]
                gap = np.maximum(c_start[b] - ts_, ts_ - c_end[b])
                near |= has & (gap <= max_gap_s)
                if k > 64:  # MMSIs with very many chains: enough evidence
                    near |= has
                    break
            noise[small[near]] = True
    prev = pred.copy()
    hs = np.flatnonzero(chain_link >= 0)
    prev[hs] = chain_link[hs]
    prev[noise] = -1
    prev[(prev >= 0) & noise[np.maximum(prev, 0)]] = -1
    return root, noise, prev, step_nm


def _segment_ids(mmsi: np.ndarray, t_us: np.ndarray, root: np.ndarray, noise: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Deterministic '<mmsi>-<YYYYmmddTHHMMSSZ>[-k]' per point (null for noise), and a sort key
    that puts rows per vessel, per segment (noise first), in time.

    Rows are sorted by (mmsi, ts, lat, lon) and a chain's root is its first row, so ordering
    segments by root index orders them by (mmsi, first time).
    """
    n = len(root)
    seg_roots, inv = np.unique(root[~noise], return_inverse=True)
    heads = pl.DataFrame(
        {"mmsi": mmsi[seg_roots], "t": pl.Series(t_us[seg_roots]).cast(pl.Datetime("us", "UTC"))}
    ).select(base=pl.col("mmsi").cast(pl.Utf8) + "-" + pl.col("t").dt.strftime("%Y%m%dT%H%M%SZ"))
    ids = heads.select(
        pl.when(pl.int_range(1, pl.len() + 1).over("base") == 1)
        .then(pl.col("base"))
        .otherwise(pl.col("base") + "-" + pl.int_range(1, pl.len() + 1).over("base").cast(pl.Utf8))
    ).to_series()
    gather = np.full(n, -1, dtype=np.int64)
    gather[~noise] = inv
    seg_id = ids.gather(pl.Series(np.where(gather >= 0, gather, 0))).to_frame("s").select(
        pl.when(pl.Series(gather >= 0)).then(pl.col("s"))
    ).to_series().alias("seg_id")
    # sort key: the segment's ordinal; noise rows just before their vessel's first segment
    key = gather.astype(np.float64)
    if noise.any():
        m_rank = np.unique(mmsi, return_inverse=True)[1]
        first = np.full(m_rank.max() + 1, np.inf)
        np.minimum.at(first, m_rank[~noise], key[~noise])
        key[noise] = first[m_rank[noise]] - 0.5
        if not np.isfinite(key).all():  # a vessel with noise only: fall back to a full sort key
            return seg_id, None
    return seg_id, key


# -- kinematics ---------------------------------------------------------------------------------------
def _kinematics(lat: np.ndarray, lon: np.ndarray, t_s: np.ndarray, prev: np.ndarray,
                step_nm: np.ndarray | None = None) -> dict[str, pl.Series]:
    """dt_s, dist_nm, implied_speed_kn, turn_deg from each point's predecessor in its segment.
    ``step_nm``: each row's distance from the row before it (from :func:`_segment`), reused
    where the predecessor is that row; other legs are measured here."""
    has = prev >= 0
    j = np.where(has, prev, 0)
    dt = np.where(has, t_s - t_s[j], np.nan)
    dist = np.full(len(prev), np.nan)
    rows = np.arange(len(prev))
    if step_nm is not None:
        adjacent = has & (prev == rows - 1)
        dist[adjacent] = step_nm[adjacent]
        other = np.flatnonzero(has & ~adjacent)
    else:
        other = np.flatnonzero(has)
    dist[other] = haversine_nm(lat[j[other]], lon[j[other]], lat[other], lon[other])
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(dt > 0, dist / (dt / 3600.0), np.nan)
    # bearing of the leg that ends here; legs under 0.01 nm (18 m) have no meaningful bearing
    leg = np.flatnonzero(has & (dist >= 0.01))
    brg = np.full(len(prev), np.nan)
    brg[leg] = bearing_deg(lat[j[leg]], lon[j[leg]], lat[leg], lon[leg])
    # change of course over both legs, where both have a bearing (a float remainder of NaN is slow)
    both = has & ~np.isnan(brg) & ~np.isnan(brg[j])
    turn = np.full(len(prev), np.nan)
    turn[both] = (brg[both] - brg[j[both]] + 180.0) % 360.0 - 180.0
    return {
        "dt_s": pl.Series(dt).fill_nan(None),
        "dist_nm": pl.Series(dist).fill_nan(None),
        "implied_speed_kn": pl.Series(speed, dtype=pl.Float32).fill_nan(None),
        "turn_deg": pl.Series(turn, dtype=pl.Float32).fill_nan(None),
    }


#: the TRACKS columns :func:`add_places` computes from a point's time and position alone
PLACE_COLUMNS = ("is_night", "dist_to_shore_nm", "on_land", "zone_name", "zone_kind", "zone_state",
                 "zone_claimants", "custom_zones", "port_name", "port_dist_km")
#: the ones that depend on the ports table (recompute them when the ports change)
PORT_COLUMNS = ("port_name", "port_dist_km")


def add_places(df: pl.DataFrame, ports: pl.DataFrame | None = None, zones: Any = None,
               only: Sequence[str] | None = None) -> pl.DataFrame:
    """``df`` (with ``ts, lat, lon``) plus the :data:`PLACE_COLUMNS`: is_night, dist_to_shore_nm,
    on_land, zone_*, port_* for every row (vectorised). ``only``: just these of them (e.g.
    :data:`PORT_COLUMNS`). ``ports``: the PORTS table (default: the built-in registry);
    ``zones``: a :class:`seawatch.zones.Zones` (default: the built-in zones)."""
    from . import astro
    from . import zones as zones_mod
    from .zones.ports import nearest_port

    want = set(PLACE_COLUMNS if only is None else only)
    if df.height == 0:
        dtypes = schema.polars_schema("tracks")
        return df.with_columns([pl.lit(None, dtypes[c]).alias(c) for c in PLACE_COLUMNS if c in want])
    lat = df["lat"].to_numpy()
    lon = df["lon"].to_numpy()
    cols: dict[str, Any] = {}
    if "is_night" in want:
        cols["is_night"] = pl.Series(np.asarray(astro.is_night(lat, lon, df["ts"]), dtype=bool))
    zcols = want & {"dist_to_shore_nm", "on_land", "zone_name", "zone_kind", "zone_state", "zone_claimants", "custom_zones"}
    if zcols:
        z = (zones or zones_mod.Zones.default()).lookup(lat, lon, claimants=True, custom=True)
        cols.update({c: z[c] for c in sorted(zcols)})
    if want & set(PORT_COLUMNS):
        pt = nearest_port(lat, lon, ports=ports)
        cols.update({c: pt[c] for c in PORT_COLUMNS if c in want})
    return df.with_columns(**cols)


#: a row :func:`build_tracks` can place: time, MMSI and a position; 0N 0E ("null island") is
#: what a GPS with no fix sends, not a position
_TRACKABLE = (pl.col("ts").is_not_null() & pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
              & pl.col("mmsi").is_not_null() & ~((pl.col("lat") == 0) & (pl.col("lon") == 0)))
#: ... of a vessel (see VESSEL_CLASSES)
_OF_VESSEL = pl.col("ais_class").is_null() | pl.col("ais_class").is_in(VESSEL_CLASSES)


# -- the public function ------------------------------------------------------------------------------
def build_tracks(
    positions: pl.DataFrame | pl.LazyFrame,
    params: SegmentParams | None = None,
    *,
    places: bool = True,
    ports: pl.DataFrame | None = None,
    zones: Any = None,
) -> Tracks:
    """Clean, segment and place positions (a frame with schema.POSITIONS columns).

    Rows without a time or a position (0N 0E counts as none: a GPS without a fix), and rows that are not from vessels (base stations,
    aids to navigation, SAR aircraft), are not tracked; receiver duplicates (same MMSI, time and
    position) are merged, their ``n_rx`` summed. ``places=False`` skips the night, shore, zone
    and port columns (they are then null); when ``positions`` already has all of
    :data:`PLACE_COLUMNS` (from :func:`add_places`: the live watcher computes them once per row)
    they are kept, not computed again. ``ports``: the PORTS table for the port columns
    (default: the built-in registry; :func:`materialise_tracks` adds inferred anchorages).
    ``zones``: a :class:`seawatch.zones.Zones` (default: the built-in zones; the store's imported
    zones are added by :func:`materialise_tracks`).
    Returns :class:`Tracks`.
    """
    p = params or SegmentParams()
    if isinstance(positions, pl.LazyFrame):
        positions = positions.collect()
    if not isinstance(positions, pl.DataFrame):
        raise SeawatchError(
            f"build_tracks takes a polars DataFrame of positions, got {type(positions).__name__}"
        )
    missing = [c for c in ("mmsi", "ts", "lat", "lon") if c not in positions.columns]
    if missing:
        raise SeawatchError(
            f"positions lack columns {missing}: pass a frame with schema.POSITIONS columns"
            " (e.g. Store(db).table('positions'))"
        )
    given = places and all(c in positions.columns for c in PLACE_COLUMNS)
    keep = [*schema.polars_schema("positions"), *(PLACE_COLUMNS if given else ())]
    pos = positions.select([c for c in positions.columns if c in keep])
    pos = schema.conform("positions", pos.select([c for c in pos.columns if c not in PLACE_COLUMNS])).with_columns(
        pos.select(PLACE_COLUMNS)) if given else schema.conform("positions", pos)
    n_in = pos.height
    usable = pos.filter(_TRACKABLE)
    n_untimed = n_in - usable.height
    vessels = usable.filter(_OF_VESSEL)
    n_not_vessel = usable.height - vessels.height
    cols = [c.name for c in schema.TRACKS]
    table = vessels.select([c for c in cols if c in vessels.columns])
    # the work runs on a few columns in (mmsi, ts, lat, lon) order; the whole table is gathered
    # once, at the end, in its final order
    order = _by_vessel_time(table.select("mmsi", "ts", "lat", "lon"))
    key = table.select("mmsi", "ts", "lat", "lon")[order]
    # receiver duplicates (same MMSI, time and position): keep the first, sum n_rx
    dup = key.select(
        pl.all_horizontal([pl.col(c) == pl.col(c).shift(1) for c in key.columns]).fill_null(False)
    ).to_series()
    n_dup = int(dup.sum())
    new: dict[str, pl.Series] = {}
    keep = order
    if n_dup:
        group = (~dup).cum_sum()
        n_rx = table["n_rx"][order].fill_null(1).cast(pl.Int64)
        summed = pl.DataFrame({"g": group, "n": n_rx}).group_by("g").agg(pl.col("n").sum()).sort("g")
        new["n_rx"] = summed["n"].cast(pl.Int16)
        keep = order[~dup.to_numpy()]
    dedup = table.select("mmsi", "ts", "lat", "lon", "sog_kn", "cog_deg")[keep]

    t_us = dedup["ts"].dt.epoch("us").to_numpy()
    t_s = t_us.astype(np.float64) / 1e6
    lat = dedup["lat"].to_numpy()
    lon = dedup["lon"].to_numpy()
    root, noise, prev, step_nm = _segment(
        dedup["mmsi"].to_numpy(),
        t_s,
        lat,
        lon,
        dedup["sog_kn"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        dedup["cog_deg"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        p,
    )
    seg_id, order_key = _segment_ids(dedup["mmsi"].to_numpy(), t_us, root, noise)
    new.update(seg_id=seg_id, is_noise=pl.Series(noise), **_kinematics(lat, lon, t_s, prev, step_nm))
    # per vessel, per segment (noise first), in time: each segment's rows are contiguous
    if order_key is not None:
        final = np.argsort(order_key, kind="stable")
        df = table[keep[final]].with_columns(**{c: v[final] for c, v in new.items()})
    else:
        df = table[keep].with_columns(**new).sort("mmsi", "seg_id", "ts", nulls_last=False, maintain_order=True)
    df = add_places(df, ports, zones) if places and not given and df.height else df
    points = schema.conform("tracks", df)
    segments = segments_of(points)
    stats = {
        "positions": n_in,
        "untracked_no_time_or_position": n_untimed,
        "untracked_not_vessel": n_not_vessel,
        "duplicates_merged": n_dup,
        "points": points.height,
        "noise": int(noise.sum()),
        "segments": segments.height,
        "vessels": points["mmsi"].n_unique() if points.height else 0,
    }
    return Tracks(points=points, segments=segments, stats=stats)


def usable_vessel_rows(positions: pl.DataFrame) -> pl.DataFrame:
    """The rows :func:`build_tracks` tracks: timed, with a position (not 0N 0E), of a vessel."""
    return positions.filter(_TRACKABLE & _OF_VESSEL)


def extend(last: pl.DataFrame, new: pl.DataFrame, params: SegmentParams | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """New positions that only extend their vessel's latest segment, as :func:`build_tracks`
    would place them, without segmenting the vessel again (the live watch's fast path).

    ``last``: per vessel (``mmsi``), its latest track point ``ts, lat, lon, seg_id`` and
    ``n_points`` of that segment, given only where that point is the vessel's latest usable
    position (no other segment or noise point at or after it). ``new``: usable positions
    (:func:`usable_vessel_rows`) of those vessels. A vessel's new positions extend the segment
    when each comes strictly after the one before (the first after the latest point) and is
    explained by it (:class:`SegmentParams`: within ``max_gap_h`` and ``max_speed_kn`` x gap +
    ``slack_nm``), and the segment has at least two points. Then every link, stitch and noise
    decision of the segmenter over the vessel is the same as before plus these links (each
    point's most recent plausible predecessor is the one just before it, claimed by no other
    point; no chain head or earlier tail changes), so the points keep the segment id and get
    ``dt_s``, ``dist_nm`` and ``implied_speed_kn`` from the point before.

    Returns (``new`` sorted by vessel and time with ``seg_id, is_noise, dt_s, dist_nm,
    implied_speed_kn`` for the vessels extended, the ``mmsi`` of those not extended: segment
    them again).
    """
    p = params or SegmentParams()
    rows = new.join(last.select("mmsi"), on="mmsi", how="semi").sort("mmsi", "ts", "lat", "lon")
    m = rows["mmsi"].to_numpy()
    t_us = rows["ts"].dt.epoch("us").to_numpy()
    lat, lon = rows["lat"].to_numpy(), rows["lon"].to_numpy()
    first = np.ones(len(m), dtype=bool)
    first[1:] = m[1:] != m[:-1]
    # the point before each: the previous new row, or the vessel's latest point
    before = rows.select("mmsi").join(last.select("mmsi", "ts", "lat", "lon", "seg_id", "n_points"), on="mmsi",
                                      how="left", maintain_order="left")
    prev_t = np.where(first, before["ts"].dt.epoch("us").to_numpy(), np.roll(t_us, 1))
    prev_lat = np.where(first, before["lat"].to_numpy(), np.roll(lat, 1))
    prev_lon = np.where(first, before["lon"].to_numpy(), np.roll(lon, 1))
    t_s, prev_s = t_us.astype(np.float64) / 1e6, prev_t.astype(np.float64) / 1e6
    dt = t_s - prev_s
    dist = haversine_nm(prev_lat, prev_lon, lat, lon)
    ok = (t_us > prev_t) & (dt <= p.max_gap_h * 3600.0) & (dist <= p.max_speed_kn * dt / 3600.0 + p.slack_nm)
    ok &= before["n_points"].to_numpy() > max(p.noise_max_points, 1)
    bad = pl.Series("mmsi", m[~ok], dtype=pl.Int64).unique()
    keep = ~pl.Series(m).is_in(bad.implode()).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = dist / (dt / 3600.0)
    ext = rows.with_columns(
        seg_id=before["seg_id"], is_noise=pl.lit(False), dt_s=pl.Series(dt), dist_nm=pl.Series(dist),
        implied_speed_kn=pl.Series(speed, dtype=pl.Float32),
    ).filter(pl.Series(keep))
    return ext, bad


def _by_vessel_time(df: pl.DataFrame) -> np.ndarray:
    """The row order of ``df`` by (mmsi, ts, lat, lon), ties in row order. One stable numpy
    argsort of an integer key (MMSI rank, then microseconds) when no two rows share an MMSI and
    time (the usual case: a polars sort on four columns costs more); otherwise a polars sort."""
    def full() -> np.ndarray:
        return df.with_row_index("_row").sort("mmsi", "ts", "lat", "lon", "_row")["_row"].to_numpy().astype(np.int64)

    if df.height < 2:
        return full()
    t = df["ts"].dt.epoch("us").to_numpy()
    rank = np.unique(df["mmsi"].to_numpy(), return_inverse=True)[1].astype(np.int64)
    t0 = int(t.min())
    span = int(t.max()) - t0 + 1
    if (int(rank.max()) + 1) * span >= 2**62:
        return full()
    key = rank * span + (t - t0)
    order = np.argsort(key, kind="stable")
    k = key[order]
    if (k[1:] == k[:-1]).any():  # ties: lat, lon decide
        return full()
    return order


def _runs_in_time(df: pl.DataFrame, key: str = "seg_id", ts: str = "ts") -> tuple[pl.Series, bool]:
    """The run id of each row (runs of one ``key``, numbered in row order) and whether the rows
    of each ``key`` are together and in ``ts`` order (as build_tracks gives a segment's rows)."""
    run = df[key].rle_id()
    if df.height == 0:
        return run, True
    head = (run != run.shift(1)).fill_null(True)
    # together: no key heads two runs; in time: ts never goes back within a run
    ok = df.select(
        (pl.col(key).filter(head).n_unique() == head.sum())
        & (head | (pl.col(ts) >= pl.col(ts).shift(1))).all()
    ).item()
    return run, bool(ok)


def _contiguous(pts: pl.DataFrame) -> bool:
    """Are the rows of each segment together and in time order (as build_tracks gives them)?"""
    return _runs_in_time(pts)[1]


#: the TRACKS columns :func:`segments_of` reads
SEGMENT_INPUTS = ("seg_id", "mmsi", "ts", "lat", "lon", "implied_speed_kn", "dist_nm", "sog_kn")


def segments_of(points: pl.DataFrame) -> pl.DataFrame:
    """The SEGMENTS table of a TRACKS table (noise excluded; :data:`SEGMENT_INPUTS` are enough)."""
    pts = points.filter(pl.col("seg_id").is_not_null())
    run, together = _runs_in_time(pts)
    if not together:
        pts = pts.sort("seg_id", "ts")
        run = pts["seg_id"].rle_id()
    # each segment's rows are together: numbered runs group as slices, no hashing of ids
    run = run.set_sorted()
    seg = pts.with_columns(_run=run).group_by("_run", maintain_order=True).agg(
        pl.col("seg_id").first(),
        pl.col("mmsi").first(),
        start_time=pl.col("ts").first(),
        end_time=pl.col("ts").last(),
        n_points=pl.len(),
        lat_start=pl.col("lat").first(),
        lon_start=pl.col("lon").first(),
        lat_end=pl.col("lat").last(),
        lon_end=pl.col("lon").last(),
        max_implied_speed_kn=pl.col("implied_speed_kn").max(),
    ).drop("_run")
    # sums per segment with numpy over its own rows: the same bits whatever else is in the frame
    # (a polars group sum over a slice of a longer column may round differently)
    if pts.height:
        starts = np.flatnonzero(np.diff(run.to_numpy(), prepend=-1) != 0)
        dist = np.add.reduceat(pts["dist_nm"].cast(pl.Float64).fill_null(0.0).to_numpy(), starts)
        sog = pts["sog_kn"].cast(pl.Float64)
        n_sog = np.add.reduceat(sog.is_not_null().to_numpy().astype(np.int64), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_sog = np.add.reduceat(sog.fill_null(0.0).to_numpy(), starts) / n_sog
        seg = seg.with_columns(dist_nm=pl.Series(dist), mean_sog_kn=pl.Series(np.where(n_sog > 0, mean_sog, np.nan)).fill_nan(None))
    else:
        seg = seg.with_columns(dist_nm=pl.lit(None, pl.Float64), mean_sog_kn=pl.lit(None, pl.Float64))
    seg = (
        seg
        .with_columns(
            duration_s=(pl.col("end_time") - pl.col("start_time")).dt.total_microseconds() / 1e6
        )
        .sort("mmsi", "start_time", "seg_id")
    )
    return schema.conform("segments", seg)


def _ranges(first: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The row numbers ``first[i] .. first[i] + n[i] - 1`` of each range, end to end."""
    n = n.astype(np.int64)
    return np.arange(int(n.sum()), dtype=np.int64) + np.repeat(first.astype(np.int64) - (np.cumsum(n) - n), n)


def _offsets(n: np.ndarray) -> np.ndarray:
    """``0 .. n[i] - 1`` for each i, end to end: every row's offset within its range."""
    return _ranges(np.zeros(len(n), np.int64), n)


def _first_after(value_at: Any, lo: np.ndarray, hi: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per range ``[lo[i], hi[i])`` of rows whose values rise: the first row whose value
    (``value_at(rows)``) is greater than ``x[i]``, ``hi[i]`` when none. One binary search on
    every range at once; ``value_at`` is also called on rows of finished ranges (``lo == hi``)."""
    lo, hi = lo.copy(), hi.copy()
    while (lo < hi).any():
        go = lo < hi
        mid = (lo + hi) // 2
        at_or_before = value_at(mid) <= x
        lo = np.where(go & at_or_before, mid + 1, lo)
        hi = np.where(go & ~at_or_before, mid, hi)
    return lo


def grown_segments(old: pl.DataFrame, points: pl.DataFrame, first: np.ndarray, n: np.ndarray) -> pl.DataFrame:
    """The SEGMENTS rows of segments that :func:`extend` grew, equal to :func:`segments_of` over
    their points without reading every point again. ``old``: their SEGMENTS rows before;
    ``points``: a TRACKS frame holding all the points of segment ``i`` (row ``i`` of ``old``), in
    time, at rows ``first[i]`` to ``first[i] + n[i] - 1``, the new ones after the
    ``old["n_points"]`` there before (at least one new). The first values are the old ones; the
    last ones and the maximum come from the new points; the sums are taken again over every
    point, with numpy in row order as segments_of does (the same bits)."""
    k = old.height
    if k == 0:
        return schema.conform("segments", old)
    n = np.asarray(n, dtype=np.int64)
    first = np.asarray(first, dtype=np.int64)
    n_old = old["n_points"].to_numpy().astype(np.int64)
    fresh = n - n_old
    if (fresh < 1).any():
        raise ValueError("grown_segments: every segment needs a new point")
    seg = np.arange(k, dtype=np.int64)
    new = points.select("ts", "lat", "lon", "implied_speed_kn")[_ranges(first + n_old, fresh)]
    last = points.select(end_time="ts", lat_end="lat", lon_end="lon")[first + n - 1]
    # the maximum over the old points (one row standing for them) and the new: max ignores nulls
    mx = pl.concat([
        pl.DataFrame({"_i": seg, "m": old["max_implied_speed_kn"].cast(pl.Float32)}),
        pl.DataFrame({"_i": np.repeat(seg, fresh), "m": new["implied_speed_kn"].cast(pl.Float32)}),
    ]).group_by("_i").agg(pl.col("m").max()).sort("_i")["m"]
    rows = _ranges(first, n)
    starts = np.cumsum(n) - n
    dist = np.add.reduceat(points["dist_nm"].cast(pl.Float64).fill_null(0.0).to_numpy()[rows], starts)
    sog = points["sog_kn"]
    n_sog = np.add.reduceat(sog.is_not_null().to_numpy()[rows].astype(np.int64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_sog = np.add.reduceat(sog.cast(pl.Float64).fill_null(0.0).to_numpy()[rows], starts) / n_sog
    seg_df = old.select("seg_id", "mmsi", "start_time").with_columns(last["end_time"]).with_columns(
        n_points=pl.Series(n), lat_start=old["lat_start"], lon_start=old["lon_start"], lat_end=last["lat_end"],
        lon_end=last["lon_end"], max_implied_speed_kn=mx, dist_nm=pl.Series(dist),
        mean_sog_kn=pl.Series(np.where(n_sog > 0, mean_sog, np.nan)).fill_nan(None),
    ).with_columns(duration_s=(pl.col("end_time") - pl.col("start_time")).dt.total_microseconds() / 1e6)
    return schema.conform("segments", seg_df.sort("mmsi", "start_time", "seg_id"))


def anchorage_min_vessels(n_vessels: int) -> int:
    """How many distinct vessels must have stayed at a spot for it to be an anchorage: GFW's 20
    for large data (2,000+ vessels), fewer for small data (1 in 100 vessels, at least 3)."""
    return int(min(20, max(3, n_vessels // 100)))


def ports_with_anchorages(positions: pl.DataFrame) -> pl.DataFrame:
    """The built-in port registry plus the anchorages inferred from ``positions``."""
    from .zones.ports import infer_anchorages, ports_table

    reg = ports_table()
    if positions.height == 0:
        return reg
    n = positions["mmsi"].n_unique()
    anch = infer_anchorages(
        positions.filter(pl.col("ts").is_not_null() & pl.col("lat").is_not_null()),
        min_vessels=anchorage_min_vessels(n),
    )
    return pl.concat([reg, anch]) if anch.height else reg


def materialise_tracks(
    db: Any, params: SegmentParams | None = None, *, places: bool = True
) -> Tracks:
    """Build tracks from every position in the store at ``db`` and store them as the derived
    tables ``tracks`` and ``segments`` (replacing earlier ones atomically). Returns the Tracks.

    Deterministic: the same store and params give the same rows and segment ids.
    """
    from dataclasses import asdict

    from .store import Store

    store = db if isinstance(db, Store) else Store(db)
    files, files_key = len(store.manifests()), store.files_key()  # the ingest state these tracks reflect
    positions = store.table("positions")
    ports = None
    anchorages = 0
    if places:
        ports = ports_with_anchorages(positions)
        anchorages = int((ports["source"] == "inferred").sum())
        store.write_derived("ports", ports, {"inferred_anchorages": anchorages})
    zone_set = None
    if places and store.derived_info("zones") is not None:
        from .zones import Zones

        zone_set = Zones.default().with_imported(store.table("zones"))
    res = build_tracks(positions, params, places=places, ports=ports, zones=zone_set)
    meta = {"params": asdict(params or SegmentParams()), "stats": res.stats, "places": places, "files": files,
            "files_key": files_key, "inferred_anchorages": anchorages, "zones_generation": store.generation("zones")}
    store.write_derived("tracks", res.points, meta)
    store.write_derived("segments", res.segments, meta)
    return res


__all__ = [
    "SegmentParams",
    "anchorage_min_vessels",
    "materialise_tracks",
    "ports_with_anchorages",
    "Tracks",
    "VESSEL_CLASSES",
    "bearing_deg",
    "build_tracks",
    "destination",
    "haversine_nm",
    "segments_of",
]
