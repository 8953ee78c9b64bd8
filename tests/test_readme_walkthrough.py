"""The README's walk-through works as written in a fresh `crm init --example`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def walkthrough() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    block = next(b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if "crm init --example" in b)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_every_line_of_the_walkthrough_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
        CRM_PROGRESS="0",
    )
    (tmp_path / "gitconfig").write_text("[user]\n\tname = Sam Doe\n\temail = sam@example.org\n")
    cwd = tmp_path
    lines = walkthrough()
    assert any(line.startswith("crm set ") for line in lines)
    assert "crm tasks" in lines and any(line.startswith("crm show ") for line in lines)
    for line in lines:
        for command in line.split("&&"):
            words = shlex.split(command)
            if words[0] == "cd":
                cwd = cwd / words[1]
                continue
            if words == ["crm", "tui"]:
                continue  # the TUI has tests of its own
            if words[0] == "crm":
                words = [sys.executable, "-m", "crmfiles", *words[1:]]
            proc = subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True)
            assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
            assert "warning" not in proc.stderr, (command, proc.stderr)
    whoami = subprocess.run(
        [sys.executable, "-m", "crmfiles", "whoami"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert whoami.stdout.startswith("Anna Becker (anna.becker)")
