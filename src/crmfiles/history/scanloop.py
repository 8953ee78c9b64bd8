"""The event loop of a history scan: one thread moving bytes between the pipes of
``git log`` and ``git cat-file`` (log in, blob ids out to cat-file, blobs back in),
handing each complete piece to the parsers of :mod:`crmfiles.history.scanparse`; and
the plain sequence used where pipes cannot be waited on (Windows).

Apart from :mod:`crmfiles.history.scan`, which starts the gits, waits for them and
turns their failures into :class:`~crmfiles.git.GitError`: this is the non-blocking
pipe plumbing alone.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from crmfiles import git
from crmfiles.git import GitError
from crmfiles.history.scanparse import Asked, Objects, Scan, Versions, parse_log

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


def stream(
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
    asked = Asked()
    versions = Versions(result)
    objects = Objects(versions.ids)
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
                    parse_log(complete, result, versions, asked)
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


def one_after_the_other(
    root: Path, log: subprocess.Popen[bytes], cat: subprocess.Popen[bytes], result: Scan
) -> None:
    assert log.stdout is not None and cat.stdin is not None
    cat.stdin.close()
    asked = Asked()
    versions = Versions(result)
    parse_log(log.stdout.read(), result, versions, asked)
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
