"""``Ledger.open`` takes a bare file path as a SQLite file, and says when its directory is
missing, instead of SQLAlchemy's "Could not parse" or SQLite's "unable to open"."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import Ledger, NotFound, SourceRegistered
from ledger.api import database_url


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("x.db", "sqlite:///x.db"),
        ("data/claims.db", "sqlite:///data/claims.db"),
        ("/tmp/claims.db", "sqlite:////tmp/claims.db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
        ("sqlite://", "sqlite://"),
        (
            "postgresql+psycopg://postgres@127.0.0.1/test",
            "postgresql+psycopg://postgres@127.0.0.1/test",
        ),
    ],
)
def test_a_bare_path_is_a_sqlite_url_and_a_url_stays_as_it_is(given: str, url: str) -> None:
    assert database_url(given) == url


def test_ledger_open_takes_a_bare_path_and_a_path_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with Ledger.open("x.db") as lg:
        lg.append([SourceRegistered("kcna", "Korean Central News Agency", "state_media")])
        assert lg.url == "sqlite:///x.db"
    assert (tmp_path / "x.db").is_file()
    with Ledger.open(tmp_path / "x.db", create=False) as again:
        assert again.head().position == 1


def test_a_missing_bare_path_with_create_false_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no ledger at"):
        Ledger.open(str(tmp_path / "typo.db"), create=False)
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize("create", [True, False])
def test_a_sqlite_file_in_a_missing_directory_is_not_found_naming_the_directory(
    tmp_path: Path, create: bool
) -> None:
    folder = tmp_path / "missing-dir"

    with pytest.raises(NotFound, match=f"the directory {folder} does not exist"):
        Ledger.open(f"sqlite:///{folder}/x.db", create=create)
    with pytest.raises(NotFound, match="does not exist"):
        Ledger.open(folder / "x.db", create=create)
    assert not folder.exists()
