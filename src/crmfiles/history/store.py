"""The history cache file, read a part at a time.

``<git dir>/crmfiles/history-v<N>.marshal`` holds the history of one head.  A warm run
reads only what it needs from it: the newest changes (``crm history -n``), one record's
versions (``crm history ID``), or everything (reports, the TUI); the files at the head
and the product catalog are read only to extend the history with new commits.  So the
file is a small header followed by sections, each marshalled on its own (marshal loads
plain tuples, lists and dicts in C):

- ``recent``: every record with a version at or after a cutoff time (about the
  newest ``RECENT`` versions, and all of the cutoff's own second), with the commits
  those versions name: enough for the newest changes without loading the rest;
- ``commits``, and the versions by record in ``shards`` by a hash of the id (one
  record's versions are one shard away);
- ``summary.ids`` and a section for each column of the records' summaries
  (:mod:`crmfiles.history.summary`): days in stage, the stages a record reached,
  read without the versions;
- ``chain`` (raw bytes), ``files``, ``products``.

The header names the head, and where each section is.  Anything unexpected in the
file (another version, a torn write, a section out of bounds) reads as no cache: the
history is rebuilt, and the file written again.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import heapq
import marshal
import os
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from crmfiles.history.model import (
    C_TIME,
    V_COMMIT,
    V_MERGE,
    Commit,
    History,
    Version,
    record_id,
)
from crmfiles.history.summary import COLUMNS, Summary, summarize

CACHE_VERSION = 4  # 4: the summary sections
CACHE_DIR = "crmfiles"
RECENT = 2000  # versions in the recent section (and those sharing the last one's date);
# ten times as many records (a huge commit at the cutoff): no recent section
_SHARD_RECORDS = 2000  # about this many records a shard
_MAX_SHARDS = 256

# the stamp ties a file to this cache version and this Python's marshal format
_STAMP = (CACHE_VERSION, marshal.version, *sys.version_info[:2])
_LENGTH = 8  # the header's length, little-endian, before the header
_FIRST_READ = 1 << 16  # the header, and often the recent section, in one read
# the sections every file of this version has (besides a shard and files per shard)
_NAMED = frozenset(
    ("recent", "commits", "chain", "products", "summary.ids", *(f"summary.{c}" for c in COLUMNS))
)


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Reading, building or writing history allocates hundreds of thousands of small
    objects and no cycles; the cyclic collector would walk them again and again (a
    fifth of a cold run)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def cache_path(git_dir: Path) -> Path:
    return git_dir / CACHE_DIR / f"history-v{CACHE_VERSION}.marshal"


def shard_of(record_id: str, shards: int) -> int:
    """A record's shard: a hash that is the same in every process (not ``hash``)."""
    return zlib.crc32(record_id.encode("utf-8", "surrogateescape")) % shards


class CacheFile:
    """An open cache file: its header, and its sections read on demand from the same
    file (a file renamed over it meanwhile does not mix in)."""

    def __init__(
        self, fd: int, first: bytes, header: tuple[Any, ...], info: os.stat_result
    ) -> None:
        self._fd = fd
        self._first = first
        _, self.head, self.depth, self._shards, self._cutoff, self._sections = header
        self._size = info.st_size
        self.stamp = (info.st_mtime_ns, info.st_size)  # as a stat of the path gives it

    @classmethod
    def open(cls, path: Path) -> CacheFile | None:
        """The file's header, or None: no file, another version, or a broken one."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            first = os.read(fd, _FIRST_READ)
            size = int.from_bytes(first[:_LENGTH], "little")
            if _LENGTH + size > info.st_size:
                raise ValueError("not a cache file")
            if len(first) < _LENGTH + size:
                first += _pread(fd, _LENGTH + size - len(first), len(first))
            header = marshal.loads(first[_LENGTH : _LENGTH + size])
            if (
                not isinstance(header, tuple)
                or len(header) != 6
                or header[0] != _STAMP
                or not isinstance(header[3], int)
                or header[3] < 1
                or not (header[4] is None or isinstance(header[4], int))  # or False
                or not isinstance(header[5], dict)
                or not _NAMED.issubset(header[5])
            ):
                raise ValueError("not a cache of this version")
        except (OSError, EOFError, ValueError, TypeError):
            os.close(fd)
            return None
        return cls(fd, first, header, info)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> CacheFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raw(self, name: str) -> bytes:
        offset, size = self._sections[name]
        if offset + size <= len(self._first):
            return self._first[offset : offset + size]
        if offset < 0 or size < 0 or offset + size > self._size:
            raise EOFError(f"the cache's {name} section is out of bounds")
        data = _pread(self._fd, size, offset)
        if len(data) != size:
            raise EOFError(f"the cache's {name} section is cut short")
        return data

    def _load(self, name: str) -> Any:
        return marshal.loads(self._raw(name))

    def history(self, *, files: bool) -> History | None:
        """Everything; the files at the head and the product catalog only with
        ``files`` (without them the history cannot be extended: ``partial``)."""
        try:
            with no_gc():
                return self._history(files)
        except (OSError, KeyError, EOFError, ValueError, TypeError):
            return None

    def _history(self, files: bool) -> History:
        timelines: dict[str, list[Version]] = {}
        for shard in range(self._shards):
            timelines.update(self._load(f"shard{shard}"))
        return History(
            self.head,
            self.depth,
            self._raw("chain"),
            self._load("commits"),
            timelines,
            self._files(range(self._shards)) if files else {},
            self._load("products") if files else {},
            partial=not files,
            summary=self._summary(COLUMNS) if files else None,  # a base: rows to keep
        )

    def summary(self, columns: Iterable[str] = COLUMNS) -> Summary | None:
        """The records' summaries, in these columns only (see
        :mod:`crmfiles.history.summary`); None when the file cannot give them."""
        try:
            with no_gc():
                return self._summary(columns)
        except (OSError, KeyError, EOFError, ValueError, TypeError):
            return None

    def _summary(self, columns: Iterable[str]) -> Summary:
        ids = self._load("summary.ids")
        loaded = {name: self._load(f"summary.{name}") for name in columns}
        if not isinstance(ids, list) or any(
            not isinstance(c, list) or len(c) != len(ids) for c in loaded.values()
        ):
            raise ValueError("the cache's summary is not of its records")
        return Summary(ids, loaded)

    def recent(self) -> tuple[int | None, History] | None:
        """The records with a version at or after the cutoff (seconds since the epoch;
        None: every record), as a partial history with only the commits they name;
        None when the file has no recent section."""
        if self._cutoff is False:
            return None
        try:
            commits, timelines = self._load("recent")
        except (OSError, KeyError, EOFError, ValueError, TypeError):
            return None
        return self._cutoff, History(self.head, self.depth, b"", commits, timelines, partial=True)

    def part_of(self, record_ids: set[str]) -> History | None:
        """What replaying new commits onto these records needs: their versions, every
        commit, their files at the head and the product catalog (a partial history:
        a base for them only); None when the file cannot give it."""
        try:
            timelines: dict[str, list[Version]] = {}
            for shard in sorted({shard_of(r, self._shards) for r in record_ids}):
                loaded = self._load(f"shard{shard}")
                timelines.update({r: loaded[r] for r in record_ids if r in loaded})
            nearby = self._files({shard_of(r, self._shards) for r in record_ids})
            files = {path: blob for path, blob in nearby.items() if record_id(path) in record_ids}
            commits, products = self._load("commits"), self._load("products")
        except (OSError, KeyError, EOFError, ValueError, TypeError):
            return None
        return History(
            self.head, self.depth, b"", commits, timelines, files, products, partial=True
        )

    def _files(self, shards: Iterable[int]) -> dict[str, str]:
        """The files at the head of the records of these shards (path -> blob)."""
        out: dict[str, str] = {}
        for shard in sorted(shards):
            out.update(self._load(f"files{shard}"))
        return out

    def record(self, record_id: str) -> History | None:
        """A partial history with one record's versions (none when it has no history)."""
        try:
            shard = self._load(f"shard{shard_of(record_id, self._shards)}")
            timelines = {record_id: shard[record_id]} if record_id in shard else {}
            commits = self._load("commits")
        except (OSError, KeyError, EOFError, ValueError, TypeError):
            return None
        return History(self.head, self.depth, b"", commits, timelines, partial=True)


def _pread(fd: int, size: int, offset: int) -> bytes:
    pread = getattr(os, "pread", None)
    if pread is not None:
        return bytes(pread(fd, size, offset))
    os.lseek(fd, offset, os.SEEK_SET)  # Windows
    return os.read(fd, size)


def encode(history: History, *, recent_size: int = RECENT) -> bytes | None:
    """The cache file of a complete history; None when something in it cannot be
    marshalled (an odd value in the product catalog): the history stays uncached."""
    shards = max(1, min(_MAX_SHARDS, len(history.timelines) // _SHARD_RECORDS))
    parts: list[dict[str, list[Version]]] = [{} for _ in range(shards)]
    for rid, versions in history.timelines.items():
        parts[shard_of(rid, shards)][rid] = versions
    # the files too, by their record's shard: new commits touch a few records, and
    # replaying them needs only those records' files
    files: list[dict[str, str]] = [{} for _ in range(shards)]
    for path, blob in history.files.items():
        files[shard_of(record_id(path), shards)][path] = blob
    recent = _recent(history, recent_size)
    # the records' summaries: those of the history it extends, where they still hold
    summary = history.summary = summarize(history, history.summary)
    try:
        sections = [
            ("recent", marshal.dumps(recent[1:]) if recent is not None else b""),
            ("summary.ids", marshal.dumps(summary.ids)),
            *((f"summary.{name}", marshal.dumps(summary.columns[name])) for name in COLUMNS),
            ("commits", marshal.dumps(history.commits)),
            ("chain", history.chain),
            *((f"shard{i}", marshal.dumps(part)) for i, part in enumerate(parts)),
            *((f"files{i}", marshal.dumps(part)) for i, part in enumerate(files)),
            ("products", marshal.dumps(history.products)),
        ]
    except ValueError:
        return None
    cutoff = recent[0] if recent is not None else False  # False: no recent section
    # the header's own length depends on the offsets in it: lay out with a generous
    # guess of its size, then pad the header to the guess
    table: dict[str, tuple[int, int]] = {}
    guess = 256 + 64 * len(sections)
    offset = _LENGTH + guess
    for name, data in sections:
        table[name] = (offset, len(data))
        offset += len(data)
    header = marshal.dumps((_STAMP, history.head, history.depth, shards, cutoff, table))
    if len(header) > guess:
        return None  # cannot happen with sane names; stay uncached rather than wrong
    header += b"\0" * (guess - len(header))
    return b"".join(
        [len(header).to_bytes(_LENGTH, "little"), header, *(data for _, data in sections)]
    )


def recent_part(history: History, size: int = RECENT) -> tuple[int | None, History] | None:
    """What the recent section of ``history``'s cache holds (see :meth:`CacheFile.recent`),
    without writing it."""
    recent = _recent(history, size)
    if recent is None:
        return None
    cutoff, commits, timelines = recent
    return cutoff, History(history.head, history.depth, b"", commits, timelines, partial=True)


def _recent(
    history: History, size: int
) -> tuple[int | None, list[Commit], dict[str, list[Version]]] | None:
    """The recent section: (cutoff, commits, versions by record) with the commits
    renumbered; None when a huge commit at the cutoff would make it most of the file."""
    size = max(size, 1)
    timelines = history.timelines
    commit_times = [commit[C_TIME] for commit in history.commits]
    cutoff: int | None = None
    wanted = set(timelines)
    if sum(map(len, timelines.values())) <= size:
        pass  # every record
    elif commit_times == sorted(commit_times):
        # the usual: the commits, numbered as the replay met them, are in time order, and
        # so are each record's versions; those of the last `size` commits or of their
        # time are the newest, and a record has one when its last version has
        first = bisect.bisect_left(commit_times, commit_times[-size:][0])
        cutoff = commit_times[first]
        wanted = {
            record_id
            for record_id, versions in timelines.items()
            if versions[-1][V_COMMIT] >= first
        }
    else:
        # the time of the `size`-th newest version: every record with a version of
        # that time or newer is in
        times = [commit_times[v[V_COMMIT]] for versions in timelines.values() for v in versions]
        cutoff = heapq.nlargest(size, times)[-1]
        recent = {i for i, time in enumerate(commit_times) if time >= cutoff}
        wanted = {
            record_id
            for record_id, versions in timelines.items()
            for v in versions
            if v[V_COMMIT] in recent
        }
    if len(wanted) > 10 * size:
        return None
    index: dict[int, int] = {}
    commits: list[Commit] = []

    def renumber(commit: int) -> int:
        if commit < 0:
            return commit
        if commit not in index:
            index[commit] = len(commits)
            commits.append(history.commits[commit])
        return index[commit]

    part = {
        record_id: [
            (renumber(v[V_COMMIT]), v[1], v[2], v[3], renumber(v[V_MERGE]))
            for v in timelines[record_id]
        ]
        for record_id in timelines
        if record_id in wanted
    }
    return cutoff, commits, part


def write(path: Path, history: History, payload: bytes | None = None, *, lock: bool = True) -> None:
    """Write the cache file of a complete history (``payload``, when :func:`encode` has
    already made it), atomically, holding the cache folder's lock (unless the caller
    holds it: ``lock`` False), and remove those of older versions; a read-only
    repository (or an odd catalog) stays uncached."""
    from crmfiles.cache import writing
    from crmfiles.records.edit import write_bytes_atomic

    with contextlib.suppress(OSError), writing(path.parent) if lock else contextlib.nullcontext():
        payload = payload if payload is not None else encode(history)
        if payload is None:
            return
        write_bytes_atomic(path, payload, durable=False)
        for older in path.parent.glob("history-v*.marshal"):
            if older != path:
                older.unlink()
