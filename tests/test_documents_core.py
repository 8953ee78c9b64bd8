"""The sales documents' lifecycle and totals (crmfiles.documents): exact decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmfiles.documents.lifecycle import allowed, is_final, missing_for, next_statuses
from crmfiles.documents.totals import document_totals, invoiced, left_to_invoice

PRODUCTS = {
    "truck": {"id": "truck", "price": 28500, "tax_rate": 19},
    "manual": {"id": "manual", "price": 12.5, "tax_rate": 7},
    "untaxed": {"id": "untaxed", "price": 100},
}


@pytest.mark.parametrize(
    ("folder", "before", "after", "ok"),
    [
        ("quotes", "draft", "active", True),
        ("quotes", "draft", "won", False),  # a customer accepts what was sent
        ("quotes", "active", "won", True),
        ("quotes", "active", "draft", False),
        ("quotes", "draft", "revised", True),
        ("quotes", "won", "lost", False),
        ("quotes", "lost", "lost", True),
        ("orders", "open", "delivered", True),
        ("orders", "delivered", "open", False),
        ("orders", "canceled", "delivered", False),
        ("invoices", "open", "paid", True),
        ("invoices", "paid", "canceled", False),
        ("invoices", "open", "bogus", True),  # the schema's business
    ],
)
def test_transitions(folder: str, before: str, after: str, ok: bool) -> None:
    assert allowed(folder, before, after) is ok


def test_next_statuses_and_final() -> None:
    assert next_statuses("quotes", "active") == ["won", "lost", "revised"]
    assert is_final("invoices", "paid") and not is_final("orders", "open")


def test_paid_needs_paid_on() -> None:
    assert missing_for("invoices", {"status": "paid"}) == "paid_on"
    assert missing_for("invoices", {"status": "paid", "paid_on": "2026-05-08"}) is None
    assert missing_for("invoices", {"status": "open"}) is None


def test_totals_with_discount_and_tax_per_line() -> None:
    quote = {
        "lines": [
            {"product": "truck", "quantity": 6, "unit_price": 28500, "discount": 5},
            {"product": "manual", "quantity": 3},  # the list price
            {"description": "Training day", "quantity": 1, "unit_price": 0.1, "tax_rate": 19},
            {"product": "untaxed", "quantity": 1},
        ]
    }
    totals = document_totals(quote, PRODUCTS)
    assert totals is not None
    assert totals.net == Decimal("162450.00") + Decimal("37.50") + Decimal("0.10") + 100
    # 0.10 x 19 % = 0.019 rounds to 0.02 per line; 37.50 x 7 % = 2.625 rounds half-even
    assert [line.tax for line in totals.lines] == [
        Decimal("30865.50"),
        Decimal("2.62"),
        Decimal("0.02"),
        Decimal("0.00"),
    ]
    assert totals.gross == totals.net + Decimal("30868.14")
    assert totals.taxes_by_rate() == [
        (Decimal(0), Decimal("100.00"), Decimal("0.00")),
        (Decimal(7), Decimal("37.50"), Decimal("2.62")),
        (Decimal(19), Decimal("162450.10"), Decimal("30865.52")),
    ]


def test_no_total_without_a_price() -> None:
    assert document_totals({"lines": [{"description": "?", "quantity": 1}]}, PRODUCTS) is None
    assert document_totals({}, PRODUCTS) is None


def test_invoiced_counts_open_and_paid_not_canceled() -> None:
    order = {"id": "o1", "lines": [{"product": "untaxed", "quantity": 10}]}
    invoices = [
        {"id": "i1", "order": "o1", "status": "paid", "amount": 300},
        {"id": "i2", "order": "o1", "status": "open", "amount": "200.005"},
        {"id": "i3", "order": "o1", "status": "canceled", "amount": 400},
        {"id": "i4", "order": "o2", "status": "open", "amount": 50},
    ]
    assert invoiced("o1", invoices) == Decimal("500.00")
    assert invoiced("o1", invoices, but="i1") == Decimal("200.00")
    assert left_to_invoice(order, invoices, PRODUCTS) == Decimal("500.00")
