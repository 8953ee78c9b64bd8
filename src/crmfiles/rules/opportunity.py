"""One-record checks of an opportunity: stage and kind, status, money, dates, source."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from crmfiles.diagnostics import Finding
from crmfiles.money import decimal as money
from crmfiles.money import lines_total
from crmfiles.records import LoadedFile, iso_date
from crmfiles.rules.base import Context, finding, text
from crmfiles.rules.registry import Check

SOURCE_TARGET = {
    "partner": "partners",
    "contact": "contacts",
    "person": "people",
    "campaign": "campaigns",
}


def stage_fits_kind(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    data = f.data
    kind = ctx.catalog_entry("kinds", data.get("kind"))
    if kind is None:
        return  # unknown kind: the reference rule says so
    stage = data.get("stage")
    listed = kind.get("stages")
    stages: list[Any] = listed if isinstance(listed, list) else []
    if kind.get("type") == "stageless":
        if stage is not None:
            yield finding(
                "stage-on-stageless",
                f,
                f"kind '{data['kind']}' is stageless, so it has no stage",
                ("stage",),
                at_key=True,
                hint="remove the stage field",
            )
        return
    if stage is None:
        yield finding(
            "stage-missing",
            f,
            f"kind '{data['kind']}' needs a stage",
            ("kind",),
            hint=f"set stage to one of: {', '.join(map(str, stages))}",
        )
        return
    if not isinstance(stage, str) or stage in stages:
        return
    if "stages" in ctx.catalogs and stage not in ctx.catalogs["stages"]:
        return  # an unknown stage: the reference rule says so
    yield finding(
        "stage-not-in-kind",
        f,
        f"stage '{stage}' is not a stage of kind '{data['kind']}'",
        ("stage",),
        hint=f"the stages of '{data['kind']}' are: {', '.join(map(str, stages))}",
    )


def status_consistent(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    data = f.data
    status = data.get("status")
    probability = data.get("probability")
    if data.get("closed") is True and status == "in_progress":
        yield finding(
            "closed-in-progress",
            f,
            "an opportunity in progress cannot be closed",
            ("closed",),
            hint="set status to won or lost, or closed to false",
        )
    if isinstance(probability, int) and not isinstance(probability, bool):
        expected = {"won": 100, "lost": 0}.get(str(status))
        if expected is not None and probability != expected:
            yield finding(
                "probability-inconsistent",
                f,
                f"a {status} opportunity has probability {expected}, not {probability}",
                ("probability",),
                hint=f"set probability: {expected}",
            )
        elif status == "in_progress" and probability > 99:
            yield finding(
                "probability-inconsistent",
                f,
                "an opportunity in progress has a probability of 0 to 99",
                ("probability",),
                hint="close it as won to reach 100",
            )
    if status == "lost" and not data.get("loss_reason"):
        yield finding(
            "lost-without-reason",
            f,
            "lost without a loss reason",
            ("status",),
            hint="set loss_reason to an id from catalogs/loss-reasons.yaml",
        )
    if data.get("loss_reason") and status in ("won", "in_progress"):
        yield finding(
            "loss-reason-not-lost",
            f,
            f"a loss reason on an opportunity that is {status}",
            ("loss_reason",),
            at_key=True,
            hint="remove loss_reason, or set status to lost",
        )


def sources_fit_channels(ctx: Context) -> Iterator[Finding]:
    """The source of an opportunity or a lead is a record of the kind its channel's
    impact type names (id-dependent: it runs on every file when ids changed)."""
    for f in ctx.scope():
        if f.place.kind != "record" or f.place.name not in ("opportunities", "leads"):
            continue
        channel_id = ctx.fact(f, "channel")
        source = ctx.fact(f, "source")
        channel = ctx.catalog_entry("channels", channel_id)
        if channel is None or source is None:
            continue
        impact = channel.get("impact")
        if impact == "none":
            yield finding(
                "source-channel-mismatch",
                f,
                f"channel '{channel_id}' takes no source",
                ("source",),
                hint="remove the source, or pick a channel whose impact type needs one",
            )
            continue
        target = SOURCE_TARGET.get(str(impact))
        known = ctx.known(target) if target else None
        if known is None or not isinstance(source, str) or source in known:
            continue
        yield finding(
            "source-channel-mismatch",
            f,
            f"source '{source}' is not a {impact}, as channel '{channel_id}' needs",
            ("source",),
            hint=f"the channel's impact type is '{impact}': the source is the id of a "
            f"{impact} that brought the lead",
        )


def dates_in_order(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    pairs = {
        "opportunities": (
            ("opened", "expected_close"),
            ("opened", "closed_on"),
            ("production_start", "production_end"),
        ),
        "quotes": (("date", "valid_until"),),
        "orders": (("date", "delivered_on"),),
        "invoices": (("date", "due"), ("date", "paid_on")),
        "tasks": (("created", "completed_on"),),
    }.get(f.place.name, ())
    for start_key, end_key in pairs:
        start, end = iso_date(f.data.get(start_key)), iso_date(f.data.get(end_key))
        if start and end and end < start:
            yield finding(
                "date-order",
                f,
                f"{end_key} {end} is before {start_key} {start}",
                (end_key,),
                hint=f"{end_key} cannot precede {start_key}",
            )


MONEY_KEYS = ("amount", "unit_price", "price", "budget")


MONEY_MAX = Decimal("999999999999.99")  # the schema's maximum of one amount


def money_exact(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    data = f.data
    yield from _lines_in_range(ctx, f)
    spots: list[tuple[tuple[str | int, ...], Any]] = [
        ((k,), data[k]) for k in MONEY_KEYS if k in data
    ]
    lines = data.get("lines")
    if isinstance(lines, list):
        for index, line in enumerate(lines):
            if isinstance(line, dict) and "unit_price" in line:
                spots.append((("lines", index, "unit_price"), line["unit_price"]))
    for pointer, value in spots:
        if not isinstance(value, float) or round(value, 2) == value:
            continue  # an int, or a float with at most two places: exact enough
        amount = money(value)
        if amount is not None and amount.as_tuple().exponent < -2:  # type: ignore[operator]
            yield finding(
                "money-precision",
                f,
                f"{value} has more than two decimal places",
                pointer,
                hint=f"write {amount.quantize(Decimal('0.01'))}",
            )


def _lines_in_range(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    """The schema bounds each amount and quantity; their products can still add up to
    more than any amount may be (quantity 10^9 x unit price 10^12)."""
    lines = f.data.get("lines")
    if not isinstance(lines, list):
        return
    rough = 0.0  # floats are enough to see that nothing comes near the bound
    for line in lines:
        if not isinstance(line, dict):
            return
        quantity, price = line.get("quantity", 1), line.get("unit_price", 0)
        months = line.get("duration_months", 1)
        if not all(isinstance(v, (int, float)) for v in (quantity, price, months)):
            continue
        rough += abs(quantity * price * months)
    if rough < float(MONEY_MAX) / 2:
        return
    total = lines_total(f.data, ctx.catalogs.get("products"))
    if total is not None and total > MONEY_MAX:
        yield finding(
            "money-range",
            f,
            f"the lines add up to {total:,.2f}, more than an amount may be",
            ("lines",),
            hint="amounts are under a trillion: check the quantities and unit prices",
        )


def amount_matches_lines(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    amount = money(f.data.get("amount"))
    if amount is None or not f.data.get("lines"):
        return
    total = lines_total(f.data, ctx.catalogs.get("products"))
    if total is not None and amount != total:
        yield finding(
            "amount-mismatch",
            f,
            f"amount {amount} differs from the sum of the lines, {total}",
            ("amount",),
            hint="remove amount to use the lines' sum, or correct it",
        )


def currency_consistent(ctx: Context, f: LoadedFile) -> Iterator[Finding]:
    data = f.data
    currency = text(data, "currency") or ctx.config.currency
    lines = data.get("lines")
    if not isinstance(lines, list):
        return
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            continue
        own = line.get("currency")
        if isinstance(own, str) and own != currency:
            yield finding(
                "currency-mismatch",
                f,
                f"line {index + 1} is in {own}, the record in {currency}",
                ("lines", index, "currency"),
                hint=f"convert the line to {currency}, or drop its currency field",
            )
            continue
        if "unit_price" in line:
            continue
        product = ctx.catalog_entry("products", line.get("product"))
        product_currency = product.get("currency") if product else None
        if isinstance(product_currency, str) and product_currency != currency:
            yield finding(
                "currency-mismatch",
                f,
                f"line {index + 1} takes the {product_currency} list price of "
                f"'{line['product']}' into a {currency} record",
                ("lines", index, "product"),
                hint=f"give the line a unit_price in {currency}",
            )


_CURRENCY_LINKS = {
    "quotes": ("opportunity", "opportunities"),
    "orders": ("quote", "quotes"),
    "invoices": ("order", "orders"),
}


def currencies_follow_sources(ctx: Context) -> Iterator[Finding]:
    """A quote is in its opportunity's currency, an order in its quote's, an invoice
    in its order's (read from every record's facts on each run: cheap, never stale)."""
    for path in [p for folder in _CURRENCY_LINKS for p in ctx.folder_paths(folder)]:
        f = ctx.file(path)
        link = _CURRENCY_LINKS.get(f.place.name) if f is not None else None
        if f is None or link is None:
            continue
        key, folder = link
        source_id = ctx.fact(f, key)
        source = ctx.record_facts(folder, source_id) if isinstance(source_id, str) else None
        if source is None:
            continue
        mine = ctx.fact(f, "currency")
        mine = mine if isinstance(mine, str) else ctx.config.currency
        theirs = source.get("currency")
        theirs = theirs if isinstance(theirs, str) else ctx.config.currency
        if mine != theirs:
            noun = f.place.name[:-1]
            yield finding(
                "currency-mismatch",
                f,
                f"{noun} in {mine}, but {key} '{source_id}' is in {theirs}",
                ("currency",) if ctx.fact(f, "currency") is not None else (key,),
                hint=f"write the {noun} in {theirs}",
            )


CHECKS = (
    Check(
        stage_fits_kind,
        ("stage-not-in-kind", "stage-on-stageless", "stage-missing"),
        "record",
        ("opportunities",),
    ),
    Check(
        status_consistent,
        (
            "closed-in-progress",
            "probability-inconsistent",
            "lost-without-reason",
            "loss-reason-not-lost",
        ),
        "record",
        ("opportunities",),
    ),
    Check(
        dates_in_order,
        ("date-order",),
        "record",
        ("opportunities", "quotes", "orders", "invoices", "tasks"),
    ),
    Check(
        money_exact,
        ("money-precision", "money-range"),
        "record",
        ("opportunities", "quotes", "orders", "invoices"),
    ),
    Check(amount_matches_lines, ("amount-mismatch",), "record", ("opportunities", "quotes")),
    Check(
        currency_consistent, ("currency-mismatch",), "record", ("opportunities", "quotes", "orders")
    ),
    Check(
        sources_fit_channels,
        ("source-channel-mismatch",),
        "record",
        ("opportunities", "leads"),
        frozenset({"ids"}),
    ),
    Check(currencies_follow_sources, ("currency-mismatch",), "collective"),
)
