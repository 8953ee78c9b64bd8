"""docs/rules.md is generated from the registry and tests/cases/; docs/lint.md's
commands are ones `crm` accepts."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from types import ModuleType

import pytest
from cases import all_cases

from crmfiles.cli.main import build_parser
from crmfiles.rules.registry import RULES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_rules", DOCS / "generate_rules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_registry_rule_has_a_case() -> None:
    cases = {case.rule for case in all_cases()}
    assert sorted(set(RULES) - cases) == [], "add tests/cases/<rule-id>.yaml"
    assert sorted(cases - set(RULES)) == [], "a case for a rule the registry does not know"


def test_rules_md_is_up_to_date() -> None:
    fresh = generator().render()
    current = (DOCS / "rules.md").read_text("utf-8")
    assert current == fresh, "docs/rules.md is out of date: run python docs/generate_rules.py"


def test_rules_md_has_a_section_per_rule() -> None:
    text = (DOCS / "rules.md").read_text("utf-8")
    assert re.findall(r"^## (\S+)$", text, re.MULTILINE) == list(RULES)


def lint_commands() -> list[str]:
    text = (DOCS / "lint.md").read_text("utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return [
        line.split("#")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith("crm ")
    ]


def test_lint_md_shows_commands() -> None:
    assert len(lint_commands()) >= 8


@pytest.mark.parametrize("command", lint_commands())
def test_lint_md_commands_parse(command: str) -> None:
    words = shlex.split(command)
    for redirect in (">", ">>"):
        if redirect in words:
            words = words[: words.index(redirect)]
    args = build_parser().parse_args(words[1:])
    assert args.command == "lint"


def _markdown_files() -> list[Path]:
    root = Path(__file__).resolve().parent.parent
    return [
        root / "README.md",
        *sorted((root / "docs").glob("*.md")),
        root / "bench" / "README.md",
        root / "pipeline-config" / "README.md",
    ]


@pytest.mark.parametrize("doc", _markdown_files(), ids=lambda p: p.name)
def test_docs_stand_alone(doc: Path) -> None:
    """Every link and named path of the project's docs is inside the repository: a user
    of a clone has everything the docs point at."""
    root = Path(__file__).resolve().parent.parent
    text = doc.read_text(encoding="utf-8")
    assert "DESIGN" not in text and "../shared" not in text
    for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = (doc.parent / target).resolve()
        assert resolved.is_relative_to(root), f"{doc.name} links outside the repo: {target}"
        assert resolved.exists(), f"{doc.name} links to a missing {target}"
    for named in re.findall(r"`((?:docs|bench|pipeline-config|schema)/[\w./-]+\.\w+)`", text):
        assert (root / named).exists(), f"{doc.name} names a missing {named}"
