"""Writing objects: blobs, the trees on the way to them, commit objects, refs."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crmfiles.git.process import ZERO, GitError, out, run
from crmfiles.git.read import cat_blobs

# --- writing: one commit of exactly these files ------------------------------------
#
# A commit of an operation is built with plumbing, never through the user's index:
# the new blobs go into HEAD's tree by rewriting only the trees on the way to them
# (:func:`edit_tree`), so the cost follows the depth of the path, not the size of the
# repository (a temporary index would be read, updated and written whole: three
# passes over 100,000 entries), and nothing the user staged can slip in.


def hash_blobs(cwd: Path, contents: dict[str, bytes], *, write: bool = True) -> dict[str, str]:
    """The blob id of each content with the path's filters (``.gitattributes``) applied
    as ``git add`` would, written to the object store unless ``write`` is False."""
    flags = ["-w"] if write else []
    return {
        path: run(["hash-object", *flags, "--stdin", f"--path={path}"], cwd, input=content)
        .stdout.decode()
        .strip()
        for path, content in contents.items()
    }


def _tree_entries(raw: bytes, oid_size: int) -> dict[bytes, tuple[bytes, bytes]]:
    """A raw tree object: name -> (mode, binary object id)."""
    out: dict[bytes, tuple[bytes, bytes]] = {}
    pos = 0
    while pos < len(raw):
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        out[raw[space + 1 : nul]] = (raw[pos:space], raw[nul + 1 : nul + 1 + oid_size])
        pos = nul + 1 + oid_size
    return out


def edit_tree(cwd: Path, base: str | None, files: dict[str, str | None]) -> str:
    """The tree of ``base`` (a commit; None: empty) with each path set to a blob id
    (or removed, for None), rewriting only the trees on the way to those paths."""
    oid_size = len(base or "0" * 40) // 2
    dirs: set[str] = {""}
    for path in files:
        parts = path.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
    ordered = sorted(dirs, key=lambda d: (-d.count("/") if d else 1, d))  # deepest first
    trees: dict[str, dict[bytes, tuple[bytes, bytes]]] = {d: {} for d in dirs}
    if base is not None:
        specs = {f"{base}^{{tree}}" if not d else f"{base}:{d}": d for d in dirs}
        for spec, raw in cat_blobs(list(specs), cwd):
            trees[specs[spec]] = _tree_entries(raw, oid_size)
    for path, blob in files.items():
        folder, _, name = path.rpartition("/")
        key = name.encode("utf-8", "surrogateescape")
        if blob is None:
            trees[folder].pop(key, None)
        else:
            mode = trees[folder].get(key, (b"100644", b""))[0]
            mode = mode if mode in (b"100644", b"100755") else b"100644"
            trees[folder][key] = (mode, bytes.fromhex(blob))
    algorithm = hashlib.sha1 if oid_size == 20 else hashlib.sha256
    if base is None and out(["rev-parse", "--show-object-format"], cwd).strip() == "sha256":
        algorithm = hashlib.sha256  # (an unborn branch: no id to tell it by)
    return _write_trees(cwd, ordered, trees, algorithm)


def _write_trees(
    cwd: Path,
    ordered: list[str],
    trees: dict[str, dict[bytes, tuple[bytes, bytes]]],
    algorithm: Callable[[bytes], Any],
) -> str:
    """The trees of :func:`edit_tree`, deepest first.  Each tree's id is computed here
    (the hash of its canonical form), so a parent names its new sub-trees without
    waiting for git; the trees go to scratch files that one ``git hash-object -t tree
    --stdin-paths`` writes (git checks their form), and git's ids are checked against
    ours.  (``git mktree`` spends 30 ms on a month folder's 1,600 entries; a process
    per tree costs more to start.)"""
    made: dict[str, bytes | None] = {}
    objects: list[tuple[str, bytes]] = []  # (our id, the tree's canonical content)
    for folder in ordered:
        entries = trees[folder]
        for sub in (d for d in ordered if d and d.rpartition("/")[0] == folder):
            key = sub.rpartition("/")[2].encode("utf-8", "surrogateescape")
            tree_id = made[sub]
            if tree_id is None:
                entries.pop(key, None)
            else:
                entries[key] = (b"40000", tree_id)
        if folder and not entries:
            made[folder] = None  # git keeps no empty folders
            continue
        # git's order: by name, a folder's name as if it ended in "/"
        names = sorted(entries, key=lambda n: n + b"/" if entries[n][0] == b"40000" else n)
        raw = b"".join(b"%s %s\0%s" % (entries[n][0], n, entries[n][1]) for n in names)
        oid = algorithm(b"tree %d\0" % len(raw) + raw).digest()
        made[folder] = oid
        objects.append((oid.hex(), raw))
    with tempfile.TemporaryDirectory(prefix="crm-trees-") as scratch:
        files: list[str] = []
        for n, (_, raw) in enumerate(objects):
            files.append(os.path.join(scratch, str(n)))
            with open(files[-1], "wb") as handle:
                handle.write(raw)
        proc = run(
            ["hash-object", "-t", "tree", "-w", "--stdin-paths"],
            cwd,
            input="".join(f"{f}\n" for f in files).encode("utf-8", "surrogateescape"),
            check=False,
        )
    answers = proc.stdout.decode().split()
    problems = [] if answers == [ours for ours, _ in objects] else ["git made other trees"]
    if proc.returncode != 0:
        problems.insert(0, proc.stderr.decode("utf-8", "replace").strip())
    root = made.get("")
    if problems or root is None:
        raise GitError(problems[0] if problems else "git made no tree")
    return root.hex()


def commit_tree(
    cwd: Path, tree: str, parents: Sequence[str], message: str, *, sign: bool = False
) -> str:
    args = ["commit-tree", tree, *(a for p in parents for a in ("-p", p))]
    if sign:
        args.append("-S")
    return run([*args, "-F", "-"], cwd, input=message.encode()).stdout.decode().strip()


def update_ref(cwd: Path, ref: str, new: str, old: str | None, message: str) -> None:
    """Move ``ref`` to ``new`` only if it still points at ``old`` (None: only if it
    does not exist yet), so a commit made meanwhile elsewhere is never lost.  git runs
    in its own process group: an interrupt must not stop it half way."""
    run(["update-ref", "-m", message, ref, new, old or ZERO], cwd, own_group=True)


def gc_auto(cwd: Path) -> None:
    """Git's housekeeping, which plumbing commits never trigger (cheap when not due)."""
    run(["gc", "--auto", "--quiet"], cwd, check=False)
