"""Canonical encoding and the hash chain.

The canonical form of a stored event is the JSON object

    {"event_id":…,"payload":…,"position":…,"recorded_at":…,"stated_at":…,
     "stream_id":…,"stream_version":…,"type":…}

with keys sorted, no insignificant white space, UTF-8 without ``\\u`` escapes for non-ASCII
characters, times as integer microseconds since the Unix epoch (UTC) and the payload itself
canonical in the same way. ``hash = sha256(prev_hash || canonical)`` as lowercase hex, where
``prev_hash`` is the previous event's hash as 64 ASCII hex digits (64 zeros before the first
event). Floats use Python's shortest round-trip repr, which is the same on every platform and
every supported Python version; integral quantities are stored as integers.

Because the position and both times are inside the hashed text, editing a payload, a time, the
order of rows or the stream bookkeeping all break the chain at the first altered row.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring as _quote  # what _dumps does to a str, minus its wrapper
from typing import Any

GENESIS = "0" * 64

_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_sha256 = hashlib.sha256


def canonical_json(value: Any) -> str:
    """The canonical JSON text of a plain value (dict, list, str, number, bool, None)."""
    return _dumps(value)


def canonical_event(
    *,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    type: str,
    stated_at: int | None,
    recorded_at: int,
    payload: str,
) -> str:
    """The canonical text of one stored event; ``payload`` is already canonical JSON.

    Equal, by test, to ``canonical_json`` of the whole record; the text :func:`_canonical`
    builds, the one builder that appending and verifying share.
    """
    return _canonical(
        "", position, event_id, stream_id, stream_version, type, stated_at, recorded_at, payload
    )


def chain_hash(prev_hash: str, canonical: str) -> str:
    """``sha256(prev_hash || canonical)`` as 64 lowercase hex digits."""
    return _sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def row_hash(  # noqa: PLR0917 - by position: it runs once per row of every verify
    prev_hash: str,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    event_type: str,
    stated_at: int | None,
    recorded_at: int,
    payload: str,
) -> str:
    """``chain_hash(prev_hash, canonical_event(...))`` in one step, arguments by position in
    the order of the ``events`` columns: the verify loop's hash."""
    text = _canonical(
        prev_hash,
        position,
        event_id,
        stream_id,
        stream_version,
        event_type,
        stated_at,
        recorded_at,
        payload,
    )
    return _sha256(text.encode("utf-8")).hexdigest()


def _canonical(  # noqa: PLR0917 - by position: it runs once per row of every verify
    prefix: str,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    event_type: str,
    stated_at: int | None,
    recorded_at: int,
    payload: str,
) -> str:
    """``prefix`` followed by the canonical text of one stored event: the one place that
    text is built (``prefix`` is ``""`` for :func:`canonical_event` and the previous hash for
    :func:`row_hash`, which so hashes without a second concatenation).

    Built by concatenation so that verifying the log never re-parses payloads. ``event_id``
    is a UUID's text (nothing to escape); ``stream_id`` and ``type`` are escaped as
    ``canonical_json`` would, by the C encoder directly when they are ``str`` (a damaged row
    may hold anything: it is then encoded as ``canonical_json`` encodes it, and its hash is
    simply wrong).
    """
    return (
        f'{prefix}{{"event_id":"{event_id}","payload":{payload},"position":{position},'
        f'"recorded_at":{recorded_at},"stated_at":{"null" if stated_at is None else stated_at},'
        f'"stream_id":{_quote(stream_id) if type(stream_id) is str else _dumps(stream_id)},'
        f'"stream_version":{stream_version},'
        f'"type":{_quote(event_type) if type(event_type) is str else _dumps(event_type)}}}'
    )
