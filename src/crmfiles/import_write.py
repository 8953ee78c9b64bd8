"""Write an import's files and commit them, all or nothing.

Everything that can refuse a row runs before this (``crmfiles.importer``); what is left
to refuse is git (a pre-commit hook says no, another git holds ``index.lock``) or the
file system.  Then exactly the files this run wrote are unstaged and removed again, with
the folders it made for them, and the error says so: a second run starts from the
repository as it was, never from a work tree holding a failed run's files.
"""

from __future__ import annotations

from pathlib import Path

from crmfiles import git
from crmfiles.errors import CrmError, GitFailed
from crmfiles.records.edit import write_atomic


class _Refused(Exception):
    def __init__(self, why: str, output: str) -> None:
        super().__init__(why)
        self.why = why
        self.output = output


def write_all(root: Path, texts: dict[str, str], message: str | None) -> str | None:
    """Write ``texts`` (path -> text, none of them existing) and, with a ``message``,
    commit exactly them; the new commit id, or None without a message."""
    written: list[str] = []
    made: list[Path] = []
    staged = False
    paths = list(texts)
    listed = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)
    spec = ["--pathspec-from-file=-", "--pathspec-file-nul"]
    try:
        for path, text in texts.items():
            made += _missing_folders(root, path)
            write_atomic(root / path, text)
            written.append(path)
        if message is None:
            return None
        _git(root, ["add", *spec], listed, "add the files to the index")
        staged = True
        _git(root, ["commit", "-q", "-m", message, "--only", *spec], listed, "make the commit")
    except (OSError, _Refused) as exc:
        why = exc.why if isinstance(exc, _Refused) else f"{exc.filename}: {exc.strerror}"
        if staged:
            git.run(
                ["rm", "--cached", "-q", "--ignore-unmatch", *spec], root, input=listed, check=False
            )
        for path in written:
            (root / path).unlink(missing_ok=True)
        for folder in reversed(made):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        n = len(written)
        said = (
            f"\nnothing was imported: the {n} file{'s' if n != 1 else ''} it wrote "
            f"{'are' if n != 1 else 'is'} removed{' and unstaged' if staged else ''}; "
            "the repository is as it was"
        )
        hint = "fix what git reports, then run the same import again"
        if isinstance(exc, _Refused):
            raise GitFailed(why + said, exc.output, hint=hint) from None
        raise CrmError(why + said, hint=hint) from None
    return git.resolve("HEAD", root)


def _git(root: Path, args: list[str], listed: bytes, what: str) -> None:
    proc = git.run(args, root, input=listed, check=False)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        raise _Refused(f"git could not {what}", output)


def _missing_folders(root: Path, path: str) -> list[Path]:
    """The folders ``path`` needs that do not exist yet, outermost first."""
    missing = []
    folder = (root / path).parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    return list(reversed(missing))
