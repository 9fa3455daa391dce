"""docs/tutorial.md stays true: its commands run, in order, on a fresh copy of the sample project,
with the exit codes the page states (``# exit 1``; default 0); together they use every command."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE, cli_commands

TUTORIAL = ROOT / "docs" / "tutorial.md"


def _commands() -> list[tuple[str, set[int]]]:
    text = TUTORIAL.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            command = line.strip()
            if not command or command.startswith("#") or command.startswith("source "):
                continue
            codes = {0}
            stated = re.search(r"#\s*(?:the gate decides: )?exit ([0-9]+(?: or [0-9]+)*)", command)
            if stated:
                codes = {int(c) for c in stated.group(1).split(" or ")}
            found.append((command, codes))
    return found


def test_the_tutorial_uses_every_command() -> None:
    lines = [shlex.split(c.split("#")[0]) for c, _ in _commands()]
    used = set()
    for words in lines:
        if words and words[0] == "mlready":
            rest = [w for w in words[1:] if not w.startswith("-")]
            rest = [w for w in rest if w not in ("sample_project", "my-first-project")]
            used.add(" ".join(rest[:2]))
            used.add(rest[0] if rest else "")
    missing = [name for name in cli_commands() if name not in used]
    assert not missing, f"docs/tutorial.md has no example of: {missing}"


@pytest.mark.slow
def test_the_tutorial_runs(tmp_path: Path) -> None:
    shutil.copytree(
        SAMPLE,
        tmp_path / "sample_project",
        ignore=shutil.ignore_patterns(".mlready", "predictions", "__pycache__"),
    )
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MLREADY_USER": "tutorial",
    }
    env.pop("CI", None)
    for command, codes in _commands():
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode in codes, (command, done.stdout[-3000:], done.stderr[-3000:])
    assert "## Production readiness" in (tmp_path / "summary.md").read_text()
    assert (tmp_path / "my-first-project" / ".github" / "workflows" / "mlready.yml").exists()
