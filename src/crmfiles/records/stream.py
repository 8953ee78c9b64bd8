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

T = TypeVar("T")
Batcher = Callable[[Iterable[Record]], Iterator[T]]

MIN_FILES = 2000  # fewer files than this: not worth a process


def folder_batches(source: Source, folder: str, batches: Batcher[T]) -> Iterator[T]:
    """``batches`` of the folder's records (:meth:`Repository.records`' records, in
    path order, a file that cannot be read left out with a warning), run on a stream
    of them; the second half in a forked child when that pays."""
    paths = _paths(source, folder)
    if paths is None or not _can_fork(paths):
        yield from batches(_records(source.folder_files(folder)))
        return
    split = len(paths) // 2
    with tempfile.TemporaryFile() as spool:
        pid = _fork_half(source, paths[split:], batches, spool)
        if pid is None:
            yield from batches(_records(source.folder_files(folder)))
            return
        status: int | None = None
        try:
            yield from batches(_records(source.files_at(paths[:split])))
            status = os.waitpid(pid, 0)[1]
        finally:
            if status is None:  # (the reader stopped early: the child is still reaped)
                os.waitpid(pid, 0)
        if status != 0:
            yield from batches(_records(source.files_at(paths[split:])))
            return
        spool.seek(0)
        yield from _replayed(spool)


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


def _fork_half(
    source: Source, paths: list[str], batches: Batcher[Any], spool: IO[bytes]
) -> int | None:
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return pid
    status = 1  # the child: its half into the spool, its warnings after, and out
    try:
        notices.drain()
        for batch in batches(_records(source.files_at(paths))):
            pickle.dump((True, batch), spool, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump((False, notices.drain()), spool, protocol=pickle.HIGHEST_PROTOCOL)
        spool.flush()
        status = 0
    finally:
        os._exit(status)


def _replayed(spool: IO[bytes]) -> Iterator[Any]:
    while True:
        try:
            more, item = pickle.load(spool)
        except EOFError:
            return
        if not more:
            for message in item:
                notices.warn(message)
            return
        yield item
