"""Load history: from the cache when it is of HEAD, else read from git and cached.

The cache (:mod:`crmfiles.history.store`) holds the history of one head.  A later run
whose HEAD descends from the cached head along the first-parent chain reads only
``cached..HEAD`` and appends; any other HEAD (a rebase, a reset, a branch switched)
rebuilds from scratch (:mod:`crmfiles.history.replay`).  The file is written through a
temporary file and a rename, can be deleted at any time, and is never wrong: everything
in it is derived from commits, which git names by their content.  Its version changes
whenever what it derives changes.

A warm run pays one ``git rev-parse`` and the part of the file it needs: the newest
changes (:func:`newest_events`), one record (:func:`load_record`), each record's
summary (:func:`load_summary`: days in stage, stages reached), or all of it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from crmfiles import git
from crmfiles.history import store
from crmfiles.history.model import Event, History, recent_events, record_id
from crmfiles.history.summary import COLUMNS, Summary, rows_of, summarize
from crmfiles.runtime import Runtime


def _detach(runtime: Runtime | None) -> bool:
    """Whether caches are written after the answer by a detached process."""
    return runtime is not None and runtime.detach


def load_history(
    root: Path, rev: str | None = None, *, cache: bool = True, runtime: Runtime | None = None
) -> History:
    """The history of HEAD (cached, and brought up to date), or of ``rev``: a commit on
    HEAD's chain gives HEAD's history cut at that commit; any other is read afresh."""
    git_dir, head = _locate(root)
    if head is None:
        return History()
    history = _current(root, git_dir, head, cache, _detach(runtime))
    if rev is None:
        return history
    commit = git.resolve(rev, root)
    if commit == head:
        return history
    depth = history.depth_of(commit)
    if depth is not None:
        return history.until(depth)
    from crmfiles.history.replay import build

    return build(root, commit, None)


def newest_events(root: Path, count: int, runtime: Runtime | None = None) -> list[Event]:
    """The ``count`` newest stage or status changes of HEAD's history, newest first
    (``crm history -n``): from the cache's recent section when it holds them all."""
    if count <= 0:
        return []
    git_dir, head = _locate(root)
    if head is None:
        return []
    cached = store.CacheFile.open(store.cache_path(git_dir))
    if cached is not None:
        with cached:
            if cached.head == head:
                events = _newest(cached.recent(), count)
            else:
                events = _newest_appended(root, cached, head, count, _detach(runtime))
        if events is not None:
            return events
    history = _current(root, git_dir, head, True, _detach(runtime))
    if history.read_commits:  # just read: its newest records first, as the cache has them
        events = _newest(store.recent_part(history), count)
        if events is not None:
            return events
    return recent_events(history, count, moves_only=True)


APPEND_AT_MOST = 1000  # new commits replayed onto a part of the cache; more: all of it


def _newest_appended(
    root: Path, cached: store.CacheFile, head: str, count: int, detach: bool
) -> list[Event] | None:
    """:func:`newest_events` when the cache is of an older head: the records the new
    commits touched (:func:`_appended`) beside the cache's recent section for every
    other record; None when that cannot answer (then the whole cache is extended)."""
    recent = cached.recent()
    if recent is None:
        return None
    cutoff, part = recent
    appended = _appended(root, cached, head, detach)
    if appended is None:
        return None
    history, touched = appended
    return _newest((cutoff, _beside(part, history, touched)), count)


def _appended(
    root: Path,
    cached: store.CacheFile,
    head: str,
    detach: bool,
    also: frozenset[str] = frozenset(),
) -> tuple[History, set[str]] | None:
    """The new commits since the cache's head, when HEAD's chain continues it without a
    merge (commits made since, by crm or by hand), replayed onto the records they touch
    (and ``also``), read from their shards - not the whole cache, which at 100,000
    records takes half a second to load; with the ids touched.  The cache itself is
    brought up to date after the answer, from the command line.  None when this
    cannot be done (then the whole cache is extended)."""
    from crmfiles.history.replay import NotAContinuation, _Replay
    from crmfiles.history.scan import scan
    from crmfiles.history.scanparse import PRODUCTS

    parent = cached.head
    if parent is None:
        return None
    try:  # (counted first: a long range is read once, by the whole extension)
        count = git.out(["rev-list", "--count", head, f"^{parent}"], root).strip()
        if not count.isdigit() or not 0 < int(count) <= APPEND_AT_MOST:
            return None
        scanned = scan(root, head, parent)
    except git.GitError:
        return None
    order = scanned.order
    if not order or len(order) > APPEND_AT_MOST:
        return None
    last = parent
    for logged in order:  # one line on from the cached head
        if logged.parents != [last]:
            return None
        last = logged.id
    if last != head:
        return None
    touched = {record_id(p) for c in order for p, _, _ in c.changes if p != PRODUCTS}
    base = cached.part_of(touched | also)
    if base is None:
        return None
    try:
        history = _Replay(root, base, scanned).run(head)
    except (NotAContinuation, git.GitError):
        return None
    if detach:
        from crmfiles.background import later

        later(lambda: follow(root, parent, head), detach=True)
    return history, touched


def _beside(recent: History, appended: History, touched: set[str]) -> History:
    """The recent section's records, with those the new commits touched as the replay
    left them (their commits renumbered after the section's)."""
    commits = list(recent.commits)
    shift = len(commits)
    commits.extend(appended.commits)
    timelines = {rid: versions for rid, versions in recent.timelines.items() if rid not in touched}
    for rid, versions in appended.timelines.items():
        timelines[rid] = [
            (c + shift, depth, path, fields, merge + shift if merge >= 0 else merge)
            for c, depth, path, fields, merge in versions
        ]
    return History(appended.head, appended.depth, b"", commits, timelines, partial=True)


def _newest(part: tuple[int | None, History] | None, count: int) -> list[Event] | None:
    """:func:`newest_events` from a recent part; None when it does not hold them."""
    if part is None:
        return None
    cutoff, recent = part
    events = recent_events(recent, count, moves_only=True)
    # every version at or after the cutoff is in the part: its newest events are the
    # newest of all when the last of them is not older than the cutoff
    if cutoff is None or (len(events) == count and events[-1].date.timestamp() >= cutoff):
        return events
    return None


def load_record(root: Path, record_id: str, runtime: Runtime | None = None) -> History:
    """HEAD's history of one record (no versions: it has none), as a partial history:
    from one section of the cache when that is of HEAD."""
    git_dir, head = _locate(root)
    if head is None:
        return History()
    part = None
    cached = store.CacheFile.open(store.cache_path(git_dir))
    if cached is not None:
        with cached:
            if cached.head == head:
                part = cached.record(record_id)
            else:
                appended = _appended(root, cached, head, _detach(runtime), frozenset([record_id]))
                if appended is not None:
                    part = _only(appended[0], record_id)
    if part is not None:
        return part
    return _only(_current(root, git_dir, head, True, _detach(runtime)), record_id)


def load_summary(
    root: Path,
    rev: str | None = None,
    *,
    columns: tuple[str, ...] = COLUMNS,
    runtime: Runtime | None = None,
) -> Summary:
    """Each record's summary (:mod:`crmfiles.history.summary`), in these columns, of
    HEAD or of ``rev``: from the cache's summary sections when it is of HEAD (not the
    versions: at 100,000 records, two lists instead of half a second of loading);
    when HEAD has moved on by a few commits, with the records they touched replayed
    from their shards; else from the whole history (then cached)."""
    git_dir, head = _locate(root)
    if head is None:
        return summarize(History())
    if rev is not None and git.resolve(rev, root) != head:
        return summarize(load_history(root, rev, runtime=runtime))
    cached = store.CacheFile.open(store.cache_path(git_dir))
    if cached is not None:
        with cached:
            summary = cached.summary(columns)
            if summary is not None and cached.head == head:
                return summary
            if summary is not None:
                appended = _appended(root, cached, head, _detach(runtime))
                if appended is not None:
                    history, touched = appended
                    return summary.patched(rows_of(history, touched))
    history = _current(root, git_dir, head, True, _detach(runtime))
    return summarize(history, history.summary)


def _only(history: History, record_id: str) -> History:
    """One record's part of a history."""
    timelines = history.timelines
    only = {record_id: timelines[record_id]} if record_id in timelines else {}
    return replace(history, timelines=only, files={}, products={}, partial=True)


def _locate(root: Path) -> tuple[Path, str | None]:
    proc = git.run(["rev-parse", "--git-dir", "--verify", "-q", "HEAD^{commit}"], root, check=False)
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if not lines:
        raise git.GitError(f"{root} is not in a git repository")
    git_dir = Path(lines[0])
    if not git_dir.is_absolute():
        git_dir = root / git_dir
    return git_dir, lines[1] if len(lines) > 1 else None


def _open(git_dir: Path, head: str) -> store.CacheFile | None:
    """The cache file, when it is of ``head``."""
    cached = store.CacheFile.open(store.cache_path(git_dir))
    if cached is not None and cached.head != head:
        cached.close()
        return None
    return cached


# the last history this process read or wrote, by cache file, with the file's stamp
# (None: written in the background): a long-running TUI asks again and again, mostly
# for the same head
_LAST: dict[Path, tuple[tuple[int, int] | None, History]] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _current(root: Path, git_dir: Path, head: str, use_cache: bool, detach: bool) -> History:
    path = store.cache_path(git_dir)
    cached = _cached(path, head) if use_cache else None
    if cached is not None and cached.head == head:
        return replace(cached, read_commits=0)
    from crmfiles.history.replay import NotAContinuation

    save = path if use_cache else None
    history: History | None = None
    if cached is not None and not cached.partial:
        try:
            history = _build(root, head, cached, save, detach)
        except (NotAContinuation, git.GitError):
            history = None
    if history is None:
        history = _build(root, head, None, save, detach)
    return history


def _build(root: Path, head: str, base: History | None, save: Path | None, detach: bool) -> History:
    """The history read from git, cached at ``save``: from the command line by a
    detached process after the answer (see :mod:`crmfiles.background`), else encoded
    while the gits exit and written."""
    from crmfiles.history.replay import building

    payload = None
    with store.no_gc(), building(root, head, base) as history:
        if save is not None and not detach:
            payload = store.encode(history)
    if save is not None:
        if detach:
            from crmfiles.background import later

            later(lambda: store.write(save, history), detach=True)
            _LAST[save] = (None, history)
        else:
            store.write(save, history, payload)
            _LAST[save] = (_stamp(save), history)
    return history


def follow(root: Path, parent: str, head: str) -> None:
    """After a commit of ``head`` on ``parent`` (an operation's, from its detached
    process after the answer): when the history cache is of ``parent``, bring it to
    ``head`` now, so that the next ``crm history`` reads nothing - at 100,000 records,
    extending a cache costs half a second of loading it whole.  Nothing is done for a
    repository whose history nobody asked for (no cache), or when HEAD moved on."""
    from crmfiles.cache import writing
    from crmfiles.history.replay import NotAContinuation, building

    git_dir, now = _locate(root)
    if now != head:
        return
    path = store.cache_path(git_dir)
    with writing(path.parent):  # (a writer in progress is waited for by whoever deletes)
        cached = _open(git_dir, parent)
        if cached is None:
            return
        cached.close()
        base = _cached(path, head)
        if base is None or base.partial or base.head != parent:
            return
        try:
            with store.no_gc(), building(root, head, base) as history:
                pass
        except (NotAContinuation, git.GitError):
            return
        store.write(path, history, lock=False)


def _cached(path: Path, head: str) -> History | None:
    """The cached history: of ``head`` (read without the files at the head), or of
    another head with them (a base to extend)."""
    remembered = _LAST.get(path)
    if remembered is not None:
        stamp, last = remembered
        # the file is as this process left it, or being written by a process it left
        if (stamp is None or stamp == _stamp(path)) and (last.head == head or not last.partial):
            return last
    cached = store.CacheFile.open(path)
    if cached is None:
        return None
    with cached:
        history = cached.history(files=cached.head != head)
    if history is not None:
        _LAST[path] = (cached.stamp, history)
    return history


__all__ = ["follow", "load_history", "load_record", "load_summary", "newest_events", "record_id"]
