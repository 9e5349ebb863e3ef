"""The commands that write, read and check a ledger: each opens it, calls the facade and renders."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import attrs
import click
from rich.progress import Progress

from ledger.cli import render, track
from ledger.cli.app import (
    Commands,
    Failure,
    as_of_option,
    cli,
    db_option,
    example,
    json_option,
    known_at_option,
    naming,
    opened,
    print_json,
    shown,
)
from ledger.cli.revisions import revisions
from ledger.cli.whatif import policy_option
from ledger.codec import to_payload
from ledger.events import PolicySet
from ledger.redaction import Redaction, in_answer
from ledger.store.retry import LockWait

F = TypeVar("F", bound=Callable[..., Any])

#: Show a progress bar (on a terminal) for imports of at least this many steps (the importer
#: counts each record twice: once validated, once appended).
PROGRESS_MIN_STEPS = 5_000


# -- writing ---------------------------------------------------------------------------------


@cli.command(epilog=example("factledger --db sqlite:///claims.db init"))
@db_option
def init() -> None:
    """Create the database, or migrate it to the current schema."""
    with opened(create=True) as lg:
        head = lg.head()
        click.echo(
            f"ledger ready at {shown(lg.url)}: {head.position} events, "
            f"checkpoint {render.checkpoint(head.position, head.hash)}"
        )


@cli.command(
    "import",
    epilog=example("factledger import examples/north-korea-troops.jsonl"),
)
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=str)
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr. Default: on a terminal, for files of a few thousand "
    "records or more.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Append in atomic chunks of N records (default: one transaction up to 50,000 "
    "records, chunks of 50,000 beyond); after a crash, run the same import again to resume.",
)
@click.option(
    "--atomic",
    is_flag=True,
    help="Append the whole file in one transaction, whatever its size: all of it or nothing.",
)
@json_option
@db_option
def import_(
    file: str, progress: bool | None, chunk_size: int | None, atomic: bool, as_json: bool
) -> None:
    """Append the records of a JSON Lines FILE (- reads stdin); records already in the ledger
    are skipped, so importing the same file twice changes nothing."""
    if atomic and chunk_size is not None:
        raise click.UsageError("--atomic and --chunk-size exclude each other: choose one")
    waiting = _WaitLine()
    with (
        waiting,
        opened(create=True, on_wait=waiting) as lg,
        _progress(progress, waiting) as on_progress,
    ):
        report = lg.import_jsonl(file, progress=on_progress, chunk_size=chunk_size, atomic=atomic)
    if as_json:
        print_json(attrs.asdict(report))
    else:
        click.echo(report.summary())


#: ``--progress/--no-progress`` for the commands that read the whole log (rebuild, verify).
log_progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr. Default: on a terminal, for logs of a few thousand "
    "events or more.",
)


@contextmanager
def _progress(
    show: bool | None, waiting: _WaitLine | None = None, label: str = "importing"
) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback that starts a rich bar once it is worth one."""
    bar: Progress | None = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if waiting is not None:
            waiting.done()
        if bar is None:
            if not _wants_bar(show, total):
                return
            bar = render.progress_bar()
            bar.start()
            bar.add_task(label, total=total or None)
            if waiting is not None:
                waiting.bar = bar
        bar.update(bar.task_ids[0], completed=done, total=total or None)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()


def _wants_bar(show: bool | None, total: int) -> bool:
    if show is not None:
        return show
    return sys.stderr.isatty() and total >= PROGRESS_MIN_STEPS


def fitted(line: str, width: int) -> str:
    """``line`` in ``width`` columns: a long one loses the middle of what holds the lock (a
    long database path, say), never how long the wait has been and when it will give up."""
    if len(line) <= width:
        return line
    cut = line.rfind(" for ")
    tail = line[cut:] if cut > 0 else ""
    return (line[: max(width - len(tail) - 1, 0)] + "…" + tail)[:width]


@attrs.define
class _WaitLine:
    """Says on a terminal that a writer waits for the writer lock: one line on stderr,
    rewritten in place as the wait goes on (or the progress bar's label while a bar is up),
    cleared when the wait ends. Off a terminal it says nothing: a wait that ends in failure
    ends in the one-line error."""

    bar: Progress | None = None
    shown: bool = False

    def __call__(self, wait: LockWait) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is not None:
            self.bar.update(self.bar.task_ids[0], description=str(wait))
        else:
            width = shutil.get_terminal_size().columns - 1  # one line, or \r cannot rewrite it
            sys.stderr.write(f"\r\x1b[2K{fitted(str(wait), width)}")
            sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if not self.shown:
            return
        self.shown = False
        if self.bar is not None:
            self.bar.update(self.bar.task_ids[0], description="importing")
        else:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()

    def __enter__(self) -> _WaitLine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done()


@cli.command(
    epilog=example("factledger export --format csv --output claims.csv"),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    help="Output format. Default: csv if --output ends in .csv, otherwise jsonl.",
)
@click.option(
    "--output",
    "-o",
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
    help="File to write (replaced only once the export succeeds). Default: stdout.",
)
@known_at_option
@db_option
def export(fmt: str | None, output: str, known_at: str | None) -> None:
    """Write the ledger's records as JSON Lines (the import format) or CSV."""
    fmt = fmt or ("csv" if output.lower().endswith(".csv") else "jsonl")
    with opened() as lg, _written(output) as out:
        write = lg.export_csv if fmt == "csv" else lg.export_jsonl
        count = write(out, known_at=known_at)
    if output != "-":
        click.echo(f"exported {count} records to {output}", err=True)


@contextmanager
def _written(output: str) -> Iterator[IO[str]]:
    """stdout, or a temporary file beside ``output`` that replaces it only on success."""
    if output == "-":
        yield sys.stdout
        return
    target = Path(output)
    if not target.parent.is_dir():  # else mkstemp's error would name its temporary file
        raise Failure(f"cannot write {output}: the directory {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.chmod(tmp, _file_mode())  # mkstemp's 0600 is for secrets; this is an ordinary file
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@cli.group(
    cls=Commands,
    epilog=example(
        "factledger --db postgresql+psycopg://postgres@localhost/claims db grant-reader analyst"
    ),
)
def db() -> None:
    """Database administration: least-privilege roles on PostgreSQL."""


@db.command("grant-writer", epilog=example("factledger db grant-writer importer"))
@click.argument("role")
@db_option
def grant_writer(role: str) -> None:
    """Let ROLE append events and read everything, but never UPDATE, DELETE or TRUNCATE
    events (PostgreSQL; creates the role if needed; safe to repeat)."""
    with opened() as lg:
        lg.grant_writer(role)
    click.echo(f"{role}: may append and read; may not alter or remove events")


@db.command("grant-reader", epilog=example("factledger db grant-reader analyst"))
@click.argument("role")
@db_option
def grant_reader(role: str) -> None:
    """Let ROLE read the log and the projections and write nothing (PostgreSQL; creates the
    role if needed; safe to repeat)."""
    with opened() as lg:
        lg.grant_reader(role)
    click.echo(f"{role}: may read; may not write")


@cli.command(epilog=example("factledger rebuild"))
@click.option(
    "--online",
    is_flag=True,
    help="PostgreSQL: let readers go on reading the previous rows while it runs (about 1.3 "
    "times as long). Without it, the tables' owner has them to itself and readers wait.",
)
@log_progress_option
@json_option
@db_option
def rebuild(online: bool, progress: bool | None, as_json: bool) -> None:
    """Recompute the materialized belief projection from the whole log."""
    waiting = _WaitLine()
    with (
        waiting,
        opened(on_wait=waiting) as lg,
        _progress(progress, waiting, "rebuilding") as on_progress,
    ):
        folded = lg.rebuild(online=online, progress=on_progress)
    if as_json:
        print_json({"events": folded})
    else:
        click.echo(f"rebuilt the belief projection from {folded} events")


# -- beliefs ---------------------------------------------------------------------------------


@cli.command(
    epilog=example("factledger believe dprk-troops-in-russia --as-of 2024-11-01"),
)
@click.argument("proposition")
@as_of_option
@known_at_option
@click.option(
    "--via",
    type=click.Choice(["projection", "fold"]),
    default="projection",
    show_default=True,
    help="Answer from the materialized projection or the reference fold (they agree).",
)
@click.option(
    "--grades",
    is_flag=True,
    help="Grade each live stance's source by its earned track record as of the answer's times "
    "(its Admiralty code, e.g. B2); costs a track record of every source.",
)
@policy_option
@json_option
@db_option
def believe(
    *,
    proposition: str,
    as_of: str | None,
    known_at: str | None,
    via: Literal["projection", "fold"],
    grades: bool,
    policy: PolicySet | None,
    as_json: bool,
) -> None:
    """What was believed about PROPOSITION as of a date, as known at a time, and why, with the
    information's credibility on the Admiralty scale (1-6)."""
    with opened() as lg, naming(lg, [proposition], known_at):
        state = lg.believed(proposition, as_of=as_of, known_at=known_at, via=via, policy=policy)
        events = lg.history(proposition, known_at=state.known_at)
        ratings = lg.ratings(state, grades=grades, policy=policy)
        redacted = in_answer(lg.redactions(), state, events)
    revised = revisions(events, proposition, state.as_of)
    if as_json:
        print_json(
            state.to_dict()
            | revised.to_dict()
            | ratings.to_dict()
            | {"redactions": [r.to_dict() for r in redacted]}
        )
    else:
        render.console().print(render.belief(state, revised, ratings))
        if redacted:
            render.console().print(render.redactions(redacted, title="text removed by redaction"))


@cli.command(
    epilog=example("factledger estimates dprk-troops-in-russia --as-of 2024-11-30"),
)
@click.argument("proposition")
@as_of_option
@known_at_option
@json_option
@db_option
def estimates(proposition: str, as_of: str | None, known_at: str | None, as_json: bool) -> None:
    """Each source's latest quantity for PROPOSITION, with min, median and max per unit."""
    with opened() as lg, naming(lg, [proposition], known_at):
        state = lg.believed(proposition, as_of=as_of, known_at=known_at)
    if as_json:
        d = state.to_dict()
        print_json({k: d[k] for k in ("proposition", "as_of", "known_at")} | d["estimates"])
        return
    out = render.console()
    out.print(f"{proposition} as of {render.as_of_day(state.as_of)}")
    if state.estimates:
        out.print(render.estimates(state.estimates, state.summaries))
    else:
        out.print("no source has given a quantity")


@cli.command(
    epilog=example("factledger timeline dprk-troops-in-russia --all"),
)
@click.argument("proposition")
@known_at_option
@click.option(
    "--all",
    "every_change",
    is_flag=True,
    help="List every change (new supporters, new estimates), not just status transitions.",
)
@policy_option
@json_option
@db_option
def timeline(
    *,
    proposition: str,
    known_at: str | None,
    every_change: bool,
    policy: PolicySet | None,
    as_json: bool,
) -> None:
    """How the status of PROPOSITION changed over valid time, and which statements did it."""
    with opened() as lg, naming(lg, [proposition], known_at):
        transitions = lg.timeline(
            proposition, known_at=known_at, every_change=every_change, policy=policy
        )
    if as_json:
        print_json([t.to_dict() for t in transitions])
    else:
        render.console().print(render.timeline(transitions, every_change=every_change))


@cli.command(epilog=example("factledger diff 2024-11-01 2025-05-01"))
@click.argument("date_a")
@click.argument("date_b")
@known_at_option
@click.option(
    "--all",
    "--every-change",
    "every_change",
    is_flag=True,
    help="Also list propositions whose status and estimates stayed the same but whose "
    "supporters, deniers or retractions changed (as timeline --all does).",
)
@policy_option
@json_option
@db_option
def diff(
    *,
    date_a: str,
    date_b: str,
    known_at: str | None,
    every_change: bool,
    policy: PolicySet | None,
    as_json: bool,
) -> None:
    """Every proposition whose status or estimates differ between DATE_A and DATE_B."""
    with opened() as lg:
        changes = lg.diff(
            date_a, date_b, known_at=known_at, every_change=every_change, policy=policy
        )
    if as_json:
        print_json([c.to_dict() for c in changes])
    else:
        render.console().print(render.diff(changes, date_a, date_b, every_change=every_change))


# -- the log ---------------------------------------------------------------------------------


@cli.command(epilog=example("factledger history dprk-troops-in-russia"))
@click.argument("proposition")
@known_at_option
@json_option
@db_option
def history(proposition: str, known_at: str | None, as_json: bool) -> None:
    """The raw events about PROPOSITION, in log order, with both times: when each was recorded
    and when it was stated."""
    with opened() as lg, naming(lg, [proposition], known_at):
        events = lg.history(proposition, known_at=known_at)
        redacted = {r.position: r for r in lg.redactions()}
    if as_json:
        print_json([_marked(r.to_dict(), redacted.get(r.position)) for r in events])
    else:
        render.console().print(render.history(events, redacted))


def _marked(event: dict[str, Any], made: Redaction | None) -> dict[str, Any]:
    """An event's JSON form, with ``redacted`` (its redaction) when its text was removed."""
    return event if made is None else event | {"redacted": made.to_dict()}


def as_of_option_for_records(f: F) -> F:
    return click.option(
        "--as-of",
        metavar="DATE",
        help="List each source's track record as of this date (valid time; a bare date means "
        "through the end of that day, UTC) instead of its registration.",
    )(f)


def _without_calls(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "calls"}


@cli.command(epilog=example("factledger sources --as-of 2025-05-01"))
@as_of_option_for_records
@known_at_option
@json_option
@db_option
def sources(as_of: str | None, known_at: str | None, as_json: bool) -> None:
    """The registered sources: who can be quoted, their category and reliability grade. With
    --as-of, each source's track record as of that date instead, most reliable first (as
    ``factledger track``; ``factledger source ID`` shows one source's calls)."""
    if as_of is not None:
        with opened() as lg:
            records = lg.track_records(as_of=as_of, known_at=known_at)
        if as_json:
            print_json([_without_calls(r.to_dict()) for r in records])
        else:
            render.console().print(track.summary(records, what_if=False))
        return
    with opened() as lg:
        found = lg.sources(known_at=known_at)
    if as_json:
        print_json([to_payload(s) for s in found])
    else:
        render.console().print(render.sources(found))


@cli.command(epilog=example("factledger propositions --as-of 2024-12-31"))
@as_of_option
@known_at_option
@json_option
@db_option
def propositions(as_of: str | None, known_at: str | None, as_json: bool) -> None:
    """The defined propositions and what is believed about each (default: now)."""
    with opened() as lg:
        found = lg.propositions(known_at=known_at)
        beliefs = {s.proposition: s for s in lg.beliefs(as_of=as_of, known_at=known_at)}
    rows = [(p, beliefs[p.proposition_id]) for p in found]
    if as_json:
        print_json(
            [
                to_payload(p) | {"status": s.status.value, "explanation": s.explanation}
                for p, s in rows
            ]
        )
    else:
        render.console().print(render.propositions(rows))


# -- integrity -------------------------------------------------------------------------------


def _parse_checkpoint(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[int, str] | None:
    if value is None:
        return None
    position, _, hash_ = value.partition(":")
    if not position.isdigit() or len(hash_) != 64 or not _is_hex(hash_):
        raise click.BadParameter(
            f"{value!r} is not POSITION:HASH (a position and a 64-digit hex hash, "
            "as `factledger checkpoint` prints)"
        )
    return int(position), hash_.lower()


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


@cli.command(epilog=example("factledger verify --checkpoint 86:$HASH"))
@click.option(
    "--checkpoint",
    metavar="POSITION:HASH",
    callback=_parse_checkpoint,
    help="Also check that the log still extends this earlier `factledger checkpoint`.",
)
@log_progress_option
@json_option
@db_option
def verify(checkpoint: tuple[int, str] | None, progress: bool | None, as_json: bool) -> None:
    """Re-read the whole log and check every hash, link and position, then that the derived
    tables are what the log implies. Exit 0 and "ok" if it is intact; exit 1 and the first bad
    position, and what is wrong there, if not."""
    with opened() as lg, _progress(progress, None, "verifying") as on_progress:
        report = lg.verify(checkpoint, progress=on_progress)
    if as_json:
        print_json(report.to_dict())
    else:
        render.console().print(render.verify(report))
    if not report.ok:
        sys.exit(1)


@cli.command(epilog=example("factledger checkpoint > checkpoint.txt"))
@json_option
@db_option
def checkpoint(as_json: bool) -> None:
    """Print the head of the chain as POSITION:HASH, to keep and later pass to `verify
    --checkpoint` (which then proves nothing up to it was changed or cut off)."""
    with opened() as lg:
        head = lg.head()
    text = render.checkpoint(head.position, head.hash)
    if as_json:
        print_json(head.to_dict() | {"checkpoint": text})
    else:
        click.echo(text)


@cli.command(epilog=example("factledger replay --known-at 2025-01-01"))
@click.option("--known-at", metavar="DATETIME", required=True, help="The moment to audit.")
@json_option
@db_option
def replay(known_at: str, as_json: bool) -> None:
    """The audit view: every belief as the ledger would have answered at --known-at,
    recomputed from the verified log prefix (exit 1 if that prefix fails verification or the
    projection disagrees with the replay)."""
    with opened() as lg:
        audit = lg.replay(known_at)
        # written as the beliefs are compared, so that a large ledger's are never all held
        if as_json:
            for piece in audit.iter_json():
                click.echo(piece, nl=False)
            click.echo()
        else:
            out = render.console()
            for part in render.replay(audit):
                out.print(part)
        ok = audit.ok
    if not ok:
        sys.exit(1)
