"""The ``factledger`` command on the example dataset: every command, the --json contract,
exit codes and error messages. SQLite only (see test_backends.py for PostgreSQL)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result

from ledger import InvalidRecord, Ledger, StatementMade
from ledger.cli import cli
from tests.cli.conftest import EXAMPLE, Example, run, sqlite_url

RUSSIA = "dprk-troops-in-russia"
NIS_STATEMENT = "kr-nis-asserts-russia-2024-10-18"


def as_json(result: Result) -> Any:
    """The one JSON document a --json command printed, and nothing else."""
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def position_of(url: str, statement_id: str) -> int:
    with Ledger.open(url) as lg:
        for r in lg.read():
            if isinstance(r.event, StatementMade) and r.event.statement_id == statement_id:
                return r.position
    raise AssertionError(f"{statement_id} is not in the ledger")


# -- help and documentation --------------------------------------------------------------------


COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_s_help_ends_with_an_example(command: str | None) -> None:
    result = run([command, "--help"] if command else ["--help"])

    assert result.exit_code == 0
    lines = result.stdout.rstrip().splitlines()
    assert lines[-2].strip() == "Example:"
    assert lines[-1].strip().startswith("factledger ")
    if command:
        assert lines[-1].split()[1:2] == [command] or f" {command}" in lines[-1]


def test_the_spec_s_commands_all_exist() -> None:
    expected = {
        "init", "import", "export", "believe", "timeline", "history", "diff", "estimates",
        "sources", "propositions", "verify", "checkpoint", "replay", "rebuild", "demo", "db",
        "grid", "chart", "report", "keygen", "prove", "verify-proof", "track", "policy",
        "source", "redact", "redactions",
    }  # fmt: skip
    assert set(COMMANDS) == expected
    db = cli.commands["db"]
    assert isinstance(db, click.Group)
    assert set(db.commands) == {"grant-writer", "grant-reader", "grant-redactor"}


@pytest.mark.parametrize("command", ["grant-writer", "grant-reader", "grant-redactor"])
def test_the_db_subcommands_help_ends_with_an_example(command: str) -> None:
    lines = run(["db", command, "--help"]).stdout.rstrip().splitlines()
    assert lines[-2].strip() == "Example:"
    assert f"db {command}" in lines[-1]


# -- believe: the --json contract --------------------------------------------------------------


CONTRACT_KEYS = {
    "proposition", "as_of", "known_at", "status", "supporters", "deniers", "confirmers",
    "refuters", "estimates", "explanation",
}  # fmt: skip


def test_believe_json_as_of_may_2025_is_confirmed_by_russia_and_north_korea(
    example: Example,
) -> None:
    doc = as_json(run(["--db", example.url, "believe", RUSSIA, "--as-of", "2025-05-01", "--json"]))

    assert doc.keys() >= CONTRACT_KEYS
    assert doc["proposition"] == RUSSIA
    assert doc["status"] == "confirmed"
    assert doc["as_of"] == "2025-05-01T23:59:59.999999Z"
    assert {c["source"] for c in doc["confirmers"]} == {
        "ru-general-staff", "kcna", "kp-kim-jong-un",
    }  # fmt: skip
    assert "ru-general-staff" in doc["explanation"]


def test_believe_json_as_of_november_2024_is_disputed_with_three_estimates(
    example: Example,
) -> None:
    doc = as_json(run(["--db", example.url, "believe", RUSSIA, "--as-of", "2024-11-01", "--json"]))

    assert doc["status"] == "disputed"
    assert {d["source"] for d in doc["deniers"]} == {"kp-un-mission", "ru-gov"}
    figures = {e["source"]: e["value"] for e in doc["estimates"]["by_source"]}
    assert figures == {"kr-nis": 1500, "us-nsc": 3000, "us-intelligence": 8000}
    [summary] = doc["estimates"]["summary"]
    assert (summary["min"], summary["median"], summary["max"]) == (1500, 3000, 8000)
    assert doc["explanation"].startswith("disputed:")


def test_believe_via_fold_gives_the_same_answer_as_the_projection(example: Example) -> None:
    args = ["--db", example.url, "believe", RUSSIA, "--as-of", "2024-12-01", "--json"]
    args += ["--known-at", "2100-01-01"]
    projection = as_json(run(args))
    fold = as_json(run([*args, "--via", "fold"]))

    assert fold == projection


def test_believe_for_people_names_the_status_the_sources_and_the_estimates(
    example: Example,
) -> None:
    result = run(["--db", example.url, "believe", RUSSIA, "--as-of", "2024-11-01"])

    assert result.exit_code == 0
    out = result.stdout
    assert "disputed" in out
    assert "as of 2024-11-01" in out
    for fragment in ("kp-un-mission", "1,500 troops", "8,000 troops", "median 3,000"):
        assert fragment in out
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal


def test_the_db_option_works_after_the_command_and_from_the_environment(
    example: Example,
) -> None:
    after = run(["believe", RUSSIA, "--as-of", "2024-11-01", "--json", "--db", example.url])
    env = run(
        ["believe", RUSSIA, "--as-of", "2024-11-01", "--json"], env={"LEDGER_DB": example.url}
    )

    assert as_json(after)["status"] == as_json(env)["status"] == "disputed"


# -- the audit view from the command line ------------------------------------------------------


def _times_around_the_correction(url: str) -> tuple[str, str]:
    with Ledger.open(url) as lg:
        events = list(lg.read())
    fix = next(i for i, r in enumerate(events) if r.type == "correction_made")
    return events[fix - 1].recorded_at.isoformat(), events[fix].recorded_at.isoformat()


def test_known_at_before_the_correction_gives_the_answer_given_then(example: Example) -> None:
    before, after = _times_around_the_correction(example.url)
    args = ["--db", example.url, "believe", RUSSIA, "--as-of", "2024-11-05", "--json"]

    then = as_json(run([*args, "--known-at", before]))
    now = as_json(run([*args, "--known-at", after]))

    assert "ua-president" not in {e["source"] for e in then["estimates"]["by_source"]}
    assert {"source": "ua-president", "value": 11000} in [
        {"source": e["source"], "value": e["value"]} for e in now["estimates"]["by_source"]
    ]


def test_replay_shows_the_log_prefix_known_at_a_time_and_that_it_verifies(
    example: Example,
) -> None:
    before, _ = _times_around_the_correction(example.url)

    doc = as_json(run(["--db", example.url, "replay", "--known-at", before, "--json"]))

    assert doc["ok"] is True
    assert doc["position"] == 84
    assert doc["verification"]["ok"] is True
    assert doc["mismatches"] == []
    statuses = {b["proposition"]: b["status"] for b in doc["beliefs"]}
    assert len(statuses) == 8
    assert statuses[RUSSIA] == "confirmed"


def test_replay_for_people_says_the_chain_verified(example: Example) -> None:
    result = run(["--db", example.url, "replay", "--known-at", "2100-01-01"])

    assert result.exit_code == 0
    assert "positions 1..85" in result.stdout
    assert "ok: 85 events verified" in result.stdout
    assert "agrees with the reference fold: yes" in result.stdout


def test_replay_needs_known_at(example: Example) -> None:
    result = run(["--db", example.url, "replay"])

    assert result.exit_code == 2
    assert "Missing option '--known-at'" in result.stderr


# -- timeline, history, diff, estimates --------------------------------------------------------


def test_timeline_json_lists_the_status_transitions_and_their_causes(example: Example) -> None:
    doc = as_json(run(["--db", example.url, "timeline", RUSSIA, "--json"]))

    assert [(t["from"], t["status"]) for t in doc] == [
        ("2024-10-14", "claimed"),
        ("2024-10-21", "disputed"),
        ("2025-04-26", "confirmed"),
    ]
    for t in doc:
        assert {"from", "status", "because"} <= t.keys()
    assert doc[1]["because"][0]["source"] == "kp-un-mission"
    assert doc[2]["because"][0]["source"] == "ru-general-staff"


def test_timeline_all_shows_every_change_with_the_growing_estimates(example: Example) -> None:
    doc = as_json(run(["--db", example.url, "timeline", RUSSIA, "--all", "--json"]))

    assert len(doc) > 3
    figures = [{(e["source"], e["value"]) for e in t["estimates"]} for t in doc]
    for new in [
        ("kr-nis", 1500),
        ("us-nsc", 3000),
        ("us-intelligence", 8000),
        ("ua-president", 11000),
    ]:
        assert any(new in f for f in figures)
    eleven = next(
        t
        for t in doc
        if ("ua-president", 11000) in {(e["source"], e["value"]) for e in t["estimates"]}
    )
    assert eleven["from"] == "2024-11-04"  # the corrected date, not article 001's 2024-11-07


def test_timeline_for_people(example: Example) -> None:
    result = run(["--db", example.url, "timeline", RUSSIA, "--all"])

    assert result.exit_code == 0
    assert "kr-nis asserts 1,500 troops" in result.stdout
    assert "ru-general-staff confirms" in result.stdout


def test_history_json_gives_both_times_of_every_event_including_the_correction(
    example: Example,
) -> None:
    doc = as_json(run(["--db", example.url, "history", RUSSIA, "--json"]))

    positions = [e["position"] for e in doc]
    assert positions == sorted(positions)
    assert doc[0]["type"] == "proposition_defined"
    eleven = next(
        e for e in doc if e["event"].get("statement_id") == "ua-president-asserts-russia-11000"
    )
    assert eleven["stated_at"].startswith("2024-11-07")  # as first recorded
    assert eleven["event"]["value"] == 11000
    fix = doc[-1]
    assert fix["type"] == "correction_made"
    assert fix["event"]["changes"] == {"stated_at": "2024-11-04T00:00:00.000000Z"}
    assert fix["recorded_at"] > eleven["recorded_at"]


def test_history_for_people_shows_positions_times_stances_figures_and_quotes(
    example: Example,
) -> None:
    result = run(["--db", example.url, "history", RUSSIA])

    assert result.exit_code == 0
    out = result.stdout
    for fragment in ("recorded at", "stated", "kr-nis asserts 1,500 troops", "approximately 1,500",
                     "fix-zelenskyy-11000-date", "stated_at = 2024-11-04"):  # fmt: skip
        assert fragment in out


def test_history_known_before_the_correction_does_not_have_it(example: Example) -> None:
    before, _ = _times_around_the_correction(example.url)

    doc = as_json(run(["--db", example.url, "history", RUSSIA, "--known-at", before, "--json"]))

    assert "correction_made" not in {e["type"] for e in doc}


def test_diff_json_names_what_changed_between_two_dates(example: Example) -> None:
    doc = as_json(run(["--db", example.url, "diff", "2024-11-01", "2025-05-01", "--json"]))

    changes = {c["proposition"]: (c["before"], c["after"]) for c in doc}
    assert changes[RUSSIA] == ("disputed", "confirmed")
    assert changes["dprk-soldiers-captured"] == ("unknown", "confirmed")
    assert "dprk-munitions-to-russia" not in changes


def test_diff_for_people_and_with_nothing_changed(example: Example) -> None:
    changed = run(["--db", example.url, "diff", "2024-11-01", "2025-05-01"])
    same = run(["--db", example.url, "diff", "2025-05-01", "2025-06-01"])

    assert changed.exit_code == same.exit_code == 0
    assert RUSSIA in changed.stdout
    assert "no proposition changed" in same.stdout


def test_estimates_json_gives_each_source_s_latest_figure_and_the_spread(
    example: Example,
) -> None:
    doc = as_json(
        run(["--db", example.url, "estimates", RUSSIA, "--as-of", "2025-05-01", "--json"])
    )

    assert doc["proposition"] == RUSSIA
    figures = {e["source"]: (e["value"], e["unit"]) for e in doc["by_source"]}
    assert figures["ua-president"] == (11000, "troops")
    assert figures["kr-gov"] == (10000, "troops")  # its latest figure replaces the earlier one
    [summary] = doc["summary"]
    assert summary == {"unit": "troops", "count": 5, "min": 1500, "max": 11000, "median": 8000}


def test_estimates_for_people(example: Example) -> None:
    early = run(["--db", example.url, "estimates", RUSSIA, "--as-of", "2024-10-15"])
    later = run(["--db", example.url, "estimates", RUSSIA, "--as-of", "2024-11-30"])

    assert "no source has given a quantity" in early.stdout
    assert "11,000 troops" in later.stdout
    assert "1,500 to 11,000, median 5,500 (4 sources)" in later.stdout


# -- sources, propositions ---------------------------------------------------------------------


def test_sources_lists_every_registered_source(example: Example) -> None:
    doc = as_json(run(["--db", example.url, "sources", "--json"]))
    table = run(["--db", example.url, "sources"])

    assert len(doc) == 25
    nis = next(s for s in doc if s["source_id"] == "kr-nis")
    assert (nis["category"], nis["reliability"]) == ("intelligence", "B")
    assert "analyst-viktor-litovkin" in table.stdout


def test_propositions_lists_each_with_its_current_status(example: Example) -> None:
    doc = as_json(run(["--db", example.url, "propositions", "--json"]))
    early = as_json(run(["--db", example.url, "propositions", "--as-of", "2024-11-01", "--json"]))
    table = run(["--db", example.url, "propositions"])

    assert len(doc) == 8
    now = {p["proposition_id"]: p["status"] for p in doc}
    assert now[RUSSIA] == "confirmed"
    assert now["dprk-munitions-to-russia"] == "disputed"
    assert {p["proposition_id"]: p["status"] for p in early}[RUSSIA] == "disputed"
    assert "North Korean military personnel are deployed in Russia" in table.stdout


# -- integrity: verify, checkpoint, rebuild ----------------------------------------------------


def test_verify_says_ok_and_exits_0_on_an_intact_log(example: Example) -> None:
    result = run(["--db", example.url, "verify"])

    assert result.exit_code == 0
    assert result.stdout.startswith("ok: 85 events verified")


def test_verify_can_show_a_progress_bar_on_stderr(example: Example) -> None:
    result = run(["--db", example.url, "verify", "--progress"])

    assert result.exit_code == 0
    assert "verifying" in result.stderr and "170/170" in result.stderr  # chain, then fold
    assert result.stdout.startswith("ok: 85 events verified")


def test_checkpoint_prints_position_and_hash_that_verify_accepts(example: Example) -> None:
    text = run(["--db", example.url, "checkpoint"]).stdout.strip()
    doc = as_json(run(["--db", example.url, "checkpoint", "--json"]))

    assert re.fullmatch(r"85:[0-9a-f]{64}", text)
    assert doc["checkpoint"] == text
    assert (doc["position"], doc["hash"]) == (85, text.split(":")[1])
    assert run(["--db", example.url, "verify", "--checkpoint", text]).exit_code == 0


def test_verify_with_a_checkpoint_the_log_does_not_extend_exits_1(example: Example) -> None:
    wrong_hash = run(["--db", example.url, "verify", "--checkpoint", "85:" + "0" * 64])
    too_long = run(["--db", example.url, "verify", "--checkpoint", "90:" + "0" * 64, "--json"])

    assert wrong_hash.exit_code == 1
    assert "TAMPERED at position 85" in wrong_hash.stdout
    assert too_long.exit_code == 1
    doc = json.loads(too_long.stdout)
    assert doc["ok"] is False
    assert "tail is missing" in doc["problem"]


@pytest.mark.parametrize("bad", ["85", "x:abc", "85:" + "g" * 64, "85:abc"])
def test_a_malformed_checkpoint_is_a_usage_error(example: Example, bad: str) -> None:
    result = run(["--db", example.url, "verify", "--checkpoint", bad])

    assert result.exit_code == 2
    assert "POSITION:HASH" in result.stderr


def test_verify_after_tampering_exits_1_and_names_the_first_bad_position(
    example: Example, tmp_path: Path
) -> None:
    url = example.copy(tmp_path)
    position = position_of(url, NIS_STATEMENT)
    con = sqlite3.connect(tmp_path / "copy.db")
    con.execute("DROP TRIGGER events_no_update")
    con.execute(
        "UPDATE events SET payload = replace(payload, '1500', '15000') WHERE position = ?",
        (position,),
    )
    con.commit()
    con.close()

    result = run(["--db", url, "verify"])
    doc = json.loads(run(["--db", url, "verify", "--json"]).stdout)

    assert result.exit_code == 1
    assert result.stdout.strip() == (
        f"TAMPERED at position {position}: the stored hash does not match the event's "
        "content: the row was edited"
    )
    assert (doc["ok"], doc["position"], doc["checked"]) == (False, position, position - 1)


def test_replay_after_tampering_exits_1(example: Example, tmp_path: Path) -> None:
    url = example.copy(tmp_path)
    con = sqlite3.connect(tmp_path / "copy.db")
    con.execute("DROP TRIGGER events_no_update")
    con.execute("UPDATE events SET type = type WHERE position = 1")  # harmless: still ok
    con.execute("UPDATE events SET prev_hash = hash WHERE position = 2")
    con.commit()
    con.close()

    result = run(["--db", url, "replay", "--known-at", "2100-01-01"])

    assert result.exit_code == 1
    assert "TAMPERED at position 2" in result.stdout


def test_rebuild_recomputes_the_projection_and_answers_stay_the_same(
    example: Example, tmp_path: Path
) -> None:
    url = example.copy(tmp_path)
    before = as_json(run(["--db", url, "timeline", RUSSIA, "--all", "--json"]))

    result = run(["--db", url, "rebuild"])

    assert result.exit_code == 0
    assert result.stdout.strip() == "rebuilt the belief projection from 85 events"
    assert as_json(run(["--db", url, "timeline", RUSSIA, "--all", "--json"])) == before


def test_rebuild_online_shows_its_progress_and_says_how_many_events_in_json(
    example: Example, tmp_path: Path
) -> None:
    url = example.copy(tmp_path)
    before = as_json(run(["--db", url, "timeline", RUSSIA, "--all", "--json"]))

    result = run(["--db", url, "rebuild", "--online", "--progress", "--json"])

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"events": 85}  # the bar goes to stderr
    assert "rebuilding" in result.stderr and "85/85" in result.stderr
    assert as_json(run(["--db", url, "timeline", RUSSIA, "--all", "--json"])) == before


# -- init, import, export ----------------------------------------------------------------------


def test_init_creates_an_empty_ledger_and_is_idempotent(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "new.db")

    first = run(["--db", url, "init"])
    again = run(["--db", url, "init"])

    assert first.exit_code == again.exit_code == 0
    assert (tmp_path / "new.db").exists()
    assert "0 events" in again.stdout
    assert run(["--db", url, "verify"]).stdout.startswith("ok: 0 events verified")


def test_import_prints_the_report_and_a_second_import_appends_nothing(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "l.db")

    first = run(["--db", url, "import", str(EXAMPLE)])
    again = run(["--db", url, "import", str(EXAMPLE), "--json"])

    assert first.exit_code == 0, first.output
    assert "imported 85 records" in first.stdout
    assert "85 appended" in first.stdout
    report = as_json(again)
    assert (report["records"], report["appended"], report["skipped"]) == (85, 0, 85)
    assert report["head_position"] == 85
    assert set(report) == {
        "source_name", "lines", "records", "appended", "skipped", "head_position", "head_hash",
    }  # fmt: skip


def test_import_in_chunks_ends_with_the_same_ledger_as_one_batch(tmp_path: Path) -> None:
    whole, chunked = sqlite_url(tmp_path / "whole.db"), sqlite_url(tmp_path / "chunked.db")
    run(["--db", whole, "import", str(EXAMPLE)])
    result = run(["--db", chunked, "import", str(EXAMPLE), "--chunk-size", "10", "--json"])
    assert result.exit_code == 0, result.output
    heads = [as_json(run(["--db", url, "checkpoint", "--json"])) for url in (whole, chunked)]
    assert heads[0]["position"] == heads[1]["position"] == 85
    assert run(["--db", chunked, "import", str(EXAMPLE), "--chunk-size", "0"]).exit_code == 2


def transactions(url: str) -> int:
    """How many transactions wrote the ledger: each has its own recorded_at."""
    with Ledger.open(url, create=False) as lg:
        return len({e.recorded_at for e in lg.read()})


def test_a_file_over_the_auto_chunk_size_goes_in_chunks_unless_atomic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger.jsonl.importer.AUTO_CHUNK", 40)  # the example has 85 records
    chunked, atomic = sqlite_url(tmp_path / "chunked.db"), sqlite_url(tmp_path / "atomic.db")

    assert run(["--db", chunked, "import", str(EXAMPLE)]).exit_code == 0
    assert run(["--db", atomic, "import", str(EXAMPLE), "--atomic"]).exit_code == 0

    assert transactions(chunked) == 3  # 40 + 40 + 5
    assert transactions(atomic) == 1
    both = run(["--db", atomic, "import", str(EXAMPLE), "--atomic", "--chunk-size", "5"])
    assert both.exit_code == 2
    assert "exclude each other" in both.output


def test_the_python_api_refuses_atomic_with_a_chunk_size_too(tmp_path: Path) -> None:
    with Ledger.open(sqlite_url(tmp_path / "l.db")) as lg:
        with pytest.raises(InvalidRecord, match="not both"):
            lg.import_jsonl(EXAMPLE, atomic=True, chunk_size=5)
        assert lg.head().position == 0


def test_import_reads_stdin_when_the_file_is_a_dash(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "l.db")

    result = run(["--db", url, "import", "-"], input=EXAMPLE.read_text(encoding="utf-8"))

    assert result.exit_code == 0, result.output
    assert "imported 85 records from <stdin>" in result.stdout


def test_import_can_show_a_progress_bar_on_stderr(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "l.db")

    result = run(["--db", url, "import", str(EXAMPLE), "--progress"])

    assert result.exit_code == 0
    assert "importing" in result.stderr
    assert "imported 85 records" in result.stdout


def test_a_bad_import_file_is_one_line_naming_file_line_and_field(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "l.db")
    bad = tmp_path / "bad.jsonl"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()[:3]
    lines.append('{"type": "source", "id": "x", "name": "X", "category": "wizard"}')
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run(["--db", url, "import", str(bad)])

    assert_one_line_error(result, "bad.jsonl:4", "category", "nothing was imported")
    assert run(["--db", url, "checkpoint", "--json"]).exit_code == 0
    assert as_json(run(["--db", url, "checkpoint", "--json"]))["position"] == 0


def test_importing_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["--db", sqlite_url(tmp_path / "l.db"), "import", str(tmp_path / "nope.jsonl")])

    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_export_jsonl_round_trips_through_import(example: Example, tmp_path: Path) -> None:
    exported = run(["--db", example.url, "export"])
    url = sqlite_url(tmp_path / "again.db")
    imported = run(["--db", url, "import", "-", "--json"], input=exported.stdout)

    assert exported.exit_code == 0
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(records) == 85
    assert records[-1]["type"] == "correction"
    assert as_json(imported)["appended"] == 85
    args = ["believe", RUSSIA, "--as-of", "2024-11-05", "--json"]
    original = as_json(run(["--db", example.url, *args]))
    copy = as_json(run(["--db", url, *args]))
    assert copy["estimates"] == original["estimates"]
    assert copy["status"] == original["status"]


def test_export_to_a_csv_file_infers_the_format(example: Example, tmp_path: Path) -> None:
    target = tmp_path / "statements.csv"

    result = run(["--db", example.url, "export", "--output", str(target)])

    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"to {target}" in result.stderr
    text = target.read_text(encoding="utf-8")
    assert "ua-president-asserts-russia-11000" in text
    assert not text.lstrip().startswith("{")
    assert not list(tmp_path.glob(".statements.csv.*"))  # no temporary file left behind


def test_export_to_a_directory_that_does_not_exist_is_one_line_and_exit_2(
    example: Example, tmp_path: Path
) -> None:
    target = tmp_path / "no" / "x.csv"
    result = run(["--db", example.url, "export", "--output", str(target)])

    assert_one_line_error(result, f"cannot write {target}", f"directory {target.parent} does not")
    assert ".tmp" not in result.stderr  # never the name of the temporary file


def test_export_known_at_before_the_correction_leaves_it_out(example: Example) -> None:
    before, _ = _times_around_the_correction(example.url)

    result = run(["--db", example.url, "export", "--format", "jsonl", "--known-at", before])

    assert result.exit_code == 0
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert len(types) == 84
    assert "correction" not in types


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["believe", "no-such-thing"],
        ["believe", "no-such-thing", "--json"],
        ["timeline", "no-such-thing"],
        ["history", "no-such-thing"],
        ["estimates", "no-such-thing"],
    ],
)
def test_an_unknown_proposition_is_one_line_on_stderr_and_exit_2(
    example: Example, command: list[str]
) -> None:
    assert_one_line_error(run(["--db", example.url, *command]), "no-such-thing")


@pytest.mark.parametrize("command", [["believe", RUSSIA], ["verify"], ["sources", "--json"]])
def test_a_read_command_on_a_missing_database_is_an_error_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "typo.db"
    assert_one_line_error(run(["--db", sqlite_url(missing), *command]), "no ledger at")
    assert not missing.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--as-of", "2024-13-01"),
        ("--as-of", "yesterday"),
        ("--known-at", "2024-11-01T12:00"),  # no offset: refused, never guessed
        ("--known-at", "soon"),
    ],
)
def test_a_bad_date_is_one_line_on_stderr_and_exit_2(
    example: Example, option: str, value: str
) -> None:
    result = run(["--db", example.url, "believe", RUSSIA, option, value])

    assert_one_line_error(result, value)


def test_a_bad_date_in_diff_is_one_line_and_exit_2(example: Example) -> None:
    assert_one_line_error(run(["--db", example.url, "diff", "2024-11-01", "later"]), "later")


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://user@host/db", "sqlite:////no/such/directory/ledger.db"],
)
def test_a_bad_database_url_is_one_line_on_stderr_and_exit_2(url: str) -> None:
    assert_one_line_error(run(["--db", url, "verify"]))


@pytest.mark.parametrize(
    "args",
    [
        ["believe"],  # missing argument
        ["believe", RUSSIA, "--via", "magic"],
        ["timeline", RUSSIA, "--frobnicate"],
        ["export", "--format", "xml"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_are_click_usage_errors(example: Example, args: list[str]) -> None:
    result = run(["--db", example.url, *args])

    assert result.exit_code == 2
    assert "Usage: factledger" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["believe", RUSSIA, "--json"],
        ["estimates", RUSSIA, "--json"],
        ["timeline", RUSSIA, "--json"],
        ["history", RUSSIA, "--json"],
        ["diff", "2024-10-01", "2025-05-01", "--json"],
        ["sources", "--json"],
        ["propositions", "--json"],
        ["verify", "--json"],
        ["checkpoint", "--json"],
        ["replay", "--known-at", "2100-01-01", "--json"],
    ],
)
def test_every_read_command_s_json_is_exactly_one_document(
    example: Example, args: list[str]
) -> None:
    as_json(run(["--db", example.url, *args]))


def test_ledger_data_is_printed_verbatim_never_read_as_markup(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "l.db")
    data = tmp_path / "odd.jsonl"
    records = [
        {"type": "source", "id": "s", "name": "[bold]S[/bold]", "category": "media"},
        {"type": "proposition", "id": "p", "text": "[red]x[/red] :smile: happened"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert run(["--db", url, "import", str(data)]).exit_code == 0

    assert "[bold]S[/bold]" in run(["--db", url, "sources"]).stdout
    assert "[red]x[/red] :smile: happened" in run(["--db", url, "propositions"]).stdout


def test_version() -> None:
    result = run(["--version"])

    assert result.exit_code == 0
    assert result.stdout.startswith("factledger, version ")
