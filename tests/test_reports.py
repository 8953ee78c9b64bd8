"""Each report's figures on a small repository whose numbers are known by hand."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from conftest import BASE_FILES, git, write
from test_history import commit_at, edit

from crmfiles.cli.main import main
from crmfiles.history import load_history
from crmfiles.records.store import Repository
from crmfiles.reports.activity import activity
from crmfiles.reports.common import Period, bar
from crmfiles.reports.dropoff import dropoff
from crmfiles.reports.forecast import forecast
from crmfiles.reports.funnel import funnel
from crmfiles.reports.winloss import winloss


def opportunity(rid: str, **fields: object) -> str:
    base: dict[str, object] = {
        "id": rid,
        "name": rid.title(),
        "kind": "standard-sale",
        "stage": "qualify",
        "status": "in_progress",
        "partner": "acme",
        "responsible": "alice",
        "probability": 10,
        "currency": "EUR",
        "opened": "2026-01-10",
    }
    base.update(fields)
    return "".join(f"{k}: {v}\n" for k, v in base.items())


def path(rid: str) -> str:
    return f"opportunities/2026/01/{rid}.yaml"


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    """Six opportunities and a dated history (see each test for the figures)::

    2026-01-10 alice  all created in qualify
    2026-01-20 bob    beta, gamma, delta -> proposal
    2026-02-03 alice  gamma -> negotiate
    2026-02-10 alice  gamma -> commit
    2026-03-01 alice  gamma won, delta lost (price)
    """
    root = tmp_path / "sales"
    root.mkdir()
    git(root, "init", "-q")
    files: dict[str, str | bytes | None] = dict(BASE_FILES)
    files[path("beta")] = opportunity(
        "beta", amount=1000, currency="USD", expected_close="2026-07-15", responsible="bob"
    )
    files[path("gamma")] = opportunity(
        "gamma", amount=5000, expected_close="2026-03-31", competitors="[{partner: rival}]"
    )
    files[path("delta")] = opportunity(
        "delta", amount=2000, expected_close="2026-04-30", responsible="bob"
    )
    files[path("undated")] = opportunity("undated", amount=500)
    files[path("eps")] = opportunity(
        "eps", kind="custom-deal", amount=100, expected_close="2026-07-01"
    )
    write(root, files)
    commit_at(root, "2026-01-10", "initial")
    for rid in ("beta", "gamma", "delta"):
        edit(root, path(rid), stage="proposal", probability=40)
    commit_at(root, "2026-01-20", "proposals", "bob")
    edit(root, path("gamma"), stage="negotiate", probability=70)
    commit_at(root, "2026-02-03", "crm: move gamma proposal -> negotiate")
    edit(root, path("gamma"), stage="commit", probability=90)
    commit_at(root, "2026-02-10", "crm: move gamma negotiate -> commit")
    edit(root, path("gamma"), status="won", probability=100, closed="true")
    edit(root, path("gamma"), closed_on="2026-03-01")
    edit(root, path("gamma"), competitors="[{partner: rival, outcome: lost}]")
    edit(root, path("delta"), status="lost", probability=0, loss_reason="price")
    edit(root, path("delta"), closed_on="2026-03-01")
    edit(root, path("delta"), competitors="[{partner: rival, outcome: won}]")
    commit_at(root, "2026-03-01", "closes")
    old = Path.cwd()
    os.chdir(root)
    yield root
    os.chdir(old)


def test_funnel_figures_and_json_shape(sales: Path) -> None:
    report = funnel(Repository(sales)).as_json()
    assert report["kind"] == "standard-sale"
    assert report["stages"] == [
        # acme 30000 at 10 % and undated 500 at 10 %
        {"stage": "qualify", "count": 2, "amount": "30500.00", "weighted": "3050.00"},
        # beta: 1000 USD at 0.9 -> 900 EUR, weighted 40 %
        {"stage": "proposal", "count": 1, "amount": "900.00", "weighted": "360.00"},
        {"stage": "negotiate", "count": 0, "amount": "0.00", "weighted": "0.00"},
        {"stage": "commit", "count": 0, "amount": "0.00", "weighted": "0.00"},
    ]
    assert report["open"] == {"count": 3, "amount": "31400.00", "weighted": "3410.00"}
    assert report["won"] == {"count": 1, "amount": "5000.00"}
    assert report["lost"] == {"count": 1, "amount": "2000.00"}
    assert report["currency"] == "EUR" and report["converted"] == ["USD"]
    assert report["missing_rates"] == []


def test_funnel_of_a_period_and_of_another_kind(sales: Path) -> None:
    june = funnel(Repository(sales), period=Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30)))
    report = june.as_json()
    assert [s["count"] for s in report["stages"]] == [1, 0, 0, 0]  # acme closes in June
    assert report["undated"] == 1
    assert report["won"]["count"] == 0 and report["lost"]["count"] == 0
    custom = funnel(Repository(sales), "custom-deal").as_json()
    assert [(s["stage"], s["count"]) for s in custom["stages"]] == [
        ("qualify", 1),
        ("negotiate", 0),
    ]


def test_forecast_by_month(sales: Path) -> None:
    report = forecast(Repository(sales), today=dt.date(2026, 7, 5)).as_json()
    months = {m["month"]: m for m in report["months"]}
    assert sorted(months) == ["2026-03", "2026-06", "2026-07"]
    assert months["2026-03"]["won"] == "5000.00" and months["2026-03"]["count"] == 0
    assert months["2026-06"] == {
        "month": "2026-06",
        "count": 1,
        "amount": "30000.00",
        "weighted": "3000.00",
        "overdue": 1,
        "won_count": 0,
        "won": "0.00",
    }
    # beta (900 EUR, 360 weighted) and eps (100, 10 %)
    assert (months["2026-07"]["amount"], months["2026-07"]["weighted"]) == ("1000.00", "370.00")
    assert report["undated"] == {"count": 1, "amount": "500.00", "weighted": "50.00"}
    assert report["overdue"] == 2  # acme (June 30) and eps (July 1), before July 5


def test_winloss_by_reason_competitor_and_responsible(sales: Path) -> None:
    report = winloss(Repository(sales)).as_json()
    assert report["won"] == {"count": 1, "amount": "5000.00"}
    assert report["lost"] == {"count": 1, "amount": "2000.00"}
    assert report["win_rate"] == 0.5
    assert report["by_reason"] == [
        {"reason": "price", "name": "Price too high", "count": 1, "amount": "2000.00"}
    ]
    assert report["by_competitor"] == [
        {
            "competitor": "rival",
            "name": "Rival Ltd",
            "deals": 2,
            "won": 1,
            "lost": 1,
            "lost_to": 1,
            "win_rate": 0.5,
        }
    ]
    people = {p["person"]: p for p in report["by_responsible"]}
    assert people["alice"]["won"] == 1 and people["alice"]["won_amount"] == "5000.00"
    assert people["bob"]["lost"] == 1 and people["bob"]["win_rate"] == 0.0


def test_dropoff_from_history(sales: Path) -> None:
    report = dropoff(Repository(sales), load_history(sales)).as_json()
    assert [(s["stage"], s["reached"], s["lost"], s["open"]) for s in report["stages"]] == [
        ("qualify", 5, 0, 2),
        ("proposal", 3, 1, 1),
        ("negotiate", 1, 0, 0),
        ("commit", 1, 0, 0),
    ]
    assert [s["conversion"] for s in report["stages"]] == [0.6, 0.3333, 1.0, 1.0]
    assert (report["total"], report["won"], report["lost"], report["open"]) == (5, 1, 1, 3)


def test_activity_per_person_per_week(sales: Path) -> None:
    report = activity(
        Repository(sales),
        load_history(sales),
        Period(dt.date(2026, 1, 1), dt.date(2026, 3, 1)),
    ).as_json()
    assert report["weeks"][0] == "2026-W01" and report["weeks"][-1] == "2026-W09"
    people = {p["person"]: p for p in report["people"]}
    assert people["bob"]["moves"] == 3 and people["bob"]["weeks"]["2026-W04"] == 3
    alice = people["alice"]
    assert (alice["moves"], alice["created"], alice["won"], alice["lost"]) == (4, 6, 1, 1)
    assert {w: n for w, n in alice["weeks"].items() if n} == {
        "2026-W06": 1,
        "2026-W07": 1,
        "2026-W09": 2,
    }
    assert report["total"]["moves"] == 7


def test_reports_at_a_date_and_at_a_revision(
    sales: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    closes = git(sales, "rev-parse", "HEAD").strip()
    edit(sales, path("acme-forklifts"), stage="proposal")
    commit_at(sales, "2026-03-10", "crm: move acme-forklifts qualify -> proposal")

    def counts(*args: str) -> list[int]:
        assert main(["report", "funnel", "--format", "json", *args]) == 0
        payload = json.loads(capsys.readouterr().out)
        return [s["count"] for s in payload["stages"]]

    assert counts() == [1, 2, 0, 0]
    assert counts("--at", "2026-03-05") == [2, 1, 0, 0]
    assert counts("--at", closes[:10]) == [2, 1, 0, 0]
    assert main(["report", "dropoff", "--format", "json", "--at", "2026-01-31"]) == 0
    early = json.loads(capsys.readouterr().out)
    assert early["at"]["commit"] != closes
    assert [s["reached"] for s in early["stages"]] == [5, 3, 0, 0]
    assert main(["report", "funnel", "--at", "2025-01-01"]) == 2  # before the first commit


def test_report_tables_and_csv(sales: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("funnel", "forecast", "dropoff", "winloss", "activity"):
        assert main(["report", name, "--from", "2026-01-01", "--to", "2026-12-31"]) == 0
        out = capsys.readouterr().out
        assert "as of work tree" in out
        if name in ("funnel", "forecast", "dropoff"):
            assert "█" in out
        assert main(["report", name, "--format", "csv", "--from", "2026-01-01"]) == 0
        assert capsys.readouterr().out.count("\n") >= 2
    assert main(["report", "funnel", "--kind", "hours"]) == 2  # a stageless kind: no funnel


def test_bars() -> None:
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██"
    assert bar(1, 80, 10) == "▏"
    assert bar(0, 10, 4) == ""


def test_progress_shows_nothing_when_piped(
    sales: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmfiles import progress

    monkeypatch.delenv("CRM_PROGRESS", raising=False)
    assert not progress.enabled()  # pytest's stderr is no terminal
    with progress.progress("work", 3, delay=0) as bar:
        for _ in progress.track(range(3), "inner", delay=0):
            bar.advance()
    assert main(["report", "dropoff", "--format", "json"]) == 0
    assert capsys.readouterr().err == ""  # no bar, no escape codes
    monkeypatch.setenv("CRM_PROGRESS", "1")
    assert progress.enabled()
    monkeypatch.setenv("CRM_PROGRESS", "0")
    assert not progress.enabled()
