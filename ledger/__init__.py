"""factledger: an event-sourced, bitemporal ledger of claims.

Every assertion, denial, confirmation and retraction is an immutable, hash-chained event;
projections rebuild what was believed as of any date, as the ledger knew it at any time.

The names below are imported on first use (PEP 562), so that importing any module of the
package first (``projections.rules`` to write a policy, ``migrations/env.py`` under the
``alembic`` command) never runs into a half-initialised ``ledger``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.api import Ledger
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
        PolicySet,
        PropositionDefined,
        RedactionMade,
        Reliability,
        SourceRegistered,
        Stance,
        StatementMade,
        event_id,
    )
    from ledger.jsonl.importer import ImportFailed, ImportReport
    from ledger.records import AppendResult, Head, RecordedEvent, VerifyReport
    from ledger.redaction import Redaction
    from ledger.store.append import BatchesResult
    from ledger.store.retry import RetryPolicy
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
    from projections.ratings import Ratings
    from projections.rules import DEFAULT_POLICY, BeliefPolicy, DefaultPolicy, Evidence, Said
    from projections.timeline import Cause, Change, Transition
    from projections.track import Call, Result, TrackRecord

#: Each public name and the module that defines it.
_EXPORTS: dict[str, str] = {
    "AppendNotStored": "ledger.errors",
    "AppendResult": "ledger.records",
    "AuditReplay": "projections.audit",
    "BatchesResult": "ledger.store.append",
    "BeliefPolicy": "projections.rules",
    "BeliefState": "projections.beliefs",
    "BusyError": "ledger.errors",
    "Category": "ledger.events",
    "Cause": "projections.timeline",
    "Change": "projections.timeline",
    "ConcurrencyConflict": "ledger.errors",
    "CorrectionMade": "ledger.events",
    "DEFAULT_POLICY": "projections.rules",
    "DefaultPolicy": "projections.rules",
    "DocumentRegistered": "ledger.events",
    "Estimate": "projections.beliefs",
    "EstimateSummary": "projections.beliefs",
    "Event": "ledger.events",
    "EventIdConflict": "ledger.errors",
    "Evidence": "projections.rules",
    "Head": "ledger.records",
    "ImportFailed": "ledger.jsonl.importer",
    "ImportReport": "ledger.jsonl.importer",
    "IntegrityError": "ledger.errors",
    "InvalidRecord": "ledger.errors",
    "Ledger": "ledger.api",
    "LedgerError": "ledger.errors",
    "NotFound": "ledger.errors",
    "PolicySet": "ledger.events",
    "PropositionDefined": "ledger.events",
    "RecordedEvent": "ledger.records",
    "Redaction": "ledger.redaction",
    "RedactionMade": "ledger.events",
    "Reliability": "ledger.events",
    "RetryPolicy": "ledger.store.retry",
    "Role": "projections.beliefs",
    "Said": "projections.rules",
    "SourceRegistered": "ledger.events",
    "SourceStance": "projections.beliefs",
    "Stance": "ledger.events",
    "StatementMade": "ledger.events",
    "Status": "projections.beliefs",
    "StoreError": "ledger.errors",
    "Transition": "projections.timeline",
    "UnknownReference": "ledger.errors",
    "Verdict": "projections.beliefs",
    "VerifyReport": "ledger.records",
    "event_id": "ledger.events",
    "Call": "projections.track",
    "Result": "projections.track",
    "TrackRecord": "projections.track",
    "Ratings": "projections.ratings",
}

__all__ = [
    "DEFAULT_POLICY",
    "AppendNotStored",
    "AppendResult",
    "AuditReplay",
    "BatchesResult",
    "BeliefPolicy",
    "BeliefState",
    "BusyError",
    "Call",
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
    "PolicySet",
    "PropositionDefined",
    "Ratings",
    "RecordedEvent",
    "Redaction",
    "RedactionMade",
    "Reliability",
    "Result",
    "RetryPolicy",
    "Role",
    "Said",
    "SourceRegistered",
    "SourceStance",
    "Stance",
    "StatementMade",
    "Status",
    "StoreError",
    "TrackRecord",
    "Transition",
    "UnknownReference",
    "Verdict",
    "VerifyReport",
    "event_id",
]


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name from ``ledger``

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'ledger' has no attribute {name!r}")
        value = getattr(import_module(module), name)
        globals()[name] = value  # later lookups skip this function
        return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
