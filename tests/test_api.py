"""The public surface: seawatch.__all__ and the schema contract."""

import polars as pl
import pytest

import seawatch
from seawatch import schema
from seawatch.errors import SeawatchError


def test_all_names_exist_and_nothing_public_is_missing():
    for name in seawatch.__all__:
        assert hasattr(seawatch, name), name
    assert sorted(seawatch.__all__) == sorted(set(seawatch.__all__))
    for needed in ("decode_nmea", "NmeaDecoder", "IngestResult", "Store", "SeawatchError", "schema",
                   "build_tracks", "materialise_tracks", "evaluate"):
        assert needed in seawatch.__all__
    # the stages are packages with their functions inside: detect, zones, simulate
    from seawatch import detect, simulate, zones

    assert callable(detect.detect) and callable(detect.run_detect)
    assert callable(zones.lookup) and callable(simulate.simulate)
    # the ingest package is reachable as a namespace, its function inside it
    assert callable(seawatch.ingest.ingest)


def test_decoded_tables_match_the_schema_exactly():
    r = seawatch.decode_nmea(
        b"\\s:niigata,c:1717200000*00\\!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23\n"
        b"!AIVDM,2,1,3,B,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E\n"
        b"!AIVDM,2,2,3,B,1@0000000000000,2*55\n"
        b"garbage\n"
    )
    for name, df in r.tables().items():
        assert df.schema == schema.polars_schema(name), name
    assert r.positions.height == 1 and r.statics.height == 1 and r.rejects.height == 1


def test_conform_refuses_invented_columns():
    with pytest.raises(SeawatchError, match="not in the positions schema"):
        schema.conform("positions", pl.DataFrame({"mmsi": [1], "speed": [3.0]}))
    with pytest.raises(SeawatchError, match="unknown table"):
        schema.columns("tracks_xyz")


def test_every_reject_reason_is_documented():
    assert schema.SKIPPED_REASONS <= set(schema.REJECT_REASONS)
    from seawatch.ingest import nmea

    assert set(nmea._REASONS) <= set(schema.REJECT_REASONS)
