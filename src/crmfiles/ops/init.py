"""``crm init``: a new CRM repository that validates clean, committed."""

from __future__ import annotations

import shutil
from pathlib import Path

from crmfiles import git
from crmfiles.errors import CrmError, GitFailed
from crmfiles.records import CONFIG_FILE, RECORD_FOLDERS, classify
from crmfiles.schema import data_dir, schema_dir

SCHEMA_HOME = ".crm/schema"
SCHEMA_COMMENT = "# yaml-language-server: $schema="
PIPELINE_FILES = {
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".github/workflows/crm-lint.yml": "github-workflow.yml",
    ".gitlab-ci.yml": "gitlab-ci.yml",
}


def templates_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "templates" / "init"


def schema_comment(path: str) -> str | None:
    """The ``yaml-language-server`` line for a repository path, or None."""
    place = classify(path)
    if place is None:
        return None
    name = (
        "crm"
        if place.kind == "config"
        else (RECORD_FOLDERS[place.name] if place.kind == "record" else place.name)
    )
    up = "../" * path.count("/")
    return f"{SCHEMA_COMMENT}{up}{SCHEMA_HOME}/{name}.schema.json"


def with_schema_comment(path: str, text: str) -> str:
    comment = schema_comment(path)
    if comment is None or text.startswith(SCHEMA_COMMENT):
        return text
    return f"{comment}\n{text}"


def write_files(root: Path, source: Path) -> list[str]:
    """Copy a template tree, the schemas and the pipeline files into ``root``."""
    written: list[str] = []
    for item in sorted(source.rglob("*")):
        rel = item.relative_to(source).as_posix()
        if item.is_dir() or rel.startswith(".git/") or "__pycache__" in rel:
            continue
        if rel.startswith(f"{SCHEMA_HOME}/") or rel == ".gitattributes":
            continue  # written fresh below (the schemas), or by init_repo (attributes)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.suffix == ".yaml":
            target.write_text(with_schema_comment(rel, item.read_text("utf-8")), "utf-8")
        else:
            shutil.copyfile(item, target)
        written.append(rel)
    for schema in sorted(schema_dir().glob("*.schema.json")):
        target = root / SCHEMA_HOME / schema.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(schema, target)
        written.append(f"{SCHEMA_HOME}/{schema.name}")
    written += write_templates(root)
    pipeline = data_dir("pipeline-config")
    for rel, name in PIPELINE_FILES.items():
        if (root / rel).exists():
            continue
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pipeline / name, target)
        written.append(rel)
    return sorted(set(written))


def write_templates(root: Path) -> list[str]:
    """The built-in print templates, into templates/ for the team to restyle (crm render
    reads templates/ first); a template already there is the team's and stays."""
    from crmfiles.printing import TEMPLATES_DIR

    written = []
    for template in sorted(TEMPLATES_DIR.glob("*.j2")):
        rel = f"templates/{template.name}"
        if (root / rel).exists():
            continue
        (root / "templates").mkdir(exist_ok=True)
        shutil.copyfile(template, root / rel)
        written.append(rel)
    return written


def _introduce_user(root: Path) -> None:
    """Put the git user in the people catalog as its first person (sales, manager,
    admin), so their first commits are not by a stranger to the CRM."""
    from crmfiles.records.edit import scalar

    people = root / "catalogs" / "people.yaml"
    name = git.out(["config", "user.name"], root, check=False).strip()
    email = git.out(["config", "user.email"], root, check=False).strip()
    if not people.exists() or not email:
        return
    text = people.read_text("utf-8")
    text = text.replace("name: Your Name", f"name: {scalar(name or email.split('@')[0])}", 1)
    text = text.replace("- you@example.com", f"- {scalar(email)}", 1)
    people.write_text(text, "utf-8")


def init_repo(target: Path, *, example: bool = False, commit: bool = True) -> Path:
    """Make ``target`` a CRM repository; refuse to touch one that already is."""
    target = target.expanduser()
    if (target / CONFIG_FILE).exists():
        raise CrmError(
            f"{target / CONFIG_FILE} already exists: this is a CRM repository",
            hint="`crm validate` checks it; remove crm.yaml to start over",
        )
    clashes = [name for name in ("catalogs", *RECORD_FOLDERS) if (target / name).exists()]
    if clashes:
        raise CrmError(f"{target} already has {', '.join(clashes)}: refusing to write over it")
    target.mkdir(parents=True, exist_ok=True)
    source = data_dir("example-repo") if example else templates_dir()
    if not source.is_dir():
        raise CrmError(
            f"the {'example' if example else 'template'} data is missing from "
            "this installation of crmfiles"
        )
    root = git.toplevel(target)
    if root is None:
        git.run(["init", "-q"], target)
    written = write_files(target, source)
    if not example:
        _introduce_user(target)
    # merges of records go field by field: the attributes are committed, the driver's
    # command is this clone's (a clone runs `crm install`)
    from crmfiles.merge import setup

    if setup.write_attributes(target) or (target / setup.ATTRIBUTES_FILE).is_file():
        written.append(setup.ATTRIBUTES_FILE)
    setup.configure(target)
    if commit:
        git.run(["add", "--", *written], target)
        proc = git.run(
            ["commit", "-q", "-m", "crm: init", "--only", "--", *written], target, check=False
        )
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
            raise GitFailed(
                "the files are written but git could not commit them",
                output,
                hint="set `git config user.name` and `user.email` if git asks for them, "
                "then `git commit -m 'crm: init'`",
            )
    return target.resolve()
