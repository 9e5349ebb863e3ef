"""Docs that run: every ```python block in README.md and docs/*.md is executed, each file's
blocks in order in one namespace, in a scratch directory; every ```sh block's commands are run
with the project's ``factledger`` on PATH and must succeed (a line may end with
``# exit N`` to expect another status)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
EXPECT = re.compile(r"#\s*exit\s+(\d+)\s*$")


def blocks(path: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == language]


def documented(language: str) -> list[Path]:
    return [p for p in DOCS if p.exists() and blocks(p, language)]


@pytest.mark.parametrize("path", documented("python"), ids=lambda p: p.name)
def test_every_python_example_in_the_docs_runs(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # docs name it relative to the repo
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for number, code in enumerate(blocks(path, "python"), start=1):
        exec(compile(code, f"{path.name} (python block {number})", "exec"), namespace)


@pytest.mark.parametrize("path", documented("sh"), ids=lambda p: p.name)
def test_every_shell_example_in_the_docs_runs(path: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["LEDGER_DB"] = f"sqlite:///{tmp_path / 'docs.db'}"
    env["FACTLEDGER_REPO"] = str(ROOT)
    for code in blocks(path, "sh"):
        for line in _commands(code):
            if line.startswith("make "):
                continue  # the Makefile targets are what CI itself runs
            wanted = EXPECT.search(line)
            done = subprocess.run(
                line,
                check=False,
                shell=True,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            expected = int(wanted.group(1)) if wanted else 0
            assert done.returncode == expected, f"{path.name}: {line}\n{done.stdout}\n{done.stderr}"


def _commands(code: str) -> list[str]:
    return [
        line.strip()
        for line in code.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
