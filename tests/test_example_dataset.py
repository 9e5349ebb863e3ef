"""Checks on the example dataset examples/north-korea-troops.jsonl.

Standard library and pytest only: the dataset must stay valid on its own, whatever state the
package is in. Tests that compare the dataset with the seed articles skip when the seeds are absent.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

Record = dict[str, Any]  # one parsed JSON Lines record

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASET = REPO_ROOT / "examples" / "north-korea-troops.jsonl"
SEEDS = REPO_ROOT.parent / "shared" / "seeds"

ORDER = ["source", "proposition", "document", "statement", "correction"]
REQUIRED = {
    "source": {"type", "id", "name", "category", "affiliation"},
    "proposition": {"type", "id", "text", "parties"},
    "document": {"type", "id", "title", "publisher", "published_at", "sha256"},
    "statement": {
        "type",
        "id",
        "source",
        "proposition",
        "stance",
        "stated_at",
        "value",
        "unit",
        "document",
        "quote",
    },
    "correction": {"type", "id", "corrects", "reason", "set"},
}
OPTIONAL = {"source": {"reliability", "note"}, "statement": {"note"}}
CATEGORIES = {
    "government",
    "state_media",
    "intelligence",
    "military",
    "international_org",
    "media",
    "individual",
    "investigation",
    "court",
}
STANCES = {"assert", "deny", "confirm", "refute", "retract", "no_comment"}
SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_QUOTE_WORDS = 30


@pytest.fixture(scope="module")
def records() -> list[Record]:
    lines = DATASET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def by_type(records: list[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = {kind: [] for kind in ORDER}
    for record in records:
        grouped[record["type"]].append(record)
    return grouped


@pytest.fixture(scope="module")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}; they live outside the repository")
    return SEEDS


def is_iso_date(text: object) -> bool:
    if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_every_line_parses_as_a_json_object_with_a_known_type() -> None:
    for number, line in enumerate(DATASET.read_text(encoding="utf-8").splitlines(), start=1):
        record = json.loads(line)
        assert isinstance(record, dict), f"line {number} is not an object"
        assert record.get("type") in ORDER, f"line {number} has unknown type {record.get('type')!r}"


def test_records_come_in_the_documented_order(records: list[Record]) -> None:
    ranks = [ORDER.index(record["type"]) for record in records]
    assert ranks == sorted(ranks)


def test_every_record_has_exactly_the_fields_of_its_type(records: list[Record]) -> None:
    for record in records:
        kind = record["type"]
        fields = set(record)
        assert REQUIRED[kind] <= fields, f"{record['id']}: missing {REQUIRED[kind] - fields}"
        extra = fields - REQUIRED[kind] - OPTIONAL.get(kind, set())
        assert not extra, f"{record['id']}: unexpected {extra}"


def test_ids_are_unique_per_type_and_slug_valid(by_type: dict[str, list[Record]]) -> None:
    for kind, group in by_type.items():
        counts = Counter(record["id"] for record in group)
        assert [i for i, n in counts.items() if n > 1] == [], f"duplicate {kind} ids"
        for record in group:
            assert SLUG.fullmatch(record["id"]), f"{kind} id {record['id']!r} is not a valid slug"


def test_sources_have_a_known_category_a_short_affiliation_and_a_valid_grade(
    by_type: dict[str, list[Record]],
) -> None:
    for source in by_type["source"]:
        assert source["category"] in CATEGORIES, source["id"]
        assert re.fullmatch(r"[a-z]{2,8}", source["affiliation"]), source["id"]
        assert source.get("reliability", "A") in set("ABCDEF"), source["id"]


def test_every_proposition_party_is_a_defined_source(by_type: dict[str, list[Record]]) -> None:
    source_ids = {source["id"] for source in by_type["source"]}
    for proposition in by_type["proposition"]:
        assert proposition["parties"], proposition["id"]
        assert set(proposition["parties"]) <= source_ids, proposition["id"]


def test_every_statement_refers_to_records_defined_earlier_in_the_file(
    records: list[Record],
) -> None:
    seen: dict[str, set[str]] = {kind: set() for kind in ORDER}
    for record in records:
        if record["type"] == "statement":
            assert record["source"] in seen["source"], record["id"]
            assert record["proposition"] in seen["proposition"], record["id"]
            assert record["document"] in seen["document"], record["id"]
        seen[record["type"]].add(record["id"])


def test_every_source_and_proposition_is_used_by_some_statement(
    by_type: dict[str, list[Record]],
) -> None:
    statements = by_type["statement"]
    assert {s["id"] for s in by_type["source"]} == {s["source"] for s in statements}
    assert {p["id"] for p in by_type["proposition"]} == {s["proposition"] for s in statements}


def test_every_statement_has_a_known_stance_and_a_whole_quantity(
    by_type: dict[str, list[Record]],
) -> None:
    for statement in by_type["statement"]:
        assert statement["stance"] in STANCES, statement["id"]
        value, unit = statement["value"], statement["unit"]
        assert (value is None) == (unit is None), f"{statement['id']}: value and unit go together"
        if value is not None:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), statement["id"]
            assert isinstance(unit, str) and unit, statement["id"]


def test_every_stated_at_and_published_at_is_a_valid_iso_date(
    by_type: dict[str, list[Record]],
) -> None:
    for statement in by_type["statement"]:
        assert is_iso_date(statement["stated_at"]), statement["id"]
    for document in by_type["document"]:
        assert is_iso_date(document["published_at"]), document["id"]
    for correction in by_type["correction"]:
        if "stated_at" in correction["set"]:
            assert is_iso_date(correction["set"]["stated_at"]), correction["id"]


def test_statements_are_in_stated_at_order(by_type: dict[str, list[Record]]) -> None:
    dates = [statement["stated_at"] for statement in by_type["statement"]]
    assert dates == sorted(dates)


def test_every_quote_is_at_most_thirty_words(by_type: dict[str, list[Record]]) -> None:
    for statement in by_type["statement"]:
        words = statement["quote"].split()
        assert 0 < len(words) <= MAX_QUOTE_WORDS, f"{statement['id']}: {len(words)} words"


def test_every_quote_occurs_verbatim_in_its_document(
    by_type: dict[str, list[Record]], seeds: Path
) -> None:
    texts = {
        doc["id"]: (seeds / f"{doc['id']}.txt").read_text(encoding="utf-8")
        for doc in by_type["document"]
    }
    for statement in by_type["statement"]:
        assert statement["quote"] in texts[statement["document"]], statement["id"]


def test_every_document_sha256_matches_its_seed_file(
    by_type: dict[str, list[Record]], seeds: Path
) -> None:
    for document in by_type["document"]:
        path = seeds / f"{document['id']}.txt"
        assert path.is_file(), f"no seed file for {document['id']}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == document["sha256"], document["id"]


def test_the_dataset_has_at_least_30_statements_15_sources_and_6_propositions(
    by_type: dict[str, list[Record]],
) -> None:
    assert len(by_type["statement"]) >= 30
    assert len(by_type["source"]) >= 15
    assert len(by_type["proposition"]) >= 6


def test_every_correction_targets_an_existing_statement_and_sets_statement_fields(
    by_type: dict[str, list[Record]],
) -> None:
    statements = {statement["id"] for statement in by_type["statement"]}
    settable = REQUIRED["statement"] - {"type", "id"} | {"note"}
    assert by_type["correction"], "the dataset shows at least one correction"
    for correction in by_type["correction"]:
        assert correction["corrects"] in statements, correction["id"]
        assert correction["set"] and set(correction["set"]) <= settable, correction["id"]


def test_the_zelenskyy_correction_moves_the_11000_statement_from_nov_7_to_nov_4(
    by_type: dict[str, list[Record]],
) -> None:
    correction = next(c for c in by_type["correction"] if c["id"] == "fix-zelenskyy-11000-date")
    target = next(s for s in by_type["statement"] if s["id"] == correction["corrects"])
    assert (target["source"], target["value"], target["stated_at"]) == (
        "ua-president",
        11000,
        "2024-11-07",
    )
    assert correction["set"] == {"stated_at": "2024-11-04"}


def test_the_first_party_confirmation_of_troops_in_russia_is_the_general_staff_on_2025_04_26(
    by_type: dict[str, list[Record]],
) -> None:
    proposition = next(p for p in by_type["proposition"] if p["id"] == "dprk-troops-in-russia")
    confirmations = [
        s
        for s in by_type["statement"]
        if s["proposition"] == proposition["id"]
        and s["stance"] == "confirm"
        and s["source"] in proposition["parties"]
    ]
    assert (confirmations[0]["source"], confirmations[0]["stated_at"]) == (
        "ru-general-staff",
        "2025-04-26",
    )
