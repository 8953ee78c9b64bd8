"""The rules of quotes, orders and invoices, on every path: ``crm validate`` of one
revision, ``crm lint`` of a step, and the guard every ``crm`` write command runs.

Each test writes documents into the ``repo`` fixture (its opportunity
``acme-forklifts`` is in progress; conftest.BASE_FILES) and lists every diagnostic as
``path:line:col: severity [rule]``; its twin keeps the rule and expects none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, git, write

from crmfiles.check import check
from crmfiles.lint import lint
from crmfiles.ops.registry import OPERATIONS
from crmfiles.ops.result import Refused
from crmfiles.ops.setfields import parse_assignment
from crmfiles.records.worktree import WorkTree

OPP = "opportunities/2026/01/acme-forklifts.yaml"
CLOSED_WON = (
    BASE_FILES[OPP]
    .replace(
        "stage: qualify\n        status: in_progress",
        "stage: commit\n        status: won\n        closed: true\n        closed_on: 2026-03-02",
    )
    .replace("probability: 10", "probability: 100")
)
CLOSED_LOST = CLOSED_WON.replace("status: won", "status: lost\n        loss_reason: price").replace(
    "probability: 100", "probability: 0"
)
Q1 = "quotes/2026/02/q-1.yaml"
Q2 = "quotes/2026/03/q-2.yaml"
ORDER = "orders/2026/03/o-1.yaml"
INV1 = "invoices/2026/03/i-1.yaml"
INV2 = "invoices/2026/04/i-2.yaml"


def quote(
    qid: str, status: str, *, previous: str | None = None, opp: str = "acme-forklifts"
) -> str:
    return (
        f"id: {qid}\nopportunity: {opp}\nrevision: 1\nstatus: {status}\npartner: acme\n"
        + (f"previous: {previous}\n" if previous else "")
        + "lines:\n  - product: forklift\n    quantity: 2\n"
    )


def order(status: str = "open", *, quote_id: str = "q-1", partner: str = "acme") -> str:
    return (
        f"id: o-1\nquote: {quote_id}\nopportunity: acme-forklifts\npartner: {partner}\n"
        f"status: {status}\nlines:\n  - product: forklift\n    quantity: 2\n"
    )


def invoice(iid: str, amount: str, *, status: str = "open", partner: str = "acme") -> str:
    paid = "paid_on: 2026-04-30\n" if status == "paid" else ""
    return f"id: {iid}\norder: o-1\npartner: {partner}\nstatus: {status}\namount: {amount}\n{paid}"


def report(root: Path) -> list[str]:
    return [f"{d.location}: {d.severity} [{d.rule}]" for d in check(WorkTree(root)).diagnostics]


def linted(root: Path) -> list[str]:
    return [f"{d.location}: {d.severity} [{d.rule}]" for d in lint(root).report.diagnostics]


# --- closed-source, in one revision ----------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "active"])
def test_closed_source_breaks_an_open_quote_of_a_closed_opportunity(
    repo: Path, status: str
) -> None:
    write(repo, {OPP: CLOSED_WON, Q1: quote("q-1", status)})
    assert report(repo) == [f"{Q1}:4:9: error [closed-source]"]
    [d] = check(WorkTree(repo)).diagnostics
    assert d.message == f"{status} quote for opportunity 'acme-forklifts', which is closed"


def test_closed_source_breaks_a_draft_quote_validated_after_the_commit(repo: Path) -> None:
    """Committed already (as a merged pull request would be): the revision tells."""
    write(repo, {OPP: CLOSED_WON, Q1: quote("q-1", "draft")})
    commit_all(repo)
    assert report(repo) == [f"{Q1}:4:9: error [closed-source]"]
    assert linted(repo) == [f"{Q1}:4:9: error [closed-source]"]


def test_closed_source_keeps_the_history_of_a_won_deal(repo: Path) -> None:
    write(
        repo,
        {
            OPP: CLOSED_WON,
            Q1: quote("q-1", "revised"),
            Q2: quote("q-2", "won", previous="q-1"),
            ORDER: order(quote_id="q-2"),
            "tasks/2026/02/call.yaml": """\
            id: call
            title: Call Acme
            completed: true
            subject:
              type: opportunity
              id: acme-forklifts
            """,
            "interactions/2026/02/visit.yaml": """\
            id: visit
            type: meeting
            at: 2026-02-10T10:00:00+01:00
            opportunity: acme-forklifts
            """,
        },
    )
    assert report(repo) == []


def test_closed_source_breaks_an_open_order_of_a_lost_opportunity(repo: Path) -> None:
    write(repo, {OPP: CLOSED_LOST, Q1: quote("q-1", "won"), ORDER: order()})
    assert report(repo) == [f"{ORDER}:5:9: error [closed-source]"]


def test_closed_source_keeps_a_canceled_order_of_a_lost_opportunity(repo: Path) -> None:
    write(repo, {OPP: CLOSED_LOST, Q1: quote("q-1", "won"), ORDER: order("canceled")})
    assert report(repo) == []


# --- quote-open-twice ------------------------------------------------------------------


def test_quote_open_twice_breaks_on_the_second_open_quote(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "active"), Q2: quote("q-2", "draft")})
    assert report(repo) == [f"{Q2}:4:9: error [quote-open-twice]"]


def test_quote_open_twice_keeps_a_revision(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "revised"), Q2: quote("q-2", "draft", previous="q-1")})
    assert report(repo) == []


def test_quote_open_twice_is_found_again_when_the_other_quote_changes(repo: Path) -> None:
    """A warm run checks the quotes linked to a changed record again (the cache)."""
    write(repo, {Q1: quote("q-1", "lost"), Q2: quote("q-2", "draft")})
    commit_all(repo)
    assert report(repo) == []
    write(repo, {Q1: quote("q-1", "active")})
    assert report(repo) == [f"{Q2}:4:9: error [quote-open-twice]"]
    write(repo, {Q1: quote("q-1", "lost")})
    assert report(repo) == []


def test_closed_source_is_found_when_only_the_opportunity_changes(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "draft")})
    commit_all(repo)
    assert report(repo) == []
    write(repo, {OPP: CLOSED_WON})
    assert report(repo) == [f"{Q1}:4:9: error [closed-source]"]


# --- document-source ---------------------------------------------------------------


def test_document_source_breaks_an_order_of_a_quote_not_won(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "active"), ORDER: order()})
    assert report(repo) == [f"{ORDER}:2:8: error [document-source]"]


def test_document_source_breaks_an_order_for_another_partner(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "won"), ORDER: order(partner="rival")})
    assert report(repo) == [f"{ORDER}:4:10: error [document-source]"]


def test_document_source_keeps_an_order_of_a_won_quote(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "won"), ORDER: order()})
    assert report(repo) == []


ORDER2 = "orders/2026/04/o-2.yaml"


def test_document_source_breaks_a_second_order_of_one_quote(repo: Path) -> None:
    second = order().replace("id: o-1", "id: o-2")
    write(repo, {Q1: quote("q-1", "won"), ORDER: order(), ORDER2: second})
    assert report(repo) == [f"{ORDER2}:2:8: error [document-source]"]
    [d] = check(WorkTree(repo)).diagnostics
    assert d.message == "quote 'q-1' is ordered already by 'o-1'"
    # committed as one change, the step (crm lint) says so too
    commit_all(repo)
    assert linted(repo) == [f"{ORDER2}:2:8: error [document-source]"]


def test_document_source_keeps_an_order_after_a_canceled_one(repo: Path) -> None:
    second = order().replace("id: o-1", "id: o-2")
    write(repo, {Q1: quote("q-1", "won"), ORDER: order("canceled"), ORDER2: second})
    assert report(repo) == []
    # (and a canceled later order is no second order either)
    write(repo, {ORDER: order(), ORDER2: order("canceled").replace("id: o-1", "id: o-2")})
    assert report(repo) == []


def test_document_source_breaks_an_open_invoice_of_a_canceled_order(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "won"), ORDER: order("canceled"), INV1: invoice("i-1", "100")})
    assert report(repo) == [f"{INV1}:4:9: error [document-source]"]
    [d] = check(WorkTree(repo)).diagnostics
    assert d.message == "open invoice of order 'o-1', which is canceled"
    write(repo, {INV1: invoice("i-1", "100", status="canceled")})
    assert report(repo) == []


def test_document_source_breaks_an_invoice_for_another_partner(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "won"), ORDER: order(), INV1: invoice("i-1", "100")})
    assert report(repo) == []
    write(repo, {INV1: invoice("i-1", "100", partner="rival")})
    assert report(repo) == [f"{INV1}:3:10: error [document-source]"]


def test_document_source_breaks_invoices_over_the_order_total(repo: Path) -> None:
    # the order comes to 2 x 15000 = 30000 (no tax rate): 20000 + 20000 is too much
    write(
        repo,
        {
            Q1: quote("q-1", "won"),
            ORDER: order(),
            INV1: invoice("i-1", "20000", status="paid"),
            INV2: invoice("i-2", "20000"),
        },
    )
    assert report(repo) == [f"{INV2}:5:9: error [document-source]"]
    [d] = check(WorkTree(repo)).diagnostics
    assert d.message == "invoice of 20000.00 is more than order 'o-1' has left to invoice, 10000.00"


def test_document_source_keeps_invoices_up_to_the_total_and_canceled_ones(repo: Path) -> None:
    write(
        repo,
        {
            Q1: quote("q-1", "won"),
            ORDER: order(),
            INV1: invoice("i-1", "20000", status="canceled"),
            INV2: invoice("i-2", "30000"),
        },
    )
    assert report(repo) == []


def test_document_source_breaks_a_revision_of_another_opportunity(repo: Path) -> None:
    write(
        repo,
        {
            "opportunities/2026/03/acme-cranes.yaml": """\
            id: acme-cranes
            name: Acme cranes
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            """,
            Q1: quote("q-1", "revised", opp="acme-cranes"),
            Q2: quote("q-2", "draft", previous="q-1"),
        },
    )
    assert report(repo) == [f"{Q2}:6:11: error [document-source]"]


def test_document_source_breaks_a_revision_whose_previous_is_not_revised(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "lost"), Q2: quote("q-2", "draft", previous="q-1")})
    assert report(repo) == [f"{Q2}:6:11: error [document-source]"]


# --- document-status ---------------------------------------------------------------


def test_document_status_breaks_a_paid_invoice_without_paid_on(repo: Path) -> None:
    text = invoice("i-1", "100", status="paid").replace("paid_on: 2026-04-30\n", "")
    write(repo, {Q1: quote("q-1", "won"), ORDER: order(), INV1: text})
    assert report(repo) == [f"{INV1}:4:9: error [document-status]"]


def test_document_status_keeps_a_paid_invoice_with_paid_on(repo: Path) -> None:
    write(
        repo, {Q1: quote("q-1", "won"), ORDER: order(), INV1: invoice("i-1", "100", status="paid")}
    )
    assert report(repo) == []


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        (Q1, quote("q-1", "draft"), quote("q-1", "won")),
        (Q1, quote("q-1", "lost"), quote("q-1", "active")),
        (ORDER, order("delivered"), order("open")),
    ],
    ids=["draft-to-won", "out-of-lost", "out-of-delivered"],
)
def test_document_status_breaks_a_step_the_lifecycle_does_not_allow(
    repo: Path, path: str, before: str, after: str
) -> None:
    write(repo, {Q1: quote("q-1", "won"), path: before})
    commit_all(repo)
    write(repo, {path: after})
    line = 4 if path == Q1 else 5
    assert linted(repo) == [f"{path}:{line}:9: error [document-status]"]


def test_document_status_keeps_each_step_in_order(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "draft")})
    commit_all(repo)
    for status in ("active", "won"):
        write(repo, {Q1: quote("q-1", status)})
        assert linted(repo) == []
        commit_all(repo)


def test_document_status_breaks_a_new_document_at_a_final_status(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "won"), ORDER: order("delivered")})
    assert linted(repo) == [
        f"{ORDER}:5:9: error [document-status]",
        f"{Q1}:4:9: error [document-status]",
    ]


def test_document_status_keeps_a_new_quote_recorded_active(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "active")})
    assert linted(repo) == []


# --- the operations' guard -----------------------------------------------------------


def test_an_operation_winning_a_draft_quote_is_refused(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "draft")})
    head = commit_all(repo)
    with pytest.raises(Refused) as refused:
        OPERATIONS["set"](repo, "q-1", [parse_assignment("status=won")])
    [d] = refused.value.errors
    assert (d.location, d.rule) == (f"{Q1}:4:9", "document-status")
    assert d.message == "quote status changed from 'draft' to 'won'"
    assert d.hint == "a draft quote becomes active, lost or revised"
    assert (repo / Q1).read_text() == quote("q-1", "draft")
    assert _head(repo) == head


def test_an_operation_adding_a_second_open_quote_is_refused(repo: Path) -> None:
    write(repo, {Q1: quote("q-1", "active"), Q2: quote("q-2", "lost")})
    commit_all(repo)
    with pytest.raises(Refused) as refused:
        OPERATIONS["set"](repo, "q-2", [parse_assignment("status=draft")])
    assert [(d.location, d.rule) for d in refused.value.errors] == [
        (f"{Q2}:4:9", "document-status"),
        (f"{Q2}:4:9", "quote-open-twice"),
    ]


def _head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()
