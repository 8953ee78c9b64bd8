"""The PDF of a quote, an order, an invoice or an opportunity, laid out with fpdf2 from
the same context the templates get (:mod:`crmfiles.printing.context`).

fpdf2 is pure Python (its dependencies Pillow, fontTools and defusedxml are wheels):
nothing to install on the system, unlike WeasyPrint (Pango) or xhtml2pdf (Cairo).  Its
built-in fonts are Latin-1 only, so the PDF embeds DejaVu Sans (subset, ~100 KB a style,
Bitstream Vera licence: fonts/LICENSE.txt): "Müller", "€" and Cyrillic names print.  The
lines table repeats its header on every page and a row never splits across pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.printing.engine import money, number

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
ACCENT = (31, 95, 139)
MUTED = (92, 102, 112)
INK = (29, 35, 43)
#: what a PDF can be made of: a document, or an opportunity's summary
PRINTABLE = ("quote", "order", "invoice", "opportunity")


def _fpdf() -> Any:
    from fpdf import FPDF

    class Page(FPDF):
        """A4 with the company's name and the page number in every footer."""

        footer_text = ""
        running_head = ""

        def header(self) -> None:
            if self.page_no() > 1 and self.running_head:
                self.set_font(FAMILY, size=8)
                self.set_text_color(*MUTED)
                self.cell(0, 5, self.running_head, new_x="LMARGIN", new_y="NEXT")
                self.ln(3)
                self.set_text_color(*INK)

        def footer(self) -> None:
            # the company's line wraps in the room the page number leaves it
            self.set_y(-15)
            self.set_font(FAMILY, size=7.5)
            self.set_text_color(*MUTED)
            self.multi_cell(self.epw - 26, 3.6, self.footer_text, align="L")
            self.set_xy(self.l_margin, -15)
            self.cell(0, 3.6, f"Page {self.page_no()} of {{nb}}", align="R")
            self.set_text_color(*INK)

    return Page


def render_pdf(context: dict[str, Any]) -> bytes:
    """The PDF of ``context`` (a document's or an opportunity's)."""
    kind = context.get("type")
    if kind not in PRINTABLE:
        raise CrmError(
            f"no PDF layout for a {kind}: a PDF is made of a quote, an order, an invoice "
            "or an opportunity",
            hint="--format html or md renders any record through a template of yours",
        )
    pdf = _fpdf()(format="A4", unit="mm")
    pdf.set_margins(16, 16, 16)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    company = context["company"]
    document = context["document"]
    pdf.set_title(f"{document['title']} {document['id']}")
    pdf.set_creator("crmfiles")
    if company.get("name"):
        pdf.set_author(company["name"])
    pdf.footer_text = " · ".join(
        x
        for x in (
            company.get("name"),
            f"VAT ID {company['vat_id']}" if company.get("vat_id") else None,
            company.get("bank"),
        )
        if x
    )
    pdf.running_head = f"{company.get('name') or ''} – {document['title']} {document['id']}"
    pdf.add_page()
    _letterhead(pdf, company)
    if kind == "opportunity":
        _opportunity(pdf, context)
    else:
        _document(pdf, context)
    return bytes(pdf.output())


def _font(pdf: Any, size: float = 9.5, bold: bool = False, color: tuple[int, ...] = INK) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*color)


def _letterhead(pdf: Any, company: dict[str, Any]) -> None:
    top = pdf.get_y()
    _font(pdf, 16, bold=True, color=ACCENT)
    pdf.cell(110, 8, company.get("name") or "")
    _font(pdf, 8, color=MUTED)
    details = [
        *company["address"],
        company.get("phone"),
        company.get("email"),
        company.get("website"),
    ]
    pdf.set_xy(pdf.l_margin + 110, top)
    pdf.multi_cell(0, 3.8, "\n".join(d for d in details if d), align="R")
    bottom = max(pdf.get_y(), top + 9)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, bottom + 2, pdf.w - pdf.r_margin, bottom + 2)
    pdf.set_line_width(0.2)
    pdf.set_y(bottom + 8)
    _font(pdf)


def _pairs(pdf: Any, x: float, width: float, rows: Sequence[tuple[str, Any]]) -> float:
    """Label and value rows at ``x``; the y below them."""
    label = min(34.0, width * 0.45)
    for name, value in rows:
        if value in (None, ""):
            continue
        pdf.set_x(x)
        _font(pdf, 9, color=MUTED)
        pdf.cell(label, 5, name)
        _font(pdf, 9)
        pdf.multi_cell(width - label, 5, str(value), align="L", new_x="LMARGIN", new_y="NEXT")
    return float(pdf.get_y())


def _paragraph(pdf: Any, text: str | None, *, bold: bool = False, size: float = 9.5) -> None:
    if text:
        _font(pdf, size, bold=bold)
        pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)


def _heading(pdf: Any, text: str, size: float = 11) -> None:
    if pdf.will_page_break(18):
        pdf.add_page()
    pdf.ln(3)
    _font(pdf, size, bold=True, color=ACCENT)
    pdf.multi_cell(0, 6, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    _font(pdf)


def _document(pdf: Any, context: dict[str, Any]) -> None:
    document, company, partner = context["document"], context["company"], context["partner"]
    contacts = context["contacts"]
    top = pdf.get_y()
    if company.get("name"):
        _font(pdf, 7, color=MUTED)
        pdf.cell(95, 4, " · ".join([company["name"], *company["address"]]))
        pdf.ln(5)
    if partner:
        _font(pdf, 10, bold=True)
        pdf.multi_cell(
            95, 5, partner.get("legal_name") or partner["name"], new_x="LMARGIN", new_y="NEXT"
        )
        _font(pdf, 10)
        lines = [
            f"{c['name']}, {c['position']}" if c.get("position") else c["name"]
            for c in contacts[:1]
        ]
        lines += partner["address"]
        pdf.multi_cell(95, 5, "\n".join(lines), align="L", new_x="LMARGIN", new_y="NEXT")
        if partner.get("vat_id"):
            _font(pdf, 8.5, color=MUTED)
            pdf.cell(95, 5, f"VAT ID {partner['vat_id']}", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()
    pdf.set_y(top)
    meta: list[tuple[str, Any]] = [(document["title"], document["id"]), ("Date", document["date"])]
    if document["type"] == "quote":
        if (document.get("revision") or 1) > 1:
            meta.append(("Revision", document["revision"]))
        meta.append(("Valid until", document["valid_until"]))
    elif document["type"] == "order":
        meta += [
            ("Your acceptance of", document["quote"]),
            ("Delivered on", document["delivered_on"]),
        ]
    else:
        meta += [("Order", document["order"]), ("Due", document["due"])]
    opportunity = document.get("opportunity")
    meta += [
        ("Subject", opportunity["name"] if opportunity else None),
        ("Currency", document["currency"]),
    ]
    right_bottom = _pairs(pdf, pdf.l_margin + 104, 74, meta)
    pdf.set_y(max(left_bottom, right_bottom) + 6)
    _font(pdf, 15, bold=True)
    heading = "Order confirmation" if document["type"] == "order" else document["title"]
    pdf.cell(0, 8, f"{heading} {document['id']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if document["type"] == "quote":
        if contacts:
            _paragraph(pdf, f"Dear {contacts[0]['name']},")
        until = f", valid until {document['valid_until']}" if document.get("valid_until") else ""
        _paragraph(
            pdf, f"Thank you for your interest. We are pleased to offer you the following{until}."
        )
    elif document["type"] == "order":
        _paragraph(pdf, "Thank you for your order. We confirm it as follows.")
    _lines(pdf, context["lines"], taxes=True)
    currency = document["currency"]
    totals = context["totals"]
    rows = [("Net total", totals["net"], False)]
    rows += [
        (f"Tax {number(t['rate'])} % on {money(t['net'])}", t["tax"], False)
        for t in totals["taxes"]
    ]
    rows.append(("Total", totals["gross"], True))
    invoice = context.get("invoice")
    if invoice and invoice["partial"]:
        if invoice["other_invoices"]:
            rows.append(("Invoiced before", invoice["other_invoices"], False))
        rows.append(("This invoice, net", invoice["net"], False))
        rows += [
            (f"Tax {number(t['rate'])} % on {money(t['net'])}", t["tax"], False)
            for t in invoice["taxes"]
        ]
        rows.append(("Amount due", invoice["amount"], True))
        rows.append(("Left on the order after this invoice", invoice["balance"], False))
    _totals(pdf, rows, currency)
    if invoice:
        if document["status"] == "paid":
            paid = f" on {document['paid_on']}" if document.get("paid_on") else ""
            _paragraph(pdf, f"Paid{paid}. Thank you.", bold=True)
        elif document["status"] == "canceled":
            _paragraph(pdf, "This invoice is canceled.", bold=True)
        else:
            due = f" by {document['due']}" if document.get("due") else ""
            _paragraph(
                pdf,
                f"Please pay {money(invoice['amount'])} {currency}{due}, quoting {document['id']}.",
                bold=True,
            )
            _paragraph(pdf, company.get("bank"))
    terms = context.get("terms")
    if terms:
        _heading(pdf, "Terms")
        _paragraph(pdf, terms["name"], bold=True)
        _paragraph(pdf, terms.get("description"))
    _paragraph(pdf, document.get("comment"))


def _lines(pdf: Any, lines: list[dict[str, Any]], *, taxes: bool) -> None:
    from fpdf.fonts import FontFace

    head = ["#", "Description", "Quantity", "Unit", "Unit price", "Discount"]
    widths = [8, 62, 17, 14, 23, 18]
    align = ["RIGHT", "LEFT", "RIGHT", "LEFT", "RIGHT", "RIGHT"]
    if taxes:
        head.append("Tax")
        widths.append(12)
        align.append("RIGHT")
    head.append("Net")
    widths.append(178 - sum(widths))
    align.append("RIGHT")
    _font(pdf, 8.5)
    pdf.set_draw_color(201, 208, 214)
    with pdf.table(
        col_widths=widths,
        text_align=align,
        width=178,
        line_height=4.6,
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", color=MUTED),
        repeat_headings=1,
        padding=(1.2, 1),
    ) as table:
        row = table.row()
        for text in head:
            row.cell(text)
        for line in lines:
            what = [
                line["name"],
                line.get("description"),
                line.get("comment"),
            ]
            # a recurring line: so many units, so many months, at a price per month
            months = f" × {line['months']} months" if line.get("months") else ""
            cells = [
                str(line["position"]),
                "\n".join(w for w in what if w),
                number(line["quantity"]) + months,
                line.get("unit") or "",
                money(line["unit_price"]) + (" per month" if months else ""),
                f"{number(line['discount'])} %" if line.get("discount") else "",
            ]
            if taxes:
                cells.append(
                    f"{number(line['tax_rate'])} %" if line["tax_rate"] is not None else ""
                )
            cells.append(money(line["net"]))
            row = table.row()
            for text in cells:
                row.cell(text)
    pdf.ln(2)


def _totals(pdf: Any, rows: list[tuple[str, Any, bool]], currency: str) -> None:
    if pdf.will_page_break(5.5 * len(rows) + 4):
        pdf.add_page()
    x = pdf.l_margin + 78
    for label, amount, strong in rows:
        if strong:
            pdf.set_draw_color(*INK)
            pdf.line(x, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.set_x(x)
        _font(pdf, 9.5, bold=strong)
        pdf.cell(64, 5.5, label)
        pdf.cell(36, 5.5, f"{money(amount)} {currency}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _font(pdf)


def _opportunity(pdf: Any, context: dict[str, Any]) -> None:
    opp, partner = context["opportunity"], context["partner"]
    _font(pdf, 15, bold=True)
    pdf.multi_cell(0, 8, opp["name"], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    currency = opp["currency"]
    status = (opp["status"] or "") + (" (closed)" if opp["closed"] else "")
    if opp.get("loss_reason"):
        status += f": {opp['loss_reason']}"
    top = pdf.get_y()
    left = _pairs(
        pdf,
        pdf.l_margin,
        88,
        [
            ("Opportunity", opp["id"]),
            ("Customer", partner["name"] if partner else None),
            ("Kind", opp["kind"]),
            ("Stage", opp["stage"]),
            ("Status", status),
            ("Responsible", opp["responsible"]),
            ("Team", ", ".join(t for t in opp["team"] if t)),
        ],
    )
    pdf.set_y(top)
    amount = f"{money(opp['amount'])} {currency}" if opp["amount"] is not None else None
    weighted = f"{money(opp['weighted'])} {currency}" if opp["weighted"] is not None else None
    probability = f"{opp['probability']} %" if opp["probability"] is not None else None
    terms = context.get("terms")
    right = _pairs(
        pdf,
        pdf.l_margin + 92,
        86,
        [
            ("Amount", amount),
            ("Probability", probability),
            ("Weighted", weighted),
            ("Opened", opp["opened"]),
            ("Expected close", opp["expected_close"]),
            ("Terms", terms["name"] if terms else None),
        ],
    )
    pdf.set_y(max(left, right) + 4)
    if opp.get("next_milestone"):
        _paragraph(pdf, f"Next milestone: {opp['next_milestone']}", bold=True)
    _paragraph(pdf, opp.get("comment"))
    if context["contacts"]:
        _heading(pdf, "Contacts")
        for c in context["contacts"]:
            _paragraph(
                pdf,
                " · ".join(
                    x for x in (c["name"], c.get("position"), c.get("email"), c.get("phone")) if x
                ),
            )
    if context["lines"]:
        _heading(pdf, "Lines")
        _lines(pdf, context["lines"], taxes=False)
        totals = context["totals"]
        if totals:
            _totals(
                pdf,
                [("Net total", totals["net"], False), ("Total with tax", totals["gross"], True)],
                currency,
            )
    if opp["insight"]:
        _heading(pdf, "Insight")
        for key, text in sorted(opp["insight"].items()):
            _paragraph(pdf, f"{key.capitalize()}: {text}")
    if context["quotes"]:
        _heading(pdf, "Quotes")
        for q in context["quotes"]:
            total = f", {money(q['gross'])} {q['currency'] or currency}" if q["gross"] else ""
            _paragraph(pdf, f"{q['id']} (revision {q['revision']}): {q['status']}{total}")
    if context["tasks"]:
        _heading(pdf, "Open tasks")
        for t in context["tasks"]:
            who = f" ({t['assignee']})" if t.get("assignee") else ""
            _paragraph(pdf, f"{t['due'] or 'no date'}: {t['title']}{who}")
