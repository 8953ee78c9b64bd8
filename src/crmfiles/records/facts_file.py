"""The facts cache's file (``.git/crmfiles/facts-v*.marshal``): one git tree's rows per
record folder, each part (paths, blob ids, every field's column) marshalled on its own
behind a small header, and read from a memory map only when a reader asks for it.

A report that sums four fields of 100,000 opportunities reads the header and those
four columns: a few megabytes of a file of tens.  The map is taken of the file that
was opened, so a writer replacing the file meanwhile (atomically, under the cache
folder's lock) changes nothing for this reader.
"""

from __future__ import annotations

import hashlib
import marshal
import mmap
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from crmfiles import __version__

FORMAT = 2


class Deferred(ABC):
    """A column worked out when first read (a table's column with a read's changes
    applied): a read that changes one row of 100,000 decodes the columns its reader
    asks for, not all of them."""

    @abstractmethod
    def decode(self) -> list[Any]:
        """The column's values."""


# a column as kept: a list, still marshalled (bytes, or a view of the file's map), or
# still to be worked out
Column = list[Any] | bytes | memoryview | Deferred


@cache
def definition() -> str:
    """What facts depend on besides a file's content: crmfiles' version, this code,
    the facts' definition and the YAML reader."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{FORMAT}:{__version__}".encode())
    here = Path(__file__).resolve().parent
    for name in (
        "facts.py",
        "facts_cache.py",
        "facts_file.py",
        "facts_table.py",
        "yamlio.py",
        "yamlroute.py",  # (split from yamlio.py: which path reads a text)
    ):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def decoded(column: Column) -> list[Any]:
    if isinstance(column, list):
        return column
    if isinstance(column, Deferred):
        return column.decode()
    return marshal.loads(column)


def encode(values: Iterable[Any]) -> bytes:
    """A column as the file keeps it: equal strings written once (marshal refers back
    to an object it has written), so a column of a few stages loads as a few strings."""
    memo: dict[str, str] = {}
    return marshal.dumps([memo.setdefault(v, v) if type(v) is str else v for v in values])


def stems(paths: list[str]) -> list[str]:
    """Each path's file name without its extension: the id its record is read under."""
    return [p.rpartition("/")[2].rpartition(".")[0] for p in paths]


class Rows:
    """One folder's records of one tree, in path order: path, blob id and facts, the
    facts as columns.  Paths and blob ids are decoded when first read."""

    def __init__(
        self,
        paths: list[str] | Callable[[], list[str]] | None = None,
        blobs: list[str] | Callable[[], list[str]] | None = None,
        columns: dict[str, Column] | None = None,
        *,
        count: int | None = None,
        unique: bool | None = None,
    ) -> None:
        self._paths = paths if paths is not None else []
        self._blobs = blobs if blobs is not None else []
        self.columns: dict[str, Column] = columns if columns is not None else {}
        self._count = count
        self.unique = unique  # whether no two paths share an id (None: not known)

    @property
    def paths(self) -> list[str]:
        if callable(self._paths):
            self._paths = self._paths()
        return self._paths

    @property
    def blobs(self) -> list[str]:
        if callable(self._blobs):
            self._blobs = self._blobs()
        return self._blobs

    def __len__(self) -> int:
        return self._count if self._count is not None else len(self.paths)


@dataclass
class Stored:
    """What the file holds: the tree, its unread paths, and where each folder's parts
    are in the map."""

    tree: str
    dirty: list[str]
    spans: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: memoryview = field(default_factory=lambda: memoryview(b""))

    def rows(self, folder: str) -> Rows:
        entry = self.spans.get(folder)
        if entry is None:
            return Rows()
        parts: dict[str, tuple[int, int]] = entry["parts"]

        def part(name: str) -> memoryview:
            start, size = parts[name]
            return self.data[start : start + size]

        def paths() -> list[str]:
            joined = marshal.loads(part("\0paths"))
            return joined.split("\0") if joined else []

        def blobs() -> list[str]:
            joined = marshal.loads(part("\0blobs"))
            return [joined[i : i + 40] for i in range(0, len(joined), 40)]

        columns: dict[str, Column] = {n: part(n) for n in parts if not n.startswith("\0")}
        return Rows(paths, blobs, columns, count=entry["count"], unique=entry["unique"])


class FactsCache:
    """The facts file of one repository's cache folder."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = directory / f"facts-v{FORMAT}.marshal"

    @classmethod
    def for_root(cls, root: Path) -> FactsCache | None:
        if os.environ.get("CRM_NO_CACHE"):
            return None
        from crmfiles.cache import cache_dir

        directory = cache_dir(root)
        return cls(directory) if directory is not None else None

    def load(self) -> Stored | None:
        try:
            with open(self.path, "rb") as handle:
                header = marshal.load(handle)
                if not isinstance(header, dict) or header.get("key") != definition():
                    return None
                start = handle.tell()
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            return Stored(
                str(header["tree"]),
                list(header["dirty"]),
                dict(header["folders"]),
                memoryview(mapped)[start:],
            )
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            return None

    def save(self, tree: str, dirty: Iterable[str], folders: dict[str, Rows]) -> None:
        from crmfiles.cache import _dump_atomic, writing

        chunks: list[bytes | memoryview] = []
        spans: dict[str, dict[str, Any]] = {}
        offset = 0
        for name, rows in folders.items():
            parts: dict[str, tuple[int, int]] = {}
            pieces: dict[str, bytes | memoryview] = {
                "\0paths": marshal.dumps("\0".join(rows.paths)),
                "\0blobs": marshal.dumps("".join(rows.blobs)),
            }
            for column, values in rows.columns.items():
                if isinstance(values, bytes | memoryview):
                    pieces[column] = values
                else:
                    pieces[column] = encode(decoded(values))
            for part, piece in pieces.items():
                parts[part] = (offset, len(piece))
                chunks.append(piece)
                offset += len(piece)
            ids = stems(rows.paths)
            unique = len(set(ids)) == len(ids)
            spans[name] = {"count": len(rows.paths), "unique": unique, "parts": parts}
        header = {"key": definition(), "tree": tree, "dirty": sorted(dirty), "folders": spans}
        content = b"".join([marshal.dumps(header), *chunks])
        try:
            with writing(self.dir):
                _dump_atomic(self.path, content)
        except (OSError, ValueError):
            pass  # a cache that cannot be written is a slower next read, not an error
