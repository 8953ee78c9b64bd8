"""Lookups in one committed revision for the rules of a step (``crm lint`` of a
range): a record as the revision has it, a folder's records, how many opportunities
use a catalog entry, a deal's open quotes.  Each answer is worked out when first
asked for, from the facts cache and ``git cat-file``, not by listing the revision."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.errors import CrmError
from crmfiles.records import classify
from crmfiles.records.catalogs import parse_bytes
from crmfiles.records.facts import FIELDS
from crmfiles.records.facts_cache import read_tables
from crmfiles.records.gitsources import Revision
from crmfiles.records.lookup import Finder
from crmfiles.records.store import Repository


class RevisionIndex:
    """Lazy lookups in one committed revision: which blob holds a record, its data."""

    def __init__(self, root: Path, rev: str) -> None:
        self.root, self.rev = root, rev
        self._paths: dict[str, dict[str, str]] = {}  # folder -> id -> path
        self._blobs: dict[str, dict[str, str]] = {}  # folder -> blob -> id
        self._finder: Finder | None = None

    def _path(self, folder: str, record_id: str) -> str | None:
        """Where the revision keeps a record: the first readable file of its id, as
        the folder's facts at the revision say (the facts cache answers from the
        trees it knows, O(changes); not a listing of 100,000 files per commit)."""
        if self.rev == git.EMPTY_TREE:
            return None
        paths = self._paths.get(folder)
        if paths is None:
            if folder in FIELDS:
                source = Revision(self.root, self.rev, resolved=True)
                table = read_tables(source, folders=[folder])[folder]
                paths = dict(zip(reversed(table.ids), reversed(table.paths), strict=True))
            else:
                paths = self._listed(folder)
            self._paths[folder] = paths
        return paths.get(record_id)

    def _listed(self, folder: str) -> dict[str, str]:
        """The first path of each id of a folder (in path order), listed from git;
        their blobs kept for :meth:`records`."""
        paths: dict[str, str] = {}
        blobs = self._blobs.setdefault(folder, {})
        for entry in git.ls_tree(self.rev, self.root, [folder]):
            place = classify(entry.path)
            record = place is not None and place.kind == "record" and place.name == folder
            if record and place is not None and place.id not in paths:
                paths[place.id] = entry.path
                blobs[entry.blob] = place.id
        return paths

    def _placed(self, folder: str, record_id: str) -> str | None:
        """Where the work tree keeps a record, when it keeps it in one file where
        crm.yaml's layout puts it (a few stats): most revisions keep it there too."""
        if self._finder is None:
            repository = Repository(self.root)
            self._finder = Finder(self.root, lambda: repository.config)
        try:
            placed = self._finder.placed(folder, record_id)
        except CrmError:  # crm.yaml cannot be read: its own finding
            return None
        return placed[0] if len(placed) == 1 else None

    def get(self, folder: str, record_id: str) -> dict[str, Any] | None:
        """A record's data at the revision: its file where the work tree has it, if
        the revision has a file there; else the first file of its id the revision's
        facts name."""
        content = None
        placed = self._placed(folder, record_id) if folder not in self._paths else None
        if placed is not None:
            content = next((c for _, c in git.cat_blobs([f"{self.rev}:{placed}"], self.root)), None)
        if content is None:
            path = self._path(folder, record_id)
            if path is None:
                return None
            content = next((c for _, c in git.cat_blobs([f"{self.rev}:{path}"], self.root)), None)
        data = parse_bytes(content)
        return data if isinstance(data, dict) else None

    def open_quotes(self, opportunity: str) -> list[str]:
        return open_quotes(self.records("quotes"), opportunity)

    def usage(self, field_name: str, entry: str) -> int:
        """How many opportunities have ``entry`` in ``field_name`` (a field the facts
        keep: the facts cache answers, parsing only what it does not know)."""
        if self.rev == git.EMPTY_TREE:
            return 0
        table = read_tables(Revision(self.root, self.rev, resolved=True))["opportunities"]
        return table.column(field_name).count(entry)

    def records(self, folder: str) -> list[tuple[str, dict[str, Any]]]:
        if self.rev == git.EMPTY_TREE:
            return []
        if folder not in self._blobs:
            self._listed(folder)
        blobs = self._blobs[folder]
        out = []
        for blob, content in git.cat_blobs(sorted(blobs), self.root):
            data = parse_bytes(content)
            if isinstance(data, dict):
                out.append((blobs[blob], data))
        return out


def open_quotes(records: Iterable[tuple[str, dict[str, Any]]], opportunity: str) -> list[str]:
    return sorted(
        rid
        for rid, data in records
        if data.get("opportunity") == opportunity and data.get("status") in ("draft", "active")
    )
