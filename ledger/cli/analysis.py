"""``factledger grid``, ``chart`` and ``report``: the analysis tools on the command line.

``grid`` needs nothing beyond the core install; ``chart`` and ``report`` need the ``analysis``
extra (matplotlib), loaded only when they run, so the other commands start as fast as before.
Without it they fail with one line saying what to install.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ledger.analysis.grid import COLUMNS, EVERY, GridCell, belief_grid, grid_dates
from ledger.cli import render
from ledger.cli.app import (
    Failure,
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

_OUTPUT_HELP = "File to write; the format follows its suffix"


@cli.command(epilog=example("factledger grid --from 2024-10-01 --to 2025-05-01 --every month"))
@click.argument("propositions", nargs=-1, metavar="[PROPOSITION]...")
@click.option("--from", "start", metavar="DATE", required=True, help="The first date.")
@click.option("--to", "end", metavar="DATE", required=True, help="The last date (included).")
@click.option(
    "--every",
    type=click.Choice(EVERY),
    default="day",
    show_default=True,
    help="The step between dates (a month keeps the day of the month where it can).",
)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one row per proposition and date).")
@known_at_option
@policy_option
@json_option
@db_option
def grid(
    *,
    propositions: tuple[str, ...],
    start: str,
    end: str,
    every: str,
    as_csv: bool,
    known_at: str | None,
    policy: PolicySet | None,
    as_json: bool,
) -> None:
    """What was believed about every proposition (or the PROPOSITIONs named) at each date from
    --from to --to: a table of statuses, or with --csv/--json one row per proposition and date
    with the status, the counts of supporters, deniers, confirmers and refuters, the estimate
    summary and the explanation. A date means through its end (UTC); times in CSV and JSON are
    all YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    if as_csv and as_json:
        raise click.UsageError("give --csv or --json, not both")
    days = grid_dates(start, end, every)
    with opened() as lg, naming(lg, propositions, known_at):
        cells = belief_grid(
            lg, days, known_at=known_at, propositions=propositions or None, policy=policy
        )
    if as_json:
        print_json([c.to_row() for c in cells])
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(c.to_row() for c in cells)
    else:
        out = render.console()
        rows: dict[str, list[GridCell]] = {}
        for cell in cells:
            rows.setdefault(cell.proposition, []).append(cell)
        longest = max((len(p) for p in rows), default=0)
        if longest + 2 + 12 * len(days) <= out.width:
            out.print(_words(rows, [d.isoformat() for d in days]))
        else:  # too many dates for words: one glyph per date, as the demo's bars
            out.print(_glyphs(rows, longest, days[0].isoformat(), days[-1].isoformat(), every))
        if cells:
            out.print(f"decided by policy {cells[0].verdict.policy}")


def _words(rows: dict[str, list[GridCell]], days: list[str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("proposition", no_wrap=True)
    for d in days:
        table.add_column(d, no_wrap=True)
    for proposition, row in rows.items():
        table.add_row(proposition, *(render.status(c.status) for c in row))
    return table


def _glyphs(
    rows: dict[str, list[GridCell]], longest: int, first: str, last: str, every: str
) -> Group:
    lines: list[RenderableType] = [Text(f"from {first} to {last}, one mark per {every}:")]
    for proposition, row in rows.items():
        line = Text(proposition.ljust(longest + 2))
        for c in row:
            line.append(render.GLYPH[c.status], style=render.STYLE[c.status])
        lines.append(line)
    lines.append(render.legend())
    return Group(*lines)


@cli.command(epilog=example("factledger chart dprk-troops-in-russia dprk-casualties -o story.svg"))
@click.argument("propositions", nargs=-1, required=True, metavar="PROPOSITION...")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"{_OUTPUT_HELP}: .svg, .png or .pdf.",
)
@click.option("--from", "start", metavar="DATE", help="Start of the valid-time axis.")
@click.option("--to", "end", metavar="DATE", help="End of the valid-time axis.")
@known_at_option
@db_option
def chart(
    *,
    propositions: tuple[str, ...],
    output: Path,
    start: str | None,
    end: str | None,
    known_at: str | None,
) -> None:
    """Draw how belief in each PROPOSITION changed over valid time: the status bands, each
    source's statements as marks on its own row (stance by shape, colour and word), corrections
    and withdrawals, and the estimates with their range. Needs the analysis extra."""
    if output.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise Failure(f"cannot tell the format of {output}: name a .svg, .png or .pdf file")
    from ledger.analysis.charts import save_chart  # noqa: PLC0415 - matplotlib only when used

    with opened() as lg, naming(lg, propositions, known_at):
        save_chart(lg, list(propositions), output, known_at=known_at, start=start, end=end)
    click.echo(f"wrote {output}", err=True)


@cli.command(
    epilog=example("factledger report dprk-troops-in-russia -o story.html --date 2024-11-01")
)
@click.argument("propositions", nargs=-1, metavar="[PROPOSITION]...")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write.",
)
@click.option(
    "--date",
    "dates",
    metavar="DATE",
    multiple=True,
    help="Say what was believed on this date (repeat it). Default: at each change of status.",
)
@click.option("--title", metavar="TEXT", help="The report's title.")
@click.option(
    "--no-verify",
    "skip_verify",
    is_flag=True,
    help="Do not re-check the log's hash chain first (it reads the whole log).",
)
@known_at_option
@db_option
def report(
    *,
    propositions: tuple[str, ...],
    output: Path,
    dates: tuple[str, ...],
    title: str | None,
    skip_verify: bool,
    known_at: str | None,
) -> None:
    """Write one self-contained HTML file telling the story of each PROPOSITION (default: all):
    charts, what was believed and why, every statement with its quote and document sha256,
    corrections and retractions where they happened, and the checkpoint line with how to
    verify it. No script, no request: it opens from disk, offline. Needs the analysis extra."""
    from ledger.analysis.report import write_report  # noqa: PLC0415 - matplotlib only when used

    with opened() as lg, naming(lg, propositions, known_at):
        write_report(
            lg,
            output,
            list(propositions) or None,
            dates=list(dates) or None,
            known_at=known_at,
            title=title,
            verify=not skip_verify,
        )
    click.echo(f"wrote {output}", err=True)
