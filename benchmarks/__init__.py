"""Reproducible performance benchmarks for factledger, side by side with a peer.

``python -m benchmarks`` (or ``make bench``) generates a seeded synthetic ledger
(:mod:`benchmarks.generator`), runs factledger's workloads on it (:mod:`benchmarks.ours`) and
the same append and read workloads on the ``eventsourcing`` library (:mod:`benchmarks.peer`) on
SQLite and PostgreSQL, and reports every figure next to its target (:mod:`benchmarks.harness`).
``python -m benchmarks.profiling`` profiles the import, replay and rebuild paths. See
``BENCHMARKS.md``.
"""
