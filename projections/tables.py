"""Tables of the materialized projections (created by Alembic revisions like every table)."""

from __future__ import annotations
