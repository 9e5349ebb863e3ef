"""``believe --json`` and ``verify`` on every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, make_url, text

from ledger import Ledger, StatementMade
from tests.cli.conftest import EXAMPLE, run
from tests.conftest import pg_admin
from tests.helpers import drop_guards, raw


def test_believe_json_answers_the_same_on_every_backend(ledger_url: str) -> None:
    assert run(["--db", ledger_url, "import", str(EXAMPLE)]).exit_code == 0

    early = run(
        ["--db", ledger_url, "believe", "dprk-troops-in-russia", "--as-of", "2024-11-01", "--json"]
    )
    late = run(
        ["--db", ledger_url, "believe", "dprk-troops-in-russia", "--as-of", "2025-05-01", "--json"]
    )

    assert json.loads(early.stdout)["status"] == "disputed"
    assert json.loads(late.stdout)["status"] == "confirmed"


def test_verify_detects_an_edited_row_on_every_backend(ledger_url: str) -> None:
    assert run(["--db", ledger_url, "import", str(EXAMPLE)]).exit_code == 0
    ok = run(["--db", ledger_url, "verify"])
    with Ledger.open(ledger_url) as lg:
        position = next(
            r.position
            for r in lg.read()
            if isinstance(r.event, StatementMade) and r.event.value == 1500
        )
    engine = create_engine(make_url(ledger_url).set(drivername=_driver(ledger_url)))
    drop_guards(engine)
    raw(
        engine,
        "UPDATE events SET payload = REPLACE(payload, '1500', '15000') WHERE position = :p",
        p=position,
    )
    engine.dispose()

    tampered = run(["--db", ledger_url, "verify"])

    assert ok.exit_code == 0
    assert ok.stdout.startswith("ok: 85 events verified")
    assert tampered.exit_code == 1
    assert tampered.stdout.startswith(f"TAMPERED at position {position}:")


def _driver(url: str) -> str:
    name = make_url(url).drivername
    return "postgresql+psycopg" if name == "postgresql" else name


def test_db_grant_commands_make_least_privilege_roles_on_postgresql(ledger_url: str) -> None:
    assert run(["--db", ledger_url, "init"]).exit_code == 0
    if not ledger_url.startswith("postgresql"):
        refused = run(["--db", ledger_url, "db", "grant-writer", "someone"])
        assert refused.exit_code == 2
        assert "PostgreSQL" in refused.stderr
        return
    role = "factledger_cli_test_role"
    try:
        for command in ("grant-writer", "grant-reader", "grant-reader"):
            result = run(["--db", ledger_url, "db", command, role])
            assert result.exit_code == 0, result.output
        granted = _privileges(ledger_url, role)
        assert granted == {"SELECT"}  # grant-reader took the writer's INSERT away again
    finally:
        _drop_role(role)


def _privileges(url: str, role: str) -> set[str]:
    engine = create_engine(make_url(url).set(drivername=_driver(url)))
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = :role AND table_name = 'events' "
                "AND table_schema = current_schema()"
            ),
            {"role": role},
        )
        found = {r[0] for r in rows}
    engine.dispose()
    return found


def _drop_role(role: str) -> None:
    with pg_admin().connect() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
