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
