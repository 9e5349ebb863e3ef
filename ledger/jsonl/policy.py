"""A policy record read from a file, for a what-if answer (``--policy FILE``, ``policy=``).

The file holds one JSON object, a ``policy`` record of the import format (see
``docs/import-format.md``), or is a JSON Lines file: then its last ``policy`` record is taken
(the one that would be in force once the file were imported) and other records are ignored.
The record is checked as the importer checks it; nothing is appended anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

from ledger.errors import InvalidRecord
from ledger.events import PolicySet
from ledger.jsonl.importer import to_event


def read_policy(path: str | Path) -> PolicySet:
    """The policy record in the file at ``path`` (see the module docstring)."""
    name = str(path)
    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return _policy(whole, f"{name}:1")
    found: tuple[dict[str, object], int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidRecord(
                f"is not valid JSON: {e.msg}", location=f"{name}:{number}"
            ) from None
        if isinstance(record, dict) and record.get("type") == "policy":
            found = (record, number)
    if found is None:
        raise InvalidRecord('holds no policy record (a line with "type": "policy")', location=name)
    return _policy(found[0], f"{name}:{found[1]}")


def _policy(record: dict[str, object], where: str) -> PolicySet:
    if record.get("type") != "policy":
        raise InvalidRecord(
            'is not a policy record ("type": "policy")', field="type", location=where
        )
    event = to_event(record)
    if isinstance(event, list):
        raise event[0].at(where)
    assert isinstance(event, PolicySet)
    return event
