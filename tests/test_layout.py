"""The package can be entered anywhere: every module imports first in a fresh interpreter, and
the ``alembic`` command works with the shipped ``alembic.ini`` (issue 11).

Both failed before the layout change: ``projections.*`` imported first ran into a half-initialised
``ledger`` package, and so did ``alembic`` through ``migrations/env.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from ledger.store.migrate import HEAD

REPO = Path(__file__).resolve().parents[1]
ALEMBIC = Path(sys.executable).with_name("alembic")


def _modules() -> list[str]:
    found = []
    for package in ("ledger", "projections"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = _modules()


def test_the_layout_has_the_layers_the_readme_names() -> None:
    for package in ("ledger.store", "ledger.jsonl", "ledger.cli"):
        assert package in MODULES
    assert len(MODULES) > 30  # the walk found the tree, not an empty directory


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "tests" / "_import_each.py"), *MODULES],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _alembic(*args: str, url: str, cwd: Path = REPO) -> str:
    done = subprocess.run(
        [str(ALEMBIC), "-c", str(REPO / "alembic.ini"), *args],
        cwd=cwd,
        env={**os.environ, "LEDGER_DB": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"alembic {' '.join(args)}: {done.stderr}"
    return done.stdout + done.stderr


def test_the_alembic_command_upgrades_reports_checks_and_downgrades(
    ledger_url: str, tmp_path: Path
) -> None:
    _alembic("upgrade", "head", url=ledger_url, cwd=tmp_path)
    assert HEAD in _alembic("current", url=ledger_url, cwd=tmp_path)
    assert "No new upgrade operations detected" in _alembic("check", url=ledger_url, cwd=tmp_path)
    _alembic("downgrade", "base", url=ledger_url, cwd=tmp_path)
    engine = create_engine(ledger_url)
    try:
        assert "events" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["sqlite:///offline.db", "postgresql+psycopg://u@h/db"])
def test_the_alembic_command_writes_the_upgrade_as_sql_offline(url: str, tmp_path: Path) -> None:
    script = _alembic("upgrade", "head", "--sql", url=url, cwd=tmp_path)
    assert "CREATE TABLE events" in script
    assert "CREATE TABLE belief_stances" in script
    assert not list(tmp_path.iterdir())  # offline: no database was created


def test_the_readme_names_every_module_or_its_package() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    unnamed = []
    for package in ("ledger", "projections"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO)
            if path.name in ("__init__.py", "__main__.py") and relative.parent != Path("ledger"):
                continue
            if f"`{relative.as_posix()}`" in readme:
                continue
            if any(f"`{parent.as_posix()}/`" in readme for parent in relative.parents):
                continue
            unnamed.append(relative.as_posix())
    assert not unnamed, f"README.md's module map does not name {unnamed}"
