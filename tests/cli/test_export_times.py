"""The CSV export writes every time in one ISO form, which pandas reads as it is; the JSON Lines
export stays the import format, bare dates and all."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd

from tests.cli.conftest import EXAMPLE, Example, run, sqlite_url

ONE_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


SALISBURY = [
    {"type": "source", "id": "uk-gov", "name": "UK Government", "category": "government"},
    {"type": "proposition", "id": "novichok", "text": "A Novichok agent was used"},
    {
        "type": "statement",
        "id": "s-afternoon",
        "source": "uk-gov",
        "proposition": "novichok",
        "stance": "assert",
        "stated_at": "2018-03-12T15:30:00Z",
    },
    {
        "type": "statement",
        "id": "s-day",
        "source": "uk-gov",
        "proposition": "novichok",
        "stance": "assert",
        "stated_at": "2018-03-13",
    },
]


def test_every_time_in_the_csv_has_one_form_that_pandas_parses_as_it_is(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "salisbury.db")
    lines = "".join(json.dumps(r) + "\n" for r in SALISBURY)
    assert run(["--db", url, "import", "-"], input=lines).exit_code == 0

    result = run(["--db", url, "export", "--format", "csv"])
    assert result.exit_code == 0, result.output

    frame = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    assert list(frame["stated_at"]) == [
        "2018-03-12T15:30:00.000000Z",
        "2018-03-13T00:00:00.000000Z",
    ]
    for column in ("stated_at", "recorded_at"):
        assert all(ONE_FORM.fullmatch(text) for text in frame[column]), column
        parsed = pd.to_datetime(frame[column])  # no format=, no utc=: one form, with its Z
        assert str(parsed.dt.tz) == "UTC"
        assert not parsed.isna().any()
    assert list(pd.to_datetime(frame["stated_at"])) == [
        pd.Timestamp("2018-03-12T15:30:00", tz="UTC"),
        pd.Timestamp("2018-03-13", tz="UTC"),
    ]


def test_the_example_s_csv_has_the_one_form_too(example: Example) -> None:
    result = run(["--db", example.url, "export", "--format", "csv"])
    assert result.exit_code == 0, result.output

    frame = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    assert all(ONE_FORM.fullmatch(text) for text in frame["stated_at"])
    zelenskyy = frame.set_index("statement").loc["ua-president-asserts-russia-11000"]
    assert zelenskyy["stated_at"] == "2024-11-04T00:00:00.000000Z"  # as corrected


def test_the_jsonl_export_still_writes_the_import_format_s_bare_dates(example: Example) -> None:
    result = run(["--db", example.url, "export"])
    assert result.exit_code == 0, result.output

    assert result.stdout == EXAMPLE.read_text(encoding="utf-8")  # byte for byte
    stated = [json.loads(line).get("stated_at") for line in result.stdout.splitlines()]
    assert "2024-10-18" in stated
