"""`seawatch demo` runs the pipeline offline on generated data."""

from click.testing import CliRunner
from pyais.stream import FileReaderStream

from seawatch.cli import main
from seawatch.demo import run_demo


def test_demo_pipeline_accounts_for_every_line(tmp_path):
    res = run_demo(tmp_path / "db", vessels=12, hours=0.5, seed=3)
    st = res["stats"]
    assert st["lines_read"] > 0
    assert st["lines_read"] == st["lines_decoded"] + st["lines_rejected"]
    assert st["lines_rejected"] == 0
    assert st["vessels"] == 12
    assert st["untimed"] == 0
    assert st["duplicates"] > 0  # a second shore station hears some messages
    v = res["vessels"]
    assert v.height == 12
    assert v["shipname"].null_count() == 0  # every vessel's static data arrived
    # the generated feed is real NMEA: pyais decodes every message of it
    n = 0
    for msg in FileReaderStream(res["feed"]):
        msg.decode()
        n += 1
    assert n == sum(st["messages_by_type"].values()) + st["duplicates"]


def test_demo_cli_twice_adds_nothing(tmp_path):
    db = str(tmp_path / "db")
    r1 = CliRunner().invoke(main, ["demo", "--db", db, "--vessels", "6", "--hours", "0.2", "--top", "3"])
    assert r1.exit_code == 0, r1.output
    assert "vessels (top 3 by positions)" in r1.output
    r2 = CliRunner().invoke(main, ["demo", "--db", db, "--vessels", "6", "--hours", "0.2", "--top", "3"])
    assert r2.exit_code == 0, r2.output
    from seawatch.store import Store

    st = Store(db).stats()
    assert st["files"] == 1
