"""Charts of how belief changed over valid time, with matplotlib (no pyplot, no global state:
each chart is its own ``Figure`` on the Agg canvas, so a notebook's backend is left alone).

For each proposition, one panel: a top row of status bands (each labelled with its status), then
one row per source with a mark for each statement at its ``stated_at``, stance shown by shape
AND colour AND a word beside the mark (so no legend is needed); a corrected statement is drawn
where its correction puts it, its first position as a hollow ghost with an arrow to the new
one; a withdrawn statement is a faded mark labelled "withdrawn"; retractions are hollow circles
labelled "retracts". Below, when sources gave numbers, their estimates over time with the range
(min to max) and median of the live estimates as a band and a line. Everything as known at
``known_at``: corrections recorded later are not drawn.

SVG elements carry ids (``band-…``, ``mark-…``, ``withdrawn-…``, ``original-…``,
``correction-…``, ``estimate-…``, ``estimate-range-…``), so a page or a test can find them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import attrs

from ledger import Ledger, NotFound, Stance, Status, Transition
from ledger.analysis._extra import MissingExtra
from ledger.analysis._log import Log, Statement, read_log
from ledger.analysis._times import TimeLike, bound, short
from ledger.analysis.grid import main_summary

try:
    import matplotlib as mpl
    import matplotlib.dates as mdates
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.ticker import FuncFormatter
except ImportError as e:  # pragma: no cover - exercised by a test that hides matplotlib
    raise MissingExtra("matplotlib") from e


class Mark(NamedTuple):
    marker: str
    colour: str
    verb: str
    filled: bool


#: Stance -> shape, colour (Okabe-Ito, safe for colour-blind readers), the word written beside.
MARKS: dict[Stance, Mark] = {
    Stance.ASSERT: Mark("^", "#0072B2", "asserts", True),
    Stance.CONFIRM: Mark("*", "#009E73", "confirms", True),
    Stance.DENY: Mark("v", "#D55E00", "denies", True),
    Stance.REFUTE: Mark("X", "#CC79A7", "refutes", True),
    Stance.RETRACT: Mark("o", "#444444", "retracts", False),
    Stance.NO_COMMENT: Mark("D", "#999999", "no comment", False),
}
#: Status -> band colour (light, so the dark label on it stays readable).
BANDS: dict[Status, str] = {
    Status.UNKNOWN: "#eeeeee",
    Status.CLAIMED: "#fbe3a1",
    Status.DENIED: "#f7c3ad",
    Status.DISPUTED: "#e3cdee",
    Status.CONFIRMED: "#b7e2c4",
    Status.REFUTED: "#f2a7a7",
    Status.RETRACTED: "#d3d3d3",
}
GHOST = "#aaaaaa"
_TITLE_MAX = 110
_MIN_PAD = timedelta(days=2)


@attrs.frozen
class _Panel:
    proposition: str
    text: str
    transitions: list[Transition]
    changes: list[Transition]
    statements: list[Statement]


def chart(
    lg: Ledger,
    propositions: str | Sequence[str],
    *,
    known_at: TimeLike | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    width: float = 11.0,
) -> Figure:
    """A figure with one panel per proposition (see the module's docstring), as known at
    ``known_at`` (default: now; the titles then say "as known at ..."), over valid time from
    ``start`` to ``end`` (default: the span of what was said, padded)."""
    wanted = [propositions] if isinstance(propositions, str) else list(propositions)
    log = read_log(lg, known_at)
    return chart_of(
        lg, log, wanted, start=start, end=end, width=width, as_known=known_at is not None
    )


def chart_of(
    lg: Ledger,
    log: Log,
    propositions: Sequence[str],
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    width: float = 11.0,
    as_known: bool = False,
) -> Figure:
    """:func:`chart` from a log already read (the report reads it once for all its charts)."""
    if not propositions:
        raise NotFound("no proposition to chart: name at least one")
    panels = [_panel(lg, log, p) for p in propositions]
    lo, hi = _span(panels, start, end)
    heights: list[float] = []
    for panel in panels:
        heights.append(0.55 + 0.32 * (1 + len(_rows(panel))))
        if _estimates(panel):
            heights.append(1.7)
    fig = Figure(figsize=(width, sum(heights) + 0.3), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights)
    slot = 0
    for panel in panels:
        ax = fig.add_subplot(grid[slot])
        slot += 1
        _draw_panel(ax, panel, log, lo, hi, as_known=as_known)
        values = _estimates(panel)
        if values:
            below = fig.add_subplot(grid[slot], sharex=ax)
            slot += 1
            _draw_estimates(below, panel, values)
    return fig


def chart_svg(
    lg: Ledger,
    propositions: str | Sequence[str],
    *,
    known_at: TimeLike | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    width: float = 11.0,
) -> str:
    """The chart as a standalone SVG document (text); the options are :func:`chart`'s."""
    return svg(chart(lg, propositions, known_at=known_at, start=start, end=end, width=width))


def save_chart(
    lg: Ledger,
    propositions: str | Sequence[str],
    path: str | Path,
    *,
    known_at: TimeLike | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    width: float = 11.0,
) -> Path:
    """Draw the chart into ``path``; the format follows the suffix (``.svg``, ``.png``,
    ``.pdf``); the options are :func:`chart`'s."""
    target = Path(path)
    fig = chart(lg, propositions, known_at=known_at, start=start, end=end, width=width)
    suffix = target.suffix.lower().lstrip(".")
    if suffix == "svg":
        target.write_text(svg(fig), encoding="utf-8")
    else:
        with mpl.rc_context({"pdf.fonttype": 42}):
            fig.savefig(target, format=suffix or "png", dpi=150, metadata=_metadata(suffix))
    return target


def svg(fig: Figure, *, salt: str = "factledger") -> str:
    """The figure as SVG text: text kept as text, ids derived from ``salt`` (give each chart
    of one page its own), no creation date (the same chart gives the same bytes)."""
    out = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": "factledger"})
    return out.getvalue()


def inline_svg(fig: Figure, *, salt: str) -> str:
    """The figure as an ``<svg>`` element to place inside an HTML page: no XML prolog, DOCTYPE
    or metadata, and it scales to the page's width."""
    text = svg(fig, salt=salt)
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
        r'<svg\1 class="chart" role="img" preserveAspectRatio="xMinYMin meet"',
        text,
        count=1,
    )


def _metadata(suffix: str) -> dict[str, str | None]:
    if suffix == "png":
        return {"Software": "factledger"}
    if suffix == "pdf":
        return {"Creator": "factledger", "CreationDate": None}
    return {}


# -- what to draw ----------------------------------------------------------------------------


def _panel(lg: Ledger, log: Log, proposition: str) -> _Panel:
    definition = log.propositions.get(proposition)
    if definition is None:
        raise NotFound(f"no proposition {proposition!r} in the ledger")
    k = log.known_at
    return _Panel(
        proposition,
        definition.text,
        lg.timeline(proposition, known_at=k),
        lg.timeline(proposition, known_at=k, every_change=True),
        log.about(proposition),
    )


def _rows(panel: _Panel) -> list[str]:
    """The sources of the panel, in order of their first statement."""
    seen: dict[str, None] = {}
    for s in panel.statements:
        for version in (s.original, s.current):
            if version.proposition_id == panel.proposition:
                seen.setdefault(version.source_id, None)
    return list(seen)


def _live(panel: _Panel) -> list[Statement]:
    return [
        s
        for s in panel.statements
        if not s.withdrawn and s.current.proposition_id == panel.proposition
    ]


def _estimates(panel: _Panel) -> list[Statement]:
    """The live statements that gave a number, in the unit most of them used."""
    valued = [s for s in _live(panel) if s.current.value is not None]
    if not valued:
        return []
    units = [s.current.unit for s in valued]
    unit = max(dict.fromkeys(units), key=units.count)
    return [s for s in valued if s.current.unit == unit]


def _span(
    panels: list[_Panel], start: TimeLike | None, end: TimeLike | None
) -> tuple[datetime, datetime]:
    times = [
        version.stated_at
        for panel in panels
        for s in panel.statements
        for version in (s.original, s.current)
        if version.proposition_id == panel.proposition
    ]
    times += [t.valid_from for panel in panels for t in panel.transitions]
    if not times:
        times = [datetime.now().astimezone()]
    lo, hi = min(times), max(times)
    pad = max((hi - lo) * 0.04, _MIN_PAD)
    first = lo - pad if start is None else bound(start, field="start") - timedelta(days=1)
    last = hi + max((hi - lo) * 0.14, _MIN_PAD * 4) if end is None else bound(end, field="end")
    if last <= first:
        last = first + _MIN_PAD
    return first, last


def _x(when: datetime) -> float:
    return float(mdates.date2num(when))  # type: ignore[no-untyped-call]


# -- drawing ---------------------------------------------------------------------------------


def _draw_panel(
    ax: Axes, panel: _Panel, log: Log, lo: datetime, hi: datetime, *, as_known: bool
) -> None:
    p = panel.proposition
    rows = _rows(panel)
    row_of = {source: i + 1 for i, source in enumerate(rows)}
    ax.set_ylim(len(rows) + 0.7, -0.7)
    ax.set_xlim(_x(lo), _x(hi))
    ax.set_yticks(range(len(rows) + 1), ["belief", *rows])
    ax.tick_params(axis="y", length=0, labelsize=8)
    ax.get_yticklabels()[0].set_fontweight("bold")
    for y in range(1, len(rows) + 1):
        ax.axhline(y, color="#e4e4e4", linewidth=0.6, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    title = f"{p}: {panel.text}"
    if len(title) > _TITLE_MAX:
        title = title[: _TITLE_MAX - 1] + "…"
    if as_known:
        title += f"  (as known at {short(log.known_at)})"
    ax.set_title(title, loc="left", fontsize=9.5, fontweight="bold", parse_math=False)
    _draw_bands(ax, panel)
    for s in panel.statements:
        _draw_statement(ax, p, s, row_of)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.tick_params(axis="x", labelsize=8)


def _draw_bands(ax: Axes, panel: _Panel) -> None:
    left, right = ax.get_xlim()
    for i, t in enumerate(panel.transitions):
        a = max(_x(t.valid_from), left)
        b = right if t.valid_to is None else min(_x(t.valid_to), right)
        if b <= a:
            continue
        bars = ax.barh(0, b - a, left=a, height=0.8, color=BANDS[t.status], edgecolor="white")
        bars.patches[0].set_gid(f"band-{panel.proposition}-{i}-{t.status.value}")
        narrow = (b - a) / (right - left) < 0.07
        ax.text(
            (a + b) / 2,
            0.22 if narrow and i % 2 else 0.0,
            t.status.value,
            ha="center",
            va="center",
            fontsize=6.5 if narrow else 8,
            color="#222222",
            parse_math=False,
        )


def _label(s: Statement, proposition: str) -> str:
    now = s.current
    text = MARKS[now.stance].verb
    if now.value is not None:
        text += f" {_number(now.value)}" + (f" {now.unit}" if now.unit else "")
    if any(c.effective and not c.withdrew for c in s.corrections):
        text += " (corrected)"
    if s.original.proposition_id != proposition:
        text += f" (moved here from {s.original.proposition_id})"
    return text


def _draw_statement(ax: Axes, p: str, s: Statement, row_of: dict[str, int]) -> None:
    now, first = s.current, s.original
    if now.proposition_id != p:  # filed here first, moved elsewhere by a correction
        _ghost(ax, f"original-{p}-{s.id}", first.stated_at, row_of[first.source_id], first.stance)
        _word(ax, first.stated_at, row_of[first.source_id], f"moved to {now.proposition_id}", GHOST)
        return
    y = row_of[now.source_id]
    if s.withdrawn:
        _ghost(ax, f"withdrawn-{p}-{s.id}", now.stated_at, y, now.stance)
        ax.plot([_x(now.stated_at)], [y], marker="_", markersize=14, color="#555555")
        _word(ax, now.stated_at, y, f"{MARKS[now.stance].verb}: withdrawn", "#777777")
        return
    style = MARKS[now.stance]
    ax.plot(
        [_x(now.stated_at)],
        [y],
        marker=style.marker,
        markersize=9 if style.marker == "*" else 7,
        color=style.colour,
        markerfacecolor=style.colour if style.filled else "white",
        markeredgewidth=1.4,
        linestyle="none",
        gid=f"mark-{p}-{s.id}",
        zorder=3,
    )
    _word(ax, now.stated_at, y, _label(s, p), style.colour)
    moved = first.proposition_id == p and (
        first.stated_at != now.stated_at or first.source_id != now.source_id
    )
    if moved:
        y0 = row_of[first.source_id]
        _ghost(ax, f"original-{p}-{s.id}", first.stated_at, y0, first.stance)
        last = [c for c in s.corrections if c.effective and not c.withdrew][-1]
        arrow = FancyArrowPatch(
            (_x(first.stated_at), y0),
            (_x(now.stated_at), y),
            arrowstyle="->",
            mutation_scale=9,
            linestyle="--",
            color="#555555",
            shrinkA=5,
            shrinkB=5,
            zorder=2,
        )
        arrow.set_gid(f"correction-{p}-{last.correction.key}")
        ax.add_patch(arrow)
        ax.annotate(
            f"first recorded: {short(first.stated_at)}"
            + (f" by {first.source_id}" if first.source_id != now.source_id else ""),
            (_x(first.stated_at), y0),
            xytext=(0, -9),
            textcoords="offset points",
            ha="center",
            fontsize=5.5,
            color="#777777",
            parse_math=False,
        )


def _ghost(ax: Axes, gid: str, when: datetime, y: int, stance: Stance) -> None:
    ax.plot(
        [_x(when)],
        [y],
        marker=MARKS[stance].marker,
        markersize=7,
        color=GHOST,
        markerfacecolor="white",
        linestyle="none",
        gid=gid,
        zorder=2,
    )


def _word(ax: Axes, when: datetime, y: int, text: str, colour: str) -> None:
    ax.annotate(
        text,
        (_x(when), y),
        xytext=(6, -1),
        textcoords="offset points",
        fontsize=6.5,
        color=colour,
        va="center",
        parse_math=False,
    )


def _draw_estimates(ax: Axes, panel: _Panel, values: list[Statement]) -> None:
    p = panel.proposition
    unit = values[0].current.unit
    xs: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    medians: list[float] = []
    right = ax.get_xlim()[1]
    for t in panel.changes:
        summary = main_summary(t.verdict)
        a = _x(t.valid_from)
        b = right if t.valid_to is None else _x(t.valid_to)
        if summary is None or summary.unit != unit:
            continue
        for x in (a, b):
            xs.append(x)
            lows.append(float(summary.min))
            highs.append(float(summary.max))
            medians.append(float(summary.median))
    if xs:
        band = ax.fill_between(
            xs, lows, highs, facecolor="#9ecae1", edgecolor="#6baed6", alpha=0.45, linewidth=0.8
        )
        band.set_gid(f"estimate-range-{p}")
        (median,) = ax.plot(xs, medians, color="#08519c", linewidth=1.2)
        median.set_gid(f"estimate-median-{p}")
        same = lows[-1] == highs[-1]
        ax.annotate(
            f"every live estimate: {_number(lows[-1])}"
            if same
            else f"median {_number(medians[-1])}",
            (xs[-1], medians[-1]),
            xytext=(-4, -4),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=7,
            color="#08519c",
            parse_math=False,
        )
        if not same:
            ax.annotate(
                f"range of live estimates {_number(lows[-1])} to {_number(highs[-1])}",
                (xs[-1], highs[-1]),
                xytext=(-4, 3),
                textcoords="offset points",
                ha="right",
                fontsize=7,
                color="#3182bd",
                parse_math=False,
            )
    for s in values:
        now = s.current
        assert now.value is not None
        style = MARKS[now.stance]
        ax.plot(
            [_x(now.stated_at)],
            [float(now.value)],
            marker=style.marker,
            markersize=6,
            color=style.colour,
            markerfacecolor=style.colour if style.filled else "white",
            linestyle="none",
            gid=f"estimate-{p}-{s.id}",
            zorder=3,
        )
        ax.annotate(
            f"{now.source_id} {_number(now.value)}",
            (_x(now.stated_at), float(now.value)),
            xytext=(5, 2),
            textcoords="offset points",
            fontsize=6.5,
            color=style.colour,
            parse_math=False,
        )
    ax.set_ylabel(unit or "value", fontsize=8)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _number(v)))
    ax.tick_params(labelsize=8)
    others = sum(1 for s in _live(panel) if s.current.value is not None) - len(values)
    unit_text = f"in {unit}" if unit else "without a unit"
    title = f"{p}: estimates {unit_text}"
    if others:
        title += f" ({others} in other units not drawn)"
    ax.set_title(title, loc="left", fontsize=8.5, parse_math=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"
