"""The projection's ids are compared byte by byte on both backends (revision 0011).

``alembic check`` cannot see a column's collation when only one side names it (Alembic leaves
such a difference alone), so a revision that forgot it, or a metadata that forgot it, would pass
there: these tests read it from the catalog. And an id column orders as Python orders str (by
code point, which UTF-8's byte order is) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, String, insert, inspect, select, text

from ledger.store import migrate
from ledger.store.backends import make_engine
from ledger.store.schema import metadata
from projections.tables import belief_propositions

#: Ids whose byte order is not a dictionary's (case, punctuation, spaces, accents).
IDS = ["ab", "aB", "Ab", "a-b", "a b", "a_b", "é", "e", "z", "Z", "a", "a0", "ä"]


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    eng = make_engine(ledger_url)
    yield eng
    eng.dispose()


def _collations(engine: Engine) -> dict[tuple[str, str], str | None]:
    """Each text column of the metadata's tables: the collation the metadata gives it on this
    engine's dialect, or in the database (None: the database's default)."""
    found: dict[tuple[str, str], str | None] = {}
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        for column in inspector.get_columns(table.name):
            if isinstance(column["type"], String):
                found[(table.name, column["name"])] = column["type"].collation
    return found


def _declared(engine: Engine) -> dict[tuple[str, str], str | None]:
    declared: dict[tuple[str, str], str | None] = {}
    for table in metadata.sorted_tables:
        for column in table.columns:
            impl = column.type.dialect_impl(engine.dialect)
            if isinstance(impl, String):
                declared[(table.name, column.name)] = impl.collation
    return declared


@pytest.mark.postgresql
def test_every_text_column_has_the_collation_the_metadata_gives_it(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        migrate.upgrade(engine)
        declared = _declared(engine)
        assert {k for k, v in declared.items() if v == "C"} == {
            ("belief_stances", "statement_id"),
            ("belief_stances", "proposition_id"),
            ("belief_stances", "source_id"),
            ("belief_sources", "source_id"),
            ("belief_propositions", "proposition_id"),
        }
        assert _collations(engine) == declared
        migrate.downgrade(engine, "0010")  # the database's own collation again
        assert all(v is None for v in _collations(engine).values())
        migrate.upgrade(engine, migrate.head_revision() or "head")
        assert _collations(engine) == declared
    finally:
        engine.dispose()


def test_ids_are_ordered_as_python_orders_them(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(belief_propositions),
            [{"proposition_id": i, "payload": "{}", "recorded_at": 0} for i in IDS],
        )
        got = conn.execute(
            select(belief_propositions.c.proposition_id).order_by(
                belief_propositions.c.proposition_id
            )
        ).scalars()
        assert list(got) == sorted(IDS)
        # and a range of them, as the primary key's index reads it
        between = conn.execute(
            text(
                "SELECT proposition_id FROM belief_propositions "
                "WHERE proposition_id >= 'Z' AND proposition_id < 'a-' ORDER BY proposition_id"
            )
        ).scalars()
        assert list(between) == [i for i in sorted(IDS) if "Z" <= i < "a-"]
