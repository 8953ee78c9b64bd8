"""`crm completion bash|zsh|fish`: the scripts load in the real shells, and TAB offers
what the repository holds (record ids, the stages of an opportunity's kind, kinds,
people, loss reasons).

bash is driven as readline drives it: the generated script is sourced, COMP_WORDS,
COMP_CWORD, COMP_LINE and COMP_POINT are set, and the completion function fills
COMPREPLY. zsh runs the script's zsh branch with `_describe` printing what it is given;
fish answers `complete -C`. Each shell is skipped, with the reason, where it is not
installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import commit_all, write

BIN = str(Path(sys.executable).parent)  # where `crm` is installed, beside this python

DRIVE_BASH = r"""
source "$1"
line="$2"
COMP_LINE="$line"
COMP_POINT=${#line}
read -ra COMP_WORDS <<< "$line"
if [[ "$line" == *" " ]]; then COMP_WORDS+=(""); fi
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_TYPE=9
_python_argcomplete crm
printf '%s\n' "${COMPREPLY[@]}"
"""


def env() -> dict[str, str]:
    return {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}


def script(shell: str, where: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "crmfiles", "completion", shell],
        capture_output=True,
        text=True,
        check=True,
    )
    path = where / f"crm.{shell}"
    path.write_text(proc.stdout)
    return path


def need(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        pytest.skip(f"{shell} is not installed here (apt-get install {shell})")
    return found


def bash(line: str, cwd: Path, tmp_path: Path) -> list[str]:
    """What TAB offers bash at the end of ``line``."""
    need("bash")
    proc = subprocess.run(
        ["bash", "--norc", "-c", DRIVE_BASH, "drive", str(script("bash", tmp_path)), line],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [c.strip() for c in proc.stdout.splitlines() if c.strip()]


@pytest.fixture
def crm_repo(repo: Path) -> Path:
    write(
        repo,
        {
            "opportunities/2026/02/acme-crane.yaml": """\
                id: acme-crane
                name: Acme crane
                kind: custom-deal
                stage: qualify
                status: in_progress
                partner: acme
                responsible: bob
                opened: 2026-02-01
                """,
            "leads/2026/03/hafen-cranes.yaml": """\
                id: hafen-cranes
                name: Cranes for the port
                status: new
                responsible: bob
                created: 2026-03-02
                """,
        },
    )
    commit_all(repo, "more records")
    return repo


def test_commands_and_options(crm_repo: Path, tmp_path: Path) -> None:
    assert bash("crm mo", crm_repo, tmp_path) == ["move"]
    assert "completion" in bash("crm ", crm_repo, tmp_path)
    assert "--probability" in bash("crm move --", crm_repo, tmp_path)
    assert bash("crm completion ", crm_repo, tmp_path) == ["bash", "zsh", "fish"]


def test_record_ids_come_from_the_file_names(crm_repo: Path, tmp_path: Path) -> None:
    assert bash("crm move acme", crm_repo, tmp_path) == ["acme-crane", "acme-forklifts"]
    assert bash("crm history acme-f", crm_repo, tmp_path) == ["acme-forklifts"]
    assert bash("crm qualify ", crm_repo, tmp_path) == ["hafen-cranes"]
    # show takes any record, and TYPE/ID once a type is typed
    assert "jane" in bash("crm show ", crm_repo, tmp_path)
    assert bash("crm show contacts/", crm_repo, tmp_path) == ["contacts/jane"]
    # a file that is not committed yet is a record too
    write(crm_repo, {"partners/acme-north.yaml": "id: acme-north\nname: Acme North\n"})
    assert bash("crm show acme", crm_repo, tmp_path) == [
        "acme",
        "acme-crane",
        "acme-forklifts",
        "acme-north",
    ]


def test_stages_are_those_of_the_opportunitys_kind(crm_repo: Path, tmp_path: Path) -> None:
    standard = ["qualify", "proposal", "negotiate", "commit"]
    assert bash("crm move acme-forklifts ", crm_repo, tmp_path) == standard
    assert bash("crm move acme-crane ", crm_repo, tmp_path) == ["qualify", "negotiate"]
    assert bash("crm move nothing-like-it ", crm_repo, tmp_path) == standard  # every stage
    assert bash("crm list opportunities --stage n", crm_repo, tmp_path) == ["negotiate"]


def test_catalog_values(crm_repo: Path, tmp_path: Path) -> None:
    assert bash("crm report --kind ", crm_repo, tmp_path) == [
        "standard-sale",
        "custom-deal",
        "hours",
        "old-rental",
    ]
    people = ["alice", "bob", "mia"]
    assert bash("crm list opportunities --responsible ", crm_repo, tmp_path) == people
    assert bash("crm new task --assignee b", crm_repo, tmp_path) == ["bob"]
    assert bash("crm close acme-crane --lost --reason ", crm_repo, tmp_path) == [
        "price",
        "no-budget",
    ]
    assert bash("crm list opportunities --partner ", crm_repo, tmp_path) == ["acme", "rival"]
    assert bash("crm list opportunities --status ", crm_repo, tmp_path) == [
        "in_progress",
        "won",
        "lost",
    ]


def test_people_kept_where_crm_yaml_says(crm_repo: Path, tmp_path: Path) -> None:
    people = (crm_repo / "catalogs/people.yaml").read_text()
    (crm_repo / "team.yaml").write_text(people.replace("id: mia", "id: mira"))
    with (crm_repo / "crm.yaml").open("a") as config:
        config.write("people: team.yaml\n")
    assert bash("crm list opportunities --responsible m", crm_repo, tmp_path) == ["mira"]


def test_the_repository_named_by_repo_or_none(crm_repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert bash("crm move acme-f", elsewhere, tmp_path) == []  # quietly: no repository
    line = f"crm move --repo {crm_repo} acme-f"
    assert bash(line, elsewhere, tmp_path) == ["acme-forklifts"]


def test_a_broken_catalog_completes_nothing_quietly(crm_repo: Path, tmp_path: Path) -> None:
    (crm_repo / "catalogs/kinds.yaml").write_text("- id: [unclosed\n")
    assert bash("crm report --kind ", crm_repo, tmp_path) == []


def test_zsh_loads_the_script_and_completes(crm_repo: Path, tmp_path: Path) -> None:
    zsh = need("zsh")
    path = script("zsh", tmp_path)
    check = subprocess.run([zsh, "-n", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    # the script's zsh branch, with `_describe` printing what it would offer
    drive = (
        "autoload -U compinit; compinit -u -D; source $1; "
        '_describe() { print -rl -- "${(@P)2}"; }; '
        'BUFFER="crm move acme-crane "; CURSOR=${#BUFFER}; '
        'words=(crm move acme-crane ""); _python_argcomplete'
    )
    proc = subprocess.run(
        [zsh, "-f", "-c", drive, "drive", str(path)],
        cwd=crm_repo,
        capture_output=True,
        text=True,
        env={**env(), "HOME": str(tmp_path)},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["qualify:Qualify", "negotiate:Negotiate"]


def test_fish_loads_the_script_and_completes(crm_repo: Path, tmp_path: Path) -> None:
    fish = need("fish")
    path = script("fish", tmp_path)
    check = subprocess.run([fish, "--no-execute", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.run(
        [fish, "--no-config", "-c", f"source {path}; complete -C 'crm report --kind s'"],
        cwd=crm_repo,
        capture_output=True,
        text=True,
        env={**env(), "HOME": str(tmp_path)},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["standard-sale\tStandard sale"]
