"""Property tests of the NMEA decoder (hypothesis), plus time sources and receiver duplicates.

* encode with pyais, decode with seawatch: every field seawatch keeps equals the input after
  scaling, for every decoded type (1, 2, 3, 4, 5, 9, 18, 19, 21, 24A, 24B, 27);
* arbitrary bytes never crash ingest and every line is accounted for, in one call or fed in
  random splits;
* splitting valid input at arbitrary byte positions across ``feed`` calls gives the same tables.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import polars as pl
import pytest

hypothesis = pytest.importorskip("hypothesis")
pytest.importorskip("pyais")

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from pyais.constants import EpfdType, ShipType
from pyais.encode import ais_to_nmea_0183, encode_dict
from pyais.messages import from_turn

from seawatch import schema
from seawatch.ingest.nmea import NmeaDecoder, decode_nmea
from seawatch.testing import (
    SIXBIT_TEXT,
    count_lines,
    join_lines,
    nmea_line,
    nmea_lines,
    sentence,
    tag_block,
)

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    # no shrinking: it can take minutes on this decoder; failures print the generated input
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SPLIT_SETTINGS = settings(SETTINGS, max_examples=100)

# ---------------------------------------------------------------------------------------------
# field strategies within ITU-R M.1371 ranges; each message strategy yields
# (pyais field dict, expected positions row or None, expected statics row or None, extra_ok)

TEXT = SIXBIT_TEXT.replace("@", "")  # '@' is the pad/terminator, not text
f32 = lambda v: None if v is None else float(np.float32(v))

mmsi_st = st.integers(100_000_000, 999_999_999)
lat_raw_st = st.one_of(st.integers(-54_000_000, 54_000_000), st.just(91 * 600_000))
lon_raw_st = st.one_of(st.integers(-108_000_000, 108_000_000), st.just(181 * 600_000))
sog_raw_st = st.integers(0, 1023)  # 0.1 kn, 1023 = n/a
cog_raw_st = st.integers(0, 3600)  # 0.1 deg, 3600 = n/a
heading_st = st.one_of(st.integers(0, 359), st.just(511))
second_st = st.integers(0, 63)
rot_raw_st = st.integers(-128, 127)  # -128 = n/a
# pyais encodes only the ship types and EPFD codes its enums name (others become 0)
ship_type_st = st.sampled_from(sorted({0} | {v for v in range(1, 256) if int(ShipType.from_value(v)) == v}))
epfd_st = st.sampled_from([v for v in range(16) if int(EpfdType.from_value(v)) == v])
dims_st = st.tuples(st.integers(0, 511), st.integers(0, 511), st.integers(0, 63), st.integers(0, 63))


def text_st(n: int, min_size: int = 0):
    return st.text(TEXT, min_size=min_size, max_size=n)


def trimmed(s: str) -> str | None:
    s = s.rstrip(" ")
    return s or None


def turn_value(raw: int) -> float:
    """The pyais ``turn`` (deg/min) that encodes to ROT_AIS ``raw``."""
    if raw in (0, 127, -127, -128):
        return raw
    v = math.copysign((abs(raw) / 4.733) ** 2, raw)
    assert from_turn(v) == raw
    return v


def rot_expected(raw: int) -> float | None:
    return None if raw == -128 else f32(np.sign(raw) * (raw / 4.733) ** 2)


def pos_row(mmsi, t, cls, lat_raw, lon_raw, scale, **kw) -> dict:
    na = lat_raw == 91 * scale or lon_raw == 181 * scale  # a half-known position is no position
    row = dict.fromkeys(c.name for c in schema.POSITIONS)
    row.update(
        mmsi=mmsi,
        msg_type=t,
        ais_class=cls,
        lat=None if na else lat_raw / scale,
        lon=None if na else lon_raw / scale,
        n_rx=1,
    )
    row.update(kw)
    return row


def dims_expected(d) -> dict:
    return {k: (v or None) for k, v in zip(("to_bow_m", "to_stern_m", "to_port_m", "to_starboard_m"), d)}


def dims_dict(d) -> dict:
    return dict(zip(("to_bow", "to_stern", "to_port", "to_starboard"), d))


def static_row(mmsi, t, **kw) -> dict:
    row = dict.fromkeys(c.name for c in schema.STATICS)
    row.update(mmsi=mmsi, msg_type=t, n_rx=1)
    row.update(kw)
    return row


@st.composite
def class_a(draw):
    t = draw(st.sampled_from([1, 2, 3]))
    mmsi, lat, lon = draw(mmsi_st), draw(lat_raw_st), draw(lon_raw_st)
    status, rot, sog, cog = draw(st.integers(0, 15)), draw(rot_raw_st), draw(sog_raw_st), draw(cog_raw_st)
    hdg, sec, acc = draw(heading_st), draw(second_st), draw(st.booleans())
    d = dict(type=t, msg_type=t, mmsi=mmsi, status=status, turn=turn_value(rot), speed=sog / 10, accuracy=acc,
             lon=lon / 600_000, lat=lat / 600_000, course=cog / 10, heading=hdg, second=sec)
    exp = pos_row(mmsi, t, "A", lat, lon, 600_000, sog_kn=None if sog == 1023 else f32(sog / 10),
                  cog_deg=None if cog == 3600 else f32(cog / 10), heading_deg=None if hdg == 511 else f32(hdg),
                  rot_deg_min=rot_expected(rot), nav_status=status, pos_accuracy=acc, utc_second=sec)
    return d, exp, None, True


@st.composite
def base_station(draw):
    mmsi, lat, lon, acc, sec = draw(mmsi_st), draw(lat_raw_st), draw(lon_raw_st), draw(st.booleans()), draw(second_st)
    d = dict(type=4, mmsi=mmsi, year=draw(st.integers(0, 16383)), month=draw(st.integers(0, 12)),
             day=draw(st.integers(0, 31)), hour=draw(st.integers(0, 24)), minute=draw(st.integers(0, 60)),
             second=sec, accuracy=acc, lon=lon / 600_000, lat=lat / 600_000)
    return d, pos_row(mmsi, 4, "base", lat, lon, 600_000, pos_accuracy=acc, utc_second=sec), None, True


@st.composite
def sar(draw):
    mmsi, lat, lon, acc, sec = draw(mmsi_st), draw(lat_raw_st), draw(lon_raw_st), draw(st.booleans()), draw(second_st)
    alt, sog, cog = draw(st.integers(0, 4095)), draw(st.integers(0, 1023)), draw(cog_raw_st)
    d = dict(type=9, mmsi=mmsi, alt=alt, speed=sog, accuracy=acc, lon=lon / 600_000, lat=lat / 600_000,
             course=cog / 10, second=sec)
    # type 9 speed is in whole knots: 0-1022 (1022 = 1022 kn or more), 1023 = n/a
    exp = pos_row(mmsi, 9, "sar", lat, lon, 600_000, sog_kn=None if sog == 1023 else f32(sog),
                  cog_deg=None if cog == 3600 else f32(cog / 10), pos_accuracy=acc, utc_second=sec,
                  altitude_m=None if alt == 4095 else f32(alt))
    return d, exp, None, True


@st.composite
def class_b(draw):
    t = draw(st.sampled_from([18, 19]))
    mmsi, lat, lon = draw(mmsi_st), draw(lat_raw_st), draw(lon_raw_st)
    sog, cog, hdg, sec, acc = draw(sog_raw_st), draw(cog_raw_st), draw(heading_st), draw(second_st), draw(st.booleans())
    d = dict(type=t, mmsi=mmsi, speed=sog / 10, accuracy=acc, lon=lon / 600_000, lat=lat / 600_000,
             course=cog / 10, heading=hdg, second=sec)
    exp = pos_row(mmsi, t, "B", lat, lon, 600_000, sog_kn=None if sog == 1023 else f32(sog / 10),
                  cog_deg=None if cog == 3600 else f32(cog / 10), heading_deg=None if hdg == 511 else f32(hdg),
                  pos_accuracy=acc, utc_second=sec)
    srow = None
    if t == 19:
        name, stype, dims, epfd = draw(text_st(20)), draw(ship_type_st), draw(dims_st), draw(epfd_st)
        d.update(shipname=name, ship_type=stype, epfd=epfd, **dims_dict(dims))
        srow = static_row(mmsi, 19, shipname=trimmed(name), ship_type=stype or None, epfd=epfd, **dims_expected(dims))
    return d, exp, srow, True


@st.composite
def aton(draw):
    mmsi, lat, lon, acc, sec = draw(mmsi_st), draw(lat_raw_st), draw(lon_raw_st), draw(st.booleans()), draw(second_st)
    aid, dims, epfd = draw(st.integers(0, 31)), draw(dims_st), draw(epfd_st)
    ext = draw(st.one_of(st.none(), text_st(14, min_size=1)))
    # with an extension, the name field holds the first 20 characters of the full name
    name = draw(text_st(20, min_size=20 if ext else 0))
    d = dict(type=21, mmsi=mmsi, aid_type=aid, name=name, accuracy=acc, lon=lon / 600_000, lat=lat / 600_000,
             epfd=epfd, second=sec, **dims_dict(dims))
    if ext:
        d["name_ext"] = ext
    exp = pos_row(mmsi, 21, "aton", lat, lon, 600_000, pos_accuracy=acc, utc_second=sec)
    srow = static_row(mmsi, 21, aid_type=aid, shipname=trimmed(name + (ext or "")), epfd=epfd, **dims_expected(dims))
    return d, exp, srow, False  # bits after 272 are the name extension: no extra payload


@st.composite
def long_range(draw):
    mmsi, acc, status = draw(mmsi_st), draw(st.booleans()), draw(st.integers(0, 15))
    lat = draw(st.one_of(st.integers(-54_000, 54_000), st.just(91 * 600)))
    lon = draw(st.one_of(st.integers(-108_000, 108_000), st.just(181 * 600)))
    sog = draw(st.integers(0, 63))  # knots, 63 = n/a
    cog = draw(st.one_of(st.integers(0, 359), st.just(511)))  # degrees, 511 = n/a
    d = dict(type=27, mmsi=mmsi, accuracy=acc, status=status, lon=lon / 600, lat=lat / 600, speed=sog, course=cog)
    exp = pos_row(mmsi, 27, "lr", lat, lon, 600, sog_kn=None if sog == 63 else f32(sog),
                  cog_deg=None if cog == 511 else f32(cog), nav_status=status, pos_accuracy=acc, utc_second=60)
    return d, exp, None, True


@st.composite
def static_voyage(draw):
    mmsi = draw(mmsi_st)
    ver, imo, cs, name = draw(st.integers(0, 3)), draw(st.integers(0, 2**30 - 1)), draw(text_st(7)), draw(text_st(20))
    stype, dims, epfd = draw(ship_type_st), draw(dims_st), draw(epfd_st)
    mo, dy, hr, mi = draw(st.integers(0, 15)), draw(st.integers(0, 31)), draw(st.integers(0, 24)), draw(st.integers(0, 60))
    dr, dest = draw(st.integers(0, 255)), draw(text_st(20))
    d = dict(type=5, mmsi=mmsi, ais_version=ver, imo=imo, callsign=cs, shipname=name, ship_type=stype, epfd=epfd,
             month=mo, day=dy, hour=hr, minute=mi, draught=dr / 10, destination=dest, **dims_dict(dims))
    eta = f"{mo:02d}-{dy:02d}T{hr:02d}:{mi:02d}" if 1 <= mo <= 12 and dy > 0 else None
    srow = static_row(mmsi, 5, ais_version=ver, imo=imo or None, callsign=trimmed(cs), shipname=trimmed(name),
                      ship_type=stype or None, epfd=epfd, eta=eta, draught_m=None if dr == 0 else f32(dr / 10),
                      destination=trimmed(dest), **dims_expected(dims))
    return d, None, srow, True


@st.composite
def class_b_static(draw):
    part = draw(st.sampled_from([0, 1]))
    if part == 0:
        mmsi, name = draw(mmsi_st), draw(text_st(20))
        d = dict(type=24, mmsi=mmsi, partno=0, shipname=name)
        return d, None, static_row(mmsi, 24, part_num=0, shipname=trimmed(name)), True
    aux = draw(st.booleans())
    mmsi = draw(st.integers(980_000_000, 989_999_999) if aux else mmsi_st)
    stype, cs = draw(ship_type_st), draw(text_st(7))
    d = dict(type=24, mmsi=mmsi, partno=1, ship_type=stype, vendorid=draw(text_st(3)),
             model=draw(st.integers(0, 15)), serial=draw(st.integers(0, 2**20 - 1)), callsign=cs)
    row = static_row(mmsi, 24, part_num=1, ship_type=stype or None, callsign=trimmed(cs))
    if aux:  # auxiliary craft: the dimension bits carry the mother ship's MMSI
        mother = draw(st.one_of(st.just(0), mmsi_st))
        d["mothership_mmsi"] = mother
        row["mothership_mmsi"] = mother or None
    else:
        dims = draw(dims_st)
        d.update(dims_dict(dims))
        row.update(dims_expected(dims))
    return d, None, row, True


MESSAGE = st.one_of(class_a(), base_station(), sar(), class_b(), aton(), long_range(), static_voyage(),
                    class_b_static())
EPOCH = st.integers(946_684_800, 4_102_444_799)  # 2000 .. 2099
STATION = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)


@st.composite
def encoded_message(draw, seq_id: int):
    """(lines, expected position row, expected static row) of one message, maybe tag-blocked."""
    d, prow, srow, extra_ok = draw(MESSAGE)
    when = draw(st.one_of(st.none(), EPOCH))
    ms = draw(st.booleans())
    station = draw(st.one_of(st.none(), STATION))
    extra = draw(st.text(ARMOUR, max_size=10)) if extra_ok else ""
    if extra:
        # receivers see longer payloads; bits past the message's last field are ignored
        sents = encode_dict(d, talker_id="AI", sentence_type="VDM", radio_channel="A")
        payload = "".join(s.split(",")[5] for s in sents) + extra
        sents = ais_to_nmea_0183(payload, "AI", "VDM", "A", 0, seq_id=seq_id)
        tb = tag_block(station=station, time=when, ms=ms)
        lines = [tb + s for s in sents]
    else:
        lines = nmea_lines(d, tagblock_time=when, station=station, ms=ms, seq_id=seq_id)
    ts = None if when is None else datetime.fromtimestamp(when, timezone.utc)
    for row in (prow, srow):
        if row is not None:
            row.update(ts=ts, station=station)
    return lines, prow, srow


#: the 64 characters of an armoured payload
ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


@st.composite
def encoded_batch(draw):
    n = draw(st.integers(1, 6))
    return [draw(encoded_message(seq_id=i % 10)) for i in range(n)]


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    return schema.conform(table, pl.DataFrame(rows, schema=schema.polars_schema(table)))


def rows_of(df: pl.DataFrame) -> list[dict]:
    return sorted(df.to_dicts(), key=lambda r: [repr(v) for v in r.values()])


# ---------------------------------------------------------------------------------------------
# round trip


#: found by this test: a 2-part type 5 one character longer than usual, then a normal one
T5 = "51OGQ0000000000000000000000000000000000000000000000000000000"
LONGER_THEN_NORMAL_TYPE5 = [
    ([f"!AIVDM,2,1,0,A,{T5},0*78", "!AIVDM,2,2,0,A,000000000000,0*16"], None,
     static_row(100_000_000, 5, ais_version=0, epfd=0)),
    ([f"!AIVDM,2,1,1,A,{T5},0*79", "!AIVDM,2,2,1,A,00000000000,2*25"], None,
     static_row(100_000_000, 5, ais_version=0, epfd=0)),
]


@SETTINGS
@given(encoded_batch())
@example(LONGER_THEN_NORMAL_TYPE5)
def test_pyais_encode_seawatch_decode_round_trips(batch):
    lines = [ln for msg_lines, _, _ in batch for ln in msg_lines]
    data = join_lines(lines)
    r = decode_nmea(data, dedup=False)
    assert r.rejects.height == 0, r.rejects.to_dicts()
    assert r.lines_read == r.lines_decoded == len(lines)
    exp_pos = frame("positions", [p for _, p, _ in batch if p is not None])
    exp_st = frame("statics", [s for _, _, s in batch if s is not None])
    assert rows_of(r.positions) == rows_of(exp_pos)
    assert rows_of(r.statics) == rows_of(exp_st)
    assert r.other.height == 0


def test_type9_speed_is_whole_knots_up_to_1022():
    """ITU-R M.1371 type 9: SOG in 1-knot steps, 0-1022 (1022 = 1022 kn or higher), 1023 = n/a."""
    data = join_lines(nmea_line({"type": 9, "mmsi": 111222333, "speed": s, "alt": 300}) for s in (0, 102, 103, 250, 1022, 1023))
    r = decode_nmea(data, dedup=False)
    assert r.positions["sog_kn"].to_list() == [0.0, 102.0, 103.0, 250.0, 1022.0, None]


def test_type21_name_extension_continues_the_name():
    """ITU-R M.1371 type 21: the extension continues the 20-character name field, spaces and all."""
    line = nmea_line({"type": 21, "mmsi": 992345678, "name": "NORTH PIER LIGHT NO ", "name_ext": "12"})
    r = decode_nmea(line + "\n", dedup=False)
    assert r.statics["shipname"].to_list() == ["NORTH PIER LIGHT NO 12"]


def test_context_does_not_change_a_message():
    """The real bad-type5.nmea sample: a 2-part type 5 with extra payload characters before
    another type 5 must not shift the second message's bits (decoded alone vs together)."""
    pairs = [
        ("53l3sj42A590=5Q2220UHE:04=@Ttr222222221@9HH>46ii0=D532Dp?`1D", "888888888888880", 2),
        ("539NW<`00000@KGGOT08DhhE`40000000000000D8h:35vT<05@CU5iDT888", "00000000003Sg0", 0),
    ]
    lines = []
    for i, (p1, p2, fill) in enumerate(pairs):
        lines += [sentence(p1, 0, count=2, num=1, seq=i), sentence(p2, fill, count=2, num=2, seq=i)]
    together = decode_nmea(join_lines(lines), dedup=False).statics
    alone = pl.concat([decode_nmea(join_lines(lines[i : i + 2]), dedup=False).statics for i in (0, 2)])
    assert together.to_dicts() == alone.to_dicts()
    assert together.select("mmsi", "shipname", "callsign", "destination").rows() == [
        (255917000, "IVER ACTION", "CQXP", "PTLIS > EP"),
        (211265330, "BELLEZA", "DF5579", "ANTWERP"),
    ]


# ---------------------------------------------------------------------------------------------
# arbitrary bytes: never crash, every line accounted for

VALID = [
    b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23",
    b"!AIVDM,1,1,,B,H1mg=5@PDhht0000000000000000,0*7D",
    *(s.encode() for s in nmea_lines({"type": 5, "mmsi": 244670316, "shipname": "ZEEMEEUW", "callsign": "PD4523"}, seq_id=3)),
    (tag_block(station="rx1", time=1_700_000_000) + "!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23").encode(),
    b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23,s22,d-99,r003669946,1325394060",
    b"$PGHP,1,2010,6,11,11,46,11,390,219,,1,17*0A",
]
PIECES = [
    b"!AIVDM,", b"!BSVDO,", b"!AIVDM,2,1,7,A,", b"!AIVDM,2,2,7,B,", b"!AIVDM,1,1,,A,", b",0*", b"*",
    b"*00", b",", b"\\", b"\\g:1-2-77,c:1700000000*", b"\\s:", b"c:1700000000000", b"\n", b"\r\n", b"\r",
    b"#", b"$GPGGA,1", b"$PGHP,1,2010,2,30,1,1,1,1", b"1541030311.123 ", b"2024-06-01T12:00:00Z ",
    b"\x00", b"\xff\xfe", b"\xc3\xa9", b" ", b"\t", b"13HOI:0P0000VOHLCnHQKwvL05Ip", b"~", b"0", b"w", b"x",
]
soup = st.lists(
    st.one_of(st.sampled_from(VALID), st.sampled_from(PIECES), st.binary(max_size=12),
              st.sampled_from(VALID).flatmap(lambda s: st.integers(0, len(s)).map(lambda k: s[:k]))),
    max_size=60,
).map(b"".join)
any_bytes = st.one_of(st.binary(max_size=600), soup)


def check_accounting(results, data: bytes) -> None:
    for r in results:
        assert r.lines_read == r.lines_decoded + r.rejects.height
        assert set(r.rejects["reason"].unique()) <= set(schema.REJECT_REASONS)
        assert r.positions.schema == schema.polars_schema("positions")
        assert r.rejects.schema == schema.polars_schema("rejects")
    assert sum(r.lines_read for r in results) == count_lines(data)
    line_nos = pl.concat([r.rejects["line_no"] for r in results])
    assert line_nos.is_unique().all()
    assert line_nos.is_between(1, count_lines(data)).all()


def feed_in_pieces(data: bytes, cuts: list[int], dedup: bool = True):
    dec = NmeaDecoder("<split>", dedup=dedup)
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    out = [dec.feed(data[a:b]) for a, b in zip(bounds, bounds[1:])]
    out.append(dec.finish())
    return out


def sorted_tables(results) -> dict[str, list[dict]]:
    from seawatch.ingest.result import IngestResult

    r = IngestResult.concat(results)
    return {name: rows_of(df.drop("source") if name == "rejects" else df) for name, df in r.tables().items()}


@SETTINGS
@given(any_bytes)
def test_arbitrary_bytes_never_crash_and_every_line_is_accounted_for(data):
    r = decode_nmea(data, source="fuzz")
    check_accounting([r], data)
    assert (r.rejects["source"] == "fuzz").all()


@SPLIT_SETTINGS
@given(any_bytes, st.lists(st.integers(0, 10_000), max_size=5))
def test_arbitrary_bytes_fed_in_random_splits(data, cuts):
    results = feed_in_pieces(data, cuts, dedup=False)
    check_accounting(results, data)
    one = decode_nmea(data, source="<split>", dedup=False)
    assert sorted_tables(results) == sorted_tables([one])


# ---------------------------------------------------------------------------------------------
# valid input split across feed calls: same tables as one call


@st.composite
def valid_stream(draw):
    batch = draw(encoded_batch())
    lines = [ln for msg_lines, _, _ in batch for ln in msg_lines]
    # repeat some messages as a second receiver would (same sentences, another station)
    for i in draw(st.lists(st.integers(0, len(batch) - 1), max_size=3)):
        tb = tag_block(station="rx2", time=draw(st.one_of(st.none(), EPOCH)))
        lines += [tb + ln.rsplit("\\", 1)[-1] for ln in batch[i][0]]
    return join_lines(lines, crlf=draw(st.booleans()))


@SPLIT_SETTINGS
@given(valid_stream(), st.lists(st.integers(0, 10_000), min_size=1, max_size=5))
def test_valid_input_split_anywhere_decodes_as_one_call(data, cuts):
    one = decode_nmea(data, source="<split>", dedup=False)
    assert one.rejects.height == 0
    results = feed_in_pieces(data, cuts, dedup=False)
    check_accounting(results, data)
    assert sorted_tables(results) == sorted_tables([one])


@SPLIT_SETTINGS
@given(valid_stream(), st.lists(st.integers(0, 10_000), min_size=1, max_size=5))
def test_receiver_duplicates_merge_across_feed_calls(data, cuts):
    """With dedup on, a reception and its duplicate in different chunks are still one row
    (only ``n_rx`` of a row emitted by an earlier call is not revised: documented)."""
    one = decode_nmea(data, source="<split>")
    results = feed_in_pieces(data, cuts)
    check_accounting(results, data)
    without_nrx = lambda t: {k: [{c: v for c, v in r.items() if c != "n_rx"} for r in rows] for k, rows in t.items()}
    assert without_nrx(sorted_tables(results)) == without_nrx(sorted_tables([one]))
    assert sum(r.duplicates for r in results) == one.duplicates


def test_a_message_heard_by_forty_receivers_is_one_row():
    """Groups of more than 32 copies are ordered by sorting, not by insertion (a second path);
    the earliest reception leads and ``n_rx`` counts them all."""
    line = nmea_line({"type": 1, "mmsi": 211000001, "lat": 10.0, "lon": 10.0})
    data = "".join(tag_block(station=f"rx{i}", time=1_700_000_002 - i % 3) + line + "\n" for i in range(40))
    r = decode_nmea(data.encode())
    assert r.positions.select("n_rx", "station").rows() == [(40, "rx2")]
    assert r.duplicates == 39


def test_far_future_timestamp_does_not_stop_cross_chunk_dedup():
    """One reception with a wild tag-block time must not evict the recent messages that later
    chunks are deduplicated against."""
    y = sentence(POS)
    lines = [tag_block(time=4_000_000_000) + sentence("H1mg=5@PDhht0000000000000000"),
             tag_block(station="a", time=1_700_000_000) + y, tag_block(station="b", time=1_700_000_001) + y]
    assert decode_nmea(join_lines(lines)).positions.height == 1
    dec = NmeaDecoder()
    results = [dec.feed(join_lines([ln])) for ln in lines] + [dec.finish()]
    assert sum(r.positions.height for r in results) == 1
    assert sum(r.duplicates for r in results) == 1


def test_type5_split_inside_each_fragment():
    lines = nmea_lines({"type": 5, "mmsi": 244670316, "shipname": "ZEEMEEUW", "destination": "ROTTERDAM"}, seq_id=1)
    data = join_lines(lines)
    one = decode_nmea(data, dedup=False)
    assert one.statics["shipname"].to_list() == ["ZEEMEEUW"]
    nl = data.index(b"\n")
    for cut in sorted({*range(0, len(data) + 1, 9), nl - 1, nl, nl + 1, len(data) - 1}):
        assert sorted_tables(feed_in_pieces(data, [cut], dedup=False)) == sorted_tables([one]), cut
    # byte by byte
    assert sorted_tables(feed_in_pieces(data, list(range(len(data))), dedup=False)) == sorted_tables([one])


# ---------------------------------------------------------------------------------------------
# time sources

POS = "13HOI:0P0000VOHLCnHQKwvL05Ip"  # type 1, MMSI 227006760
S = sentence(POS)


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def tag_block_reading(before: str) -> tuple[datetime | None, str | None]:
    """(time, station) of the tag block in ``before`` (a line's text up to its '!', ending with
    the block's closing backslash), by the rules the decoder documents, one character at a
    time: the last backslash before the closing one opens the block; a key is ``c``, ``s`` or
    ``g`` after the opening backslash or a ',', then ':'; its value runs to the next ',' or '*'
    or the block's end, at most 24 characters; ``c`` is 1-13 digits, seconds or (from 10**11)
    milliseconds, above zero; the last valid ``c`` and the last ``s`` win; an empty station is
    none."""
    end = len(before) - 1
    opened, c, station, key, vs = False, None, None, "", 0
    for j, ch in enumerate(before):
        if ch not in "\\,*:":
            continue
        if ch == "\\" and j < end:
            opened, c, station, key = True, None, None, ""
        elif ch == ":":
            if not key and j >= 2 and before[j - 2] in "\\," and before[j - 1] in "csg":
                key, vs = before[j - 1], j + 1
        elif key:
            value = before[vs:min(j, vs + 24)]
            if key == "c" and 1 <= len(value) <= 13 and value.isascii() and value.isdigit() and int(value) > 0:
                c = int(value)
            elif key == "s":
                station = value
            key = ""
    if not opened:
        return None, None
    when = None if c is None else datetime.fromtimestamp(c / 1000 if c >= 10**11 else c, timezone.utc)
    return when, station or None


TAG_TEXT = "abcsgx09:,*\\-"


@st.composite
def tag_blocks(draw):
    """The text before a sentence: half the time the usual block (``s:`` and ``c:``, either
    order, stations and digit strings of every length around the limits), else a block of
    random fields with separators inside values; sometimes after other text."""
    station = st.text("abcdefghijklmnopqrstuvwxyz0123456789:", min_size=0, max_size=26)
    digits = st.integers(0, 10**14).map(str) | st.text("0123456789x", max_size=15)
    if draw(st.booleans()):
        fields = [("s", draw(station)), ("c", draw(digits))]
        if draw(st.booleans()):
            fields.reverse()
    else:
        field = st.one_of(st.tuples(st.sampled_from("sc"), station), st.tuples(st.just("c"), digits),
                          st.tuples(st.sampled_from("scgdnx"), st.text(TAG_TEXT, max_size=30)))
        fields = draw(st.lists(field, min_size=0, max_size=4))
    body = ",".join(f"{k}:{v}" for k, v in fields)
    tail = draw(st.sampled_from(["*5A", "*0f", "*00", "*", "", "*zz", "*5"]))
    head = draw(st.sampled_from(["", "", "", "junk", "\\s:rx,", "x\\"]))
    return head + "\\" + body + tail + "\\"


@SETTINGS
@given(tag_blocks())
def test_any_tag_block_is_read_by_the_documented_rules(before):
    """The usual block goes a fast way through the scan and everything else the general way:
    both must read every block as the rules say."""
    r = decode_nmea((before + S + "\n").encode(), dedup=False)
    assert r.positions.select("ts", "station").rows() == [tag_block_reading(before)], before


@pytest.mark.parametrize(
    "line, expected",
    [
        (tag_block(time=1_700_000_000) + S, utc(2023, 11, 14, 22, 13, 20)),
        (tag_block(time=1_700_000_000.25, ms=True) + S, utc(2023, 11, 14, 22, 13, 20, 250_000)),
        (tag_block(station="rx7", time=1_325_394_060) + S, utc(2012, 1, 1, 5, 1)),
        (S + ",s22,d-99,r003669946,1325394060", utc(2012, 1, 1, 5, 1)),
        ("1541030311.123 " + S, utc(2018, 10, 31, 23, 58, 31, 123_000)),
        ("1541030311 " + S, utc(2018, 10, 31, 23, 58, 31)),
        ("2024-06-01T12:00:00Z " + S, utc(2024, 6, 1, 12)),
        ("2024-06-01T12:00:00.5Z " + S, utc(2024, 6, 1, 12, 0, 0, 500_000)),
        (S, None),
    ],
    ids=["tag-s", "tag-ms", "tag-station", "uscg", "epoch-prefix-frac", "epoch-prefix", "iso", "iso-frac", "untimed"],
)
def test_time_sources(line, expected):
    r = decode_nmea(line + "\n")
    assert r.rejects.height == 0
    assert r.positions["ts"].to_list() == [expected]
    assert r.positions["mmsi"].to_list() == [227006760]


def test_station_from_tag_block_and_uscg_field():
    r = decode_nmea(join_lines([tag_block(station="rx7", time=1_700_000_000) + S,
                                sentence("H1mg=5@PDhht0000000000000000") + ",s22,d-99,r003669946,1325394060"]))
    assert r.positions.select("station").to_series().to_list() == ["rx7"]
    assert r.statics["station"].to_list() == ["003669946"]


def test_pghp_stamps_the_following_vdm():
    r = decode_nmea(join_lines(["$PGHP,1,2010,6,11,11,46,11,390,219,,1,17*0A", S]))
    assert r.positions["ts"].to_list() == [utc(2010, 6, 11, 11, 46, 11, 390_000)]
    assert r.rejects.select("line_no", "reason").rows() == [(1, "non_ais_sentence")]
    assert r.lines_read == 2 and r.lines_decoded == 1


def test_tag_block_beats_line_prefix_and_pghp():
    r = decode_nmea(join_lines(["$PGHP,1,2010,6,11,11,46,11,390,219,,1,17*0A",
                                "1541030311 " + tag_block(time=1_700_000_000) + S]))
    assert r.positions["ts"].to_list() == [utc(2023, 11, 14, 22, 13, 20)]


def test_multipart_time_from_fragment_tag_blocks():
    lines = nmea_lines({"type": 5, "mmsi": 244670316, "shipname": "ZEEMEEUW"}, tagblock_time=1_700_000_000,
                       station="rx1", seq_id=4)
    r = decode_nmea(join_lines(lines))
    assert r.statics.select("ts", "station").rows() == [(utc(2023, 11, 14, 22, 13, 20), "rx1")]


# ---------------------------------------------------------------------------------------------
# receiver duplicates


def test_same_sentence_from_two_stations_two_seconds_apart_is_one_row():
    data = join_lines([tag_block(station="rxA", time=1_700_000_000) + S,
                       tag_block(station="rxB", time=1_700_000_002) + S])
    r = decode_nmea(data)
    assert r.positions.height == 1
    assert r.positions["n_rx"].to_list() == [2]
    assert r.positions["ts"].to_list() == [utc(2023, 11, 14, 22, 13, 20)]  # the first reception
    assert r.duplicates == 1
    assert r.lines_read == r.lines_decoded == 2 and r.rejects.height == 0
    r2 = decode_nmea(data, dedup=False)
    assert r2.positions.height == 2
    assert sorted(r2.positions["station"].to_list()) == ["rxA", "rxB"]
    assert r2.positions["n_rx"].to_list() == [1, 1]


def test_same_payload_twenty_minutes_apart_is_two_rows():
    data = join_lines([tag_block(station="rxA", time=1_700_000_000) + S,
                       tag_block(station="rxA", time=1_700_001_200) + S])
    r = decode_nmea(data)
    assert r.positions.height == 2
    assert r.positions["n_rx"].to_list() == [1, 1]
    assert r.duplicates == 0


def test_duplicate_type5_from_two_stations_is_one_row():
    a = nmea_lines({"type": 5, "mmsi": 244670316, "shipname": "ZEEMEEUW"}, tagblock_time=1_700_000_000,
                   station="rxA", seq_id=1)
    b = nmea_lines({"type": 5, "mmsi": 244670316, "shipname": "ZEEMEEUW"}, tagblock_time=1_700_000_001,
                   station="rxB", seq_id=5)
    r = decode_nmea(join_lines(a + b))
    assert r.statics.select("n_rx", "station").rows() == [(2, "rxA")]
    assert r.lines_read == r.lines_decoded == 4


@pytest.mark.parametrize("block, ts, station", [
    ("\\s:a,c:1700000000,s:b*00\\", 1_700_000_000, "b"),  # the block's last s: wins
    ("\\c:1700000000,c:x,c:1700000001*00\\", 1_700_000_001, None),  # its last valid c: wins
    ("\\c:1700000001,c:bad*00\\", 1_700_000_001, None),  # an invalid later c: does not override
    ("\\c:1600000000\\\\s:rx2,c:1700000000*00\\", 1_700_000_000, "rx2"),  # the last backslash opens it
    ("\\s:rx3\\", None, "rx3"),  # a value running to the block's end
    ("\\s:,c:1700000000\\", 1_700_000_000, None),  # an empty station is null
    ("\\x:1,s:ab:cd,c:17000:00000\\", None, "ab:cd"),  # ':' inside values
    ("\\s:" + "n" * 30 + ",c:1700000000*00\\", 1_700_000_000, "n" * 24),  # values capped at 24 chars
    ("\\g:1-2-77,c:1700000000000*00\\", 1_700_000_000, None),  # epoch in milliseconds
])
def test_tag_block_keys_edge_cases(block, ts, station):
    r = decode_nmea((block + "!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23\n").encode())
    want_ts = None if ts is None else datetime.fromtimestamp(ts, timezone.utc)
    assert r.positions.select("ts", "station").rows() == [(want_ts, station)]
