"""The store (seawatch.store) and file ingest (seawatch.ingest.files): real files, real Parquet."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import zipfile
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import xxhash
from polars.testing import assert_frame_equal

from seawatch import schema
from seawatch.errors import SeawatchError
from seawatch.ingest import files as files_mod
from seawatch.ingest.files import INGEST_SUMMARY_SCHEMA, ingest, iter_chunks
from seawatch.ingest.result import IngestResult
from seawatch.store import Store, export_table

UTC = dt.timezone.utc
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NMEA_1000 = SHARED / "kystverket-ais-net" / "Ais1000Lines.nm4"

NOAA_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)


def noaa_csv(n: int = 300) -> bytes:
    """A NOAA MarineCadastre CSV over two UTC days, with a few rows that must be rejected."""
    lines = [NOAA_HEADER]
    for i in range(n):
        day = 11 + (i % 2)
        lines.append(
            f"{366000000 + i % 37},2023-01-{day}T{i % 24:02d}:{i % 60:02d}:00,"
            f"{40 + i / 1000:.5f},{-70 - i / 1000:.5f},{i % 20}.5,{(i * 7) % 360}.0,{i % 360}.0,"
            f"SHIP {i % 37},IMO93078{i % 37:02d},CALL{i % 37},70,0.0,200.0,30.0,8.0,70.0,"
            f"{'A' if i % 5 else 'B'}"
        )
        if i % 97 == 5:
            lines.append("notanmmsi,2023-01-11T00:00:00,1,2,3,4,5,X,,,70,0,1,1,1,70,A")
    return ("\n".join(lines) + "\n").encode()


def sha(b: bytes) -> str:
    """A fingerprint for hand-made files (64 hex digits, as in stores made before xxh3)."""
    return hashlib.sha256(b).hexdigest()


def xxh3(b: bytes) -> str:
    """The fingerprint ingest gives a file in a store made now."""
    return xxhash.xxh3_128_hexdigest(b)


def sorted_frame(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True)


def table_rows(db: Path) -> dict[str, pl.DataFrame]:
    st = Store(db)
    return {name: sorted_frame(st.table(name)) for name in schema.TABLES}


def hand_result() -> IngestResult:
    pos = schema.conform(
        "positions",
        pl.DataFrame(
            {
                "mmsi": [1, 2, 3, 1],
                "ts": [
                    dt.datetime(2020, 1, 1, 23, 59, 59, tzinfo=UTC),
                    None,
                    dt.datetime(2020, 1, 2, 0, 0, 0, 250000, tzinfo=UTC),
                    dt.datetime(2020, 1, 2, 5, tzinfo=UTC),
                ],
                "lat": [1.0, None, 3.5, 1.1],
                "lon": [2.0, None, -4.5, 2.1],
                "sog_kn": [1.5, None, 0.1, 12.3],
                "msg_type": [1, 18, 3, 1],
                "pos_accuracy": [True, None, False, True],
            }
        ),
    )
    sta = schema.conform(
        "statics",
        pl.DataFrame(
            {
                "mmsi": [1],
                "ts": [dt.datetime(2020, 1, 1, 12, tzinfo=UTC)],
                "msg_type": [5],
                "shipname": ['NAME, WITH "QUOTES"'],
            }
        ),
    )
    oth = schema.conform(
        "other",
        pl.DataFrame({"mmsi": [9], "ts": [None], "msg_type": [8], "payload": ["85Mwp"]}),
    )
    rej = schema.conform(
        "rejects",
        pl.DataFrame(
            {
                "source": ["x.nmea"] * 3,
                "line_no": [7, 8, 9],
                "reason": ["blank", "bad_checksum", "comment"],
                "raw": ["", "!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*FF", "# a, \"b\""],
            }
        ),
    )
    return IngestResult(
        positions=pos, statics=sta, other=oth, rejects=rej, lines_read=9, lines_decoded=6
    )


# -- Store --------------------------------------------------------------------------------------
def test_missing_store_raises_with_hint(tmp_path):
    with pytest.raises(SeawatchError, match=r"no seawatch store at .*seawatch ingest FILE --db"):
        Store(tmp_path / "nothing")


def test_store_round_trip_and_layout(tmp_path):
    db = tmp_path / "db"
    st = Store(db, create=True)
    fp = sha(b"file one")
    r = hand_result()
    assert not st.has_file(fp)
    st.begin_file(fp)
    written = st.write_chunk(fp, 0, r)
    assert written == {"positions": 4, "statics": 1, "other": 1, "rejects": 3}
    # before the manifest, nothing is visible
    assert st.table("positions").height == 0
    assert st.stats()["files"] == 0
    st.commit_file(fp, {"path": "x.nmea", "format": "nmea", "lines_read": 9,
                        "lines_decoded": 6, "lines_rejected": 3, "duplicates": 0})
    assert st.has_file(fp)

    for name, df in r.tables().items():
        got = st.table(name)
        assert got.schema == schema.polars_schema(name)
        assert_frame_equal(sorted_frame(got), sorted_frame(df))

    fp16 = fp[:16]
    days = sorted(p.parent.name for p in (db / "positions").glob("day=*/*.parquet"))
    assert days == ["day=2020-01-01", "day=2020-01-02", "day=untimed"]
    assert (db / "positions" / "day=2020-01-02" / f"{fp16}-00000.parquet").is_file()
    assert (db / "other" / "day=untimed" / f"{fp16}-00000.parquet").is_file()
    assert (db / "rejects" / f"{fp16}-00000.parquet").is_file()
    manifest = json.loads((db / "_files" / f"{fp}.json").read_text())
    assert manifest["fingerprint"] == fp and manifest["lines_read"] == 9
    assert manifest["ingested_at"].endswith("Z")
    assert not list(db.rglob("*.tmp"))

    # a fresh Store object on the same directory sees the same thing
    assert_frame_equal(sorted_frame(Store(db).table("positions")), sorted_frame(r.positions))


def test_table_unknown_name_lists_valid_ones(tmp_path):
    st = Store(tmp_path / "db", create=True)
    with pytest.raises(SeawatchError, match="positions, statics, other, rejects"):
        st.table("vessels")


def test_empty_store_tables_and_query(tmp_path):
    st = Store(tmp_path / "db", create=True)
    for name in schema.TABLES:
        assert st.table(name).schema == schema.polars_schema(name)
        assert st.table(name).height == 0
    assert st.query("SELECT count(*) AS n FROM positions")["n"].to_list() == [0]
    s = st.stats()
    assert s["files"] == 0 and s["time_start"] is None and s["messages_by_type"] == {}


def test_query_is_parametrised(tmp_path):
    st = Store(tmp_path / "db", create=True)
    fp = sha(b"q")
    st.begin_file(fp)
    st.write_chunk(fp, 0, hand_result())
    st.commit_file(fp, {"path": "q", "format": "nmea"})
    df = st.query("SELECT mmsi, ts FROM positions WHERE mmsi = ? ORDER BY ts", [1])
    assert df["mmsi"].to_list() == [1, 1]
    assert df.schema["ts"] == schema.UTC_TS
    df = st.query("SELECT count(*) AS n FROM rejects WHERE reason = $r", {"r": "blank"})
    assert df["n"].to_list() == [1]
    with pytest.raises(SeawatchError, match="query failed"):
        st.query("SELECT nope FROM positions")


def test_stats_counts(tmp_path):
    st = Store(tmp_path / "db", create=True)
    fp = sha(b"s")
    st.begin_file(fp)
    st.write_chunk(fp, 0, hand_result())
    st.commit_file(fp, {"path": "s", "format": "nmea", "lines_read": 9, "lines_decoded": 6,
                        "lines_rejected": 3, "duplicates": 2})
    s = st.stats()
    assert s["files"] == 1
    assert s["lines_read"] == s["lines_decoded"] + s["lines_rejected"] == 9
    assert s["rejects_by_reason"] == {"blank": 1, "bad_checksum": 1, "comment": 1}
    assert (s["skipped"], s["errors"]) == (2, 1)
    assert s["messages_by_type"] == {"1": 2, "3": 1, "5": 1, "8": 1, "18": 1}
    assert (s["positions"], s["statics"], s["other"], s["rejects"]) == (4, 1, 1, 3)
    assert s["vessels"] == 3
    assert s["time_start"] == "2020-01-01T12:00:00Z"
    assert s["time_end"] == "2020-01-02T05:00:00Z"
    assert s["untimed"] == 2  # one position, one other
    assert s["duplicates"] == 2
    json.dumps(s)  # JSON-ready


def test_readers_ignore_tmp_and_uncommitted_parts(tmp_path):
    db = tmp_path / "db"
    st = Store(db, create=True)
    done, pending = sha(b"done"), sha(b"pending")
    st.begin_file(done)
    st.write_chunk(done, 0, hand_result())
    st.commit_file(done, {"path": "done", "format": "nmea"})
    # another process is half-way through a file: one whole part, one being written
    st.begin_file(pending)
    st.write_chunk(pending, 0, hand_result())
    (db / "positions" / "day=2020-01-01" / f"{pending[:16]}-00001.parquet.tmp").write_bytes(b"PAR1junk")
    assert st.table("positions").height == 4
    assert st.query("SELECT count(*) AS n FROM positions")["n"].item() == 4
    assert st.stats()["positions"] == 4


def test_begin_file_removes_stale_parts_and_refuses_committed(tmp_path):
    db = tmp_path / "db"
    st = Store(db, create=True)
    fp = sha(b"crashed")
    st.begin_file(fp)
    st.write_chunk(fp, 0, hand_result())
    st.write_chunk(fp, 1, hand_result())
    (db / "rejects" / f"{fp[:16]}-00002.parquet.tmp").write_bytes(b"half")
    other = sha(b"someone else")
    st.begin_file(other)
    st.write_chunk(other, 0, hand_result())
    n_other = len(list(db.rglob(f"{other[:16]}-*")))
    n_stale = len(list(db.rglob(f"{fp[:16]}-*")))
    assert n_stale == 2 * 6 + 1  # 3 position days, statics, other, rejects per chunk; a tmp
    assert st.begin_file(fp) == n_stale
    assert not list(db.rglob(f"{fp[:16]}-*"))
    assert len(list(db.rglob(f"{other[:16]}-*"))) == n_other
    st.write_chunk(fp, 0, hand_result())
    st.commit_file(fp, {"path": "crashed", "format": "nmea"})
    with pytest.raises(SeawatchError, match="already"):
        st.begin_file(fp)


def test_bad_fingerprint_rejected(tmp_path):
    st = Store(tmp_path / "db", create=True)
    with pytest.raises(SeawatchError, match="fingerprint"):
        st.has_file("../../etc/passwd")


# -- iter_chunks ----------------------------------------------------------------------------------
def test_iter_chunks_plain_gz_zip(tmp_path):
    data = noaa_csv(500)
    plain = tmp_path / "a.csv"
    plain.write_bytes(data)
    gz = tmp_path / "a.csv.gz"
    gz.write_bytes(gzip.compress(data))
    zp = tmp_path / "a.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.csv", data)
    for p in (plain, gz, zp):
        chunks = list(iter_chunks(p, chunk_bytes=1000))
        assert all(0 < len(c) <= 1000 for c in chunks)
        assert b"".join(chunks) == data


def test_iter_chunks_zip_members_do_not_share_a_line(tmp_path):
    zp = tmp_path / "m.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("one.txt", b"a\nb")  # no final newline
        z.writestr("dir/", b"")
        z.writestr("dir/two.txt", b"c\n")
    assert b"".join(iter_chunks(zp, chunk_bytes=2)) == b"a\nb\nc\n"


def test_iter_chunks_missing_file(tmp_path):
    with pytest.raises(SeawatchError, match=r"^no such file: .*nope.csv — check the path$"):
        list(iter_chunks(tmp_path / "nope.csv"))


# -- ingest ----------------------------------------------------------------------------------------
def test_ingest_summary_and_accounting(tmp_path):
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv())
    summary = ingest([src], tmp_path / "db", progress=False)
    assert summary.schema == pl.Schema(INGEST_SUMMARY_SCHEMA)
    row = summary.row(0, named=True)
    assert row["status"] == "ingested" and row["format"] == "noaa_csv"
    assert row["fingerprint"] == xxh3(src.read_bytes())
    assert row["lines_read"] == row["lines_decoded"] + row["lines_rejected"]
    assert row["lines_rejected"] >= 3
    st = Store(tmp_path / "db")
    s = st.stats()
    assert s["lines_read"] == row["lines_read"]
    assert s["lines_read"] == s["lines_decoded"] + s["lines_rejected"]
    assert s["rejects"] == s["lines_rejected"]
    assert s["positions"] == row["positions"] == st.table("positions").height
    assert {p.parent.name for p in (tmp_path / "db" / "positions").glob("*/*.parquet")} == {
        "day=2023-01-11", "day=2023-01-12"}


def test_ingesting_same_file_twice_adds_nothing(tmp_path):
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv())
    db = tmp_path / "db"
    first = ingest([src], db, progress=False)
    before = table_rows(db)
    n_files = len(list(db.rglob("*.parquet")))
    # the same bytes under another name are the same file
    copy = tmp_path / "copy.csv"
    copy.write_bytes(src.read_bytes())
    again = ingest([src, copy], db, progress=False)
    assert again["status"].to_list() == ["already_ingested", "already_ingested"]
    assert again["positions"].to_list() == [0, 0]
    assert again["format"].to_list() == ["noaa_csv", "noaa_csv"]
    after = table_rows(db)
    for name in schema.TABLES:
        assert after[name].height == before[name].height
        assert_frame_equal(after[name], before[name])
    assert len(list(db.rglob("*.parquet"))) == n_files
    assert Store(db).stats()["files"] == 1
    assert first["status"].to_list() == ["ingested"]


def test_gz_and_zip_inputs_give_the_same_rows_as_plain(tmp_path):
    data = noaa_csv()
    plain = tmp_path / "p.csv"
    plain.write_bytes(data)
    gz = tmp_path / "p.csv.gz"
    gz.write_bytes(gzip.compress(data))
    zp = tmp_path / "p.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("p.csv", data)
    ref = None
    for p in (plain, gz, zp):
        db = tmp_path / f"db-{p.name}"
        summary = ingest([p], db, progress=False)
        assert summary["format"].to_list() == ["noaa_csv"]
        rows = table_rows(db)
        # every row keeps its input's name: the file, or "archive.zip!member"
        want = f"{p}!p.csv" if p.suffix == ".zip" else str(p)
        assert rows["positions"]["source"].unique().to_list() == [want]
        rows = {k: v.drop("source", strict=False) for k, v in rows.items()}  # names the input file
        if ref is None:
            ref = rows
        else:
            for name in rows:
                assert_frame_equal(rows[name], ref[name])


def test_interrupted_ingest_rerun_equals_clean_ingest(tmp_path, monkeypatch):
    monkeypatch.setattr(files_mod, "WRITE_ROWS", 1)  # a part per chunk: some are on disk at the crash
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv(600))
    clean_db = tmp_path / "clean"
    ingest([src], clean_db, progress=False, chunk_rows=100)
    clean = table_rows(clean_db)
    assert clean["positions"].height == 600

    from seawatch.ingest import providers

    real = providers.read_provider

    def crashing(*args, **kwargs):
        for i, res in enumerate(real(*args, **kwargs)):
            if i == 3:
                raise RuntimeError("power cut")
            yield res

    db = tmp_path / "db"
    monkeypatch.setattr(providers, "read_provider", crashing)
    with pytest.raises(RuntimeError, match="power cut"):
        ingest([src], db, progress=False, chunk_rows=100)
    fp = xxh3(src.read_bytes())
    assert list(db.rglob(f"{fp[:16]}-*.parquet"))  # parts were written...
    assert not (db / "_files" / f"{fp}.json").exists()  # ...but no manifest
    st = Store(db)
    assert not st.has_file(fp)
    assert st.table("positions").height == 0  # readers see no half file
    assert st.stats()["files"] == 0

    monkeypatch.setattr(providers, "read_provider", real)
    summary = ingest([src], db, progress=False, chunk_rows=100)
    assert summary["status"].to_list() == ["ingested"]
    rerun = table_rows(db)
    for name in schema.TABLES:
        assert_frame_equal(rerun[name], clean[name])
    assert rerun["positions"].height == 600


def test_ingest_checks_every_path_first(tmp_path):
    src = tmp_path / "ok.csv"
    src.write_bytes(noaa_csv(10))
    with pytest.raises(SeawatchError, match=r"no such file: .*missing.nm4 — check the path"):
        ingest([src, tmp_path / "missing.nm4"], tmp_path / "db", progress=False)
    assert not (tmp_path / "db").exists()


def test_ingest_progress_line_on_stderr(tmp_path, capsys):
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv(50))
    ingest([src], tmp_path / "db", progress=True)
    err = capsys.readouterr().err
    assert "noaa.csv" in err and "100.0%" in err
    src2 = tmp_path / "noaa2.csv"
    src2.write_bytes(noaa_csv(60))
    ingest([src2], tmp_path / "db", progress=False)
    assert capsys.readouterr().err == ""


def test_export_each_format_reads_back_equal(tmp_path):
    db = tmp_path / "db"
    st = Store(db, create=True)
    fp = sha(b"e")
    st.begin_file(fp)
    st.write_chunk(fp, 0, hand_result())
    st.commit_file(fp, {"path": "e", "format": "nmea"})
    for name in ("positions", "statics", "other", "rejects"):  # the ingested tables
        want = sorted_frame(st.table(name))
        for ext in ("parquet", "csv", "jsonl"):
            out = tmp_path / f"{name}.{ext}"
            res = export_table(db, name, out)
            assert res == {"table": name, "out": str(out), "format": ext, "rows": want.height}
            got = read_back(out, name)
            assert_frame_equal(sorted_frame(got), want)
            if ext != "parquet" and want["ts"].drop_nulls().len():
                text = out.read_text()
                assert "Z" in text and "+00:00" not in text


def read_back(out: Path, table: str) -> pl.DataFrame:
    sch = schema.polars_schema(table)
    if out.suffix == ".parquet":
        return pl.read_parquet(out)
    if out.suffix == ".csv":
        text_sch = {n: (pl.Utf8 if t == schema.UTC_TS else t) for n, t in sch.items()}
        df = pl.read_csv(out, schema=text_sch)
    else:
        df = pl.read_ndjson(out, infer_schema_length=None)
    assert df.columns == list(sch)
    return df.select(
        pl.col(n).cast(pl.Utf8).str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us",
                                                time_zone="UTC")
        if t == schema.UTC_TS
        else pl.col(n).cast(t)
        for n, t in sch.items()
    )


def test_export_timestamps_are_iso_utc_z(tmp_path):
    db = tmp_path / "db"
    st = Store(db, create=True)
    fp = sha(b"z")
    st.begin_file(fp)
    st.write_chunk(fp, 0, hand_result())
    st.commit_file(fp, {"path": "z", "format": "nmea"})
    export_table(db, "positions", tmp_path / "p.jsonl")
    ts = {json.loads(line)["ts"] for line in (tmp_path / "p.jsonl").read_text().splitlines()}
    assert ts == {"2020-01-01T23:59:59Z", "2020-01-02T00:00:00.250Z", "2020-01-02T05:00:00Z", None}


def test_export_errors(tmp_path):
    db = tmp_path / "db"
    Store(db, create=True)
    with pytest.raises(SeawatchError, match=r"\.parquet, \.csv, \.jsonl"):
        export_table(db, "positions", tmp_path / "out.xlsx")
    with pytest.raises(SeawatchError, match="unknown table"):
        export_table(db, "ships", tmp_path / "out.csv")
    with pytest.raises(SeawatchError, match="no seawatch store"):
        export_table(tmp_path / "none", "positions", tmp_path / "out.csv")
    # an empty table exports a header-only file
    export_table(db, "positions", tmp_path / "empty.csv")
    assert pl.read_csv(tmp_path / "empty.csv").columns == list(schema.polars_schema("positions"))


# -- real NMEA through the decoder ----------------------------------------------------------------
needs_nmea = pytest.mark.skipif(not NMEA_1000.is_file(), reason="shared AIS data not present")


def _ingest_interrupted(db: Path, monkeypatch) -> None:
    """Ingest NMEA_1000 into ``db`` in 8 KiB chunks, interrupted (KeyboardInterrupt) at the
    decoder's fourth chunk."""
    nmea = pytest.importorskip("seawatch.ingest.nmea")
    real_feed = nmea.NmeaDecoder.feed
    calls = {"n": 0}

    def crashing_feed(self, data):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_feed(self, data)

    monkeypatch.setattr(nmea.NmeaDecoder, "feed", crashing_feed)
    with pytest.raises(KeyboardInterrupt):
        ingest([NMEA_1000], db, progress=False, chunk_bytes=8192)
    monkeypatch.setattr(nmea.NmeaDecoder, "feed", real_feed)


@needs_nmea
def test_nmea_interrupted_ingest_rerun_equals_clean(tmp_path, monkeypatch):
    """The file fingerprinted first (a store that records no sizes); the one-read path:
    test_a_new_file_interrupted_leaves_nothing_visible_and_its_parts_are_swept."""
    monkeypatch.setattr(files_mod, "WRITE_ROWS", 1)  # a part per chunk: some are on disk at the crash
    clean_db = tmp_path / "clean"
    ingest([NMEA_1000], clean_db, progress=False, chunk_bytes=8192)
    clean = table_rows(clean_db)
    assert clean["positions"].height > 0

    db = tmp_path / "db"
    Store(db, create=True)
    (db / "_sizes").rmdir()
    _ingest_interrupted(db, monkeypatch)
    fp16 = xxh3(NMEA_1000.read_bytes())[:16]
    assert list(db.rglob(f"{fp16}-*.parquet")) and not list((db / "_files").glob("*.json"))
    ingest([NMEA_1000], db, progress=False, chunk_bytes=8192)
    rerun = table_rows(db)
    for name in schema.TABLES:
        assert_frame_equal(rerun[name], clean[name])


def _no_fingerprint_first(monkeypatch):
    """Make Store.fingerprint_file fail: the ingest must hash the file while decoding it."""
    def refuse(self, path):
        raise AssertionError(f"{path} was read a second time to fingerprint it")

    monkeypatch.setattr(Store, "fingerprint_file", refuse)


def _files_under(db: Path) -> list[Path]:
    return sorted(p.relative_to(db) for p in db.rglob("*") if p.is_file() and "_locks" not in p.parts)


@needs_nmea
def test_a_new_nmea_file_is_read_once_and_its_parts_named_by_its_fingerprint(tmp_path, monkeypatch):
    """A plain NMEA file of a size the store never ingested cannot be in it: it is hashed while
    decoded (no second read), its parts written under a provisional name and renamed once the
    fingerprint is known. The rows are those of an ingest that fingerprints first."""
    src = tmp_path / "a.nm4"
    src.write_bytes(NMEA_1000.read_bytes())
    first = tmp_path / "first"
    Store(first, create=True)
    (first / "_sizes").rmdir()  # a store that records no sizes: every file is fingerprinted first
    ingest([src], first, progress=False, chunk_bytes=8192)

    _no_fingerprint_first(monkeypatch)
    db = tmp_path / "db"
    summary = ingest([src], db, progress=False, chunk_bytes=8192)
    fp = xxh3(src.read_bytes())
    assert summary["status"].to_list() == ["ingested"] and summary["fingerprint"].to_list() == [fp]
    assert Store(db).has_file(fp)
    parts = [p for p in db.rglob("*.parquet")]
    assert parts and all(p.name.startswith(fp[:16] + "-") for p in parts)
    assert not list((db / "_pending").iterdir())
    assert (db / "_sizes" / str(src.stat().st_size)).is_file()
    once, twice = table_rows(db), table_rows(first)
    for name in schema.TABLES:
        assert_frame_equal(once[name], twice[name])

    # a file the store holds is recognised by its fingerprint (read first: its size is known)
    monkeypatch.undo()
    assert ingest([src], db, progress=False)["status"].to_list() == ["already_ingested"]
    # another file of the same size is fingerprinted first, then ingested
    lines = src.read_bytes().splitlines(keepends=True)
    other = tmp_path / "b.nm4"
    other.write_bytes(b"".join(reversed(lines)))
    assert other.stat().st_size == src.stat().st_size
    assert ingest([other], db, progress=False)["status"].to_list() == ["ingested"]
    assert Store(db).has_file(xxh3(other.read_bytes()))


@needs_nmea
def test_a_new_file_interrupted_leaves_nothing_visible_and_its_parts_are_swept(tmp_path, monkeypatch):
    monkeypatch.setattr(files_mod, "WRITE_ROWS", 1)  # a part per chunk: some are on disk at the crash
    clean_db = tmp_path / "clean"
    ingest([NMEA_1000], clean_db, progress=False, chunk_bytes=8192)
    db = tmp_path / "db"
    _ingest_interrupted(db, monkeypatch)
    (pending,) = (db / "_pending").iterdir()  # the provisional name, its lock now free
    left = list(db.rglob(f"{pending.name[:16]}-*.parquet"))
    assert left and not list((db / "_files").glob("*.json"))
    assert Store(db).table("positions").height == 0  # readers see none of it

    assert ingest([NMEA_1000], db, progress=False, chunk_bytes=8192)["status"].to_list() == ["ingested"]
    assert not any(p.exists() for p in left) and not pending.exists()
    fp16 = xxh3(NMEA_1000.read_bytes())[:16]
    assert all(p.name.startswith(fp16) for p in db.rglob("*.parquet"))
    rerun, clean = table_rows(db), table_rows(clean_db)
    for name in schema.TABLES:
        assert_frame_equal(rerun[name], clean[name])


def test_sweep_leaves_the_parts_of_a_running_ingest_alone(tmp_path):
    db = tmp_path / "db"
    st = Store(db, create=True)
    with pytest.raises(RuntimeError, match="stop"), st.provisional() as name:
        st.write_chunk(name, 0, hand_result())
        parts = list(db.rglob(f"{name[:16]}-*.parquet"))
        assert parts
        assert Store(db).sweep() == 0  # another process's view: the entry is locked
        assert all(p.exists() for p in parts)
        raise RuntimeError("stop")
    assert (db / "_pending" / name).exists()  # ended without adopting: left for the sweep
    (db / "_pending" / f"{'ab' * 16}.tmp").write_bytes(b"")  # an ingest that died as it began
    assert Store(db).sweep() == len(parts)
    assert not any(p.exists() for p in parts) and not list((db / "_pending").iterdir())


@needs_nmea
def test_a_sweep_between_creating_and_locking_a_pending_entry_does_not_fail_the_ingest(tmp_path, monkeypatch):
    """Another ingest's sweep can take a just-created, not yet locked _pending entry and remove
    it: the new ingest notices and takes another name."""
    import fcntl

    from seawatch import store as store_mod

    db = tmp_path / "db"
    Store(db, create=True)
    swept = []

    class SweepFirst:  # the store's fcntl, with another process's sweep just before a blocking lock
        LOCK_EX, LOCK_NB, LOCK_UN = fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN

        def flock(self, fd, op):
            if op == fcntl.LOCK_EX and not swept:
                swept.append([p.name for p in (db / "_pending").iterdir()])
                Store(db).sweep()
            return fcntl.flock(fd, op)

    monkeypatch.setattr(store_mod, "fcntl", SweepFirst())
    summary = ingest([NMEA_1000], db, progress=False)
    assert summary["status"].to_list() == ["ingested"]
    assert len(swept) == 1 and swept[0][0].endswith(".tmp")  # the entry the sweep took
    assert not list((db / "_pending").iterdir())
    assert Store(db).has_file(xxh3(NMEA_1000.read_bytes()))


@needs_nmea
def test_adopt_finds_the_parts_another_store_object_wrote(tmp_path):
    db = tmp_path / "db"
    st = Store(db, create=True)
    fp = xxh3(b"some file")
    with st.provisional() as name:
        st.write_chunk(name, 0, hand_result())
        other = Store(db)
        with other.lock(fp):
            assert other.adopt(name, fp)
            other.commit_file(fp, {"path": "x", "format": "nmea"})
    assert not list(db.rglob(f"{name[:16]}-*"))
    assert Store(db).table("positions").height == hand_result().positions.height


@needs_nmea
def test_a_new_file_committed_meanwhile_by_another_ingest_is_not_added_twice(tmp_path, monkeypatch):
    """Two ingests of the same new file at once both decode it; the second to name its parts
    finds the file committed and removes its own."""
    db = tmp_path / "db"
    ingest([NMEA_1000], db, progress=False)
    before, files_before = table_rows(db), _files_under(db)
    monkeypatch.setattr(Store, "may_hold", lambda self, size: False)  # as if it had not seen it yet
    _no_fingerprint_first(monkeypatch)
    summary = ingest([NMEA_1000], db, progress=False)
    assert summary["status"].to_list() == ["already_ingested"]
    assert summary["fingerprint"].to_list() == [xxh3(NMEA_1000.read_bytes())]
    assert _files_under(db) == files_before
    for name, df in table_rows(db).items():
        assert_frame_equal(df, before[name])


@needs_nmea
def test_nmea_chunking_does_not_change_rows(tmp_path):
    pytest.importorskip("seawatch.ingest.nmea")
    ingest([NMEA_1000], tmp_path / "big", progress=False)
    ingest([NMEA_1000], tmp_path / "small", progress=False, chunk_bytes=777)
    big, small = table_rows(tmp_path / "big"), table_rows(tmp_path / "small")
    for name in schema.TABLES:
        assert_frame_equal(small[name], big[name])
    s = Store(tmp_path / "small").stats()
    assert s["lines_read"] == s["lines_decoded"] + s["lines_rejected"]
    assert s["lines_read"] == len(NMEA_1000.read_bytes().splitlines())


@needs_nmea
def test_ingest_gathers_chunks_into_larger_parts(tmp_path, monkeypatch):
    """Decoded chunks are written as row groups of one set of parts up to WRITE_ROWS rows:
    fewer, larger parts; the rows are the same whatever the grouping."""
    pytest.importorskip("seawatch.ingest.nmea")
    ingest([NMEA_1000], tmp_path / "one", progress=False, chunk_bytes=16384)
    (part,) = (tmp_path / "one" / "positions").glob("day=*/*.parquet")
    assert pq.ParquetFile(part).metadata.num_row_groups > 1  # a row group per decoder chunk
    monkeypatch.setattr(files_mod, "WRITE_ROWS", 1)
    ingest([NMEA_1000], tmp_path / "many", progress=False, chunk_bytes=16384)
    n_many = len(list((tmp_path / "many" / "positions").glob("day=*/*.parquet")))
    assert n_many > 1
    rows = pl.read_parquet(part).height
    monkeypatch.setattr(files_mod, "WRITE_ROWS", rows // 3)
    ingest([NMEA_1000], tmp_path / "three", progress=False, chunk_bytes=16384)
    n_three = len(list((tmp_path / "three" / "positions").glob("day=*/*.parquet")))
    assert 2 < n_three < n_many
    one, many, three = (table_rows(tmp_path / d) for d in ("one", "many", "three"))
    for name in schema.TABLES:
        assert_frame_equal(many[name], one[name])
        assert_frame_equal(three[name], one[name])


def test_provider_chunks_gathered_into_one_part_keep_the_rows(tmp_path, monkeypatch):
    """Provider chunks (and zip members, each with its own source) gathered into one part give
    the rows of a part per chunk."""
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv(600))
    zp = tmp_path / "two.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("a.csv", noaa_csv(250))
        z.writestr("b.csv", noaa_csv(130))
    ingest([src, zp], tmp_path / "one", progress=False, chunk_rows=100)
    assert len(list((tmp_path / "one" / "positions").glob("day=*/*.parquet"))) == 4  # 2 files x 2 days
    monkeypatch.setattr(files_mod, "WRITE_ROWS", 1)
    ingest([src, zp], tmp_path / "many", progress=False, chunk_rows=100)
    one, many = table_rows(tmp_path / "one"), table_rows(tmp_path / "many")
    for name in schema.TABLES:
        assert_frame_equal(one[name], many[name])
    assert set(one["positions"]["source"].unique()) == {str(src), f"{zp}!a.csv", f"{zp}!b.csv"}


def test_files_module_exports():
    assert callable(files_mod.fingerprint)


def test_readers_see_whole_files_while_another_process_ingests(tmp_path):
    """A reader polling the store while a separate process writes sees each file whole or not
    at all, and never fails on a half-written part."""
    import subprocess
    import sys

    srcs = []
    for i in range(3):
        p = tmp_path / f"f{i}.csv"
        p.write_bytes(noaa_csv(400 + i))  # distinct bytes, distinct fingerprints
        srcs.append(p)
    db = tmp_path / "db"
    Store(db, create=True)
    sizes = {}
    for p in srcs:  # rows per file, from a separate clean store
        sizes[p.name] = ingest([p], tmp_path / f"ref-{p.name}", progress=False)["positions"].item()
    allowed = {0, sizes["f0.csv"], sizes["f0.csv"] + sizes["f1.csv"],
               sizes["f0.csv"] + sizes["f1.csv"] + sizes["f2.csv"]}
    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from seawatch.ingest.files import ingest;"
        "ingest(sys.argv[3:], sys.argv[2], progress=False, chunk_rows=20)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(root), str(db), *map(str, srcs)])
    st = Store(db)
    while True:
        done = proc.poll() is not None
        s = st.stats()
        assert s["positions"] in allowed, s
        assert s["lines_read"] == s["lines_decoded"] + s["lines_rejected"]
        assert s["rejects"] == s["lines_rejected"]
        if done:
            break
    assert proc.returncode == 0
    assert st.stats()["files"] == 3


def test_parts_written_before_a_column_existed_read_as_null(tmp_path):
    """A store ingested by an older seawatch (positions parts without ``source``) still reads:
    the new column is null in those parts, in SQL and in Store.table."""
    src = tmp_path / "p.csv"
    src.write_bytes(noaa_csv(50))
    db = tmp_path / "db"
    ingest([src], db, progress=False)
    for part in (db / "positions").rglob("*.parquet"):
        pl.read_parquet(part).drop("source").write_parquet(part)
    st = Store(db)
    q = st.query("SELECT count(*) AS n, count(source) AS with_source FROM positions")
    assert q.row(0) == (50, 0)
    assert st.table("positions")["source"].null_count() == 50


def _noaa_files(tmp_path, sizes: list[int]) -> list:
    """NOAA CSV files p0.csv, p1.csv, ... of noaa_csv(size) each."""
    out = []
    for i, n in enumerate(sizes):
        f = tmp_path / f"p{i}.csv"
        f.write_bytes(noaa_csv(n))
        out.append(f)
    return out


def test_compaction_rewrites_files_as_one_and_readers_see_each_row_once(tmp_path):
    srcs = _noaa_files(tmp_path, [40, 41, 42])
    db = tmp_path / "db"
    ingest(srcs, db, progress=False)
    st = Store(db)
    before, rows = st.stats(), table_rows(db)
    fps = [m["fingerprint"] for m in st.manifests()]
    snapshot = st._committed_fp16()  # a reader that listed the files before the compaction
    man = st.compact(fps)
    assert sorted(man["replaces"]) == sorted(fps) and man["lines_read"] == before["lines_read"]
    after = Store(db).stats()
    assert after["files"] == 1 and {k: v for k, v in after.items() if k != "files"} == \
        {k: v for k, v in before.items() if k != "files"}
    for name, df in table_rows(db).items():
        assert_frame_equal(df, rows[name])
    assert all(st.has_file(f) for f in fps)  # ingesting one of them again adds nothing
    assert ingest([srcs[0]], db, progress=False)["status"].to_list() == ["already_ingested"]
    # the old reader still reads the replaced parts until they are purged (keep_s later)
    con = st.connect(snapshot)
    assert con.execute("SELECT count(*) FROM positions").fetchone()[0] == before["positions"]
    con.close()
    assert st._purge_replaced(0) > 0 and Store(db).stats()["positions"] == before["positions"]
    assert st.compact(fps[:1]) is None
    with pytest.raises(SeawatchError, match="not committed"):
        st.compact(["ab" * 32, "cd" * 32])


def test_derived_tables_know_the_files_they_came_from_even_after_a_compaction(tmp_path):
    from seawatch.tracks import materialise_tracks

    srcs = _noaa_files(tmp_path, [30, 31])
    db = tmp_path / "db"
    ingest(srcs[:1], db, progress=False)
    st = Store(db)
    materialise_tracks(st, places=False)
    meta = st.derived_info("tracks")["meta"]
    assert st.files_current(meta)
    ingest(srcs[1:], db, progress=False)
    assert not st.files_current(meta)  # a file ingested since
    materialise_tracks(st, places=False)
    meta = st.derived_info("tracks")["meta"]
    st.compact([m["fingerprint"] for m in st.manifests()])
    assert not st.files_current(meta)  # the same rows, but not the same files: recompute
    assert st.files_current({"files": 1, "files_key": st.files_key()})
    assert st.files_current({"files": 1}) and not st.files_current({"files": 2})  # older meta: by count


# -- fingerprints: xxh3-128 in new stores, sha256 kept by stores made before ----------------------
def _as_made_before_xxh3(db: Path) -> None:
    """Make ``db`` look like a store made by an earlier seawatch: its ``_store.json`` as those
    versions wrote it, without the ``fingerprint`` key."""
    Store(db, create=True)
    (db / "_store.json").write_text(json.dumps({"format": "seawatch-store", "version": 1}, indent=2))


def test_new_store_records_xxh3_and_ingest_fingerprints_files_with_it(tmp_path):
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv())
    db = tmp_path / "db"
    row = ingest([src], db, progress=False).row(0, named=True)
    assert json.loads((db / "_store.json").read_text())["fingerprint"] == "xxh3_128"
    st = Store(db)
    assert st.fingerprint_algorithm == "xxh3_128"
    fp = xxh3(src.read_bytes())
    assert row["fingerprint"] == fp and len(fp) == 32
    assert [p.name for p in (db / "_files").glob("*.json")] == [f"{fp}.json"]
    assert all(p.name.startswith(fp[:16] + "-") for p in db.rglob("*.parquet"))
    # a compaction's name is made with the store's algorithm too: one store, one kind of name
    ingest(_noaa_files(tmp_path, [20]), db, progress=False)
    man = st.compact([m["fingerprint"] for m in st.manifests()])
    assert len(man["fingerprint"]) == 32


def test_fingerprint_reads_in_blocks_and_knows_two_algorithms(tmp_path, monkeypatch):
    src = tmp_path / "f.bin"
    data = bytes(range(256)) * 41 + b"tail"  # not a whole number of blocks
    src.write_bytes(data)
    monkeypatch.setattr(files_mod, "HASH_BLOCK", 1000)
    assert files_mod.fingerprint(src) == xxh3(data)
    assert files_mod.fingerprint(src, algorithm="xxh3_128") == xxh3(data)
    assert files_mod.fingerprint(src, algorithm="sha256") == sha(data)
    with pytest.raises(SeawatchError, match=r"unknown fingerprint algorithm 'md5': use one of xxh3_128, sha256"):
        files_mod.fingerprint(src, algorithm="md5")


def test_store_made_before_xxh3_keeps_sha256(tmp_path):
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv())
    db = tmp_path / "db"
    _as_made_before_xxh3(db)
    assert Store(db).fingerprint_algorithm == "sha256"
    first = ingest([src], db, progress=False)
    assert first["status"].to_list() == ["ingested"]
    assert first["fingerprint"].to_list() == [sha(src.read_bytes())]
    before, n_parts = table_rows(db), len(list(db.rglob("*.parquet")))
    copy = tmp_path / "copy.csv"
    copy.write_bytes(src.read_bytes())
    again = ingest([src, copy], db, progress=False)
    assert again["status"].to_list() == ["already_ingested", "already_ingested"]
    assert again["positions"].to_list() == [0, 0]
    for name, df in table_rows(db).items():
        assert_frame_equal(df, before[name])
    assert len(list(db.rglob("*.parquet"))) == n_parts
    assert [p.stem for p in (db / "_files").glob("*.json")] == [sha(src.read_bytes())]
    assert "fingerprint" not in json.loads((db / "_store.json").read_text())  # the store stays as it was
    # its compactions are named with sha256 as before (a rerun of one finds it)
    ingest(_noaa_files(tmp_path, [20]), db, progress=False)
    st = Store(db)
    fps = sorted(m["fingerprint"] for m in st.manifests())
    man = st.compact(fps)
    assert man["fingerprint"] == sha(("compact\0" + "\0".join(fps)).encode())


def test_old_store_holding_a_file_under_its_sha256_does_not_ingest_it_again(tmp_path):
    """A file an earlier seawatch ingested (parts and manifest named by its sha256) is
    recognised: nothing is added, nothing is rewritten."""
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv())
    db = tmp_path / "db"
    _as_made_before_xxh3(db)
    st = Store(db)
    old_fp = sha(src.read_bytes())
    st.begin_file(old_fp)
    st.write_chunk(old_fp, 0, hand_result())
    st.commit_file(old_fp, {"path": str(src), "format": "noaa_csv", "lines_read": 9})
    before = table_rows(db)
    files_before = sorted(p.relative_to(db) for p in db.rglob("*") if p.is_file() and "_locks" not in p.parts)
    summary = ingest([src], db, progress=False)
    assert summary["status"].to_list() == ["already_ingested"]
    assert summary["fingerprint"].to_list() == [old_fp] and summary["format"].to_list() == ["noaa_csv"]
    for name, df in table_rows(db).items():
        assert_frame_equal(df, before[name])
    assert sorted(p.relative_to(db) for p in db.rglob("*") if p.is_file() and "_locks" not in p.parts) == files_before


def test_detections_file_in_an_old_store_is_recognised_by_its_sha256(tmp_path):
    from seawatch.detections import ingest_detections

    csv = tmp_path / "radar.csv"
    csv.write_text("id,time,lat,lon,sensor\nr1,2024-06-01T15:00:00Z,38.1,138.9,radar\n")
    old, new = tmp_path / "old", tmp_path / "new"
    _as_made_before_xxh3(old)
    for db, fp in ((old, sha(b"detections\0" + csv.read_bytes())), (new, xxh3(b"detections\0" + csv.read_bytes()))):
        assert ingest_detections([csv], db)["status"].to_list() == ["ingested"]
        assert [p.stem for p in (db / "_files").glob("*.json")] == [fp]
        assert ingest_detections([csv], db)["status"].to_list() == ["already in the store"]
        assert Store(db).table("detections").height == 1


@pytest.mark.parametrize("fp", ["ab" * 16, "0123456789abcdef" * 2, "ab" * 32, sha(b"x"), xxh3(b"x")])
def test_check_fp_accepts_32_and_64_lowercase_hex(fp):
    from seawatch.store import _check_fp

    assert _check_fp(fp) == fp


@pytest.mark.parametrize("fp", ["", "ab" * 16 + "a", "ab" * 24, "ab" * 32 + "a", "AB" * 16, "g" * 32,
                                "ab" * 16 + "\n", "ab" * 32 + "\n", "../../etc/passwd", None, 12])
def test_check_fp_rejects_other_strings(fp):
    from seawatch.store import _check_fp

    with pytest.raises(SeawatchError, match=r"^bad fingerprint .*: expected 32 \(xxh3_128\) or 64 \(sha256\) lowercase hex digits$"):
        _check_fp(fp)


def test_store_json_naming_an_unknown_algorithm_or_unreadable_is_an_error(tmp_path):
    src = tmp_path / "noaa.csv"
    src.write_bytes(noaa_csv(10))
    db = tmp_path / "db"
    Store(db, create=True)
    marker = db / "_store.json"
    marker.write_text(json.dumps({"format": "seawatch-store", "version": 1, "fingerprint": "blake9"}))
    with pytest.raises(SeawatchError, match=r"names fingerprint 'blake9', which this seawatch does not know .*upgrade seawatch$"):
        ingest([src], db, progress=False)
    marker.write_text("{not json")
    with pytest.raises(SeawatchError, match=r"cannot read .*_store.json .*rewrite it"):
        ingest([src], db, progress=False)
    assert not list((db / "_files").iterdir())  # nothing ingested
    assert Store(db).stats()["files"] == 0  # readers do not need the algorithm


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_fsync_thread():
    """The executor that places parts in the background has no thread in a forked child: the
    child starts its own instead of waiting forever on the parent's."""
    import seawatch.store as store_mod

    store_mod._placer().submit(int).result()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            ok = store_mod._placer().submit(int, "7").result(timeout=10) == 7
        except Exception:  # noqa: BLE001 - any failure is the child's exit code
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
