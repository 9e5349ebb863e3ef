"""Fixtures shared by every test: backends, isolated databases, a controllable clock.

Every backend test takes ``ledger_url`` (or ``ledger``) and so runs once on SQLite and once on
PostgreSQL. PostgreSQL URL: ``LEDGER_TEST_PG_URL`` (default: the local server, database
``test``, user ``postgres``). Each test gets a schema of its own, dropped afterwards. Outside CI an
unreachable server skips those tests with the reason; with ``CI`` set it fails them.

An empty database migrated to head gets the statements Alembic sent to the first one of its
backend in this process, replayed (``tests/migrated.py``): the same schema, checked by
``tests/backend/test_migrations.py``, whose tests (and any test that asks for
``real_migrations``) run Alembic itself.

Tests marked ``slow`` (the crash suite, the concurrent writers: minutes, not seconds) are
deselected, with a closing line that says so, unless ``CI`` or ``LEDGER_TEST_SLOW`` is set or a
``-m`` expression names them: ``make test-all`` (or ``LEDGER_TEST_SLOW=1 pytest``) runs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from ledger import Ledger
from ledger.store import migrate
from tests.migrated import REPLAYER, alembic_only

PG_URL = os.environ.get("LEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))
RUN_SLOW = IN_CI or bool(os.environ.get("LEDGER_TEST_SLOW"))
_SLOW_DESELECTED = pytest.StashKey[int]()

settings.register_profile(
    "dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if RUN_SLOW or "slow" in config.option.markexpr:  # `-m slow`, `-m "slow or not slow"`
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)
        config.stash[_SLOW_DESELECTED] = len(slow)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # the outermost: after the short summary
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> Iterator[None]:
    yield
    deselected = config.stash.get(_SLOW_DESELECTED, 0)
    # Under pytest-xdist the workers collect, so the controller knows no count: it says so
    # whenever the slow tests were left out.
    distributed = bool(getattr(config.option, "numprocesses", None)) and not hasattr(
        config, "workerinput"
    )
    left_out = distributed and not RUN_SLOW and "slow" not in config.option.markexpr
    if deselected or left_out:
        how_many = f"{deselected} slow tests" if deselected else "The slow tests were"
        terminalreporter.write_line(
            f"{how_many} deselected (CI always runs them): "
            "run them too with `make test-all` or `LEDGER_TEST_SLOW=1 pytest`, alone with "
            "`pytest -m slow`"
        )


class FakeClock:
    """The store's clock under test control: each reading advances it by ``step``."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)):
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current

    def set(self, when: datetime) -> None:
        self.now = when


@pytest.fixture(autouse=True, scope="session")
def _replayed_migrations() -> Iterator[None]:
    """Empty databases migrated to head by Alembic's recorded statements (see
    ``tests/migrated.py``): the same schema, a fraction of the time."""
    real = migrate.upgrade
    migrate.upgrade = REPLAYER
    yield
    migrate.upgrade = real


@pytest.fixture
def real_migrations() -> Iterator[None]:
    """For the test: every migration by Alembic itself (none replayed)."""
    with alembic_only():
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


_pg_state: dict[str, object] = {}


def pg_admin() -> Engine:
    """One engine to the test server for the session, or skip/fail with the reason."""
    if "engine" in _pg_state:
        return _pg_state["engine"]  # type: ignore[return-value]
    if "error" not in _pg_state:
        url = make_url(PG_URL)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            _pg_state["engine"] = engine
            return engine
        except Exception as e:  # any failure to reach the server means the same thing here
            _pg_state["error"] = f"{type(e).__name__}: {e}".splitlines()[0]
    reason = f"PostgreSQL not reachable at {PG_URL} (set LEDGER_TEST_PG_URL): {_pg_state['error']}"
    if IN_CI:
        pytest.fail(f"CI requires PostgreSQL tests to run: {reason}")
    pytest.skip(reason)


def new_pg_schema() -> tuple[str, Callable[[], None]]:
    """A fresh schema on the test server: its URL and a function that drops it."""
    admin = pg_admin()
    name = f"t_{os.urandom(6).hex()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = admin.url.update_query_dict({"options": f"-csearch_path={name}"})

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    return url.render_as_string(hide_password=False), drop


class Databases:
    """Makes fresh, isolated database URLs for one backend; cleans them all up at the end."""

    def __init__(self, backend: str, tmp_path_factory: pytest.TempPathFactory):
        self.backend = backend
        self._tmp = tmp_path_factory
        self._drops: list[Callable[[], None]] = []

    def new_url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self._tmp.mktemp('db') / 'ledger.db'}"
        url, drop = new_pg_schema()
        self._drops.append(drop)
        return url

    def cleanup(self) -> None:
        for drop in self._drops:
            drop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the PostgreSQL test server, for the tests of PostgreSQL alone (roles,
    lock waits); dropped afterwards."""
    url, drop = new_pg_schema()
    yield url
    drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    dbs = Databases(request.param, tmp_path_factory)
    yield dbs
    dbs.cleanup()


@pytest.fixture
def backend(databases: Databases) -> str:
    return databases.backend


@pytest.fixture
def ledger_url(databases: Databases) -> str:
    return databases.new_url()


@pytest.fixture
def ledger(ledger_url: str, clock: FakeClock) -> Iterator[Ledger]:
    lg = Ledger.open(ledger_url, clock=clock)
    yield lg
    lg.close()
