"""Alembic environment: online (a connection handed over by ``ledger.store.migrate`` or built from
``LEDGER_DB``/``sqlalchemy.url``) and offline (SQL script) modes."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

import ledger.store.merkle  # registers the Merkle tree's nodes on the metadata
import ledger.store.tree  # noqa: F401 - registers the event salts on the metadata
import projections.tables  # noqa: F401 - registers the projection tables on the metadata
from ledger.store.backends import make_engine
from ledger.store.schema import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    return os.environ.get("LEDGER_DB") or config.get_main_option("sqlalchemy.url") or ""


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
