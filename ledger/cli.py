"""The ``factledger`` command: a thin layer over :class:`ledger.Ledger`.

Each command opens the ledger named by ``--db``, calls one or two API methods and renders the
result: rich tables for people, or with ``--json`` exactly one JSON document on stdout for
scripts. Library errors become a one-line message on stderr and exit status 2; ``verify`` (and
``replay``) exit with 1 when the log has been tampered with.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import attrs
import click
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

import ledger
from ledger import _render as render
from ledger.api import Ledger
from ledger.backends import DEFAULT_URL
from ledger.errors import LedgerError
from ledger.events import CorrectionMade, StatementMade, to_payload
from ledger.records import RecordedEvent, VerifyReport
from ledger.retry import LockWait, RetryPolicy
from ledger.times import iso
from projections.audit import AuditReplay

F = TypeVar("F", bound=Callable[..., Any])

#: Show a progress bar (on a terminal) for imports of at least this many steps (the importer
#: counts each record twice: once validated, once appended).
PROGRESS_MIN_STEPS = 5_000
#: The demo's story: the proposition it follows closely and the dates it asks about.
FOCUS = "dprk-troops-in-russia"
POINTS = ("2024-11-01", "2025-05-01")


# -- errors ----------------------------------------------------------------------------------


class Failure(click.ClickException):
    """A library or database error, shown as one line on stderr; exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _one_line(message: str) -> str:
    """A multi-line message (an import's list of bad lines) as one line, parts split by ';'."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


class _Commands(click.Group):
    """Lists commands in the order they are defined; turns ``LedgerError`` and file errors
    (a directory that does not exist, a full disk) into ``Failure``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as e:
            raise Failure(_one_line(str(e))) from e
        except BrokenPipeError:
            raise  # the reader went away (`factledger export | head`): click exits quietly
        except OSError as e:
            where = f": {e.filename}" if e.filename else ""
            raise Failure(f"{e.strerror or e}{where}") from e


# -- shared options --------------------------------------------------------------------------


@attrs.define
class _Settings:
    db: str


def _settings(ctx: click.Context) -> _Settings:
    found = ctx.find_object(_Settings)
    if found is None:  # a command invoked on its own, without the group
        found = ctx.obj = _Settings(os.environ.get("LEDGER_DB") or DEFAULT_URL)
    return found


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _settings(ctx).db = value


def db_option(f: F) -> F:
    return click.option(
        "--db",
        metavar="URL",
        expose_value=False,
        is_eager=True,
        callback=_set_db,
        help="Database URL, overriding the global --db.",
    )(f)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout, nothing else."
    )(f)


def as_of_option(f: F) -> F:
    return click.option(
        "--as-of",
        metavar="DATE",
        help="Valid time: what was believed on this date (a bare date means through the end "
        "of that day, UTC). Default: now.",
    )(f)


def known_at_option(f: F) -> F:
    return click.option(
        "--known-at",
        metavar="DATETIME",
        help="Transaction time: answer as the ledger knew it then (ISO 8601 with offset, or a "
        "bare date = end of that day, UTC). Default: now.",
    )(f)


def _example(*lines: str) -> str:
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


@contextmanager
def _opened(
    *, create: bool = False, on_wait: Callable[[LockWait], object] | None = None
) -> Iterator[Ledger]:
    """The ledger at ``--db``; a URL that cannot be opened is a one-line error, exit 2.

    Only the commands that write (init, import, demo) create a ledger; the others refuse a
    database that holds none, so a mistyped path is an error, not a new empty file.
    ``on_wait`` is told about waits for the writer lock (see ``_WaitLine``).
    """
    url = _settings(click.get_current_context()).db
    try:
        lg = Ledger.open(url, create=create, retry=RetryPolicy(on_wait=on_wait))
    except (SQLAlchemyError, ImportError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise Failure(f"cannot open the ledger at {_shown(url)}: {first}") from e
    try:
        yield lg
    finally:
        lg.close()


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return repr(url)


def _print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


# -- the group -------------------------------------------------------------------------------


@click.group(
    "factledger",
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=_example("factledger --db sqlite:///demo.db demo"),
)
@click.option(
    "--db",
    envvar="LEDGER_DB",
    default=DEFAULT_URL,
    show_default=True,
    metavar="URL",
    help="Database URL: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB (env LEDGER_DB).",
)
@click.version_option(package_name="factledger")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """An append-only, bitemporal ledger of claims: who said what, when, and what was believed
    as of any date, as the ledger knew it at any time.

    Dates are UTC. --as-of is valid time (when things were said); --known-at is transaction
    time (when the ledger recorded them). Read commands take --json for scripts.
    """
    ctx.obj = _Settings(db)


def main() -> None:
    """Console-script entry point (``factledger``, ``python -m ledger``)."""
    cli(prog_name="factledger")


# -- writing ---------------------------------------------------------------------------------


@cli.command(epilog=_example("factledger --db sqlite:///claims.db init"))
@db_option
def init() -> None:
    """Create the database, or migrate it to the current schema."""
    with _opened(create=True) as lg:
        head = lg.head()
        click.echo(
            f"ledger ready at {_shown(lg.url)}: {head.position} events, "
            f"checkpoint {render.checkpoint(head.position, head.hash)}"
        )


@cli.command(
    "import",
    epilog=_example("factledger import examples/north-korea-troops.jsonl"),
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
        _opened(create=True, on_wait=waiting) as lg,
        _progress(progress, waiting) as on_progress,
    ):
        report = lg.import_jsonl(file, progress=on_progress, chunk_size=chunk_size, atomic=atomic)
    if as_json:
        _print_json(attrs.asdict(report))
    else:
        click.echo(report.summary())


@contextmanager
def _progress(
    show: bool | None, waiting: _WaitLine | None = None
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
            bar.add_task("importing", total=total or None)
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
            sys.stderr.write(f"\r\x1b[2K{str(wait)[:width]}")
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
    epilog=_example("factledger export --format csv --output claims.csv"),
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
    with _opened() as lg, _written(output) as out:
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
    cls=_Commands,
    epilog=_example(
        "factledger --db postgresql+psycopg://postgres@localhost/claims db grant-reader analyst"
    ),
)
def db() -> None:
    """Database administration: least-privilege roles on PostgreSQL."""


@db.command("grant-writer", epilog=_example("factledger db grant-writer importer"))
@click.argument("role")
@db_option
def grant_writer(role: str) -> None:
    """Let ROLE append events and read everything, but never UPDATE, DELETE or TRUNCATE
    events (PostgreSQL; creates the role if needed; safe to repeat)."""
    with _opened() as lg:
        lg.grant_writer(role)
    click.echo(f"{role}: may append and read; may not alter or remove events")


@db.command("grant-reader", epilog=_example("factledger db grant-reader analyst"))
@click.argument("role")
@db_option
def grant_reader(role: str) -> None:
    """Let ROLE read the log and the projections and write nothing (PostgreSQL; creates the
    role if needed; safe to repeat)."""
    with _opened() as lg:
        lg.grant_reader(role)
    click.echo(f"{role}: may read; may not write")


@cli.command(epilog=_example("factledger rebuild"))
@db_option
def rebuild() -> None:
    """Recompute the materialized belief projection from the whole log."""
    with _opened() as lg:
        folded = lg.rebuild()
    click.echo(f"rebuilt the belief projection from {folded} events")


# -- beliefs ---------------------------------------------------------------------------------


@cli.command(
    epilog=_example("factledger believe dprk-troops-in-russia --as-of 2024-11-01"),
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
@json_option
@db_option
def believe(
    proposition: str,
    as_of: str | None,
    known_at: str | None,
    via: Literal["projection", "fold"],
    as_json: bool,
) -> None:
    """What was believed about PROPOSITION as of a date, as known at a time, and why."""
    with _opened() as lg:
        state = lg.believed(proposition, as_of=as_of, known_at=known_at, via=via)
    if as_json:
        _print_json(state.to_dict())
    else:
        render.console().print(render.belief(state))


@cli.command(
    epilog=_example("factledger estimates dprk-troops-in-russia --as-of 2024-11-30"),
)
@click.argument("proposition")
@as_of_option
@known_at_option
@json_option
@db_option
def estimates(proposition: str, as_of: str | None, known_at: str | None, as_json: bool) -> None:
    """Each source's latest quantity for PROPOSITION, with min, median and max per unit."""
    with _opened() as lg:
        state = lg.believed(proposition, as_of=as_of, known_at=known_at)
    if as_json:
        d = state.to_dict()
        _print_json({k: d[k] for k in ("proposition", "as_of", "known_at")} | d["estimates"])
        return
    out = render.console()
    out.print(f"{proposition} as of {render.as_of_day(state.as_of)}")
    if state.estimates:
        out.print(render.estimates(state.estimates, state.summaries))
    else:
        out.print("no source has given a quantity")


@cli.command(
    epilog=_example("factledger timeline dprk-troops-in-russia --all"),
)
@click.argument("proposition")
@known_at_option
@click.option(
    "--all",
    "every_change",
    is_flag=True,
    help="List every change (new supporters, new estimates), not just status transitions.",
)
@json_option
@db_option
def timeline(proposition: str, known_at: str | None, every_change: bool, as_json: bool) -> None:
    """How the status of PROPOSITION changed over valid time, and which statements did it."""
    with _opened() as lg:
        transitions = lg.timeline(proposition, known_at=known_at, every_change=every_change)
    if as_json:
        _print_json([t.to_dict() for t in transitions])
    else:
        render.console().print(render.timeline(transitions, every_change=every_change))


@cli.command(epilog=_example("factledger diff 2024-11-01 2025-05-01"))
@click.argument("date_a")
@click.argument("date_b")
@known_at_option
@json_option
@db_option
def diff(date_a: str, date_b: str, known_at: str | None, as_json: bool) -> None:
    """Every proposition whose status or estimates differ between DATE_A and DATE_B."""
    with _opened() as lg:
        changes = lg.diff(date_a, date_b, known_at=known_at)
    if as_json:
        _print_json([c.to_dict() for c in changes])
    else:
        render.console().print(render.diff(changes, date_a, date_b))


# -- the log ---------------------------------------------------------------------------------


@cli.command(epilog=_example("factledger history dprk-troops-in-russia"))
@click.argument("proposition")
@known_at_option
@json_option
@db_option
def history(proposition: str, known_at: str | None, as_json: bool) -> None:
    """The raw events about PROPOSITION, in log order, with both times: when each was recorded
    and when it was stated."""
    with _opened() as lg:
        events = lg.history(proposition, known_at=known_at)
    if as_json:
        _print_json([_event_dict(r) for r in events])
    else:
        render.console().print(render.history(events))


def _event_dict(r: RecordedEvent) -> dict[str, Any]:
    return {
        "position": r.position,
        "recorded_at": iso(r.recorded_at),
        "stated_at": None if r.stated_at is None else iso(r.stated_at),
        "type": r.type,
        "event_id": str(r.event_id),
        "stream_id": r.stream_id,
        "hash": r.hash,
        "event": to_payload(r.event),
    }


@cli.command(epilog=_example("factledger sources --json"))
@known_at_option
@json_option
@db_option
def sources(known_at: str | None, as_json: bool) -> None:
    """The registered sources: who can be quoted, their category and reliability grade."""
    with _opened() as lg:
        found = lg.sources(known_at=known_at)
    if as_json:
        _print_json([to_payload(s) for s in found])
    else:
        render.console().print(render.sources(found))


@cli.command(epilog=_example("factledger propositions --as-of 2024-12-31"))
@as_of_option
@known_at_option
@json_option
@db_option
def propositions(as_of: str | None, known_at: str | None, as_json: bool) -> None:
    """The defined propositions and what is believed about each (default: now)."""
    with _opened() as lg:
        found = lg.propositions(known_at=known_at)
        rows = [(p, lg.believed(p.proposition_id, as_of=as_of, known_at=known_at)) for p in found]
    if as_json:
        _print_json([to_payload(p) | _status(s.to_dict()) for p, s in rows])
    else:
        render.console().print(render.propositions(rows))


def _status(belief: dict[str, Any]) -> dict[str, Any]:
    return {k: belief[k] for k in ("status", "explanation")}


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


@cli.command(epilog=_example("factledger verify --checkpoint 86:$HASH"))
@click.option(
    "--checkpoint",
    metavar="POSITION:HASH",
    callback=_parse_checkpoint,
    help="Also check that the log still extends this earlier `factledger checkpoint`.",
)
@json_option
@db_option
def verify(checkpoint: tuple[int, str] | None, as_json: bool) -> None:
    """Re-read the whole log and check every hash, link and position. Exit 0 and "ok" if it is
    intact; exit 1 and the first bad position, and what is wrong there, if not."""
    with _opened() as lg:
        report = lg.verify(checkpoint)
    if as_json:
        _print_json(_verify_dict(report))
    else:
        render.console().print(render.verify(report))
    if not report.ok:
        sys.exit(1)


def _verify_dict(report: VerifyReport) -> dict[str, Any]:
    head = report.head
    return {
        "ok": report.ok,
        "checked": report.checked,
        "head": {
            "position": head.position,
            "hash": head.hash,
            "recorded_at": None if head.recorded_at is None else iso(head.recorded_at),
        },
        "position": report.position,
        "problem": report.problem,
    }


@cli.command(epilog=_example("factledger checkpoint > checkpoint.txt"))
@json_option
@db_option
def checkpoint(as_json: bool) -> None:
    """Print the head of the chain as POSITION:HASH, to keep and later pass to `verify
    --checkpoint` (which then proves nothing up to it was changed or cut off)."""
    with _opened() as lg:
        head = lg.head()
    text = render.checkpoint(head.position, head.hash)
    if as_json:
        recorded = None if head.recorded_at is None else iso(head.recorded_at)
        doc = {"position": head.position, "hash": head.hash, "recorded_at": recorded}
        _print_json(doc | {"checkpoint": text})
    else:
        click.echo(text)


@cli.command(epilog=_example("factledger replay --known-at 2025-01-01"))
@click.option("--known-at", metavar="DATETIME", required=True, help="The moment to audit.")
@json_option
@db_option
def replay(known_at: str, as_json: bool) -> None:
    """The audit view: every belief as the ledger would have answered at --known-at,
    recomputed from the verified log prefix (exit 1 if that prefix fails verification or the
    projection disagrees with the replay)."""
    with _opened() as lg:
        audit = lg.replay(known_at)
    if as_json:
        _print_json(_replay_dict(audit))
    else:
        render.console().print(render.replay(audit))
    if not audit.ok:
        sys.exit(1)


def _replay_dict(audit: AuditReplay) -> dict[str, Any]:
    return {
        "known_at": iso(audit.known_at),
        "position": audit.position,
        "hash": audit.hash,
        "ok": audit.ok,
        "verification": _verify_dict(audit.verification),
        "mismatches": list(audit.mismatches),
        "beliefs": [b.to_dict() for b in audit.beliefs],
    }


# -- the demo --------------------------------------------------------------------------------


def _example_file() -> Path:
    return Path(ledger.__file__).resolve().parents[1] / "examples" / "north-korea-troops.jsonl"


@cli.command(epilog=_example("factledger --db sqlite:///demo.db demo"))
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
    with _opened(create=True) as lg:
        out.print(render.demo_header(path.name, _shown(lg.url), _demo_import(lg, path)))
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
