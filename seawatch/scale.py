"""Scale out: the same tracks and detectors on a Dask cluster, when one machine is not enough.

The kernel contract
-------------------
Every stage of seawatch is a *kernel*: a pure function of polars frames, called unchanged by the
single-machine path (:func:`seawatch.tracks.materialise_tracks`, :func:`seawatch.detect.run_detect`)
and by this engine. What a kernel may assume about the frame it gets is what makes it
distributable:

* **per vessel** — :func:`seawatch.tracks.build_tracks` and the detectors in :data:`PER_VESSEL`
  see *whole vessels*: every row of each MMSI they are given (positions; tracks with their noise
  points, segments and statics of those MMSIs). Whatever else is in the frame does not change
  their output for a vessel, and rows come sorted by time within a vessel (the kernels sort
  when they need to). So the data is partitioned by MMSI and each partition runs them alone.
* **cross vessel** — :data:`CROSS_VESSEL` detectors relate vessels to each other, and run in two
  halves: a per-vessel half in the MMSI partitions, then a half over *space-time cells with a
  halo*. Encounters: the per-vessel resampled grid points
  (:func:`seawatch.detect.encounter.grid_points`) are keyed by tile (``tile_deg`` x
  ``tile_deg`` x ``tile_steps`` grid times); a point also goes to every tile within
  ``max_distance_m`` (x1.05) of it, so a pair is found in the tile of its lower-MMSI point,
  exactly once (:func:`seawatch.detect.encounter.close_steps` over the tile, pairs kept only
  where that point is the tile's own); the close steps are then regrouped by pair, so the run
  and merge logic (:func:`~seawatch.detect.encounter.events_from_steps`) sees every step of a
  pair. The reception model of ``ais_gap``: each partition counts its positions per (5 nm cell,
  10-min bucket) (:func:`seawatch.detect.gap.reception_grid`; counts of disjoint vessels add),
  written by tile of ``rx_tile_cells`` cells; the gaps (found per vessel against the data's
  global end time) are grouped by tile, and each group reads the tiles within the reception
  radius of its gap ends (the halo) and runs the same :func:`~seawatch.detect.gap._reception`.
* **global inputs** are distributed reductions computed first and passed in: the MMSI
  partition bounds (row counts per MMSI), the inferred anchorages (per-vessel stays,
  :func:`seawatch.zones.ports.anchorage_stays`, then cells over all of them), the data's end
  time, the vessels' names for the risk table.
* :data:`CLIENT_SIDE` (``dark``: a global one-to-one assignment of sensor detections to AIS
  segments) runs in the client over the segments within reach of the detections' time span.

The result is the same rows and ids as the single-machine path (``tests/test_scale.py``).

The engine
----------
:func:`tracks_dask` and :func:`detect_dask` (``seawatch tracks|detect --engine dask``) read the
store (or, for tracks, any Parquet dataset of positions), range-partition by MMSI into
partitions of about ``partition_rows`` rows (balanced by row count; MMSI ranges, so the
partitions concatenated in order are in the single path's row order), and run one task per
partition; intermediate data goes through Parquet files in a scratch directory under the store
(the store must be on a filesystem every worker sees). Results are written as partitioned
Parquet straight into a new generation of the store's derived tables (``tracks/gen-<n>/day=<d>/
part-b<partition>.parquet``) and registered with the store's commit (the pointer file), as
:meth:`seawatch.store.Store.write_derived` does. A worker holds one partition (or one tile
group) at a time, so its memory is bounded by ``partition_rows``, not by the dataset.
:func:`ingest_dask` ingests many files at once, one task per file, each through the store's
per-file commit protocol.

Without a scheduler address a :class:`distributed.LocalCluster` is started (one single-threaded
worker process per core by default, polars limited to the worker's threads).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from . import schema
from .errors import SeawatchError

#: Detectors that see whole vessels only: run as they are in each MMSI partition.
PER_VESSEL = ("zone_crossing", "port_visit", "loitering", "speed_anomaly", "position_jump", "identity",
              "night_coastal_approach")
#: Detectors relating vessels to each other: a per-vessel half, then space-time tiles with a halo.
CROSS_VESSEL = ("ais_gap", "encounter")
#: Detectors run in the client (a global assignment over the segments near the detections).
CLIENT_SIDE = ("dark",)

_SCRATCH = "_scratch"
_TRACK_POINT_COLS = ("mmsi", "seg_id", "ts", "lat", "lon", "sog_kn", "cog_deg")


@dataclass(frozen=True)
class ScaleParams:
    """How the work is cut.

    - ``partition_rows`` = 1,000,000: positions (or track points) per MMSI partition; a worker
      holds one partition (or one group of zones cells of as many points) at a time: about
      1.3 GB peak per worker (``bench/scale.py``), whatever the dataset size.
    - ``tile_deg`` = 1.0 and ``tile_steps`` = 144: encounter tiles, degrees of latitude and
      longitude by grid times (144 x 10 min = one day).
    - ``rx_tile_cells`` = 12: reception tiles of ``ais_gap``, in its 5 nm cells (60 nm) by
      days; ``gaps_per_task`` = 2,000: gaps (neighbours in space and time) per reception task.
    - ``tile_tasks``: tasks of the tile stages (default: as many as MMSI partitions, at least
      the number of workers).
    - ``files_per_task``: input files per splitting task (default: by their row counts, about
      ``partition_rows`` a task).
    """

    partition_rows: int = 1_000_000
    tile_deg: float = 1.0
    tile_steps: int = 144
    rx_tile_cells: int = 12
    gaps_per_task: int = 2_000
    tile_tasks: int | None = None
    files_per_task: int | None = None

    def __post_init__(self) -> None:
        if self.partition_rows < 1 or self.tile_steps < 1 or self.rx_tile_cells < 1:
            raise SeawatchError("ScaleParams: partition_rows, tile_steps and rx_tile_cells must be >= 1")
        if not 0 < self.tile_deg <= 90:
            raise SeawatchError(f"ScaleParams.tile_deg must be in (0, 90], got {self.tile_deg!r}")


def _check_contract() -> None:
    from .detect import DETECTORS

    known = set(PER_VESSEL) | set(CROSS_VESSEL) | set(CLIENT_SIDE)
    if set(DETECTORS) != known:  # a new detector must say which kind it is
        raise SeawatchError(f"seawatch.scale does not know how to distribute detectors "
                            f"{sorted(set(DETECTORS) - known)}: add them to PER_VESSEL, CROSS_VESSEL or CLIENT_SIDE")


# -- the cluster ------------------------------------------------------------------------------------
@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int | None = None, threads_per_worker: int = 1,
                memory_limit: str | float | None = "auto", processes: bool = True,
                local_directory: str | None = None) -> Iterator[Any]:
    """A :class:`distributed.Client`: to the scheduler at ``scheduler`` (``tcp://host:8786``),
    or to a LocalCluster of ``workers`` processes (default: one per core) of
    ``threads_per_worker`` threads each, polars and BLAS limited to that many threads."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SeawatchError("the dask engine needs dask[distributed]: pip install 'seawatch[scale]'") from None
    import logging

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise SeawatchError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    env = {k: str(threads_per_worker) for k in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                 "MKL_NUM_THREADS", "RAYON_NUM_THREADS")}
    kw: dict[str, Any] = dict(n_workers=n, threads_per_worker=threads_per_worker, processes=processes,
                              memory_limit=memory_limit, dashboard_address=None, silence_logs=logging.ERROR)
    if processes:
        kw["env"] = env
    if local_directory:
        kw["local_directory"] = local_directory
    with LocalCluster(**kw) as cluster, Client(cluster) as client:
        yield client


#: a cluster without a single worker for this long fails the command instead of waiting forever
NO_WORKERS_S = 60.0


def _gather(client: Any, fn: Any, *iterables: Sequence[Any], **kw: Any) -> list[Any]:
    """Run ``fn`` over the iterables as tasks; results in order (the first error is raised).
    Raises SeawatchError when the cluster has had no worker for :data:`NO_WORKERS_S` (workers
    killed, e.g. out of memory): Dask would otherwise wait for new ones forever."""
    from distributed import wait

    if not iterables or not len(iterables[0]):
        return []
    futures = client.map(fn, *iterables, pure=False, **kw)
    since = None
    while True:
        try:
            wait(futures, timeout=5)
            return client.gather(futures)  # all done, or one failed: its error is raised
        except TimeoutError:
            pass
        if client.scheduler_info().get("workers"):
            since = None
        elif since is None:
            since = time.monotonic()
        elif time.monotonic() - since >= NO_WORKERS_S:
            client.cancel(futures)
            raise SeawatchError(f"the Dask cluster has had no workers for {NO_WORKERS_S:.0f} s (killed, out of "
                                "memory?): restart it, or give the workers more memory (--memory-limit)")


# -- partitioning by MMSI -----------------------------------------------------------------------------
def _scan(table: str | None, files: Sequence[str], columns: Sequence[str] | None = None) -> pl.LazyFrame:
    """Files of a store table in its schema (``table``), or any Parquet files (None)."""
    if table is not None:
        from .store import _scan as store_scan

        lf = store_scan(table, list(files))
    else:
        lf = pl.scan_parquet(list(files))
    return lf.select(list(columns)) if columns is not None else lf


def _mmsi_counts(table: str | None, files: Sequence[str]) -> pl.DataFrame:
    return _scan(table, files, ["mmsi"]).group_by("mmsi").agg(n=pl.len()).collect()


def _file_groups(files: Sequence[str], sp: ScaleParams) -> list[list[str]]:
    """Consecutive files, about ``partition_rows`` rows (or ``files_per_task`` files) a group."""
    if sp.files_per_task:
        return [list(files[i:i + sp.files_per_task]) for i in range(0, len(files), sp.files_per_task)]
    import pyarrow.parquet as pq

    groups: list[list[str]] = []
    cur: list[str] = []
    rows = 0
    for f in files:
        n = pq.ParquetFile(f).metadata.num_rows
        if cur and rows + n > sp.partition_rows:
            groups.append(cur)
            cur, rows = [], 0
        cur.append(f)
        rows += n
    if cur:
        groups.append(cur)
    return groups


def partition_cuts(counts: pl.DataFrame, partition_rows: int) -> list[int]:
    """MMSI range cuts from rows per MMSI: partition ``i`` holds the MMSIs ``m`` with
    ``cuts[i-1] < m <= cuts[i]`` (null MMSIs go to partition 0), about ``partition_rows`` rows
    each (one MMSI is never split)."""
    c = counts.filter(pl.col("mmsi").is_not_null()).group_by("mmsi").agg(pl.col("n").sum()).sort("mmsi")
    if c.height == 0:
        return []
    start = (c["n"].cum_sum() - c["n"]).to_numpy()
    part = start // max(int(partition_rows), 1)
    m = c["mmsi"].to_numpy()
    last = np.flatnonzero(np.r_[part[1:] != part[:-1], True])
    return [int(x) for x in m[last[:-1]]]


def _bucket(mmsi: pl.Series, cuts: Sequence[int]) -> np.ndarray:
    if not cuts:
        return np.zeros(len(mmsi), dtype=np.int64)
    m = mmsi.fill_null(np.iinfo(np.int64).min).cast(pl.Int64).to_numpy()
    return np.searchsorted(np.asarray(cuts, dtype=np.int64), m, side="left").astype(np.int64)


def _split_task(table: str | None, files: list[str], columns: list[str] | None, cuts: list[int],
                out_dir: str, tag: str) -> dict[int, int]:
    """One group of input files -> one Parquet file per MMSI partition (``out_dir/b<k>/<tag>``)."""
    df = _scan(table, files, columns).collect()
    if df.height == 0:
        return {}
    b = pl.Series("_b", _bucket(df["mmsi"], cuts))
    out: dict[int, int] = {}
    for (k,), part in df.with_columns(b).partition_by("_b", as_dict=True, include_key=False,
                                                      maintain_order=True).items():
        d = Path(out_dir) / f"b{int(k):05d}"
        d.mkdir(parents=True, exist_ok=True)
        part.write_parquet(d / f"{tag}.parquet", compression="lz4", statistics=True)
        out[int(k)] = part.height
    return out


def _split(client: Any, table: str | None, files: Sequence[str], columns: Sequence[str] | None,
           cuts: list[int], out_dir: Path, sp: ScaleParams) -> dict[int, list[str]]:
    """Range-partition ``files`` by MMSI; returns partition -> its files, in input order."""
    groups = _file_groups(files, sp)
    _gather(client, _split_task, [table] * len(groups), groups, [list(columns) if columns else None] * len(groups),
            [cuts] * len(groups), [str(out_dir)] * len(groups), [f"{i:06d}" for i in range(len(groups))])
    return {int(d.name[1:]): sorted(str(f) for f in d.glob("*.parquet"))
            for d in sorted(out_dir.glob("b*")) if d.is_dir()}


def _read(files: Sequence[str], table: str | None = None) -> pl.DataFrame:
    if not files:
        return schema.empty(table) if table else pl.DataFrame()
    return _scan(table, files).collect() if table else pl.read_parquet(list(files))


def _positions_files(store: Any, positions: str | os.PathLike[str] | None) -> tuple[str | None, list[str]]:
    """The positions to track: the store's, or a Parquet file or directory (``positions``)."""
    if positions is None:
        return "positions", store.parts("positions")
    p = Path(positions)
    if p.is_file():
        return "positions", [str(p)]
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.parquet"))
        if not files:
            raise SeawatchError(f"no Parquet files under {p}: give a Parquet dataset of positions")
        return "positions", files
    raise SeawatchError(f"no such file or directory: {p} — give a Parquet dataset of positions")


# -- committing derived tables written by the workers ---------------------------------------------
def _write_part(df: pl.DataFrame, path: Path) -> None:
    """A part of a derived table, as the store writes its parts: tmp, fsync, atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    df.write_parquet(tmp, compression="zstd", statistics=True)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _new_generation(store: Any, table: str) -> tuple[int, Path]:
    gen = (store.generation(table) or 0) + 1
    gdir = store.path / table / f"gen-{gen}"
    if gdir.exists():  # leftovers of an interrupted write of this generation
        shutil.rmtree(gdir)
    gdir.mkdir(parents=True)
    return gen, gdir


def _commit_generation(store: Any, table: str, gen: int, rows: int, meta: dict[str, Any]) -> dict[str, Any]:
    """Register generation ``gen`` of ``table``, written in place by the workers
    (:meth:`seawatch.store.Store.commit_generation`, as write_derived does)."""
    from .store import _fsync_dir

    gdir = store.path / table / f"gen-{gen}"
    if not any(gdir.rglob("*.parquet")):  # an empty table still has its (empty) part
        _write_part(schema.empty(table), gdir / "part.parquet")
    for d in [gdir, *[x for x in gdir.iterdir() if x.is_dir()]]:
        _fsync_dir(d)
    return store.commit_generation(table, gen, rows, meta)


@contextlib.contextmanager
def _scratch(store: Any) -> Iterator[Path]:
    d = store.path / _SCRATCH / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    d.mkdir(parents=True)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
        with contextlib.suppress(OSError):
            (store.path / _SCRATCH).rmdir()


# -- tracks -----------------------------------------------------------------------------------------
_ZONES_CACHE: dict[Any, Any] = {}


def _zones_of(zones_table: pl.DataFrame | None, key: Any) -> Any:
    if zones_table is None:
        return None
    if key not in _ZONES_CACHE:
        from .zones import Zones

        _ZONES_CACHE.clear()
        _ZONES_CACHE[key] = Zones.default().with_imported(zones_table)
    return _ZONES_CACHE[key]


def _write_by_day(pts: pl.DataFrame, tracks_dir: str, name: str) -> None:
    if pts.height:
        day = pl.col("ts").dt.strftime("%Y-%m-%d").fill_null("untimed").alias("_day")
        for (d,), part in pts.with_columns(day).partition_by("_day", as_dict=True, maintain_order=True).items():
            _write_part(part.drop("_day"), Path(tracks_dir) / f"day={d}" / name)


def _cell_key(lat: pl.Expr, lon: pl.Expr) -> pl.Expr:
    """The 1/32-degree cell of the zones' lookup grid (seawatch.zones: integer-degree origin)."""
    return ((lat * 32.0).floor().cast(pl.Int64) + 4096) * 16384 + (lon * 32.0).floor().cast(pl.Int64) + 8192


def _tracks_task(b: int, files: list[str], params: Any, places: bool, tracks_dir: str, segments_dir: str,
                 scratch: str) -> dict[str, Any]:
    """One MMSI partition: build_tracks without the place columns; the segments are final, the
    points go to the new generation (no places) or to the place stage (rid, ts, lat, lon by
    zones cell) and wait there for their place columns."""
    from .tracks import PLACE_COLUMNS, build_tracks
    from .zones.ports import anchorage_stays

    pos = _read(files, "positions")
    res = build_tracks(pos, params, places=False)
    stays = anchorage_stays(pos.select("mmsi", "ts", "lat", "lon", "sog_kn").filter(
        pl.col("ts").is_not_null() & pl.col("lat").is_not_null())) if places else None
    del pos
    name = f"part-b{b:05d}.parquet"
    if res.segments.height:
        _write_part(res.segments, Path(segments_dir) / name)
    pts = res.points
    out: dict[str, Any] = {"stats": res.stats, "cells": None, "stays": stays}
    if not places:
        _write_by_day(pts, tracks_dir, name)
        return out
    pts = pts.drop(PLACE_COLUMNS).with_columns(rid=pl.int_range(pl.len(), dtype=pl.Int64) + (b << 40))
    d = Path(scratch)
    (d / "trk").mkdir(parents=True, exist_ok=True)
    (d / "loc").mkdir(parents=True, exist_ok=True)
    pts.write_parquet(d / "trk" / f"b{b:05d}.parquet", compression="lz4")
    loc = pts.select("rid", "ts", "lat", "lon", cell=_cell_key(pl.col("lat"), pl.col("lon"))).sort("cell", "rid")
    loc.write_parquet(d / "loc" / f"b{b:05d}.parquet", compression="lz4", statistics=True, row_group_size=64_000)
    out["cells"] = loc.group_by("cell").agg(n=pl.len())
    return out


def _places_task(g: int, lo: int, hi: int, loc_files: list[str], ports: pl.DataFrame | None,
                 zones_table: pl.DataFrame | None, zones_key: Any, scratch: str) -> int:
    """Place stage: the place columns of every track point in zones cells ``lo..hi``. The zones
    lookup is a per-cell kernel (how it answers a cell depends on how many points it holds):
    it sees whole cells, as in build_tracks over all points."""
    from .tracks import PLACE_COLUMNS, add_places

    df = pl.scan_parquet(loc_files).filter(pl.col("cell").is_between(lo, hi)).drop("cell").collect().sort("rid")
    if df.height == 0:
        return 0
    out = add_places(df, ports, _zones_of(zones_table, zones_key)).select(
        "rid", *PLACE_COLUMNS, b=(pl.col("rid") // (1 << 40)).cast(pl.Int64))
    for (b,), part in out.partition_by("b", as_dict=True, include_key=False).items():
        d = Path(scratch) / "places" / f"b{int(b):05d}"
        d.mkdir(parents=True, exist_ok=True)
        part.write_parquet(d / f"g{g:05d}.parquet", compression="lz4")
    return out.height


def _join_task(b: int, scratch: str, tracks_dir: str) -> int:
    """One MMSI partition: its points with their place columns, into the new generation."""
    pts = pl.read_parquet(Path(scratch) / "trk" / f"b{b:05d}.parquet")
    if pts.height == 0:
        return 0
    places = pl.read_parquet(sorted((Path(scratch) / "places" / f"b{b:05d}").glob("*.parquet")))
    pts = schema.conform("tracks", pts.join(places, on="rid", how="left", maintain_order="left").drop("rid"))
    _write_by_day(pts, tracks_dir, f"part-b{b:05d}.parquet")
    return pts.height


def _cell_groups(cells: pl.DataFrame, target: int) -> list[tuple[int, int]]:
    """Consecutive zones cells packed into groups of about ``target`` points: (first, last)."""
    c = cells.group_by("cell").agg(pl.col("n").sum()).sort("cell")
    if c.height == 0:
        return []
    start = (c["n"].cum_sum() - c["n"]).to_numpy()
    grp = start // max(target, 1)
    total = int(c["n"].sum())
    if grp[-1] > 0 and total - int(start[np.argmax(grp == grp[-1])]) < target // 2:
        grp[grp == grp[-1]] = grp[-1] - 1  # no small last group
    cell = c["cell"].to_numpy()
    out = []
    for g in np.unique(grp):
        idx = np.flatnonzero(grp == g)
        out.append((int(cell[idx[0]]), int(cell[idx[-1]])))
    return out


def tracks_dask(db: Any, params: Any = None, *, places: bool = True, client: Any = None,
                scheduler: str | None = None, workers: int | None = None,
                positions: str | os.PathLike[str] | None = None, scale: ScaleParams | None = None) -> dict[str, Any]:
    """:func:`seawatch.tracks.materialise_tracks` on a Dask cluster: the same ``tracks``,
    ``segments`` (and ``ports``) tables, written by the workers into the store at ``db``.
    ``positions``: a Parquet file or dataset directory to track instead of the store's
    positions (the store is created if needed). ``client``: a distributed Client (else one to
    ``scheduler``, or a LocalCluster of ``workers``). Returns the stats (as Tracks.stats)."""
    if client is None:
        with dask_client(scheduler, workers=workers) as c:
            return tracks_dask(db, params, places=places, client=c, positions=positions, scale=scale)
    from .store import Store
    from .tracks import SegmentParams, anchorage_min_vessels

    sp = scale or ScaleParams()
    params = params or SegmentParams()
    store = db if isinstance(db, Store) else Store(db, create=positions is not None)
    files_n, files_key = len(store.manifests()), store.files_key()  # the ingest state tracked
    table, files = _positions_files(store, positions)
    t0 = time.perf_counter()
    with _scratch(store) as tmp:
        groups = _file_groups(files, sp)
        counts = pl.concat(_gather(client, _mmsi_counts, [table] * len(groups), groups)
                           or [pl.DataFrame(schema={"mmsi": pl.Int64, "n": pl.UInt32})])
        cuts = partition_cuts(counts, sp.partition_rows)
        parts = _split(client, table, files, None, cuts, tmp / "positions", sp)
        buckets = sorted(parts)
        gen_t, tdir = _new_generation(store, "tracks")
        gen_s, sdir = _new_generation(store, "segments")
        nb = len(buckets)
        out = _gather(client, _tracks_task, buckets, [parts[b] for b in buckets], [params] * nb, [places] * nb,
                      [str(tdir)] * nb, [str(sdir)] * nb, [str(tmp)] * nb)
        ports = None
        anchorages = 0
        if places:  # the built-in ports plus the anchorages of every partition's stays
            from .zones.ports import anchorages_from_stays, ports_table

            reg = ports_table()
            stays = [o["stays"] for o in out if o["stays"] is not None and o["stays"].height]
            anch = anchorages_from_stays(pl.concat(stays), min_vessels=anchorage_min_vessels(
                counts["mmsi"].n_unique())) if stays else schema.empty("ports")
            ports = pl.concat([reg, anch]) if anch.height else reg
            anchorages = int((ports["source"] == "inferred").sum())
            store.write_derived("ports", ports, {"inferred_anchorages": anchorages})
        zones_table = None
        if places and store.derived_info("zones") is not None:
            zones_table = store.table("zones")
        if places and nb:
            cells = pl.concat([o["cells"] for o in out])
            groups = _cell_groups(cells, max(sp.partition_rows, 50_000))
            loc_files = sorted(str(f) for f in (tmp / "loc").glob("*.parquet"))
            ports_f = client.scatter(ports, broadcast=True) if ports is not None else None
            zkey = (str(store.path), store.generation("zones"))
            ng = len(groups)
            _gather(client, _places_task, list(range(ng)), [g[0] for g in groups], [g[1] for g in groups],
                    [loc_files] * ng, [ports_f] * ng, [zones_table] * ng, [zkey] * ng, [str(tmp)] * ng)
            _gather(client, _join_task, buckets, [str(tmp)] * nb, [str(tdir)] * nb)
    keys = ("positions", "untracked_no_time_or_position", "untracked_not_vessel", "duplicates_merged", "points",
            "noise", "segments", "vessels")
    stats = {k: int(sum(o["stats"].get(k, 0) for o in out)) for k in keys}
    meta = {"params": dataclasses.asdict(params), "stats": stats, "places": places, "files": files_n,
            "files_key": files_key, "inferred_anchorages": anchorages, "zones_generation": store.generation("zones"),
            "engine": "dask", "partition_cuts": cuts, "partitions": len(buckets),
            "seconds": round(time.perf_counter() - t0, 3)}
    _commit_generation(store, "tracks", gen_t, stats["points"], meta)
    _commit_generation(store, "segments", gen_s, stats["segments"], meta)
    return stats


# -- detect -----------------------------------------------------------------------------------------
def _tile_hash(*keys: np.ndarray, n: int) -> np.ndarray:
    """A deterministic hash of integer keys -> 0..n-1 (splitmix64 of their combination)."""
    with np.errstate(over="ignore"):
        h = np.zeros(len(keys[0]), dtype=np.uint64)
        for k in keys:
            h = (h ^ k.astype(np.int64).view(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
            h ^= h >> np.uint64(31)
        h = (h ^ (h >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return (h % np.uint64(max(n, 1))).astype(np.int64)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows i with integer ranges [lo, hi]: (row index, value) of every member."""
    from .tracks import _ranges as tracks_ranges

    cnt = (hi - lo + 1).astype(np.int64)
    return np.repeat(np.arange(len(lo)), cnt), tracks_ranges(lo, cnt)


def encounter_tiles(grid: pl.DataFrame, max_distance_m: float, sp: ScaleParams, n_tasks: int) -> pl.DataFrame:
    """Grid points of the encounter detector, each keyed to the tile task of every tile within
    ``max_distance_m`` (x1.05) of it (``r``), ``own`` where the point's own tile is that task's.
    A pair of points within the distance is then in the task of its first point's tile."""
    from .detect.encounter import _KM_PER_DEG

    if grid.height == 0:
        return grid.with_columns(r=pl.lit(0, pl.Int64), own=pl.lit(True)).clear()
    lat = grid["lat"].to_numpy()
    lon = grid["lon"].to_numpy()
    k = grid["k"].to_numpy()
    td = sp.tile_deg
    nx = max(1, int(round(360.0 / td)))
    tdx = 360.0 / nx
    dlat = 1.05 * max_distance_m / 1000.0 / _KM_PER_DEG + 1e-9
    ty0 = np.floor(lat / td).astype(np.int64)
    tx0 = np.floor((lon + 180.0) / tdx).astype(np.int64) % nx
    tt = np.floor_divide(k, sp.tile_steps).astype(np.int64)
    home = _tile_hash(ty0, tx0, tt, n=n_tasks)
    # longitude reach at the poleward edge (haversine: |dlon| <= 2 asin(sin(d/2) / cos(phi)))
    phi = np.radians(np.minimum(np.abs(lat) + dlat, 90.0))
    x = np.sin(np.radians(dlat) / 2.0) / np.maximum(np.cos(phi), 1e-12)
    dlon = np.where(x < 1.0, 1.05 * 2.0 * np.degrees(np.arcsin(np.minimum(x, 1.0))), 360.0)
    y_lo, y_hi = np.floor((lat - dlat) / td).astype(np.int64), np.floor((lat + dlat) / td).astype(np.int64)
    x_lo = np.floor((lon + 180.0 - dlon) / tdx).astype(np.int64)
    x_hi = np.floor((lon + 180.0 + dlon) / tdx).astype(np.int64)
    wide = (x_hi - x_lo + 1) >= nx
    x_lo, x_hi = np.where(wide, 0, x_lo), np.where(wide, nx - 1, x_hi)
    ri, ty = _ranges(np.zeros(len(lat), np.int64) + y_lo, y_hi)
    rj, tx = _ranges(x_lo[ri], x_hi[ri])
    pt = ri[rj]
    r = _tile_hash(ty[rj], tx % nx, tt[pt], n=n_tasks)
    keyed = pl.DataFrame({"i": pt, "r": r}).unique(maintain_order=True)
    i = keyed["i"].to_numpy()
    out = grid[i].with_columns(r=keyed["r"], own=pl.Series(keyed["r"].to_numpy() == home[i]))
    return out.sort("r", "pid")


def _vessel_task(b: int, track_files: list[str], statics_files: list[str], seg_files: list[str],
                 bounds: tuple[int | None, int | None], ports: pl.DataFrame | None, preset: str, config: Any,
                 data_end: Any, scratch: str, sp: ScaleParams, n_tasks: int) -> dict[str, Any]:
    """One MMSI partition: the per-vessel detectors, and the per-vessel halves of the others."""
    from .detect import DETECTORS, Inputs, module, params_for
    from .detect import encounter as enc
    from .detect import gap
    from .detect.base import DETECT_COLUMNS

    params = params_for(preset, config)
    lf = pl.scan_parquet(track_files).select(list(DETECT_COLUMNS)) if track_files else schema.empty("tracks").lazy().select(list(DETECT_COLUMNS))
    seg = pl.col("seg_id").is_not_null()
    points = lf.filter(seg).collect()
    noise = lf.filter(~seg).collect()
    lo, hi = bounds
    in_range = pl.lit(True)
    if lo is not None:
        in_range = in_range & (pl.col("mmsi") > lo)
    if hi is not None:
        in_range = in_range & (pl.col("mmsi") <= hi)
    segments = _scan("segments", seg_files).filter(in_range).collect() if seg_files else schema.empty("segments")
    statics = _read(statics_files, "statics") if statics_files else schema.empty("statics")
    inputs = Inputs(tracks=points, segments=segments, statics=statics, ports=ports, preset=preset, noise=noise,
                    ports_in_tracks=ports is not None)
    del points, noise
    rank = {n: i for i, n in enumerate(DETECTORS)}
    frames = []
    for n in PER_VESSEL:
        ev = module(n).detect(inputs, params[n])
        if ev.height:
            frames.append(ev.with_columns(_rank=pl.lit(rank[n], pl.Int32)))
    pts = inputs.points
    out: dict[str, Any] = {"events": pl.concat(frames) if frames else None, "gaps": None}
    # ais_gap: this partition's silences, and its share of the reception grid, by tile
    if pts.height and data_end is not None:
        gp = params["ais_gap"]
        out["gaps"] = gap._gaps(pts, gp.min_gap_h * 3600.0, data_end, inputs.segment_starts())
        t = sp.rx_tile_cells
        grid = gap.reception_grid(pts).with_columns(
            ty=pl.col("cy").floordiv(t).cast(pl.Int32), tx=pl.col("cx").floordiv(t).cast(pl.Int32),
            td=(pl.col("tb") * gap.RX_BUCKET_S).floordiv(86_400).cast(pl.Int32)).sort("ty", "tx", "td")
        d = Path(scratch) / "rx"
        d.mkdir(parents=True, exist_ok=True)
        grid.write_parquet(d / f"b{b:05d}.parquet", compression="lz4", statistics=True, row_group_size=64_000)
    # encounter: grid points, keyed to the tiles within the distance of them
    ep = params["encounter"]
    g = enc.grid_points(inputs, ep).select("mmsi", "k", "lat", "lon", "speed_kn", "port_km")
    g = g.with_columns(pid=(pl.int_range(pl.len(), dtype=pl.Int64) + (b << 40)))
    keyed = encounter_tiles(g, ep.max_distance_m, sp, n_tasks)
    d = Path(scratch) / "enc"
    d.mkdir(parents=True, exist_ok=True)
    keyed.write_parquet(d / f"b{b:05d}.parquet", compression="lz4", statistics=True, row_group_size=64_000)
    # the vessels' names, for the risk table
    st = inputs.statics
    out["names"] = (st.filter(pl.col("shipname").is_not_null()).sort("mmsi", "ts", nulls_last=False)
                    .group_by("mmsi", maintain_order=True).agg(pl.col("ts").last(), pl.col("shipname").last()))
    return out


def _encounter_tile_task(r: int, files: list[str], preset: str, config: Any, scratch: str, n_tasks: int) -> int:
    """Tile task ``r``: close steps of the pairs whose first point is in one of its tiles,
    written keyed by pair (``q``)."""
    from .detect import params_for
    from .detect.encounter import close_steps, pair_rows

    p = params_for(preset, config)["encounter"]
    grid = pl.scan_parquet(files).filter(pl.col("r") == r).collect().sort("pid") if files else pl.DataFrame()
    if grid.height < 2:
        return 0
    pairs = close_steps(grid, p.max_distance_m)
    pairs = pairs.filter(pl.Series(grid["own"].to_numpy()[pairs["i"].to_numpy()]))
    rows = pair_rows(grid, pairs)
    if rows.height == 0:
        return 0
    q = _tile_hash(rows["mmsi"].to_numpy(), rows["other_mmsi"].to_numpy(), n=n_tasks)
    d = Path(scratch) / "steps"
    d.mkdir(parents=True, exist_ok=True)
    rows.with_columns(q=pl.Series(q)).sort("q").write_parquet(d / f"r{r:05d}.parquet", compression="lz4",
                                                                statistics=True, row_group_size=64_000)
    return rows.height


def _encounter_pair_task(q: int, files: list[str], preset: str, config: Any) -> pl.DataFrame:
    """Pair task ``q``: every close step of its pairs -> encounter events."""
    from .detect import params_for
    from .detect.encounter import events_from_steps

    p = params_for(preset, config)["encounter"]
    rows = pl.scan_parquet(files).filter(pl.col("q") == q).drop("q").collect() if files else pl.DataFrame()
    if rows.height == 0:
        return schema.empty("events")
    return events_from_steps(rows, p, preset)


def _gap_needed_tiles(gaps: pl.DataFrame, p: Any, t: int, data_end: Any) -> pl.DataFrame:
    """The reception tiles and days (``ty, tx, td``) within reach of the gaps' ends (start, end,
    and the dead-reckoned position of open gaps; a cell of margin) during the gaps."""
    from .detect.gap import NM_PER_DEG_LAT, RX_BUCKET_S, RX_CELL_NM, bucket_range, sampled_buckets
    from .tracks import destination

    cell = RX_CELL_NM / NM_PER_DEG_LAT
    n = gaps.height
    lat0, lon0 = gaps["lat0"].to_numpy(), gaps["lon0"].to_numpy()
    sog = gaps["sog0"].cast(pl.Float64).fill_null(0.0).to_numpy()
    cog = gaps["cog0"].cast(pl.Float64).fill_null(0.0).to_numpy()
    dla, dlo = destination(lat0, lon0, cog, sog * p.min_gap_h)
    lat = np.concatenate([lat0, dla, gaps["lat1"].fill_null(np.nan).to_numpy()])
    lon = np.concatenate([lon0, dlo, gaps["lon1"].fill_null(np.nan).to_numpy()])
    gi = np.tile(np.arange(n), 3)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon, gi = lat[ok], lon[ok], gi[ok]
    r_cells = int(np.ceil(max(p.reception_radius_nm, p.open_radius_nm) / RX_CELL_NM)) + 1
    cosl = np.maximum(np.cos(np.radians(np.minimum(np.abs(lat) + 2 * cell, 80.0))), 0.17)
    kx = np.ceil(r_cells / cosl).astype(np.int64) + 1
    cy = np.floor(lat / cell).astype(np.int64)
    cx = np.floor(lon / cell).astype(np.int64)
    ri, ty = _ranges(np.floor_divide(cy - r_cells, t), np.floor_divide(cy + r_cells, t))
    rj, tx = _ranges(np.floor_divide(cx - kx, t)[ri], np.floor_divide(cx + kx, t)[ri])
    tiles = pl.DataFrame({"g": gi[ri[rj]], "ty": ty[rj].astype(np.int32), "tx": tx.astype(np.int32)}).unique()
    # the days of the 10-min buckets _reception samples in each gap (at most RX_MAX_BUCKETS)
    end_s = int(pl.Series([data_end]).dt.epoch("s")[0])
    rep, tb = sampled_buckets(*bucket_range(gaps["t0"].dt.epoch("s").to_numpy(),
                                            gaps["t1"].dt.epoch("s").fill_null(end_s).to_numpy()))
    days = pl.DataFrame({"g": rep, "td": (tb * RX_BUCKET_S // 86_400).astype(np.int32)}).unique()
    return tiles.join(days, on="g").select("ty", "tx", "td").unique()


def _gap_task(gaps: pl.DataFrame, rx_files: list[str], preset: str, config: Any, data_end: Any,
              sp: ScaleParams) -> pl.DataFrame:
    """A group of gaps: their reception from the tiles around their ends, then their events."""
    from .detect import gap, params_for

    p = params_for(preset, config)["ais_gap"]
    gaps = gaps.with_row_index("gi")
    need = _gap_needed_tiles(gaps, p, sp.rx_tile_cells, data_end)
    grid = None
    if rx_files and need.height:
        # the files are sorted by (ty, tx, td): the bounding box skips most row groups unread
        box = pl.all_horizontal([pl.col(c).is_between(need[c].min(), need[c].max()) for c in ("ty", "tx", "td")])
        # one row per (cell, bucket): the partitions' counts added, their MMSIs merged
        grid = (pl.scan_parquet(rx_files).filter(box).join(need.lazy(), on=["ty", "tx", "td"], how="semi")
                .group_by("cy", "cx", "tb").agg(pl.col("n").sum(), pl.col("ms").list.explode(keep_nulls=False, empty_as_null=False).unique()).collect())
    if grid is None or grid.height == 0:
        grid = pl.DataFrame(schema={"cy": pl.Int32, "cx": pl.Int32, "tb": pl.Int64, "n": pl.UInt32,
                                    "ms": pl.List(pl.Int64)})
    rx = gap._reception(gaps, None, p.reception_radius_nm, data_end, open_radius_nm=p.open_radius_nm,
                        open_ahead_h=p.min_gap_h, grid=grid)
    return gap.gap_events(gaps, rx, p, data_end, preset)


def _dark(store: Any, preset: str, config: Any) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The dark detector, in the client: the detections against the AIS segments within reach of
    their time span (plus the earliest segment, which sets the correlation's time base)."""
    from .detect import params_for
    from .detect import dark as dk
    from .tracks import _contiguous

    if store.generation("detections") is None:
        return None
    dets = store.table("detections")
    p = params_for(preset, config)["dark"]
    if dets.height == 0:
        return schema.empty("correlation"), schema.empty("events")
    reach = _dt.timedelta(seconds=float(max(p.max_interp_gap_s, p.max_extrapolate_s, p.max_link_gap_s)) + 2 * p.bin_s + 3600)
    t_lo, t_hi = dets["ts"].min() - reach, dets["ts"].max() + reach
    segs = store.table("segments", columns=["seg_id", "mmsi", "start_time", "end_time"])
    near = segs.filter((pl.col("end_time") >= t_lo) & (pl.col("start_time") <= t_hi))
    if segs.height:
        first = segs.sort("start_time", "seg_id").head(1)
        near = pl.concat([near, first]).unique("seg_id")
    ids = near["seg_id"].implode()
    points = store.table("tracks", columns=list(_TRACK_POINT_COLS), where=pl.col("seg_id").is_in(ids))
    if not _contiguous(points):  # as Inputs orders the points
        points = points.sort("seg_id", "ts")
    statics = store.table("statics", where=pl.col("mmsi").is_in(near["mmsi"].unique().implode()))
    corr = dk.correlate(dets, points, statics, p)
    return corr, dk.events_from(corr, p, preset)


def detect_dask(db: Any, *, preset: str = "coastal", config: Any = None, out: str | os.PathLike[str] | None = None,
                client: Any = None, scheduler: str | None = None, workers: int | None = None,
                scale: ScaleParams | None = None) -> dict[str, Any]:
    """:func:`seawatch.detect.run_detect` on a Dask cluster: the same ``events`` and ``risk``
    (and ``correlation``) tables, same ids. Tracks are built first with :func:`tracks_dask`
    when missing or stale. Returns ``{"events", "risk", "correlation", "out"}``."""
    if client is None:
        with dask_client(scheduler, workers=workers) as c:
            return detect_dask(db, preset=preset, config=config, out=out, client=c, scale=scale)
    from .detect import DETECTORS, params_for, risk_scores, write_events
    from .detect.base import DETECT_COLUMNS
    from .store import Store

    _check_contract()
    # bad presets and configs fail here, not in a worker; workers get the thresholds, not the file
    config = {n: dataclasses.asdict(p) for n, p in params_for(preset, config).items()}
    sp = scale or ScaleParams()
    store = db if isinstance(db, Store) else Store(db)
    info = store.derived_info("tracks")
    meta = (info or {}).get("meta", {})
    if (info is None or not store.files_current(meta)
            or meta.get("zones_generation") != store.generation("zones") or not meta.get("places", False)):
        tracks_dask(store, client=client, scale=sp)
        meta = (store.derived_info("tracks") or {}).get("meta", {})
    ports = store.table("ports") if store.derived_info("ports") is not None else None
    seg_files = store.parts("segments")
    data_end = pl.scan_parquet(seg_files).select(pl.col("end_time").max()).collect().item() if seg_files else None
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    with _scratch(store) as tmp:
        track_files = store.parts("tracks")
        cuts = meta.get("partition_cuts")
        by_name: dict[int, list[str]] = {}
        if cuts is not None and all(Path(f).name.startswith("part-b") for f in track_files):
            for f in track_files:  # built by tracks_dask: one file per partition and day
                by_name.setdefault(int(Path(f).name[6:11]), []).append(f)
        else:
            groups = _file_groups(track_files, sp)
            counts = pl.concat(_gather(client, _mmsi_counts, ["tracks"] * len(groups), groups)
                               or [pl.DataFrame(schema={"mmsi": pl.Int64, "n": pl.UInt32})])
            cuts = partition_cuts(counts, sp.partition_rows)
            by_name = _split(client, "tracks", track_files, DETECT_COLUMNS, cuts, tmp / "tracks", sp)
        statics_parts = _split(client, "statics", store.parts("statics"), None, cuts, tmp / "statics", sp)
        buckets = sorted(set(by_name) | set(statics_parts))
        edges = [None, *cuts, None]
        bounds = [(edges[b], edges[b + 1]) for b in buckets]
        n_tasks = sp.tile_tasks or max(len(buckets), n_workers)
        ports_f = client.scatter(ports, broadcast=True) if ports is not None else None
        nb = len(buckets)
        res = _gather(client, _vessel_task, buckets, [by_name.get(b, []) for b in buckets],
                      [statics_parts.get(b, []) for b in buckets], [seg_files] * nb, bounds, [ports_f] * nb,
                      [preset] * nb, [config] * nb, [data_end] * nb, [str(tmp)] * nb, [sp] * nb, [n_tasks] * nb)
        rank = {n: i for i, n in enumerate(DETECTORS)}
        frames = [r["events"] for r in res if r["events"] is not None]
        # encounters: tiles, then pairs
        enc_files = sorted(str(f) for f in (tmp / "enc").glob("*.parquet"))
        _gather(client, _encounter_tile_task, list(range(n_tasks)), [enc_files] * n_tasks, [preset] * n_tasks,
                [config] * n_tasks, [str(tmp)] * n_tasks, [n_tasks] * n_tasks)
        step_files = sorted(str(f) for f in (tmp / "steps").glob("*.parquet"))
        if step_files:
            evs = _gather(client, _encounter_pair_task, list(range(n_tasks)), [step_files] * n_tasks,
                          [preset] * n_tasks, [config] * n_tasks)
            frames += [e.with_columns(_rank=pl.lit(rank["encounter"], pl.Int32)) for e in evs if e.height]
        # ais_gap: gaps in groups of neighbours (sorted by the reception tile and day of their start)
        gaps = [r["gaps"] for r in res if r["gaps"] is not None and r["gaps"].height]
        if gaps:
            from .detect.gap import NM_PER_DEG_LAT, RX_CELL_NM

            cell, t = RX_CELL_NM / NM_PER_DEG_LAT, sp.rx_tile_cells
            g = pl.concat(gaps).sort(
                (pl.col("t0").dt.epoch("s") // 86_400), (pl.col("lat0") / cell).floor() // t,
                (pl.col("lon0") / cell).floor() // t, "mmsi", "t0", maintain_order=True)
            size = max(1, -(-g.height // max(n_workers, -(-g.height // sp.gaps_per_task))))
            groups = [g.slice(i, size) for i in range(0, g.height, size)]
            rx_files = sorted(str(f) for f in (tmp / "rx").glob("*.parquet"))
            ng = len(groups)
            evs = _gather(client, _gap_task, groups, [rx_files] * ng, [preset] * ng, [config] * ng,
                          [data_end] * ng, [sp] * ng)
            frames += [e.with_columns(_rank=pl.lit(rank["ais_gap"], pl.Int32)) for e in evs if e.height]
        names = pl.concat([r["names"] for r in res if r["names"].height] or [pl.DataFrame(
            schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC"), "shipname": pl.Utf8})])
    dark = _dark(store, preset, config)
    correlation = None
    if dark is not None:
        correlation, dev = dark
        if dev.height:
            frames.append(dev.with_columns(_rank=pl.lit(rank["dark"], pl.Int32)))
    ev = pl.concat(frames, how="vertical_relaxed") if frames else schema.empty("events").with_columns(
        _rank=pl.lit(0, pl.Int32))
    # as seawatch.detect.detect: detectors in order, the first of an id kept, then sorted
    events = schema.conform("events", ev.sort("_rank", maintain_order=True).unique(
        "event_id", keep="first", maintain_order=True).drop("_rank").sort("start_time", "event_type", "mmsi", "event_id"))
    risk = risk_scores(events, schema.conform("statics", names))
    if correlation is not None:
        store.write_derived("correlation", correlation, {"preset": preset, "detections_generation": store.generation("detections")})
    store.write_derived("events", events, {"preset": preset, "engine": "dask"})
    store.write_derived("risk", risk, {"preset": preset, "engine": "dask"})
    written = write_events(events, out) if out is not None else None
    return {"events": events, "risk": risk, "correlation": correlation, "out": written}


# -- ingest -----------------------------------------------------------------------------------------
def _ingest_task(path: str, db: str, chunk_bytes: int) -> dict[str, Any]:
    from .ingest.files import ingest

    return ingest([path], db, progress=False, chunk_bytes=chunk_bytes).to_dicts()[0]


def ingest_dask(paths: Any, db: Any, *, client: Any = None, scheduler: str | None = None,
                workers: int | None = None, chunk_bytes: int | None = None) -> pl.DataFrame:
    """:func:`seawatch.ingest.files.ingest` of many files at once: one task per file, each
    decoded and committed through the store's per-file protocol (a lock per file, the manifest
    written last), so files are independent. Same summary frame, in the order of ``paths``."""
    from .ingest.files import INGEST_CHUNK_BYTES, INGEST_SUMMARY_SCHEMA, _check_input
    from .store import Store

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    checked = [str(_check_input(p).resolve()) for p in paths]
    store = db if isinstance(db, Store) else Store(db, create=True)
    if client is None:
        with dask_client(scheduler, workers=workers) as c:
            return ingest_dask(checked, store, client=c, chunk_bytes=chunk_bytes)
    rows = _gather(client, _ingest_task, checked, [str(store.path.resolve())] * len(checked),
                   [chunk_bytes or INGEST_CHUNK_BYTES] * len(checked))
    return pl.DataFrame(rows, schema=INGEST_SUMMARY_SCHEMA, orient="row") if rows else pl.DataFrame(
        schema=INGEST_SUMMARY_SCHEMA)


# -- memory of the workers (benchmarks) --------------------------------------------------------------
class PeakMemory:
    """Samples every worker's resident set size (psutil) every ``interval_s`` while running;
    ``peak_mb`` maps worker address -> peak MB seen."""

    def __init__(self, client: Any, interval_s: float = 0.25):
        self.client, self.interval_s = client, interval_s
        self.peak_mb: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> float:
        import psutil

        return psutil.Process().memory_info().rss / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                for w, mb in self.client.run(self._rss).items():
                    self.peak_mb[w] = max(self.peak_mb.get(w, 0.0), mb)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


__all__ = [
    "CLIENT_SIDE",
    "CROSS_VESSEL",
    "PER_VESSEL",
    "PeakMemory",
    "ScaleParams",
    "dask_client",
    "detect_dask",
    "encounter_tiles",
    "ingest_dask",
    "partition_cuts",
    "tracks_dask",
]
