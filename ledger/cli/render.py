"""Turning API results into what people read: rich tables, a status bar chart, short lines.

Only the CLI uses this module. It formats values the API returns and never queries the ledger
itself. Every piece of ledger data goes into a ``Text`` or a plain cell string, and the console
is built with markup and emoji codes turned off: a document title like "[no headline]" or a
quote containing ":smile:" is printed exactly as recorded.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import IO, Any, cast

import attrs
from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ledger.cli.revisions import Revisions
from ledger.events import (
    CorrectionMade,
    PropositionDefined,
    SourceRegistered,
    Stance,
    StatementMade,
)
from ledger.records import RecordedEvent, VerifyReport
from ledger.redaction import Redaction
from ledger.times import iso
from projections.audit import AuditReplay
from projections.beliefs import BeliefState, Estimate, EstimateSummary, Status
from projections.ratings import Ratings
from projections.timeline import Change, Transition
from projections.track import Call

#: Width used when stdout is not a terminal (a pipe, a file, a test) and COLUMNS is unset.
PIPE_WIDTH = 100
#: Widest output on a terminal (unless COLUMNS asks for more): long lines are hard to read.
MAX_WIDTH = 120

STYLE = {
    Status.UNKNOWN: "dim",
    Status.CLAIMED: "yellow",
    Status.DISPUTED: "dark_orange",
    Status.DENIED: "red",
    Status.CONFIRMED: "green",
    Status.REFUTED: "bold red",
    Status.RETRACTED: "dim",
}

#: One glyph per status for the bar chart, distinct even without colour.
GLYPH = {
    Status.UNKNOWN: "·",
    Status.CLAIMED: "░",
    Status.DISPUTED: "▒",
    Status.DENIED: "▓",
    Status.CONFIRMED: "█",
    Status.REFUTED: "x",
    Status.RETRACTED: "-",
}


def console(*, stderr: bool = False) -> Console:
    """A console for one command. Colour only on a terminal (rich also honours NO_COLOR); lines
    at most ``MAX_WIDTH`` wide there, ``PIPE_WIDTH`` into a pipe, unless COLUMNS says otherwise.
    Into a pipe or a file, lines lose the spaces rich pads them with, and the output does not
    start with a blank line (see :class:`Trimmed`)."""
    stream = sys.stderr if stderr else sys.stdout
    chosen = "COLUMNS" in os.environ
    out = Console(
        file=stream if stream.isatty() else cast(IO[str], Trimmed(stream)),
        width=None if chosen or stream.isatty() else PIPE_WIDTH,
        highlight=False,
        markup=False,
        emoji=False,
    )
    if not chosen and out.width > MAX_WIDTH:
        out.width = MAX_WIDTH
    return out


class Trimmed:
    """A text stream for rich off a terminal: each line written loses its trailing blanks (rich
    pads every line of a table to the table's width, and a table's top edge is a line of
    spaces), and blank lines before the first text are dropped. Rich writes a whole rendering
    at once, lines and their ends together, so a line is never split between two writes."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.started = False

    def write(self, text: str) -> int:
        trimmed = _TRAILING.sub("", text)
        if not self.started:
            trimmed = trimmed.lstrip("\n")
            self.started = bool(trimmed)
        self.stream.write(trimmed)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


_TRAILING = re.compile(r"[ \t]+(?=\n)")


# -- small values ----------------------------------------------------------------------------


def day(value: datetime | None) -> str:
    """A valid time as people write it: the date, plus the time of day only if it has one."""
    if value is None:
        return "—"
    if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
        return value.date().isoformat()
    return f"{value:%Y-%m-%d %H:%M}"


def instant(value: datetime | None) -> str:
    """A transaction time, exact: the form ``--known-at`` accepts back."""
    return "—" if value is None else iso(value)


def number(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.6g}"
    return f"{int(value):,}"


def quantity(value: float | None, unit: str | None) -> str:
    text = number(value)
    return f"{text} {unit}" if text and unit else text


def status(value: Status) -> Text:
    return Text(value.value, style=STYLE[value])


def short_hash(value: str) -> str:
    return f"{value[:12]}…"


def checkpoint(position: int, hash_: str) -> str:
    return f"{position}:{hash_}"


def _table(*columns: str, title: str | None = None, keep: Iterable[str] = ()) -> Table:
    """A table with a rule under its header; the ``keep`` columns (ids, dates) never wrap,
    so the others give way when space runs short."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    whole = set(keep)
    for name in columns:
        table.add_column(name, no_wrap=name in whole)
    return table


# -- beliefs ---------------------------------------------------------------------------------


def belief(
    state: BeliefState, revised: Revisions | None = None, ratings: Ratings | None = None
) -> RenderableType:
    """The whole answer of ``believe``: status, explanation, who says what, the estimates, and
    (``revised``) what was retracted and what was corrected; (``ratings``) the credibility on
    the Admiralty scale, and each stance's code when the sources were graded."""
    head = Text.assemble(
        (state.proposition, "bold"),
        "  ",
        status(state.status),
        f"\nas of {as_of_day(state.as_of)}, as known at {instant(state.known_at)}, "
        f"by policy {state.policy}\n",
        (state.explanation, "italic"),
    )
    if ratings is not None:
        head.append(f"\ncredibility {ratings.credibility} ({ratings.label})")
    parts: list[RenderableType] = [head]
    stances = stance_table(state, ratings if ratings is not None and ratings.grades else None)
    if stances.row_count:
        parts.append(stances)
    if state.estimates:
        parts.append(estimates(state.estimates, state.summaries))
    if revised is not None and revised.retractions:
        parts.append(retractions(revised))
    if revised is not None and revised.corrections:
        if not isinstance(parts[-1], Table):  # a table ends with a blank line of its own
            parts.append(Text())
        parts.append(corrections(revised))
    return Group(*parts)


def retractions(revised: Revisions) -> Table:
    """Who took back what: the sources a retraction removed from the answer."""
    title = "Retracted (no longer counted)"
    columns = ("source", "retracted", "statement", "took back")
    table = _table(*columns, title=title, keep=columns[:3])
    for r in revised.retractions:
        s, back = r.statement, r.retracts
        took = (
            ""
            if back is None
            else f"{VERB[back.stance]} ({day(back.stated_at)}): {back.statement_id}"
        )
        table.add_row(s.source_id, day(s.stated_at), s.statement_id, took)
    return table


def corrections(revised: Revisions) -> Group:
    """The corrections of the proposition's statements: which, when recorded, what changed."""
    lines: list[RenderableType] = [
        Text("Corrections (counted: the answer reads the statements as corrected)")
    ]
    grid = _grid()
    for c in revised.corrections:
        grid.add_row(
            f"  {c.correction.correction_id}",
            f"recorded at {instant(c.recorded_at)}: {correction_text(c.correction)}",
        )
    lines.append(grid)
    return Group(*lines)


def stance_table(state: BeliefState, ratings: Ratings | None = None) -> Table:
    """Who stands where: confirmers, refuters, supporters, deniers, in that order; with
    ``ratings``, each stance's Admiralty code (the source's earned grade, the credibility)."""
    columns: tuple[str, ...] = ("source", "stance", "stated", "role", "statement")
    if ratings is not None:
        columns = (*columns, "rating")
    table = _table(*columns, keep=columns)
    for side in (state.confirmers, state.refuters, state.supporters, state.deniers):
        for s in side:
            row = [s.source, s.stance.value, day(s.stated_at), s.role.value, s.statement]
            if ratings is not None:
                row.append(ratings.code(s.source) or "")
            table.add_row(*row)
    return table


def estimates(by_source: Iterable[Estimate], summaries: Iterable[EstimateSummary]) -> Group:
    title = "Estimates (latest by source)"
    table = _table("source", "estimate", "stated", "statement", title=title, keep=("statement",))
    for e in by_source:
        table.add_row(e.source, quantity(e.value, e.unit), day(e.stated_at), e.statement)
    table.columns[1].justify = "right"
    return Group(table, Text("\n".join(range_line(s) for s in summaries)))


def estimates_by_unit(items: Iterable[Estimate]) -> str:
    """``troops: kr-nis 1,500 · us-nsc 3,000 | additional troops: kr-gov 3,000``."""
    groups: dict[str, list[str]] = {}
    for e in items:
        groups.setdefault(e.unit or "", []).append(f"{e.source} {number(e.value)}")
    return " | ".join(
        f"{unit}: {' · '.join(v)}" if unit else " · ".join(v) for unit, v in groups.items()
    )


# -- timelines and diffs ---------------------------------------------------------------------


VERB = {
    Stance.ASSERT: "asserts",
    Stance.DENY: "denies",
    Stance.CONFIRM: "confirms",
    Stance.REFUTE: "refutes",
    Stance.RETRACT: "retracts",
    Stance.NO_COMMENT: "declines to comment",
}


def causes(item: Transition | Change, *, limit: int | None = None) -> str:
    """Who said what to start the interval, with the figure if the statement gave one; past
    ``limit`` statements, a count of the rest."""
    verdict = item.after.verdict if isinstance(item, Change) else item.verdict
    figures = {e.statement: e for e in verdict.estimates}
    said: list[str] = []
    for c in item.because:
        e = figures.get(c.statement)
        figure = f" {quantity(e.value, e.unit)}" if e is not None else ""
        text = f"{c.source} {VERB[c.stance]}{figure}"
        if text not in said:
            said.append(text)
    if limit is not None and len(said) > limit:
        said[limit - 1 :] = [f"and {len(said) - limit + 1} more"]
    return ", ".join(said)


def timeline(
    transitions: Sequence[Transition], *, every_change: bool = False, until: bool = True
) -> Table:
    last = "estimates in force" if every_change else "explanation"
    table = _table("from", *(["to"] if until else []), "status", "because", last)
    for t in transitions:
        to = ["now" if t.valid_to is None else day(t.valid_to)] if until else []
        if every_change:
            text = "\n".join(range_line(s) for s in t.verdict.summaries) or "none"
        else:
            text = t.verdict.explanation
        table.add_row(day(t.valid_from), *to, status(t.status), causes(t), text)
    if transitions:
        table.caption = f"decided by policy {transitions[0].verdict.policy}"
        table.caption_justify = "left"
    return table


def range_line(s: EstimateSummary) -> str:
    """``troops: 1,500 to 8,000, median 3,000 (3 sources)``."""
    sources = "source" if s.count == 1 else "sources"
    span = number(s.min) if s.min == s.max else f"{number(s.min)} to {number(s.max)}"
    median = "" if s.count < 3 else f", median {number(s.median)}"
    return f"{s.unit or '(no unit)'}: {span}{median} ({s.count} {sources})"


def diff(
    changes: Sequence[Change], a: str, b: str, *, every_change: bool = False
) -> RenderableType:
    if not changes:
        what = "belief" if every_change else "status or estimates"
        return Text(f"no proposition changed {what} between {a} and {b}")
    table = _table("proposition", "before", "after", "because", keep=("proposition",))
    for c in changes:
        before, after = status(c.before.status), status(c.after.status)
        table.add_row(c.proposition, before, after, causes(c, limit=6))
    table.caption = f"decided by policy {changes[0].after.policy}"
    table.caption_justify = "left"
    return table


def status_bar(
    transitions: Sequence[Transition], start: datetime, weeks: int, *, step: int = 7
) -> Text:
    """One glyph per ``step`` days from ``start``: the status in force at the end of each."""
    bar = Text()
    for i in range(weeks):
        end = start + timedelta(days=step * (i + 1)) - timedelta(microseconds=1)
        current = Status.UNKNOWN
        for t in transitions:
            if t.valid_from <= end:
                current = t.status
        bar.append(GLYPH[current], style=STYLE[current])
    return bar


def month_axis(start: datetime, weeks: int, *, step: int = 7) -> str:
    """Month labels for a status bar, each over the week that holds the month's first day."""
    cells = [" "] * (weeks + 3)
    for i in range(weeks):
        first = start + timedelta(days=step * i)
        firsts = [d for d in (first + timedelta(days=n) for n in range(step)) if d.day == 1]
        if i and not firsts:
            continue
        label = f"{(firsts[0] if firsts else first):%b}"
        if all(c == " " for c in cells[max(0, i - 1) : i + len(label)]):
            cells[i : i + len(label)] = list(label)
    return "".join(cells).rstrip()


def legend() -> Text:
    text = Text("legend: ")
    for s, glyph in GLYPH.items():
        text.append(glyph, style=STYLE[s])
        text.append(f" {s.value}  ")
    return text


# -- the log ---------------------------------------------------------------------------------


def history(
    events: Iterable[RecordedEvent], redacted: Mapping[int, Redaction] | None = None
) -> Table:
    """The events, one row each; a redacted one says when its text was removed, by whom, why."""
    table = _table("pos", "recorded at", "stated", "type", "event", keep=("recorded at", "stated"))
    for r in events:
        stated = day(r.stated_at) if r.stated_at else ""
        kind = r.type.rsplit("_", 1)[0]
        text = event_text(r)
        made = (redacted or {}).get(r.position)
        if made is not None:
            text += f"\n(text redacted {instant(made.redacted_at)} by {made.by}: {made.reason})"
        table.add_row(str(r.position), instant(r.recorded_at), stated, kind, text)
    table.columns[0].justify = "right"
    return table


def event_text(r: RecordedEvent) -> str:
    """What an event says: who, which stance, the figure, then the quote on its own line."""
    e = r.event
    if isinstance(e, StatementMade):
        said = f"{e.source_id} {VERB[e.stance]} {quantity(e.value, e.unit)}".rstrip()
        quote = f"“{e.quote}”" if e.quote else (e.note or "")
        return f"{said}\n{quote}" if quote else said
    if isinstance(e, CorrectionMade):
        return f"{e.correction_id}: {correction_text(e)}"
    if isinstance(e, PropositionDefined):
        return f"{e.proposition_id}: {e.text}"
    return e.key


def correction_text(c: CorrectionMade) -> str:
    if c.withdraw:
        what = "withdraws it"
    else:
        what = "sets " + ", ".join(f"{k} = {_plain(v)}" for k, v in c.changes)
    return f"corrects {c.corrects}: {what} ({c.reason})"


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        return day(value)
    return "null" if value is None else str(value)


def sources(items: Iterable[SourceRegistered]) -> Table:
    table = _table("id", "name", "category", "affiliation", "grade", keep=("id",))
    for s in items:
        grade = s.reliability.value if s.reliability else ""
        table.add_row(s.source_id, s.name, s.category.value, s.affiliation or "", grade)
    return table


def propositions(rows: Iterable[tuple[PropositionDefined, BeliefState]]) -> Table:
    table = _table("id", "status", "text", keep=("id",))
    for p, state in rows:
        table.add_row(p.proposition_id, status(state.status), p.text)
    return table


# -- integrity -------------------------------------------------------------------------------


def verify(report: VerifyReport, *, head: bool = True) -> Text:
    if report.ok:
        where = f", head {checkpoint(report.head.position, report.head.hash)}" if head else ""
        redacted = (
            f" ({report.redacted} redacted: checked through their Merkle leaves)"
            if report.redacted
            else ""
        )
        return Text.assemble(
            ("ok", "bold green"), f": {report.checked} events verified{redacted}{where}"
        )
    where = "" if report.position is None else f" at position {report.position}"
    return Text.assemble(("TAMPERED", "bold red"), f"{where}: {report.problem}")


#: Rows of the replay's table printed together: its beliefs come as they are compared, never
#: all held, so the table is printed in parts (one table to the eye: the header once, the same
#: columns).
REPLAY_ROWS = 100


def replay(audit: AuditReplay) -> Iterator[RenderableType]:
    """The audit replay for people, printed as it goes: the prefix and its verification, the
    beliefs :data:`REPLAY_ROWS` at a time as they are compared, then whether the projection
    agreed with every one (known only after the last)."""
    yield Text.assemble(
        ("Audit replay", "bold"),
        f" as known at {instant(audit.known_at)}\n",
        f"log prefix: positions 1..{audit.position}, hash {audit.hash}\n",
        "chain: ",
        verify(audit.verification, head=False),
        "\n",
    )
    widths = [
        max([len("proposition"), *(cell_len(p) for p in audit.propositions)]),
        max(len(s.value) for s in Status),
    ]
    rows: list[BeliefState] = []
    shown = False
    for belief in audit.beliefs:
        rows.append(belief)
        if len(rows) == REPLAY_ROWS:
            yield _replay_rows(rows, widths, header=not shown)
            rows, shown = [], True
    if rows or not shown:
        yield _replay_rows(rows, widths, header=not shown)
    agree = "yes" if not audit.mismatches else "NO: " + ", ".join(audit.mismatches)
    yield Text(f"\nmaterialized projection agrees with the reference fold: {agree}")


def _replay_rows(rows: Sequence[BeliefState], widths: list[int], *, header: bool) -> Padding:
    """A part of the replay's table, its proposition and status columns ``widths`` wide (the
    widest of each in the whole table), so that the parts line up."""
    table = _table("proposition", "status", "explanation", keep=("proposition",))
    table.show_header, table.show_edge = header, False
    for column, width in zip(table.columns, widths, strict=False):
        column.min_width = width
    for b in rows:
        table.add_row(b.proposition, status(b.status), b.explanation)
    return Padding(table, (0, 1))  # the margins its edges give a table elsewhere


def progress_bar() -> Progress:
    """The import progress bar, on stderr so stdout stays clean."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
    )


# -- the demo's story ------------------------------------------------------------------------


@attrs.frozen
class Corrected:
    """A correction found in the log, with the statement it corrects as first recorded."""

    before: datetime | None  # recorded_at of the last event appended before the correction's
    statement: StatementMade
    statement_recorded: RecordedEvent
    fix: CorrectionMade
    fix_recorded: RecordedEvent


def demo_header(name: str, url: str, summaries: Sequence[str]) -> Group:
    grid = _grid()
    grid.add_row("ledger", url)
    labels = ("step 1, all but corrections", "step 2, the corrections")
    for label, summary in zip(labels, summaries, strict=False):
        grid.add_row(label, summary)
    note = "(two steps, so that the audit view in part 3 has a before and an after)\n"
    return Group(Rule(f"factledger demo: {name}", style="bold"), grid, Text(note, style="dim"))


def _grid() -> Table:
    """Two columns, label and text; the text wraps under itself."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    return grid


def story_overview(
    props: Sequence[PropositionDefined], timelines: dict[str, list[Transition]]
) -> Group:
    parts: list[RenderableType] = [Rule("1. How each proposition developed", style="bold")]
    parts.append(status_chart(props, timelines))
    for p in props:
        parts.append(Text.assemble("\n", (p.proposition_id, "bold"), f": {p.text}"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        for t in timelines[p.proposition_id]:
            grid.add_row(f"  {day(t.valid_from)}", status(t.status), t.verdict.explanation)
        parts.append(grid)
    return Group(*parts)


def status_chart(
    props: Sequence[PropositionDefined], timelines: dict[str, list[Transition]]
) -> RenderableType:
    """One row per proposition, one glyph per week, from the month of the first statement."""
    starts = [t.valid_from for ts in timelines.values() for t in ts]
    if not starts:
        return Text("nothing has been stated yet")
    first = min(starts)
    start = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    weeks = (max(starts) - start).days // 7 + 3
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_row(f"one mark a week from {day(start)}", Text(month_axis(start, weeks)), "now")
    for p in props:
        ts = timelines[p.proposition_id]
        now = ts[-1].status if ts else Status.UNKNOWN
        grid.add_row(p.proposition_id, status_bar(ts, start, weeks), status(now))
    return Group(grid, legend())


def story_focus(proposition: str, transitions: Sequence[Transition]) -> Group:
    title = f"\n{proposition}: every change, with the estimates in force from then on"
    return Group(Text(title, style="bold"), timeline(transitions, every_change=True, until=False))


def story_points(states: Sequence[BeliefState]) -> Group:
    parts: list[RenderableType] = [Rule("2. Point-in-time answers", style="bold")]
    for state in states:
        parts.append(brief(state, f"{state.proposition} as of {as_of_day(state.as_of)}"))
    return Group(*parts)


def story_calls(proposition: str, days: Sequence[tuple[date, Sequence[tuple[str, Call]]]]) -> Group:
    """Who was right about the proposition, and how early, as of each day (track records:
    only what was said by that day counts)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for day, calls in days:
        right = sorted(
            ((s, c) for s, c in calls if c.result.value == "right"),
            key=lambda sc: (-(sc[1].lead_days or 0), sc[0]),
        )
        wrong = sorted(s for s, c in calls if c.result.value == "wrong")
        still = sum(1 for _, c in calls if c.result.value == "open")
        if not right and not wrong:
            said = f"no answer yet; {still} call{'s' if still != 1 else ''} open"
        else:
            said = "right: " + (
                ", ".join(f"{s} {c.lead_days or 0:,.0f} d early" for s, c in right) or "nobody"
            )
            if wrong:
                said += "; wrong: " + ", ".join(wrong)
        grid.add_row(f"  as of {day.isoformat()}", said)
    title = Text(f"Who was right about {proposition}, and how early", style="bold")
    return Group(title, grid, Text())


def as_of_day(value: datetime) -> str:
    """An ``as_of`` bound: a bare date stands for the end of that day."""
    end_of_day = (value + timedelta(microseconds=1)).time() == datetime.min.time()
    return value.date().isoformat() if end_of_day else instant(value)


def brief(state: BeliefState, title: str) -> Group:
    """Status, explanation and estimates of one belief, in a few indented lines."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row("  why", state.explanation)
    figures = estimates_by_unit(state.estimates) or "none"
    grid.add_row("  estimates", figures)
    for s in state.summaries:
        grid.add_row("", range_line(s))
    return Group(Text.assemble((title, "bold"), "  ", status(state.status)), grid, Text())


def story_no_correction() -> Group:
    return Group(
        Rule("3. The audit view", style="bold"),
        Text("the dataset has no correction, so there is no before and after to show"),
    )


def story_audit(
    found: Corrected,
    states: Sequence[BeliefState],
    replays: Sequence[AuditReplay],
    report: VerifyReport,
) -> Group:
    """The correction, the belief as known before and after it (``states``; just the one
    after if both arrived in one batch), and the replays and verification of the log."""
    return Group(
        Rule("3. The audit view: a correction", style="bold"),
        _correction_events(found),
        _before_and_after(states),
        _checks(replays, report),
    )


def _correction_events(found: Corrected) -> Table:
    st, fix = found.statement, found.fix
    first, moved = found.statement_recorded, found.fix_recorded
    events = _grid()
    events.add_row(
        "the statement",
        f"{st.statement_id}: {st.source_id} {VERB[st.stance]} "
        f"{quantity(st.value, st.unit)}\nrecorded at position {first.position} "
        f"({instant(first.recorded_at)}) as stated on {day(st.stated_at)}",
    )
    events.add_row(
        "the correction",
        f"{fix.correction_id}, recorded at position {moved.position} "
        f"({instant(moved.recorded_at)})\n{correction_text(fix)}",
    )
    return events


def _before_and_after(states: Sequence[BeliefState]) -> Group:
    if len(states) == 1:
        note = (
            "The correction was recorded in the same batch as the statement it corrects, so "
            "the ledger never knew one without the other. Run the demo on a fresh database "
            "to see the belief before and after a correction.\n"
        )
    else:
        note = (
            "Nothing is updated in place: both events stay in the log, so a question asked "
            "--known-at a moment before the correction still gets the answer given then.\n"
        )
    first = states[0]
    title = f"{first.proposition} as of {as_of_day(first.as_of)}:"
    table = _table("known at", "", "status", "estimates")
    labels = ("before the correction", "after the correction")[-len(states) :]
    for state, label in zip(states, labels, strict=True):
        figures = estimates_by_unit(state.estimates) or "none"
        table.add_row(instant(state.known_at), label, status(state.status), figures)
    return Group(Text(note, style="dim"), Text(title, style="bold"), table)


def _checks(replays: Sequence[AuditReplay], report: VerifyReport) -> Table:
    checks = _grid()
    for r in replays:
        checks.add_row("replay", replay_brief(r))
    checks.add_row("verify", verify(report, head=False))
    head = checkpoint(report.head.position, report.head.hash)
    checks.add_row(
        "checkpoint",
        f"{head}\n(keep it: `factledger verify --checkpoint` with it "
        "proves later that nothing up to here was changed or cut off)",
    )
    return checks


def replay_brief(audit: AuditReplay) -> Text:
    agrees = "agrees" if not audit.mismatches else "DISAGREES on " + ", ".join(audit.mismatches)
    chain = (
        Text("chain verified", style="green")
        if audit.verification.ok
        else verify(audit.verification)
    )
    return Text.assemble(
        f"as known at {instant(audit.known_at)}: positions 1..{audit.position}, "
        f"hash {short_hash(audit.hash)}, ",
        chain,
        f", projection {agrees}",
    )


# -- redactions -------------------------------------------------------------------------------


def redactions(found: list[Redaction], *, title: str | None = None) -> Text:
    """Redactions for a person, one block each (ids are long: a table would squeeze out the
    reason): the event, the fields removed, when, by whom, why."""
    out = Text()
    if title is not None:
        out.append(f"{title}\n", style="bold")
    for r in found:
        out.append(f"{r.type}/{r.record_id}", style="bold")
        out.append(f"  (position {r.position})\n")
        out.append(f"  removed: {', '.join(r.fields)}\n")
        out.append(f"  at {instant(r.redacted_at)} by {r.by}\n")
        out.append(f"  why: {r.reason}\n")
    return out
