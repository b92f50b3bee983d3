"""ais_gap: a vessel silent where it should have been heard.

A gap is a silence of one vessel (MMSI) between two of its positions: within a segment (``dt_s``)
or between consecutive segments of the MMSI. It is an ``ais_gap`` event only where reception was
good during the silence: other vessels' positions were received within ``reception_radius_nm``
of the last position before it and of the first position after it, while it lasted. A vessel
far beyond every receiver's range, with no other traffic heard around it, is *not* in a gap:
nobody could have heard it. Gaps that start or end in port do not count.

A vessel whose last position is followed by at least ``min_gap_h`` of good reception and nothing
from it is in an *open* gap (``status='open'``, ``end_time`` null): it went dark. For an open gap
reception is counted around where the vessel would have been: its last position dead-reckoned
``min_gap_h`` along its last reported course and speed, within ``open_radius_nm``. A ship steaming
out of the receivers' range is not in a gap, even though the traffic behind it is still heard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..tracks import _offsets, destination, haversine_nm
from .base import Inputs, finish, segment_starts

EVENT_TYPES = ("ais_gap",)
NM_PER_DEG_LAT = 60.0


@dataclass(frozen=True)
class Params:
    """ais_gap thresholds.

    - ``min_gap_h`` = 2 h (coastal): a coast guard watches its 12/24 nm belt, where a vessel
      reporting every 2-10 s (class A under way, ITU-R M.1371) that falls silent for 2 h is
      conspicuous. gfw: 12 h (Global Fishing Watch "AIS off" events, Welch et al. 2022,
      Science Advances 8(44) eabq2109: gaps of at least 12 h).
    - ``min_shore_nm`` = 0 (coastal). gfw: 50 nm — GFW keeps only gaps whose both ends are over
      50 nm from shore, to avoid coastal reception artefacts; exactly the belt a coastal state
      needs, hence 0 here.
    - ``reception_radius_nm`` = 20 nm and ``min_other_positions`` = 5: reception counts as good
      when at least 5 positions of other vessels were received within 20 nm of the gap's last
      and of its next position during the gap (seawatch's rule; GFW models reception quality
      per cell and day, which needs months of data). Counted on a grid of 5 nm cells and
      10-min buckets (:data:`RX_CELL_NM`, :data:`RX_BUCKET_S`; up to 36 buckets sampled over
      a long gap), so memory does not grow with the traffic.
    - ``port_radius_km`` = 3 km: a gap starting or ending this close to a port or anchorage is a
      vessel switched off in port (GFW port-visit entry distance).
    - ``open_radius_nm`` = 10 nm: an open gap needs ``min_other_positions`` within this distance
      of the dead-reckoned position (last position + last SOG/COG x ``min_gap_h``). Half the
      closed-gap radius: traffic entering the receivers' range is heard at the range edge, 20 nm
      from a ship that has just left it (in seawatch's simulated seas every honest ship leaving
      coverage made an open gap with 20 nm around its last position; none does with this rule).
    """

    min_gap_h: float = 2.0
    min_shore_nm: float = 0.0
    reception_radius_nm: float = 20.0
    min_other_positions: int = 5
    port_radius_km: float = 3.0
    open_radius_nm: float = 10.0


PRESETS = {
    "coastal": Params(),
    "gfw": Params(min_gap_h=12.0, min_shore_nm=50.0),
    "skylight": Params(),
}


def _gaps(points: pl.DataFrame, min_gap_s: float, data_end: object, seg_starts: np.ndarray | None = None) -> pl.DataFrame:
    """Silences of one vessel >= min_gap_s: inside a segment (``dt_s``), between consecutive
    segments of one MMSI that do not overlap, and open ones after an MMSI's last position.

    ``points`` are contiguous per segment and in time (:attr:`Inputs.points`); only the rows at
    the two ends of each silence are gathered, never a sorted copy of the whole table.
    ``seg_starts``: which rows start a segment, if known (:meth:`Inputs.segment_starts`).
    """
    n = points.height
    def col(sub: pl.DataFrame, c: str) -> pl.Series:
        return sub[c].cast(pl.Float32) if c in sub.columns else pl.Series([None] * sub.height, dtype=pl.Float32)

    def at(idx: np.ndarray, end: str) -> pl.DataFrame:
        """Rows ``idx`` as the start (end='0') or the end (end='1') of silences."""
        sub = points[pl.Series(idx, dtype=pl.Int64)] if len(idx) else points.clear()
        out = {f"seg_id{'' if end == '0' else '1'}": sub["seg_id"], f"t{end}": sub["ts"],
               f"lat{end}": sub["lat"], f"lon{end}": sub["lon"],
               f"shore{end}": col(sub, "dist_to_shore_nm"), f"port{end}": col(sub, "port_dist_km")}
        if end == "0":
            out = {"mmsi": sub["mmsi"], **out, "sog0": col(sub, "sog_kn"), "cog0": col(sub, "cog_deg")}
        return pl.DataFrame(out)

    first = np.flatnonzero(segment_starts(points["seg_id"]) if seg_starts is None else seg_starts)
    last = np.append(first[1:] - 1, n - 1) if n else np.zeros(0, np.int64)
    # 1. inside a segment: the point after the silence has dt_s >= min_gap_s
    inside = np.flatnonzero((points["dt_s"].fill_null(0.0) >= min_gap_s).to_numpy()) if n else first[:0]
    # 2. between segments of one MMSI: each segment's end to the next segment's start (by start)
    heads = pl.DataFrame({"mmsi": points["mmsi"].gather(first), "t_first": points["ts"].gather(first),
                          "t_last": points["ts"].gather(last), "i_first": first, "i_last": last}).sort("mmsi", "t_first")
    heads = heads.with_columns(
        nxt_first=pl.col("i_first").shift(-1).over("mmsi"),
        nxt_t=pl.col("t_first").shift(-1).over("mmsi"),
        end_max=pl.col("t_last").cum_max().over("mmsi"),
    )
    between = heads.filter(
        pl.col("nxt_first").is_not_null()
        & (pl.col("nxt_t") > pl.col("end_max"))  # no other segment of the MMSI still alive
        & ((pl.col("nxt_t") - pl.col("end_max")).dt.total_seconds() >= min_gap_s)
    )
    # the segment that ended last before the next one starts is where the silence began
    last_alive = heads.filter(pl.col("t_last") == pl.col("end_max")).select("mmsi", "end_max", "i_last")
    between = between.join(last_alive, on=["mmsi", "end_max"], how="left", suffix="_alive").unique(
        ["mmsi", "nxt_first"], keep="last", maintain_order=True
    )
    before = np.concatenate([inside - 1, between["i_last_alive"].to_numpy()]).astype(np.int64)
    after = np.concatenate([inside, between["nxt_first"].to_numpy()]).astype(np.int64)
    closed = pl.concat([at(before, "0"), at(after, "1")], how="horizontal")
    # 3. open: an MMSI's last position, followed by nothing until the end of the data
    end = pl.lit(data_end).cast(pl.Datetime("us", "UTC"))
    tails = heads.group_by("mmsi").agg(pl.col("end_max").max(), pl.col("i_last").sort_by("t_last").last())
    tails = tails.filter((end - pl.col("end_max")).dt.total_seconds() >= min_gap_s)
    opened = at(tails["i_last"].to_numpy().astype(np.int64), "0")
    empty_end = {"seg_id1": pl.Utf8, "t1": pl.Datetime("us", "UTC"), "lat1": pl.Float64, "lon1": pl.Float64,
                 "shore1": pl.Float32, "port1": pl.Float32}
    opened = opened.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in empty_end.items()])
    return pl.concat([closed, opened.select(closed.columns)], how="vertical_relaxed")


#: Reception is counted on a grid: cells of RX_CELL_NM (a cell counts when its centre is within
#: the radius of the gap's end: +-RX_CELL_NM/sqrt(2) at the rim) and time buckets of RX_BUCKET_S
#: fully inside the gap, at most RX_MAX_BUCKETS of them spread evenly over a long gap.
RX_CELL_NM = 5.0
RX_BUCKET_S = 600
RX_MAX_BUCKETS = 36


def _keyed(points: pl.DataFrame) -> pl.DataFrame:
    """``mmsi`` and each position's reception key: cell ``cy, cx`` and 10-min bucket ``tb``."""
    cell = RX_CELL_NM / NM_PER_DEG_LAT
    return points.select(
        "mmsi",
        cy=(pl.col("lat") / cell).floor().cast(pl.Int32),
        cx=(pl.col("lon") / cell).floor().cast(pl.Int32),
        tb=(pl.col("ts").dt.epoch("s") // RX_BUCKET_S).cast(pl.Int64),
    )


def reception_grid(points: pl.DataFrame) -> pl.DataFrame:
    """Positions counted per (cell ``cy, cx``, 10-min bucket ``tb``): ``n`` positions and the
    distinct ``ms`` (MMSI list) heard there. Grids of disjoint sets of vessels may simply be
    concatenated: :func:`_reception` sums ``n`` and counts distinct MMSIs over all rows of a key
    (how the Dask engine, :mod:`seawatch.scale`, builds it per partition)."""
    return _keyed(points).group_by("cy", "cx", "tb").agg(n=pl.len(), ms=pl.col("mmsi").unique())


def vessel_grid(points: pl.DataFrame) -> pl.DataFrame:
    """The count of :func:`reception_grid` by vessel as well (``mmsi`` instead of ``ms``): rows
    of the vessels whose positions changed can be dropped and counted again while the rest is
    kept (the live watch does so between passes); any union of whole vessels' rows is a valid
    ``grid`` for :func:`_reception`."""
    k = _keyed(points)
    # a vessel's consecutive positions mostly share a key (rows come per segment, in time): runs
    # counted as slices first, then the few keys met again (parallel segments, a cell re-entered)
    run = k.select(pl.struct("mmsi", "cy", "cx", "tb").rle_id().set_sorted().alias("run")).to_series()
    runs = k.with_columns(run=run).group_by("run", maintain_order=True).agg(pl.col("mmsi", "cy", "cx", "tb").first(), n=pl.len())
    return runs.group_by("mmsi", "cy", "cx", "tb").agg(pl.col("n").sum().cast(pl.UInt32))


def grown_vessel_grid(grid: pl.DataFrame, points: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """``grid`` (:func:`vessel_grid` of some vessels' points) with more ``points`` counted in:
    the vessel_grid of all those points (rows in another order), and the buckets ``tb`` whose
    counts changed."""
    add = vessel_grid(points)
    keys = ["mmsi", "cy", "cx", "tb"]
    hit = add.select(keys)
    summed = pl.concat([grid.join(hit, on=keys, how="semi"), add]).group_by(keys).agg(pl.col("n").sum().cast(pl.UInt32))
    return pl.concat([grid.join(hit, on=keys, how="anti"), summed]), add["tb"].unique()


def bucket_range(t0_s: np.ndarray, t1_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and last 10-min bucket (``tb``) whose reception counts for silences from
    ``t0_s`` to ``t1_s`` (epoch seconds): the buckets fully inside each (those it touches when it
    is shorter than a bucket)."""
    b = RX_BUCKET_S
    lo = t0_s // b + 1  # buckets [k*b, (k+1)*b) strictly inside (t0, t1)
    hi = -(-t1_s // b) - 2
    short = hi < lo
    return np.where(short, t0_s // b, lo), np.where(short, t1_s // b, hi)


def sampled_buckets(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The buckets counted for each range of :func:`bucket_range`: all of them, or
    :data:`RX_MAX_BUCKETS` spread evenly over a long range. Returns (row of the range, bucket)."""
    nb = hi - lo + 1
    kb = np.minimum(nb, RX_MAX_BUCKETS)
    rep = np.repeat(np.arange(len(lo)), kb)
    return rep, lo[rep] + (_offsets(kb) * nb[rep]) // kb[rep]


class ReceptionCache:
    """Reception counts of gaps kept between :func:`detect` calls on a window that changes a
    little at a time (the live watch keeps one between passes). A gap is counted again only
    when its ends or its buckets moved, or the grid's counts changed in one of its buckets:
    tell :meth:`grid_changed` the buckets (``tb``) where they did since the last call, or
    :meth:`clear` it. The counts equal counting every gap (tests/test_live.py checks)."""

    def __init__(self) -> None:
        self.clear()
        self.reused = self.counted = 0  # gaps whose counts were reused / counted, over all calls

    def clear(self) -> None:
        self.rows: pl.DataFrame | None = None  # _RX_KEY + the counts
        self.box: tuple[int, int] | None = None  # the cell box the rows were counted with
        self.tb = np.zeros(0, dtype=np.int64)

    def grid_changed(self, tb: np.ndarray | pl.Series) -> None:
        """The grid's counts changed in these buckets."""
        self.tb = np.union1d(self.tb, np.asarray(tb, dtype=np.int64))


#: what a gap's reception depends on: its bucket range, its ends and the radius at its start
_RX_KEY = ["lo", "hi", "lat0", "lon0", "r0", "lat1", "lon1"]
_RX = ["rx0", "rxv0", "rx1", "rxv1"]


def _reception(gaps: pl.DataFrame, points: pl.DataFrame | None, radius_nm: float, data_end: object,
               open_radius_nm: float | None = None, open_ahead_h: float = 0.0,
               grid: pl.DataFrame | None = None, cache: ReceptionCache | None = None) -> pl.DataFrame:
    """For each gap (row index ``gi``): positions of other vessels received during it within
    ``radius_nm`` of its start (``rx0``) and of its end (``rx1``), and the most vessels heard
    there at once (``rxv0``, ``rxv1``). Memory is bounded by gaps x cells x buckets, not by the
    positions: the positions are first counted per (cell, 10-min bucket). ``grid``: that count
    (:func:`reception_grid`, at least the cells within the radius of each gap end), instead of
    ``points``. ``cache``: counts of earlier calls to reuse (:class:`ReceptionCache`)."""
    cell = RX_CELL_NM / NM_PER_DEG_LAT
    if grid is None:
        grid = reception_grid(points)
    end_s = int(pl.Series([data_end]).dt.epoch("s")[0])
    lo, hi = bucket_range(gaps["t0"].dt.epoch("s").to_numpy(), gaps["t1"].dt.epoch("s").fill_null(end_s).to_numpy())
    # open gaps: count around where the vessel would have been, open_ahead_h on its last course
    is_open = gaps["t1"].is_null().to_numpy()
    lat0, lon0 = gaps["lat0"].to_numpy(), gaps["lon0"].to_numpy()
    r0 = np.full(len(gaps), radius_nm)
    if open_radius_nm is not None and is_open.any():
        sog = gaps["sog0"].cast(pl.Float64).fill_null(0.0).to_numpy()
        cog = gaps["cog0"].cast(pl.Float64).fill_null(0.0).to_numpy()
        dla, dlo = destination(lat0, lon0, cog, sog * open_ahead_h)
        lat0, lon0 = np.where(is_open, dla, lat0), np.where(is_open, dlo, lon0)
        r0 = np.where(is_open, open_radius_nm, radius_nm)
    keyed = gaps.select("gi", "lat1", "lon1").with_columns(
        lo=pl.Series(lo), hi=pl.Series(hi), lat0=pl.Series(lat0), lon0=pl.Series(lon0), r0=pl.Series(r0))
    g = keyed  # the gaps to count
    # the box of cells around each end that may lie within its radius
    lat1 = gaps["lat1"].drop_nulls().to_numpy()
    r_cells = int(np.ceil(max(radius_nm, float(r0.max())) / RX_CELL_NM))
    max_lat = float(np.nanmax(np.abs(np.concatenate([lat0, lat1]))))
    kx = int(np.ceil(r_cells / max(np.cos(np.radians(min(max_lat, 80.0))), 0.17)))
    reused = None
    if cache is not None and cache.rows is not None and cache.box == (r_cells, kx):
        j = g.join(cache.rows, on=_RX_KEY, how="left", nulls_equal=True)
        hit = j["rx0"].is_not_null().to_numpy()
        if len(cache.tb) and hit.any():
            rep, tb = sampled_buckets(lo, hi)
            hit[rep[np.isin(tb, cache.tb)]] = False
        reused = j.filter(pl.Series(hit)).select("gi", *_RX)
        g = g.filter(pl.Series(~hit))
    counted = _count(g, grid, radius_nm, r_cells, kx, cell)
    out = counted if reused is None else pl.concat([reused, counted])
    out = gaps.select("gi").join(out, on="gi", how="left")
    if cache is not None:
        cache.rows = keyed.join(out, on="gi").select(*_RX_KEY, *_RX).unique(_RX_KEY, keep="first")
        cache.box, cache.tb = (r_cells, kx), np.zeros(0, dtype=np.int64)
        cache.counted += g.height
        cache.reused += 0 if reused is None else reused.height
    return out


def _count(g: pl.DataFrame, grid: pl.DataFrame, radius_nm: float, r_cells: int, kx: int, cell: float) -> pl.DataFrame:
    """:func:`_reception`'s count for the gaps ``g`` (``gi``, :data:`_RX_KEY`)."""
    if g.height == 0:
        return pl.DataFrame(schema={"gi": g.schema["gi"], **{c: pl.Int64 for c in _RX}})
    ends = pl.concat([
        g.select("gi", "lo", "hi", end=pl.lit(0, pl.Int8), lat="lat0", lon="lon0", r="r0"),
        g.filter(pl.col("lat1").is_not_null()).select(
            "gi", "lo", "hi", end=pl.lit(1, pl.Int8), lat="lat1", lon="lon1", r=pl.lit(radius_nm)
        ),
    ])
    # cells whose centre lies within the radius of each end (numpy broadcasting, no loop per gap)
    lat = ends["lat"].to_numpy()
    lon = ends["lon"].to_numpy()
    r_end = ends["r"].to_numpy()
    dy, dx = np.meshgrid(np.arange(-r_cells, r_cells + 1), np.arange(-kx, kx + 1), indexing="ij")
    dy, dx = dy.ravel(), dx.ravel()
    cy = np.floor(lat / cell).astype(np.int64)[:, None] + dy[None, :]
    cx = np.floor(lon / cell).astype(np.int64)[:, None] + dx[None, :]
    d = haversine_nm(lat[:, None], lon[:, None], (cy + 0.5) * cell, (cx + 0.5) * cell)
    ei, k = np.nonzero(d <= r_end[:, None])
    near = pl.DataFrame({"ei": ei.astype(np.int64), "cy": cy[ei, k].astype(np.int32), "cx": cx[ei, k].astype(np.int32)})
    # only cells where anything was heard can count (most of the sea is empty)
    near = near.join(grid.select("cy", "cx").unique(), on=["cy", "cx"], how="semi")
    # the buckets fully inside each gap (or, for a gap shorter than a bucket, those it touches)
    rep, tb = sampled_buckets(ends["lo"].to_numpy(), ends["hi"].to_numpy())
    buckets = pl.DataFrame({"ei": rep.astype(np.int64), "tb": tb.astype(np.int64)})
    hits = (
        near.join(buckets, on="ei")
        .join(grid, on=["cy", "cx", "tb"])
        .group_by("ei", "tb")
        .agg(n=pl.col("n").sum(),
             # a grid by vessel (vessel_grid) has the MMSI as a column, reception_grid lists
             v=pl.col("mmsi").n_unique() if "mmsi" in grid.columns
             else pl.col("ms").list.explode(keep_nulls=False, empty_as_null=False).n_unique())
        .group_by("ei")
        .agg(n=pl.col("n").sum(), v=pl.col("v").max())
    )
    per_end = ends.with_row_index("ei").select(pl.col("ei").cast(pl.Int64), "gi", "end").join(hits, on="ei", how="left")
    out = g.select("gi")
    for e in (0, 1):
        a = per_end.filter(pl.col("end") == e).select("gi", pl.col("n").alias(f"rx{e}"), pl.col("v").alias(f"rxv{e}"))
        out = out.join(a, on="gi", how="left")
    return out.with_columns(pl.col("rx0", "rx1", "rxv0", "rxv1").fill_null(0).cast(pl.Int64))


def detect(inputs: Inputs, params: Params, grid: pl.DataFrame | None = None,
           cache: ReceptionCache | None = None) -> pl.DataFrame:
    """ais_gap events. ``grid``: the reception count of every vessel in ``inputs``
    (:func:`reception_grid` or :func:`vessel_grid`), if already counted. ``cache``: reception
    counts of earlier calls (:class:`ReceptionCache`)."""
    pts = inputs.points
    if pts.height == 0:
        return finish(pl.DataFrame(), "ais_gap", inputs.preset)
    data_end = pts["ts"].max()
    gaps = _gaps(pts, params.min_gap_h * 3600.0, data_end, inputs.segment_starts()).with_row_index("gi")
    if gaps.height == 0:
        return finish(pl.DataFrame(), "ais_gap", inputs.preset)
    rx = _reception(gaps, pts if grid is None else None, params.reception_radius_nm, data_end,
                    open_radius_nm=params.open_radius_nm, open_ahead_h=params.min_gap_h, grid=grid, cache=cache)
    return gap_events(gaps, rx, params, data_end, inputs.preset)


def gap_events(gaps: pl.DataFrame, rx: pl.DataFrame, params: Params, data_end: object,
               preset: str) -> pl.DataFrame:
    """The ``ais_gap`` events of ``gaps`` (from :func:`_gaps`, with a row index ``gi``) given
    their reception ``rx`` (:func:`_reception`); ``data_end``: the last time in the data."""
    g = gaps.join(rx, on="gi", how="left")
    k = params.min_other_positions
    good = (pl.col("rx0") >= k) & (pl.col("t1").is_null() | (pl.col("rx1") >= k))
    not_port = (pl.col("port0").is_null() | (pl.col("port0") > params.port_radius_km)) & (
        pl.col("port1").is_null() | (pl.col("port1") > params.port_radius_km)
    )
    offshore = pl.lit(True)
    if params.min_shore_nm > 0:
        offshore = (pl.col("shore0").fill_null(float("inf")) > params.min_shore_nm) & (
            pl.col("t1").is_null() | (pl.col("shore1").fill_null(float("inf")) > params.min_shore_nm)
        )
    g = g.filter(good & not_port & offshore)
    if g.height == 0:
        return finish(pl.DataFrame(), "ais_gap", preset)
    dist = haversine_nm(g["lat0"].to_numpy(), g["lon0"].to_numpy(), g["lat1"].fill_null(np.nan).to_numpy(), g["lon1"].fill_null(np.nan).to_numpy())
    end = g["t1"].fill_null(data_end)
    hours = ((end - g["t0"]).dt.total_seconds() / 3600.0).to_numpy()
    speed = np.where(np.isnan(dist), np.nan, dist / np.maximum(hours, 1e-9))
    # longer and nearer-shore gaps weigh more; a gap that is still open (went dark) most
    score = np.clip(hours / (4 * params.min_gap_h), 0.25, 1.0)
    score = np.where(g["t1"].is_null().to_numpy(), np.maximum(score, 0.75), score)
    severity = np.where(score >= 0.75, "high", np.where(score >= 0.5, "medium", "low"))
    evidence = [
        json.dumps(
            {
                "gap_h": round(float(h), 3),
                "min_gap_h": params.min_gap_h,
                "distance_nm": None if np.isnan(d) else round(float(d), 3),
                "implied_speed_kn": None if np.isnan(s) else round(float(s), 2),
                "reception_positions_start": int(r0),
                "reception_vessels_start": int(v0),
                "reception_positions_end": None if t1 is None else int(r1),
                "reception_vessels_end": None if t1 is None else int(v1),
                "min_other_positions": params.min_other_positions,
                "reception_radius_nm": params.reception_radius_nm,
                "last_position": [round(la, 5), round(lo, 5)],
                "next_position": None if t1 is None else [round(la1, 5), round(lo1, 5)],
                "seg_id": seg,
                "next_seg_id": seg1,
                "min_shore_nm": params.min_shore_nm,
            }
        )
        for h, d, s, r0, v0, r1, v1, t1, la, lo, la1, lo1, seg, seg1 in zip(
            hours, dist, speed, g["rx0"], g["rxv0"], g["rx1"], g["rxv1"], g["t1"], g["lat0"], g["lon0"],
            g["lat1"].fill_null(0.0), g["lon1"].fill_null(0.0), g["seg_id"], g["seg_id1"],
        )
    ]
    ev = pl.DataFrame(
        {
            "mmsi": g["mmsi"],
            "start_time": g["t0"],
            "end_time": g["t1"],
            "lat": g["lat0"],
            "lon": g["lon0"],
            "severity": severity,
            "score": score.astype(np.float32),
            "evidence": evidence,
        }
    )
    return finish(ev, "ais_gap", preset)


__all__ = ["EVENT_TYPES", "PRESETS", "Params", "detect", "gap_events", "grown_vessel_grid", "reception_grid", "vessel_grid"]
