"""``verify`` reads a sound log once for both the hash chain and the Merkle tree.

The one pass (``EventStore._verify_in_one_pass``) only ever says "sound"; whatever it cannot
prove goes to the exact checks (``EventStore._verify_exactly``: the chain, then the tree, each on
its own read, each written to name the fault). So the specification is: for any damage to the
log, its salts or its tree, ``verify`` gives exactly the exact checks' report, and the one pass
never passes what they fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from ledger import Ledger
from ledger.records import VerifyReport
from ledger.store.eventstore import EventStore
from tests.conftest import Databases, FakeClock
from tests.helpers import basics, drop_guards, raw, statement

_EVERYTHING = 2**62  # verify's ``until`` when none is given

#: Each damage: its SQL, given the position (or node id) it hits. Changes that keep every
#: unique key unique, so that any row can take them on either backend.
_DAMAGES: dict[str, str] = {
    "payload": "UPDATE events SET payload = replace(payload, 'troops', 'tr') WHERE position = :at",
    "stated_at": "UPDATE events SET stated_at = coalesce(stated_at, 0) + 1 WHERE position = :at",
    "recorded_at": "UPDATE events SET recorded_at = recorded_at + 1 WHERE position = :at",
    "prev_hash": "UPDATE events SET prev_hash = :zeros WHERE position = :at",
    "hash": "UPDATE events SET hash = :zeros WHERE position = :at",
    "event_id": "UPDATE events SET event_id = :uuid WHERE position = :at",
    "stream_version": "UPDATE events SET stream_version = stream_version + 9 WHERE position = :at",
    "type": "UPDATE events SET type = 'made_up' WHERE position = :at",
    "delete event": "DELETE FROM events WHERE position = :at",
    "salt": "UPDATE event_salts SET salt = :salt WHERE position = :at",
    "delete salt": "DELETE FROM event_salts WHERE position = :at",
    "node": "UPDATE merkle_nodes SET hash = :node WHERE id = :at",
    "every node": "UPDATE merkle_nodes SET hash = :node",
    "delete node": "DELETE FROM merkle_nodes WHERE id = :at",
}


def _ledger(url: str, *, redacted: bool) -> Ledger:
    lg = Ledger.open(url, clock=FakeClock())
    lg.append(basics())
    lg.append([statement(f"s{i}", when=f"2024-10-{i + 1:02d}") for i in range(6)])
    if redacted:
        lg.redact("statement_made/s2", reason="privacy request", by="editor", scrub=False)
    lg.append([statement("s9", source="kcna", stance="deny")])
    return lg


def _damage(engine: Engine, kind: str, at: int) -> None:
    drop_guards(engine)
    raw(
        engine,
        _DAMAGES[kind],
        at=at,
        zeros="0" * 64,
        uuid="00000000-0000-5000-8000-000000000000",
        salt=b"\x01" * 16,
        node=b"\x02" * 32,
    )


def _reports(store: EventStore, **kw: Any) -> tuple[VerifyReport | None, VerifyReport]:
    checkpoint = kw.get("checkpoint")
    last = kw.get("until") or _EVERYTHING
    return (
        store._verify_in_one_pass(checkpoint, last, None),
        store._verify_exactly(checkpoint, last, None),
    )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["none", *sorted(_DAMAGES)]),
    at=st.integers(min_value=0, max_value=30),
    redacted=st.booleans(),
    until=st.none() | st.integers(min_value=1, max_value=12),
    checkpoint_at=st.none() | st.integers(min_value=1, max_value=12),
)
def test_verify_gives_the_exact_checks_report_for_any_damage(
    databases: Databases,
    kind: str,
    at: int,
    redacted: bool,
    until: int | None,
    checkpoint_at: int | None,
) -> None:
    with _ledger(databases.new_url(), redacted=redacted) as lg:
        store = lg.store
        checkpoint = None
        if checkpoint_at is not None and checkpoint_at <= lg.head().position:
            with store.engine.connect() as conn:
                sql = text("SELECT hash FROM events WHERE position = :p")
                checkpoint = (checkpoint_at, str(conn.execute(sql, {"p": checkpoint_at}).scalar()))
        if kind != "none":
            _damage(store.engine, kind, at)

        one, exact = _reports(store, checkpoint=checkpoint, until=until)  # neither raises

        assert store.verify(checkpoint, until=until) == exact
        if exact.ok:
            assert one == exact
        else:
            assert one is None  # the one pass never passes a fault


def test_a_sound_log_is_read_once(databases: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    with _ledger(databases.new_url(), redacted=True) as lg:

        def _no_second_read(*_args: object) -> VerifyReport:
            raise AssertionError("a sound log was read a second time")

        expected = lg.store._verify_exactly(None, _EVERYTHING, None)
        monkeypatch.setattr(lg.store, "_verify_exactly", _no_second_read)
        report = lg.verify()

    assert report == expected
    assert (report.ok, report.checked, report.redacted) == (True, 11, 1)


@pytest.mark.parametrize("kind", ["salt", "every node"])
def test_a_fault_the_one_pass_finds_is_named_on_a_second_read(
    databases: Databases, kind: str
) -> None:
    with _ledger(databases.new_url(), redacted=False) as lg:
        _damage(lg.store.engine, kind, 5)
        seen: list[int] = []

        report = lg.store.verify(progress=seen.append)

        assert not report.ok
        assert report == lg.store._verify_exactly(None, _EVERYTHING, None)
    assert seen == [10, 10]  # the chain holds: read to its end once, then again to name the fault
