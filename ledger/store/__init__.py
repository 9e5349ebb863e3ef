"""Storage: the only layer that speaks SQL about the log.

``backends`` (engines, the writer lock, the one place that tells SQLite from PostgreSQL),
``dberrors`` (the one translation of driver errors into :class:`~ledger.errors.LedgerError`),
``schema`` (the ``events`` table), ``append`` and ``bulk`` (the write transactions),
``eventstore`` (:class:`~ledger.store.eventstore.EventStore`, reads and appends), ``verify``
(the hash chain), ``migrate`` (Alembic), ``privileges`` (database roles), ``retry`` (bounded waits).
"""
