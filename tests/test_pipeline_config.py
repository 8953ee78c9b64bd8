"""The pre-commit and CI templates are valid for their formats, and what they run exists.

Every check runs the real tool: pre-commit validates the hook manifest and the
config (and runs the config's hooks in a scratch repository), check-jsonschema
validates the workflows against the schemas it vendors, with the network cut off.
Each validator also gets a broken copy, so these tests can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from pipeline_templates import crm_words as _crm_words
from pipeline_templates import template_commands as _template_commands
from pre_commit import clientlib

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
TEMPLATES = ROOT / "pipeline-config"
PRE_COMMIT_CONFIG = TEMPLATES / "pre-commit-config.yaml"
GITHUB_WORKFLOW = TEMPLATES / "github-workflow.yml"
GITLAB_CI = TEMPLATES / "gitlab-ci.yml"
README = TEMPLATES / "README.md"

PROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
REMOTE_URL = "https://github.com/crmfiles/crmfiles"
HOOK_IDS = ["crm-lint", "crm-fmt", "crm-lint-all"]
INSTALL_FROM_GIT = '"crmfiles @ git+${CRMFILES_REPO}@${CRMFILES_REF}"'
ENTRIES = {"crm-lint": "crm lint --staged", "crm-fmt": "crm fmt", "crm-lint-all": "crm validate"}

# Runs check-jsonschema in a process whose sockets cannot connect: any attempt to
# reach the network ends the process with status 97 instead of being retried,
# cached or swallowed.
OFFLINE_EXIT = 97
_OFFLINE_CHECK_JSONSCHEMA = f"""
import os, runpy, socket, sys

def _no_network(*args, **kwargs):
    os.write(2, b"network access attempted\\n")
    os._exit({OFFLINE_EXIT})

socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network
socket.getaddrinfo = _no_network
sys.argv[0] = "check-jsonschema"
runpy.run_module("check_jsonschema", run_name="__main__", alter_sys=True)
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tool_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose caches and pre-commit store live in tmp_path."""
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PRE_COMMIT_COLOR"] = "never"
    env["NO_COLOR"] = "1"
    return env


def pre_commit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "pre_commit", *args], cwd, env)


def check_jsonschema(
    schema: str, path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    args = ["--builtin-schema", schema, str(path)]
    return _run([sys.executable, "-c", _OFFLINE_CHECK_JSONSCHEMA, *args], path.parent, env)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def broken_copy(src: Path, dest_dir: Path, old: str, new: str) -> Path:
    text = src.read_text()
    assert old in text, f"{src.name} no longer contains {old!r}; update the negative test"
    dest = dest_dir / src.name
    dest.write_text(text.replace(old, new, 1))
    return dest


def commented_yaml(path: Path) -> str:
    """The YAML in the comment block that starts at a `repos:` comment line."""
    lines = path.read_text().splitlines()
    start = lines.index("#   repos:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[4:])
    return "\n".join(block) + "\n"


def workflow_on(doc: dict[Any, Any]) -> Any:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    return doc["on"] if "on" in doc else doc[True]


# --- pre-commit: the hook manifest -----------------------------------------------


def test_manifest_passes_pre_commit_validate_manifest(tool_env: dict[str, str]) -> None:
    result = pre_commit("validate-manifest", str(MANIFEST), cwd=ROOT, env=tool_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr


def test_broken_manifest_fails_validate_manifest(tmp_path: Path, tool_env: dict[str, str]) -> None:
    broken = broken_copy(MANIFEST, tmp_path, "language: python", "language: pythn")
    result = pre_commit("validate-manifest", str(broken), cwd=tmp_path, env=tool_env)
    assert result.returncode == 1
    assert "pythn" in result.stdout + result.stderr


def test_manifest_hooks_have_the_properties_design_requires() -> None:
    hooks = {hook["id"]: hook for hook in load(MANIFEST)}
    assert list(hooks) == HOOK_IDS
    known_keys = {item.key for item in clientlib.MANIFEST_HOOK_DICT.items if hasattr(item, "key")}
    for hook_id, hook in hooks.items():
        # validate-manifest accepts unknown keys silently; a typo would go unnoticed.
        assert set(hook) <= known_keys, (hook_id, set(hook) - known_keys)
        assert hook["entry"] == ENTRIES[hook_id]
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["require_serial"] is True
        assert hook["minimum_pre_commit_version"] == "3.2.0"
        # Current stage names only (validate-manifest does not warn about legacy ones).
        assert set(hook["stages"]) <= set(clientlib.STAGES), hook["stages"]
    # A lint hook never writes: it is `crm lint --staged`, nothing else.
    assert hooks["crm-lint"]["entry"] == "crm lint --staged"
    assert hooks["crm-lint"]["stages"] == ["pre-commit"]
    # pre-commit drops deleted files from `files:` matching; deleting a record must
    # still run the linter (record-deleted).
    assert hooks["crm-lint"]["always_run"] is True
    assert hooks["crm-lint-all"]["stages"] == ["manual"]
    assert hooks["crm-fmt"]["stages"] == ["pre-commit"]


def test_fmt_hook_files_pattern_covers_the_crm_files() -> None:
    pattern = re.compile({h["id"]: h for h in load(MANIFEST)}["crm-fmt"]["files"])
    for path in [
        "crm.yaml",
        "catalogs/stages.yaml",
        "catalogs/people.yaml",
        "opportunities/acme-forklifts.yaml",
        "opportunities/2026/11/acme-forklifts.yaml",
        "partners/acme.yaml",
        "contacts/jane.yaml",
        "leads/2026/01/l1.yaml",
        "interactions/i1.yaml",
        "tasks/t1.yaml",
        "quotes/q1.yaml",
        "orders/o1.yaml",
        "invoices/inv1.yaml",
        "views/mine.yaml",
    ]:
        assert pattern.search(path), path
    for path in ["README.md", "docs/crm.yaml", ".github/workflows/crm-lint.yml", "x/crm.yaml"]:
        assert not pattern.search(path), path


# --- pre-commit: the config `crm init` writes ------------------------------------


def test_config_template_passes_pre_commit_validate_config(tool_env: dict[str, str]) -> None:
    result = pre_commit("validate-config", str(PRE_COMMIT_CONFIG), cwd=ROOT, env=tool_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # Legacy stage names and unknown keys are warnings, not errors.
    assert "[WARNING]" not in result.stdout + result.stderr


def test_broken_config_template_fails_validate_config(
    tmp_path: Path, tool_env: dict[str, str]
) -> None:
    broken = broken_copy(PRE_COMMIT_CONFIG, tmp_path, "        entry: crm fmt\n", "")
    result = pre_commit("validate-config", str(broken), cwd=tmp_path, env=tool_env)
    assert result.returncode == 1
    assert "Missing required key: entry" in result.stdout + result.stderr


def test_config_template_runs_the_installed_crm_offline() -> None:
    config = load(PRE_COMMIT_CONFIG)
    assert config["minimum_pre_commit_version"] == "3.2.0"
    [repo] = config["repos"]
    assert repo["repo"] == "local"
    hooks = {hook["id"]: hook for hook in repo["hooks"]}
    assert list(hooks) == HOOK_IDS
    manifest = {hook["id"]: hook for hook in load(MANIFEST)}
    for hook_id, hook in hooks.items():
        assert hook["language"] == "system"
        assert hook["pass_filenames"] is False
        assert hook["require_serial"] is True
        # The same hooks as the manifest, only run from the installed crm.
        for key in ("entry", "stages", "files", "always_run"):
            assert hook.get(key) == manifest[hook_id].get(key), (hook_id, key)
    assert hooks["crm-lint-all"]["stages"] == ["manual"]


def test_config_template_comment_shows_a_valid_pinned_remote_form(
    tmp_path: Path, tool_env: dict[str, str]
) -> None:
    remote = commented_yaml(PRE_COMMIT_CONFIG)
    [repo] = yaml.safe_load(remote)["repos"]
    assert repo["repo"] == REMOTE_URL
    assert repo["rev"] == f"v{PROJECT_VERSION}"
    ids = [hook["id"] for hook in repo["hooks"]]
    assert {"crm-lint", "crm-fmt"} <= set(ids) <= set(HOOK_IDS)
    path = tmp_path / "remote.yaml"
    path.write_text(remote)
    result = pre_commit("validate-config", str(path), cwd=tmp_path, env=tool_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr


def test_readme_shows_a_valid_pinned_remote_form(tmp_path: Path, tool_env: dict[str, str]) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)
    [remote] = [block for block in blocks if REMOTE_URL in block]
    [repo] = yaml.safe_load(remote)["repos"]
    assert repo["rev"] == f"v{PROJECT_VERSION}"
    assert {hook["id"] for hook in repo["hooks"]} <= set(HOOK_IDS)
    path = tmp_path / "remote.yaml"
    path.write_text(remote)
    result = pre_commit("validate-config", str(path), cwd=tmp_path, env=tool_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr
    for target in (".pre-commit-config.yaml", ".github/workflows/crm-lint.yml", ".gitlab-ci.yml"):
        assert target in README.read_text()


@pytest.fixture
def scratch_repo(tmp_path: Path, tool_env: dict[str, str]) -> tuple[Path, dict[str, str], Path]:
    """A git repository with the config template, where `crm` only records its args.

    The hooks' behaviour under pre-commit (which hook runs on which commit, with which
    arguments) belongs to the template; what `crm` then does is tested elsewhere.
    """
    git = shutil.which("git")
    assert git, "git is required"
    repo = tmp_path / "crm-repo"
    repo.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "crm-calls"
    crm = bin_dir / "crm"
    crm.write_text('#!/bin/sh\nprintf "%s\\n" "$*" >> "$CRM_CALLS"\n')
    crm.chmod(0o755)
    env = dict(tool_env)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["CRM_CALLS"] = str(calls)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["HOME"] = str(tmp_path)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(key, None)
    env.update(
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )

    def git_run(*args: str) -> None:
        subprocess.run([git, *args], cwd=repo, env=env, check=True, capture_output=True)

    git_run("init", "-q", "-b", "main")
    shutil.copy(PRE_COMMIT_CONFIG, repo / ".pre-commit-config.yaml")
    (repo / "crm.yaml").write_text("currency: EUR\n")
    (repo / "opportunities").mkdir()
    (repo / "opportunities" / "acme.yaml").write_text("id: acme\nstage: qualify\n")
    (repo / "README.md").write_text("CRM\n")
    git_run("add", ".")
    git_run("commit", "-q", "-m", "init")
    return repo, env, calls


def _hook_calls(
    repo: Path, env: dict[str, str], calls: Path, *args: str
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    calls.unlink(missing_ok=True)
    result = pre_commit("run", *args, cwd=repo, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return (calls.read_text().splitlines() if calls.exists() else []), result


def test_config_hooks_run_on_the_right_commits(
    scratch_repo: tuple[Path, dict[str, str], Path],
) -> None:
    repo, env, calls = scratch_repo

    def git_run(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    # A change to a record: lint and format.
    (repo / "opportunities" / "acme.yaml").write_text("id: acme\nstage: proposal\n")
    git_run("add", "opportunities/acme.yaml")
    assert _hook_calls(repo, env, calls)[0] == ["lint --staged", "fmt"]
    git_run("reset", "-q", "--hard")

    # Only a deletion staged: pre-commit matches no file, the linter still runs.
    git_run("rm", "-q", "opportunities/acme.yaml")
    assert _hook_calls(repo, env, calls)[0] == ["lint --staged"]
    git_run("reset", "-q", "--hard")

    # A file outside the CRM folders: lint (cheap, nothing to check), no format.
    (repo / "README.md").write_text("CRM kept as code\n")
    git_run("add", "README.md")
    assert _hook_calls(repo, env, calls)[0] == ["lint --staged"]
    git_run("reset", "-q", "--hard")

    # The manual stage runs the whole-repository audit and nothing else.
    assert _hook_calls(repo, env, calls, "--hook-stage", "manual")[0] == ["validate"]
    manual = _hook_calls(repo, env, calls, "crm-lint-all", "--hook-stage", "manual")
    assert manual[0] == ["validate"]


# --- CI templates -----------------------------------------------------------------


def test_offline_guard_stops_a_remote_schema_fetch(
    tmp_path: Path, tool_env: dict[str, str]
) -> None:
    # The guard works: a remote schema would be fetched, and the process stops.
    instance = tmp_path / "instance.json"
    instance.write_text("{}")
    result = _run(
        [
            sys.executable,
            "-c",
            _OFFLINE_CHECK_JSONSCHEMA,
            "--schemafile",
            "https://json.schemastore.org/github-workflow.json",
            str(instance),
        ],
        tmp_path,
        tool_env,
    )
    assert result.returncode == OFFLINE_EXIT, result.stdout + result.stderr


def test_github_workflow_passes_the_vendored_schema(tool_env: dict[str, str]) -> None:
    result = check_jsonschema("vendor.github-workflows", GITHUB_WORKFLOW, tool_env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_broken_github_workflow_fails_the_vendored_schema(
    tmp_path: Path, tool_env: dict[str, str]
) -> None:
    broken = broken_copy(GITHUB_WORKFLOW, tmp_path, "runs-on: ubuntu-latest", "runs_on: x")
    result = check_jsonschema("vendor.github-workflows", broken, tool_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "'runs-on' is a required property" in result.stdout


def test_github_workflow_does_what_design_asks() -> None:
    doc = load(GITHUB_WORKFLOW)
    on = workflow_on(doc)
    assert "pull_request" in on and "push" in on
    assert doc["permissions"] == {"contents": "read"}
    assert doc["env"]["CRMFILES_REPO"] == REMOTE_URL
    assert doc["env"]["CRMFILES_REF"] == f"v{PROJECT_VERSION}"
    assert list(doc["jobs"]) == ["crm-lint", "pages"]
    job = doc["jobs"]["crm-lint"]
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.12"
    runs = {s["run"]: s for s in steps if "run" in s}
    install = next(s for r, s in runs.items() if "pip install" in r)
    assert INSTALL_FROM_GIT in install["run"]
    lint = next(s for r, s in runs.items() if "--format github" in r)
    assert 'crm lint --base "origin/${BASE_REF}"' in lint["run"]
    assert lint["env"]["BASE_REF"] == "${{ github.base_ref }}"
    summary = next(s for r, s in runs.items() if "--summary" in r)
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    assert "always()" in summary["if"]
    assert steps.index(summary) > steps.index(lint)
    validate = next(s for r, s in runs.items() if r.strip() == "crm validate")
    assert validate["if"] == "github.event_name == 'push'"
    # No expression is expanded inside a shell script (script injection).
    assert not any("${{" in r for r in runs)


def test_github_workflow_publishes_the_dashboard() -> None:
    doc = load(GITHUB_WORKFLOW)
    steps = doc["jobs"]["crm-lint"]["steps"]
    default = "github.ref_name == github.event.repository.default_branch"
    runs = {s["run"]: s for s in steps if "run" in s}
    pull = runs['crm report html -o crm-dashboard --since "origin/${BASE_REF}"']
    assert pull["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert "github.event_name == 'pull_request'" in pull["if"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "crm-dashboard/"
    assert upload["if"] == pull["if"] and steps.index(upload) > steps.index(pull)
    push = runs["crm report html -o crm-dashboard"]
    assert push["if"] == f"github.event_name == 'push' && {default}"
    pages = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert pages["with"]["path"] == "crm-dashboard/"
    assert pages["if"] == push["if"] and steps.index(pages) > steps.index(push)
    deploy = doc["jobs"]["pages"]
    assert deploy["needs"] == "crm-lint"
    assert deploy["if"] == push["if"]
    # only the deploying job may write Pages; the workflow's default stays read-only
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    [step] = deploy["steps"]
    assert step["uses"].startswith("actions/deploy-pages@")


def test_gitlab_ci_passes_the_vendored_schema(tool_env: dict[str, str]) -> None:
    result = check_jsonschema("vendor.gitlab-ci", GITLAB_CI, tool_env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_broken_gitlab_ci_fails_the_vendored_schema(
    tmp_path: Path, tool_env: dict[str, str]
) -> None:
    broken = broken_copy(GITLAB_CI, tmp_path, "when: always", "when: sometimes")
    result = check_jsonschema("vendor.gitlab-ci", broken, tool_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "'sometimes' is not one of" in result.stdout


def test_gitlab_ci_does_what_design_asks() -> None:
    doc = load(GITLAB_CI)
    assert doc["variables"]["CRMFILES_REPO"] == REMOTE_URL
    assert doc["variables"]["CRMFILES_REF"] == f"v{PROJECT_VERSION}"
    base = doc[".crm"]
    assert base["image"] == "python:3.12-slim"
    assert any("apt-get install" in line and "git" in line for line in base["before_script"])
    [install] = [line for line in base["before_script"] if "pip install" in line]
    assert INSTALL_FROM_GIT in install
    # git must be there before pip clones crmfiles
    assert base["before_script"].index(install) > next(
        i for i, line in enumerate(base["before_script"]) if "apt-get install" in line
    )

    lint = doc["crm-lint"]
    script = "\n".join(lint["script"])
    target = "${CI_MERGE_REQUEST_TARGET_BRANCH_NAME}"
    assert f'git fetch --quiet origin "+refs/heads/{target}:refs/remotes/origin/{target}"' in (
        script
    )
    report = f'crm lint --base "origin/{target}" --format gitlab > gl-code-quality-report.json'
    assert f"{report} || status=$?" in script
    assert "--format text" in script
    assert lint["script"][-1] == 'exit "$status"'
    assert lint["artifacts"] == {
        "when": "always",
        "reports": {"codequality": "gl-code-quality-report.json"},
    }
    assert lint["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]

    validate = doc["crm-validate"]
    assert validate["script"] == ["crm validate"]
    [rule] = validate["rules"]
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in rule["if"]

    # the dashboard: an artifact of every merge request, GitLab Pages on the default branch
    dashboard = doc["crm-dashboard"]
    assert dashboard["extends"] == ".crm"
    assert dashboard["script"][0] == lint["script"][0]  # the target branch is fetched
    assert dashboard["script"][-1] == (
        f'crm report html -o crm-dashboard --since "origin/{target}"'
    )
    assert dashboard["artifacts"]["paths"] == ["crm-dashboard/"]
    assert dashboard["rules"] == lint["rules"]
    pages = doc["pages"]
    assert pages["extends"] == ".crm"
    assert pages["script"] == ["crm report html -o public"]
    assert pages["artifacts"]["paths"] == ["public"]
    assert pages["rules"] == validate["rules"]


# --- what the templates run exists ---------------------------------------------------


def test_every_crm_command_the_templates_run_exists() -> None:
    """Each `crm ...` line parses with the real parser: command and options exist."""
    from crmfiles.cli.main import build_parser

    seen = 0
    for where, line in _template_commands():
        args = _crm_words(line)
        if args is None:
            continue
        seen += 1
        parser = build_parser(args[0])
        try:
            parsed = parser.parse_args(args)
        except SystemExit as exit:  # argparse's way of saying no
            raise AssertionError(f"{where}: `{line}` does not parse") from exit
        assert getattr(parsed, "handler", None), f"{where}: `{line}` runs no command"
    assert seen >= 12  # lint, summary, validate, dashboards in both CIs, and the three hooks


def test_a_template_running_a_missing_option_is_caught() -> None:
    from crmfiles.cli.main import build_parser

    args = _crm_words('crm lint --base "origin/${BASE_REF}" --no-such-option')
    assert args is not None
    with pytest.raises(SystemExit):
        build_parser("lint").parse_args(args)


@pytest.fixture(scope="module")
def tagged_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this project with its release tag, as CI would clone it."""
    clone = tmp_path_factory.mktemp("upstream") / "crmfiles"
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True, env=env)
    tag = f"v{PROJECT_VERSION}"
    tags = subprocess.run(
        ["git", "tag", "-l", tag], cwd=clone, capture_output=True, text=True, check=True
    ).stdout
    if not tags.strip():  # a clone of a branch without tags: tag its head as a release would
        subprocess.run(
            ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", "tag", tag],
            cwd=clone,
            check=True,
            env=env,
        )
    return clone


@pytest.mark.parametrize("template", ["github", "gitlab"])
def test_the_templates_install_command_installs_crm_from_a_git_tag(
    tmp_path: Path, tagged_clone: Path, template: str
) -> None:
    """The template's own install line, run by a shell, with the repository URL set to a
    clone of this project: pip builds crmfiles from git at the tag and `crm` runs."""
    [line] = [
        line for where, line in _template_commands() if where.startswith(template) and "pip" in line
    ]
    target = tmp_path / "site"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `python` is this environment's, installing crmfiles alone (its dependencies are
    # this environment's): the test must not change the environment it runs in
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@" --no-deps\n')
    python.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CRMFILES_REPO": tagged_clone.as_uri(),
        "CRMFILES_REF": f"v{PROJECT_VERSION}",
        "PIP_TARGET": str(target),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CONSTRAINT": str(ROOT / "constraints.txt"),
    }
    proc = subprocess.run(
        ["bash", "-ec", line], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = subprocess.run(
        [sys.executable, "-c", "import crmfiles, sys; print(crmfiles.__file__)"],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert installed.startswith(str(target))
    crm = subprocess.run(
        [str(target / "bin" / "crm"), "--version"],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
    )
    assert (crm.returncode, crm.stdout.strip()) == (0, f"crm {PROJECT_VERSION}")
