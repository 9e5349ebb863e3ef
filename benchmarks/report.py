"""``python -m benchmarks.report RESULT.json ...``: results as Markdown tables (for BENCHMARKS.md).

One table per file: every figure with its unit, target, PASS/MISS, the peer's figure and the
ratio ours/peer, then a line on the run (size, runs, import path, load average).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.harness import fmt


def markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    size = meta["size"]
    load = meta.get("loadavg", {})
    lines = [
        f"Size `{size['name']}` ({meta['generator']['events']:,} records), median of "
        f"{meta['runs']} run(s), import via `{meta['import_path']}`, peer: "
        f"{'eventsourcing ' + meta['peer'] if meta['peer'] else 'not run'}; git "
        f"{(meta['git']['head'] or '?')[:7]}; load average at start/end "
        f"{_load(load.get('start'))} / {_load(load.get('end'))}; "
        f"took {meta['seconds'] / 60:.1f} min.",
        "",
        "| backend | figure | value | unit | target | status | peer | ours/peer |",
        "|---|---|---:|---|---|---|---:|---:|",
    ]
    for name, backend in result["backends"].items():
        for c in backend["checks"]:
            status = f"**{c['status']}**" if c["status"] == "MISS" else c["status"]
            ratio = "-" if c["ratio"] is None else f"{c['ratio']:.3g}"
            lines.append(
                f"| {name} | {c['label']} | {fmt(c['value'], c['unit'])} | {c['unit']} | "
                f"{c['target'] or '-'} | {status} | {fmt(c['peer_value'], c['unit'])} | {ratio} |"
            )
    return "\n".join(lines)


def _load(values: Any) -> str:
    if not values:
        return "?"
    return "/".join(f"{v:.1f}" for v in values)


def main(paths: list[str]) -> int:
    for path in paths:
        print(f"### {Path(path).name}\n")
        print(markdown(json.loads(Path(path).read_text())))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
