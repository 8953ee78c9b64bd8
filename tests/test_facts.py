"""The facts every reader reads are never wrong: after any sequence of edits, a read
that uses the cache gives exactly what a cold read of the same revision gives (each
file parsed whole, then reduced to its facts), and a warm read parses only what
changed."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import commit_all, git, write

from crmfiles import money, notices
from crmfiles.records import facts as facts_module
from crmfiles.records import facts_cache
from crmfiles.records.facts import FIELDS, amount, facts_of, margin
from crmfiles.records.facts_cache import FactsCache, read_facts, read_tables
from crmfiles.records.gitsources import Index, Revision
from crmfiles.records.sources import Source
from crmfiles.records.store import Repository
from crmfiles.records.worktree import WorkTree
from crmfiles.records.yamlio import parse
from crmfiles.reports.pipeline import DEFAULT_COLUMNS, DERIVED, rows

EXAMPLE = Path(__file__).resolve().parents[1] / "example-repo"

OPPORTUNITY = """\
id: {id}
name: {name}
kind: standard-sale
stage: {stage}
status: in_progress
partner: {partner}
responsible: alice
probability: 10
currency: EUR
opened: 2026-01-10
tags: [green]
lines:
  - product: {product}
    quantity: 2
{price}competitors:
  - partner: rival
next_milestone: call them
"""


def cold(source: Source) -> dict[str, list[tuple[str, str, Any]]]:
    """Every kept folder read whole, then reduced to facts: the plain path."""
    repo = Repository(source.root, source)
    return {
        folder: [(r.path, r.id, facts_of(folder, r.data)) for r in repo.records(folder)]
        for folder in FIELDS
    }


def warm(source: Source, *, use_cache: bool = True) -> dict[str, list[tuple[str, str, Any]]]:
    read = read_facts(source, use_cache=use_cache)
    return {folder: [(r.path, r.id, r.data) for r in records] for folder, records in read.items()}


def assert_agree(root: Path) -> None:
    for source in (WorkTree(root), Index(root), Revision(root, "HEAD")):
        expected = cold(source)
        assert warm(source) == expected, f"{source.label}: the cache disagrees with a cold read"
        assert warm(source, use_cache=False) == expected, source.label


@pytest.fixture(params=[0, 10_000], ids=["save-every-read", "save-rarely"])
def threshold(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(facts_cache, "SAVE_THRESHOLD", request.param)
    return int(request.param)


def opportunity(n: int, **fields: str) -> str:
    values = {
        "id": f"o{n}",
        "name": f"Deal {n}",
        "stage": "qualify",
        "partner": "acme",
        "product": "widget",
        "price": "    unit_price: 100\n    margin: 30\n",
    }
    values.update(fields)
    return OPPORTUNITY.format(**values)


@pytest.mark.parametrize("seed", [20261122, 7, 42])
def test_warm_reads_agree_with_cold_reads_through_random_edits(
    repo: Path, threshold: int, seed: int
) -> None:
    rng = random.Random(seed)
    paths = [f"opportunities/2026/{1 + n % 3:02d}/o{n}.yaml" for n in range(10)]
    write(repo, {path: opportunity(n) for n, path in enumerate(paths)})
    write(repo, {"views/mine.yaml": "id: mine\nname: Mine\ncolumns: [name, stage]\n"})
    commit_all(repo, "ten deals")
    assert_agree(repo)

    def edit() -> None:
        n = rng.randrange(len(paths))
        change = rng.choice(["stage", "partner", "unpriced", "syntax", "list", "name"])
        if change == "stage":
            text = opportunity(n, stage=rng.choice(["proposal", "negotiate"]))
        elif change == "partner":
            text = opportunity(n, partner=rng.choice(["acme", "rival"]))
        elif change == "unpriced":  # the lines' price comes from the catalog
            text = opportunity(n, price="")
        elif change == "syntax":
            text = "id: [broken\n"
        elif change == "list":
            text = "- not a mapping\n"
        else:
            text = opportunity(n, name=f"Deal {rng.randrange(99)}")
        write(repo, {paths[n]: text})

    steps = [
        edit,
        edit,
        edit,
        lambda: git(repo, "add", "-A"),
        lambda: commit_all(repo, "step"),
        lambda: write(repo, {"opportunities/2026/09/o3.yaml": opportunity(3)}),  # id twice
        lambda: (repo / "opportunities/2026/09/o3.yaml").unlink(missing_ok=True),
        lambda: write(repo, {"opportunities/2026/09/new.yml": opportunity(50, id="new")}),
        lambda: write(repo, {"partners/rival.yaml": "id: rival\nname: Rival Ltd\n"}),
        lambda: (repo / paths[rng.randrange(len(paths))]).unlink(missing_ok=True),
        lambda: git(repo, "checkout", "--", "."),
        lambda: git(repo, "reset", "-q", "--hard", "HEAD"),
        lambda: git(repo, "reset", "-q", "HEAD~1") if _commits(repo) > 1 else None,
        lambda: git(repo, "stash", "-q", "-u"),
        lambda: write(
            repo, {"catalogs/products.yaml": "- id: widget\n  name: Widget\n  price: 12.5\n"}
        ),
        lambda: write(repo, {"views/mine.yaml": "id: mine\nname: Mine\ncolumns: [name]\n"}),
    ]
    for _ in range(40):
        rng.choice(steps)()
        assert_agree(repo)


def _commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD").strip())


def test_branches_and_checkouts_read_as_cold(repo: Path) -> None:
    write(repo, {f"opportunities/o{n}.yaml": opportunity(n) for n in range(5)})
    commit_all(repo, "five")
    assert_agree(repo)
    git(repo, "checkout", "-q", "-b", "other")
    write(repo, {"opportunities/o1.yaml": opportunity(1, stage="commit")})
    write(repo, {"opportunities/o9.yaml": opportunity(9)})
    commit_all(repo, "other")
    assert_agree(repo)
    git(repo, "checkout", "-q", "-")
    assert_agree(repo)


def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths each read parses, in order."""
    seen: list[str] = []
    plain = facts_cache._parse

    def counted(folder: str, raw: Any) -> Any:
        seen.append(raw.path)
        return plain(folder, raw)

    monkeypatch.setattr(facts_cache, "_parse", counted)
    return seen


def test_a_warm_read_parses_only_what_git_says_changed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, {f"opportunities/o{n}.yaml": opportunity(n) for n in range(30)})
    commit_all(repo, "thirty")
    seen = parses(monkeypatch)
    read_facts(WorkTree(repo))
    kept = git(repo, "ls-files", "--", *FIELDS).split()
    assert sorted(seen) == sorted(kept)  # every file of a kept folder, once
    seen.clear()
    read_facts(WorkTree(repo))
    assert seen == []
    write(repo, {"opportunities/o7.yaml": opportunity(7, stage="proposal")})
    read_facts(WorkTree(repo))
    assert seen == ["opportunities/o7.yaml"]
    seen.clear()
    commit_all(repo, "o7 moves")
    read_facts(WorkTree(repo))
    assert seen == ["opportunities/o7.yaml"]  # a new tree: its one changed blob


def test_a_past_revision_reuses_every_blob_the_cache_knows(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, {f"opportunities/o{n}.yaml": opportunity(n) for n in range(20)})
    commit_all(repo, "twenty")
    write(repo, {"opportunities/o3.yaml": opportunity(3, stage="proposal")})
    commit_all(repo, "o3 moves")
    read_facts(WorkTree(repo))
    seen = parses(monkeypatch)
    past = read_facts(Revision(repo, "HEAD~1"))
    assert seen == ["opportunities/o3.yaml"]
    assert warm(Revision(repo, "HEAD~1")) == cold(Revision(repo, "HEAD~1"))
    stage = {r.id: r.data["stage"] for r in past["opportunities"]}
    assert stage["o3"] == "qualify"


def test_the_cache_lives_in_the_git_directory_and_can_be_deleted(repo: Path) -> None:
    write(repo, {"opportunities/o1.yaml": opportunity(1)})
    commit_all(repo, "one")
    read_facts(WorkTree(repo))
    store = FactsCache.for_root(repo)
    assert store is not None and store.path.is_file()
    assert store.path.parent == repo / ".git" / "crmfiles"
    shutil.rmtree(store.path.parent)
    assert_agree(repo)
    store.path.write_bytes(b"not a cache")  # a damaged file is no cache, not an error
    assert_agree(repo)


def test_outside_git_the_files_are_read(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "crm", ignore=shutil.ignore_patterns(".git"))
    root = tmp_path / "crm"
    assert warm(WorkTree(root)) == cold(WorkTree(root))


def test_a_symlinked_record_is_left_out_with_a_notice(repo: Path) -> None:
    write(repo, {"opportunities/o1.yaml": opportunity(1)})
    commit_all(repo, "one")
    (repo / "opportunities/o2.yaml").symlink_to(repo / "opportunities/o1.yaml")
    read = read_facts(WorkTree(repo))
    assert "o2" not in [r.id for r in read["opportunities"]]
    table = read_tables(WorkTree(repo))["opportunities"]
    assert table.unreadable["opportunities/o2.yaml"].startswith("opportunities/o2.yaml: symlink")
    notices.drain()
    reader = Repository(repo)
    reader.fact_table("opportunities")
    assert reader.unreadable_in("opportunities") == ["opportunities/o2.yaml"]
    assert any(n.startswith("opportunities/o2.yaml: symlink") for n in notices.drain())
    assert_agree(repo)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"id: o2\nname: [unclosed\n", "opportunities/o2.yaml:2: unclosed bracket"),
        (b"id: o2\nname: \xff\n", "opportunities/o2.yaml: not valid UTF-8"),
    ],
)
def test_a_record_that_does_not_parse_is_named_by_every_read(
    repo: Path, content: bytes, said: str
) -> None:
    """Warm or cold, committed or edited: the file is left out and named (a list says
    it beside its totals), never silently dropped."""
    write(repo, {"opportunities/o1.yaml": opportunity(1)})
    commit_all(repo, "one")
    (repo / "opportunities/o2.yaml").write_bytes(content)
    for _ in range(2):  # edited in the work tree: read, said, not kept
        table = read_tables(WorkTree(repo))["opportunities"]
        assert "o1" in table.ids and "o2" not in table.ids
        assert table.unreadable["opportunities/o2.yaml"].startswith(said)
    commit_all(repo, "a broken one")
    for use_cache in (True, True, False):  # learned, then from the cache, then cold
        table = read_tables(WorkTree(repo), use_cache=use_cache)["opportunities"]
        assert "o1" in table.ids and "o2" not in table.ids
        assert table.unreadable["opportunities/o2.yaml"].startswith(said)
    notices.drain()
    reader = Repository(repo)
    reader.fact_table("opportunities")
    assert reader.unreadable_in("opportunities") == ["opportunities/o2.yaml"]
    assert [n for n in notices.drain() if n.startswith(said)]
    (repo / "opportunities/o2.yaml").write_text(opportunity(2))
    commit_all(repo, "mended")
    table = read_tables(WorkTree(repo))["opportunities"]
    assert "o2" in table.ids and table.unreadable == {}
    assert_agree(repo)


# --- the facts hold what readers read, and money reads them as it reads records ------


def example_opportunities() -> list[dict[str, Any]]:
    return [
        parse(path.read_text("utf-8")) for path in sorted(EXAMPLE.glob("opportunities/**/*.yaml"))
    ]


LINES = [
    None,
    [],
    "not a list",
    [{"product": "widget", "quantity": 2}],  # priced by the catalog
    [{"product": "widget", "quantity": 2, "margin": 25}],
    [{"unit_price": 10, "quantity": 3, "discount": 5, "margin": 20, "duration_months": 12}],
    [{"unit_price": "x"}, {"unit_price": 2}],
    ["a line that is no mapping", {"unit_price": 2, "margin": 10}],
    [{"product": "missing", "quantity": 1}],
]


@pytest.mark.parametrize("lines", LINES)
@pytest.mark.parametrize("stated", [None, 1234.5, "99.999", True])
@pytest.mark.parametrize("probability", [None, 35, "35", 2.5])
def test_amount_and_margin_of_facts_are_those_of_the_record(
    lines: Any, stated: Any, probability: Any
) -> None:
    products = {"widget": {"id": "widget", "price": 12.5}}
    data: dict[str, Any] = {"id": "o", "name": "O", "next_milestone": "x"}
    if probability is not None:
        data["probability"] = probability
    if lines is not None:
        data["lines"] = lines
    if stated is not None:
        data["amount"] = stated
    kept = facts_of("opportunities", data)
    assert "next_milestone" not in kept
    assert amount(kept, products) == money.amount_of(data, products)
    assert margin(kept, products) == money.margin_of(data, products)
    assert amount(data, products) == money.amount_of(data, products)  # full data too
    for of_margin, value in ((False, amount(kept, products)), (True, margin(kept, products))):
        plain = money.weighted(value, probability)
        assert facts_module.weighted_of(kept, value, of_margin=of_margin) == plain
        assert facts_module.weighted_of(data, value, of_margin=of_margin) == plain


def test_every_example_opportunity_gives_the_same_rows_from_facts(tmp_path: Path) -> None:
    for data in example_opportunities():
        kept = facts_of("opportunities", data)
        assert amount(kept) == money.amount_of(data)
        assert margin(kept) == money.margin_of(data)
    root = tmp_path / "crm"
    shutil.copytree(EXAMPLE, root)
    repo = Repository(root)
    whole, from_facts = rows(repo, whole=True), rows(Repository(root))
    columns = [*DEFAULT_COLUMNS, *sorted(DERIVED), "closed", "tags", "opened", "loss_reason"]
    assert [[r.value(c) for c in columns] for r in from_facts] == [
        [r.value(c) for c in columns] for r in whole
    ]
    assert all(not r.record.whole for r in from_facts)


def test_a_field_facts_lack_is_read_from_the_whole_record() -> None:
    assert facts_module.covers("opportunities", ["name", "stage", "tags"])
    assert not facts_module.covers("opportunities", ["next_milestone"])
    assert facts_module.covers("views", ["anything"])


def test_competitors_of_facts_are_partner_and_outcome() -> None:
    data = {
        "competitors": [{"partner": "rival", "outcome": "won", "comment": "long"}, "odd"],
        "lines": [{"product": "widget"}],
        "amount": 5,
    }
    kept = facts_of("opportunities", data)
    assert facts_module.competitors(kept) == [{"partner": "rival", "outcome": "won"}, "odd"]
    assert facts_module.competitors(data) == data["competitors"]
    assert not facts_module.covers("opportunities", ["competitors"])
    assert not facts_module.covers("opportunities", ["lines"])
    assert facts_module.covers("opportunities", ["amount"])


def test_a_patched_table_works_a_column_out_as_every_change_made_at_once() -> None:
    """A read's table decodes and patches a column when it is first read: any order
    of reads among the changes (rows replaced, inserted and dropped, a field first
    named by a change) gives the columns that applying every change to every column
    in turn gives."""
    from crmfiles.records.facts_file import Rows, decoded, encode
    from crmfiles.records.facts_table import MISSING

    rng = random.Random(7)
    for _ in range(40):
        paths = sorted({f"o/{rng.randrange(100):03}.yaml" for _ in range(30)})
        rows = [{"stage": rng.choice("abc"), "n": rng.randrange(9)} for _ in paths]
        for row in rows[::4]:
            del row["n"]
        names = ["stage", "n"]
        kept = Rows(
            list(paths),
            [f"b{i}" for i in range(len(paths))],
            {n: encode([r.get(n, MISSING) for r in rows]) for n in names},
        )
        table = facts_cache._Table(kept)
        plain = dict(zip(paths, rows, strict=True))
        for step in range(25):
            path = f"o/{rng.randrange(100):03}.yaml"
            if rng.random() < 0.3:
                table.drop(path)
                plain.pop(path, None)
            else:
                facts = {"stage": rng.choice("xyz")}
                if rng.random() < 0.3:
                    facts["new"] = step  # a field no row had
                table.put(path, f"c{step}", facts)
                plain[path] = facts
            if rng.random() < 0.3:  # a column read between the changes
                table.column(rng.choice(table.names()))
        expected = sorted(plain)
        out = table.rows()
        assert out.paths == expected
        for name in {n for r in plain.values() for n in r}:
            assert decoded(out.columns[name]) == [plain[p].get(name, MISSING) for p in expected]


def test_a_forked_half_parses_as_this_process_does(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many files to parse: a forked child parses the second half; the tables (rows,
    blob ids, what could not be read) are those of one process parsing them all, and
    the cache it writes reads back the same."""
    files = {f"opportunities/o{n:02}.yaml": opportunity(n) for n in range(24)}
    files["opportunities/o30.yaml"] = "id: o30\nname: [unclosed\n"
    write(repo, files)
    commit_all(repo, "many")
    (repo / "opportunities/o31.yaml").symlink_to(repo / "opportunities/o01.yaml")
    (repo / "opportunities/o07.yaml").write_text(opportunity(7, name="Edited"))

    def tables(fork_from: int) -> dict[str, Any]:
        monkeypatch.setattr(facts_cache, "FORK_FROM", fork_from)
        read = read_tables(WorkTree(repo), use_cache=False)
        return {
            f: (t.paths, [t.row(i) for i in range(len(t))], t.unreadable) for f, t in read.items()
        }

    plain = tables(10**9)
    assert len(plain["opportunities"][0]) == 25  # (o30 kept as unreadable, o31 refused)
    assert tables(4) == plain
    shutil.rmtree(repo / ".git" / "crmfiles", ignore_errors=True)
    monkeypatch.setattr(facts_cache, "FORK_FROM", 4)
    learned = read_tables(WorkTree(repo))  # parsed in halves, and saved
    assert {f: (t.paths, [t.row(i) for i in range(len(t))]) for f, t in learned.items()} == {
        f: v[:2] for f, v in plain.items()
    }
    assert_agree(repo)
