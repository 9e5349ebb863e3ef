"""The track records as a DataFrame (issue 14 item 1, with issue 13's records): one row per
source, real dtypes, the same figures as ``Ledger.track_records``."""

from __future__ import annotations

import pandas as pd

from ledger.analysis import track_records_frame
from tests.analysis.conftest import Story


def test_the_track_records_frame_has_one_typed_row_per_source_as_the_api_says(
    story: Story,
) -> None:
    lg = story.ledger
    frame = track_records_frame(lg, as_of="2025-05-01")
    records = lg.track_records(as_of="2025-05-01")

    assert list(frame["source"]) == [r.source for r in records]  # most reliable first
    assert str(frame["right"].dtype) == "Int64" and str(frame["lead_days"].dtype) == "Float64"
    assert isinstance(frame["grade"].dtype, pd.CategoricalDtype) and frame["grade"].cat.ordered
    assert list(frame["grade"].cat.categories) == ["A", "B", "C", "D", "E", "F"]
    assert str(frame["known_at"].dtype) == "datetime64[us, UTC]"
    nis = frame.set_index("source").loc["kr-nis"]
    assert (nis["right"], nis["wrong"], nis["open"], nis["lead_days"]) == (1, 0, 0, 190.0)
    assert (nis["grade"], nis["given"]) == ("F", "B")
    wrong_only = frame.set_index("source")["lead_days"]["kp-un-mission"]
    assert wrong_only is pd.NA  # no right call, no lead time


def test_a_track_record_as_of_an_earlier_date_leaves_the_call_open(story: Story) -> None:
    frame = track_records_frame(story.ledger, as_of="2025-01-01").set_index("source")
    assert (frame.loc["kr-nis", "right"], frame.loc["kr-nis", "open"]) == (0, 1)
