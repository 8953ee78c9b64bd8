"""``crm fmt``: canonical formatting that keeps comments, and ``--layout``.

Formatting is ruamel.yaml's round trip with one indentation style (mappings by two,
sequence items indented under their key), no re-wrapping of long text, quotes and
comments as written, the ``yaml-language-server`` line on top and one final newline.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.config import Config
from crmfiles.errors import CrmError, GitFailed
from crmfiles.ops.init import with_schema_comment
from crmfiles.records import CONFIG_FILE, classify, iso_date
from crmfiles.records.edit import write_atomic
from crmfiles.records.sources import WorkTree

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
    wanted = set(paths) if paths is not None else None
    changed: list[str] = []
    skipped: list[tuple[str, str]] = []
    for raw in WorkTree(root).files():
        if wanted is not None and not any(
            raw.path == p or raw.path.startswith(p.rstrip("/") + "/") for p in wanted
        ):
            continue
        if raw.content is None:
            skipped.append((raw.path, raw.refusal or "cannot read"))
            continue
        try:
            text = raw.content.decode("utf-8")
            new = format_text(raw.path, text)
        except (UnicodeDecodeError, ValueError) as exc:
            skipped.append((raw.path, str(exc)))
            continue
        if new != text:
            changed.append(raw.path)
            if not check:
                write_atomic(root / raw.path, new)
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
    """Move every record into the configured layout, in one commit."""
    from crmfiles.records.yamlio import ParseError, parse

    status = git.out(["status", "--porcelain", "-z", "--untracked-files=all"], root)
    dirty = {item[3:] for item in status.split("\0") if item[:2].strip() and item[:2] != "??"}
    moves: list[tuple[str, str]] = []
    for raw in WorkTree(root).files():
        if raw.content is None:
            continue
        try:
            data = parse(raw.content.decode("utf-8"))
        except (UnicodeDecodeError, ParseError):
            continue
        fallback = _added_on(root, raw.path)
        target = layout_target(raw.path, data, config, fallback)
        if target and target != raw.path:
            if (root / target).exists():
                raise CrmError(f"cannot move {raw.path} to {target}: a file is already there")
            moves.append((raw.path, target))
    busy = sorted(p for move in moves for p in move if p in dirty)
    if busy:
        raise CrmError(
            f"{busy[0]} has uncommitted changes; commit or stash them before `crm fmt --layout`"
        )
    tracked = set(git.out(["ls-files", "-z"], root).split("\0"))
    for old, new in moves:
        (root / new).parent.mkdir(parents=True, exist_ok=True)
        if old in tracked:
            git.run(["mv", "--", old, new], root)
        else:
            (root / old).rename(root / new)
            git.run(["add", "--", new], root)
        _prune_empty(root, (root / old).parent)
    if commit and moves:
        paths = [p for move in moves for p in move]
        message = (
            f"crm: fmt --layout ({len(moves)} record{'s' if len(moves) != 1 else ''} "
            "moved into the configured layout)"
        )
        try:
            git.run(["commit", "-q", "-m", message, "--only", "--", *paths], root)
        except git.GitError as err:
            raise GitFailed(
                "the records are moved and staged but git could not commit them",
                err.message,
                hint="fix what git reports, then `git commit`",
            ) from None
    return moves


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
