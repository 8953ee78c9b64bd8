"""What ``crm fmt`` knows without reading: the contents it found formatted already,
by blob id, and the laying out of the others on every core.

Laying out one file is a round trip through ruamel.yaml (milliseconds a file: a
quarter of an hour for 100,000 records on one core), and nearly every file is
formatted already (crm writes them so).  So the contents found formatted are kept
under ``.git/crmfiles/`` by blob id, beside the ``yaml-language-server`` line their
path wants (the same content may be formatted in one folder and not in another); the
next ``crm fmt`` reads only the files git says changed since.  The file is keyed by
crmfiles' version and ruamel.yaml's, so a change to either lays everything out again.
"""

from __future__ import annotations

import marshal
import os
from collections import deque
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from crmfiles import __version__
from crmfiles.cache import blob_id
from crmfiles.ops.init import schema_comment
from crmfiles.records.sources import RawFile, Source

FORMAT = 1
# fewer files than this are laid out here; more, in a process a core
SPREAD_FROM = 200
CHUNK = 100  # files a worker is given at a time
TASKS_PER_WORKER = 20  # chunks a worker lays out before a fresh one takes over


def _key() -> str:
    from ruamel.yaml import __version__ as ruamel_version

    return f"{FORMAT}:{__version__}:{ruamel_version}"


class Formatted:
    """The contents known to be formatted: per ``yaml-language-server`` line (what the
    path wants), the blob ids."""

    def __init__(self, path: Path | None, known: dict[str, set[str]]) -> None:
        self.path, self.known, self.added = path, known, 0

    @classmethod
    def of(cls, root: Path) -> Formatted:
        if os.environ.get("CRM_NO_CACHE"):
            return cls(None, {})
        from crmfiles.cache import cache_dir

        directory = cache_dir(root)
        if directory is None:
            return cls(None, {})
        path = directory / f"formatted-v{FORMAT}.marshal"
        try:
            stored = marshal.loads(path.read_bytes())
            if not isinstance(stored, dict) or stored.get("key") != _key():
                raise ValueError
            blobs: dict[str, str] = stored["blobs"]
            known = {
                line: {b[i : i + 40] for i in range(0, len(b), 40)} for line, b in blobs.items()
            }
        except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError):
            known = {}
        return cls(path, known)

    def has(self, path: str, blob: str | None) -> bool:
        """Whether the content ``blob`` (None: not known without reading) is known to
        be formatted where ``path`` is."""
        return blob is not None and blob in self.known.get(schema_comment(path) or "", ())

    def add(self, path: str, blob: str) -> None:
        self.known.setdefault(schema_comment(path) or "", set()).add(blob)
        self.added += 1

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        from crmfiles.cache import _dump_atomic, writing

        blobs = {line: "".join(sorted(found)) for line, found in self.known.items()}
        try:
            with writing(self.path.parent):
                _dump_atomic(self.path, marshal.dumps({"key": _key(), "blobs": blobs}))
        except (OSError, ValueError):
            pass  # a cache that cannot be written is a slower next run, not an error


# (path, blob id, text, formatted text, why it was skipped)
Laid = tuple[str, str, str, str, str | None]


def formatted_texts(source: Source, paths: list[str]) -> Iterator[Laid]:
    """Each file read and laid out, in the order given; many are spread over the
    machine's cores (each worker gets the bytes of a chunk of files, and gives back
    the texts), a few chunks ahead at most, and each worker is replaced after a while
    (ruamel.yaml's workers grew to half a gigabyte over 50,000 files)."""
    from crmfiles.progress import progress, track

    files = source.files_at(paths)
    workers = os.cpu_count() or 1
    if len(paths) < SPREAD_FROM or workers < 2:
        yield from track(map(_laid, files), "Formatting", total=len(paths))
        return
    import multiprocessing

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    chunks = _chunks(files)
    with (
        context.Pool(workers, maxtasksperchild=TASKS_PER_WORKER) as pool,
        progress("Formatting", total=len(paths)) as bar,
    ):
        pending: deque[Any] = deque(
            pool.apply_async(_laid_many, (chunk,)) for chunk in islice(chunks, 2 * workers)
        )
        while pending:
            done = pending.popleft().get()
            following = next(chunks, None)
            if following is not None:
                pending.append(pool.apply_async(_laid_many, (following,)))
            yield from done
            bar.advance(len(done))


def _chunks(files: Iterator[RawFile]) -> Iterator[list[tuple[str, bytes | None, str | None]]]:
    chunk: list[tuple[str, bytes | None, str | None]] = []
    for raw in files:
        chunk.append((raw.path, raw.content, raw.refusal))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _laid_many(chunk: list[tuple[str, bytes | None, str | None]]) -> list[Laid]:
    return [_laid(RawFile(path, None, content, refusal)) for path, content, refusal in chunk]


def _laid(raw: RawFile) -> Laid:
    from crmfiles.ops.fmt import format_text

    if raw.content is None:
        return raw.path, "", "", "", raw.refusal or "cannot read"
    blob = raw.blob or blob_id(raw.content)
    try:
        text = raw.content.decode("utf-8")
        return raw.path, blob, text, format_text(raw.path, text), None
    except (UnicodeDecodeError, ValueError) as exc:
        return raw.path, blob, "", "", str(exc)
