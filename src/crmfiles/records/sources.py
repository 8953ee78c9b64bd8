"""Read the files of one revision: the work tree, the index, or any commit.

Every source yields ``(path, blob id or None, bytes or a refusal)`` for the files
that matter to crmfiles (crm.yaml, catalogs/, the record folders), in path order,
through the same interface, so every check runs the same on each.

This module holds that interface (:class:`Source`, :class:`RawFile`, :class:`Entry`)
and :class:`Overlay`, a source with edits in memory.  The sources that read a
revision are apart, one way of reading each: the work tree (files on disk, with
git's index and stat data) in :mod:`crmfiles.records.worktree`, the index and
commits (git's objects) in :mod:`crmfiles.records.gitsources`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crmfiles.records import (
    CATALOG_DIR,
    CONFIG_FILE,
    RECORD_FOLDERS,
)

TOP_LEVEL = (CONFIG_FILE, CATALOG_DIR, *RECORD_FOLDERS)


@dataclass(frozen=True, slots=True)
class Entry:
    """A file of a revision before it is read: its blob id when git knows it."""

    path: str
    blob: str | None  # None: the content must be read (changed in the work tree, ...)


@dataclass(frozen=True, slots=True)
class RawFile:
    path: str
    blob: str | None
    content: bytes | None
    refusal: str | None = None  # why the content was not read (symlink, size, conflict)
    # what kind of refusal: "unsafe" (a symlink, a FIFO, ...), "size" or "unmerged"
    refused: str = "unsafe"


class Source(ABC):
    """A revision of a CRM repository."""

    label: str = ""
    # folder_files reads one folder without listing the others (a list of tasks need
    # not read 100,000 opportunities)
    by_folder: bool = False

    def __init__(self, root: Path) -> None:
        self.root = root

    @abstractmethod
    def files(self) -> Iterator[RawFile]:
        """Every file that matters to crmfiles, in path order."""

    def read(self, path: str) -> bytes | None:
        """One file's bytes (used for crm.yaml before the bulk read)."""
        for raw in self.files_at([path]):
            return raw.content
        return None

    def read_config(self) -> bytes:
        """crm.yaml's bytes; a CrmError that says why when it cannot be read (missing,
        too large, not a regular file), so it is never reported as merely missing."""
        content = self.read(CONFIG_FILE)
        if content is None:
            from crmfiles.config import missing_config

            refusal = next((raw.refusal for raw in self.files_at([CONFIG_FILE])), None)
            missing_config(refusal=refusal)
        return content

    @abstractmethod
    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        """The given files (those that exist), in the order given."""

    def folder_files(self, folder: str) -> Iterator[RawFile]:
        """The files of one record folder, in path order."""
        prefix = folder + "/"
        yield from (raw for raw in self.files() if raw.path.startswith(prefix))

    def entries(self) -> list[Entry]:
        """Every file that matters, in path order, without reading it: with the blob
        id where git already knows it, so a cache keyed by blob ids can skip it."""
        return [Entry(raw.path, raw.blob) for raw in self.files()]

    def tree(self) -> str | None:
        """A git tree this revision is (or is based on), so a cache of an earlier tree
        can be brought up to date from ``git diff-tree``; None: list every file."""
        return None

    def catalog_files(self) -> list[RawFile]:
        """The catalog files (read: they are few, and every check needs them)."""
        paths = [e.path for e in self.entries() if e.path.startswith(CATALOG_DIR + "/")]
        return list(self.files_at(paths))

    def dirty(self) -> list[str]:
        """Paths whose content is not the tree's (edited or untracked work-tree files)."""
        return []

    def prefetch(self) -> None:  # noqa: B027 - most sources have nothing to start
        """Start, in the background, the git work ``tree`` and ``dirty`` will need."""

    def holds(self, folder: str) -> bool:
        """Whether this revision may have files in ``folder`` (False: it has none)."""
        return True

    def narrowed(self, folders: list[str]) -> Source:
        """This source, asked only about these folders (where that saves work)."""
        return self

    @contextmanager
    def again(self) -> Iterator[None]:
        """Within it, :meth:`tree` and :meth:`dirty` give their last answers once more
        instead of asking git: a second reader of the revision in the same command
        (``crm changes`` reads the facts after the check) sees the work tree as the
        first one did.  (Most sources ask git nothing that changes.)"""
        yield


_TOPS = tuple(f"{top}/" for top in TOP_LEVEL[1:])


def wanted(path: str) -> bool:
    """Cheaply: could this path be crm.yaml, a catalog or a record? (``classify``
    decides; this only keeps it from running on files that clearly are not.)"""
    return path == CONFIG_FILE or (path.startswith(_TOPS) and path.endswith((".yaml", ".yml")))


class Overlay(Source):
    """Another source with some files replaced in memory (``None`` deletes one): what a
    revision would be after an operation's edits, checked before anything is written."""

    def __init__(self, base: Source, changes: dict[str, bytes | None]) -> None:
        super().__init__(base.root)
        self.base = base
        self.changes = changes
        self.label = f"{base.label} with changes"
        self.by_folder = base.by_folder

    def folder_files(self, folder: str) -> Iterator[RawFile]:
        prefix = folder + "/"
        mine = {p: c for p, c in self.changes.items() if p.startswith(prefix)}
        out = [raw for raw in self.base.folder_files(folder) if raw.path not in mine]
        out.extend(
            RawFile(path, None, content) for path, content in mine.items() if content is not None
        )
        out.sort(key=lambda raw: raw.path)
        yield from out

    def files(self) -> Iterator[RawFile]:
        seen: set[str] = set()
        out: list[RawFile] = []
        for raw in self.base.files():
            seen.add(raw.path)
            if raw.path in self.changes:
                content = self.changes[raw.path]
                if content is not None:
                    out.append(RawFile(raw.path, None, content))
            else:
                out.append(raw)
        for path, content in self.changes.items():
            if path not in seen and content is not None:
                out.append(RawFile(path, None, content))
        out.sort(key=lambda raw: raw.path)
        yield from out

    def tree(self) -> str | None:
        return self.base.tree()

    def prefetch(self) -> None:
        self.base.prefetch()

    def dirty(self) -> list[str]:
        return sorted({*self.base.dirty(), *self.changes})

    @contextmanager
    def again(self) -> Iterator[None]:
        with self.base.again():
            yield

    def read(self, path: str) -> bytes | None:
        return self.changes[path] if path in self.changes else self.base.read(path)

    def catalog_files(self) -> list[RawFile]:
        base = {raw.path: raw for raw in self.base.catalog_files()}
        for path, content in self.changes.items():
            if path.startswith(CATALOG_DIR + "/"):
                if content is None:
                    base.pop(path, None)
                else:
                    base[path] = RawFile(path, None, content)
        return [base[p] for p in sorted(base)]

    def entries(self) -> list[Entry]:
        # a deleted file stays listed, with no blob: read, it is gone, and a cache of
        # the base's tree then knows that tree's file is not what was checked
        out = {e.path: e.blob for e in self.base.entries()}
        for path, content in self.changes.items():
            if content is None and path not in out:
                continue
            out[path] = None
        return [Entry(path, out[path]) for path in sorted(out)]

    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        rest = [p for p in paths if p not in self.changes]
        by_path = {raw.path: raw for raw in self.base.files_at(rest)} if rest else {}
        for path in paths:
            if path in self.changes:
                content = self.changes[path]
                if content is not None:
                    yield RawFile(path, None, content)
            elif path in by_path:
                yield by_path[path]
