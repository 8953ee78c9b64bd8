"""Read what history needs from git: one streamed ``git log --raw`` and one
``git cat-file --batch`` running side by side.

The log lists every commit of the range (``--full-history --sparse``: merges and side
branches included, so the first-parent chain can be rebuilt from the parents), each
merge diffed against its first parent (``--diff-merges=first-parent``), limited to
``opportunities/`` and the product catalog, without rename detection (a record is
followed by its id, its file name, so a move between folders is a deletion and an
addition of the same id in one commit).  As the log streams in, every new blob id goes
to ``cat-file``, and the fields of each version are read as it arrives (one thread
multiplexes the pipes): most versions are derived from the version before
(:func:`~crmfiles.history.fields.derive`), the rest scanned or parsed.

The log comes oldest first (``--reverse``: git walks the commits first, which costs it
little, then diffs them in order), so the commit that added most records (often the
first) is read first, each version is read after the one it derives from, and the
caller may replay the commits while git is still walking the newer ones
(``on_blobs``): when git is done, little is left to do.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from crmfiles import git
from crmfiles.git import GitError
from crmfiles.history.fields import Fields, Vouched, derive, read, vouch
from crmfiles.history.model import record_id

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

OPPORTUNITIES = "opportunities"
PRODUCTS = "catalogs/products.yaml"
PATHS = (OPPORTUNITIES, PRODUCTS)
_ZERO = b"0" * 40

_PRODUCTS = PRODUCTS.encode()
_RAW = re.compile(rb":\d+ \d+ ([0-9a-f]{40}) ([0-9a-f]{40}) [A-Z]\d*\x00([^\x00]*)\x00")
_FORMAT = "--format=%x01%H %P%x02%aN%x02%aE%x02%cI%x02%ct"


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


def scan(
    root: Path,
    head: str,
    since: str | None = None,
    on_commits: Callable[[int], None] | None = None,
) -> Scan:
    """Every commit reachable from ``head`` and not from ``since``, oldest first;
    ``on_commits`` is told how many commits have been read so far (a progress bar)."""
    with scanning(root, head, since, on_commits) as result:
        return result


@contextmanager
def scanning(
    root: Path,
    head: str,
    since: str | None = None,
    on_commits: Callable[[int], None] | None = None,
    *,
    into: Scan | None = None,
    on_blobs: Callable[[], None] | None = None,
) -> Iterator[Scan]:
    """:func:`scan` into ``into``, calling ``on_blobs`` whenever more blobs have been
    read; handed over as soon as every pipe is read: the gits may still be exiting
    (freeing a large heap takes git tens of milliseconds), and are waited for when the
    block ends, which raises :class:`GitError` if one of them failed."""
    spec = [head, f"^{since}"] if since else [head]
    log_args = [
        "git",
        "log",
        "--reverse",
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
        *PATHS,
    ]
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    result = into if into is not None else Scan()
    with tempfile.TemporaryFile() as errors:
        procs: list[subprocess.Popen[bytes]] = []
        try:
            procs.append(
                subprocess.Popen(log_args, cwd=root, stdout=subprocess.PIPE, stderr=errors, env=env)
            )
            procs.append(
                subprocess.Popen(
                    ["git", "cat-file", "--batch", "--buffer"],
                    cwd=root,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
            )
        except FileNotFoundError:
            _stop(procs)
            raise GitError("git is not installed or not on PATH") from None
        log, cat = procs
        try:
            if os.name == "nt":  # no select() on pipes: read the log, then the blobs
                _one_after_the_other(root, log, cat, result)
            else:
                _stream(log, cat, result, on_commits, on_blobs)
            if on_blobs is not None:
                on_blobs()
        except BaseException:
            _stop(procs)
            raise
        try:
            yield result
        finally:
            for proc in procs:  # every pipe is read to its end: each git is done or ending
                proc.wait()
            if log.returncode != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip()
                raise GitError(message or "git log failed")
            if cat.returncode != 0:
                raise GitError("git cat-file failed")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """End the gits of a scan that failed (or was interrupted)."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _stream(
    log: subprocess.Popen[bytes],
    cat: subprocess.Popen[bytes],
    result: Scan,
    on_commits: Callable[[int], None] | None,
    on_blobs: Callable[[], None] | None,
) -> None:
    """One thread multiplexes the three pipes (threads would fight over the GIL): the
    log is parsed as it comes, blob ids are written to cat-file as they are found, and
    the blobs are read as soon as they are complete."""
    assert log.stdout is not None and cat.stdin is not None and cat.stdout is not None
    log_fd, in_fd, out_fd = log.stdout.fileno(), cat.stdin.fileno(), cat.stdout.fileno()
    for fd in (log_fd, in_fd, out_fd):
        os.set_blocking(fd, False)
        _widen(fd)
    asked = _Asked()
    versions = _Versions(result)
    objects = _Objects(versions.ids)
    pending = b""
    requests = asked.requests
    log_open = True
    selector = selectors.DefaultSelector()
    selector.register(log_fd, selectors.EVENT_READ, "log")
    selector.register(out_fd, selectors.EVENT_READ, "out")
    writing = False
    try:
        while True:
            if requests and not writing:
                selector.register(in_fd, selectors.EVENT_WRITE, "in")
                writing = True
            elif not requests and writing:
                selector.unregister(in_fd)
                writing = False
            if not requests and not log_open and not cat.stdin.closed:
                cat.stdin.close()  # every id is sent: cat-file finishes and closes its end
            if not selector.get_map():
                break
            # the log first, then cat-file's input, its output last: git log must never
            # wait on a full pipe while Python reads blobs (it is the slowest producer)
            ready = sorted(selector.select(), key=lambda event: _PRIORITY[event[0].data])
            got = 0
            for key, _ in ready:
                if key.data == "log":
                    chunk = _read(log_fd)
                    if chunk is None:
                        continue
                    got += len(chunk)
                    if chunk:
                        pending += chunk
                        cut = pending.rfind(b"\x01")
                        if cut <= 0:
                            continue
                        complete, pending = pending[:cut], pending[cut:]
                    else:
                        complete, pending = pending, b""
                        selector.unregister(log_fd)
                        log_open = False
                    _parse(complete, result, versions, asked)
                    if on_commits is not None:
                        on_commits(len(result.commits))
                elif key.data == "in":
                    try:
                        sent = os.write(in_fd, requests[: 1 << 16])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        raise GitError("git cat-file stopped early") from None
                    del requests[:sent]
                else:
                    chunk = _read(out_fd)
                    if chunk is None:
                        continue
                    if not chunk:
                        selector.unregister(out_fd)
                        continue
                    got += len(chunk)
                    versions.add(objects.feed(chunk), asked.products)
                    if on_blobs is not None:
                        on_blobs()
            if 0 < got < _SMALL:
                # the gits write a few KB at a time, and waking for each costs both
                # sides more than the work: let them fill the (1 MiB) pipes a little
                time.sleep(_NAP)
    finally:
        selector.close()


_PRIORITY = {"log": 0, "in": 1, "out": 2}
_SMALL = 64 << 10  # bytes read in a round under which the next waits a little
_NAP = 0.001  # seconds: git log writes ~8 KB, cat-file ~50 KB meanwhile


def _one_after_the_other(
    root: Path, log: subprocess.Popen[bytes], cat: subprocess.Popen[bytes], result: Scan
) -> None:
    assert log.stdout is not None and cat.stdin is not None
    cat.stdin.close()
    asked = _Asked()
    versions = _Versions(result)
    _parse(log.stdout.read(), result, versions, asked)
    blobs = asked.requests.decode().split()
    for blob, content in git.cat_blobs(blobs, root):
        versions.add([(blob, b"\n" + content)], asked.products)


def _read(fd: int, size: int = 1 << 20) -> bytes | None:
    """What a pipe has (b"" at its end; None when a wake-up found nothing)."""
    try:
        return os.read(fd, size)
    except BlockingIOError:
        return None


def _widen(fd: int) -> None:
    """A 1 MiB pipe lets git run ahead while Python works (Linux; elsewhere a no-op)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, 1 << 20)


class _Asked:
    """The blobs asked of cat-file: each once, in the order they became known."""

    def __init__(self) -> None:
        self.requests = bytearray()  # ids not yet written to cat-file, one a line
        self.wanted: set[str] = set()
        self.products: set[str] = set()  # the blobs that are product catalogs


def _parse(data: bytes, result: Scan, versions: _Versions, asked: _Asked) -> None:
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


class _Versions:
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


class _Objects:
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
