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

The parts: this module starts the gits, hands their pipes to
:mod:`crmfiles.history.scanloop` and waits for them; what they write is parsed by
:mod:`crmfiles.history.scanparse`, which also defines the :class:`Scan` it fills.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crmfiles.git import GitError
from crmfiles.history.scanloop import one_after_the_other, stream
from crmfiles.history.scanparse import LOG_FORMAT, PATHS, Scan


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
        LOG_FORMAT,
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
                one_after_the_other(root, log, cat, result)
            else:
                stream(log, cat, result, on_commits, on_blobs)
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
