"""The TUI's headless parts: the snapshot the screens draw from and the git state the
status bar shows, in real repositories (the ``repo`` fixture of conftest.py)."""

from __future__ import annotations

import os
import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import commit_all, git, write

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.gitstate import parse_status, read_state, tree_fingerprint
from crmfiles.tui.snapshot_rows import patched

MORE = {
    "opportunities/2026/02/acme-service.yaml": """\
        id: acme-service
        name: Acme service contract
        kind: custom-deal
        stage: negotiate
        status: in_progress
        partner: acme
        responsible: bob
        probability: 60
        expected_close: 2026-03-31
        tags: [priority]
        """,
    "opportunities/2026/02/acme-usd.yaml": """\
        id: acme-usd
        name: Widgets for Acme US
        kind: hours
        status: in_progress
        partner: acme
        responsible: alice
        probability: 50
        amount: 1000
        currency: USD
        """,
}


def test_select_searches_filters_sorts_and_totals_in_the_base_currency(repo: Path) -> None:
    write(repo, MORE)
    snap = TuiSnapshot.load(repo)
    everything = snap.select({}, "", ["name"])
    assert [r.id for r in everything.rows] == ["acme-forklifts", "acme-service", "acme-usd"]
    # 30,000 EUR + 1,000 USD at 0.9; weighted 3,000 + 450
    assert everything.amount.in_base == 30900
    assert everything.weighted.in_base == 3450
    assert [r.id for r in snap.select({}, "PRIORITY", []).rows] == ["acme-service"]
    assert [r.id for r in snap.select({}, "acme gmbh us", []).rows] == ["acme-usd"]
    assert [r.id for r in snap.select({"responsible": ["bob"]}, "", []).rows] == ["acme-service"]
    # an empty value sorts last, descending too
    by_amount = snap.select({}, "", ["-amount"]).rows
    assert [r.id for r in by_amount] == ["acme-forklifts", "acme-usd", "acme-service"]
    by_close = snap.select({}, "", ["expected_close"]).rows
    assert [r.id for r in by_close] == ["acme-service", "acme-forklifts", "acme-usd"]


def test_first_load_reads_the_rest_later_and_patches_reread_one_file(repo: Path) -> None:
    write(repo, MORE)
    snap = TuiSnapshot.load(repo, first=True)
    assert snap.partial and not snap.records["contacts"]
    full = snap.with_folders(TuiSnapshot.rest(repo))
    assert not full.partial and "jane" in full.records["contacts"]
    path = "opportunities/2026/02/acme-usd.yaml"
    text = (repo / path).read_text().replace("probability: 50", "probability: 70")
    (repo / path).write_text(text)
    reread = patched(full, [path])
    assert reread.rows["acme-usd"].data["probability"] == 70
    assert reread.rows["acme-forklifts"] is full.rows["acme-forklifts"]
    assert full.rows["acme-usd"].data["probability"] == 50  # snapshots never change
    # the totals of every row: worked out from the facts' columns on a load, again
    # from the rows after a patch (30,000 EUR + 1,000 USD at 0.9; weighted 3,000 + 450)
    assert full.select({}, "", ["name"]).weighted.in_base == 3450
    assert reread.select({}, "", ["name"]).weighted.in_base == 3000 + 630


def test_git_state_counts_uncommitted_records_and_pending_crm_branches(repo: Path) -> None:
    git(repo, "branch", "crm/acme-forklifts-proposal")
    git(repo, "checkout", "-q", "crm/acme-forklifts-proposal")
    path = repo / "opportunities/2026/01/acme-forklifts.yaml"
    path.write_text(path.read_text().replace("stage: qualify", "stage: proposal"))
    commit_all(repo, "move on a branch")
    git(repo, "checkout", "-q", "main")
    write(repo, {"partners/new.yaml": "id: new\nname: New\nroles: [prospect]\n"})
    state = read_state(repo)
    assert state.branch == "main" and state.head == git(repo, "rev-parse", "HEAD").strip()
    assert state.dirty == ("partners/new.yaml",) and state.records_dirty == 1
    assert state.pending({"acme-forklifts", "acme"}) == {
        "acme-forklifts": ["crm/acme-forklifts-proposal"]
    }


def test_parse_status_reads_porcelain_v2() -> None:
    raw = b"\0".join(
        [
            b"# branch.oid 1234",
            b"# branch.head main",
            b"# branch.upstream origin/main",
            b"# branch.ab +2 -1",
            b"1 .M N... 100644 100644 100644 aaa bbb opportunities/2026/01/a b.yaml",
            b"2 R. N... 100644 100644 100644 aaa bbb R100 partners/new.yaml",
            b"partners/old.yaml",
            b"? notes.txt",
            b"? tasks/t.yaml",
            b"",
        ]
    )
    state = parse_status(raw, [])
    assert (state.head, state.branch, state.upstream) == ("1234", "main", "origin/main")
    assert (state.ahead, state.behind) == (2, 1)
    assert state.dirty == ("opportunities/2026/01/a b.yaml", "partners/new.yaml", "tasks/t.yaml")


def test_fingerprint_sees_edits_and_refuses_files_newer_than_the_read(repo: Path) -> None:
    before = tree_fingerprint(repo)
    assert before is not None
    path = repo / "partners/acme.yaml"
    path.write_text(path.read_text() + "website: https://acme.example\n")
    after = tree_fingerprint(repo)
    assert after is not None and after != before
    # a file written after the records were read may have changed under the read
    assert tree_fingerprint(repo, since_ns=time.time_ns()) is None
    old = time.time() - 60
    for folder, _, files in os.walk(repo):
        for name in files:
            os.utime(os.path.join(folder, name), (old, old))
    assert tree_fingerprint(repo, since_ns=time.time_ns()) is not None


# --- the list's quick paths, held to the plain ones -----------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "example-repo"
ODD = {
    # a name in lower case and with accents, no partner, tags of several kinds
    "opportunities/2026/03/odd-one.yaml": """\
        id: odd-one
        name: élan for Müller — Straße
        kind: hours
        status: in_progress
        responsible: alice
        probability: 0
        amount: 0
        tags: [Zebra, 7, ÆSIR]
        """,
    # a reference that is a list (wrong, and the list still shows it)
    "opportunities/2026/03/odd-two.yaml": """\
        id: odd-two
        name: Odd Two
        kind: hours
        status: in_progress
        partner: [acme, beta]
        """,
}


def plain_order(snap: TuiSnapshot, sort: tuple[str, ...]) -> list[str]:
    """The list's order as it was first written: a stable sort by sort_key per
    column, the last first, missing values last either way."""
    from crmfiles.tui.columns import sort_key

    rows = list(snap.rows.values())
    for key in reversed(sort):
        column = key.lstrip("+-")
        keys = {id(r): sort_key(snap.sort_value(r, column)) for r in rows}
        rows.sort(key=lambda r: keys[id(r)], reverse=key[:1] == "-")
        rows.sort(key=lambda r: keys[id(r)][0] == 2)
    return [r.id for r in rows]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "crm"
    shutil.copytree(EXAMPLE, root)
    write(root, ODD)
    return root


@pytest.mark.parametrize(
    "sort",
    [
        ("name",),
        ("-name",),
        ("-amount", "name"),
        ("expected_close",),
        ("stage", "-probability"),
        ("partner", "-weighted"),
        ("tags",),
        ("-tags", "id"),
        ("closed", "responsible"),
        ("-age",),
        ("currency", "-opened"),
    ],
)
def test_the_list_sorts_as_the_plain_sort_does(example: Path, sort: tuple[str, ...]) -> None:
    snap = TuiSnapshot.load(example)
    assert len(snap.rows) > 40
    assert [r.id for r in snap.ordered(sort)] == plain_order(snap, sort)


def test_sort_keys_order_mixed_values_as_sort_key_does() -> None:
    from crmfiles.tui.columns import sort_key, sort_keys

    columns: list[list[Any]] = [
        ["b", "A", None, "", "a", "É", "ß"],
        [3, None, 2.5, Decimal("2.50"), -1, 0, True],
        [3, "x", None, [1, 2], "", Decimal(1), False, {"a": 1}],
        [None, None, ""],
    ]
    for values in columns:
        keys, missing = sort_keys(values)
        assert missing == [sort_key(v)[0] == 2 for v in values]
        for reverse in (False, True):
            quick = sorted(range(len(values)), key=keys.__getitem__, reverse=reverse)
            quick = [i for i in quick if not missing[i]] + [i for i in quick if missing[i]]
            plain = sorted(range(len(values)), key=lambda i: sort_key(values[i]), reverse=reverse)
            plain.sort(key=lambda i: sort_key(values[i])[0] == 2)
            assert quick == plain, (values, reverse)


def test_search_texts_made_together_are_each_rows_folded_text(example: Path) -> None:
    from crmfiles.folding import fold
    from crmfiles.reports.pipeline import as_list
    from crmfiles.tui.rows import make_search_texts

    snap = TuiSnapshot.load(example)
    rows = list(snap.rows.values())
    make_search_texts(rows[::2])  # some made ahead, the others by the search
    for lr in rows:
        data = lr.facts
        tags = " ".join(as_list(data.get("tags")))
        partner = lr.row.names.get("partner_name", "")
        text = f"{data.get('name', '')} {lr.id} {data.get('partner', '')} {partner} {tags}"
        assert lr.hay.split() == fold(text).split(), lr.id
    assert [r.id for r in snap.select({}, "ELAN muller strasse aesir", []).rows] == ["odd-one"]
    assert [r.id for r in snap.select({}, "beta", []).rows] == ["odd-two"]
    assert snap.rows["odd-two"].row.names["partner_name"] == "['acme', 'beta']"


def test_selection_totals_are_each_amount_added_in_turn(example: Path) -> None:
    from crmfiles.money import Total
    from crmfiles.reports.deals import add_amounts

    snap = TuiSnapshot.load(example)
    for search in ("", "a", "pallet", "élan"):
        chosen = snap.select({}, search, ["-amount"])
        amount, weighted = Total(snap.currency, snap.rates), Total(snap.currency, snap.rates)
        for lr in chosen.rows:
            amount.add(lr.row.amount, lr.row.currency)
            weighted.add(lr.row.weighted, lr.row.currency)
        assert chosen.amount.by_currency == amount.by_currency
        assert chosen.weighted.by_currency == weighted.by_currency
    # amounts some of which are missing, in three currencies, in any order
    values = [Decimal("1.10"), None, Decimal(2), None, Decimal("0.005"), Decimal(-3)]
    codes = ["EUR", "USD", "", "CHF", "USD", "EUR"]
    for order in ([0, 1, 2, 3, 4, 5], [5, 3, 1], [4, 2, 0], [1, 3], []):
        quick, plain = Total("EUR", {}), Total("EUR", {})
        add_amounts(quick, values, codes, order)
        for i in order:
            plain.add(values[i], codes[i])
        assert quick.by_currency == plain.by_currency
        assert [str(v) for v in quick.by_currency.values()] == [
            str(v) for v in plain.by_currency.values()
        ]


def test_a_list_row_keeps_the_listed_facts_and_a_record_opens_whole(example: Path) -> None:
    from crmfiles.records import facts

    snap = TuiSnapshot.load(example)
    row = snap.rows["brauerei-falkenstein-rental-2025"]
    assert "contacts" not in row.facts and facts.AMOUNT not in row.facts
    assert row.facts["partner"] == "brauerei-falkenstein"
    assert row.data["contacts"] and row.data["lines"]  # the file, read whole
    # a file changed since the snapshot is not taken for its record: the facts stand
    other = snap.rows["cooperative-val-de-loire-e25"]
    path = example / other.path
    path.write_text(path.read_text().replace("\ncontacts:", "\ncontacts: []\nold_contacts:"))
    assert "lines" not in other.data and other.facts == other.data


def test_a_view_that_shows_the_contacts_keeps_them(example: Path) -> None:
    write(
        example,
        {
            "views/with-contacts.yaml": """\
                id: with-contacts
                name: With contacts
                type: opportunities
                columns: [name, contacts]
                """
        },
    )
    snap = TuiSnapshot.load(example)
    assert snap.rows["brauerei-falkenstein-rental-2025"].facts["contacts"]


def test_the_other_folders_reader_waits_its_turn_between_files(repo: Path) -> None:
    """The TUI reads the other folders on a thread; before each file it waits while
    the screen works on a key, and a turn not given back ends by itself."""
    import threading

    from crmfiles.tui.rows import Turns

    write(repo, MORE)
    paused: list[int] = []
    rest = TuiSnapshot.rest(repo, lambda: paused.append(1))
    files = sum(len(by_id) for by_id in rest.values())
    assert "jane" in rest["contacts"] and len(paused) >= files > 0

    turns = Turns()
    turns.wait()  # free: no wait
    turns.working(seconds=30)
    waited = threading.Event()
    reader = threading.Thread(target=lambda: (turns.wait(), waited.set()))
    reader.start()
    assert not waited.wait(0.2)  # the screen is working: the reader waits
    turns.done()
    assert waited.wait(5)
    reader.join()
    turns.working(seconds=0.05)  # never given back
    start = time.monotonic()
    turns.wait()
    assert time.monotonic() - start < 5


def test_a_view_that_shows_margins_lists_each_deals_margin(example: Path) -> None:
    """As `crm list` works them out: the lines' margin amounts, and weighted."""
    from crmfiles.money import fmt
    from crmfiles.records import facts
    from crmfiles.tui.snapshot_rows import row_of

    write(
        example,
        {
            "views/margins.yaml": """\
                id: margins
                name: Margins
                type: opportunities
                columns: [name, margin, weighted_margin]
                sort: [-margin]
                """
        },
    )
    snap = TuiSnapshot.load(example)
    shown = 0
    for lr in snap.select({}, "", ["-margin"]).rows:
        margin = facts.margin(lr.data, snap.catalogs["products"])  # of the whole record
        weighted = facts.weighted_of(lr.data, margin, of_margin=True)
        for column, value in (("margin", margin), ("weighted_margin", weighted)):
            expected = fmt(value)
            assert snap.cell(lr, column) == expected, (lr.id, column)
            assert snap.cell(row_of(snap, lr.record), column) == expected  # a row re-read
            shown += expected != ""
    assert shown >= 6  # (the deals whose lines state a margin)
