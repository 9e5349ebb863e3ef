"""The command as installed: ``python -m ledger`` and the ``factledger`` script, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLE, sqlite_url

SCRIPT = Path(sys.executable).parent / "factledger"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_DB"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_python_dash_m_ledger_is_the_factledger_command() -> None:
    result = _run(sys.executable, "-m", "ledger", "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: factledger")
    assert "believe" in result.stdout
    assert "Example:" in result.stdout


@pytest.mark.skipif(not SCRIPT.exists(), reason="the factledger script is not installed here")
def test_the_installed_script_imports_and_answers_in_json(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "e2e.db")

    imported = _run(str(SCRIPT), "--db", url, "import", str(EXAMPLE))
    answer = _run(
        str(SCRIPT),
        "--db",
        url,
        "believe",
        "dprk-troops-in-russia",
        "--as-of",
        "2025-05-01",
        "--json",
    )
    unknown = _run(str(SCRIPT), "--db", url, "believe", "nope")

    assert imported.returncode == 0, imported.stderr
    assert json.loads(answer.stdout)["status"] == "confirmed"
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1
    assert "Traceback" not in unknown.stderr
