"""Sales documents in the TUI: the record screen's Documents tab (quotes, orders and
their invoices, a key for each step), print and mail, and the list of quotes, orders
and invoices; driven by keys, the repository checked (file and commit) first, then
what is shown."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("textual")

from test_mail import Inbox, inbox  # noqa: F401 - an SMTP server on the loopback
from test_tui import (  # noqa: F401 - the demo fixtures
    SALES,
    SEARCH_FOR,
    act_as,
    demo,
    demo_template,
    finished,
    git,
    make_app,
    record,
    settle,
    shown,
    sync,
    type_text,
)
from test_tui_record_tabs import open_tab
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, Select

from crmfiles.documents.totals import document_totals
from crmfiles.money import fmt
from crmfiles.ops.init import init_repo
from crmfiles.records.store import Repository
from crmfiles.reports.lists import item_listing
from crmfiles.tui.app import CrmApp
from crmfiles.tui.screens.dialogs import Dialog
from crmfiles.tui.screens.document_dialogs import CloseWonOffer, InvoiceDialog
from crmfiles.tui.screens.documents import DocumentsScreen
from crmfiles.tui.screens.print_dialogs import MailDialog, RenderDialog
from crmfiles.tui.screens.record import RecordScreen
from crmfiles.tui.widgets.orders_table import OrdersTable
from crmfiles.tui.widgets.record_tables import QuotesTable
from crmfiles.tui.widgets.table import RecordTable

DEAL = "getraenke-hofmann-e16"  # at its kind's last stage, no quote yet
QUOTED = "mueller-logistik-e25-fleet"  # an active quote
ORDERED = "schaerer-lagertechnik-e25"  # won; an open order with an open invoice
SEARCH_FOR.setdefault(DEAL, "beverage")
SEARCH_FOR.setdefault(QUOTED, "bremen")
SIZE = (160, 45)


def subject(root: Path) -> str:
    return git(root, "log", "-1", "--format=%s")


def created(root: Path, folder: str) -> str:
    """The id of the file of ``folder`` the last commit added."""
    names = git(root, "diff-tree", "--no-commit-id", "--name-only", "--diff-filter=A", "-r", "HEAD")
    [path] = [n for n in names.splitlines() if n.startswith(f"{folder}/")]
    return Path(path).stem


async def step(pilot: Pilot[object], key: str) -> None:
    """A key of the Documents tab, its dialog confirmed with F2."""
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(pilot.app.screen, Dialog), f"{key}: no dialog"
    await pilot.press("f2")
    await settle(pilot)


async def replace(pilot: Pilot[object], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.press("ctrl+a", "ctrl+k")
    await type_text(pilot, text)


def footer_keys(app: CrmApp) -> dict[str, str]:
    """The keys the footer offers now (key -> description), enabled ones only."""
    return {
        key: active.binding.description
        for key, active in app.screen.active_bindings.items()
        if active.enabled and active.binding.show
    }


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``crm init --example``, committed by Anna Becker (sales)."""
    monkeypatch.setenv("CRM_PROGRESS", "0")
    act_as(monkeypatch, SALES)
    return init_repo(tmp_path / "crm", example=True)


# --- the whole chain ------------------------------------------------------------------------


@sync
async def test_quote_to_paid_invoices_by_keys(example: Path) -> None:
    # today as the operations see it: an invoice paid before it was written is refused
    app = CrmApp(example, today=dt.date.today, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, DEAL, "quotes")
        quotes = app.screen.query_one("#quotes-table", QuotesTable)
        assert app.focused is quotes and quotes.row_count == 0

        await step(pilot, "N")
        first = created(example, "quotes")
        assert subject(example) == f"crm: quote new {first} from {DEAL}"
        assert quotes.cursor_quote == first

        await step(pilot, "v")
        second = created(example, "quotes")
        assert subject(example) == f"crm: quote revise {second} from {first}"
        assert record(example, first)[1]["status"] == "revised"
        assert quotes.cursor_quote == second  # the new revision, under the cursor
        assert "a" in footer_keys(app) and "w" not in footer_keys(app)  # a draft is not won

        await step(pilot, "a")
        assert subject(example) == f"crm: quote activate {second} draft -> active"

        # won at the last stage: the close is offered, and accepted
        await step(pilot, "w")
        assert subject(example) == f"crm: quote win {second} active -> won"
        assert isinstance(app.screen, CloseWonOffer)
        assert "last stage (Commitment)" in shown(app.screen.query_one("#offer"))
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        opportunity = record(example, DEAL)[1]
        assert (opportunity["status"], opportunity["closed"]) == ("won", True)
        assert subject(example) == f"crm: close {DEAL} won"

        await step(pilot, "o")
        order = created(example, "orders")
        assert subject(example) == f"crm: order new {order} from {second}"
        orders = app.screen.query_one("#orders-table", OrdersTable)
        assert app.focused is orders and orders.cursor_document == ("orders", order)
        order_data = record(example, order)[1]
        totals = document_totals(order_data, app.snapshot.catalogs["products"])  # type: ignore[union-attr]
        assert totals is not None

        # a part: more than the order has left is refused in the dialog, nothing written
        head = git(example, "rev-parse", "HEAD")
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDialog)
        assert app.screen.query_one("#amount", Input).value == str(totals.gross)
        await replace(pilot, "#amount", str(totals.gross + 1))
        await pilot.press("f2")
        await settle(pilot)
        assert "more than" in shown(app.screen.query_one("#errors"))
        assert git(example, "rev-parse", "HEAD") == head
        await replace(pilot, "#amount", "20000")
        await pilot.press("f2")
        await settle(pilot)
        part = created(example, "invoices")
        assert subject(example) == f"crm: invoice new {part} from {order}"
        assert record(example, part)[1]["amount"] == 20000
        assert orders.cursor_document == ("invoices", part)

        await step(pilot, "p")
        assert isinstance(app.screen, RecordScreen), shown(app.screen.query_one("#errors"))
        assert subject(example) == f"crm: invoice paid {part} open -> paid"

        # the rest: prefilled with what is left
        await pilot.press("I")
        await settle(pilot)
        rest = totals.gross - 20000
        assert app.screen.query_one("#amount", Input).value == str(rest)
        await pilot.press("f2")
        await settle(pilot)
        last = created(example, "invoices")
        assert subject(example) == f"crm: invoice new {last} from {order}"
        await step(pilot, "p")
        assert subject(example) == f"crm: invoice paid {last} open -> paid"
        assert "I" not in footer_keys(app)  # invoiced in full
        summary = shown(app.screen.query_one("#orders-summary"))
        assert f"left to invoice 0.00 {order_data['currency']}" in summary
    paid = [record(example, i)[1] for i in (part, last)]
    assert [Decimal(str(i["amount"])) for i in paid] == [Decimal(20000), rest]
    assert all(i["status"] == "paid" and i["paid_on"] for i in paid)


# --- refusals and what each row offers ---------------------------------------------------------


@sync
async def test_a_refused_step_shows_why_in_the_dialog(demo: Path) -> None:  # noqa: F811
    head = git(demo, "rev-parse", "HEAD")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        await step(pilot, "N")  # a second open quote of the deal
        assert isinstance(app.screen, Dialog)
        errors = shown(app.screen.query_one("#errors"))
        assert f"q-2026-0017 of {QUOTED} is still active: win, lose or revise it" in errors
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
    assert git(demo, "rev-parse", "HEAD") == head


@sync
async def test_lose_asks_why(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        quote = app.screen.query_one("#quotes-table", QuotesTable).cursor_quote
        assert quote is not None
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert "Reason" in shown(app.screen.query_one("#errors"))
        await type_text(pilot, "Too expensive")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
    data = record(demo, quote)[1]
    assert (data["status"], data["loss_reason"]) == ("lost", "Too expensive")
    assert subject(demo) == f"crm: quote lose {quote} active -> lost"


@sync
async def test_the_footer_offers_the_steps_the_row_may_take(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        keys = footer_keys(app)
        assert {"w": "Win", "x": "Lose", "v": "Revise", "P": "Print"}.items() <= keys.items()
        assert "a" not in keys and "o" not in keys  # active: not activated again, no order
        await pilot.press("down")  # the revised one: only print and mail
        await settle(pilot)
        keys = footer_keys(app)
        assert not {"a", "w", "x", "v", "o"} & set(keys) and {"P", "M"} <= set(keys)
        await pilot.press("tab")  # the orders table: none
        await settle(pilot)
        assert app.focused is app.screen.query_one("#orders-table")
        assert "No orders yet" in shown(app.screen.query_one("#orders-summary"))
        assert not {"s", "I", "p", "x"} & set(footer_keys(app))


def test_document_keys_have_ids_and_tooltips() -> None:
    from crmfiles.tui.screens.documents import DocumentsScreen as Screen

    for owner in (QuotesTable, OrdersTable, Screen):
        bindings = [b for b in owner.BINDINGS if isinstance(b, Binding)]
        assert bindings and all(b.id and b.tooltip for b in bindings), owner
    [go] = [b for b in CrmApp.BINDINGS if isinstance(b, Binding) and b.id == "go.documents"]
    assert go.description == "Quotes, orders and invoices" and not go.show


# --- print and mail ------------------------------------------------------------------------------


@sync
async def test_print_and_mail_the_quote_under_the_cursor(
    demo: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        quote = app.screen.query_one("#quotes-table", QuotesTable).cursor_quote
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, RenderDialog)
        assert app.screen.query_one("#path", Input).value == str(tmp_path / f"{quote}.pdf")
        app.screen.query_one("#format", Select).value = "html"
        await settle(pilot)
        assert app.screen.query_one("#path", Input).value == str(tmp_path / f"{quote}.html")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        html = (tmp_path / f"{quote}.html").read_text("utf-8")
        assert quote in html and "<html" in html

        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MailDialog)
        to = app.screen.query_one("#to", Input).value
        assert to.endswith(".example")  # the quote's contact
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
    message = email.message_from_bytes(
        (tmp_path / f"{quote}.eml").read_bytes(), policy=email.policy.default
    )
    assert str(message["Subject"]).startswith(f"Quote {quote}")
    assert str(message["To"]) == to
    attached = [part.get_filename() for part in message.iter_attachments()]
    assert attached == [f"Quote {quote}.pdf"]


@sync
async def test_send_delivers_and_records_the_mail(
    demo: Path,  # noqa: F811
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    config = demo / "crm.yaml"  # the example's mail.smtp, pointed at the test's server
    text = config.read_text("utf-8")
    smtp = re.search(r"^  smtp:\n(    .*\n)+", text, re.MULTILINE)
    assert smtp is not None
    here = f"  smtp:\n    host: 127.0.0.1\n    port: {port}\n    security: none\n"
    config.write_text(text[: smtp.start()] + here + text[smtp.end() :], "utf-8")
    git(demo, "commit", "-qam", "mail settings")
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        quote = app.screen.query_one("#quotes-table", QuotesTable).cursor_quote
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MailDialog)
        to = app.screen.query_one("#to", Input).value
        app.screen.query_one("#send", RadioButton).value = True
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen), shown(app.screen.query_one("#errors"))
        [recorded] = finished(messages)
        assert recorded.outcome.ok, recorded.outcome.details
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == [to]
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert str(sent["Subject"]).startswith(f"Quote {quote}")
    [path] = recorded.outcome.paths
    interaction = (demo / path).read_text("utf-8")
    assert "type: email" in interaction and f"opportunity: {QUOTED}" in interaction
    assert subject(demo).startswith("crm: new interaction")


@sync
async def test_a_template_error_shows_in_the_print_dialog(
    demo: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (demo / "templates").mkdir(exist_ok=True)
    (demo / "templates" / "quote.html.j2").write_text("{{ broken ", "utf-8")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        await pilot.press("P")
        await settle(pilot)
        app.screen.query_one("#format", Select).value = "html"
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RenderDialog)
        assert "quote.html.j2" in shown(app.screen.query_one("#errors"))
    assert not list(tmp_path.glob("*.html"))


# --- the list of documents ---------------------------------------------------------------


@sync
async def test_documents_list_switches_type_filters_and_opens_the_deal(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)
        table = app.screen.query_one("#documents", RecordTable)
        repo = Repository(demo)
        quotes = item_listing(repo, "quotes", {})
        assert sorted(table.keys) == sorted(i.record.id for i in quotes.rows)
        totals = shown(app.screen.query_one("#totals"))
        assert totals.startswith(f"{len(quotes.rows)} quotes")
        assert quotes.amount is not None
        assert f"total {fmt(quotes.amount.in_base)} EUR" in totals

        await pilot.press("t")  # orders
        await settle(pilot)
        orders = item_listing(repo, "orders", {})
        assert sorted(table.keys) == sorted(i.record.id for i in orders.rows)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("down", "enter")  # the first status: open
        await settle(pilot)
        assert table.keys == ["ord-2026-0006"]
        assert shown(app.screen.query_one("#totals")).startswith("1 open order ")

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.record_id == ORDERED and app.screen.tab == "quotes"
        orders_table = app.screen.query_one("#orders-table", OrdersTable)
        assert app.focused is orders_table
        assert orders_table.cursor_document == ("orders", "ord-2026-0006")
        # the order's open invoice, and what is left
        assert ("invoices", "inv-2026-0164") in orders_table.documents
        assert "left to invoice" in shown(app.screen.query_one("#orders-summary"))


@sync
async def test_the_palette_offers_the_steps_of_the_quote_under_the_cursor(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "revise")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Dialog)
        assert "The next revision of q-2026-0017" in shown(app.screen.query_one("#step"))


@sync
async def test_the_palette_opens_the_documents_list(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "orders and invoices")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DocumentsScreen)


@sync
async def test_mail_an_invoice_goes_to_its_quote_contact(demo: Path) -> None:  # noqa: F811
    invoice = record(demo, "inv-2026-0164")[1]
    order = record(demo, invoice["order"])[1]
    quote = record(demo, order["quote"])[1]
    email_of = record(demo, quote["contacts"][0])[1]["email"]
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")  # the documents list, on invoices: the deal's tab
        await settle(pilot)
        await pilot.press("t", "t")
        await settle(pilot)
        table = app.screen.query_one("#documents", RecordTable)
        assert table.move_to("inv-2026-0164")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen) and app.screen.record_id == ORDERED
        orders = app.screen.query_one("#orders-table", OrdersTable)
        orders.move_cursor(row=orders.documents.index(("invoices", "inv-2026-0164")))
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MailDialog)
        assert app.screen.query_one("#to", Input).value == email_of


@sync
async def test_j_and_k_move_in_the_quotes_orders_and_activities_tables(demo: Path) -> None:  # noqa: F811
    from crmfiles.tui.widgets.record_tables import ActivitiesTable

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        quotes = app.screen.query_one("#quotes-table", QuotesTable)
        assert app.focused is quotes and quotes.row_count >= 2
        first = quotes.cursor_quote
        await pilot.press("j")
        await settle(pilot)
        assert quotes.cursor_row == 1 and quotes.cursor_quote != first
        await pilot.press("k")
        await settle(pilot)
        assert quotes.cursor_quote == first

        await pilot.press("left_square_bracket")  # the Activities tab
        await settle(pilot)
        activities = app.screen.query_one("#activities-table", ActivitiesTable)
        assert app.focused is activities and activities.row_count >= 2
        await pilot.press("j", "j")
        await settle(pilot)
        assert activities.cursor_row == 2
        await pilot.press("k")
        await settle(pilot)
        assert activities.cursor_row == 1

        await pilot.press("escape", "dollar_sign", "t", "t")  # an order with its invoice
        await settle(pilot)
        assert app.screen.query_one("#documents", RecordTable).move_to("inv-2026-0164")
        await pilot.press("enter")
        await settle(pilot)
        orders = app.screen.query_one("#orders-table", OrdersTable)
        assert app.focused is orders
        assert orders.cursor_document == ("invoices", "inv-2026-0164")
        await pilot.press("k")
        await settle(pilot)
        assert orders.cursor_document == ("orders", "ord-2026-0006")
        await pilot.press("j")
        await settle(pilot)
        assert orders.cursor_document == ("invoices", "inv-2026-0164")


@sync
async def test_a_step_key_that_does_not_fit_the_row_says_why(example: Path) -> None:
    app = CrmApp(example, today=dt.date.today, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, DEAL, "quotes")
        await step(pilot, "N")
        draft = created(example, "quotes")
        head = git(example, "rev-parse", "HEAD")
        assert "w" not in footer_keys(app)  # hidden in the footer, and yet
        for key, said in (
            ("w", f"{draft} is a draft: activate it first (a)"),
            ("o", f"{draft} is a draft: activate it first (a)"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, RecordScreen)  # no dialog
            assert said in [str(n.message) for n in app._notifications], key
        await pilot.press("tab")  # the orders table, empty
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "No document here" in [str(n.message) for n in app._notifications]
    assert git(example, "rev-parse", "HEAD") == head
