"""The cyclic garbage collector is paused for an import and a rebuild's fold, and always put
back as it was: enabled after, whether the work succeeded or failed, and left disabled for a
program that had disabled it."""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger import ImportFailed, Ledger
from ledger.gcpause import no_cycle_collection

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "north-korea-troops.jsonl"


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_pause_ends_as_it_began(collector_enabled: None) -> None:
    with no_cycle_collection():
        assert not gc.isenabled()
        with no_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a nested pause ends with the outermost
    assert gc.isenabled()
    gc.disable()
    with no_cycle_collection():
        assert not gc.isenabled()
    assert not gc.isenabled()  # left as the program had it
    gc.enable()


def test_the_pause_ends_when_the_work_fails(collector_enabled: None) -> None:
    with pytest.raises(RuntimeError), no_cycle_collection():
        raise RuntimeError("the work failed")
    assert gc.isenabled()


def test_an_import_runs_paused_and_leaves_the_collector_on(
    collector_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    lg = Ledger.open("sqlite://")
    try:
        original = lg.store.append_batches

        def watched(*args: Any, **kwargs: Any) -> Any:
            seen.append(gc.isenabled())
            return original(*args, **kwargs)

        monkeypatch.setattr(lg.store, "append_batches", watched)
        report = lg.import_jsonl(EXAMPLE)
        assert report.appended > 0
        assert gc.isenabled()
        broken = io.StringIO(json.dumps({"type": "source", "id": "x"}) + "\n")
        with pytest.raises(ImportFailed):
            lg.import_jsonl(broken, name="broken.jsonl")
        assert gc.isenabled()
        lg.rebuild()
        assert gc.isenabled()
    finally:
        lg.close()
    assert seen and not any(seen)  # every batch was appended with the collector paused
