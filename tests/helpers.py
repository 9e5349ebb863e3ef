"""Small helpers for tests: canned events and raw database access for tampering."""

from __future__ import annotations

from sqlalchemy import Engine, make_url, select, text

from ledger import Ledger, PropositionDefined, SourceRegistered, StatementMade
from projections.tables import belief_propositions, belief_sources, belief_stances


def basics() -> list[SourceRegistered | PropositionDefined]:
    """Two sources and one proposition whose party is one of them."""
    return [
        SourceRegistered("kr-nis", "National Intelligence Service", "intelligence", "kr", "B"),
        SourceRegistered("kcna", "Korean Central News Agency", "state_media", "kp"),
        PropositionDefined("troops", "North Korean troops are in Russia", parties=["kcna"]),
    ]


def statement(
    sid: str, source: str = "kr-nis", stance: str = "assert", when: str = "2024-10-18", **kw: object
) -> StatementMade:
    return StatementMade(sid, source, "troops", stance, when, **kw)


def drop_guards(engine: Engine) -> None:
    """Remove the append-only triggers by hand, as an attacker with DDL rights could."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))
            conn.execute(text("DROP TRIGGER events_no_replace"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update_delete ON events"))
            conn.execute(text("DROP TRIGGER events_no_truncate ON events"))


def raw(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def derived_rows(ledger: Ledger) -> list[tuple[object, ...]]:
    """Every row of the materialized projection's tables, tagged with its table, sorted."""
    with ledger.store.engine.connect() as conn:
        return sorted(
            (table.name, *row)
            for table in (belief_stances, belief_sources, belief_propositions)
            for row in conn.execute(select(table))
        )


def as_role(url: str, role: str, application: str | None = None) -> str:
    """A PostgreSQL URL connecting as ``role`` (and, given, naming the application)."""
    parsed = make_url(url).set(username=role)
    if application is not None:
        parsed = parsed.update_query_dict({"application_name": application})
    return parsed.render_as_string(hide_password=False)
