"""``crm quote new|activate|win|lose|revise``, ``crm order new|deliver|cancel`` and
``crm invoice new|paid|cancel``: parse, call the operations, say what happened (as
every write command does, through :mod:`crmfiles.cli.writes`)."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from crmfiles.errors import CrmError

# command -> action -> (what it names, help, the operation)
ACTIONS: dict[str, dict[str, tuple[str, str, str]]] = {
    "quote": {
        "new": ("OPP", "a draft quote from an opportunity in progress", "quote_new"),
        "activate": ("Q", "send it: active, read-only from now on", "quote_activate"),
        "win": ("Q", "the customer accepted it (prints what the deal needs next)", "quote_win"),
        "lose": ("Q", "the customer declined it (--reason R)", "quote_lose"),
        "revise": ("Q", "the next revision: a new draft; Q becomes revised", "quote_revise"),
    },
    "order": {
        "new": ("Q", "an open order from a won quote", "order_new"),
        "deliver": ("ORDER", "delivered (today, or --on DATE)", "order_deliver"),
        "cancel": ("ORDER", "canceled", "order_cancel"),
    },
    "invoice": {
        "new": ("ORDER", "bill what the order has left (or --amount A of it)", "invoice_new"),
        "paid": ("ID", "paid (today, or --on DATE)", "invoice_paid"),
        "cancel": ("ID", "canceled: it no longer counts against the order", "invoice_cancel"),
    },
}
# the folder the positional argument names, for completion: (command action) -> folder
NAMES = {"OPP": "opportunities", "Q": "quotes", "ORDER": "orders", "ID": "invoices"}
# what an opportunity's id names instead of a document's (the one there is)
BY_OPPORTUNITY = {
    **{("quote", a): "its draft or active quote" for a in ("activate", "win", "lose", "revise")},
    ("order", "new"): "its won quote",
    ("order", "deliver"): "its open order",
    ("order", "cancel"): "its open order",
    ("invoice", "new"): "its open or delivered order",
    ("invoice", "paid"): "its open invoice",
    ("invoice", "cancel"): "its open invoice",
}


def _add(parser: argparse.ArgumentParser, command: str) -> None:
    from crmfiles.cli.writes import add_common

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, (metavar, help_text, _) in ACTIONS[command].items():
        one = sub.add_parser(action, help=help_text, description=help_text)
        which = BY_OPPORTUNITY.get((command, action))
        one.add_argument(
            "id",
            metavar=metavar,
            help=f"the {NAMES[metavar][:-1]}"
            + (f", or an opportunity's id for {which}" if which else ""),
        )
        one.add_argument(  # (also after the action; SUPPRESS keeps one given before it)
            "--repo",
            metavar="DIR",
            default=argparse.SUPPRESS,
            help="the CRM repository (default: the one around the current folder)",
        )
        if (command, action) == ("quote", "lose"):
            one.add_argument("--reason", metavar="R", help="why the customer declined it")
        if (command, action) in (("order", "deliver"), ("invoice", "paid")):
            one.add_argument("--on", metavar="DATE", help="the day (default: today)")
        if (command, action) == ("invoice", "new"):
            one.add_argument(
                "--amount",
                metavar="A",
                help="the amount, taxes included (default and most: what is left to invoice)",
            )
        add_common(one)


def add_quote_arguments(parser: argparse.ArgumentParser) -> None:
    _add(parser, "quote")


def add_order_arguments(parser: argparse.ArgumentParser) -> None:
    _add(parser, "order")


def add_invoice_arguments(parser: argparse.ArgumentParser) -> None:
    _add(parser, "invoice")


def _on(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CrmError(f"--on {value!r} is not a date", hint="write YYYY-MM-DD") from None


def _amount(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise CrmError(f"--amount {value!r} is not an amount", hint="write it like 12500.50")
    return amount


def _run(args: argparse.Namespace, command: str) -> int:
    from crmfiles.cli.writes import commit_flags, perform
    from crmfiles.ops.registry import OPERATIONS

    operation = OPERATIONS[ACTIONS[command][args.action][2]]
    options: dict[str, Any] = {}
    if getattr(args, "reason", None):
        options["reason"] = args.reason
    if getattr(args, "on", None) is not None:
        options["on"] = _on(args.on)
    if getattr(args, "amount", None) is not None:
        options["amount"] = _amount(args.amount)
    return perform(args, lambda root: operation(root, args.id, **options, **commit_flags(args)))


def run_quote(args: argparse.Namespace) -> int:
    return _run(args, "quote")


def run_order(args: argparse.Namespace) -> int:
    return _run(args, "order")


def run_invoice(args: argparse.Namespace) -> int:
    return _run(args, "invoice")
