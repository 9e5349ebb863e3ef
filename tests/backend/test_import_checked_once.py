"""An import checks its records against the log once.

The importer checks every record against the ledger before it appends anything (so that every
error is reported and nothing is half-written), then appends. The append used to look the same
event ids and references up again; now it takes the importer's check as made while the log's
head is still the one the check read (the log is append-only and hash-chained, so an unmoved
head means an unchanged log), and checks everything again the moment another writer has
appended in between. These specifications hold the append to both halves of that.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger import (
    BusyError,
    Ledger,
    PropositionDefined,
    RetryPolicy,
    SourceRegistered,
    StatementMade,
)
from ledger.jsonl import importer
from ledger.jsonl.importer import ImportFailed
from ledger.store import append
from ledger.store import eventstore as store_module


def _file(statements: int, *, correct: bool = True) -> str:
    """A source, a proposition, ``statements`` statements and (``correct``) a correction of the
    first statement at the end, as JSON Lines."""
    lines: list[dict[str, Any]] = [
        {"type": "source", "id": "src", "name": "A source", "category": "media"},
        {"type": "proposition", "id": "p", "text": "Something happened"},
    ]
    lines += [
        {
            "type": "statement",
            "id": f"s{i}",
            "source": "src",
            "proposition": "p",
            "stance": "assert",
            "stated_at": f"2024-10-{10 + i:02d}",
        }
        for i in range(statements)
    ]
    if correct:
        lines.append(
            {"type": "correction", "id": "c0", "corrects": "s0", "reason": "misread",
             "set": {"stance": "deny"}}
        )  # fmt: skip
    return "".join(json.dumps(line) + "\n" for line in lines)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many event ids each of the append's own lookups asked about (the importer's check
    goes through ``EventStore.lookup``, not this)."""
    counts: list[int] = []
    real = append.lookup

    def spy(conn: Any, event_ids: Any, stream_ids: Any, ahead: Any = ()) -> append.Lookup:
        ids = list(event_ids)
        counts.append(len(ids))
        return real(conn, ids, stream_ids, ahead)

    monkeypatch.setattr(append, "lookup", spy)
    return counts


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(importer, "BATCH", 2)
    yield


@pytest.fixture
def other(ledger_url: str) -> Iterator[Ledger]:
    """Another writer on the same database."""
    lg = Ledger.open(ledger_url)
    yield lg
    lg.close()


def _unseen(asked: list[int], act: Callable[[], object]) -> None:
    """Run ``act`` (another writer's append), its lookups not counted in ``asked``."""
    before = len(asked)
    act()
    del asked[before:]


def _between_check_and_append(
    monkeypatch: pytest.MonkeyPatch, asked: list[int], act: Callable[[], object]
) -> None:
    """Run ``act`` once the file is checked, before anything of it is appended."""
    real = importer._Checked.raise_if_any

    def then_act(self: importer._Checked) -> None:
        real(self)
        _unseen(asked, act)

    monkeypatch.setattr(importer._Checked, "raise_if_any", then_act)


HOW = [{"atomic": True}, {"chunk_size": 3}]


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("how", HOW)
def test_an_import_nobody_writes_beside_looks_its_ids_up_once(
    ledger: Ledger, asked: list[int], how: dict[str, Any]
) -> None:
    ledger.append([SourceRegistered("earlier", "Earlier", "media")])
    asked.clear()
    report = ledger.import_jsonl(io.StringIO(_file(6)), **how)
    assert (report.appended, report.skipped) == (9, 0)
    assert asked and set(asked) == {0}  # one per batch, none asking about ids
    if "chunk_size" in how:
        assert len(asked) == 6  # chunks of 3, 3, 3: batches of 2, 1, 2, 1, 2, 1
    log = list(ledger.read())
    assert [e.event.key for e in log][-1] == "c0"
    # the correction still numbers its version from the log, across batches and chunks
    assert [e.stream_version for e in log if e.stream_id == "statement:s0"] == [1, 2]
    assert ledger.believed("p").status is not None


@pytest.mark.parametrize("how", HOW)
def test_an_id_already_in_the_ledger_or_twice_in_the_file_is_checked_again(
    ledger: Ledger, asked: list[int], how: dict[str, Any]
) -> None:
    ledger.import_jsonl(io.StringIO(_file(2, correct=False)))
    asked.clear()
    again = ledger.import_jsonl(io.StringIO(_file(3)), **how)  # the first four are stored
    assert (again.appended, again.skipped) == (2, 4)
    assert asked and all(n > 0 for n in asked)
    asked.clear()
    twice = _file(1, correct=False).replace("src", "src2").replace('"p"', '"p2"')
    twice = twice.replace('"s0"', '"t0"')
    report = ledger.import_jsonl(io.StringIO(twice + twice.splitlines(keepends=True)[-1]), **how)
    assert (report.appended, report.skipped) == (3, 1)
    assert asked and all(n > 0 for n in asked)


@pytest.mark.parametrize("how", HOW)
def test_another_writer_before_the_append_makes_it_check_everything(
    ledger: Ledger, other: Ledger, asked: list[int], monkeypatch: pytest.MonkeyPatch,
    how: dict[str, Any],
) -> None:  # fmt: skip
    _between_check_and_append(
        monkeypatch,
        asked,
        lambda: other.append([SourceRegistered("meanwhile", "Meanwhile", "media")]),
    )
    report = ledger.import_jsonl(io.StringIO(_file(4)), **how)
    assert (report.appended, report.skipped) == (7, 0)
    assert asked[0] == 0 and asked[1] > 0  # the trusting lookup saw the head move
    assert next(e.event.key for e in ledger.read()) == "meanwhile"
    assert ledger.verify().ok


@pytest.mark.parametrize("how", HOW)
def test_a_record_another_writer_appended_identically_meanwhile_is_skipped(
    ledger: Ledger,
    other: Ledger,
    asked: list[int],
    monkeypatch: pytest.MonkeyPatch,
    how: dict[str, Any],
) -> None:
    _between_check_and_append(
        monkeypatch, asked, lambda: other.append([SourceRegistered("src", "A source", "media")])
    )
    report = ledger.import_jsonl(io.StringIO(_file(3)), **how)
    assert (report.appended, report.skipped) == (5, 1)
    assert [e.event.key for e in ledger.read()][:2] == ["src", "p"]


def test_a_statement_id_another_writer_took_meanwhile_fails_the_import_at_its_line(
    ledger: Ledger, other: Ledger, asked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    other.append([SourceRegistered("x", "X", "media"), PropositionDefined("q", "Another thing")])
    _between_check_and_append(
        monkeypatch,
        asked,
        lambda: other.append([StatementMade("s2", "x", "q", "deny", "2024-10-01")]),
    )
    before = ledger.head()
    with pytest.raises(ImportFailed) as failed:
        ledger.import_jsonl(io.StringIO(_file(4)), name="f.jsonl")
    assert failed.value.location == "f.jsonl:5"
    assert failed.value.field == "id"
    assert ledger.head().position == before.position + 1  # the other writer's statement alone
    assert "already recorded with different content" in str(failed.value)


@pytest.mark.usefixtures("small_batches")
def test_another_writer_between_chunks_makes_the_later_chunks_check_everything(
    ledger: Ledger, other: Ledger, asked: list[int]
) -> None:
    wrote: list[int] = []

    def progress(done: int, total: int) -> None:
        if done > total // 2 and not wrote:  # after the first chunk is appended
            _unseen(asked, lambda: other.append([SourceRegistered("meanwhile", "M", "media")]))
            wrote.append(done)

    report = ledger.import_jsonl(io.StringIO(_file(7)), chunk_size=4, progress=progress)
    assert wrote and (report.appended, report.skipped) == (10, 0)
    first_chunk = 2  # two batches of two
    assert set(asked[:first_chunk]) == {0}
    assert asked[first_chunk] == 0 and asked[first_chunk + 1] > 0  # saw the head move
    assert all(n > 0 for n in asked[first_chunk + 1 :])
    keys = [e.event.key for e in ledger.read()]
    assert keys.index("meanwhile") == 4
    assert ledger.verify().ok


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("how", [{"atomic": True}, {"chunk_size": 10}])
def test_another_writer_between_two_checked_batches_makes_the_append_check_everything(
    ledger: Ledger, other: Ledger, asked: list[int], monkeypatch: pytest.MonkeyPatch,
    how: dict[str, Any],
) -> None:  # fmt: skip
    """The batches were checked at two heads: neither may be trusted for the whole file (the
    second batch's ids were not looked for at the first, nor the first's at the second)."""
    real = importer._Checked.check
    checked: list[int] = []

    def then_write(self: importer._Checked, batch: Any, failed: Any, *, ends_chunk: bool) -> None:
        real(self, batch, failed, ends_chunk=ends_chunk)
        checked.append(len(batch))
        if len(checked) == 1:  # after the batch of src and p: s0 recorded identically
            _unseen(
                asked,
                lambda: other.append([StatementMade("s0", "src", "p", "assert", "2024-10-10")]),
            )

    ledger.append([SourceRegistered("src", "A source", "media"), PropositionDefined("p", "P")])
    asked.clear()
    monkeypatch.setattr(importer._Checked, "check", then_write)
    lines = _file(3, correct=False).splitlines(keepends=True)[2:]  # s0, s1, s2
    report = ledger.import_jsonl(io.StringIO("".join(lines)), **how)
    assert (report.appended, report.skipped) == (2, 1)
    assert asked and all(n > 0 for n in asked)


@pytest.mark.parametrize("another_writer", [False, True])
def test_an_import_retried_after_lock_contention_trusts_its_check_only_if_the_head_held(
    ledger: Ledger,
    other: Ledger,
    asked: list[int],
    monkeypatch: pytest.MonkeyPatch,
    another_writer: bool,
) -> None:
    """The store retries a contended transaction by iterating the batches again, with the same
    ``checked_at``: the retry compares the head anew, as the first attempt did."""
    real = append.append_batches_once
    attempts: list[int] = []

    def contended(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            if another_writer:  # what the writer holding the lock appended meanwhile
                _unseen(asked, lambda: other.append([SourceRegistered("src", "A source", "media")]))
            raise BusyError("the database stayed locked by other writers")
        return real(*args, **kwargs)

    monkeypatch.setattr(store_module, "append_batches_once", contended)
    ledger.store.retry = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
    report = ledger.import_jsonl(io.StringIO(_file(3)))
    assert len(attempts) == 2
    if another_writer:
        assert (report.appended, report.skipped) == (5, 1)  # its source: found, skipped
        assert asked[0] == 0 and all(n > 0 for n in asked[1:])
    else:
        assert (report.appended, report.skipped) == (6, 0)
        assert set(asked) == {0}
