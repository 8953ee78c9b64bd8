"""``crm list`` in a terminal of 80, 100 and 160 columns: the real command on the example
company, compared with the reviewed snapshots in tests/snapshots/, and the promises the
snapshots were reviewed for (ids and amounts whole, no line wider than the terminal)
checked on their own so a rewritten snapshot cannot quietly drop them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import commit_all, write
from rich.cells import cell_len
from snapshot import assert_snapshot

from crmfiles.money import fmt

WIDTHS = (80, 100, 160)


def environment(home: Path, columns: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Alice",
        GIT_AUTHOR_EMAIL="alice@example.com",
        GIT_COMMITTER_NAME="Alice",
        GIT_COMMITTER_EMAIL="alice@example.com",
        NO_COLOR="1",
    )
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return env


def crm(repo: Path, *args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=repo,
        env=environment(repo.parent, columns),
        capture_output=True,
        text=True,
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``crm init --example``: the example company, committed (read only here)."""
    home = tmp_path_factory.mktemp("example")
    (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    done = subprocess.run(
        [sys.executable, "-m", "crmfiles", "init", "--example", "crm"],
        cwd=home,
        env=environment(home, None),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    yield home / "crm"


def facts(repo: Path) -> list[dict[str, object]]:
    """Every opportunity's id, amount and probability, from the JSON list."""
    done = crm(
        repo,
        "list",
        "opportunities",
        "--no-view",
        "--format",
        "json",
        "--columns",
        "id,amount,probability,weighted",
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["opportunities"]


def money(value: object) -> str:
    return fmt(Decimal(str(value)))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_list_at_a_terminal_width(example: Path, width: int) -> None:
    done = crm(example, "list", "opportunities", "--no-view", columns=width)
    assert done.returncode == 0 and done.stderr == ""
    assert_snapshot(done.stdout, f"list-opportunities-{width}")
    lines = done.stdout.splitlines()
    assert all(cell_len(line) <= width for line in lines)
    assert all(line == line.rstrip() for line in lines)
    deals = facts(example)
    header, rows = lines[0], lines[1 : 1 + len(deals)]
    assert lines[1 + len(deals)].startswith(f"{len(deals)} opportunities")
    assert "…" not in header
    by_id = {line.split()[0]: line for line in rows}
    assert sorted(by_id) == sorted(str(d["id"]) for d in deals)  # every id, whole
    for deal in deals:
        shown = by_id[str(deal["id"])].split()
        if deal["amount"] is not None:
            assert money(deal["amount"]) in shown  # whole, never 1… or 6,…
        if "prob%" in header.split() or "probability" in header.split():
            assert str(deal["probability"]) in shown
        if "weighted" in header.split() and deal["weighted"] is not None:
            assert money(deal["weighted"]) in shown
    assert "4,480,076.40 EUR" in done.stdout and "2,136,469.12 EUR" in done.stdout


def test_the_columns_that_matter_stay_at_80(example: Path) -> None:
    header = crm(example, "list", "opportunities", "--no-view", columns=80).stdout.splitlines()[0]
    assert header.split() == ["id", "stage", "amount", "cur", "prob%"]
    header = crm(example, "list", "opportunities", "--no-view", columns=100).stdout.splitlines()[0]
    assert header.split() == ["id", "stage", "amount", "currency", "probability", "weighted"]
    wide = crm(example, "list", "opportunities", "--no-view", columns=160).stdout.splitlines()
    # room for the name, shortened; the low-value partner and kind went first
    assert "partner" not in wide[0] and "kind" not in wide[0]
    assert "Alpenfrost – layout study f…" in wide[1]


@pytest.mark.parametrize("width", (80, 160))
def test_columns_picks_and_orders(example: Path, width: int) -> None:
    done = crm(
        example,
        "list",
        "opportunities",
        "--no-view",
        "--columns",
        "id,name,stage,amount",
        columns=width,
    )
    assert done.returncode == 0, done.stderr
    assert_snapshot(done.stdout, f"list-opportunities-columns-{width}")
    assert done.stdout.splitlines()[0].split() == ["id", "name", "stage", "amount"]
    assert all(cell_len(line) <= width for line in done.stdout.splitlines())


def test_columns_select_the_csv_and_json_too(example: Path) -> None:
    done = crm(
        example, "list", "opportunities", "--no-view", "--columns", "amount,id", "--format", "csv"
    )
    assert done.stdout.splitlines()[:2] == ["amount,id", "10800.00,alpenfrost-layout-study"]
    deals = facts(example)
    assert list(deals[0]) == ["id", "amount", "probability", "weighted"]


def test_an_unknown_column_is_exit_2_with_a_suggestion(example: Path) -> None:
    done = crm(example, "list", "opportunities", "--no-view", "--columns", "id,amonut")
    assert done.returncode == 2 and done.stdout == ""
    assert "no column 'amonut'" in done.stderr
    assert "did you mean 'amount'?" in done.stderr
    assert "Traceback" not in done.stderr
    done = crm(example, "list", "opportunities", "--no-view", "--columns", ",")
    assert done.returncode == 2 and "names no column" in done.stderr


def test_a_view_without_ids_still_leads_with_them(example: Path) -> None:
    table = crm(example, "list", "opportunities", "--view", "default", columns=100).stdout
    assert table.splitlines()[0].split()[0] == "id"
    assert table.splitlines()[1].split()[0] == "getraenke-hofmann-e16"
    wide = crm(example, "list", "opportunities", "--view", "default", columns=160).stdout
    # the name gets a readable width before the lesser partner column may come in
    assert "Getränke Hofmann – two…" in wide and "partner" not in wide.splitlines()[0]
    csv = crm(example, "list", "opportunities", "--view", "default", "--format", "csv").stdout
    assert csv.splitlines()[0].startswith("name,partner,")  # the view's columns, as saved


def test_piped_without_a_width_shows_every_column_whole(example: Path) -> None:
    done = crm(example, "list", "opportunities", "--no-view")
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "id", "name", "partner", "kind", "stage", "status", "amount", "currency",
        "probability", "weighted", "expected_close", "responsible",
    ]  # fmt: skip
    assert "…" not in done.stdout
    assert "Fromagerie Beaulieu – transpalettes pour la cave d'affinage" in done.stdout
    # the footer on one line too: one row, one line, for grep
    assert lines[-1].startswith("51 opportunities   total 4,480,076.40 EUR   weighted")


def test_the_footer_wraps_between_its_parts(example: Path) -> None:
    lines = crm(example, "list", "opportunities", "--no-view", columns=80).stdout.splitlines()
    assert lines[-2:] == [
        "51 opportunities   total 4,480,076.40 EUR   weighted 2,136,469.12 EUR",
        "(CHF, GBP, USD converted to EUR at the rates of catalogs/currencies.yaml)",
    ]
    lines = crm(example, "list", "opportunities", "--no-view", columns=40).stdout.splitlines()
    assert lines[-5:-3] == ["51 opportunities", "total 4,480,076.40 EUR"]
    assert all(cell_len(line) <= 40 for line in lines[-5:])


def test_an_id_wider_than_the_terminal_is_kept_whole(example: Path) -> None:
    lines = crm(example, "list", "opportunities", "--no-view", columns=30).stdout.splitlines()
    assert lines[0] == "id"
    assert "great-lakes-packaging-pallet-trucks" in lines


def test_wide_characters_are_cut_by_their_cells(repo: Path) -> None:
    write(
        repo,
        {
            "opportunities/2026/02/tokyo.yaml": """\
                id: tokyo
                name: 東京倉庫 – フォークリフト更新プロジェクト
                kind: standard-sale
                stage: qualify
                status: in_progress
                partner: acme
                responsible: alice
                probability: 10
                amount: 1234567.5
                currency: EUR
                """,
        },
    )
    commit_all(repo, "a deal with a wide name")
    done = crm(repo, "list", "opportunities", "--columns", "id,name,amount", columns=50)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("tokyo"))
    assert cell_len(row) == 50 and row.endswith("1,234,567.50")
    assert "東京倉庫" in row and "…" in row


def test_a_currency_without_a_rate_keeps_its_totals_apart(repo: Path) -> None:
    write(
        repo,
        {
            "opportunities/2026/02/yen.yaml": """\
                id: yen
                name: Yen deal
                kind: standard-sale
                stage: qualify
                status: in_progress
                partner: acme
                responsible: alice
                probability: 10
                amount: 5000000
                currency: JPY
                """,
        },
    )
    commit_all(repo, "a deal in a currency without a rate")
    lines = crm(repo, "list", "opportunities", columns=60).stdout.splitlines()
    assert lines[-3:] == [
        "2 opportunities",
        "totals per currency: 30,000.00 EUR, 5,000,000.00 JPY",
        "(no rate for JPY in catalogs/currencies.yaml)",
    ]
    assert "5,000,000.00  JPY" in next(line for line in lines if line.startswith("yen "))
