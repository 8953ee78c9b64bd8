"""What an operation reads before it writes: crm.yaml, the catalogs, one record, who
is working, and git's view of the files it will touch.

Nothing here reads the whole repository: finding a record walks file names only, and
the full check happens once, in :mod:`crmfiles.ops.guard`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from crmfiles import git, notices
from crmfiles.cache import Cache, blob_id
from crmfiles.config import Config, parse_config, read_config_file
from crmfiles.errors import CrmError
from crmfiles.ops.fmt import layout_target
from crmfiles.ops.journal import any_left
from crmfiles.records import RECORD_FOLDERS, is_valid_id
from crmfiles.records.catalogs import Catalogs, read_catalogs
from crmfiles.records.lookup import Finder, parse_record, read_text, the_one, wanted
from crmfiles.records.opener import Unreadable, read_regular
from crmfiles.records.sources import RawFile
from crmfiles.records.worktree import WorkTree
from crmfiles.runtime import Runtime

MAX_ID = 80


@dataclass
class RecordFile:
    folder: str
    id: str
    path: str
    text: str
    data: dict[str, Any]


def slug(text: str, limit: int = 60) -> str:
    """A record id from a name: ``Müller Logistik – E25 fleet`` -> ``muller-logistik-e25-fleet``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:limit].strip("-")
    return out or "record"


class Workspace:
    """One CRM repository as an operation sees it (read lazily, at most once).

    Used as a context manager (``with Workspace(root, staging=True) as ws``): with
    ``staging``, the operation will commit in place, and the index it will need is
    begun at once (:meth:`side_index`); leaving the block drops it if unused."""

    def __init__(
        self,
        root: Path,
        today: dt.date | None = None,
        *,
        staging: bool = False,
        runtime: Runtime | None = None,
    ) -> None:
        self.root = root
        # what the check before the write and the commit need: read and asked while
        # the operation finds and reads its record
        # (the processes first: the reading thread holds Python's lock while it loads)
        self.situation = git.Situation(root)
        self._side = git.EarlySideIndex(self.situation, root) if staging else None
        Cache.prefetch(root)
        self.runtime = runtime or Runtime.library()
        # what killed crm commands left here, repaired before this one writes
        found = git.find_git_dir(root)
        self.repaired: list[str] = []
        if found is not None and any_left(found):
            from crmfiles.ops.leftovers import tidy

            self.repaired = tidy(root, found)
        self.today = today or dt.date.today()
        self._head_blobs: dict[str, str | None] = {}
        self._head_modes: dict[str, str] = {}
        self._index_blobs: dict[str, str | None] = {}  # as git's index had them when read
        self._index_asked: tuple[list[str], Callable[[], list[git.TreeEntry]]] | None = None
        self._blob_texts: dict[str, str] = {}

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop what was begun for a commit that did not happen."""
        early, self._side = self._side, None
        side = early.result() if early is not None else None
        if side is not None:
            side.discard()

    def side_index(self) -> git.SideIndex | None:
        """The user's index, being copied beside it for the commit to come
        (:class:`crmfiles.git.SideIndex`; the one begun when the workspace was made, if
        any, else begun now); None when git commits another way here (hooks, signing).
        Each call hands out a new one: the caller installs or discards it."""
        early, self._side = self._side, None
        if early is not None:
            return early.result()
        return git.side_index_for(self.situation, self.root)

    @cached_property
    def config(self) -> Config:
        return parse_config(read_config_file(self.root))

    @cached_property
    def catalogs(self) -> Catalogs:
        def unreadable(raw: RawFile) -> None:
            notices.warn(f"{raw.path}: {raw.refusal or 'cannot be read'}; left out")

        # one that cannot be parsed is left out quietly: `crm validate` says why, and a
        # rule that needs it refuses
        return read_catalogs(WorkTree(self.root), unreadable=unreadable)

    def catalog(self, name: str) -> dict[str, dict[str, Any]]:
        return self.catalogs.get(name, {})

    @cached_property
    def head(self) -> git.Head:
        return self.situation.head

    def move_head(self, commit: str | None) -> None:
        """HEAD moved to ``commit`` while the operation worked: what was read of HEAD
        and of the index is read again when next asked."""
        self.__dict__["head"] = git.Head(commit, self.head.ref)
        self._head_blobs.clear()
        self._head_modes.clear()
        if self._index_asked is not None:
            with contextlib.suppress(git.GitError):
                self._index_asked[1]()
            self._index_asked = None
        self._index_blobs.clear()

    @cached_property
    def git_dir(self) -> Path:
        return git.find_git_dir(self.root) or self.situation.git_dir

    @cached_property
    def repository_state(self) -> git.RepoState:
        """What git is in the middle of (or None), and the commit hooks it would run."""
        return self.situation.state

    @cached_property
    def identity(self) -> git.Identity:
        """Why git could not commit here for want of a name or e-mail (or None), and
        the author's e-mail it would record."""
        return self.situation.identity

    @cached_property
    def author_email(self) -> str | None:
        """The e-mail git will record as the author (the one the rules judge)."""
        problem, author = self.identity
        if problem is None and author:
            return author
        from crmfiles.lint import _author_email

        return _author_email(self.root)

    @cached_property
    def me(self) -> str | None:
        """Who I am (crmfiles/people.py): the person whose e-mail is the git author's;
        else crm.yaml's ``me``."""
        from crmfiles.people import who_am_i

        return who_am_i(self.catalog("people"), self.author_email, self.config.me).id

    # --- finding records ------------------------------------------------------------

    @cached_property
    def finder(self) -> Finder:
        """Where a record is (:mod:`crmfiles.records.lookup`); what git's index said of
        the paths it found is kept for :meth:`changed_since_head`."""

        def indexed(path: str, blob: str | None) -> None:
            self._index_blobs[path] = blob

        return Finder(self.root, lambda: self.config, on_placed=self._ask_index, on_indexed=indexed)

    def paths_of(self, folders: tuple[str, ...], record_id: str) -> list[tuple[str, str]]:
        """(folder, path) of the record files with this id (:meth:`Finder.paths_of`)."""
        return self.finder.paths_of(folders, record_id)

    def _ask_index(self, paths: list[str]) -> None:
        """Ask git what its index holds for these paths (their staged blobs), and read
        the answer when it is needed (:meth:`_staged`): git reads the whole index."""
        unknown = [p for p in paths if p not in self._index_blobs]
        if unknown and self._index_asked is None:
            self._index_asked = (unknown, git.start_ls_files(self.root, unknown))

    def _staged(self, paths: list[str]) -> dict[str, str | None]:
        """The staged blob of each path (None: not in the index, or in conflict)."""
        if self._index_asked is not None:
            asked, wait = self._index_asked
            self._index_asked = None
            for entry in wait():
                self._index_blobs[entry.path] = entry.blob if not entry.stage else None
            for path in asked:
                self._index_blobs.setdefault(path, None)
        unknown = [p for p in paths if p not in self._index_blobs]
        if unknown:
            self._ask_index(unknown)
            return self._staged(paths)
        return {p: self._index_blobs[p] for p in paths}

    def names(self, folder: str) -> set[str]:
        """The file names anywhere under a record folder (``q-2026-0021.yaml``...)."""
        return self.finder.names(folder)

    def exists(self, folder: str, record_id: str) -> bool:
        return f"{record_id}.yaml" in self.names(folder)

    def find(self, record_id: str, folders: tuple[str, ...] | None = None) -> RecordFile:
        """A record by id (``type/id``, ``folder/id`` or a bare id)."""
        folders, record_id = wanted(record_id, folders)
        hits = self.paths_of(folders or tuple(RECORD_FOLDERS), record_id)
        folder, path = the_one(record_id, folders, hits)
        text = self.read_text(path)
        return RecordFile(folder, record_id, path, text, parse_record(path, text))

    def read_text(self, path: str) -> str:
        return read_text(self.root, path)

    def unique_id(self, folder: str, wanted: str, taken: set[str] | None = None) -> str:
        """``wanted``, or ``wanted-2``, ``wanted-3``... whichever is free."""
        taken = taken or set()
        candidate, n = wanted, 1
        while self.exists(folder, candidate) or candidate in taken:
            n += 1
            suffix = f"-{n}"
            candidate = wanted[: MAX_ID - len(suffix)].rstrip("-") + suffix
        return candidate

    def place(self, folder: str, record_id: str, data: dict[str, Any]) -> str:
        """Where a new record goes under crm.yaml's layout."""
        target = layout_target(f"{folder}/{record_id}.yaml", data, self.config, self.today)
        assert target is not None
        return target

    # --- git's view -------------------------------------------------------------------

    def head_blobs(self, paths: list[str]) -> dict[str, str]:
        """HEAD's blob of each path that HEAD has."""
        unknown = [p for p in paths if p not in self._head_blobs]
        if unknown:
            entries = git.ls_tree(self.head.commit, self.root, unknown) if self.head.commit else []
            found = {e.path: e.blob for e in entries}
            self._head_modes.update({e.path: e.mode for e in entries})
            self._head_blobs.update({p: found.get(p) for p in unknown})
        return {p: blob for p in paths if (blob := self._head_blobs[p]) is not None}

    def file_mode(self, path: str) -> str:
        """The mode a commit gives ``path``: HEAD's, if an executable file, else
        ``100644`` (as :func:`crmfiles.git.edit_tree` does)."""
        self.head_blobs([path])
        return "100755" if self._head_modes.get(path) == "100755" else "100644"

    def head_texts(self, paths: list[str]) -> dict[str, str | None]:
        """HEAD's version of each path (None: HEAD has no such file)."""
        blobs = self.head_blobs(paths)
        unread = sorted({b for b in blobs.values() if b not in self._blob_texts})
        for blob, content in git.cat_blobs(unread, self.root):
            self._blob_texts[blob] = content.decode("utf-8", "replace").removeprefix("\ufeff")
        return {p: self._blob_texts.get(blobs[p]) if p in blobs else None for p in paths}

    def changed_since_head(self, paths: list[str]) -> dict[str, str]:
        """The paths whose work-tree or staged version differs from HEAD, with why."""
        if not paths:
            return {}
        committed = self.head_blobs(paths)
        staged = self._staged(paths)
        out: dict[str, str] = {}
        for path in paths:
            if path not in committed:
                out[path] = "is not committed yet"
                continue
            if staged.get(path) != committed[path]:
                out[path] = "has staged changes"
                continue
            try:
                content = read_regular(self.root / path)
            except (OSError, Unreadable) as exc:
                out[path] = getattr(exc, "why", None) or "cannot be read"
                continue
            if blob_id(content) != committed[path] and (
                git.hash_blobs(self.root, {path: content}, write=False)[path] != committed[path]
            ):
                out[path] = "has uncommitted changes"
        return out


def check_id(folder: str, record_id: str) -> None:
    if not is_valid_id(record_id):
        raise CrmError(
            f"'{record_id}' is not a valid id",
            hint="ids are lower case letters, digits, '.', '_' and '-', starting with a "
            "letter or digit, at most 80 characters",
        )
    if folder not in RECORD_FOLDERS:
        raise CrmError(f"unknown record type '{folder}'")
