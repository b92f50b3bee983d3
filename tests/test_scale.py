"""The Dask engine (seawatch.scale) gives exactly the single-machine results: same tracks,
segments, ports, events (same ids), risk and dark correlation, on a simulated scenario and on
the real samples, with partitions and tiles small enough that vessels, pairs and gap ends fall
in different ones. A LocalCluster of 2 worker processes; no timing assertions."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest

pytest.importorskip("distributed")

from seawatch.detect import run_detect  # noqa: E402
from seawatch.detect.encounter import resample  # noqa: E402
from seawatch.ingest.files import ingest  # noqa: E402
from seawatch.scale import ScaleParams, dask_client, detect_dask, ingest_dask, partition_cuts  # noqa: E402
from seawatch.store import Store  # noqa: E402

#: sort keys that make each table's rows a total order
KEYS = {
    "tracks": ["mmsi", "ts", "lat", "lon", "seg_id"],
    "segments": ["seg_id"],
    "ports": ["port_id", "name"],
    "events": ["event_id"],
    "risk": ["mmsi"],
    "correlation": ["detection_id"],
}
REAL = [
    "dma-aislib-testdata/stream_example.txt",
    "dma-aislib-testdata/replay_dump.txt",
    "aisdb-testdata/test_data_20211101.nm4",
    "kystverket-ais-net/Ais1000Lines.nm4",
    "aisdb-testdata/test_data_noaa_20230101.csv",
]


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2, threads_per_worker=1, processes=True) as c:
        yield c


def _twin_stores(tmp: Path, feeds: list[Path], detections: Path | None = None) -> tuple[Store, Store]:
    """Two stores holding the same ingested files (one for each engine)."""
    from seawatch.detections import ingest_detections

    a = tmp / "local"
    ingest(feeds, a)
    if detections is not None:
        ingest_detections([detections], a)
    b = tmp / "dask"
    shutil.copytree(a, b)
    return Store(a), Store(b)


def _same(a: Store, b: Store) -> dict[str, int]:
    """Every derived table equal (rows sorted); returns the row counts."""
    rows = {}
    for table, key in KEYS.items():
        if a.generation(table) is None:
            assert b.generation(table) is None, table
            continue
        x, y = a.table(table).sort(key), b.table(table).sort(key)
        assert x.schema == y.schema, table
        assert x.height == y.height, (table, x.height, y.height)
        for c in x.columns:  # name the first differing column
            assert x[c].equals(y[c]), f"{table}.{c} differs"
        rows[table] = x.height
    return rows


def _partition(cuts: list[int], mmsi: int) -> int:
    return int(np.searchsorted(np.asarray(cuts), mmsi, side="left"))


def _straddling_tile(tracks: pl.DataFrame, m1: int, m2: int, k0: int, k1: int) -> float:
    """A tile size for which the two vessels' grid points at some close step of their meeting
    lie in different tiles (so the pair is only found through the halo)."""
    g = resample(tracks.filter(pl.col("mmsi").is_in([m1, m2]) & pl.col("seg_id").is_not_null()).sort("seg_id", "ts"))
    g = g.filter(pl.col("k").is_between(k0, k1))
    both = g.filter(pl.col("mmsi") == m1).join(g.filter(pl.col("mmsi") == m2), on="k", suffix="_2")
    assert both.height
    for td in np.round(np.arange(0.004, 0.05, 0.001), 3):
        ty = np.floor(both["lat"].to_numpy() / td) != np.floor(both["lat_2"].to_numpy() / td)
        tx = np.floor((both["lon"].to_numpy() + 180) / td) != np.floor((both["lon_2"].to_numpy() + 180) / td)
        if (ty | tx).any():
            return float(td)
    raise AssertionError("no tile size splits the pair")


def test_scenario_dask_equals_local(tmp_path, client):
    from seawatch.simulate import simulate

    sim = simulate("all", tmp_path / "sim", seed=0, hours=6)
    a, b = _twin_stores(tmp_path, [Path(sim["feed"])], Path(sim["detections_file"]))
    local = run_detect(a)
    ev = local["events"]
    enc = ev.filter(pl.col("event_type") == "encounter")
    assert enc.height >= 1 and ev.filter(pl.col("event_type") == "ais_gap").height >= 1
    e = enc.row(0, named=True)
    step = 600_000_000
    k0, k1 = (int(e["start_time"].timestamp() * 1e6) // step, int(e["end_time"].timestamp() * 1e6) // step)
    td = _straddling_tile(a.table("tracks"), e["mmsi"], e["other_mmsi"], k0, k1)
    sp = ScaleParams(partition_rows=5_000, tile_deg=td, rx_tile_cells=2, tile_tasks=5)
    res = detect_dask(b, client=client, scale=sp)
    meta = b.derived_info("tracks")["meta"]
    assert meta["engine"] == "dask" and meta["partitions"] >= 8
    cuts = meta["partition_cuts"]
    # the pair met across MMSI partitions (and, by the tile size, across tiles)
    assert _partition(cuts, e["mmsi"]) != _partition(cuts, e["other_mmsi"])
    rows = _same(a, b)
    assert rows["events"] == ev.height and rows["correlation"] > 0 and rows["tracks"] > 50_000
    assert sorted(res["events"]["event_id"]) == sorted(ev["event_id"])
    # the tables read back in the single path's row order too (MMSI-range partitions)
    assert a.table("tracks").equals(b.table("tracks"))
    assert a.table("segments").equals(b.table("segments"))


def test_real_samples_dask_equals_local(tmp_path, client, shared_data):
    a, b = _twin_stores(tmp_path, [shared_data / f for f in REAL])
    local = run_detect(a)
    detect_dask(b, client=client, scale=ScaleParams(partition_rows=300, tile_deg=0.05, rx_tile_cells=1, tile_tasks=4))
    assert b.derived_info("tracks")["meta"]["partitions"] >= 10
    rows = _same(a, b)
    assert rows["events"] == local["events"].height > 100


def test_ingest_in_parallel_and_cli(tmp_path, client, shared_data):
    from click.testing import CliRunner

    from seawatch.cli import main

    files = [shared_data / f for f in REAL]
    ingest(files, tmp_path / "seq")
    seq = Store(tmp_path / "seq")
    summary = ingest_dask(files, tmp_path / "par", client=client)
    assert summary["status"].to_list() == ["ingested"] * len(files)
    assert summary["path"].to_list() == [str(f) for f in files]
    par = Store(tmp_path / "par")
    for t in ("positions", "statics", "other", "rejects"):
        key = [c for c in ("source", "line_no", "mmsi", "ts", "lat", "lon", "msg_type", "raw") if c in par.table(t).columns]
        assert seq.table(t).sort(key, nulls_last=True).equals(par.table(t).sort(key, nulls_last=True)), t
    assert ingest_dask(files[:2], tmp_path / "par", client=client)["status"].to_list() == ["already_ingested"] * 2
    # the commands, on the running cluster
    addr = client.scheduler.address
    r = CliRunner().invoke(main, ["detect", "--db", str(tmp_path / "par"), "--engine", "dask", "--scheduler", addr])
    assert r.exit_code == 0, r.output
    assert "events" in r.output
    run_detect(seq)
    _same(seq, par)
    r = CliRunner().invoke(main, ["tracks", "--db", str(tmp_path / "par"), "--scheduler", addr])
    assert r.exit_code == 2 and "--engine dask" in r.output
    pos = tmp_path / "pos.parquet"
    seq.table("positions").write_parquet(pos)
    r = CliRunner().invoke(main, ["tracks", "--db", str(tmp_path / "fromparquet"), "--engine", "dask",
                                  "--scheduler", addr, "--positions", str(pos)])
    assert r.exit_code == 0, r.output
    fp = Store(tmp_path / "fromparquet")
    assert fp.table("tracks").sort(KEYS["tracks"]).equals(seq.table("tracks").sort(KEYS["tracks"]))


def test_partition_cuts_balance_rows():
    counts = pl.DataFrame({"mmsi": [5, 1, 3, 2, 4, None], "n": [10, 10, 10, 10, 10, 3]})
    assert partition_cuts(counts, 20) == [2, 4]
    assert partition_cuts(counts, 1000) == []
    assert partition_cuts(counts.clear(), 10) == []


def test_a_cluster_left_without_workers_fails_instead_of_waiting_forever(monkeypatch):
    import time as _time

    from distributed import Client, LocalCluster

    from seawatch import scale
    from seawatch.errors import SeawatchError

    monkeypatch.setattr(scale, "NO_WORKERS_S", 1.0)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert scale._gather(client, abs, [-1, -2]) == [1, 2]
        threading.Timer(0.5, lambda: cluster.scale(0)).start()  # the worker goes away mid-run
        with pytest.raises(SeawatchError, match="no workers"):
            scale._gather(client, _time.sleep, [30])
