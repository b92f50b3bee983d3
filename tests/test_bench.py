"""bench/decode.py, the source of the README's decode figures, runs end to end (a small file)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_decode_bench_runs_and_both_seawatch_tools_agree(tmp_path):
    nmea = tmp_path / "ais.nmea"
    subprocess.run([sys.executable, str(REPO / "bench" / "nmea_gen.py"), "-n", "3000", "--out", str(nmea)],
                   check=True, capture_output=True)
    out = subprocess.run([sys.executable, str(REPO / "bench" / "decode.py"), "--file", str(nmea),
                          "--tools", "seawatch-decode,seawatch-ingest", "--json"],
                         check=True, capture_output=True, text=True)
    rep = json.loads(out.stdout)
    dec, ing = rep["results"]["seawatch-decode"], rep["results"]["seawatch-ingest"]
    assert dec["ok"] and ing["ok"], (dec.get("error"), ing.get("error"))
    # the same rows, nothing rejected, every sentence accounted for
    for k in ("positions", "statics", "other", "duplicates", "rejects"):
        assert dec[k] == ing[k], k
    assert dec["rejects"] == 0 and dec["positions"] > 2000
    assert ing["lines_read"] == ing["lines_decoded"] == 3000
    # each worker warmed up, untimed, on the file's first sentences (a whole multi-part message
    # is never cut), and says how long that took
    warm = tmp_path / "ais.head2000.nmea"
    lines = warm.read_text().splitlines()
    assert 2000 <= len(lines) <= 2001 and lines == nmea.read_text().splitlines()[:len(lines)]
    assert dec["startup_seconds"] > 0 and ing["startup_seconds"] > 0
