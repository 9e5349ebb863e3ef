"""Hypothesis strategies for factledger: the one module every test draws its data from.

Building blocks, each producing values the event types accept:

* :func:`slugs`, :func:`texts`, :func:`quantities`: ids, human text, numbers;
* :func:`dates`, :func:`instants`, :func:`time_likes`: times from a *small* pool of twelve days
  (:data:`DAYS`) and four times of day, so equal timestamps and ties are common, which is where
  ordering rules break;
* :func:`sources`, :func:`propositions`, :func:`documents`, :func:`statements`,
  :func:`corrections`: one event each, whose references are drawn from the ids passed in;
* :func:`histories`: whole ledgers, as a list of *batches* that are valid when appended in order
  (every reference names a record registered in an earlier batch or earlier in the same batch).

For a belief-projection property test, draw a history and query times from the same pool::

    @given(histories(), dates(), instants())
    def test_...(history: list[list[Event]], as_of: date, known_at: datetime) -> None:
        for batch in history:
            ledger.append(batch)

Everything is small by default, so that an example backed by a real database runs in well under
a second; pass larger maxima for heavier runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any

from hypothesis import strategies as st

from ledger.events import (
    Category,
    CorrectionMade,
    DocumentRegistered,
    Event,
    PropositionDefined,
    Reliability,
    SourceRegistered,
    Stance,
    StatementMade,
)
from ledger.times import TimeLike
from projections.rules import Said

#: The days every drawn time falls on (in UTC, before any offset): twelve, from October 2024 to
#: April 2025, deliberately few so that two statements on the same day are the normal case.
DAYS: tuple[date, ...] = (
    date(2024, 10, 1),
    date(2024, 10, 18),
    date(2024, 10, 23),
    date(2024, 11, 4),
    date(2024, 11, 30),
    date(2024, 12, 16),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 1, 11),
    date(2025, 2, 7),
    date(2025, 4, 26),
    date(2025, 4, 28),
)
#: Times of day: midnight (what a bare date means), two ordinary ones, and the last microsecond.
TIMES_OF_DAY: tuple[time, ...] = (time(0), time(9, 30), time(12), time(23, 59, 59, 999_999))
#: UTC first (the shrink target), then two offsets that move an instant across a day boundary.
OFFSETS: tuple[timezone, ...] = (UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5)))

AFFILIATIONS: tuple[str, ...] = ("kp", "kr", "ru", "ua", "us", "un")
UNITS: tuple[str, ...] = ("troops", "soldiers", "casualties", "km")
#: The statement fields a generated correction may set (a subset of ``ledger.events.CORRECTABLE``).
CORRECTED_FIELDS: tuple[str, ...] = ("stated_at", "stance", "value", "source", "proposition")

_SLUG_FIRST = "abcdefghijklmnopqrstuvwxyz0123456789"
_SLUG_REST = _SLUG_FIRST + "-_."


# -- scalars ---------------------------------------------------------------------------------


@cache
def slugs(*, max_size: int = 12) -> st.SearchStrategy[str]:
    """Valid ids (``[a-z0-9][a-z0-9._-]*``), short by default; ``max_size=128`` is the limit."""
    rest = st.text(alphabet=_SLUG_REST, max_size=max_size - 1)
    return st.builds(str.__add__, st.sampled_from(_SLUG_FIRST), rest)


@cache
def texts(*, max_size: int = 30) -> st.SearchStrategy[str]:
    """Human text the validators accept: not blank, no control characters, any other Unicode.

    Non-ASCII text is drawn on purpose: the canonical encoding keeps it unescaped.
    """
    alphabet = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
    return st.text(alphabet, min_size=1, max_size=max_size).filter(lambda s: bool(s.strip()))


@cache
def stored_texts(*, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Any text a database column can hold: every Unicode character but NUL (and lone
    surrogates, which UTF-8 cannot encode), tabs, newlines and backslashes among them."""
    return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=max_size)


@cache
def quantities() -> st.SearchStrategy[int | float]:
    """Numbers a statement's ``value`` accepts: integers, integral floats (which the event
    normalises to integers: ``1500.0`` becomes ``1500``), fractions, and the 2**53 limit."""
    counts = st.integers(min_value=0, max_value=20_000)
    return st.one_of(
        counts,
        counts.map(float),
        st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
        st.just(2**53),
    )


@cache
def dates() -> st.SearchStrategy[date]:
    """A bare date from :data:`DAYS` (as an event time, midnight UTC)."""
    return st.sampled_from(DAYS)


@cache
def instants(*, utc_only: bool = False) -> st.SearchStrategy[datetime]:
    """An aware datetime: a day of :data:`DAYS` at one of :data:`TIMES_OF_DAY`, in UTC or (unless
    ``utc_only``) at an offset from :data:`OFFSETS`. Equal instants are drawn often."""
    zones = st.just(UTC) if utc_only else st.sampled_from(OFFSETS)
    return st.builds(
        lambda day, clock, zone: datetime.combine(day, clock, tzinfo=zone),
        dates(),
        st.sampled_from(TIMES_OF_DAY),
        zones,
    )


@cache
def time_likes() -> st.SearchStrategy[TimeLike]:
    """Anything an event time accepts: a date, an aware datetime, or either as ISO text."""
    return st.one_of(
        dates(),
        instants(),
        dates().map(date.isoformat),
        instants().map(datetime.isoformat),
    )


# Strategies are built once, here and by the caches above: building a strategy for every draw
# costs Hypothesis more than the draw itself.
_CATEGORY = st.sampled_from(Category)
_STANCE = st.sampled_from(Stance)
_MAYBE_AFFILIATION = st.none() | st.sampled_from(AFFILIATIONS)
_MAYBE_RELIABILITY = st.none() | st.sampled_from(Reliability)
_MAYBE_TEXT = st.none() | texts()
_MAYBE_BODY = st.none() | texts(max_size=80)
_MAYBE_TIME = st.none() | time_likes()
_MAYBE_URL = st.none() | st.just("https://example.org/a")
_MAYBE_QUANTITY = st.none() | quantities()
_MAYBE_UNIT = st.none() | st.sampled_from(UNITS)


# -- one event each --------------------------------------------------------------------------


@st.composite
def sources(draw: st.DrawFn, source_id: str | None = None) -> SourceRegistered:
    """A source of any category (``investigation`` and ``court`` included), optional
    affiliation, reliability grade and note."""
    return SourceRegistered(
        source_id=draw(slugs()) if source_id is None else source_id,
        name=draw(texts()),
        category=draw(_CATEGORY),
        affiliation=draw(_MAYBE_AFFILIATION),
        reliability=draw(_MAYBE_RELIABILITY),
        note=draw(_MAYBE_TEXT),
    )


@st.composite
def propositions(
    draw: st.DrawFn, source_ids: Sequence[str], proposition_id: str | None = None
) -> PropositionDefined:
    """A proposition whose parties (at most two, maybe none) are drawn from ``source_ids``."""
    parties = (
        draw(st.lists(st.sampled_from(source_ids), unique=True, max_size=2)) if source_ids else []
    )
    return PropositionDefined(
        proposition_id=draw(slugs()) if proposition_id is None else proposition_id,
        text=draw(texts(max_size=60)),
        parties=parties,
    )


@st.composite
def documents(draw: st.DrawFn, document_id: str | None = None) -> DocumentRegistered:
    """A document: with its text (and the text's true sha256), or with a bare sha256 only."""
    body = draw(_MAYBE_BODY)
    digest_of = body.encode("utf-8") if body is not None else draw(st.binary(max_size=8))
    return DocumentRegistered(
        document_id=draw(slugs()) if document_id is None else document_id,
        title=draw(texts()),
        sha256=hashlib.sha256(digest_of).hexdigest(),
        publisher=draw(_MAYBE_TEXT),
        published_at=draw(_MAYBE_TIME),
        url=draw(_MAYBE_URL),
        text=body,
    )


@st.composite
def statements(
    draw: st.DrawFn,
    source_ids: Sequence[str],
    proposition_ids: Sequence[str],
    statement_id: str | None = None,
    *,
    document_ids: Sequence[str] = (),
) -> StatementMade:
    """A statement by one of ``source_ids`` on one of ``proposition_ids``, with any of the six
    stances, a time from the small pool (any :func:`time_likes` form), an optional quantity
    (``value``, and sometimes a ``unit``) and, when ``document_ids`` is given, optional
    evidence (a document, and sometimes a quote from it)."""
    value = draw(_MAYBE_QUANTITY)
    document_id = draw(st.none() | st.sampled_from(document_ids)) if document_ids else None
    return StatementMade(
        statement_id=draw(slugs()) if statement_id is None else statement_id,
        source_id=draw(st.sampled_from(source_ids)),
        proposition_id=draw(st.sampled_from(proposition_ids)),
        stance=draw(_STANCE),
        stated_at=draw(time_likes()),
        value=value,
        unit=None if value is None else draw(_MAYBE_UNIT),
        document_id=document_id,
        quote=None if document_id is None else draw(_MAYBE_TEXT),
        note=draw(_MAYBE_TEXT),
    )


@st.composite
def corrections(
    draw: st.DrawFn,
    statement_ids: Sequence[str],
    source_ids: Sequence[str],
    proposition_ids: Sequence[str],
    correction_id: str | None = None,
) -> CorrectionMade:
    """A correction of one of ``statement_ids``: either ``withdraw=True``, or ``changes``
    setting one or more of :data:`CORRECTED_FIELDS`, new sources and propositions drawn from
    the ids given. A new ``value`` may be ``None`` (the quantity is cleared; applying the
    correction then clears the unit too, see ``ledger.events.apply_correction``)."""
    withdraw = draw(st.booleans())
    changes: dict[str, Any] = {}
    if not withdraw:
        fields = draw(st.lists(st.sampled_from(CORRECTED_FIELDS), min_size=1, unique=True))
        changes = {name: draw(_new_value(name, source_ids, proposition_ids)) for name in fields}
    return CorrectionMade(
        correction_id=draw(slugs()) if correction_id is None else correction_id,
        corrects=draw(st.sampled_from(statement_ids)),
        reason=draw(texts()),
        changes=changes,
        withdraw=withdraw,
    )


def _new_value(
    name: str, source_ids: Sequence[str], proposition_ids: Sequence[str]
) -> st.SearchStrategy[Any]:
    if name == "stated_at":
        return time_likes()
    if name == "stance":
        return _STANCE
    if name == "value":
        return _MAYBE_QUANTITY
    return st.sampled_from(source_ids if name == "source" else proposition_ids)


# -- whole histories -------------------------------------------------------------------------

_KINDS = ("source", "proposition", "document", "statement", "correction")


@st.composite
def histories(
    draw: st.DrawFn,
    max_sources: int = 4,
    max_propositions: int = 3,
    max_statements: int = 25,
    *,
    max_documents: int = 2,
    max_corrections: int = 5,
) -> list[list[Event]]:
    """A ledger's worth of events, as non-empty batches valid when appended in order.

    At least one source and one proposition; then documents, statements (back-dated anywhere in
    the pool, in no particular order) and corrections of statements already drawn, interleaved:
    a source may be registered after statements by other sources. Every record id is unique
    within its kind (event ids never collide); a proposition's parties are registered sources; a
    statement names a registered source, proposition and (maybe) document; a correction targets a
    statement drawn earlier and sets only existing sources and propositions. Batches are cut at
    random points of that one valid order. Shrinks towards one batch, sources first.
    """
    quota = {
        "source": draw(st.integers(1, max_sources)),
        "proposition": draw(st.integers(1, max_propositions)),
        "document": draw(st.integers(0, max_documents)),
        "statement": draw(st.integers(0, max_statements)),
        "correction": draw(st.integers(0, max_corrections)),
    }
    ids = {
        kind: draw(st.lists(slugs(), min_size=n, max_size=n, unique=True))
        for kind, n in quota.items()
    }
    made: dict[str, list[str]] = {kind: [] for kind in _KINDS}
    order: list[Event] = []
    while kinds := _placeable(quota, made):
        kind = draw(st.sampled_from(kinds))
        key = ids[kind][len(made[kind])]
        order.append(draw(_event(kind, key, made)))
        made[kind].append(key)
    return _batches(draw, order)


def _placeable(quota: dict[str, int], made: dict[str, list[str]]) -> list[str]:
    """The kinds of event that can come next: quota left, and everything they need exists."""
    needs = {
        "source": True,
        "proposition": True,
        "document": True,
        "statement": bool(made["source"] and made["proposition"]),
        "correction": bool(made["statement"]),
    }
    return [k for k in _KINDS if needs[k] and len(made[k]) < quota[k]]


def _event(kind: str, key: str, made: dict[str, list[str]]) -> st.SearchStrategy[Event]:
    src, prop, stmt = made["source"], made["proposition"], made["statement"]
    if kind == "source":
        return sources(key)
    if kind == "proposition":
        return propositions(list(src), key)
    if kind == "document":
        return documents(key)
    if kind == "statement":
        return statements(list(src), list(prop), key, document_ids=list(made["document"]))
    return corrections(list(stmt), list(src), list(prop), key)


def _batches(draw: st.DrawFn, order: list[Event]) -> list[list[Event]]:
    batches: list[list[Event]] = []
    for event in order:
        if not batches or draw(st.booleans()):
            batches.append([])
        batches[-1].append(event)
    return batches


def flatten(history: Sequence[Sequence[Event]]) -> list[Event]:
    """A history's events in append order, batches joined."""
    return [event for batch in history for event in batch]


# -- what the belief rules see ---------------------------------------------------------------


@st.composite
def judged_histories(
    draw: st.DrawFn,
) -> tuple[PropositionDefined, dict[str, SourceRegistered], list[Said]]:
    """A proposition, its sources and what they said about it, in the (stated_at, position)
    order the rules take it in: few sources (so stances replace each other), every category
    (authorities included), parties, all six stances, quantities with and without units, and
    equal times."""
    ids = draw(st.lists(slugs(max_size=4), min_size=1, max_size=6, unique=True))
    registered = {i: draw(sources(i)) for i in ids}
    proposition = draw(propositions(ids))
    said: list[Said] = []
    for position in range(1, draw(st.integers(min_value=0, max_value=25)) + 1):
        value = draw(_MAYBE_QUANTITY)
        said.append(
            Said(
                statement=f"st-{position}",
                source=draw(st.sampled_from(ids)),
                stance=draw(_STANCE),
                stated_at=draw(instants(utc_only=True)),
                position=position,
                value=value,
                unit=None if value is None else draw(_MAYBE_UNIT),
            )
        )
    said.sort(key=lambda s: s.order)
    return proposition, registered, said


# -- appends as a writer makes them (added for the write-path fast paths) ----------------------


@st.composite
def replayed_histories(draw: st.DrawFn, max_statements: int = 15) -> list[list[Event]]:
    """A :func:`histories` whose batches sometimes also carry events of earlier batches (or the
    same batch) again, identical: what a re-run import sends, which the store must skip."""
    batches = draw(histories(max_statements=max_statements))
    seen: list[Event] = []
    out: list[list[Event]] = []
    for batch in batches:
        earlier = draw(st.lists(st.sampled_from(seen), max_size=3)) if seen else []
        again = draw(st.lists(st.sampled_from(batch), max_size=2))  # after their first copy
        front = draw(st.booleans())
        out.append([*earlier, *batch, *again] if front else [*batch, *earlier, *again])
        seen.extend(batch)
    return out


# -- Merkle trees and signed notes (issue 15) ----------------------------------------------------


def merkle_leaves(max_size: int = 300, min_size: int = 0) -> st.SearchStrategy[list[bytes]]:
    """The leaves of a Merkle tree: distinct, of varied length. Their content does not shape the
    tree, so they are derived from a drawn size and salt: large trees cost one draw, and
    shrinking goes straight to the smallest size that fails."""
    return st.builds(
        lambda size, salt: [salt * (i % 3) + i.to_bytes(4, "big") for i in range(size)],
        st.integers(min_value=min_size, max_value=max_size),
        st.binary(max_size=8),
    )


@st.composite
def leaf_in_tree(draw: st.DrawFn, max_size: int = 300) -> tuple[list[bytes], int]:
    """A non-empty tree's leaves and the index of one of them."""
    leaves = draw(merkle_leaves(max_size, min_size=1))
    return leaves, draw(st.integers(min_value=0, max_value=len(leaves) - 1))


@st.composite
def tree_and_old_size(draw: st.DrawFn, max_size: int = 300) -> tuple[list[bytes], int]:
    """A tree's leaves and an earlier size of it (0 to its whole size)."""
    leaves = draw(merkle_leaves(max_size))
    return leaves, draw(st.integers(min_value=0, max_value=len(leaves)))


def note_key_names() -> st.SearchStrategy[str]:
    """C2SP key names: non-empty, no Unicode space, no '+', no control character."""
    return st.text(
        st.characters(
            blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="+\x85"
        ),
        min_size=1,
        max_size=24,
    ).filter(lambda name: not any(c.isspace() for c in name))


@st.composite
def flip_bit(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one bit inverted (``data`` must not be empty)."""
    bit = draw(st.integers(min_value=0, max_value=len(data) * 8 - 1))
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


# -- the belief grid (issue 14) ------------------------------------------------------------------


@st.composite
def grid_days(draw: st.DrawFn, max_size: int = 4) -> list[date | datetime | str]:
    """Dates to ask a belief grid about: days of :data:`DAYS` and the days either side of
    them (a bare date means its end), as dates, ISO text or instants, in any order, repeats
    allowed."""
    near = st.builds(
        lambda d, shift: d + timedelta(days=shift), dates(), st.sampled_from((-1, 0, 1))
    )
    one: st.SearchStrategy[date | datetime | str] = st.one_of(
        near, near.map(date.isoformat), instants()
    )
    return draw(st.lists(one, min_size=1, max_size=max_size))
