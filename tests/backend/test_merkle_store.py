"""The Merkle node table (migration 0005, ``ledger.store.merkle``) on SQLite and PostgreSQL: the
tree appended in batches is RFC 9162's tree, proofs come from one statement and verify offline,
and a tree out of step with what the caller expects is refused."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select

from ledger.store import migrate
from ledger.store.backends import make_engine
from ledger.store.merkle import (
    TreeOutOfStep,
    append_leaves,
    merkle_nodes,
    prove_consistency,
    prove_inclusion,
    root_at,
    tree_size,
)
from ledger.transparency.merkle import stored_count, tree_root
from ledger.transparency.offline import leaf_hash, verify_consistency, verify_inclusion
from tests.strategies import merkle_leaves


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    eng = make_engine(ledger_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def _batches(leaves: list[bytes], cuts: list[int]) -> list[list[bytes]]:
    bounds = [0, *sorted({c % (len(leaves) + 1) for c in cuts}), len(leaves)]
    return [leaves[a:b] for a, b in itertools.pairwise(bounds)]


# One database for all examples: each runs in a transaction it rolls back.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(leaves=merkle_leaves(max_size=200), cuts=st.lists(st.integers(min_value=0), max_size=5))
def test_a_tree_appended_in_batches_is_the_rfc_tree_and_proves_every_leaf(
    engine: Engine, leaves: list[bytes], cuts: list[int]
) -> None:
    with engine.connect() as conn, conn.begin() as tx:
        size = 0
        for batch in _batches(leaves, cuts):
            appender = append_leaves(conn, size, batch)
            size += len(batch)
            assert appender.root() == root_at(conn, size) == tree_root(leaves[:size])
        assert tree_size(conn) == len(leaves)
        ids = conn.execute(select(merkle_nodes.c.id).order_by(merkle_nodes.c.id)).scalars()
        assert list(ids) == list(range(stored_count(len(leaves))))
        root = tree_root(leaves)
        for index in sorted({0, len(leaves) // 2, len(leaves) - 1}) if leaves else []:
            path = prove_inclusion(conn, index, len(leaves))
            verify_inclusion(leaf_hash(leaves[index]), index, len(leaves), path, root)
        old = len(leaves) // 3
        proof = prove_consistency(conn, old, len(leaves))
        verify_consistency(old, len(leaves), tree_root(leaves[:old]), root, proof)
        tx.rollback()


def test_a_proof_at_any_size_is_one_statement(engine: Engine) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(1000)]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with engine.begin() as conn:
        append_leaves(conn, 0, leaves)
        event.listen(conn, "before_cursor_execute", count)
        path = prove_inclusion(conn, 637, 1000)
        assert len(statements) == 1
        proof = prove_consistency(conn, 777, 1000)
        assert len(statements) == 2
        event.remove(conn, "before_cursor_execute", count)
    verify_inclusion(leaf_hash(leaves[637]), 637, 1000, path, tree_root(leaves))
    verify_consistency(777, 1000, tree_root(leaves[:777]), tree_root(leaves), proof)


def test_a_tree_out_of_step_with_the_log_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        append_leaves(conn, 0, [b"a", b"b", b"c"])
        with pytest.raises(TreeOutOfStep, match="has 3 leaves; the log expects 2"):
            append_leaves(conn, 2, [b"d"])
        with pytest.raises(TreeOutOfStep, match="expects 5"):
            append_leaves(conn, 5, [b"d"])
        conn.execute(merkle_nodes.insert(), [{"id": stored_count(3), "hash": bytes(32)}])
        with pytest.raises(TreeOutOfStep, match="damaged"):
            tree_size(conn)
