"""PostgreSQL: the answer statement is planned with bitmap scans off, in its own implicit
transaction, and the setting ends with it: the next statement on the same connection plans as
the server is configured."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import QueuePool

from ledger import Ledger
from tests.helpers import basics, statement


def _settings_of_every_pooled_connection(engine: Engine) -> list[str]:
    """``enable_bitmapscan`` on each connection the pool holds (all checked out at once, so
    each is asked once)."""
    with ExitStack() as stack:
        conns = [stack.enter_context(engine.connect()) for _ in range(_pool(engine).checkedin())]
        return [c.execute(text("SHOW enable_bitmapscan")).scalar_one() for c in conns]


def _pool(engine: Engine) -> QueuePool:
    assert isinstance(engine.pool, QueuePool)
    return engine.pool


@pytest.mark.postgresql
def test_an_answer_s_planner_setting_does_not_outlast_it(pg_url: str) -> None:
    with Ledger.open(pg_url) as lg:
        days = [statement(f"s{i}", when=f"2024-10-{i + 1:02d}") for i in range(20)]
        lg.append([*basics(), *days])
        engine = lg.store.engine
        engine.pool.dispose()  # from here on, the pool holds only what answers used
        assert lg.believed("troops").status.value == "claimed"
        assert _settings_of_every_pooled_connection(engine) == ["on"] * _pool(engine).checkedin()
        for _ in range(8):  # past psycopg's prepare threshold: the prepared path too
            assert lg.believed("troops", as_of="2024-10-05").status.value == "claimed"
        used = _pool(engine).checkedin()
        assert used >= 1 and _settings_of_every_pooled_connection(engine) == ["on"] * used
