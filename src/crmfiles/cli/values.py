"""What the repository the user is in offers a completing shell: record ids, which are
file names (no record is read), and the ids of a catalog, with their names.

Each answer must come in a blink on a repository of 100,000 records, and must never
fail loudly: a missing or broken file just completes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crmfiles.records import CATALOG_DIR, CONFIG_FILE, RECORD_FOLDERS

SUFFIXES = (".yaml", ".yml")


def root(explicit: str | None) -> Path | None:
    """The repository ``--repo`` names, or the one around the current folder."""
    from crmfiles.config import find_root
    from crmfiles.errors import CrmError

    try:
        return find_root(explicit=explicit)
    except (CrmError, OSError):
        return None


def record_ids(root: Path, folder: str, prefix: str = "") -> list[str]:
    """The ids (file names) under one record folder that start with ``prefix``."""
    found: list[str] = []
    stack = [os.path.join(root, folder)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if name.endswith(SUFFIXES):
                    if name.startswith(prefix):
                        found.append(name.rpartition(".")[0])
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return sorted(set(found))


def any_record(root: Path, prefix: str) -> list[str]:
    """Ids of every folder; ``TYPE/ID`` once the prefix names a type."""
    if "/" in prefix:
        folder, _, rest = prefix.partition("/")
        if folder not in RECORD_FOLDERS:
            return []
        return [f"{folder}/{i}" for i in record_ids(root, folder, rest)]
    ids = {i for folder in RECORD_FOLDERS for i in record_ids(root, folder, prefix)}
    folders = [f"{folder}/" for folder in RECORD_FOLDERS if folder.startswith(prefix)]
    return sorted(ids) + folders


def _load(path: Path) -> Any:
    from crmfiles.records.yamlio import ParseError, parse

    try:
        return parse(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ParseError):
        return None


def _catalog_file(root: Path, name: str) -> Path:
    if name == "people":  # crm.yaml may keep the people elsewhere
        config = _load(root / CONFIG_FILE)
        people = config.get("people") if isinstance(config, dict) else None
        if isinstance(people, str) and people:
            return root / people
    return root / CATALOG_DIR / f"{name}.yaml"


def _entries(root: Path, name: str) -> list[dict[str, Any]]:
    data = _load(_catalog_file(root, name))
    if not isinstance(data, list):
        return []
    return [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str | int)]


def catalog(root: Path, name: str) -> dict[str, str]:
    """A catalog's ids, each with its name (zsh and fish show it beside the id)."""
    return {str(e["id"]): str(e.get("name") or "") for e in _entries(root, name)}


def stages_of(root: Path, opportunity: str | None) -> dict[str, str]:
    """The stages of the opportunity's kind, in order; every stage when the
    opportunity or its kind cannot be told."""
    stages = catalog(root, "stages")
    kind = _kind_of(root, opportunity) if opportunity else None
    if kind is None:
        return stages
    for entry in _entries(root, "kinds"):
        if str(entry["id"]) == kind and isinstance(entry.get("stages"), list):
            return {str(s): stages.get(str(s), "") for s in entry["stages"]}
    return stages


def _kind_of(root: Path, opportunity: str) -> str | None:
    wanted = {opportunity + suffix for suffix in SUFFIXES}
    for dirpath, dirnames, filenames in os.walk(root / "opportunities"):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in wanted.intersection(filenames):
            data = _load(Path(dirpath) / name)
            kind = data.get("kind") if isinstance(data, dict) else None
            return kind if isinstance(kind, str) else None
    return None
