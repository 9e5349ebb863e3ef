"""Ledgers for the analysis tests: the North Korea example (loaded as the README's audit view
does, the correction in a second step) and a small hostile one whose texts try to inject HTML."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import attrs
import pytest

from ledger import (
    CorrectionMade,
    DocumentRegistered,
    Event,
    Ledger,
    PropositionDefined,
    SourceRegistered,
    StatementMade,
)
from tests.conftest import FakeClock

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"
FOCUS = "dprk-troops-in-russia"
CORRECTED = "ua-president-asserts-russia-11000"
CORRECTION = "fix-zelenskyy-11000-date"

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE_QUOTE = f"He said {SCRIPT} and then {IMG} & left"
HOSTILE_TITLE = "</td></tr></table><script>alert(2)</script>"
HOSTILE_URL = 'https://evil.example/x.png" onerror="alert(3)'
HOSTILE_REASON = "<svg onload=alert(4)> was a typo"
HOSTILE_TEXT = "Troops <b>are</b> & $5 $x$ in 'Russia' \"now\""


@attrs.frozen
class Story:
    """The example ledger, and the moment before its correction was recorded."""

    ledger: Ledger
    known_before: datetime


@pytest.fixture(scope="session")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    path = tmp_path_factory.mktemp("analysis") / "story.db"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    with Ledger.open(f"sqlite:///{path}", clock=FakeClock()) as lg:
        lg.import_jsonl(io.StringIO("\n".join(x for x in lines if '"correction"' not in x)))
        before = lg.now()
        lg.import_jsonl(io.StringIO("\n".join(lines)))
        yield Story(lg, before)


def hostile_events() -> list[list[Event]]:
    body = "the document's own text"
    return [
        [
            SourceRegistered("src-a", "Agency <i>A</i>", "media", "kr", "B", note=SCRIPT),
            SourceRegistered("src-b", 'Bureau "B"', "government", "kp"),
            PropositionDefined("p-hostile", HOSTILE_TEXT, parties=["src-b"]),
            DocumentRegistered(
                "doc-1",
                HOSTILE_TITLE,
                hashlib.sha256(body.encode()).hexdigest(),
                publisher=IMG,
                url=HOSTILE_URL,
                text=body,
            ),
        ],
        [
            StatementMade(
                "s-quote",
                "src-a",
                "p-hostile",
                "assert",
                "2024-10-18",
                value=1500,
                unit="troops",
                document_id="doc-1",
                quote=HOSTILE_QUOTE,
                note=IMG,
            ),
            StatementMade("s-deny", "src-b", "p-hostile", "deny", "2024-10-21"),
            StatementMade("s-gone", "src-b", "p-hostile", "assert", "2024-11-04", value=900),
            StatementMade("s-late", "src-a", "p-hostile", "assert", "2024-12-01", value=3000),
            StatementMade("s-retract", "src-a", "p-hostile", "retract", "2025-01-11"),
        ],
        [
            CorrectionMade("c-withdraw", "s-gone", HOSTILE_REASON, withdraw=True),
            CorrectionMade(
                "c-move", "s-late", "the date was wrong", changes={"stated_at": "2024-11-30"}
            ),
        ],
        [CorrectionMade("c-late", "s-gone", "a typo, after all", changes={"value": 950})],
    ]


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'hostile.db'}", clock=FakeClock()) as lg:
        for batch in hostile_events():
            lg.append(batch)
        yield lg
