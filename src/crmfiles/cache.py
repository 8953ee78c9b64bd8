"""The warm-run cache under ``.git/crmfiles/``: what checking a file found, keyed by
its path and blob id.

A blob id names a file's content, so an entry is never wrong for that content; the
whole cache is also keyed by a fingerprint of everything else a file's findings depend
on (crmfiles' version, the schemas, crm.yaml and the catalogs), so a schema or
catalog change re-checks what it affects.  Two files: the hot one (findings, a few
fields, the blob) is read on every warm run; the cold one (every record's references)
only when the set of record ids changed.  Both are written atomically (temporary file
and rename) and can be deleted at any time.
"""

from __future__ import annotations

import array
import bisect
import contextlib
import hashlib
import marshal
import os
import pickle
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NamedTuple, overload

from crmfiles import __version__, git
from crmfiles.schema import schema_dir

FORMAT = 9


class Found(NamedTuple):
    findings: tuple[Any, ...]  # located findings (line and column set)
    text: str | None  # the file's text, for excerpts


class PathColumn(Sequence[str]):
    """Sorted paths kept as one NUL-joined string and where each one starts (uint32):
    130,000 paths load as one string, where a list is 130,000 objects (20 ms to split,
    as much again to free) - and an operation asks about a handful.  Indexing slices
    one path out, a slice is a view, and the list is made only when it is iterated."""

    __slots__ = ("_hi", "_list", "_lo", "_starts", "_text")

    def __init__(self, text: str, starts: array.array[int], lo: int = 0, hi: int = -1) -> None:
        self._text, self._starts = text, starts  # starts: one per path, and one past the end
        self._lo, self._hi = lo, len(starts) - 1 if hi < 0 else hi
        self._list: list[str] | None = None

    @classmethod
    def of(cls, paths: Sequence[str]) -> PathColumn:
        if isinstance(paths, PathColumn):
            return paths
        text = "\0".join(paths)
        starts = array.array("I")
        starts.frombytes(value_starts(text, len(paths)))
        return cls(text, starts)

    def __len__(self) -> int:
        return self._hi - self._lo

    @overload
    def __getitem__(self, where: int) -> str: ...

    @overload
    def __getitem__(self, where: slice) -> PathColumn: ...

    def __getitem__(self, where: int | slice) -> str | PathColumn:
        n = self._hi - self._lo
        if isinstance(where, slice):
            start, stop, step = where.indices(n)
            if step != 1:
                raise ValueError("a path column is sliced with step 1")
            return PathColumn(
                self._text, self._starts, self._lo + start, self._lo + max(start, stop)
            )
        if where < 0:
            where += n
        if not 0 <= where < n:
            raise IndexError(where)
        i = self._lo + where
        return self._text[self._starts[i] : self._starts[i + 1] - 1]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tolist())

    def tolist(self) -> list[str]:
        if self._list is None:
            self._list = self.joined().split("\0") if len(self) else []
        return self._list

    def joined(self) -> str:
        """The paths joined by NUL."""
        text, start, end = self.span()
        return text if (start, end) == (0, len(text)) else text[start:end]

    def span(self) -> tuple[str, int, int]:
        """:meth:`joined` without a copy: ``text[start:end]`` is it."""
        if not len(self):
            return "", 0, 0
        return self._text, self._starts[self._lo], self._starts[self._hi] - 1

    def consistent(self) -> bool:
        """Whether the offsets fit the text (a cache file is trusted no further)."""
        starts, n = self._starts, len(self._starts) - 1
        return n >= 0 and starts[0] == 0 and starts[n] == (len(self._text) + 1 if n else 0)

    def inserted(self, added: Iterable[str]) -> PathColumn:
        """A new column with ``added`` (paths not in this one) in their sorted places.
        (Each insertion copies the text once: at 8 MB, a few milliseconds, where the
        list of paths would take four times as long to make.)"""
        column = self
        for path in sorted(added):
            column = column._with(path)
        return column

    def _with(self, path: str) -> PathColumn:
        raw, n = self.offsets(), len(self)
        where = bisect.bisect_left(self, path)
        joined = self.joined()
        if n == 0:
            text = path
        elif where == n:
            text = f"{joined}\0{path}"
        elif where == 0:
            text = f"{path}\0{joined}"
        else:  # before the path it now precedes, found with its separators (paths are
            # unique, and only the last one has no NUL after it): one copy of the text
            after = f"\0{self[where]}" + ("\0" if where < n - 1 else "")
            text = joined.replace(after, f"\0{path}{after}", 1)
        # offsets: the same up to it; it starts where the one it precedes did; those
        # after it (and the end) move by its length and separator
        out = array.array("I")
        out.frombytes(raw[: 4 * where + 4] + plus(raw[4 * where :], len(path) + 1))
        return PathColumn(text, out)

    def offsets(self) -> bytes:
        """:func:`value_starts` of :meth:`joined`."""
        if self._lo == 0 and self._hi == len(self._starts) - 1:
            return self._starts.tobytes()
        base = self._starts[self._lo]
        return array.array("I", (s - base for s in self._starts[self._lo : self._hi + 1])).tobytes()


def plus(raw: bytes, shift: int) -> bytes:
    """``shift`` (which may be negative) added to each uint32 of ``raw`` (machine
    order), in C: the words read as the digits of one big number, to which ``shift``
    times 1 in every digit is added - no digit overflows or goes below 0 (offsets into
    a text far below 4 GB, never moved below 0)."""
    if not shift or not raw:
        return raw
    one = (1).to_bytes(4, sys.byteorder)
    total = int.from_bytes(raw, sys.byteorder) + shift * int.from_bytes(
        one * (len(raw) // 4), sys.byteorder
    )
    return total.to_bytes(len(raw), sys.byteorder)


@dataclass
class CheckSnapshot:
    """The hot part of the cache: what a warm run needs about every unchanged file,
    as a few columns that load as a few big strings (a Python object per file would
    cost more than the whole budget of a warm run at 100,000 files)."""

    ids: str  # digest of the record paths: a change means ids were added or removed
    tree: str | None  # the git tree the listing was taken from (None: not from git)
    paths: Sequence[str]  # every record path, sorted (a PathColumn when read from disk)
    blobs: str  # their blob ids, 40 hex digits each, in the same order
    name_keys_text: str  # per path, NUL-separated: the name as names compare ("" if none)
    currency_text: str  # per path, NUL-separated: a priced record's currency ("" if none)
    links: dict[str, str]  # quote/order/invoice path -> the id it follows
    found: dict[str, Found]  # path -> its located findings, for files that have any
    dirty: list[str]  # paths read from outside that tree (edited, untracked): re-read
    unique_ids: bool = False  # no record folder held the same id twice
    roles: dict[str, list[str]] | None = None  # partner path -> roles (competitor checks)
    unique_names: bool = False  # no two opportunities shared a name

    def blob(self, index: int) -> str:
        return self.blobs[40 * index : 40 * index + 40]

    # column name -> the start of each value in its text (uint32, one past the last
    # too): one value is then a slice, where a split makes 100,000 strings
    offsets: dict[str, bytes] = field(default_factory=dict, repr=False)
    # partner path -> its name key: partners are few, so a dict (the name_keys column
    # holds opportunities' alone, whose count a warm run takes from one string)
    partner_names: dict[str, str] | None = None
    _starts: dict[str, array.array[int]] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def name_keys(self) -> list[str]:
        return self.name_keys_text.split("\0") if self.paths else []

    @cached_property
    def currency(self) -> list[str]:
        return self.currency_text.split("\0") if self.paths else []

    def name_key(self, where: int) -> str:
        """The name key of the record at ``where`` ("" if none)."""
        return self._value("name_keys", self.name_keys_text, where)

    def currency_at(self, where: int) -> str:
        """The currency of the record at ``where`` ("" if none)."""
        return self._value("currency", self.currency_text, where)

    def _value(self, column: str, text: str, where: int) -> str:
        if column in self.__dict__:  # split already: a run over every file
            return str(self.__dict__[column][where])
        starts = self.starts(column)
        return text[starts[where] : starts[where + 1] - 1]

    def starts(self, column: str) -> array.array[int]:
        """Where each value of a column ("name_keys", "currency") starts in its text,
        and one past the end: from the cache file, or computed once."""
        starts = self._starts.get(column)
        if starts is None:
            starts = array.array("I")
            raw = self.offsets.get(column, b"")
            if len(raw) != starts.itemsize * (len(self.paths) + 1):
                text = self.name_keys_text if column == "name_keys" else self.currency_text
                raw = value_starts(text, len(self.paths))
            starts.frombytes(raw)
            self._starts[column] = starts
        return starts

    def name_key_is(self, where: int, key: str) -> bool:
        """Whether the record at ``where`` has name key ``key``."""
        return bool(self.paths) and self.name_key(where) == key

    _index: dict[str, int] | None = field(default=None, init=False, repr=False)
    _lookups: int = field(default=0, init=False, repr=False)

    def position(self, path: str) -> int | None:
        """Where ``path`` is in :attr:`paths`, or None: a binary search for the first
        lookups (an operation makes a handful), a dict once there are many (a run
        over every file)."""
        if self._index is None:
            self._lookups += 1
            if self._lookups <= 1000:
                i = bisect.bisect_left(self.paths, path)
                return i if i < len(self.paths) and self.paths[i] == path else None
            self._index = {p: i for i, p in enumerate(self.paths)}
        return self._index.get(path)

    def name_taken(self, key: str) -> int:
        """How many snapshot records have this name key (a scan of one string, in
        place: the first and last keys have a NUL on one side only)."""
        text = self.name_keys_text
        if not self.paths or not key:
            return 0
        if text == key:
            return 1
        needle, count = f"\0{key}\0", 0
        found = text.find(needle)
        while found != -1:  # (two in a row share the NUL between them)
            count += 1
            found = text.find(needle, found + len(key) + 1)
        return count + text.startswith(f"{key}\0") + text.endswith(f"\0{key}")


@cache
def _schemas_digest() -> str:
    """The schemas and the checking code itself: a rule changed within one version
    must not be answered by findings cached before the change."""
    digest = hashlib.sha1(usedforsecurity=False)
    package = Path(__file__).resolve().parent
    code = [
        package / name
        for name in (
            "check.py",
            "cachework.py",
            "schema.py",
            "money.py",
            "config.py",
            "controls.py",
        )
    ]
    code += sorted((package / "rules").glob("*.py")) + sorted((package / "records").glob("*.py"))
    for path in [*sorted(schema_dir().glob("*.schema.json")), *code]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(parts: Iterable[tuple[str, bytes | None]]) -> str:
    """What every file's findings depend on besides its own content."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{FORMAT}:{__version__}:{_schemas_digest()}".encode())
    for name, content in parts:
        digest.update(name.encode() + b"\0" + (content or b"") + b"\0")
    return digest.hexdigest()


def ids_digest(paths: Iterable[str]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update("\n".join(paths).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def blob_id(content: bytes) -> str:
    """The id git gives this content (``git hash-object``)."""
    digest = hashlib.sha1(b"blob %d\0" % len(content), usedforsecurity=False)
    digest.update(content)
    return digest.hexdigest()


def cache_dir(root: Path) -> Path | None:
    proc = git.run(["rev-parse", "--absolute-git-dir"], root, check=False)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.decode().strip()) / "crmfiles"


class Cache:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.hot_path = directory / f"check-v{FORMAT}.pickle"
        self.cold_path = directory / f"refs-v{FORMAT}.pickle"
        self._early: tuple[tuple[int, int, int], str, CheckSnapshot] | None = None

    @classmethod
    def for_repo(cls, root: Path) -> Cache | None:
        if os.environ.get("CRM_NO_CACHE"):
            return None
        early = _PREFETCHED.pop(str(root), None)
        if early is not None:
            early.join()
            if early.cache is not None:
                return early.cache
        directory = cache_dir(root)
        return cls(directory) if directory is not None else None

    @classmethod
    def prefetch(cls, root: Path) -> None:
        """Start reading ``root``'s snapshot on a thread (an operation asks git a few
        questions first: the file is read meanwhile); the next :meth:`for_repo` of
        ``root`` takes it, and :meth:`load` uses it if the file is still the same."""
        if os.environ.get("CRM_NO_CACHE") or str(root) in _PREFETCHED:
            return
        _PREFETCHED[str(root)] = _Prefetch(root)

    def load(self, key: str) -> CheckSnapshot | None:
        """The snapshot stored under fingerprint ``key``, if there is one."""
        early, self._early = self._early, None
        if early is not None and early[0] == git.file_identity(self.hot_path):
            return early[2] if early[1] == key else None
        read = self._read()
        if read is None or read[0] != key:
            return None
        return read[1]

    def _read(self) -> tuple[str, CheckSnapshot] | None:
        """The stored key and snapshot."""
        try:
            with open(self.hot_path, "rb") as handle:
                stored = marshal.load(handle)
            if not isinstance(stored, dict):
                return None
            offsets = stored["offsets"]
            starts = array.array("I")
            raw = offsets.get("paths", b"")
            if raw:
                starts.frombytes(raw)
            elif stored["paths"]:
                starts.frombytes(value_starts(stored["paths"], stored["paths"].count("\0") + 1))
            else:
                starts.append(0)
            paths = PathColumn(stored["paths"], starts)
            found = pickle.loads(stored["found"]) if stored["found"] else {}
            snapshot = CheckSnapshot(
                stored["ids"],
                stored["tree"],
                paths,
                stored["blobs"],
                stored["name_keys"],
                stored["currency"],
                stored["links"],
                found,
                stored["dirty"],
                stored["unique_ids"],
                stored["roles"],
                stored["unique_names"],
                offsets,
                stored["partner_names"],
            )
            key = str(stored["key"])
        except (
            OSError,
            EOFError,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            ImportError,
            pickle.UnpicklingError,
        ):
            return None
        n = len(snapshot.paths)
        if len(snapshot.blobs) != 40 * n or snapshot.name_keys_text.count("\0") != max(n - 1, 0):
            return None
        if not paths.consistent():
            return None
        return key, snapshot

    def load_cold(self) -> dict[str, tuple[str, list[Any], dict[str, Any] | None]]:
        """path -> (blob, references, facts) of the last saved run."""
        try:
            with open(self.cold_path, "rb") as handle:
                stored = marshal.load(handle)
        except (
            OSError,
            EOFError,
            ValueError,
            TypeError,
            AttributeError,
            ImportError,
            pickle.UnpicklingError,
        ):
            return {}
        return stored if isinstance(stored, dict) else {}

    def save(
        self,
        key: str,
        snapshot: CheckSnapshot,
        cold: dict[str, tuple[str, list[Any], dict[str, Any] | None]],
    ) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _dump_atomic(self.cold_path, marshal.dumps(cold))
        except (OSError, ValueError):
            return  # a cache that cannot be written is a slower next run, not an error
        self.save_hot(key, snapshot)

    def save_hot(self, key: str, snapshot: CheckSnapshot) -> None:
        """The snapshot alone (the cold store may lag: each of its entries names the
        blob it was computed from, and is used only for that blob)."""
        n = len(snapshot.paths)
        paths = PathColumn.of(snapshot.paths)
        hot = {
            "key": key,
            "ids": snapshot.ids,
            "tree": snapshot.tree,
            "paths": paths.joined(),
            "blobs": snapshot.blobs,
            "name_keys": snapshot.name_keys_text,
            "currency": snapshot.currency_text,
            "links": snapshot.links,
            "found": pickle.dumps(snapshot.found, protocol=pickle.HIGHEST_PROTOCOL)
            if snapshot.found
            else b"",
            "dirty": snapshot.dirty,
            "unique_ids": snapshot.unique_ids,
            "roles": snapshot.roles or {},
            "unique_names": snapshot.unique_names,
            "partner_names": snapshot.partner_names or {},
            "offsets": {
                "paths": paths.offsets(),
                "name_keys": snapshot.offsets.get("name_keys")
                or value_starts(snapshot.name_keys_text, n),
                "currency": snapshot.offsets.get("currency")
                or value_starts(snapshot.currency_text, n),
            },
        }
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _dump_atomic(self.hot_path, marshal.dumps(hot))
        except (OSError, ValueError):
            pass


def value_starts(text: str, count: int) -> bytes:
    """Where each of ``count`` NUL-separated values of ``text`` starts, and one more."""
    if not count:
        return array.array("I", [0]).tobytes()
    starts = array.array("I", [0])
    pos = text.find("\0")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\0", pos + 1)
    starts.append(len(text) + 1)
    return starts.tobytes()


def _dump_atomic(path: Path, content: bytes) -> None:
    from crmfiles.records.edit import write_bytes_atomic

    write_bytes_atomic(path, content, durable=False)


_HELD: dict[str, int] = {}  # cache folder -> how deep this process holds its lock
_HOLDING = threading.RLock()


@contextlib.contextmanager
def writing(directory: Path) -> Iterator[None]:
    """Hold the cache folder's lock while writing into it: a writer that outlives its
    command (crmfiles.background) is waited for by whoever takes the lock to delete
    the folder (the benchmark's cold runs) or to time a warm run.  Re-entrant within
    a process (a detached process holds it across all its work: one cache's writer
    calls another's), and one thread of a process at a time."""
    key = str(directory)
    with _HOLDING:
        if _HELD.get(key):
            _HELD[key] += 1
            try:
                yield
            finally:
                _HELD[key] -= 1
            return
        try:
            import fcntl
        except ImportError:  # no flock here: writes are atomic renames all the same
            yield
            return
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _HELD[key] = 1
            try:
                yield
            finally:
                _HELD[key] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)


class _Prefetch:
    """:meth:`Cache.prefetch`'s thread and what it read."""

    def __init__(self, root: Path) -> None:
        self.cache: Cache | None = None
        self._thread = threading.Thread(target=self._run, args=(root,), daemon=True)
        self._thread.start()

    def _run(self, root: Path) -> None:
        with contextlib.suppress(Exception):  # a cache read early or not at all
            directory = cache_dir(root)
            if directory is None:
                return
            cache = Cache(directory)
            before = git.file_identity(cache.hot_path)
            read = cache._read()
            if read is not None and before and before == git.file_identity(cache.hot_path):
                cache._early = (before, *read)
            self.cache = cache

    def join(self) -> None:
        self._thread.join()


_PREFETCHED: dict[str, _Prefetch] = {}
