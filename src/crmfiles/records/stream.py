"""One folder's records streamed in path order, each turned into what a caller keeps
of it (an export's rows), never all of them held at once: what reads every record
of a large repository once (``crm export sqlite``) uses instead of
:meth:`~crmfiles.records.store.Repository.records`, which keeps them.

Reading and parsing is CPU work and a machine has more than one core: with enough
files, a forked child reads and turns the second half of the folder while this
process does the first, and writes its batches to an unnamed temporary file that is
read back after (the same split as the checker's :class:`crmfiles.cachework.Helper`).
Anything amiss with the child and this process does that half itself.
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
from crmfiles.records.sources import RawFile, Source, WorkTree
from crmfiles.records.store import Record, read_record

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
    if paths is None or not _can_fork(paths):
        yield run(_records(source.folder_files(folder)), False)
        return
    split = len(paths) // 2
    with tempfile.TemporaryFile() as spool:
        pid = _fork_half(source, paths[split:], run, spool)
        if pid is None:
            yield run(_records(source.folder_files(folder)), False)
            return
        status: int | None = None
        try:
            mine = run(_records(source.files_at(paths[:split])), False)
            status = os.waitpid(pid, 0)[1]
        finally:
            if status is None:  # (this half failed: the child is still reaped)
                os.waitpid(pid, 0)
        yield mine
        spool.seek(0)
        answer = _answer(spool) if status == 0 else None
        if answer is None:
            yield run(_records(source.files_at(paths[split:])), False)
            return
        yield answer[0]


def _paths(source: Source, folder: str) -> list[str] | None:
    """The folder's record files, when the source lists them without reading them;
    None where a stem (the id) comes twice: the first record read of an id is the
    one kept, which only a read in order knows."""
    if type(source) is not WorkTree:
        return None
    paths = source.folder_paths(folder)
    stems = [classify(p) for p in paths]
    ids = [place.id for place in stems if place is not None and place.kind == "record"]
    return paths if len(set(ids)) == len(ids) else None


def _can_fork(paths: list[str]) -> bool:
    return (
        len(paths) >= MIN_FILES
        and (os.cpu_count() or 1) >= 2
        and hasattr(os, "fork")
        and threading.active_count() == 1  # forking a threaded process can deadlock
    )


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


def _fork_half(source: Source, paths: list[str], run: Run[Any], spool: IO[bytes]) -> int | None:
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return pid
    status = 1  # the child: its answer and its warnings into the spool, and out
    try:
        notices.drain()
        answer = run(_records(source.files_at(paths)), True)
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
