"""The terminal's wait line keeps how long a writer has waited when the line is too long (a
long database path in the holder's description): the middle gives way, not the time."""

from __future__ import annotations

from ledger.cli.commands import fitted

LINE = (
    "waiting for the writer lock held by another connection to "
    "/tmp/pytest-of-root/pytest-200/popen-gw0/db356/ledger.db for 2 s (giving up after 3 s)"
)


def test_a_line_that_fits_is_left_as_it_is() -> None:
    assert fitted(LINE, len(LINE)) == LINE


def test_a_long_line_keeps_its_start_and_its_time() -> None:
    short = fitted(LINE, 80)
    assert len(short) == 80
    assert short.startswith("waiting for the writer lock held by another")
    assert short.endswith(" for 2 s (giving up after 3 s)")
    assert "…" in short


def test_a_terminal_too_narrow_for_the_time_still_gets_one_line() -> None:
    assert len(fitted(LINE, 20)) == 20
