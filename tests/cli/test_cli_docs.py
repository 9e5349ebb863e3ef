"""docs/cli.md runs: every ``$ factledger …`` line of its ```console blocks is run, in order, on
one ledger (in-process, so the whole page takes seconds, not a minute of interpreter start-ups),
must exit 0 (or the status a trailing ``# exit N`` names), and must print every output line the
page shows, except lines that elide (…) or show times and hashes, which differ on every run."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import attrs
import pytest
from click.testing import Result

from ledger.cli import cli
from tests.cli.conftest import run, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cli.md"
#: Pages whose console sessions must run as shown.
PAGES = [PAGE, ROOT / "README.md"]
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
EXPECT = re.compile(r"#\s*exit\s+(\d+)\s*$")
VARYING = re.compile(r"…|\d{4}-\d\d-\d\dT\d\d:|[0-9a-f]{12}")
SUBSTITUTION = re.compile(r'"\$\(([^)]*)\)"')


@attrs.frozen
class Step:
    command: str
    shown: tuple[str, ...]


def steps(page: Path = PAGE) -> list[Step]:
    out = []
    for block in CONSOLE.findall(page.read_text(encoding="utf-8")):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *shown = chunk.splitlines()
            out.append(Step(command, tuple(shown)))
    return out


def _run_line(line: str, env: dict[str, str]) -> Result:
    """One shell line: ``"$(…)"`` substituted, ``< FILE`` as stdin, then factledger itself."""
    line = SUBSTITUTION.sub(lambda m: shlex.quote(_output(m.group(1), env)), line)
    args = shlex.split(line, comments=True)
    assert args[0] == "factledger", f"not a factledger command: {line}"
    stdin = None
    if "<" in args:
        at = args.index("<")
        stdin = Path(args[at + 1]).read_text(encoding="utf-8")
        del args[at : at + 2]
    return run(args[1:], input=stdin, env=env)


def _output(command: str, env: dict[str, str]) -> str:
    if command.startswith("factledger "):
        return _run_line(command, env).stdout.strip()
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_docs_cli_md_opens_with_a_session_and_shows_every_command() -> None:
    text = PAGE.read_text(encoding="utf-8")
    commands = [s.command for s in steps()]

    assert text.index("```console") < text.index("## Commands")
    for name in sorted(cli.commands):
        assert f"### `factledger {name}" in text, name
        pattern = rf"factledger (--db \S+ )?{name}\b"
        assert any(re.match(pattern, c) for c in commands), f"no runnable example of {name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_console_example_runs_and_prints_what_it_shows(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {"LEDGER_DB": sqlite_url(tmp_path / "docs.db")}
    for step in steps(page):
        if step.command.startswith("export "):
            name, _, value = step.command.removeprefix("export ").partition("=")
            env[name] = value
            continue
        wanted = EXPECT.search(step.command)

        result = _run_line(step.command, env)

        assert result.exit_code == (int(wanted.group(1)) if wanted else 0), (
            f"{step.command}\n{result.output}"
        )
        printed = {line.rstrip() for line in result.output.splitlines()}
        for line in step.shown:
            if line.strip() and not VARYING.search(line):
                assert line.rstrip() in printed, f"{step.command}\nnot printed: {line!r}"
