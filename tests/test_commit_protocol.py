"""The commit protocol with real processes, real git and real signals: crm commands
at once, a `git commit` racing one, Ctrl-C and SIGKILL at each phase, and the next
command repairing what a killed one left.

A test holds a crm process at a named phase with the test hook
``CRM_TEST_PAUSE_AT=<phase>:<fifo>`` (crm opens the FIFO and waits until the test
closes it)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

OPP = "opportunities/2026/01/acme-forklifts.yaml"
PHASES_BEFORE = ["locked", "checked", "written", "index-locked"]  # HEAD not moved yet
PHASES_AFTER = ["ref", "index"]  # HEAD moved: the point of no return is behind


def crm_command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "crmfiles", *args, "--repo", str(root)]


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(crm_command(root, *args), capture_output=True, text=True, check=False)


def start(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        crm_command(root, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@contextlib.contextmanager
def paused(
    root: Path, tmp_path: Path, phase: str, *args: str
) -> Iterator[tuple[subprocess.Popen[str], Callable[[], None]]]:
    """A crm command held at ``phase``; the second value lets it go on."""
    fifo = tmp_path / f"pause-{phase}-{time.monotonic_ns()}"
    os.mkfifo(fifo)
    proc = start(root, *args, env={"CRM_TEST_PAUSE_AT": f"{phase}:{fifo}"})
    deadline = time.monotonic() + 60
    fd = None
    while fd is None:
        try:  # succeeds once crm has opened the FIFO to read: it is at the phase
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"crm ended before {phase}: {out}{err}") from None
            assert time.monotonic() < deadline, f"crm never reached {phase}"
            time.sleep(0.01)
    held = [fd]

    def go_on() -> None:
        if held:
            os.close(held.pop())

    try:
        yield proc, go_on
    finally:
        go_on()
        if proc.poll() is None:
            proc.wait(timeout=60)


def opportunity(record_id: str) -> str:
    text = dedent(BASE_FILES[OPP])
    return text.replace("acme-forklifts", record_id).replace("Acme forklifts", record_id)


@pytest.fixture
def many(repo: Path) -> Path:
    """The repository with eight more opportunities."""
    write(
        repo, {f"opportunities/2026/01/deal-{n}.yaml": opportunity(f"deal-{n}") for n in range(8)}
    )
    commit_all(repo, "more deals")
    return repo


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def at_head(root: Path, path: str) -> str:
    return git(root, "show", f"HEAD:{path}")


def git_dir(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--absolute-git-dir").strip())


def leftovers(root: Path) -> list[str]:
    """Everything an interrupted command could leave: locks, index copies, journals,
    temporary files of atomic writes."""
    found = [p.name for p in git_dir(root).iterdir() if ".crm-" in p.name or p.suffix == ".lock"]
    journals = git_dir(root) / "crmfiles" / "ops"
    found += [p.name for p in journals.glob("*")] if journals.is_dir() else []
    found += [p.name for p in root.rglob(".*.tmp") if ".git" not in p.parts]
    return sorted(found)


def consistent(root: Path) -> None:
    """git agrees with itself: fsck passes, the index is HEAD for every tracked file,
    the work tree is clean, nothing is left over."""
    subprocess.run(["git", "fsck", "--no-progress"], cwd=root, check=True, capture_output=True)
    assert git(root, "diff", "--cached", "--name-only", "HEAD") == ""
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert leftovers(root) == []


# --- crm commands at once ------------------------------------------------------------


def test_moves_of_different_records_at_once_all_land(many: Path) -> None:
    """Eight `crm move` processes started together: eight commits, none lost."""
    before = head(many)
    procs = [start(many, "move", f"deal-{n}", "proposal") for n in range(8)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * 8, results
    assert git(many, "rev-list", "--count", f"{before}..HEAD").strip() == "8"
    for n in range(8):
        assert "stage: proposal" in at_head(many, f"opportunities/2026/01/deal-{n}.yaml")
    consistent(many)


def test_a_command_behind_another_moves_its_change_onto_the_new_head(
    many: Path, tmp_path: Path
) -> None:
    """One close has read its record and planned when another commits: it checks again
    against the new HEAD and commits on top of it."""
    with paused(many, tmp_path, "prepare", "close", "deal-1", "--lost", "--reason", "price") as (
        late,
        go_on,
    ):
        first = crm(many, "close", "deal-2", "--lost", "--reason", "no-budget")
        assert first.returncode == 0, first.stderr
        middle = head(many)
        go_on()
        assert late.wait(timeout=60) == 0, late.communicate()
    assert git(many, "rev-parse", "HEAD~1").strip() == middle
    assert "status: lost" in at_head(many, "opportunities/2026/01/deal-1.yaml")
    assert "loss_reason: no-budget" in at_head(many, "opportunities/2026/01/deal-2.yaml")
    consistent(many)


def test_the_same_field_changed_by_two_commands_is_refused(repo: Path, tmp_path: Path) -> None:
    """Two closes of one record with different reasons: the first lands; the second,
    which read the record before, is refused, says why, and writes nothing."""
    with paused(
        repo, tmp_path, "prepare", "close", "acme-forklifts", "--lost", "--reason", "price"
    ) as (
        late,
        go_on,
    ):
        first = crm(repo, "close", "acme-forklifts", "--lost", "--reason", "no-budget")
        assert first.returncode == 0, first.stderr
        landed = head(repo)
        go_on()
        code = late.wait(timeout=60)
        _, err = late.communicate()
    assert code != 0
    assert "changed `loss_reason`" in err and "meanwhile" in err and "nothing was written" in err
    assert head(repo) == landed
    assert "loss_reason: no-budget" in at_head(repo, OPP)
    assert (repo / OPP).read_text() == at_head(repo, OPP)
    consistent(repo)


def test_two_closes_of_one_record_at_once_leave_head_and_file_equal(repo: Path) -> None:
    """The race of the issue, unsynchronised: one lands, the other is refused (by the
    merge, or by the rule that a lost opportunity is not closed again)."""
    procs = [
        start(repo, "close", "acme-forklifts", "--lost", "--reason", reason)
        for reason in ("price", "no-budget")
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes[0] == 0 and codes[1] != 0
    assert (repo / OPP).read_text() == at_head(repo, OPP)
    assert "status: lost" in at_head(repo, OPP)
    consistent(repo)


# --- a git commit racing crm's -------------------------------------------------------


@pytest.mark.parametrize("phase", ["index-locked", "ref"])
def test_a_git_commit_while_crm_publishes_waits_and_cannot_revert_it(
    repo: Path, tmp_path: Path, phase: str
) -> None:
    """crm holds git's index lock from before HEAD moves until the index has the
    change: a `git commit -a` from another terminal cannot commit the old index on
    top (it is refused, as against any git that holds the lock), and tried again
    afterwards it commits the user's change on top of crm's."""
    write(repo, {"partners/acme.yaml": dedent(BASE_FILES["partners/acme.yaml"]) + "country: DE\n"})
    with paused(repo, tmp_path, phase, "move", "acme-forklifts", "proposal") as (proc, go_on):
        racing = subprocess.run(
            ["git", "commit", "-q", "-a", "-m", "the user's"], cwd=repo, capture_output=True
        )
        assert racing.returncode != 0 and b"index.lock" in racing.stderr
        go_on()
        assert proc.wait(timeout=60) == 0, proc.communicate()
    git(repo, "commit", "-q", "-a", "-m", "the user's, again")
    assert "stage: proposal" in at_head(repo, OPP)
    assert "country: DE" in at_head(repo, "partners/acme.yaml")
    assert git(repo, "log", "-1", "--format=%s", "HEAD~1").startswith("crm: move acme-forklifts")
    consistent(repo)


def test_a_commit_made_before_the_publish_is_kept_and_crm_commits_on_top(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, {"partners/acme.yaml": dedent(BASE_FILES["partners/acme.yaml"]) + "country: DE\n"})
    with paused(repo, tmp_path, "written", "move", "acme-forklifts", "proposal") as (proc, go_on):
        git(repo, "commit", "-q", "-m", "the user's", "--", "partners/acme.yaml")
        users = head(repo)
        go_on()
        assert proc.wait(timeout=60) == 0, proc.communicate()
    assert git(repo, "rev-parse", "HEAD~1").strip() == users
    assert "stage: proposal" in at_head(repo, OPP)
    consistent(repo)


# --- interrupts ----------------------------------------------------------------------


@pytest.mark.parametrize("phase", PHASES_BEFORE)
def test_ctrl_c_before_the_commit_leaves_everything_as_it_was(
    repo: Path, tmp_path: Path, phase: str
) -> None:
    before = (head(repo), (repo / OPP).read_bytes(), git(repo, "ls-files", "-s"))
    with paused(repo, tmp_path, phase, "move", "acme-forklifts", "proposal") as (proc, go_on):
        proc.send_signal(signal.SIGINT)
        go_on()
        code = proc.wait(timeout=60)
        _, err = proc.communicate()
    assert code == 130 and "crm: interrupted" in err
    assert (head(repo), (repo / OPP).read_bytes(), git(repo, "ls-files", "-s")) == before
    assert not (repo / "tasks").exists()
    consistent(repo)


@pytest.mark.parametrize("phase", PHASES_AFTER)
def test_ctrl_c_after_the_commit_finishes_and_says_so(
    repo: Path, tmp_path: Path, phase: str
) -> None:
    before = head(repo)
    with paused(repo, tmp_path, phase, "move", "acme-forklifts", "proposal") as (proc, go_on):
        proc.send_signal(signal.SIGINT)
        go_on()
        code = proc.wait(timeout=60)
        out, err = proc.communicate()
    assert code == 0, err
    assert "committed" in out and "interrupted after the commit was made" in out
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert (repo / OPP).read_text() == at_head(repo, OPP)
    assert "stage: proposal" in at_head(repo, OPP)
    consistent(repo)


def test_an_undo_puts_back_only_what_this_process_wrote(repo: Path, tmp_path: Path) -> None:
    """Interrupted after writing, crm puts its file back only if it still holds what
    crm wrote: a version written meanwhile by someone else stays."""
    theirs = (repo / OPP).read_text().replace("amount: 30000", "amount: 31000")
    with paused(repo, tmp_path, "written", "move", "acme-forklifts", "proposal") as (proc, go_on):
        (repo / OPP).write_text(theirs)
        proc.send_signal(signal.SIGINT)
        go_on()
        assert proc.wait(timeout=60) == 130
    assert (repo / OPP).read_text() == theirs


# --- kills: crash points -------------------------------------------------------------


ALL_PHASES = ["blob", "tree", "commit-object", *PHASES_BEFORE, *PHASES_AFTER]


@pytest.mark.parametrize("phase", ALL_PHASES)
def test_a_kill_at_any_phase_leaves_before_or_after_and_the_next_command_repairs(
    many: Path, tmp_path: Path, phase: str
) -> None:
    before = head(many)
    with paused(many, tmp_path, phase, "move", "acme-forklifts", "proposal") as (proc, _):
        proc.kill()
        proc.wait(timeout=60)
    moved = head(many) != before
    assert moved == (phase in PHASES_AFTER)
    if moved:
        assert git(many, "log", "-1", "--format=%s").startswith("crm: move acme-forklifts")
    # the next command finishes or undoes the killed one, then does its own work
    after = crm(many, "move", "deal-0", "proposal")
    assert after.returncode == 0, after.stderr
    if phase in ("written", "index-locked", "ref"):
        assert ("undid" if not moved else "finished") in after.stdout
    stage = "proposal" if moved else "qualify"
    assert f"stage: {stage}" in at_head(many, OPP)
    assert (many / OPP).read_text() == at_head(many, OPP)
    consistent(many)
    if not moved:  # and the killed command, run again, works
        again = crm(many, "move", "acme-forklifts", "proposal")
        assert again.returncode == 0, again.stderr
        consistent(many)


# --- crm doctor ----------------------------------------------------------------------


def test_doctor_explains_then_repairs_what_others_left(repo: Path) -> None:
    assert crm(repo, "doctor").returncode == 0
    gd = git_dir(repo)
    old = time.time() - 3600
    (gd / "index.lock").write_bytes(b"")
    os.utime(gd / "index.lock", (old, old))
    (gd / "index.crm-4999999").write_bytes(b"a copy")  # (no such process)
    temp = repo / "opportunities/2026/01/.acme-forklifts.yaml.x1y2z3.tmp"
    temp.write_text("half")
    os.utime(temp, (old, old))
    told = crm(repo, "doctor")
    assert told.returncode == 1
    assert "index.lock" in told.stdout and "index.crm-4999999" in told.stdout
    assert ".acme-forklifts.yaml.x1y2z3.tmp" in told.stdout
    assert "3 found; `crm doctor --fix` repairs them" in told.stdout
    assert (gd / "index.lock").exists()  # explained, not touched
    fixed = crm(repo, "doctor", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert leftovers(repo) == []
    assert crm(repo, "doctor").stdout.startswith("nothing left over")
    assert crm(repo, "move", "acme-forklifts", "proposal").returncode == 0


def test_doctor_leaves_a_fresh_index_lock_alone(repo: Path) -> None:
    """A lock younger than --older-than may be a git at work."""
    (git_dir(repo) / "index.lock").write_bytes(b"")
    assert crm(repo, "doctor", "--fix").returncode == 0
    assert (git_dir(repo) / "index.lock").exists()
    (git_dir(repo) / "index.lock").unlink()


# --- git failing at a phase ----------------------------------------------------------


@pytest.mark.parametrize("locked", ["index.lock", "refs/heads/main.lock"])
def test_git_failing_before_head_moves_leaves_everything_as_it_was(repo: Path, locked: str) -> None:
    """Another git holds the index (publish cannot begin) or the branch (the ref update
    fails): the command says so, exits non-zero, and nothing of it is left."""
    before = (head(repo), (repo / OPP).read_bytes(), git(repo, "ls-files", "-s"))
    lock = git_dir(repo) / locked
    lock.write_bytes(b"")
    try:
        failed = crm(repo, "move", "acme-forklifts", "proposal")
    finally:
        lock.unlink()
    assert failed.returncode != 0
    assert locked.rpartition("/")[2] in failed.stderr and "nothing was committed" in failed.stderr
    assert (head(repo), (repo / OPP).read_bytes(), git(repo, "ls-files", "-s")) == before
    assert not (repo / "tasks").exists()
    consistent(repo)


def test_a_git_commit_a_that_swept_crms_written_file_is_not_reverted(
    repo: Path, tmp_path: Path
) -> None:
    """`git commit -a` between crm's write and its publish commits crm's file as crm
    wrote it: crm then finds its change made, leaves that file alone and says so."""
    with paused(repo, tmp_path, "written", "move", "acme-forklifts", "proposal") as (proc, go_on):
        git(repo, "commit", "-q", "-a", "-m", "the user's, with everything")
        users = head(repo)
        go_on()
        code = proc.wait(timeout=60)
        _, err = proc.communicate()
    assert code != 0 and "made this same change meanwhile" in err
    assert head(repo) == users
    assert "stage: proposal" in at_head(repo, OPP)
    consistent(repo)


def test_git_failing_to_store_a_file_leaves_everything_as_it_was(repo: Path) -> None:
    """A clean filter that fails (git cannot store the blob): refused with git's
    words, nothing written, nothing left."""
    write(repo, {".gitattributes": "*.yaml filter=broken\n"})
    commit_all(repo, "a filter")
    git(repo, "config", "filter.broken.clean", "false")
    git(repo, "config", "filter.broken.required", "true")
    before = (head(repo), (repo / OPP).read_bytes(), git(repo, "ls-files", "-s"))
    failed = crm(repo, "move", "acme-forklifts", "proposal")
    assert failed.returncode != 0 and "crm: error" in failed.stderr
    assert (head(repo), (repo / OPP).read_bytes(), git(repo, "ls-files", "-s")) == before
    git(repo, "config", "--unset", "filter.broken.required")
    consistent(repo)
