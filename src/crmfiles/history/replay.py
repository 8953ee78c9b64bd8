"""Read history from git: the scan's commits replayed along the first-parent chain.

Imported only when history must be read from git (no cache, or new commits), so a warm
run loads none of the scanning machinery.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.history.fields import read_fields
from crmfiles.history.model import V_FIELDS, History, record_id
from crmfiles.history.scan import scanning
from crmfiles.history.scanparse import PRODUCTS, LoggedCommit, Scan
from crmfiles.history.store import no_gc
from crmfiles.money import lines_total
from crmfiles.progress import progress

_UNREAD: Any = object()  # a blob the scan did not read (an earlier run did)


class NotAContinuation(Exception):
    """The cached head is not on the new head's first-parent chain."""


def build(root: Path, head: str, base: History | None) -> History:
    """``base`` extended to ``head`` (everything from the root when ``base`` is None)."""
    with building(root, head, base) as history:
        return history


@contextmanager
def building(root: Path, head: str, base: History | None) -> Iterator[History]:
    """:func:`build`, handed over before the gits have exited (git takes tens of
    milliseconds to free its heap): the block may work meanwhile, and its end raises
    :class:`~crmfiles.git.GitError` if one of them failed."""
    scanned = Scan()
    replay = _Replay(root, base or History(), scanned)
    with (
        no_gc(),
        progress("Reading history", None) as bar,
        scanning(
            root,
            head,
            base.head if base else None,
            on_commits=lambda n: bar.update(completed=n, description="Reading history"),
            into=scanned,
            on_blobs=replay.advance,
        ),
    ):
        yield replay.run(head)


class _Replay:
    """Walk the first-parent chain of the scanned commits, oldest first, and append a
    version wherever an opportunity's tracked fields changed.

    While the log streams in, the commits are replayed as soon as their blobs are read,
    as long as they make one line from the base (each commit the child of the one
    before: a history without merges); :meth:`run` then has little left to do.  Any
    other history is replayed by :meth:`run`, along HEAD's first-parent chain."""

    def __init__(self, root: Path, base: History, scanned: Scan) -> None:
        self.root = root
        self.scanned = scanned
        self.base = base
        self._start()
        self.streaming = True  # the commits replayed so far make one line from the base
        self.done = 0  # how many of the scan's commits are replayed
        self.checked = 0  # how many files of the next one have their blobs read
        self.last = base.head  # the last one replayed

    def _start(self) -> None:
        base = self.base
        self.history = History(
            base.head,
            base.depth,
            base.chain,
            list(base.commits),
            {k: list(v) for k, v in base.timelines.items()},
            dict(base.files),
            base.products,
            summary=base.summary,  # rows of the records the commits leave alone stay
        )
        self.index: dict[str, int] = {}
        self.on_chain: set[str] = set()
        self.paths: dict[str, list[str]] = {}  # record id -> its files
        for path in self.history.files:
            self.paths.setdefault(record_id(path), []).append(path)
        self.rids: dict[str, str] = {}  # path -> record id
        self.introduced: dict[tuple[str, str], list[tuple[str, str | None]]] | None = None

    def advance(self, *, final: bool = False) -> None:
        """Replay the scan's next commits whose blobs are read (all of them when
        ``final``), while they make one line."""
        if self.streaming:
            self.done = self._replay(self.scanned.order, self.done, final=final, line=True)

    def run(self, head: str) -> History:
        self.advance(final=True)  # every blob is read by now
        order = self.scanned.order
        if not (self.streaming and self.done == len(order) and self.last == head):
            # not one line from the base to the head: start again, along the chain
            self._start()
            order = self._chain(head)
            self.on_chain = {logged.id for logged in order}
            self._replay(order, 0, final=True, line=False)
        history = self.history
        history.chain += bytes.fromhex("".join(logged.id for logged in order))
        history.head = head
        history.read_commits = len(self.scanned.commits)
        return history

    def _replay(self, commits: list[LoggedCommit], done: int, *, final: bool, line: bool) -> int:
        """Replay ``commits[done:]``, each one position further along the chain, and
        say how many are done: unless ``final``, up to the first whose blobs are still
        coming; with ``line``, up to the first that is not the child of the one before
        (then the replay is no longer ``streaming``)."""
        history = self.history
        files = history.files
        timelines = history.timelines
        by_id = self.paths
        read_ = self.scanned.fields
        lines = self.scanned.lines
        products = self.scanned.products
        index = self.index
        depth = history.depth
        last = self.last
        while done < len(commits):
            logged = commits[done]
            if line:  # the child of the one before (the root: of none)
                parents = logged.parents
                if parents != [last] if last is not None else parents:
                    self.streaming = False  # a merge, or a branch: run() replays the chain
                    break
            changes = logged.changes
            if not final:  # its blobs may be still coming
                checked = self.checked  # of a commit of many files: those known read
                while checked < len(changes):
                    new = changes[checked][2]
                    if new is not None and new not in read_ and new not in products:
                        break
                    checked += 1
                self.checked = checked
                if checked < len(changes):
                    break
                self.checked = 0
            depth += 1
            done += 1
            last = logged.id
            rid = logged.rid
            if rid is not None:
                # the usual commit, inlined: one record file changed in place
                path, _, new = changes[0]
                assert new is not None  # a change in place
                paths = by_id.get(rid)
                if paths is not None and len(paths) == 1 and paths[0] == path:
                    stored = paths[0]  # one string for all versions: the cache stores it once
                    files[stored] = new
                    fields = read_.get(new, _UNREAD)
                    if fields is _UNREAD or new in lines:
                        fields = self._fields(new)
                    if fields is None:
                        continue  # a version no parser can read (a committed conflict)
                    timeline = timelines.get(rid)
                    if timeline is None or timeline[-1][V_FIELDS] != fields:
                        commit = index.get(last)
                        if commit is None:
                            commit = self._commit_index(last)
                        version = (commit, depth, stored, fields, -1)
                        if timeline is None:
                            timelines[rid] = [version]
                        else:
                            timeline.append(version)
                    continue
            if changes:
                self._apply(last, depth)
        history.depth = depth
        self.last = last
        return done

    def _chain(self, head: str) -> list[LoggedCommit]:
        commits = self.scanned.commits
        chain: list[LoggedCommit] = []
        at: str | None = head
        while at is not None and at in commits:
            logged = commits[at]
            chain.append(logged)
            at = logged.parents[0] if logged.parents else None
        if self.history.head is not None and at != self.history.head:
            raise NotAContinuation(head)
        chain.reverse()
        return chain

    def _commit_index(self, commit: str) -> int:
        index = self.index.get(commit)
        if index is None:
            logged = self.scanned.commits[commit]
            index = self.index[commit] = len(self.history.commits)
            self.history.commits.append(
                (commit, logged.name, logged.email, logged.date, logged.time)
            )
        return index

    def _rid(self, path: str) -> str:
        rid = self.rids[path] = record_id(path)
        return rid

    def _apply(self, commit: str, depth: int) -> None:
        """Any commit: several files, additions, deletions, moves, merges."""
        logged = self.scanned.commits[commit]
        files = self.history.files
        by_id = self.paths
        rid_of = self.rids
        touched: dict[str, str | None] = {}  # id -> effective blob before the commit
        for path, _old, new in logged.changes:
            if path == PRODUCTS:
                self._set_products(new)
                continue
            rid = rid_of.get(path) or self._rid(path)
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
        merged = len(logged.parents) > 1
        own: int | None = None  # this commit's index, once it has a version
        for rid, before in touched.items():
            paths = by_id.get(rid)
            path = (paths[0] if len(paths) == 1 else min(paths)) if paths else ""
            after = files[path] if paths else None
            if after == before:
                continue
            steps = self._branch_steps(rid, before, after) if merged else None
            if own is None:
                own = self._commit_index(commit)
            if steps:
                for side, blob in steps:
                    self._add(rid, self._commit_index(side), depth, path, blob, own)
            else:
                self._add(rid, own, depth, path, after, -1)

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
        scanned = self.scanned
        try:
            fields = scanned.fields[blob]
        except KeyError:
            # a blob read by an earlier run (a duplicate id's other file): read it now
            for _, content in git.cat_blobs([blob], self.root):
                scanned.keep(blob, read_fields(content))
            fields = scanned.fields.get(blob)
        if fields is None or blob not in scanned.lines:
            return fields
        total = lines_total({"lines": scanned.lines[blob]}, self.history.products)
        return (*fields[:4], str(total) if total is not None else None, *fields[5:])

    def _set_products(self, blob: str | None) -> None:
        from crmfiles.records.catalogs import catalog_entries, parse_bytes

        content = self.scanned.products.get(blob) if blob else None
        self.history.products = catalog_entries(parse_bytes(content)) or {}

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
