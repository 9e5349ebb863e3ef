"""``factledger track [SOURCE]``: what each source's word has been worth, as of a date, without
hindsight (see docs/belief-rules.md, "Track records")."""

from __future__ import annotations

import click
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ledger.cli import render
from ledger.cli.app import (
    as_of_option,
    cli,
    db_option,
    example,
    json_option,
    known_at_option,
    naming,
    opened,
    print_json,
)
from ledger.cli.whatif import policy_option
from ledger.events import PolicySet
from projections.track import Call, TrackRecord


@cli.command(epilog=example("factledger track kr-nis --as-of 2025-05-01"))
@click.argument("source", required=False)
@as_of_option
@known_at_option
@policy_option
@json_option
@db_option
def track(
    source: str | None,
    as_of: str | None,
    known_at: str | None,
    policy: PolicySet | None,
    as_json: bool,
) -> None:
    """Each source's track record as of a date (default: now): how many of the propositions it
    supported or denied were resolved its way (right) or the other (wrong), how many are still
    open, the median lead time of its right calls and its earned grade, most reliable first.
    With SOURCE, that source's record proposition by proposition. Only what was stated by
    --as-of, as the ledger knew it at --known-at, counts: no hindsight."""
    if source is not None:
        show_one(source, as_of, known_at, policy, as_json)
        return
    with opened() as lg:
        records = lg.track_records(as_of=as_of, known_at=known_at, policy=policy)
    if as_json:
        print_json([r.to_dict() for r in records])
    else:
        render.console().print(summary(records, what_if=policy is not None))


@cli.command(epilog=example("factledger source kr-nis --as-of 2025-05-01"))
@click.argument("source_id", metavar="SOURCE")
@as_of_option
@known_at_option
@policy_option
@json_option
@db_option
def source(
    source_id: str,
    as_of: str | None,
    known_at: str | None,
    policy: PolicySet | None,
    as_json: bool,
) -> None:
    """One source's track record as of a date (default: now), proposition by proposition: each
    call, whether it was resolved its way, how early, and how far its estimate was from the
    decisive figure (the same as ``factledger track SOURCE``)."""
    show_one(source_id, as_of, known_at, policy, as_json)


def show_one(
    source: str, as_of: str | None, known_at: str | None, policy: PolicySet | None, as_json: bool
) -> None:
    """Print one source's record (an unknown id gets the closest known ones suggested)."""
    with opened() as lg, naming(lg, [source], known_at, kind="source"):
        record = lg.track_record(source, as_of=as_of, known_at=known_at, policy=policy)
    if as_json:
        print_json(record.to_dict())
    else:
        render.console().print(_one(record, what_if=policy is not None))


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f} d"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _head(r: TrackRecord, what: str, *, what_if: bool) -> Text:
    how = " (what-if, not recorded)" if what_if else ""
    return Text(
        f"{what} as of {render.as_of_day(r.as_of)}, as known at {render.instant(r.known_at)}, "
        f"by policy {r.policy}{how}"
    )


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in columns:
        table.add_column(name, no_wrap=name in ("source", "proposition", "grade"))
    return table


def summary(records: list[TrackRecord], *, what_if: bool) -> RenderableType:
    """Every source's record, one row each, under a line saying as of when and by what policy."""
    if not records:
        return Text("no source registered")
    table = _table(
        "source", "grade", "given", "right", "wrong", "open", "retracted", "lead", "qty error"
    )
    for r in records:
        table.add_row(
            r.source,
            r.grade.value,
            "" if r.given is None else r.given.value,
            str(r.right),
            str(r.wrong),
            str(r.open),
            str(r.retracted),
            _days(r.lead_days),
            _share(r.quantity_error),
        )
    return Group(_head(records[0], "Track records", what_if=what_if), table)


def _estimate(c: Call) -> str:
    if c.estimate is None:
        return ""
    said = render.quantity(c.estimate, c.unit)
    return f"{said} vs {render.quantity(c.figure, c.unit)} ({_share(c.error)} off)"


def _one(r: TrackRecord, *, what_if: bool) -> RenderableType:
    given = "none" if r.given is None else r.given.value
    lead = _days(r.lead_days) or "none"
    line = Text(
        f"{r.source}: grade {r.grade.value} (given: {given}); {r.right} right, {r.wrong} wrong, "
        f"{r.open} open, {r.retracted} retracted; median lead {lead}"
    )
    parts: list[RenderableType] = [_head(r, "Track record", what_if=what_if), line]
    if r.calls:
        table = _table("proposition", "result", "stance", "stated", "resolved", "lead", "estimate")
        for c in r.calls:
            resolved = (
                ""
                if c.resolved_at is None or c.outcome is None
                else f"{c.outcome.value} {render.day(c.resolved_at)}"
            )
            table.add_row(
                c.proposition,
                c.result.value,
                c.stance.value,
                render.day(c.stated_at),
                resolved,
                _days(c.lead_days),
                _estimate(c),
            )
        parts.append(table)
    return Group(*parts)
