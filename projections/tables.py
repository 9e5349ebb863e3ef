"""Tables of the materialized belief projection (created by Alembic revision 0002).

They are derived data: ``rebuild()`` can always recreate them from the log, so unlike ``events``
they are updated and deleted freely.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from ledger.schema import Micros, metadata

#: Open end of a period (valid_to or tx_to): far beyond any real instant, and still a BIGINT.
OPEN = 2**62

belief_checkpoint = Table(
    "belief_checkpoint",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("policy", String(200), nullable=False),
)

belief_sources = Table(
    "belief_sources",
    metadata,
    Column("source_id", String(128), primary_key=True),
    Column("payload", Text, nullable=False),
)

belief_propositions = Table(
    "belief_propositions",
    metadata,
    Column("proposition_id", String(128), primary_key=True),
    Column("payload", Text, nullable=False),
    Column("recorded_at", Micros, nullable=False),
)

# Each statement as currently corrected (the transaction-time history lives in the intervals).
belief_statements = Table(
    "belief_statements",
    metadata,
    Column("statement_id", String(128), primary_key=True),
    Column("proposition_id", String(128), nullable=False, index=True),
    Column("source_id", String(128), nullable=False),
    Column("stance", String(20), nullable=False),
    Column("stated_at", Micros, nullable=False),
    Column("value", Text, nullable=True),
    Column("unit", Text, nullable=True),
    Column("position", BigInteger, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
)

# One row per (proposition, valid-time period, transaction-time period) with one verdict.
# valid: [valid_from, valid_to) in stated_at time; tx: [tx_from, tx_to) in recorded_at time.
belief_intervals = Table(
    "belief_intervals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposition_id", String(128), nullable=False),
    Column("valid_from", Micros, nullable=False),
    Column("valid_to", Micros, nullable=False),
    Column("tx_from", Micros, nullable=False),
    Column("tx_to", Micros, nullable=False),
    Column("status", String(20), nullable=False),
    Column("verdict", Text, nullable=False),
    Column("because", Text, nullable=False),
    Index("ix_belief_intervals_lookup", "proposition_id", "valid_from", "tx_from"),
)
