"""Projection ids compared byte by byte on PostgreSQL: COLLATE "C".

The ids of statements, propositions and sources in the derived tables are opaque text, yet on
PostgreSQL they were compared in the database's collation: under C.UTF-8 (as under any libc locale
but C) every comparison calls ``strcoll``, and sorting forgoes abbreviated keys. A rebuild
sorts a million stance rows to build their primary key and indexes over these columns, which
took a quarter longer than in byte order: by hand, on copies of the 1M benchmark ledger's
rows, the key and three indexes took 5.46 s, 4.36 s with COLLATE "C"; in whole 1M rebuilds
(alternated, three each) the index phase took 4.61-4.93 s, 3.94-4.66 s, and the rebuild's
median rose from 50,185 to 51,798 events/s. Byte order is what SQLite (BINARY) and Python
already give, so both backends now order ids alike. Equality is the same in both collations:
no row and no answer changes. PostgreSQL rebuilds the indexes over the columns (one ALTER a
table); on SQLite there is nothing to do.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, its id columns)
_IDS = (
    ("belief_stances", ("statement_id", "proposition_id", "source_id")),
    ("belief_sources", ("source_id",)),
    ("belief_propositions", ("proposition_id",)),
)


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in _IDS:
        # one statement a table, so each of its indexes is rebuilt once
        changes = ", ".join(f"ALTER COLUMN {c} TYPE VARCHAR(128){collation}" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    _collate(' COLLATE "C"')


def downgrade() -> None:
    _collate("")  # the type's own: the database's collation
