"""Who a vessel claims to be: MMSI kinds, flag state, call sign series and IMO check digits.

Three ITU facts, shipped as tables in ``seawatch/data`` (sources in ``seawatch/data/README.md``):

- **Maritime Identification Digits** (``mid.csv``: ``mid, state_iso3, itu_name``): the ITU's
  table of MIDs, each mapped to the ISO 3166-1 alpha-3 code of the state or territory it is
  allocated to (477 -> HKG, 416 -> TWN, 231 -> FRO; 306, shared by Bonaire/Sint Eustatius/Saba,
  Curaçao and Sint Maarten, -> NLD).
- **International call sign series** (``callsign_series.csv``: ``first, last, state_iso3,
  itu_name``): the Table of Allocation of International Call Sign Series, ITU Radio Regulations
  Appendix 42. Series of an international organisation (C7 WMO, 4U United Nations, 4Y ICAO) or
  not allocated (E8-E9, H5, J9, S4, T9, V9, YZ, Z4-Z7, Z9, 4N, O/U/X + digit, Q) have an empty
  ``state_iso3``.
- **MMSI formats** of Recommendation ITU-R M.585-9 (``mmsi_kind``) and the check digit of the
  IMO ship identification number, IMO Resolution A.1117(30) (``imo_valid``).

Every function takes a polars Series (or anything ``pl.Series`` accepts) and is vectorised: no
Python loop per row. The tables are read once per process.

MMSIs are integers, as AIS sends them: the leading zeros of a group (``0MIDxxxxx``) or coast
station (``00MIDxxxx``) number are not stored, so ``2191000`` is coast station ``002191000``
(MID 219, Denmark). A number needing more than 9 digits, or 0 or less, is ``invalid``.

**Administration.** An ITU name ``"Sovereign - Territory"`` (e.g. ``"China (People's Republic
of) - Hong Kong (Special Administrative Region of China)"``) belongs to the administration of
the sovereign (CHN); :func:`administration` maps an ISO3 code to it. Call sign series are
allocated to administrations, so comparing a MID's country with a call sign's country is done
at this level (a Bermuda ship, MID 310 BMU, legitimately carries a British ZC call sign).
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .errors import SeawatchError

DATA_DIR = Path(__file__).resolve().parent / "data"

#: The kinds :func:`mmsi_kind` returns (ITU-R M.585-9 formats; M = MID, x/y/z any digit).
MMSI_KINDS = (
    "ship",              # MIDxxxxxx, first digit 2-7
    "group",             # 0MIDxxxxx: group call of ship stations
    "coast_station",     # 00MIDxxxx: coast station, incl. AIS base stations
    "sar_aircraft",      # 111MIDxxx: aircraft in search and rescue
    "aton",              # 99MIDxxxx: AIS aid to navigation (physical, virtual or synthetic)
    "craft_associated",  # 98MIDxxxx: craft associated with a parent ship (tender, lifeboat)
    "diver",             # 8MIDxxxxx: handheld VHF transceiver with DSC and GNSS (e.g. a diver's)
    "sart_mob_epirb",    # 970yyzzzz AIS-SART, 972yyzzzz man overboard device, 974yyzzzz EPIRB-AIS
    "amrd",              # 979yyzzzz: autonomous maritime radio device, group B (e.g. a net buoy)
    "invalid",           # none of the above, or a MID the ITU has not allocated
)

#: Ship-station numbers that are the shape of a ship MMSI but are placeholders in practice
#: (factory defaults, unconfigured or made-up transponders). :func:`mmsi_is_valid_ship` rejects:
JUNK_PATTERNS = (
    "all nine digits the same (000000000, 222222222, ..., 999999999)",
    "nine consecutive digits ascending or descending, wrapping 9-0 (123456789, 234567890, 987654321, 765432109)",
    "a MID followed by six equal digits (412000000, 431111111, 413999999): the unconfigured default",
    "a MID followed by 123456 or 654321 (412123456)",
)

#: Call signs that say "none": treated as not sent (no country, not a change).
PLACEHOLDER_CALLSIGNS = frozenset({
    "NONE", "NIL", "NULL", "NA", "N/A", "NOCALL", "NOCALLSIGN", "CALLSIGN", "UNKNOWN", "UNKNOW", "UNKOWN",
    "TEST", "TBA", "TBD", "XXXX", "XXXXX", "XXXXXX", "XXXXXXX", "0", "00", "000", "0000", "00000",
    "000000", "0000000", "1234", "12345", "123456", "1234567", "ABCD", "ABCDE", "ABCDEF", "ABCDEFG",
})

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"


# -- the tables -------------------------------------------------------------------------------------
def _read_csv(name: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    path = DATA_DIR / name
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise SeawatchError(f"{path} is missing: reinstall seawatch (pip install -e .)") from None
    if not rows or tuple(rows[0].keys()) != fields:
        raise SeawatchError(f"{path} must have the columns {', '.join(fields)}")
    return rows


@functools.cache
def mid_table() -> pl.DataFrame:
    """The MID table: ``mid`` (Int16), ``state_iso3``, ``itu_name``; one row per MID."""
    rows = _read_csv("mid.csv", ("mid", "state_iso3", "itu_name"))
    df = pl.DataFrame(
        {"mid": [int(r["mid"]) for r in rows], "state_iso3": [r["state_iso3"] for r in rows],
         "itu_name": [r["itu_name"] for r in rows]},
        schema={"mid": pl.Int16, "state_iso3": pl.Utf8, "itu_name": pl.Utf8},
    )
    if df["mid"].is_duplicated().any() or not df["mid"].is_between(201, 775).all():
        raise SeawatchError("seawatch/data/mid.csv: MIDs must be unique and within 201-775")
    return df


@functools.cache
def callsign_table() -> pl.DataFrame:
    """The call sign series table: ``first``, ``last``, ``state_iso3`` (null for international
    organisations and series not allocated), ``itu_name``."""
    rows = _read_csv("callsign_series.csv", ("first", "last", "state_iso3", "itu_name"))
    for r in rows:
        a, b = r["first"], r["last"]
        ok = (len(a) == len(b) == 3 and a[0] == b[0] and all(c in _ALNUM for c in a + b)
              and (a[1] in _LETTERS) == (b[1] in _LETTERS) and a[2] in _LETTERS and b[2] in _LETTERS
              and a <= b)
        if not ok:
            raise SeawatchError(f"seawatch/data/callsign_series.csv: bad series {a}-{b}")
    return pl.DataFrame(
        {"first": [r["first"] for r in rows], "last": [r["last"] for r in rows],
         "state_iso3": [r["state_iso3"] or None for r in rows], "itu_name": [r["itu_name"] for r in rows]},
        schema={"first": pl.Utf8, "last": pl.Utf8, "state_iso3": pl.Utf8, "itu_name": pl.Utf8},
    )


@functools.cache
def _assigned_mids() -> np.ndarray:
    """Boolean lookup array over 0..999: the MID is allocated by the ITU."""
    a = np.zeros(1000, dtype=bool)
    a[mid_table()["mid"].to_numpy()] = True
    return a


def _span(a: str, b: str) -> str:
    pool = _LETTERS if a in _LETTERS else _DIGITS
    return pool[pool.index(a): pool.index(b) + 1]


@functools.cache
def _callsign_maps() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Three-, two- and one-character prefix -> ISO3 ('' for organisations / not allocated).

    A two-character prefix is in the map only when the whole block (third character A-Z) has one
    holder, and a one-character prefix only when all 26 two-letter blocks have the same holder:
    RR Article 19 lets such a holder use a digit in the next position (K1ABC, JD2345, B2AA)."""
    t = callsign_table()
    m3: dict[str, str] = {}
    for a, b, iso in zip(t["first"], t["last"], t["state_iso3"]):  # one loop per table row, at load
        for c2 in _span(a[1], b[1]):  # the series is the range first..last (SSN-STZ: SSN-SSZ, STA-STZ)
            for c3 in _LETTERS:
                key = a[0] + c2 + c3
                if not a <= key <= b:
                    continue
                if key in m3:
                    raise SeawatchError(f"seawatch/data/callsign_series.csv: {key} is in two series")
                m3[key] = iso or ""
    m2: dict[str, str] = {}
    for c1 in _ALNUM:
        for c2 in _ALNUM:
            holders = {m3.get(c1 + c2 + c3) for c3 in _LETTERS}
            if len(holders) == 1 and None not in holders:
                m2[c1 + c2] = holders.pop()
    m1: dict[str, str] = {}
    for c1 in _ALNUM:
        holders = {m2.get(c1 + c2) for c2 in _LETTERS}
        if len(holders) == 1 and None not in holders:
            m1[c1] = holders.pop()
    return m3, m2, m1


@functools.cache
def _callsign_map_frames() -> tuple[pl.DataFrame, ...]:
    """:func:`_callsign_maps` as frames ``k3, s3`` / ``k2, s2`` / ``k1, s1`` (prefix, ISO3) to
    join on: built once, and a join hashes the few call signs, not the 26,000 prefixes."""
    return tuple(pl.DataFrame({f"k{n}": list(m), f"s{n}": list(m.values())}, schema={f"k{n}": pl.Utf8, f"s{n}": pl.Utf8})
                 for n, m in zip((3, 2, 1), _callsign_maps()))


@functools.cache
def _administration_series() -> tuple[pl.Series, pl.Series]:
    """:func:`_administrations` as a (keys, values) Series pair for ``replace_strict``."""
    m = _administrations()
    return pl.Series(list(m), dtype=pl.Utf8), pl.Series(list(m.values()), dtype=pl.Utf8)


@functools.cache
def _administrations() -> dict[str, str]:
    """ISO3 -> ISO3 of its administration ('Sovereign - Territory' names -> the sovereign)."""
    names: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for t in (mid_table(), callsign_table()):
        for iso, name in zip(t["state_iso3"], t["itu_name"]):
            if iso is None:
                continue
            if " - " in name:
                pairs.append((iso, name.split(" - ", 1)[0]))
            else:
                names.setdefault(name, iso)
    out = {iso: iso for iso in names.values()}
    for iso, sovereign in pairs:
        if sovereign not in names:
            raise SeawatchError(f"seawatch/data: no row names the sovereign {sovereign!r} of {iso}")
        if out.get(iso, names[sovereign]) not in (names[sovereign], iso):
            raise SeawatchError(f"seawatch/data: {iso} has two administrations")
        out[iso] = names[sovereign]
    return out


# -- input coercion ---------------------------------------------------------------------------------
def _series(x: Any, what: str) -> pl.Series:
    if isinstance(x, pl.Series):
        return x
    if isinstance(x, (pl.DataFrame, pl.LazyFrame, str, bytes, int)):
        raise SeawatchError(f"{what}: pass a polars Series (or a list / numpy array), e.g. df['{what}']")
    try:
        return pl.Series(what, x)
    except (TypeError, ValueError) as e:
        raise SeawatchError(f"{what}: cannot make a Series of {type(x).__name__}: {e}") from None


def _ints(x: Any, what: str) -> pl.Series:
    """A Series of numbers as Int64; text is read as digits (a leading 'IMO' is allowed)."""
    s = _series(x, what)
    if s.dtype == pl.Utf8:
        s = s.str.strip_chars().str.replace(r"(?i)^imo\s*", "").cast(pl.Int64, strict=False)
    elif s.dtype.is_float():
        s = s.fill_nan(None).cast(pl.Int64, strict=False)
    elif s.dtype.is_integer() or s.dtype == pl.Null:
        s = s.cast(pl.Int64)
    else:
        raise SeawatchError(f"{what}: expected integers, got a Series of {s.dtype}")
    return s


# -- MMSI -------------------------------------------------------------------------------------------
_KIND_CODE = {k: i for i, k in enumerate(MMSI_KINDS)}


def _mmsi_np(mmsi: Any) -> tuple[np.ndarray, np.ndarray]:
    """(MMSIs as int64 with nulls as 0, null mask)."""
    s = _ints(mmsi, "mmsi")
    null = s.is_null().to_numpy()
    return s.fill_null(0).to_numpy().astype(np.int64, copy=False), null


def _classify(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kind code into MMSI_KINDS, MID of any kind that embeds one or -1) for int64 MMSIs."""
    in_range = (m > 0) & (m <= 999_999_999)
    d3 = m // 1_000_000  # first three digits of the 9-digit form
    mid = np.select(
        [~in_range, m >= 990_000_000, m >= 980_000_000, m >= 900_000_000, m >= 800_000_000, m >= 200_000_000,
         d3 == 111, m >= 100_000_000, m >= 10_000_000, m >= 1_000_000],
        [-1, (m // 10_000) % 1000, (m // 10_000) % 1000, -1, (m // 100_000) % 1000, d3,
         (m // 1000) % 1000, -1, m // 100_000, m // 10_000],
        default=-1,
    )
    ok = (mid >= 0) & _assigned_mids()[np.clip(mid, 0, 999)]
    c = _KIND_CODE
    kind = np.select(
        [~in_range, np.isin(d3, (970, 972, 974)), d3 == 979, ~ok, m >= 990_000_000, m >= 980_000_000,
         m >= 800_000_000, m >= 200_000_000, d3 == 111, m >= 10_000_000],
        [c["invalid"], c["sart_mob_epirb"], c["amrd"], c["invalid"], c["aton"], c["craft_associated"],
         c["diver"], c["ship"], c["sar_aircraft"], c["group"]],
        default=c["coast_station"],
    )
    return kind, np.where(ok | ((m >= 200_000_000) & (m < 800_000_000)), mid, -1)


def _junk(m: np.ndarray) -> np.ndarray:
    """:data:`JUNK_PATTERNS` for int64 MMSIs."""
    d = [(m // 10**k) % 10 for k in range(8, -1, -1)]
    same = np.logical_and.reduce([d[i] == d[0] for i in range(1, 9)])
    up = np.logical_and.reduce([d[i] == (d[i - 1] + 1) % 10 for i in range(1, 9)])
    down = np.logical_and.reduce([d[i] == (d[i - 1] + 9) % 10 for i in range(1, 9)])
    tail = m % 1_000_000
    tail_same = np.logical_and.reduce([d[i] == d[3] for i in range(4, 9)])
    ship_shape = (m >= 200_000_000) & (m < 800_000_000)
    return same | up | down | (ship_shape & (tail_same | np.isin(tail, (123456, 654321))))


def _out(values: np.ndarray, null: np.ndarray, name: str, dtype: pl.DataType) -> pl.Series:
    """A Series of ``values`` with nulls where ``null``."""
    s = pl.Series(name, values, dtype=dtype)
    return s.scatter(np.flatnonzero(null), None) if null.any() else s


def _text(codes: np.ndarray, null: np.ndarray, table: list[str | None], name: str) -> pl.Series:
    """codes (index into ``table``, -1 = null) -> a Utf8 Series."""
    idx = _out(np.where(codes < 0, 0, codes), null | (codes < 0), "i", pl.Int64)
    return pl.Series(name, table, dtype=pl.Utf8).gather(idx).rename(name)


def mmsi_kind(mmsi: Any) -> pl.Series:
    """The ITU-R M.585 kind of each MMSI, one of :data:`MMSI_KINDS` (null for a null MMSI).

    A kind that embeds a MID (ship, group, coast station, SAR aircraft, AtoN, associated craft,
    diver) requires that MID to be allocated by the ITU; otherwise the number is ``invalid``.

    >>> mmsi_kind([431000001, 2191000, 992191234, 111219500, 970012345, 200000001]).to_list()
    ['ship', 'coast_station', 'aton', 'sar_aircraft', 'sart_mob_epirb', 'invalid']
    """
    m, null = _mmsi_np(mmsi)
    kind, _ = _classify(m)
    return _text(kind, null, list(MMSI_KINDS), "mmsi_kind")


def mid_of(mmsi: Any, *, any_kind: bool = False) -> pl.Series:
    """The MID (Int16) of each ship-station MMSI ``MIDxxxxxx`` (9 digits, first 2-7), whether or
    not the ITU allocated it (so 200123456 -> 200); null for other kinds. With ``any_kind`` also
    the (allocated) MID inside group, coast station, SAR aircraft, AtoN, associated-craft and
    diver numbers.

    >>> mid_of([431000001, 992191234, 12345]).to_list()
    [431, None, None]
    """
    m, null = _mmsi_np(mmsi)
    if any_kind:
        _, mid = _classify(m)
    else:
        mid = np.where((m >= 200_000_000) & (m < 800_000_000), m // 1_000_000, -1)
    return _out(mid.astype(np.int16), null | (mid < 0), "mid", pl.Int16)


@functools.cache
def _mid_iso_codes() -> tuple[np.ndarray, list[str]]:
    """(MID 0..999 -> index into the ISO3 list or -1, the ISO3 list)."""
    t = mid_table()
    isos = sorted(set(t["state_iso3"]))
    codes = np.full(1000, -1, dtype=np.int64)
    codes[t["mid"].to_numpy()] = [isos.index(i) for i in t["state_iso3"]]
    return codes, isos


def flag_state(mmsi: Any) -> pl.Series:
    """ISO 3166 alpha-3 of the state or territory the MMSI's MID is allocated to (any kind that
    embeds a MID: a Japanese coast station or AtoN is JPN too); null when there is no MID or the
    ITU has not allocated it.

    >>> flag_state([431000001, 477000123, 416000001, 200000001]).to_list()
    ['JPN', 'HKG', 'TWN', None]
    """
    m, null = _mmsi_np(mmsi)
    kind, mid = _classify(m)
    codes, isos = _mid_iso_codes()
    c = np.where((mid >= 0) & (kind != _KIND_CODE["invalid"]), codes[np.clip(mid, 0, 999)], -1)
    return _text(c, null, isos, "flag_state")


def mmsi_is_valid_ship(mmsi: Any) -> pl.Series:
    """True where the MMSI can be a ship station: 9 digits, first digit 2-7, a MID the ITU has
    allocated, and none of :data:`JUNK_PATTERNS` (null for a null MMSI).

    >>> mmsi_is_valid_ship([431000001, 123456789, 412000000, 200000001, 12345]).to_list()
    [True, False, False, False, False]
    """
    m, null = _mmsi_np(mmsi)
    kind, _ = _classify(m)
    return _out((kind == _KIND_CODE["ship"]) & ~_junk(m), null, "valid_ship", pl.Boolean)


#: the reasons :func:`mmsi_problem` gives
MMSI_PROBLEMS = ("out_of_range", "pattern", "short", "mid_unassigned", "not_a_ship_number", "bad_format")


def mmsi_problem(mmsi: Any) -> pl.Series:
    """Why an MMSI cannot be a ship station, or null if it can (``mmsi_is_valid_ship``):
    ``out_of_range`` (0, negative, more than 9 digits), ``not_a_ship_number`` (a valid number of
    another kind, e.g. an AtoN), ``pattern`` (:data:`JUNK_PATTERNS`), ``short`` (leading zeros
    and not a valid group or coast-station number: fewer than 9 digits), ``mid_unassigned``
    (MIDxxxxxx with a MID the ITU has not allocated) or ``bad_format`` (no ITU format at all)."""
    m, null = _mmsi_np(mmsi)
    kind, _ = _classify(m)
    k = _KIND_CODE
    code = np.select(
        [(m <= 0) | (m > 999_999_999), (kind != k["ship"]) & (kind != k["invalid"]), _junk(m), kind == k["ship"],
         m < 100_000_000, (m >= 200_000_000) & (m < 800_000_000)],
        [0, 4, 1, -1, 2, 3],
        default=5,
    )
    return _text(code, null, list(MMSI_PROBLEMS), "mmsi_problem")


# -- call signs -------------------------------------------------------------------------------------
def _text_series(x: Any, what: str) -> pl.Series:
    s = _series(x, what)
    if s.dtype == pl.Null:
        return s.cast(pl.Utf8)
    if s.dtype not in (pl.Utf8, pl.Categorical) and not isinstance(s.dtype, pl.Enum):
        raise SeawatchError(f"{what}: expected text, got a Series of {s.dtype}")
    return s.cast(pl.Utf8)


def _per_unique(s: pl.Series, fn: Any, name: str) -> pl.Series:
    """``fn`` computed once per distinct value of ``s`` (call signs repeat: one per vessel)."""
    if s.len() < 1000:
        return fn(s).rename(name)
    u = s.unique()
    if u.len() * 2 > s.len():
        return fn(s).rename(name)
    table = pl.DataFrame({"k": u, "v": fn(u)})
    return pl.DataFrame({"k": s}).join(table, on="k", how="left", maintain_order="left")["v"].rename(name)


def normalise_callsign(callsign: Any) -> pl.Series:
    """Upper case, spaces and hyphens removed, placeholders (:data:`PLACEHOLDER_CALLSIGNS`) and
    empty strings null."""
    return _per_unique(_text_series(callsign, "callsign"), _normalise, "callsign")


def _normalise(s: pl.Series) -> pl.Series:
    n = s.str.to_uppercase().str.replace_all(r"[\s\-]", "")
    return pl.DataFrame({"c": n}).select(
        pl.when((pl.col("c").str.len_chars() > 0) & ~pl.col("c").is_in(list(PLACEHOLDER_CALLSIGNS)))
        .then(pl.col("c")).alias("callsign")
    ).to_series()


def callsign_state(callsign: Any) -> pl.Series:
    """ISO 3166 alpha-3 of the holder of the call sign's ITU series (RR Appendix 42): the
    longest of the 3-, 2- and 1-character prefixes that the table assigns, case-insensitive,
    spaces and hyphens ignored. Null for series of international organisations, series not
    allocated, placeholders ('NONE', '0000', ...), empty call signs and call signs with
    characters other than letters and digits.

    >>> callsign_state(["JD2345", "7jab", "DSAB3", "P5ZZ", "3F-AB9", "4UABC"]).to_list()
    ['JPN', 'JPN', 'KOR', 'PRK', 'PAN', None]
    """
    return _per_unique(_text_series(callsign, "callsign"), _callsign_state, "callsign_state")


def _callsign_state(s: pl.Series) -> pl.Series:
    m3, m2, m1 = _callsign_map_frames()
    c = _normalise(s)
    df = pl.DataFrame({"c": c}).with_columns(
        k3=pl.when(pl.col("c").str.len_chars() >= 3).then(pl.col("c").str.slice(0, 3)),
        k2=pl.col("c").str.slice(0, 2), k1=pl.col("c").str.slice(0, 1),
    )
    for m in (m3, m2, m1):  # a prefix not in a map (or null) gives null
        df = df.join(m, on=m.columns[0], how="left", maintain_order="left")
    state = pl.coalesce("s3", "s2", "s1")
    ok = pl.col("c").str.contains(r"^[A-Z0-9]+$") & (state != "")
    return df.select(pl.when(ok).then(state).alias("callsign_state")).to_series()


def callsign_plausible(callsign: Any) -> pl.Series:
    """True where the call sign has the shape of a ship station's (RR Article 19): 4 to 7
    letters and digits after normalisation, not all digits and not one repeated character,
    and not a placeholder. Null for a null / empty call sign."""
    return _per_unique(_text_series(callsign, "callsign"), _plausible, "plausible")


def _plausible(s: pl.Series) -> pl.Series:
    c = _normalise(s)
    e = pl.col("c")
    return pl.DataFrame({"c": c}).select(
        pl.when(e.is_not_null()).then(
            e.str.contains(r"^[A-Z0-9]{4,7}$") & e.str.contains(r"[A-Z]")
            & (e.str.slice(1) != e.str.head(-1))  # s[1:] == s[:-1]: one repeated character
        ).alias("plausible")
    ).to_series()


def administration(iso3: Any) -> pl.Series:
    """The ISO3 of the ITU administration of each state or territory code: HKG, MAC, TWN -> CHN,
    FRO, GRL -> DNK, BMU, GIB -> GBR, ABW -> NLD, COK, NIU -> NZL; a state -> itself."""
    s = _series(iso3, "iso3")
    if s.dtype not in (pl.Utf8, pl.Null):
        raise SeawatchError(f"iso3: expected text, got a Series of {s.dtype}")
    return s.cast(pl.Utf8).replace_strict(*_administration_series(), default=None, return_dtype=pl.Utf8).rename("administration")


# -- IMO --------------------------------------------------------------------------------------------
def imo_valid(imo: Any) -> pl.Series:
    """True where the IMO ship identification number passes its check digit (IMO Res. A.1117(30):
    seven digits, the first six weighted 7, 6, 5, 4, 3, 2, the sum's last digit is the seventh);
    False for a failed check or a number that is not seven digits; null where the number is
    null or 0 (ITU-R M.1371: 0 = not available).

    >>> imo_valid([9074729, 9074728, 0, None]).to_list()
    [True, False, None, None]
    """
    s = _ints(imo, "imo")
    i = pl.col("i")
    d = [(i // 10**k) % 10 for k in range(6, -1, -1)]
    check = (d[0] * 7 + d[1] * 6 + d[2] * 5 + d[3] * 4 + d[4] * 3 + d[5] * 2) % 10 == d[6]
    return pl.DataFrame({"i": s}).select(
        pl.when(i.is_null() | (i == 0)).then(None)
        .when((i < 1_000_000) | (i > 9_999_999)).then(pl.lit(False))
        .otherwise(check).alias("imo_valid")
    ).to_series()


__all__ = [
    "JUNK_PATTERNS",
    "MMSI_KINDS",
    "MMSI_PROBLEMS",
    "PLACEHOLDER_CALLSIGNS",
    "administration",
    "callsign_plausible",
    "callsign_state",
    "callsign_table",
    "flag_state",
    "imo_valid",
    "mid_of",
    "mid_table",
    "mmsi_is_valid_ship",
    "mmsi_kind",
    "mmsi_problem",
    "normalise_callsign",
]
