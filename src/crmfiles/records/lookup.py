"""Finding one record by id, the one way every command does it (``crm show``, ``crm
set``, ``crm move``...): where crm.yaml's layout puts it first (a few stats), then
git's index (a lookup, not a walk of 100,000 names), then the whole work tree; and the
same sentences when there is none, or several.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.config import Config
from crmfiles.errors import CrmError
from crmfiles.records import RECORD_FOLDERS, Place, Record, is_valid_id
from crmfiles.records.opener import Unreadable, read_regular
from crmfiles.records.sources import RawFile
from crmfiles.records.yamlio import ParseError, parse

# what a user is told when the record's file cannot be read or parsed
FIX_FIRST = "fix the file first (`crm validate` shows every such file)"


class Finder:
    """Where the record files of an id are in the work tree (file names only: nothing
    is read). ``on_placed`` hears the paths found where the layout puts records,
    ``on_indexed`` each path (and its staged blob, None when unmerged) git's index
    answered with, for a caller that will want to know what git has staged."""

    def __init__(
        self,
        root: Path,
        config: Callable[[], Config],
        *,
        on_placed: Callable[[list[str]], None] | None = None,
        on_indexed: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self.root = root
        self._config = config
        self.on_placed = on_placed
        self.on_indexed = on_indexed
        self._walked: dict[str, list[tuple[str, list[str]]]] = {}
        self._names: dict[str, set[str]] = {}

    def listing(self, folder: str) -> list[tuple[str, list[str]]]:
        """(folder path, file names) for every folder under ``folder``, walked once."""
        if folder not in self._walked:
            out = []
            for dirpath, dirnames, filenames in os.walk(self.root / folder):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                out.append((Path(dirpath).relative_to(self.root).as_posix(), filenames))
            self._walked[folder] = out
        return self._walked[folder]

    def names(self, folder: str) -> set[str]:
        """The file names anywhere under a record folder (``q-2026-0021.yaml``...)."""
        if folder not in self._names:
            names: set[str] = set()
            for _, filenames in self.listing(folder):
                names.update(filenames)
            self._names[folder] = names
        return self._names[folder]

    def paths_of(self, folders: tuple[str, ...], record_id: str) -> list[tuple[str, str]]:
        """(folder, path) of the record files with this id: where crm puts records
        (``folder/`` or ``folder/YYYY/MM/``: a few dozen stats), else from git's index,
        else from the whole work tree."""
        if not is_valid_id(record_id):
            return []
        name = f"{record_id}.yaml"
        placed = [(folder, path) for folder in folders for path in self._placed(folder, name)]
        if placed:
            if self.on_placed is not None:
                self.on_placed([path for _, path in placed])
            return sorted(placed)
        specs = [f":(glob){folder}/**/{name}" for folder in folders]
        proc = git.run(["ls-files", "-s", "-z", "--", *specs], self.root, check=False)
        indexed: list[str] = []
        for item in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
            meta, tab, path = item.partition("\t")
            if tab:
                indexed.append(path)
                _mode, blob, stage = meta.split(" ")
                if self.on_indexed is not None:
                    self.on_indexed(path, blob if stage == "0" else None)
        hits = [(p.partition("/")[0], p) for p in indexed if (self.root / p).is_file()]
        if hits:
            return sorted(hits)
        return [
            (folder, f"{rel}/{name}")
            for folder in folders
            for rel, names in self.listing(folder)
            if name in names
        ]

    def placed(self, folder: str, record_id: str) -> list[str]:
        """The files of this id where crm.yaml's layout puts records of ``folder`` (a
        few stats; none elsewhere are looked for)."""
        return self._placed(folder, f"{record_id}.yaml") if is_valid_id(record_id) else []

    def _placed(self, folder: str, name: str) -> list[str]:
        """The files called ``name`` where crm.yaml's layout puts records: the folder
        itself, and (by month) its year and year/month sub-folders."""
        if not (self.root / folder).is_dir():
            return []
        # (a flat folder of 10,000 partners is not listed to look for year folders)
        dated = self._dated(folder) if self._config().layout_of(folder) != "flat" else []
        places = [f"{folder}/{name}", *(f"{d}/{name}" for d in dated)]
        return [rel for rel in places if (self.root / rel).is_file()]

    def _dated(self, folder: str) -> list[str]:
        """The ``YYYY`` and ``YYYY/MM`` sub-folders of a record folder (real folders,
        not links out of it)."""
        out: list[str] = []
        for year in _subfolders(self.root / folder, 4):
            out.append(f"{folder}/{year}")
            out.extend(
                f"{folder}/{year}/{month}" for month in _subfolders(self.root / folder / year, 2)
            )
        return out


def _subfolders(folder: Path, digits: int) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(
                e.name
                for e in entries
                if len(e.name) == digits and e.name.isdigit() and e.is_dir(follow_symlinks=False)
            )
    except OSError:
        return []


def folder_of(record_type: str) -> str | None:
    """The folder of a record type (``opportunity`` -> ``opportunities``)."""
    for folder, name in RECORD_FOLDERS.items():
        if name == record_type:
            return folder
    return None


def wanted(record_id: str, folders: tuple[str, ...] | None) -> tuple[tuple[str, ...] | None, str]:
    """The folders to look in (None: all of them) and the bare id, of ``type/id``,
    ``folder/id`` or a bare id."""
    if "/" in record_id:
        prefix, _, record_id = record_id.partition("/")
        folder = prefix if prefix in RECORD_FOLDERS else folder_of(prefix)
        if folder is None:
            raise CrmError(
                f"unknown record type '{prefix}'",
                hint=f"one of: {', '.join(RECORD_FOLDERS)}",
            )
        folders = (folder,)
    return folders, record_id


def the_one(
    record_id: str, folders: tuple[str, ...] | None, hits: list[tuple[str, str]]
) -> tuple[str, str]:
    """The one (folder, path) of ``hits``; a CrmError when there is none or several
    (``folders``: where the user said to look, None for everywhere)."""
    if not hits:
        where = f" in {', '.join(f + '/' for f in folders)}" if folders else ""
        raise CrmError(
            f"no record with id '{record_id}'{where}",
            hint=f"`crm list {folders[0] if folders else 'opportunities'}` shows the ids",
        )
    if len(hits) > 1:
        raise CrmError(
            f"'{record_id}' names several records: {', '.join(p for _, p in hits)}",
            hint="`crm validate` reports the duplicate id; give TYPE/ID when the types differ",
        )
    return hits[0]


def read_text(root: Path, path: str) -> str:
    """A record file's text; a CrmError that says why when it cannot be read."""
    try:
        return read_regular(root / path).decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise CrmError(f"{path}: not valid UTF-8", hint=FIX_FIRST) from None
    except Unreadable as exc:
        raise CrmError(f"{path}: {exc.why}", hint=FIX_FIRST) from None
    except OSError as exc:
        raise CrmError(f"{path}: cannot read: {exc.strerror}") from None


def parse_record(path: str, text: str) -> dict[str, Any]:
    """A record file's data; a CrmError when it is no record (a YAML mapping)."""
    try:
        data = parse(text)
    except ParseError as err:
        raise CrmError(f"{path}:{err.line or 1}: {err.message}", hint=FIX_FIRST) from None
    if not isinstance(data, dict):
        raise CrmError(f"{path}: not a record (a YAML mapping)")
    return data


def read_record(raw: RawFile, place: Place) -> tuple[Record | None, str | None]:
    """A record file read: the record (None when it holds no mapping), or what is wrong
    with it (``path:line: message``) when it cannot be read or parsed."""
    if raw.content is None:
        return None, f"{raw.path}: {raw.refusal or 'cannot be read'}"
    try:
        text = raw.content.decode("utf-8").removeprefix("\ufeff")
        data = parse(text)
    except UnicodeDecodeError:
        return None, f"{raw.path}: not valid UTF-8"
    except ParseError as err:
        return None, f"{raw.path}:{err.line or 1}: {err.message}"
    if not isinstance(data, dict):
        return None, None
    return Record(place.name, place.id, raw.path, data, text), None
