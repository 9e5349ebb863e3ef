"""The importer's fast lanes against the checked ones: the shortcut for well-formed records,
the one lookup of the ledger, and the default chunking of large files."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import Event, ImportFailed, Ledger, SourceRegistered
from ledger.jsonl import importer as imp
from ledger.jsonl.exporter import to_record
from tests.conftest import FakeClock
from tests.strategies import flatten, histories
from tests.unit.test_importer import PROPOSITION, SOURCE, jsonl

# Values a field may be swapped for: right and wrong types, bad times, bad ids, lookalikes.
ODD_VALUES = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        1.5,
        2**60,
        "",
        " ",
        "kcna",
        "Not A Slug",
        "assert",
        "blog",
        "2024-10-18",
        "2024-02-30",
        "2024-10-18T09:00:00+09:00",
        "2024-10-18 09:00",
        "2024-10-18T09:00",
        "9999-12-31T23:00-05:00",
        "0" * 64,
        [],
        ["kcna"],
        ["kcna", "kcna"],
        {},
        {"stance": "deny"},
        {"stance": "maybe"},
        {"colour": "red"},
    ]
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """Import records made from arbitrary events, then sometimes broken: a field dropped,
    replaced, added or misspelt, or the type changed."""
    events: list[Event] = flatten(draw(histories(max_statements=4)))
    record = dict(to_record(draw(st.sampled_from(events))))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from([*record, "type", "id", "bogus", "stated_at", "set"]))
        action = draw(st.sampled_from(["drop", "replace", "replace", "type"]))
        if action == "drop":
            record.pop(name, None)
        elif action == "type":
            record["type"] = draw(st.sampled_from([*imp.FIELDS, "memo", 3]))
        else:
            record[name] = draw(ODD_VALUES)
    return record


def same(a: Event | list[Any], b: Event | list[Any]) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return [(type(x), str(x), x.field) for x in a] == [(type(x), str(x), x.field) for x in b]
    return a == b


@given(records())
def test_the_shortcut_answers_as_the_checked_path_does(record: dict[str, Any]) -> None:
    fast = imp._fast_event(record)
    checked = imp._checked_event(record)
    if fast is not None:
        assert fast == checked  # the shortcut only ever answers with the same event
    assert same(imp.to_event(record), checked)


@given(histories(max_statements=6))
def test_every_well_formed_record_takes_the_shortcut(history: list[list[Event]]) -> None:
    for event in flatten(history):
        record = to_record(event)
        assert imp._fast_event(record) == event


@pytest.fixture
def mem() -> Iterator[Ledger]:
    lg = Ledger.open("sqlite://", clock=FakeClock())
    yield lg
    lg.close()


def sources(n: int) -> str:
    return jsonl(*({**SOURCE, "id": f"s{i:04d}", "name": f"Source {i}"} for i in range(n)))


def batches_written(lg: Ledger) -> list[int]:
    """How many events each transaction wrote (the fake clock ticks once per append)."""
    counts: dict[datetime, int] = {}
    for e in lg.read():
        counts[e.recorded_at] = counts.get(e.recorded_at, 0) + 1
    return [counts[k] for k in sorted(counts)]


def test_a_file_up_to_auto_chunk_is_one_atomic_batch(mem: Ledger) -> None:
    with mock.patch.object(imp, "AUTO_CHUNK", 10):
        report = mem.import_jsonl(io.StringIO(sources(10)))
    assert report.appended == 10
    assert batches_written(mem) == [10]


def test_a_larger_file_goes_in_chunks_of_auto_chunk_unless_asked_whole(mem: Ledger) -> None:
    with mock.patch.object(imp, "AUTO_CHUNK", 10):
        report = mem.import_jsonl(io.StringIO(sources(25)))
        assert (report.appended, batches_written(mem)) == (25, [10, 10, 5])
        whole = Ledger.open("sqlite://", clock=FakeClock())
        imp.import_jsonl(whole, io.StringIO(sources(25)), chunk_size=imp.WHOLE_FILE)
        assert batches_written(whole) == [25]
        again = mem.import_jsonl(io.StringIO(sources(25)))  # resumes / repeats: nothing new
        assert (again.appended, again.skipped) == (0, 25)
    assert [e.hash for e in whole.read()] != [] and whole.verify().ok and mem.verify().ok


def test_an_id_the_ledger_holds_with_other_content_fails_validation_before_any_chunk(
    mem: Ledger,
) -> None:
    mem.append([SourceRegistered("s0007", "Something else", "media")])
    head = mem.head()
    with pytest.raises(ImportFailed) as info:
        imp.import_jsonl(mem, io.StringIO(sources(25)), chunk_size=5, name="data.jsonl")
    (only,) = info.value.errors
    assert (only.location, only.field) == ("data.jsonl:8", "id")
    assert "already recorded with different content" in str(only)
    assert info.value.appended == 0 and mem.head() == head


def test_references_to_the_ledger_are_found_in_one_lookup(mem: Ledger) -> None:
    mem.import_jsonl(io.StringIO(jsonl(SOURCE, PROPOSITION)))
    statement = {
        "type": "statement",
        "id": "s1",
        "source": "kcna",
        "proposition": "troops",
        "stance": "assert",
        "stated_at": "2024-10-18",
    }
    missing = {**statement, "id": "s2", "source": "nobody"}
    with pytest.raises(ImportFailed) as info:
        mem.import_jsonl(io.StringIO(jsonl(statement, missing)), name="d.jsonl")
    assert [(e.location, e.field) for e in info.value.errors] == [("d.jsonl:2", "source")]
    report = mem.import_jsonl(io.StringIO(jsonl(statement)))
    assert report.appended == 1
    assert datetime(2024, 10, 18, tzinfo=UTC) == next(iter(mem.read(after=2))).event.stated_at  # type: ignore[union-attr]
