"""Rule cases as data: one YAML file per rule id, run in a real git repository.

Each ``<rule-id>.yaml`` holds::

    rule: stage-skip
    about: one sentence on what the case shows
    base:      # files changed relative to the ``repo`` fixture, committed (optional)
      path: text            # null deletes the file
    author: bob@example.com # who makes the head change (default alice@example.com)
    modes: [commit]         # where the rule speaks (default: all three, below);
                            # in the other modes it must stay silent
    head:      # the change that breaks the rule
      path: text
      path: {text: ..., encoding: latin-1}   # bytes that are not UTF-8
      path: {text: ..., pad_to: 1000001}     # padded with comment lines to that size
      path: {symlink: target}
    expect:    # every diagnostic, as the first line `crm lint` prints for it
      - "path:line:col: severity: message [rule-id]"
    expect:    # or, where the work tree tells more than git can, by mode
      worktree: [...]
      index: [...]
      commit: [...]
    fixed:     # a change that keeps the rule
      path: text
    fixed_author: mia@example.com   # who makes the fixed change (default: author)
    fixed_expect: []        # diagnostics the fixed change still has (default: none)

A case is run with the head in the work tree (``crm lint``), in the index
(``crm lint --staged``) and in a commit (``crm lint --base BASE --head HEAD``).
``docs/generate_rules.py`` turns the same files into ``docs/rules.md``.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from crmfiles.diagnostics import Diagnostic
from crmfiles.lint import lint

CASES_DIR = Path(__file__).resolve().parent
MODES = ("worktree", "index", "commit")
DEFAULT_AUTHOR = "alice@example.com"

# path -> new text, None to delete, or a mapping for what text cannot say (see above)
Changes = dict[str, str | dict[str, Any] | None]
SPECIAL = frozenset({"text", "encoding", "pad_to", "symlink"})


@dataclass(frozen=True)
class Case:
    rule: str
    about: str
    base: Changes
    head: Changes
    expect: dict[str, tuple[str, ...]]  # by mode
    fixed: Changes
    fixed_expect: tuple[str, ...]
    author: str = DEFAULT_AUTHOR
    fixed_author: str = DEFAULT_AUTHOR
    modes: tuple[str, ...] = MODES

    def changes(self, variant: str) -> Changes:
        return self.head if variant == "head" else self.fixed

    def author_of(self, variant: str) -> str:
        return self.author if variant == "head" else self.fixed_author

    def expected(self, variant: str, mode: str = "worktree") -> tuple[str, ...]:
        return self.expect[mode] if variant == "head" else self.fixed_expect


def _changes(raw: Any, where: str) -> Changes:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(
        isinstance(v, str) or v is None or (isinstance(v, dict) and set(v) <= SPECIAL)
        for v in raw.values()
    ):
        raise ValueError(f"{where}: a mapping of path to text (or null to delete)")
    return dict(raw)


def _by_mode(raw: Any, modes: tuple[str, ...], where: str) -> dict[str, tuple[str, ...]]:
    if isinstance(raw, list):
        return {mode: tuple(raw) for mode in modes}
    if not isinstance(raw, dict) or set(raw) != set(modes):
        raise ValueError(f"{where}: a list, or a list for each of {', '.join(modes)}")
    return {mode: tuple(raw[mode]) for mode in modes}


def load_case(path: Path) -> Case:
    data = yaml.safe_load(path.read_text("utf-8"))
    rule = data["rule"]
    if path.stem != rule:
        raise ValueError(f"{path.name}: rule '{rule}' does not match the file name")
    modes = tuple(data.get("modes", MODES))
    if not set(modes) <= set(MODES):
        raise ValueError(f"{path.name}: modes are {', '.join(MODES)}")
    return Case(
        rule=rule,
        about=str(data.get("about", "")).strip(),
        base=_changes(data.get("base"), f"{path.name}: base"),
        head=_changes(data["head"], f"{path.name}: head"),
        expect=_by_mode(data["expect"], modes, f"{path.name}: expect"),
        fixed=_changes(data["fixed"], f"{path.name}: fixed"),
        fixed_expect=tuple(data.get("fixed_expect") or ()),
        author=data.get("author", DEFAULT_AUTHOR),
        fixed_author=data.get("fixed_author", data.get("author", DEFAULT_AUTHOR)),
        modes=modes,
    )


def all_cases() -> list[Case]:
    return [load_case(p) for p in sorted(CASES_DIR.glob("*.yaml"))]


def first_line(d: Diagnostic) -> str:
    """What `crm lint` prints first for a diagnostic, and what a case expects."""
    return f"{d.location}: {d.severity.value}: {d.message} [{d.rule}]"


# --- repositories ------------------------------------------------------------------


DATE = "2026-03-02T10:00:00+01:00"  # fixed, so commit ids are the same on every run


def git(root: Path, *args: str, author: str = DEFAULT_AUTHOR) -> str:
    """Run git as ``author`` (author and committer), whatever the environment says."""
    name = author.split("@")[0].capitalize()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": author,
        "GIT_AUTHOR_DATE": DATE,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": author,
        "GIT_COMMITTER_DATE": DATE,
    }
    proc = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def write(root: Path, changes: Mapping[str, str | dict[str, Any] | None]) -> None:
    for path, change in changes.items():
        full = root / path
        if change is None:
            full.unlink()
            continue
        full.parent.mkdir(parents=True, exist_ok=True)
        spec: dict[str, Any] = change if isinstance(change, dict) else {"text": change}
        if full.is_symlink():
            full.unlink()
        if "symlink" in spec:
            full.symlink_to(spec["symlink"])
            continue
        data = textwrap.dedent(spec["text"]).encode(spec.get("encoding", "utf-8"))
        full.write_bytes(data + _padding(spec.get("pad_to", 0) - len(data)))


def _padding(size: int) -> bytes:
    """``size`` bytes of YAML comment lines."""
    if size <= 0:
        return b""
    lines, rest = divmod(size, 10)
    return b"# padding\n" * lines + (b"#" * (rest - 1) + b"\n" if rest else b"")


def commit(root: Path, message: str, author: str = DEFAULT_AUTHOR) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "--no-verify", "-m", message, author=author)
    return git(root, "rev-parse", "HEAD")


def make_repo(root: Path, files: Mapping[str, str]) -> str:
    """A CRM repository in a new git repository with one commit; its commit id."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Alice")
    git(root, "config", "user.email", DEFAULT_AUTHOR)
    write(root, files)
    return commit(root, "initial")


@contextmanager
def identity(author: str) -> Iterator[None]:
    """Who `crm lint` of the work tree or the index takes to make the change: the
    author git would record (the environment wins over the configuration)."""
    saved = {k: os.environ.get(k) for k in ("GIT_AUTHOR_EMAIL", "GIT_AUTHOR_NAME")}
    os.environ["GIT_AUTHOR_EMAIL"] = author
    os.environ["GIT_AUTHOR_NAME"] = author.split("@")[0].capitalize()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Outcome:
    """What `crm lint` found for one variant of a case, by mode."""

    base: str  # the commit the head is compared with
    head: str  # the commit of the "commit" mode
    diagnostics: dict[str, list[Diagnostic]]


def setup(root: Path, initial: str, case: Case, variant: str) -> str:
    """Reset ``root`` to ``initial``, commit the case's base and write the change of
    ``variant`` ("head" or "fixed") to the work tree; the base commit."""
    git(root, "reset", "-q", "--hard", initial)
    git(root, "clean", "-q", "-fdx")
    write(root, case.base)
    base = commit(root, f"base of {case.rule}") if case.base else initial
    write(root, case.changes(variant))
    return base


def run(root: Path, initial: str, case: Case, variant: str) -> Outcome:
    """Lint the case's ``variant`` with the head in the work tree, then staged, then
    committed, in the repository ``root`` reset to ``initial``."""
    base = setup(root, initial, case, variant)
    author = case.author_of(variant)
    found: dict[str, list[Diagnostic]] = {}
    with identity(author):
        found["worktree"] = lint(root).report.diagnostics
        git(root, "add", "-A")
        found["index"] = lint(root, staged=True).report.diagnostics
        head = commit(root, f"{variant} of {case.rule}", author=author)
        found["commit"] = lint(root, base=base, head=head).report.diagnostics
    return Outcome(base, head, found)
