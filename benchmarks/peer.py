"""The peer: the same append and read workloads on the ``eventsourcing`` library (9.x).

Its application recorders (``SQLiteApplicationRecorder``, ``PostgresApplicationRecorder``)
store exactly what it needs for an event-sourced application with a notification log: one row
per event (originator id, originator version, topic, state) plus a global notification id. The
events are the generated records themselves: originator = UUID 5 of the record's stream (a
correction joins its statement's stream, as in factledger), version = its place in that stream,
topic = the record type, state = the JSON line as bytes. No hashing, no validation, no
projection: the floor that a plain event store reaches on the same database.

Workloads, on a fresh database per run:

* ``insert_batched``: ``insert_events`` of 1,000 events a call, the whole ledger (events/s);
* ``insert_one``: one-event ``insert_events`` calls on the loaded store (latency);
* ``read``: the notification log read back in pages (``select_notifications``; events/s);
* ``select_stream``: ``select_events`` of one random stream (latency; the nearest thing the
  peer has to a point query, shown for reference next to factledger's as-of query);
* ``deliveries`` (beside factledger's deliveries workload): the same records inserted with one
  ``insert_events`` call per delivery (events/s, and the last ten deliveries' mean time against
  the first ten's, the growth a plain event store shows).

``eventsourcing`` is optional: :func:`available` says whether it can be imported.
"""

from __future__ import annotations

import importlib.util
import json
import random
import time
import uuid
from collections.abc import Sequence
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from benchmarks.databases import schema_of, sqlite_path
from benchmarks.generator import Generated, read_records

BATCH = 1_000
PAGE = 2_000
_NS = uuid.UUID("0b6c4f6e-6a1d-5d7e-8f77-2a4c9f0e1b3d")


def available() -> bool:
    return importlib.util.find_spec("eventsourcing") is not None


def version() -> str | None:
    return dist_version("eventsourcing") if available() else None


def stored_events(gen: Generated) -> list[Any]:
    """The generated ledger as the peer's ``StoredEvent`` objects, in file order."""
    return stored_events_of(gen.files)


def stored_events_of(paths: Sequence[Path]) -> list[Any]:
    """The records of ``paths`` (generated JSONL files) as ``StoredEvent`` objects, in order."""
    from eventsourcing.persistence import StoredEvent  # noqa: PLC0415 (optional)

    versions: dict[str, int] = {}
    out = []
    for path in paths:
        with open(path, "rb") as lines:
            for line in lines:
                kind, stream = _stream_of(line)
                n = versions.get(stream, 0) + 1
                versions[stream] = n
                out.append(StoredEvent(uuid.uuid5(_NS, stream), n, kind, line.rstrip(b"\n")))
    return out


def _stream_of(line: bytes) -> tuple[str, str]:
    record = json.loads(line)
    kind = record["type"]
    if kind == "correction":
        return kind, f"statement:{record['corrects']}"
    return kind, f"{kind}:{record['id']}"


class PeerStore:
    """One eventsourcing application recorder on a fresh database."""

    def __init__(self, url: str):
        self.backend = make_url(url).get_backend_name()
        self._datastore: Any
        if self.backend == "sqlite":
            from eventsourcing.sqlite import (  # noqa: PLC0415 (optional dependency)
                SQLiteApplicationRecorder,
                SQLiteDatastore,
            )

            self._datastore = SQLiteDatastore(sqlite_path(url))
            self.recorder: Any = SQLiteApplicationRecorder(self._datastore)
        else:
            from eventsourcing.postgres import (  # noqa: PLC0415 (optional dependency)
                PostgresApplicationRecorder,
                PostgresDatastore,
            )

            u = make_url(url)
            self._datastore = PostgresDatastore(
                dbname=u.database or "postgres",
                host=u.host or "127.0.0.1",
                port=u.port or 5432,
                user=u.username or "postgres",
                password=u.password or "",
                schema=schema_of(url),
            )
            self.recorder = PostgresApplicationRecorder(self._datastore)
        self.recorder.create_table()

    def close(self) -> None:
        self._datastore.close()

    def insert_batched(self, events: Sequence[Any], batch: int = BATCH) -> float:
        """Insert all ``events``, ``batch`` per call; seconds taken."""
        t0 = time.perf_counter()
        for i in range(0, len(events), batch):
            self.recorder.insert_events(events[i : i + batch])
        return time.perf_counter() - t0

    def insert_each(self, deliveries: Sequence[Sequence[Any]]) -> list[float]:
        """One ``insert_events`` call per delivery, in order; the seconds of each."""
        out = []
        for events in deliveries:
            t0 = time.perf_counter()
            self.recorder.insert_events(events)
            out.append(time.perf_counter() - t0)
        return out

    def insert_one(self, count: int, seed: int, template: bytes) -> list[float]:
        """``count`` one-event calls, each a new stream's first event; latencies."""
        from eventsourcing.persistence import StoredEvent  # noqa: PLC0415 (optional)

        rng = random.Random(seed)
        latencies = []
        for _ in range(count):
            event = StoredEvent(uuid.UUID(int=rng.getrandbits(128)), 1, "statement", template)
            t0 = time.perf_counter()
            self.recorder.insert_events([event])
            latencies.append(time.perf_counter() - t0)
        return latencies

    def read(self, page: int = PAGE) -> tuple[float, int]:
        """Read the whole notification log back; seconds and events."""
        t0 = time.perf_counter()
        start, n = 1, 0
        while True:
            notes = self.recorder.select_notifications(start, page)
            n += len(notes)
            if len(notes) < page:
                break
            start = notes[-1].id + 1
        return time.perf_counter() - t0, n

    def select_stream(self, originators: Sequence[uuid.UUID], count: int, seed: int) -> list[float]:
        rng = random.Random(seed)
        latencies = []
        for _ in range(count):
            originator = rng.choice(originators)
            t0 = time.perf_counter()
            self.recorder.select_events(originator)
            latencies.append(time.perf_counter() - t0)
        return latencies


def one_statement_template(gen: Generated) -> bytes:
    """A typical statement line, the state of every one-event insert."""
    for record in read_records(gen.files[0]):
        if record["type"] == "statement":
            return json.dumps(record, separators=(",", ":")).encode()
    return b"{}"
