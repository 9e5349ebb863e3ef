"""``believe`` rates its answer (issue 13 item 3): the credibility always, each stance's
Admiralty code with ``--grades``; the JSON keys of before come first, unchanged."""

from __future__ import annotations

import json

from tests.cli.conftest import Example, run


def test_believe_gives_the_credibility_and_with_grades_each_stance_s_code(
    example: Example,
) -> None:
    env = {"LEDGER_DB": example.url}
    plain = run(["believe", "dprk-troops-in-russia", "--as-of", "2024-11-01"], env=env)
    assert plain.exit_code == 0, plain.output
    assert "credibility 4 (doubtful)" in plain.stdout and "rating" not in plain.stdout
    graded = run(["believe", "dprk-troops-in-russia", "--as-of", "2024-11-01", "--grades"], env=env)
    assert graded.exit_code == 0, graded.output
    assert "rating" in graded.stdout and "F4" in graded.stdout


def test_believe_json_appends_the_ratings_after_the_keys_of_before(example: Example) -> None:
    env = {"LEDGER_DB": example.url}
    args = ["believe", "dprk-troops-in-russia", "--as-of", "2025-05-01", "--json"]
    doc = json.loads(run(args, env=env).stdout)
    keys = list(doc)
    assert keys[-4:] == ["credibility", "credibility_label", "grades", "redactions"]
    assert keys.index("corrections") < keys.index("credibility")
    assert (doc["credibility"], doc["credibility_label"], doc["grades"]) == (1, "confirmed", {})
    graded = json.loads(run([*args, "--grades"], env=env).stdout)
    assert graded["grades"]["ru-general-staff"] in "ABCDEF"
