"""The TUI's headless parts: the snapshot the screens draw from and the git state the
status bar shows, in real repositories (the ``repo`` fixture of conftest.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import commit_all, git, write

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.gitstate import parse_status, read_state, tree_fingerprint

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
    patched = full.patched([path])
    assert patched.rows["acme-usd"].data["probability"] == 70
    assert patched.rows["acme-forklifts"] is full.rows["acme-forklifts"]
    assert full.rows["acme-usd"].data["probability"] == 50  # snapshots never change


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
