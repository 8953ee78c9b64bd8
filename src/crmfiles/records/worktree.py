"""The work tree as a source: the files on disk, with git's index and stat data.

Apart from :mod:`crmfiles.records.sources` (the interface every source gives) because
reading the work tree is its own concern: it walks the folders, reads each file with
one safe open, and asks git (its index, ``diff-files``, the untracked files, kept
between runs by :mod:`crmfiles.records.untracked`) which files it already knows, so a
cache keyed by blob ids can skip them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crmfiles import git
from crmfiles.background import later
from crmfiles.records import CATALOG_DIR, CONFIG_FILE, untracked
from crmfiles.records.opener import Unreadable, read_regular
from crmfiles.records.restat import content_changed
from crmfiles.records.sources import TOP_LEVEL, Entry, RawFile, Source, wanted

TOPS = list(TOP_LEVEL)


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
            if not wanted(path):
                if mode == "120000":
                    blobs[path] = None
                continue
            ok = stage == "0" and mode in ("100644", "100755") and path not in changed
            blobs[path] = blob if ok and path not in blobs else None
        for path in git.untracked(self.root, list(self.tops)):
            if wanted(path) or os.path.islink(self.root / path):
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
        return list(self.files_at([p for p in paths if wanted(p) or os.path.islink(self.root / p)]))

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
        kept = [p for p in others if wanted(p) or os.path.islink(self.root / p)]
        edited = content_changed(self.root, _split_z(changed))
        self._answered = [
            *(p for p in edited if wanted(p) or os.path.islink(self.root / p)),
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
        found = [p for p in found if wanted(p) or os.path.islink(self.root / p)]
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
