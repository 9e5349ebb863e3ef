"""Crash consistency: a child process importing a 50,000-line file is killed with SIGKILL at
random moments, at least 5 times per backend. After each kill the database opens, the chain
verifies, and every batch is all or nothing; running the same import again completes the
ledger exactly: the same head hash as one uninterrupted import into a fresh ledger.

The child uses a constant clock, so that ``recorded_at`` (which the hash covers) is the same in
every run and "exactly" can be checked hash for hash.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import Ledger
from tests.conftest import Databases

LINES = 50_000
CHUNK = 2_000
KILLS = 5
SOURCES, PROPOSITIONS = 200, 5_000
STANCES = ("assert", "deny", "confirm", "refute", "retract", "no_comment")

CHILD = """
import os, sys
from datetime import UTC, datetime
from ledger import Ledger

url, path, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
ledger = Ledger.open(url, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
if os.environ.get("CRASH_TEST_BREAK_BATCHES"):
    # The deliberately broken importer: one transaction per event instead of per chunk (a
    # chunk is one append_batches call).
    from ledger.store.append import BatchesResult

    def one_by_one(batches, **kw):
        results = [ledger.append([e]) for batch in batches for e in batch]
        appended = sum(len(r.appended) for r in results)
        skipped = sum(r.skipped for r in results)
        return BatchesResult(appended, skipped, len(results), ledger.head())

    ledger.append_batches = one_by_one
ledger.import_jsonl(path, chunk_size=chunk)
"""


def write_file(path: Path) -> None:
    rng = random.Random(50_000)
    with path.open("w", encoding="utf-8") as out:
        for i in range(SOURCES):
            out.write(
                json.dumps(
                    {
                        "type": "source",
                        "id": f"src-{i}",
                        "name": f"Source {i}",
                        "category": rng.choice(["government", "media", "court"]),
                    }
                )
            )
            out.write("\n")
        for i in range(PROPOSITIONS):
            out.write(
                json.dumps(
                    {
                        "type": "proposition",
                        "id": f"p-{i}",
                        "text": f"Claim {i}",
                        "parties": [f"src-{i % SOURCES}"],
                    }
                )
            )
            out.write("\n")
        for k in range(LINES - SOURCES - PROPOSITIONS):
            value = rng.choice([None, rng.randrange(20_000)])
            out.write(json.dumps({
                "type": "statement", "id": f"s-{k}", "source": f"src-{rng.randrange(SOURCES)}",
                "proposition": f"p-{rng.randrange(PROPOSITIONS)}", "stance": rng.choice(STANCES),
                "stated_at": f"2024-{1 + k * 12 // LINES:02d}-{1 + rng.randrange(28):02d}",
                "value": value, "unit": None if value is None else "troops",
            }))  # fmt: skip
            out.write("\n")


def start_import(url: str, path: Path, *, broken: bool = False) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if broken:
        env["CRASH_TEST_BREAK_BATCHES"] = "1"
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(path), str(CHUNK)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_import(url: str, path: Path) -> float:
    began = time.monotonic()
    child = start_import(url, path)
    _, err = child.communicate(timeout=600)
    assert child.returncode == 0, err.decode()
    return time.monotonic() - began


def kill_after(url: str, path: Path, seconds: float, *, broken: bool = False) -> None:
    with start_import(url, path, broken=broken) as child:
        time.sleep(seconds)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)


def boundaries() -> set[int]:
    """The heads an all-or-nothing chunked import can leave: whole chunks of the file."""
    return {min(n * CHUNK, LINES) for n in range(LINES // CHUNK + 2)}


def assert_consistent(url: str) -> int:
    with Ledger.open(url) as ledger:
        report = ledger.verify()
        assert report.ok, str(report)
        head = ledger.head().position
    assert head in boundaries(), f"head {head} is inside a chunk: a batch was half-written"
    return head


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "statements.jsonl"
    write_file(path)
    return path


@pytest.mark.slow
def test_an_import_killed_at_random_moments_resumes_to_exactly_the_uninterrupted_ledger(
    databases: Databases, dataset: Path
) -> None:
    reference, crashed = databases.new_url(), databases.new_url()
    duration = run_import(reference, dataset)
    with Ledger.open(reference) as ledger:
        expected = ledger.head()
    assert expected.position == LINES

    rng = random.Random(os.getpid())
    heads = []
    for _ in range(KILLS):
        kill_after(crashed, dataset, rng.uniform(0.05, 0.6) * duration)
        heads.append(assert_consistent(crashed))
    run_import(crashed, dataset)

    with Ledger.open(crashed) as ledger:
        assert ledger.verify().ok
        assert ledger.head() == expected
        now = ledger.now()
        projected = ledger.believed("p-7", as_of="2024-12-31", known_at=now)
        assert projected == ledger.believed("p-7", as_of="2024-12-31", known_at=now, via="fold")
    assert heads == sorted(heads)  # each run resumed; nothing was lost in between


@pytest.mark.slow
def test_the_crash_check_catches_an_import_that_commits_event_by_event(
    tmp_path: Path, dataset: Path
) -> None:
    """The check above can fail: an importer that commits each event on its own leaves heads
    inside chunks when killed."""
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    Ledger.open(url).close()
    seen = set()
    for seconds in (4.0, 6.0, 8.0):
        kill_after(url, dataset, seconds, broken=True)
        with Ledger.open(url) as ledger:
            seen.add(ledger.head().position)
    assert seen - boundaries(), f"every kill happened to land on a chunk boundary: {seen}"
