"""``crm list`` of every record type on the example company, through the real command:
the filters that fit each type, values that name nothing (exit 2 with a did-you-mean,
never an empty list), sorting, money totals, the default view and days in stage."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from snapshot import assert_snapshot
from test_list_table import crm, example  # noqa: F401 - the example company fixture

TYPES = ("partners", "contacts", "leads", "interactions", "tasks", "quotes", "orders", "invoices")


def listed(repo: Path, *args: str) -> dict[str, Any]:
    done = crm(repo, "list", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    payload: dict[str, Any] = json.loads(done.stdout)
    assert payload["version"] == 1
    return payload


def files(repo: Path, folder: str) -> list[Path]:
    return sorted((repo / folder).rglob("*.yaml"))


@pytest.mark.parametrize("folder", TYPES)
def test_every_type_lists_every_record(example: Path, folder: str) -> None:  # noqa: F811
    payload = listed(example, folder)
    ids = [row["id"] for row in payload[folder]]
    assert ids == sorted(p.stem for p in files(example, folder))
    assert payload["totals"]["count"] == len(ids)
    table = crm(example, "list", folder, columns=100)
    assert table.returncode == 0 and table.stderr == ""
    assert table.stdout.splitlines()[0].split()[0] == "id"
    assert all(cell_len(line) <= 100 for line in table.stdout.splitlines())
    assert f"{len(ids)} {folder}" in table.stdout


def test_money_lists_total_in_the_base_currency(example: Path) -> None:  # noqa: F811
    payload = listed(example, "invoices")
    amounts = {row["id"]: row["amount"] for row in payload["invoices"]}
    assert amounts["inv-2026-0031"] == "129894.45"  # a decimal string, two places
    totals = payload["totals"]
    # every invoice listed, the canceled one counted in no total; open: what is still owed
    assert len(payload["invoices"]) == 4
    assert totals["counted"] == {"statuses": ["open", "paid"], "count": 3}
    assert totals["by_currency"] == {"CHF": "118500.00", "EUR": "259788.90"}
    assert totals["currency"] == "EUR" and totals["converted"] is True
    # the CHF invoice converted at the rate of catalogs/currencies.yaml (1.07)
    assert Decimal(totals["amount"]) == Decimal("386583.90")
    assert totals["open_amount"] == "126795.00"
    # (a won quote is counted when its status is asked for: by default, only open ones)
    quotes = listed(
        example, "quotes", "--opportunity", "vitalis-pharma-e16-fleet", "--status", "won"
    )
    [quote] = quotes["quotes"]
    # the lines: 6 x 28,500 and 6 x 9,800, less 5 %; 19 % tax of each line
    assert (quote["net"], quote["tax"], quote["gross"]) == ("218310.00", "41478.90", "259788.90")
    assert quotes["totals"]["gross"] == quotes["totals"]["amount"] == "259788.90"
    table = crm(example, "list", "orders", columns=200).stdout
    assert (
        "3 orders   total 386,583.90 EUR of the 2 open or delivered orders   "
        "(net 345,105.00, tax 41,478.90)"
    ) in table
    table = crm(example, "list", "invoices", "--status", "open", columns=200).stdout
    assert "1 invoice   total 126,795.00 EUR   open 126,795.00 EUR" in table
    csv = crm(example, "list", "invoices", "--format", "csv").stdout.splitlines()
    assert csv[0].split(",")[:3] == ["id", "order", "partner"]
    assert ",129894.45,0.00," in csv[1]


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["tasks", "--assignee", "anna.becker"], lambda r: r["assignee"] == "anna.becker"),
        (["tasks", "--done"], lambda r: r["state"] == "done"),
        (["tasks", "--open"], lambda r: r["state"] in ("open", "overdue")),
        (["tasks", "--overdue"], lambda r: r["state"] == "overdue"),
        (["tasks", "--subject", "domaine-castel-roux-chariot"],
         lambda r: r["subject"] == "domaine-castel-roux-chariot"),
        (["partners", "--role", "competitor"], lambda r: "competitor" in r["roles"]),
        (["partners", "--tag", "key-account"], lambda r: "key-account" in (r["tags"] or [])),
        (["contacts", "--partner", "vitalis-pharma"], lambda r: r["partner"] == "vitalis-pharma"),
        (["leads", "--status", "qualified"], lambda r: r["status"] == "qualified"),
        (["interactions", "--type", "visit"], lambda r: r["type"] == "visit"),
        (["interactions", "--since", "2026-11-01"], lambda r: r["at"][:10] >= "2026-11-01"),
        (["interactions", "--opportunity", "mueller-logistik-e25-fleet"],
         lambda r: r["opportunity"] == "mueller-logistik-e25-fleet"),
        (["quotes", "--status", "won"], lambda r: r["status"] == "won"),
        (["orders", "--partner", "vitalis-pharma"], lambda r: r["partner"] == "vitalis-pharma"),
        (["invoices", "--opportunity", "schaerer-lagertechnik-e25"],
         lambda r: r["order"] == "ord-2026-0006"),
        (["opportunities", "--no-view", "--stage", "negotiation"],
         lambda r: r["stage"] == "negotiation"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)  # fmt: skip
def test_a_filter_keeps_what_it_names(example: Path, args: list[str], check: Any) -> None:  # noqa: F811
    folder = args[0]
    everything = listed(example, *args[:1], *(["--no-view"] if folder == "opportunities" else []))
    rows = listed(example, *args)[folder]
    assert rows, "the filter should keep some records of the example"
    assert len(rows) < len(everything[folder])
    assert all(check(row) for row in rows)


def test_quotes_of_a_partner_go_through_their_opportunity(example: Path) -> None:  # noqa: F811
    rows = listed(example, "quotes", "--partner", "mueller-logistik")["quotes"]
    assert {r["opportunity"] for r in rows} == {"mueller-logistik-e25-fleet"}


@pytest.mark.parametrize(
    ("args", "message", "suggestion"),
    [
        (["tasks", "--assignee", "anna.beker"], "no person 'anna.beker'", "anna.becker"),
        (["opportunities", "--stage", "negotation"], "no stage 'negotation'", "negotiation"),
        (["opportunities", "--status", "wonn"], "no status 'wonn'", "won"),
        (["opportunities", "--kind", "standard-sal"], "no kind 'standard-sal'", "standard-sale"),
        (["opportunities", "--tag", "key-acount"], "no tag 'key-acount'", "key-account"),
        (["opportunities", "--responsible", "ana.becker"], "no person", "anna.becker"),
        (["partners", "--role", "custmer"], "no role 'custmer'", "customer"),
        (["contacts", "--partner", "vitalis"], "no partner 'vitalis'", "vitalis-pharma"),
        (["leads", "--status", "qualifed"], "no status", "qualified"),
        (["interactions", "--type", "meting"], "no type 'meting'", "meeting"),
        (["quotes", "--opportunity", "mueller-logistik-e25"], "no opportunity",
         "mueller-logistik-e25-fleet"),
        (["tasks", "--sort", "duee"], "no column 'duee'", "due"),
        (["opportunities", "--sort=-amonut"], "no column 'amonut'", "amount"),
        (["invoices", "--columns", "id,amont"], "no column 'amont'", "amount"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)  # fmt: skip
def test_a_value_that_names_nothing_is_exit_2(
    example: Path,  # noqa: F811
    args: list[str],
    message: str,
    suggestion: str,
) -> None:
    for form in ("table", "json"):
        done = crm(example, "list", *args, "--format", form)
        assert done.returncode == 2 and done.stdout == ""
        assert message in done.stderr
        assert f"did you mean '{suggestion}'?" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [["tasks", "--stage", "qualify"], ["partners", "--overdue"], ["tasks", "--view", "x"],
     ["interactions", "--since", "yesterday"]],
)  # fmt: skip
def test_a_filter_that_does_not_fit_is_exit_2(example: Path, args: list[str]) -> None:  # noqa: F811
    done = crm(example, "list", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert "crm: error:" in done.stderr and "Traceback" not in done.stderr


def test_the_default_view_opens_with_days_in_stage(example: Path) -> None:  # noqa: F811
    payload = listed(example)  # `crm list`: the opportunities, through the default view
    assert payload["view"] == "open-pipeline"
    rows = payload["opportunities"]
    everything = listed(example, "opportunities", "--no-view")["opportunities"]
    assert len(rows) == sum(r["status"] == "in_progress" for r in everything) > 0
    assert list(rows[0])[-1] == "days_in_stage"  # the view's columns, as saved
    assert all(isinstance(r["days_in_stage"], int) for r in rows)
    # filled from git, as `crm history ID` tells it
    ids = listed(example, "opportunities", "--columns", "id,days_in_stage")["opportunities"]
    assert len(ids) == len(rows)
    for row in ids[:3]:
        history = json.loads(crm(example, "history", row["id"], "--format", "json").stdout)
        assert row["days_in_stage"] == history["days_in_stage"]
    table = crm(example, "list", columns=200).stdout
    assert table.splitlines()[0].split()[-1] in ("days", "days_in_stage")
    assert f"{len(rows)} opportunities   (view open-pipeline)" in table
    # asked for by a column outside the view too
    asked = listed(example, "opportunities", "--no-view", "--columns", "id,days_in_stage")
    assert all(isinstance(r["days_in_stage"], int) for r in asked["opportunities"])


@pytest.mark.parametrize("width", (80, 160))
def test_the_task_list_at_a_terminal_width(example: Path, width: int) -> None:  # noqa: F811
    done = crm(example, "list", "tasks", columns=width)
    assert done.returncode == 0 and done.stderr == ""
    assert_snapshot(done.stdout, f"list-tasks-{width}")
    lines = done.stdout.splitlines()
    assert all(cell_len(line) <= width for line in lines)
    ids = [p.stem for p in files(example, "tasks")]
    assert [line.split()[0] for line in lines[1 : 1 + len(ids)]] == sorted(ids)  # ids whole
    assert lines[0].split()[:3] == ["id", "due", "state"]


@pytest.fixture
def broken_quote(example: Path, tmp_path: Path) -> Path:  # noqa: F811
    """The example company with one quote file that is not YAML crmfiles reads."""
    import shutil

    root = tmp_path / "crm"
    shutil.copytree(example, root, symlinks=True)
    (root / "quotes/2026/11/q-2026-0099.yaml").write_text(
        "id: q-2026-0099\nstatus: draft\ncomment: 'a \x01 control'\n", encoding="utf-8"
    )
    return root


def test_a_list_says_what_it_could_not_read(broken_quote: Path) -> None:
    path = "quotes/2026/11/q-2026-0099.yaml"
    warning = f"crm: warning: {path}:3: character U+0001 is not allowed in YAML; left out"
    done = crm(broken_quote, "list", "quotes", columns=200)
    assert done.returncode == 0
    assert done.stderr.startswith(warning)
    assert f"(not counting 1 unreadable file: {path})" in done.stdout
    payload = json.loads(crm(broken_quote, "list", "quotes", "--format", "json").stdout)
    assert payload["totals"]["left_out"] == [path]


def test_render_says_what_is_wrong_with_the_file(broken_quote: Path) -> None:
    done = crm(broken_quote, "render", "q-2026-0099")
    assert done.returncode == 2
    assert done.stderr == (
        "crm: error: quotes/2026/11/q-2026-0099.yaml:3: character U+0001 is not allowed "
        "in YAML\n  hint: fix the file first (`crm validate` shows every such file)\n"
    )
    done = crm(broken_quote, "order", "new", "q-2026-0099")
    assert done.returncode == 2
    assert done.stderr.startswith("crm: error: quotes/2026/11/q-2026-0099.yaml:3: ")


def test_document_totals_count_what_a_reader_expects(example: Path) -> None:  # noqa: F811
    """Quotes: the open ones (a lost quote sold nothing, a revised one is counted in its
    revision); orders and invoices: not the canceled ones - as the invoicing report."""
    lines = {
        t: crm(example, "list", t, columns=250).stdout.splitlines()[-1]
        for t in ("quotes", "orders", "invoices")
    }
    assert lines["quotes"].startswith(
        "9 quotes   total 746,670.26 EUR of the 3 draft or active quotes"
    )
    assert "total 386,583.90 EUR of the 2 open or delivered orders" in lines["orders"]
    assert "total 386,583.90 EUR of the 3 open or paid invoices" in lines["invoices"]
    report = json.loads(crm(example, "report", "invoicing", "--format", "json").stdout)
    assert (report["total"]["ordered"], report["total"]["invoiced"]) == ("386583.90",) * 2
    # a status asked for is what is counted
    lost = listed(example, "quotes", "--status", "lost")["totals"]
    assert "counted" not in lost and lost["count"] == 2 and lost["amount"] == "499075.00"
