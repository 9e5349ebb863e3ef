"""``make demo`` shows who was right about the troops, and how early (issue 13 item 5): as of the
story's second date the NIS and the others who said so are right, the deniers wrong; as of the
first, the question had no answer yet."""

from __future__ import annotations

from tests.cli.conftest import Example


def _squashed(text: str) -> str:
    return " ".join(text.split())


def test_the_demo_says_who_was_right_about_the_troops_and_how_early(example: Example) -> None:
    out = _squashed(example.demo_output)
    part = out[out.index("Who was right about dprk-troops-in-russia, and how early") :]
    part = part[: part.index("3. The audit view")]
    assert "as of 2024-11-01 no answer yet; 6 calls open" in part
    assert "kr-nis 190 d early" in part
    assert "wrong: kp-un-mission, ru-gov" in part
