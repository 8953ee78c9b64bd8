"""The index and any commit as sources: files read from git's objects.

Apart from :mod:`crmfiles.records.sources` (the interface) and
:mod:`crmfiles.records.worktree` (files on disk): these list a tree or the index
(``git ls-tree``, ``git ls-files``) and read the blobs through one ``git cat-file``,
refusing symlinks, merge conflicts and files over the size limit as the work tree does.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path

from crmfiles import git
from crmfiles.records import CATALOG_DIR, CONFIG_FILE, MAX_FILE_BYTES, classify
from crmfiles.records.sources import TOP_LEVEL, Entry, RawFile, Source, wanted


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
            if not wanted(e.path) and e.mode != "120000":
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
