"""factledger: an event-sourced, bitemporal ledger of claims.

Every assertion, denial, confirmation and retraction is an immutable, hash-chained event;
projections rebuild what was believed as of any date, as the ledger knew it at any time.
"""

from ledger.api import Ledger
from ledger.errors import (
    BusyError,
    ConcurrencyConflict,
    EventIdConflict,
    IntegrityError,
    InvalidRecord,
    LedgerError,
    NotFound,
    StoreError,
    UnknownReference,
)
from ledger.events import (
    Category,
    CorrectionMade,
    DocumentRegistered,
    Event,
    PropositionDefined,
    Reliability,
    SourceRegistered,
    Stance,
    StatementMade,
    event_id,
)
from ledger.importer import ImportFailed, ImportReport
from ledger.records import AppendResult, Head, RecordedEvent, VerifyReport

__all__ = [
    "AppendResult",
    "BusyError",
    "Category",
    "ConcurrencyConflict",
    "CorrectionMade",
    "DocumentRegistered",
    "Event",
    "EventIdConflict",
    "Head",
    "ImportFailed",
    "ImportReport",
    "IntegrityError",
    "InvalidRecord",
    "Ledger",
    "LedgerError",
    "NotFound",
    "PropositionDefined",
    "RecordedEvent",
    "Reliability",
    "SourceRegistered",
    "Stance",
    "StatementMade",
    "StoreError",
    "UnknownReference",
    "VerifyReport",
    "event_id",
]
