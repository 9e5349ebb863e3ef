"""factledger: an event-sourced, bitemporal ledger of claims.

Every assertion, denial, confirmation and retraction is an immutable, hash-chained event;
projections rebuild what was believed as of any date, as the ledger knew it at any time.
"""

from ledger.api import Ledger
from ledger.append import BatchesResult
from ledger.errors import (
    AppendNotStored,
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
from ledger.retry import RetryPolicy
from projections.audit import AuditReplay
from projections.beliefs import (
    BeliefState,
    Estimate,
    EstimateSummary,
    Role,
    SourceStance,
    Status,
    Verdict,
)
from projections.rules import DEFAULT_POLICY, BeliefPolicy, DefaultPolicy, Evidence, Said
from projections.timeline import Cause, Change, Transition

__all__ = [
    "DEFAULT_POLICY",
    "AppendNotStored",
    "AppendResult",
    "AuditReplay",
    "BatchesResult",
    "BeliefPolicy",
    "BeliefState",
    "BusyError",
    "Category",
    "Cause",
    "Change",
    "ConcurrencyConflict",
    "CorrectionMade",
    "DefaultPolicy",
    "DocumentRegistered",
    "Estimate",
    "EstimateSummary",
    "Event",
    "EventIdConflict",
    "Evidence",
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
    "RetryPolicy",
    "Role",
    "Said",
    "SourceRegistered",
    "SourceStance",
    "Stance",
    "StatementMade",
    "Status",
    "StoreError",
    "Transition",
    "UnknownReference",
    "Verdict",
    "VerifyReport",
    "event_id",
]
