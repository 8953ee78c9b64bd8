"""What the record screen's text tabs draw: General, Parties, Primary demand, Insight,
Competitors (Rich renderables of one opportunity; the tables of Activities and Quotes
are widgets, :mod:`crmfiles.tui.widgets.record_tables`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from crmfiles.money import fmt, lines_total
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.rows import ListRow, listing, mapping

INSIGHT = ("problem", "pain", "reasons", "impacts", "capabilities")


def grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=16)
    table.add_column(overflow="fold")
    return table


def general(snapshot: TuiSnapshot, row: ListRow) -> RenderableType:
    data = row.data
    table = grid()
    currency = row.row.currency
    amount = fmt(row.row.amount) + f" {currency}" if row.row.amount is not None else "-"
    if "amount" not in data and row.row.amount is not None:
        amount += "  (sum of the lines)"
    weighted = fmt(row.row.weighted) + f" {currency}" if row.row.weighted is not None else "-"
    days = snapshot.days.get(row.id)
    kind = data.get("kind")
    entries: list[tuple[str, Any]] = [
        ("Kind", f"{snapshot.name('kinds', kind)} ({snapshot.kind_type(kind) or '?'})"),
        ("Stage", snapshot.name("stages", data.get("stage")) or "-"),
        ("Days in stage", "" if days is None else str(days)),
        ("Status", {"in_progress": "open"}.get(str(data.get("status")), data.get("status"))),
        ("Probability", f"{data.get('probability')}%" if "probability" in data else "-"),
        ("Amount", amount),
        ("Weighted", weighted),
        ("Opened", data.get("opened")),
        ("Expected close", data.get("expected_close")),
        ("Closed on", data.get("closed_on")),
        ("Loss reason", snapshot.name("loss-reasons", data.get("loss_reason"))),
        ("Loss comment", data.get("loss_comment")),
        ("Responsible", snapshot.name("people", data.get("responsible"))),
        ("Terms", snapshot.name("terms", data.get("terms"))),
        ("Channel", snapshot.name("channels", data.get("channel"))),
        ("Source", data.get("source")),
        ("Tags", ", ".join(snapshot.name("tags", t) for t in data.get("tags") or [])),
        ("Next milestone", data.get("next_milestone")),
        ("Comment", data.get("comment")),
    ]
    origin = data.get("origin")
    if isinstance(origin, dict):
        entries.append(("Origin", f"{origin.get('type')} {origin.get('id')}"))
    for label, value in entries:
        if value not in (None, ""):
            table.add_row(label, str(value))
    return table


def parties(snapshot: TuiSnapshot, row: ListRow) -> RenderableType:
    data = row.data
    parts: list[RenderableType] = []
    partner = snapshot.records["partners"].get(str(data.get("partner")))
    head = grid()
    if partner is None:
        head.add_row("Partner", Text(f"{data.get('partner')} (unknown)", style="red"))
    else:
        p = partner.data
        address = mapping(p.get("address"))
        where = ", ".join(
            str(address[k]) for k in ("street", "postal_code", "city", "country") if k in address
        )
        head.add_row("Partner", f"{p.get('name', partner.id)}  ({', '.join(p.get('roles') or [])})")
        for label, value in (
            ("Industry", p.get("industry")),
            ("Address", where),
            ("Phone", p.get("phone")),
            ("Website", p.get("website")),
        ):
            if value:
                head.add_row(label, str(value))
    head.add_row("Responsible", snapshot.name("people", data.get("responsible")))
    team = [snapshot.name("people", t) for t in data.get("team") or []]
    if team:
        head.add_row("Team", ", ".join(team))
    parts.append(head)
    contacts = Table(title="Contacts", title_justify="left", expand=True)
    for column in ("Name", "Position", "E-mail", "Phone"):
        contacts.add_column(column)
    for cid in data.get("contacts") or []:
        contact = snapshot.records["contacts"].get(str(cid))
        if contact is None:
            contacts.add_row(Text(f"{cid} (unknown)", style="red"), "", "", "")
            continue
        c = contact.data
        contacts.add_row(
            str(c.get("name", cid)),
            str(c.get("position") or ""),
            str(c.get("email") or ""),
            str(c.get("phone") or ""),
        )
    parts.append(Text(""))
    parts.append(contacts)
    return Group(*parts)


def demand(snapshot: TuiSnapshot, row: ListRow) -> RenderableType:
    data = row.data
    lines = listing(data.get("lines"))
    products = snapshot.catalogs["products"]
    currency = row.row.currency
    table = Table(expand=True)
    for column, right in (
        ("Product", False),
        ("Qty", True),
        ("Unit price", True),
        ("Disc %", True),
        ("Months", True),
        ("Margin %", True),
        ("Line total", True),
    ):
        table.add_column(column, justify="right" if right else "left")
    for line in lines:
        if not isinstance(line, dict):
            continue
        product = products.get(str(line.get("product")), {})
        name = str(product.get("name") or line.get("product") or line.get("description") or "")
        if line.get("description") and line.get("product"):
            name += f" - {line['description']}"
        price = line.get("unit_price", product.get("price"))
        total = lines_total({"lines": [line]}, products)
        table.add_row(
            name,
            str(line.get("quantity", 1)),
            fmt(Decimal(str(price))) if price is not None else "",
            str(line.get("discount") or ""),
            str(line.get("duration_months") or ""),
            str(line.get("margin") or ""),
            fmt(total) if total is not None else "?",
        )
    total = lines_total(data, products)
    summary = grid()
    summary.add_row("Sum of the lines", f"{fmt(total)} {currency}" if total is not None else "-")
    if "amount" in data:
        summary.add_row("Amount (given)", f"{fmt(row.row.amount)} {currency}")
    kind = snapshot.catalogs["kinds"].get(str(data.get("kind")), {})
    if kind.get("record_primary_demand"):
        summary.add_row(
            "", Text("This kind needs lines before leaving its first stage.", style="dim")
        )
    if not lines:
        return Group(Text("No lines yet.", style="dim"), Text(""), summary)
    return Group(table, summary)


def insight(row: ListRow) -> RenderableType:
    insight = mapping(row.data.get("insight"))
    table = grid()
    for key in INSIGHT:
        table.add_row(key.title(), str(insight.get(key) or "-"))
    return table


def competitors(snapshot: TuiSnapshot, row: ListRow) -> RenderableType:
    competitors = row.data.get("competitors") or []
    if not competitors:
        return Text("No competitors recorded.", style="dim")
    table = Table(expand=True)
    for column in ("Competitor", "Outcome", "Comment"):
        table.add_column(column)
    for entry in competitors:
        if isinstance(entry, dict):
            table.add_row(
                snapshot.name("partners", entry.get("partner")),
                str(entry.get("outcome") or ""),
                str(entry.get("comment") or ""),
            )
    return table
