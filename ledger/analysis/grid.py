"""The belief grid: every proposition's belief at each of many dates.

Each date costs the projection one pass over all propositions (``verdicts_at``, what ``diff``
uses), not one question per proposition and date. Needs nothing beyond the core install; the
DataFrame form is :func:`ledger.analysis.grid_frame`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

import attrs

from ledger import EstimateSummary, InvalidRecord, Ledger, NotFound, Status, Verdict
from ledger.analysis._times import TimeLike, bound, day, iso, known
from projections.rules import PolicyChoice

Every = Literal["day", "week", "month"]
EVERY: tuple[Every, ...] = ("day", "week", "month")
#: More dates than this in one grid is surely a mistake (a century of days is 36,525).
MAX_DATES = 40_000

#: The columns of :meth:`GridCell.to_row` (the CLI's CSV), in order.
COLUMNS: tuple[str, ...] = (
    "proposition",
    "date",
    "as_of",
    "known_at",
    "status",
    "supporters",
    "deniers",
    "confirmers",
    "refuters",
    "estimate_unit",
    "estimate_count",
    "estimate_min",
    "estimate_median",
    "estimate_max",
    "estimate_units",
    "explanation",
    "policy",
)


def grid_dates(start: date | str, end: date | str, every: Every | str = "day") -> list[date]:
    """``start``, then every day, week (7 days) or month after it, up to and including ``end``.

    Months keep ``start``'s day of the month, or the month's last day when it has fewer
    (from 31 January: 28 or 29 February, 31 March, 30 April ...).
    """
    first, last = day(start, field="from"), day(end, field="to")
    if last < first:
        raise InvalidRecord(f"the last date {last} is before the first {first}", field="to")
    if every not in EVERY:
        raise InvalidRecord(
            f"every must be one of {', '.join(EVERY)}, not {every!r}", field="every"
        )
    step = {"day": 1, "week": 7}.get(every)
    if step is not None:
        count = (last - first).days // step + 1
        _check_count(count)
        return [first + timedelta(days=step * i) for i in range(count)]
    out: list[date] = []
    months = 0
    while (current := _add_months(first, months)) <= last:
        out.append(current)
        months += 1
        _check_count(len(out))
    return out


def _add_months(start: date, months: int) -> date:
    year, month0 = divmod(start.month - 1 + months, 12)
    year += start.year
    if year > 9999:
        return date.max
    month = month0 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _check_count(count: int) -> None:
    if count > MAX_DATES:
        raise InvalidRecord(f"a grid of more than {MAX_DATES:,} dates; pick a longer step")


@attrs.frozen
class GridCell:
    """One proposition's belief at one date: as of ``as_of``, as known at ``known_at``."""

    proposition: str
    date: date | datetime
    as_of: datetime
    known_at: datetime
    verdict: Verdict

    @property
    def status(self) -> Status:
        return self.verdict.status

    @property
    def summary(self) -> EstimateSummary | None:
        """The estimate summary in the unit most sources gave (the first such), if any."""
        return main_summary(self.verdict)

    def to_row(self) -> dict[str, Any]:
        """Flat, JSON- and CSV-ready; every instant as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
        v, s = self.verdict, self.summary
        label = iso(self.date) if isinstance(self.date, datetime) else self.date.isoformat()
        return {
            "proposition": self.proposition,
            "date": label,
            "as_of": iso(self.as_of),
            "known_at": iso(self.known_at),
            "status": v.status.value,
            "supporters": len(v.supporters),
            "deniers": len(v.deniers),
            "confirmers": len(v.confirmers),
            "refuters": len(v.refuters),
            "estimate_unit": None if s is None else s.unit,
            "estimate_count": 0 if s is None else s.count,
            "estimate_min": None if s is None else s.min,
            "estimate_median": None if s is None else s.median,
            "estimate_max": None if s is None else s.max,
            "estimate_units": len(v.summaries),
            "explanation": v.explanation,
            "policy": v.policy,
        }


def main_summary(verdict: Verdict) -> EstimateSummary | None:
    """The summary of the unit most live sources gave an estimate in (the first on a tie)."""
    best: EstimateSummary | None = None
    for s in verdict.summaries:
        if best is None or s.count > best.count:
            best = s
    return best


def belief_grid(
    lg: Ledger,
    dates: Iterable[date | datetime | str],
    *,
    known_at: TimeLike | None = None,
    propositions: Sequence[str] | None = None,
    policy: PolicyChoice | None = None,
) -> list[GridCell]:
    """Every proposition's belief (or only ``propositions``') at each of ``dates``, as known at
    ``known_at`` (default: now). A bare date means through the end of that day, UTC; an
    instant is taken as it is. Cells come date by date, propositions in id order within a date;
    only propositions defined by ``known_at`` appear, and asking for another is ``NotFound``.
    The policy in force at ``known_at`` decides, or ``policy`` (a what-if, as ``Ledger.believed``
    takes it)."""
    k = known(lg, known_at)
    deciding = lg.policy_in_force(known_at=k, policy=policy)
    wanted = None if propositions is None else list(dict.fromkeys(propositions))
    cells: list[GridCell] = []
    for when in dates:
        label: date | datetime = when if not isinstance(when, str) else _label(when)
        as_of = bound(label)
        verdicts = lg.projection.verdicts_at(as_of, k, deciding)
        if wanted is not None:
            missing = [p for p in wanted if p not in verdicts]
            if missing:
                then = "" if known_at is None else f" as known at {iso(k)}"
                raise NotFound(f"no proposition {missing[0]!r} in the ledger{then}")
        for proposition in sorted(verdicts) if wanted is None else wanted:
            cells.append(GridCell(proposition, label, as_of, k, verdicts[proposition]))
    return cells


def _label(text: str) -> date | datetime:
    if len(text) == 10:
        return day(text)
    return bound(text)
