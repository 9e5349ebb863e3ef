"""The ``--json`` forms live beside their types (``to_dict()``); the CLI prints exactly them, with
the keys in the documented order."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result

from ledger import Ledger
from tests.cli.conftest import Example, run

RUSSIA = "dprk-troops-in-russia"


def printed(result: Result) -> Any:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_history_json_is_each_recorded_event_s_to_dict(example: Example) -> None:
    doc = printed(run(["--db", example.url, "history", RUSSIA, "--json"]))

    with Ledger.open(example.url) as lg:
        events = lg.history(RUSSIA)
    assert doc == [r.to_dict() for r in events]
    assert list(doc[1]) == [
        "position", "recorded_at", "stated_at", "type", "event_id", "stream_id", "hash", "event",
    ]  # fmt: skip
    assert doc[0]["stated_at"] is None  # the proposition's definition was not "stated"
    assert doc[1]["recorded_at"].endswith("Z")


def test_verify_json_is_the_report_s_to_dict(example: Example) -> None:
    doc = printed(run(["--db", example.url, "verify", "--json"]))

    with Ledger.open(example.url) as lg:
        report = lg.verify()
    assert doc == report.to_dict()
    assert list(doc) == ["ok", "checked", "head", "position", "problem", "redacted"]
    assert list(doc["head"]) == ["position", "hash", "recorded_at"]
    assert doc["ok"] is True and doc["position"] is None and doc["problem"] is None
    assert doc["redacted"] == 0


def test_replay_json_is_the_audit_s_to_dict(example: Example) -> None:
    result = run(["--db", example.url, "replay", "--known-at", "2100-01-01", "--json"])
    doc = printed(result)

    with Ledger.open(example.url) as lg:
        audit = lg.replay("2100-01-01")
        assert doc == audit.to_dict()
        assert doc["beliefs"] == [b.to_dict() for b in audit.beliefs]
    # the beliefs are written as they are compared, so the summary they settle comes after them
    assert list(doc) == [
        "known_at", "position", "hash", "verification", "beliefs", "mismatches", "ok",
    ]  # fmt: skip
    assert doc["verification"] == audit.verification.to_dict()
    # written piece by piece, the text is still what json.dumps makes of the whole document
    assert result.stdout == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_checkpoint_json_is_the_head_s_to_dict_and_the_line(example: Example) -> None:
    doc = printed(run(["--db", example.url, "checkpoint", "--json"]))

    with Ledger.open(example.url) as lg:
        head = lg.head()
    assert doc == head.to_dict() | {"checkpoint": f"{head.position}:{head.hash}"}


def test_propositions_json_is_the_definition_with_status_and_explanation(
    example: Example,
) -> None:
    doc = printed(run(["--db", example.url, "propositions", "--json"]))

    with Ledger.open(example.url) as lg:
        russia = lg.believed(RUSSIA)
    row = next(p for p in doc if p["proposition_id"] == RUSSIA)
    assert list(row)[-2:] == ["status", "explanation"]
    assert (row["status"], row["explanation"]) == (russia.status.value, russia.explanation)
