"""`crm report html`: the dashboard page, written from the demo repository (real git
history), shows the CLI's own numbers, escapes every value, fetches nothing, and
renders in a real headless Chromium without a console error."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from crmfiles.cli.main import main
from crmfiles.money import fmt
from crmfiles.ops.demo import make_demo

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"  # kept after the run (gitignored); CI uploads it
BROWSER_TIMEOUT = 90


class Tables(HTMLParser):
    """Every table of a page by id: its rows as lists of cell texts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = self.tables.setdefault(str(dict(attrs).get("id")), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def crm(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(words))
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], root: Path, *words: str) -> Any:
    code, out, err = crm(capsys, *words, "--repo", str(root), "--format", "json")
    assert code == 0, err
    return json.loads(out)


def site(capsys: pytest.CaptureFixture[str], root: Path, out: Path, *extra: str) -> str:
    code, stdout, err = crm(capsys, "report", "html", "-o", str(out), "--repo", str(root), *extra)
    assert code == 0, err
    assert stdout == f"wrote {out / 'index.html'}\n"
    return (out / "index.html").read_text("utf-8")


def eur(value: str | None) -> str:
    return "—" if value is None else f"{fmt(Decimal(value))} EUR"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo(tmp_path_factory.mktemp("demo") / "crm")


@pytest.fixture(scope="module")
def page(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("site") / "site"
    code = main(["report", "html", "-o", str(out), "--repo", str(demo), "--since", "HEAD~40"])
    assert code == 0
    return out, (out / "index.html").read_text("utf-8")


def staged_kinds(root: Path) -> list[str]:
    from crmfiles.records.store import Repository
    from crmfiles.reports.funnel import staged_kinds

    return list(staged_kinds(Repository(root)))


def funnel_rows(payload: dict[str, Any], names: dict[str, str]) -> list[list[str]]:
    rows = [
        [names[s["stage"]], str(s["count"]), eur(s["amount"]), eur(s["weighted"])]
        for s in payload["stages"]
    ]
    rows.append(
        [
            "open",
            str(payload["open"]["count"]),
            eur(payload["open"]["amount"]),
            eur(payload["open"]["weighted"]),
        ]
    )
    rows += [[g, str(payload[g]["count"]), eur(payload[g]["amount"]), ""] for g in ("won", "lost")]
    return rows


def stage_names(root: Path) -> dict[str, str]:
    from crmfiles.records.store import Repository

    return {k: str(v.get("name") or k) for k, v in Repository(root).catalog("stages").items()}


def test_the_funnel_of_every_kind_is_the_clis(
    demo: Path, page: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tables = Tables(page[1]).tables
    kinds = staged_kinds(demo)
    assert len(kinds) >= 2
    for kind in kinds:
        payload = cli_json(capsys, demo, "report", "funnel", "--kind", kind)
        assert tables[f"funnel-{kind}"][1:] == funnel_rows(payload, stage_names(demo)), kind


def test_the_forecast_is_the_clis(
    demo: Path, page: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    payload = cli_json(capsys, demo, "report", "forecast")
    expected = [
        [
            m["month"],
            str(m["count"]),
            eur(m["amount"]),
            eur(m["weighted"]),
            str(m["overdue"]),
            str(m["won_count"]),
            eur(m["won"]),
        ]
        for m in payload["months"]
    ]
    u = payload["undated"]
    expected.append(["undated", str(u["count"]), eur(u["amount"]), eur(u["weighted"]), "", "", ""])
    rows = Tables(page[1]).tables["forecast-table"]
    assert rows[0] == ["month", "open", "amount", "weighted", "overdue", "won", "won amount"]
    assert rows[1:] == expected
    assert any(m["won_count"] for m in payload["months"])  # won beside the weighted


def test_winloss_dropoff_and_pipeline_are_the_reports(
    demo: Path, page: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tables = Tables(page[1]).tables
    winloss = cli_json(capsys, demo, "report", "winloss")
    assert tables["winloss-reasons"][1:] == [
        [r["name"], str(r["count"]), eur(r["amount"])] for r in winloss["by_reason"]
    ]
    assert [r[:4] for r in tables["winloss-competitors"][1:]] == [
        [c["name"], str(c["deals"]), str(c["won"]), str(c["lost"])]
        for c in winloss["by_competitor"]
    ]
    for kind in staged_kinds(demo):
        dropoff = cli_json(capsys, demo, "report", "dropoff", "--kind", kind)
        assert [r[1:4] for r in tables[f"dropoff-{kind}"][1:]] == [
            [str(s["reached"]), str(s["lost"]), str(s["open"])] for s in dropoff["stages"]
        ]
    # the pipeline per person adds up to the forecast's open opportunities (all kinds)
    forecast = cli_json(capsys, demo, "report", "forecast")
    buckets = [*forecast["months"], forecast["undated"]]
    *people, total = tables["pipeline-table"][1:]
    assert total[0] == "total"
    assert int(total[1]) == sum(b["count"] for b in buckets) == sum(int(p[1]) for p in people)
    assert total[2] == eur(str(sum(Decimal(b["amount"]) for b in buckets)))


def test_the_pipeline_per_person_is_crm_list(
    demo: Path, page: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from crmfiles.records.store import Repository

    ids = {str(v.get("name")): k for k, v in Repository(demo).catalog("people").items()}
    *people, _total = Tables(page[1]).tables["pipeline-table"][1:]
    assert len(people) >= 3
    for name, count, amount, weighted in people:
        listed = cli_json(
            capsys,
            demo,
            "list",
            "opportunities",
            "--responsible",
            ids[name],
            "--status",
            "in_progress",
        )["totals"]
        assert [count, amount, weighted] == [
            str(listed["count"]),
            eur(listed["amount"]),
            eur(listed["weighted"]),
        ], name


def test_what_moved_is_crm_changes_and_overdue_tasks_are_crm_tasks(
    demo: Path, page: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tables = Tables(page[1]).tables
    changes = cli_json(capsys, demo, "changes", "--base", "HEAD~40")
    assert changes["moved"]
    shown = [row[0] for row in tables["moved-table"][1:]]
    assert shown == [f"{m['name']} ({m['id']})" for m in changes["moved"]]
    assert "What moved since HEAD~40" in page[1]
    tasks = cli_json(capsys, demo, "tasks", "--all", "--overdue")
    assert tasks["tasks"]
    assert [row[:2] for row in tables["overdue-table"][1:]] == [
        [t["due"], t["title"]] for t in tasks["tasks"]
    ]


def test_without_since_there_is_no_moved_section(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = site(capsys, demo, tmp_path / "out")
    assert 'id="moved"' not in text and 'href="#moved"' not in text
    for section in ("funnel", "forecast", "dropoff", "winloss", "pipeline", "overdue"):
        assert f'<section id="{section}">' in text and f'href="#{section}"' in text


def test_at_shows_the_repository_as_it_was(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD~120"], cwd=demo, capture_output=True, text=True, check=True
    ).stdout.strip()
    text = site(capsys, demo, tmp_path / "then", "--at", "HEAD~120")
    now = Tables(site(capsys, demo, tmp_path / "now")).tables
    then = Tables(text).tables
    assert f"As of HEAD~120 ({commit[:9]})" in text
    names = stage_names(demo)
    for kind in staged_kinds(demo):
        payload = cli_json(capsys, demo, "report", "funnel", "--kind", kind, "--at", "HEAD~120")
        assert then[f"funnel-{kind}"][1:] == funnel_rows(payload, names)
    assert then != now  # history moved on since


def test_every_value_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_demo(tmp_path / "crm")
    evil = '<script>alert("x")</script> & <b>'
    people = root / "catalogs" / "people.yaml"
    people.write_text(people.read_text("utf-8").replace("Anna Becker", evil), "utf-8")
    stages = root / "catalogs" / "stages.yaml"
    text = stages.read_text("utf-8")
    assert "name: Qualify" in text
    stages.write_text(text.replace("name: Qualify", "name: Qualify <img src=x>", 1), "utf-8")
    page = site(capsys, root, tmp_path / "out", "--since", "HEAD~40")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert "Qualify &lt;img src=x&gt;" in page
    # the tables read back to the names as written
    tables = Tables(page).tables
    assert evil in [row[0] for row in tables["pipeline-table"]]


def test_nothing_is_fetched(page: tuple[Path, str]) -> None:
    text = page[1]
    assert "://" not in text  # no URL at all, so nothing from a CDN or any server
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", text)
    assert "url(" not in text and "@import" not in text
    assert "@media print" in text


def test_the_folder_is_written_atomically(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deep" / "site"
    site(capsys, demo, out)
    (out / "index.html").write_text("old page")
    site(capsys, demo, out)
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]  # no temporary left
    assert (out / "index.html").read_text("utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["report", "html"], "crm report html writes a web page: say where"),
        (["report", "html", "-o", "FILE"], "is not a folder"),
        (["report", "html", "-o", "out", "--format", "json"], "--format json: crm report html"),
        (["report", "funnel", "-o", "out"], "-o/--output is for `crm report html` only"),
        (["report", "funnel", "--since", "HEAD"], "--since is for `crm report html` only"),
        (["report", "html", "-o", "out", "--since", "no-such-rev"], "no-such-rev"),
        (["report", "html", "-o", "out", "--at", "1999-01-01"], "no commit on or before"),
    ],
)
def test_bad_input_is_a_clear_message(
    demo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    words: list[str],
    message: str,
) -> None:
    (tmp_path / "FILE").write_text("a file")
    words = [str(tmp_path / w) if w in ("FILE", "out") else w for w in words]
    code, out, err = crm(capsys, *words, "--repo", str(demo))
    assert code == 2, out + err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


# --- in a real browser -------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("no chromium on PATH (.ci/run installs Debian's package when apt can)")
    return found


def browse(tmp_path: Path, page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run on a page, with its own profile, bounded in time."""
    return subprocess.run(
        [
            chromium(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *flags,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        env={**os.environ, "HOME": str(tmp_path)},
    )


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_a_console_error_would_be_seen(tmp_path: Path) -> None:
    """The check below can fail: a page with a script error logs a CONSOLE line."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>noSuchFunction();</script>")
    result = browse(tmp_path, bad, "--dump-dom")
    assert result.returncode == 0, result.stderr
    assert any("noSuchFunction" in line for line in console_lines(result.stderr))


def test_the_page_loads_without_a_console_error_and_every_chart_draws(
    tmp_path: Path, page: tuple[Path, str]
) -> None:
    index = page[0] / "index.html"
    result = browse(tmp_path, index, "--dump-dom")
    assert result.returncode == 0, result.stderr
    assert console_lines(result.stderr) == []
    dom = result.stdout
    assert "<h1>CRM dashboard</h1>" in dom
    charts = re.findall(r"<svg class=\"chart\".*?</svg>", dom, re.S)
    assert len(charts) == page[1].count('<svg class="chart"') >= 8
    for chart in charts:
        bars = re.findall(r'<rect [^>]*width="([\d.]+)"[^>]*><title>', chart)
        assert any(float(width) > 0 for width in bars), chart[:200]
        described = re.search(r'aria-describedby="([^"]+)"', chart)
        assert described and f'<table id="{described.group(1)}">' in dom


def test_a_screenshot_is_kept(tmp_path: Path, page: tuple[Path, str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    result = browse(
        tmp_path,
        page[0] / "index.html",
        "--hide-scrollbars",
        "--window-size=1280,2000",
        f"--screenshot={shot}",
    )
    assert result.returncode == 0, result.stderr
    assert console_lines(result.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
    shutil.copy(page[0] / "index.html", ARTIFACTS / "dashboard.html")
    print(f"screenshot: {shot}")
