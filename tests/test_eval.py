"""seawatch.eval: matching rules and metrics, edge cases included."""

from __future__ import annotations

import json

import polars as pl
import pytest

from seawatch.errors import SeawatchError
from seawatch.eval import evaluate, format_eval


def rec(t, mmsi, start, end=None, other=None, **kw):
    return {"event_type": t, "mmsi": mmsi, "other_mmsi": other, "start_time": start, "end_time": end, **kw}


def frame(*rows):
    return pl.DataFrame(list(rows), infer_schema_length=None)


def row(res, t):
    return res.filter(pl.col("event_type") == t).row(0, named=True)


TRUTH = frame(
    rec("ais_gap", 1, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z"),
    rec("ais_gap", 2, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z"),
    rec("encounter", 3, "2024-06-01T02:00:00Z", "2024-06-01T05:00:00Z", other=4),
)


def test_exact_matches_give_perfect_scores():
    ev = frame(
        rec("ais_gap", 1, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z"),
        rec("ais_gap", 2, "2024-06-01T01:05:00Z", "2024-06-01T03:50:00Z"),
        rec("encounter", 3, "2024-06-01T02:10:00Z", "2024-06-01T05:00:00Z", other=4),
    )
    r = evaluate(TRUTH, ev)
    a = row(r, "all")
    assert (a["tp"], a["fp"], a["fn"], a["precision"], a["recall"], a["f05"]) == (3, 0, 0, 1.0, 1.0, 1.0)


def test_pairs_match_in_either_order_but_not_with_a_third_vessel():
    ev = frame(rec("encounter", 4, "2024-06-01T02:00:00Z", "2024-06-01T05:00:00Z", other=3),
               rec("encounter", 3, "2024-06-01T02:00:00Z", "2024-06-01T05:00:00Z", other=9))
    r = row(evaluate(TRUTH, ev), "encounter")
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 0) and r["precision"] == 0.5


def test_an_event_split_in_two_is_one_true_positive_and_no_false_positive():
    ev = frame(rec("ais_gap", 1, "2024-06-01T01:00:00Z", "2024-06-01T02:00:00Z"),
               rec("ais_gap", 1, "2024-06-01T02:30:00Z", "2024-06-01T04:00:00Z"))
    r = row(evaluate(TRUTH, ev), "ais_gap")
    assert (r["truths"], r["events"], r["tp"], r["fp"], r["fn"]) == (2, 2, 1, 0, 1)
    assert r["precision"] == 1.0 and r["recall"] == 0.5
    assert r["f05"] == pytest.approx(1.25 * 0.5 / (0.25 + 0.5))


def test_wrong_vessel_type_or_time_do_not_match_tolerance_does():
    ev = frame(
        rec("ais_gap", 9, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z"),  # other vessel
        rec("loitering", 1, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z"),  # type not in truth
        rec("ais_gap", 2, "2024-06-01T06:00:00Z", "2024-06-01T07:00:00Z"),  # after it
        rec("ais_gap", 1, "2024-06-01T04:05:00Z", "2024-06-01T05:00:00Z"),  # 5 min after: within tolerance
    )
    r = evaluate(TRUTH, ev)
    g = row(r, "ais_gap")
    assert (g["tp"], g["fp"], g["fn"]) == (1, 2, 1)
    assert row(r, "all")["unscored_events"] == 1
    assert row(evaluate(TRUTH, ev, tolerance_s=0), "ais_gap")["tp"] == 0


def test_open_events_extend_to_the_end_and_retracted_ones_do_not_count():
    ev = frame(rec("ais_gap", 1, "2024-06-01T00:30:00Z", None),
               rec("ais_gap", 2, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z", status="retracted"))
    r = row(evaluate(TRUTH, ev), "ais_gap")
    assert (r["tp"], r["fp"], r["fn"], r["events"]) == (1, 0, 1, 1)


def test_no_events_gives_zero_recall_and_undefined_precision():
    r = row(evaluate(TRUTH, frame(rec("zone_entry", 1, "2024-06-01T01:00:00Z"))), "ais_gap")
    assert r["recall"] == 0.0 and r["precision"] is None and r["f05"] is None


def test_delay_from_alert_times():
    ev = frame(rec("ais_gap", 1, "2024-06-01T01:00:00Z", None, alert_time="2024-06-01T03:00:05Z"),
               rec("ais_gap", 2, "2024-06-01T01:00:00Z", None, alert_time="2024-06-01T03:00:15Z"))
    r = row(evaluate(TRUTH, ev), "ais_gap")
    assert r["delay_median_s"] == pytest.approx(2 * 3600 + 10) and r["delay_max_s"] == pytest.approx(2 * 3600 + 15)


def test_files_and_format(tmp_path):
    t = tmp_path / "truth.jsonl"
    t.write_text("\n".join(json.dumps(r) for r in TRUTH.to_dicts()) + "\n")
    e = tmp_path / "events.jsonl"
    e.write_text(json.dumps({**rec("ais_gap", 1, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z"), "evidence": {"gap_h": 3}}) + "\n")
    r = evaluate(t, e)
    assert row(r, "ais_gap")["tp"] == 1 and row(r, "encounter")["fn"] == 1
    text = format_eval(r)
    assert text.splitlines()[0].startswith("event_type") and "ais_gap" in text
    with pytest.raises(SeawatchError, match="no such truth file"):
        evaluate(tmp_path / "nope.jsonl", e)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"mmsi": 1}\n')
    with pytest.raises(SeawatchError, match="lacks columns"):
        evaluate(bad, e)


# -- dark vessels: matched through the detections truth ----------------------------------------------
DTRUTH = frame(  # detection -> simulated vessel, its AIS state, heard by a shore station
    {"detection_id": "r-1", "vessel": 7, "ais": "none", "heard": False},
    {"detection_id": "r-2", "vessel": 7, "ais": "none", "heard": False},
    {"detection_id": "r-3", "vessel": 7, "ais": "none", "heard": False},
    {"detection_id": "r-4", "vessel": 5, "ais": "on", "heard": True},
    {"detection_id": "r-5", "vessel": 5, "ais": "on", "heard": True},
    {"detection_id": "r-6", "vessel": None, "ais": None, "heard": None},  # clutter
    {"detection_id": "r-7", "vessel": 8, "ais": "off", "heard": False},
)
DARK_TRUTH = frame(
    rec("dark_target", None, "2024-06-01T12:00:00Z", "2024-06-01T14:00:00Z", vessel=7),
    rec("dark_track", None, "2024-06-01T12:00:00Z", "2024-06-01T14:00:00Z", vessel=7),
    rec("dark_target", 445000001, "2024-06-01T13:00:00Z", "2024-06-01T13:30:00Z", vessel=8),
)


def dark_event(t, at, ids):
    ev = {"detection_id": ids} if t == "dark_target" else {"detection_ids": ids}
    return rec(t, None, at, at, evidence=json.dumps(ev))


def test_dark_events_match_the_vessel_of_their_detections():
    ev = frame(
        dark_event("dark_target", "2024-06-01T12:10:00Z", "r-1"),
        dark_event("dark_target", "2024-06-01T13:50:00Z", "r-2"),
        dark_event("dark_target", "2024-06-01T13:10:00Z", "r-7"),  # the AIS-off vessel, in its span
        dark_event("dark_target", "2024-06-01T13:00:00Z", "r-4"),  # a vessel transmitting: a false dark
        dark_event("dark_target", "2024-06-01T13:00:00Z", "r-6"),  # clutter
        dark_event("dark_target", "2024-06-01T16:00:00Z", "r-3"),  # the right vessel, 2 h after the span
        dark_event("dark_track", "2024-06-01T12:30:00Z", ["r-1", "r-2", "r-6"]),  # 2 of 3 detections: vessel 7
        dark_event("dark_track", "2024-06-01T12:30:00Z", ["r-3", "r-4", "r-5", "r-6"]),  # no majority
    )
    r = evaluate(DARK_TRUTH, ev, detections=DTRUTH)
    t = row(r, "dark_target")
    assert (t["truths"], t["events"], t["tp"], t["fp"], t["fn"]) == (2, 6, 2, 3, 0)
    k = row(r, "dark_track")
    assert (k["truths"], k["events"], k["tp"], k["fp"], k["fn"]) == (1, 2, 1, 1, 0)
    a = row(r, "all")
    # one vessel without AIS, reported dark; 2 detections of vessels transmitting, one called dark
    assert (a["silent_vessels"], a["silent_found"], a["ais_detections"], a["false_dark"]) == (1, 1, 2, 1)
    assert "dark: 1 of 1 vessels without AIS reported dark; 1 of 2 detections of vessels transmitting AIS called " \
           "dark (50.00%)" in format_eval(r)
    # the other rows are untouched, and carry no dark figures
    assert row(r, "dark_target")["false_dark"] is None


def test_a_silent_vessel_never_reported_is_a_miss_and_dark_truth_needs_the_detections_truth(tmp_path):
    r = evaluate(DARK_TRUTH, frame(rec("ais_gap", 1, "2024-06-01T01:00:00Z")), detections=DTRUTH)
    assert row(r, "dark_target")["fn"] == 2 and row(r, "all")["silent_found"] == 0
    with pytest.raises(SeawatchError, match="detections truth"):
        evaluate(DARK_TRUTH, frame(rec("ais_gap", 1, "2024-06-01T01:00:00Z")))
    # beside truth.jsonl it is found by itself, and events read from JSONL keep their evidence
    (tmp_path / "truth.jsonl").write_text("".join(json.dumps(x) + "\n" for x in DARK_TRUTH.to_dicts()))
    DTRUTH.write_csv(tmp_path / "detections_truth.csv")
    e = tmp_path / "events.jsonl"
    e.write_text(json.dumps({**rec("dark_target", None, "2024-06-01T12:10:00Z", "2024-06-01T12:10:00Z"),
                             "evidence": {"detection_id": "r-1"}}) + "\n")
    r = evaluate(tmp_path / "truth.jsonl", e)
    assert row(r, "dark_target")["tp"] == 1 and row(r, "all")["silent_found"] == 1


def test_without_a_detections_truth_there_are_no_dark_figures():
    r = evaluate(TRUTH, frame(rec("ais_gap", 1, "2024-06-01T01:00:00Z", "2024-06-01T04:00:00Z")))
    assert row(r, "all")["ais_detections"] is None and "dark:" not in format_eval(r)


def test_cli_eval_takes_the_detections_truth_from_anywhere(tmp_path):
    from click.testing import CliRunner

    from seawatch.cli import main

    (tmp_path / "truth.jsonl").write_text("".join(json.dumps(x) + "\n" for x in DARK_TRUTH.to_dicts()))
    (tmp_path / "elsewhere").mkdir()
    DTRUTH.write_csv(tmp_path / "elsewhere" / "dt.csv")
    e = tmp_path / "events.jsonl"
    e.write_text(json.dumps({**rec("dark_target", None, "2024-06-01T12:10:00Z", "2024-06-01T12:10:00Z"),
                             "evidence": {"detection_id": "r-1"}}) + "\n")
    args = ["eval", "--truth", str(tmp_path / "truth.jsonl"), "--events", str(e)]
    r = CliRunner().invoke(main, [*args, "--detections-truth", str(tmp_path / "elsewhere" / "dt.csv"), "--json"])
    assert r.exit_code == 0, r.output
    out = {x["event_type"]: x for x in json.loads(r.output)}
    assert out["dark_target"]["tp"] == 1 and out["all"]["silent_found"] == 1
    r = CliRunner().invoke(main, args)  # nothing beside the truth: a one-line error saying what to give
    assert r.exit_code == 2 and "detections truth" in r.output
