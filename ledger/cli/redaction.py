"""``factledger redact``, ``redactions`` and ``db grant-redactor`` (issue 15; docs/proofs.md,
*Redaction*): the one sanctioned removal, who made it and why, and the PostgreSQL role allowed
to make it."""

from __future__ import annotations

import getpass

import click

from ledger.cli import commands, render
from ledger.cli.app import cli, db_option, example, json_option, known_at_option, opened
from ledger.cli.app import print_json as _print_json


@cli.command(
    epilog=example(
        'factledger redact nis-1500 --reason "privacy request: names a private person" '
        '--by "desk editor"'
    )
)
@click.argument("idents", metavar="ID...", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why the text is removed (kept in the log for good).")
@click.option("--by", default=None, help="Who decided it. Default: your login name.")
@click.option(
    "--no-scrub",
    is_flag=True,
    help="SQLite: skip rewriting the database file (VACUUM); the removed text may then stay "
    "in free pages until `factledger redact` or a VACUUM runs again.",
)
@json_option
@db_option
def redact(
    idents: tuple[str, ...], reason: str, by: str | None, no_scrub: bool, as_json: bool
) -> None:
    """Remove the free text (quotes, notes, names, titles, document text) of each event ID (an
    event id, TYPE/KEY or a record id), all in one transaction: the events keep their place,
    ids, stances and times, every checkpoint and proof stays valid and verify still passes; the
    redaction (who, when, why) is itself recorded in the log. On SQLite the database file is
    then rewritten so the text is in none of its pages; PostgreSQL cannot promise that (see
    docs/proofs.md). Cannot be undone."""
    who = by if by is not None else getpass.getuser()
    with opened() as lg:
        done = lg.redact_all(list(idents), reason=reason, by=who, scrub=False)
        scrubbed = False
        if not no_scrub and lg.store.engine.dialect.name == "sqlite":
            click.echo(
                "rewriting the database file so the removed text is in none of its pages "
                "(VACUUM; on a large ledger this takes a while)…",
                err=True,
            )
            scrubbed = lg.scrub()
        server = lg.store.engine.dialect.name
    if as_json:
        _print_json({"redacted": [r.to_dict() for r in done], "file_scrubbed": scrubbed})
        return
    render.console().print(render.redactions(done, title="redacted"))
    if server == "postgresql":
        click.echo(
            "note: PostgreSQL may still hold the old text in dead row versions until VACUUM "
            "(FULL) of events, event_salts, belief_sources and belief_propositions, and in its "
            "WAL, archives, backups and replicas (docs/proofs.md, Redaction)",
            err=True,
        )
    elif not scrubbed:
        click.echo("note: the file was not rewritten (--no-scrub)", err=True)


@cli.command(epilog=example("factledger redactions --json"))
@known_at_option
@json_option
@db_option
def redactions(known_at: str | None, as_json: bool) -> None:
    """Every redaction recorded (by --known-at): which event, when, by whom and why."""
    with opened() as lg:
        found = lg.redactions(known_at=known_at)
    if as_json:
        _print_json([r.to_dict() for r in found])
    elif not found:
        click.echo("no redactions")
    else:
        render.console().print(render.redactions(found))


@commands.db.command("grant-redactor", epilog=example("factledger db grant-redactor desk_editor"))
@click.argument("role")
@db_option
def grant_redactor(role: str) -> None:
    """Let ROLE do what a writer does and also redact (replace a redacted event's payload and
    delete its salt), the one removal writer and reader roles never hold (PostgreSQL; creates
    the role if needed; safe to repeat; `db grant-writer ROLE` takes it back)."""
    with opened() as lg:
        lg.grant_redactor(role)
    click.echo(f"{role}: may append, read and redact; may not otherwise alter or remove events")
