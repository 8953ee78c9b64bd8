"""Hostile text never reaches the terminal raw.

Anyone who can open a pull request can write a name holding escape sequences, and
anyone can commit with such an author name. Every command prints them escaped
(``\\x1b``), whatever renderer it uses; JSON escapes them itself.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import BASE_FILES, dedent, git, write

from crmfiles.controls import EscapingWriter, escape, escape_keeping_colours

OPP = "opportunities/2026/01/acme-forklifts.yaml"
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b1m"


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def raw_controls(text: str) -> list[str]:
    return sorted({c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0})


def hostile_commit(repo: Path) -> None:
    """A name with escapes (written as YAML escapes), committed by an author whose
    name holds them raw, as a hand edit merged from a pull request would be."""
    text = dedent(BASE_FILES[OPP]).replace(
        "name: Acme forklifts", 'name: "Acme \\e]0;pwned\\a\\e[2J\\x9b1m forklifts"'
    )
    text = text.replace("stage: qualify", "stage: proposal")
    write(repo, {OPP: text})
    git(repo, "add", "-A")
    env = {**os.environ, "GIT_AUTHOR_NAME": f"Mallory{HOSTILE}"}
    subprocess.run(["git", "commit", "-qm", "edit"], cwd=repo, env=env, check=True)


def test_every_renderer_escapes_hostile_values(repo: Path) -> None:
    hostile_commit(repo)
    commands = [
        ["list", "opportunities"],
        ["list", "opportunities", "--format", "csv"],
        ["show", "acme-forklifts"],
        ["history", "acme-forklifts"],
        ["history"],
        ["changes", "--base", "HEAD~1"],
        ["lint", "--base", "HEAD~1"],
        ["validate"],
        ["report", "funnel"],
    ]
    for args in commands:
        proc = crm(repo, *args)
        assert "Traceback" not in proc.stderr, args
        assert raw_controls(proc.stdout + proc.stderr) == [], (args, proc.stdout, proc.stderr)
    listing = crm(repo, "list", "opportunities", "--format", "csv").stdout
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u009b1m" in listing
    changes = crm(repo, "changes", "--base", "HEAD~1").stdout
    assert "Mallory\\x1b]0;pwned" in changes


def test_validate_names_the_value(repo: Path) -> None:
    hostile_commit(repo)
    proc = crm(repo, "validate")
    assert proc.returncode == 1
    assert f"{OPP}:3:7: error: control character in" in proc.stdout
    assert "[control-character]" in proc.stdout


def test_json_keeps_the_value_exactly(repo: Path) -> None:
    hostile_commit(repo)
    proc = crm(repo, "list", "opportunities", "--format", "json")
    assert raw_controls(proc.stdout) == []
    [row] = json.loads(proc.stdout)["opportunities"]
    assert row["name"] == "Acme \x1b]0;pwned\x07\x1b[2J\x9b1m forklifts"


def test_escape_leaves_ordinary_text_alone() -> None:
    text = "Müller & Søn — 日本\ttab\nnew line"
    assert escape(text) is text
    assert escape("a\x1b[2Jb\x7f\x85") == "a\\x1b[2Jb\\u007f\\u0085"


def test_a_terminal_keeps_colours_and_loses_everything_else() -> None:
    coloured = "\x1b[1;31merror\x1b[0m: name \x1b]0;pwned\x07\x1b[2J"
    assert escape_keeping_colours(coloured) == (
        "\x1b[1;31merror\x1b[0m: name \\x1b]0;pwned\\x07\x1b[2J".replace("\x1b[2J", "\\x1b[2J")
    )
    out = io.StringIO()
    writer = EscapingWriter(out, keep_colours=False)
    print(coloured, file=writer)  # type: ignore[arg-type]
    assert out.getvalue() == escape(coloured) + "\n"
