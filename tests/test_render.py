"""``crm render``: a quote, an order, an invoice and an opportunity as a customer (or a
colleague) reads them, through the built-in templates or the repository's own, in a
sandbox that reaches neither Python nor the file system."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import commit_all, write
from printing_fixture import GROSS, NET, add_documents

from crmfiles.cli.main import main


@pytest.fixture
def docs(repo: Path) -> Path:
    add_documents(repo)
    return repo


def render(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["render", *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["render", *args]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


def test_a_quote_in_html_as_the_customer_receives_it(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = render(capsys, "q-2026-0021")
    # the company from crm.yaml's documents.company, the customer from the partner
    assert "Nordwind Industrial GmbH" in html and "Hafenweg 1" in html
    assert "Acme Müller GmbH" in html and "Müllerstraße 5" in html and "80331 München" in html
    assert "Jane Doe, Head of logistics" in html and "Dear Jane Doe," in html
    # each line: name, detail, quantity, unit, unit price, discount, tax rate, net
    assert "Forklift" in html and "Electric, 1.6 t." in html
    row = html.split("<td>1</td>", 1)[1].split("</tr>", 1)[0]
    for cell in ("2", "piece", "15,000.00", "5 %", "19 %", "28,500.00"):
        assert f">{cell}</td>" in row
    assert "Operator manual" in html and ">12.50</td>" in html and ">37.50</td>" in html
    assert "Fahrerschulung – 1 Tag, €-Pauschale" in html
    # net, tax by rate, gross: exact, two places
    assert f"{NET} EUR" in html and f"{GROSS} EUR" in html
    assert 'Tax 7 % on 37.50</td><td class="num">2.62 EUR' in html
    assert 'Tax 19 % on 28,950.00</td><td class="num">5,500.50 EUR' in html
    assert "Valid until</td><td>2026-03-31" in html
    assert "Payable within 30 days of the invoice date" in html
    # it prints well: page size and margins, the header on every page, no row split
    assert "@page { size: A4;" in html
    assert "thead { display: table-header-group; }" in html
    assert "break-inside: avoid" in html


def test_html_escapes_what_records_say(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(docs, {"contacts/jane.yaml": "id: jane\nname: Jane <b>Doe</b> & Co\npartner: acme\n"})
    html = render(capsys, "q-2026-0021")
    assert "Jane &lt;b&gt;Doe&lt;/b&gt; &amp; Co" in html and "<b>Doe" not in html


def test_a_quote_in_markdown(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md = render(capsys, "q-2026-0021", "--format", "md")
    assert md.startswith("# Quote q-2026-0021\n")
    assert "| 1 | Forklift | 2 | piece | 15,000.00 | 5 % | 19 % | 28,500.00 |" in md
    assert f"| **Total** | **{GROSS} EUR** |" in md
    assert "| Tax 19 % on 28,950.00 | 5,500.50 EUR |" in md
    assert "| Valid until | 2026-03-31 |" in md


def test_an_order_confirmation(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md = render(capsys, "ord-2026-0004", "--format", "md")
    assert md.startswith("# Order confirmation ord-2026-0004\n")
    assert "| Your acceptance of | q-2026-0021 |" in md
    assert f"| Net total | {NET} EUR |" in md and f"**{GROSS} EUR**" in md


def test_a_partial_invoice_states_its_share_and_how_to_pay(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    md = render(capsys, "inv-2026-0007", "--format", "md")
    assert "| Order | ord-2026-0004 |" in md
    # due: the invoice's date + 30 days (crm.yaml documents.payment_days)
    assert "| Due | 2026-05-01 |" in md
    assert f"| **Total** | **{GROSS} EUR** |" in md  # the order's
    # the order's first invoice: the later one does not change what it says
    assert "Invoiced before" not in md
    # 10,000.00 of 34,490.62: each rate's part in proportion (7 %: 40.12 of the gross
    # -> 11.63, of which tax 11.63 x 7 / 107 = 0.76), the last rate the rest (9,988.37,
    # of which tax 9,988.37 x 19 / 119 = 1,594.78): the parts add up to the amount
    assert "| Tax 7 % on 10.87 | 0.76 EUR |" in md
    assert "| Tax 19 % on 8,393.59 | 1,594.78 EUR |" in md
    assert "| This invoice, net | 8,404.46 EUR |" in md
    assert "| **Amount due** | **10,000.00 EUR** |" in md
    assert "| Left on the order after this invoice | 24,490.62 EUR |" in md
    assert "Please pay **10,000.00 EUR** by 2026-05-01, quoting inv-2026-0007." in md
    assert "IBAN DE02 1203 0000 0000 2020 51" in md
    html = render(capsys, "inv-2026-0009")
    assert "Due</td><td>2026-05-15" in html  # its own due date wins
    # the second invoice counts the first, dated before it
    md = render(capsys, "inv-2026-0009", "--format", "md")
    assert "| Invoiced before | 10,000.00 EUR |" in md
    assert "| Left on the order after this invoice | 0.00 EUR |" in md


def test_an_opportunity_summary(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    html = render(capsys, "acme-forklifts")
    assert "<h1>Acme forklifts</h1>" in html
    assert "Customer</td><td>Acme</td>" in html and "Stage</td><td>Qualify</td>" in html
    assert "30,000.00 EUR" in html and 'Weighted</td><td class="num">3,000.00 EUR' in html
    assert "q-2026-0021" in html and f"{GROSS} EUR" in html  # its quote, with total
    md = render(capsys, "acme-forklifts", "--format", "md")
    assert "| Responsible | Alice Martin |" in md


def test_the_repository_template_wins_and_any_record_renders(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        docs,
        {
            "templates/quote.html.j2": "<p>{{ document.id }}: {{ totals.gross | money }}</p>\n",
            "templates/partner.md.j2": "{{ record.name }} ({{ record.legal_name }})\n",
            "templates/letter.html.j2": '{% extends "_layout.html.j2" %}'
            "{% block body %}<p>Hello {{ partner.name }}</p>{% endblock %}\n",
        },
    )
    assert render(capsys, "q-2026-0021") == f"<p>q-2026-0021: {GROSS}</p>\n"
    assert render(capsys, "acme", "--format", "md") == "Acme (Acme Müller GmbH)\n"
    letter = render(capsys, "q-2026-0021", "--template", "letter")
    assert "<p>Hello Acme</p>" in letter and "Nordwind Industrial GmbH" in letter  # built-in layout


def test_render_to_a_file(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    render(capsys, "q-2026-0021", "--format", "md", "-o", "quote.md")
    assert (docs / "quote.md").read_text("utf-8").startswith("# Quote q-2026-0021\n")


def test_the_pdf_has_the_names_and_the_totals(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pypdf import PdfReader

    render(capsys, "q-2026-0021", "--format", "pdf", "-o", "q.pdf")
    data = (docs / "q.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Acme Müller GmbH" in text and "Müllerstraße 5" in text
    assert "Fahrerschulung – 1 Tag, €-Pauschale" in text  # beyond Latin-1: the embedded font
    assert "Nordwind Industrial GmbH" in text and "Jane Doe, Head of logistics" in text
    assert f"Net total {NET} EUR" in text and f"Total {GROSS} EUR" in text
    assert "Tax 19 % on 28,950.00 5,500.50 EUR" in text and "2.62 EUR" in text
    assert "Valid until 2026-03-31" in text
    assert reader.metadata is not None and reader.metadata.title == "Quote q-2026-0021"
    render(capsys, "inv-2026-0007", "--format", "pdf", "-o", "i.pdf")
    text = PdfReader(docs / "i.pdf").pages[0].extract_text()
    assert "Amount due 10,000.00 EUR" in text and "Please pay 10,000.00 EUR by 2026-05-01" in text


def test_a_recurring_line_shows_its_months(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """2 × 95.00 = 6,840.00 does not read; 2 × 36 months at 95.00 per month does."""
    quote = (docs / "quotes/2026/03/q-2026-0021.yaml").read_text()
    service = (
        "  - description: Fleet service\n    quantity: 2\n    unit_price: 95\n"
        "    tax_rate: 19\n    duration_months: 36\n"
    )
    write(docs, {"quotes/2026/03/q-2026-0021.yaml": quote.replace("terms: net30\n", "")
                 + service + "terms: net30\n"})  # fmt: skip
    md = render(capsys, "q-2026-0021", "--format", "md")
    assert "| 4 | Fleet service | 2 × 36 months |  | 95.00 per month |  | 19 % | 6,840.00 |" in md
    html = render(capsys, "q-2026-0021")
    row = html.split("<td>4</td>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">2 × 36 months</td>' in row
    assert '<td class="num">95.00 per month</td>' in row and ">6,840.00</td>" in row
    from pypdf import PdfReader

    render(capsys, "q-2026-0021", "--format", "pdf", "-o", "q.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(docs / "q.pdf").pages)
    flat = " ".join(text.split())
    assert "2 × 36 months" in flat and "95.00 per month" in flat


def test_the_pdf_address_and_details_do_not_overlap(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where each piece of text is drawn: the customer's address lines sit in the left
    column, one below the other, left of the document's details (they were once drawn
    over them), and the footer's company line ends left of the page number."""
    from pypdf import PdfReader

    render(capsys, "q-2026-0021", "--format", "pdf", "-o", "q.pdf")
    placed: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            placed.append((text.strip(), tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    PdfReader(docs / "q.pdf").pages[0].extract_text(visitor_text=visit)

    def where(piece: str) -> tuple[float, float]:
        return next((x, y) for text, x, y in placed if text.startswith(piece))

    name_x, name_y = where("Acme Müller GmbH")
    street_x, street_y = where("Müllerstraße 5")
    label_x, _ = where("Valid until")
    assert street_x == pytest.approx(name_x) and street_y < name_y
    assert max(x for text, x, y in placed if name_y >= y >= street_y and x < label_x) < label_x
    page_x, page_y = where("Page 1 of")
    assert all(x < page_x for text, x, y in placed if abs(y - page_y) < 1 and text != "Page 1 of 1")


def test_a_long_quote_repeats_the_table_header_on_each_page(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pypdf import PdfReader

    lines = "".join(
        f"  - description: Spare part {n:03}\n    quantity: 1\n    unit_price: 10\n"
        for n in range(120)
    )
    write(docs, {"quotes/2026/03/q-2026-0030.yaml": (
        "id: q-2026-0030\nopportunity: acme-forklifts\nrevision: 1\nstatus: draft\n"
        f"partner: acme\nlines:\n{lines}"
    )})  # fmt: skip
    render(capsys, "q-2026-0030", "--format", "pdf", "-o", "long.pdf")
    pages = [p.extract_text() for p in PdfReader(docs / "long.pdf").pages]
    assert len(pages) >= 3
    for text in pages[1:]:
        if "Spare part" in text:
            assert "# Description Quantity Unit Unit price Discount Tax Net" in text
    assert "Total 1,200.00 EUR" in "\n".join(pages)
    assert "Page 1 of" in pages[0]


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("{{ ''.__class__.__mro__ }}", "refused by the sandbox"),
        ("{{ record.__class__ }}", "refused by the sandbox"),
        ("{{ lines.append(1) }}", "refused by the sandbox"),
        ("{{ 'x' * 100000000 }}", "refused by the sandbox"),
        ("{% include '/etc/passwd' %}", "template '/etc/passwd' not found"),
        ("{% include '../crm.yaml' %}", "not found"),
        ("{% import '../../../../etc/passwd' as p %}", "not found"),
        ("{{ totals.gros }}", "has no attribute 'gros'"),
    ],
)
def test_a_template_reaches_neither_python_nor_files(
    docs: Path, capsys: pytest.CaptureFixture[str], template: str, said: str
) -> None:
    write(docs, {"templates/evil.html.j2": f"<h1>Evil</h1>\n{template}\n"})
    err = refused(capsys, "q-2026-0021", "--template", "evil")
    assert err.startswith("crm: error: templates/evil.html.j2:2: "), err
    assert said in err
    assert "root:" not in err


def test_a_symlinked_template_is_not_followed(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (docs / "templates").mkdir()
    os.symlink("/etc/passwd", docs / "templates" / "link.html.j2")
    write(docs, {"templates/inc.html.j2": "ok\n{% include 'link.html.j2' %}\n"})
    err = refused(capsys, "q-2026-0021", "--template", "link")
    assert "templates/link.html.j2: a symlink; not read" in err
    err = refused(capsys, "q-2026-0021", "--template", "inc")
    assert err.startswith("crm: error: templates/inc.html.j2:2: ")
    assert "a symlink; not read" in err


def test_a_syntax_error_names_file_and_line(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(docs, {"templates/broken.md.j2": "# {{ document.id }}\n\n{% if %}\n"})
    err = refused(capsys, "q-2026-0021", "--template", "broken", "--format", "md")
    assert err.startswith("crm: error: templates/broken.md.j2:3: template syntax error: ")
    write(docs, {"templates/outer.md.j2": "a\n{% include 'broken.md.j2' %}\n"})
    err = refused(capsys, "q-2026-0021", "--template", "outer", "--format", "md")
    assert err.startswith("crm: error: templates/broken.md.j2:3: template syntax error: ")


def test_unknown_record_template_or_layout(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no record with id 'q-nope'" in refused(capsys, "q-nope")
    err = refused(capsys, "q-2026-0021", "--template", "fancy")
    assert "no template 'fancy.html.j2' in templates/ nor built in" in err
    assert "one of: invoice, opportunity, order, quote" in err
    err = refused(capsys, "acme")  # a partner: no built-in template
    assert "no template 'partner.html.j2'" in err
    assert "no PDF layout for a partner" in refused(capsys, "acme", "--format", "pdf")
    assert "--template applies to html and md" in refused(
        capsys, "q-2026-0021", "--format", "pdf", "--template", "quote"
    )


def test_a_document_without_a_total_is_not_printed(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(docs, {"quotes/2026/03/q-2026-0031.yaml": (
        "id: q-2026-0031\nopportunity: acme-forklifts\nrevision: 1\nstatus: draft\n"
        "lines:\n  - description: Something\n    quantity: 1\n"
    )})  # fmt: skip
    err = refused(capsys, "q-2026-0031")
    assert "quotes/2026/03/q-2026-0031.yaml: cannot be printed without its total" in err


def test_the_command_line_shows_no_traceback(docs: Path) -> None:
    write(docs, {"templates/evil.html.j2": "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"})
    done = subprocess.run(
        [sys.executable, "-m", "crmfiles", "render", "q-2026-0021", "--template", "evil"],
        cwd=docs,
        capture_output=True,
        text=True,
        env={**os.environ, "CRM_DEBUG": ""},
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("crm: error: templates/evil.html.j2:1: refused by the sandbox")
    assert "Traceback" not in done.stderr


def test_init_writes_the_templates_for_the_team(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "new")]) == 0
    root = tmp_path / "new"
    names = sorted(p.name for p in (root / "templates").iterdir())
    for kind in ("quote", "order", "invoice", "opportunity"):
        assert f"{kind}.html.j2" in names and f"{kind}.md.j2" in names
    tracked = subprocess.run(
        ["git", "ls-files", "templates"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "templates/quote.html.j2" in tracked and "templates/_layout.html.j2" in tracked
    # the team restyles its copy; crm render reads it
    layout = root / "templates" / "_layout.html.j2"
    layout.write_text(layout.read_text("utf-8").replace("--accent: #1f5f8b", "--accent: #b00020"))
    add_documents(root, (root / "crm.yaml").read_text("utf-8"))
    write(root, {"partners/acme.yaml": "id: acme\nname: Acme\nroles: [customer]\n",
                 "contacts/jane.yaml": "id: jane\nname: Jane Doe\npartner: acme\n",
                 "opportunities/acme-forklifts.yaml": (
                     "id: acme-forklifts\nname: Acme forklifts\nkind: standard-sale\n"
                     "status: in_progress\npartner: acme\n")})  # fmt: skip
    commit_all(root)
    os.chdir(root)
    capsys.readouterr()
    assert "--accent: #b00020" in render(capsys, "q-2026-0021")
