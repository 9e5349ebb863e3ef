"""``factledger demo``: load the North Korea example and tell its story."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

import ledger
from ledger.api import Ledger
from ledger.cli import render
from ledger.cli.app import (
    Failure,
    cli,
    db_option,
    example,
    opened,
    shown,
)
from ledger.events import CorrectionMade, PropositionDefined, StatementMade
from ledger.records import RecordedEvent
from projections.timeline import Transition
from projections.track import Call

# -- the demo --------------------------------------------------------------------------------


#: The example dataset's name: package data in a wheel (``ledger/_examples/``, put there by
#: pyproject.toml's force-include), ``examples/`` in a checkout.
EXAMPLE = "north-korea-troops.jsonl"


def _example_file() -> Traversable:
    """The example dataset, found through importlib.resources as package data of an installed
    wheel; in a checkout (an editable install) it is examples/ beside ledger/."""
    packaged = resources.files(ledger).joinpath("_examples", EXAMPLE)
    if packaged.is_file():
        return packaged
    return Path(ledger.__file__).resolve().parents[1] / "examples" / EXAMPLE


@cli.command(epilog=example("factledger --db sqlite:///demo.db demo"))
@click.option(
    "--file",
    "file_",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The dataset to load. Default: the North Korea example shipped with factledger "
    "(examples/north-korea-troops.jsonl).",
)
@db_option
def demo(file_: Path | None) -> None:
    """Load the North Korea example (corrections in a second step, so the audit view has a
    before and an after) and tell its story: timelines, point-in-time answers, the audit view.
    Running it again on the same database just tells the story again."""
    path: Traversable = file_ or _example_file()
    if not path.is_file():
        raise Failure(f"the example dataset is not at {path}; pass --file")
    out = render.console()
    text = path.read_text(encoding="utf-8")
    with opened(create=True) as lg:
        out.print(render.demo_header(path.name, shown(lg.url), _demo_import(lg, text, path.name)))
        props = _in_file(lg.propositions(), text)
        timelines, focus = _demo_timelines(out, lg, props)
        _demo_points(out, lg, focus, timelines)
        _demo_audit(out, lg)


def _demo_import(lg: Ledger, text: str, name: str) -> list[str]:
    """Import everything but the corrections, then the corrections; the reports' summaries."""
    plain, fixes = _split_corrections(text)
    return [
        lg.import_jsonl(io.StringIO(part), name=name).summary() for part in (plain, fixes) if part
    ]


def _in_file(props: list[PropositionDefined], text: str) -> list[PropositionDefined]:
    """The propositions the file defines or makes statements about (all of the ledger's if it
    names none), in the ledger's order: the demo tells the file's story, not the ledger's."""
    named: set[str] = set()
    for line in text.splitlines():
        record = _record(line)
        if record.get("type") == "proposition":
            named.add(str(record.get("id")))
        elif record.get("type") == "statement":
            named.add(str(record.get("proposition")))
    return [p for p in props if p.proposition_id in named] or props


def _split_corrections(text: str) -> tuple[str, str]:
    """The file without its correction records, and its correction records alone. Left-out
    lines become blank lines (which the importer skips), so errors keep their line numbers;
    an unparsable line goes into the first part, where the importer reports it."""
    lines = text.splitlines(keepends=True)
    flags = [_is_correction(line) for line in lines]
    plain = "".join("\n" if fix else line for line, fix in zip(lines, flags, strict=True))
    fixes = "".join(line if fix else "\n" for line, fix in zip(lines, flags, strict=True))
    return plain, fixes if any(flags) else ""


def _is_correction(line: str) -> bool:
    return _record(line).get("type") == "correction"


def _record(line: str) -> dict[str, Any]:
    """A line's record, or an empty one if it is not a JSON object (the importer says why)."""
    try:
        record = json.loads(line)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _demo_timelines(
    out: Console, lg: Ledger, props: list[PropositionDefined]
) -> tuple[dict[str, list[Transition]], str | None]:
    """Part 1: every proposition's status over time, then the focus's every change. Returns
    the timelines and the focus, from which part 2 takes its dates."""
    timelines = {p.proposition_id: lg.timeline(p.proposition_id) for p in props}
    out.print(render.story_overview(props, timelines))
    changes = {p.proposition_id: lg.timeline(p.proposition_id, every_change=True) for p in props}
    focus = _focus(changes)
    if focus is not None:
        out.print(render.story_focus(focus, changes[focus]))
    return timelines, focus


def _focus(timelines: dict[str, list[Transition]]) -> str | None:
    """The proposition whose belief changed most often (the first, on a tie): the story the
    demo follows closely."""
    return max(timelines, key=lambda p: len(timelines[p]), default=None)


def _demo_points(
    out: Console, lg: Ledger, focus: str | None, timelines: dict[str, list[Transition]]
) -> None:
    """Part 2: the focus as of the first day of the month after each of its last two changes
    of status (for the example: disputed on 1 November 2024, confirmed on 1 May 2025)."""
    if focus is None or not timelines[focus]:
        return
    days = list(dict.fromkeys(_month_after(t.valid_from.date()) for t in timelines[focus][-2:]))
    out.print(render.story_points([lg.believed(focus, as_of=d) for d in days]))
    out.print(render.story_calls(focus, [(d, _calls_on(lg, focus, d)) for d in days]))


def _calls_on(lg: Ledger, proposition: str, day: date) -> list[tuple[str, Call]]:
    """Each source's call on ``proposition`` as of ``day`` (its track record's entry)."""
    return [
        (r.source, c)
        for r in lg.track_records(as_of=day)
        for c in r.calls
        if c.proposition == proposition
    ]


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _demo_audit(out: Console, lg: Ledger) -> None:
    found = _first_correction(lg)
    if found is None:
        out.print(render.story_no_correction())
        return
    as_of = _audit_as_of(found.statement, found.fix)
    proposition = found.statement.proposition_id
    after = found.fix_recorded.recorded_at
    # Imported in one batch with the statement, the correction has no 'before': there is no
    # moment at which the ledger knew the statement without its correction.
    before = found.before
    known = before is not None and before >= found.statement_recorded.recorded_at
    moments = [before, after] if known and before is not None else [after]
    states = [lg.believed(proposition, as_of=as_of, known_at=k) for k in moments]
    replays = [lg.replay(k) for k in moments]
    out.print(render.story_audit(found, states, replays, lg.verify()))


def _first_correction(lg: Ledger) -> render.Corrected | None:
    """The first correction of a statement in the log, that statement as first recorded, and
    the 'before' of the audit view: the recorded_at of the last event appended before the
    correction's batch (normally the event just before it)."""
    statements: dict[str, tuple[StatementMade, RecordedEvent]] = {}
    batch: datetime | None = None
    before: datetime | None = None
    for r in lg.read():
        if r.recorded_at != batch:
            before, batch = batch, r.recorded_at
        e = r.event
        if isinstance(e, StatementMade):
            statements[e.statement_id] = (e, r)
        elif isinstance(e, CorrectionMade) and e.corrects in statements:
            return render.Corrected(before, *statements[e.corrects], e, r)
    return None


def _audit_as_of(statement: StatementMade, fix: CorrectionMade) -> date:
    """A date on which the correction makes a difference: for a moved statement, the day
    after the earlier of its two dates (if that is still before the later one)."""
    first = statement.stated_at.date()
    moved = dict(fix.changes).get("stated_at")
    if not isinstance(moved, datetime):
        return first
    early, late = sorted((first, moved.date()))
    day_after = early + timedelta(days=1)
    return day_after if day_after < late else early
