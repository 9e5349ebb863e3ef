"""``factledger demo``: load the North Korea example and tell its story."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

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
from ledger.events import CorrectionMade, StatementMade
from ledger.records import RecordedEvent

#: The demo's story: the proposition it follows closely and the dates it asks about.
FOCUS = "dprk-troops-in-russia"
POINTS = ("2024-11-01", "2025-05-01")

# -- the demo --------------------------------------------------------------------------------


def _example_file() -> Path:
    return Path(ledger.__file__).resolve().parents[1] / "examples" / "north-korea-troops.jsonl"


@cli.command(epilog=example("factledger --db sqlite:///demo.db demo"))
@click.option(
    "--file",
    "file_",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The dataset to load. Default: examples/north-korea-troops.jsonl of this checkout.",
)
@db_option
def demo(file_: Path | None) -> None:
    """Load the North Korea example (corrections in a second step, so the audit view has a
    before and an after) and tell its story: timelines, point-in-time answers, the audit view.
    Running it again on the same database just tells the story again."""
    path = file_ or _example_file()
    if not path.is_file():
        raise Failure(f"the example dataset is not at {path}; pass --file")
    out = render.console()
    with opened(create=True) as lg:
        out.print(render.demo_header(path.name, shown(lg.url), _demo_import(lg, path)))
        _demo_timelines(out, lg)
        _demo_points(out, lg)
        _demo_audit(out, lg)


def _demo_import(lg: Ledger, path: Path) -> list[str]:
    """Import everything but the corrections, then the corrections; the reports' summaries."""
    plain, fixes = _split_corrections(path.read_text(encoding="utf-8"))
    parts = ((plain, path.name), (fixes, path.name))
    return [lg.import_jsonl(io.StringIO(text), name=name).summary() for text, name in parts if text]


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
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("type") == "correction"


def _demo_timelines(out: Console, lg: Ledger) -> None:
    props = lg.propositions()
    timelines = {p.proposition_id: lg.timeline(p.proposition_id) for p in props}
    out.print(render.story_overview(props, timelines))
    focus = _focus(lg)
    if focus is not None:
        out.print(render.story_focus(focus, lg.timeline(focus, every_change=True)))


def _focus(lg: Ledger) -> str | None:
    ids = [p.proposition_id for p in lg.propositions()]
    return FOCUS if FOCUS in ids else (ids[0] if ids else None)


def _demo_points(out: Console, lg: Ledger) -> None:
    focus = _focus(lg)
    if focus is not None:
        out.print(render.story_points([lg.believed(focus, as_of=d) for d in POINTS]))


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
