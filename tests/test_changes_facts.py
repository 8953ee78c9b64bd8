"""``crm changes`` and ``crm lint --summary`` sum the head's pipeline from the facts
cache: through edits, staging, commits, renames, deletions, resets and catalog changes
they answer byte for byte what a cold read answers (no cache) and what the plain read
answers (every file parsed whole, no facts), and a warm run parses only the files git
says changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import commit_all, git, write

from crmfiles import lint
from crmfiles.cli.main import main
from crmfiles.records import catalogs, facts_cache
from crmfiles.records.facts import covers
from crmfiles.records.worktree import WorkTree
from crmfiles.reports import delta
from crmfiles.rules.base import Context
from crmfiles.rules.permanence import IN_USE_CATALOGS

EUR = "amount: 30000\ncurrency: EUR\n"
USD = "amount: 1234.5\ncurrency: USD\n"
GBP = "amount: 700\ncurrency: GBP\n"  # no rate in catalogs/currencies.yaml
PRICED_BY_CATALOG = "currency: EUR\nlines:\n  - product: forklift\n    quantity: 2\n"


def deal(
    rid: str,
    stage: str = "qualify",
    probability: int = 10,
    money: str = EUR,
    status: str = "in_progress",
    name: str | None = None,
) -> str:
    closed = "closed: true\nloss_reason: price\n" if status == "lost" else ""
    closed += "closed: true\n" if status == "won" else ""
    return (
        f"id: {rid}\nname: {name or 'Deal ' + rid}\nkind: standard-sale\nstage: {stage}\n"
        f"status: {status}\n{closed}partner: acme\nresponsible: alice\n"
        f"probability: {probability}\n{money}opened: 2026-01-10\nexpected_close: 2026-06-30\n"
    )


def path(rid: str, month: str = "02") -> str:
    return f"opportunities/2026/{month}/{rid}.yaml"


def run(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    main(list(words))
    return capsys.readouterr().out


def answers(capsys: pytest.CaptureFixture[str], base: str) -> dict[str, str]:
    """What a reviewer reads, for the work tree against HEAD, the work tree against
    ``base``, and ``base`` against HEAD."""
    out: dict[str, str] = {}
    for label, words in (
        ("work tree", []),
        ("from base", ["--base", base]),
        ("range", ["--base", base, "--head", "HEAD"]),
    ):
        for fmt in ("table", "json"):
            out[f"{label} {fmt}"] = run(capsys, "changes", *words, "--format", fmt)
        out[f"{label} summary"] = run(capsys, "lint", *words, "--summary")
    out["staged summary"] = run(capsys, "lint", "--staged", "--summary")
    return out


def plain_head(
    ctx: Context, purse: Any, table: object, changed: Mapping[str, object]
) -> list[tuple[str, Any]]:
    """The head's pipeline per stage as it was read before facts: every record file of
    the revision parsed whole (Context.records), one after the other."""
    piles: dict[str, Any] = {}
    for f in ctx.records("opportunities"):
        contribution = purse.of(f.data)
        if contribution is not None:
            stage, amount, weight = contribution
            pile = piles.setdefault(stage, delta._Pile(f.path))
            pile.add(amount, weight, f.place.id in changed)
    return list(piles.items())


def plain_usage(records: list[tuple[str, dict[str, Any]]], name: str, entry: str) -> int:
    return sum(1 for _, data in records if data.get(name) == entry)


def read_plainly(patch: pytest.MonkeyPatch) -> None:
    """No cache, and no facts: every reader of opportunities parses every file."""
    patch.setenv("CRM_NO_CACHE", "1")
    patch.setattr(delta, "_head", plain_head)
    patch.setattr(
        lint,
        "_usage",
        lambda ctx, name, entry: plain_usage(
            [(f.place.id, f.data) for f in ctx.records("opportunities")], name, entry
        ),
    )
    patch.setattr(
        lint.RevisionIndex,
        "usage",
        lambda index, name, entry: plain_usage(index.records("opportunities"), name, entry),
    )


def assert_as_cold(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, base: str
) -> None:
    warm = answers(capsys, base)
    with monkeypatch.context() as cold:
        cold.setenv("CRM_NO_CACHE", "1")
        assert answers(capsys, base) == warm, "a cold read disagrees with the warm one"
    with monkeypatch.context() as plain:
        read_plainly(plain)
        assert answers(capsys, base) == warm, "reading every file whole disagrees"


def test_changes_answers_as_a_cold_read_through_every_kind_of_change(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        repo,
        {
            path("d1"): deal("d1"),
            path("d2"): deal("d2", "proposal", 40, USD),
            path("d3"): deal("d3", "negotiate", 70, PRICED_BY_CATALOG),
            path("d4"): deal("d4", "commit", 90, GBP),
            path("d5"): deal("d5", "proposal", 33, USD),
            path("d6", "03"): deal("d6", "qualify", 10, "amount: 99.99\n"),
        },
    )
    base = commit_all(repo, "six deals")
    renamed = path("d5-renamed", "04")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("an edit in the work tree", lambda: write(repo, {path("d1"): deal("d1", "proposal")})),
        ("the edit staged", lambda: git(repo, "add", "-A")),
        ("committed", lambda: commit_all(repo, "d1 moves")),
        (
            "a rename not staged, edited",
            lambda: (
                (repo / path("d5")).unlink(),
                write(repo, {renamed: deal("d5", "negotiate", 33, USD)}),
            ),
        ),
        ("the rename committed", lambda: commit_all(repo, "d5 renamed")),
        (
            "a rename staged, into a folder whose name is a glob",
            lambda: (
                (repo / "opportunities/2026/[q2]").mkdir(),
                git(repo, "mv", renamed, "opportunities/2026/[q2]/d5-renamed.yaml"),
            ),
        ),
        (
            "an edit there",
            lambda: write(
                repo, {"opportunities/2026/[q2]/d5-renamed.yaml": deal("d5", "commit", 90, USD)}
            ),
        ),
        ("a deletion", lambda: (repo / path("d6", "03")).unlink()),
        ("an untracked new deal", lambda: write(repo, {path("d7"): deal("d7", money=USD)})),
        (
            "a deal won, one lost",
            lambda: write(
                repo,
                {
                    path("d2"): deal("d2", "proposal", 100, USD, "won"),
                    path("d4"): deal("d4", "commit", 0, GBP, "lost"),
                },
            ),
        ),
        ("committed", lambda: commit_all(repo, "closed two")),
        (
            "the catalogs change: a price, a rate, a stage's name",
            lambda: write(
                repo,
                {
                    "catalogs/products.yaml": (repo / "catalogs/products.yaml")
                    .read_text()
                    .replace("price: 15000", "price: 16500"),
                    "catalogs/currencies.yaml": (repo / "catalogs/currencies.yaml")
                    .read_text()
                    .replace("rate: 0.9", "rate: 0.95"),
                    "catalogs/stages.yaml": (repo / "catalogs/stages.yaml")
                    .read_text()
                    .replace("name: Proposal", "name: Offer"),
                },
            ),
        ),
        ("committed", lambda: commit_all(repo, "catalogs")),
        (
            "a stage removed while deals are in it",
            lambda: write(
                repo,
                {
                    "catalogs/stages.yaml": (repo / "catalogs/stages.yaml")
                    .read_text()
                    .replace("- id: commit\n  name: Commit\n  probability: 90\n", "")
                },
            ),
        ),
        ("a second file of an id", lambda: write(repo, {path("d1", "09"): deal("d1", "commit")})),
        ("a file that does not parse", lambda: write(repo, {path("d8"): "id: [broken\n"})),
        ("everything committed", lambda: commit_all(repo, "the rest")),
        ("a reset to the commit before", lambda: git(repo, "reset", "-q", "--hard", "HEAD~1")),
        (
            "an edit undone",
            lambda: (
                write(repo, {path("d3"): deal("d3", "commit", 90)}),
                run(capsys, "changes"),
                git(repo, "checkout", "--", "."),
            ),
        ),
    ]
    assert_as_cold(repo, capsys, monkeypatch, base)
    for label, step in steps:
        step()
        try:
            assert_as_cold(repo, capsys, monkeypatch, base)
        except AssertionError as exc:
            raise AssertionError(f"after {label}: {exc}") from exc


def test_the_money_of_a_second_file_of_an_id_and_of_a_catalog_price(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {path("d3"): deal("d3", "negotiate", 70, PRICED_BY_CATALOG)})
    commit_all(repo, "a deal priced by the catalog")
    write(repo, {path("d3", "09"): deal("d3", "negotiate", 50)})  # the id again: counted too
    commit_all(repo, "d3 twice")
    run(capsys, "changes")  # the caches learn the tree
    out = run(capsys, "changes")
    # 2 x 15,000 from the products catalog at 70%, and the second file's 30,000 at 50%
    assert "  Negotiate: open €60,000.00 → €60,000.00, weighted €36,000.00 → €36,000.00" in out


def counted_parses(monkeypatch: pytest.MonkeyPatch, *, read_back: bool = True) -> list[str]:
    """The record files parsed for their facts or (``read_back``) read back whole by the
    checker's context, in order."""
    seen: list[str] = []
    facts_parse, materialize = facts_cache._parse, Context.materialize

    def parse(folder: str, raw: object) -> object:
        seen.append(raw.path)  # type: ignore[attr-defined]
        return facts_parse(folder, raw)  # type: ignore[arg-type]

    def whole(self: Context, files: list) -> None:  # type: ignore[type-arg]
        seen.extend(f.path for f in files if f.data is None)
        materialize(self, files)

    monkeypatch.setattr(facts_cache, "_parse", parse)
    if read_back:
        monkeypatch.setattr(Context, "materialize", whole)
    return seen


def test_a_warm_run_parses_only_what_git_says_changed(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, {path(f"d{n}"): deal(f"d{n}") for n in range(40)})
    base = commit_all(repo, "forty deals")
    run(capsys, "changes")  # the caches learn the tree
    seen = counted_parses(monkeypatch)
    assert "No opportunity changed" in run(capsys, "changes")
    assert seen == []
    write(repo, {path("d7"): deal("d7", "proposal", 40)})
    assert "+€12,000.00 weighted in Proposal" in run(capsys, "changes")
    assert set(seen) == {path("d7")}
    commit_all(repo, "d7 moves")
    write(repo, {path("d9"): deal("d9", "proposal", 40)})
    commit_all(repo, "d9 moves")
    seen.clear()
    out = run(capsys, "changes", "--base", base, "--head", "HEAD")
    assert "+€24,000.00 weighted in Proposal" in out
    assert set(seen) <= {path("d7"), path("d9")}


def test_a_stage_removed_counts_its_deals_from_the_facts(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert covers("opportunities", IN_USE_CATALOGS.values())  # stage-in-use reads facts
    write(repo, {path(f"d{n}"): deal(f"d{n}", "commit", 90) for n in range(30)})
    commit_all(repo, "thirty deals in commit")
    stages = (repo / "catalogs/stages.yaml").read_text()
    write(
        repo,
        {
            "catalogs/stages.yaml": stages.replace(
                "- id: commit\n  name: Commit\n", "- id: x\n  name: X\n"
            )
        },
    )
    message = (
        "catalogs/stages.yaml:1:1: error: stage 'commit' was removed but 30 records still "
        "use it [stage-in-use]"
    )
    assert message in run(capsys, "lint")  # the work tree against HEAD
    commit_all(repo, "commit removed")
    run(capsys, "changes")  # the caches learn the new tree
    # (the checker reads back the deals it reports, unknown stage: not counted here)
    seen = counted_parses(monkeypatch, read_back=False)
    plain = catalogs.parse

    def parse(text: str) -> object:
        data = plain(text)
        if isinstance(data, dict):
            seen.append(str(data.get("id")))
        return data

    monkeypatch.setattr(catalogs, "parse", parse)
    assert message in run(capsys, "lint", "--base", "HEAD~1", "--head", "HEAD")
    assert seen == []  # the commit's deals counted from the facts, none parsed


def test_again_gives_git_s_last_answers_once_and_leaves_none_behind(repo: Path) -> None:
    source = WorkTree(repo)
    assert source.dirty() == []
    tree = source.tree()
    acme = "opportunities/2026/01/acme-forklifts.yaml"
    write(repo, {acme: (repo / acme).read_text().replace("qualify", "proposal")})
    git(repo, "add", acme)  # the index's tree changes too
    write(repo, {acme: (repo / acme).read_text().replace("proposal", "commit")})
    with source.again():  # a second reader in the same command: as the first saw it
        assert (source.tree(), source.dirty()) == (tree, [])
        assert source.tree() != tree  # once: then git is asked
    with source.again():
        pass  # nothing asked: nothing left for a later reader
    assert source.dirty() == [acme]
