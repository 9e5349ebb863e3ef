"""What the ledger knows of, from the projection's indexed tables: the ids of the sources and
propositions registered by a transaction time, without a scan of the log.

The store then reads those records' own events by stream (:meth:`EventStore.read_streams`), so
``sources()`` and ``propositions()`` cost a lookup per record, whatever the length of the log.
"""

from __future__ import annotations

from sqlalchemy import Engine, Table, select

from ledger.store.backends import reading
from projections.tables import OPEN, belief_propositions, belief_sources, belief_stances


def _ids(engine: Engine, table: Table, key: str, known_at: int | None) -> list[str]:
    bound = OPEN if known_at is None else known_at
    query = select(table.c[key]).where(table.c.recorded_at <= bound)
    with reading(engine) as conn:
        return [str(row[0]) for row in conn.execute(query)]


def source_ids(engine: Engine, known_at: int | None) -> list[str]:
    """Every source registered at or before ``known_at`` (microseconds; None: ever)."""
    return _ids(engine, belief_sources, "source_id", known_at)


def proposition_ids(engine: Engine, known_at: int | None) -> list[str]:
    """Every proposition defined at or before ``known_at`` (microseconds; None: ever)."""
    return _ids(engine, belief_propositions, "proposition_id", known_at)


def statement_ids(engine: Engine, proposition: str, known_at: int | None) -> list[str]:
    """Every statement that stood under ``proposition`` at some transaction time up to
    ``known_at`` (microseconds; None: ever), as corrected then: one version of it at least was
    filed there. A statement filed there and moved away (or withdrawn) by a correction in the
    same transaction never stood there, and is not listed."""
    bound = OPEN if known_at is None else known_at
    query = (
        select(belief_stances.c.statement_id)
        .where(belief_stances.c.proposition_id == proposition, belief_stances.c.tx_from <= bound)
        .distinct()
    )
    with reading(engine) as conn:
        return sorted(str(row[0]) for row in conn.execute(query))
