"""Tamper evidence, end to end: what ``factledger verify`` catches after someone edits the
database behind the ledger's back, and what it cannot catch.

Each test imports ``tests/data/good/baseline.jsonl`` (8 events) through the CLI, keeps the
``factledger checkpoint`` printed then, and attacks the ``events`` table with raw SQL through a
connection of its own, as a database administrator or anyone holding the SQLite file could:
first with the append-only triggers in place (the database refuses), then with the triggers
dropped (``tests.helpers.drop_guards``), where only the hash chain and the checkpoint are left.
Everything runs on SQLite and on PostgreSQL.

The baseline's positions: 1-3 sources, 4 the proposition, 5 ``nis-1500`` (1,500 troops),
6 ``kcna-denies``, 7 ``nsc-3000``, 8 ``kcna-confirms``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy import exc as sa_exc

from ledger import Ledger, hashing
from ledger.store import tree
from tests.cli.conftest import run
from tests.helpers import drop_guards, raw

BASELINE = Path(__file__).resolve().parents[1] / "data" / "good" / "baseline.jsonl"
EVENTS = 8
COLUMNS = (
    "position, event_id, stream_id, stream_version, type, stated_at, recorded_at, payload, "
    "prev_hash, hash"
)


@attrs.frozen
class Imported:
    """A ledger holding the baseline, the checkpoint taken right after, and a raw engine."""

    url: str
    engine: Engine
    checkpoint: str


@pytest.fixture
def imported(ledger_url: str) -> Iterator[Imported]:
    result = run(["--db", ledger_url, "import", str(BASELINE)])
    assert result.exit_code == 0, result.stderr
    checkpoint = run(["--db", ledger_url, "checkpoint"]).stdout.strip()
    assert checkpoint.startswith(f"{EVENTS}:")
    engine = create_engine(ledger_url)
    yield Imported(ledger_url, engine, checkpoint)
    engine.dispose()


@pytest.fixture
def unguarded(imported: Imported) -> Imported:
    """The same, with the append-only triggers dropped: the database refuses nothing now."""
    drop_guards(imported.engine)
    return imported


#: For the tests of SQLite's own REPLACE INTO: they run on SQLite only (chosen at collection).
SQLITE_ONLY = pytest.mark.parametrize("databases", ["sqlite"], indirect=True)


def cover_tracks(url: str) -> None:
    """What a forger with write access does after editing the log: rebuild the derived tables
    from it, so that they agree with the forgery."""
    with Ledger.open(url) as lg:
        lg.rebuild()


def rebuild_tree(engine: Engine) -> None:
    """What a forger who knows of the Merkle tree does too: drop its nodes and build them again
    from the forged log (the node table has no guard of its own; only a checkpoint held
    elsewhere shows the new root)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM merkle_nodes"))
        tree.catch_up(conn, 0, EVENTS)


def verify(url: str, *args: str) -> Result:
    return run(["--db", url, "verify", *args])


def said(result: Result) -> str:
    """What ``verify`` printed, as one line (the console wraps at 100 columns)."""
    assert result.stderr == ""
    return " ".join(result.stdout.split())


def tampered(url: str, *args: str) -> str:
    """``factledger verify`` must find the log tampered with: exit 1; what it printed."""
    result = verify(url, *args)
    assert result.exit_code == 1, result.output
    return said(result)


def row(engine: Engine, position: int) -> dict[str, Any]:
    with engine.connect() as conn:
        found = conn.execute(
            text(f"SELECT {COLUMNS} FROM events WHERE position = :p"), {"p": position}
        )
        return dict(found.mappings().one())


def insert(engine: Engine, values: dict[str, Any]) -> None:
    names = COLUMNS.replace(" ", "").split(",")
    raw(
        engine,
        f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join(':' + n for n in names)})",
        **values,
    )


def correct_hash(values: dict[str, Any]) -> str:
    """The hash the store itself would have given this row: ``sha256(prev_hash || canonical)``,
    as anyone can recompute it from the public algorithm (docs/concepts.md)."""
    canonical = hashing.canonical_event(
        position=values["position"],
        event_id=values["event_id"],
        stream_id=values["stream_id"],
        stream_version=values["stream_version"],
        type=values["type"],
        stated_at=values["stated_at"],
        recorded_at=values["recorded_at"],
        payload=values["payload"],
    )
    return hashing.chain_hash(values["prev_hash"], canonical)


def forged_statement(engine: Engine) -> dict[str, Any]:
    """A new statement row for the end of the log, modelled on ``nis-1500``: next position,
    ``prev_hash`` linked to the head, a fresh event id and stream, a later ``recorded_at``.
    Its ``hash`` is left for the forger to fill in."""
    head, model = row(engine, EVENTS), row(engine, 5)
    payload = json.loads(model["payload"])
    payload.update(statement_id="nis-50000", value=50_000)
    return {
        **model,
        "position": EVENTS + 1,
        "event_id": str(uuid.uuid4()),
        "stream_id": "statement:nis-50000",
        "stream_version": 1,
        "recorded_at": head["recorded_at"] + 1_000_000,
        "payload": hashing.canonical_json(payload),
        "prev_hash": head["hash"],
        "hash": None,
    }


# -- the intact log, and the database's own refusal -----------------------------------------


def test_the_intact_log_verifies_and_extends_its_checkpoint(imported: Imported) -> None:
    plain = verify(imported.url)
    against = verify(imported.url, "--checkpoint", imported.checkpoint)

    assert (plain.exit_code, against.exit_code) == (0, 0)
    assert said(plain) == f"ok: {EVENTS} events verified, head {imported.checkpoint}"
    assert said(against) == said(plain)


def test_the_database_refuses_update_delete_and_truncate_while_the_triggers_are_in_place(
    imported: Imported, backend: str
) -> None:
    attacks = [
        "UPDATE events SET payload = REPLACE(payload, '1500', '15000') WHERE position = 5",
        "UPDATE events SET stated_at = stated_at + 86400000000",
        f"INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM events WHERE position = 5 "
        "ON CONFLICT (position) DO UPDATE SET payload = '{}'",
        "DELETE FROM events WHERE position = 8",
        "DELETE FROM events",
    ]
    if backend == "postgresql":
        attacks.append("TRUNCATE events")
    for sql in attacks:
        with pytest.raises(sa_exc.DBAPIError, match="append-only"):
            raw(imported.engine, sql)

    assert run(["--db", imported.url, "checkpoint"]).stdout.strip() == imported.checkpoint
    assert verify(imported.url, "--checkpoint", imported.checkpoint).exit_code == 0


@SQLITE_ONLY
def test_replace_into_cannot_rewrite_an_event_on_sqlite(imported: Imported) -> None:
    with pytest.raises(sa_exc.DBAPIError, match="append-only"):
        raw(
            imported.engine,
            f"REPLACE INTO events ({COLUMNS}) SELECT position, event_id, stream_id, "
            "stream_version, type, stated_at, recorded_at, REPLACE(payload, '1500', '15000'), "
            "prev_hash, hash FROM events WHERE position = 5",
        )


@SQLITE_ONLY
def test_replace_into_on_sqlite_never_changes_the_log_unnoticed(imported: Imported) -> None:
    """Even if REPLACE INTO got past the guards (the test above), ``verify`` would see it."""
    try:
        raw(
            imported.engine,
            f"REPLACE INTO events ({COLUMNS}) SELECT position, event_id, stream_id, "
            "stream_version, type, stated_at, recorded_at, REPLACE(payload, '1500', '15000'), "
            "prev_hash, hash FROM events WHERE position = 5",
        )
    except sa_exc.DBAPIError as refused:
        assert "append-only" in str(refused)
        assert verify(imported.url, "--checkpoint", imported.checkpoint).exit_code == 0
    else:
        assert tampered(imported.url).startswith("TAMPERED at position 5: the stored hash")


# -- with the triggers dropped: the chain --------------------------------------------------


def test_an_edited_payload_is_caught_at_its_position(unguarded: Imported) -> None:
    raw(
        unguarded.engine,
        "UPDATE events SET payload = REPLACE(payload, '1500', '15000') WHERE position = 5",
    )

    assert tampered(unguarded.url) == (
        "TAMPERED at position 5: the stored hash does not match the event's content: "
        "the row was edited"
    )


def test_an_edited_stated_at_is_caught_at_its_position(unguarded: Imported) -> None:
    """kcna-denies moved one day later: the time is a column of its own, but it is hashed."""
    raw(
        unguarded.engine,
        "UPDATE events SET stated_at = stated_at + 86400000000 WHERE position = 6",
    )

    assert tampered(unguarded.url) == (
        "TAMPERED at position 6: the stored hash does not match the event's content: "
        "the row was edited"
    )


def test_a_deleted_row_is_caught_where_the_gap_is(unguarded: Imported) -> None:
    raw(unguarded.engine, "DELETE FROM events WHERE position = 3")

    assert tampered(unguarded.url) == (
        "TAMPERED at position 4: expected position 3 next, found 4: "
        "a row is missing or out of order"
    )


def test_two_swapped_rows_are_caught_at_the_first_of_them(unguarded: Imported) -> None:
    """Rows 5 and 6 trade places, each whole (hashes and links included) but its position."""
    fifth, sixth = row(unguarded.engine, 5), row(unguarded.engine, 6)
    raw(unguarded.engine, "DELETE FROM events WHERE position IN (5, 6)")
    insert(unguarded.engine, {**sixth, "position": 5})
    insert(unguarded.engine, {**fifth, "position": 6})

    assert tampered(unguarded.url) == (
        "TAMPERED at position 5: prev_hash does not link to the previous event's hash: "
        "rows were removed, swapped or inserted"
    )


def test_a_forged_row_appended_with_a_plausible_but_wrong_hash_is_caught(
    unguarded: Imported,
) -> None:
    """The row links to the head and its hash looks like one (64 hex digits), but it is not
    the sha256 of the row."""
    forged = forged_statement(unguarded.engine)
    forged["hash"] = hashlib.sha256(b"looks like a hash").hexdigest()
    assert forged["hash"] != correct_hash(forged)
    insert(unguarded.engine, forged)

    message = (
        f"TAMPERED at position {EVENTS + 1}: the stored hash does not match the event's "
        "content: the row was edited"
    )
    assert tampered(unguarded.url) == message
    assert tampered(unguarded.url, "--checkpoint", unguarded.checkpoint) == message


def test_a_truncated_tail_passes_verify_alone_and_fails_against_the_checkpoint(
    unguarded: Imported,
) -> None:
    """Cutting the last rows leaves a shorter chain that is perfectly valid. The projection's
    checkpoint still says how long the log was, so ``verify`` notices, until the forger
    rebuilds the projection too; after that only a checkpoint kept elsewhere shows it."""
    sixth = row(unguarded.engine, 6)
    raw(unguarded.engine, "DELETE FROM events WHERE position > 6")
    assert "its tail is missing" in tampered(unguarded.url)
    cover_tracks(unguarded.url)

    alone = verify(unguarded.url)

    assert alone.exit_code == 0
    assert said(alone) == f"ok: 6 events verified, head 6:{sixth['hash']}"
    assert tampered(unguarded.url, "--checkpoint", unguarded.checkpoint) == (
        f"TAMPERED at position 7: the log ends at position 6, before the checkpoint's {EVENTS}: "
        "its tail is missing"
    )


# -- the honest limits ----------------------------------------------------------------------


def test_an_appended_row_with_a_correctly_recomputed_hash_is_not_caught(
    unguarded: Imported,
) -> None:
    """The limit of a keyless hash chain. A forger who appends a row at the end and computes
    its hash by the public algorithm produces a log that is, row for row, exactly what the
    store itself would have written for an honest append of that event:

    * ``verify`` passes, since every hash and link is right;
    * ``verify --checkpoint`` with any earlier checkpoint passes too, since the log still
      extends it: an appended row changes nothing before it.

    Nothing in the database can tell this row from a legitimate one. What reveals it is only
    an outside record of the legitimate writes: the head printed by the last honest import (or
    a ``checkpoint`` taken right after it, kept where the forger cannot edit it) is no longer
    the head. Comparing ``factledger checkpoint`` now with that record shows a position the
    honest writers never produced; whether an extra event is a forgery is then a question for
    whoever keeps the writer role (docs/concepts.md, "Verifying, and checkpoints").
    """
    forged = forged_statement(unguarded.engine)
    forged["hash"] = correct_hash(forged)
    insert(unguarded.engine, forged)

    plain = verify(unguarded.url)
    against = verify(unguarded.url, "--checkpoint", unguarded.checkpoint)
    head_now = run(["--db", unguarded.url, "checkpoint"]).stdout.strip()
    exported = run(["--db", unguarded.url, "export"]).stdout

    assert plain.exit_code == 0
    assert said(plain) == f"ok: {EVENTS + 1} events verified, head {EVENTS + 1}:{forged['hash']}"
    assert against.exit_code == 0  # the old checkpoint is still a prefix of the forged log
    assert head_now == f"{EVENTS + 1}:{forged['hash']}" != unguarded.checkpoint  # the only sign
    assert '"id": "nis-50000"' in exported and '"value": 50000' in exported


def test_a_rewritten_history_with_every_hash_recomputed_is_caught_only_by_a_later_checkpoint(
    unguarded: Imported,
) -> None:
    """A forger who edits row 5, recomputes the hashes of rows 5 to 8 and rebuilds the
    projection (without the rebuild, the projection's checkpoint and rows would betray the edit)
    leaves a ledger that verifies. A checkpoint at or after the edited row no longer matches;
    one taken before it (here, at position 4) cannot tell, as nothing up to it changed."""
    fourth = row(unguarded.engine, 4)
    prev = fourth["hash"]
    for position in range(5, EVENTS + 1):
        values = row(unguarded.engine, position)
        if position == 5:
            values["payload"] = values["payload"].replace("1500", "15000")
        values["prev_hash"] = prev
        values["hash"] = prev = correct_hash(values)
        raw(
            unguarded.engine,
            "UPDATE events SET payload = :payload, prev_hash = :prev_hash, hash = :hash "
            "WHERE position = :position",
            **values,
        )
    assert "TAMPERED" in tampered(unguarded.url)  # the projection remembers the old chain
    cover_tracks(unguarded.url)
    assert tampered(unguarded.url) == (  # and so does the Merkle tree (issue 15)
        "TAMPERED at position 5: the event's Merkle leaf differs from the one stored when it "
        "was appended: the event, its salt or the tree was edited"
    )
    rebuild_tree(unguarded.engine)  # the forger rewrites the tree too: it is a table as well

    assert verify(unguarded.url).exit_code == 0
    assert verify(unguarded.url, "--checkpoint", f"4:{fourth['hash']}").exit_code == 0
    caught = tampered(unguarded.url, "--checkpoint", unguarded.checkpoint)
    old_hash = unguarded.checkpoint.partition(":")[2]
    assert caught == (
        f"TAMPERED at position {EVENTS}: hash {prev[:12]}… differs from the checkpoint's "
        f"{old_hash[:12]}…"
    )
