"""The warm-run cache is never wrong: after any sequence of edits, a run that uses the
cache reports exactly what a run without it reports."""

from __future__ import annotations

import bisect
import random
import shutil
from pathlib import Path

import pytest
from conftest import commit_all, git, write

from crmfiles import cachework, checkhelper
from crmfiles.cachesnapshot import CheckSnapshot, PathColumn
from crmfiles.check import check
from crmfiles.records.gitsources import Index, Revision
from crmfiles.records.sources import TOP_LEVEL, Overlay, Source
from crmfiles.records.worktree import WorkTree
from crmfiles.rules.base import IdIndex, record_id

OPPORTUNITY = """\
id: {id}
name: {name}
kind: standard-sale
stage: {stage}
status: in_progress
partner: {partner}
responsible: alice
probability: 10
currency: {currency}
opened: 2026-01-10
competitors:
  - partner: rival
"""


def both(source: Source) -> tuple[list[str], list[str]]:
    def lines(use_cache: bool) -> list[str]:
        report = check(source, use_cache=use_cache)
        return [f"{d.location} {d.severity} {d.rule} {d.message}" for d in report.diagnostics]

    return lines(True), lines(False)


def assert_agree(root: Path) -> None:
    for source in (WorkTree(root), Index(root), Revision(root, "HEAD")):
        warm, cold = both(source)
        assert warm == cold, f"{source.label}: the cache disagrees with a cold run"


@pytest.fixture(params=[0, 10_000], ids=["save-every-run", "save-rarely"])
def threshold(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(cachework, "SAVE_THRESHOLD", request.param)
    return int(request.param)


@pytest.mark.parametrize("seed", [20261122, 7, 42])
def test_cached_runs_agree_with_cold_runs_through_random_edits(
    repo: Path, threshold: int, seed: int
) -> None:
    rng = random.Random(seed)
    opportunities: dict[str, str] = {}

    def opportunity(n: int, **fields: str) -> str:
        values = {
            "id": f"o{n}",
            "name": f"Deal {n}",
            "stage": "qualify",
            "partner": "acme",
            "currency": "EUR",
        }
        values.update(fields)
        return OPPORTUNITY.format(**values)

    for n in range(12):
        path = f"opportunities/2026/{1 + n % 3:02d}/o{n}.yaml"
        opportunities[path] = opportunity(n)
    write(repo, dict(opportunities))
    write(
        repo,
        {
            "quotes/2026/01/q1.yaml": "id: q1\nopportunity: o1\nrevision: 1\n"
            "status: draft\ncurrency: EUR\n"
        },
    )
    commit_all(repo, "twelve deals")
    assert_agree(repo)
    check(WorkTree(repo))  # a warm cache to start from

    def edit() -> None:
        path = rng.choice(sorted(opportunities))
        n = int(path.rsplit("/o", 1)[1].removesuffix(".yaml"))
        change = rng.choice(["name", "partner", "stage", "currency", "syntax", "revert"])
        if change == "name":  # may collide with another deal's name
            text = opportunity(n, name=f"Deal {rng.randrange(12)}")
        elif change == "partner":  # may point at a partner that does not exist
            text = opportunity(n, partner=rng.choice(["acme", "rival", "nobody"]))
        elif change == "stage":
            text = opportunity(n, stage=rng.choice(["proposal", "nowhere"]))
        elif change == "currency":  # the quote follows o1's currency
            text = opportunity(n, currency=rng.choice(["EUR", "USD"]))
        elif change == "syntax":
            text = "id: [broken\n"
        else:
            text = opportunities[path]
        write(repo, {path: text})

    steps = [
        edit,
        edit,
        lambda: git(repo, "add", "-A"),
        lambda: commit_all(repo, "step"),
        lambda: write(
            repo,
            {
                "partners/nobody.yaml": "id: nobody\n"
                f"name: {rng.choice(['Nobody', 'ACME  gmbh', 'Rival Ltd'])}\n"
                "roles: [customer]\n"
            },
        ),
        lambda: (repo / "partners/nobody.yaml").unlink(missing_ok=True),
        lambda: write(
            repo,
            {
                "partners/rival.yaml": "id: rival\nname: Rival Ltd\n"
                f"roles: [{rng.choice(['customer', 'competitor'])}]\n"
            },
        ),
        lambda: write(repo, {"opportunities/2026/09/o3.yaml": opportunity(3)}),  # same id twice
        lambda: (repo / "opportunities/2026/09/o3.yaml").unlink(missing_ok=True),
        lambda: git(repo, "checkout", "--", "."),  # a dirty file back to its index content
    ]
    for _ in range(40):
        rng.choice(steps)()
        assert_agree(repo)


def test_a_partner_name_taken_is_found_on_a_warm_run_and_stays_found(repo: Path) -> None:
    """Partner names come from the cache's partner dict for the partners not read."""
    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        assert check(WorkTree(repo)).diagnostics == []  # the warm cache
        write(repo, {"partners/zeta.yaml": "id: zeta\nname: acme GMBH\nroles: [customer]\n"})
        commit_all(repo, "a second Acme")
        expected = ["partners/zeta.yaml:2:7 duplicate-name"]
        for _ in range(2):  # read once, then restored from the cache
            report = check(WorkTree(repo))
            assert [f"{d.location} {d.rule}" for d in report.diagnostics] == expected
        assert_agree(repo)
    finally:
        cachework.SAVE_THRESHOLD = saved


def test_a_dirty_file_reverted_to_the_index_is_read_again(repo: Path) -> None:
    """The snapshot kept a work-tree edit; once reverted, the index content counts."""
    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        path = repo / "opportunities/2026/01/acme-forklifts.yaml"
        good = path.read_text()
        path.write_text(good.replace("partner: acme", "partner: nobody"))
        assert [d.rule for d in check(WorkTree(repo)).diagnostics] == ["unknown-reference"]
        path.write_text(good)
        assert check(WorkTree(repo)).diagnostics == []
    finally:
        cachework.SAVE_THRESHOLD = saved


def test_a_file_read_outside_the_tree_is_learned_again_once_it_is_the_trees(
    repo: Path,
) -> None:
    """Files the snapshot read from the work tree (edited, or an index whose stat data
    was stale: a copied repository) are the tree's again once git says so: the next
    save keeps their blobs instead of reading them from the work tree for ever."""
    from crmfiles.cache import Cache

    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        path = repo / "opportunities/2026/01/acme-forklifts.yaml"
        good = path.read_text()
        path.write_text(good.replace("probability: 10", "probability: 20"))
        check(WorkTree(repo))
        store = Cache.for_repo(repo)
        assert store is not None
        loaded = store._read()
        assert loaded is not None
        assert loaded[1].dirty == ["opportunities/2026/01/acme-forklifts.yaml"]
        path.write_text(good)
        git(repo, "update-index", "-q", "--refresh")  # (git status would: the stat data)
        assert check(WorkTree(repo)).diagnostics == []
        loaded = store._read()
        assert loaded is not None
        assert loaded[1].dirty == []
        assert "opportunities/2026/01/acme-forklifts.yaml" in loaded[1].paths
        assert_agree(repo)
    finally:
        cachework.SAVE_THRESHOLD = saved


def test_a_deletion_checked_before_it_is_written_leaves_the_cache_true_to_the_tree(
    repo: Path,
) -> None:
    """An operation checks the work tree with its edits (an Overlay) before it writes
    them; with no cache yet, the snapshot saved then is of the work tree's tree, so a
    file the edits delete must be named as not the tree's, not left out: the
    operation may never be written (--no-commit, then undone), and the next run
    must still see the file."""
    from crmfiles import background
    from crmfiles.cache import Cache
    from crmfiles.records.sources import Overlay

    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        shutil.rmtree(repo / ".git" / "crmfiles", ignore_errors=True)
        check(Overlay(WorkTree(repo), {"partners/acme.yaml": None}))
        background.wait()  # (the snapshot is written after the answer)
        assert Cache.for_repo(repo)._read() is not None
        report = check(WorkTree(repo))
        assert report.diagnostics == []
        assert_agree(repo)
    finally:
        cachework.SAVE_THRESHOLD = saved


def test_a_catalog_change_rechecks_every_record(repo: Path) -> None:
    assert check(WorkTree(repo)).diagnostics == []
    stages = (repo / "catalogs/stages.yaml").read_text()
    write(repo, {"catalogs/stages.yaml": stages.replace("id: qualify", "id: qualify-lead")})
    rules = {d.rule for d in check(WorkTree(repo)).diagnostics}
    assert "unknown-reference" in rules


def test_the_cache_lives_in_the_git_directory_and_can_be_deleted(repo: Path) -> None:
    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        check(WorkTree(repo))
        folder = repo / ".git" / "crmfiles"
        assert any(folder.iterdir())
        for item in folder.iterdir():
            item.write_bytes(b"not a cache")  # a damaged cache is a cold run, not a crash
        assert check(WorkTree(repo)).diagnostics == []
        for item in folder.iterdir():
            item.unlink()
        assert check(WorkTree(repo)).diagnostics == []
        assert git(repo, "status", "--porcelain") == ""
    finally:
        cachework.SAVE_THRESHOLD = saved


def test_a_misspelled_catalog_is_reported_not_ignored(repo: Path) -> None:
    write(repo, {"catalogs/stage.yaml": "- id: x\n  name: X\n  probability: 1\n"})
    [diagnostic] = check(WorkTree(repo)).diagnostics
    assert (diagnostic.location, diagnostic.rule) == ("catalogs/stage.yaml:1:1", "file-name")
    assert diagnostic.hint == "did you mean catalogs/stages.yaml?"


def test_the_forked_helper_finds_what_one_process_finds(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkhelper.Helper, "MIN_FILES", 1)
    for n in range(20):
        write(
            repo,
            {
                f"opportunities/2026/05/h{n}.yaml": OPPORTUNITY.format(
                    id=f"h{n}",
                    name=f"Helper deal {n % 7}",
                    stage="nowhere" if n % 3 else "qualify",
                    partner="acme" if n % 2 else "nobody",
                    currency="EUR",
                )
            },
        )

    def lines(bar: bool) -> list[str]:
        report = check(WorkTree(repo), use_cache=False, bar=bar)
        return [f"{d.location} {d.rule} {d.message}" for d in report.diagnostics]

    assert lines(True) == lines(False)
    assert len(lines(False)) > 20


def test_no_paths_asked_is_no_file_read(repo: Path) -> None:
    """(git ls-tree and ls-files list everything when given no path: an operation's
    check once read 130,000 blobs because of it)"""
    overlay = Overlay(Revision(repo, "HEAD"), {"partners/new.yaml": b"id: new\n"})
    for source in (WorkTree(repo), Index(repo), Revision(repo, "HEAD"), overlay):
        assert list(source.files_at([])) == [], source.label


def test_an_edit_checked_on_a_warm_cache_is_judged_as_cold(repo: Path) -> None:
    """What an operation checks: HEAD with edits laid over it, on the snapshot of an
    older tree, against a cold run of the same."""
    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        check(WorkTree(repo))  # the snapshot
        deal = OPPORTUNITY.format(
            id="acme-forklifts", name="Other", stage="qualify", partner="acme", currency="EUR"
        )
        write(repo, {"partners/later.yaml": "id: later\nname: Later\nroles: [customer]\n"})
        commit_all(repo, "a partner since the snapshot")
        cachework.SAVE_THRESHOLD = 10_000
        for changes in (
            {"opportunities/2026/09/acme-forklifts.yaml": deal.encode()},  # an id taken
            {"opportunities/2026/09/fresh.yaml": deal.replace("acme-forklifts", "fresh").encode()},
            {"partners/later.yaml": None},  # removed, and a record may point at it
        ):
            source = Overlay(Revision(repo, "HEAD"), dict(changes))
            warm, cold = both(source)
            assert warm == cold
        [dup] = [
            d
            for d in check(
                Overlay(
                    Revision(repo, "HEAD"),
                    {"opportunities/2026/09/acme-forklifts.yaml": deal.encode()},
                )
            ).diagnostics
            if d.rule == "duplicate-id"
        ]
        assert dup.path == "opportunities/2026/09/acme-forklifts.yaml"
        assert "opportunities/2026/01/acme-forklifts.yaml" in dup.message
    finally:
        cachework.SAVE_THRESHOLD = saved


@pytest.mark.parametrize("given", ["list", "column", "view"])
def test_an_id_index_answers_one_id_as_the_whole_dict_does(given: str) -> None:
    paths = sorted(
        [
            "partners/a/acme.yaml",
            "partners/b/acme.yaml",  # the same id again, later in path order
            "partners/a/acme.eu.yaml",  # ids may hold dots
            "partners/c/acme-2.yaml",
            "partners/c/zeta.yml",
        ]
    )
    full = {}
    for path in paths:
        full.setdefault(record_id(path), path)
    if given == "column":
        paths = PathColumn.of(paths)
    elif given == "view":  # one folder of the column of every folder
        around = PathColumn.of(sorted([*paths, "opportunities/acme.yaml", "tasks/acme-2.yaml"]))
        paths = around[1:-1]
    asked = IdIndex(paths)
    for key in ("acme", "acme.eu", "acme-2", "zeta", "acm", "eu", "", "a/acme"):
        assert asked.get(key) == full.get(key), key
        assert (key in asked) == (key in full)
    assert asked.paths_of("acme") == ["partners/a/acme.yaml", "partners/b/acme.yaml"]
    assert dict(IdIndex(paths)) == full and len(IdIndex(paths)) == len(full)


def test_a_snapshot_column_read_by_offset_is_the_split_value(repo: Path) -> None:
    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        names = ["Ünïcode Straße", "Завод", "", "plain"]
        for n, name in enumerate(names):
            deal = OPPORTUNITY.format(
                id=f"c{n}", name=name or "x", stage="qualify", partner="acme", currency="USD"
            )
            if not name:
                deal = deal.replace("name: x\n", "")
            write(repo, {f"opportunities/2026/02/c{n}.yaml": deal})
        commit_all(repo, "names")
        report = check(WorkTree(repo))
        assert report.context is not None and report.context.cache is not None
        snapshot = report.context.cache.load(report.context.cache_key)
        assert snapshot is not None and snapshot.offsets
        for where in range(len(snapshot.paths)):
            assert snapshot.name_key(where) == snapshot.name_keys_text.split("\0")[where]
            assert snapshot.currency_at(where) == snapshot.currency_text.split("\0")[where]
        assert {snapshot.name_key(i) for i in range(len(snapshot.paths))} >= {
            "ünïcode strasse",
            "завод",
            "plain",
        }
    finally:
        cachework.SAVE_THRESHOLD = saved


def test_operations_move_the_cache_to_their_commit_and_it_still_agrees(repo: Path) -> None:
    """After each committed operation the snapshot is HEAD's tree (the next command
    reads nothing), and what it restores is what a cold run finds."""
    from crmfiles.cache import Cache
    from crmfiles.ops import close, create, move

    cachework.SAVE_THRESHOLD, saved = 0, cachework.SAVE_THRESHOLD
    try:
        check(WorkTree(repo))  # the snapshot the operations start from
    finally:
        cachework.SAVE_THRESHOLD = saved
    write(repo, {"partners/late.yaml": "id: late\nname: Late GmbH\nroles: [customer]\n"})
    commit_all(repo, "a commit by hand: the snapshot is one commit behind")

    def snapshot_tree() -> str | None:
        report = check(Revision(repo, "HEAD"))
        assert report.context is not None and report.context.cache is not None
        snapshot = report.context.cache.load(report.context.cache_key or "")
        if snapshot is None:
            return None
        # the spliced columns' offsets are those of the values
        n = len(snapshot.paths)
        assert [snapshot.name_key(i) for i in range(n)] == snapshot.name_keys_text.split("\0")
        assert [snapshot.currency_at(i) for i in range(n)] == snapshot.currency_text.split("\0")
        assert list(snapshot.paths) == sorted(snapshot.paths) and len(snapshot.blobs) == 40 * n
        return snapshot.tree

    steps = [
        lambda: move(repo, "acme-forklifts", "proposal"),
        lambda: create(
            repo,
            "opportunities",
            {"name": "Forklift fleet two", "partner": "late", "kind": "standard-sale"},
        ),
        lambda: create(repo, "partners", {"name": "Newco AG", "roles": ["customer"]}),
        lambda: close(repo, "acme-forklifts", won=False, reason="price"),
    ]
    for step in steps:
        step()
        tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
        assert Cache.for_repo(repo) is not None
        assert snapshot_tree() == tree
        assert_agree(repo)


def test_the_untracked_files_are_asked_for_only_when_something_changed(repo: Path) -> None:
    import os

    from crmfiles.records import untracked

    gitdir = repo / ".git"
    old = 1_600_000_000

    def age() -> None:  # folders, the index and ignore files as if touched long ago
        for folder, _, _ in os.walk(repo):
            if ".git" not in Path(folder).relative_to(repo).parts:
                os.utime(folder, (old, old))
        for path in (gitdir / "index", gitdir / "info" / "exclude", repo / ".gitignore"):
            if path.exists():
                os.utime(path, (old, old))

    def dirty() -> list[str]:
        source = WorkTree(repo)
        paths = source.dirty()
        source.settle()
        return sorted(paths)

    def recorded() -> list[str] | None:
        return untracked.known(repo, gitdir, list(TOP_LEVEL))

    write(repo, {"partners/loose.yaml": "id: loose\nname: Loose\nroles: [customer]\n"})
    age()
    assert dirty() == ["partners/loose.yaml"]  # asked git, and recorded
    assert recorded() == ["partners/loose.yaml"]
    assert dirty() == ["partners/loose.yaml"]  # answered from the record
    write(repo, {"opportunities/2026/01/new.yaml": "id: new\n"})  # a folder changed
    assert recorded() is None
    assert dirty() == ["opportunities/2026/01/new.yaml", "partners/loose.yaml"]
    age()
    dirty()
    git(repo, "add", "partners/loose.yaml")  # the index changed
    assert recorded() is None
    age()
    assert dirty() == ["opportunities/2026/01/new.yaml"]
    assert recorded() == ["opportunities/2026/01/new.yaml"]
    write(repo, {".gitignore": "new.yaml\n"})  # an ignore file: the root folder changed
    assert recorded() is None
    assert dirty() == []
    age()
    dirty()
    (repo / ".gitignore").write_text("nothing\n")  # edited in place: no folder changes
    assert recorded() is None
    assert dirty() == ["opportunities/2026/01/new.yaml"]
    assert_agree(repo)


def test_a_path_column_is_the_list_it_stands_for() -> None:
    """Indexing, views, bisect, insertion and the stored offsets of a PathColumn give
    what the list of its paths gives."""
    rng = random.Random(7)
    for _ in range(300):
        base = sorted({f"p/{rng.randint(0, 500):03d}.yaml" for _ in range(rng.randint(0, 30))})
        added = sorted({f"p/{rng.randint(0, 500):03d}x.yaml" for _ in range(rng.randint(0, 5))})
        column = PathColumn.of(base)
        assert list(column) == base and len(column) == len(base) and column.consistent()
        assert [column[i] for i in range(-len(base), len(base))] == base + base
        grown = column.inserted(added)
        assert list(grown) == sorted(base + added) and grown.consistent()
        assert [grown[i] for i in range(len(grown))] == sorted(base + added)
        lo, hi = sorted((rng.randint(0, len(base)), rng.randint(0, len(base))))
        view = column[lo:hi]
        assert list(view) == base[lo:hi] and view.joined() == "\0".join(base[lo:hi])
        assert list(view.inserted(added)) == sorted(base[lo:hi] + added)
        assert PathColumn.of(list(view)).offsets() == view.offsets()
        for probe in [*base, *added, "", "q"]:
            assert bisect.bisect_left(column, probe) == bisect.bisect_left(base, probe)


@pytest.mark.parametrize(
    "keys",
    [["a"], ["a", "b"], ["a", "a"], ["b", "a", "a", "a"], ["ab", "a", "ba", "a"], ["", "a", ""]],
)
def test_name_keys_are_counted_and_compared_in_place(keys: list[str]) -> None:
    paths = [f"opportunities/{n}.yaml" for n in range(len(keys))]
    snapshot = CheckSnapshot("", None, paths, "0" * 40 * len(keys), "\0".join(keys), "", {}, {}, [])
    for key in {*keys, "b", "x"} - {""}:
        assert snapshot.name_taken(key) == keys.count(key), key
        for where, own in enumerate(keys):
            assert snapshot.name_key_is(where, key) == (own == key)
