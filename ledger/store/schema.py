"""The database schema as SQLAlchemy Core metadata.

This module describes; Alembic revisions in ``migrations/versions`` create and change. A test runs
``alembic check`` so the two never drift apart. Triggers that make the log append-only are
created by the migrations (Alembic's autogenerate does not see triggers).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: no second index to maintain.
Position = BigInteger().with_variant(Integer(), "sqlite")
#: Instants are integer microseconds since the Unix epoch, UTC (see ``ledger.times``).
Micros = BigInteger

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(140), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("stated_at", Micros, nullable=True),
    Column("recorded_at", Micros, nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("uq_events_stream_id_stream_version", "stream_id", "stream_version", unique=True),
)

#: The columns of ``events`` in table order: the keys of each row, the order of each insert, of
#: each verified and each hashed row (one list, read by the append path, verify and the tree).
EVENT_COLUMNS: tuple[str, ...] = tuple(column.name for column in events.columns)


def streams_of(kind: str) -> ColumnElement[bool]:
    """The streams ``kind:...`` (``statement``, ``redaction``): a range of the ``(stream_id,
    stream_version)`` index that holds them in any collation, narrowed to them exactly.

    The range is bounded by letters only (``statement`` up to ``statemenu``), which every
    collation orders alphabetically; a range bounded by ``kind:`` and ``kind;`` holds them only
    where text compares byte by byte (SQLite, PostgreSQL's C): under ICU or most libc locales
    punctuation weighs less than letters, and it held none (found by a review, under
    ``en-US-x-icu``). ``LIKE`` then keeps the ``kind:`` streams of the range (the pattern has no
    wildcard but the trailing ``%``)."""
    after = kind[:-1] + chr(ord(kind[-1]) + 1)
    column = events.c.stream_id
    return and_(column >= kind, column < after, column.like(f"{kind}:%"))
