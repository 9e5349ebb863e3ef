"""The Merkle tree over the log (issue 15, phase 2), on SQLite and PostgreSQL: every append writes
each event's salt and leaf in its own transaction, the tree's root is the RFC 9162 root of the
events' leaves, a ledger written before the tree gets it built from its verified log (by the
migration, or by the next append), a tree that cannot cover the log refuses appends, and
``verify`` recomputes the tree from the log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from ledger import Ledger, SourceRegistered, StatementMade
from ledger.errors import UnknownReference
from ledger.store import migrate
from ledger.store.merkle import TreeOutOfStep, root_at, tree_size
from ledger.store.schema import events
from ledger.store.tree import event_salts, leaf_of_row
from ledger.transparency import offline
from ledger.transparency.merkle import stored_index, tree_root
from tests.conftest import FakeClock
from tests.helpers import basics, drop_guards, raw, statement

NEW_SOURCE = SourceRegistered("new-source", "A source registered after the upgrade", "media")
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "ledgers" / "north-korea-2026-11.jsonl"


def _fixture_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def _leaves(engine: Engine) -> list[bytes]:
    """Every event's leaf, recomputed from its row and stored salt."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*events.c, event_salts.c.salt)
            .join(event_salts, event_salts.c.position == events.c.position)
            .order_by(events.c.position)
        ).all()
    return [leaf_of_row(row, bytes(row[-1])) for row in rows]


def _tree(engine: Engine) -> tuple[int, bytes]:
    with engine.connect() as conn:
        size = tree_size(conn)
        return size, root_at(conn, size)


def test_every_append_writes_the_leaves_of_its_events(ledger: Ledger) -> None:
    ledger.append(basics())
    ledger.append([statement("s1")])
    ledger.append_batches([[statement("s2")], [statement("s3"), statement("s4")]])

    leaves = _leaves(ledger.store.engine)
    assert len(leaves) == ledger.head().position == 7
    assert _tree(ledger.store.engine) == (7, tree_root(leaves))
    first = json.loads(leaves[0])
    assert list(first) == list(offline.LEAF_FIELDS)
    assert (first["position"], first["v"], len(first["payload_digest"])) == (1, 1, 64)
    assert ledger.verify().ok


def test_salts_are_random_and_the_leaf_hides_the_payload(ledger: Ledger) -> None:
    ledger.append(basics())
    with ledger.store.engine.connect() as conn:
        salts = [bytes(s) for s in conn.execute(select(event_salts.c.salt)).scalars()]
        payload = conn.execute(select(events.c.payload).where(events.c.position == 1)).scalar()
    assert len(set(salts)) == len(salts) == 3
    assert all(len(s) == offline.SALT_SIZE for s in salts)
    leaf = json.loads(_leaves(ledger.store.engine)[0])
    assert leaf["payload_digest"] == offline.payload_digest(salts[0], str(payload))
    assert leaf["payload_digest"] != offline.payload_digest(b"", str(payload))


def test_a_failed_append_leaves_no_leaf_or_salt(ledger: Ledger) -> None:
    ledger.append(basics())
    before = _tree(ledger.store.engine)
    with pytest.raises(UnknownReference, match="names proposition"):
        ledger.append(
            [statement("s1"), StatementMade("s2", "kcna", "nowhere", "deny", "2024-10-18")]
        )
    assert _tree(ledger.store.engine) == before
    with ledger.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event_salts")).scalar() == 3


def test_a_ledger_written_before_the_tree_gets_it_on_its_next_append(ledger_url: str) -> None:
    rows = _fixture_rows()
    with Ledger.open(ledger_url) as lg:
        with lg.store.engine.begin() as conn:
            conn.execute(events.insert(), rows)  # as an old version wrote it: no salt, no leaf
        assert _tree(lg.store.engine)[0] == 0
        assert lg.verify().ok  # a tree behind the log is no damage

        appended = lg.store.append([NEW_SOURCE])

        size, root = _tree(lg.store.engine)
        assert size == appended.head.position == len(rows) + 1
        assert root == tree_root(_leaves(lg.store.engine))
        assert lg.verify().ok


def test_the_migration_builds_the_tree_of_an_existing_log(ledger_url: str) -> None:
    with Ledger.open(ledger_url, clock=FakeClock()) as lg:
        lg.append(basics())
        lg.append([statement("s1"), statement("s2")])
        engine = lg.store.engine
        migrate.downgrade(engine, "0006")  # the ledger as it was before revision 0007
        assert _tree(engine)[0] == 0

        migrate.upgrade(engine)

        assert _tree(engine) == (5, tree_root(_leaves(engine)))
        assert lg.verify().ok


def test_the_tree_is_built_only_as_far_as_the_chain_verifies(ledger_url: str) -> None:
    with Ledger.open(ledger_url, clock=FakeClock()) as lg:
        lg.append(basics())
        lg.append([statement("s1"), statement("s2")])
        engine = lg.store.engine
        migrate.downgrade(engine, "0006")
        drop_guards(engine)
        raw(engine, "UPDATE events SET payload = replace(payload, 's1', 'sX') WHERE position = 4")

        migrate.upgrade(engine)

        assert _tree(engine)[0] == 3  # positions 1-3 verify; 4 does not, nor anything after
        with pytest.raises(TreeOutOfStep, match="position 4 does not verify"):
            lg.append([statement("s3")])
        report = lg.verify()
        assert (report.ok, report.position) == (False, 4)


def test_verify_recomputes_the_tree_and_names_the_first_edited_leaf(ledger: Ledger) -> None:
    ledger.append(basics())
    ledger.append([statement("s1"), statement("s2")])
    raw(ledger.store.engine, "UPDATE event_salts SET salt = :s WHERE position = 4", s=b"\0" * 16)

    report = ledger.verify()

    assert (report.ok, report.position) == (False, 4)
    assert "Merkle leaf differs" in str(report.problem)


@pytest.mark.parametrize(
    ("level", "index", "position"),
    [
        # the 5-leaf tree's root needs its left subtree (leaves 1-4): no one event's node
        (2, 0, 1),
        (0, 2, 3),  # leaf 3: under that subtree, so the root is not made from it
    ],
)
def test_a_deleted_node_is_reported_not_raised_whether_the_root_needs_it_or_not(
    ledger: Ledger, level: int, index: int, position: int
) -> None:
    ledger.append(basics())
    ledger.append([statement("s1"), statement("s2")])
    raw(ledger.store.engine, "DELETE FROM merkle_nodes WHERE id = :i", i=stored_index(level, index))

    report = ledger.verify()

    assert (report.ok, report.position) == (False, position)
    assert f"no node at level {level}, index {index}" in str(report.problem)


def test_a_deleted_leaf_is_named_at_its_event_when_the_root_differs(ledger: Ledger) -> None:
    ledger.append(basics())
    ledger.append([statement("s1"), statement("s2")])
    raw(ledger.store.engine, "UPDATE event_salts SET salt = :s WHERE position = 4", s=b"\0" * 16)
    raw(ledger.store.engine, "DELETE FROM merkle_nodes WHERE id = :i", i=stored_index(0, 1))

    report = ledger.verify()

    assert (report.ok, report.position) == (False, 2)  # the first leaf the search could not read
    assert "no node at level 0, index 1" in str(report.problem)


@pytest.mark.parametrize(
    ("level", "index", "position", "said"),
    [
        (0, 1, 2, "Merkle leaf differs"),  # leaf 2: under the left subtree, not on the right edge
        (1, 0, 1, "node at level 1, index 0 (over the events from position 1 on)"),
        (1, 1, 3, "node at level 1, index 1 (over the events from position 3 on)"),
    ],
)
def test_any_stored_node_edited_is_found_not_only_those_the_root_is_made_from(
    ledger: Ledger, level: int, index: int, position: int, said: str
) -> None:
    ledger.append(basics())
    ledger.append([statement("s1"), statement("s2")])  # 5 leaves: the root reads (2, 0), (0, 4)
    engine = ledger.store.engine
    raw(
        engine,
        "UPDATE merkle_nodes SET hash = :h WHERE id = :i",
        h=b"\1" * 32,
        i=stored_index(level, index),
    )

    report = ledger.verify()

    assert (report.ok, report.position) == (False, position)
    assert said in str(report.problem)


def test_a_node_table_no_tree_has_is_reported_not_raised(ledger: Ledger) -> None:
    ledger.append(basics())
    ledger.append([statement("s1"), statement("s2")])
    raw(ledger.store.engine, "INSERT INTO merkle_nodes (id, hash) VALUES (1000, :h)", h=b"0" * 32)

    report = ledger.verify()

    assert (report.ok, report.position) == (False, 1)
    assert "Merkle node table is damaged" in str(report.problem)


def test_a_tree_ahead_of_the_log_refuses_appends(ledger: Ledger) -> None:
    ledger.append(basics())
    ledger.append([statement("s1")])
    drop_guards(ledger.store.engine)
    raw(ledger.store.engine, "DELETE FROM events WHERE position = 4")

    with pytest.raises(TreeOutOfStep, match="4 leaves but the log ends at position 3"):
        ledger.append([statement("s2")])
