"""``factledger redact``, ``redactions`` and ``db grant-redactor`` (issue 15), on SQLite and
PostgreSQL: the command removes the text, says what it removed, leaves verify and the proofs
sound, and the answers and exports say where and when."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.transparency import offline
from tests.cli.conftest import EXAMPLE, run

STATEMENT = "ua-president-asserts-russia-2024-10-14"
QUOTE = "officers and technical support staff"


@pytest.fixture
def loaded(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    assert run(["--db", ledger_url, "import", str(EXAMPLE)]).exit_code == 0
    made = run(["keygen", "example.org/claims", "-o", "claims.key"])
    Path("claims.vkey").write_text(made.stdout)
    return ledger_url


def test_redact_removes_the_text_and_keeps_verify_and_proofs(loaded: str) -> None:
    note = run(["--db", loaded, "checkpoint", "--sign", "claims.key"]).stdout
    Path("before.note").write_text(note)
    assert QUOTE in run(["--db", loaded, "export"]).stdout

    done = run(["--db", loaded, "redact", STATEMENT, "--reason", "privacy request", "--by", "desk"])

    assert done.exit_code == 0, done.output
    assert STATEMENT in done.stdout and "privacy request" in done.stdout
    verified = run(["--db", loaded, "verify"])
    assert verified.exit_code == 0 and "(1 redacted: checked through their Merkle leaves)" in (
        verified.stdout
    )
    assert json.loads(run(["--db", loaded, "verify", "--json"]).stdout)["redacted"] == 1
    assert run(["--db", loaded, "verify", "--checkpoint", "before.note"]).exit_code == 0
    exported = run(["--db", loaded, "export"]).stdout
    assert QUOTE not in exported and '"redacted": {' in exported
    listed = json.loads(run(["--db", loaded, "redactions", "--json"]).stdout)
    assert [(r["stream_id"], r["by"], r["reason"]) for r in listed] == [
        (f"statement:{STATEMENT}", "desk", "privacy request")
    ]
    assert "removed: quote, note" in run(["--db", loaded, "redactions"]).stdout

    proof = run(["--db", loaded, "prove", STATEMENT, "--checkpoint", "before.note", "--json"])
    assert proof.exit_code == 0, proof.output
    Path("proof.json").write_text(proof.stdout)
    assert QUOTE not in proof.stdout and "payload_digest" in proof.stdout
    checked = run(["verify-proof", "proof.json", "--key", "claims.vkey"])
    assert checked.exit_code == 0, checked.output
    key = offline.VerifierKey.parse(Path("claims.vkey").read_text().strip())
    assert offline.open_checkpoint(note, [key]).size > 0


def test_redact_refuses_a_second_time_and_unknown_ids_without_redacting(loaded: str) -> None:
    first = run(["--db", loaded, "redact", STATEMENT, "--reason", "privacy", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["redacted"][0]["by"]  # the login name by default

    again = run(["--db", loaded, "redact", STATEMENT, "--reason", "privacy"])
    assert again.exit_code == 2 and "already redacted" in again.output
    some = run(["--db", loaded, "redact", "kr-nis", "no-such-record", "--reason", "x"])
    assert some.exit_code == 2 and "no-such-record" in some.output
    assert len(json.loads(run(["--db", loaded, "redactions", "--json"]).stdout)) == 1


def test_no_redactions_says_so(loaded: str) -> None:
    assert run(["--db", loaded, "redactions"]).stdout.strip() == "no redactions"
    assert json.loads(run(["--db", loaded, "redactions", "--json"]).stdout) == []


def test_grant_redactor_is_refused_on_sqlite_with_a_useful_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    assert run(["--db", url, "init"]).exit_code == 0
    refused = run(["--db", url, "db", "grant-redactor", "someone"])
    assert refused.exit_code == 2 and "file-system permissions" in refused.output


def test_believe_and_history_say_where_the_text_was_removed_and_when(loaded: str) -> None:
    prop = "dprk-troops-in-russia"
    assert QUOTE in run(["--db", loaded, "history", prop, "--json"]).stdout
    done = run(["--db", loaded, "redact", STATEMENT, "--reason", "privacy", "--by", "desk"])
    assert done.exit_code == 0, done.output

    history = run(["--db", loaded, "history", prop], env={"COLUMNS": "400"}).stdout
    assert "[redacted]" in history and "text redacted" in history and "by desk" in history
    as_json = run(["--db", loaded, "history", prop, "--json"]).stdout
    assert QUOTE not in as_json
    events = json.loads(as_json)
    marked = [e for e in events if "redacted" in e]
    assert [e["stream_id"] for e in marked] == [f"statement:{STATEMENT}"]
    assert marked[0]["redacted"]["by"] == "desk"

    answer = run(["--db", loaded, "believe", prop, "--as-of", "2024-11-01"]).stdout
    assert "text removed by redaction" in answer and STATEMENT in answer
    as_json = json.loads(run(["--db", loaded, "believe", prop, "--json"]).stdout)
    assert [r["stream_id"] for r in as_json["redactions"]] == [f"statement:{STATEMENT}"]
    other = json.loads(run(["--db", loaded, "believe", "dprk-casualties", "--json"]).stdout)
    assert other["redactions"] == []
