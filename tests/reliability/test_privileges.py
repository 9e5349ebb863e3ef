"""Least privilege on PostgreSQL: a writer role can append but never alter or remove an event;
a reader role cannot write at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger import Ledger, LedgerError, StoreError
from ledger.store.privileges import grant_reader, grant_writer
from ledger.transparency import SigningKey
from tests.conftest import pg_admin
from tests.helpers import as_role, basics, statement


@pytest.fixture
def role_name() -> Iterator[str]:
    """A role with a name of its own: roles are server-wide, and two workers' tests granting
    one name on their own schemas made each other's DROP ROLE fail."""
    name = f"factledger_test_role_{uuid.uuid4().hex[:8]}"
    yield name
    with pg_admin().connect() as conn:
        conn.execute(text(f"DROP OWNED BY {name}"))
        conn.execute(text(f"DROP ROLE IF EXISTS {name}"))


@pytest.mark.postgresql
def test_a_writer_appends_and_reads_but_cannot_update_delete_or_truncate(
    pg_url: str, role_name: str
) -> None:
    with Ledger.open(pg_url) as owner:
        owner.append(basics())
        role = role_name
        grant_writer(owner.store.engine, role)
        grant_writer(owner.store.engine, role)  # idempotent

    with Ledger.open(as_role(pg_url, role)) as writer:
        writer.append([statement("s1")])
        assert writer.believed("troops", as_of="2024-10-18").status.value == "claimed"
        for sql in ("UPDATE events SET payload = '{}'", "DELETE FROM events", "TRUNCATE events"):
            with (
                pytest.raises(Exception, match="permission denied"),
                writer.store.engine.begin() as c,
            ):
                c.execute(text(sql))
        assert writer.verify().ok


@pytest.mark.postgresql
def test_a_reader_reads_but_cannot_write_anything(pg_url: str, role_name: str) -> None:
    with Ledger.open(pg_url) as owner:
        owner.append([*basics(), statement("s1")])
        role = role_name
        grant_reader(owner.store.engine, role)
        grant_reader(owner.store.engine, role)

    with Ledger.open(as_role(pg_url, role)) as reader:
        assert reader.believed("troops", as_of="2024-10-18").status.value == "claimed"
        assert reader.verify().ok
        with pytest.raises(StoreError, match="permission denied"):
            reader.append([statement("s2")])
        with pytest.raises(Exception, match="permission denied"), reader.store.engine.begin() as c:
            c.execute(text("DELETE FROM belief_stances"))


def test_roles_are_refused_on_sqlite_with_a_useful_message(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path}/l.db") as lg, pytest.raises(LedgerError, match="file"):
        grant_writer(lg.store.engine, "someone")


@pytest.mark.postgresql
def test_the_salts_and_the_merkle_tree_are_insert_only_for_the_writer_and_read_only_for_the_reader(
    pg_url: str, role_name: str
) -> None:
    """Issue 15: the writer appends leaves and salts with each event but can change neither;
    the reader proves and checks checkpoints but writes nothing."""
    with Ledger.open(pg_url) as owner:
        owner.append(basics())
        grant_writer(owner.store.engine, role_name)

    with Ledger.open(as_role(pg_url, role_name)) as writer:
        writer.append([statement("s1")])
        key = SigningKey("example.org/claims", bytes(32))
        note = writer.checkpoint_note(key)
        for table in ("event_salts", "merkle_nodes"):
            for sql in (f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with (
                    pytest.raises(Exception, match="permission denied"),
                    writer.store.engine.begin() as c,
                ):
                    c.execute(text(sql))
        assert writer.verify_checkpoint(note, keys=[key.verifier]).ok

    with Ledger.open(pg_url) as owner:
        grant_reader(owner.store.engine, role_name + "_r")
    try:
        with Ledger.open(as_role(pg_url, role_name + "_r")) as reader:
            assert reader.prove("s1", note).verify([key.verifier], require_event=True).size == 4
            assert reader.verify_checkpoint(note).ok
            with (
                pytest.raises(Exception, match="permission denied"),
                reader.store.engine.begin() as c,
            ):
                c.execute(text("DELETE FROM merkle_nodes"))
    finally:
        with pg_admin().connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role_name}_r"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role_name}_r"))
