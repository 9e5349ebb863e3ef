"""The package as a user gets it: a wheel built from the tree (hatchling, through ``pip wheel``),
installed into a fresh virtual environment, not editable; ``factledger demo`` then finds the
example dataset in the package (importlib.resources), run from a directory far from the
checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_IN_WHEEL = "ledger/_examples/north-korea-troops.jsonl"


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DB", "PYTHONPATH")}
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env=env | {"COLUMNS": "100", "NO_COLOR": "1"},
        cwd=cwd,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_the_demo_runs_from_an_installed_wheel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("factledger-*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert EXAMPLE_IN_WHEEL in z.namelist()
        shipped = z.read(EXAMPLE_IN_WHEEL)
    assert shipped == (ROOT / "examples" / "north-korea-troops.jsonl").read_bytes()

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python = venv / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    # The dependencies come from this environment (no download); factledger only from the
    # wheel. A path in a .pth file goes on sys.path after the venv's own site-packages, and
    # the .pth files in it (this checkout's editable install) are not read.
    Path(purelib.stdout.strip(), "_dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    installed = _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(python, "-c", "import ledger; print(ledger.__file__)", cwd=elsewhere)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    demo = _run(venv / "bin" / "factledger", "--db", "demo.db", "demo", cwd=elsewhere)

    assert demo.returncode == 0, demo.stderr
    assert "factledger demo: north-korea-troops.jsonl" in demo.stdout
    assert "84 appended" in demo.stdout
    assert "dprk-troops-in-russia as of 2025-05-01" in demo.stdout
    assert (elsewhere / "demo.db").is_file()
