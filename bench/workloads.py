"""What the benchmark measures on: generated CRM repositories (made once, reused while
the generator is unchanged), the one-file edits of the "changed" cases, and snapshots
of crmfiles at a commit."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import git, note

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent


@dataclass
class Workload:
    """A generated CRM repository."""

    label: str
    root: Path
    opportunities: int
    commits: int
    generated_in: float | None = None  # seconds; None when reused
    _files: list[str] = field(default_factory=list)
    _editor: Editor | None = None
    _mover: Mover | None = None

    def yaml_files(self) -> list[str]:
        """Every YAML file of the work tree (absolute paths, sorted); edits change
        content, never the list, so it is walked once."""
        if not self._files:
            for dirpath, dirnames, filenames in os.walk(self.root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                self._files += (os.path.join(dirpath, n) for n in sorted(filenames)
                                if n.endswith(".yaml"))  # fmt: skip
        return self._files

    def opportunity_files(self) -> list[str]:
        opportunities = str(self.root / "opportunities") + os.sep
        return [p for p in self.yaml_files() if p.startswith(opportunities)]

    @property
    def editor(self) -> Editor:
        if self._editor is None:
            self._editor = Editor(self)
        return self._editor

    @property
    def mover(self) -> Mover:
        if self._mover is None:
            self._mover = Mover(self)
        return self._mover

    def describe(self) -> str:
        files = self.yaml_files()
        size = sum(os.path.getsize(p) for p in files)
        opportunities = self.opportunity_files()
        mean = sum(os.path.getsize(p) for p in opportunities) / max(len(opportunities), 1)
        how = f"generated in {self.generated_in:.0f} s" if self.generated_in else "reused"
        return (
            f"{self.label}: {len(opportunities):,} opportunities (mean {mean:,.0f} bytes), "
            f"{len(files):,} YAML files, {size / 2**20:.1f} MiB, {self.commits + 1:,} "
            f"commits; {how}; {self.root}"
        )


def generator_digest() -> str:
    h = hashlib.sha256()
    for name in ("generate.py", "world.py"):
        h.update((BENCH / name).read_bytes())
    return h.hexdigest()[:10]


def prepare(label: str, work: Path, opportunities: int, commits: int, seed: int = 1) -> Workload:
    """The workload's repository under ``work``: reused when the generator and the
    parameters are the same, generated (and stale versions removed) otherwise."""
    stem = f"opps{opportunities}-commits{commits}-seed{seed}-"
    root = work / (stem + generator_digest())
    if (root / ".git").is_dir():
        git(root, "reset", "-q", "--hard", "HEAD")  # undo the edits of an interrupted run
        return Workload(label, root, opportunities, commits)
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob(stem + "*"):
        shutil.rmtree(stale)
    partial = root.with_name(root.name + ".partial")
    note(f"generating {opportunities:,} opportunities and {commits:,} commits in {root} ...")
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "generate.py"),
            str(partial),
            f"--opportunities={opportunities}",
            f"--commits={commits}",
            f"--seed={seed}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    partial.rename(root)
    return Workload(label, root, opportunities, commits, time.perf_counter() - start)


class Editor:
    """Changes one in-progress opportunity at a time (its next milestone), a different
    one each time, and puts the previous one back first: the work tree differs from
    HEAD by exactly one file."""

    def __init__(self, workload: Workload) -> None:
        self.queue = workload.opportunity_files()
        random.Random(workload.label).shuffle(self.queue)
        self.count = 0
        self.run = time.strftime("%Y%m%d%H%M%S")
        self.last: tuple[str, str] | None = None  # path, original text

    def restore(self) -> str | None:
        """Put the last changed file back; its path, or None."""
        if self.last is None:
            return None
        path, text = self.last
        Path(path).write_text(text, encoding="utf-8")
        self.last = None
        return path

    def next(self) -> tuple[str | None, str]:
        """Change the next file: (the path put back or None, the path changed)."""
        previous = self.restore()
        while True:
            path = self.queue.pop()
            text = Path(path).read_text(encoding="utf-8")
            if "\nstatus: in_progress\n" in text and "\nnext_milestone: " in text:
                break
        self.count += 1
        changed = re.sub(
            r"^next_milestone: .*$",
            # unique across runs: a reused repository may hold an earlier run's edits
            f"next_milestone: bench edit {self.run}-{self.count}",
            text,
            count=1,
            flags=re.MULTILINE,
        )
        Path(path).write_text(changed, encoding="utf-8")
        self.last = (path, text)
        return previous, path


def snapshot(rev: str, work: Path) -> tuple[str, Path]:
    """The project as committed at ``rev``, extracted once under ``work`` with
    ``git archive`` (nothing in the project's own repository changes): (commit, folder)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = work / f"crmfiles-{commit[:12]}"
    if not (dest / "src" / "crmfiles").is_dir():
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=PROJECT, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(dest)
    return commit, dest


class Mover:
    """Chooses the next `crm move`: an opportunity in progress, of a kind with stages,
    not at its last stage and not being edited by the :class:`Editor`, to its next
    stage (a different opportunity each time; the moves are committed and stay)."""

    def __init__(self, workload: Workload) -> None:
        import yaml

        self.workload = workload
        self.queue = workload.opportunity_files()
        random.Random(workload.label + "/move").shuffle(self.queue)
        kinds = yaml.safe_load((workload.root / "catalogs" / "kinds.yaml").read_text("utf-8"))
        self.stages = {k["id"]: k.get("stages") or [] for k in kinds if k.get("allowed", True)}
        self.current: tuple[str, str] | None = None  # id, stage

    def next(self) -> tuple[str, str]:
        busy = (
            self.workload.editor.last[0]
            if self.workload._editor and self.workload.editor.last
            else None
        )
        while True:
            path = self.queue.pop()
            if path == busy:
                continue
            text = Path(path).read_text(encoding="utf-8")
            kind = re.search(r"^kind: (\S+)$", text, re.MULTILINE)
            stage = re.search(r"^stage: (\S+)$", text, re.MULTILINE)
            if "\nstatus: in_progress\n" not in text or not kind or not stage:
                continue
            stages = self.stages.get(kind[1], [])
            if stage[1] in stages and stages.index(stage[1]) + 1 < len(stages):
                self.current = (Path(path).stem, stages[stages.index(stage[1]) + 1])
                return self.current
