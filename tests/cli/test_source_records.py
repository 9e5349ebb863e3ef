"""``factledger sources --as-of D`` and ``factledger source ID`` (issue 13 item 4): every source
with its track record, most reliable first, and one source's calls; an unknown source id gets
the closest known ones suggested (issue 14 item 6)."""

from __future__ import annotations

import json

from tests.cli.conftest import Example, run


def _json(args: list[str], url: str) -> object:
    result = run([*args, "--json"], env={"LEDGER_DB": url})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sources_as_of_a_date_lists_each_record_most_reliable_first(example: Example) -> None:
    doc = _json(["sources", "--as-of", "2025-05-01"], example.url)
    assert isinstance(doc, list)
    assert {"source", "right", "wrong", "open", "lead_days", "grade"} <= doc[0].keys()
    assert "calls" not in doc[0]  # the list is the summary; `source ID` has the calls
    tracked = _json(["track", "--as-of", "2025-05-01"], example.url)
    assert isinstance(tracked, list)
    assert [r["source"] for r in doc] == [r["source"] for r in tracked]
    nis = next(r for r in doc if r["source"] == "kr-nis")
    assert (nis["right"], nis["wrong"], nis["open"], nis["lead_days"]) == (1, 0, 0, 190.0)
    text = run(["sources", "--as-of", "2025-05-01"], env={"LEDGER_DB": example.url}).stdout
    assert "Track records as of 2025-05-01" in text and "kr-nis" in text


def test_sources_without_a_date_still_lists_the_registrations(example: Example) -> None:
    doc = _json(["sources"], example.url)
    assert isinstance(doc, list)
    assert {"source_id", "name", "category"} <= doc[0].keys()


def test_source_id_shows_one_record_proposition_by_proposition(example: Example) -> None:
    assert _json(["source", "kr-nis", "--as-of", "2025-05-01"], example.url) == _json(
        ["track", "kr-nis", "--as-of", "2025-05-01"], example.url
    )
    early = _json(["source", "kr-nis", "--as-of", "2025-01-01"], example.url)
    assert isinstance(early, dict)
    assert (early["right"], early["open"]) == (0, 1)  # no answer yet on 2025-01-01


def test_an_unknown_source_gets_the_closest_known_ids_suggested(example: Example) -> None:
    result = run(["source", "kr-nsi"], env={"LEDGER_DB": example.url})
    assert result.exit_code == 2
    assert "no source 'kr-nsi' in the ledger; did you mean 'kr-nis'?" in result.stderr
    assert "`factledger sources` lists all" in result.stderr
