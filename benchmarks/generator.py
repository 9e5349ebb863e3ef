"""A seeded, deterministic synthetic ledger, written as JSON Lines in the import format.

The same ``(events, deliveries, seed)`` always gives byte-identical files. The ledger is cut
into *deliveries*: one JSONL file each, imported one after another with the ledger clock a day
further on each time, so the log has a transaction-time history (``known_at`` matters) as well
as a valid-time one. Its shape, for ``events`` records in all:

* sources: ``min(300, max(8, events // 300))`` (a few hundred at 100k and beyond), all
  registered in the first delivery; every category, affiliation and reliability grade;
* propositions: ``events // 30`` (tens of thousands at 1M), 0 to 2 parties each, defined over
  the deliveries as new stories come up; popularity is skewed towards recent stories, so a few
  propositions collect hundreds to thousands of statements and most collect tens;
* documents: ``events // 50`` (a sha256, sometimes the text itself), cited by ~40% of
  statements, half of those with a quote;
* statements: the rest less corrections, with the full stance mix (assert 38%, deny 22%,
  confirm 12%, refute 6%, retract 12%, no_comment 10%), quantities on ~35% of the
  asserting/denying ones (integers with a unit, decimals with or without one), ~15% of parties
  speaking for themselves, ~15% back-dated to anywhere since the story began, 40% with a
  full datetime and an offset instead of a bare date;
* corrections: ``events // 100`` of earlier statements, 30% withdrawals, the rest setting the
  stance, the date, the value, the source or the proposition.

Everything a record names is defined earlier (in the same file or an earlier delivery), so
every file imports cleanly.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20_241_018
#: Valid time of the synthetic world: statements are made between these days.
WORLD_START = date(2015, 1, 1)
WORLD_DAYS = 4_000
#: Transaction time: delivery ``k`` is imported at ``RECORDED_START + k days``.
RECORDED_START = datetime(2026, 1, 1, tzinfo=UTC)

CATEGORIES = (
    ("government", 30),
    ("state_media", 12),
    ("intelligence", 10),
    ("military", 10),
    ("international_org", 8),
    ("media", 40),
    ("individual", 20),
    ("investigation", 4),
    ("court", 3),
)
AFFILIATIONS = ("us", "kr", "kp", "ru", "ua", "cn", "jp", "gb", "fr", "de", "un", "eu")
RELIABILITY = ("A", "B", "C", "D", "E", "F")
STANCES = (
    ("assert", 38),
    ("deny", 22),
    ("confirm", 12),
    ("refute", 6),
    ("retract", 12),
    ("no_comment", 10),
)
_QUANTIFIED = frozenset({"assert", "deny", "confirm", "refute"})
OFFSETS = ("Z", "+00:00", "+09:00", "-05:00", "+03:00", "+01:00")
WORDS = (
    "troops", "border", "missile", "deployment", "sanctions", "shipment", "talks", "strike",
    "convoy", "artillery", "drone", "exercise", "treaty", "ceasefire", "delegation", "report",
)  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """How many records of each kind a ledger of ``events`` records holds."""

    events: int
    deliveries: int
    sources: int
    propositions: int
    documents: int
    statements: int
    corrections: int

    @classmethod
    def of(cls, events: int, deliveries: int) -> Shape:
        if events < 40:
            raise ValueError(f"a synthetic ledger needs at least 40 events, not {events}")
        sources = min(300, max(8, events // 300))
        propositions = max(4, events // 30)
        documents = max(2, events // 50)
        corrections = events // 100
        statements = events - sources - propositions - documents - corrections
        return cls(
            events, max(1, deliveries), sources, propositions, documents, statements, corrections
        )


@dataclass
class Generated:
    """What the generator wrote, and what the workloads need to know about it."""

    shape: Shape
    files: list[Path]
    #: Records in each file, in order.
    counts: list[int]
    source_ids: list[str]
    proposition_ids: list[str]
    #: The delivery (file index) in which each proposition is defined.
    proposition_delivery: list[int]
    #: Bytes written, all files together.
    size_bytes: int = 0
    sha256: str = ""
    extra: dict[str, int] = field(default_factory=dict)

    def recorded_at(self, delivery: int) -> datetime:
        """When delivery ``delivery`` is imported (the ledger clock is set to this)."""
        return RECORDED_START + timedelta(days=delivery)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _day(n: int) -> date:
    return WORLD_START + timedelta(days=n)


def _when(rng: random.Random, day: int) -> str:
    """A statement time on world day ``day``: a bare date, or a datetime with an offset."""
    d = _day(day)
    if rng.random() < 0.6:
        return d.isoformat()
    hh, mm, ss = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    return f"{d.isoformat()}T{hh:02d}:{mm:02d}:{ss:02d}{rng.choice(OFFSETS)}"


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


class _Writer:
    def __init__(self, shape: Shape, rng: random.Random):
        self.shape = shape
        self.rng = rng
        self.sources = [f"src-{i:04d}" for i in range(shape.sources)]
        self.props: list[str] = []
        self.prop_born: list[int] = []
        self.prop_parties: list[list[str]] = []
        self.prop_delivery: list[int] = []
        self.docs: list[str] = []
        self.statements: list[str] = []
        self.spoken: dict[int, list[str]] = {}  # proposition index -> sources that spoke
        self.n_statements = 0
        self.n_corrections = 0

    # -- one record each -------------------------------------------------------------------

    def source(self, i: int) -> dict[str, Any]:
        rng = self.rng
        return {
            "type": "source",
            "id": self.sources[i],
            "name": f"Source {i} {_words(rng, 2)}",
            "category": _pick(rng, CATEGORIES),
            "affiliation": rng.choice((None, *AFFILIATIONS)),
            "reliability": rng.choice((None, *RELIABILITY)),
            "note": None if rng.random() < 0.8 else _words(rng, 6),
        }

    def proposition(self, i: int, delivery: int, period: tuple[int, int]) -> dict[str, Any]:
        rng = self.rng
        pid = f"prop-{i:06d}"
        parties = rng.sample(self.sources, rng.choice((0, 0, 1, 1, 1, 2)))
        self.props.append(pid)
        self.prop_born.append(rng.randrange(*period))
        self.prop_parties.append(parties)
        self.prop_delivery.append(delivery)
        return {
            "type": "proposition",
            "id": pid,
            "text": f"Claim {i}: {_words(rng, 8)}",
            "parties": parties,
        }

    def document(self, i: int, period: tuple[int, int]) -> dict[str, Any]:
        rng = self.rng
        did = f"doc-{i:06d}"
        self.docs.append(did)
        body = f"Document {i}. {_words(rng, 30)}"
        with_text = rng.random() < 0.1
        return {
            "type": "document",
            "id": did,
            "title": f"Report {i}: {_words(rng, 4)}",
            "publisher": rng.choice((None, "Agency A", "Paper B", "Ministry C")),
            "published_at": _day(rng.randrange(*period)).isoformat(),
            "sha256": hashlib.sha256(body.encode()).hexdigest(),
            "url": None if rng.random() < 0.5 else f"https://example.org/doc/{i}",
            "text": body if with_text else None,
        }

    def _proposition_index(self) -> int:
        # Skewed towards recent stories: a few hot propositions, a long tail.
        n = len(self.props)
        return n - 1 - min(n - 1, int(n * self.rng.random() ** 1.6))

    def statement(self, period: tuple[int, int]) -> dict[str, Any]:
        rng = self.rng
        p = self._proposition_index()
        stance = _pick(rng, STANCES)
        parties = self.prop_parties[p]
        spoken = self.spoken.setdefault(p, [])
        if stance == "retract" and spoken:
            source = rng.choice(spoken)
        elif parties and rng.random() < 0.15:
            source = rng.choice(parties)
        else:
            source = self.sources[
                min(len(self.sources) - 1, int(len(self.sources) * rng.random() ** 1.3))
            ]
        spoken.append(source)
        born = self.prop_born[p]
        start = max(born, period[0])
        end = max(start + 1, period[1])
        # ~15% back-dated: anywhere since the story began.
        day = rng.randrange(born if rng.random() < 0.15 else start, end)
        value: int | float | None = None
        unit: str | None = None
        if stance in _QUANTIFIED and rng.random() < 0.35:
            if rng.random() < 0.7:
                value, unit = rng.randrange(100, 20_000, 50), "troops"
            else:
                value = round(rng.uniform(0, 100), 1)
                unit = None if rng.random() < 0.3 else "percent"
        document = quote = None
        if self.docs and rng.random() < 0.4:
            document = self.docs[
                len(self.docs)
                - 1
                - min(len(self.docs) - 1, int(len(self.docs) * rng.random() ** 2))
            ]
            if rng.random() < 0.5:
                quote = _words(rng, 7)
        sid = f"stmt-{self.n_statements:07d}"
        self.n_statements += 1
        self.statements.append(sid)
        return {
            "type": "statement",
            "id": sid,
            "source": source,
            "proposition": self.props[p],
            "stance": stance,
            "stated_at": _when(rng, day),
            "value": value,
            "unit": unit,
            "document": document,
            "quote": quote,
            "note": None if rng.random() < 0.9 else _words(rng, 5),
        }

    def correction(self) -> dict[str, Any]:
        rng = self.rng
        cid = f"corr-{self.n_corrections:06d}"
        self.n_corrections += 1
        record: dict[str, Any] = {
            "type": "correction",
            "id": cid,
            "corrects": rng.choice(self.statements),
            "reason": f"erratum: {_words(rng, 5)}",
        }
        if rng.random() < 0.3:
            record["withdraw"] = True
            return record
        what = rng.choice(("stance", "stated_at", "value", "source", "proposition"))
        new: Any
        if what == "stance":
            new = _pick(rng, STANCES)
        elif what == "stated_at":
            new = _day(rng.randrange(WORLD_DAYS)).isoformat()
        elif what == "value":
            new = rng.randrange(100, 20_000, 50)
        elif what == "source":
            new = rng.choice(self.sources)
        else:
            new = self.props[self._proposition_index()]
        record["set"] = {what: new}
        return record

    # -- whole deliveries ------------------------------------------------------------------

    def delivery(self, k: int) -> Iterator[dict[str, Any]]:
        shape, d = self.shape, self.shape.deliveries
        span = WORLD_DAYS // d
        period = (k * span, (k + 1) * span if k + 1 < d else WORLD_DAYS)

        def share(total: int) -> range:
            return range(total * k // d, total * (k + 1) // d)

        if k == 0:
            for i in range(shape.sources):
                yield self.source(i)
        for i in share(shape.propositions):
            yield self.proposition(i, k, period)
        for i in share(shape.documents):
            yield self.document(i, period)
        statements = share(shape.statements)
        corrections = share(shape.corrections)
        # Corrections are spread through the second half of the delivery's statements.
        every = max(1, len(statements) // (2 * max(1, len(corrections))))
        todo = len(corrections)
        for n, _ in enumerate(statements):
            yield self.statement(period)
            if todo and n >= len(statements) // 2 and n % every == 0:
                todo -= 1
                yield self.correction()
        for _ in range(todo):
            yield self.correction()


def generate(events: int, directory: Path, *, deliveries: int = 1, seed: int = SEED) -> Generated:
    """Write the synthetic ledger as ``deliveries`` JSONL files under ``directory``."""
    shape = Shape.of(events, deliveries)
    rng = random.Random(seed)
    writer = _Writer(shape, rng)
    directory.mkdir(parents=True, exist_ok=True)
    files, counts = [], []
    digest = hashlib.sha256()
    size = 0
    for k in range(shape.deliveries):
        path = directory / f"delivery-{k:03d}.jsonl"
        n = 0
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            for record in writer.delivery(k):
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
                out.write(line)
                data = line.encode()
                digest.update(data)
                size += len(data)
                n += 1
        files.append(path)
        counts.append(n)
    return Generated(
        shape=shape,
        files=files,
        counts=counts,
        source_ids=list(writer.sources),
        proposition_ids=list(writer.props),
        proposition_delivery=list(writer.prop_delivery),
        size_bytes=size,
        sha256=digest.hexdigest(),
        extra={"statements": writer.n_statements, "corrections": writer.n_corrections},
    )


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of one generated file, parsed."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


# -- re-cutting a generated ledger -------------------------------------------------------------


def split(paths: list[Path], parts: int, directory: Path) -> list[Path]:
    """The records of ``paths`` (in order) cut into ``parts`` files of equal size (the first
    ones take the remainder), ``part-NNNN.jsonl`` under ``directory``. Nothing is reordered,
    so every record still comes after what it names and each part imports cleanly in turn."""
    lines: list[bytes] = []
    for path in paths:
        with open(path, "rb") as f:
            lines.extend(f)
    if not 1 <= parts <= len(lines):
        raise ValueError(f"cannot cut {len(lines)} records into {parts} parts")
    directory.mkdir(parents=True, exist_ok=True)
    out, start = [], 0
    for k in range(parts):
        n = len(lines) // parts + (1 if k < len(lines) % parts else 0)
        path = directory / f"part-{k:04d}.jsonl"
        path.write_bytes(b"".join(lines[start : start + n]))
        out.append(path)
        start += n
    return out


def concatenate(paths: list[Path], target: Path) -> Path:
    """One file holding the records of ``paths`` in order."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        for path in paths:
            out.write(path.read_bytes())
    return target


def stated_at(text: str) -> datetime:
    """A generated ``stated_at`` (a bare date is midnight UTC) as an aware datetime in UTC."""
    when = datetime.fromisoformat(text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def statement_spans(paths: list[Path]) -> dict[str, tuple[datetime, datetime]]:
    """For each proposition that has statements: its earliest and latest ``stated_at`` as
    generated (corrections are not applied; the span only guides where workloads aim)."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for path in paths:
        for record in read_records(path):
            if record["type"] != "statement":
                continue
            when = stated_at(record["stated_at"])
            first, last = spans.get(record["proposition"], (when, when))
            spans[record["proposition"]] = (min(first, when), max(last, when))
    return spans
