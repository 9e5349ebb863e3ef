"""The ``factledger`` click group, its shared options and how a command opens the ledger.

The ``factledger`` command: a thin layer over :class:`ledger.Ledger`.

Each command opens the ledger named by ``--db``, calls one or two API methods and renders the
result: rich tables for people, or with ``--json`` exactly one JSON document on stdout for
scripts. Library errors become a one-line message on stderr and exit status 2; ``verify`` (and
``replay``) exit with 1 when the log has been tampered with.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

import attrs
import click
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from ledger.api import Ledger, database_url
from ledger.errors import LedgerError, NotFound
from ledger.store.backends import DEFAULT_URL
from ledger.store.retry import LockWait, RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])

# -- errors ----------------------------------------------------------------------------------


class Failure(click.ClickException):
    """A library or database error, shown as one line on stderr; exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _one_line(message: str) -> str:
    """A multi-line message (an import's list of bad lines) as one line, parts split by ';'."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


class Commands(click.Group):
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
    #: True when neither --db nor LEDGER_DB named the database (the default was used).
    defaulted: bool = False


def settings(ctx: click.Context) -> _Settings:
    found = ctx.find_object(_Settings)
    if found is None:  # a command invoked on its own, without the group
        named = os.environ.get("LEDGER_DB")
        found = ctx.obj = _Settings(named or DEFAULT_URL, defaulted=not named)
    return found


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        settings(ctx).db = value
        settings(ctx).defaulted = False


def db_option(f: F) -> F:
    return click.option(
        "--db",
        metavar="URL",
        expose_value=False,
        is_eager=True,
        callback=_set_db,
        help="Database URL (or a SQLite file's path), overriding the global --db.",
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


def example(*lines: str) -> str:
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


@contextmanager
def opened(
    *, create: bool = False, on_wait: Callable[[LockWait], object] | None = None
) -> Iterator[Ledger]:
    """The ledger at ``--db``; a URL that cannot be opened is a one-line error, exit 2.

    Only the commands that write (init, import, demo) create a ledger; the others refuse a
    database that holds none, so a mistyped path is an error, not a new empty file.
    ``on_wait`` is told about waits for the writer lock (see ``_WaitLine``).
    """
    chosen = settings(click.get_current_context())
    url = database_url(chosen.db)
    try:
        lg = Ledger.open(url, create=create, retry=RetryPolicy(on_wait=on_wait))
    except NotFound as e:
        raise Failure(f"{e}; {_pointing(chosen.defaulted)}") from e
    except (SQLAlchemyError, ImportError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise Failure(f"cannot open the ledger at {shown(url)}: {first}") from e
    try:
        yield lg
    finally:
        lg.close()


def _pointing(defaulted: bool) -> str:
    """How to name another ledger (and, if none was named, that the default was used)."""
    how = "to use another ledger, pass --db URL or set LEDGER_DB (a file path, sqlite:///FILE "
    how += "or postgresql+psycopg://USER@HOST/DB)"
    if not defaulted:
        return how
    return f"no --db given and LEDGER_DB is not set, so {DEFAULT_URL} was tried; {how}"


@contextmanager
def naming(
    lg: Ledger, wanted: Iterable[str], known_at: str | None = None, *, kind: str = "proposition"
) -> Iterator[None]:
    """Turns the ledger's :class:`NotFound` for one of the ``wanted`` ids (propositions, or
    sources with ``kind="source"``) into a one-line error that suggests the closest known ids
    and names the command that lists them; says "as known at" only when ``known_at`` was
    given."""
    try:
        yield
    except NotFound as e:
        known = _ids(lg, kind, known_at)
        missing = next((w for w in wanted if w not in known), None)
        if missing is None:
            raise
        later = known_at is not None and missing in _ids(lg, kind, None)
        raise Failure(unknown(kind, missing, known, known_at, later=later)) from e


def _ids(lg: Ledger, kind: str, known_at: str | None) -> list[str]:
    if kind == "source":
        return [s.source_id for s in lg.sources(known_at=known_at)]
    return [p.proposition_id for p in lg.propositions(known_at=known_at)]


def unknown(
    kind: str, wanted: str, known: list[str], known_at: str | None = None, *, later: bool = False
) -> str:
    """``no proposition 'x' in the ledger; did you mean 'y'? ...``: the message for an id the
    ledger does not know (as known at ``known_at``, if given; ``later``: it was recorded
    after that), with the closest known ids (difflib) and the command that lists them."""
    then = "" if known_at is None else f" as known at {known_at}"
    text = f"no {kind} {wanted!r} in the ledger{then}"
    if later:
        return f"{text}: it was recorded later (ask without --known-at, or with a later one)"
    close = [repr(c) for c in difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)]
    if close:
        text += f"; did you mean {_either(close)}?"
    command = f"factledger {kind}s" + ("" if known_at is None else f" --known-at {known_at}")
    if known:
        return f"{text} (`{command}` lists all {len(known)})"
    return f"{text} (the ledger {'had none then' if known_at else 'has none yet'})"


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return repr(url)


def print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


# -- the group -------------------------------------------------------------------------------


@click.group(
    "factledger",
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=example("factledger --db sqlite:///demo.db demo"),
)
@click.option(
    "--db",
    envvar="LEDGER_DB",
    default=DEFAULT_URL,
    show_default=True,
    metavar="URL",
    help="Database URL: sqlite:///FILE (or just the file's path) or "
    "postgresql+psycopg://USER@HOST/DB (env LEDGER_DB).",
)
@click.version_option(package_name="factledger")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """An append-only, bitemporal ledger of claims: who said what, when, and what was believed
    as of any date, as the ledger knew it at any time.

    Dates are UTC. --as-of is valid time (when things were said); --known-at is transaction
    time (when the ledger recorded them). Read commands take --json for scripts.
    """
    source = ctx.get_parameter_source("db")
    ctx.obj = _Settings(db, defaulted=source is click.core.ParameterSource.DEFAULT)


def main() -> None:
    """Console-script entry point (``factledger``, ``python -m ledger``)."""
    cli(prog_name="factledger")
