"""Build history from git, extend it with new commits, and cache it.

The cache, ``<git dir>/crmfiles/history-v<N>.marshal``, holds the history of one head:
the versions of every opportunity, the chain of first-parent commits, and the blob of
every opportunity file at that head.  A later run whose HEAD descends from the cached
head along the first-parent chain reads only ``cached..HEAD`` and appends; any other
HEAD (a rebase, a reset, a branch switched) rebuilds from scratch.  The file is written
through a temporary file and a rename, can be deleted at any time, and is never wrong:
everything in it is derived from commits, which git names by their content.  Its
version changes whenever what it derives changes.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.history.fields import read_fields
from crmfiles.history.model import V_FIELDS, History
from crmfiles.history.scan import OPPORTUNITIES, PRODUCTS, Scan, scan
from crmfiles.money import lines_total
from crmfiles.progress import progress
from crmfiles.records.edit import write_bytes_atomic
from crmfiles.records.yamlio import ParseError, parse

CACHE_VERSION = 1
CACHE_DIR = "crmfiles"


class _NotAContinuation(Exception):
    """The cached head is not on the new head's first-parent chain."""


def load_history(root: Path, rev: str | None = None, *, cache: bool = True) -> History:
    """The history of HEAD (cached, and brought up to date), or of ``rev``: a commit on
    HEAD's chain gives HEAD's history cut at that commit; any other is read afresh."""
    git_dir, head = _locate(root)
    if head is None:
        return History()
    history = _current(root, git_dir, head, cache)
    if rev is None:
        return history
    commit = git.resolve(rev, root)
    if commit == head:
        return history
    depth = history.depth_of(commit)
    if depth is not None:
        return history.until(depth)
    return _build(root, commit, None)


def _locate(root: Path) -> tuple[Path, str | None]:
    proc = git.run(["rev-parse", "--git-dir", "--verify", "-q", "HEAD^{commit}"], root, check=False)
    lines = proc.stdout.decode().split()
    if not lines:
        raise git.GitError(f"{root} is not in a git repository")
    git_dir = Path(lines[0])
    if not git_dir.is_absolute():
        git_dir = root / git_dir
    return git_dir, lines[1] if len(lines) > 1 else None


def _cache_path(git_dir: Path) -> Path:
    return git_dir / CACHE_DIR / f"history-v{CACHE_VERSION}.marshal"


# the last history this process read or wrote, by cache file, with the file's stamp: a
# long-running TUI asks again and again, mostly for the same head
_LAST: dict[Path, tuple[tuple[int, int], History]] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _current(root: Path, git_dir: Path, head: str, use_cache: bool) -> History:
    path = _cache_path(git_dir)
    cached: History | None = None
    if use_cache:
        remembered = _LAST.get(path)
        if remembered is not None and remembered[0] == _stamp(path):
            cached = remembered[1]  # the file is as this process left it
        else:
            cached = _read_cache(path)
            stamp = _stamp(path)
            if cached is not None and stamp is not None:
                _LAST[path] = (stamp, cached)
    if cached is not None and cached.head == head:
        return replace(cached, read_commits=0)
    history: History | None = None
    if cached is not None:
        try:
            history = _build(root, head, cached)
        except (_NotAContinuation, git.GitError):
            history = None
    if history is None:
        history = _build(root, head, None)
    if use_cache:
        _write_cache(path, history)
        stamp = _stamp(path)
        if stamp is not None:
            _LAST[path] = (stamp, history)
    return history


# marshal, not pickle: plain tuples, lists and dicts load in C, ~5x faster than pickled
# NamedTuples (whose __new__ is Python code); the stamp ties the file to this cache
# version and this Python's marshal format
_STAMP = (CACHE_VERSION, marshal.version, *sys.version_info[:2])


def _read_cache(path: Path) -> History | None:
    try:
        with _no_gc():
            data = marshal.loads(path.read_bytes())
        stamp, head, depth, chain, commits, timelines, files, products = data
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if stamp != _STAMP:
        return None
    return History(head, depth, chain, commits, timelines, files, products)


def _write_cache(path: Path, history: History) -> None:
    data = (
        _STAMP,
        history.head,
        history.depth,
        history.chain,
        history.commits,
        history.timelines,
        history.files,
        history.products,
    )
    try:
        payload = marshal.dumps(data)
    except ValueError:
        return  # something unmarshallable in the product catalog: stay uncached
    with contextlib.suppress(OSError):  # a read-only repository works, uncached
        write_bytes_atomic(path, payload)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Reading history allocates hundreds of thousands of small objects and no cycles;
    the cyclic collector would walk them again and again (a fifth of a cold run)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(root: Path, head: str, base: History | None) -> History:
    """``base`` extended to ``head`` (everything from the root when ``base`` is None)."""
    with _no_gc(), progress("Reading history", None) as bar:
        scanned = scan(
            root,
            head,
            base.head if base else None,
            on_commits=lambda n: bar.update(completed=n, description="Reading history"),
        )
        return _Replay(root, base or History(), scanned).run(head)


class _Replay:
    """Walk the first-parent chain of the scanned commits, oldest first, and append a
    version wherever an opportunity's tracked fields changed."""

    def __init__(self, root: Path, history: History, scanned: Scan) -> None:
        self.root = root
        self.scanned = scanned
        self.history = History(
            history.head,
            history.depth,
            history.chain,
            list(history.commits),
            {k: list(v) for k, v in history.timelines.items()},
            dict(history.files),
            history.products,
        )
        self.index: dict[str, int] = {}
        self.on_chain: set[str] = set()
        self.paths: dict[str, list[str]] | None = None
        self.introduced: dict[tuple[str, str], list[tuple[str, str | None]]] | None = None

    def run(self, head: str) -> History:
        chain = self._chain(head)
        self.on_chain = set(chain)
        history = self.history
        for commit in chain:
            history.depth += 1
            logged = self.scanned.commits[commit]
            if logged.changes:
                self._apply(commit, history.depth)
        history.chain += b"".join(bytes.fromhex(c) for c in chain)
        history.head = head
        history.read_commits = len(self.scanned.commits)
        return history

    def _chain(self, head: str) -> list[str]:
        commits = self.scanned.commits
        chain: list[str] = []
        at: str | None = head
        while at is not None and at in commits:
            chain.append(at)
            parents = commits[at].parents
            at = parents[0] if parents else None
        if self.history.head is not None and at != self.history.head:
            raise _NotAContinuation(head)
        chain.reverse()
        return chain

    def _commit_index(self, commit: str) -> int:
        index = self.index.get(commit)
        if index is None:
            logged = self.scanned.commits[commit]
            index = self.index[commit] = len(self.history.commits)
            self.history.commits.append((commit, logged.name, logged.email, logged.date))
        return index

    def _paths_by_id(self) -> dict[str, list[str]]:
        if self.paths is None:
            self.paths = {}
            for path in self.history.files:
                self.paths.setdefault(record_id(path), []).append(path)
        return self.paths

    def _apply(self, commit: str, depth: int) -> None:
        logged = self.scanned.commits[commit]
        files = self.history.files
        by_id = self._paths_by_id()
        changes = logged.changes
        if len(changes) == 1 and len(logged.parents) == 1:
            # the usual commit: one record file changed in place
            path, old, new = changes[0]
            if old is not None and new is not None and path != PRODUCTS:
                rid = record_id(path)
                paths = by_id.get(rid)
                if paths == [path]:
                    stored = paths[0]  # one string for all versions: the cache stores it once
                    files[stored] = new
                    self._add(rid, self._commit_index(commit), depth, stored, new, -1)
                    return
        touched: dict[str, str | None] = {}  # id -> effective blob before the commit
        for path, _old, new in logged.changes:
            if path == PRODUCTS:
                self._set_products(new)
                continue
            rid = record_id(path)
            paths = by_id.get(rid)
            if rid not in touched:
                touched[rid] = files[min(paths)] if paths else None
            if new is None:
                files.pop(path, None)
                if paths and path in paths:
                    paths.remove(path)
            else:
                files[path] = new
                if paths is None:
                    by_id[rid] = [path]
                elif path not in paths:
                    paths.append(path)
        for rid, before in touched.items():
            paths = by_id.get(rid)
            path = min(paths) if paths else ""
            after = files[path] if paths else None
            if after == before:
                continue
            steps = self._branch_steps(rid, before, after) if len(logged.parents) > 1 else None
            if steps:
                merge = self._commit_index(commit)
                for side, blob in steps:
                    self._add(rid, self._commit_index(side), depth, path, blob, merge)
            else:
                self._add(rid, self._commit_index(commit), depth, path, after, -1)

    def _add(
        self, rid: str, commit: int, depth: int, path: str, blob: str | None, merge: int
    ) -> None:
        fields = self._fields(blob) if blob is not None else None
        if blob is not None and fields is None:
            return  # a version no parser can read (a committed conflict): skip it
        timeline = self.history.timelines.get(rid)
        if timeline is None:
            if fields is not None:
                self.history.timelines[rid] = [(commit, depth, path, fields, merge)]
        elif timeline[-1][V_FIELDS] != fields:
            timeline.append((commit, depth, path, fields, merge))

    def _fields(self, blob: str) -> tuple[Any, ...] | None:
        """A version's fields as stored: a plain tuple, the amount from the lines where
        needed."""
        if blob not in self.scanned.fields:
            # a blob read by an earlier run (a duplicate id's other file): read it now
            for _, content in git.cat_blobs([blob], self.root):
                self.scanned.fields[blob] = read_fields(content)
        fields = self.scanned.fields.get(blob)
        if fields is None:
            return None
        if fields.lines is not None:
            total = lines_total({"lines": fields.lines}, self.history.products)
            fields = fields._replace(amount=str(total) if total is not None else None, lines=None)
        return tuple(fields)

    def _set_products(self, blob: str | None) -> None:
        catalog: dict[str, Any] = {}
        content = self.scanned.products.get(blob) if blob else None
        if content is not None:
            try:
                data = parse(content.decode("utf-8"))
            except (UnicodeDecodeError, ParseError):
                data = None
            if isinstance(data, list):
                catalog = {str(e.get("id")): e for e in data if isinstance(e, dict)}
        self.history.products = catalog

    def _branch_steps(
        self, rid: str, before: str | None, after: str | None
    ) -> list[tuple[str, str]] | None:
        """The branch commits that took a record from ``before`` to ``after``, oldest
        first, when a merge brought them: followed back blob by blob."""
        if after is None:
            return None
        introduced = self._introduced()
        steps: list[tuple[str, str]] = []
        at: str | None = after
        while at != before:
            if at is None or len(steps) > 1000:
                return None
            found = introduced.get((rid, at))
            if not found:
                return None
            side, previous = found[0]
            steps.append((side, at))
            at = previous
        steps.reverse()
        return steps

    def _introduced(self) -> dict[tuple[str, str], list[tuple[str, str | None]]]:
        """(record id, blob) -> the commits off the chain that wrote that blob, newest
        first, with the record's blob before each."""
        if self.introduced is None:
            self.introduced = {}
            for commit, logged in self.scanned.commits.items():
                if commit in self.on_chain or len(logged.parents) > 1:
                    continue
                olds: dict[str, str | None] = {}
                news: dict[str, str] = {}
                for path, old, new in logged.changes:
                    if path == PRODUCTS:
                        continue
                    rid = record_id(path)
                    if old is not None:
                        olds.setdefault(rid, old)
                    if new is not None:
                        news[rid] = new
                for rid, new in news.items():
                    entry = (commit, olds.get(rid))
                    self.introduced.setdefault((rid, new), []).append(entry)
        return self.introduced


def record_id(path: str) -> str:
    """An opportunity's id: its file name without the extension."""
    name = path.rpartition("/")[2]
    return name.rpartition(".")[0] or name


__all__ = ["OPPORTUNITIES", "load_history", "record_id"]
