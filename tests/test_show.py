"""``crm show ID`` on the example company through the real command: names resolved,
lines with totals and margin, weighted amount, days in stage, and what refers to the
record; ``--format yaml`` the file as stored, ``--format json`` the record and the
computed values beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.cells import cell_len
from snapshot import assert_snapshot
from test_list_table import crm, example  # noqa: F401 - the example company fixture

DEAL = "mueller-logistik-e25-fleet"


def shown(repo: Path, *args: str, columns: int = 120) -> str:
    done = crm(repo, "show", *args, columns=columns)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_an_opportunity_for_a_person(example: Path) -> None:  # noqa: F811
    text = shown(example, DEAL)
    assert text.startswith(f"Opportunity {DEAL} – Müller Logistik – E25 fleet renewal Bremen\n")
    # references resolved to names
    assert "Müller Logistik (mueller-logistik)" in text
    assert "Jan Müller (jan-mueller), Dirk Hansen (dirk-hansen)" in text
    assert "Anna Becker (anna.becker)" in text and "Negotiation (negotiation)" in text
    # lines: the product's name, the line total (8 x 36,900 less 6 %), its margin (18 %)
    line = next(x for x in text.splitlines() if x.startswith("Electric forklift E25"))
    assert line.split()[-5:] == ["36,900.00", "6", "277,488.00", "18", "49,947.84"]
    assert line.split()[-7] == "sale"  # its sale type
    telematics = next(x for x in text.splitlines() if x.startswith("FleetView"))
    assert "subscription" in telematics.split()
    # the margin amounts: 18 % of 277,488.00 and 22 % of 73,696.00 (the telematics
    # line states none), and that weighted by the probability (70 %)
    total = next(x for x in text.splitlines() if x.startswith("total "))
    assert total.split() == ["total", "362,704.00", "66,160.96"]
    assert "amount            362,704.00 EUR (sum of the lines)" in text
    assert "weighted          253,892.80 EUR" in text  # 70 %
    assert "margin            66,160.96 EUR" in text
    assert "weighted margin   46,312.67 EUR" in text
    assert "days in stage   " in text
    # the site, the production dates and the classifications, by their catalog names
    assert "site              Bremen, Am Speicher 12 (warehouses 2 and 3)" in text
    assert "production start  2027-01-15\nproduction end    2027-03-31" in text
    assert "establishment     Hamburg (head office, DACH north) (hamburg)" in text
    assert "sector            Logistics and warehousing (logistics)" in text
    assert "family            Industrial trucks (trucks)" in text
    assert "sub family        Electric trucks (electric-trucks)" in text
    # what refers to it
    assert "Quotes (2)" in text and "q-2026-0014" in text and "q-2026-0017" in text
    assert "Interactions (2)" in text and "2026-11-09-mueller-quote-review" in text
    assert "Open tasks (0; 1 done)" in text
    assert "Kranich Fördertechnik (kranich-foerdertechnik)" in text  # a competitor


def test_open_tasks_orders_and_invoices_of_an_opportunity(example: Path) -> None:  # noqa: F811
    text = shown(example, "domaine-castel-roux-chariot")
    assert "Open tasks (1)" in text
    assert "2026-11-20-castel-roux-loss-review" in text and "Thomas Richter" in text
    text = shown(example, "vitalis-pharma-e16-fleet")
    for document in ("q-2026-0002", "ord-2026-0001", "inv-2026-0031", "inv-2026-0038"):
        assert document in text


def test_a_partner_shows_its_contacts_and_deals(example: Path) -> None:  # noqa: F811
    text = shown(example, "partners/mueller-logistik")
    assert text.startswith("Partner mueller-logistik – Müller Logistik\n")
    assert "Contacts (3)" in text
    for contact in ("dirk-hansen", "jan-mueller", "petra-schulz"):
        assert contact in text
    assert "Opportunities (4)" in text
    for deal in (DEAL, "mueller-logistik-full-service", "mueller-logistik-rental-peak"):
        assert deal in text
    assert "362,704.00" in text  # a deal's amount, whole


def test_yaml_is_the_file_and_json_the_record(example: Path) -> None:  # noqa: F811
    path = next(example.glob(f"opportunities/*/*/{DEAL}.yaml"))
    assert shown(example, DEAL, "--format", "yaml") == path.read_text("utf-8")
    payload = json.loads(shown(example, DEAL, "--format", "json"))
    assert payload["version"] == 1 and payload["type"] == "opportunities"
    assert payload["path"] == path.relative_to(example).as_posix()
    assert payload["record"]["partner"] == "mueller-logistik"  # as stored
    computed = payload["computed"]
    assert computed["amount"] == "362704.00" and computed["weighted"] == "253892.80"
    assert computed["margin"] == "66160.96" and computed["currency"] == "EUR"
    assert computed["lines"][0] == {"total": "277488.00", "margin": "49947.84"}
    assert computed["weighted_margin"] == "46312.67"  # 70 % of the margin
    assert isinstance(computed["days_in_stage"], int)
    assert computed["related"]["quotes"] == ["q-2026-0014", "q-2026-0017"]


def test_an_unknown_id_is_exit_2(example: Path) -> None:  # noqa: F811
    done = crm(example, "show", "mueller-logistik-e25")
    assert done.returncode == 2 and done.stdout == ""
    assert "no record with id 'mueller-logistik-e25'" in done.stderr


@pytest.mark.parametrize("width", (80, 160))
def test_show_at_a_terminal_width(example: Path, width: int) -> None:  # noqa: F811
    text = shown(example, DEAL, columns=width)
    assert_snapshot(text, f"show-opportunity-{width}")
    assert all(cell_len(line) <= width for line in text.splitlines())
    assert all(line == line.rstrip() for line in text.splitlines())


def test_the_origin_is_named_as_a_reference(example: Path) -> None:  # noqa: F811
    text = shown(example, "holzwerk-schwarzwald-erstkontakt")
    origin = next(x for x in text.splitlines() if x.startswith("origin"))
    assert origin.split(None, 1)[1] == (
        "lead Forklift for the sawmill yard (holzwerk-schwarzwald-website)"
    )
    assert "{" not in text
