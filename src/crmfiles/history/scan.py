"""Read what history needs from git: one streamed ``git log --raw`` and one
``git cat-file --batch`` running side by side.

The log lists every commit of the range (``--full-history --sparse``: merges and side
branches included, so the first-parent chain can be rebuilt from the parents), each
merge diffed against its first parent (``--diff-merges=first-parent``), limited to
``opportunities/`` and the product catalog, without rename detection (a record is
followed by its id, its file name, so a move between folders is a deletion and an
addition of the same id in one commit).  As the log streams in, every new blob id goes
to ``cat-file``, and the fields of each version are read as it arrives (one thread
multiplexes the pipes): most versions are derived from a neighbour already read
(:func:`~crmfiles.history.fields.derive`), the rest scanned or parsed.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crmfiles import git
from crmfiles.git import GitError
from crmfiles.history.fields import Fields, Vouched, derive, read, vouch

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

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
    with tempfile.TemporaryFile() as errors:
        try:
            log = subprocess.Popen(
                log_args, cwd=root, stdout=subprocess.PIPE, stderr=errors, env=env
            )
            cat = subprocess.Popen(
                ["git", "cat-file", "--batch", "--buffer"],
                cwd=root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
        result = Scan()
        try:
            if os.name == "nt":  # no select() on pipes: read the log, then the blobs
                _one_after_the_other(root, log, cat, result)
            else:
                _stream(log, cat, result, on_commits)
        finally:
            for proc in (log, cat):
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        if log.returncode != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip()
            raise GitError(message or "git log failed")
        if cat.returncode != 0:
            raise GitError("git cat-file failed")
    return result


def _stream(
    log: subprocess.Popen[bytes],
    cat: subprocess.Popen[bytes],
    result: Scan,
    on_commits: Callable[[int], None] | None,
) -> None:
    """One thread multiplexes the three pipes (threads would fight over the GIL): the
    log is parsed as it comes, blob ids are written to cat-file as they are found, and
    each blob is read as soon as it is complete."""
    assert log.stdout is not None and cat.stdin is not None and cat.stdout is not None
    log_fd, in_fd, out_fd = log.stdout.fileno(), cat.stdin.fileno(), cat.stdout.fileno()
    for fd in (log_fd, in_fd, out_fd):
        os.set_blocking(fd, False)
        _widen(fd)
    wanted: set[str] = set()
    products: set[str] = set()
    versions = _Versions(result)
    objects = _Objects()
    pending = b""
    requests = bytearray()
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
            for key, _ in ready:
                if key.data == "log":
                    chunk = _read(log_fd)
                    if chunk is None:
                        continue
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
                    requests += b"".join(_parse(complete, result, versions, wanted, products))
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
                    for blob, lined in objects.feed(chunk):
                        versions.add(blob, lined, blob in products)
    finally:
        selector.close()


_PRIORITY = {"log": 0, "in": 1, "out": 2}


def _one_after_the_other(
    root: Path, log: subprocess.Popen[bytes], cat: subprocess.Popen[bytes], result: Scan
) -> None:
    assert log.stdout is not None and cat.stdin is not None
    cat.stdin.close()
    wanted: set[str] = set()
    products: set[str] = set()
    versions = _Versions(result)
    ids = _parse(log.stdout.read(), result, versions, wanted, products)
    blobs = [i[:40].decode() for i in ids]
    for blob, content in git.cat_blobs(blobs, root):
        versions.add(blob, b"\n" + content, blob in products)


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


def _parse(
    data: bytes,
    result: Scan,
    versions: _Versions,
    wanted: set[str],
    products: set[str],
) -> list[bytes]:
    """Commits from complete log records; the blob ids to ask cat-file for."""
    ids: list[bytes] = []
    neighbours = versions.neighbours
    people = versions.people
    commits = result.commits
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
            if new_blob is None:
                continue
            if is_record and old_blob is not None:
                # neighbours: one version may be read from the other
                neighbours.setdefault(old_blob, []).append(new_blob)
                neighbours.setdefault(new_blob, []).append(old_blob)
            if new_blob in wanted:
                continue
            wanted.add(new_blob)
            if not is_record:
                products.add(new_blob)
            ids.append(new + b"\n")
        # the same few people author every commit: keep one string of each
        commits[commit] = LoggedCommit(
            commit, parents, people.setdefault(name, name), people.setdefault(email, email), date,
            changes,
        )  # fmt: skip
    return ids


class _Versions:
    """The fields of each blob as it arrives, derived from a neighbour when one was
    vouched for by the scan: a version one commit before or after, in the same record."""

    def __init__(self, result: Scan) -> None:
        self.result = result
        self.neighbours: dict[str, list[str]] = {}
        self.vouched: dict[str, Vouched] = {}
        self.people: dict[str, str] = {}

    def add(self, blob: str, lined: bytes, is_products: bool) -> None:
        """One blob's content, given with a newline in front."""
        self.result.read_blobs += 1
        if is_products:
            self.result.products[blob] = lined[1:]
            return
        vouched = self.vouched
        for other in self.neighbours.get(blob, ()):
            known = vouched.get(other)
            if known is not None:
                derived = derive(known, lined)
                if derived is not None:
                    self.result.fields[blob] = derived[3]
                    vouched[blob] = derived
                    return
        fields, spans = read(lined)
        self.result.fields[blob] = fields
        if fields is not None and spans is not None:
            vouched[blob] = vouch(lined, spans, fields)


class _Objects:
    """``cat-file --batch`` output, fed in chunks; yields each object once complete."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        """The objects complete so far, each as its id and its content with the
        header's newline in front (what the line readers want, at no extra copy)."""
        data = self._buffer + chunk if self._buffer else chunk
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
            out.append((header[:40].decode(), data[newline:end]))
            pos = end + 1
        self._buffer = data[pos:]
        return out
