"""The public entry point: :class:`Ledger`, opened from a database URL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType

from ledger import migrate
from ledger.backends import DEFAULT_URL, make_engine
from ledger.events import Event
from ledger.records import AppendResult, Head, RecordedEvent, VerifyReport
from ledger.store import EventStore
from ledger.times import TimeLike, to_utc, utc_now


class Ledger:
    """An append-only, hash-chained, bitemporal ledger of claims.

    >>> from ledger import Ledger, SourceRegistered
    >>> with Ledger.open("sqlite://") as lg:
    ...     _ = lg.append([SourceRegistered("kcna", "Korean Central News Agency", "state_media")])
    ...     print(lg.verify().ok, lg.head().position)
    True 1
    """

    def __init__(self, store: EventStore, url: str):
        self.store = store
        self.url = url

    @classmethod
    def open(cls, url: str = DEFAULT_URL, *, clock: Callable[[], datetime] = utc_now) -> Ledger:
        """Open (creating if needed) the ledger at ``url`` and migrate its schema to head.

        ``clock`` is where ``recorded_at`` comes from; tests pass a fake one. It is never the
        caller's say per event: transaction time belongs to the ledger.
        """
        engine = make_engine(url)
        migrate.upgrade(engine)
        return cls(EventStore(engine, clock=clock), url)

    def close(self) -> None:
        self.store.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def append(
        self, events: Iterable[Event], *, expected_versions: Mapping[str, int] | None = None
    ) -> AppendResult:
        """Append one atomic batch (see :class:`ledger.store.EventStore` for the guarantees)."""
        return self.store.append(events, expected_versions=expected_versions)

    def read(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        stream_id: str | None = None,
        known_at: TimeLike | None = None,
    ) -> Iterator[RecordedEvent]:
        """Stream stored events in log order; see :meth:`EventStore.read`."""
        cutoff = None if known_at is None else to_utc(known_at, field="known_at")
        return self.store.read(after=after, until=until, stream_id=stream_id, known_at=cutoff)

    def head(self) -> Head:
        return self.store.head()

    def stream_version(self, stream_id: str) -> int:
        return self.store.stream_version(stream_id)

    def verify(self, checkpoint: tuple[int, str] | None = None) -> VerifyReport:
        return self.store.verify(checkpoint)
