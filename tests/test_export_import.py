"""crm export csv|sqlite on the demo repository, and crm import csv in a real one."""

from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import git

from crmfiles.cli.main import main
from crmfiles.history import all_events, load_history
from crmfiles.ops.demo import make_demo
from crmfiles.records import RECORD_FOLDERS
from crmfiles.records.store import Repository


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = make_demo(tmp_path / "demo")
    old = Path.cwd()
    os.chdir(root)
    yield root
    os.chdir(old)


def test_export_csv(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    assert main(["export", "csv", "--out", str(out)]) == 0
    repo = Repository(demo)
    for folder in RECORD_FOLDERS:
        with open(out / f"{folder}.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(repo.records(folder)), folder
    with open(out / "opportunities.csv", encoding="utf-8", newline="") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    record = repo.get("getraenke-hofmann-e16").data
    row = rows["getraenke-hofmann-e16"]
    assert row["contacts"] == ";".join(record["contacts"])  # lists joined with ;
    assert row["path"].startswith("opportunities/")
    with_insight = next(r for r in repo.records("opportunities") if r.data.get("insight"))
    problem = with_insight.data["insight"].get("problem", "")
    assert rows[with_insight.id]["insight.problem"] == problem  # nested: dotted columns
    with open(out / "lines.csv", encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == sum(
        len(r.data.get("lines") or [])
        for f in ("opportunities", "quotes", "orders", "invoices")
        for r in repo.records(f)
    )
    assert (out / "catalogs" / "stages.csv").exists()


def test_export_one_type_to_stdout(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "csv", "--type", "partners"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,name,")
    assert len(lines) == 1 + len(Repository(demo).records("partners"))


def test_export_sqlite(demo: Path, tmp_path: Path) -> None:
    target = tmp_path / "crm.db"
    assert main(["export", "sqlite", str(target)]) == 0
    repo = Repository(demo)
    db = sqlite3.connect(target)
    for folder in RECORD_FOLDERS:
        (count,) = db.execute(f'SELECT count(*) FROM "{folder}"').fetchone()
        assert count == len(repo.records(folder)), folder
    # typed columns: a sum in SQL is a number, and matches the records
    (probability,) = db.execute("SELECT sum(probability) FROM opportunities").fetchone()
    assert probability == sum(r.data.get("probability", 0) for r in repo.records("opportunities"))
    types = {row[1]: row[2] for row in db.execute("PRAGMA table_info(opportunities)")}
    assert types["probability"] == "INTEGER" and types["amount_cents"] == "INTEGER"
    assert "amount" not in types  # money is whole cents only: no float column to sum
    assert types["closed"] == "INTEGER" and "insight_problem" in types
    (won,) = db.execute(
        "SELECT count(*) FROM opportunities WHERE status = 'won' AND closed = 1"
    ).fetchone()
    assert won == sum(
        r.data.get("status") == "won" and r.data.get("closed") is True
        for r in repo.records("opportunities")
    )
    # stage history: one row per event, joined to its opportunity
    (events,) = db.execute("SELECT count(*) FROM stage_history").fetchone()
    assert events == len(all_events(load_history(demo)))
    (orphans,) = db.execute(
        "SELECT count(*) FROM stage_history h LEFT JOIN opportunities o ON o.id = h.id "
        "WHERE o.id IS NULL"
    ).fetchone()
    assert orphans == 0
    (lines,) = db.execute(
        "SELECT count(*) FROM lines l JOIN opportunities o "
        "ON l.record_type = 'opportunity' AND l.record_id = o.id"
    ).fetchone()
    assert lines == sum(len(r.data.get("lines") or []) for r in repo.records("opportunities"))
    (total,) = db.execute(
        "SELECT sum(total_amount_cents) FROM opportunities WHERE currency = 'EUR'"
    ).fetchone()
    assert isinstance(total, int) and total > 0
    db.close()


MAPPING = """\
columns:
  Deal: name
  Stage: stage
  Value: amount
  Owner: responsible
  Tags: tags
  Close: expected_close
  Notes: null
values:
  stage: {Prospecting: qualify, Offer: proposal}
  responsible: {Alice M.: alice}
defaults:
  kind: standard-sale
  status: in_progress
  partner: acme
  currency: EUR
  probability: 10
  opened: 2026-02-01
"""

GOOD = """\
Deal,Stage,Value,Owner,Tags,Close,Notes
Forklift fleet,Prospecting,12000,Alice M.,priority,2026-09-30,call back
Racking,Offer,"4,5",Alice M.,,2026-10-31,
"""

MIXED = """\
Deal,Stage,Value,Owner,Tags,Close,Notes
Forklift fleet,Prospecting,12000,Alice M.,priority,2026-09-30,call back
Bad stage,Nowhere,100,Alice M.,,2026-09-30,
Value typo,Prospecting,12k,Alice M.,,2026-09-30,
,Prospecting,100,Alice M.,,2026-09-30,
Pallets,Prospecting,800,Alice M.,,2026-11-30,
"""


def _import(root: Path, text: str, *args: str) -> int:
    (root.parent / "deals.csv").write_text(text, encoding="utf-8")
    (root.parent / "map.yaml").write_text(MAPPING, encoding="utf-8")
    return main(
        [
            "import",
            "csv",
            str(root.parent / "deals.csv"),
            "--type",
            "opportunities",
            "--map",
            str(root.parent / "map.yaml"),
            *args,
        ]
    )


def test_import_maps_converts_places_and_commits(repo: Path) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()
    good = GOOD.replace('"4,5"', "4500")
    assert _import(repo, good) == 0
    assert git(repo, "rev-parse", "HEAD^").strip() == before
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("crm: import 2 opportunities from deals.csv")
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    # placed by crm.yaml's layout (by month of `opened`)
    assert files == [
        "opportunities/2026/02/forklift-fleet.yaml",
        "opportunities/2026/02/racking.yaml",
    ]
    text = (repo / files[0]).read_text()
    assert "stage: qualify" in text and "responsible: alice" in text
    assert ("amount: 12000" in text and "tags: [priority]" in text) or "- priority" in text
    assert "call back" not in text  # a column mapped to null is ignored
    assert git(repo, "status", "--porcelain") == ""
    assert main(["validate"]) == 0
    # imported deals may be under way already: 'racking' starts at proposal, and the
    # import's commit passes lint (stage-start exempts origin type import)
    racking = (repo / files[1]).read_text()
    assert "stage: proposal" in racking and "type: import" in racking
    assert main(["lint", "--base", "HEAD~1", "--head", "HEAD"]) == 0


def test_import_refuses_rows_with_their_numbers_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()
    assert _import(repo, MIXED) == 1
    out = capsys.readouterr()
    refused = out.out.splitlines()
    assert any(line.endswith("deals.csv:3: row 2 (bad-stage): refused: unknown stage 'Nowhere'"
                             " [unknown-reference]") for line in refused)  # fmt: skip
    assert any(":4: row 3 (value-typo): refused: column 'Value': '12k' is not a number" in line
               for line in refused)  # fmt: skip
    assert any(":5: row 4: refused: no id and no name to make one from" in line for line in refused)
    assert not any("row 1 " in line or "row 5 " in line for line in refused)
    assert "3 of 5 rows refused; nothing written" in out.err
    assert git(repo, "rev-parse", "HEAD").strip() == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_import_partial_writes_the_valid_rows(repo: Path) -> None:
    assert _import(repo, MIXED, "--partial") == 0
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert files == [
        "opportunities/2026/02/forklift-fleet.yaml",
        "opportunities/2026/02/pallets.yaml",
    ]


def test_import_without_commit_and_dry_run(repo: Path) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()
    assert _import(repo, GOOD.replace('"4,5"', "4500"), "--dry-run") == 0
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert _import(repo, GOOD.replace('"4,5"', "4500"), "--no-commit") == 0
    assert git(repo, "rev-parse", "HEAD").strip() == before
    status = git(repo, "status", "--porcelain", "--untracked-files=all").split("\n")
    assert sorted(line for line in status if line) == [
        "?? opportunities/2026/02/forklift-fleet.yaml",
        "?? opportunities/2026/02/racking.yaml",
    ]


def test_import_ids_from_a_column_and_unique_slugs(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = MAPPING.replace("columns:\n", "columns:\n  Id: id\n")
    (repo.parent / "map.yaml").write_text(mapping, encoding="utf-8")
    header = "Id,Deal,Stage,Value,Owner,Tags,Close,Notes\n"
    rows = [
        "my-own-id,Crane,Prospecting,1,Alice M.,,2026-09-30,",
        ",Acme Forklifts!,Prospecting,1,Alice M.,,2026-09-30,",  # slug taken: -2
        ",Acme Forklifts?,Prospecting,1,Alice M.,,2026-09-30,",  # and -3
    ]
    (repo.parent / "deals.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["import", "csv", str(repo.parent / "deals.csv"), "--type", "opportunities"]
    assert main([*args, "--map", str(repo.parent / "map.yaml")]) == 0
    added = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(Path(p).stem for p in added) == [
        "acme-forklifts-2",
        "acme-forklifts-3",
        "my-own-id",
    ]
    # an id that exists already is refused, not overwritten
    (repo.parent / "deals.csv").write_text(header + rows[0] + "\n", encoding="utf-8")
    assert main([*args, "--map", str(repo.parent / "map.yaml")]) == 1
    assert "row 1: refused: id 'my-own-id' exists already" in capsys.readouterr().out


def test_imported_partners_and_leads_get_their_date_of_entry(repo: Path) -> None:
    import datetime as dt

    today = dt.date.today().isoformat()
    (repo.parent / "map.yaml").write_text(
        "columns: {Company: name}\ndefaults: {roles: [customer]}\n"
    )
    (repo.parent / "partners.csv").write_text("Company\nZeta Kran AG\n", encoding="utf-8")
    args = ["import", "csv", str(repo.parent / "partners.csv"), "--type", "partners"]
    assert main([*args, "--map", str(repo.parent / "map.yaml")]) == 0
    text = (repo / "partners/zeta-kran-ag.yaml").read_text()
    assert f"opened: {today}\n" in text
    (repo.parent / "map.yaml").write_text(
        "columns: {Title: name, Firm: company}\ndefaults: {status: new}\n"
    )
    (repo.parent / "leads.csv").write_text("Title,Firm\nCrane inquiry,Zeta\n")
    args = ["import", "csv", str(repo.parent / "leads.csv"), "--type", "leads"]
    assert main([*args, "--map", str(repo.parent / "map.yaml")]) == 0
    added = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert len(added) == 1
    assert f"created: {today}\n" in (repo / added[0]).read_text()


def test_a_broken_mapping_is_a_usage_error(repo: Path) -> None:
    (repo.parent / "map.yaml").write_text("columns: [a, b]\n")
    (repo.parent / "deals.csv").write_text("a,b\n1,2\n")
    args = ["import", "csv", str(repo.parent / "deals.csv"), "--type", "partners"]
    assert main([*args, "--map", str(repo.parent / "map.yaml")]) == 2
    (repo.parent / "map.yaml").write_text("columns: {Missing: name}\n")
    assert main([*args, "--map", str(repo.parent / "map.yaml")]) == 2
