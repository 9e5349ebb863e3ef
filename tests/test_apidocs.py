"""The Python API reference (``docs/api``, ``make apidocs``) cannot rot: it is built here with
every warning an error (``-W -n``): a broken cross-reference, a module that no longer imports, a
docstring whose reST does not parse. And it documents every public name at ``ledger.X``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sphinx.util.inventory import InventoryFile

import ledger

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "docs" / "api"
MODULES = (
    "ledger",
    "projections.rules",
    "projections.beliefs",
    "projections.timeline",
    "projections.audit",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("apidocs")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q"),
            *("-E", "-d", str(out / "doctrees"), str(SOURCE), str(out / "html")),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        "the API reference (make apidocs) has warnings: fix the docstring, or document the name "
        "a reference or a public signature mentions in docs/api/*.rst (a new export of ledger in "
        f"docs/api/ledger.rst)\n{done.stderr}{done.stdout}"
    )
    return out / "html"


def documented(html: Path) -> set[str]:
    with (html / "objects.inv").open("rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    return {name for objects in inventory.values() for name in objects}


def test_the_api_reference_builds_without_a_single_warning(built: Path) -> None:
    assert (built / "index.html").is_file()


def test_every_public_name_is_documented_at_its_public_home(built: Path) -> None:
    names = documented(built)
    missing = [n for n in ledger.__all__ if f"ledger.{n}" not in names]
    assert missing == [], f"add them to docs/api/ledger.rst: {missing}"


def test_the_modules_a_policy_writer_reads_have_pages(built: Path) -> None:
    names = documented(built)
    assert [m for m in MODULES if m not in names] == []
