"""The importer in bounded memory: one streaming pass that validates, a second that appends from
a spool, and the bounds on what it reads.

The checks across records (ids reused, references, ids the ledger holds with other content)
now keep their state in a scratch database and run a batch at a time; the oracle below is the
whole-file algorithm they replaced, kept here verbatim in substance, and the property test holds
the streaming importer to it, error for error and in the same order, with batches, chunks and
the in-memory set of known streams made tiny so that every record crosses a boundary.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import (
    ImportFailed,
    InvalidRecord,
    Ledger,
    SourceRegistered,
    StatementMade,
    StoreError,
)
from ledger.codec import encoding
from ledger.events import CorrectionMade, Event
from ledger.jsonl import importer as imp
from ledger.store.append import lookup
from tests.conftest import FakeClock
from tests.unit.test_importer import PROPOSITION, SOURCE, STATEMENT, jsonl, with_


@pytest.fixture
def mem() -> Iterator[Ledger]:
    lg = Ledger.open("sqlite://", clock=FakeClock())
    yield lg
    lg.close()


@pytest.fixture
def tiny() -> Iterator[None]:
    """Batches of 2 records, chunks of 3, and no streams remembered in memory: every check
    across records goes through the scratch database and crosses a batch boundary."""
    with (
        mock.patch.object(imp, "BATCH", 2),
        mock.patch.object(imp, "AUTO_CHUNK", 3),
        mock.patch.object(imp, "_KNOWN_CACHE", 0),
    ):
        yield


# -- the oracle: the whole-file checks the streaming ones replaced ----------------------------


def oracle(lg: Ledger, data: bytes, label: str) -> str | None:
    """The message ``ImportFailed`` carried before imports streamed, or None if the file is
    valid: every line read and parsed, then the checks across the whole list of events."""
    errors = imp._Errors(label)
    events: list[tuple[int, Event]] = []
    failed: set[str] = set()
    limits = imp._Limits(imp.MAX_LINE, imp.MAX_SIZE)
    for line, _, text in imp._lines(io.BytesIO(data), limits):
        if not imp._is_record(text):
            continue
        value = text if isinstance(text, InvalidRecord) else imp._parse(text)
        result = value if isinstance(value, InvalidRecord) else imp.to_event(value)
        if isinstance(result, InvalidRecord | list):
            for error in result if isinstance(result, list) else [result]:
                errors.add(line, error)
            failed.add(imp._attempted(value))
        else:
            events.append((line, result))

    def content(event: Event) -> tuple[str, str, int | None, str]:
        e = encoding(event)
        return e.type, e.stream_id, e.stated_at, e.payload

    defined: dict[str, int] = {}
    seen: dict[tuple[str, str], tuple[int, Event]] = {}
    for line, event in events:
        first, earlier = seen.setdefault((event.TYPE, event.key), (line, event))
        if first != line and content(earlier) != content(event):
            errors.add(line, imp._reused(imp.RECORD_TYPE_OF[event.TYPE], event.key, first))
        if not isinstance(event, CorrectionMade):
            defined.setdefault(event.stream_id, line)
    outside: dict[str, list[tuple[int, str, int | None]]] = {}
    for line, event in events:
        for field, ref in event.references():
            where = defined.get(ref)
            if (where is None or where > line) and ref not in failed:
                outside.setdefault(ref, []).append((line, field, where))
    firsts = list(seen.values())
    with lg.store.engine.connect() as conn:
        found = lookup(conn, {encoding(e).event_id for _, e in firsts}, set(outside))
    faulty: set[int] = set()
    for ref, uses in outside.items():
        if ref not in found.known:
            for line, field, later in uses:
                faulty.add(line)
                errors.add(
                    line,
                    imp._nowhere(ref, field) if later is None else imp._later(ref, later, field),
                )
    for line, event in firsts:
        stored = found.stored.get(encoding(event).event_id)
        if stored is not None and line not in faulty and tuple(stored) != content(event):
            errors.add(line, imp._conflict(imp.RECORD_TYPE_OF[event.TYPE], event.key))
    if not errors.total:
        return None
    return str(ImportFailed(label, errors.shown, total=errors.total))


def _lines_pool() -> list[str]:
    """Lines of a small world: right and wrong variants, references to records that are
    defined, defined later, never defined, or defined by a line that fails."""
    source = [
        json.dumps(with_(SOURCE, id=f"s{i}", name=name))
        for i in range(3)
        for name in ("Name", "Other name")
    ]
    # failed definitions: of s2, which has valid ones too, and of s3, which has none
    bad_sources = [json.dumps(with_(SOURCE, id=i, category="blog")) for i in ("s2", "s3")]
    props = [
        json.dumps(with_(PROPOSITION, id=f"p{i}", parties=parties))
        for i in range(2)
        for parties in ([], ["s0"], ["s1", "ghost"])
    ]
    statements = [
        json.dumps(with_(STATEMENT, id=f"st{i}", source=s, proposition=p))
        for i in range(3)
        for s, p in (("s0", "p0"), ("s1", "p1"), ("s2", "p0"), ("s3", "p1"), ("nobody", "p1"))
    ]
    corrections = [
        json.dumps({"type": "correction", "id": f"c{i}", "corrects": f"st{i}", "reason": r, **c})
        for i in range(2)
        for r, c in (("r", {"withdraw": True}), ("r2", {"set": {"source": "s1"}}))
    ]
    junk = ["", "   ", "{not json", '{"type": "source", "id": "s9"}']
    return [*source, *bad_sources, *props, *statements, *corrections, *junk]


POOL = _lines_pool()
#: What the ledger may hold before the import: records the file may repeat, contradict or name.
ALREADY = [
    SourceRegistered("s0", "Name", "state_media"),
    SourceRegistered("s1", "Someone else", "state_media"),
    SourceRegistered("ghost", "Ghost", "media"),
]


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.sampled_from(POOL), max_size=14),
    already=st.lists(st.sampled_from(ALREADY), max_size=3, unique=True),
    whole=st.booleans(),
)
def test_the_streaming_checks_report_what_the_whole_file_checks_reported(
    tiny: None, lines: list[str], already: list[Event], whole: bool
) -> None:
    with Ledger.open("sqlite://", clock=FakeClock()) as lg:
        if already:
            lg.append(already)
        before = lg.head()
        data = "".join(line + "\n" for line in lines).encode()
        expected = oracle(lg, data, "f.jsonl")
        chunk = imp.WHOLE_FILE if whole else None
        if expected is None:
            report = imp.import_jsonl(lg, io.BytesIO(data), name="f.jsonl", chunk_size=chunk)
            assert report.records == sum(1 for line in lines if line.strip())
            assert report.appended + report.skipped == report.records
            assert lg.verify().ok
        else:
            with pytest.raises(ImportFailed) as info:
                imp.import_jsonl(lg, io.BytesIO(data), name="f.jsonl", chunk_size=chunk)
            assert str(info.value) == expected
            assert lg.head() == before


def test_more_errors_than_are_listed_are_counted_across_every_kind_of_check(
    mem: Ledger, tiny: None
) -> None:
    mem.append([SourceRegistered("kcna", "Someone else", "media")])
    lines: list[dict[str, Any] | str] = [SOURCE]  # conflicts with the ledger
    lines += [with_(SOURCE, id=f"bad{i}", category="blog") for i in range(8)]
    lines += [with_(SOURCE, id=f"s{i}") for i in range(8)]
    lines += [with_(SOURCE, id=f"s{i}", name="Reused") for i in range(8)]
    lines += [with_(STATEMENT, id=f"st{i}", source=f"none{i}") for i in range(8)]
    data = jsonl(*lines).encode()
    with pytest.raises(ImportFailed) as info:
        mem.import_jsonl(io.BytesIO(data), name="f.jsonl")
    assert str(info.value) == oracle(mem, data, "f.jsonl")
    # 8 failed sources, 8 reused ids, 16 references wanting (each statement names a source and
    # the proposition 'troops', neither anywhere) and the id the ledger holds with other content
    assert info.value.total == 8 + 8 + 16 + 1
    assert len(info.value.errors) == imp.MAX_ERRORS


# -- reading it once, appending from the spool ------------------------------------------------


def pipe(data: bytes) -> io.BufferedReader:
    """A real pipe (which cannot seek) carrying ``data``, written by a thread."""
    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(data)

    threading.Thread(target=write, daemon=True).start()
    return os.fdopen(read_end, "rb")


def sources(n: int) -> bytes:
    return jsonl(*(with_(SOURCE, id=f"s{i:04d}", name=f"Source {i}") for i in range(n))).encode()


def test_a_pipe_is_read_once_and_imported_whole(mem: Ledger, tiny: None) -> None:
    with pipe(sources(10)) as stream:
        report = mem.import_jsonl(stream, name="pipe")
    assert (report.records, report.appended) == (10, 10)
    assert [e.event.key for e in mem.read()] == [f"s{i:04d}" for i in range(10)]


def test_standard_input_from_a_pipe_imports(
    mem: Ledger, monkeypatch: pytest.MonkeyPatch, tiny: None
) -> None:
    with pipe(sources(7)) as stream:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream, encoding="utf-8"))
        report = mem.import_jsonl("-")
    assert (report.source_name, report.appended) == ("<stdin>", 7)


@pytest.mark.parametrize("seekable", [True, False])
def test_progress_is_twice_the_records_throughout_and_never_goes_back(
    mem: Ledger, seekable: bool, tiny: None
) -> None:
    calls: list[tuple[int, int]] = []
    data = sources(9)
    with io.BytesIO(data) if seekable else pipe(data) as stream:
        mem.import_jsonl(stream, progress=lambda done, total: calls.append((done, total)))
    assert {total for _, total in calls} == {18}
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and dones[-1] == 18
    if seekable:  # counted first, so validation reports progress too
        assert dones[0] < 9


def test_a_file_object_is_read_from_where_it_stands(mem: Ledger) -> None:
    stream = io.BytesIO(b"junk that is not read\n" + sources(3))
    stream.readline()
    report = mem.import_jsonl(stream, progress=lambda done, total: None)
    assert report.appended == 3


def test_a_one_transaction_import_of_many_batches_has_one_recorded_at(
    mem: Ledger, tiny: None
) -> None:
    report = imp.import_jsonl(mem, io.BytesIO(sources(10)), chunk_size=imp.WHOLE_FILE)
    assert report.appended == 10
    assert {e.recorded_at for e in mem.read()} == {mem.head().recorded_at}
    assert mem.verify().ok


def test_a_store_refusal_in_a_later_batch_of_one_transaction_appends_nothing(
    mem: Ledger, tiny: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer records s0007 with other content between validation and append: the
    store refuses it in the fourth batch, and the three before it are rolled back with it."""
    real = imp._Appending.in_one_transaction

    def race(self: imp._Appending) -> None:
        mem.append([SourceRegistered("s0007", "Somebody else", "media")])
        real(self)

    monkeypatch.setattr(imp._Appending, "in_one_transaction", race)
    with pytest.raises(ImportFailed) as info:
        imp.import_jsonl(mem, io.BytesIO(sources(10)), chunk_size=imp.WHOLE_FILE, name="f")
    (only,) = info.value.errors
    assert (only.location, only.field) == ("f:8", "id")
    assert "nothing was imported" in str(info.value)
    assert [e.event.key for e in mem.read()] == ["s0007"]


def test_an_import_of_one_batch_is_appended_from_memory_as_the_spool_would_have_it(
    mem: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One batch (a daily delivery) is appended from the events validation built, never
    written to the spool and decoded back; the log it leaves is the one an import of many
    batches leaves, which goes through the spool."""
    data = jsonl(SOURCE, PROPOSITION, STATEMENT).encode()
    with Ledger.open("sqlite://", clock=FakeClock()) as spooled:
        with mock.patch.object(imp, "BATCH", 1):
            assert spooled.import_jsonl(io.BytesIO(data)).appended == 3

        def unread(item: object) -> NoReturn:
            raise AssertionError("one batch was read back from the spool")

        monkeypatch.setattr(imp, "_spooled_event", unread)
        assert imp.import_jsonl(mem, io.BytesIO(data)).appended == 3
        assert [e.event for e in mem.read()] == [e.event for e in spooled.read()]
        assert [e.hash for e in mem.read()] == [e.hash for e in spooled.read()]
        assert mem.verify().ok


def test_the_chunks_are_cut_where_validation_cut_them(mem: Ledger, tiny: None) -> None:
    """Chunks of AUTO_CHUNK records, made of batches of BATCH: 10 records in 4 chunks."""
    clock = FakeClock()
    with Ledger.open("sqlite://", clock=clock) as lg:
        lg.import_jsonl(io.BytesIO(sources(10)))
        sizes: dict[Any, int] = {}
        for e in lg.read():
            sizes[e.recorded_at] = sizes.get(e.recorded_at, 0) + 1
        assert [sizes[k] for k in sorted(sizes)] == [3, 3, 3, 1]


def test_a_chunk_ends_early_once_its_records_reach_chunk_bytes(mem: Ledger) -> None:
    data = sources(6)
    line = len(data) // 6
    with mock.patch.object(imp, "AUTO_CHUNK", 4), mock.patch.object(imp, "CHUNK_BYTES", 2 * line):
        mem.import_jsonl(io.BytesIO(data))
    sizes: dict[Any, int] = {}
    for e in mem.read():
        sizes[e.recorded_at] = sizes.get(e.recorded_at, 0) + 1
    assert [sizes[k] for k in sorted(sizes)] == [2, 2, 2]


def test_a_failing_scratch_database_is_a_store_error_that_says_where(
    mem: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: imp._Checked, *args: Any, **kw: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(imp._Checked, "check", full)
    with pytest.raises(StoreError) as info:
        mem.import_jsonl(io.BytesIO(sources(3)))
    assert str(info.value) == (
        f"the import's scratch database in {tempfile.gettempdir()} failed: database or disk is "
        "full; an import needs about the size of its input there (TMPDIR sets the directory)"
    )
    assert mem.head().position == 0


# -- bounds on what is read -------------------------------------------------------------------


def refused(lg: Ledger, source: Any, **kw: Any) -> ImportFailed:
    before = lg.head()
    with pytest.raises(ImportFailed) as info:
        imp.import_jsonl(lg, source, **kw)
    assert lg.head() == before
    return info.value


def test_max_line_is_a_parameter_and_names_the_line(mem: Ledger) -> None:
    data = jsonl(SOURCE, with_(SOURCE, id="long", name="x" * 300), PROPOSITION).encode()
    error = refused(mem, io.BytesIO(data), name="f", max_line=200)
    (only,) = error.errors
    assert only.location == "f:2"
    assert str(only) == "f:2: is longer than the limit of 200 bytes"
    text = refused(mem, io.StringIO(data.decode()), name="t", max_line=200)
    assert str(text.errors[0]) == "t:2: is longer than the limit of 200 characters"
    assert mem.import_jsonl(io.BytesIO(data)).appended == 3  # the default is far larger


class Endless(io.RawIOBase):
    """Zeros without end, like /dev/zero, counting what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = len(buffer)
        buffer[:n] = bytes(n)
        self.read_bytes += n
        return n


def test_a_line_without_end_stops_the_import_after_a_bounded_read(mem: Ledger) -> None:
    raw = Endless()
    with mock.patch.object(imp, "SKIP_LINE", 4096):
        error = refused(mem, io.BufferedReader(raw), name="zeros", max_line=1000)
    (only,) = error.errors
    assert str(only) == (
        "zeros:1: is longer than the limit of 1,000 bytes, and does not end within 4,096 bytes "
        "more; reading stopped here"
    )
    assert raw.read_bytes < 1_000_000


def test_an_overlong_line_that_ends_in_time_lets_reading_go_on(mem: Ledger) -> None:
    data = jsonl(with_(SOURCE, name="x" * 3000), with_(SOURCE, id="a", category="blog"))
    with mock.patch.object(imp, "SKIP_LINE", 4096):
        error = refused(mem, io.BytesIO(data.encode()), name="f", max_line=1000)
    assert [e.location for e in error.errors] == ["f:1", "f:2"]


def test_max_size_stops_a_stream_at_the_line_that_goes_past_it(mem: Ledger) -> None:
    data = sources(5)
    line = len(data) // 5
    error = refused(mem, io.BytesIO(data), name="f", max_size=3 * line + 1)
    (only,) = error.errors
    assert str(only) == (
        f"f:4: goes past the limit of {3 * line + 1:,} bytes for one import "
        "(ledger.jsonl.importer.MAX_SIZE, or max_size=); reading stopped here"
    )
    assert mem.import_jsonl(io.BytesIO(data), name="f").appended == 5


def test_a_regular_file_larger_than_max_size_is_refused_before_it_is_read(
    mem: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(sources(5))
    size = path.stat().st_size
    error = refused(mem, path, max_size=size - 1)
    (only,) = error.errors
    assert only.location == str(path)
    assert str(only) == (
        f"{path}: is {size:,} bytes, more than the limit of {size - 1:,} bytes "
        "(ledger.jsonl.importer.MAX_SIZE, or max_size=)"
    )


def test_limits_below_one_are_refused(mem: Ledger) -> None:
    with pytest.raises(InvalidRecord, match="max_line"):
        imp.import_jsonl(mem, io.BytesIO(b""), max_line=0)
    with pytest.raises(InvalidRecord, match="max_size"):
        imp.import_jsonl(mem, io.BytesIO(b""), max_size=0)


# -- paths that are not regular files ---------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_given_as_a_path_is_refused(mem: Ledger, device: str) -> None:
    error = refused(mem, device)
    (only,) = error.errors
    assert only.location == device
    assert str(only).startswith(f"{device}: is a character device, not a regular file;")
    assert "give it as standard input ('-')" in str(only)


def test_a_directory_is_refused(mem: Ledger, tmp_path: Path) -> None:
    error = refused(mem, tmp_path)
    assert str(error.errors[0]).startswith(f"{tmp_path}: is a directory, not a regular file;")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_nobody_writes_to_is_refused_without_waiting(
    mem: Ledger, tmp_path: Path
) -> None:
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            imp.import_jsonl(mem, fifo)
            outcome.append(None)
        except BaseException as e:  # handed to the test thread
            outcome.append(e)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # it blocked opening the pipe: release it, then fail
        with open(fifo, "wb"):
            pass
        worker.join(timeout=30)
        pytest.fail("the import waited for a writer on the named pipe")
    (error,) = outcome
    assert isinstance(error, ImportFailed)
    assert str(error.errors[0]).startswith(f"{fifo}: is a named pipe (FIFO), not a regular file;")


def test_a_path_that_does_not_exist_is_still_file_not_found(mem: Ledger, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        imp.import_jsonl(mem, tmp_path / "missing.jsonl")


# -- numbers a float cannot hold --------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["1e-400", "-1e-400", "0.0000001e-330", "2E-999", "1.5e-325", "9e-9999999"]
)
def test_a_number_too_close_to_zero_is_refused_at_its_field(mem: Ledger, text: str) -> None:
    line = json.dumps(STATEMENT)[:-1] + f', "value": {text}}}'
    error = refused(mem, io.BytesIO(jsonl(SOURCE, PROPOSITION, line).encode()), name="f")
    (only,) = error.errors
    assert (only.location, only.field) == ("f:3", "value")
    assert str(only) == (
        f"f:3: field 'value': {text} is too close to zero to be stored: it would be stored as 0"
    )


def test_a_correction_setting_a_number_too_close_to_zero_is_refused(mem: Ledger) -> None:
    line = (
        '{"type": "correction", "id": "c", "corrects": "s1", "reason": "r", '
        '"set": {"value": 1e-400}}'
    )
    error = refused(mem, io.BytesIO(jsonl(SOURCE, PROPOSITION, STATEMENT, line).encode()))
    assert [(e.location, e.field) for e in error.errors] == [("<stream>:4", "set.value")]


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("0", 0),
        ("0.0", 0),
        ("0e-400", 0),
        ("-0.0e5", 0),
        ("1e-300", 1e-300),
        ("5e-324", 5e-324),
        ("1500.0", 1500),
        ("0.1", 0.1),
        ("2.5E3", 2500),
    ],
)
def test_every_number_that_a_float_holds_is_kept(mem: Ledger, text: str, stored: float) -> None:
    line = json.dumps(STATEMENT)[:-1] + f', "value": {text}}}'
    mem.import_jsonl(io.BytesIO(jsonl(SOURCE, PROPOSITION, line).encode()))
    (statement,) = [e.event for e in mem.read() if isinstance(e.event, StatementMade)]
    assert statement.value == stored and type(statement.value) is type(stored)
