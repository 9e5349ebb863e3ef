"""``factledger grid``, ``chart`` and ``report`` on the example ledger."""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from pathlib import Path

import pytest

from ledger import CorrectionMade, Ledger
from ledger.analysis.grid import COLUMNS
from tests.cli.conftest import Example, run
from tests.cli.test_cli_docs import steps as docs_steps

FOCUS = "dprk-troops-in-russia"


def test_grid_as_a_table(example: Example) -> None:
    result = run(
        [
            "--db",
            example.url,
            "grid",
            "--from",
            "2024-10-01",
            "--to",
            "2024-12-01",
            "--every",
            "month",
            FOCUS,
            "dprk-casualties",
        ]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("2024-10-01" in line and "2024-12-01" in line for line in lines)
    row = next(line for line in lines if line.strip().startswith(FOCUS)).split()
    with Ledger.open(example.url, create=False) as lg:
        expected = [
            lg.believed(FOCUS, as_of=d).status.value
            for d in ("2024-10-01", "2024-11-01", "2024-12-01")
        ]
    assert row[1:] == expected


def test_grid_with_many_dates_is_one_mark_per_date(example: Example) -> None:
    result = run(
        [
            "--db",
            example.url,
            "grid",
            "--from",
            "2024-10-01",
            "--to",
            "2025-05-01",
            "--every",
            "week",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "one mark per week" in result.stdout and "legend:" in result.stdout
    line = next(x for x in result.stdout.splitlines() if x.startswith(FOCUS))
    assert len(line.split()[1]) == 31  # 2024-10-01 + 30 weeks <= 2025-05-01


def test_grid_as_csv_has_one_time_form(example: Example) -> None:
    result = run(
        [
            "--db",
            example.url,
            "grid",
            "--from",
            "2024-10-01",
            "--to",
            "2025-05-01",
            "--every",
            "month",
            "--csv",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(COLUMNS)
    with Ledger.open(example.url, create=False) as lg:
        propositions = lg.propositions()
        assert len(rows) == 8 * len(propositions)
        for row in rows:
            for column in ("as_of", "known_at"):
                assert len(row[column]) == 27 and row[column].endswith("Z"), row[column]
            belief = lg.believed(row["proposition"], as_of=row["date"], known_at=row["known_at"])
            assert row["status"] == belief.status.value
            assert int(row["supporters"]) == len(belief.supporters)


def test_grid_as_json_honours_known_at(example: Example) -> None:
    args = [
        "--db",
        example.url,
        "grid",
        "--from",
        "2024-11-05",
        "--to",
        "2024-11-05",
        FOCUS,
        "--json",
    ]
    with Ledger.open(example.url, create=False) as lg:
        events = list(lg.read())
        correction = next(e for e in events if isinstance(e.event, CorrectionMade))
        known = events[correction.position - 2].recorded_at.isoformat()  # just before it
        before = lg.believed(FOCUS, as_of="2024-11-05", known_at=known)
        now = lg.believed(FOCUS, as_of="2024-11-05")
    then = json.loads(run([*args, "--known-at", known]).stdout)
    today = json.loads(run(args).stdout)
    assert then[0]["estimate_max"] == max(e.value for e in before.estimates)
    assert today[0]["estimate_max"] == max(e.value for e in now.estimates)
    assert then[0]["estimate_max"] != today[0]["estimate_max"]  # the correction moved 11,000
    assert [r["status"] for r in today] == [now.status.value]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-10-01", "--to", "2024-09-01"], "before the first"),
        (["--from", "2024-10-01", "--to", "2024-10-02", "nope"], "no proposition 'nope'"),
        (["--from", "soon", "--to", "2024-10-02"], "'soon' is not an ISO date"),
    ],
)
def test_grid_errors_are_one_line(example: Example, args: list[str], message: str) -> None:
    result = run(["--db", example.url, "grid", *args])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_chart_writes_svg_and_png(example: Example, tmp_path: Path) -> None:
    svg, png = tmp_path / "story.svg", tmp_path / "story.png"
    result = run(["--db", example.url, "chart", FOCUS, "dprk-casualties", "-o", str(svg)])
    assert result.exit_code == 0, result.output
    text = svg.read_text(encoding="utf-8")
    assert f'id="mark-{FOCUS}-' in text and 'id="band-dprk-casualties-' in text
    result = run(["--db", example.url, "chart", FOCUS, "-o", str(png), "--known-at", "2030-01-01"])
    assert result.exit_code == 0, result.output
    assert png.read_bytes().startswith(b"\x89PNG")


def test_chart_refuses_an_unknown_format_and_proposition(example: Example, tmp_path: Path) -> None:
    result = run(["--db", example.url, "chart", FOCUS, "-o", str(tmp_path / "story.gif")])
    assert result.exit_code == 2 and ".svg, .png or .pdf" in result.stderr
    result = run(["--db", example.url, "chart", "nope", "-o", str(tmp_path / "story.svg")])
    assert result.exit_code == 2 and "no proposition 'nope'" in result.stderr


def test_report_writes_one_html_file(example: Example, tmp_path: Path) -> None:
    out = tmp_path / "story.html"
    result = run(
        [
            "--db",
            example.url,
            "report",
            FOCUS,
            "-o",
            str(out),
            "--date",
            "2024-11-01",
            "--date",
            "2025-05-01",
            "--title",
            "The <troops> story",
        ]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<title>The &lt;troops&gt; story</title>" in text
    assert "at the chosen dates" in text and "<svg" in text
    with Ledger.open(example.url, create=False) as lg:
        head = lg.head()
        assert lg.believed(FOCUS, as_of="2024-11-01").explanation.split(":")[0] in text
    assert f"factledger verify --checkpoint {head.position}:{head.hash}" in text
    assert "verify</code> said" in text


def test_a_missing_extra_is_one_line(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for module in ("ledger.analysis.charts", "ledger.analysis.report"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    result = run(["--db", example.url, "report", "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: matplotlib is not installed; the analysis tools need it: "
        "pip install factledger[analysis]"
    ]
    assert not (tmp_path / "x.html").exists()


def test_the_console_session_of_docs_analysis_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/analysis.md's ``$ factledger`` lines run in order and print what the page shows
    (but for elided lines)."""
    page = Path(__file__).resolve().parents[2] / "docs" / "analysis.md"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(page.parents[1] / "examples")
    env = {"LEDGER_DB": f"sqlite:///{tmp_path / 'docs.db'}"}
    steps = docs_steps(page)
    assert [s.command.split()[1] for s in steps] == ["import", "grid", "grid", "chart", "report"]
    for step in steps:
        result = run(shlex.split(step.command)[1:], env=env)
        assert result.exit_code == 0, (step.command, result.output)
        printed = [line.rstrip() for line in result.stdout.splitlines()]
        for line in step.shown:
            if "…" not in line:
                assert line.rstrip() in printed, (step.command, line)
    assert (tmp_path / "troops.svg").stat().st_size > 0
    assert (tmp_path / "story.html").stat().st_size > 0
