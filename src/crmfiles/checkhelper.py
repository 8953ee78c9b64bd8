"""The forked helper of a cold check: the second half of the files to read, parsed
and checked in a child process while the parent does the first half.

Apart from the cache's listing and writing (:mod:`crmfiles.cachelisting`,
:mod:`crmfiles.cachework`), which it neither reads nor writes: it only shares a cold
run's work between two cores, and hands back :class:`~crmfiles.records.LoadedFile`
rows as if the parent had read them.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from crmfiles.cachelisting import place_of
from crmfiles.records import LoadedFile
from crmfiles.records.sources import RawFile, Source

if TYPE_CHECKING:
    from crmfiles.rules.base import Context

Checked = Callable[["Context", Iterable[RawFile], dict[str, "str | None"]], Iterator[LoadedFile]]


class Helper:
    """The second half of a cold run's files, parsed and checked in a forked process
    (YAML parsing is CPU work, and a machine has more than one core): the child sends
    back only what the checks keep of each file.  Used from the command line only, where
    no other thread runs; anything amiss and the parent checks that half itself."""

    MIN_FILES = 2000

    def __init__(
        self,
        ctx: Context,
        source: Source,
        need: list[str],
        blobs: dict[str, str | None],
        checked: Checked,
        split: int,
        pid: int,
        fd: int,
    ) -> None:
        self.ctx, self.source, self.need, self.blobs = ctx, source, need, blobs
        self.checked, self.split, self.pid, self.fd = checked, split, pid, fd

    @classmethod
    def start(
        cls,
        ctx: Context,
        source: Source,
        need: list[str],
        blobs: dict[str, str | None],
        checked: Checked,
    ) -> Helper | None:
        """``checked``: the checker's parse-and-check of files, run by both halves."""
        if len(need) < cls.MIN_FILES or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
            return None
        if threading.active_count() > 1:
            return None  # forking a threaded process can deadlock the child
        split = len(need) // 2
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check the second half, send it, and leave at once
            status = 1
            try:
                os.close(read_end)
                rows = [
                    (f.path, f.blob, f.text, f.ok, f.findings, f.refs, f.facts, f.released)
                    for f in checked(ctx, source.files_at(need[split:]), blobs)
                ]  # (tuples: half the time of pickling the objects, and of unpickling)
                with os.fdopen(write_end, "wb") as out:
                    pickle.dump(rows, out, protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        return cls(ctx, source, need, blobs, checked, split, pid, read_end)

    def finish(self) -> list[LoadedFile]:
        with os.fdopen(self.fd, "rb") as handle:
            data = handle.read()
        _, status = os.waitpid(self.pid, 0)
        if status == 0 and data:
            try:
                rows = pickle.loads(data)
                return [
                    LoadedFile(
                        path, place_of(path), blob, text, None, ok, found, refs, facts, True, gone
                    )
                    for path, blob, text, ok, found, refs, facts, gone in rows
                ]
            except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
                pass
        rest = self.source.files_at(self.need[self.split :])
        return list(self.checked(self.ctx, rest, self.blobs))
