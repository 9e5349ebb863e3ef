"""pandas DataFrames of a ledger: statements, corrections, sources, a proposition's timeline and
the belief grid, with real dtypes.

Every instant is ``datetime64[us, UTC]`` (microseconds, as the ledger stores them: years 1 to
9999 fit); stances, statuses, categories and reliability grades are categoricals; numbers and
counts are nullable (``Float64``, ``Int64``); text is ``string``; flags are ``boolean``. One
column per field: nothing holds a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ledger import Category, Ledger, NotFound, Reliability, Stance, Status, Verdict
from ledger.analysis._extra import MissingExtra
from ledger.analysis._log import read_log
from ledger.analysis._times import TimeLike, iso, known
from ledger.analysis.grid import belief_grid, main_summary

try:
    import numpy as np
    import pandas as pd
except ImportError as e:  # pragma: no cover - exercised by a test that hides pandas
    raise MissingExtra("pandas") from e

STANCES = tuple(s.value for s in Stance)
STATUSES = tuple(s.value for s in Status)
CATEGORIES = tuple(c.value for c in Category)
RELIABILITIES = tuple(r.value for r in Reliability)


# -- columns ---------------------------------------------------------------------------------


def _instants(values: Sequence[datetime | None]) -> pd.Series:
    naive = [None if v is None else v.astimezone(UTC).replace(tzinfo=None) for v in values]
    return pd.Series(np.array(naive, dtype="datetime64[us]")).dt.tz_localize("UTC")


def _text(values: Sequence[str | None]) -> pd.Series:
    return pd.Series(pd.array(list(values), dtype="string"))


def _numbers(values: Sequence[int | float | None]) -> pd.Series:
    return pd.Series(pd.array([None if v is None else float(v) for v in values], dtype="Float64"))


def _counts(values: Sequence[int | None]) -> pd.Series:
    return pd.Series(pd.array(list(values), dtype="Int64"))


def _flags(values: Sequence[bool]) -> pd.Series:
    return pd.Series(pd.array(list(values), dtype="boolean"))


def _category(values: Sequence[str | None], categories: Sequence[str]) -> pd.Series:
    return pd.Series(pd.Categorical(list(values), categories=list(categories)))


def _frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame({name: column.reset_index(drop=True) for name, column in columns.items()})


# -- statements and corrections --------------------------------------------------------------


def statements_frame(
    lg: Ledger, *, known_at: TimeLike | None = None, proposition: str | None = None
) -> pd.DataFrame:
    """One row per statement, as the corrections known at ``known_at`` (default: now) leave
    it; withdrawn statements are kept, marked ``withdrawn``. With ``proposition``, only the
    statements filed under it (now, or when first recorded). In log order.

    Columns: statement, source, proposition, stance, stated_at, value, unit, document,
    document_sha256, quote, note, withdrawn, corrections (how many), last_correction,
    last_corrected_at, position, recorded_at.
    """
    log = read_log(lg, known_at)
    if proposition is not None and proposition not in log.propositions:
        raise NotFound(f"no proposition {proposition!r} in the ledger")
    rows = [s for s in log.statements.values() if proposition is None or s.concerns(proposition)]
    now = [s.current for s in rows]
    last = [s.corrections[-1] if s.corrections else None for s in rows]
    return _frame(
        {
            "statement": _text([s.statement_id for s in now]),
            "source": _text([s.source_id for s in now]),
            "proposition": _text([s.proposition_id for s in now]),
            "stance": _category([s.stance.value for s in now], STANCES),
            "stated_at": _instants([s.stated_at for s in now]),
            "value": _numbers([s.value for s in now]),
            "unit": _text([s.unit for s in now]),
            "document": _text([s.document_id for s in now]),
            "document_sha256": _text(
                [
                    None if s.document_id is None else _sha256(log.documents, s.document_id)
                    for s in now
                ]
            ),
            "quote": _text([s.quote for s in now]),
            "note": _text([s.note for s in now]),
            "withdrawn": _flags([s.withdrawn for s in rows]),
            "corrections": _counts([len(s.corrections) for s in rows]),
            "last_correction": _text([None if c is None else c.correction.key for c in last]),
            "last_corrected_at": _instants([None if c is None else c.recorded_at for c in last]),
            "position": _counts([s.position for s in rows]),
            "recorded_at": _instants([s.recorded_at for s in rows]),
        }
    )


def _sha256(documents: dict[str, Any], document_id: str) -> str | None:
    document = documents.get(document_id)
    return None if document is None else str(document.sha256)


def corrections_frame(
    lg: Ledger, *, known_at: TimeLike | None = None, proposition: str | None = None
) -> pd.DataFrame:
    """One row per field a correction changed (one row for a withdrawal), in log order.

    Columns: correction, statement, action (``withdraw`` or ``change``), field, before, after
    (the old and new values as text), reason, effective (False when the statement had already
    been withdrawn: it reads differently, but still counts for nothing), position, recorded_at.
    """
    log = read_log(lg, known_at)
    rows: list[tuple[Any, ...]] = []
    for s in log.statements.values():
        if proposition is not None and not s.concerns(proposition):
            continue
        for c in s.corrections:
            base = (c.correction.key, s.id, c.correction.reason, c.effective, c.position)
            if c.withdrew:
                rows.append((*base, c.recorded_at, "withdraw", *_na3))
            changed = c.changed()
            for field, before, after in changed:
                rows.append((*base, c.recorded_at, "change", field, _plain(before), _plain(after)))
            if not c.withdrew and not changed:  # it set what was already there
                rows.append((*base, c.recorded_at, "change", *_na3))
    rows.sort(key=lambda r: r[4])
    return _frame(
        {
            "correction": _text([r[0] for r in rows]),
            "statement": _text([r[1] for r in rows]),
            "action": _category([r[6] for r in rows], ("withdraw", "change")),
            "field": _text([r[7] for r in rows]),
            "before": _text([r[8] for r in rows]),
            "after": _text([r[9] for r in rows]),
            "reason": _text([r[2] for r in rows]),
            "effective": _flags([r[3] for r in rows]),
            "position": _counts([r[4] for r in rows]),
            "recorded_at": _instants([r[5] for r in rows]),
        }
    )


_na3 = (None, None, None)


def _plain(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Stance):
        return value.value
    return str(value)


def sources_frame(lg: Ledger, *, known_at: TimeLike | None = None) -> pd.DataFrame:
    """One row per source registered by ``known_at``: source, name, category, affiliation,
    reliability (an ordered categorical, ``A`` best), note."""
    found = lg.sources(known_at=known(lg, known_at))
    return _frame(
        {
            "source": _text([s.source_id for s in found]),
            "name": _text([s.name for s in found]),
            "category": _category([s.category.value for s in found], CATEGORIES),
            "affiliation": _text([s.affiliation for s in found]),
            "reliability": pd.Series(
                pd.Categorical(
                    [None if s.reliability is None else s.reliability.value for s in found],
                    categories=list(RELIABILITIES),
                    ordered=True,
                )
            ),
            "note": _text([s.note for s in found]),
        }
    )


def _grades(values: Sequence[str | None]) -> pd.Series:
    return pd.Series(pd.Categorical(list(values), categories=list(RELIABILITIES), ordered=True))


def track_records_frame(
    lg: Ledger, *, as_of: TimeLike | None = None, known_at: TimeLike | None = None
) -> pd.DataFrame:
    """One row per source: its track record as of ``as_of``, as known at ``known_at`` (see
    ``Ledger.track_records``), most reliable first: source, right, wrong, open, retracted
    (counts), lead_days and quantity_error (medians, nullable), grade (earned) and given (the
    hand-given one), both ordered categoricals with ``A`` best, and the policy that judged."""
    records = lg.track_records(as_of=as_of, known_at=known(lg, known_at))
    return _frame(
        {
            "source": _text([r.source for r in records]),
            "right": _counts([r.right for r in records]),
            "wrong": _counts([r.wrong for r in records]),
            "open": _counts([r.open for r in records]),
            "retracted": _counts([r.retracted for r in records]),
            "lead_days": _numbers([r.lead_days for r in records]),
            "quantity_error": _numbers([r.quantity_error for r in records]),
            "grade": _grades([r.grade.value for r in records]),
            "given": _grades([None if r.given is None else r.given.value for r in records]),
            "policy": _text([r.policy for r in records]),
            "as_of": _instants([r.as_of for r in records]),
            "known_at": _instants([r.known_at for r in records]),
        }
    )


# -- beliefs ---------------------------------------------------------------------------------


def _verdict_columns(verdicts: Sequence[Verdict]) -> dict[str, pd.Series]:
    summaries = [main_summary(v) for v in verdicts]
    return {
        "status": _category([v.status.value for v in verdicts], STATUSES),
        "supporters": _counts([len(v.supporters) for v in verdicts]),
        "deniers": _counts([len(v.deniers) for v in verdicts]),
        "confirmers": _counts([len(v.confirmers) for v in verdicts]),
        "refuters": _counts([len(v.refuters) for v in verdicts]),
        "estimate_unit": _text([None if s is None else s.unit for s in summaries]),
        "estimate_count": _counts([0 if s is None else s.count for s in summaries]),
        "estimate_min": _numbers([None if s is None else s.min for s in summaries]),
        "estimate_median": _numbers([None if s is None else s.median for s in summaries]),
        "estimate_max": _numbers([None if s is None else s.max for s in summaries]),
        "estimate_units": _counts([len(v.summaries) for v in verdicts]),
        "explanation": _text([v.explanation for v in verdicts]),
    }


def timeline_frame(
    lg: Ledger,
    proposition: str,
    *,
    known_at: TimeLike | None = None,
    every_change: bool = False,
) -> pd.DataFrame:
    """One row per status transition of ``proposition`` in valid time (per change of verdict
    with ``every_change``), as known at ``known_at``.

    Columns: proposition, valid_from, valid_to (NaT while open), status, supporters, deniers,
    confirmers, refuters (counts), estimate_unit, estimate_count, estimate_min,
    estimate_median, estimate_max (the summary of the unit most sources gave), estimate_units
    (how many units were given), because (the ids of the statements that took effect then,
    comma-separated), causes (how many), explanation.
    """
    k = known(lg, known_at)
    rows = lg.timeline(proposition, known_at=k, every_change=every_change)
    return _frame(
        {
            "proposition": _text([proposition] * len(rows)),
            "valid_from": _instants([t.valid_from for t in rows]),
            "valid_to": _instants([t.valid_to for t in rows]),
            **_verdict_columns([t.verdict for t in rows]),
            "because": _text([", ".join(c.statement for c in t.because) for t in rows]),
            "causes": _counts([len(t.because) for t in rows]),
        }
    )


def grid_frame(
    lg: Ledger,
    dates: Iterable[date | datetime | str],
    *,
    known_at: TimeLike | None = None,
    propositions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The belief grid in long form: one row per (date, proposition); see
    :func:`ledger.analysis.belief_grid`. ``date`` is the date asked about (midnight UTC, or
    the instant given), ``as_of`` the valid time answered for (a bare date's last
    microsecond). Pivot it for a propositions x dates table:
    ``frame.pivot(index="proposition", columns="date", values="status")``."""
    cells = belief_grid(lg, dates, known_at=known_at, propositions=propositions)
    return _frame(
        {
            "proposition": _text([c.proposition for c in cells]),
            "date": _instants([_midnight(c.date) for c in cells]),
            "as_of": _instants([c.as_of for c in cells]),
            "known_at": _instants([c.known_at for c in cells]),
            **_verdict_columns([c.verdict for c in cells]),
        }
    )


def _midnight(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)
