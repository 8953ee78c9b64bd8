"""The warm-run cache under ``.git/crmfiles/``: what checking a file found, keyed by
its path and blob id.

A blob id names a file's content, so an entry is never wrong for that content; the
whole cache is also keyed by a fingerprint of everything else a file's findings depend
on (crmfiles' version, the schemas, crm.yaml and the catalogs), so a schema or
catalog change re-checks what it affects.  Two files: the hot one (findings, a few
fields, the blob) is read on every warm run; the cold one (every record's references)
only when the set of record ids changed.  Both are written atomically (temporary file
and rename) and can be deleted at any time.

The snapshot itself, and the packed columns it is made of, are
:mod:`crmfiles.cachesnapshot`'s: this module keys it, stores it and locks its folder.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import marshal
import os
import pickle
import threading
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from crmfiles import __version__, git
from crmfiles.cachesnapshot import CheckSnapshot, PathColumn, value_starts
from crmfiles.schema import schema_dir

FORMAT = 9


@cache
def _schemas_digest() -> str:
    """The schemas and the checking code itself: a rule changed within one version
    must not be answered by findings cached before the change."""
    digest = hashlib.sha1(usedforsecurity=False)
    package = Path(__file__).resolve().parent
    code = [
        package / name
        for name in (
            "check.py",
            "cachework.py",
            "cachelisting.py",
            "checkhelper.py",
            "schema.py",
            "money.py",
            "config.py",
            "controls.py",
        )
    ]
    code += sorted((package / "rules").glob("*.py")) + sorted((package / "records").glob("*.py"))
    for path in [*sorted(schema_dir().glob("*.schema.json")), *code]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(parts: Iterable[tuple[str, bytes | None]]) -> str:
    """What every file's findings depend on besides its own content."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{FORMAT}:{__version__}:{_schemas_digest()}".encode())
    for name, content in parts:
        digest.update(name.encode() + b"\0" + (content or b"") + b"\0")
    return digest.hexdigest()


def ids_digest(paths: Iterable[str]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update("\n".join(paths).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def blob_id(content: bytes) -> str:
    """The id git gives this content (``git hash-object``)."""
    digest = hashlib.sha1(b"blob %d\0" % len(content), usedforsecurity=False)
    digest.update(content)
    return digest.hexdigest()


def cache_dir(root: Path) -> Path | None:
    proc = git.run(["rev-parse", "--absolute-git-dir"], root, check=False)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.decode().strip()) / "crmfiles"


class Cache:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.hot_path = directory / f"check-v{FORMAT}.pickle"
        self.cold_path = directory / f"refs-v{FORMAT}.pickle"
        self._early: tuple[tuple[int, int, int], str, CheckSnapshot] | None = None

    @classmethod
    def for_repo(cls, root: Path) -> Cache | None:
        if os.environ.get("CRM_NO_CACHE"):
            return None
        early = _PREFETCHED.pop(str(root), None)
        if early is not None:
            early.join()
            if early.cache is not None:
                return early.cache
        directory = cache_dir(root)
        return cls(directory) if directory is not None else None

    @classmethod
    def prefetch(cls, root: Path) -> None:
        """Start reading ``root``'s snapshot on a thread (an operation asks git a few
        questions first: the file is read meanwhile); the next :meth:`for_repo` of
        ``root`` takes it, and :meth:`load` uses it if the file is still the same."""
        if os.environ.get("CRM_NO_CACHE") or str(root) in _PREFETCHED:
            return
        _PREFETCHED[str(root)] = _Prefetch(root)

    def load(self, key: str) -> CheckSnapshot | None:
        """The snapshot stored under fingerprint ``key``, if there is one."""
        early, self._early = self._early, None
        if early is not None and early[0] == git.file_identity(self.hot_path):
            return early[2] if early[1] == key else None
        read = self._read()
        if read is None or read[0] != key:
            return None
        return read[1]

    def _read(self) -> tuple[str, CheckSnapshot] | None:
        """The stored key and snapshot."""
        try:
            with open(self.hot_path, "rb") as handle:
                stored = marshal.load(handle)
            if not isinstance(stored, dict):
                return None
            offsets = stored["offsets"]
            starts = array.array("I")
            raw = offsets.get("paths", b"")
            if raw:
                starts.frombytes(raw)
            elif stored["paths"]:
                starts.frombytes(value_starts(stored["paths"], stored["paths"].count("\0") + 1))
            else:
                starts.append(0)
            paths = PathColumn(stored["paths"], starts)
            found = pickle.loads(stored["found"]) if stored["found"] else {}
            snapshot = CheckSnapshot(
                stored["ids"],
                stored["tree"],
                paths,
                stored["blobs"],
                stored["name_keys"],
                stored["currency"],
                stored["links"],
                found,
                stored["dirty"],
                stored["unique_ids"],
                stored["roles"],
                stored["unique_names"],
                offsets,
                stored["partner_names"],
            )
            key = str(stored["key"])
        except (
            OSError,
            EOFError,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            ImportError,
            pickle.UnpicklingError,
        ):
            return None
        n = len(snapshot.paths)
        if len(snapshot.blobs) != 40 * n or snapshot.name_keys_text.count("\0") != max(n - 1, 0):
            return None
        if not paths.consistent():
            return None
        return key, snapshot

    def load_cold(self) -> dict[str, tuple[str, list[Any], dict[str, Any] | None]]:
        """path -> (blob, references, facts) of the last saved run."""
        try:
            with open(self.cold_path, "rb") as handle:
                stored = marshal.load(handle)
        except (
            OSError,
            EOFError,
            ValueError,
            TypeError,
            AttributeError,
            ImportError,
            pickle.UnpicklingError,
        ):
            return {}
        return stored if isinstance(stored, dict) else {}

    def save(
        self,
        key: str,
        snapshot: CheckSnapshot,
        cold: dict[str, tuple[str, list[Any], dict[str, Any] | None]],
    ) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _dump_atomic(self.cold_path, marshal.dumps(cold))
        except (OSError, ValueError):
            return  # a cache that cannot be written is a slower next run, not an error
        self.save_hot(key, snapshot)

    def save_hot(self, key: str, snapshot: CheckSnapshot) -> None:
        """The snapshot alone (the cold store may lag: each of its entries names the
        blob it was computed from, and is used only for that blob)."""
        n = len(snapshot.paths)
        paths = PathColumn.of(snapshot.paths)
        hot = {
            "key": key,
            "ids": snapshot.ids,
            "tree": snapshot.tree,
            "paths": paths.joined(),
            "blobs": snapshot.blobs,
            "name_keys": snapshot.name_keys_text,
            "currency": snapshot.currency_text,
            "links": snapshot.links,
            "found": pickle.dumps(snapshot.found, protocol=pickle.HIGHEST_PROTOCOL)
            if snapshot.found
            else b"",
            "dirty": snapshot.dirty,
            "unique_ids": snapshot.unique_ids,
            "roles": snapshot.roles or {},
            "unique_names": snapshot.unique_names,
            "partner_names": snapshot.partner_names or {},
            "offsets": {
                "paths": paths.offsets(),
                "name_keys": snapshot.offsets.get("name_keys")
                or value_starts(snapshot.name_keys_text, n),
                "currency": snapshot.offsets.get("currency")
                or value_starts(snapshot.currency_text, n),
            },
        }
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _dump_atomic(self.hot_path, marshal.dumps(hot))
        except (OSError, ValueError):
            pass


def _dump_atomic(path: Path, content: bytes) -> None:
    from crmfiles.records.edit import write_bytes_atomic

    write_bytes_atomic(path, content, durable=False)


_HELD: dict[str, int] = {}  # cache folder -> how deep this process holds its lock
_HOLDING = threading.RLock()


@contextlib.contextmanager
def writing(directory: Path) -> Iterator[None]:
    """Hold the cache folder's lock while writing into it: a writer that outlives its
    command (crmfiles.background) is waited for by whoever takes the lock to delete
    the folder (the benchmark's cold runs) or to time a warm run.  Re-entrant within
    a process (a detached process holds it across all its work: one cache's writer
    calls another's), and one thread of a process at a time."""
    key = str(directory)
    with _HOLDING:
        if _HELD.get(key):
            _HELD[key] += 1
            try:
                yield
            finally:
                _HELD[key] -= 1
            return
        try:
            import fcntl
        except ImportError:  # no flock here: writes are atomic renames all the same
            yield
            return
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _HELD[key] = 1
            try:
                yield
            finally:
                _HELD[key] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)


class _Prefetch:
    """:meth:`Cache.prefetch`'s thread and what it read."""

    def __init__(self, root: Path) -> None:
        self.cache: Cache | None = None
        self._thread = threading.Thread(target=self._run, args=(root,), daemon=True)
        self._thread.start()

    def _run(self, root: Path) -> None:
        with contextlib.suppress(Exception):  # a cache read early or not at all
            directory = cache_dir(root)
            if directory is None:
                return
            cache = Cache(directory)
            before = git.file_identity(cache.hot_path)
            read = cache._read()
            if read is not None and before and before == git.file_identity(cache.hot_path):
                cache._early = (before, *read)
            self.cache = cache

    def join(self) -> None:
        self._thread.join()


_PREFETCHED: dict[str, _Prefetch] = {}
