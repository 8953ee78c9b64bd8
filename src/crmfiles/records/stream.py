"""One folder's records streamed in path order, each turned into what a caller keeps
of it (an export's rows), never all of them held at once: what reads every record
of a large repository once (``crm export sqlite``) uses instead of
:meth:`~crmfiles.records.store.Repository.records`, which keeps them.

Reading and parsing is CPU work and a machine has more than one core: with enough
files, a forked child (:class:`Forked`) reads and turns the second half of the folder
while this process does the first, and pickles back what it made of it (a summary: an
export's child writes its rows to a file of its own) through an unnamed temporary
file - the same split as the checker's :class:`crmfiles.checkhelper.Helper`. Anything
amiss with the child and this process does that half itself.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

from crmfiles import notices
from crmfiles.records import classify
from crmfiles.records.lookup import read_record
from crmfiles.records.sources import RawFile, Source
from crmfiles.records.store import Record
from crmfiles.records.worktree import WorkTree

R = TypeVar("R")
Run = Callable[[Iterable[Record], bool], R]

MIN_FILES = 2000  # fewer files than this: not worth a process


def folder_halves(source: Source, folder: str, run: Run[R]) -> Iterator[R]:
    """What ``run`` makes of the folder's records (:meth:`Repository.records`' records,
    in path order, a file that cannot be read left out with a warning): of all of them,
    or, when a forked child pays, of the first half here and then of the second half
    in the child (``run(records, True)``; its answer pickled back: a summary of what
    it wrote, say, not the rows)."""
    paths = _paths(source, folder)
    if paths is None or len(paths) < MIN_FILES:
        yield run(_records(source.folder_files(folder)), False)
        return
    split = len(paths) // 2
    child = Forked(lambda: run(_records(source.files_at(paths[split:])), True))
    try:
        mine = run(_records(source.files_at(paths[:split] if child.pid else paths)), False)
    finally:
        answer = child.answer()
    yield mine
    if child.pid:
        yield answer[0] if answer else run(_records(source.files_at(paths[split:])), False)


class Forked:
    """``work`` run in a forked child, when there is a second core and no other thread
    (forking a threaded process can deadlock the child); :meth:`answer` waits for it.
    ``pid`` is 0 when no child runs: the caller does the work itself."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.pid = 0
        if (os.cpu_count() or 1) < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
            return
        self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by answer()
        try:
            self.pid = os.fork()
        except OSError:
            self.spool.close()
            return
        if self.pid == 0:
            _child(work, self.spool)

    def answer(self) -> tuple[Any] | None:
        """``(what work returned,)``; None when the child failed (or none ran), with the
        child's warnings passed on."""
        if not self.pid:
            return None
        with self.spool:
            status = os.waitpid(self.pid, 0)[1]
            self.pid = -1  # (reaped)
            if status != 0:
                return None
            self.spool.seek(0)
            return _answer(self.spool)


def _paths(source: Source, folder: str) -> list[str] | None:
    """The folder's record files, when the source lists them without reading them;
    None where a stem (the id) comes twice: the first record read of an id is the
    one kept, which only a read in order knows."""
    if type(source) is not WorkTree:
        return None
    paths = source.folder_paths(folder)
    # every file's stem (a record's id; a stem shared with a file that is no record
    # only sends the folder down the in-order read)
    stems = [p.rpartition("/")[2].rpartition(".")[0] for p in paths]
    return paths if len(set(stems)) == len(stems) else None


def _records(files: Iterable[RawFile]) -> Iterator[Record]:
    """What :class:`~crmfiles.records.store.Repository` keeps of a folder's files: each
    id's first record; a file that cannot be read is left out, with a warning."""
    seen: set[str] = set()
    for raw in files:
        place = classify(raw.path)
        if place is None or place.kind != "record":
            continue
        record, said = read_record(raw, place)
        if said is not None:
            notices.warn(f"{said}; left out of this answer")
        elif record is not None and record.id not in seen:
            seen.add(record.id)
            yield record


def _child(work: Callable[[], Any], spool: IO[bytes]) -> None:
    status = 1  # the child: the answer and its warnings into the spool, and out
    try:
        notices.drain()
        answer = work()
        pickle.dump((answer, notices.drain()), spool, protocol=pickle.HIGHEST_PROTOCOL)
        spool.flush()
        status = 0
    finally:
        os._exit(status)


def _answer(spool: IO[bytes]) -> tuple[Any] | None:
    try:
        answer, warnings = pickle.load(spool)
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        return None
    for message in warnings:
        notices.warn(message)
    return (answer,)
