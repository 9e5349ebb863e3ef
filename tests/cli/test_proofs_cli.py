"""``factledger keygen``, ``checkpoint --sign``, ``prove``, ``verify-proof`` and ``verify
--checkpoint NOTE`` (issue 15), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ledger.transparency import offline
from tests.cli.conftest import EXAMPLE, run


@pytest.fixture
def signed(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The example imported into a fresh ledger, a key pair made: the ledger's URL."""
    monkeypatch.chdir(tmp_path)
    assert run(["--db", ledger_url, "import", str(EXAMPLE)]).exit_code == 0
    made = run(["keygen", "example.org/claims", "-o", "claims.key"])
    assert made.exit_code == 0, made.output
    Path("claims.vkey").write_text(made.stdout)
    return ledger_url


def test_keygen_writes_a_private_key_and_prints_the_verifier_key(signed: str) -> None:
    key = Path("claims.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("PRIVATE+KEY+example.org/claims+")
    verifier = offline.VerifierKey.parse(Path("claims.vkey").read_text().strip())
    assert verifier.name == "example.org/claims"

    again = run(["keygen", "example.org/claims", "-o", "claims.key"])

    assert again.exit_code == 2 and "never overwritten" in again.output
    assert offline.VerifierKey.parse(Path("claims.vkey").read_text().strip()) == verifier


def test_checkpoint_sign_prints_a_signed_note_and_the_plain_line_stays(signed: str) -> None:
    plain = run(["--db", signed, "checkpoint"]).stdout.strip()
    note = run(["--db", signed, "checkpoint", "--sign", "claims.key"]).stdout
    as_json = json.loads(
        run(["--db", signed, "checkpoint", "--sign", "claims.key", "--json"]).stdout
    )

    key = offline.VerifierKey.parse(Path("claims.vkey").read_text().strip())
    cp = offline.open_checkpoint(note, [key])
    assert (cp.origin, cp.size) == ("example.org/claims", int(plain.partition(":")[0]))
    assert cp.extensions == (f"factledger-chain {plain}",)
    assert as_json["note"] == note and as_json["checkpoint"] == plain
    assert as_json["tree_size"] == cp.size


def test_a_proof_made_by_prove_verifies_offline_and_a_forged_one_fails(signed: str) -> None:
    note = run(["--db", signed, "checkpoint", "--sign", "claims.key"]).stdout
    Path("checkpoint.note").write_text(note)

    made = run(["--db", signed, "prove", "kr-nis", "--checkpoint", "checkpoint.note", "--json"])
    said = run(["--db", signed, "prove", "kr-nis", "--checkpoint", note, "-o", "proof.json"])

    assert made.exit_code == 0, made.output
    proof = json.loads(made.stdout)
    assert {"index", "tree_size", "leaf", "path", "checkpoint", "event"} <= set(proof)
    assert proof["checkpoint"] == note and proof["event"]["stream_id"] == "source:kr-nis"
    assert said.stdout.startswith("event 1 (source_registered source:kr-nis) is leaf 0 of")
    assert json.loads(Path("proof.json").read_text()) == proof

    ok = run(["verify-proof", "proof.json", "--key", "claims.vkey"])
    assert ok.exit_code == 0 and ok.stdout.startswith("ok: source_registered source:kr-nis")

    proof["event"]["payload"] = proof["event"]["payload"].replace("South Korea", "North Korea")
    forged = run(["verify-proof", json.dumps(proof), "--key", "claims.vkey"])
    assert forged.exit_code == 1
    assert forged.stdout.strip() == "FAILED: the leaf does not hold the event shown"

    other = run(["keygen", "example.org/claims", "-o", "other.key"]).stdout.strip()
    stranger = run(["verify-proof", "proof.json", "--key", other, "--json"])
    assert stranger.exit_code == 1
    assert "no signature by a trusted key" in json.loads(stranger.stdout)["problem"]


def test_prove_consistency_between_two_signed_checkpoints(signed: str, tmp_path: Path) -> None:
    old = run(["--db", signed, "checkpoint", "--sign", "claims.key"]).stdout
    extra = tmp_path / "one.jsonl"
    extra.write_text('{"type": "source", "id": "extra", "name": "Extra", "category": "media"}\n')
    assert run(["--db", signed, "import", str(extra)]).exit_code == 0
    new = run(["--db", signed, "checkpoint", "--sign", "claims.key"]).stdout

    made = run(["--db", signed, "prove", "--consistency", old, new, "--json"])

    assert made.exit_code == 0, made.output
    proof = json.loads(made.stdout)
    assert proof["new_size"] == proof["old_size"] + 1
    checked = run(["verify-proof", made.stdout, "--key", "claims.vkey"])
    assert checked.exit_code == 0
    assert checked.stdout.strip() == (
        f"ok: example.org/claims at {proof['new_size']} events extends its checkpoint of "
        f"{proof['old_size']}"
    )
    swapped = run(["verify-proof", json.dumps(proof | {"old": new}), "--key", "claims.vkey"])
    assert swapped.exit_code == 1


def test_verify_checkpoint_takes_a_signed_note_or_the_old_line(signed: str) -> None:
    note = run(["--db", signed, "checkpoint", "--sign", "claims.key"]).stdout
    Path("checkpoint.note").write_text(note)
    plain = run(["--db", signed, "checkpoint"]).stdout.strip()

    signed_ok = run(
        ["--db", signed, "verify", "--checkpoint", "checkpoint.note", "--key", "claims.vkey"]
    )
    plain_ok = run(["--db", signed, "verify", "--checkpoint", plain])
    unchecked = run(["--db", signed, "verify", "--checkpoint", note, "--json"])

    assert signed_ok.exit_code == 0 and signed_ok.stdout.startswith("ok: ")
    assert plain_ok.exit_code == 0 and plain_ok.stdout == signed_ok.stdout
    assert json.loads(unchecked.stdout)["signature_checked"] is False
    other = run(["keygen", "example.org/claims", "-o", "other.key"]).stdout.strip()
    refused = run(["--db", signed, "verify", "--checkpoint", note, "--key", other])
    assert refused.exit_code == 2 and "no signature by a trusted key" in refused.output
