"""Behaviours planted into real AIS data (``seawatch.inject``): found by the detectors with recall
1.0 and no false positive on the planted vessels, and nothing changed for the real vessels.

The real samples are read from ``shared/data`` (never copied into the project). Which of them
"have tracks" (timed positions of several vessels, at least two each) is itself tested: none
spans more than a minute, so ``ais_gap`` (which needs real traffic heard throughout a silence of
hours) is skipped for every one of them, with that reason; it is tested on a simulated base of
12 hours instead (:func:`test_long_base_gets_every_behaviour`), which is also the one base in
the zones seawatch ships (night_coastal_approach).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from seawatch import decode_nmea, flags
from seawatch.detect import run_detect
from seawatch.errors import SeawatchError
from seawatch.eval import evaluate, format_eval
from seawatch.ingest import ingest
from seawatch.inject import PLANT_TYPES, describe_base, inject, inject_command, read_base

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Real samples with tracks: at least 5 vessels with two or more timed positions.
TRACK_SAMPLES = {
    "dma-aislib-testdata/stream_example.txt": 758,  # Danish network incl. Greenland, 29 s
    "aisdb-testdata/test_data_20211101.nm4": 100,  # global satellite feed (incl. type 27), 59 s
    "dma-aislib-testdata/replay_dump.txt": 13,  # Kattegat, 21 s
}
#: Real AIS files that seawatch cannot read: their headers are no provider format it knows.
NOT_INGESTIBLE = {
    "aisdb-testdata/test_data_20210701.csv",  # AISdb's own wide decoded table
    "movingpandas-evergiven/boat-positions.csv",  # ID,ais_pos_timestamp,longitude,latitude: no MMSI
}
#: Folders of shared/data that hold no AIS messages (zones, ports, MIDs).
NOT_AIS = {"geo-maps-osm-global", "gfw-anchorages", "gfw-sea-of-japan-boundaries", "harborly-port-registry",
           "japan-zones-osm", "mid-itu", "nga-world-port-index"}
#: Two more bases that exercise the other paths: a timed snapshot of 1000 vessels, one position
#: each, with three rows 24 h later (the real vessels' silences that planted traffic must not
#: lend reception to); and plain NMEA with no receive times at all.
EXTRA_SAMPLES = ("aisdb-testdata/test_data_noaa_20230101.csv", "pyais-samples/tests_nmea_data_sample.txt")
TRUTH_KEYS = ["event_type", "mmsi", "other_mmsi", "start_time", "end_time", "note"]


@pytest.fixture(scope="module")
def data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


def _ais_files(root: Path) -> list[str]:
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or rel.parts[0] in NOT_AIS:
            continue
        if p.suffix in (".md", ".json", ".chk") or p.name.startswith(("LICENSE", "COPYING")):
            continue
        out.append(rel.as_posix())
    return out


def test_which_real_samples_have_tracks(data):
    """Every AIS file of shared/data, read as inject reads it: which have tracks, which not."""
    found, unreadable, rows = {}, set(), []
    for rel in _ais_files(data):
        try:
            info = describe_base(read_base(data / rel))
        except SeawatchError:
            unreadable.add(rel)
            continue
        rows.append((rel, info["timed_positions"], info["vessels"], info["tracked_vessels"], info["span_h"]))
        if info["has_tracks"]:
            found[rel] = info["tracked_vessels"]
    print("\nfile | timed positions | vessels | vessels with >= 2 timed positions | main span h")
    for r in rows:
        print(" | ".join(map(str, r)))
    assert found == TRACK_SAMPLES
    assert unreadable == NOT_INGESTIBLE
    # none of them spans the hours an ais_gap needs
    assert all(r[4] is None or r[4] < 0.1 for r in rows if r[0] in TRACK_SAMPLES)


# -- inject -> ingest -> detect -> evaluate, per real sample ----------------------------------------


_RUNS: dict[str, tuple] = {}


def _run(rel: str, factory) -> tuple:
    """inject into the sample, ingest base + plants and the base alone, detect both (once per sample)."""
    if rel in _RUNS:
        return _RUNS[rel]
    tmp = factory.mktemp("inject")
    base = SHARED_DATA / rel
    out = tmp / "out"
    s = inject(base, out, seed=0)
    ingest([s["base_file"], s["planted_file"]], tmp / "db", progress=False)
    events = run_detect(tmp / "db")["events"]
    ingest([s["base_file"]], tmp / "db-base", progress=False)
    base_events = run_detect(tmp / "db-base")["events"]
    _RUNS[rel] = (s, events, base_events)
    return _RUNS[rel]


def _key(ev: pl.DataFrame) -> set:
    return set(ev.select("event_type", "mmsi", "other_mmsi", "start_time", "end_time").iter_rows())


@pytest.mark.parametrize("rel", sorted(TRACK_SAMPLES) + list(EXTRA_SAMPLES))
def test_planted_behaviours_are_found_in_real_traffic(rel, data, tmp_path_factory):
    s, events, base_events = _run(rel, tmp_path_factory)
    truth = pl.read_ndjson(s["truth"]) if Path(s["truth"]).stat().st_size else pl.DataFrame()
    planted_types = set(truth["event_type"].to_list()) if truth.height else set()
    # what was planted, what was skipped: every behaviour is one or the other, never dropped
    assert planted_types | set(s["skipped"]) == set(PLANT_TYPES)
    assert not planted_types & set(s["skipped"])
    assert {"encounter", "speed_anomaly", "position_jump", "identity_change", "identity_mismatch"} <= planted_types
    assert "ais_gap" in s["skipped"]  # no real sample spans the hours a witnessed silence needs
    assert "(111-159E, 14-56N)" in s["skipped"]["night_coastal_approach"]  # beyond the zones seawatch ships
    readme = Path(s["readme"]).read_text()
    for k, why in s["skipped"].items():
        assert k in readme and why in readme
    # recall 1.0 for every planted type
    res = evaluate(s["truth"], events)
    print(f"\n{rel}: planted at {s['places']}\n{format_eval(res)}")
    assert res.filter(pl.col("event_type") != "all")["recall"].to_list() == [1.0] * len(planted_types)
    # no false positive on the planted vessels
    pm = s["mmsis"]
    mine = events.filter(pl.col("mmsi").is_in(pm) | pl.col("other_mmsi").is_in(pm))
    res_p = evaluate(s["truth"], mine)
    assert res_p.filter(pl.col("event_type") == "all")["fp"].item() == 0, format_eval(res_p)
    # the real vessels: events of the planted types, and they are exactly those of the base alone
    real = events.filter(pl.col("event_type").is_in(list(planted_types)) & ~pl.col("mmsi").is_in(pm)
                         & ~pl.col("other_mmsi").is_in(pm).fill_null(False))
    alone = base_events.filter(pl.col("event_type").is_in(list(planted_types)))
    print(f"planted-type events on real vessels: {real.height}")
    for r in real.iter_rows(named=True):
        print(f"  {r['event_type']} {r['mmsi']} {r['start_time']} {r['evidence']}")
    assert _key(real) == _key(alone)


def test_planted_feed_is_clean_and_in_the_bases_time(data, tmp_path_factory):
    """planted.nmea decodes without a reject; its times run up to the base's span and include its
    start; planted MMSIs are valid ship MMSIs absent from the base; the truth has simulate's format."""
    for rel in sorted(TRACK_SAMPLES):
        s, _, _ = _run(rel, tmp_path_factory)
        r = decode_nmea(Path(s["planted_file"]).read_bytes())
        assert r.rejects.height == 0 and r.lines_read == s["lines"]
        ts = pl.concat([r.positions["ts"], r.statics["ts"]])
        assert ts.null_count() == 0
        b = s["base"]
        lo, hi = pl.Series([b["span_start"], b["span_end"]]).str.to_datetime(time_zone="UTC")
        assert ts.min() <= lo and ts.max() >= hi  # the base's span lies inside the planted window
        assert (ts.max() - lo).total_seconds() <= 1.5 * 3600 + 1  # ...which ends within 1.5 h of its start
        pm = set(s["mmsis"])
        assert not pm & read_base(SHARED_DATA / rel).mmsis
        assert flags.mmsi_is_valid_ship(sorted(pm)).all()
        assert set(r.positions["mmsi"].unique().to_list()) == pm
        for line in Path(s["truth"]).read_text().splitlines():
            assert list(json.loads(line)) == TRUTH_KEYS
        assert Path(s["base_file"]).resolve() == (SHARED_DATA / rel).resolve()


def test_long_base_gets_every_behaviour(tmp_path):
    """A base of 12 hours in the zones seawatch ships (a simulated sea off Niigata standing in for
    real data, its own planted gaps in its own truth): all seven behaviours are planted, each is
    found, and nothing else is: neither on the planted vessels nor on the base's honest ones."""
    from seawatch.simulate import simulate

    simulate("going-dark", tmp_path / "sim")
    s = inject(tmp_path / "sim" / "feed.nmea", tmp_path / "out", seed=0)
    assert s["skipped"] == {}
    assert sorted({r["event_type"] for r in s["planted"]}) == sorted(PLANT_TYPES)
    ingest([s["base_file"], s["planted_file"]], tmp_path / "db", progress=False)
    events = run_detect(tmp_path / "db")["events"]
    truth = pl.concat([pl.read_ndjson(tmp_path / "sim" / "truth.jsonl"), pl.read_ndjson(s["truth"])],
                      how="vertical_relaxed")
    res = evaluate(truth, events)
    print("\n" + format_eval(res))
    rows = res.filter(pl.col("event_type") != "all")
    assert set(rows["event_type"]) == set(PLANT_TYPES)
    assert rows["recall"].to_list() == [1.0] * rows.height
    assert rows["fp"].sum() == 0
    # the plants lie inside the base's span, and the gap is witnessed by the base's traffic
    b = s["base"]
    assert b["span_start"] <= s["window"][0] and s["window"][1] <= b["span_end"]
    assert "amid real traffic" in next(r["note"] for r in s["planted"] if r["event_type"] == "ais_gap")


def test_same_seed_same_files_other_seed_other_plants(data, tmp_path):
    base = data / "dma-aislib-testdata/replay_dump.txt"
    a = inject(base, tmp_path / "a", seed=3)
    b = inject(base, tmp_path / "b", seed=3)
    c = inject(base, tmp_path / "c", seed=4)
    for f in ("planted.nmea", "truth.jsonl"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert a["mmsis"] == b["mmsis"] != c["mmsis"]


def test_compressed_base_keeps_its_suffixes(data, tmp_path):
    gz = tmp_path / "replay_dump.txt.gz"
    gz.write_bytes(gzip.compress((data / "dma-aislib-testdata/replay_dump.txt").read_bytes()))
    s = inject(gz, tmp_path / "out")
    assert Path(s["base_file"]).name == "base.txt.gz"
    summary = ingest([s["base_file"], s["planted_file"]], tmp_path / "db", progress=False)
    assert summary["format"].to_list() == ["nmea", "nmea"] and summary["positions"].min() > 0


def test_a_base_without_positions_is_a_usage_error(data, tmp_path):
    with pytest.raises(SeawatchError, match="no vessel positions"):
        inject(data / "gfw-ais-tools-samples/multi-part.nmea", tmp_path / "out")
    with pytest.raises(SeawatchError, match="no such file"):
        inject(tmp_path / "missing.nmea", tmp_path / "out")


def test_command(data, tmp_path):
    from click.testing import CliRunner

    runner = CliRunner()
    res = runner.invoke(inject_command, ["--base", str(data / "dma-aislib-testdata/replay_dump.txt"),
                                         "--out", str(tmp_path / "out"), "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert "planted 5 behaviours" in res.output and "skipped ais_gap" in res.output
    for f in ("base.txt", "planted.nmea", "truth.jsonl", "README.md"):
        assert (tmp_path / "out" / f).exists()
    res = runner.invoke(inject_command, ["--base", str(tmp_path / "nope.nmea"), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "Error: no such file" in res.output
