"""Import and export on every backend: the example dataset, round trips, CSV, Unicode."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ledger import (
    CorrectionMade,
    Event,
    ImportFailed,
    Ledger,
    SourceRegistered,
    StatementMade,
)
from ledger.codec import to_payload
from ledger.jsonl import importer
from ledger.jsonl.exporter import CSV_COLUMNS
from tests.conftest import Databases, FakeClock
from tests.strategies import DAYS, histories

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "north-korea-troops.jsonl"
EXAMPLE_RECORDS = 85  # 25 sources, 8 propositions, 5 documents, 46 statements, 1 correction
ZELENSKYY = "ua-president-asserts-russia-11000"


def stored(lg: Ledger) -> list[tuple[Any, ...]]:
    """Everything about the log except when it was recorded (and so the hashes)."""
    return [
        (e.position, e.event_id, e.stream_id, e.stream_version, e.type, e.stated_at, e.event)
        for e in lg.read()
    ] + [tuple(to_payload(e.event).items()) for e in lg.read()]


def beliefs(lg: Ledger) -> list[Any]:
    """Every proposition's verdict as of every pool day and now, as the ledger knows it now."""
    ids = sorted(p.proposition_id for p in lg.propositions())
    return [lg.believed(p, as_of=d).verdict for p in ids for d in [*DAYS, None]]


def export(lg: Ledger, **kw: Any) -> str:
    out = io.StringIO()
    lg.export_jsonl(out, **kw)
    return out.getvalue()


def csv_rows(lg: Ledger, **kw: Any) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    count = lg.export_csv(out, **kw)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == count
    return rows


# -- the example -----------------------------------------------------------------------------


def test_the_example_imports_whole_and_importing_it_again_appends_nothing(ledger: Ledger) -> None:
    report = ledger.import_jsonl(EXAMPLE)
    assert (report.records, report.appended, report.skipped) == (EXAMPLE_RECORDS,) * 2 + (0,)
    head = ledger.head()

    again = ledger.import_jsonl(EXAMPLE)
    assert (again.appended, again.skipped) == (0, EXAMPLE_RECORDS)
    assert ledger.head() == head
    assert ledger.verify().ok


def test_the_example_exports_back_to_the_very_same_bytes(ledger: Ledger) -> None:
    ledger.import_jsonl(EXAMPLE)
    assert export(ledger) == EXAMPLE.read_text(encoding="utf-8")


def test_the_example_exported_and_reimported_gives_the_same_events_and_beliefs(
    ledger: Ledger, databases: Databases
) -> None:
    ledger.import_jsonl(EXAMPLE)
    with Ledger.open(databases.new_url()) as fresh:
        fresh.import_jsonl(io.StringIO(export(ledger)))
        assert stored(fresh) == stored(ledger)
        assert beliefs(fresh) == beliefs(ledger)
        assert fresh.believed("dprk-troops-in-russia").status == "confirmed"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories())
def test_any_history_exported_and_reimported_gives_the_same_log_and_beliefs(
    databases: Databases, history: list[list[Event]]
) -> None:
    with Ledger.open(databases.new_url()) as original, Ledger.open(databases.new_url()) as copy:
        for batch in history:
            original.append(batch)
        text = export(original)
        report = copy.import_jsonl(io.StringIO(text))
        assert report.appended == report.records == original.head().position
        assert stored(copy) == stored(original)
        assert beliefs(copy) == beliefs(original)
        assert export(copy) == text


def test_exporting_as_known_at_a_time_writes_only_what_was_recorded_by_then(
    ledger: Ledger, clock: FakeClock
) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    ledger.import_jsonl(io.StringIO("".join(lines[:-1])))
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    ledger.import_jsonl(EXAMPLE)

    assert export(ledger, known_at="2026-01-15") == "".join(lines[:-1])
    assert export(ledger, known_at=datetime(2025, 12, 31, tzinfo=UTC)) == ""
    assert export(ledger) == "".join(lines)


# -- bad input never changes the ledger ------------------------------------------------------


def test_a_file_with_one_bad_line_appends_nothing_at_all(ledger: Ledger) -> None:
    ledger.import_jsonl(io.StringIO("".join(EXAMPLE.read_text("utf-8").splitlines(True)[:5])))
    head = ledger.head()
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[60] = lines[60].replace('"stance": "', '"stance": "x')

    with pytest.raises(ImportFailed) as info:
        ledger.import_jsonl(io.StringIO("".join(lines)), name="nk.jsonl")

    assert str(info.value.errors[0]).startswith("nk.jsonl:61: field 'stance': ")
    assert ledger.head() == head


def test_a_record_the_ledger_holds_with_other_content_appends_nothing(ledger: Ledger) -> None:
    ledger.append([SourceRegistered("kcna", "Someone else", "media")])
    head = ledger.head()

    with pytest.raises(ImportFailed) as info:
        ledger.import_jsonl(EXAMPLE, name="nk.jsonl")

    (only,) = info.value.errors
    assert (only.location, only.field) == ("nk.jsonl:8", "id")
    assert ledger.head() == head


# -- CSV -------------------------------------------------------------------------------------


def test_the_csv_lists_every_statement_as_corrected_with_its_place_in_the_log(
    ledger: Ledger,
) -> None:
    ledger.import_jsonl(EXAMPLE)
    out = io.StringIO(newline="")
    ledger.export_csv(out)
    assert out.getvalue().splitlines()[0] == ",".join(CSV_COLUMNS)

    rows = {row["statement"]: row for row in csv_rows(ledger)}
    assert len(rows) == 46
    zelenskyy = rows[ZELENSKYY]
    assert zelenskyy["stated_at"] == "2024-11-04T00:00:00.000000Z"  # as corrected
    assert zelenskyy["corrected_by"] == "fix-zelenskyy-11000-date"
    assert (zelenskyy["value"], zelenskyy["unit"], zelenskyy["withdrawn"]) == (
        "11000",
        "troops",
        "false",
    )
    events = {e.event.key: e for e in ledger.read()}
    assert zelenskyy["position"] == str(events[ZELENSKYY].position)
    recorded = events[ZELENSKYY].recorded_at
    assert datetime.fromisoformat(zelenskyy["recorded_at"]) == recorded
    kcna = rows["kcna-confirms-russia-2025-04-28"]
    assert (kcna["source"], kcna["stance"], kcna["document"]) == (
        "kcna",
        "confirm",
        "004_7d633616882ee649",
    )
    original = events["kcna-confirms-russia-2025-04-28"].event
    assert isinstance(original, StatementMade)
    assert kcna["quote"] == original.quote


def test_the_csv_as_known_before_a_correction_shows_the_statement_uncorrected(
    ledger: Ledger, clock: FakeClock
) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    ledger.import_jsonl(io.StringIO("".join(lines[:-1])))
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    ledger.import_jsonl(EXAMPLE)

    before = {row["statement"]: row for row in csv_rows(ledger, known_at="2026-01-15")}
    assert (before[ZELENSKYY]["stated_at"], before[ZELENSKYY]["corrected_by"]) == (
        "2024-11-07T00:00:00.000000Z",
        "",
    )


def test_the_csv_marks_withdrawn_statements_and_keeps_awkward_text_intact(ledger: Ledger) -> None:
    note = 'He said "no", then\nlater, yes; 50% sure,\r\nmaybe =SUM(A1)'
    records = [
        {"type": "source", "id": "kcna", "name": "KCNA", "category": "state_media"},
        {"type": "proposition", "id": "p", "text": "Troops are in Russia"},
        {
            "type": "statement",
            "id": "s1",
            "source": "kcna",
            "proposition": "p",
            "stance": "deny",
            "stated_at": "2024-10-21T09:30:00+09:00",
            "value": 1500.5,
            "note": note,
        },
        {"type": "correction", "id": "c1", "corrects": "s1", "reason": "r", "withdraw": True},
    ]
    ledger.import_jsonl(io.StringIO("".join(json.dumps(r) + "\n" for r in records)))

    (row,) = csv_rows(ledger)
    assert row["note"] == note
    assert (row["withdrawn"], row["corrected_by"]) == ("true", "c1")
    assert (row["stated_at"], row["value"], row["unit"]) == (
        "2024-10-21T00:30:00.000000Z",
        "1500.5",
        "",
    )


# -- Unicode ---------------------------------------------------------------------------------

AWKWARD = [
    "مصادر كورية شمالية تنفي",  # Arabic, right to left
    "צבא צפון קוריאה ברוסיה",  # Hebrew
    "e\u0301 n\u0303 a\u030a\u0323",  # combining marks, not normalised
    "👩‍👩‍👧 🇰🇵 🇷🇺 \U0001f9ea",  # emoji: joiners, flags, astral
    "Robert'); DROP TABLE events;--",
    "' OR '1'='1",
    "\u202eRTL override\u202c and zero\u200bwidth",
    "line\u2028separator\u2029paragraph",
    'back\\slash "quoted" \t tab',
]


def test_unicode_and_sql_looking_text_round_trips_exactly(
    ledger: Ledger, databases: Databases
) -> None:
    records = [
        {"type": "source", "id": f"s{i}", "name": text, "category": "media", "note": text}
        for i, text in enumerate(AWKWARD)
    ]
    body = "".join(json.dumps(r, ensure_ascii=i % 2 == 0) + "\n" for i, r in enumerate(records))
    ledger.import_jsonl(io.BytesIO(body.encode("utf-8")))

    names = [e.event.name for e in ledger.read() if isinstance(e.event, SourceRegistered)]
    assert names == AWKWARD
    exported = export(ledger)
    assert [json.loads(line)["note"] for line in exported.splitlines()] == AWKWARD
    with Ledger.open(databases.new_url()) as fresh:
        fresh.import_jsonl(io.StringIO(exported))
        assert stored(fresh) == stored(ledger)


def test_a_correction_round_trips_with_every_kind_of_new_value(ledger: Ledger) -> None:
    ledger.import_jsonl(EXAMPLE)
    correction = {
        "type": "correction",
        "id": "fix-more",
        "corrects": ZELENSKYY,
        "reason": "several fields",
        "set": {
            "stated_at": "2024-11-04T18:00:00.250000-05:00",
            "stance": "confirm",
            "value": None,
            "document": None,
            "note": "ok",
        },
    }
    ledger.import_jsonl(io.StringIO(json.dumps(correction)))
    last = list(ledger.read())[-1].event
    assert isinstance(last, CorrectionMade)
    line = export(ledger).splitlines()[-1]
    assert json.loads(line)["set"]["stated_at"] == "2024-11-04T23:00:00.250000Z"
    assert json.loads(line)["set"]["value"] is None
    row = {r["statement"]: r for r in csv_rows(ledger)}[ZELENSKYY]
    assert (row["stance"], row["value"], row["unit"], row["document"], row["quote"]) == (
        "confirm",
        "",
        "",
        "",
        "",
    )


# -- chunks and one transaction, streamed ----------------------------------------------------


def sources_file(n: int) -> str:
    return "".join(
        json.dumps(
            {"type": "source", "id": f"s{i:03d}", "name": f"Source {i}", "category": "media"}
        )
        + "\n"
        for i in range(n)
    )


def transactions(lg: Ledger) -> list[int]:
    """How many events each transaction wrote (each has its own recorded_at here)."""
    counts: dict[datetime, int] = {}
    for e in lg.read():
        counts[e.recorded_at] = counts.get(e.recorded_at, 0) + 1
    return [counts[k] for k in sorted(counts)]


def test_chunked_and_one_transaction_imports_write_the_same_events(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of several chunks, each of several batches: in chunks, a transaction per chunk;
    whole, one transaction of every batch. The same events either way."""
    monkeypatch.setattr(importer, "AUTO_CHUNK", 7)
    monkeypatch.setattr(importer, "BATCH", 3)
    text = sources_file(20)
    with (
        Ledger.open(databases.new_url(), clock=FakeClock()) as chunked,
        Ledger.open(databases.new_url(), clock=FakeClock()) as whole,
    ):
        assert chunked.import_jsonl(io.StringIO(text)).appended == 20
        assert whole.import_jsonl(io.StringIO(text), atomic=True).appended == 20
        assert transactions(chunked) == [7, 7, 6]
        assert transactions(whole) == [20]
        assert stored(chunked) == stored(whole)
        assert chunked.verify().ok and whole.verify().ok
        assert export(chunked) == export(whole) == text


def test_an_interrupted_chunked_import_resumes_when_run_again(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "AUTO_CHUNK", 7)
    monkeypatch.setattr(importer, "BATCH", 3)
    text = sources_file(20)
    real_append = Ledger.append_batches  # a chunk is one append_batches call
    calls = 0

    def dies_on_the_third_chunk(self: Ledger, events: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # the process dies part way
        return real_append(self, events, **kw)

    monkeypatch.setattr(Ledger, "append_batches", dies_on_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        ledger.import_jsonl(io.StringIO(text))
    assert ledger.head().position == 14
    monkeypatch.setattr(Ledger, "append_batches", real_append)

    report = ledger.import_jsonl(io.StringIO(text))
    assert (report.appended, report.skipped) == (6, 14)
    assert export(ledger) == text and ledger.verify().ok


def test_a_one_transaction_import_refused_by_the_store_appends_nothing(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation passed, then another writer recorded s015 with other content: the store
    refuses it in the third batch of the one transaction, at its line, and nothing is kept."""
    monkeypatch.setattr(importer, "BATCH", 3)
    monkeypatch.setattr(importer, "AUTO_CHUNK", 7)
    real = importer._Appending.in_one_transaction

    def after_another_writer(self: importer._Appending) -> None:
        ledger.append([SourceRegistered("s015", "Somebody else", "media")])
        real(self)

    monkeypatch.setattr(importer._Appending, "in_one_transaction", after_another_writer)
    with pytest.raises(ImportFailed) as info:
        ledger.import_jsonl(io.StringIO(sources_file(20)), atomic=True, name="f.jsonl")
    (only,) = info.value.errors
    assert (only.location, only.field) == ("f.jsonl:16", "id")
    assert "nothing was imported" in str(info.value)
    assert [e.event.key for e in ledger.read()] == ["s015"]
