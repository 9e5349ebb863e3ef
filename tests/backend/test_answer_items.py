"""An answer on SQLite reads its stance rows as the items of one text, and files each by the
item from a bounded cache; the rules keep what they build from a statement with its ``Said``.

Both are ways of reading and re-encoding, never of deciding: an answer equals the reference
fold's whatever the text of a unit holds (the item is a JSON array, the separator a control
character no JSON text holds), asked once or again (the second time from the caches), with the
caches cleared when full, and with a policy that gives a source another role.
"""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from ledger import BeliefPolicy, DefaultPolicy, Ledger, SourceRegistered
from ledger.events import Stance
from projections import materialized
from projections.beliefs import Role
from projections.rules import Said, _estimate, _stance
from tests.conftest import FakeClock
from tests.helpers import basics, statement

#: Units a statement may carry (no control characters but tab, newline and carriage return):
#: JSON's escapes, quotes, non-ASCII, Unicode's line separators, an escape spelt out as text.
UNITS = [
    "troops",
    'a "quoted", \\ backslashed\tunit\n',
    "é ü 兵 🪖",
    "line\u2028paragraph\u2029",
    "\\u001e",
]


def _story(lg: Ledger) -> datetime:
    """The story; returns when it was known before its last statement."""
    lg.append(basics())
    lg.append([SourceRegistered(f"src-{i}", f"Source {i}", "media", "ua", "C") for i in range(6)])
    lg.append(
        [
            statement(
                f"s{i}",
                source=f"src-{i % 6}",
                stance=("assert", "deny", "confirm", "refute", "retract", "no_comment")[i % 6],
                when=f"2024-10-{10 + i:02d}",
                value=None if i % 6 >= 4 else (i * 1000 if i % 2 else i + 0.25),
                unit=None if i % 6 >= 4 else UNITS[i % len(UNITS)],
            )
            for i in range(18)
        ]
    )
    # a later statement by a source that gave a quantity: its quantity stands, its stance moves
    lg.append([statement("late", source="src-0", stance="deny", when="2024-11-01")])
    before = lg.head().recorded_at
    assert before is not None
    # and one recorded later about an earlier day: the version it closes was in force before
    lg.append([statement("later", source="src-2", stance="deny", when="2024-10-20")])
    return before


def _answers(
    lg: Ledger,
    before: datetime,
    via: Literal["projection", "fold"] = "projection",
    policy: BeliefPolicy | None = None,
) -> list[dict[str, Any]]:
    """Answers at instants before, inside and after the story; as known at its end and as
    known before its last statement."""
    end = lg.head().recorded_at
    assert end is not None
    return [
        lg.believed("troops", as_of=at, known_at=known, via=via, policy=policy).to_dict()
        for at in ("2024-10-01", "2024-10-15", "2024-10-21", "2024-10-25", "2024-11-02")
        for known in (end, before)
    ]


def test_answers_equal_the_fold_whatever_a_unit_holds_asked_again(
    ledger_url: str, clock: FakeClock
) -> None:
    with Ledger.open(ledger_url, clock=clock) as lg:
        before = _story(lg)
        folded = _answers(lg, before, via="fold")
        assert _answers(lg, before) == folded
        assert _answers(lg, before) == folded  # every item filed by the first answers
        units = {e["unit"] for a in folded for e in a["estimates"]["by_source"]}
        assert len(units) > 3, units


def test_the_cache_of_items_stays_within_its_bound(
    ledger_url: str, backend: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(materialized, "_FILED_CACHE", 4)
    monkeypatch.setattr(materialized, "_FILED", {})
    with Ledger.open(ledger_url, clock=clock) as lg:
        before = _story(lg)
        folded = _answers(lg, before, via="fold")
        for _ in range(2):
            assert _answers(lg, before) == folded
            assert len(materialized._FILED) <= 4
            assert materialized._FILED or backend == "postgresql"  # (rows one by one there)


def test_a_policy_that_gives_a_source_another_role_gets_stances_with_that_role(
    ledger_url: str, clock: FakeClock
) -> None:
    """The same Said values, judged by two policies in turn: each answer's stances carry the
    role its own policy gave, not the one built for the last answer."""
    named = DefaultPolicy(name="src-3-decides", authoritative_sources=frozenset({"src-3"}))
    with Ledger.open(ledger_url, clock=clock) as lg:
        before = _story(lg)
        for _ in range(2):
            for policy in (None, named):
                folded = _answers(lg, before, via="fold", policy=policy)
                assert _answers(lg, before, policy=policy) == folded
        now = lg.head().recorded_at
        decided = lg.believed("troops", as_of="2024-11-02", known_at=now, policy=named)
        assert [s.role for s in decided.refuters] == [Role.AUTHORITY]
        assert lg.believed("troops", as_of="2024-11-02", known_at=now).refuters == ()


def test_a_said_keeps_what_was_built_from_it_out_of_its_value() -> None:
    when = datetime(2024, 10, 18, tzinfo=UTC)
    said = Said("s1", "kr-nis", Stance.ASSERT, when, 3, 1500, "troops")
    stance = _stance(said, Role.OTHER)
    estimate = _estimate(said, 1500)
    assert _stance(said, Role.OTHER) is stance
    assert _estimate(said, 1500) is estimate
    assert _stance(said, Role.AUTHORITY).role is Role.AUTHORITY
    fresh = Said("s1", "kr-nis", Stance.ASSERT, when, 3, 1500, "troops")
    assert said == fresh and hash(said) == hash(fresh) and repr(said) == repr(fresh)
    for twin in (pickle.loads(pickle.dumps(said)), copy.copy(said), copy.deepcopy(said)):
        assert twin == said
