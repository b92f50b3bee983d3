"""Provider tables (NOAA MarineCadastre CSV, DMA CSV, seawatch Parquet) -> canonical tables."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from seawatch import schema
from seawatch.errors import SeawatchError
from seawatch.ingest.providers import DMA_HEADER, NOAA_HEADER, read_provider, sniff
from seawatch.ingest.result import IngestResult

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NOAA = DATA / "aisdb-testdata" / "test_data_noaa_20230101.csv"
UTC = timezone.utc


def _all(data, fmt, chunk_rows=1_000_000, source="t") -> IngestResult:
    chunks = list(read_provider(data, fmt, source, chunk_rows=chunk_rows))
    for c in chunks:  # every chunk keeps the accounting invariant and the schema
        assert c.lines_read == c.lines_decoded + c.rejects.height
        for name, df in c.tables().items():
            assert df.schema == schema.polars_schema(name), name
    return IngestResult.concat(chunks)


@pytest.fixture(scope="module")
def noaa_bytes() -> bytes:
    if not DATA.is_dir():
        pytest.skip(f"shared data folder {DATA} missing")
    return NOAA.read_bytes()


# -- NOAA -----------------------------------------------------------------------------------------


def test_noaa_sample_decodes_all_rows(noaa_bytes):
    r = _all(NOAA, "noaa_csv")
    assert (r.lines_read, r.lines_decoded, r.rejects.height) == (1000, 1000, 0)
    assert r.positions.height == 1000 and r.positions["mmsi"].n_unique() == 1000
    assert r.positions["ts"].min() == datetime(2023, 1, 11, 0, 0, tzinfo=UTC)
    assert set(r.positions["ais_class"].unique()) == {"A", "B"}
    assert r.positions["station"].null_count() == 1000
    assert r.positions["n_rx"].to_list() == [1] * 1000


def test_noaa_spot_check(noaa_bytes):
    r = _all(noaa_bytes, "noaa_csv")
    p = r.positions.filter(pl.col("mmsi") == 636021061).row(0, named=True)
    assert p["ts"] == datetime(2023, 1, 11, tzinfo=UTC)
    assert (p["lat"], p["lon"]) == (26.09241, -80.04806)
    assert p["sog_kn"] == pytest.approx(8.8, abs=1e-5)
    assert p["cog_deg"] == pytest.approx(272.7, abs=1e-4)
    assert p["heading_deg"] == 270.0
    assert (p["nav_status"], p["msg_type"], p["ais_class"]) == (8, 1, "A")
    s = r.statics.filter(pl.col("mmsi") == 636021061).row(0, named=True)
    assert (s["shipname"], s["imo"], s["callsign"], s["ship_type"]) == (
        "MSC NAISHA III", 9307839, "5LCB4", 70)
    assert (s["to_bow_m"], s["to_stern_m"], s["to_port_m"], s["to_starboard_m"]) == (
        208, None, 30, None)
    assert s["draught_m"] == 8.0 and s["msg_type"] == 5
    # class B row: 338228393 GITANA, heading 511, no IMO/callsign/dims
    b = r.positions.filter(pl.col("mmsi") == 338228393).row(0, named=True)
    assert (b["msg_type"], b["ais_class"], b["heading_deg"]) == (18, "B", None)
    sb = r.statics.filter(pl.col("mmsi") == 338228393).row(0, named=True)
    assert (sb["msg_type"], sb["shipname"], sb["imo"], sb["callsign"], sb["to_bow_m"]) == (
        24, "GITANA", None, None, None)
    assert sb["ship_type"] == 37


def test_noaa_sentinels_become_null(noaa_bytes):
    r = _all(noaa_bytes, "noaa_csv")
    pos = r.positions
    # 367752440: COG 360.0 (n/a); 249651000: SOG 102.3 (n/a); 426 rows have heading 511
    assert pos.filter(pl.col("mmsi") == 367752440)["cog_deg"].to_list() == [None]
    assert pos.filter(pl.col("mmsi") == 367752440)["heading_deg"].to_list() == [95.0]
    assert pos.filter(pl.col("mmsi") == 249651000)["sog_kn"].to_list() == [None]
    assert pos["heading_deg"].null_count() == 426
    assert pos["cog_deg"].null_count() == 90
    assert pos["sog_kn"].null_count() == 4
    assert pos["heading_deg"].max() < 360 and pos["cog_deg"].max() < 360
    # empty Status -> null nav_status; empty IMO -> null
    assert r.statics.filter(pl.col("mmsi") == 367752440)["imo"].to_list() == [None]


def test_noaa_rejects_with_reason_and_line_number(noaa_bytes):
    lines = noaa_bytes.decode().splitlines()
    lines[3] = lines[3].replace("32.4042,", "95.0,")  # file line 4: 440058000, lat 95
    lines[5] = "123456789,not-a-time,10.0,10.0,1.0,2.0,3.0,X,,,70,0.0,,,,,A"  # line 6
    lines[7] = ",2023-01-11T00:00:00,10.0,10.0,1.0,2.0,3.0,X,,,70,0.0,,,,,A"  # line 8: no MMSI
    lines[9] = "1,2,3"  # line 10: wrong number of fields
    lines[11] = ""  # line 12: blank
    lines[13] = lines[13].replace(lines[13].split(",")[3] + ",", "181.0,", 1)  # line 14: n/a
    lines[15] = lines[15].replace(lines[15].split(",")[3] + ",", "-200.5,", 1)  # line 16
    data = ("\n".join(lines) + "\n").encode()
    r = _all(data, "noaa_csv", source="noaa.csv")
    rej = r.rejects.select("line_no", "reason").rows()
    assert rej == [
        (4, "position_out_of_range"), (6, "bad_row"), (8, "bad_row"), (10, "bad_row"),
        (12, "blank"), (16, "position_out_of_range"),
    ]
    assert r.lines_read == 1000 and r.lines_decoded == 994
    first = r.rejects.row(0, named=True)
    assert first["source"] == "noaa.csv"
    assert first["raw"].startswith("440058000,2023-01-11T00:00:01,95.0,")
    assert first["ts"] == datetime(2023, 1, 11, 0, 0, 1, tzinfo=UTC)
    assert r.rejects.filter(pl.col("line_no") == 10)["raw"].to_list() == ["1,2,3"]
    # line 14: lon 181 is "not available", not out of range
    mmsi14 = int(lines[13].split(",")[0])
    assert r.positions.filter(pl.col("mmsi") == mmsi14)["lon"].to_list() == [None]
    assert 440058000 not in r.positions["mmsi"] and 440058000 not in r.statics["mmsi"]


def test_chunked_equals_whole(noaa_bytes):
    whole = _all(noaa_bytes, "noaa_csv")
    chunks = list(read_provider(io.BytesIO(noaa_bytes), "noaa_csv", "t", chunk_rows=100))
    assert [c.lines_read for c in chunks] == [100] * 10
    joined = IngestResult.concat(chunks)
    assert joined.positions.equals(whole.positions)
    assert joined.statics.equals(whole.statics)


def test_chunked_line_numbers_across_chunks(noaa_bytes):
    lines = noaa_bytes.decode().splitlines()
    for i in (150, 151, 777):  # file lines 151, 152, 778
        lines[i] = "bad,row"
    lines[500] = lines[500].replace(lines[500].split(",")[2] + ",", "-99.0,", 1)  # line 501
    data = ("\n".join(lines) + "\n").encode()
    whole = _all(data, "noaa_csv")
    chunked = _all(data, "noaa_csv", chunk_rows=100)
    expected = [(151, "bad_row"), (152, "bad_row"), (501, "position_out_of_range"),
                (778, "bad_row")]
    assert whole.rejects.select("line_no", "reason").rows() == expected
    assert chunked.rejects.select("line_no", "reason").rows() == expected
    assert chunked.positions.equals(whole.positions)


def test_header_tolerance_bom_quotes_case_and_crlf():
    header = '\ufeff"mmsi", "basedatetime" ,"LAT","lon","SOG","COG","Heading","TransceiverClass"'
    row = "211000001,2023-01-11T05:06:07,54.5,10.25,12.3,45.6,511,B"
    data = (header + "\r\n" + row + "\r\n").encode()
    assert sniff(data, "x.csv") == "noaa_csv"
    r = _all(data, "noaa_csv")
    p = r.positions.row(0, named=True)
    assert (p["mmsi"], p["lat"], p["lon"], p["heading_deg"], p["ais_class"]) == (
        211000001, 54.5, 10.25, None, "B")
    assert p["ts"] == datetime(2023, 1, 11, 5, 6, 7, tzinfo=UTC)
    assert r.statics.height == 0  # no identity columns at all


# -- DMA ------------------------------------------------------------------------------------------

DMA_ROWS = [
    "01/02/2023 13:45:07,Class A,219000123,55.676100,12.568300,Under way using engine,0.0,11.2,"
    "87.4,88,9123456,OXAB2,NORDIC STAR,Cargo,Category X,20,120,GPS,6.5,AARHUS,03/02/2023 08:00:00,"
    "AIS,100,20,10,10",
    "01/02/2023 13:45:08,Class A,219000456,91.000000,181.000000,At anchor,,102.3,360.0,511,"
    "Unknown,Unknown,Unknown,Undefined,,,,Undefined,,Unknown,,AIS,,,,",
    "01/02/2023 13:45:09,Class B,211888777,54.100000,10.900000,Unknown value,,4.0,180.0,,Unknown,"
    "DK1234,SEA BREEZE,Sailing,No additional information,3,10,Undefined,,Unknown,,AIS,6,4,1,2",
    "01/02/2023 13:45:10,Base Station,2190068,55.5,11.0,Unknown value,,,,,Unknown,Unknown,Unknown,"
    "Undefined,,,,Surveyed,,Unknown,,AIS,,,,",
    "01/02/2023 13:45:11,Class A,219000789,55.0,12.0,Engaged in fishing,,3.1,200.0,199,Unknown,"
    "OUFJ,FISKER,Fishing,,7,24,GPS,4.0,Unknown,,AIS,18,6,3,4",
    "32/13/2023 99:00:00,Class A,219000999,55.0,12.0,Moored,,0,0,0,Unknown,X,Y,Tug,,,,,,,,AIS,,,,",
    "01/02/2023 13:45:12,AtoN,992191234,55.2,12.2,Unknown value,,,,,Unknown,Unknown,BUOY 7,"
    "Undefined,,,,Surveyed,,Unknown,,AIS,,,,",
    "01/02/2023 13:45:13,Class A,219000321,-90.5,12.0,Moored,,0,0,0,Unknown,X,Y,Tug,,,,,,,,AIS,,,,",
]


def _dma_bytes() -> bytes:
    return ("\n".join([DMA_HEADER, *DMA_ROWS]) + "\n").encode()


def test_dma_decodes():
    r = _all(_dma_bytes(), "dma_csv", source="aisdk.csv")
    assert (r.lines_read, r.lines_decoded) == (8, 6)
    assert r.rejects.select("line_no", "reason").rows() == [
        (7, "bad_row"), (9, "position_out_of_range")]
    pos = {d["mmsi"]: d for d in r.positions.to_dicts()}
    a = pos[219000123]
    assert a["ts"] == datetime(2023, 2, 1, 13, 45, 7, tzinfo=UTC)
    assert (a["lat"], a["lon"], a["nav_status"], a["msg_type"], a["ais_class"]) == (
        55.6761, 12.5683, 0, 1, "A")
    assert a["sog_kn"] == pytest.approx(11.2, abs=1e-5) and a["heading_deg"] == 88
    assert a["rot_deg_min"] == 0.0
    na = pos[219000456]  # every n/a sentinel
    assert [na[k] for k in ("lat", "lon", "sog_kn", "cog_deg", "heading_deg", "nav_status")] == [
        None, None, None, None, None, 1]
    assert (pos[211888777]["ais_class"], pos[211888777]["nav_status"]) == ("B", 15)
    assert (pos[2190068]["ais_class"], pos[2190068]["msg_type"]) == ("base", 4)
    assert pos[219000789]["nav_status"] == 7
    assert (pos[992191234]["ais_class"], pos[992191234]["msg_type"]) == ("aton", 21)

    st = {d["mmsi"]: d for d in r.statics.to_dicts()}
    s = st[219000123]
    assert (s["msg_type"], s["imo"], s["callsign"], s["shipname"]) == (5, 9123456, "OXAB2",
                                                                       "NORDIC STAR")
    assert s["ship_type"] == 71  # Cargo + Category X
    assert (s["to_bow_m"], s["to_stern_m"], s["to_port_m"], s["to_starboard_m"]) == (
        100, 20, 10, 10)
    assert s["draught_m"] == 6.5 and s["destination"] == "AARHUS"
    assert s["eta"] == "02-03T08:00" and s["epfd"] == 1
    assert 219000456 not in st  # "Unknown" everywhere: no identity, no statics row
    b = st[211888777]
    assert (b["msg_type"], b["imo"], b["ship_type"], b["to_bow_m"], b["destination"]) == (
        24, None, 36, 6, None)
    assert st[219000789]["ship_type"] == 30
    assert (st[992191234]["msg_type"], st[992191234]["shipname"]) == (21, "BUOY 7")
    assert 2190068 not in st  # base station: fixing device only, not an identity


def test_dma_chunked_and_file_object():
    whole = _all(_dma_bytes(), "dma_csv")
    chunked = _all(io.BytesIO(_dma_bytes()), "dma_csv", chunk_rows=3)
    assert chunked.positions.equals(whole.positions)
    assert chunked.rejects.select("line_no", "reason").equals(whole.rejects.select("line_no",
                                                                                   "reason"))


# -- Parquet --------------------------------------------------------------------------------------


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


def test_parquet_round_trip(noaa_bytes, tmp_path):
    pos = _all(noaa_bytes, "noaa_csv").positions
    path = tmp_path / "pos.parquet"
    pos.write_parquet(path)
    assert sniff(path.read_bytes()[:4096], "pos.parquet") == "parquet"
    back = _all(path, "parquet", chunk_rows=300)
    assert back.positions.equals(pos)
    assert (back.lines_read, back.lines_decoded) == (1000, 1000)


def test_parquet_subset_and_checks():
    df = pl.DataFrame({
        "mmsi": [1, None, 3, 4],
        "ts": [datetime(2024, 1, 1)] * 4,  # naive -> read as UTC
        "lat": [10.0, 10.0, 95.0, 91.0],
        "lon": [20.0, 20.0, 20.0, 181.0],
    })
    r = _all(_parquet(df), "parquet")
    assert r.positions["mmsi"].to_list() == [1, 4]
    assert r.positions["ts"].to_list() == [datetime(2024, 1, 1, tzinfo=UTC)] * 2
    assert r.positions.row(1, named=True)["lat"] is None
    assert r.rejects.select("line_no", "reason").rows() == [(2, "bad_row"),
                                                            (3, "position_out_of_range")]


def test_parquet_unknown_columns_raise():
    with pytest.raises(SeawatchError, match="speed"):
        list(read_provider(_parquet(pl.DataFrame({"mmsi": [1], "speed": [2.0]})), "parquet", "x"))


# -- sniff and misuse -----------------------------------------------------------------------------


def test_sniff():
    assert sniff(NOAA_HEADER.encode() + b"\n1,2", "a.csv") == "noaa_csv"
    assert sniff(b'\xef\xbb\xbf"MMSI","BaseDateTime","LAT","LON"\n', "a.csv") == "noaa_csv"
    assert sniff(DMA_HEADER.encode() + b"\n", "aisdk.csv") == "dma_csv"
    assert sniff(DMA_HEADER.upper().replace(",", ", ").encode(), "aisdk.csv") == "dma_csv"
    assert sniff(b"PAR1\x15\x04", "x.parquet") == "parquet"
    assert sniff(b"!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24\n", "x.nmea") == "nmea"
    assert sniff(b"\\s:rORBCOMM000,c:1635731887*45\\!AIVDM,1,1,,,B,x,0*00\n", "x") == "nmea"
    assert sniff(b"$PGHP,1,2009,1,1,0,0,0,0,219,,,1,09*1D\n", "x") == "nmea"
    assert sniff(b"", "empty") == "nmea"
    assert sniff(b"garbage\x00\x01", "x") == "nmea"


def test_sniff_unknown_csv_header():
    with pytest.raises(SeawatchError, match="NOAA") as e:
        sniff(b"MMSI,Message_ID,Repeat_indicator,Time,Longitude,Latitude\n1,2,3,4,5,6\n", "w.csv")
    assert "\n" not in str(e.value)
    if DATA.is_dir():  # the real wide AISdb table is not a supported format
        with pytest.raises(SeawatchError):
            sniff((DATA / "aisdb-testdata" / "test_data_20210701.csv").read_bytes()[:4096], "w")


def test_misuse_raises():
    with pytest.raises(SeawatchError, match="not dma_csv"):
        list(read_provider(NOAA_HEADER.encode() + b"\n", "dma_csv", "x"))
    with pytest.raises(SeawatchError, match="NMEA decoder"):
        read_provider(b"", "nmea", "x")
    with pytest.raises(SeawatchError, match="unknown provider format"):
        read_provider(b"", "xls", "x")
    with pytest.raises(SeawatchError, match="no such file"):
        list(read_provider("/nonexistent/file.csv", "noaa_csv", "x"))
    assert list(read_provider(b"", "noaa_csv", "x")) == []
    assert list(read_provider(NOAA_HEADER.encode() + b"\n", "noaa_csv", "x")) == []


def test_invalid_utf8_is_escaped_not_fatal():
    data = (NOAA_HEADER.encode() + b"\n1,2,\xff\n"
            b"211000001,2023-01-11T05:06:07,54.5,10.25,12.3,45.6,511,S\xf8LVI \xc3\xb8,,,,,,,,,B\n")
    r = _all(data, "noaa_csv")
    assert r.rejects.select("line_no", "reason", "raw").rows() == [(2, "bad_row", "1,2,\\xff")]
    assert r.statics["shipname"].to_list() == ["S\\xf8LVI \u00f8"]  # valid UTF-8 kept as is
