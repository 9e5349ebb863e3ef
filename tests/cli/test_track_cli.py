"""The command line of issue 13: ``track``, ``policy``, and ``--policy FILE`` (what-if) on
``believe``, ``timeline``, ``diff`` and ``grid``; every answer names the policy that decided."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import EXAMPLE, Example, run

SKEPTIC = EXAMPLE.with_name("policy-skeptic.json")


def _json(args: list[str], url: str) -> object:
    result = run([*args, "--json"], env={"LEDGER_DB": url})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_track_lists_every_source_most_reliable_first(example: Example) -> None:
    doc = _json(["track", "--as-of", "2025-05-01"], example.url)
    assert isinstance(doc, list)
    assert {"source", "right", "wrong", "open", "lead_days", "grade"} <= doc[0].keys()
    assert doc[0]["source"] == "ua-president" and doc[0]["grade"] == "B"
    nis = next(r for r in doc if r["source"] == "kr-nis")
    assert (nis["right"], nis["wrong"], nis["lead_days"], nis["grade"]) == (1, 0, 190.0, "F")
    text = run(["track", "--as-of", "2025-05-01"], env={"LEDGER_DB": example.url}).stdout
    assert "by policy default-v1" in text and "kr-nis" in text


def test_track_source_shows_the_record_proposition_by_proposition(example: Example) -> None:
    doc = _json(["track", "kr-nis", "--as-of", "2025-05-01"], example.url)
    assert isinstance(doc, dict)
    (call,) = doc["calls"]
    assert (call["proposition"], call["result"], call["lead_days"]) == (
        "dprk-troops-in-russia",
        "right",
        190.0,
    )
    early = _json(["track", "kr-nis", "--as-of", "2025-01-01"], example.url)
    assert isinstance(early, dict) and (early["open"], early["right"]) == (1, 0)
    missing = run(["track", "nobody"], env={"LEDGER_DB": example.url})
    assert missing.exit_code == 2 and "no source 'nobody'" in missing.stderr


def test_a_what_if_policy_file_answers_and_names_itself(example: Example) -> None:
    url = example.url
    args = ["believe", "dprk-troops-in-russia", "--as-of", "2025-05-01"]
    assert _json(args, url)["policy"] == "default-v1"  # type: ignore[index]
    what_if = _json([*args, "--policy", str(SKEPTIC)], url)
    assert isinstance(what_if, dict)
    assert (what_if["status"], what_if["policy"]) == ("disputed", "skeptic-v1")
    timeline = _json(["timeline", "dprk-troops-in-russia", "--policy", str(SKEPTIC)], url)
    assert isinstance(timeline, list)
    assert {t["policy"] for t in timeline} == {"skeptic-v1"}
    assert timeline[-1]["status"] == "disputed"
    grid = _json(
        ["grid", "--from", "2025-05-01", "--to", "2025-05-01", "--policy", str(SKEPTIC)], url
    )
    assert isinstance(grid, list) and {c["policy"] for c in grid} == {"skeptic-v1"}
    diff = _json(["diff", "2024-11-01", "2025-05-01", "--policy", str(SKEPTIC)], url)
    assert isinstance(diff, list) and {c["policy"] for c in diff} == {"skeptic-v1"}
    track = _json(["track", "kr-nis", "--as-of", "2025-05-01", "--policy", str(SKEPTIC)], url)
    assert isinstance(track, dict) and (track["open"], track["right"]) == (1, 0)
    # nothing was recorded
    assert _json(["policy"], url)["history"] == []  # type: ignore[index]


def test_a_recorded_policy_is_in_force_from_its_recording_on(
    example: Example, tmp_path: Path
) -> None:
    url = example.copy(tmp_path)
    before = _json(["checkpoint"], url)
    assert isinstance(before, dict)
    assert run(["import", str(SKEPTIC)], env={"LEDGER_DB": url}).exit_code == 0
    doc = _json(["policy"], url)
    assert isinstance(doc, dict)
    assert doc["policy"] == "skeptic-v1" and doc["parameters"]["parties_decide"] is False
    assert doc["record"]["id"] == "skeptic-v1" and len(doc["history"]) == 1
    args = ["believe", "dprk-troops-in-russia", "--as-of", "2025-05-01"]
    assert _json(args, url)["status"] == "disputed"  # type: ignore[index]
    then = _json([*args, "--known-at", before["recorded_at"]], url)
    assert isinstance(then, dict) and (then["status"], then["policy"]) == (
        "confirmed",
        "default-v1",
    )
    earlier = _json(["policy", "--known-at", before["recorded_at"]], url)
    assert isinstance(earlier, dict) and earlier["record"] is None


def test_a_bad_policy_file_is_a_usage_error(tmp_path: Path, example: Example) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "policy", "id": "x", "authoritative": ["nobody"]}', encoding="utf-8")
    result = run(
        ["believe", "dprk-troops-in-russia", "--policy", str(bad)], env={"LEDGER_DB": example.url}
    )
    assert result.exit_code == 2 and "authoritative[0]" in result.output
    none = tmp_path / "none.jsonl"
    source = '{"type": "source", "id": "a", "name": "A", "category": "media"}\n'
    none.write_text(source + source.replace('"a"', '"b"'), encoding="utf-8")
    result = run(
        ["believe", "dprk-troops-in-russia", "--policy", str(none)], env={"LEDGER_DB": example.url}
    )
    assert result.exit_code == 2 and "holds no policy record" in result.output
