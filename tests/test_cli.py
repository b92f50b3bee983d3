"""The ``seawatch`` command line, run in-process with click's CliRunner on real files."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from seawatch import schema
from seawatch.cli import main
from seawatch.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NMEA_1000 = SHARED / "kystverket-ais-net" / "Ais1000Lines.nm4"
GFW = SHARED / "gfw-ais-tools-samples"
NOAA_CSV = SHARED / "aisdb-testdata" / "test_data_noaa_20230101.csv"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, match: str) -> None:
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert "\n" not in err, err
    assert err.startswith("Error: ") and match in err, err
    assert "Traceback" not in result.output


def sorted_tables(db: Path) -> dict[str, pl.DataFrame]:
    st = Store(db)
    out = {}
    for name in schema.TABLES:
        df = st.table(name).drop("source", strict=False)  # names the input file, which differs between copies
        out[name] = df.sort(df.columns, nulls_last=True)
    return out


@pytest.fixture
def nmea_file() -> Path:
    if not NMEA_1000.is_file():
        pytest.skip("shared AIS data not present")
    pytest.importorskip("seawatch.ingest.nmea")
    return NMEA_1000


@pytest.fixture
def noaa_file() -> Path:
    if not NOAA_CSV.is_file():
        pytest.skip("shared AIS data not present")
    return NOAA_CSV


# -- help and version ------------------------------------------------------------------------------
def test_version():
    r = run("--version")
    assert r.exit_code == 0 and r.output.startswith("seawatch ")


def test_help_of_every_command_documents_its_options():
    r = run("--help")
    assert r.exit_code == 0
    for name, cmd in main.commands.items():
        assert name in r.output
        h = run(name, "--help")
        assert h.exit_code == 0, h.output
        assert cmd.help and cmd.help.split("\n")[0] in h.output
        for p in cmd.params:
            if p.param_type_name == "option":
                assert p.help, f"{name} {p.opts} has no help text"
                for opt in p.opts:
                    assert opt in h.output, (name, opt)


# -- ingest + stats on real NMEA -------------------------------------------------------------------
def test_ingest_nmea_then_stats(tmp_path, nmea_file):
    db = tmp_path / "db"
    r = run("ingest", nmea_file, "--db", db, "--no-progress")
    assert r.exit_code == 0, r.output
    assert nmea_file.name in r.output and "ingested" in r.output
    assert "1 file ingested" in r.output

    js = run("stats", "--db", db, "--json")
    assert js.exit_code == 0, js.output
    s = json.loads(js.output)
    assert s["files"] == 1
    assert s["lines_read"] == len(nmea_file.read_bytes().splitlines())
    assert s["lines_read"] == s["lines_decoded"] + s["lines_rejected"]
    assert s["rejects"] == s["lines_rejected"]
    assert s["skipped"] + s["errors"] == s["lines_rejected"]
    assert s["positions"] > 0 and s["vessels"] > 0
    assert sum(s["messages_by_type"].values()) == s["positions"] + s["statics"] + s["other"]
    assert s["time_start"].endswith("Z") and s["time_end"] >= s["time_start"]

    txt = run("stats", "--db", db)
    assert txt.exit_code == 0
    for label in ("lines read", "messages by type", "positions", "statics", "vessels",
                  "time span", "untimed rows", "rejects by reason"):
        assert label in txt.output
    assert f"{s['lines_read']:,}" in txt.output


def test_ingest_same_file_twice_adds_nothing(tmp_path, nmea_file):
    db = tmp_path / "db"
    assert run("ingest", nmea_file, "--db", db).exit_code == 0
    before = sorted_tables(db)
    r = run("ingest", nmea_file, "--db", db)
    assert r.exit_code == 0
    assert "already_ingested" in r.output and "0 files ingested" in r.output
    after = sorted_tables(db)
    for name in schema.TABLES:
        assert_frame_equal(after[name], before[name])
    assert json.loads(run("stats", "--db", db, "--json").output)["files"] == 1


def test_gz_and_zip_nmea_give_the_same_rows_as_plain(tmp_path, nmea_file):
    data = nmea_file.read_bytes()
    gz = tmp_path / "ais.nm4.gz"
    gz.write_bytes(gzip.compress(data))
    zp = tmp_path / "ais.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ais.nm4", data)
    ref_db = tmp_path / "plain"
    assert run("ingest", nmea_file, "--db", ref_db).exit_code == 0
    ref = sorted_tables(ref_db)
    ref_stats = json.loads(run("stats", "--db", ref_db, "--json").output)
    for p in (gz, zp):
        db = tmp_path / f"db-{p.name}"
        r = run("ingest", p, "--db", db)
        assert r.exit_code == 0, r.output
        got = sorted_tables(db)
        srcs = Store(db).query("SELECT DISTINCT source FROM positions")["source"].to_list()
        assert srcs == [f"{p}!ais.nm4" if p.suffix == ".zip" else str(p)]  # each row keeps its input
        for name in schema.TABLES:
            assert_frame_equal(got[name], ref[name])
        st = json.loads(run("stats", "--db", db, "--json").output)
        assert st["lines_read"] == ref_stats["lines_read"]


def test_ingest_several_files_prints_totals(tmp_path, nmea_file, noaa_file):
    db = tmp_path / "db"
    r = run("ingest", nmea_file, noaa_file, "--db", db, "--no-progress")
    assert r.exit_code == 0, r.output
    assert "total (2 files)" in r.output and "2 files ingested" in r.output
    assert "noaa_csv" in r.output and "nmea" in r.output


# -- export ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("table", ["positions", "statics", "other", "rejects"])
def test_export_each_format_reads_back_equal(tmp_path, nmea_file, table):
    db = tmp_path / "db"
    # these samples give rows in every table (other: type 8 etc.; rejects: bad checksums)
    extra = [GFW / "errors.nmea", GFW / "mixed_types.nmea"]
    if not all(p.is_file() for p in extra):
        pytest.skip("shared AIS samples not present")
    assert run("ingest", nmea_file, *extra, "--db", db).exit_code == 0
    want = Store(db).table(table)
    assert want.height > 0
    want = want.sort(want.columns, nulls_last=True)
    sch = schema.polars_schema(table)
    for ext in ("parquet", "csv", "jsonl"):
        out = tmp_path / f"{table}.{ext}"
        r = run("export", table, "--db", db, "--out", out)
        assert r.exit_code == 0, r.output
        assert f"{want.height:,} {table} rows written" in r.output
        if ext == "parquet":
            got = pl.read_parquet(out)
        else:
            if ext == "csv":
                got = pl.read_csv(out, schema={n: (pl.Utf8 if t == schema.UTC_TS else t)
                                               for n, t in sch.items()})
            else:
                got = pl.read_ndjson(out, infer_schema_length=None)
            got = got.select(
                pl.col(n).cast(pl.Utf8).str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ",
                                                        time_unit="us", time_zone="UTC")
                if t == schema.UTC_TS else pl.col(n).cast(t)
                for n, t in sch.items()
            )
            if want["ts"].drop_nulls().len():
                assert "Z" in out.read_text() and "+00:00" not in out.read_text()
        assert_frame_equal(got.sort(got.columns, nulls_last=True), want)


def test_export_csv_from_provider_data(tmp_path, noaa_file):
    db = tmp_path / "db"
    assert run("ingest", noaa_file, "--db", db).exit_code == 0
    out = tmp_path / "pos.csv"
    r = run("export", "positions", "--db", db, "--out", out)
    assert r.exit_code == 0, r.output
    df = pl.read_csv(out)
    assert df.height == Store(db).stats()["positions"]
    assert df["ts"].str.ends_with("Z").all()


# -- errors: one line, exit 2 ---------------------------------------------------------------------
def test_bad_table_name(tmp_path, noaa_file):
    db = tmp_path / "db"
    assert run("ingest", noaa_file, "--db", db).exit_code == 0
    one_line_error(run("export", "ships", "--db", db, "--out", tmp_path / "x.csv"),
                   "unknown table 'ships': use one of positions, statics, other, rejects")


def test_bad_extension(tmp_path, noaa_file):
    db = tmp_path / "db"
    assert run("ingest", noaa_file, "--db", db).exit_code == 0
    r = run("export", "positions", "--db", db, "--out", tmp_path / "x.xlsx")
    one_line_error(r, ".parquet, .csv, .jsonl")
    assert not (tmp_path / "x.xlsx").exists()


def test_missing_db(tmp_path):
    one_line_error(run("stats", "--db", tmp_path / "nope"), "no seawatch store at")
    one_line_error(run("export", "positions", "--db", tmp_path / "nope", "--out",
                       tmp_path / "x.csv"), "seawatch ingest FILE --db")


def test_missing_input_file(tmp_path):
    one_line_error(run("ingest", tmp_path / "nope.nm4", "--db", tmp_path / "db"),
                   "no such file: ")
    assert "check the path" in run("ingest", tmp_path / "nope.nm4", "--db", tmp_path / "db").stderr


def test_unknown_csv_header(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar,baz\n1,2,3\n")
    one_line_error(run("ingest", bad, "--db", tmp_path / "db"), "unknown CSV header")


def test_ingest_needs_a_path_and_db(tmp_path):
    r = run("ingest", "--db", tmp_path / "db")
    assert r.exit_code == 2 and "PATH" in r.output
    r = run("stats")
    assert r.exit_code == 2 and "--db" in r.output
