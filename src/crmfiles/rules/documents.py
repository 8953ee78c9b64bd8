"""The rules of sales documents: quotes, orders and invoices.

What a document may be is :mod:`crmfiles.documents` (its lifecycle and totals); here
it is held against one revision - what each document is made from (``links``: a
quote's opportunity, an order's quote, an invoice's order, and their other
documents) - and against each step, so that a hand edit merged through a pull request
meets the same lifecycle as a ``crm quote|order|invoice`` command.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from crmfiles.diagnostics import Finding
from crmfiles.documents.lifecycle import (
    COUNTED_INVOICE,
    OPEN_QUOTE,
    TRANSITIONS,
    allowed,
    is_final,
    missing_for,
    next_statuses,
)
from crmfiles.documents.totals import ZERO, document_totals, left_to_invoice
from crmfiles.money import decimal, to_cent
from crmfiles.records import LoadedFile
from crmfiles.rules.base import Context, finding, record_id
from crmfiles.rules.registry import Check
from crmfiles.rules.step import Change, Step

#: each document folder: the field naming what it is made from, and that record's folder
LINKS = {
    "quotes": ("opportunity", "opportunities"),
    "orders": ("quote", "quotes"),
    "invoices": ("order", "orders"),
}
NOUN = {"quotes": "quote", "orders": "order", "invoices": "invoice"}


# --- which documents a run checks ----------------------------------------------------


def linked_scope(ctx: Context) -> list[LoadedFile]:
    """The documents whose link findings may have changed: every document when the
    set of ids changed since the cached run (or there is none); else the documents
    parsed in this run and those linked to a record parsed in this run (an
    opportunity's quotes and their orders, a quote's orders and the other quotes of
    its opportunity, an order's invoices, an invoice's sibling invoices)."""
    paths = [p for folder in LINKS for p in ctx.folder_paths(folder)]
    if ctx.recheck_all:
        return [f for f in map(ctx.file, paths) if f is not None]
    fresh = [f for f in ctx.files if f.fresh and f.place.kind == "record"]
    if not fresh:
        return []
    links = _links(ctx, paths)
    old = ctx.snapshot.links if ctx.snapshot is not None else {}
    wanted: set[str] = set()
    for f in fresh:
        folder, rid = f.place.name, f.place.id
        if folder in LINKS:
            wanted.add(f.path)
            for target in {ctx.fact(f, LINKS[folder][0]), old.get(f.path)}:
                wanted.update(links.get((folder, target), ()))  # its siblings
        for child, (_, parent) in LINKS.items():
            if parent == folder:
                children = links.get((child, rid), [])
                wanted.update(children)
                if folder == "opportunities":  # the orders of its quotes
                    for quote in children:
                        wanted.update(links.get(("orders", record_id(quote)), ()))
    return [f for f in map(ctx.file, sorted(wanted)) if f is not None]


def _links(ctx: Context, paths: Iterable[str]) -> dict[tuple[str, Any], list[str]]:
    """(document folder, the id it links to) -> its documents, in path order."""
    old = ctx.snapshot.links if ctx.snapshot is not None else {}
    out: dict[tuple[str, Any], list[str]] = defaultdict(list)
    for path in paths:
        folder = path.partition("/")[0]
        f = ctx.files_by_path.get(path)
        target = ctx.fact(f, LINKS[folder][0]) if f is not None else old.get(path)
        if isinstance(target, str):
            out[folder, target].append(path)
    return out


def _data(ctx: Context, f: LoadedFile) -> dict[str, Any] | None:
    data = ctx.data_for(f.path)
    return data if isinstance(data, dict) else None


def _of(scope: list[LoadedFile], folder: str) -> list[LoadedFile]:
    return [f for f in scope if f.place.name == folder]


def _closed(data: dict[str, Any] | None) -> bool:
    return bool(data) and (data or {}).get("closed") is True


# --- one revision --------------------------------------------------------------------


def quotes_of_opportunity(ctx: Context, scope: list[LoadedFile]) -> Iterator[Finding]:
    """closed-source: an open quote of a closed opportunity; quote-open-twice: a second
    open quote of one opportunity (reported on each after the first, in path order)."""
    quotes = _of(scope, "quotes")
    if not quotes:
        return
    links = _links(ctx, ctx.folder_paths("quotes"))
    for f in quotes:
        data = _data(ctx, f)
        if data is None or data.get("status") not in OPEN_QUOTE:
            continue
        opportunity = data.get("opportunity")
        if not isinstance(opportunity, str):
            continue
        if _closed(ctx.record_data("opportunities", opportunity)):
            yield finding(
                "closed-source",
                f,
                f"{data['status']} quote for opportunity '{opportunity}', which is closed",
                ("status",),
                hint="a closed opportunity has no open quote: mark this one lost, or have "
                "a manager reopen the opportunity",
            )
        first = next(
            (
                path
                for path in links.get(("quotes", opportunity), ())
                if path != f.path and _status(ctx, path) in OPEN_QUOTE
            ),
            None,
        )
        if first is not None and first < f.path:
            yield finding(
                "quote-open-twice",
                f,
                f"quote '{f.place.id}' is {data['status']} while quote '{record_id(first)}' "
                f"of opportunity '{opportunity}' is still open",
                ("status",),
                hint="an opportunity has one draft or active quote at a time: revise the "
                "open one (crm quote revise) or mark it lost",
                related=(first,),
            )


def _status(ctx: Context, path: str) -> Any:
    f = ctx.file(path)
    return ctx.value(f, "status") if f is not None else None


def revision_source(ctx: Context, scope: list[LoadedFile]) -> Iterator[Finding]:
    """document-source: a quote's ``previous`` is a quote of the same opportunity, and
    one that this revision replaced (``revised``)."""
    for f in _of(scope, "quotes"):
        data = _data(ctx, f)
        previous = data.get("previous") if data else None
        if data is None or not isinstance(previous, str):
            continue
        before = ctx.record_data("quotes", previous)
        if before is None:
            continue  # unknown-reference says so
        if before.get("opportunity") != data.get("opportunity"):
            yield finding(
                "document-source",
                f,
                f"previous quote '{previous}' is of opportunity "
                f"'{before.get('opportunity')}', not '{data.get('opportunity')}'",
                ("previous",),
                hint="a revision replaces a quote of the same opportunity; make a new "
                "quote without previous for another opportunity",
            )
        elif before.get("status") != "revised":
            yield finding(
                "document-source",
                f,
                f"previous quote '{previous}' is {before.get('status')}, not revised",
                ("previous",),
                hint=f"a revision replaces its previous quote: set '{previous}' to revised "
                "(crm quote revise does both)",
            )


def order_source(ctx: Context, scope: list[LoadedFile]) -> Iterator[Finding]:
    """document-source: an order is made from a won quote, of the quote's opportunity
    and partner, and a quote makes one order (not counting canceled ones: each after
    the first, in path order, is reported); closed-source: an open order of a lost
    opportunity."""
    orders = _of(scope, "orders")
    links = _links(ctx, ctx.folder_paths("orders")) if orders else {}
    for f in orders:
        data = _data(ctx, f)
        quote_id = data.get("quote") if data else None
        if data is None or not isinstance(quote_id, str):
            continue
        first = next(
            (
                path
                for path in links.get(("orders", quote_id), ())
                if path < f.path and _status(ctx, path) != "canceled"
            ),
            None,
        )
        if first is not None and data.get("status") != "canceled":
            yield finding(
                "document-source",
                f,
                f"quote '{quote_id}' is ordered already by '{record_id(first)}'",
                ("quote",),
                hint=f"a quote makes one order: cancel '{record_id(first)}' "
                "(crm order cancel) or this one",
                related=(first,),
            )
        quote = ctx.record_data("quotes", quote_id)
        if quote is None:
            continue  # unknown-reference says so
        if quote.get("status") != "won":
            yield finding(
                "document-source",
                f,
                f"order from quote '{quote_id}', which is {quote.get('status')}, not won",
                ("quote",),
                hint="an order comes from a won quote: win the quote first (crm quote win)",
            )
        for key in ("opportunity", "partner"):
            mine, theirs = data.get(key), quote.get(key)
            if isinstance(mine, str) and isinstance(theirs, str) and mine != theirs:
                yield finding(
                    "document-source",
                    f,
                    f"{key} '{mine}' is not quote '{quote_id}''s, '{theirs}'",
                    (key,),
                    hint=f"an order is for its quote's {key}: set {key}: {theirs}",
                )
        opportunity_id = data.get("opportunity") or quote.get("opportunity")
        if data.get("status") != "open" or not isinstance(opportunity_id, str):
            continue
        opportunity = ctx.record_data("opportunities", opportunity_id)
        if _closed(opportunity) and (opportunity or {}).get("status") == "lost":
            yield finding(
                "closed-source",
                f,
                f"open order for opportunity '{opportunity_id}', which is lost",
                ("status",),
                hint="a lost opportunity has nothing to deliver: cancel the order, or have "
                "a manager reopen the opportunity",
            )


def invoice_source(ctx: Context, scope: list[LoadedFile]) -> Iterator[Finding]:
    """document-source: an invoice bills its order's partner, is not open once its order
    is canceled, and the order's invoices
    (open or paid) add up to no more than the order's total; the first invoice (in
    path order) past the total and each later one is reported."""
    invoices = _of(scope, "invoices")
    if not invoices:
        return
    links = _links(ctx, ctx.folder_paths("invoices"))
    products = ctx.catalogs.get("products")
    for f in invoices:
        data = _data(ctx, f)
        order_id = data.get("order") if data else None
        if data is None or not isinstance(order_id, str):
            continue
        order = ctx.record_data("orders", order_id)
        if order is None:
            continue  # unknown-reference says so
        mine, theirs = data.get("partner"), order.get("partner")
        if isinstance(mine, str) and isinstance(theirs, str) and mine != theirs:
            yield finding(
                "document-source",
                f,
                f"partner '{mine}' is not order '{order_id}''s, '{theirs}'",
                ("partner",),
                hint=f"an invoice bills its order's partner: set partner: {theirs}",
            )
        if data.get("status") == "open" and order.get("status") == "canceled":
            yield finding(
                "document-source",
                f,
                f"open invoice of order '{order_id}', which is canceled",
                ("status",),
                hint=f"cancel this invoice too (crm invoice cancel {f.place.id})",
            )
        amount = decimal(data.get("amount"))
        if amount is None or data.get("status") not in COUNTED_INVOICE:
            continue
        earlier = [
            other
            for path in links.get(("invoices", order_id), ())
            if path < f.path and (other := ctx.data_for(path)) is not None
        ]
        left = left_to_invoice(
            {**order, "id": order_id}, [e for e in earlier if isinstance(e, dict)], products
        )
        if left is not None and to_cent(amount) > left:
            total = document_totals(order, products)
            yield finding(
                "document-source",
                f,
                f"invoice of {to_cent(amount)} is more than order '{order_id}' has left to "
                f"invoice, {to_cent(max(left, ZERO))}",
                ("amount",),
                hint=f"order '{order_id}' comes to {total.gross if total else '?'}; "
                "its open and paid invoices never add up to more",
            )


def paid_on(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    """document-status: a paid invoice says when (``paid_on``)."""
    missing = missing_for(f.place.name, f.data)
    if missing is not None:
        yield finding(
            "document-status",
            f,
            f"a {f.data.get('status')} {NOUN[f.place.name]} needs {missing}",
            ("status",),
            hint=f"set {missing} to the date (crm invoice paid ID --on DATE)",
        )


LINKED_RULES = ("closed-source", "quote-open-twice", "document-source")


def linked(ctx: Context) -> Iterator[Finding]:
    """Every link check, on the documents :func:`linked_scope` picks (computed once);
    the cached link findings of those documents give way to the new ones."""
    scope = linked_scope(ctx)
    for f in scope:
        if not f.fresh:
            f.findings = [x for x in f.findings if x.rule not in LINKED_RULES]
    for check in (quotes_of_opportunity, revision_source, order_source, invoice_source):
        yield from check(ctx, scope)


# --- steps ---------------------------------------------------------------------------


def status_steps(step: Step, change: Change) -> Iterator[Finding]:
    """document-status: a document's status moves as its lifecycle allows; a new one
    does not start at a final status (but in the commit that creates the repository,
    which brings its history along)."""
    folder, new = change.folder, change.new
    if folder not in LINKS or new is None:
        return
    noun = NOUN[folder]
    after = new.get("status")
    if not isinstance(after, str):
        return
    if change.old is None:
        if is_final(folder, after) and step.old_catalogs.get("kinds"):
            yield Finding(
                "document-status",
                change.path,
                f"a new {noun} starts {after}",
                pointer=("status",),
                record=change.id,
                hint=f"a new {noun} starts {_either(_starts(folder))}, and "
                "its status moves on from there",
            )
        return
    before = change.old.get("status")
    if not isinstance(before, str) or allowed(folder, before, after):
        return
    steps = next_statuses(folder, before)
    yield Finding(
        "document-status",
        change.path,
        f"{noun} status changed from '{before}' to '{after}'",
        pointer=("status",),
        record=change.id,
        hint=(
            f"a {before} {noun} becomes {_either(steps)}"
            if steps
            else f"'{before}' is final: a {before} {noun} does not change status"
        ),
    )


def _either(words: list[str]) -> str:
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _starts(folder: str) -> list[str]:
    """The statuses a new document may start at: any that is not final (a quote
    sent outside crm is recorded active)."""
    return [status for status in TRANSITIONS[folder] if not is_final(folder, status)]


_STEP = frozenset({"base"})
_LINKED = frozenset({"links"})
CHECKS = (
    Check(paid_on, ("document-status",), "record", ("invoices",)),
    Check(
        linked,
        LINKED_RULES,
        "record",
        ("quotes", "orders", "invoices"),
        _LINKED,
    ),
    Check(status_steps, ("document-status",), "step", depends=_STEP),
)
