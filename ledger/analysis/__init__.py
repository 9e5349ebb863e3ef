"""For the analyst's desk: DataFrames, the belief grid, charts and a shareable HTML report.

Needs the optional extra (``pip install factledger[analysis]``: pandas and matplotlib); without
it, using a tool that needs one raises :class:`MissingExtra` (a ``LedgerError``) naming what to
install. The belief grid itself (:func:`belief_grid`, :func:`grid_dates`) needs neither.

Everything here reads the ledger through its public API and answers as known at ``known_at``
(default: now), like ``Ledger.believed``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ledger.analysis._extra import INSTALL, MissingExtra
from ledger.analysis.grid import EVERY, GridCell, belief_grid, grid_dates

if TYPE_CHECKING:
    from ledger.analysis.charts import chart, chart_svg, save_chart
    from ledger.analysis.frames import (
        corrections_frame,
        grid_frame,
        sources_frame,
        statements_frame,
        timeline_frame,
        track_records_frame,
    )
    from ledger.analysis.report import report_html, write_report

#: What is loaded on first use, and from which module (pandas and matplotlib are slow to import).
_LAZY = {
    "statements_frame": "frames",
    "corrections_frame": "frames",
    "sources_frame": "frames",
    "timeline_frame": "frames",
    "grid_frame": "frames",
    "track_records_frame": "frames",
    "chart": "charts",
    "chart_svg": "charts",
    "save_chart": "charts",
    "report_html": "report",
    "write_report": "report",
}

__all__ = [
    "EVERY",
    "INSTALL",
    "GridCell",
    "MissingExtra",
    "belief_grid",
    "chart",
    "chart_svg",
    "corrections_frame",
    "grid_dates",
    "grid_frame",
    "report_html",
    "save_chart",
    "sources_frame",
    "statements_frame",
    "timeline_frame",
    "track_records_frame",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger.analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ledger.analysis.{module}"), name)
