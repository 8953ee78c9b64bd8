"""The rule pipeline: the suites, the docs and ``crm rules`` come from the checks'
declarations, and reading records depends on no rule."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crmfiles.cli.main import main
from crmfiles.rules.registry import RULES, Check
from crmfiles.rules.suite import (
    CHECKS,
    ID_RULE_IDS,
    LINK_RULE_IDS,
    RECORD_RULES,
    depends,
    is_one_revision,
    is_transition,
    scopes,
)


def test_every_rule_is_reported_by_a_declared_check() -> None:
    reported = {rule for check in CHECKS for rule in check.rules}
    assert reported == set(RULES)


def test_a_check_cannot_declare_a_rule_the_registry_does_not_know() -> None:
    with pytest.raises(ValueError, match="unknown rules"):
        Check(lambda ctx: iter(()), ("no-such-rule",), "collective")


def test_the_suites_follow_the_declarations() -> None:
    assert set(ID_RULE_IDS) == {"unknown-reference", "competitor-role", "source-channel-mismatch"}
    assert set(LINK_RULE_IDS) == {"closed-source", "quote-open-twice", "document-source"}
    assert set(RECORD_RULES) == {"opportunities", "quotes", "orders", "invoices", "tasks"}
    assert scopes("stage-skip") == {"step"} and is_transition("stage-skip")
    assert not is_one_revision("stage-skip")
    assert scopes("closed-source") == {"record", "step"}
    assert "links" in depends("document-source")


def test_loading_records_imports_no_rule() -> None:
    code = (
        "import sys, crmfiles.records.store, crmfiles.config;"
        "print(sorted(m for m in sys.modules if m.startswith('crmfiles.rules')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_rules_explain_prints_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--explain", "quote-open-twice"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "quote-open-twice: a second draft or active quote of one opportunity\n"
        "  default: error\n"
        "  checked by: crm validate (one revision)\n"
        "  reads: links\n\n"
    )


def test_rules_explain_of_an_unknown_rule_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--explain", "quote-open-twise"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "unknown rule 'quote-open-twise'; did you mean 'quote-open-twice'?" in err
