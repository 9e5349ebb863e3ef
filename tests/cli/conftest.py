"""Fixtures for the CLI tests: a runner, and the example dataset loaded once by ``demo``.

The example ledger is built once per session (by running ``factledger demo``, which imports
the dataset in two steps: everything but the correction, then the correction) and shared by
the tests that only read it; a test that changes a ledger copies it first.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner, Result

from ledger.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"
#: Fixed so the rich tables wrap the same way on every machine.
ENV = {"COLUMNS": "100", "LEDGER_DB": None, "NO_COLOR": "1"}


def run(
    args: Sequence[str], *, input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    """Invoke ``factledger`` in-process; exceptions the CLI does not handle fail the test."""
    runner = CliRunner(env={**ENV, **(env or {})})
    return runner.invoke(cli, list(args), input=input, catch_exceptions=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@attrs.frozen
class Example:
    """The example dataset in a SQLite ledger, and what ``demo`` printed while loading it."""

    path: Path
    demo_output: str

    @property
    def url(self) -> str:
        return sqlite_url(self.path)

    def copy(self, directory: Path) -> str:
        """A private copy of the ledger (for tests that change it): its URL."""
        target = directory / "copy.db"
        for suffix in ("", "-wal"):  # a write-ahead log left behind holds committed data too
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                shutil.copyfile(source, target.with_name(target.name + suffix))
        return sqlite_url(target)


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    path = tmp_path_factory.mktemp("example") / "example.db"
    result = run(["--db", sqlite_url(path), "demo"])
    assert result.exit_code == 0, result.output
    return Example(path, result.stdout)
