"""``crm list opportunities`` works the list out from the facts cache while git looks at
the work tree (``Repository.provisional_facts``), and again when git says an
opportunity, a partner or a view changed since the cache's tree: the list is always
that of a cold read, whatever changed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from test_list_table import environment, example  # noqa: F401 - the example company fixture

CACHE = Path(".git/crmfiles/facts-v2.marshal")


def listing(repo: Path, *args: str, cold: bool = False) -> subprocess.CompletedProcess[str]:
    return crm(repo, "list", "opportunities", *args, cold=cold)


def crm(repo: Path, *args: str, cold: bool = False) -> subprocess.CompletedProcess[str]:
    env = environment(repo.parent, None)
    if cold:
        env["CRM_NO_CACHE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )


def warm_copy(example: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A copy of the example company whose facts cache holds its tree."""
    repo = tmp_path / "crm"
    shutil.copytree(example, repo)
    (tmp_path / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    # the copies' stat data is not the index's: git would call every file edited
    subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=repo, check=True)
    first = listing(repo, "--no-view")
    assert first.returncode == 0, first.stderr
    assert (repo / CACHE).is_file()
    return repo


def assert_as_cold(repo: Path, *args: str, report: str | None = None) -> str:
    """The answer, the same as with no cache (and not an error)."""
    if report is not None:
        args = ("report", report, "--format", "json", *args)
        warm, cold = crm(repo, *args), crm(repo, *args, cold=True)
    else:
        warm, cold = listing(repo, *args), listing(repo, *args, cold=True)
    said = (warm.returncode, warm.stdout, warm.stderr)
    assert said == (cold.returncode, cold.stdout, cold.stderr)
    assert warm.returncode == 0, warm.stderr
    return warm.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_a_warm_list_of_an_unchanged_work_tree_is_the_cold_one(
    example: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    repo = warm_copy(example, tmp_path)
    for args in [(), ("--format", "json"), ("--format", "csv", "--sort=-amount")]:
        assert "brauerei-falkenstein-rental-2025" in assert_as_cold(repo, "--no-view", *args)
    assert "(view open-pipeline)" in assert_as_cold(repo)


def test_edits_since_the_cache_are_listed(example: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = warm_copy(example, tmp_path)
    found = sorted((repo / "opportunities").rglob("*.yaml"))
    edited = next(p for p in found if p.stem == "brauerei-falkenstein-rental-2025")
    edit(edited, "name: Brauerei Falkenstein – harvest", "name: Falkenstein – edited harvest")
    added = edited.with_name("falkenstein-copy.yaml")
    added.write_text(edited.read_text("utf-8").replace(edited.stem, "falkenstein-copy"), "utf-8")
    gone = next(p for p in found if p != edited)
    gone.unlink()
    out = assert_as_cold(repo, "--no-view", "--format", "csv", "--columns", "id,name")
    assert "brauerei-falkenstein-rental-2025,Falkenstein – edited harvest season" in out
    assert "\nfalkenstein-copy," in out
    assert f"\n{gone.stem}," not in out


def test_a_view_made_since_the_cache_is_found(example: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = warm_copy(example, tmp_path)
    (repo / "views" / "mine.yaml").write_text(
        "id: mine\nname: Mine\ntype: opportunities\ncolumns: [name, stage]\n", "utf-8"
    )
    out = assert_as_cold(repo, "--view", "mine")
    assert out.splitlines()[0].split() == ["id", "name", "stage"]
    assert "(view mine)" in out


def test_a_commit_since_the_cache_is_listed(example: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = warm_copy(example, tmp_path)
    edited = next(
        p
        for p in (repo / "opportunities").rglob("*.yaml")
        if p.stem == "brauerei-falkenstein-rental-2025"
    )
    edit(edited, "name: Brauerei Falkenstein – harvest", "name: Committed harvest")
    env = environment(tmp_path, None)
    for args in (["add", "-A"], ["commit", "-qm", "renamed"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    out = assert_as_cold(repo, "--no-view", "--format", "csv", "--columns", "id,name")
    assert "brauerei-falkenstein-rental-2025,Committed harvest season rental 2025" in out


def test_reports_of_the_facts_see_edits_since_the_cache(
    example: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    repo = warm_copy(example, tmp_path)
    names = ("winloss", "forecast", "funnel")
    before = {name: assert_as_cold(repo, "--from", "2020-01-01", report=name) for name in names}
    for path in (repo / "opportunities").rglob("*.yaml"):
        text = path.read_text("utf-8")
        if "status: in_progress" in text:  # every open deal won, today
            done = text.replace("status: in_progress", "status: won\nclosed: true", 1)
            path.write_text(done.replace("probability:", "probability: 100\nold:", 1), "utf-8")
    for name in names:
        after = assert_as_cold(repo, "--from", "2020-01-01", report=name)
        assert after != before[name], name
