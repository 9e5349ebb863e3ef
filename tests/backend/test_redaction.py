"""Redaction, the one sanctioned removal (issue 15), on SQLite and PostgreSQL.

A redaction removes an event's free text from the log and from every derived table while the
event keeps its place, its metadata and its Merkle leaf: ``verify`` still passes, every
checkpoint and proof made before or after it still verifies, answers are what they were (with
the text read as ``[redacted]``), and the append-only guard lets nothing else through. On
SQLite, after the file is scrubbed, the text is in none of its bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import make_url, select, text

from ledger import Ledger, RecordedEvent
from ledger.errors import InvalidRecord, NotFound, StoreError
from ledger.events import (
    FREE_TEXT,
    REDACTED,
    CorrectionMade,
    DocumentRegistered,
    Event,
    PolicySet,
    StatementMade,
)
from ledger.store import backends
from ledger.store.schema import events
from ledger.store.tree import event_salts
from ledger.times import to_micros
from ledger.transparency import SigningKey, offline
from projections import fold as reference
from tests.conftest import Databases, FakeClock, pg_admin
from tests.helpers import as_role, basics, derived_rows, drop_guards, raw, statement
from tests.strategies import histories

KEY = SigningKey("example.org/claims", bytes(range(32)))
TRUSTED = [KEY.verifier]
QUOTE = "Jane Roe, 14 Elm Street, told us"
DOC_TEXT = "the full text, which names Jane Roe"


def _story(lg: Ledger) -> None:
    lg.append(basics())
    lg.append(
        [
            DocumentRegistered(
                "doc1",
                "Interview with Jane Roe",
                hashlib.sha256(DOC_TEXT.encode()).hexdigest(),
                publisher="Local Paper",
                url="https://example.org/jane-roe",
                text=DOC_TEXT,
            ),
            statement("s1", document_id="doc1", quote=QUOTE, note="source: Jane Roe"),
            statement("s2", source="kcna", stance="deny", when="2024-10-19"),
        ]
    )
    lg.append([CorrectionMade("c1", "s1", "misquoted Jane Roe", {"quote": "Jane Roe said so"})])


def _answers(lg: Ledger) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for as_of in ("2024-10-18", "2024-10-20", "2025-01-01"):
        b = lg.believed("troops", as_of=as_of)
        out.append((as_of, b.status, b.verdict.supporters, b.verdict.deniers, b.explanation))
    return out


def test_a_redacted_statement_keeps_its_place_its_proofs_and_the_answers(ledger: Ledger) -> None:
    _story(ledger)
    before_note = ledger.checkpoint_note(KEY)
    answers = _answers(ledger)
    old_proof = ledger.prove("s1", before_note)

    done = ledger.redact("statement_made/s1", reason="privacy request of Jane Roe", by="editor")

    assert (done.record_id, done.type, done.by) == ("s1", "statement_made", "editor")
    assert done.fields == ("quote", "note")
    assert ledger.verify().ok  # the log, the tree and the derived tables
    assert _answers(ledger) == answers
    (s1,) = [
        r.event
        for r in ledger.read()
        if isinstance(r.event, StatementMade) and r.event.statement_id == "s1"
    ]
    assert (s1.quote, s1.note, s1.stance.value) == (REDACTED, REDACTED, "assert")
    assert [r.record_id for r in ledger.redactions()] == ["s1"]

    # The proof made before still verifies; the ledger still extends that checkpoint; a new
    # checkpoint is consistent with it; a proof made now shows the digest, not the text.
    assert old_proof.verify(TRUSTED, require_event=True).size == 7
    assert ledger.verify_checkpoint(before_note, keys=TRUSTED).ok
    after_note = ledger.checkpoint_note(KEY)
    ledger.prove_consistency(before_note, after_note).verify(TRUSTED)
    proof = ledger.prove("s1", after_note)
    assert proof.event is not None and "payload" not in proof.event
    assert "salt" not in proof.event and len(str(proof.event["payload_digest"])) == 64
    assert proof.verify(TRUSTED, require_event=True).size == 8
    again = offline.InclusionProof.from_json(json.loads(json.dumps(proof.to_json())))
    assert again.verify(TRUSTED, require_event=True).size == 8
    assert "Jane" not in json.dumps(proof.to_json())


def test_a_redacted_source_document_and_correction_keep_ids_and_structure(
    ledger: Ledger,
) -> None:
    _story(ledger)
    for ident in ("source_registered/kr-nis", "doc1", "c1"):
        ledger.redact(ident, reason="takedown", by="editor", scrub=False)
    assert ledger.verify().ok
    sources = {s.source_id: s for s in ledger.sources()}
    assert sources["kr-nis"].name == REDACTED
    assert sources["kr-nis"].category.value == "intelligence"  # the rules still read it
    docs = [r.event for r in ledger.read() if isinstance(r.event, DocumentRegistered)]
    assert (docs[0].title, docs[0].text, docs[0].url) == (REDACTED, None, REDACTED)
    corrections = [r.event for r in ledger.read() if isinstance(r.event, CorrectionMade)]
    assert corrections[0].reason == REDACTED
    assert corrections[0].changes == (("quote", REDACTED),)
    assert ledger.believed("troops", as_of="2025-01-01").status.value == "disputed"
    assert [r.position for r in ledger.redactions()] == [1, 4, 7]
    ledger.rebuild()
    assert ledger.verify().ok


def test_a_redaction_is_refused_where_it_means_nothing(ledger: Ledger) -> None:
    _story(ledger)
    ledger.redact("s1", reason="privacy", by="editor", scrub=False)
    with pytest.raises(InvalidRecord, match="already redacted"):
        ledger.redact("s1", reason="again", by="editor", scrub=False)
    redaction_id = str(ledger.redactions()[0].event_id)
    (made,) = [r for r in ledger.read() if r.type == "redaction_made"]
    with pytest.raises(InvalidRecord, match="cannot be redacted"):
        ledger.redact(str(made.event_id), reason="x", by="editor", scrub=False)
    with pytest.raises(NotFound):
        ledger.redact("nowhere", reason="x", by="editor", scrub=False)
    with pytest.raises(InvalidRecord, match="by"):
        ledger.redact("s2", reason="x", by="", scrub=False)
    assert redaction_id and ledger.verify().ok


def test_the_guard_lets_only_a_recorded_redaction_through(ledger: Ledger) -> None:
    _story(ledger)
    engine = ledger.store.engine
    marker = '{"redacted_by":"00000000-0000-0000-0000-000000000000"}'
    # No redaction recorded for position 4: refused, whatever the new payload says.
    for sql in (
        "UPDATE events SET payload = :m WHERE position = 4",
        "UPDATE events SET payload = 'x' WHERE position = 4",
    ):
        with pytest.raises(Exception, match="append-only"):
            raw(engine, sql, m=marker)
    ledger.redact("s1", reason="privacy", by="editor", scrub=False)
    (position,) = [r.position for r in ledger.redactions()]
    rid = ledger.redactions()[0].event_id
    (redaction_event,) = [r for r in ledger.read() if r.type == "redaction_made"]
    mark = f'{{"redacted_by":"{redaction_event.event_id}"}}'
    # Once redacted: neither a second marker, nor any other column, nor a deletion.
    for sql in (
        "UPDATE events SET payload = :m WHERE position = :p",
        "UPDATE events SET hash = hash, payload = :m WHERE position = :p",
        "UPDATE events SET stream_version = stream_version + 0 WHERE position = 1",
        "DELETE FROM events WHERE position = :p",
    ):
        with pytest.raises(Exception, match="append-only"):
            raw(engine, sql, m=mark, p=position)
    assert rid and ledger.verify().ok


def test_verify_catches_an_edited_redacted_row_or_redaction(ledger: Ledger) -> None:
    _story(ledger)
    ledger.redact("s1", reason="privacy", by="editor", scrub=False)
    (r,) = ledger.redactions()
    engine = ledger.store.engine
    drop_guards(engine)
    with engine.connect() as conn:
        marker = conn.execute(select(events.c.payload).where(events.c.position == r.position))
        original = marker.scalar_one()
    edited = original.replace('"stance":"assert"', '"stance":"deny"')
    assert edited != original
    raw(engine, "UPDATE events SET payload = :p WHERE position = :pos", p=edited, pos=r.position)
    report = ledger.verify()
    assert not report.ok and report.position == r.position
    assert "marker" in str(report.problem)

    raw(engine, "UPDATE events SET payload = :p WHERE position = :pos", p=original, pos=r.position)
    assert ledger.verify().ok
    # The redaction itself is chained: editing what it recorded breaks its own hash.
    raw(
        engine,
        "UPDATE events SET payload = replace(payload, 'privacy', 'nothing') WHERE position = :p",
        p=r.redaction_position,
    )
    report = ledger.verify()
    assert not report.ok and report.position == r.redaction_position


def test_a_forged_digest_is_caught_by_the_tree(ledger: Ledger) -> None:
    """Rewriting a redacted row's residue and the redaction together (so the chain check is
    satisfied by a forger who also rewrites every later hash) is beyond this test; what the
    leaf alone catches: a redacted row whose recorded digest is not its leaf's."""
    _story(ledger)
    ledger.redact("s1", reason="privacy", by="editor", scrub=False)
    (r,) = ledger.redactions()
    drop_guards(ledger.store.engine)
    # Put a salt back: the leaf is then recomputed from the marker, which is not the payload
    # the leaf committed to.
    with ledger.store.engine.begin() as conn:
        conn.execute(event_salts.insert().values(position=r.position, salt=bytes(16)))
    report = ledger.verify()
    assert not report.ok and report.position == r.position


def test_redaction_needs_a_leaf_that_matches_the_event(ledger: Ledger) -> None:
    _story(ledger)
    drop_guards(ledger.store.engine)
    raw(
        ledger.store.engine,
        "UPDATE events SET payload = replace(payload, 'Jane', 'John') WHERE position = 5",
    )
    with pytest.raises(Exception, match="does not match its Merkle leaf"):
        ledger.redact("s1", reason="privacy", by="editor", scrub=False)


def test_a_policy_record_can_lose_its_note(ledger: Ledger) -> None:
    ledger.append([*basics(), PolicySet("strict", parties_decide=False, note="per Jane Roe")])
    ledger.redact("strict", reason="privacy", by="editor", scrub=False)
    assert ledger.verify().ok
    assert ledger.policy_records()[0].event.note == REDACTED  # type: ignore[union-attr]


REDACTABLE = st.sampled_from(["kr-nis", "kcna", "troops", "doc1", "s1", "s2", "c1"])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(which=st.lists(REDACTABLE, min_size=1, max_size=3, unique=True), later=st.integers(0, 3))
def test_any_redaction_keeps_every_earlier_and_later_proof_valid(
    databases: Databases, clock: FakeClock, which: list[str], later: int
) -> None:
    with Ledger.open(databases.new_url(), clock=clock) as lg:
        _story(lg)
        notes = [lg.checkpoint_note(KEY)]
        answers = _answers(lg)
        for ident in which:
            name = ident if ident not in ("kr-nis", "kcna") else f"source_registered/{ident}"
            lg.redact(name, reason="takedown", by="editor", scrub=False)
            lg.append([statement(f"after-{ident}-{i}") for i in range(later)])
            notes.append(lg.checkpoint_note(KEY))
        assert lg.verify().ok
        assert _answers_status(lg) == [(a[0], a[1]) for a in answers]
        final = notes[-1]
        size = offline.open_checkpoint(final, TRUSTED).size
        for note in notes:
            assert lg.verify_checkpoint(note, keys=TRUSTED).ok
            lg.prove_consistency(note, final).verify(TRUSTED)
        for recorded in lg.read():
            proof = lg.prove(str(recorded.event_id), final)
            assert proof.verify(TRUSTED, require_event=True).size == size
        rows = derived_rows(lg)
        lg.rebuild()
        assert derived_rows(lg) == rows


def _answers_status(lg: Ledger) -> list[tuple[object, ...]]:
    return [
        (as_of, lg.believed("troops", as_of=as_of).status)
        for as_of in ("2024-10-18", "2024-10-20", "2025-01-01")
    ]


# -- the bytes of the file (SQLite) ----------------------------------------------------------


def _file_bytes(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal"):
        p = Path(f"{path}{suffix}")
        if p.exists():
            data += p.read_bytes()
    return data


SECRETS = (QUOTE, DOC_TEXT, "Jane Roe", "National Intelligence Service", "Interview with")


def test_no_trace_of_the_text_is_left_in_the_sqlite_file(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}", clock=clock) as lg:
        _story(lg)
        lg.rebuild()  # leaves the old copies of the sources in free pages
        assert all(s.encode() in _file_bytes(path) for s in SECRETS)
        for ident in ("s1", "doc1", "c1", "source_registered/kr-nis"):
            lg.redact(ident, reason="privacy", by="editor", scrub=False)
        assert lg.scrub()
        assert lg.verify().ok
    data = _file_bytes(path)
    for secret in SECRETS:
        assert secret.encode() not in data, secret
    assert b"Korean Central News Agency" in data  # what was not redacted is still there


def test_one_redaction_scrubs_the_file_by_default(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}", clock=clock) as lg:
        _story(lg)
        lg.redact("doc1", reason="privacy", by="editor")
    assert DOC_TEXT.encode() not in _file_bytes(path)


def test_the_scrub_waits_for_the_checkpointer_and_leaves_the_wal_empty(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The ledger's checkpointer thread (``ledger.store.checkpointer``) copying the WAL when
    the scrub truncates it would leave the WAL, and its old pages, as they were: the scrub
    stops the thread first and waits for it."""
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}", clock=clock) as lg:
        copier = backends.checkpointer_of(lg.store.engine)
        assert copier is not None
        copier.threshold = 0  # every write wakes it: it is at work when the scrub starts
        _story(lg)
        lg.redact("doc1", reason="privacy", by="editor")
        assert not copier.running  # stopped by the scrub; the next write starts it again
        assert Path(f"{path}-wal").stat().st_size == 0
        assert lg.verify().ok
    assert DOC_TEXT.encode() not in _file_bytes(path)


def test_a_scrub_that_cannot_empty_the_wal_says_so(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_LOCK_TIMEOUT", "0.2")
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}", clock=clock) as lg:
        _story(lg)
        lg.redact("doc1", reason="privacy", by="editor", scrub=False)
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM events").fetchone()  # holds its snapshot
            with pytest.raises(StoreError, match="could not be emptied"):
                lg.scrub()
        finally:
            reader.execute("ROLLBACK")
            reader.close()
        assert lg.scrub()  # the reader gone, it completes


# -- roles (PostgreSQL) ------------------------------------------------------------------------


@pytest.fixture
def roles() -> Iterator[tuple[str, str]]:
    """A redactor and a writer role with names of their own (roles are server-wide)."""
    suffix = uuid.uuid4().hex[:8]
    names = (f"fl_redactor_{suffix}", f"fl_writer_{suffix}")
    yield names
    with pg_admin().connect() as conn:
        for name in names:
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))


@pytest.mark.postgresql
def test_only_a_redactor_role_may_redact(pg_url: str, roles: tuple[str, str]) -> None:
    redactor, writer = roles
    with Ledger.open(pg_url) as owner:
        _story(owner)
        owner.grant_redactor(redactor)
        owner.grant_redactor(redactor)  # idempotent
        owner.grant_writer(writer)

    with Ledger.open(as_role(pg_url, writer)) as lg:
        with pytest.raises(Exception, match="permission denied"):
            lg.redact("s1", reason="privacy", by="writer")
        assert lg.redactions() == [] and lg.verify().ok
    with Ledger.open(as_role(pg_url, redactor)) as lg:
        done = lg.redact("s1", reason="privacy", by="redactor")
        assert done.record_id == "s1" and lg.verify().ok
        # The redactor's UPDATE is the guard's one exception, nothing more.
        with pytest.raises(Exception, match="append-only"), lg.store.engine.begin() as c:
            c.execute(text("UPDATE events SET payload = 'x' WHERE position = 4"))
        with pytest.raises(Exception, match="permission denied"), lg.store.engine.begin() as c:
            c.execute(text("UPDATE events SET hash = hash WHERE position = 4"))
    with Ledger.open(pg_url) as owner:
        owner.grant_writer(redactor)  # back to a writer: the column privilege goes too
    with Ledger.open(as_role(pg_url, redactor)) as lg, pytest.raises(Exception, match="permission"):
        lg.redact("s2", reason="privacy", by="redactor")


# -- exports and re-imports ----------------------------------------------------------------------


def test_an_export_marks_what_was_redacted_and_imports_as_it_reads(
    ledger: Ledger, databases: Databases, clock: FakeClock
) -> None:
    _story(ledger)
    original = io.StringIO()
    ledger.export_jsonl(original)
    ledger.redact("s1", reason="privacy request", by="editor", scrub=False)

    out = io.StringIO()
    written = ledger.export_jsonl(out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert written == len(records) == 7  # the redaction event has no import record
    (s1,) = [r for r in records if r.get("id") == "s1"]
    assert s1["quote"] == REDACTED and s1["note"] == REDACTED
    assert s1["redacted"]["by"] == "editor" and s1["redacted"]["reason"] == "privacy request"
    assert "Jane Roe, 14 Elm" not in out.getvalue()
    assert sum("redacted" in r for r in records) == 1

    with Ledger.open(databases.new_url(), clock=clock) as copy:
        report = copy.import_jsonl(io.StringIO(out.getvalue()), name="export.jsonl")
        assert report.appended == 7
        assert _answers(copy) == _answers(ledger)
        assert copy.redactions() == []

    # The original file, text and all, re-imports as repeats: nothing is stored again.
    again = ledger.import_jsonl(io.StringIO(original.getvalue()), name="original.jsonl")
    assert (again.appended, again.skipped) == (0, 7)
    assert ledger.verify().ok
    with ledger.store.engine.connect() as conn:
        payloads = conn.execute(select(events.c.payload)).scalars().all()
    assert not any("14 Elm" in p for p in payloads)


def test_the_csv_export_says_when_a_statement_was_redacted(ledger: Ledger) -> None:
    _story(ledger)
    ledger.redact("c1", reason="privacy", by="editor", scrub=False)
    out = io.StringIO()
    ledger.export_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    by_id = {row["statement"]: row for row in rows}
    (made,) = ledger.redactions()
    assert by_id["s1"]["redacted_at"] == made.redacted_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert by_id["s1"]["quote"] == REDACTED  # the correction's replacement quote
    assert by_id["s2"]["redacted_at"] == ""


def test_a_record_with_a_malformed_redacted_mark_is_refused(ledger: Ledger) -> None:
    line = json.dumps(
        {"type": "source", "id": "x", "name": "X", "category": "media", "redacted": 1}
    )
    with pytest.raises(InvalidRecord, match="redacted"):
        ledger.import_jsonl(io.StringIO(line + "\n"), name="bad.jsonl")


def test_several_redactions_are_made_together_or_not_at_all(ledger: Ledger) -> None:
    _story(ledger)
    with pytest.raises(NotFound):
        ledger.redact_all(["s1", "doc1", "nowhere"], reason="privacy", by="editor", scrub=False)
    with pytest.raises(InvalidRecord, match="twice"):
        ledger.redact_all(["s1", "statement_made/s1"], reason="privacy", by="editor")
    assert ledger.redactions() == [] and ledger.head().position == 7
    done = ledger.redact_all(["s1", "doc1"], reason="privacy", by="editor")
    assert [r.record_id for r in done] == ["s1", "doc1"]
    assert {r.redacted_at for r in done} == {ledger.head().recorded_at}
    assert ledger.verify().ok


# -- random histories ------------------------------------------------------------------------------


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(max_statements=12), data=st.data())
def test_redacting_random_events_of_a_random_history_keeps_proofs_answers_and_the_fold(
    databases: Databases, history: list[list[Event]], data: st.DataObject
) -> None:
    """Any events of any history: every proof against a checkpoint signed before and after
    still verifies, every answer (materialized and the reference fold, which must agree) is
    the one before, and a rebuild writes the same derived rows; on SQLite, once scrubbed, the
    removed text is nowhere in the file."""
    clock = FakeClock()
    with Ledger.open(databases.new_url(), clock=clock) as lg:
        for batch in history:
            lg.append(batch)
        before = lg.checkpoint_note(KEY)
        recorded = list(lg.read())
        as_ofs = [r.stated_at for r in recorded if r.stated_at is not None][:4]
        props = sorted({r.event.key for r in recorded if r.type == "proposition_defined"})
        answers = {(p, a): lg.believed(p, as_of=a).verdict for p in props for a in as_ofs}
        chosen = data.draw(
            st.lists(
                st.sampled_from(recorded), min_size=1, max_size=3, unique_by=lambda r: r.position
            )
        )

        lg.redact_all(
            [str(r.event_id) for r in chosen], reason="takedown", by="editor", scrub=False
        )

        assert lg.verify().ok
        after = lg.checkpoint_note(KEY)
        size = offline.open_checkpoint(after, TRUSTED).size
        lg.prove_consistency(before, after).verify(TRUSTED)
        assert lg.verify_checkpoint(before, keys=TRUSTED).ok
        log = list(lg.read())
        for r in log:
            proof = lg.prove(str(r.event_id), after)
            assert proof.verify(TRUSTED, require_event=True).size == size
        for (p, a), verdict in answers.items():
            now = lg.believed(p, as_of=a)
            assert now.verdict == verdict
            assert reference.believed(log, p, as_of=a, known_at=now.known_at).verdict == verdict
        rows = derived_rows(lg)
        lg.rebuild()
        assert derived_rows(lg) == rows
        if databases.backend == "sqlite":
            _no_trace_of(lg, chosen)


def _removed_text(event: Event) -> list[str]:
    """The free-text values a redaction of ``event`` removes."""
    texts = [getattr(event, name) for name in FREE_TEXT[event.TYPE]]
    if isinstance(event, CorrectionMade):
        texts += [value for name, value in event.changes if name in ("quote", "note")]
    return [t for t in texts if isinstance(t, str)]


def _no_trace_of(lg: Ledger, chosen: list[RecordedEvent]) -> None:
    """Once the file is scrubbed, no removed text long enough to be told apart is in its
    bytes, unless an event not redacted (or an id) still holds it."""
    assert lg.scrub()
    with lg.store.engine.connect() as conn:
        kept = "\n".join(conn.execute(select(events.c.payload)).scalars())
    path = Path(str(make_url(lg.url).database))
    data = _file_bytes(path)
    for event in (r.event for r in chosen):
        for secret in _removed_text(event):
            if len(secret.encode()) >= 12 and secret not in kept:
                assert secret.encode() not in data, secret


def test_an_audit_replay_before_the_redaction_still_verifies_its_prefix(
    ledger: Ledger, clock: FakeClock
) -> None:
    _story(ledger)
    before = ledger.head().recorded_at
    assert before is not None
    statuses = {b.proposition: b.status for b in ledger.replay(known_at=before).beliefs}
    clock.now += timedelta(days=1)
    ledger.redact("s1", reason="privacy", by="editor", scrub=False)

    audit = ledger.replay(known_at=before)

    assert audit.ok, (audit.verification, audit.mismatches)
    assert {b.proposition: b.status for b in audit.beliefs} == statuses


def test_another_ledger_object_forgets_a_source_it_had_decoded_once_it_is_redacted(
    ledger_url: str, clock: FakeClock
) -> None:
    """A long-lived process caches decoded sources for its answers; a redaction recorded by
    anyone else must not leave the removed name in that cache (found by review: it did)."""
    with Ledger.open(ledger_url, clock=clock) as a, Ledger.open(ledger_url, clock=clock) as b:
        _story(a)
        first = a.believed("troops", as_of="2024-10-20")
        k = to_micros(first.known_at)
        assert a.projection.sources(k, checked=True)["kr-nis"].name != REDACTED
        clock.now += timedelta(seconds=1)
        b.redact("source_registered/kr-nis", reason="privacy", by="editor", scrub=False)

        again = a.believed("troops", as_of="2024-10-20")

        assert again.verdict == first.verdict
        known = a.projection.sources(to_micros(again.known_at), checked=True)
        assert known["kr-nis"].name == REDACTED
        assert a.projection.sources(k)["kr-nis"].name == REDACTED  # a bulk read checks too


@pytest.mark.postgresql
def test_redactions_are_found_whatever_the_collation_of_stream_ids(pg_url: str) -> None:
    """Found by review: redaction streams were read as the range 'redaction:'..'redaction;' of
    stream_id, which under an ICU or libc locale holds none: redact failed, and a process that
    had decoded a source kept its removed name for its answers."""
    with Ledger.open(pg_url) as a, Ledger.open(pg_url) as b:
        a.append(basics())
        a.append([statement("s1")])
        first = a.believed("troops")  # decodes kr-nis into a's cache
        k = to_micros(first.known_at)
        assert a.projection.sources(k, checked=True)["kr-nis"].name != REDACTED
        with a.store.engine.begin() as conn:  # as a database made with that locale has it
            conn.execute(
                text(
                    "ALTER TABLE events ALTER COLUMN stream_id "
                    'TYPE varchar(140) COLLATE "en-US-x-icu"'
                )
            )
        b.redact("source_registered/kr-nis", reason="privacy", by="a test")
        assert b.verify().ok
        again = a.believed("troops")
        known = a.projection.sources(to_micros(again.known_at), checked=True)
        assert known["kr-nis"].name == REDACTED
