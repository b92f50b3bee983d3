"""The README's set-up commands and examples are real."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_two_setup_commands_and_ci_runs_the_second():
    first = re.search(r"```\n(.*?)```", README, flags=re.S).group(1).strip().splitlines()
    assert len(first) == 2
    assert first[0].endswith("seawatch demo")
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert first[1] in ci


def test_readme_python_examples_run():
    blocks = _blocks("python")
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_readme_cli_commands_exist():
    from click.testing import CliRunner

    from seawatch.cli import main

    for cmd in ("ingest", "stats", "export", "demo"):
        assert f"seawatch {cmd}" in README
        res = CliRunner().invoke(main, [cmd, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output
