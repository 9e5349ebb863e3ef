"""``verify`` never crashes on a damaged log: whatever it cannot read is evidence.

Issue 12: on SQLite, with the append-only triggers dropped, ``update events set
recorded_at='abc' where position=60`` made ``factledger verify`` print a Python traceback, and
``ALTER TABLE events DROP COLUMN hash`` made it say "database error: no such column" (exit 2),
as if the database had failed rather than the log been damaged.

Here the baseline (8 events; position 5 is ``nis-1500``) is damaged in every column with values
of the wrong type, NULLs, numbers too large to be times, hashes of the wrong length or case, and
by dropping a column or the table. Each time both ``Ledger.verify()`` (a report, ok=False, with
the position and what is wrong) and ``factledger verify`` (exit 1, one ``TAMPERED`` message, no
traceback, nothing on stderr) must name the damage.

To store a value of another type, or a NULL, the attacker first loosens the table, as the owner
of the database can: on SQLite by rebuilding it without its constraints (a column then keeps
whatever is stored in it, as SQLite does); on PostgreSQL by dropping a NOT NULL or changing a
column's type, which changes the column for every row (so such damage shows at position 1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from sqlalchemy import Engine, create_engine

from ledger import Ledger, hashing
from tests.cli.conftest import run
from tests.helpers import drop_guards, raw

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "data" / "good" / "baseline.jsonl"
EXAMPLE = ROOT / "examples" / "north-korea-troops.jsonl"
EDITED = 5


@attrs.frozen
class Damaged:
    url: str
    engine: Engine
    backend: str


def imported(url: str, backend: str, source: Path) -> Iterator[Damaged]:
    result = run(["--db", url, "import", str(source)])
    assert result.exit_code == 0, result.stderr
    engine = create_engine(url)
    drop_guards(engine)
    yield Damaged(url, engine, backend)
    engine.dispose()


@pytest.fixture
def log(ledger_url: str, backend: str) -> Iterator[Damaged]:
    """The baseline, imported through the CLI, with the append-only triggers dropped."""
    yield from imported(ledger_url, backend, BASELINE)


def loosen(target: Damaged, column: str, *, to_text: bool = False) -> None:
    """Let ``column`` hold NULL (and, with ``to_text`` on PostgreSQL, any text)."""
    if target.backend == "sqlite":
        raw(target.engine, "CREATE TABLE loose AS SELECT * FROM events")
        raw(target.engine, "DROP TABLE events")
        raw(target.engine, "ALTER TABLE loose RENAME TO events")
        return
    raw(target.engine, f"ALTER TABLE events ALTER COLUMN {column} DROP NOT NULL")
    if to_text:
        raw(target.engine, f"ALTER TABLE events ALTER COLUMN {column} TYPE text")


def found(target: Damaged) -> tuple[int | None, str]:
    """What both the Python API and the CLI say about the damaged log: its position and
    problem. They must agree, and the CLI must exit 1 with one message and no traceback."""
    with Ledger.open(target.url) as lg:
        report = lg.verify()
    assert not report.ok
    assert report.problem is not None

    result = run(["--db", target.url, "verify"])
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    assert "Traceback" not in result.stdout
    said = " ".join(result.stdout.split())
    assert said == f"TAMPERED at position {report.position}: {report.problem}"

    as_json = run(["--db", target.url, "verify", "--json"])
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert (document["ok"], document["position"]) == (False, report.position)
    assert document["problem"] == report.problem
    return report.position, report.problem


def damage(target: Damaged, sql: str) -> None:
    raw(target.engine, sql.format(at=EDITED))


# -- the case of the issue, exactly -----------------------------------------------------------


@pytest.fixture
def example(ledger_url: str, backend: str) -> Iterator[Damaged]:
    yield from imported(ledger_url, backend, EXAMPLE)


@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
def test_text_in_recorded_at_of_the_example_is_named_not_a_traceback(example: Damaged) -> None:
    raw(example.engine, "UPDATE events SET recorded_at = 'abc' WHERE position = 60")

    assert found(example) == (
        60,
        "recorded_at holds 'abc' (text), not an integer: the row was edited",
    )


@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
def test_a_dropped_hash_column_is_damage_to_the_log_not_a_database_error(
    example: Damaged,
) -> None:
    raw(example.engine, "ALTER TABLE events DROP COLUMN hash")

    assert found(example) == (
        1,
        "the log cannot be read from here on (no such column: events.hash): the database was "
        "altered or damaged outside the ledger",
    )


# -- values of the wrong type, in every column --------------------------------------------------

#: (column, value as SQL, what verify says on SQLite): stored at position 5 of a loosened table.
WRONG_TYPES = [
    ("event_id", "X'00ff'", "event_id holds b'\\x00\\xff' (a blob), not text"),
    ("stream_id", "X'00'", "stream_id holds b'\\x00' (a blob), not text"),
    ("stream_version", "'one'", "stream_version holds 'one' (text), not an integer"),
    ("stream_version", "1.5", "stream_version holds 1.5 (a real number), not an integer"),
    ("type", "X'0102'", "type holds b'\\x01\\x02' (a blob), not text"),
    ("stated_at", "'yesterday'", "stated_at holds 'yesterday' (text), not an integer"),
    ("recorded_at", "'abc'", "recorded_at holds 'abc' (text), not an integer"),
    ("recorded_at", "1e300", "recorded_at holds 1e+300 (a real number), not an integer"),
    (
        "recorded_at",
        "99999999999999999999",
        "recorded_at holds 1e+20 (a real number), not an integer",
    ),
    ("payload", "X'7b7d'", "payload holds b'{}' (a blob), not text"),
    ("prev_hash", "X'00'", "prev_hash holds b'\\x00' (a blob), not text"),
    ("hash", "X'07'", "hash holds b'\\x07' (a blob), not text"),
]


@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("column", "value", "said"), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_named_at_its_position_on_sqlite(
    log: Damaged, column: str, value: str, said: str
) -> None:
    loosen(log, column)
    damage(log, f"UPDATE events SET {column} = {value} WHERE position = {{at}}")

    assert found(log) == (EDITED, f"{said}: the row was edited")


@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
def test_a_position_that_is_text_is_a_missing_row_on_sqlite(log: Damaged) -> None:
    """Text sorts after every number in SQLite, so the row falls out of the read altogether."""
    loosen(log, "position")  # an INTEGER PRIMARY KEY takes nothing but integers
    damage(log, "UPDATE events SET position = 'five' WHERE position = {at}")

    assert found(log) == (
        EDITED + 1,
        f"expected position {EDITED} next, found {EDITED + 1}: a row is missing or out of order",
    )


@pytest.mark.parametrize("databases", ["postgresql"], indirect=True)
@pytest.mark.parametrize("column", ["stream_version", "recorded_at"])
def test_a_column_changed_to_text_is_named_at_the_first_row_on_postgresql(
    log: Damaged, column: str
) -> None:
    loosen(log, column, to_text=True)
    damage(log, f"UPDATE events SET {column} = 'abc' WHERE position = {{at}}")

    position, problem = found(log)
    assert position == 1  # the column's type changed for every row
    assert problem.startswith(f"{column} holds '")
    assert problem.endswith("' (text), not an integer: the row was edited")


@pytest.mark.parametrize("databases", ["postgresql"], indirect=True)
def test_text_in_stated_at_is_named_at_the_first_statement_on_postgresql(log: Damaged) -> None:
    """Sources and propositions (positions 1-4) have no stated_at; position 5 is the first
    row that holds one, and it now holds text."""
    loosen(log, "stated_at", to_text=True)
    damage(log, "UPDATE events SET stated_at = 'abc' WHERE position = {at}")

    assert found(log) == (
        EDITED,
        "stated_at holds 'abc' (text), not an integer: the row was edited",
    )


# -- NULLs ---------------------------------------------------------------------------------------

NOT_NULL = [
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "recorded_at",
    "payload",
    "prev_hash",
    "hash",
]


@pytest.mark.parametrize("column", NOT_NULL)
def test_a_null_is_named_at_its_position(log: Damaged, column: str) -> None:
    loosen(log, column)
    damage(log, f"UPDATE events SET {column} = NULL WHERE position = {{at}}")

    assert found(log) == (EDITED, f"{column} is NULL: the row was edited")


def test_a_null_stated_at_on_a_statement_breaks_its_hash(log: Damaged) -> None:
    """stated_at may be NULL (sources have none), so the hash is what catches it."""
    damage(log, "UPDATE events SET stated_at = NULL WHERE position = {at}")

    assert found(log) == (
        EDITED,
        "the stored hash does not match the event's content: the row was edited",
    )


# -- numbers too large to be times, hashes of the wrong shape -----------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [("recorded_at", 2**63 - 1), ("stated_at", -(2**63)), ("recorded_at", 2**62)],
)
def test_a_time_out_of_range_is_named(log: Damaged, column: str, value: int) -> None:
    damage(log, f"UPDATE events SET {column} = {value} WHERE position = {{at}}")

    assert found(log) == (
        EDITED,
        f"{column} {value} is not a time (years 1 to 9999): the row was edited",
    )


def test_a_huge_time_with_a_correctly_recomputed_hash_still_cannot_pass(log: Damaged) -> None:
    """The last row gets recorded_at 2**62 and a hash recomputed over it by the public
    algorithm: the chain holds, but no such time exists, and a verified head must have one."""
    with log.engine.connect() as conn:
        row = dict(
            conn.exec_driver_sql(
                "SELECT position, event_id, stream_id, stream_version, type, stated_at, "
                "recorded_at, payload, prev_hash FROM events WHERE position = 8"
            )
            .mappings()
            .one()
        )
    row["recorded_at"] = 2**62
    digest = hashing.row_hash(
        row["prev_hash"],
        row["position"],
        row["event_id"],
        row["stream_id"],
        row["stream_version"],
        row["type"],
        row["stated_at"],
        row["recorded_at"],
        row["payload"],
    )
    raw(
        log.engine,
        "UPDATE events SET recorded_at = :r, hash = :h WHERE position = 8",
        r=2**62,
        h=digest,
    )

    assert found(log) == (
        8,
        f"recorded_at {2**62} is not a time (years 1 to 9999): the row was edited",
    )


@pytest.mark.parametrize(
    ("column", "sql", "shown"),
    [
        ("hash", "'abc'", "'abc' (text)"),
        ("hash", "UPPER(hash)", None),
        ("hash", "hash || '00'", None),
        ("prev_hash", "SUBSTR(prev_hash, 1, 63)", None),
    ],
    ids=["short", "upper-case", "long", "short-prev"],
)
def test_a_hash_of_the_wrong_length_or_case_is_named(
    log: Damaged, column: str, sql: str, shown: str | None
) -> None:
    loosen(log, column, to_text=True)  # PostgreSQL's varchar(64) takes no longer hash
    damage(log, f"UPDATE events SET {column} = {sql} WHERE position = {{at}}")

    position, problem = found(log)
    assert position == EDITED
    assert problem.startswith(f"{column} ")
    if shown is not None:
        assert problem.startswith(f"{column} {shown} ")
    assert problem.endswith(" is not a SHA-256 digest (64 hex digits): the row was edited")


# -- a missing column, a missing table -------------------------------------------------------


def missing(backend: str, sqlite: str, postgresql: str) -> str:
    detail = sqlite if backend == "sqlite" else postgresql
    return (
        f"the log cannot be read from here on ({detail}): the database was altered or damaged "
        "outside the ledger"
    )


@pytest.mark.parametrize("column", ["hash", "recorded_at", "payload"])
def test_a_dropped_column_is_damage_to_the_log(log: Damaged, column: str) -> None:
    if log.backend == "sqlite" and column == "recorded_at":
        damage(log, "DROP INDEX ix_events_recorded_at")  # SQLite drops no indexed column
    damage(log, f"ALTER TABLE events DROP COLUMN {column}")

    assert found(log) == (
        1,
        missing(
            log.backend,
            f"no such column: events.{column}",
            f"column events.{column} does not exist",
        ),
    )


ATTACKS: dict[str, Callable[[Damaged], None]] = {
    "renamed": lambda d: damage(d, "ALTER TABLE events RENAME TO events_old"),
    "dropped": lambda d: damage(d, "DROP TABLE events"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_dropped_or_renamed_events_table_is_damage_to_the_log(log: Damaged, attack: str) -> None:
    ATTACKS[attack](log)

    assert found(log) == (
        1,
        missing(log.backend, "no such table: events", 'relation "events" does not exist'),
    )


def test_the_intact_baseline_still_verifies(log: Damaged) -> None:
    """The control: the fixture alone (triggers dropped, nothing else) damages nothing."""
    with Ledger.open(log.url) as lg:
        assert lg.verify().ok
    assert run(["--db", log.url, "verify"]).exit_code == 0
