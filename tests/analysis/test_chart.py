"""Charts: an SVG whose elements can be found by id (status bands, one mark per statement,
corrections, withdrawals, the estimate range), direct labels, and ``known_at`` honoured."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ledger import Ledger, NotFound, StatementMade
from ledger.analysis import chart_svg, save_chart
from tests.analysis.conftest import CORRECTED, CORRECTION, FOCUS, HOSTILE_TEXT, Story

SVG = "{http://www.w3.org/2000/svg}"


def _parse(text: str) -> tuple[set[str], list[str]]:
    """The ids of the SVG's elements, and its text."""
    root = ET.fromstring(text.encode("utf-8"))
    ids = {el.attrib["id"] for el in root.iter() if "id" in el.attrib}
    texts = ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]
    return ids, texts


def _statements(lg: Ledger, proposition: str) -> list[str]:
    return [
        e.event.statement_id
        for e in lg.read()
        if isinstance(e.event, StatementMade) and e.event.proposition_id == proposition
    ]


def test_the_chart_has_bands_marks_labels_and_the_estimate_range(story: Story) -> None:
    lg = story.ledger
    ids, texts = _parse(chart_svg(lg, FOCUS))
    transitions = lg.timeline(FOCUS)
    for i, t in enumerate(transitions):
        assert f"band-{FOCUS}-{i}-{t.status.value}" in ids
        assert t.status.value in texts  # each band says its status: no legend to look up
    for statement in _statements(lg, FOCUS):
        assert f"mark-{FOCUS}-{statement}" in ids
    assert f"correction-{FOCUS}-{CORRECTION}" in ids
    assert f"original-{FOCUS}-{CORRECTED}" in ids
    assert f"estimate-range-{FOCUS}" in ids and f"estimate-median-{FOCUS}" in ids
    sources = {
        e.event.source_id
        for e in lg.read()
        if isinstance(e.event, StatementMade) and e.event.proposition_id == FOCUS
    }
    assert sources <= set(texts)  # one labelled row per source
    words = " ".join(texts)
    for verb in ("asserts", "denies", "confirms", "no comment", "(corrected)"):
        assert verb in words
    # kr-gov's "3,000 additional troops" is in another unit than the other estimates
    assert f"{FOCUS}: estimates in troops (1 in other units not drawn)" in texts


def test_the_chart_as_known_before_the_correction(story: Story) -> None:
    ids, texts = _parse(chart_svg(story.ledger, FOCUS, known_at=story.known_before))
    assert f"mark-{FOCUS}-{CORRECTED}" in ids
    assert not any(i.startswith(f"correction-{FOCUS}") for i in ids)
    assert "(corrected)" not in " ".join(texts)
    assert any("as known at" in t for t in texts)


def test_withdrawals_retractions_and_hostile_text(hostile: Ledger) -> None:
    text = chart_svg(hostile, "p-hostile")
    ids, texts = _parse(text)  # still well-formed XML: the hostile title was escaped
    assert "withdrawn-p-hostile-s-gone" in ids
    assert "mark-p-hostile-s-retract" in ids
    assert "correction-p-hostile-c-move" in ids
    words = " ".join(texts)
    assert "retracts" in words and "withdrawn" in words
    assert any(HOSTILE_TEXT in t for t in texts)  # shown as typed: no mathtext, no markup
    assert "<script" not in text and "<b>" not in text


def test_several_propositions_in_one_figure(story: Story) -> None:
    ids, _ = _parse(chart_svg(story.ledger, [FOCUS, "dprk-casualties"]))
    assert any(i.startswith(f"band-{FOCUS}-") for i in ids)
    assert any(i.startswith("band-dprk-casualties-") for i in ids)


def test_save_chart_writes_svg_and_png(story: Story, tmp_path: Path) -> None:
    png = save_chart(story.ledger, FOCUS, tmp_path / "story.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg = save_chart(story.ledger, FOCUS, tmp_path / "story.svg")
    ids, _ = _parse(svg.read_text(encoding="utf-8"))
    assert f"mark-{FOCUS}-{CORRECTED}" in ids


def test_an_unknown_proposition_is_not_found(story: Story) -> None:
    with pytest.raises(NotFound):
        chart_svg(story.ledger, "no-such-thing")
