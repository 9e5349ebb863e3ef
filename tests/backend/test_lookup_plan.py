"""An append's lookup probes the log's indexes whatever the planner thinks of the batch.

Before each append (and while an import checks its file) the store asks for the last version of
every stream a batch names: on a daily delivery some 2,300 streams. With `stream_id = ANY(...)`
PostgreSQL judged that many probes dearer than a scan of the whole table, so every delivery read
the whole log, twice, and took longer the longer the log. The streams are now joined laterally,
one index probe each, a plan that does not depend on the statistics.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import Ledger, PropositionDefined, SourceRegistered
from ledger.store import append
from tests.conftest import new_pg_schema


@pytest.mark.postgresql
def test_postgresql_looks_up_many_streams_by_index_not_by_scanning_the_log() -> None:
    url, drop = new_pg_schema()
    try:
        with Ledger.open(url) as lg:
            lg.append([SourceRegistered(f"s{i}", f"Source {i}", "media") for i in range(300)])
            lg.append([PropositionDefined(f"p{i}", f"Proposition {i}") for i in range(300)])
            streams = [f"source:s{i}" for i in range(300)] + [f"statement:n{i}" for i in range(900)]
            with lg.store.engine.connect() as conn:
                conn.execute(text("ANALYZE events"))  # statistics that know the table is small
                plan = "\n".join(
                    row[0]
                    for row in conn.exec_driver_sql("EXPLAIN " + append._PG_STREAM_PART, (streams,))
                )
                found = append.lookup(conn, set(), streams)
        assert "Seq Scan" not in plan, plan
        assert "uq_events_stream_id_stream_version" in plan, plan
        assert found.versions == {f"source:s{i}": 1 for i in range(300)}
        assert found.known == set(found.versions)
    finally:
        drop()
