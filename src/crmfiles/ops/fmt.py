"""``crm fmt``: canonical formatting that keeps comments, and ``--layout``.

Formatting is ruamel.yaml's round trip with one indentation style (mappings by two,
sequence items indented under their key), no re-wrapping of long text, quotes and
comments as written, the ``yaml-language-server`` line on top and one final newline.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.config import Config
from crmfiles.errors import CrmError, GitFailed
from crmfiles.ops.init import with_schema_comment
from crmfiles.records import CONFIG_FILE, RECORD_FOLDERS, classify, iso_date
from crmfiles.records.edit import write_atomic
from crmfiles.records.worktree import WorkTree

LAYOUT_DATE_KEYS = ("opened", "created", "at", "date", "due")


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def format_text(path: str, text: str) -> str:
    """The canonical form of one file; raises ValueError when it is not YAML."""
    from ruamel.yaml.error import YAMLError

    yaml = _yaml()
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    if data is None or (isinstance(data, (list, dict)) and not data):
        return _light(path, text)  # nothing to lay out (ruamel trips on '[]' after comments)
    out = io.StringIO()
    try:
        yaml.dump(data, out)
    except Exception:  # an emitter bug must not cost the user a file
        return _light(path, text)
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    if isinstance(data, list):
        # a catalog's entries start at column 0, not at the sequence indent
        lines = [line[2:] if line.startswith("  ") else line for line in lines]
    result = "\n".join(lines) + "\n"
    return with_schema_comment(path, result)


def _light(path: str, text: str) -> str:
    """The formatting that needs no YAML emitter: trailing blanks, one final newline,
    the schema line."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return with_schema_comment(path, "\n".join(lines) + "\n" if lines else "")


@dataclass
class FmtResult:
    changed: list[str]
    skipped: list[tuple[str, str]]  # path, why


def fmt(root: Path, paths: Iterable[str] | None = None, *, check: bool = False) -> FmtResult:
    """Format every file that matters (or those under ``paths``): only the files whose
    content is not known to be formatted already (:mod:`crmfiles.ops.formatted`) are
    read and laid out, on every core when they are many."""
    from crmfiles.ops.formatted import Formatted, formatted_texts

    source = WorkTree(root)
    listed = source.paths()  # (the work tree's files: also what git would not list)
    if paths is not None:
        wanted = [p.rstrip("/") for p in paths]
        listed = [f for f in listed if any(f == p or f.startswith(p + "/") for p in wanted)]
    known = Formatted.of(root)
    blobs = {e.path: e.blob for e in source.entries()} if known.known else {}
    todo = [p for p in listed if not known.has(p, blobs.get(p))]
    changed: list[str] = []
    skipped: list[tuple[str, str]] = []
    for path, blob, text, new, why in formatted_texts(source, todo):
        if why is not None:
            skipped.append((path, why))
        elif new == text:
            known.add(path, blob)
        else:
            changed.append(path)
            if not check:
                write_atomic(root / path, new)
    known.save()
    return FmtResult(changed, skipped)


def layout_target(path: str, data: Any, config: Config, fallback: dt.date) -> str | None:
    """Where a record belongs under the configured layout; None for non-records."""
    place = classify(path)
    if place is None or place.kind != "record" or path == CONFIG_FILE:
        return None
    if config.layout_of(place.name) == "flat":
        return f"{place.name}/{place.id}.yaml"
    day = None
    if isinstance(data, dict):
        day = next((d for d in map(iso_date, map(data.get, LAYOUT_DATE_KEYS)) if d), None)
    day = day or fallback
    return f"{place.name}/{day.year:04d}/{day.month:02d}/{place.id}.yaml"


def relayout(root: Path, config: Config, *, commit: bool = True) -> list[tuple[str, str]]:
    """Move every record into the configured layout, in one commit: every move is
    planned, and every reason to refuse found, before the first file moves; when git
    refuses (a hook, a held index lock) the files and the index are put back."""
    moves = plan_layout(root, config)
    if moves:
        _apply(root, moves, commit=commit)
    return moves


def plan_layout(root: Path, config: Config) -> list[tuple[str, str]]:
    """The moves ``crm fmt --layout`` would make, ``(from, to)``; a CrmError naming
    every problem when it cannot make them all (then it makes none)."""
    from crmfiles.records.yamlio import ParseError, parse

    status = git.out(["status", "--porcelain", "-z", "--untracked-files=all"], root)
    dirty = {item[3:] for item in status.split("\0") if item[:2].strip() and item[:2] != "??"}
    tracked = set(git.out(["ls-files", "-z", "--", *RECORD_FOLDERS], root).split("\0"))
    moves: list[tuple[str, str]] = []
    for raw in WorkTree(root).files():
        if raw.content is None:
            continue
        try:
            data = parse(raw.content.decode("utf-8"))
        except (UnicodeDecodeError, ParseError):
            continue
        fallback = _added_on(root, raw.path) if raw.path in tracked else dt.date.today()
        target = layout_target(raw.path, data, config, fallback)
        if target and target != raw.path:
            moves.append((raw.path, target))
    problems: list[str] = []
    bound: dict[str, list[str]] = {}
    for old, new in moves:
        bound.setdefault(new, []).append(old)
    leaving = {old for old, _ in moves}
    for new, olds in bound.items():
        if len(olds) > 1:
            problems.append(f"{' and '.join(olds)} would both move to {new} (one id, two records)")
        elif new not in leaving and (os.path.lexists(root / new)):
            problems.append(f"cannot move {olds[0]} to {new}: a file is already there")
    problems += [
        f"{old} is not committed: commit it (or remove it) first" for old in leaving - tracked
    ]
    busy = sorted(p for move in moves for p in move if p in dirty)
    problems += [f"{path} has uncommitted changes; commit or stash them first" for path in busy]
    if problems:
        raise CrmError(
            "crm fmt --layout moved nothing:\n  " + "\n  ".join(sorted(set(problems))),
            hint="a layout change moves every misplaced record or none",
        )
    return moves


def _apply(root: Path, moves: list[tuple[str, str]], *, commit: bool) -> None:
    """Rename, stage and commit the moves; on any refusal undo what was done."""
    done: list[tuple[str, str]] = []
    made: list[Path] = []  # folders created for the moves
    paths = [p for move in moves for p in move]
    staged = False
    try:
        for old, new in moves:
            made += _parents(root, new)
            os.rename(root / old, root / new)
            done.append((old, new))
        _git(root, ["update-index", "--add", "--remove", "--", *paths], "stage the moves")
        staged = True
        if commit:
            message = (
                f"crm: fmt --layout ({len(moves)} record{'s' if len(moves) != 1 else ''} "
                "moved into the configured layout)"
            )
            _git(root, ["commit", "-q", "-m", message, "--only", "--", *paths], "make the commit")
    except (OSError, CrmError) as exc:
        if staged:  # the index entries of the moved paths back to HEAD's
            git.run(["reset", "-q", "HEAD", "--", *paths], root, check=False)
        for old, new in reversed(done):
            os.rename(root / new, root / old)
        for folder in reversed(made):
            _prune_empty(root, folder)
        why = exc.message if isinstance(exc, CrmError) else f"{exc.filename}: {exc.strerror}"
        said = "\nnothing was moved: the records, the index and HEAD are as they were"
        hint = "fix what git reports, then run `crm fmt --layout` again"
        if isinstance(exc, GitFailed):
            raise GitFailed(why + said, exc.output, hint=hint) from None
        raise CrmError(why + said, hint=hint) from None
    for old, _ in moves:
        _prune_empty(root, (root / old).parent)


def _git(root: Path, args: list[str], what: str) -> None:
    proc = git.run(args, root, check=False)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        raise GitFailed(f"git could not {what}", output)


def _parents(root: Path, path: str) -> list[Path]:
    """Create the folders ``path`` needs; those created, outermost first."""
    missing = []
    folder = (root / path).parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir()
    return list(reversed(missing))


def _added_on(root: Path, path: str) -> dt.date:
    stamp = git.out(["log", "--diff-filter=A", "--format=%as", "-1", "--", path], root).strip()
    try:
        return dt.date.fromisoformat(stamp)
    except ValueError:
        return dt.date.today()


def _prune_empty(root: Path, folder: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
