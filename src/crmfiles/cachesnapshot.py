"""The warm-run cache's snapshot as it lives in memory: :class:`CheckSnapshot` (what a
warm run needs about every unchanged file) and the packed columns it is made of
(:class:`PathColumn`, :func:`value_starts`, :func:`plus`).

Apart from :mod:`crmfiles.cache`, which keys the snapshot, reads and writes its files
and locks its folder: this is the shape of the data - a few big strings and their
offsets, where a Python object per file would cost a warm run too much - and the
operations on it that the checker, the rules and the patching in
:mod:`crmfiles.cachework` share.
"""

from __future__ import annotations

import array
import bisect
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, overload


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
