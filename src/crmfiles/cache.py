"""The warm-run cache under ``.git/crmfiles/``: what checking a file found, keyed by
its path and blob id.

A blob id names a file's content, so an entry is never wrong for that content; the
whole cache is also keyed by a fingerprint of everything else a file's findings depend
on (crmfiles' version, the schemas, crm.yaml and the catalogs), so a schema or
catalog change re-checks what it affects.  Two files: the hot one (findings, a few
fields, the blob) is read on every warm run; the cold one (every record's references)
only when the set of record ids changed.  Both are written atomically (temporary file
and rename) and can be deleted at any time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from crmfiles import __version__, git
from crmfiles.schema import schema_dir

FORMAT = 1


@dataclass(slots=True)
class Entry:
    blob: str
    ok: bool
    findings: tuple[Any, ...]  # located findings (line and column set)
    facts: dict[str, Any] | None
    text: str | None  # the file's text when it has findings (for excerpts)


@cache
def _schemas_digest() -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(schema_dir().glob("*.schema.json")):
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

    @classmethod
    def for_repo(cls, root: Path) -> Cache | None:
        if os.environ.get("CRM_NO_CACHE"):
            return None
        directory = cache_dir(root)
        return cls(directory) if directory is not None else None

    def load(self, key: str) -> tuple[dict[str, Entry], str | None]:
        """The entries stored under fingerprint ``key`` and the ids digest they had."""
        try:
            with open(self.hot_path, "rb") as handle:
                stored = pickle.load(handle)
        except (
            OSError,
            pickle.UnpicklingError,
            EOFError,
            AttributeError,
            ValueError,
            TypeError,
            ImportError,
        ):
            return {}, None
        if not isinstance(stored, dict) or stored.get("key") != key:
            return {}, None
        return stored["entries"], stored.get("ids")

    def load_refs(self) -> dict[str, tuple[str, list[Any]]]:
        """path -> (blob, references) of the last saved run."""
        try:
            with open(self.cold_path, "rb") as handle:
                stored = pickle.load(handle)
        except (
            OSError,
            pickle.UnpicklingError,
            EOFError,
            AttributeError,
            ValueError,
            TypeError,
            ImportError,
        ):
            return {}
        return stored if isinstance(stored, dict) else {}

    def save(
        self, key: str, ids: str, entries: dict[str, Entry], refs: dict[str, tuple[str, list[Any]]]
    ) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _dump_atomic(self.cold_path, refs)
            _dump_atomic(self.hot_path, {"key": key, "ids": ids, "entries": entries})
        except OSError:
            pass  # a cache that cannot be written is a slower next run, not an error


def _dump_atomic(path: Path, value: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
