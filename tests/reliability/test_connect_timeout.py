"""A PostgreSQL server that accepts a connection and never answers must not hang the ledger.

Issue 12: such a server hung the CLI for 133 s (psycopg's own default connect timeout is 130 s).
A local listener on 127.0.0.1 plays that server: it accepts connections in a thread and never
sends a byte. Timings are not asserted beyond "it ended": only that it ends with the right error.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from ledger import Ledger, LedgerError
from ledger.errors import ConnectTimeout
from ledger.store.backends import DEFAULT_CONNECT_TIMEOUT, connect_timeout_from_env
from tests.cli.conftest import run


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 whose server accepts every connection and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)  # kept open, never read from or written to

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    listener.close()


def url(port: int, query: str = "") -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test{query}"


def test_the_connect_timeout_in_the_url_wins_and_the_error_names_host_and_timeout(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_CONNECT_TIMEOUT", "60")  # the URL's parameter wins over it
    with pytest.raises(ConnectTimeout) as caught:
        Ledger.open(url(silent_server, "?connect_timeout=2"))
    assert isinstance(caught.value, LedgerError)
    assert str(caught.value) == (
        f"cannot connect to the PostgreSQL server at 127.0.0.1:{silent_server}: no answer "
        "within the 2 s connect timeout (set ?connect_timeout=N in the URL or "
        "LEDGER_CONNECT_TIMEOUT)"
    )


def test_the_connect_timeout_comes_from_the_environment(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_CONNECT_TIMEOUT", "3")
    with pytest.raises(ConnectTimeout, match=r"127\.0\.0\.1:\d+: no answer within the 3 s "):
        Ledger.open(url(silent_server))


def test_factledger_says_which_server_did_not_answer_in_one_line(
    silent_server: int,
) -> None:
    result = run(
        ["--db", url(silent_server), "verify"],
        env={"LEDGER_CONNECT_TIMEOUT": "2"},
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: cannot connect to the PostgreSQL server at 127.0.0.1:{silent_server}: no "
        "answer within the 2 s connect timeout (set ?connect_timeout=N in the URL or "
        "LEDGER_CONNECT_TIMEOUT)\n"
    )


def test_the_default_connect_timeout_is_ten_seconds_and_psycopg_minimum_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEDGER_CONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    assert connect_timeout_from_env() == DEFAULT_CONNECT_TIMEOUT == 10
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "7")  # libpq's variable is honoured ...
    assert connect_timeout_from_env() == 7
    monkeypatch.setenv("LEDGER_CONNECT_TIMEOUT", "4.9")  # ... below ours; whole seconds
    assert connect_timeout_from_env() == 4
    monkeypatch.setenv("LEDGER_CONNECT_TIMEOUT", "0.5")  # psycopg waits at least 2 s anyway
    assert connect_timeout_from_env() == 2
    monkeypatch.setenv("LEDGER_CONNECT_TIMEOUT", "soon")
    with pytest.raises(LedgerError, match="LEDGER_CONNECT_TIMEOUT='soon' is not a positive"):
        connect_timeout_from_env()
