"""Read what history needs from git: one streamed ``git log --raw`` and one
``git cat-file --batch`` running side by side.

The log lists every commit of the range (``--full-history --sparse``: merges and side
branches included, so the first-parent chain can be rebuilt from the parents), each
merge diffed against its first parent (``--diff-merges=first-parent``), limited to
``opportunities/`` and the product catalog, without rename detection (a record is
followed by its id, its file name, so a move between folders is a deletion and an
addition of the same id in one commit).  As the log streams in, every new blob id goes
to ``cat-file``; a thread drains its output, and the main thread reads the fields of
each version as it arrives: most versions are derived from a neighbour already read
(:func:`~crmfiles.history.fields.derive`), the rest scanned or parsed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from crmfiles.git import GitError
from crmfiles.history.fields import Fields, Spans, derive, read

OPPORTUNITIES = "opportunities"
PRODUCTS = "catalogs/products.yaml"
_ZERO = b"0" * 40

_RAW = re.compile(rb":\d+ \d+ ([0-9a-f]{40}) ([0-9a-f]{40}) [A-Z]\d*\x00([^\x00]*)\x00")
_FORMAT = "--format=%x01%H %P%x02%aN%x02%aE%x02%cI"


@dataclass(slots=True)
class LoggedCommit:
    id: str
    parents: list[str]
    name: str
    email: str
    date: str  # committer date, ISO 8601 with the committer's offset
    changes: list[tuple[str, str | None, str | None]]  # path, old blob, new blob


@dataclass
class Scan:
    """The commits of a range, and the fields of every opportunity blob they add."""

    commits: dict[str, LoggedCommit] = field(default_factory=dict)
    fields: dict[str, Fields | None] = field(default_factory=dict)  # blob -> fields
    products: dict[str, bytes] = field(default_factory=dict)  # blob -> catalog text
    read_blobs: int = 0  # versions read from git (a test counts them)


def scan(
    root: Path,
    head: str,
    since: str | None = None,
    on_commits: Callable[[int], None] | None = None,
) -> Scan:
    """Every commit reachable from ``head`` and not from ``since``; ``on_commits`` is
    told how many commits have been read so far (for a progress bar)."""
    spec = [head, f"^{since}"] if since else [head]
    log_args = [
        "git",
        "log",
        "--full-history",
        "--sparse",
        "--no-renames",
        "--raw",
        "-z",
        "--no-abbrev",
        "--diff-merges=first-parent",
        "--root",
        "--no-color",
        "--no-show-signature",
        _FORMAT,
        *spec,
        "--",
        OPPORTUNITIES,
        PRODUCTS,
    ]
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        log = subprocess.Popen(
            log_args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        cat = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    reader = _Blobs(cat)
    result = Scan()
    try:
        _stream(log, cat, reader, result, on_commits)
    finally:
        for proc in (log, cat):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        reader.join()
    return result


def _stream(
    log: subprocess.Popen[bytes],
    cat: subprocess.Popen[bytes],
    reader: _Blobs,
    result: Scan,
    on_commits: Callable[[int], None] | None,
) -> None:
    assert log.stdout is not None and log.stderr is not None and cat.stdin is not None
    wanted: set[str] = set()
    products: set[str] = set()
    versions = _Versions(result)
    # cat-file's input gets its own thread: a write that waits for cat-file to catch up
    # must not hold up reading the log
    requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    writer = threading.Thread(target=_feed, args=(cat.stdin, requests), daemon=True)
    writer.start()
    pending = b""
    log_fd = log.stdout.fileno()
    try:
        while True:
            chunk = os.read(log_fd, 1 << 20)
            if chunk:
                pending += chunk
                cut = pending.rfind(b"\x01")
                if cut <= 0:
                    continue
                complete, pending = pending[:cut], pending[cut:]
            else:
                complete, pending = pending, b""
            ids = _parse(complete, result, versions, wanted, products)
            if ids:
                requests.put(b"".join(ids))
            if on_commits is not None:
                on_commits(len(result.commits))
            for blob, content in reader.take():
                versions.add(blob, content, blob in products)
            if not chunk:
                break
    finally:
        requests.put(None)
    error = log.stderr.read()
    if log.wait() != 0:
        message = error.decode("utf-8", "replace").strip() or "git log failed"
        raise GitError(message)
    writer.join()
    reader.join()
    for blob, content in reader.take():
        versions.add(blob, content, blob in products)
    if cat.wait() != 0:
        raise GitError("git cat-file failed")


def _feed(stdin: IO[bytes], requests: queue.SimpleQueue[bytes | None]) -> None:
    try:
        while (request := requests.get()) is not None:
            stdin.write(request)
            stdin.flush()
    except OSError:
        pass  # cat-file went away; the caller reports it
    finally:
        with contextlib.suppress(OSError):
            stdin.close()


def _parse(
    data: bytes,
    result: Scan,
    versions: _Versions,
    wanted: set[str],
    products: set[str],
) -> list[bytes]:
    """Commits from complete log records; the blob ids to ask cat-file for."""
    ids: list[bytes] = []
    for record in data.split(b"\x01"):
        if not record:
            continue
        header, _, raw = record.partition(b"\x00")
        head, name, email, date = header.decode("utf-8", "replace").split("\x02")
        commit, *parents = head.split(" ")
        changes: list[tuple[str, str | None, str | None]] = []
        for old, new, path_bytes in _RAW.findall(raw):
            path = path_bytes.decode("utf-8", "surrogateescape")
            is_record = path != PRODUCTS
            if is_record and not path.endswith((".yaml", ".yml")):
                continue
            old_blob = None if old == _ZERO else old.decode()
            new_blob = None if new == _ZERO else new.decode()
            changes.append((path, old_blob, new_blob))
            if is_record and old_blob and new_blob:
                versions.link(old_blob, new_blob)
            if new_blob is None or new_blob in wanted:
                continue
            wanted.add(new_blob)
            if not is_record:
                products.add(new_blob)
            ids.append(new + b"\n")
        result.commits[commit] = LoggedCommit(commit, parents, name, email, date, changes)
    return ids


class _Versions:
    """The fields of each blob as it arrives, derived from a neighbour when one was
    read by the scan: a version one commit before or after, in the same record."""

    def __init__(self, result: Scan) -> None:
        self.result = result
        self.neighbours: dict[str, list[str]] = {}
        self.vouched: dict[str, tuple[bytes, Spans, Fields]] = {}

    def link(self, old: str, new: str) -> None:
        self.neighbours.setdefault(old, []).append(new)
        self.neighbours.setdefault(new, []).append(old)

    def add(self, blob: str, content: bytes, is_products: bool) -> None:
        self.result.read_blobs += 1
        if is_products:
            self.result.products[blob] = content
            return
        lined = b"\n" + content
        for other in self.neighbours.get(blob, ()):
            known = self.vouched.get(other)
            if known is not None:
                derived = derive(known[0], known[1], known[2], lined)
                if derived is not None:
                    self.result.fields[blob] = derived[0]
                    self.vouched[blob] = (lined, derived[1], derived[0])
                    return
        fields, spans = read(lined)
        self.result.fields[blob] = fields
        if fields is not None and spans is not None:
            self.vouched[blob] = (lined, spans, fields)


class _Blobs:
    """Drains ``cat-file --batch`` output on a thread; :meth:`take` hands over the
    objects complete so far."""

    def __init__(self, cat: subprocess.Popen[bytes]) -> None:
        assert cat.stdout is not None
        self._fd = cat.stdout.fileno()
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._buffer = b""
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, 1 << 20)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._chunks.append(chunk)

    def join(self) -> None:
        self._thread.join()

    def take(self) -> list[tuple[str, bytes]]:
        with self._lock:
            chunks, self._chunks = self._chunks, []
        if not chunks:
            return []
        data = self._buffer + b"".join(chunks) if self._buffer else b"".join(chunks)
        out: list[tuple[str, bytes]] = []
        pos, size = 0, len(data)
        while True:
            newline = data.find(b"\n", pos)
            if newline < 0:
                break
            header = data[pos:newline]
            if header.endswith(b" missing"):
                pos = newline + 1
                continue
            length = int(header[header.rfind(b" ") + 1 :])
            end = newline + 1 + length
            if end >= size:  # the object (or its closing newline) is still coming
                break
            out.append((header[:40].decode(), data[newline + 1 : end]))
            pos = end + 1
        self._buffer = data[pos:]
        return out
