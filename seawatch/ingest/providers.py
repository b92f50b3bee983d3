"""Decoded provider tables -> canonical seawatch tables.

Formats
-------
``noaa_csv``
    NOAA / BOEM MarineCadastre "AIS Vessel Traffic" CSV (https://marinecadastre.gov/ais/), header
    ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,
    Width,Draft,Cargo,TransceiverClass``. ``BaseDateTime`` is ISO ``YYYY-MM-DDTHH:MM:SS`` in UTC;
    ``IMO`` is ``IMO9307839`` or empty; ``Status`` is the ITU navigational status (written ``8.0``);
    ``TransceiverClass`` is ``A``/``B``; ``Cargo`` is not used (it repeats the ship type).
``dma_csv``
    Danish Maritime Authority "aisdata" CSV (http://web.ais.dk/aisdata/), header ``# Timestamp,
    Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,
    Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,
    Data source type,A,B,C,D``. ``Timestamp`` and ``ETA`` are ``dd/mm/yyyy HH:MM:SS`` UTC; status,
    ship type, cargo type and fixing device are English texts (mapped to ITU codes below); the
    literal text ``Unknown`` means "not available" in IMO, Callsign, Name and Destination; A/B/C/D
    are the distances to bow/stern/port/starboard in metres (Width/Length are their sums, not used).
``parquet``
    Parquet whose columns are a subset of seawatch's ``positions`` schema (as seawatch writes it).
``nmea``
    Raw NMEA (``!AIVDM`` etc.): only recognised by :func:`sniff`; decode it with the NMEA decoder.

CSV headers are matched by name, case-insensitively, ignoring a UTF-8 BOM, quotes, spaces and a
leading ``#``; column order does not matter and extra columns are ignored.

Conventions
-----------
* Every accepted row gives one ``positions`` row (``station`` null, ``n_rx`` 1; ``pos_accuracy``,
  ``utc_second`` are not in these tables and stay null). Class: NOAA ``A`` -> msg_type 1 / ``"A"``,
  ``B`` -> 18 / ``"B"``; DMA "Class A" -> 1/A, "Class B" -> 18/B, "Base Station" -> 4/base,
  "AtoN" -> 21/aton, "SAR Airborne" -> 9/sar; anything else (SART, MOB, EPIRB...) -> null.
* ``statics``: accepted rows carrying any identity/voyage value give a statics row, deduplicated
  *within each chunk* to the first row of every distinct (mmsi, identity...) combination, so a
  static change shows up as a new row; consumers may deduplicate further across chunks.
  msg_type is 5 for class A, 24 for class B (``part_num`` null: the provider merged parts A and B),
  21 for AtoN. NOAA gives only Length/Width: ``to_bow_m = Length``, ``to_port_m = Width`` and
  ``to_stern_m``/``to_starboard_m`` stay null (the reference point is unknown; the sums are right).
* ITU "not available" values become null: lat 91, lon 181, SOG >= 102.3, COG >= 360,
  heading >= 360 (511), negative SOG/COG/heading, nav status outside 0-15, ship type outside
  1-99 (older MarineCadastre years use US codes 1001-1025), 0 for IMO / dimensions / draught,
  empty text.
* DMA texts -> ITU codes: navigational status by its ITU wording (``Unknown value`` -> 15); ship
  type by the ITU category's first code (WIG 20, Fishing 30, Towing 31, Towing long/wide 32,
  Dredging 33, Diving 34, Military 35, Sailing 36, Pleasure 37, Reserved 38, HSC 40, Pilot 50,
  SAR 51, Tug 52, Port tender 53, Anti-pollution 54, Law enforcement 55, Spare 1/2 56/57,
  Medical 58, Not party to conflict 59, Passenger 60, Cargo 70, Tanker 80, Other 90, Undefined
  null), plus the cargo-type hazard digit (Category X/Y/Z/OS -> +1/+2/+3/+4) for 20/40/60-90;
  fixing device by ITU wording (Undefined 0 ... Galileo 8, Internal GNSS 15). Unknown texts -> null.
* Rejects (schema ``rejects``): ``bad_row`` when the MMSI is missing/unparsable, the time is
  unparsable, lat/lon/SOG/COG/heading (DMA: also ROT) hold non-numeric text, or the row has the
  wrong number of fields (other numeric fields that do not parse just become null);
  ``position_out_of_range`` when |lat| > 90 or |lon| > 180 (other than 91/181); ``blank`` for an
  empty line. ``line_no`` counts the header as line 1 (CSV) and is the 1-based row number for
  Parquet; ``raw`` is the row's fields joined with commas (the line text for wrong-width rows).
  Invalid UTF-8 bytes are escaped as ``\\xNN``. Per chunk: ``lines_read == lines_decoded +
  rejects.height``.

CSV is streamed with ``pyarrow.csv.open_csv`` (all columns as text, then vectorised polars
parsing), Parquet with ``ParquetFile.iter_batches``: memory stays around ``chunk_rows`` rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO, Union

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import schema
from ..errors import SeawatchError
from .result import IngestResult

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]

# -- headers --------------------------------------------------------------------------------------

NOAA_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)
DMA_HEADER = (
    "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,"
    "IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,"
    "Destination,ETA,Data source type,A,B,C,D"
)
#: normalised header names a format must have (see :func:`_norm`)
_REQUIRED = {
    "noaa_csv": {"mmsi", "basedatetime", "lat", "lon"},
    "dma_csv": {"timestamp", "typeofmobile", "mmsi", "latitude", "longitude"},
}
_SUPPORTED = (
    "supported inputs: NMEA (!AIVDM/!AIVDO), Parquet in the seawatch positions schema, "
    "NOAA MarineCadastre CSV (header 'MMSI,BaseDateTime,LAT,LON,...') and "
    "Danish Maritime Authority CSV (header '# Timestamp,Type of mobile,MMSI,...')"
)
FORMATS = ("nmea", "noaa_csv", "dma_csv", "parquet")


def _norm(name: str) -> str:
    """Header name -> key: lowercase, only letters and digits ('# Timestamp' -> 'timestamp')."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _split_header(line: bytes) -> list[str]:
    text = line.decode("utf-8", "replace").lstrip("\ufeff").strip("\r\n")
    return next(csv.reader([text]), [])


def _csv_format(fields: list[str]) -> str | None:
    keys = {_norm(f) for f in fields}
    for fmt, req in _REQUIRED.items():
        if req <= keys:
            return fmt
    return None


def sniff(head: bytes, name: str) -> str:
    """Which reader a (decompressed) file needs: ``nmea``, ``noaa_csv``, ``dma_csv`` or ``parquet``.

    ``head`` is the first few KB of the file, ``name`` its name (used in messages only). Raises
    :class:`SeawatchError` for a CSV-looking file with a header seawatch does not know, and for
    still-compressed data.
    """
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x1f\x8b") or head.startswith(b"PK\x03\x04"):
        raise SeawatchError(
            f"{name}: data is still gzip/zip compressed: open it with seawatch.ingest.files"
        )
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "nmea"
    first = lines[0]
    fmt = _csv_format(_split_header(first.encode()))
    if fmt:
        return fmt
    nmea_like = re.search(r"[!$]|\\[a-z]:", text) is not None
    header_like = "," in first and any(
        re.match(r"\s*[\"'#]?\s*[A-Za-z_]", f) for f in first.split(",")
    )
    if header_like and not nmea_like:
        raise SeawatchError(
            f"{name}: unknown CSV header {first[:80]!r}; {_SUPPORTED}"
        )
    return "nmea"


# -- code tables (DMA texts -> ITU codes), keys normalised by _norm -------------------------------

_NAV_STATUS = {
    "underwayusingengine": 0, "atanchor": 1, "notundercommand": 2,
    "restrictedmanoeuverability": 3, "restrictedmaneuverability": 3,
    "restrictedmanoeuvrability": 3, "constrainedbyherdraught": 4, "moored": 5, "aground": 6,
    "engagedinfishing": 7, "underwaysailing": 8,
    "reservedforfutureamendmenthsc": 9, "reservedforfutureamendmentwig": 10,
    "powerdrivenvesseltowingastern": 11,
    "powerdrivenvesselpushingaheadortowingalongside": 12, "reservedforfutureuse": 13,
    "aissart": 14, "aissartactive": 14, "unknownvalue": 15, "unknown": 15, "undefined": 15,
    "notdefined": 15,
}
_SHIP_TYPE = {
    "wig": 20, "fishing": 30, "towing": 31, "towinglongwide": 32, "dredging": 33, "diving": 34,
    "military": 35, "sailing": 36, "pleasure": 37, "reserved": 38, "hsc": 40, "pilot": 50,
    "sar": 51, "tug": 52, "porttender": 53, "antipollution": 54, "lawenforcement": 55,
    "spare1": 56, "spare2": 57, "medical": 58, "notpartytoconflict": 59, "passenger": 60,
    "cargo": 70, "tanker": 80, "other": 90,
}
_CARGO_DIGIT = {"categoryx": 1, "categoryy": 2, "categoryz": 3, "categoryos": 4}
_EPFD = {
    "undefined": 0, "gps": 1, "glonass": 2, "combinedgpsglonass": 3, "loranc": 4, "chayka": 5,
    "integratednavigationsystem": 6, "surveyed": 7, "galileo": 8, "internalgnss": 15,
}
_DMA_MOBILE = {  # normalised "Type of mobile" -> (msg_type, ais_class, statics msg_type)
    "classa": (1, "A", 5), "classb": (18, "B", 24), "basestation": (4, "base", None),
    "aton": (21, "aton", 21), "sarairborne": (9, "sar", None),
}

# -- expression helpers ---------------------------------------------------------------------------


def _num(name: str, dtype: pl.DataType = pl.Float64) -> pl.Expr:
    return pl.col(name).cast(pl.Float64, strict=False).cast(dtype, strict=False)


def _text(expr: pl.Expr, null_text: str | None = None) -> pl.Expr:
    e = expr.str.strip_chars()
    empty = (e == "") | (e == null_text) if null_text else e == ""
    return pl.when(empty).then(None).otherwise(e)


def _code(name: str, table: dict[str, int], dtype: pl.DataType) -> pl.Expr:
    return (
        pl.col(name)
        .str.to_lowercase()
        .str.replace_all(r"[^0-9a-z]", "")
        .replace_strict(table, default=None, return_dtype=dtype)
    )


def _null_if(e: pl.Expr, cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(None).otherwise(e)


def _pos_zero_null(name: str) -> pl.Expr:
    v = _num(name).round(0)
    return _null_if(v, v <= 0).cast(pl.Int16, strict=False)


def _kinematics(lat: str, lon: str, sog: str, cog: str, hdg: str) -> list[pl.Expr]:
    la, lo, s, c, h = _num(lat), _num(lon), _num(sog), _num(cog), _num(hdg)
    return [
        _null_if(la, la == 91).alias("lat"),
        _null_if(lo, lo == 181).alias("lon"),
        _null_if(s, (s >= 102.3) | (s < 0)).alias("sog_kn"),
        _null_if(c, (c >= 360) | (c < 0)).alias("cog_deg"),
        _null_if(h, (h >= 360) | (h < 0)).alias("heading_deg"),
    ]


# -- the per-chunk pipeline -----------------------------------------------------------------------


def _noaa() -> tuple[list[pl.Expr], list[pl.Expr], pl.Expr, dict[str, pl.Expr]]:
    """Expressions over a text frame with normalised NOAA names: (positions columns, statics
    columns, parsed time, {column: text that must parse as a number/time when present})."""
    cls = _text(pl.col("transceiverclass")).str.to_uppercase()
    nav = _num("status", pl.Int64)
    ts_txt = _text(pl.col("basedatetime"))
    ts = pl.coalesce(
        ts_txt.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.f", strict=False),
        ts_txt.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False),
    ).dt.replace_time_zone("UTC")
    imo = _num_text(_text(pl.col("imo")).str.replace(r"(?i)^imo", ""))
    vt = _num("vesseltype", pl.Int64)
    pos = [
        ts.alias("ts"),
        *_kinematics("lat", "lon", "sog", "cog", "heading"),
        _null_if(nav, (nav < 0) | (nav > 15)).alias("nav_status"),
        pl.when(cls == "A").then(1).when(cls == "B").then(18).alias("msg_type"),
        pl.when(cls.is_in(["A", "B"])).then(cls).alias("ais_class"),
    ]
    stat = [
        pl.when(cls == "A").then(5).when(cls == "B").then(24).alias("msg_type"),
        _null_if(imo, imo <= 0).alias("imo"),
        _text(pl.col("callsign")).alias("callsign"),
        _text(pl.col("vesselname")).alias("shipname"),
        _null_if(vt, (vt < 1) | (vt > 99)).alias("ship_type"),
        _pos_zero_null("length").alias("to_bow_m"),
        _pos_zero_null("width").alias("to_port_m"),
        _null_if(_num("draft"), _num("draft") <= 0).alias("draught_m"),
    ]
    checks = {  # text that must parse when present
        "mmsi": pl.col("mmsi"), "basedatetime": ts_txt, "lat": pl.col("lat"), "lon": pl.col("lon"),
        "sog": pl.col("sog"), "cog": pl.col("cog"), "heading": pl.col("heading"),
    }
    return pos, stat, ts, checks


def _num_text(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def _dma() -> tuple[list[pl.Expr], list[pl.Expr], pl.Expr, dict[str, pl.Expr]]:
    """Same as :func:`_noaa` for DMA names."""
    mob = pl.col("typeofmobile").str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
    pick = lambda i, dt: mob.replace_strict(  # noqa: E731
        {k: v[i] for k, v in _DMA_MOBILE.items()}, default=None, return_dtype=dt
    )
    ts_txt = _text(pl.col("timestamp"))
    ts = ts_txt.str.strptime(pl.Datetime("us"), "%d/%m/%Y %H:%M:%S", strict=False)
    ts = ts.dt.replace_time_zone("UTC")
    eta = _text(pl.col("eta")).str.strptime(pl.Datetime("us"), "%d/%m/%Y %H:%M:%S", strict=False)
    imo = _num_text(_text(pl.col("imo"), "Unknown"))
    base = _code("shiptype", _SHIP_TYPE, pl.Int16)
    digit = _code("cargotype", _CARGO_DIGIT, pl.Int16).fill_null(0)
    ship_type = pl.when(base.is_in([20, 40, 60, 70, 80, 90])).then(base + digit).otherwise(base)
    pos = [
        ts.alias("ts"),
        *_kinematics("latitude", "longitude", "sog", "cog", "heading"),
        _num("rot").alias("rot_deg_min"),
        _code("navigationalstatus", _NAV_STATUS, pl.Int8).alias("nav_status"),
        pick(0, pl.Int8).alias("msg_type"),
        pick(1, pl.Utf8).alias("ais_class"),
    ]
    stat = [
        pick(2, pl.Int8).alias("msg_type"),
        _null_if(imo, imo <= 0).alias("imo"),
        _text(pl.col("callsign"), "Unknown").alias("callsign"),
        _text(pl.col("name"), "Unknown").alias("shipname"),
        ship_type.alias("ship_type"),
        *[_pos_zero_null(k).alias(f"to_{s}_m") for k, s in
          zip("abcd", ("bow", "stern", "port", "starboard"))],
        _null_if(_num("draught"), _num("draught") <= 0).alias("draught_m"),
        _text(pl.col("destination"), "Unknown").alias("destination"),
        eta.dt.strftime("%m-%dT%H:%M").alias("eta"),
        _code("typeofpositionfixingdevice", _EPFD, pl.Int8).alias("epfd"),
    ]
    checks = {
        "mmsi": pl.col("mmsi"), "timestamp": ts_txt, "latitude": pl.col("latitude"),
        "longitude": pl.col("longitude"), "sog": pl.col("sog"), "cog": pl.col("cog"),
        "heading": pl.col("heading"), "rot": pl.col("rot"),
    }
    return pos, stat, ts, checks


_IDENTITY = ("imo", "callsign", "shipname", "ship_type", "to_bow_m", "to_stern_m", "to_port_m",
             "to_starboard_m", "draught_m", "destination", "eta")


def _convert(fmt: str, df: pl.DataFrame, source: str, extra_rejects: pl.DataFrame) -> IngestResult:
    """Text frame with ``__line`` (line numbers) -> IngestResult, plus ``extra_rejects``."""
    names = [c for c in df.columns if c != "__line"]
    need = set(_NOAA_COLS if fmt == "noaa_csv" else _DMA_COLS)  # absent ones become null
    df = df.with_columns(
        [pl.col(c).str.strip_chars() for c in names]
        + [pl.lit(None, pl.Utf8).alias(c) for c in need - set(names)]
    ).with_columns([_null_if(pl.col(c), pl.col(c) == "").alias(c) for c in names])
    pos, stat, ts, checks = (_noaa if fmt == "noaa_csv" else _dma)()

    mmsi = _num_text(pl.col("mmsi"))
    unparsable = pl.any_horizontal(
        [pl.lit(False)]
        + [
            e.is_not_null()
            & (ts if k in ("basedatetime", "timestamp") else e.cast(pl.Float64, strict=False))
            .is_null()
            for k, e in checks.items()
        ]
    )
    lat, lon = _num("lat" if fmt == "noaa_csv" else "latitude"), _num(
        "lon" if fmt == "noaa_csv" else "longitude"
    )
    out_of_range = ((lat.abs() > 90) & (lat != 91)) | ((lon.abs() > 180) & (lon != 181))
    blank = pl.all_horizontal([pl.col(c).is_null() for c in names])
    reason = (
        pl.when(blank).then(pl.lit("blank"))
        .when(mmsi.is_null() | (mmsi <= 0) | unparsable).then(pl.lit("bad_row"))
        .when(out_of_range).then(pl.lit("position_out_of_range"))
    )
    df = df.with_columns(reason.alias("__reason"), mmsi.alias("__mmsi"))
    good = df.filter(pl.col("__reason").is_null())
    bad = df.filter(pl.col("__reason").is_not_null())

    positions = schema.conform(
        "positions",
        good.select(pl.col("__mmsi").alias("mmsi"), *pos, pl.lit(1).alias("n_rx")),
    )
    statics = good.select(pl.col("__mmsi").alias("mmsi"), ts.alias("ts"), *stat)
    statics = statics.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in _IDENTITY
                                                 if c in statics.columns]))
    statics = statics.unique(
        subset=["mmsi", "msg_type", *[c for c in _IDENTITY if c in statics.columns]],
        keep="first", maintain_order=True,
    ).with_columns(pl.lit(1).alias("n_rx"))
    rejects = schema.conform(
        "rejects",
        bad.select(
            pl.lit(source).alias("source"),
            pl.col("__line").alias("line_no"),
            ts.alias("ts"),
            pl.col("__reason").alias("reason"),
            pl.when(pl.col("__reason") == "blank").then(pl.lit(""))
            .otherwise(pl.concat_str([pl.col(c).fill_null("") for c in names], separator=","))
            .alias("raw"),
        ),
    )
    rejects = pl.concat([extra_rejects, rejects]).sort("line_no", maintain_order=True)
    res = IngestResult(
        positions=positions, statics=schema.conform("statics", statics), rejects=rejects
    )
    res.lines_read = df.height + extra_rejects.height
    res.lines_decoded = good.height
    return res


_NOAA_COLS = ("mmsi basedatetime lat lon sog cog heading vesselname imo callsign vesseltype status "
              "length width draft cargo transceiverclass").split()
_DMA_COLS = ("timestamp typeofmobile mmsi latitude longitude navigationalstatus rot sog cog "
             "heading "
             "imo callsign name shiptype cargotype width length typeofpositionfixingdevice draught "
             "destination eta datasourcetype a b c d").split()


# -- readers --------------------------------------------------------------------------------------


def _open(data: Source, stack: ExitStack) -> IO[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(data))
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if not os.path.isfile(path):
            raise SeawatchError(f"{path}: no such file")
        return stack.enter_context(open(path, "rb"))
    if hasattr(data, "read"):
        return data  # type: ignore[return-value]
    raise SeawatchError(
        f"read_provider wants bytes, a path or a binary file object, not {type(data).__name__}"
    )


class _Utf8Clean:
    """Binary reader yielding valid UTF-8: invalid bytes become ``\\xNN`` escapes.

    pyarrow cannot report (or convert) rows holding invalid UTF-8, so bad bytes are escaped before
    parsing; valid input passes through unchanged (decode + encode run at C speed).
    """

    def __init__(self, f: IO[bytes]):
        self._f = f
        self._dec = codecs.getincrementaldecoder("utf-8")("backslashreplace")
        self._buf = bytearray()
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buf) < size):
            chunk = self._f.read(size if size > 0 else 1 << 20)
            self._eof = not chunk
            self._buf += self._dec.decode(chunk, final=self._eof).encode()
        n = len(self._buf) if size < 0 else min(size, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    @property
    def closed(self) -> bool:
        return False


def _read_csv(data: Source, fmt: str, source: str, chunk_rows: int) -> Iterator[IngestResult]:
    with ExitStack() as stack:
        f = _open(data, stack)
        header_line = f.readline()
        if not header_line:
            return
        fields = _split_header(header_line)
        found = _csv_format(fields)
        if found != fmt:
            raise SeawatchError(
                f"{source}: header {header_line[:80]!r} is not {fmt}; {_SUPPORTED}"
            )
        names = [_norm(x) or f"_col{i}" for i, x in enumerate(fields)]
        if len(set(names)) != len(names):
            raise SeawatchError(f"{source}: duplicate column names in header {fields}")

        wrong_width: list[tuple[int, str]] = []  # (line_no, text), in file order

        def on_invalid(row) -> str:
            wrong_width.append((row.number + 1, row.text))
            return "skip"

        options = dict(
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False,
                block_size=int(min(max(chunk_rows * 256, 1 << 20), 64 << 20)),
            ),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=on_invalid, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True,
            ),
        )
        try:
            reader = pacsv.open_csv(_Utf8Clean(f), **options)
        except pa.ArrowInvalid as e:  # a header and nothing else
            if "Empty CSV" in str(e):
                return
            raise
        next_line = 2  # first data line
        buf: list[pl.DataFrame] = []
        n_buf = 0

        def number(n: int) -> np.ndarray:
            """Line numbers of the next ``n`` parsed rows: skip the wrong-width lines."""
            nonlocal next_line
            skip = np.array([ln for ln, _ in wrong_width if ln >= next_line], dtype=np.int64)
            cand = np.arange(next_line, next_line + n + len(skip), dtype=np.int64)
            lines = np.setdiff1d(cand, skip, assume_unique=True)[:n]
            if n:
                next_line = int(lines[-1]) + 1
            return lines

        def emit(df: pl.DataFrame | None, final: bool) -> IngestResult:
            last = None if final or df is None else df["__line"][-1]
            take = [w for w in wrong_width if final or w[0] <= last]
            del wrong_width[: len(take)]
            extra = schema.conform("rejects", pl.DataFrame({
                "source": [source] * len(take), "line_no": [w[0] for w in take],
                "reason": ["bad_row"] * len(take), "raw": [w[1] for w in take],
            }, schema={"source": pl.Utf8, "line_no": pl.Int64, "reason": pl.Utf8, "raw": pl.Utf8}))
            if df is None:
                df = pl.DataFrame(schema={**{n: pl.Utf8 for n in names}, "__line": pl.Int64})
            return _convert(fmt, df, source, extra)

        for batch in reader:
            df = pl.from_arrow(pa.Table.from_batches([batch]))
            df = df.with_columns(pl.Series("__line", number(df.height)))
            buf.append(df)
            n_buf += df.height
            while n_buf >= chunk_rows:
                whole = pl.concat(buf)
                buf, n_buf = [whole.slice(chunk_rows)], whole.height - chunk_rows
                yield emit(whole.head(chunk_rows), final=False)
        if n_buf or wrong_width:
            yield emit(pl.concat(buf) if n_buf else None, final=True)


def _read_parquet(data: Source, source: str, chunk_rows: int) -> Iterator[IngestResult]:
    with ExitStack() as stack:
        f = _open(data, stack)
        if not getattr(f, "seekable", lambda: True)():
            f = io.BytesIO(f.read())  # Parquet needs seeking (its footer is at the end)
        pf = stack.enter_context(pq.ParquetFile(f))
        known = schema.polars_schema("positions")
        unknown = [n for n in pf.schema_arrow.names if n not in known]
        if unknown:
            raise SeawatchError(
                f"{source}: columns {unknown} are not in the seawatch positions schema; "
                f"Parquet input must use only: {', '.join(known)}"
            )
        row0 = 1
        for batch in pf.iter_batches(batch_size=chunk_rows):
            raw = pl.from_arrow(pa.Table.from_batches([batch]))
            df = schema.conform("positions", raw).with_columns(
                pl.int_range(row0, row0 + raw.height, dtype=pl.Int64).alias("__line")
            )
            row0 += raw.height
            lat, lon = pl.col("lat"), pl.col("lon")
            reason = (
                pl.when(pl.col("mmsi").is_null()).then(pl.lit("bad_row"))
                .when(((lat.abs() > 90) & (lat != 91)) | ((lon.abs() > 180) & (lon != 181)))
                .then(pl.lit("position_out_of_range"))
            )
            df = df.with_columns(reason.alias("__reason"))
            good = df.filter(pl.col("__reason").is_null()).drop("__reason", "__line")
            s, c, h = pl.col("sog_kn"), pl.col("cog_deg"), pl.col("heading_deg")
            good = good.with_columns(
                _null_if(lat, lat == 91).alias("lat"), _null_if(lon, lon == 181).alias("lon"),
                _null_if(s, s >= 102.3).alias("sog_kn"), _null_if(c, c >= 360).alias("cog_deg"),
                _null_if(h, h >= 360).alias("heading_deg"),
                pl.col("n_rx").fill_null(1),
            )
            bad = df.filter(pl.col("__reason").is_not_null())
            rejects = schema.conform("rejects", bad.select(
                pl.lit(source).alias("source"), pl.col("__line").alias("line_no"), "ts",
                pl.col("__reason").alias("reason"),
                pl.concat_str([pl.col(n).cast(pl.Utf8).fill_null("") for n in raw.columns],
                              separator=",").alias("raw"),
            ))
            res = IngestResult(positions=schema.conform("positions", good), rejects=rejects)
            res.lines_read, res.lines_decoded = raw.height, good.height
            yield res


def read_provider(
    data: Source, fmt: str, source: str, chunk_rows: int = 1_000_000
) -> Iterator[IngestResult]:
    """Stream a provider table (``noaa_csv``, ``dma_csv``, ``parquet``) as IngestResult chunks.

    ``data`` is bytes, a path to a plain file or a binary file object (decompression is the
    caller's job). ``source`` names the input in rejects. Each chunk holds at most ``chunk_rows``
    parsed rows (plus the wrong-width rows found among them); see the module doc for conventions.
    """
    if chunk_rows < 1:
        raise SeawatchError(f"chunk_rows must be >= 1, not {chunk_rows}")
    if fmt in _REQUIRED:
        return _read_csv(data, fmt, source, chunk_rows)
    if fmt == "parquet":
        return _read_parquet(data, source, chunk_rows)
    if fmt == "nmea":
        raise SeawatchError("read_provider does not read NMEA: use the NMEA decoder")
    raise SeawatchError(f"unknown provider format {fmt!r}: use one of noaa_csv, dma_csv, parquet")
