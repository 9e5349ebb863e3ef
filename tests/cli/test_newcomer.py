"""What a newcomer tripped on (issue 14, item 6): errors that say what to do next, a bare file
path for --db, suggestions for a mistyped proposition, and what is left out by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import Ledger
from tests.cli.conftest import Example, run, sqlite_url
from tests.cli.test_cli import RUSSIA, as_json, assert_one_line_error
from tests.cli.test_cli_docs import ROOT, _run_line, steps

README = ROOT / "README.md"

# -- pointing at a ledger ----------------------------------------------------------------------


def test_with_no_db_and_no_ledger_db_the_error_says_how_to_point_at_a_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = run(["believe", RUSSIA])  # the runner's environment has no LEDGER_DB

    assert_one_line_error(
        result,
        "no ledger at ledger.db",
        "factledger init",
        "no --db given and LEDGER_DB is not set",
        "pass --db URL or set LEDGER_DB",
    )
    assert not (tmp_path / "ledger.db").exists()


def test_a_named_ledger_that_is_missing_says_how_to_use_another_but_not_that_none_was_named(
    tmp_path: Path,
) -> None:
    result = run(["believe", RUSSIA], env={"LEDGER_DB": sqlite_url(tmp_path / "typo.db")})

    assert_one_line_error(result, "no ledger at", "pass --db URL or set LEDGER_DB")
    assert "no --db given" not in result.stderr


def test_a_bare_file_path_for_db_is_a_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    created = run(["--db", "x.db", "init"])
    assert created.exit_code == 0, created.output
    assert "ledger ready at sqlite:///x.db" in created.stdout
    assert (tmp_path / "x.db").is_file()
    nested = tmp_path / "data" / "claims.db"
    nested.parent.mkdir()
    assert run(["--db", str(nested), "init"]).exit_code == 0
    assert nested.is_file()

    checked = run(["verify"], env={"LEDGER_DB": "x.db"})
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith("ok: 0 events verified")


def test_a_bare_path_that_holds_no_ledger_is_no_ledger_not_a_url_error(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"

    result = run(["--db", str(missing), "believe", RUSSIA])

    assert_one_line_error(result, f"no ledger at {missing}")
    assert "SQLAlchemy" not in result.stderr
    assert not missing.exists()


@pytest.mark.parametrize("command", [["init"], ["believe", RUSSIA], ["import", "-"]])
def test_a_sqlite_file_in_a_missing_directory_says_the_directory_is_missing(
    tmp_path: Path, command: list[str]
) -> None:
    folder = tmp_path / "missing-dir"

    result = run(["--db", sqlite_url(folder / "x.db"), *command], input="")

    assert_one_line_error(result, f"the directory {folder} does not exist")
    assert "unable to open database file" not in result.stderr
    assert not folder.exists()


# -- unknown propositions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["believe", "dprk-troops-in-rusia"],
        ["believe", "dprk-troops-in-rusia", "--json"],
        ["estimates", "dprk-troops-in-rusia"],
        ["timeline", "dprk-troops-in-rusia"],
        ["history", "dprk-troops-in-rusia"],
        ["grid", "--from", "2024-11-01", "--to", "2024-11-02", "dprk-troops-in-rusia"],
        ["chart", "dprk-troops-in-rusia", "-o", "x.svg"],
        ["report", "dprk-troops-in-rusia", "-o", "x.html"],
    ],
)
def test_a_mistyped_proposition_gets_suggestions_and_the_command_that_lists_them(
    example: Example, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = run(["--db", example.url, *command])

    assert_one_line_error(
        result,
        "no proposition 'dprk-troops-in-rusia' in the ledger",
        f"did you mean '{RUSSIA}'",
        "`factledger propositions` lists all 8",
    )
    assert "known at" not in result.stderr  # no --known-at was given
    assert not list(tmp_path.iterdir())  # no chart, no report written


def test_an_id_like_no_other_gets_no_suggestion_but_the_listing_command(example: Example) -> None:
    result = run(["--db", example.url, "believe", "zzz"])

    assert_one_line_error(result, "no proposition 'zzz' in the ledger (`factledger propositions`")
    assert "did you mean" not in result.stderr


def test_with_known_at_the_error_says_as_known_when_and_suggests_what_was_known_then(
    example: Example,
) -> None:
    result = run(
        ["--db", example.url, "believe", "dprk-troops-in-rusia", "--known-at", "2100-01-01"]
    )

    assert_one_line_error(
        result,
        "no proposition 'dprk-troops-in-rusia' in the ledger as known at 2100-01-01",
        f"did you mean '{RUSSIA}'",
        "`factledger propositions --known-at 2100-01-01` lists all 8",
    )


def test_a_proposition_defined_after_known_at_says_it_was_recorded_later(
    example: Example,
) -> None:
    result = run(["--db", example.url, "timeline", RUSSIA, "--known-at", "2000-01-01"])

    assert_one_line_error(
        result,
        f"no proposition '{RUSSIA}' in the ledger as known at 2000-01-01: it was recorded later",
    )


def test_an_empty_ledger_says_it_has_no_propositions_yet(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "empty.db")
    assert run(["--db", url, "init"]).exit_code == 0

    assert_one_line_error(
        run(["--db", url, "believe", RUSSIA]),
        f"no proposition '{RUSSIA}' in the ledger (the ledger has none yet)",
    )


# -- diff: changes that kept the status ------------------------------------------------------


def test_diff_all_also_lists_propositions_whose_support_changed_but_not_their_status(
    example: Example,
) -> None:
    dates = ["2024-11-01", "2024-11-30"]
    plain = as_json(run(["--db", example.url, "diff", *dates, "--json"]))
    every = as_json(run(["--db", example.url, "diff", *dates, "--all", "--json"]))

    assert [c["proposition"] for c in plain] == [RUSSIA]  # its estimates changed
    assert {c["proposition"] for c in every} > {c["proposition"] for c in plain}
    kursk = next(c for c in every if c["proposition"] == "dprk-troops-in-kursk")
    assert kursk["before"] == kursk["after"] == "claimed"
    assert kursk["before_explanation"] != kursk["after_explanation"]
    assert [b["source"] for b in kursk["because"]] == ["ua-president"]
    assert as_json(run(["--db", example.url, "diff", *dates, "--every-change", "--json"])) == every


def test_diff_all_for_people_and_with_nothing_changed(example: Example) -> None:
    table = run(["--db", example.url, "diff", "2024-11-01", "2024-11-30", "--all"])
    assert table.exit_code == 0
    assert "dprk-troops-in-kursk" in table.stdout

    quiet = run(["--db", example.url, "diff", "2024-10-19", "2024-10-20", "--all"])
    assert quiet.stdout.strip() == "no proposition changed belief between 2024-10-19 and 2024-10-20"


def test_ledger_diff_every_change_is_a_superset_with_the_same_causes(example: Example) -> None:
    with Ledger.open(example.url) as lg:
        plain = lg.diff("2024-11-01", "2024-11-30")
        every = lg.diff("2024-11-01", "2024-11-30", every_change=True)

    assert set(plain) <= set(every)
    extra = [c for c in every if c not in plain]
    assert extra
    for c in extra:
        assert c.before.status is c.after.status
        assert c.before.verdict != c.after.verdict
        assert c.because  # the statements that took effect in between


# -- output into a pipe or a file --------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["timeline", RUSSIA],
        ["believe", RUSSIA, "--as-of", "2024-11-01"],
        ["diff", "2024-11-01", "2025-05-01"],
        ["propositions"],
        ["history", RUSSIA],
        ["sources"],
    ],
)
def test_tables_into_a_pipe_start_with_text_and_no_line_is_padded(
    example: Example, command: list[str]
) -> None:
    result = run(["--db", example.url, *command])  # CliRunner's stdout is no terminal

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].strip(), "the output starts with a blank line"
    assert [line for line in lines if line != line.rstrip()] == []


# -- the README's samples ----------------------------------------------------------------------


def test_every_readme_sample_that_leaves_lines_out_says_so_with_an_ellipsis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {"LEDGER_DB": sqlite_url(tmp_path / "readme.db")}
    for step in steps(README):
        if step.command.startswith("export "):
            continue
        printed = [line.rstrip() for line in _run_line(step.command, env).output.splitlines()]
        shown = [line.rstrip() for line in step.shown]
        if len([line for line in printed if line]) > len([line for line in shown if line]):
            assert any("…" in line for line in shown), f"{step.command}: an unmarked fragment"


def test_the_readme_says_the_head_hash_shown_will_not_match_and_why() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())

    assert "will not match yours: each event's hash covers the moment it was recorded" in text
