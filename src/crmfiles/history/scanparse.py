"""What the two gits of a history scan write, made into history's terms: the log's
records into :class:`LoggedCommit` (and the blobs they add asked of ``cat-file``), and
``cat-file``'s output into objects and then into the fields of each opportunity
version, derived from the version before where the scan vouched for that one.  The
result is a :class:`Scan`.

Apart from :mod:`crmfiles.history.scan` (starting and waiting for the gits) and
:mod:`crmfiles.history.scanloop` (the thread that moves bytes between their pipes):
this is pure parsing, fed bytes in whatever chunks the pipes give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from crmfiles.history.fields import Fields, Vouched, derive, read, vouch
from crmfiles.history.model import record_id

OPPORTUNITIES = "opportunities"
PRODUCTS = "catalogs/products.yaml"
PATHS = (OPPORTUNITIES, PRODUCTS)
_ZERO = b"0" * 40

_PRODUCTS = PRODUCTS.encode()
_RAW = re.compile(rb":\d+ \d+ ([0-9a-f]{40}) ([0-9a-f]{40}) [A-Z]\d*\x00([^\x00]*)\x00")
# the log's record format, as :func:`parse_log` reads it
LOG_FORMAT = "--format=%x01%H %P%x02%aN%x02%aE%x02%cI%x02%ct"


class LoggedCommit(NamedTuple):
    id: str
    parents: list[str]
    name: str
    email: str
    date: str  # committer date, ISO 8601 with the committer's offset
    time: int  # the same in seconds since the epoch
    changes: list[tuple[str, str | None, str | None]]  # path, old blob, new blob
    # the record's id when the commit is the usual one: one parent, one record file
    # changed in place (its only change)
    rid: str | None = None


@dataclass
class Scan:
    """The commits of a range, and the fields of every opportunity blob they add."""

    commits: dict[str, LoggedCommit] = field(default_factory=dict)
    order: list[LoggedCommit] = field(default_factory=list)  # as the log gave them
    # blob -> its fields as history stores them: a plain tuple in Fields order, ``lines``
    # None (None: no parser reads the blob); the lines, where the amount needs them, in
    # ``lines``
    fields: dict[str, tuple[Any, ...] | None] = field(default_factory=dict)
    lines: dict[str, Any] = field(default_factory=dict)
    products: dict[str, bytes] = field(default_factory=dict)  # blob -> catalog text
    read_blobs: int = 0  # versions read from git (a test counts them)

    def keep(self, blob: str, fields: Fields | None) -> None:
        if fields is None:
            self.fields[blob] = None
        elif fields[-1] is None:  # no lines
            self.fields[blob] = tuple(fields)
        else:
            self.lines[blob] = fields.lines
            self.fields[blob] = (*fields[:-1], None)

    def has(self, blob: str) -> bool:
        """Whether a blob of the scan has been read."""
        return blob in self.fields or blob in self.products


class Asked:
    """The blobs asked of cat-file: each once, in the order they became known."""

    def __init__(self) -> None:
        self.requests = bytearray()  # ids not yet written to cat-file, one a line
        self.wanted: set[str] = set()
        self.products: set[str] = set()  # the blobs that are product catalogs


def parse_log(data: bytes, result: Scan, versions: Versions, asked: Asked) -> None:
    """Commits from complete log records; their new blobs are asked for."""
    sources = versions.sources
    successors = versions.successors
    people = versions.people
    rids = versions.rids
    paths = versions.paths
    ids = versions.ids
    commits = result.commits
    order = result.order
    wanted = asked.wanted
    requests = asked.requests
    new_commit = tuple.__new__  # builds the NamedTuple in C
    for record in data.split(b"\x01"):
        if not record:
            continue
        header, _, raw = record.partition(b"\x00")
        try:
            text = header.decode()
        except UnicodeDecodeError:  # a name that is not UTF-8
            text = header.decode("utf-8", "replace")
        head, name, email, date, time = text.split("\x02")
        commit, *parents = head.split()  # a root commit has none
        changes: list[tuple[str, str | None, str | None]] = []
        for old, new, path_bytes in _RAW.findall(raw):
            is_record = path_bytes != _PRODUCTS
            if is_record and not path_bytes.endswith((b".yaml", b".yml")):
                continue
            # one string a path, and an id: the replay compares and stores them again
            # and again, mostly by identity
            path = paths.get(path_bytes) or paths.setdefault(
                path_bytes, path_bytes.decode("utf-8", "surrogateescape")
            )
            old_blob = None if old == _ZERO else ids.get(old) or ids.setdefault(old, old.decode())
            new_blob = None if new == _ZERO else ids.get(new) or ids.setdefault(new, new.decode())
            changes.append((path, old_blob, new_blob))
            if new_blob is not None:
                if is_record and old_blob is not None and new_blob not in sources:
                    # the version before, which is read first: the new one may be
                    # derived from it
                    sources[new_blob] = old_blob
                    successors[old_blob] = successors.get(old_blob, 0) + 1
                if new_blob not in wanted:  # asked of cat-file once
                    wanted.add(new_blob)
                    requests += new + b"\n"
                    if not is_record:
                        asked.products.add(new_blob)
        rid = None
        if len(changes) == 1 and len(parents) == 1:
            path, old_blob, new_blob = changes[0]
            if old_blob is not None and new_blob is not None and path != PRODUCTS:
                rid = rids.get(path) or rids.setdefault(path, record_id(path))
        # the same few people author every commit: keep one string of each
        logged = commits[commit] = new_commit(LoggedCommit, (
            commit, parents, people.setdefault(name, name), people.setdefault(email, email), date,
            int(time), changes, rid,
        ))  # fmt: skip
        order.append(logged)


class Versions:
    """The fields of each blob as it arrives, derived from the version it replaced when
    the scan vouched for that one."""

    def __init__(self, result: Scan) -> None:
        self.result = result
        self.sources: dict[str, str] = {}  # blob -> the version it replaced
        self.successors: dict[str, int] = {}  # blob -> how many versions replaced it
        self.vouched: dict[str, Vouched] = {}
        self.people: dict[str, str] = {}
        self.rids: dict[str, str] = {}  # path -> record id
        self.paths: dict[bytes, str] = {}
        self.ids: dict[bytes, str] = {}  # blob id -> one string of it

    def add(self, objects: list[tuple[str, bytes]], products: set[str]) -> None:
        """Blobs as they arrive: each id, and the content with a newline in front."""
        result = self.result
        result.read_blobs += len(objects)
        vouched = self.vouched
        sources = self.sources
        successors = self.successors
        keep = result.keep
        kept = result.fields
        for blob, lined in objects:
            if blob in products:
                result.products[blob] = lined[1:]
                continue
            source = sources.get(blob)
            known = vouched.get(source) if source is not None else None
            derived = derive(known, lined) if known is not None else None
            if derived is not None:
                vouched[blob] = derived
                version = derived[3]
                if version[-1] is None:  # the usual: no lines to price it by (keep, inlined)
                    kept[blob] = tuple(version)
                else:
                    keep(blob, version)
            else:
                fields, spans = read(lined)
                keep(blob, fields)
                if fields is not None and spans is not None:
                    vouched[blob] = vouch(lined, spans, fields)
            if known is not None and source is not None:
                # the version before has served once every version that replaced it
                # is read (the log is oldest first, so they come after it)
                left = successors[source] - 1
                if left:
                    successors[source] = left
                else:
                    del successors[source], vouched[source]


class Objects:
    """``cat-file --batch`` output, fed in chunks; yields each object once complete."""

    def __init__(self, ids: dict[bytes, str] | None = None) -> None:
        self._buffer = b""
        self._ids = {} if ids is None else ids  # blob id -> one string of it

    def feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        """The objects complete so far, each as its id and its content with the
        header's newline in front (what the line readers want, at no extra copy)."""
        data = self._buffer + chunk if self._buffer else chunk
        ids = self._ids
        out: list[tuple[str, bytes]] = []
        pos, size = 0, len(data)
        while True:
            newline = data.find(b"\n", pos)
            if newline < 0:
                break
            header = data[pos:newline]
            try:
                end = newline + 1 + int(header[header.rfind(b" ") + 1 :])
            except ValueError:  # "<id> missing"
                pos = newline + 1
                continue
            if end >= size:  # the object (or its closing newline) is still coming
                break
            blob = header[:40]
            out.append((ids.get(blob) or ids.setdefault(blob, blob.decode()), data[newline:end]))
            pos = end + 1
        self._buffer = data[pos:]
        return out
