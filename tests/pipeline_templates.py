"""The shell lines the CI and pre-commit templates run, read from the template files:
shared by the tests that check the commands exist and the test that runs them."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
TEMPLATES = ROOT / "pipeline-config"
PRE_COMMIT_CONFIG = TEMPLATES / "pre-commit-config.yaml"
GITHUB_WORKFLOW = TEMPLATES / "github-workflow.yml"
GITLAB_CI = TEMPLATES / "gitlab-ci.yml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def template_commands() -> list[tuple[str, str]]:
    """(where, command line) of every shell line of the templates that runs pip or crm."""
    github = load(GITHUB_WORKFLOW)
    gitlab = load(GITLAB_CI)
    runs = [s["run"] for job in github["jobs"].values() for s in job["steps"] if "run" in s]
    lines = [("github", line) for run in runs for line in run.splitlines()]
    for name, job in gitlab.items():
        if isinstance(job, dict):
            for key in ("before_script", "script"):
                lines += [(f"gitlab {name}", line) for line in job.get(key, [])]
    hooks = yaml.safe_load(PRE_COMMIT_CONFIG.read_text())["repos"][0]["hooks"]
    manifest = yaml.safe_load(MANIFEST.read_text())
    lines += [("pre-commit", hook["entry"]) for hook in [*hooks, *manifest]]
    return [(where, line.strip()) for where, line in lines]


def crm_words(line: str) -> list[str] | None:
    """The arguments of the `crm` a shell line runs, up to a redirection or operator."""
    words = shlex.split(line.replace("$", "X"))
    if not words or words[0] != "crm":
        return None
    args: list[str] = []
    for word in words[1:]:
        if word in (">", ">>", "||", "&&", "|", ";") or word.startswith(">"):
            break
        args.append(word)
    return args
