"""``crm quote``, ``crm order`` and ``crm invoice`` on the example company: the whole
chain opportunity -> quote -> revision -> won -> order -> invoices -> paid through the
real commands, the commit each makes, exact totals, and each command's precondition
refused with a message and exit 2."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import git

from crmfiles.cli.main import main
from crmfiles.documents.totals import document_totals
from crmfiles.ops.documents import numbered
from crmfiles.ops.quotes import plan_new
from crmfiles.ops.registry import OPERATIONS
from crmfiles.ops.workspace import Workspace
from crmfiles.records.store import Repository
from crmfiles.records.yamlio import parse

TODAY = dt.date.today()
DEAL = "rheinkai-chemie-ex-schutz"


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``crm init --example``, the current folder."""
    assert main(["init", "--example", str(tmp_path / "crm")]) == 0
    root = tmp_path / "crm"
    monkeypatch.chdir(root)
    yield root


def crm(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def next_number(root: Path, folder: str, prefix: str, step: int = 1) -> str:
    """The id the next document of ``folder`` gets: one more than this year's highest."""
    numbers = [
        int(m.group(1))
        for p in (root / folder).rglob("*.yaml")
        if (m := re.fullmatch(rf"{prefix}-{TODAY.year}-(\d+)", p.stem))
    ]
    return f"{prefix}-{TODAY.year}-{max(numbers, default=0) + step:04d}"


def record(root: Path, path: str) -> dict[str, Any]:
    data = parse((root / path).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def last_commit(root: Path) -> tuple[str, list[str]]:
    subject = git(root, "log", "-1", "--format=%s").strip()
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    return subject, files


def test_the_whole_chain(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = example
    month = f"{TODAY.year}/{TODAY.month:02d}"
    first = next_number(root, "quotes", "q")

    # a draft quote: the opportunity's lines (no margin; the catalog's tax rate frozen in)
    code, out, _ = crm(capsys, "quote", "new", DEAL)
    assert code == 0
    path = f"quotes/{month}/{first}.yaml"
    assert out.startswith(f"created quote {first} from {DEAL} ({path}), committed ")
    assert last_commit(root) == (f"crm: quote new {first} from {DEAL}", [path])
    quote = record(root, path)
    assert quote == {
        "id": first,
        "opportunity": DEAL,
        "revision": 1,
        "status": "draft",
        "partner": "rheinkai-chemie",
        "contacts": ["bernd-wolters", "yvonne-peters"],
        "date": TODAY.isoformat(),
        "valid_until": (TODAY + dt.timedelta(days=30)).isoformat(),
        "currency": "EUR",
        "lines": [
            {
                "description": "E25 in ATEX zone 2 version (converted by our partner)",
                "quantity": 3,
                "unit_price": 52400,
                "tax_rate": 19,
            },
            {
                "product": "svc-full",
                "quantity": 3,
                "unit_price": 240,
                "tax_rate": 19,
                "duration_months": 24,
            },
        ],
        "terms": "net30",
    }
    assert (root / path).read_text().startswith("# yaml-language-server: $schema=")

    # the next revision: a new file pointing at the first, which becomes revised
    second = next_number(root, "quotes", "q")
    code, out, _ = crm(capsys, "quote", "revise", first)
    assert code == 0
    revised = f"quotes/{month}/{second}.yaml"
    assert out.startswith(f"revised {first} as {second}, revision 2 ({revised}), committed ")
    assert last_commit(root) == (
        f"crm: quote revise {second} from {first}",
        sorted([path, revised]),
    )
    assert record(root, path)["status"] == "revised"
    new = record(root, revised)
    assert (new["revision"], new["previous"], new["status"]) == (2, first, "draft")
    assert new["lines"] == quote["lines"]

    code, out, _ = crm(capsys, "quote", "activate", second)
    assert code == 0 and last_commit(root) == (
        f"crm: quote activate {second} draft -> active",
        [revised],
    )

    # winning says what the deal needs next: a standard kind moves one stage at a time
    code, out, _ = crm(capsys, "quote", "win", second)
    assert code == 0
    assert last_commit(root)[0] == f"crm: quote win {second} active -> won"
    assert (
        f"  next: {DEAL} is at 'negotiation'; won is reached from 'commitment': "
        f"`crm move {DEAL} commitment`; then `crm close {DEAL} --won`; "
        f"then `crm order new {second}`"
    ) in out

    # the order carries the quote's lines, terms, partner and opportunity
    order_id = next_number(root, "orders", "ord")
    code, out, _ = crm(capsys, "order", "new", second, "--format", "json")
    assert code == 0
    answer = json.loads(out)
    order_path = f"orders/{order_id}.yaml"
    assert answer["version"] == 1 and answer["ok"] is True
    assert (answer["id"], answer["created"]) == (order_id, [order_path])
    assert last_commit(root) == (f"crm: order new {order_id} from {second}", [order_path])
    order = record(root, order_path)
    assert {k: order[k] for k in ("quote", "opportunity", "partner", "status", "terms")} == {
        "quote": second,
        "opportunity": DEAL,
        "partner": "rheinkai-chemie",
        "status": "open",
        "terms": "net30",
    }
    assert order["lines"] == new["lines"]
    # 3 x 52,400 + 3 x 240 x 24 months = 174,480.00 net; 19 % tax of each line
    totals = document_totals(order, Repository(root).catalog("products"))
    assert totals is not None
    assert (totals.net, totals.tax, totals.gross) == (
        Decimal("174480.00"),
        Decimal("33151.20"),
        Decimal("207631.20"),
    )

    # a part, then the rest (the default), then nothing is left
    invoice_1 = next_number(root, "invoices", "inv")
    code, out, _ = crm(capsys, "invoice", "new", order_id, "--amount", "100000")
    assert code == 0
    due = (TODAY + dt.timedelta(days=30)).isoformat()
    assert f"100,000.00 EUR, due {due}; 107,631.20 EUR left to invoice" in out
    assert last_commit(root) == (
        f"crm: invoice new {invoice_1} from {order_id}",
        [f"invoices/{invoice_1}.yaml"],
    )
    assert record(root, f"invoices/{invoice_1}.yaml") == {
        "id": invoice_1,
        "order": order_id,
        "partner": "rheinkai-chemie",
        "date": TODAY.isoformat(),
        "due": due,
        "status": "open",
        "amount": 100000,
        "currency": "EUR",
    }
    invoice_2 = next_number(root, "invoices", "inv")
    code, out, _ = crm(capsys, "invoice", "new", order_id)
    assert code == 0 and f"107,631.20 EUR, due {due}; {order_id} is invoiced in full" in out
    assert record(root, f"invoices/{invoice_2}.yaml")["amount"] == 107631.2
    code, _, err = crm(capsys, "invoice", "new", order_id)
    assert code == 2
    assert f"crm: error: {order_id} is invoiced in full: nothing is left to invoice" in err

    # paid, on a day; the order delivered
    code, out, _ = crm(capsys, "invoice", "paid", invoice_1, "--on", TODAY.isoformat())
    assert code == 0
    assert last_commit(root) == (
        f"crm: invoice paid {invoice_1} open -> paid",
        [f"invoices/{invoice_1}.yaml"],
    )
    paid = record(root, f"invoices/{invoice_1}.yaml")
    assert (paid["status"], paid["paid_on"]) == ("paid", TODAY.isoformat())
    code, out, _ = crm(capsys, "order", "deliver", order_id)
    assert code == 0 and out.startswith(f"delivered {order_id} on {TODAY.isoformat()}, committed")
    assert record(root, order_path)["delivered_on"] == TODAY.isoformat()

    # the lists and the invoicing report see it all, to the cent
    code, out, _ = crm(capsys, "list", "invoices", "--status", "open", "--format", "json")
    listed = json.loads(out)
    assert [r["id"] for r in listed["invoices"]] == ["inv-2026-0164", invoice_2]
    code, out, _ = crm(capsys, "list", "orders", "--format", "json")
    mine = next(r for r in json.loads(out)["orders"] if r["id"] == order_id)
    assert (mine["net"], mine["tax"], mine["gross"]) == ("174480.00", "33151.20", "207631.20")
    code, out, _ = crm(capsys, "report", "invoicing", "--format", "json")
    report = json.loads(out)
    now = next(m for m in report["months"] if m["month"] == TODAY.isoformat()[:7])
    assert (now["ordered"], now["invoiced"], now["paid"]) == ("207631.20",) * 2 + ("100000.00",)
    assert report["to_invoice"] == "0.00"

    # every command committed its files and nothing else is left behind
    assert git(root, "status", "--porcelain") == ""
    code, out, _ = crm(capsys, "validate")
    assert code == 0, out


def test_an_order_needs_a_won_quote(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = git(example, "rev-parse", "HEAD")
    code, _, err = crm(capsys, "order", "new", "q-2026-0019")
    assert code == 2
    assert err == (
        "crm: error: q-2026-0019 is draft: `crm order new` makes an order from a won quote\n"
        "  hint: `crm quote win q-2026-0019` once the customer accepts it\n"
    )
    assert git(example, "rev-parse", "HEAD") == head


def test_a_won_quote_is_ordered_once(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deal = "getraenke-hofmann-e16"
    for step in (["quote", "new", deal], ["quote", "activate", deal], ["quote", "win", deal]):
        assert crm(capsys, *step)[0] == 0
    code, out, err = crm(capsys, "order", "new", deal)
    assert code == 0, err
    first = out.split()[2]
    quote_id = out.split()[4]
    head = git(example, "rev-parse", "HEAD")
    code, _, err = crm(capsys, "order", "new", quote_id)
    assert code == 2
    assert err == (
        f"crm: error: {quote_id} is ordered already by {first}\n"
        f"  hint: a quote makes one order: `crm show {first}`; "
        f"`crm order cancel {first}` first to order it again\n"
    )
    assert git(example, "rev-parse", "HEAD") == head
    # once canceled, the quote is ordered again
    assert crm(capsys, "order", "cancel", first)[0] == 0
    code, out, err = crm(capsys, "order", "new", quote_id)
    assert code == 0, err
    assert crm(capsys, "validate")[0] == 0


def test_an_order_with_invoices_is_not_canceled(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(example, "rev-parse", "HEAD")
    # ord-2026-0006 has the open invoice inv-2026-0164
    code, _, err = crm(capsys, "order", "cancel", "ord-2026-0006")
    assert code == 2
    assert err == (
        "crm: error: ord-2026-0006 has open invoices: inv-2026-0164\n"
        "  hint: cancel them first: `crm invoice cancel inv-2026-0164`\n"
    )
    assert git(example, "rev-parse", "HEAD") == head
    assert crm(capsys, "invoice", "cancel", "inv-2026-0164")[0] == 0
    code, out, err = crm(capsys, "order", "cancel", "ord-2026-0006")
    assert code == 0, err
    assert out.startswith("canceled ord-2026-0006, committed ")


def test_an_order_paid_for_is_not_canceled(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert crm(capsys, "invoice", "paid", "inv-2026-0164")[0] == 0
    code, _, err = crm(capsys, "order", "cancel", "ord-2026-0006")
    assert code == 2
    assert err == (
        "crm: error: ord-2026-0006 has paid invoices: inv-2026-0164; an order paid for "
        "is not canceled\n"
        "  hint: a credit note is not part of crmfiles: record the refund in your "
        "accounting, and leave the order as it is\n"
    )


def test_a_second_open_quote_is_refused_before_a_number_is_drawn(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The open quote is named, not the number the new one would have had."""
    deal = "mueller-logistik-e25-fleet"  # its quote q-2026-0017 is active
    head = git(example, "rev-parse", "HEAD").strip()
    would = next_number(example, "quotes", "q")
    code, out, err = crm(capsys, "quote", "new", deal)
    assert (code, out) == (2, "")
    assert err == (
        f"crm: error: q-2026-0017 of {deal} is still active: win, lose or revise it\n"
        "  hint: `crm quote revise q-2026-0017` makes its next revision\n"
    )
    assert would not in err
    # a draft too; once it is lost, a new quote is made
    assert crm(capsys, "quote", "new", DEAL)[0] == 0
    code, _, err = crm(capsys, "quote", "new", DEAL)
    assert code == 2
    assert err.startswith(f"crm: error: {would} of {DEAL} is still draft: win, lose or revise")
    assert crm(capsys, "quote", "lose", would, "--reason", "Too expensive")[0] == 0
    assert crm(capsys, "quote", "new", DEAL)[0] == 0
    assert git(example, "rev-list", "--count", f"{head}..HEAD") == "3\n"


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["revise", "q-2026-0004"], "q-2026-0004 is lost: only a draft or active quote is "
         "revised", "`crm quote new northern-retail-reach-trucks` starts a new one"),
        (["revise", "q-2026-0002"], "q-2026-0002 is won: only a draft or active quote is "
         "revised", "`crm quote new vitalis-pharma-e16-fleet` starts a new one"),
        (["activate", "q-2026-0004"], "q-2026-0004 is lost: only a draft quote is activated",
         "`crm quote new northern-retail-reach-trucks` starts a new one"),
        (["win", "q-2026-0004"], "q-2026-0004 is lost: only an active quote is won",
         "`crm quote new northern-retail-reach-trucks` starts a new one"),
        (["lose", "q-2026-0002"], "q-2026-0002 is won: only a draft or active quote is lost",
         "`crm quote new vitalis-pharma-e16-fleet` starts a new one"),
        (["win", "q-2026-0019"], "q-2026-0019 is draft: only an active quote is won",
         "`crm quote activate q-2026-0019` once it is sent: a customer accepts what was sent"),
    ],
)  # fmt: skip
def test_a_quote_in_a_final_status_says_so(
    example: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str, hint: str
) -> None:
    head = git(example, "rev-parse", "HEAD")
    code, out, err = crm(capsys, "quote", *args)
    assert (code, out) == (2, "")
    assert err == f"crm: error: {message}\n  hint: {hint}\n"
    assert git(example, "rev-parse", "HEAD") == head


def test_a_quote_without_lines_is_not_activated(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (example / "quotes/2026/11/q-2026-0019.yaml").read_text()
    (example / "quotes/2026/11/q-2026-0019.yaml").write_text(text.split("lines:")[0])
    git(example, "commit", "-qam", "no lines")
    code, _, err = crm(capsys, "quote", "activate", "q-2026-0019")
    assert code == 2
    assert err == (
        "crm: error: q-2026-0019 has no lines: a quote is sent with what it offers\n"
        "  hint: add lines with `crm edit q-2026-0019` (or `crm set q-2026-0019 ...`)\n"
    )
    (example / "quotes/2026/11/q-2026-0019.yaml").write_text(
        text.split("lines:")[0] + "lines:\n  - description: Something\n    quantity: 1\n"
    )
    git(example, "commit", "-qam", "a line without a price")
    code, _, err = crm(capsys, "quote", "activate", "q-2026-0019")
    assert code == 2
    assert err.startswith("crm: error: q-2026-0019 has no total: a line without a price\n")


def test_a_closed_deal_takes_no_quote(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = git(example, "rev-parse", "HEAD")
    code, _, err = crm(capsys, "quote", "new", "vitalis-pharma-e16-fleet")
    assert code == 2
    assert err.startswith(
        "crm: error: vitalis-pharma-e16-fleet is closed: `crm quote new` quotes an "
        "opportunity in progress\n"
    )
    assert git(example, "rev-parse", "HEAD") == head
    assert git(example, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ord-2026-0006"], "ord-2026-0006 is invoiced in full: nothing is left to invoice"),
        (["ord-2026-0003"], "ord-2026-0003 is canceled: `crm invoice new` bills an open or "
         "delivered order"),
        (["ord-2026-0006", "--amount", "12.345"], "--amount 12.345: an invoice is a positive "
         "amount, to the cent"),
        (["ord-2026-0006", "--amount", "twelve"], "--amount 'twelve' is not an amount"),
    ],
)  # fmt: skip
def test_an_invoice_within_what_is_left(
    example: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = crm(capsys, "invoice", "new", *args)
    assert code == 2
    assert f"crm: error: {message}" in err


def test_more_than_is_left_is_refused(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the open CHF invoice is canceled: the whole order is left, and not a cent more
    assert crm(capsys, "invoice", "cancel", "inv-2026-0164")[0] == 0
    code, _, err = crm(capsys, "invoice", "new", "ord-2026-0006", "--amount", "118500.01")
    assert code == 2
    assert err == (
        "crm: error: --amount 118,500.01 CHF is more than ord-2026-0006 has left to invoice "
        "(118,500.00 CHF)\n"
        "  hint: invoice at most 118,500.00; leave --amount out to invoice all of it\n"
    )
    code, out, _ = crm(capsys, "invoice", "new", "ord-2026-0006", "--amount", "118500")
    assert code == 0 and "ord-2026-0006 is invoiced in full" in out


def test_a_day_that_has_not_come(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    later = (TODAY + dt.timedelta(days=1)).isoformat()
    code, _, err = crm(capsys, "invoice", "paid", "inv-2026-0164", "--on", later)
    assert code == 2 and f"crm: error: --on {later} is in the future" in err
    code, _, err = crm(capsys, "order", "deliver", "ord-2026-0006", "--on", "soon")
    assert code == 2 and "crm: error: --on 'soon' is not a date" in err


def test_the_same_status_again_commits_nothing(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(example, "rev-parse", "HEAD")
    code, out, _ = crm(capsys, "quote", "activate", "q-2026-0013")
    assert (code, out) == (0, "q-2026-0013 is active already\n")
    assert git(example, "rev-parse", "HEAD") == head


def test_lose_with_a_reason(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = crm(capsys, "quote", "lose", "q-2026-0019", "--reason", "Too expensive")
    assert code == 0 and out.startswith("lost q-2026-0019 (Too expensive), committed ")
    lost = record(example, "quotes/2026/11/q-2026-0019.yaml")
    assert (lost["status"], lost["loss_reason"]) == ("lost", "Too expensive")
    assert git(example, "log", "-1", "--format=%B") == (
        "crm: quote lose q-2026-0019 draft -> lost\n\n"
        "Crm-Record: quotes/2026/11/q-2026-0019.yaml\nCrm-Status: lost\n\n"
    )


def test_an_active_quote_is_lost_with_its_reason(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The outcome of an active quote is the one change it takes: its status, and with
    a loss the reason (quote-active-modified lets exactly that through)."""
    code, out, err = crm(capsys, "quote", "lose", "q-2026-0013", "--reason", "Went elsewhere")
    assert code == 0, err
    assert out.startswith("lost q-2026-0013 (Went elsewhere), committed ")
    lost = record(example, "quotes/2026/10/q-2026-0013.yaml")
    assert (lost["status"], lost["loss_reason"]) == ("lost", "Went elsewhere")


def test_an_active_quote_takes_no_reason_without_losing(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(example, "rev-parse", "HEAD")
    code, out, err = crm(capsys, "set", "q-2026-0013", "loss_reason=Too expensive")
    assert code == 1 and "nothing was written" in err
    assert "q-2026-0013.yaml:" in out and "[quote-active-modified]" in out
    assert git(example, "rev-parse", "HEAD") == head


def test_a_number_taken_meanwhile_is_planned_again(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another command commits the number this one picked, after it planned and before
    it committed: the commit is refused, and the quote is planned again, next number."""
    taken = next_number(example, "quotes", "q")
    raced: list[str] = []

    def racing(ws: Workspace, opportunity: str) -> Any:
        plan = plan_new(ws, opportunity)
        if not raced:  # the other command, in between
            raced.append(OPERATIONS["quote_new"](example, "getraenke-hofmann-e16").id)
        return plan

    racing.__name__ = "plan_new"
    result = numbered(racing)(example, DEAL)
    assert raced == [taken]
    assert result.id == next_number(example, "quotes", "q", step=0)
    assert result.id != taken
    subjects = git(example, "log", "-2", "--format=%s").splitlines()
    assert subjects == [
        f"crm: quote new {result.id} from {DEAL}",
        f"crm: quote new {taken} from getraenke-hofmann-e16",
    ]


def test_an_opportunity_names_its_one_document(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = crm(capsys, "quote", "lose", "mueller-logistik-e25-fleet")
    assert code == 0 and out.startswith("lost q-2026-0017, committed ")  # its active quote
    code, _, err = crm(capsys, "invoice", "paid", "vitalis-pharma-e16-fleet")
    assert code == 2
    assert err == (
        "crm: error: vitalis-pharma-e16-fleet has no open invoices\n"
        "  hint: name the invoice by its id\n"
    )
    code, out, _ = crm(capsys, "invoice", "cancel", "schaerer-lagertechnik-e25")
    assert code == 0 and out.startswith("canceled inv-2026-0164, committed ")


def test_a_deal_with_an_open_order_is_not_closed_as_lost(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The guard reports what a change does to the documents made from the record it
    changes: closing as lost a deal whose order is open would leave an order of a lost
    deal (closed-source on the order), so it is refused until the order is canceled."""
    deal = "getraenke-hofmann-e16"
    for step in (["quote", "new", deal], ["quote", "activate", deal], ["quote", "win", deal]):
        assert crm(capsys, *step)[0] == 0
    code, out, err = crm(capsys, "order", "new", deal)
    assert code == 0, err
    order = out.split()[2]
    head = git(example, "rev-parse", "HEAD")
    code, out, err = crm(capsys, "close", deal, "--lost", "--reason", "price")
    assert code == 1 and "nothing was written" in err
    assert f"orders/{order}.yaml:" in out
    assert f"open order for opportunity '{deal}', which is lost [closed-source]" in out
    assert git(example, "rev-parse", "HEAD") == head
    assert crm(capsys, "order", "cancel", order)[0] == 0
    code, _, err = crm(capsys, "close", deal, "--lost", "--reason", "price")
    assert code == 0, err


def test_overdue_invoices_are_listed_as_the_report_counts_them(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = example / "invoices/inv-2026-0164.yaml"  # open, 118,500.00 CHF
    text = path.read_text()
    due = re.search(r"^due: (.*)$", text, re.M)
    assert due is not None
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    path.write_text(text.replace(f"due: {due.group(1)}", f"due: {yesterday}"))
    code, out, _ = crm(capsys, "list", "invoices", "--overdue", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert [r["id"] for r in listed["invoices"]] == ["inv-2026-0164"]
    code, out, _ = crm(capsys, "report", "invoicing", "--format", "json")
    report = json.loads(out)
    assert report["overdue"]["count"] == 1
    assert report["overdue"]["amount"] == listed["totals"]["amount"]
    # due today is not overdue yet
    path.write_text(text.replace(f"due: {due.group(1)}", f"due: {TODAY.isoformat()}"))
    code, out, _ = crm(capsys, "list", "invoices", "--overdue", "--format", "json")
    assert json.loads(out)["invoices"] == []
    code, _, err = crm(capsys, "list", "orders", "--overdue")
    assert code == 2 and "--overdue is not a filter of orders" in err
