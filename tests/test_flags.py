"""seawatch.flags: MID and call sign tables, MMSI kinds, IMO check digits."""

from __future__ import annotations

import csv
import re

import numpy as np
import polars as pl
import pytest

from seawatch import flags
from seawatch.errors import SeawatchError

# -- the MID table ----------------------------------------------------------------------------------


def test_mid_table_is_one_row_per_mid_with_iso3_codes():
    t = flags.mid_table()
    assert t.height == 292 and t["mid"].n_unique() == 292
    assert t.schema == pl.Schema({"mid": pl.Int16, "state_iso3": pl.Utf8, "itu_name": pl.Utf8})
    assert t["state_iso3"].str.contains(r"^[A-Z]{3}$").all()
    assert t["mid"].is_between(201, 775).all()


@pytest.mark.parametrize(
    "mids, iso3",
    [
        ([431, 432], "JPN"), ([440, 441], "KOR"), ([445], "PRK"), ([412, 413, 414], "CHN"), ([416], "TWN"),
        ([273], "RUS"), ([477], "HKG"), ([453], "MAC"), ([511], "PLW"), ([636, 637], "LBR"), ([538], "MHL"),
        ([351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373, 374], "PAN"), ([366, 367, 368, 369, 338, 303], "USA"),
        ([232, 233, 234, 235], "GBR"), ([236], "GIB"), ([310], "BMU"), ([231], "FRO"), ([306], "NLD"), ([307], "ABW"),
        ([563, 564, 565, 566], "SGP"), ([229, 215, 248, 249, 256], "MLT"), ([209, 210, 212], "CYP"),
    ],
)
def test_mids_of_east_asia_and_the_flags_of_convenience(mids, iso3):
    t = flags.mid_table().filter(pl.col("mid").is_in(mids))
    assert t.height == len(mids) and set(t["state_iso3"]) == {iso3}


def _tokens(name: str) -> frozenset[str]:
    n = name.lower().translate(str.maketrans("ôçü", "ocu"))
    return frozenset(w for w in re.findall(r"[a-z]+", n) if w not in {"of", "the", "and", "in", "with", "accordance"})


#: where a third-party transcription words an allocation differently (same allocation; see seawatch/data/README.md)
DOCUMENTED = {
    "MaritimeIdentificationDigits.csv": {443: "cites 'Resolution 99 Rev. Dubai, 2018'"},
    "libais_mid.csv": {
        443: "cites 'Resolution 99 Rev. Guadalajara, 2010'",
        271: "former name Turkey (Türkiye since 2022)",
        274: "former name The Former Yugoslav Republic of Macedonia (North Macedonia since 2019)",
        669: "former name Swaziland (Eswatini since 2018)",
        306: "'Antilles' wording from before the 2010 dissolution of the Netherlands Antilles",
    },
}


@pytest.mark.parametrize("name, mid_col, name_col", [
    ("MaritimeIdentificationDigits.csv", "MID", "Allocated_to"),
    ("libais_mid.csv", "prefix", "country"),
])
def test_mid_table_agrees_with_both_third_party_transcriptions(shared_data, name, mid_col, name_col):
    path = shared_data / "mid-itu" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    mine = dict(zip(flags.mid_table()["mid"].to_list(), flags.mid_table()["itu_name"].to_list()))
    theirs: dict[int, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            theirs.setdefault(int(r[mid_col]), []).append(r[name_col])
    assert set(theirs) <= set(mine), f"MIDs missing here: {sorted(set(theirs) - set(mine))}"
    disagree = {
        mid: (names, mine[mid]) for mid, names in theirs.items()
        if not all(_tokens(n) <= _tokens(mine[mid]) for n in names)  # every one of their words is in ours
    }
    assert set(disagree) == set(DOCUMENTED[name]), disagree
    if name == "MaritimeIdentificationDigits.csv":
        assert set(theirs) == set(mine)  # the 2023 list: exactly the same MIDs
    else:
        assert set(mine) - set(theirs) == {374, 471, 550}  # allocated after the older list


# -- the call sign table ----------------------------------------------------------------------------


def test_callsign_table_covers_every_block_once():
    t = flags.callsign_table()
    assert 300 <= t.height <= 400
    m3, _m2, m1 = flags._callsign_maps()  # building them checks that no prefix is in two series
    letters, digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "23456789"
    missing = {
        c1 + c2 for c1 in letters + digits for c2 in letters + (digits if c1 in letters else "")
        for c3 in letters if c1 + c2 + c3 not in m3
    }
    # the only blocks not listed: letter + digit under a whole-letter holder (RR Art. 19: K1ABC)
    assert missing == {c1 + d for c1 in "BFGIKMNQRW" for d in digits}
    assert m1 == {"2": "GBR", "B": "CHN", "F": "FRA", "G": "GBR", "I": "ITA", "K": "USA", "M": "GBR",
                  "N": "USA", "Q": "", "R": "RUS", "W": "USA"}
    iso = t["state_iso3"].drop_nulls()
    assert iso.str.contains(r"^[A-Z]{3}$").all()
    # organisations and gaps are marked, with no state
    nostate = t.filter(pl.col("state_iso3").is_null())["itu_name"].to_list()
    assert all("international organization" in n or n.startswith("(not a") for n in nostate)
    assert {"C7A", "4UA", "4YA", "Z4A", "QAA", "YZA", "4NA", "T9A"} <= set(t.filter(pl.col("state_iso3").is_null())["first"])


@pytest.mark.parametrize(
    "callsign, state",
    [
        ("JD2345", "JPN"), ("7JAB", "JPN"), ("8NAB", "JPN"), ("JA-1234", "JPN"), ("ja 1234", "JPN"), ("JSZZ", "JPN"),
        ("DSAB3", "KOR"), ("HLAB", "KOR"), ("D7AB", "KOR"), ("D9ZZ", "KOR"), ("6KAB", "KOR"), ("6NZZ", "KOR"),
        ("P5ZZ", "PRK"), ("P9AB", "PRK"), ("HMAB", "PRK"),
        ("UBAA", "RUS"), ("RAAB", "RUS"), ("UIZZ", "RUS"), ("UJAA", "UZB"),
        ("BPAA", "CHN"), ("BMAA", "CHN"),  # the ITU allocates all of B to China; Taiwan's call signs are in it
        ("B2AB", "CHN"), ("3HAB", "CHN"), ("XSAB", "CHN"), ("VRAB3", "HKG"), ("XXAB", "MAC"),
        ("3FAB9", "PAN"), ("3EAB", "PAN"), ("HOAB", "PAN"), ("HPZZ", "PAN"), ("H3AB", "PAN"), ("H9AB", "PAN"),
        ("A8AB", "LBR"), ("D5AB", "LBR"), ("ELAB", "LBR"), ("5LAB", "LBR"), ("5MZZ", "LBR"), ("6ZAB", "LBR"),
        ("V7AB", "MHL"), ("T8AB", "PLW"), ("9VAB", "SGP"), ("S6AB", "SGP"), ("9HAB", "MLT"), ("C6AB", "BHS"),
        ("SSMA", "EGY"), ("SSNA", "SDN"), ("STAB", "SDN"), ("3DMA", "SWZ"), ("3DNA", "FJI"),
        ("K1ABC", "USA"), ("WDC1234", "USA"), ("AL7AB", "USA"), ("AMAB", "ESP"), ("ZCAB3", "GBR"), ("VPAB", "GBR"),
        ("E5AB", "COK"), ("P4AB", "ABW"), ("PJAB", "NLD"), ("4OAB", "MNE"), ("YTAB", "SRB"), ("E7AB", "BIH"),
    ],
)
def test_known_call_signs_map_to_their_series_holder(callsign, state):
    assert flags.callsign_state([callsign]).to_list() == [state]


@pytest.mark.parametrize(
    "callsign",
    ["4UABC", "C7AB", "4YAB", "Z6AB", "T9AB", "YZAB", "4NAB", "QAAB", "A1AB", "SS1A", "X2AB", "U5AB",
     "NONE", "N/A", "0000", "", None, "JA.1234"],
)
def test_call_signs_of_no_state_have_no_state(callsign):
    assert flags.callsign_state(pl.Series([callsign], dtype=pl.Utf8)).to_list() == [None]


def test_callsign_plausible_is_the_shape_of_a_ship_station():
    got = flags.callsign_plausible(["JD2345", "7JAB", "JA 1234", "JA", "ABC12345", "AAAA", "1234", "NONE", None])
    assert got.to_list() == [True, True, True, False, False, False, None, None, None]


def test_administration_joins_territories_to_their_sovereign():
    got = flags.administration(["HKG", "MAC", "TWN", "FRO", "GRL", "BMU", "GIB", "ABW", "COK", "NIU", "ATF", "JPN", None])
    assert got.to_list() == ["CHN", "CHN", "CHN", "DNK", "DNK", "GBR", "GBR", "NLD", "NZL", "NZL", "FRA", "JPN", None]
    every = pl.concat([flags.mid_table()["state_iso3"], flags.callsign_table()["state_iso3"].drop_nulls()]).unique()
    assert flags.administration(every).null_count() == 0


# -- MMSI -------------------------------------------------------------------------------------------

#: ITU-R M.585-9 formats (MID 431 Japan, 219 Denmark); integers, leading zeros not stored
KINDS = [
    (431123456, "ship"),
    (43112345, "group"),             # 043112345
    (4310001, "coast_station"),      # 004310001
    (2191000, "coast_station"),      # 002191000 (a Danish AIS base station)
    (111431501, "sar_aircraft"),
    (994316001, "aton"),
    (984312001, "craft_associated"),
    (843112345, "diver"),
    (970012345, "sart_mob_epirb"), (972012345, "sart_mob_epirb"), (974012345, "sart_mob_epirb"),
    (979123456, "amrd"),
    (200123456, "invalid"),          # MID 200 is not allocated
    (12345, "invalid"),              # 000012345: coast-station form with MID 001
    (123456789, "invalid"), (111111111, "invalid"), (999999999, "invalid"),
    (0, "invalid"), (-5, "invalid"), (1_000_000_000, "invalid"),
    (None, None),
]


def test_mmsi_kinds_follow_itu_r_m585():
    mmsi = pl.Series([m for m, _ in KINDS], dtype=pl.Int64)
    assert flags.mmsi_kind(mmsi).to_list() == [k for _, k in KINDS]
    assert {k for _, k in KINDS if k} <= set(flags.MMSI_KINDS)


def test_mid_of_and_flag_state():
    m = [431000001, 477000123, 416000001, 200000001, 2191000, 992191234, 12345, None]
    assert flags.mid_of(m).to_list() == [431, 477, 416, 200, None, None, None, None]
    assert flags.mid_of(m).dtype == pl.Int16
    assert flags.mid_of(m, any_kind=True).to_list() == [431, 477, 416, 200, 219, 219, None, None]
    assert flags.flag_state(m).to_list() == ["JPN", "HKG", "TWN", None, "DNK", "DNK", None, None]
    # MMSIs as text work too
    assert flags.flag_state(pl.Series(["440123456", " 445000001", "x"])).to_list() == ["KOR", "PRK", None]


def test_valid_ship_mmsis_and_why_not():
    cases = [
        (431000001, True, None), (412345678, True, None), (636012345, True, None),
        (123456789, False, "pattern"), (111111111, False, "pattern"), (999999999, False, "pattern"),
        (555555555, False, "pattern"), (666666666, False, "pattern"),  # MIDs 555 / 666 exist: still junk
        (234567890, False, "pattern"), (765432109, False, "pattern"),
        (412000000, False, "pattern"), (431999999, False, "pattern"), (412123456, False, "pattern"),
        (12345, False, "short"), (200456781, False, "mid_unassigned"), (150000000, False, "bad_format"),
        (0, False, "out_of_range"), (1_234_567_890, False, "out_of_range"),
        (992191234, False, "not_a_ship_number"), (2191000, False, "not_a_ship_number"),
        (None, None, None),
    ]
    m = pl.Series([c[0] for c in cases], dtype=pl.Int64)
    assert flags.mmsi_is_valid_ship(m).to_list() == [c[1] for c in cases]
    assert flags.mmsi_problem(m).to_list() == [c[2] for c in cases]


# -- IMO --------------------------------------------------------------------------------------------


def test_imo_check_digit():
    got = flags.imo_valid([9074729, 9074728, 9321483, 0, None, 123, 12345678, -9074729])
    assert got.to_list() == [True, False, True, None, None, False, False, False]
    assert flags.imo_valid(pl.Series(["IMO 9074729", "9074728", None])).to_list() == [True, False, None]
    assert flags.imo_valid(pl.Series([9074729.0, float("nan")])).to_list() == [True, None]


# -- use --------------------------------------------------------------------------------------------


def test_wrong_arguments_say_what_to_pass():
    with pytest.raises(SeawatchError, match="pass a polars Series"):
        flags.mmsi_kind(431000001)
    with pytest.raises(SeawatchError, match="expected text"):
        flags.callsign_state(pl.Series([1, 2]))
    with pytest.raises(SeawatchError, match="expected integers"):
        flags.imo_valid(pl.Series([True]))


def test_vectorised_over_a_million_mmsis():
    rng = np.random.default_rng(0)
    m = pl.Series(rng.integers(1, 999_999_999, 1_000_000), dtype=pl.Int64)
    cs = pl.Series(rng.choice(["JD2345", "BPAA", "3FAB9", "NONE", "P5ZZ"], 1_000_000))
    fs, k, cst = flags.flag_state(m), flags.mmsi_kind(m), flags.callsign_state(cs)
    assert fs.len() == k.len() == cst.len() == 1_000_000
    assert set(cst.filter(cs == "JD2345").unique()) == {"JPN"} and cst.filter(cs == "NONE").null_count() > 0
