"""The HTML report in a real browser: Debian's headless Chromium, driven by Playwright, opens the
file from disk with every request but the file itself blocked and recorded.

It checks what a reader gets: no console error (a Content-Security-Policy violation would be
one), no request leaving the page, charts and their marks with a real size on screen, the
hostile quote on screen as the characters it is (no dialog ever opens), and a screenshot kept
in ``.artifacts/`` (git-ignored) for a person to look at.

Chromium comes from the distribution (``apt-get install chromium``, which ``make test`` does
where it can), never from ``playwright install``. Outside CI the test skips, with the reason,
when Chromium or Playwright is missing; with ``CI`` set it fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger
from ledger.analysis import write_report
from tests.analysis.conftest import HOSTILE_QUOTE, HOSTILE_TITLE, hostile_events
from tests.conftest import IN_CI, FakeClock

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts"
EXAMPLE = ROOT / "examples" / "north-korea-troops.jsonl"


def _chromium() -> str:
    """The distribution's Chromium, or skip (fail in CI) saying why."""
    wanted = os.environ.get("LEDGER_TEST_CHROMIUM")
    found = wanted or shutil.which("chromium") or "/usr/bin/chromium"
    reason = ""
    if not Path(found).is_file():
        where = f" at {wanted}" if wanted else ""
        reason = (
            f"no Chromium found{where} (`make browser-deps` or `apt-get install chromium`, or "
            "set LEDGER_TEST_CHROMIUM to the binary)"
        )
    else:
        try:
            import playwright.sync_api  # noqa: F401, PLC0415 - only this test needs it
        except ImportError:
            reason = "Playwright is not installed (pip install -e '.[dev]')"
    if reason:
        if IN_CI:
            pytest.fail(f"CI requires the browser test to run: {reason}")
        pytest.skip(reason)
    return str(found)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - after the check above

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the example story plus the hostile proposition, in one file."""
    directory = tmp_path_factory.mktemp("browser")
    with Ledger.open(f"sqlite:///{directory / 'story.db'}", clock=FakeClock()) as lg:
        lg.import_jsonl(EXAMPLE)
        for batch in hostile_events():
            lg.append(batch)
        return write_report(lg, directory / "story.html", ["dprk-troops-in-russia", "p-hostile"])


class Visit:
    """One page load, with everything the page asked for and said."""

    def __init__(self, browser: Any, path: Path):
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("dialog", self._dialog)
        self.page.goto(self.url, wait_until="load")

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def visit(browser: Any, report: Path) -> Iterator[Visit]:
    seen = Visit(browser, report)
    yield seen
    seen.close()


def test_nothing_leaves_the_page(visit: Visit) -> None:
    assert visit.blocked == []
    assert visit.requests == [visit.url]


def test_no_console_error_and_no_dialog(visit: Visit) -> None:
    visit.page.wait_for_timeout(300)  # give a hostile handler, were there one, its chance
    assert visit.console == []
    assert visit.dialogs == []


def test_the_charts_and_their_marks_have_a_size(visit: Visit) -> None:
    charts = visit.page.locator("svg.chart")
    assert charts.count() == 2
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    for selector in ('[id^="band-"]', '[id^="mark-"]', "#estimate-range-dprk-troops-in-russia"):
        found = visit.page.locator(selector)
        assert found.count() > 0, selector
        for i in range(found.count()):
            box = found.nth(i).bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0, selector


def test_the_hostile_quote_is_text_on_screen(visit: Visit) -> None:
    page = visit.page
    quotes = page.locator("blockquote").all_inner_texts()
    assert HOSTILE_QUOTE in quotes
    assert HOSTILE_TITLE in page.locator("body").inner_text()
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror], [onload]').length") == 0


def test_a_screenshot_is_kept(visit: Visit) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "report-browser.png"
    visit.page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert target.stat().st_size > 20_000
