"""The ``factledger`` click group, its shared options and how a command opens the ledger.

The ``factledger`` command: a thin layer over :class:`ledger.Ledger`.

Each command opens the ledger named by ``--db``, calls one or two API methods and renders the
result: rich tables for people, or with ``--json`` exactly one JSON document on stdout for
scripts. Library errors become a one-line message on stderr and exit status 2; ``verify`` (and
``replay``) exit with 1 when the log has been tampered with.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

import attrs
import click
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from ledger.api import Ledger
from ledger.errors import LedgerError
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


def settings(ctx: click.Context) -> _Settings:
    found = ctx.find_object(_Settings)
    if found is None:  # a command invoked on its own, without the group
        found = ctx.obj = _Settings(os.environ.get("LEDGER_DB") or DEFAULT_URL)
    return found


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        settings(ctx).db = value


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
    url = settings(click.get_current_context()).db
    try:
        lg = Ledger.open(url, create=create, retry=RetryPolicy(on_wait=on_wait))
    except (SQLAlchemyError, ImportError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise Failure(f"cannot open the ledger at {shown(url)}: {first}") from e
    try:
        yield lg
    finally:
        lg.close()


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
