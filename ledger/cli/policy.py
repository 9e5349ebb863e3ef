"""``factledger policy``: which policy decides answers as known at a time, and the policy
records behind it (``--policy FILE``, the what-if option, is in ``ledger.cli.whatif``)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ledger.cli import render
from ledger.cli.app import (
    cli,
    db_option,
    example,
    json_option,
    known_at_option,
    opened,
    print_json,
)
from ledger.jsonl.exporter import to_record
from ledger.times import iso
from projections.rules import BeliefPolicy, DefaultPolicy, Named


def parameters(policy: BeliefPolicy) -> dict[str, Any] | None:
    """The parameters of a policy with the default rules (None: a custom policy)."""
    inner = policy.policy if isinstance(policy, Named) else policy
    if not isinstance(inner, DefaultPolicy):
        return None
    return {
        "authoritative": sorted(c.value for c in inner.authoritative),
        "authoritative_sources": sorted(inner.authoritative_sources),
        "parties_decide": inner.parties_decide,
    }


@cli.command(epilog=example("factledger policy --known-at 2025-01-01"))
@known_at_option
@json_option
@db_option
def policy(known_at: str | None, as_json: bool) -> None:
    """The policy that decides answers as known at a time (default: now), its parameters, and
    every policy record up to then. Record a policy by importing a "policy" record."""
    with opened() as lg:
        records = lg.policy_records(known_at=known_at)
        in_force = lg.policy_in_force(known_at=known_at)
    current = records[-1] if records else None
    document = {
        "policy": in_force.name,
        "parameters": parameters(in_force),
        "record": None if current is None else to_record(current.event),
        "recorded_at": None if current is None else iso(current.recorded_at),
        "history": [
            {"id": r.event.key, "position": r.position, "recorded_at": iso(r.recorded_at)}
            for r in records
        ],
    }
    if as_json:
        print_json(document)
        return
    render.console().print(_render(document))


def _render(d: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    if d["record"] is None:
        parts.append(Text(f"policy {d['policy']}: no policy recorded, the ledger's own rules"))
    else:
        parts.append(Text(f"policy {d['policy']}, recorded at {d['recorded_at']}"))
        if d["record"].get("note"):
            parts.append(Text(d["record"]["note"], style="italic"))
    params = d["parameters"]
    if params is None:
        parts.append(Text("a custom policy: its own code decides; records set nothing"))
    else:
        categories = ", ".join(params["authoritative"]) or "none"
        sources = ", ".join(params["authoritative_sources"]) or "none"
        parts.append(Text(f"authoritative categories: {categories}"))
        parts.append(Text(f"authoritative sources: {sources}"))
        decide = "yes" if params["parties_decide"] else "no: their word is support or denial"
        parts.append(Text(f"parties decide by their own confirm or refute: {decide}"))
    if d["history"]:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Policy records, oldest first")
        table.title_justify = "left"
        for column in ("id", "position", "recorded at"):
            table.add_column(column, no_wrap=True)
        for h in d["history"]:
            table.add_row(h["id"], str(h["position"]), h["recorded_at"])
        parts.append(table)
    return Group(*parts)
