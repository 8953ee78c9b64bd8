"""A repository with a quote, an order and two invoices to print and mail: products
with tax rates, a partner with an address, the company and mail settings in crm.yaml."""

from __future__ import annotations

from pathlib import Path

from conftest import commit_all, write

CRM_YAML = """\
    version: 1
    name: Test Co
    currency: EUR
    documents:
      payment_days: 30
      company:
        name: Nordwind Industrial GmbH
        address: [Hafenweg 1, 24103 Kiel]
        vat_id: DE123456789
        email: sales@nordwind.example
        bank: IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001
    mail:
      from: sales@nordwind.example
    """

FILES = {
    "catalogs/products.yaml": """\
        - id: forklift
          name: Forklift
          description: Electric, 1.6 t.
          unit: piece
          price: 15000
          currency: EUR
          tax_rate: 19
        - id: manual
          name: Operator manual
          unit: piece
          price: 12.5
          currency: EUR
          tax_rate: 7
        """,
    "catalogs/terms.yaml": """\
        - id: net30
          name: Net 30
          description: Payable within 30 days of the invoice date, without deduction.
        """,
    "partners/acme.yaml": """\
        id: acme
        name: Acme
        legal_name: Acme Müller GmbH
        roles: [customer]
        vat_id: DE999888777
        address:
          street: Müllerstraße 5
          postal_code: '80331'
          city: München
          country: DE
        """,
    "contacts/jane.yaml": """\
        id: jane
        name: Jane Doe
        partner: acme
        position: Head of logistics
        email: jane@acme.example
        """,
    "quotes/2026/03/q-2026-0021.yaml": """\
        id: q-2026-0021
        opportunity: acme-forklifts
        revision: 1
        status: active
        partner: acme
        contacts: [jane]
        date: 2026-03-01
        valid_until: 2026-03-31
        currency: EUR
        terms: net30
        lines:
          - product: forklift
            quantity: 2
            unit_price: 15000
            discount: 5
          - product: manual
            quantity: 3
          - description: Fahrerschulung – 1 Tag, €-Pauschale
            quantity: 1
            unit_price: 450
            tax_rate: 19
        """,
    "orders/ord-2026-0004.yaml": """\
        id: ord-2026-0004
        quote: q-2026-0021
        opportunity: acme-forklifts
        partner: acme
        date: 2026-03-20
        status: open
        currency: EUR
        terms: net30
        lines:
          - product: forklift
            quantity: 2
            unit_price: 15000
            discount: 5
          - product: manual
            quantity: 3
          - description: Fahrerschulung – 1 Tag, €-Pauschale
            quantity: 1
            unit_price: 450
            tax_rate: 19
        """,
    "invoices/inv-2026-0007.yaml": """\
        id: inv-2026-0007
        order: ord-2026-0004
        partner: acme
        date: 2026-04-01
        status: open
        amount: 10000.00
        currency: EUR
        """,
    "invoices/inv-2026-0009.yaml": """\
        id: inv-2026-0009
        order: ord-2026-0004
        partner: acme
        date: 2026-05-01
        due: 2026-05-15
        status: open
        amount: 24490.62
        currency: EUR
        """,
}

# what the quote comes to (crmfiles.documents.totals): 2 x 15,000 less 5 % at 19 %,
# 3 x 12.50 at 7 %, 450 at 19 %
NET, TAX, GROSS = "28,987.50", "5,503.12", "34,490.62"


def add_documents(root: Path, crm_yaml: str = CRM_YAML) -> None:
    write(root, {"crm.yaml": crm_yaml, **FILES})
    commit_all(root, "documents")
