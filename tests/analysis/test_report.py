"""The HTML report: all text escaped (a hostile quote is text, never markup), nothing fetched
from anywhere, and the story complete: statements, quotes, sha256s, errata, the checkpoint."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from ledger import DocumentRegistered, Ledger, StatementMade
from ledger.analysis import report_html, write_report
from tests.analysis.conftest import (
    CORRECTED,
    CORRECTION,
    FOCUS,
    HOSTILE_QUOTE,
    HOSTILE_REASON,
    HOSTILE_TEXT,
    HOSTILE_TITLE,
    HOSTILE_URL,
    IMG,
    SCRIPT,
    Story,
)

#: Attributes that make a browser fetch (or navigate to) what they name.
FETCHING = {"src", "href", "xlink:href", "srcset", "action", "poster", "data", "background"}


class Page(HTMLParser):
    """The tags, attributes, text and styles of a page, as a browser's tokenizer sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self._in_style = False
        self.styles: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)

    @property
    def words(self) -> str:
        return "".join(self.text)


def test_hostile_text_is_shown_as_text(hostile: Ledger) -> None:
    page = Page(report_html(hostile))
    for hostile_text in (HOSTILE_QUOTE, HOSTILE_TITLE, HOSTILE_REASON, IMG, SCRIPT, HOSTILE_TEXT):
        assert hostile_text in page.words, hostile_text
    assert HOSTILE_URL in page.words  # the document's address: text, not a link
    assert "script" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert not [(t, n) for t, n, _ in page.attrs if n.startswith("on")]  # no event handlers


def test_the_report_fetches_nothing(hostile: Ledger, story: Story) -> None:
    for text in (report_html(hostile), report_html(story.ledger, [FOCUS])):
        page = Page(text)
        assert "link" not in page.tags and "script" not in page.tags
        for tag, name, value in page.attrs:
            if name in FETCHING:
                assert value.startswith("#"), (tag, name, value)  # only places in the page
            if not name.startswith("xmlns"):  # a namespace is a name, never fetched
                assert "://" not in value and not value.startswith("//"), (tag, name, value)
        styles = " ".join(page.styles) + " ".join(v for _, n, v in page.attrs if n == "style")
        assert "url(" not in styles and "@import" not in styles
        csp = [v for t, n, v in page.attrs if t == "meta" and n == "content" and "src" in v]
        assert csp and "default-src 'none'" in csp[0]


def test_the_story_is_complete(story: Story, tmp_path: Path) -> None:
    lg = story.ledger
    path = write_report(lg, tmp_path / "story.html", [FOCUS])
    page = Page(path.read_text(encoding="utf-8"))
    words = page.words
    statements = [
        e.event
        for e in lg.read()
        if isinstance(e.event, StatementMade) and e.event.proposition_id == FOCUS
    ]
    documents = {
        e.event.document_id: e.event for e in lg.read() if isinstance(e.event, DocumentRegistered)
    }
    for s in statements:
        assert s.statement_id in words
        if s.quote:
            assert s.quote in words  # verbatim
        if s.document_id:
            assert documents[s.document_id].sha256 in words
    assert CORRECTION in words and "Corrected" in words
    head = lg.head()
    assert f"{head.position}:{head.hash}" in words
    assert f"factledger verify --checkpoint {head.position}:{head.hash}" in words
    assert "svg" in page.tags
    for t in lg.timeline(FOCUS):
        assert t.verdict.explanation in words


def test_the_report_as_known_before_the_correction(story: Story) -> None:
    lg = story.ledger
    text = report_html(lg, [FOCUS], known_at=story.known_before)
    words = Page(text).words
    last = list(lg.read(known_at=story.known_before))[-1]
    assert f"{last.position}:{last.hash}" in words
    assert f"Corrected by {CORRECTION}" not in words and 'class="erratum' not in text
    assert CORRECTED in words
    assert f"Corrected by {CORRECTION}" in Page(report_html(lg, [FOCUS])).words


def test_the_belief_at_chosen_dates(story: Story) -> None:
    lg = story.ledger
    days = ["2024-11-01", "2025-05-01"]
    words = Page(report_html(lg, [FOCUS], dates=days, verify=False)).words
    assert "at the chosen dates" in words
    for day in days:
        assert lg.believed(FOCUS, as_of=day).explanation in words


def test_withdrawals_and_retractions_are_shown_where_they_happened(hostile: Ledger) -> None:
    text = report_html(hostile)
    words = Page(text).words
    assert "Withdrawn by correction c-withdraw" in words
    assert "(after the withdrawal: it still counts for nothing)" in words
    assert "Retraction" in words
    assert '<tr id="s-s-gone" class="withdrawn">' in text


def test_the_report_says_where_text_was_redacted_and_hostile_reasons_stay_text(
    hostile: Ledger,
) -> None:
    statement = next(
        r.event for r in hostile.read() if isinstance(r.event, StatementMade) and r.event.quote
    )
    assert isinstance(statement, StatementMade) and statement.quote is not None
    quote = statement.quote
    before = Page(report_html(hostile))
    assert "No text was removed" in before.words and quote in before.words

    hostile.redact(statement.statement_id, reason=SCRIPT, by=IMG, scrub=False)

    text = report_html(hostile)
    page = Page(text)
    assert quote not in page.words
    assert "Redacted" in page.words and SCRIPT in page.words and IMG in page.words
    assert "script" not in page.tags and "img" not in page.tags
    assert f"statement:{statement.statement_id}" in page.words
    assert "#redactions" in text
