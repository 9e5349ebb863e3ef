"""A hot proposition: one story that many sources keep talking about, delivered in batches.

:func:`generate_hot` writes, in the import format, a *setup* file (the sources the story needs
that the ledger does not have yet, and the proposition itself) and ``deliveries`` files of
``statements`` statements each about that one proposition, from ``sources`` sources chosen
uniformly (so some 300 stances are live at once at the default size). Seeded and deterministic.

Valid time: the story starts on world day ``WORLD_DAYS - deliveries * PERIOD_DAYS``; delivery
``k``'s ordinary statements fall in order through its own ``PERIOD_DAYS`` days, each at or after
every statement before it. A share ``BACKDATED`` (15%) of the statements are *back-dated*:
their ``stated_at`` is uniform between the story's start and the latest ``stated_at`` of the
earlier deliveries, i.e. earlier than statements already in the ledger (in the first delivery,
earlier than the latest statement before it in the same file). Stances follow the generator's
mix (a retraction comes from a source that already spoke), with quantities on ~35% of the
asserting and denying ones; every time is a full datetime in UTC.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.generator import CATEGORIES, STANCES, WORLD_DAYS, WORLD_START, Generated

HOT_PROPOSITION = "hot-000001"
PERIOD_DAYS = 30
BACKDATED = 0.15
SEED = 20_250_426
QUANTIFIED = frozenset({"assert", "deny", "confirm", "refute"})


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


@dataclass
class HotStory:
    """What :func:`generate_hot` wrote, and where the workloads should aim."""

    proposition: str
    sources: list[str]
    setup: Path
    deliveries: list[Path]
    #: Statements in each delivery file, and how many of them were back-dated.
    counts: list[int]
    backdated: list[int]
    #: The story's first day and the latest ``stated_at`` written.
    start: datetime
    latest: datetime
    #: Sources that have spoken on the story (a retraction needs one).
    spoken: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """What the result file records about the story."""
        return {
            "proposition": self.proposition,
            "sources": len(self.sources),
            "statements": self.counts,
            "backdated": self.backdated,
            "valid_from": self.start.isoformat(),
            "valid_latest": self.latest.isoformat(),
        }


def story_files(gen: Generated, story: HotStory) -> tuple[list[tuple[Path, datetime]], int]:
    """The files of the hot workload in order, each with the ``recorded_at`` it is imported
    at (a day apart): the generated ledger's, the story's setup, then its deliveries; and
    where in that list the story's first delivery is."""
    files = [(path, gen.recorded_at(k)) for k, path in enumerate(gen.files)]
    files.append((story.setup, gen.recorded_at(len(files))))
    first = len(files)
    files += [(path, gen.recorded_at(first + k)) for k, path in enumerate(story.deliveries)]
    return files, first


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def statement(
    rng: random.Random, sid: str, source: str, proposition: str, when: datetime
) -> dict[str, Any]:
    """One statement record with the generator's stance mix and quantities."""
    stance = _pick(rng, STANCES)
    value: int | float | None = None
    unit: str | None = None
    if stance in QUANTIFIED and rng.random() < 0.35:
        value, unit = rng.randrange(100, 20_000, 50), "troops"
    return {
        "type": "statement",
        "id": sid,
        "source": source,
        "proposition": proposition,
        "stance": stance,
        "stated_at": _iso(when),
        "value": value,
        "unit": unit,
    }


def generate_hot(
    directory: Path,
    existing_sources: list[str],
    *,
    deliveries: int,
    statements: int,
    sources: int,
    seed: int = SEED,
) -> HotStory:
    """Write the hot story's setup file and its ``deliveries`` files under ``directory``.

    The story's sources are the first of ``existing_sources`` (already in the ledger) and, if
    there are fewer than ``sources`` of them, new ones registered in the setup file.
    """
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    reused = existing_sources[:sources]
    new = [f"hot-src-{i:04d}" for i in range(sources - len(reused))]
    story_sources = reused + new
    setup_records: list[dict[str, Any]] = [
        {
            "type": "source",
            "id": sid,
            "name": f"Hot source {i}",
            "category": _pick(rng, CATEGORIES),
        }
        for i, sid in enumerate(new)
    ]
    setup_records.append(
        {
            "type": "proposition",
            "id": HOT_PROPOSITION,
            "text": "The hot story: everyone has something to say about it",
            "parties": rng.sample(story_sources, min(2, len(story_sources))),
        }
    )
    setup = directory / "hot-setup.jsonl"
    _write(setup, setup_records)

    start_day = max(0, WORLD_DAYS - deliveries * PERIOD_DAYS)
    start = datetime.combine(WORLD_START, datetime.min.time(), tzinfo=UTC) + timedelta(
        days=start_day
    )
    period = timedelta(days=PERIOD_DAYS).total_seconds()
    story = HotStory(HOT_PROPOSITION, story_sources, setup, [], [], [], start, start)
    spoken: set[str] = set()
    for k in range(deliveries):
        before = story.latest  # latest stated_at of the earlier deliveries
        kinds = [rng.random() < BACKDATED for _ in range(statements)]
        forward = sorted(
            start + timedelta(seconds=(k + rng.random()) * period)
            for _ in range(kinds.count(False))
        )
        records, backdated, latest = [], 0, before
        for i, back in enumerate(kinds):
            ceiling = before if k else latest
            if back and ceiling > start:
                when = start + (ceiling - start) * rng.random()
                backdated += 1
            else:
                when = forward.pop(0) if forward else latest
            when = when.replace(microsecond=0)  # as written: whole seconds
            latest = max(latest, when)
            stance_source = rng.choice(story_sources)
            record = statement(
                rng, f"hot-stmt-{k:03d}-{i:05d}", stance_source, HOT_PROPOSITION, when
            )
            if record["stance"] == "retract" and spoken and stance_source not in spoken:
                record["source"] = rng.choice(sorted(spoken))
            spoken.add(record["source"])
            records.append(record)
        path = directory / f"hot-delivery-{k:03d}.jsonl"
        _write(path, records)
        story.deliveries.append(path)
        story.counts.append(len(records))
        story.backdated.append(backdated)
        story.latest = latest
    story.spoken = sorted(spoken)
    return story


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for record in records:
            clean = {k: v for k, v in record.items() if v is not None}
            out.write(json.dumps(clean, ensure_ascii=False, separators=(",", ":")) + "\n")
