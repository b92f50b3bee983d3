"""seawatch's NMEA decoder against third-party corpora and decoders.

Expected values come from the third-party files in ``shared/data`` (each folder has a README with
its origin), never from seawatch itself:

* gpsd's ``test/sample.aivdm`` with gpsdecode's expected output (``sample.aivdm.js.chk`` scaled JSON,
  ``sample.aivdm.ju.chk`` the same unscaled);
* libais' ``typeexamples.nmea`` / ``typeexamples.json`` and ``tagblock.nmea`` / ``tagblock.json``;
* a differential run of pyais (the reference Python decoder) over every NMEA corpus there, with an
  explicit table of the known disagreements, each explained.

seawatch conventions that differ from how the third parties print values (ITU-R M.1371-5):

* "not available" values are null in seawatch, where gpsd/libais/pyais print the sentinel:
  lat 91, lon 181 (type 27: the same in 1/10 min), SOG 102.3 kn (raw 1023; type 9: 1023 kn;
  type 27: 63 kn), COG 360 (type 27: 511), heading 511, ROT -128, altitude 4095 (type 9),
  IMO 0, ship type 0, dimensions 0, draught 0, empty texts, ETA month 0 or day 0.
* rate of turn: seawatch stores ROT_sensor = sign * (ROT_AIS / 4.733)^2 deg/min for every raw value
  except -128 (n/a). For +-127 ("turning at more than 5 deg/30 s, no TI available", M.1371 Table 48)
  that formula gives +-720.0032 deg/min (the usual "+-720 deg/min" reading of the code); gpsd
  prints those two codes as "fastright"/"fastleft", pyais returns them as ``TurnRate.NO_TI_RIGHT``
  / ``NO_TI_LEFT`` (float value +-127) and rounds other ROT values to whole deg/min.
* headings 360-510 and type 27 COG 360-510 are not valid M.1371 values: seawatch nulls them.
* type 9 SOG is in 1 kn steps (M.1371 Table 60: "Speed over ground in knot steps"); gpsd agrees,
  libais divides it by 10 (a libais bug, see ``test_libais_typeexamples``).
* type 27 carries no time stamp: seawatch's ``utc_second`` is 60 ("not available").
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import polars as pl
import pytest
from pyais.constants import ShipType, TurnRate
from pyais.stream import BinaryIOStream

from seawatch.ingest.nmea import DECODED_TYPES, decode_nmea

# ---------------------------------------------------------------------------------------------
# the corpora

#: every NMEA(-ish) file under shared/data, relative to it. ``test_corpus_list_is_complete``
#: fails when a new one appears, so that it gets added here (and to the pyais table below).
NMEA_FILES = (
    "aisdb-testdata/test_data_201201.nmea",
    "aisdb-testdata/test_data_20211101.nm4",
    "dma-aislib-testdata/ais250.txt",
    "dma-aislib-testdata/decode_encode_messages.txt",
    "dma-aislib-testdata/replay_dump.txt",
    "dma-aislib-testdata/small_cb_example.txt",
    "dma-aislib-testdata/stream_example.txt",
    "gfw-ais-tools-samples/bad-tagblock-group.nmea",
    "gfw-ais-tools-samples/bad-type5.nmea",
    "gfw-ais-tools-samples/ee-multiline.nmea",
    "gfw-ais-tools-samples/errors.nmea",
    "gfw-ais-tools-samples/mixed_types.nmea",
    "gfw-ais-tools-samples/multi-part.nmea",
    "gfw-ais-tools-samples/sample.nmea",
    "gfw-ais-tools-samples/single-message-type-5.nmea",
    "gfw-ais-tools-samples/spire-test.nmea",
    "gfw-ais-tools-samples/type1-bad-bitcount.nmea",
    "gfw-ais-tools-samples/type8.nmea",
    "gpsd-ais-regression/test/daemon/ais-18-27.log",
    "gpsd-ais-regression/test/daemon/ais-nmea-type6-fid55.log",
    "gpsd-ais-regression/test/daemon/ais-nmea.log",
    "gpsd-ais-regression/test/daemon/ais-raw-messages.log",
    "gpsd-ais-regression/test/daemon/ais_unpack_sixbit.log",
    "gpsd-ais-regression/test/sample.aivdm",
    "knapply-maritime-example/20181101_head132.log",
    "kystverket-ais-net/Ais1000Lines.nm4",
    "libais-testdata/tagblock.nmea",
    "libais-testdata/test.aivdm",
    "libais-testdata/typeexamples.nmea",
    "pyais-samples/examples_gatehouse.nmea",
    "pyais-samples/examples_sample.ais",
    "pyais-samples/tests_ais_test_messages",
    "pyais-samples/tests_messages.ais",
    "pyais-samples/tests_mixed.txt",
    "pyais-samples/tests_nmea_data_sample.txt",
    "pyais-samples/tests_timestamped.ais",
)

_CORPUS_DIRS = (
    "aisdb-testdata",
    "dma-aislib-testdata",
    "gfw-ais-tools-samples",
    "gpsd-ais-regression",
    "knapply-maritime-example",
    "kystverket-ais-net",
    "libais-testdata",
    "pyais-samples",
)


@lru_cache(maxsize=None)
def _decode(path: Path):
    """seawatch's decode of a corpus file, every reception kept (no dedup), cached per session."""
    return decode_nmea(path, dedup=False)


def _line_count(path: Path) -> int:
    """Lines in the file: newline-terminated lines plus an unterminated last one."""
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _is_nmea(path: Path) -> bool:
    """Does the file hold any AIS sentence (``!xxVDM``/``!xxVDO``)?"""
    head = path.read_bytes()[:200_000]
    return b"VDM," in head or b"VDO," in head


def test_corpus_list_is_complete(shared_data):
    found = set()
    for d in _CORPUS_DIRS:
        for p in (shared_data / d).rglob("*"):
            if p.is_file() and not p.name.endswith((".chk", ".json", ".md", ".csv")) and _is_nmea(p):
                found.add(p.relative_to(shared_data).as_posix())
    assert found == set(NMEA_FILES)


# ---------------------------------------------------------------------------------------------
# line accounting


@pytest.mark.parametrize("rel", NMEA_FILES)
def test_line_accounting(shared_data, rel):
    path = shared_data / rel
    res = _decode(path)
    assert res.lines_read == _line_count(path)
    assert res.lines_read == res.lines_decoded + res.rejects.height
    # every rejected line is there once, with a line number inside the file
    lines = res.rejects["line_no"]
    assert lines.n_unique() == lines.len()
    assert lines.len() == 0 or (lines.min() >= 1 and lines.max() <= res.lines_read)


# ---------------------------------------------------------------------------------------------
# helpers shared by the gpsd / libais / pyais comparisons

#: seawatch fields compared, per table
POS_FIELDS = ("lat", "lon", "sog_kn", "cog_deg", "heading_deg", "rot_deg_min", "nav_status",
              "pos_accuracy", "utc_second", "altitude_m")
STATIC_FIELDS = ("imo", "callsign", "shipname", "ship_type", "aid_type", "to_bow_m", "to_stern_m",
                 "to_port_m", "to_starboard_m", "draught_m", "destination", "eta", "epfd",
                 "ais_version", "part_num", "mothership_mmsi")
POS_TYPES = frozenset({1, 2, 3, 4, 9, 18, 19, 21, 27})
STATIC_TYPES = frozenset({5, 19, 21, 24})
#: float fields and their tolerance (float32 columns: ~1e-4 relative; positions are float64)
FLOAT_TOL = {"lat": 1e-6, "lon": 1e-6, "sog_kn": 1e-4, "cog_deg": 1e-4, "heading_deg": 1e-4,
             "rot_deg_min": 1e-3, "altitude_m": 1e-4, "draught_m": 1e-4}


def _na(v, *sentinels):
    """None if v is one of the "not available" sentinels (or None)."""
    return None if v is None or any(v == s for s in sentinels) else v


def _txt(s):
    """Text as seawatch keeps it: trailing blanks trimmed, empty -> null."""
    if s is None:
        return None
    s = str(s).rstrip()
    return s or None


def _rot(raw):
    """ITU-R M.1371 ROT_AIS -> deg/min (see module docstring); None for -128 (n/a)."""
    if raw is None or raw == -128:
        return None
    return math.copysign((raw / 4.733) ** 2, raw)


def _eta(month, day, hour, minute):
    """ETA as seawatch keeps it ('MM-DDTHH:MM', no year); month 0 / day 0 = not available."""
    if not (1 <= month <= 12) or day == 0:
        return None
    return f"{month:02d}-{day:02d}T{hour:02d}:{minute:02d}"


def _out_of_range(lat, lon):
    """A position beyond +-90/+-180 that is not the 91/181 "not available" value."""
    if lat is None or lon is None or lat == 91 or lon == 181:
        return False
    return abs(lat) > 90 or abs(lon) > 180


def _diff(want: dict, got: dict, tol: dict | None = None) -> dict:
    """{field: (want, got)} for the fields of ``want`` that ``got`` does not match."""
    tol = {**FLOAT_TOL, **(tol or {})}
    out = {}
    for k, w in want.items():
        g = got.get(k)
        if w is None or g is None:
            ok = w is None and g is None
        elif k in tol:
            ok = abs(float(w) - float(g)) <= tol[k]
        else:
            ok = w == g
        if not ok:
            out[k] = (w, g)
    return out


def _rows_by_key(res) -> dict:
    """seawatch's decoded messages as {(msg_type, mmsi): [fields, ...]} in table order.

    Types 19 and 21 have a row in positions and one in statics; they are merged by their order
    within the (type, mmsi) group. Type 24 is keyed (24, mmsi, part_num).
    """
    groups: dict = defaultdict(list)
    for r in res.positions.iter_rows(named=True):
        groups[(r["msg_type"], r["mmsi"])].append({k: r[k] for k in POS_FIELDS})
    merged: dict = defaultdict(int)
    for r in res.statics.iter_rows(named=True):
        t, m = r["msg_type"], r["mmsi"]
        fields = {k: r[k] for k in STATIC_FIELDS}
        if t in (19, 21):
            i = merged[(t, m)]
            merged[(t, m)] += 1
            groups[(t, m)][i].update(fields)
        elif t == 24:
            groups[(t, m, r["part_num"])].append(fields)
        else:
            groups[(t, m)].append(fields)
    for r in res.other.iter_rows(named=True):  # kept raw: nothing to compare but the key
        groups[(r["msg_type"], r["mmsi"])].append({"raw": True})
    return groups


def _type_mmsi(payload: str) -> tuple[int, int]:
    """Message type and MMSI (bits 0-5 and 8-37) of an armoured six-bit payload, decoded here."""
    bits = "".join(format((c - 48) - (8 if c - 48 > 40 else 0), "06b") for c in payload[:7].encode())
    return int(bits[0:6], 2), int(bits[8:38], 2)


def _payload_type_mmsi(raw_line: str) -> tuple[int, int]:
    """Message type and MMSI of a single-sentence line."""
    return _type_mmsi(raw_line[raw_line.index("VD") :].split(",")[5])


# ---------------------------------------------------------------------------------------------
# gpsd: test/sample.aivdm vs gpsdecode's expected output


def _gpsd_expected(js: dict, ju: dict) -> dict:
    """The seawatch fields of one gpsdecode record (``js`` scaled, ``ju`` unscaled twin)."""
    t = js["type"]
    e: dict = {}
    if t in POS_TYPES:
        lat, lon = js.get("lat"), js.get("lon")
        na = lat == 91 or lon == 181
        e["lat"] = None if na else lat
        e["lon"] = None if na else lon
        e["pos_accuracy"] = js["accuracy"]
        e["sog_kn"] = e["cog_deg"] = e["heading_deg"] = e["rot_deg_min"] = e["nav_status"] = None
        e["altitude_m"] = None
        if t in (1, 2, 3):
            e["sog_kn"] = _na(js["speed"], 102.3)
            e["cog_deg"] = _na(js["course"], 360)
            e["heading_deg"] = _na(js["heading"], 511)
            e["nav_status"] = js["status"]
            e["rot_deg_min"] = _rot(ju["turn"])
            # the scaled record says the same thing in words
            assert js["turn"] == {-128: "n/a", 127: "fastright", -127: "fastleft"}.get(
                ju["turn"], js["turn"]
            )
        elif t in (18, 19):
            e["sog_kn"] = _na(js["speed"], 102.3)
            e["cog_deg"] = _na(js["course"], 360)
            e["heading_deg"] = _na(js["heading"], 511)
        elif t == 9:
            e["sog_kn"] = _na(js["speed"], 1023)  # whole knots, like ITU-R M.1371 Table 60
            e["cog_deg"] = _na(js["course"], 360)
            e["altitude_m"] = _na(js["alt"], 4095)
        elif t == 27:
            e["sog_kn"] = _na(js["speed"], 63)
            e["cog_deg"] = _na(js["course"], 511)
            e["nav_status"] = js["status"]
        if t == 4:
            e["utc_second"] = int(js["timestamp"][-3:-1])  # "...T24:60:60Z" -> 60
        elif t == 27:
            e["utc_second"] = 60  # no time stamp in type 27: "not available"
        else:
            e["utc_second"] = js["second"]
    if t in STATIC_TYPES:
        if t != 24:
            for k in ("to_bow", "to_stern", "to_port", "to_starboard"):
                e[f"{k}_m"] = _na(js[k], 0)
            e["epfd"] = js["epfd"]
        if t == 5:
            eta = js["eta"]  # "MM-DDTHH:MMZ"
            e.update(
                imo=_na(js["imo"], 0),
                callsign=_txt(js["callsign"]),
                shipname=_txt(js["shipname"]),
                ship_type=_na(js["shiptype"], 0),
                draught_m=_na(js["draught"], 0),
                destination=_txt(js["destination"]),
                eta=_eta(int(eta[0:2]), int(eta[3:5]), int(eta[6:8]), int(eta[9:11])),
                ais_version=js["ais_version"],
            )
        elif t == 19:
            e.update(shipname=_txt(js["shipname"]), ship_type=_na(js["shiptype"], 0))
        elif t == 21:
            e.update(shipname=_txt(js["name"]), aid_type=js["aid_type"])
    return e


def _gpsd_24(js: dict) -> tuple[dict, dict]:
    """gpsd reports a type 24 A/B pair as one record; seawatch has one row per part."""
    a = {"part_num": 0, "shipname": _txt(js["shipname"])}
    b = {"part_num": 1, "ship_type": _na(js["shiptype"], 0), "callsign": _txt(js["callsign"])}
    if "mothership_mmsi" in js:
        b["mothership_mmsi"] = _na(js["mothership_mmsi"], 0)
    else:
        for k in ("to_bow", "to_stern", "to_port", "to_starboard"):
            b[f"{k}_m"] = _na(js[k], 0)
    return a, b


#: seawatch rows gpsdecode does not print, as sample.aivdm's own comments explain ("Type 24
#: collisions"): gpsd merges 24A and 24B into one report and prints it only when a B follows an A.
GPSD_UNREPORTED = {
    (24, 271041815, 1): 1,  # line 987: repeated 24B "missing 24A and is discarded"
    (24, 271041511, 0): 1,  # line 992: 24A whose 24B never comes ("previous 24A ... is discarded")
    (24, 271020195, 1): 1,  # line 1001: 24B "without a valid 24A it's never emitted"
}


def test_gpsd_sample_aivdm(shared_data):
    base = shared_data / "gpsd-ais-regression" / "test"
    res = _decode(base / "sample.aivdm")
    scaled = [json.loads(x) for x in (base / "sample.aivdm.js.chk").read_text().splitlines()]
    unscaled = [json.loads(x) for x in (base / "sample.aivdm.ju.chk").read_text().splitlines()]
    assert len(scaled) == len(unscaled) == 97
    rows = _rows_by_key(res)
    rejected_oor = Counter(
        _payload_type_mmsi(r)
        for r in res.rejects.filter(pl.col("reason") == "position_out_of_range")["raw"]
    )
    expected_oor: Counter = Counter()
    problems = []
    for i, (js, ju) in enumerate(zip(scaled, unscaled), start=1):
        assert (js["type"], js["mmsi"]) == (ju["type"], ju["mmsi"])
        t, mmsi = js["type"], js["mmsi"]
        if t in POS_TYPES and _out_of_range(js.get("lat"), js.get("lon")):
            expected_oor[(t, mmsi)] += 1  # seawatch quarantines it instead (asserted below)
            continue
        if t == 24:
            for want in _gpsd_24(js):
                group = rows.get((24, mmsi, want["part_num"]))
                if not group:
                    problems.append((i, t, mmsi, "missing in seawatch"))
                    continue
                d = _diff(want, group.pop(0))
                if d:
                    problems.append((i, t, mmsi, d))
            continue
        group = rows.get((t, mmsi))
        if not group:
            problems.append((i, t, mmsi, "missing in seawatch"))
            continue
        got = group.pop(0)
        if t in DECODED_TYPES:
            # gpsd prints 7 decimals; type 27 (1/10 min resolution) only 4: half a unit of the last
            pos_tol = 5e-5 if t == 27 else 1e-6
            d = _diff(_gpsd_expected(js, ju), got, tol={"lat": pos_tol, "lon": pos_tol})
            if d:
                problems.append((i, t, mmsi, d))
    assert problems == []
    # a position beyond +-90/+-180 is quarantined as position_out_of_range (gpsd prints it as is:
    # the type 4 from 972158237 at lat 109.33, lon 205.12)
    assert expected_oor == rejected_oor and sum(expected_oor.values()) == 1
    leftover = Counter({k: len(v) for k, v in rows.items() if v})
    assert leftover == Counter(GPSD_UNREPORTED)
    # the sentence with no '!' (line 978, "That fragment misses part 1, yields nothing") is garbage
    rej = dict(zip(res.rejects["line_no"], res.rejects["reason"]))
    assert rej[978] == "garbage"


# ---------------------------------------------------------------------------------------------
# libais: typeexamples and tagblock


def _libais_expected(d: dict) -> dict:
    """The seawatch fields of one libais JSON record (libais prints float32-rounded floats)."""
    t = d["type"]
    e: dict = {}
    if t in POS_TYPES:
        lat, lon = d.get("lat"), d.get("lon")
        na = lat == 91 or lon == 181
        e["lat"] = None if na else lat
        e["lon"] = None if na else lon
        e["pos_accuracy"] = d["accuracy"]
        if t in (1, 2, 3, 18, 19):
            e["sog_kn"] = _na(d["speed"], 102.3)
            e["cog_deg"] = _na(d["course"], 360)
            e["heading_deg"] = _na(d["heading"], 511)
        if t in (1, 2, 3):
            e["nav_status"] = d["status"]
            # libais: "turn" is the decoded deg/min, None for -128 (n/a)
            e["rot_deg_min"] = d["turn"]
        if t == 4:
            e["utc_second"] = int(d["timestamp"][-3:-1])
        elif "second" in d:
            e["utc_second"] = d["second"]
    if t == 5:
        e.update(
            imo=_na(int(d["imo"]), 0),
            callsign=_txt(d["callsign"]),
            shipname=_txt(d["shipname"]),
            ship_type=_na(d["shiptype"], 0),
            draught_m=_na(d["draught"], 0),
            destination=_txt(d["destination"]),
            ais_version=d["ais_version"],
            epfd=d["epfd"],
        )
    if t in (5, 19, 21):
        for k in ("to_bow", "to_stern", "to_port", "to_starboard"):
            e[f"{k}_m"] = _na(d[k], 0)
    if t == 21:
        e.update(shipname=_txt(d["name"]), aid_type=d["aid_type"], epfd=d["epfd"])
    if t == 24:
        e["part_num"] = d["part_num"]
        if d["part_num"] == 0:
            e["shipname"] = _txt(d["shipname"])
    return e


#: libais prints float32 values: float32 resolution near 180 deg is 1.5e-5 deg
LIBAIS_TOL = {"lat": 2e-5, "lon": 2e-5, "rot_deg_min": 1e-3}

#: libais' six-bit character table (inherited from old gpsd) has '-' for code 31 and '`' for 39;
#: ITU-R M.1371-5 Table 47 has '_' (31) and "'" (39), as seawatch and pyais decode them. To compare
#: texts with libais, seawatch's text is passed through libais' table.
_LIBAIS_SIXBIT = str.maketrans({"_": "-", "'": "`"})


def _as_libais(got: dict) -> dict:
    return {k: v.translate(_LIBAIS_SIXBIT) if isinstance(v, str) and k != "eta" else v for k, v in got.items()}


def test_libais_typeexamples(shared_data):
    base = shared_data / "libais-testdata"
    res = _decode(base / "typeexamples.nmea")
    lines = (base / "typeexamples.nmea").read_text().splitlines()
    expected = [json.loads(x) for x in (base / "typeexamples.json").read_text().splitlines()]
    assert len(lines) == len(expected) == 26  # one JSON record per line, same order
    rows = _rows_by_key(res)
    rej = dict(zip(res.rejects["line_no"], res.rejects["reason"]))
    problems = []
    oor_lines = []
    for line_no, d in enumerate(expected, start=1):
        t, mmsi = d["type"], d["mmsi"]
        if t in POS_TYPES and _out_of_range(d.get("lat"), d.get("lon")):
            oor_lines.append(line_no)
            assert rej.get(line_no) == "position_out_of_range", (line_no, t, mmsi)
            assert (t, mmsi) not in rows
            continue
        key = (24, mmsi, d["part_num"]) if t == 24 else (t, mmsi)
        group = rows.get(key)
        if not group:
            problems.append((line_no, t, mmsi, "missing in seawatch", rej.get(line_no)))
            continue
        got = _as_libais(group.pop(0))
        d_ = _diff(_libais_expected(d), got, tol=LIBAIS_TOL)
        if d_:
            problems.append((line_no, t, mmsi, d_))
    assert problems == []
    # libais' typeexamples has three positions off the globe, all quarantined by seawatch:
    # type 2 at lat -101.55 (line 21), type 9 at lat -99.42 (line 24) and type 27 at lon 200.23
    # (line 11). (libais also prints the type 9 SOG as 16.8 kn: it divides the raw 168 by 10,
    # where ITU-R M.1371 Table 60 has 1 kn steps; the row is quarantined, so not compared.)
    assert [(expected[i - 1]["type"], i) for i in oor_lines] == [(27, 11), (2, 21), (9, 24)]
    assert all(len(v) == 0 for v in rows.values())
    assert res.lines_decoded == 26 - 3


def test_libais_tagblock(shared_data):
    base = shared_data / "libais-testdata"
    res = _decode(base / "tagblock.nmea")
    expected = [json.loads(x) for x in (base / "tagblock.json").read_text().splitlines()]
    assert len(expected) == 4
    # the 2-part type 5 (lines 1 and 3, g:1-2-1604 / g:2-2-1604) is reassembled around line 2
    assert res.rejects.height == 0 and res.lines_decoded == 5
    tables = {"positions": res.positions, "statics": res.statics}
    seen = Counter()
    problems = []
    for d in expected:
        t, mmsi = d["type"], d["mmsi"]
        table = tables["statics" if t == 5 else "positions"]
        cand = table.filter((pl.col("msg_type") == t) & (pl.col("mmsi") == mmsi))
        i = seen[(t, mmsi)]
        seen[(t, mmsi)] += 1
        # libais writes the messages in the order they are completed; match by receive time
        ts = d["tagblock_timestamp"].replace("Z", "+00:00")
        row = cand.filter(pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S.%6f+00:00") == ts)
        assert row.height == 1, (t, mmsi, ts, i)
        r = row.row(0, named=True)
        assert r["station"] == d["tagblock_station"]
        if t == 5:
            got = {k: r[k] for k in STATIC_FIELDS}
        else:
            got = {k: r[k] for k in POS_FIELDS}
        d_ = _diff(_libais_expected(d), _as_libais(got), tol=LIBAIS_TOL)
        if d_:
            problems.append((t, mmsi, ts, d_))
    assert problems == []
    assert res.positions.height == 3 and res.statics.height == 1 and res.other.height == 0


# ---------------------------------------------------------------------------------------------
# differential test against pyais


class _LineTracker:
    """A file object for pyais' BinaryIOStream that remembers the line it last handed out.

    pyais pulls lines lazily, so when it yields a message the current line is the one that
    completed it (the last fragment of a multi-sentence message).
    """

    def __init__(self, path: Path):
        # split at b"\n" only, as iterating a binary file does (bytes.splitlines also splits at \r)
        self._lines = path.read_bytes().split(b"\n")
        if self._lines and self._lines[-1] == b"":
            self._lines.pop()
        self.line_no = 0

    def __iter__(self):
        for i, line in enumerate(self._lines, start=1):
            self.line_no = i
            yield line

    def close(self):
        pass


def _pyais_fields(m) -> tuple[int, int, dict]:
    """(type, mmsi, seawatch-named fields) of a decoded pyais message; NA sentinels -> None."""
    t, mmsi = int(m.msg_type), int(m.mmsi)
    e: dict = {}
    if t in POS_TYPES:
        lat, lon = m.lat, m.lon
        na = lat == 91 or lon == 181
        e["lat"] = None if na else lat
        e["lon"] = None if na else lon
        e["pos_accuracy"] = bool(m.accuracy)
        if t in (1, 2, 3, 18, 19, 9):
            e["cog_deg"] = _na(m.course, 360)
            e["utc_second"] = m.second
        if t in (1, 2, 3, 18, 19):
            e["sog_kn"] = _na(m.speed, 102.3)
            e["heading_deg"] = _na(m.heading, 511)
        if t in (1, 2, 3):
            e["nav_status"] = int(m.status)
            turn = m.turn
            if isinstance(turn, TurnRate):
                # pyais keeps -128 / +-127 as enum values; seawatch: null / +-(127/4.733)^2
                e["rot_deg_min"] = _rot(int(turn))
            else:
                # pyais rounds ROT to whole deg/min: compared with tolerance 0.5 below
                e["rot_deg_min"] = float(turn)
        if t == 9:
            e["sog_kn"] = _na(m.speed, 1023)
            e["altitude_m"] = _na(m.alt, 4095)
        if t in (4, 21):
            e["utc_second"] = m.second
        if t == 27:
            e["nav_status"] = int(m.status)
            e["sog_kn"] = _na(m.speed, 63)
            e["cog_deg"] = _na(m.course, 511)
    if t == 5:
        e.update(
            imo=_na(m.imo, 0),
            callsign=_txt(m.callsign),
            shipname=_txt(m.shipname),
            ship_type=_na(int(m.ship_type), 0),
            draught_m=_na(m.draught, 0),
            destination=_txt(m.destination),
            eta=_eta(m.month, m.day, m.hour, m.minute),
            ais_version=m.ais_version,
            epfd=int(m.epfd),
        )
    if t in (5, 19, 21):
        for k in ("to_bow", "to_stern", "to_port", "to_starboard"):
            e[f"{k}_m"] = _na(getattr(m, k), 0)
    if t == 19:
        e.update(shipname=_txt(m.shipname), ship_type=_na(int(m.ship_type), 0), epfd=int(m.epfd))
    if t == 21:
        e.update(shipname=_txt(m.full_name), aid_type=int(m.aid_type), epfd=int(m.epfd))
    if t == 24:
        e["part_num"] = m.partno
        if m.partno == 0:
            e["shipname"] = _txt(m.shipname)
        else:
            e["ship_type"] = _na(int(m.ship_type), 0)
            e["callsign"] = _txt(m.callsign)
            if hasattr(m, "mothership_mmsi"):
                e["mothership_mmsi"] = _na(m.mothership_mmsi, 0)
            else:
                for k in ("to_bow", "to_stern", "to_port", "to_starboard"):
                    e[f"{k}_m"] = _na(getattr(m, k), 0)
    return t, mmsi, e


PYAIS_TOL = {"rot_deg_min": 0.5}


def _is_text(v) -> bool:
    return isinstance(v, str)


def _explain(t: int, field: str, want, got) -> str:
    """The category of one field disagreement (pyais value ``want``, seawatch value ``got``)."""
    if field == "ship_type" and got is not None and t != 24 and int(ShipType.from_value(got)) == (want or 0):
        # pyais turns the 8-bit code into its ShipType enum, which collapses the codes M.1371
        # Table 53 leaves "reserved for future use" (e.g. 66-69 -> 65, 76-79 -> 75, 57-59 -> 56)
        # or has no member for (1-19, 38-39, 100-255 -> 0 "not available"). seawatch keeps the code.
        return "pyais_ship_type_enum"
    if field == "heading_deg" and want is not None and 360 <= want <= 510 and got is None:
        # M.1371 Table 48: heading 0-359, 511 = not available; 360-510 are not valid values
        return "invalid_heading_nulled"
    if field == "cog_deg" and t == 27 and want is not None and 360 <= want <= 510 and got is None:
        # M.1371 Table 84 (type 27): COG 0-359 degrees, 511 = not available; 360-510 invalid
        return "invalid_cog_nulled"
    if _is_text(want) and "@" in want and _txt(want.split("@", 1)[0]) == got:
        # '@' (six-bit 0) is the padding / "not available" character (M.1371 Table 47): text
        # ends at the first '@', as gpsd and libais read it; pyais 3.3.1 keeps the '@'s and what
        # follows them ("@@J130B", "IBC G BUOY@?????????")
        return "pyais_keeps_at_sign"
    if _is_text(want) and _is_text(got) and want != got:
        # pyais strips leading blanks too (pyais.util.decode_bytes_as_ascii6 ends in .strip());
        # seawatch trims trailing blanks only, like gpsd. For type 21 pyais strips the 20-char
        # name and the name extension separately before joining them: "CHANNEL PORT VIRTUAL" +
        # " NO.4" -> "CHANNEL PORT VIRTUALNO.4".
        pyais_like = got[:20].strip() + got[20:].strip() if (t == 21 and field == "shipname") else got.strip()
        if pyais_like == want:
            return "pyais_strips_leading_blank"
    return f"field:{field}"


def _pyais_disagreements(path: Path) -> Counter:
    """Decode ``path`` with pyais and seawatch and classify every disagreement.

    Lines seawatch quarantines and pyais does not decode either are agreements, not counted.
    Categories:
    ``rejected:<reason>``      pyais decoded a message from a line seawatch quarantined;
    ``pyais_error/seawatch_<table>:<type>``  pyais could not decode a message seawatch did
                               (``decoded``: positions/statics, ``raw``: the other table);
    ``pyais_only:<type>``      pyais decoded it, seawatch has no such (type, mmsi) message left;
    ``seawatch_only:<type>``   seawatch decoded a message pyais did not produce;
    ``field:<name>`` or an explained category from ``_explain``: both decoded it, a field differs.
    """
    res = _decode(path)
    rejected = dict(zip(res.rejects["line_no"], res.rejects["reason"]))
    rows = _rows_by_key(res)
    out: Counter = Counter()
    unmatched = []
    tracker = _LineTracker(path)
    for msg in BinaryIOStream(tracker):
        line = tracker.line_no
        try:
            t, mmsi, want = _pyais_fields(msg.decode())
        except Exception:  # noqa: BLE001 - pyais raises many kinds on bad payloads
            if line in rejected:
                continue  # both refuse it
            t, mmsi = _type_mmsi(msg.payload if isinstance(msg.payload, str) else msg.payload.decode())
            raw = [i for i, r in enumerate(rows.get((t, mmsi), [])) if r.get("raw")]
            if raw:
                del rows[(t, mmsi)][raw[0]]
                out[f"pyais_error/seawatch_raw:{t}"] += 1
            else:
                out[f"pyais_error/seawatch_decoded:{t}"] += 1
                unmatched.append(((t, mmsi, "pyais_error"), None))
            continue
        if line in rejected:
            out[f"rejected:{rejected[line]}"] += 1
            continue
        key = (24, mmsi, want["part_num"]) if t == 24 else (t, mmsi)
        group = rows.get(key, [])
        # exact match first (order within a (type, mmsi) group may differ between decoders)
        for j, got in enumerate(group):
            if not _diff(want, got, PYAIS_TOL):
                del group[j]
                break
        else:
            unmatched.append((key, want))
    for key, want in unmatched:
        if want is None:
            # the row seawatch decoded where pyais failed: drop one of that (type, mmsi)
            t, mmsi = key[0], key[1]
            for k, group in rows.items():
                if k[0] == t and k[1] == mmsi and group:
                    group.pop(0)
                    break
            continue
        group = rows.get(key, [])
        if not group:
            out[f"pyais_only:{key[0]}"] += 1
            continue
        for f, (w, g) in _diff(want, group.pop(0), PYAIS_TOL).items():
            out[_explain(key[0], f, w, g)] += 1
    for key, group in rows.items():
        if group:
            out[f"seawatch_only:{key[0]}"] += len(group)
    return out


#: Every disagreement between pyais 3.3.1 and seawatch per file, with why. A new disagreement
#: (or one that goes away) fails the test: update this table only with an explanation.
#: Lines both decoders refuse are agreements and not listed (e.g. the ~100 empty payloads
#: "!AIVDM,1,1,,B,,0*25" of pyais' own tests_nmea_data_sample.txt: pyais raises
#: MissingPayloadException, seawatch quarantines them as payload_too_short).
#:
#: Recurring reasons:
#: * rejected:position_out_of_range - lat beyond +-90 or lon beyond +-180 that is not the 91/181
#:   "not available" value: pyais returns it as is, seawatch quarantines the message.
#: * rejected:bad_checksum - pyais does not verify NMEA checksums (it yields the message and sets
#:   ``is_valid`` False); seawatch quarantines it. Each of these checksums was recomputed by hand.
#: * rejected:payload_too_short - pyais decodes truncated payloads, reading missing bits as 0.
#: * rejected:bad_msg_type - pyais decodes "type 28" payloads; M.1371 defines types 1-27 only.
#: * seawatch_only:<type> - pyais reads one sentence per line (it splits the line at commas and
#:   takes the first sentence), so the second sentence of a line holding two is lost and the
#:   multi-sentence message it belongs to is never assembled.
#: * invalid_heading_nulled / invalid_cog_nulled, pyais_ship_type_enum, pyais_keeps_at_sign,
#:   pyais_strips_leading_blank - conventions, explained in ``_explain``.
PYAIS_KNOWN: dict[str, dict[str, int]] = {
    # identical to libais typeexamples.nmea: three positions off the globe (types 2, 9, 27)
    "aisdb-testdata/test_data_201201.nmea": {"rejected:position_out_of_range": 3},
    # type 21 "CHANNEL PORT VIRTUAL" + extension " NO.4" (line 237)
    "aisdb-testdata/test_data_20211101.nm4": {"pyais_strips_leading_blank": 1},
    # 8 type 5 whose two fragments share one line, joined by a literal "\r\n" text
    "dma-aislib-testdata/ais250.txt": {"seawatch_only:5": 8},
    "dma-aislib-testdata/stream_example.txt": {
        "pyais_keeps_at_sign": 1,  # type 21 "NEIST POINT@@@@..." (line 7295)
        "pyais_ship_type_enum": 4,  # type 5 ship types 39, 39, 6, 15
        "pyais_strips_leading_blank": 6,  # destinations " VYSOTSK", " FOR ORDER", ...; " ROSSIYANIN"
    },
    # "type 5 pairs concatenated on one line" (README)
    "gfw-ais-tools-samples/bad-type5.nmea": {"seawatch_only:5": 3},
    # lines 2 and 4: payload shortened, checksum left as it was (the README says "valid checksum":
    # only lines 1 and 3, whose payloads are longer than needed and decode fine, have one)
    "gfw-ais-tools-samples/errors.nmea": {"rejected:bad_checksum": 2},
    "gfw-ais-tools-samples/mixed_types.nmea": {
        "invalid_heading_nulled": 1,  # type 18 heading 480 (line 60)
        "pyais_ship_type_enum": 2,  # type 19 ship type 253, type 5 ship type 57
        "pyais_strips_leading_blank": 1,  # type 5 call sign " DG2650"
    },
    # the type 5 sentence ends "*60"; its checksum is 0x62
    "gfw-ais-tools-samples/single-message-type-5.nmea": {"rejected:bad_checksum": 1},
    # "two sentences (both fragments) concatenated on one line" (README)
    "gfw-ais-tools-samples/spire-test.nmea": {"seawatch_only:5": 2},
    "gpsd-ais-regression/test/daemon/ais-18-27.log": {
        "invalid_heading_nulled": 2,  # type 18 heading 360
        # 69 type 24 with part number 3, which M.1371 does not define (0 = A, 1 = B): pyais raises
        # UnknownPartNoException, gpsd prints nothing for them (ais-18-27.log.chk); seawatch keeps
        # them raw in the other table (if seawatch quarantines them instead, drop this entry)
        "pyais_error/seawatch_raw:24": 69,
    },
    "gpsd-ais-regression/test/daemon/ais-nmea-type6-fid55.log": {
        # type 21 "AHAAHA ROCKS NORTH>S" + extension: 306 bits = 272 + 5 six-bit characters + 4
        # bits. M.1371 (message 21) makes those 4 bits spare "to observe byte boundaries"; pyais
        # decodes them as a sixth character ("...>NG"), seawatch does not ("...>N")
        "field:shipname": 1,
        "invalid_heading_nulled": 2,  # type 18 heading 480
        "pyais_keeps_at_sign": 9,  # call sign "@@J130B" x3, destination "@@@@...", type 21 names
        "pyais_ship_type_enum": 7,
        "pyais_strips_leading_blank": 2,  # " TINA", " PD8288"
    },
    "gpsd-ais-regression/test/daemon/ais_unpack_sixbit.log": {
        "pyais_ship_type_enum": 1,
        "pyais_strips_leading_blank": 2,  # type 21 "FORT PIERCE INLET LB" + " 6"
    },
    "gpsd-ais-regression/test/sample.aivdm": {
        "pyais_keeps_at_sign": 1,  # type 21 "IBC G BUOY@?????????"
        "rejected:position_out_of_range": 1,  # type 4 at lat 109.33, lon 205.12
    },
    "knapply-maritime-example/20181101_head132.log": {
        "invalid_heading_nulled": 1,  # type 18 heading 480
        "rejected:bad_checksum": 1,  # line 1 ends "*23"; its checksum is 0x24
        "rejected:position_out_of_range": 3,  # the libais typeexamples ones again
    },
    "kystverket-ais-net/Ais1000Lines.nm4": {"pyais_ship_type_enum": 5},
    "libais-testdata/test.aivdm": {
        "invalid_cog_nulled": 2,  # type 27 COG 363 and 444
        "rejected:bad_msg_type": 17,  # the "type 28" payloads of the test file
        "rejected:payload_too_short": 8,  # 7 type 27 under 96 bits, a 6-char type 23
        "rejected:position_out_of_range": 6,  # type 27 at lon 218.05, lat 109.14, ...
    },
    "libais-testdata/typeexamples.nmea": {"rejected:position_out_of_range": 3},
    # tag block then "!AIVDM,...,013": no '*' checksum delimiter; pyais reads "013" as fill bits
    "pyais-samples/examples_sample.ais": {"rejected:bad_sentence": 1},
    "pyais-samples/tests_mixed.txt": {"rejected:bad_sentence": 1},
}


@pytest.mark.parametrize("rel", NMEA_FILES)
def test_differential_pyais(shared_data, rel):
    got = _pyais_disagreements(shared_data / rel)
    assert dict(got) == PYAIS_KNOWN.get(rel, {})


def test_type24_part_number_is_a_or_b(shared_data):
    """M.1371 message 24 defines part 0 (A) and 1 (B) only; part numbers 2 and 3 are not data.

    gpsd prints nothing for them (gpsd-ais-regression/test/daemon/ais-18-27.log.chk) and pyais
    raises UnknownPartNoException: seawatch must not decode them as a part B.
    """
    bad = {}
    for rel in NMEA_FILES:
        st = _decode(shared_data / rel).statics
        n = st.filter((pl.col("msg_type") == 24) & ~pl.col("part_num").is_in([0, 1])).height
        if n:
            bad[rel] = n
    assert bad == {}
