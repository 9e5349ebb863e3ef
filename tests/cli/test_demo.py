"""``factledger demo``: it loads the example in two steps and tells the story."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Example, run, sqlite_url


def _squashed(text: str) -> str:
    """Whitespace collapsed, so a phrase wrapped across lines of a table cell still matches."""
    return " ".join(text.split())


def _section(text: str, start: str, end: str | None = None) -> str:
    tail = text[text.index(start) :]
    return tail if end is None else tail[: tail.index(end)]


def test_the_demo_imports_in_two_steps_corrections_last(example: Example) -> None:
    out = example.demo_output

    assert "imported 84 records from north-korea-troops.jsonl: 84 appended" in _squashed(out)
    assert "imported 1 record from north-korea-troops.jsonl: 1 appended" in _squashed(out)


def test_the_demo_tells_each_proposition_s_story(example: Example) -> None:
    out = _squashed(_section(example.demo_output, "1. How each", "2. Point-in-time"))

    for proposition in ("dprk-troops-in-russia", "dprk-troops-in-combat", "dprk-soldiers-captured"):
        assert proposition in out
    assert "North Korean military personnel are deployed in Russia" in out
    assert "legend:" in out
    # first claims in October 2024, disputed from North Korea's denial, confirmed in April 2025
    assert "2024-10-14 claimed" in out
    assert "2024-10-21 disputed disputed: supported by ua-president (2024-10-14), kr-nis" in out
    assert "2025-04-26 confirmed confirmed: ru-general-staff, a party" in out


def test_the_demo_shows_the_estimates_growing_until_the_confirmation(example: Example) -> None:
    out = _squashed(_section(example.demo_output, "every change", "2. Point-in-time"))

    steps = [
        "kr-nis asserts 1,500 troops",
        "kp-un-mission denies",
        "us-nsc asserts 3,000 troops",
        "us-intelligence asserts 8,000 troops",
        "ua-president asserts 11,000 troops",
        "ru-general-staff confirms",
        "kcna confirms",
    ]
    where = [out.index(step) for step in steps]
    assert where == sorted(where)
    assert "2024-11-04 disputed ua-president asserts 11,000" in out  # the corrected date


def test_the_demo_answers_for_two_dates(example: Example) -> None:
    out = _squashed(_section(example.demo_output, "2. Point-in-time", "3. The audit view"))

    assert "dprk-troops-in-russia as of 2024-11-01 disputed" in out
    assert "troops: kr-nis 1,500 · us-nsc 3,000 · us-intelligence 8,000" in out
    assert "troops: 1,500 to 8,000, median 3,000 (3 sources)" in out
    assert "dprk-troops-in-russia as of 2025-05-01 confirmed" in out
    assert "confirmed: ru-general-staff, a party, confirmed on 2025-04-26; kcna" in out


def test_the_demo_shows_the_correction_before_and_after(example: Example) -> None:
    audit = _section(example.demo_output, "3. The audit view")
    before = _squashed(_section(audit, "before the correction", "after the correction"))
    after = _squashed(_section(audit, "after the correction", "replay"))
    out = _squashed(audit)

    assert "ua-president-asserts-russia-11000" in out
    assert "as stated on 2024-11-07" in out
    assert "sets stated_at = 2024-11-04" in out
    assert "dprk-troops-in-russia as of 2024-11-05" in out
    assert "us-intelligence 8,000" in before
    assert "11,000" not in before
    assert "ua-president 11,000" in after
    assert out.count("chain verified, projection agrees") == 2
    assert "positions 1..84" in out
    assert "positions 1..85" in out
    assert "verify ok: 85 events verified" in out
    assert "checkpoint 85:" in out


def test_running_the_demo_again_appends_nothing_and_tells_the_same_story(
    example: Example, tmp_path: Path
) -> None:
    url = example.copy(tmp_path)

    again = run(["--db", url, "demo"])

    assert again.exit_code == 0
    assert "84 appended" not in _squashed(again.stdout)
    assert "84 already present" in _squashed(again.stdout)
    first = example.demo_output
    assert _section(again.stdout, "1. How each") == _section(first, "1. How each")


def test_the_demo_takes_another_copy_of_the_dataset(tmp_path: Path) -> None:
    data = tmp_path / "story.jsonl"
    source = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"
    lines = [
        line
        for line in source.read_text(encoding="utf-8").splitlines()
        if '"correction"' not in line
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run(["--db", sqlite_url(tmp_path / "d.db"), "demo", "--file", str(data)])

    assert result.exit_code == 0, result.output
    assert "story.jsonl" in result.stdout
    assert "the dataset has no correction" in result.stdout


def test_the_demo_with_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["--db", sqlite_url(tmp_path / "d.db"), "demo", "--file", str(tmp_path / "x")])

    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_the_demo_on_a_ledger_imported_in_one_batch_says_there_is_no_before(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "d.db")
    source = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"
    assert run(["--db", url, "import", str(source)]).exit_code == 0

    result = run(["--db", url, "demo"])

    audit = _squashed(_section(result.stdout, "3. The audit view"))
    assert result.exit_code == 0
    assert "recorded in the same batch as the statement it corrects" in audit
    assert "before the correction" not in audit
    assert "ua-president 11,000" in audit
    assert "verify ok: 85 events verified" in audit


SALISBURY = [
    {"type": "source", "id": "uk-gov", "name": "UK Government", "category": "government"},
    {"type": "source", "id": "ru-mfa", "name": "Russian MFA", "category": "government"},
    {"type": "source", "id": "opcw", "name": "OPCW", "category": "investigation"},
    {"type": "proposition", "id": "novichok-used", "text": "A Novichok agent was used"},
    {"type": "proposition", "id": "gru-responsible", "text": "The GRU carried it out"},
    {"type": "statement", "id": "s1", "source": "uk-gov", "proposition": "novichok-used",
     "stance": "assert", "stated_at": "2018-03-12"},
    {"type": "statement", "id": "s2", "source": "ru-mfa", "proposition": "novichok-used",
     "stance": "deny", "stated_at": "2018-03-13"},
    {"type": "statement", "id": "s3", "source": "opcw", "proposition": "novichok-used",
     "stance": "confirm", "stated_at": "2018-04-12"},
    {"type": "statement", "id": "s4", "source": "uk-gov", "proposition": "gru-responsible",
     "stance": "assert", "stated_at": "2018-09-05"},
]  # fmt: skip


def _salisbury(tmp_path: Path) -> Path:
    data = tmp_path / "salisbury.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in SALISBURY), encoding="utf-8")
    return data


def test_the_demo_of_another_file_follows_its_propositions_and_its_dates(tmp_path: Path) -> None:
    result = run(
        ["--db", sqlite_url(tmp_path / "s.db"), "demo", "--file", str(_salisbury(tmp_path))]
    )

    assert result.exit_code == 0, result.output
    out = _squashed(result.stdout)
    assert "dprk" not in out and "2024-" not in out
    assert "novichok-used: every change" in out  # it changed most often
    points = _squashed(_section(result.stdout, "2. Point-in-time", "3. The audit view"))
    # the first day of the month after each of its last two changes of status
    assert "novichok-used as of 2018-04-01 disputed" in points
    assert "novichok-used as of 2018-05-01 confirmed" in points


def test_the_demo_of_a_file_on_a_ledger_holding_more_tells_the_file_s_story(
    example: Example, tmp_path: Path
) -> None:
    url = example.copy(tmp_path)

    result = run(["--db", url, "demo", "--file", str(_salisbury(tmp_path))])

    assert result.exit_code == 0, result.output
    overview = _squashed(_section(result.stdout, "1. How each", "2. Point-in-time"))
    assert "gru-responsible" in overview and "novichok-used" in overview
    assert "dprk-troops-in-russia" not in overview
