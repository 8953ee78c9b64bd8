"""Money is exact at every exit: `crm export sqlite` sums in cents to the decimal sum of
the YAML, and every CSV (export, list, reports, history, changes) writes two places.

The repository holds amounts a float would get wrong (0.10 + 0.20), amounts YAML reads
as a float (109155.0) and as an int (118500), lines with a discount and a duration,
a foreign currency, and catalog prices of 0.10 and 0.20."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BASE_FILES, commit_all, git, write

CENT = Decimal("0.01")
TWO_PLACES = re.compile(r"^-?[0-9]+\.[0-9]{2}$")

OPPORTUNITY = """\
id: {id}
name: {id}
kind: standard-sale
stage: qualify
status: {status}
partner: acme
responsible: alice
probability: {probability}
currency: {currency}
opened: 2026-01-10
expected_close: 2026-06-30
"""

RECORDS = {
    "tenth": dict(status="in_progress", probability=10, currency="EUR", amount="0.10"),
    "fifth": dict(status="in_progress", probability=50, currency="EUR", amount="0.20"),
    "odd-cents": dict(status="in_progress", probability=33, currency="EUR", amount="0.15"),
    "float-like": dict(status="in_progress", probability=40, currency="USD", amount="109155.0"),
    "big-won": dict(status="won", probability=100, currency="EUR", amount="118500", closed="true"),
    "lost-one": dict(
        status="lost", probability=0, currency="EUR", amount="2000.05", loss_reason="price"
    ),
}
LINES_DEAL = """\
lines:
  - product: forklift
    quantity: 3
    discount: 12.5
  - description: service
    quantity: 1
    unit_price: 19.99
    duration_months: 12
  - product: tenth-part
    quantity: 7
"""
PRODUCTS = """\
- id: forklift
  name: Forklift
  unit: piece
  price: 15000
  currency: EUR
- id: tenth-part
  name: Tenth part
  unit: piece
  price: 0.10
  currency: EUR
- id: fifth-part
  name: Fifth part
  unit: piece
  price: 0.20
  currency: EUR
"""
CAMPAIGNS = """\
- id: spring-fair
  name: Spring fair
  channel: event
  budget: 1234.5
"""


class DecimalLoader(yaml.SafeLoader):
    """YAML as written: a float scalar is read as the decimal its text says."""


DecimalLoader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: Decimal(loader.construct_scalar(node)),
)


def load(path: Path) -> Any:
    return yaml.load(path.read_text("utf-8"), Loader=DecimalLoader)


def money_repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q")
    files: dict[str, str | bytes | None] = dict(BASE_FILES)
    files["catalogs/products.yaml"] = PRODUCTS
    files["catalogs/campaigns.yaml"] = CAMPAIGNS
    for rid, fields in RECORDS.items():
        text = OPPORTUNITY.format(id=rid, **fields) + f"amount: {fields['amount']}\n"
        if fields.get("closed"):
            text += "closed: true\nclosed_on: 2026-03-01\n"
        if fields.get("loss_reason"):
            text += "closed: true\nclosed_on: 2026-03-02\nloss_reason: price\n"
        files[f"opportunities/2026/01/{rid}.yaml"] = text
    files["opportunities/2026/01/lines-deal.yaml"] = (
        OPPORTUNITY.format(id="lines-deal", status="in_progress", probability=25, currency="EUR")
        + LINES_DEAL
    )
    write(root, files)
    commit_all(root, "money everywhere")
    return root


@pytest.fixture
def money(tmp_path: Path) -> Path:
    return money_repo(tmp_path / "crm")


def crm(root: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "crmfiles", *args], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


# --- what the YAML says, summed as decimals (independently of crmfiles) ---------------


def opportunities(root: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: load(p) for p in sorted((root / "opportunities").rglob("*.yaml"))}


def products(root: Path) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in load(root / "catalogs/products.yaml")}


def line_total(line: dict[str, Any], catalog: dict[str, dict[str, Any]]) -> Decimal:
    price = Decimal(line.get("unit_price") or catalog[str(line["product"])]["price"])
    quantity = Decimal(line.get("quantity", 1))
    discount = Decimal(line.get("discount", 0))
    months = int(line.get("duration_months", 1))
    return (quantity * price * months * (100 - discount) / 100).quantize(CENT)


def total_of(data: dict[str, Any], catalog: dict[str, dict[str, Any]]) -> Decimal:
    if "amount" in data:
        return Decimal(data["amount"])
    return sum((line_total(line, catalog) for line in data["lines"]), Decimal(0))


def cents(amount: Decimal) -> int:
    return int(amount * 100)


# --- SQLite ---------------------------------------------------------------------------


def test_sqlite_sums_are_the_decimal_sums_of_the_yaml(money: Path, tmp_path: Path) -> None:
    target = tmp_path / "crm.db"
    crm(money, "export", "sqlite", str(target))
    records = opportunities(money)
    catalog = products(money)
    db = sqlite3.connect(target)

    def one(sql: str) -> Any:
        return db.execute(sql).fetchone()[0]

    # 0.10 + 0.20 is 0.30, not 0.30000000000000004
    assert one("SELECT sum(amount_cents) FROM opportunities WHERE id IN ('tenth', 'fifth')") == 30
    assert one("SELECT typeof(sum(amount_cents)) FROM opportunities") == "integer"
    assert one("SELECT sum(amount_cents) FROM opportunities") == cents(
        sum((Decimal(d["amount"]) for d in records.values() if "amount" in d), Decimal(0))
    )
    totals = {rid: total_of(d, catalog) for rid, d in records.items()}
    assert totals["lines-deal"] == Decimal("39375.00") + Decimal("239.88") + Decimal("0.70")
    assert one("SELECT sum(total_amount_cents) FROM opportunities") == cents(sum(totals.values()))
    weighted = sum(
        (totals[rid] * int(d["probability"]) / 100).quantize(CENT) for rid, d in records.items()
    )
    assert one("SELECT sum(weighted_amount_cents) FROM opportunities") == cents(weighted)
    assert one("SELECT weighted_amount_cents FROM opportunities WHERE id = 'odd-cents'") == 5
    usd = Decimal("0.9")  # the rate of catalogs/currencies.yaml
    in_base = sum(
        t * (usd if records[rid]["currency"] == "USD" else 1) for rid, t in totals.items()
    )
    assert one("SELECT sum(amount_base_cents) FROM opportunities") == cents(in_base)
    assert one("SELECT printf('%.2f', sum(amount_base_cents) / 100.0) FROM opportunities") == (
        f"{in_base:.2f}"
    )

    # lines: the prices written on them, and every line's total
    lines = [line for d in records.values() for line in d.get("lines", [])]
    assert one("SELECT sum(unit_price_cents) FROM lines") == 1999
    assert one("SELECT sum(line_total_cents) FROM lines") == cents(
        sum(line_total(line, catalog) for line in lines)
    )
    # inside JSON text money is a decimal string, exact as well
    (text,) = db.execute("SELECT lines FROM opportunities WHERE id = 'lines-deal'").fetchone()
    assert json.loads(text)[1]["unit_price"] == "19.99"

    # catalogs: prices and budgets
    assert one("SELECT sum(price_cents) FROM catalog_products") == cents(
        sum((Decimal(p["price"]) for p in catalog.values()), Decimal(0))
    )
    assert one("SELECT sum(price_cents) FROM catalog_products WHERE id LIKE '%-part'") == 30
    assert one("SELECT budget_cents FROM catalog_campaigns") == 123450
    # history: the amount each opportunity was created with
    assert one("SELECT sum(amount_cents) FROM stage_history WHERE change = 'created'") == cents(
        sum(totals.values())
    )

    # no money anywhere as a binary float: every money column is INTEGER, and holds integers
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    money_columns = 0
    for table in tables:
        for _, column, kind, *_ in db.execute(f'PRAGMA table_info("{table}")'):
            assert column not in {"amount", "price", "budget", "unit_price", "line_total"}
            assert column not in {"total_amount", "weighted_amount", "amount_base"}
            if column.endswith("_cents"):
                money_columns += 1
                assert kind == "INTEGER", (table, column)
                (bad,) = db.execute(
                    f'SELECT count(*) FROM "{table}" '
                    f"WHERE typeof(\"{column}\") NOT IN ('integer', 'null')"
                ).fetchone()
                assert bad == 0, (table, column)
    assert money_columns == 10  # 4 on opportunities, 2 on lines and history, 2 catalogs
    assert one("SELECT value FROM meta WHERE key = 'money'") == (
        "whole cents in INTEGER columns named *_cents"
    )
    db.close()


def test_sqlite_money_that_is_no_number_is_null(money: Path, tmp_path: Path) -> None:
    """An invalid record (a money field that is not a number) still exports; its cents
    are NULL rather than a guess."""
    write(money, {"opportunities/2026/01/typo.yaml": "id: typo\nname: Typo\namount: 12k\n"})
    target = tmp_path / "crm.db"
    crm(money, "export", "sqlite", str(target))
    db = sqlite3.connect(target)
    row = db.execute("SELECT amount_cents, total_amount_cents FROM opportunities WHERE id = 'typo'")
    assert row.fetchone() == (None, None)
    db.close()


# --- CSV ------------------------------------------------------------------------------


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def assert_two_places(rows: list[dict[str, str]], columns: tuple[str, ...]) -> int:
    """Every money cell is blank or a decimal with exactly two places; how many are not
    blank (so that a test on nothing fails)."""
    seen = 0
    for row in rows:
        for column in columns:
            value = row[column]
            if value:
                assert TWO_PLACES.match(value), (column, value, row)
                seen += 1
    return seen


def test_export_csv_writes_money_with_two_places(money: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    crm(money, "export", "csv", "--out", str(out))
    records = opportunities(money)
    catalog = products(money)
    opps = rows_of((out / "opportunities.csv").read_text("utf-8"))
    assert assert_two_places(opps, ("amount",)) == sum("amount" in d for d in records.values())
    by_id = {r["id"]: r for r in opps}
    assert by_id["float-like"]["amount"] == "109155.00"
    assert by_id["big-won"]["amount"] == "118500.00"
    assert by_id["tenth"]["amount"] == "0.10"
    for rid, row in by_id.items():
        if row["amount"]:
            assert Decimal(row["amount"]) == Decimal(records[rid]["amount"])
    assert json.loads(by_id["lines-deal"]["lines"])[1]["unit_price"] == "19.99"

    lines = rows_of((out / "lines.csv").read_text("utf-8"))
    assert assert_two_places(lines, ("unit_price", "line_total")) == 4
    assert [r["line_total"] for r in lines] == [
        f"{line_total(line, catalog):.2f}" for line in records["lines-deal"]["lines"]
    ]
    prices = rows_of((out / "catalogs" / "products.csv").read_text("utf-8"))
    assert [r["price"] for r in prices] == ["15000.00", "0.10", "0.20"]
    budgets = rows_of((out / "catalogs" / "campaigns.csv").read_text("utf-8"))
    assert [r["budget"] for r in budgets] == ["1234.50"]
    # one type to stdout says it the same way
    one = rows_of(crm(money, "export", "csv", "--type", "opportunities"))
    assert {r["id"]: r["amount"] for r in one} == {r["id"]: r["amount"] for r in opps}


def test_list_csv_and_json_write_money_with_two_places(money: Path) -> None:
    rows = rows_of(crm(money, "list", "opportunities", "--format", "csv"))
    assert assert_two_places(rows, ("amount", "weighted")) == 2 * len(rows)
    by_id = {r["id"]: r for r in rows}
    assert (by_id["float-like"]["amount"], by_id["float-like"]["weighted"]) == (
        "109155.00",
        "43662.00",
    )
    assert by_id["lines-deal"]["amount"] == "39615.58"
    payload = json.loads(crm(money, "list", "opportunities", "--format", "json"))
    for row in payload["opportunities"]:
        assert isinstance(row["amount"], str) and TWO_PLACES.match(row["amount"])
    assert payload["totals"]["by_currency"] == {"EUR": "190116.08", "USD": "109155.00"}


REPORT_MONEY = {
    "funnel": ("amount", "weighted"),
    "forecast": ("amount", "weighted", "won"),
    "winloss": ("amount_won", "amount_lost"),
}


@pytest.mark.parametrize("report", ["funnel", "forecast", "dropoff", "winloss", "activity"])
def test_every_report_csv_writes_money_with_two_places(money: Path, report: str) -> None:
    rows = rows_of(crm(money, "report", report, "--format", "csv"))
    assert rows, report
    columns = REPORT_MONEY.get(report, ())
    if not columns:  # a report without money: no column that could hold it
        assert not {"amount", "weighted", "won_amount", "amount_won"} & set(rows[0])
        return
    assert assert_two_places(rows, columns) > 0
    payload = json.loads(crm(money, "report", report, "--format", "json"))
    # JSON keeps money as decimal strings with two places as well
    assert all(TWO_PLACES.match(value) for value in json_money(payload)), payload
    assert json_money(payload)


def json_money(node: Any) -> list[Any]:
    """Every value under a money key of a JSON payload, however deep."""
    keys = {"amount", "weighted", "won", "won_amount", "lost_amount"}
    if isinstance(node, list):
        return [v for item in node for v in json_money(item)]
    if not isinstance(node, dict):
        return []
    found = [v for k, v in node.items() if k in keys and not isinstance(v, (dict, int))]
    return found + [v for k, v in node.items() for v in json_money(v)]


def test_report_csv_figures(money: Path) -> None:
    funnel = {r["stage"]: r for r in rows_of(crm(money, "report", "funnel", "--format", "csv"))}
    # open, in EUR: 30000 + 0.10 + 0.20 + 0.15 + 109155.0 x 0.9 + 39615.58
    assert funnel["(open)"]["amount"] == "167855.53"
    assert funnel["(won)"]["amount"] == "118500.00"
    assert funnel["(lost)"]["amount"] == "2000.05"
    winloss = rows_of(crm(money, "report", "winloss", "--format", "csv"))
    assert [r["amount_lost"] for r in winloss if r["group"] == "reason"] == ["2000.05"]


def test_history_and_changes_csv_write_money_with_two_places(money: Path) -> None:
    for rid in ("fifth", "float-like"):
        path = money / f"opportunities/2026/01/{rid}.yaml"
        path.write_text(path.read_text("utf-8").replace("stage: qualify", "stage: proposal"))
    commit_all(money, "two moves")
    history = rows_of(crm(money, "history", "--format", "csv"))
    assert assert_two_places(history, ("amount", "previous_amount")) > len(history)
    moved = {
        r["id"]: (r["previous_amount"], r["amount"]) for r in history if r["change"] == "moved"
    }
    assert moved == {"fifth": ("0.20", "0.20"), "float-like": ("109155.00", "109155.00")}
    changes = rows_of(
        crm(money, "changes", "--base", "HEAD~1", "--head", "HEAD", "--format", "csv")
    )
    assert {r["id"]: r["amount"] for r in changes} == {"fifth": "0.20", "float-like": "109155.00"}


DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_documented_sql_runs_and_shows_exact_totals(money: Path, tmp_path: Path) -> None:
    """The queries of docs/export.md and docs/reports.md run on a real export."""
    target = tmp_path / "crm.db"
    crm(money, "export", "sqlite", str(target))
    db = sqlite3.connect(target)
    statements = [
        statement
        for doc in ("export.md", "reports.md")
        for block in re.findall(r"^```sql\n(.*?)^```", (DOCS / doc).read_text("utf-8"), re.M | re.S)
        for statement in block.split(";")
        if "SELECT" in statement
    ]
    results = [db.execute(statement).fetchall() for statement in statements]
    assert len(results) == 5
    # open: 30000 + 0.10 + 0.20 + 0.15 + 109155.0 x 0.9 + 39615.58
    assert [("167855.53",)] in results
    db.close()
