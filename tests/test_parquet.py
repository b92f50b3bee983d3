"""seawatch.parquet, the store's Parquet writer: what it writes reads back the same in pyarrow,
polars and DuckDB (every dtype of the schemas, nulls, several chunks, dictionary and plain
columns), with the statistics and encodings it promises."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from seawatch import schema
from seawatch.errors import SeawatchError
from seawatch.parquet import MAX_DICTIONARY, ParquetWriter, write_parquet
from seawatch.store import _part_options

UTC_TS = pl.Datetime("us", "UTC")


def _read_all(path) -> list[pl.DataFrame]:
    """The file as polars, pyarrow and DuckDB read it (DuckDB names UTC 'Etc/UTC')."""
    by_duck = duckdb.sql(f"select * from read_parquet('{path}')").pl()
    by_duck = by_duck.with_columns(
        pl.col(c).dt.convert_time_zone("UTC") for c, t in by_duck.schema.items() if isinstance(t, pl.Datetime))
    return [pl.read_parquet(path), pl.from_arrow(pq.read_table(path)), by_duck]


def _assert_round_trip(df: pl.DataFrame, path, **kw) -> None:
    write_parquet(df, path, **kw)
    for got in _read_all(path):
        assert_frame_equal(got, df, check_exact=True)


def _mixed(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    null = rng.random(n) < 0.2
    t0 = int(dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc).timestamp() * 1e6)
    return pl.DataFrame({
        "i64": pl.Series(rng.integers(-(2**62), 2**62, n)),
        "mmsi": pl.Series(rng.choice([211000001, 366999999, 431000123], n)).scatter(np.flatnonzero(null), None),
        "i32": pl.Series(rng.integers(-(2**31), 2**31, n), dtype=pl.Int32),
        "i16": pl.Series(rng.integers(-(2**15), 2**15, n), dtype=pl.Int16),
        "i8": pl.Series(rng.integers(-128, 128, n), dtype=pl.Int8).scatter(np.flatnonzero(null), None),
        "f32": pl.Series((rng.integers(0, 1023, n) / 10).astype(np.float32)).scatter(np.flatnonzero(null), None),
        "f64": pl.Series(rng.normal(35, 5, n)),
        "flag": pl.Series(rng.random(n) < 0.5).scatter(np.flatnonzero(null[::-1]), None),
        "ts": pl.Series(t0 + np.sort(rng.integers(0, 86_400_000_000, n))).cast(UTC_TS),
        "name": pl.Series(rng.choice(["A", "B", "base", "sar", "aton", "lr"], n)),
        "long": pl.Series(rng.choice(["/data/feeds/2024-06-01/receiver-north.nmea.gz", "Ütsira ÆØÅ", ""], n))
        .scatter(np.flatnonzero(null), None),
        "empty": pl.Series([None] * n, dtype=pl.Float32),
    })


def test_every_dtype_round_trips_in_three_readers_plain_and_dictionary(tmp_path):
    df = _mixed(5000)
    _assert_round_trip(df, tmp_path / "plain.parquet")
    _assert_round_trip(df, tmp_path / "dict.parquet", dictionary=df.columns, statistics=df.columns)
    _assert_round_trip(df, tmp_path / "raw.parquet", dictionary=df.columns, compress=False)


def test_a_frame_in_several_chunks_writes_the_same_rows(tmp_path):
    parts = [_mixed(n, seed) for seed, n in enumerate((1000, 1, 0, 2500))]
    df = pl.concat(parts, rechunk=False)
    assert df["mmsi"].n_chunks() > 1
    _assert_round_trip(df, tmp_path / "c.parquet", dictionary=df.columns, statistics=["ts", "mmsi", "f64"])


def test_dictionary_columns_are_dictionary_encoded_and_others_plain(tmp_path):
    df = _mixed(3000)
    write_parquet(df, tmp_path / "x.parquet", dictionary=["mmsi", "f32", "name", "long"], compress=["name"])
    meta = pq.ParquetFile(tmp_path / "x.parquet").metadata
    cols = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i) for i in range(meta.num_columns)}
    for c in ("mmsi", "f32", "name", "long"):
        assert cols[c].has_dictionary_page and "RLE_DICTIONARY" in cols[c].encodings
    for c in ("i64", "f64", "ts"):
        assert not cols[c].has_dictionary_page and cols[c].encodings[0] == "PLAIN"
    assert cols["name"].compression == "LZ4" and cols["f64"].compression == "UNCOMPRESSED"  # (pyarrow says LZ4 for LZ4_RAW)
    # required where there is no null, optional where there are
    arrow_schema = pq.read_schema(tmp_path / "x.parquet")
    assert not arrow_schema.field("name").nullable and arrow_schema.field("mmsi").nullable


def test_dictionary_indices_of_every_bit_width_round_trip(tmp_path):
    """The indices are bit-packed 8 at a time: one word for widths up to 8, two above; a row
    count that is not a multiple of 8 ends in a partial group."""
    rng = np.random.default_rng(3)
    for width in range(1, 16):
        distinct = (1 << (width - 1)) + 1  # needs exactly ``width`` bits
        for n in (distinct + 5, 8 * distinct + 16):
            values = np.concatenate([np.arange(distinct), rng.integers(0, distinct, n - distinct)])
            df = pl.DataFrame({"k": pl.Series(rng.permutation(values) * 1000 - 7, dtype=pl.Int64)})
            path = tmp_path / f"w{width}-{n}.parquet"
            _assert_round_trip(df, path, dictionary=["k"])
            assert pq.ParquetFile(path).metadata.row_group(0).column(0).has_dictionary_page


def test_more_distinct_values_than_a_dictionary_holds_are_written_plain(tmp_path):
    n = MAX_DICTIONARY + 10
    df = pl.DataFrame({"k": pl.Series(np.arange(n) * 7, dtype=pl.Int64),
                       "s": pl.Series([f"v{i}" for i in range(n)]),
                       "f": pl.Series(np.arange(n, dtype=np.float32) / 3)})
    _assert_round_trip(df, tmp_path / "big.parquet", dictionary=df.columns)
    col = pq.ParquetFile(tmp_path / "big.parquet").metadata.row_group(0).column(0)
    assert not col.has_dictionary_page


def test_floats_keep_their_bits_nan_and_signed_zero_included(tmp_path):
    v = [0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1.5, None, 0.0]
    df = pl.DataFrame({"f64": pl.Series(v, dtype=pl.Float64), "f32": pl.Series(v, dtype=pl.Float32)})
    write_parquet(df, tmp_path / "f.parquet", dictionary=["f32"], statistics=["f64", "f32"])
    for got in _read_all(tmp_path / "f.parquet"):
        for c in df.columns:
            a, b = got[c].to_numpy(), df[c].to_numpy()
            assert np.array_equal(a.view(np.uint8), b.view(np.uint8)) or np.array_equal(a, b, equal_nan=True)
            assert [math.copysign(1, x) for x in a if x == 0] == [1, -1, 1]
    stats = pq.ParquetFile(tmp_path / "f.parquet").metadata.row_group(0).column(0).statistics
    assert not stats.has_min_max and stats.null_count == 1  # a NaN: no bounds (see the NaN test)
    # without NaN: the bounds, a zero minimum written as -0.0 and a zero maximum as +0.0
    z = pl.DataFrame({"inf": [0.0, -math.inf, math.inf], "lo": [0.0, 1.0, 0.0], "hi": [-1.0, -0.0, 0.0]})
    write_parquet(z, tmp_path / "z.parquet", statistics=z.columns)
    rg = pq.ParquetFile(tmp_path / "z.parquet").metadata.row_group(0)
    assert (rg.column(0).statistics.min, rg.column(0).statistics.max) == (-math.inf, math.inf)
    assert math.copysign(1, rg.column(1).statistics.min) == -1 and math.copysign(1, rg.column(2).statistics.max) == 1


def test_a_float_column_holding_nan_gets_no_bounds_so_no_reader_skips_its_rows(tmp_path):
    df = pl.DataFrame({"lat": [1.0, float("nan"), 2.0], "lon": [1.0, 3.0, 2.0]})
    write_parquet(df, tmp_path / "n.parquet", statistics=["lat", "lon"])
    rg = pq.ParquetFile(tmp_path / "n.parquet").metadata.row_group(0)
    assert not rg.column(0).statistics.has_min_max and rg.column(1).statistics.max == 3.0
    q = f"select count(*) from '{tmp_path / 'n.parquet'}' where isnan(lat) or lat > 5"
    assert duckdb.sql(q).fetchall() == [(1,)]


def test_statistics_give_min_max_and_null_count(tmp_path):
    df = _mixed(2000)
    write_parquet(df, tmp_path / "s.parquet", dictionary=["mmsi"], statistics=["ts", "mmsi", "f64", "empty"])
    rg = pq.ParquetFile(tmp_path / "s.parquet").metadata.row_group(0)
    stats = {rg.column(i).path_in_schema: rg.column(i).statistics for i in range(rg.num_columns)}
    assert stats["i64"] is None
    assert stats["mmsi"].min == df["mmsi"].min() and stats["mmsi"].max == df["mmsi"].max()
    assert stats["mmsi"].null_count == df["mmsi"].null_count()
    assert stats["ts"].min == df["ts"].min() and stats["ts"].max == df["ts"].max()
    assert stats["f64"].min == df["f64"].min() and stats["f64"].max == df["f64"].max()
    assert not stats["empty"].has_min_max and stats["empty"].null_count == 2000
    # (DuckDB reads the file with them: a query outside [min, max] finds no row)
    assert duckdb.sql(f"select count(*) from '{tmp_path / 's.parquet'}' where mmsi > 999999999").fetchall() == [(0,)]


def test_the_ingested_tables_round_trip_with_the_store_options(tmp_path):
    for table in ("positions", "statics", "other", "rejects"):
        df = schema.empty(table)
        n = 300
        cols = {}
        for name, t in df.schema.items():
            if t == pl.String:
                cols[name] = pl.Series([f"{name}{i % 7}" for i in range(n)])
            elif t == pl.Boolean:
                cols[name] = pl.Series([i % 3 == 0 for i in range(n)])
            elif isinstance(t, pl.Datetime):
                cols[name] = pl.Series([1_717_200_000_000_000 + i for i in range(n)]).cast(t)
            else:
                cols[name] = pl.Series([i % 11 for i in range(n)]).cast(t)
        frame = pl.DataFrame(cols).select(df.columns)
        _assert_round_trip(frame, tmp_path / f"{table}.parquet", **_part_options(table))


def test_an_empty_frame_and_a_constant_string_column(tmp_path):
    _assert_round_trip(pl.DataFrame({"a": pl.Series([], dtype=pl.Int64), "s": pl.Series([], dtype=pl.String)}),
                       tmp_path / "e.parquet", dictionary=["a", "s"])
    lit = pl.DataFrame({"n": np.arange(1000)}).with_columns(source=pl.lit("/some/very/long/path/to/a/file.nmea"))
    _assert_round_trip(lit, tmp_path / "lit.parquet", dictionary=["source"])
    # one repeated value after nulls, in a slice (an offset into the buffers)
    with_nulls = pl.concat([pl.DataFrame({"s": [None] * 13 + ["seawatch-rx"] * 90 + [None]})]).slice(5)
    _assert_round_trip(with_nulls, tmp_path / "litnull.parquet", dictionary=["s"])


def test_a_wrong_call_says_what_to_do(tmp_path):
    (tmp_path / "d.parquet").write_bytes(b"earlier")
    with pytest.raises(SeawatchError, match="no encoding for a"):
        write_parquet(pl.DataFrame({"d": [dt.date(2024, 1, 1)]}), tmp_path / "d.parquet")
    assert (tmp_path / "d.parquet").read_bytes() == b"earlier"  # refused before the file is touched
    with pytest.raises(SeawatchError, match="columns the frame does not have"):
        write_parquet(pl.DataFrame({"a": [1]}), tmp_path / "a.parquet", dictionary=["b"])


def test_a_file_written_a_row_group_at_a_time_reads_back_whole(tmp_path):
    """ParquetWriter: a row group per frame (with and without nulls, one of them empty, one in
    several chunks), OPTIONAL columns but the required one; the statistics are per row group."""
    frames = [_mixed(1200, 1), _mixed(0, 2), _mixed(700, 3).with_columns(pl.col("mmsi").fill_null(211000001)),
              pl.concat([_mixed(300, 4), _mixed(50, 5)], rechunk=False)]
    path = tmp_path / "rg.parquet"
    cols = frames[0].columns
    with ParquetWriter(path, frames[0].schema, dictionary=cols, statistics=["ts", "mmsi", "f64"],
                       required=["i64", "ts"]) as w:
        for f in frames:
            w.write(f)
    whole = pl.concat(frames)
    for got in _read_all(path):
        assert_frame_equal(got, whole, check_exact=True)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3 and meta.num_rows == whole.height
    assert [meta.row_group(i).num_rows for i in range(3)] == [1200, 700, 350]
    sch = pq.ParquetFile(path).schema
    assert sch.column(0).max_definition_level == 0  # i64: REQUIRED
    assert sch.column(1).max_definition_level == 1  # mmsi: OPTIONAL even where it has no null
    mm = [meta.row_group(i).column(1).statistics for i in range(3)]
    assert [s.null_count for s in mm] == [f["mmsi"].null_count() for f in frames if f.height]
    ts = meta.row_group(1).column(cols.index("ts")).statistics
    assert ts.min == frames[2]["ts"].min() and ts.max == frames[2]["ts"].max()
    # asking the kernel to start writing each row group to disk (the store's parts) changes
    # nothing in the file
    with ParquetWriter(tmp_path / "wb.parquet", frames[0].schema, dictionary=cols, statistics=["ts", "mmsi", "f64"],
                       required=["i64", "ts"], writeback=True) as w:
        for f in frames:
            w.write(f)
    assert (tmp_path / "wb.parquet").read_bytes() == path.read_bytes()


def test_a_row_group_that_does_not_fit_the_file_says_why(tmp_path):
    df = _mixed(10)
    with ParquetWriter(tmp_path / "w.parquet", df.schema, required=["mmsi"]) as w:
        with pytest.raises(SeawatchError, match="'mmsi' is required but holds nulls"):
            w.write(df)
        with pytest.raises(SeawatchError, match="is not the file's"):
            w.write(df.drop("empty"))
        w.write(df.with_columns(pl.col("mmsi").fill_null(1)))
    assert pl.read_parquet(tmp_path / "w.parquet").height == 10


_INT = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
_SMALL = st.one_of(st.none(), st.integers(-5, 5))
_F32 = st.one_of(st.none(), st.floats(width=32, allow_nan=False))
_TEXT = st.one_of(st.none(), st.sampled_from(["", "A", "B", "twelve chars", "thirteen char", "ÆØÅ"]), st.text(max_size=20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_INT, _SMALL, _F32, _TEXT), max_size=60), dictionary=st.booleans(),
       split=st.integers(0, 60))
def test_property_any_values_round_trip(tmp_path, rows, dictionary, split):
    df = pl.DataFrame(rows, schema={"i": pl.Int64, "s8": pl.Int8, "f": pl.Float32, "t": pl.String}, orient="row")
    df = pl.concat([df[:split], df[split:]], rechunk=False) if 0 < split < len(rows) else df
    _assert_round_trip(df, tmp_path / "p.parquet", dictionary=df.columns if dictionary else (),
                       statistics=["i", "f"])
