"""Run the Alembic migrations: the only way the schema is created or changed.

Alembic is imported only when a migration may have to run: it is most of the package's import
time, and a command-line call on an up-to-date ledger should not pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text

from ledger.store.backends import reading, writing

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest revision in ``migrations/versions``; a test keeps it equal to Alembic's head.
HEAD = "0012"


def script_location() -> Path:
    """Where the revisions are: inside the installed wheel, or beside the package in a checkout."""
    package = Path(__file__).resolve().parents[1]  # ledger/ (this is ledger/store/migrate.py)
    for candidate in (package / "_migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("the Alembic migrations directory is missing from this installation")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


#: Whether the revision table exists, by the catalog (SQLAlchemy's inspector took about 19 ms
#: on PostgreSQL, paid by every ``Ledger.open``: a command-line call pays it each time).
_HAS_VERSION_TABLE = {
    "postgresql": "SELECT to_regclass('alembic_version') IS NOT NULL",
    "sqlite": "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' "
    "AND name = 'alembic_version'",
}


def schema_revision(engine: Engine) -> str | None:
    """The database's revision, read without Alembic (None for a database never migrated)."""
    with reading(engine) as conn:
        # make_engine opens no other backend
        if not conn.exec_driver_sql(_HAS_VERSION_TABLE[conn.dialect.name]).scalar():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision`` under the writer lock, so concurrent openers migrate once."""
    if revision == "head" and schema_revision(engine) == HEAD:
        return
    from alembic import command

    with writing(engine) as conn:
        # HEAD, not Alembic's head: reading every revision file to find it took some 18 ms of
        # each new ledger's opening (a test keeps the two equal)
        if revision == "head" and current_revision(conn) == HEAD:
            return
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with writing(engine) as conn:
        command.downgrade(alembic_config(conn), revision)
