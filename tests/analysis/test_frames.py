"""The DataFrames: real dtypes (UTC instants, categoricals, nullable numbers, no lists) and the
same facts the ledger's own answers give."""

from __future__ import annotations

import csv
import importlib
import io
import sys

import numpy as np
import pandas as pd
import pytest

from ledger import Ledger, LedgerError, NotFound, Stance, StatementMade, Status
from ledger.analysis import (
    MissingExtra,
    corrections_frame,
    grid_dates,
    grid_frame,
    sources_frame,
    statements_frame,
    timeline_frame,
)
from tests.analysis.conftest import CORRECTED, CORRECTION, FOCUS, HOSTILE_QUOTE, Story


def _utc(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dtype.tz) == "UTC"


def _no_lists(frame: pd.DataFrame) -> None:
    assert not any(dtype == np.dtype(object) for dtype in frame.dtypes), frame.dtypes
    for column in frame.columns:
        assert not frame[column].map(lambda x: isinstance(x, list | tuple | dict)).any()


def test_statements_frame_has_real_dtypes(story: Story) -> None:
    frame = statements_frame(story.ledger)
    for column in ("stated_at", "recorded_at", "last_corrected_at"):
        assert _utc(frame[column]), column
    assert isinstance(frame["stance"].dtype, pd.CategoricalDtype)
    assert list(frame["stance"].cat.categories) == [s.value for s in Stance]
    assert frame["value"].dtype == "Float64"
    assert frame["corrections"].dtype == "Int64"
    assert frame["position"].dtype == "Int64"
    assert frame["withdrawn"].dtype == "boolean"
    for column in ("statement", "source", "proposition", "unit", "quote", "document_sha256"):
        assert frame[column].dtype == "string", column
    _no_lists(frame)


def test_statements_frame_holds_every_statement_as_corrected(story: Story) -> None:
    made = [e.event for e in story.ledger.read() if isinstance(e.event, StatementMade)]
    frame = statements_frame(story.ledger).set_index("statement")
    assert sorted(frame.index) == sorted(s.statement_id for s in made)
    row = frame.loc[CORRECTED]
    original = next(s for s in made if s.statement_id == CORRECTED)
    assert row["stated_at"] != original.stated_at  # the correction moved it
    assert row["corrections"] == 1 and row["last_correction"] == CORRECTION
    for s in made:
        assert frame.loc[s.statement_id, "source"] == s.source_id
        assert frame.loc[s.statement_id, "stance"] == s.stance.value
        value = frame.loc[s.statement_id, "value"]
        assert (value is pd.NA) if s.value is None else value == s.value


def test_statements_frame_as_known_before_the_correction(story: Story) -> None:
    frame = statements_frame(story.ledger, known_at=story.known_before).set_index("statement")
    original = next(
        e.event
        for e in story.ledger.read()
        if isinstance(e.event, StatementMade) and e.event.statement_id == CORRECTED
    )
    assert frame.loc[CORRECTED, "stated_at"] == original.stated_at
    assert frame.loc[CORRECTED, "corrections"] == 0
    assert frame["last_corrected_at"].isna().all()


def test_statements_frame_of_one_proposition(story: Story) -> None:
    frame = statements_frame(story.ledger, proposition=FOCUS)
    assert len(frame) > 0 and set(frame["proposition"]) == {FOCUS}
    with pytest.raises(NotFound):
        statements_frame(story.ledger, proposition="no-such-thing")


def test_csv_of_a_frame_has_one_time_form_pandas_reads_back(story: Story) -> None:
    out = io.StringIO()
    statements_frame(story.ledger).to_csv(out, index=False)
    back = pd.read_csv(io.StringIO(out.getvalue()))
    parsed = pd.to_datetime(back["stated_at"], utc=True)  # one form: no format mixing error
    assert parsed.notna().all()
    assert list(parsed) == list(statements_frame(story.ledger)["stated_at"])


def test_corrections_frame(story: Story, hostile: Ledger) -> None:
    frame = corrections_frame(story.ledger)
    assert list(frame["correction"]) == [CORRECTION]
    assert list(frame["field"]) == ["stated_at"]
    assert frame["action"].dtype == "category" and _utc(frame["recorded_at"])
    assert corrections_frame(story.ledger, known_at=story.known_before).empty
    moves = corrections_frame(hostile).set_index("correction")
    assert moves.loc["c-withdraw", "action"] == "withdraw"
    assert not moves.loc["c-late", "effective"] and moves.loc["c-late", "after"] == "950"
    assert moves.loc["c-move", "field"] == "stated_at"
    assert str(moves.loc["c-move", "before"]).startswith("2024-12-01T")
    assert str(moves.loc["c-move", "after"]).startswith("2024-11-30T")
    _no_lists(moves)


def test_sources_frame(story: Story) -> None:
    frame = sources_frame(story.ledger)
    assert list(frame["source"]) == [s.source_id for s in story.ledger.sources()]
    assert frame["reliability"].cat.ordered
    assert frame["category"].dtype == "category"


def test_timeline_frame_is_the_timeline(story: Story) -> None:
    transitions = story.ledger.timeline(FOCUS)
    frame = timeline_frame(story.ledger, FOCUS)
    assert list(frame["status"]) == [t.status.value for t in transitions]
    assert list(frame["valid_from"]) == [t.valid_from for t in transitions]
    assert frame["valid_to"].isna().sum() == 1  # the last is open
    assert list(frame["status"].cat.categories) == [s.value for s in Status]
    assert frame["estimate_max"].dtype == "Float64" and frame["supporters"].dtype == "Int64"
    assert list(frame["because"]) == [
        ", ".join(c.statement for c in t.because) for t in transitions
    ]
    _no_lists(frame)
    every = timeline_frame(story.ledger, FOCUS, every_change=True)
    assert len(every) == len(story.ledger.timeline(FOCUS, every_change=True)) > len(frame)


def test_grid_frame_pivots_to_propositions_by_dates(story: Story) -> None:
    days = grid_dates("2024-10-01", "2025-05-01", "month")
    frame = grid_frame(story.ledger, days)
    assert _utc(frame["date"]) and _utc(frame["as_of"]) and _utc(frame["known_at"])
    table = frame.pivot(index="proposition", columns="date", values="status")
    assert table.shape == (len(story.ledger.propositions()), len(days))
    for day in days:
        for p in table.index:
            cell = table.loc[p, pd.Timestamp(day.isoformat(), tz="UTC")]
            assert cell == story.ledger.believed(p, as_of=day).status.value
    _no_lists(frame)


def test_statements_frame_agrees_with_the_csv_export(hostile: Ledger, story: Story) -> None:
    for lg in (hostile, story.ledger):
        out = io.StringIO()
        lg.export_csv(out)
        exported = {row["statement"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
        frame = statements_frame(lg).set_index("statement")
        assert sorted(frame.index) == sorted(exported)
        for sid, row in exported.items():
            assert frame.loc[sid, "stance"] == row["stance"]
            assert frame.loc[sid, "source"] == row["source"]
            assert frame.loc[sid, "proposition"] == row["proposition"]
            assert bool(frame.loc[sid, "withdrawn"]) is (row["withdrawn"] == "true")
            value = frame.loc[sid, "value"]
            assert (value is pd.NA) if row["value"] == "" else value == float(row["value"])
            assert frame.loc[sid, "corrections"] == len(
                [c for c in row["corrected_by"].split(";") if c]
            )


def test_frames_keep_hostile_text_as_data(hostile: Ledger) -> None:
    frame = statements_frame(hostile).set_index("statement")
    assert frame.loc["s-quote", "quote"] == HOSTILE_QUOTE
    assert bool(frame.loc["s-gone", "withdrawn"]) is True
    assert frame.loc["s-late", "stated_at"] == pd.Timestamp("2024-11-30", tz="UTC")


def test_a_missing_extra_is_one_line_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what an absent package looks like
    monkeypatch.delitem(sys.modules, "ledger.analysis.frames")
    with pytest.raises(MissingExtra) as caught:
        importlib.import_module("ledger.analysis.frames")
    message = str(caught.value)
    assert "\n" not in message and "pip install factledger[analysis]" in message
    assert "pandas" in message
    assert isinstance(caught.value, LedgerError) and isinstance(caught.value, ImportError)
