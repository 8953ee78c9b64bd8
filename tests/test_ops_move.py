"""``crm move``: the stage line (and the probability line when the default applies),
the stage's tasks, one commit of exactly those files; refusals leave everything as it
was.  Real git repositories throughout (the ``repo`` fixture)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main
from crmfiles.errors import CrmError
from crmfiles.ops import Refused, move

OPP = "opportunities/2026/01/acme-forklifts.yaml"
BASE = dedent(BASE_FILES[OPP])
TODAY = dt.date.today()
MONTH = f"{TODAY.year:04d}/{TODAY.month:02d}"


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def state(root: Path) -> tuple[dict[str, bytes], str, str, str, list[str]]:
    """Every file of the work tree, the index, HEAD, the refs and git's folder's own
    top-level files (no index copy or lock left behind): what a refused operation must
    leave exactly as it was."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
    refs = git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    gitdir = Path(git(root, "rev-parse", "--absolute-git-dir").strip())
    own = sorted(p.name for p in gitdir.iterdir() if p.is_file())
    return files, git(root, "ls-files", "-s"), head(root), refs, own


def numstat(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "show", "--numstat", "--format=", rev).splitlines()


def files_in(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "show", "--name-only", "--format=", rev).split()


def diff_lines(root: Path, rev: str = "HEAD") -> list[str]:
    out = git(root, "show", "--format=", "--unified=0", rev, "--", OPP)
    return [
        line
        for line in out.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_move_is_a_commit_of_the_stage_and_probability_lines(repo: Path) -> None:
    before = head(repo)
    result = move(repo, "acme-forklifts", "proposal")
    assert diff_lines(repo) == [
        "-stage: qualify",
        "+stage: proposal",
        "-probability: 10",
        "+probability: 40",
    ]
    assert files_in(repo) == [OPP]
    assert git(repo, "log", "-1", "--format=%P").strip() == before
    assert git(repo, "log", "-1", "--format=%B") == (
        "crm: move acme-forklifts qualify -> proposal\n\n"
        f"Crm-Record: {OPP}\n"
        "Crm-Stage-From: qualify\n"
        "Crm-Stage-To: proposal\n\n"
    )
    assert git(repo, "log", "-1", "--format=%ae").strip() == "alice@example.com"
    assert result.commit == head(repo)
    assert result.paths == [OPP] and result.branch is None and result.created == []
    assert result.message == (
        f"moved acme-forklifts qualify -> proposal (probability 40), committed {head(repo)[:7]}"
    )
    assert (repo / OPP).read_text().startswith("# a comment that must survive every edit\n")
    assert git(repo, "status", "--porcelain") == ""


def test_probability_set_by_hand_is_kept_and_the_move_is_one_line(repo: Path) -> None:
    text = BASE.replace("probability: 10", "probability: 25")
    write(repo, {OPP: text})
    commit_all(repo, "alice thinks 25")
    result = move(repo, "acme-forklifts", "proposal")
    assert numstat(repo) == [f"1\t1\t{OPP}"]
    assert diff_lines(repo) == ["-stage: qualify", "+stage: proposal"]
    assert "probability 25, kept: set by hand" in result.message


def test_a_stage_moved_by_hand_leaves_a_default_that_the_next_move_replaces(
    repo: Path,
) -> None:
    # an edit merged from a pull request: the stage moved, the probability left at the
    # old stage's default; nobody set it by hand
    write(repo, {OPP: BASE.replace("stage: qualify", "stage: proposal")})
    commit_all(repo, "moved by hand")
    result = move(repo, "acme-forklifts", "negotiate")
    assert diff_lines(repo) == [
        "-stage: proposal",
        "+stage: negotiate",
        "-probability: 10",
        "+probability: 70",
    ]
    assert "kept" not in result.message


def test_a_probability_set_by_hand_after_a_hand_move_is_kept(repo: Path) -> None:
    text = BASE.replace("stage: qualify", "stage: proposal")
    write(repo, {OPP: text.replace("probability: 10", "probability: 55")})
    commit_all(repo, "moved by hand, and 55 by feel")
    result = move(repo, "acme-forklifts", "negotiate")
    assert "probability 55, kept: set by hand" in result.message


def test_probability_given_wins(repo: Path) -> None:
    move(repo, "acme-forklifts", "proposal", probability=55)
    assert diff_lines(repo)[-1] == "+probability: 55"


def test_a_probability_changed_in_the_work_tree_counts_as_set_by_hand(repo: Path) -> None:
    (repo / OPP).write_text(BASE.replace("probability: 10", "probability: 33"))
    result = move(repo, "acme-forklifts", "proposal", commit=False)
    assert "probability 33, kept: set by hand" in result.message
    assert "probability: 33" in (repo / OPP).read_text()


def test_the_stage_tasks_come_along_in_the_same_commit(repo: Path) -> None:
    stages = (
        (repo / "catalogs/stages.yaml")
        .read_text()
        .replace(
            "  probability: 40\n",
            "  probability: 40\n"
            "  tasks:\n"
            "    - title: Send the proposal\n"
            "      instructions: Price it and send it.\n"
            "      due_days: 5\n"
            "      importance: high\n"
            "    - title: Call back\n",
        )
    )
    write(repo, {"catalogs/stages.yaml": stages})
    commit_all(repo, "proposal tasks")
    result = move(repo, "acme-forklifts", "proposal")
    first = f"tasks/{MONTH}/acme-forklifts-send-the-proposal.yaml"
    second = f"tasks/{MONTH}/acme-forklifts-call-back.yaml"
    assert sorted(files_in(repo)) == sorted([OPP, first, second])
    assert result.created == sorted([first, second])
    assert (repo / first).read_text() == (
        "# yaml-language-server: $schema=../../../.crm/schema/task.schema.json\n"
        "id: acme-forklifts-send-the-proposal\n"
        "title: Send the proposal\n"
        "assignee: alice\n"
        f"due: {(TODAY + dt.timedelta(days=5)).isoformat()}\n"
        "importance: high\n"
        "instructions: Price it and send it.\n"
        "subject:\n"
        "  type: opportunity\n"
        "  id: acme-forklifts\n"
        f"created: {TODAY.isoformat()}\n"
    )
    assert "due:" not in (repo / second).read_text()
    assert f"created task {first}: Send the proposal" in result.message
    assert git(repo, "status", "--porcelain") == ""
    # a second move into a stage with the same titles gets ids of its own
    assert main(["validate"]) == 0


def test_refused_move_leaves_files_index_and_head_alone(repo: Path) -> None:
    before = state(repo)
    with pytest.raises(Refused) as refused:
        move(repo, "acme-forklifts", "negotiate")
    assert [(d.rule, d.path, d.line) for d in refused.value.errors] == [("stage-skip", OPP, 5)]
    assert state(repo) == before


def test_stage_requirements_refuse(repo: Path) -> None:
    write(repo, {OPP: BASE.replace("amount: 30000\n", "")})
    commit_all(repo, "no amount yet")
    before = state(repo)
    with pytest.raises(Refused) as refused:
        move(repo, "acme-forklifts", "proposal")
    assert [d.rule for d in refused.value.errors] == ["stage-requirements"]
    assert state(repo) == before


@pytest.mark.parametrize(
    ("record", "stage", "message"),
    [
        ("nobody", "proposal", "no record with id 'nobody'"),
        ("acme-forklifts", "propsal", "unknown stage 'propsal'"),
        ("acme-forklifts", "qualify", "already in stage 'qualify'"),
    ],
)
def test_bad_input_is_a_clear_error(repo: Path, record: str, stage: str, message: str) -> None:
    before = state(repo)
    with pytest.raises(CrmError, match=message):
        move(repo, record, stage)
    assert state(repo) == before


def test_a_stage_of_another_kind(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stages = (
        repo / "catalogs/stages.yaml"
    ).read_text() + "- id: shipped\n  name: Shipped\n  probability: 95\n"
    write(repo, {"catalogs/stages.yaml": stages})
    commit_all(repo, "a stage no kind uses")
    assert main(["move", "acme-forklifts", "shipped"]) == 2
    err = capsys.readouterr().err
    assert "'shipped' is not a stage of kind 'standard-sale'" in err
    assert "qualify, proposal, negotiate, commit" in err


def test_a_record_with_uncommitted_changes_is_refused_unless_no_commit(repo: Path) -> None:
    (repo / OPP).write_text(BASE.replace("amount: 30000", "amount: 31000"))
    before = state(repo)
    with pytest.raises(CrmError, match="has uncommitted changes"):
        move(repo, "acme-forklifts", "proposal")
    assert state(repo) == before
    result = move(repo, "acme-forklifts", "proposal", commit=False)
    assert result.commit is None
    text = (repo / OPP).read_text()
    assert "amount: 31000" in text and "stage: proposal" in text


def test_staged_changes_of_a_record_are_refused(repo: Path) -> None:
    (repo / OPP).write_text(BASE.replace("amount: 30000", "amount: 31000"))
    git(repo, "add", OPP)
    with pytest.raises(CrmError, match="has staged changes"):
        move(repo, "acme-forklifts", "proposal")


def test_the_users_other_work_survives_and_stays_out_of_the_commit(repo: Path) -> None:
    write(
        repo,
        {
            "partners/acme.yaml": dedent(BASE_FILES["partners/acme.yaml"]) + "country: DE\n",
            "contacts/jane.yaml": dedent(BASE_FILES["contacts/jane.yaml"]) + "position: Buyer\n",
            "notes.txt": "scratch\n",
        },
    )
    git(repo, "add", "partners/acme.yaml")  # staged; contacts/jane.yaml only modified
    status = git(repo, "status", "--porcelain")
    staged = git(repo, "diff", "--cached")
    move(repo, "acme-forklifts", "proposal")
    assert files_in(repo) == [OPP]
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "diff", "--cached") == staged
    assert (repo / "contacts/jane.yaml").read_text().endswith("position: Buyer\n")
    assert (repo / "notes.txt").read_text() == "scratch\n"


def test_no_commit_leaves_the_change_in_the_work_tree(repo: Path) -> None:
    before = head(repo)
    result = move(repo, "acme-forklifts", "proposal", commit=False)
    assert head(repo) == before and result.commit is None
    assert git(repo, "status", "--porcelain") == f" M {OPP}\n"
    assert result.message.endswith("not committed (--no-commit)")


def test_branch_commits_elsewhere_and_touches_nothing_here(repo: Path) -> None:
    before = state(repo)
    result = move(repo, "acme-forklifts", "proposal", branch=True)
    assert result.branch == "crm/acme-forklifts-proposal"
    tip = git(repo, "rev-parse", "crm/acme-forklifts-proposal").strip()
    assert result.commit == tip
    assert git(repo, "log", "-1", "--format=%P", tip).strip() == before[2]
    assert files_in(repo, tip) == [OPP]
    assert git(repo, "show", f"{tip}:{OPP}").count("stage: proposal") == 1
    assert state(repo)[:3] == before[:3]  # files, index, HEAD: only a new ref
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert "your work tree, index and HEAD are unchanged" in result.message
    assert "git push" not in result.message  # no remote to push to
    git(repo, "remote", "add", "origin", str(repo))
    again = move(repo, "acme-forklifts", "proposal", branch=True)
    assert again.branch == "crm/acme-forklifts-proposal-2"
    assert again.message.endswith(
        "\n  for a pull request: git push -u origin crm/acme-forklifts-proposal-2"
    )


def test_branch_needs_a_branch_to_start_from(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(CrmError, match="HEAD is detached"):
        move(repo, "acme-forklifts", "proposal", branch=True)


def test_no_commit_and_branch_do_not_go_together(repo: Path) -> None:
    with pytest.raises(CrmError, match="--no-commit"):
        move(repo, "acme-forklifts", "proposal", commit=False, branch=True)


def test_a_move_in_the_middle_of_a_merge_is_refused(repo: Path) -> None:
    (Path(git(repo, "rev-parse", "--absolute-git-dir").strip()) / "MERGE_HEAD").write_text(
        head(repo) + "\n"
    )
    with pytest.raises(CrmError, match="in the middle of a merge"):
        move(repo, "acme-forklifts", "proposal")


def test_without_a_git_identity_nothing_is_written(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(repo.parent))
    git(repo, "config", "user.useConfigOnly", "true")
    before = state(repo)
    with pytest.raises(CrmError, match="git cannot make a commit here"):
        move(repo, "acme-forklifts", "proposal")
    assert state(repo) == before


def test_cli_says_what_it_did(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["move", "acme-forklifts", "proposal"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"moved acme-forklifts qualify -> proposal (probability 40), committed {head(repo)[:7]}\n"
    )


def test_cli_refusal_prints_lint_diagnostics(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["move", "acme-forklifts", "negotiate"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(
        f"{OPP}:5:8: error: stage moved from 'qualify' to 'negotiate', skipping 'proposal' "
        "[stage-skip]\n"
    )
    assert "hint: move to 'proposal' first" in captured.out
    assert "crm: refused: crm move acme-forklifts breaks 1 rule; nothing was written" in (
        captured.err
    )


def test_cli_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["move", "acme-forklifts", "proposal", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["commit"] == head(repo) and out["paths"] == [OPP]
    assert main(["move", "acme-forklifts", "commit", "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["diagnostics"][0]["rule"] == "stage-skip"


def test_a_record_is_found_wherever_it_lies_and_an_id_held_twice_is_said(repo: Path) -> None:
    from crmfiles.ops.workspace import Workspace

    misplaced = "opportunities/old/2019/acme-forklifts-2.yaml"  # not where the layout puts it
    second = BASE.replace("acme-forklifts", "acme-forklifts-2").replace("forklifts\n", "cranes\n")
    write(repo, {misplaced: second})
    commit_all(repo, "a record placed by hand")
    ws = Workspace(repo)
    assert ws.paths_of(("opportunities",), "acme-forklifts") == [("opportunities", OPP)]
    assert ws.paths_of(("opportunities",), "acme-forklifts-2") == [("opportunities", misplaced)]
    assert ws.paths_of(("partners",), "acme") == [("partners", "partners/acme.yaml")]
    assert ws.paths_of(("opportunities",), "../partners/acme") == []  # hostile ids find nothing
    move(repo, "acme-forklifts-2", "proposal")  # and it moves
    write(
        repo, {"opportunities/2026/02/acme-forklifts.yaml": BASE.replace("forklifts\n", "vans\n")}
    )
    commit_all(repo, "the same id again, another month")
    with pytest.raises(CrmError, match="'acme-forklifts' names several records"):
        move(repo, "acme-forklifts", "proposal")


def test_the_command_line_answers_first_and_its_cache_follows(repo: Path) -> None:
    """From the command line the check's cache is written by a detached process after
    the answer (crmfiles.background): the output is all there, git is clean, and the
    snapshot reaches the new commit's tree."""
    import subprocess
    import sys
    import time

    from crmfiles.cache import Cache

    def crm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crmfiles", *args, "--repo", str(repo)],
            capture_output=True,
            text=True,
            check=False,
        )

    def snapshot_tree(timeout: float = 20) -> str | None:
        cache = Cache.for_repo(repo)
        assert cache is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            read = cache._read()
            if read is not None and read[1].tree == git(repo, "rev-parse", "HEAD^{tree}").strip():
                return read[1].tree
            time.sleep(0.1)
        return None

    assert crm("validate").returncode == 0  # a cold run: its cache is written after
    assert snapshot_tree() is not None
    moved = crm("move", "acme-forklifts", "proposal")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("moved acme-forklifts qualify -> proposal")
    assert git(repo, "status", "--porcelain") == ""
    assert snapshot_tree() is not None, "the snapshot never reached the commit's tree"


def test_a_move_does_not_load_pyyaml(repo: Path) -> None:
    """PyYAML is for files with findings that the lines cannot place, formatting and
    structural edits: a plain stage move never loads it (a tenth of its start-up)."""
    import subprocess
    import sys

    code = (
        "import sys; from crmfiles.cli.main import main; "
        "code = main(['move', 'acme-forklifts', 'proposal', '--repo', sys.argv[1]]); "
        "print(code, 'yaml' in sys.modules, 'yaml.reader' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(repo)], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 False False", done.stderr
    assert git(repo, "show", "--format=%s", "-s", "HEAD").startswith("crm: move acme-forklifts")
