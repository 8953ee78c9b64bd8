"""Read the files of one revision: the work tree, the index, or any commit.

Every source yields ``(path, blob id or None, bytes or a refusal)`` for the files
that matter to crmfiles (crm.yaml, catalogs/, the record folders), in path order,
through the same interface, so every check runs the same on each.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crmfiles import git
from crmfiles.background import later
from crmfiles.records import (
    CATALOG_DIR,
    CONFIG_FILE,
    MAX_FILE_BYTES,
    RECORD_FOLDERS,
    classify,
    untracked,
)
from crmfiles.records.opener import Unreadable, read_regular
from crmfiles.records.restat import content_changed

TOP_LEVEL = (CONFIG_FILE, CATALOG_DIR, *RECORD_FOLDERS)
TOPS = list(TOP_LEVEL)


@dataclass(frozen=True, slots=True)
class Entry:
    """A file of a revision before it is read: its blob id when git knows it."""

    path: str
    blob: str | None  # None: the content must be read (changed in the work tree, ...)


@dataclass(frozen=True, slots=True)
class RawFile:
    path: str
    blob: str | None
    content: bytes | None
    refusal: str | None = None  # why the content was not read (symlink, size, conflict)
    # what kind of refusal: "unsafe" (a symlink, a FIFO, ...), "size" or "unmerged"
    refused: str = "unsafe"


class Source(ABC):
    """A revision of a CRM repository."""

    label: str = ""
    # folder_files reads one folder without listing the others (a list of tasks need
    # not read 100,000 opportunities)
    by_folder: bool = False

    def __init__(self, root: Path) -> None:
        self.root = root

    @abstractmethod
    def files(self) -> Iterator[RawFile]:
        """Every file that matters to crmfiles, in path order."""

    def read(self, path: str) -> bytes | None:
        """One file's bytes (used for crm.yaml before the bulk read)."""
        for raw in self.files_at([path]):
            return raw.content
        return None

    def read_config(self) -> bytes:
        """crm.yaml's bytes; a CrmError that says why when it cannot be read (missing,
        too large, not a regular file), so it is never reported as merely missing."""
        content = self.read(CONFIG_FILE)
        if content is None:
            from crmfiles.config import missing_config

            refusal = next((raw.refusal for raw in self.files_at([CONFIG_FILE])), None)
            missing_config(refusal=refusal)
        return content

    @abstractmethod
    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        """The given files (those that exist), in the order given."""

    def folder_files(self, folder: str) -> Iterator[RawFile]:
        """The files of one record folder, in path order."""
        prefix = folder + "/"
        yield from (raw for raw in self.files() if raw.path.startswith(prefix))

    def entries(self) -> list[Entry]:
        """Every file that matters, in path order, without reading it: with the blob
        id where git already knows it, so a cache keyed by blob ids can skip it."""
        return [Entry(raw.path, raw.blob) for raw in self.files()]

    def tree(self) -> str | None:
        """A git tree this revision is (or is based on), so a cache of an earlier tree
        can be brought up to date from ``git diff-tree``; None: list every file."""
        return None

    def catalog_files(self) -> list[RawFile]:
        """The catalog files (read: they are few, and every check needs them)."""
        paths = [e.path for e in self.entries() if e.path.startswith(CATALOG_DIR + "/")]
        return list(self.files_at(paths))

    def dirty(self) -> list[str]:
        """Paths whose content is not the tree's (edited or untracked work-tree files)."""
        return []

    def prefetch(self) -> None:  # noqa: B027 - most sources have nothing to start
        """Start, in the background, the git work ``tree`` and ``dirty`` will need."""

    def holds(self, folder: str) -> bool:
        """Whether this revision may have files in ``folder`` (False: it has none)."""
        return True

    def narrowed(self, folders: list[str]) -> Source:
        """This source, asked only about these folders (where that saves work)."""
        return self

    @contextmanager
    def again(self) -> Iterator[None]:
        """Within it, :meth:`tree` and :meth:`dirty` give their last answers once more
        instead of asking git: a second reader of the revision in the same command
        (``crm changes`` reads the facts after the check) sees the work tree as the
        first one did.  (Most sources ask git nothing that changes.)"""
        yield


_TOPS = tuple(f"{top}/" for top in TOP_LEVEL[1:])


def _wanted(path: str) -> bool:
    """Cheaply: could this path be crm.yaml, a catalog or a record? (``classify``
    decides; this only keeps it from running on files that clearly are not.)"""
    return path == CONFIG_FILE or (path.startswith(_TOPS) and path.endswith((".yaml", ".yml")))


def _split_z(raw: bytes) -> list[str]:
    return [p for p in raw.decode("utf-8", "surrogateescape").split("\0") if p]


class WorkTree(Source):
    label = "work tree"
    by_folder = True
    # what git is asked about (entries, dirty): everything, or a few folders
    tops: tuple[str, ...] = TOP_LEVEL

    def __init__(self, root: Path, *, detach: bool = False) -> None:
        """``detach``: a cache written after the answer may go to a detached process
        (:func:`crmfiles.background.later`; the command line's runtime)."""
        super().__init__(root)
        self.detach = detach

    def entries(self) -> list[Entry]:
        """From git's index and stat data when the repository is a git work tree: the
        index blob for every tracked file git sees unchanged, no blob for the files
        that differ from the index, are untracked, symlinks or unmerged."""
        inside = git.run(["rev-parse", "--is-inside-work-tree"], self.root, check=False)
        if inside.returncode != 0 or inside.stdout.strip() != b"true":
            return [Entry(path, None) for path in self._walk()]
        tracked = git.ls_files_fast(self.root, list(self.tops))
        changed = set(
            _split_z(
                git.run(
                    ["diff-files", "--name-only", "--relative", "-z", "--", *self.tops], self.root
                ).stdout
            )
        )
        blobs: dict[str, str | None] = {}
        for path, mode, blob, stage in tracked:
            if not _wanted(path):
                if mode == "120000":
                    blobs[path] = None
                continue
            ok = stage == "0" and mode in ("100644", "100755") and path not in changed
            blobs[path] = blob if ok and path not in blobs else None
        for path in git.untracked(self.root, list(self.tops)):
            if _wanted(path) or os.path.islink(self.root / path):
                blobs[path] = None
        return [Entry(path, blobs[path]) for path in sorted(blobs)]

    def files(self) -> Iterator[RawFile]:
        yield from self.files_at(self._walk())

    def folder_files(self, folder: str) -> Iterator[RawFile]:
        yield from self.files_at(self.folder_paths(folder))

    def holds(self, folder: str) -> bool:
        full = self.root / folder
        return full.is_dir() and not full.is_symlink()

    def narrowed(self, folders: list[str]) -> WorkTree:
        narrow = WorkTree(self.root, detach=self.detach)
        narrow.tops = tuple(folders)
        narrow._inside, narrow._gitdir = self._inside, self._gitdir
        narrow._known_tree = self._known_tree  # (what git said already: not asked again)
        if self._held is not None:
            under = tuple(f"{f}/" for f in folders)
            narrow._held = [p for p in self._held if p.startswith(under)]
        return narrow

    def paths(self) -> list[str]:
        """Every path :meth:`files` reads, in its order (what is in the work tree,
        whatever git says of it), none of them read."""
        return self._walk()

    def folder_paths(self, folder: str) -> list[str]:
        """The paths :meth:`folder_files` reads, in its order, none of them read."""
        return self._walk((folder,))

    def catalog_files(self) -> list[RawFile]:
        folder = self.root / CATALOG_DIR
        if not folder.is_dir() or folder.is_symlink():
            return []
        paths = sorted(f"{CATALOG_DIR}/{name}" for name in os.listdir(folder))
        return list(
            self.files_at([p for p in paths if _wanted(p) or os.path.islink(self.root / p)])
        )

    _inside: bool | None = None
    _gitdir: Path | None = None

    def _in_git(self) -> bool:
        if self._inside is None:
            inside = git.run(
                ["rev-parse", "--is-inside-work-tree", "--absolute-git-dir"], self.root, check=False
            )
            lines = inside.stdout.decode("utf-8", "surrogateescape").splitlines()
            self._inside = inside.returncode == 0 and lines[:1] == ["true"]
            if self._inside and len(lines) > 1:
                self._gitdir = Path(lines[1])
        return self._inside

    @property
    def git_dir(self) -> Path | None:
        """The repository's git directory (None outside git)."""
        return self._gitdir if self._in_git() else None

    _known_tree: str | None = None  # the index's tree, asked for already (know_tree)

    def know_tree(self, tree: str | None) -> None:
        """The answer of :meth:`tree` a reader had from git already: the next
        :meth:`tree` or :meth:`tree_soon` gives it instead of asking git again."""
        self._known_tree = tree

    _answered_tree: str | None = None  # git's last answer to tree()

    def tree(self) -> str | None:
        known, self._known_tree = self._known_tree, None
        if known is not None:
            return known
        self._answered_tree = git.write_tree(self.root) if self._in_git() else None
        return self._answered_tree

    def tree_soon(self) -> Callable[[], str | None]:
        """:meth:`tree`, started now: the function returned waits for it."""
        known, self._known_tree = self._known_tree, None
        if known is not None:
            return lambda: known
        if not self._in_git():
            return lambda: None
        wait = git.ask(self.root, ["write-tree"])

        def tree() -> str | None:
            status, output, _ = wait()[0]
            return output.decode().strip() if status == 0 else None

        return tree

    _pending: Callable[[], list[bytes]] | None = None
    _untracked: list[str] | None = None  # known without asking git (records.untracked)
    _since = 0
    # waits for what this source left to finish after answering (recording the
    # untracked files for next time)
    settle: Callable[[], None] = staticmethod(lambda: None)

    def prefetch(self) -> None:
        # both walk the whole work tree (lstat, readdir): side by side, and while the
        # checker reads crm.yaml, the catalogs and its cache; the untracked files are
        # asked for only when a folder, the index or an ignore file changed since
        if self._pending is not None or self._held is not None or not self._in_git():
            return
        diff = ["diff-files", "--name-only", "--relative", "-z", "--", *self.tops]
        gitdir = self._gitdir
        self._untracked = untracked.known(self.root, gitdir, TOPS) if gitdir else None
        if self._untracked is not None:
            if self.tops != TOP_LEVEL:  # (what is remembered is of every folder)
                under = tuple(f"{top}/" for top in self.tops)
                self._untracked = [p for p in self._untracked if p.startswith(under)]
            self._pending = git.start(self.root, diff)
            return
        self._since = untracked.started()
        others = ["ls-files", "--others", "--exclude-standard", "-z", "--", *self.tops]
        self._pending = git.start(self.root, diff, others)

    _held: list[str] | None = None  # an answer of dirty() taken early (hold_dirty)

    def answered(self) -> bool:
        """Whether git's look at the work tree was taken already (held for the next
        :meth:`dirty`): nothing is left to overlap with it."""
        return self._held is not None

    def hold_dirty(self, paths: list[str]) -> None:
        """The answer a reader took from :meth:`dirty` before reading: the next call
        gives it again (once) instead of asking git a second time."""
        self._held = paths

    _answered: list[str] | None = None  # git's last answer to dirty()

    @contextmanager
    def again(self) -> Iterator[None]:
        held = list(self._answered) if self._answered is not None else None
        tree = self._answered_tree
        if self._held is None:
            self._held = held
        if self._known_tree is None:
            self._known_tree = tree
        try:
            yield
        finally:  # what the reader did not ask for is not left for another
            if held is not None and self._held is held:
                self._held = None
            if tree is not None and self._known_tree is tree:
                self._known_tree = None

    def dirty(self) -> list[str]:
        if self._held is not None:
            held, self._held = self._held, None
            return held
        self.prefetch()
        if self._pending is None:
            return []
        changed, *listed = self._pending()
        self._pending = None
        if listed:
            others = _split_z(listed[0])
            if self._gitdir is not None and self.tops == TOP_LEVEL:
                gitdir, since = self._gitdir, self._since
                self.settle = later(
                    lambda: untracked.remember(self.root, gitdir, TOPS, others, since),
                    detach=self.detach,
                )
        else:
            others = self._untracked or []
        kept = [p for p in others if _wanted(p) or os.path.islink(self.root / p)]
        edited = content_changed(self.root, _split_z(changed))
        self._answered = [
            *(p for p in edited if _wanted(p) or os.path.islink(self.root / p)),
            *kept,
        ]
        self._answered_untracked, self._answered_edited = kept, edited
        return self._answered

    _answered_untracked: list[str] | None = None
    _answered_edited: list[str] | None = None

    def edited_seen(self) -> list[str] | None:
        """The tracked files that differ from the index (every one, as ``git
        diff-files`` named them) in git's last answer to :meth:`dirty` (None: git was
        not asked)."""
        return None if self._answered_edited is None else list(self._answered_edited)

    def untracked_seen(self) -> list[str] | None:
        """The untracked files among the paths of git's last answer to :meth:`dirty`
        (None: git was not asked), so a reader after the check need not walk the work
        tree again."""
        return None if self._answered_untracked is None else list(self._answered_untracked)

    def _walk(self, tops: tuple[str, ...] = TOP_LEVEL) -> list[str]:
        found: list[str] = []
        for top in tops:
            full = self.root / top
            if top == CONFIG_FILE:
                if full.exists() or full.is_symlink():
                    found.append(top)
                continue
            if not full.is_dir() or full.is_symlink():
                if full.is_symlink():
                    found.append(top)
                continue
            for dirpath, dirnames, filenames in os.walk(full):
                rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
                for name in dirnames:
                    if os.path.islink(os.path.join(dirpath, name)):
                        found.append(f"{rel}/{name}")
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                found.extend(f"{rel}/{name}" for name in filenames)
        found = [p for p in found if _wanted(p) or os.path.islink(self.root / p)]
        found.sort()
        return found

    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        # one open (refusing a symlink, never waiting on a FIFO), one fstat, one read a
        # file: on the hot path of a cold run, where pathlib's stat-then-open costs
        # more than the reading
        root = str(self.root)
        for path in paths:
            full = os.path.join(root, path)
            try:
                yield RawFile(path, None, read_regular(full))
            except FileNotFoundError:
                continue
            except Unreadable as exc:
                yield (
                    self._symlink(path, full)
                    if exc.symlink
                    else RawFile(path, None, None, exc.why, "size" if exc.too_large else "unsafe")
                )

    def _symlink(self, path: str, full: str) -> RawFile:
        target = os.path.realpath(full)
        inside = target.startswith(str(self.root.resolve()) + os.sep)
        link = os.readlink(full)
        why = (
            f"symlink to '{link}' leaves the repository"
            if not inside
            else f"symlink to '{link}': records must be regular files"
        )
        return RawFile(path, None, None, why)


class _GitSource(Source):
    by_folder = True

    @abstractmethod
    def _entries(self, paths: list[str] | None) -> list[git.TreeEntry]:
        """The tree or index entries under ``paths`` (default: every CRM folder)."""

    def files(self) -> Iterator[RawFile]:
        yield from self._emit(self._entries(None))

    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        if not paths:
            return  # (git ls-tree and ls-files list everything when given no path)
        if len(paths) > 500:  # one listing beats a command line of thousands of paths
            wanted = set(paths)  # (and only the wanted blobs are read)
            yield from self._emit([e for e in self._entries(None) if e.path in wanted])
            return
        yield from self._emit(self._entries(paths))

    def folder_files(self, folder: str) -> Iterator[RawFile]:
        yield from self._emit(self._entries([folder]))

    _config: tuple[bytes | None] | None = None  # crm.yaml, read with the catalogs

    def catalog_files(self) -> list[RawFile]:
        # crm.yaml comes in the same ls-tree and cat-file as the catalogs
        files = list(self._emit(self._entries([CATALOG_DIR, CONFIG_FILE])))
        self._config = (next((f.content for f in files if f.path == CONFIG_FILE), None),)
        return [f for f in files if f.path != CONFIG_FILE]

    def read(self, path: str) -> bytes | None:
        if path == CONFIG_FILE and self._config is not None:
            return self._config[0]
        return super().read(path)

    def entries(self) -> list[Entry]:
        out: dict[str, str | None] = {}
        for e in self._entries(None):
            if not _wanted(e.path) and e.mode != "120000":
                continue
            regular = e.stage == 0 and e.mode in ("100644", "100755")
            out[e.path] = e.blob if regular and e.path not in out else None
        return [Entry(path, out[path]) for path in sorted(out)]

    def _emit(self, entries: list[git.TreeEntry]) -> Iterator[RawFile]:
        keep: list[git.TreeEntry] = []
        conflicted: set[str] = set()
        for entry in entries:
            if (
                entry.path != CONFIG_FILE
                and classify(entry.path) is None
                and entry.mode != "120000"
            ):
                continue
            if entry.stage:
                conflicted.add(entry.path)
                continue
            keep.append(entry)
        yield from (
            RawFile(
                path, None, None, "unmerged: the file has a merge conflict in the index", "unmerged"
            )
            for path in sorted(conflicted)
        )
        regular = [e for e in keep if e.mode not in ("120000", "160000")]
        contents = git.cat_blobs([e.blob for e in regular], self.root)
        pending: tuple[str | None, bytes | None] = next(contents, (None, None))
        for entry in keep:
            if entry.mode == "120000":
                yield RawFile(
                    entry.path, entry.blob, None, "symlink: records must be regular files"
                )
                continue
            if entry.mode == "160000":
                continue  # a submodule
            blob, content = pending
            if blob != entry.blob or content is None:
                continue  # git reported this blob missing: the next answer is another's
            pending = next(contents, (None, None))
            if len(content) > MAX_FILE_BYTES:
                yield RawFile(
                    entry.path,
                    entry.blob,
                    None,
                    f"file is {len(content):,} bytes, over the "
                    f"{MAX_FILE_BYTES:,}-byte limit for a record",
                    "size",
                )
                continue
            yield RawFile(entry.path, entry.blob, content)


class Index(_GitSource):
    label = "index"
    _tree: Callable[[], list[git.Answer]] | None = None

    def prefetch(self) -> None:
        # the index's tree, asked now: git reads the whole index for it (16 MB at
        # 100,000 files) while the checker reads the catalogs and its cache
        if self._tree is None:
            self._tree = git.ask(self.root, ["write-tree"])

    def tree(self) -> str | None:
        if self._tree is None:
            return git.write_tree(self.root)
        ((status, output, _),) = self._tree()
        self._tree = None
        return output.decode().strip() if status == 0 else None

    def _entries(self, paths: list[str] | None) -> list[git.TreeEntry]:
        return git.ls_files(self.root, paths if paths is not None else list(TOP_LEVEL))


class Revision(_GitSource):
    def __init__(self, root: Path, rev: str, *, resolved: bool = False) -> None:
        """``resolved``: ``rev`` is a commit id the caller has from git already."""
        super().__init__(root)
        self.rev = rev
        self.commit = rev if rev == git.EMPTY_TREE or resolved else git.resolve(rev, root)
        self.label = rev

    def tree(self) -> str | None:
        if self.commit == git.EMPTY_TREE:
            return git.EMPTY_TREE
        return git.out(["rev-parse", f"{self.commit}^{{tree}}"], self.root).strip()

    def _entries(self, paths: list[str] | None) -> list[git.TreeEntry]:
        return git.ls_tree(self.commit, self.root, paths if paths is not None else list(TOP_LEVEL))


class Overlay(Source):
    """Another source with some files replaced in memory (``None`` deletes one): what a
    revision would be after an operation's edits, checked before anything is written."""

    def __init__(self, base: Source, changes: dict[str, bytes | None]) -> None:
        super().__init__(base.root)
        self.base = base
        self.changes = changes
        self.label = f"{base.label} with changes"
        self.by_folder = base.by_folder

    def folder_files(self, folder: str) -> Iterator[RawFile]:
        prefix = folder + "/"
        mine = {p: c for p, c in self.changes.items() if p.startswith(prefix)}
        out = [raw for raw in self.base.folder_files(folder) if raw.path not in mine]
        out.extend(
            RawFile(path, None, content) for path, content in mine.items() if content is not None
        )
        out.sort(key=lambda raw: raw.path)
        yield from out

    def files(self) -> Iterator[RawFile]:
        seen: set[str] = set()
        out: list[RawFile] = []
        for raw in self.base.files():
            seen.add(raw.path)
            if raw.path in self.changes:
                content = self.changes[raw.path]
                if content is not None:
                    out.append(RawFile(raw.path, None, content))
            else:
                out.append(raw)
        for path, content in self.changes.items():
            if path not in seen and content is not None:
                out.append(RawFile(path, None, content))
        out.sort(key=lambda raw: raw.path)
        yield from out

    def tree(self) -> str | None:
        return self.base.tree()

    def prefetch(self) -> None:
        self.base.prefetch()

    def dirty(self) -> list[str]:
        return sorted({*self.base.dirty(), *self.changes})

    @contextmanager
    def again(self) -> Iterator[None]:
        with self.base.again():
            yield

    def read(self, path: str) -> bytes | None:
        return self.changes[path] if path in self.changes else self.base.read(path)

    def catalog_files(self) -> list[RawFile]:
        base = {raw.path: raw for raw in self.base.catalog_files()}
        for path, content in self.changes.items():
            if path.startswith(CATALOG_DIR + "/"):
                if content is None:
                    base.pop(path, None)
                else:
                    base[path] = RawFile(path, None, content)
        return [base[p] for p in sorted(base)]

    def entries(self) -> list[Entry]:
        # a deleted file stays listed, with no blob: read, it is gone, and a cache of
        # the base's tree then knows that tree's file is not what was checked
        out = {e.path: e.blob for e in self.base.entries()}
        for path, content in self.changes.items():
            if content is None and path not in out:
                continue
            out[path] = None
        return [Entry(path, out[path]) for path in sorted(out)]

    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        rest = [p for p in paths if p not in self.changes]
        by_path = {raw.path: raw for raw in self.base.files_at(rest)} if rest else {}
        for path in paths:
            if path in self.changes:
                content = self.changes[path]
                if content is not None:
                    yield RawFile(path, None, content)
            elif path in by_path:
                yield by_path[path]
