"""One self-contained HTML file that tells a proposition's story, to send to an editor.

Inline SVG charts, inline CSS, no script and no request for anything: it reads the same from
disk, from a mail attachment or printed. A Content-Security-Policy forbids scripts and every
fetch, so even a browser that found something to run would not run it. Every piece of text
from the ledger passes through :func:`html.escape`: a quote that reads ``<script>`` is shown
as those characters.

What it holds, for each proposition: its chart; what was believed at the chosen dates and why
(by default at each change of status); every statement filed under it, with the verbatim
quote and the document's title and sha256, corrections and withdrawals shown on the statement
they struck, retractions marked. Then the sources, the documents, and the ledger's
checkpoint line with how to verify it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from ledger import Ledger, NotFound, Stance, Status, Verdict, VerifyReport
from ledger.analysis._log import Correction, Log, Statement, read_log
from ledger.analysis._times import TimeLike, short
from ledger.analysis.charts import BANDS, MARKS, chart_of, inline_svg
from ledger.analysis.grid import GridCell, belief_grid, main_summary
from ledger.redaction import Redaction

_CSS = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1d1d1f; max-width: 72rem; margin: 2rem auto; padding: 0 1.2rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.4rem;
  border-bottom: 2px solid #ddd; padding-bottom: .2rem; } h3 { margin-top: 1.6rem; }
.meta { color: #555; } code, .hash { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono",
  monospace; overflow-wrap: anywhere; }
figure { margin: 1rem 0; } svg.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1.2rem; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem;
  border-bottom: 1px solid #e3e3e3; }
th { background: #f6f6f6; } td.when { white-space: nowrap; }
blockquote { margin: .3rem 0; padding: .2rem .7rem; border-left: 3px solid #bbb;
  white-space: pre-wrap; overflow-wrap: anywhere; font-style: italic; }
.status { display: inline-block; padding: .05rem .5rem; border-radius: .7rem;
  font-weight: 600; font-size: 13px; white-space: nowrap; }
.stance { font-weight: 600; white-space: nowrap; }
tr.withdrawn > td { color: #777; } tr.withdrawn .said { text-decoration: line-through; }
.erratum { margin: .35rem 0 0; padding: .3rem .6rem; background: #fff6dd;
  border-left: 3px solid #e0a800; font-size: 13.5px; }
.erratum.withdrawal { background: #fde8e8; border-left-color: #c0392b; }
.retraction { background: #eef1f5; border-left: 3px solid #444; padding: .1rem .5rem;
  font-size: 13px; display: inline-block; margin-top: .2rem; }
.checkpoint { font: 14px ui-monospace, "DejaVu Sans Mono", monospace; background: #f3f3f3;
  padding: .6rem .8rem; overflow-wrap: anywhere; }
.bad { color: #b00020; font-weight: 700; } .ok { color: #1b7f3b; font-weight: 700; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  figure { break-inside: avoid; } }
"""
#: Forbids every script and every fetch: only the inline style and inline SVG are used.
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def e(value: object) -> str:
    """Text from anywhere, made safe for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def report_html(
    lg: Ledger,
    propositions: Sequence[str] | None = None,
    *,
    dates: Iterable[date | datetime | str] | None = None,
    known_at: TimeLike | None = None,
    title: str | None = None,
    verify: bool = True,
) -> str:
    """The report as one HTML document (text). ``propositions``: which ones (default: every
    proposition known then); ``dates``: when to say what was believed (default: at each change
    of status); ``known_at``: the ledger as it knew things then (default: now); ``verify``:
    re-check the whole log's hash chain first and say how that went."""
    log = read_log(lg, known_at)
    wanted = list(log.propositions) if propositions is None else list(propositions)
    for p in wanted:
        if p not in log.propositions:
            raise NotFound(f"no proposition {p!r} in the ledger")
    chosen = None if dates is None else list(dates)
    beliefs = (
        {}
        if chosen is None or not wanted
        else _by_proposition(belief_grid(lg, chosen, known_at=log.known_at, propositions=wanted))
    )
    heading = title or (
        f"What was said about {wanted[0]}" if len(wanted) == 1 else "What was said, and when"
    )
    check = lg.verify() if verify else None
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="factledger">',
        f"<title>{e(heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{e(heading)}</h1>",
        f'<p class="meta">From the factledger log as known at {e(short(log.known_at))}: '
        f"{log.events:,} events, {len(log.statements):,} statements, "
        f"{len(log.sources):,} sources. Valid time (when something was said) runs along each "
        "chart; every statement below keeps the words of its document.</p></header>",
        '<nav><p class="meta">Propositions: '
        + ", ".join(f'<a href="#p-{e(p)}">{e(p)}</a>' for p in wanted)
        + ' · <a href="#sources">sources</a> · <a href="#documents">documents</a> · '
        '<a href="#redactions">redactions</a> · <a href="#integrity">integrity</a></p></nav>',
    ]
    for i, p in enumerate(wanted):
        parts.append(_section(lg, log, p, i, beliefs.get(p), known_given=known_at is not None))
    parts.append(_sources(log))
    parts.append(_documents(log))
    parts.append(_redactions(log))
    parts.append(_integrity(log, check, known_given=known_at is not None))
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def write_report(
    lg: Ledger,
    path: str | Path,
    propositions: Sequence[str] | None = None,
    *,
    dates: Iterable[date | datetime | str] | None = None,
    known_at: TimeLike | None = None,
    title: str | None = None,
    verify: bool = True,
) -> Path:
    """Write :func:`report_html` to ``path`` (UTF-8); returns the path."""
    target = Path(path)
    text = report_html(lg, propositions, dates=dates, known_at=known_at, title=title, verify=verify)
    target.write_text(text, encoding="utf-8")
    return target


# -- pieces ----------------------------------------------------------------------------------


def _by_proposition(cells: list[GridCell]) -> dict[str, list[tuple[str, Verdict]]]:
    out: dict[str, list[tuple[str, Verdict]]] = {}
    for cell in cells:
        label = cell.date
        when = short(label) if isinstance(label, datetime) else label.isoformat()
        out.setdefault(cell.proposition, []).append((when, cell.verdict))
    return out


def _status(status: Status) -> str:
    return f'<span class="status" style="background:{BANDS[status]}">{e(status.value)}</span>'


def _section(
    lg: Ledger,
    log: Log,
    p: str,
    index: int,
    chosen: list[tuple[str, Verdict]] | None,
    *,
    known_given: bool,
) -> str:
    definition = log.propositions[p]
    figure = chart_of(lg, log, [p], as_known=known_given)
    svg = inline_svg(figure, salt=f"factledger-{index}-{p}")
    parties = ", ".join(definition.parties) or "none"
    out = [
        f'<section id="p-{e(p)}">',
        f"<h2>{e(definition.text)}</h2>",
        f'<p class="meta">Proposition <code>{e(p)}</code>; parties (whose own admission '
        f"confirms it): {e(parties)}.</p>",
        f'<figure aria-label="{e("How belief in " + p + " changed over valid time")}">{svg}'
        '<figcaption class="meta">Top row: the ledger\'s belief over time. Below: one row '
        "per source, a mark for each statement (▲ asserts, ★ confirms, ▼ denies, ✖ refutes, "
        "○ retracts, ◇ no comment); grey hollow marks are where a corrected statement was "
        "first placed, or a withdrawn one.</figcaption></figure>",
    ]
    if chosen is None:
        rows = [
            (
                short(t.valid_from) + ("" if t.valid_to is None else f" to {short(t.valid_to)}"),
                t.verdict,
            )
            for t in lg.timeline(p, known_at=log.known_at)
        ]
        out.append("<h3>What was believed, at each change</h3>")
    else:
        rows = chosen
        out.append("<h3>What was believed, at the chosen dates</h3>")
    out.append(_beliefs(rows))
    out.append("<h3>Every statement, as corrected</h3>")
    out.append(_statements(log, log.about(p), p))
    out.append("</section>")
    return "\n".join(out)


def _beliefs(rows: list[tuple[str, Verdict]]) -> str:
    if not rows:
        return '<p class="meta">Nothing was said about it yet.</p>'
    out = ["<table><thead><tr><th>when</th><th>status</th><th>why</th>"]
    out.append("<th>estimates</th></tr></thead><tbody>")
    for when, v in rows:
        summary = main_summary(v)
        estimate = (
            ""
            if summary is None
            else f"{_n(summary.min)} to {_n(summary.max)}, median {_n(summary.median)}"
            + (f" {summary.unit}" if summary.unit else "")
            + f" ({summary.count} source{'s' if summary.count != 1 else ''})"
        )
        out.append(
            f'<tr><td class="when">{e(when)}</td><td>{_status(v.status)}</td>'
            f"<td>{e(v.explanation)}</td><td>{e(estimate)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)


def _statements(log: Log, statements: list[Statement], p: str) -> str:
    if not statements:
        return '<p class="meta">No statement is filed under it.</p>'
    out = [
        "<table><thead><tr><th>stated</th><th>source</th><th>said</th>"
        "<th>evidence</th></tr></thead><tbody>"
    ]
    for s in statements:
        now = s.current
        source = log.sources.get(now.source_id)
        name = "" if source is None else f'<br><span class="meta">{e(source.name)}</span>'
        style = MARKS[now.stance]
        said = f'<span class="stance" style="color:{style.colour}">{e(style.verb)}</span>'
        if now.value is not None:
            said += f" {e(_n(now.value))}" + (f" {e(now.unit)}" if now.unit else "")
        if now.proposition_id != p:
            said += f" <em>(now filed under <code>{e(now.proposition_id)}</code>)</em>"
        elif s.original.proposition_id != p:
            said += f" <em>(first filed under <code>{e(s.original.proposition_id)}</code>)</em>"
        extra = ""
        if now.stance is Stance.RETRACT:
            extra += (
                '<div class="retraction">Retraction: the source withdrew its own earlier '
                "stance from this date on.</div>"
            )
        if now.note:
            extra += f'<div class="meta">Note: {e(now.note)}</div>'
        for c in s.corrections:
            extra += _erratum(c)
        for position in (s.position, *(c.position for c in s.corrections)):
            if position in log.redacted:
                extra += _redacted(log.redacted[position])
        quote = f"<blockquote>{e(now.quote)}</blockquote>" if now.quote else ""
        row_class = ' class="withdrawn"' if s.withdrawn else ""
        out.append(
            f'<tr id="s-{e(s.id)}"{row_class}><td class="when">{e(short(now.stated_at))}</td>'
            f"<td><code>{e(now.source_id)}</code>{name}</td>"
            f'<td><div class="said">{said}</div>{quote}{extra}'
            f'<div class="meta">statement <code>{e(s.id)}</code>, recorded '
            f"{e(short(s.recorded_at))} at log position {s.position}</div></td>"
            f"<td>{_evidence(log, now.document_id)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)


def _erratum(c: Correction) -> str:
    when = f"recorded {short(c.recorded_at)} at log position {c.position}"
    key = f"<code>{e(c.correction.key)}</code>"
    if c.withdrew:
        tail = "" if c.effective else " (it was already withdrawn)"
        return (
            f'<div class="erratum withdrawal"><strong>Withdrawn</strong> by correction {key}, '
            f"{e(when)}{e(tail)}: {e(c.correction.reason)}</div>"
        )
    changes = "; ".join(
        f"{name.removesuffix('_id')}: {_shown(before)} → {_shown(after)}"
        for name, before, after in c.changed()
    )
    late = "" if c.effective else " (after the withdrawal: it still counts for nothing)"
    return (
        f'<div class="erratum"><strong>Corrected</strong> by {key}, {e(when)}{e(late)}: '
        f"{e(changes or 'no field changed')}. Reason: {e(c.correction.reason)}</div>"
    )


def _redacted(r: Redaction) -> str:
    what = "statement" if r.type == "statement_made" else "correction"
    return (
        f'<div class="erratum redacted"><strong>Redacted</strong>: the {what}\'s text '
        f"({e(', '.join(r.fields))}) was removed from the ledger on {e(short(r.redacted_at))} "
        f"by {e(r.by)}: {e(r.reason)}. Its place, stance and date remain, and every proof of "
        "it still holds.</div>"
    )


def _redactions(log: Log) -> str:
    """Every redaction of the ledger: where text was removed, when, by whom and why."""
    out = ['<section id="redactions"><h2>Redactions</h2>']
    if not log.redacted:
        out.append('<p class="meta">No text was removed from this ledger.</p></section>')
        return "\n".join(out)
    out.append(
        '<p class="meta">Text removed from the ledger (a takedown or a privacy request): the '
        "events keep their place, ids and stances; their text reads [redacted].</p>"
        "<table><thead><tr><th>event</th><th>removed</th><th>when</th><th>by</th>"
        "<th>why</th></tr></thead><tbody>"
    )
    for r in sorted(log.redacted.values(), key=lambda r: r.redaction_position):
        out.append(
            f"<tr><td><code>{e(r.stream_id)}</code></td><td>{e(', '.join(r.fields))}</td>"
            f'<td class="when">{e(short(r.redacted_at))}</td><td>{e(r.by)}</td>'
            f"<td>{e(r.reason)}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, datetime):
        return short(value)
    if isinstance(value, Stance):
        return value.value
    if isinstance(value, int | float):
        return _n(value)
    return str(value)


def _evidence(log: Log, document_id: str | None) -> str:
    if document_id is None:
        return '<span class="meta">no document</span>'
    d = log.documents.get(document_id)
    if d is None:
        return f"<code>{e(document_id)}</code>"
    return (
        f'<a href="#d-{e(document_id)}">{e(d.title)}</a>'
        f'<br><span class="meta">sha256</span> <span class="hash">{e(d.sha256)}</span>'
    )


def _sources(log: Log) -> str:
    out = ['<section id="sources"><h2>Sources</h2><table><thead><tr><th>id</th><th>name</th>']
    out.append("<th>category</th><th>affiliation</th><th>reliability</th><th>note</th>")
    out.append("</tr></thead><tbody>")
    for s in log.sources.values():
        reliability = "" if s.reliability is None else s.reliability.value
        out.append(
            f"<tr><td><code>{e(s.source_id)}</code></td><td>{e(s.name)}</td>"
            f"<td>{e(s.category.value)}</td><td>{e(s.affiliation or '')}</td>"
            f"<td>{e(reliability)}</td><td>{e(s.note or '')}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _documents(log: Log) -> str:
    out = [
        '<section id="documents"><h2>Documents</h2><p class="meta">Check a copy of a document '
        "with <code>sha256sum FILE</code>: it must print the sha256 shown. A web address is "
        "given as text, not as a link: this file fetches nothing.</p>",
        "<table><thead><tr><th>document</th><th>published</th><th>sha256</th></tr></thead>",
        "<tbody>",
    ]
    for d in log.documents.values():
        by = f'<br><span class="meta">{e(d.publisher)}</span>' if d.publisher else ""
        url = f'<br><span class="meta hash">{e(d.url)}</span>' if d.url else ""
        published = "" if d.published_at is None else short(d.published_at)
        out.append(
            f'<tr id="d-{e(d.document_id)}"><td>{e(d.title)}{by}{url}<br>'
            f'<code class="meta">{e(d.document_id)}</code></td>'
            f'<td class="when">{e(published)}</td><td class="hash">{e(d.sha256)}</td></tr>'
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _integrity(log: Log, check: VerifyReport | None, *, known_given: bool) -> str:
    out = ['<section id="integrity"><h2>Integrity: how to check this report</h2>']
    if log.checkpoint is None:
        out.append("<p>The ledger was empty.</p></section>")
        return "\n".join(out)
    out.append(
        "<p>Every event of the ledger is hash-chained: each hash covers the one before it. "
        f"This report was made from the first {log.last_position:,} events; the checkpoint "
        "line (position and hash of the last of them) is:</p>"
    )
    out.append(f'<p class="checkpoint" id="checkpoint">{e(log.checkpoint)}</p>')
    out.append(
        "<p>Whoever holds the ledger can prove that nothing up to that event was changed, "
        "removed or cut off since:</p>"
        f'<p class="checkpoint">factledger verify --checkpoint {e(log.checkpoint)}</p>'
        '<p class="meta">It exits 0 and prints <code>ok</code> when the log still holds '
        "exactly these events; otherwise it names the first bad position. Keep this file (or "
        "just the line) somewhere the ledger's administrators cannot edit.</p>"
    )
    if known_given:
        out.append(
            f'<p class="meta">The report shows the ledger as it knew things at '
            f"{e(short(log.known_at))}: anything recorded later, corrections included, is "
            "left out.</p>"
        )
    if check is not None:
        out.append(
            f'<p>When the report was made, <code>verify</code> said: <span class="'
            f'{"ok" if check.ok else "bad"}">{e(check)}</span></p>'
        )
    out.append("</section>")
    return "\n".join(out)


def _n(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}"
