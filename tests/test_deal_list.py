"""The opportunity list worked out column by column (reports/deal_list.py) against the
row-by-row definitions the TUI keeps (reports/pipeline.py: Row.value, matches,
sort_rows): the same deals, in the same order, with the same values and totals, on
the example company read as facts and read whole; and fold() word by word against
fold() of the whole text."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest

from crmfiles.folding import _EXTRA, fold
from crmfiles.money import Total, rates_from
from crmfiles.records.store import Repository
from crmfiles.reports.deal_list import listing
from crmfiles.reports.pipeline import DEFAULT_COLUMNS, DERIVED, matches, rows, sort_rows

EXAMPLE = Path(__file__).resolve().parents[1] / "example-repo"
COLUMNS = [*DEFAULT_COLUMNS, *sorted(DERIVED), "tags", "closed", "opened", "loss_reason"]
CASES = [
    ({}, ()),
    ({}, ("-amount",)),
    ({}, ("name",)),
    ({"status": ["in_progress"]}, ("probability", "name")),
    ({"tag": ["key-account", "quick-win"]}, ("expected_close:desc",)),
    ({"closed": ["false"], "kind": ["standard-sale"]}, ("-weighted_margin", "partner_name")),
    ({}, ("tags", "-age")),
]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deal-list") / "crm"
    shutil.copytree(EXAMPLE, root)
    # a name in lower case: text sorts case-folded ("alpha" before "Beta", not after)
    path = root / "opportunities/2025/10/getraenke-hofmann-pallet-trucks.yaml"
    text = path.read_text()
    name = next(line for line in text.splitlines() if line.startswith("name: "))
    path.write_text(text.replace(name, "name: alpha, in lower case"))
    return root


@pytest.mark.parametrize(("filters", "sort"), CASES)
def test_the_list_by_columns_is_the_list_by_rows(
    example: Path, filters: dict[str, list[str]], sort: tuple[str, ...]
) -> None:
    repo = Repository(example)
    days = {r.id: n for n, r in enumerate(repo.facts("opportunities"))}
    listed = listing(repo, filters, None, sort, days=days)
    whole = Repository(example)
    expected = [r for r in rows(whole, whole=True) if matches(r, filters)]
    for row in expected:
        row.days = days.get(row.record.id)
    expected = sort_rows(expected, list(sort) or ["id"])
    assert len(listed) == len(expected) > 0
    for column in [*COLUMNS, "days_in_stage"]:
        assert listed.column(column) == [r.value(column) for r in expected], column
    total = Total(repo.config.currency, rates_from(repo.catalog("currencies").values()))
    for row in expected:
        total.add(row.amount, row.currency)
    assert listed.amount.by_currency == total.by_currency
    assert listed.amount.in_base == total.in_base


def test_a_column_facts_lack_is_listed_from_whole_records(example: Path) -> None:
    repo = Repository(example)
    listed = listing(repo, {}, None, ("next_milestone",), shown=("next_milestone",))
    expected = sort_rows(rows(Repository(example), whole=True), ["next_milestone"])
    assert listed.column("next_milestone") == [r.value("next_milestone") for r in expected]
    assert any(v is not None for v in listed.column("next_milestone"))


def plain_fold(text: str) -> str:
    """fold() as it was first written: the whole text at once."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_EXTRA))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@pytest.mark.parametrize(
    "text",
    [
        "  Müller   Logistik ",
        "Straße CHÂTEAU",
        "Œuvre Łódź đ æ ø",
        "a\u00a8b",  # a diaeresis alone decomposes to a space and a combining mark
        "\u0301 e\u0301 \u0308",  # combining marks after a space, and alone
        "İstanbul ﬁne ½\u00a0\u2003x",
        "plain ascii only",
        "",
    ],
)
def test_fold_word_by_word_is_fold_of_the_whole_text(text: str) -> None:
    assert fold(text) == plain_fold(text)
    assert fold(text) == plain_fold(text)  # and again, from the words remembered
