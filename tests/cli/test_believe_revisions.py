"""``believe`` shows what was retracted and what was corrected, in the table and in --json (the
existing keys unchanged, new ones after them), instead of a source that asserted and then
retracted vanishing from the answer."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from tests.cli.conftest import Example, run, sqlite_url
from tests.cli.test_cli import RUSSIA, as_json
from tests.conftest import FakeClock

RECORDS: list[dict[str, Any]] = [
    {"type": "source", "id": "kcna", "name": "KCNA", "category": "state_media"},
    {"type": "source", "id": "yonhap", "name": "Yonhap", "category": "media"},
    {"type": "source", "id": "blog", "name": "A blog", "category": "individual"},
    {"type": "proposition", "id": "troops", "text": "Troops are in Russia"},
    {"type": "statement", "id": "y1", "source": "yonhap", "proposition": "troops",
     "stance": "assert", "stated_at": "2024-10-18", "value": 1500, "unit": "troops"},
    {"type": "statement", "id": "k1", "source": "kcna", "proposition": "troops",
     "stance": "deny", "stated_at": "2024-10-21"},
    {"type": "statement", "id": "b1", "source": "blog", "proposition": "troops",
     "stance": "assert", "stated_at": "2024-10-22"},
    {"type": "statement", "id": "y2", "source": "yonhap", "proposition": "troops",
     "stance": "retract", "stated_at": "2024-10-25"},
]  # fmt: skip
FIXES: list[dict[str, Any]] = [
    {"type": "correction", "id": "fix-k1", "corrects": "k1", "reason": "the broadcast's date",
     "set": {"stated_at": "2024-10-20"}},
    {"type": "correction", "id": "drop-b1", "corrects": "b1", "reason": "not that blog",
     "withdraw": True},
]  # fmt: skip
FIXED_AT = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    """The records imported on 2026-01-01, the corrections on 2026-02-01."""
    url = sqlite_url(tmp_path / "revised.db")
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC), step=timedelta(0))
    with Ledger.open(url, clock=clock) as lg:
        lg.import_jsonl(_lines(RECORDS), name="records.jsonl")
        clock.set(FIXED_AT)
        lg.import_jsonl(_lines(FIXES), name="fixes.jsonl")
    return url


def _lines(records: list[dict[str, Any]]) -> io.StringIO:
    return io.StringIO("".join(json.dumps(r) + "\n" for r in records))


def test_a_source_that_asserted_then_retracted_is_shown_with_what_it_took_back(url: str) -> None:
    doc = as_json(run(["--db", url, "believe", "troops", "--json"]))

    assert doc["status"] == "denied"
    assert "nobody supports it" in doc["explanation"]
    assert [s["source"] for s in doc["supporters"]] == []  # the verdict is as before
    assert doc["retractions"] == [
        {
            "source": "yonhap",
            "stance": "retract",
            "stated_at": "2024-10-25T00:00:00.000000Z",
            "statement": "y2",
            "retracts": {
                "statement": "y1",
                "stance": "assert",
                "stated_at": "2024-10-18T00:00:00.000000Z",
            },
        }
    ]


def test_believe_json_keeps_every_existing_key_in_order_and_adds_the_new_ones_last(
    url: str,
) -> None:
    when = ["--as-of", "2024-12-01", "--known-at", "2026-03-01"]
    doc = as_json(run(["--db", url, "believe", "troops", *when, "--json"]))

    with Ledger.open(url) as lg:
        before = lg.believed("troops", as_of="2024-12-01", known_at="2026-03-01").to_dict()
    assert list(doc)[: len(before)] == list(before)
    assert list(doc)[len(before) :][:2] == ["retractions", "corrections"]
    assert {k: doc[k] for k in before} == before


def test_corrections_and_withdrawals_are_in_the_answer(url: str) -> None:
    doc = as_json(run(["--db", url, "believe", "troops", "--json"]))

    fix, drop = doc["corrections"]
    assert fix == {
        "correction": "fix-k1",
        "statement": "k1",
        "source": "kcna",
        "withdraws": False,
        "set": {"stated_at": "2024-10-20T00:00:00.000000Z"},
        "reason": "the broadcast's date",
        "position": fix["position"],
        "recorded_at": "2026-02-01T00:00:00.000000Z",
    }
    assert (drop["correction"], drop["source"], drop["withdraws"], drop["set"]) == (
        "drop-b1",
        "blog",
        True,
        {},
    )


def test_the_table_shows_the_retraction_and_the_corrections(url: str) -> None:
    result = run(["--db", url, "believe", "troops"])

    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "Retracted (no longer counted)" in out
    assert "yonhap 2024-10-25 y2 asserts (2024-10-18): y1" in out
    assert "Corrections (counted: the answer reads the statements as corrected)" in out
    assert "fix-k1 recorded at 2026-02-01T00:00:00.000000Z: corrects k1: sets stated_at" in out
    assert "drop-b1 recorded at 2026-02-01T00:00:00.000000Z: corrects b1: withdraws it" in out


def test_as_of_before_the_retraction_and_known_before_the_corrections_shows_neither(
    url: str,
) -> None:
    early = as_json(run(["--db", url, "believe", "troops", "--as-of", "2024-10-24", "--json"]))
    before = as_json(run(["--db", url, "believe", "troops", "--known-at", "2026-01-15", "--json"]))
    table = run(["--db", url, "believe", "troops", "--known-at", "2026-01-15"])

    assert early["retractions"] == []
    assert [s["source"] for s in early["supporters"]] == ["yonhap"]  # the blog's: withdrawn
    assert before["corrections"] == []
    assert [r["statement"] for r in before["retractions"]] == ["y2"]
    assert "Corrections" not in table.stdout


def test_the_example_s_correction_shows_from_the_dates_it_concerns(example: Example) -> None:
    early = as_json(
        run(["--db", example.url, "believe", RUSSIA, "--as-of", "2024-11-01", "--json"])
    )
    late = as_json(run(["--db", example.url, "believe", RUSSIA, "--as-of", "2024-11-05", "--json"]))

    assert early["corrections"] == [] and early["retractions"] == []
    assert [c["correction"] for c in late["corrections"]] == ["fix-zelenskyy-11000-date"]
    assert late["corrections"][0]["set"] == {"stated_at": "2024-11-04T00:00:00.000000Z"}
