"""History from git: events, days in stage, renames, merges, the cache, and the line
readers held to the YAML parser."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BASE_FILES, git, write
from hypothesis import given, settings
from hypothesis import strategies as st

from crmfiles.cli.main import main
from crmfiles.history import (
    all_events,
    days_in_stage,
    events_of,
    load_history,
    load_record,
    newest_events,
    position_of,
    positions,
    recent_events,
    store,
)
from crmfiles.history.fields import derive, from_data, read_fields, scan, vouch
from crmfiles.history.model import History
from crmfiles.history.replay import _Replay
from crmfiles.history.scan import scan as scan_log
from crmfiles.records.yamlio import ParseError, parse
from crmfiles.schema import data_dir

ACME = "opportunities/2026/01/acme-forklifts.yaml"


def commit_at(root: Path, when: str, message: str, who: str = "alice") -> str:
    """Commit everything, authored and committed by ``who`` at ``when`` (UTC)."""
    git(root, "add", "-A")
    stamp = f"{when}T10:00:00+00:00"
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_AUTHOR_NAME": who.title(),
        "GIT_AUTHOR_EMAIL": f"{who}@example.com",
        "GIT_COMMITTER_NAME": who.title(),
        "GIT_COMMITTER_EMAIL": f"{who}@example.com",
    }
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", message],
        cwd=root,
        check=True,
        env=env,
        capture_output=True,
    )
    return git(root, "rev-parse", "HEAD").strip()


def edit(root: Path, path: str, **changes: object) -> None:
    """Change top-level ``key: value`` lines of a record as a person would."""
    full = root / path
    lines = full.read_text().splitlines()
    for key, value in changes.items():
        text = f"{key}: {value}"
        for i, line in enumerate(lines):
            if line.startswith(f"{key}:"):
                lines[i] = text
                break
        else:
            lines.append(text)
    full.write_text("\n".join(lines) + "\n")


@pytest.fixture
def dated(tmp_path: Path) -> Path:
    """A CRM repository whose acme-forklifts opportunity has a known history:

    2026-01-10 alice  created in qualify (10 %)
    2026-01-20 bob    qualify -> proposal (40 %)
    2026-01-25 alice  probability 55 by hand (no stage change)
    2026-02-04 bob    proposal -> negotiate, in a plain commit with no trailers
    2026-02-14 alice  lost, reason price
    """
    root = tmp_path / "dated"
    root.mkdir()
    git(root, "init", "-q")
    write(root, dict(BASE_FILES))
    commit_at(root, "2026-01-10", "initial")
    edit(root, ACME, stage="proposal", probability=40)
    commit_at(root, "2026-01-20", "crm: move acme-forklifts qualify -> proposal", "bob")
    edit(root, ACME, probability=55)
    commit_at(root, "2026-01-25", "feels likelier")
    edit(root, ACME, stage="negotiate", probability=70)
    commit_at(root, "2026-02-04", "Update acme", "bob")
    edit(root, ACME, status="lost", probability=0, loss_reason="price")
    commit_at(root, "2026-02-14", "crm: lose acme-forklifts")
    return root


def test_events_and_days_in_stage(dated: Path) -> None:
    history = load_history(dated)
    events = events_of(history, "acme-forklifts")
    assert [e.change for e in events] == ["created", "moved", "edited", "moved", "lost"]
    assert [e.date.date().isoformat() for e in events] == [
        "2026-01-10",
        "2026-01-20",
        "2026-01-25",
        "2026-02-04",
        "2026-02-14",
    ]
    assert [e.author for e in events] == ["Alice", "Bob", "Alice", "Bob", "Alice"]
    assert [(e.source, e.target) for e in events] == [
        ("", "qualify"),
        ("qualify", "proposal"),
        ("proposal", "proposal"),
        ("proposal", "negotiate"),
        ("negotiate", "lost (price)"),
    ]
    # days in the stage each move left; an edit is no move
    assert [e.days_in_previous for e in events] == [None, 10, None, 15, 10]
    assert [e.after.probability for e in events if e.after] == [10, 40, 55, 70, 0]
    assert events[-1].after is not None and events[-1].after.amount == "30000.00"
    where = positions(history)["acme-forklifts"]
    assert (where.stage, where.status, where.since.date()) == (
        "negotiate",
        "lost",
        dt.date(2026, 2, 14),
    )
    assert days_in_stage(dated, today=dt.date(2026, 3, 1)) == {"acme-forklifts": 15}


def test_moves_only_lists_stage_and_status_changes(dated: Path) -> None:
    moves = all_events(load_history(dated), moves_only=True)
    assert [e.change for e in moves] == ["created", "moved", "moved", "lost"]


def test_a_record_is_followed_by_id_across_folders(dated: Path) -> None:
    moved = "opportunities/acme-forklifts.yaml"
    git(dated, "mv", ACME, moved)
    commit_at(dated, "2026-02-20", "crm: fmt --layout")
    edit(dated, moved, status="in_progress", probability=70, loss_reason="null")
    commit_at(dated, "2026-03-01", "reopen", "mia")
    events = events_of(load_history(dated), "acme-forklifts")
    # the move changes no tracked field: no event, and the next one follows the id
    assert [e.change for e in events][-2:] == ["lost", "reopened"]
    assert events[-1].path == moved
    assert events[-1].days_in_previous == 15


def test_a_version_no_parser_reads_is_skipped(dated: Path) -> None:
    (dated / ACME).write_text("<<<<<<< HEAD\nstage: a\n=======\nstage: b\n>>>>>>> x\n")
    commit_at(dated, "2026-02-20", "a committed conflict")
    events = events_of(load_history(dated), "acme-forklifts")
    assert events[-1].change == "lost"


def test_cache_reads_only_new_commits_and_agrees_with_a_fresh_read(dated: Path) -> None:
    first = load_history(dated)
    assert first.read_commits == 5
    assert load_history(dated).read_commits == 0  # HEAD unchanged: all from the cache
    write(dated, {"opportunities/2026/02/beta.yaml": BETA})
    commit_at(dated, "2026-02-16", "crm: new beta")
    edit(dated, "opportunities/2026/02/beta.yaml", stage="proposal", probability=40)
    commit_at(dated, "2026-02-18", "crm: move beta qualify -> proposal", "bob")
    second = load_history(dated)
    assert second.read_commits == 2  # only the two new commits
    fresh = load_history(dated, cache=False)
    assert second.timelines == fresh.timelines
    assert second.commits == fresh.commits
    assert second.chain == fresh.chain
    assert [e.change for e in events_of(second, "beta")] == ["created", "moved"]


def test_cache_is_rebuilt_after_a_rewrite(dated: Path) -> None:
    load_history(dated)
    git(dated, "reset", "-q", "--hard", "HEAD~1")  # forget the loss
    edit(dated, ACME, stage="commit", probability=90)
    commit_at(dated, "2026-02-15", "crm: move acme-forklifts negotiate -> commit")
    history = load_history(dated)
    assert history.read_commits == 5  # the cached head is gone: read from the root
    assert [e.target for e in events_of(history, "acme-forklifts")][-1] == "commit"
    assert history.timelines == load_history(dated, cache=False).timelines


def test_cache_file_can_be_deleted_or_broken(dated: Path) -> None:
    load_history(dated)
    cache = next((dated / ".git" / "crmfiles").glob("history-*"))
    cache.write_bytes(b"not a cache")
    assert load_history(dated).read_commits == 5
    cache.unlink()
    assert events_of(load_history(dated), "acme-forklifts")[-1].change == "lost"


def test_history_at_an_earlier_revision(dated: Path) -> None:
    early = git(dated, "rev-list", "-1", "--before=2026-01-26", "HEAD").strip()
    history = load_history(dated, early)
    assert [e.change for e in events_of(history, "acme-forklifts")] == [
        "created",
        "moved",
        "edited",
    ]


def test_changes_merged_from_a_branch_are_credited_to_their_commits(dated: Path) -> None:
    write(dated, {"opportunities/2026/02/beta.yaml": BETA})
    commit_at(dated, "2026-02-15", "crm: new beta")
    git(dated, "checkout", "-q", "-b", "crm/beta-negotiate")
    edit(dated, "opportunities/2026/02/beta.yaml", stage="proposal", probability=40)
    commit_at(dated, "2026-02-16", "crm: move beta qualify -> proposal", "bob")
    edit(dated, "opportunities/2026/02/beta.yaml", stage="negotiate", probability=70)
    side = commit_at(dated, "2026-02-18", "crm: move beta proposal -> negotiate", "bob")
    git(dated, "checkout", "-q", "main")
    write(dated, {"partners/other.yaml": "id: other\nname: Other\nroles: [prospect]\n"})
    commit_at(dated, "2026-02-17", "a partner on main")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2026-02-20T10:00:00+00:00"}
    subprocess.run(
        ["git", "merge", "-q", "--no-ff", "-m", "Merge crm/beta-negotiate", "crm/beta-negotiate"],
        cwd=dated,
        check=True,
        env=env,
        capture_output=True,
    )
    merge = git(dated, "rev-parse", "HEAD").strip()
    events = events_of(load_history(dated), "beta")
    assert [(e.change, e.author, e.date.date().day) for e in events] == [
        ("created", "Alice", 15),
        ("moved", "Bob", 16),
        ("moved", "Bob", 18),
    ]
    assert events[-1].commit == side and events[-1].merge == merge
    assert events[1].days_in_previous == 1 and events[2].days_in_previous == 2


def test_cli_history_of_one_record_and_of_all(
    dated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chdir(dated)
    assert main(["history", "acme-forklifts", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["id"] == "acme-forklifts" and payload["status"] == "lost"
    assert [e["change"] for e in payload["events"]] == [
        "created",
        "moved",
        "edited",
        "moved",
        "lost",
    ]
    last = payload["events"][-1]
    assert {k: last[k] for k in ("from", "to", "loss_reason", "days_in_previous", "author")} == {
        "from": "negotiate",
        "to": "lost (price)",
        "loss_reason": "price",
        "days_in_previous": 10,
        "author": "Alice",
    }
    assert main(["history", "--format", "csv", "--from", "2026-01-15", "--to", "2026-02-10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,path,commit,merge,date,author,email,change,from,to")
    assert len(lines) == 3  # two moves in the window, newest first
    assert "negotiate" in lines[1] and "proposal" in lines[2]
    assert main(["history", "acme-forklifts"]) == 0
    table = capsys.readouterr().out
    assert "acme-forklifts: lost at negotiate for" in table
    assert "lost (price)" in table
    assert main(["history", "nope"]) == 2


BETA = """\
id: beta
name: Beta deal
kind: custom-deal
stage: qualify
status: in_progress
partner: acme
responsible: bob
probability: 10
amount: 1200.50
currency: USD
"""


# --- the line readers against the parser ------------------------------------------------


def _reference(text: str) -> object:
    try:
        data = parse(text)
    except ParseError:
        return "unreadable"
    return from_data(data) if isinstance(data, dict) else "unreadable"


def _examples() -> list[str]:
    """The example opportunities, each with an explicit amount, so the scan reads them
    (an amount that only the lines give needs the parser)."""
    folder = data_dir("example-repo") / "opportunities"
    out = []
    for path in sorted(folder.rglob("*.yaml")):
        text = path.read_text("utf-8")
        if "\namount:" not in text:
            text = text.replace("\ncurrency:", "\namount: 1250.5\ncurrency:", 1)
        out.append(text)
    return out


TRICKY_LINES = [
    'stage: "won"',
    "stage: 'won'",
    "stage: won # a comment",
    "stage: won#no-comment",
    "stage: &s won",
    "stage: *s",
    "stage: !!str won",
    "stage:",
    "stage: 10",
    "stage: true",
    "stage: null",
    "stage: ~",
    "stage: 1e3",
    "stage: 0x1F",
    "stage: .inf",
    "stage: won\n  and more",
    "stage: [won]",
    '"stage": won',
    "stage : won",
    "? stage\n: won",
    "---",
    "...",
    "%YAML 1.2",
    "- stage: won",
    "  stage: won",
    'comment: "open\nstage: won"',
    "comment: 'open\nstage: won'",
    "tags: [a,\nstage: won]",
    "comment: |\n  stage: won",
    "comment: >\n  text\nstage: won",
    "probability: 010",
    "probability: -5",
    "probability: 5.0",
    "probability: '5'",
    "probability: 0o17",
    "amount: 12.5",
    "amount: 1_000",
    "amount: .5",
    "amount: 5.",
    "amount: -3",
    "amount: 12.345",
    "closed: yes",
    "closed: True",
    "closed: false",
    "loss_reason: price",
    "status: won\r",
    "status:\twon",
    "kind: standard-sale  # note",
    "lines:\n  - unit_price: 5\n    quantity: 2",
    "<<: {stage: won}",
    "\ufeffid: x",
    # what the scan's shortcuts see at once: one-line lists, a word's apostrophe
    "tags: [a, b]  ",
    "tags: [a, 'b']",
    "tags: [a] # c",
    "tags: [a, [b]]",
    "tags: [a,\n  b]",
    "tags: {a: 1}",
    "team:\n  - tags: [x]",
    "name: a [b]",
    "next_milestone: the customer's site",
    "comment: it's 'quoted'",
    "comment: '[a]'",
    "comment: x ': [y]'",
]


def test_scan_agrees_with_the_parser_on_every_example() -> None:
    scanned = 0
    for text in _examples():
        scanned += scan(b"\n" + text.encode()) is not None
        assert read_fields(text.encode()) == _reference(text)
    assert scanned >= 40  # the fast path reads the ordinary files


def _variants(base: str, line: str) -> list[str]:
    """``line`` inserted at a few places, and in place of the line with its key."""
    lines = base.splitlines()
    out = ["\n".join([*lines[:at], line, *lines[at:]]) + "\n" for at in (0, 1, 3, len(lines))]
    key = line.split(":", 1)[0]
    for at, old in enumerate(lines):
        if old.startswith(f"{key}:"):
            out.append("\n".join([*lines[:at], line, *lines[at + 1 :]]) + "\n")
    return out


@pytest.mark.parametrize("line", TRICKY_LINES)
def test_scan_agrees_with_the_parser_on_tricky_lines(line: str) -> None:
    for base in _examples()[:6]:
        for text in _variants(base, line):
            expected = _reference(text)
            got = scan(b"\n" + text.encode("utf-8"))
            if got is not None and expected != "unreadable":
                assert got[0] == expected, text
            if expected != "unreadable":
                assert read_fields(text.encode()) == expected, text


@pytest.mark.parametrize("line", TRICKY_LINES)
def test_derive_agrees_with_the_parser(line: str) -> None:
    for base in _examples()[:6]:
        old = b"\n" + base.encode()
        scanned = scan(old)
        if scanned is None:
            continue
        lines = base.splitlines()
        for at in range(len(lines)):
            if not lines[at].startswith(("stage:", "probability:", "status:", "amount:")):
                continue
            # replace a needed line; or add a tricky line next to it
            for new_lines in (
                [*lines[:at], line, *lines[at + 1 :]],
                [*lines[:at], line, *lines[at:]],
            ):
                text = "\n".join(new_lines) + "\n"
                derived = derive(vouch(old, scanned[1], scanned[0]), b"\n" + text.encode())
                expected = _reference(text)
                if derived is not None and expected != "unreadable":
                    assert derived[3] == expected, text


TOKENS = st.sampled_from(
    ["won", "lost", "in_progress", "qualify", "10", "0", "-1", "1.5", "true", "null", "~",
     "'x'", '"y"', "[a]", "{a: 1}", "&a x", "*a", "!t x", "x # c", "x#c", "", "1e2",
     "0x10", ".nan", "a b", "a: b", "- a", "|", ">-", "é", "EUR", "12.345"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["stage", "status", "probability", "amount",
                                        "currency", "loss_reason", "closed", "kind", "note"]),
                       TOKENS, max_size=6),
       st.integers(0, 5))  # fmt: skip
def test_scan_fuzz(fields: dict[str, str], at: int) -> None:
    lines = ["id: fuzz", "name: Fuzz", *(f"{k}: {v}".rstrip() for k, v in fields.items())]
    lines.insert(min(at, len(lines)), "team: [a, b]")
    text = "\n".join(lines) + "\n"
    expected = _reference(text)
    got = scan(b"\n" + text.encode())
    if got is not None and expected != "unreadable":
        assert got[0] == expected
    if expected != "unreadable":
        assert read_fields(text.encode()) == expected


def test_recent_events_are_the_newest_of_all(dated: Path) -> None:
    write(dated, {"opportunities/2026/02/beta.yaml": BETA})
    commit_at(dated, "2026-02-16", "crm: new beta")
    edit(dated, ACME, probability=5)  # an edit: no move, newer than every move
    commit_at(dated, "2026-02-20", "cleanup")
    history = load_history(dated)
    newest_first = list(reversed(all_events(history, moves_only=True)))
    for count in (1, 2, 3, 10):
        assert recent_events(history, count, moves_only=True) == newest_first[:count]


# --- the cache read a part at a time ----------------------------------------------------


@pytest.fixture
def busy(dated: Path) -> Path:
    """``dated`` and more: three more records, moves on shared dates, an edit that is
    no move, a deletion, a record moved to another folder."""
    for name, stage in (("beta", "qualify"), ("gamma", "proposal"), ("delta", "qualify")):
        text = BETA.replace("id: beta", f"id: {name}").replace("stage: qualify", f"stage: {stage}")
        write(dated, {f"opportunities/2026/02/{name}.yaml": text})
    commit_at(dated, "2026-02-15", "three new")
    edit(dated, "opportunities/2026/02/beta.yaml", stage="proposal", probability=40)
    edit(dated, "opportunities/2026/02/gamma.yaml", stage="negotiate", probability=70)
    commit_at(dated, "2026-02-16", "two moves in one commit", "bob")
    edit(dated, "opportunities/2026/02/delta.yaml", probability=15)
    commit_at(dated, "2026-02-16", "an edit, no move")
    edit(dated, "opportunities/2026/02/beta.yaml", status="won", probability=100)
    commit_at(dated, "2026-02-17", "won", "bob")
    (dated / "opportunities/2026/02/gamma.yaml").unlink()
    commit_at(dated, "2026-02-18", "gamma goes")
    git(dated, "mv", "opportunities/2026/02/delta.yaml", "opportunities/delta.yaml")
    edit(dated, "opportunities/delta.yaml", stage="proposal", probability=40)
    commit_at(dated, "2026-02-19", "delta moved and moved on", "mia")
    return dated


def _cache(root: Path) -> Path:
    path = store.cache_path(root / ".git")
    path.parent.mkdir(exist_ok=True)
    return path


def test_newest_events_from_a_part_of_the_cache_are_the_newest_of_all(busy: Path) -> None:
    full = load_history(busy, cache=False)
    every = len(all_events(full, moves_only=True))
    for size in (1, 2, 3, 5, 8, 100):
        payload = store.encode(full, recent_size=size)
        assert payload is not None
        _cache(busy).write_bytes(payload)
        cached = store.CacheFile.open(_cache(busy))
        assert cached is not None
        with cached:
            part = cached.recent()
        assert part is not None
        if size < 5:  # the section holds only the newest records
            assert len(part[1].timelines) < len(full.timelines)
        for count in range(every + 2):
            expected = recent_events(full, count, moves_only=True)
            assert newest_events(busy, count) == expected, (size, count)
            assert _cache(busy).read_bytes() == payload  # answered from this file


def test_one_record_from_a_part_of_the_cache(busy: Path) -> None:
    full = load_history(busy)  # cold: writes the cache
    assert store.CacheFile.open(_cache(busy)) is not None
    for record_id in [*full.timelines, "nope"]:
        one = load_record(busy, record_id)
        assert one.partial
        assert list(one.timelines) == ([record_id] if record_id in full.timelines else [])
        assert events_of(one, record_id) == events_of(full, record_id)
        assert position_of(one, record_id) == positions(full).get(record_id)
    _cache(busy).unlink()
    assert events_of(load_record(busy, "beta"), "beta") == events_of(full, "beta")


def test_a_cache_cut_short_or_of_another_head_is_not_used(busy: Path) -> None:
    fresh = load_history(busy, cache=False)
    load_history(busy)
    whole = _cache(busy).read_bytes()
    for cut in (10, len(whole) // 2, len(whole) - 1):
        _cache(busy).write_bytes(whole[:cut])
        assert newest_events(busy, 3) == recent_events(fresh, 3, moves_only=True)
        _cache(busy).write_bytes(whole[:cut])
        assert load_history(busy).timelines == fresh.timelines
    edit(busy, "opportunities/delta.yaml", stage="negotiate", probability=70)
    commit_at(busy, "2026-02-20", "delta on")
    # the cache is of the head before: one record, the newest events and the whole
    # history are of the new head
    assert [e.target for e in events_of(load_record(busy, "delta"), "delta")][-1] == "negotiate"
    assert newest_events(busy, 1)[0].target == "negotiate"
    assert load_history(busy).read_commits == 0  # newest_events brought the cache along


def test_the_cache_of_an_older_version_is_removed(busy: Path) -> None:
    older = _cache(busy).with_name("history-v1.marshal")
    older.parent.mkdir(parents=True, exist_ok=True)
    older.write_bytes(b"an old cache")
    load_history(busy)
    assert _cache(busy).exists() and not older.exists()


def test_cli_history_warm_prints_what_cold_printed(
    busy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chdir(busy)
    for args in (["-n", "3", "--format", "json"], ["delta", "--format", "json"], ["-n", "50"]):
        _cache(busy).unlink(missing_ok=True)
        assert main(["history", *args]) == 0
        cold = capsys.readouterr().out
        assert _cache(busy).exists()
        assert main(["history", *args]) == 0
        assert capsys.readouterr().out == cold, args


# --- the replay while the log streams ---------------------------------------------------

LINED = """\
id: lined
name: Lined deal
kind: standard-sale
stage: qualify
status: in_progress
partner: acme
responsible: alice
probability: 10
currency: EUR
lines:
  - product: forklift
    quantity: 2
"""


def _replays(root: Path, *, linear: bool) -> tuple[History, History]:
    """The history of HEAD replayed as the log streams, and along the chain after it."""
    head = git(root, "rev-parse", "HEAD").strip()
    streamed = _Replay(root, History(), scan_log(root, head))
    after = _Replay(root, History(), scan_log(root, head))
    after.streaming = False
    result = streamed.run(head), after.run(head)
    assert streamed.streaming is linear  # a merge: replayed along the chain after all
    return result


def test_the_streamed_replay_agrees_with_the_replay_along_the_chain(busy: Path) -> None:
    """A line of commits of every kind: a record whose amount comes from its lines and
    the catalog changing under it, a record in two files (the same id), a version no
    parser reads, a deletion and a return."""
    write(busy, {"opportunities/2026/02/lined.yaml": LINED})
    commit_at(busy, "2026-02-21", "a record priced by its lines")
    products = (busy / "catalogs/products.yaml").read_text().replace("15000", "16000")
    write(busy, {"catalogs/products.yaml": products})
    commit_at(busy, "2026-02-22", "forklifts cost more")
    write(busy, {"opportunities/beta.yaml": (busy / "opportunities/2026/02/beta.yaml").read_text()})
    commit_at(busy, "2026-02-23", "beta twice")
    edit(busy, "opportunities/beta.yaml", probability=90)
    commit_at(busy, "2026-02-24", "one of the two moves")
    (busy / ACME).write_text("<<<<<<< HEAD\nstage: a\n=======\nstage: b\n>>>>>>> x\n")
    commit_at(busy, "2026-02-25", "a committed conflict")
    git(busy, "rm", "-q", "opportunities/2026/02/beta.yaml")
    edit(busy, "opportunities/2026/02/lined.yaml", stage="proposal", probability=40)
    commit_at(busy, "2026-02-26", "one beta goes, lined moves")
    write(busy, {"opportunities/2026/02/gamma.yaml": BETA.replace("id: beta", "id: gamma")})
    commit_at(busy, "2026-02-27", "gamma is back")
    streamed, after = _replays(busy, linear=True)
    assert streamed.timelines == after.timelines
    assert streamed.commits == after.commits
    assert (streamed.chain, streamed.depth) == (after.chain, after.depth)
    assert streamed.files == after.files
    assert streamed.products == after.products
    # the catalog's new price shows at the record's next version
    lined = events_of(streamed, "lined")
    assert [(e.change, e.after.amount) for e in lined if e.after] == [
        ("created", "30000.00"),
        ("moved", "32000.00"),
    ]
    assert load_history(busy, cache=False).timelines == after.timelines


def test_a_history_with_a_merge_is_replayed_along_the_chain(dated: Path) -> None:
    git(dated, "checkout", "-q", "-b", "side")
    edit(dated, ACME, status="in_progress", loss_reason="null")
    commit_at(dated, "2026-02-15", "reopen on a branch", "bob")
    git(dated, "checkout", "-q", "main")
    write(dated, {"opportunities/2026/02/beta.yaml": BETA})
    commit_at(dated, "2026-02-16", "beta on main")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2026-02-17T10:00:00+00:00"}
    subprocess.run(
        ["git", "merge", "-q", "--no-ff", "-m", "Merge side", "side"],
        cwd=dated,
        check=True,
        env=env,
        capture_output=True,
    )
    streamed, after = _replays(dated, linear=False)
    assert streamed.timelines == after.timelines and streamed.chain == after.chain
    assert [e.change for e in events_of(streamed, "acme-forklifts")][-1] == "reopened"


def test_the_command_line_writes_the_cache_after_the_answer(busy: Path) -> None:
    """As `crm` (not imported): the answer first, the cache by a detached process."""

    def crm(*args: str) -> str:
        command = "import sys; from crmfiles.cli.main import main; sys.exit(main())"
        return subprocess.run(
            [sys.executable, "-c", command, "history", *args],
            cwd=busy,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    cache = _cache(busy)
    cache.unlink(missing_ok=True)
    cold = crm("-n", "3", "--format", "json")
    assert json.loads(cold)["events"]
    for _ in range(200):  # written in the background (a second, at most, here)
        if cache.exists():
            break
        time.sleep(0.05)
    assert load_history(busy).read_commits == 0  # the cache is of HEAD
    assert crm("-n", "3", "--format", "json") == cold
    assert json.loads(crm("beta", "--format", "json"))["id"] == "beta"


def test_a_commit_s_follow_up_brings_the_history_cache_along(dated: Path) -> None:
    """What an operation's detached process does after its commit: the history cache
    of the parent is extended to the new HEAD, so the next run reads nothing."""
    from crmfiles.history.build import follow

    path = store.cache_path(dated / ".git")
    follow(dated, "0" * 40, git(dated, "rev-parse", "HEAD").strip())
    assert not path.exists()  # nobody asked for history here: nothing is built
    load_history(dated)
    parent = git(dated, "rev-parse", "HEAD").strip()
    write(dated, {"opportunities/2026/02/beta.yaml": BETA})
    head = commit_at(dated, "2026-02-16", "crm: new beta")

    def cached_head() -> str | None:
        cached = store.CacheFile.open(path)
        assert cached is not None
        with cached:
            return cached.head

    follow(dated, head, head)  # not the cache's head: left alone
    assert cached_head() == parent
    follow(dated, parent, head)
    assert cached_head() == head
    again = load_history(dated)
    assert again.read_commits == 0
    assert again.timelines == load_history(dated, cache=False).timelines


def test_crm_move_leaves_the_history_cache_at_its_commit(dated: Path) -> None:
    import fcntl

    git(dated, "reset", "-q", "--hard", "HEAD~1")  # acme-forklifts in negotiate again
    load_history(dated)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmfiles",
            "move",
            "acme-forklifts",
            "commit",
            "--repo",
            str(dated),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    folder = dated / ".git" / "crmfiles"
    deadline = time.monotonic() + 30
    head = git(dated, "rev-parse", "HEAD").strip()
    while time.monotonic() < deadline:  # the detached process holds the lock while it works
        with open(folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cached = store.CacheFile.open(store.cache_path(dated / ".git"))
            at = None
            if cached is not None:
                with cached:
                    at = cached.head
            if at == head:
                break
        time.sleep(0.05)
    assert at == head
    assert [e.target for e in events_of(load_history(dated), "acme-forklifts")][-1] == "commit"


@pytest.mark.parametrize("size", [1, 3, 100])
def test_newest_events_after_new_commits_come_from_a_part_of_the_cache(
    dated: Path, size: int
) -> None:
    """Commits made since the cached head (by hand: creations, moves, an edit, a
    deletion, a move between folders, a product catalog change): the newest events are
    replayed onto the records they touch and put beside the cache's recent section,
    and are the newest of a history read afresh - the cache file is left as it was."""
    old = load_history(dated, cache=False)
    payload = store.encode(old, recent_size=size)
    assert payload is not None
    _cache(dated).write_bytes(payload)
    for name, stage in (("beta", "qualify"), ("gamma", "proposal"), ("delta", "qualify")):
        text = BETA.replace("id: beta", f"id: {name}").replace("stage: qualify", f"stage: {stage}")
        write(dated, {f"opportunities/2026/02/{name}.yaml": text})
    commit_at(dated, "2026-02-15", "three new")
    edit(dated, "opportunities/2026/02/beta.yaml", stage="proposal", probability=40)
    edit(dated, ACME, status="in_progress", probability=70)
    commit_at(dated, "2026-02-16", "a move and a reopening in one commit", "bob")
    edit(dated, "opportunities/2026/02/delta.yaml", probability=15)
    commit_at(dated, "2026-02-16", "an edit, no move")
    (dated / "opportunities/2026/02/gamma.yaml").unlink()
    commit_at(dated, "2026-02-18", "gamma goes")
    git(dated, "mv", "opportunities/2026/02/delta.yaml", "opportunities/delta.yaml")
    edit(dated, "opportunities/delta.yaml", stage="proposal", probability=40)
    commit_at(dated, "2026-02-19", "delta moved and moved on", "mia")
    products = dated / "catalogs/products.yaml"
    if products.exists():
        products.write_text(products.read_text() + "\n")
        commit_at(dated, "2026-02-20", "catalog touched")
    fresh = load_history(dated, cache=False)
    every = len(all_events(fresh, moves_only=True))
    for count in range(every + 2):
        _cache(dated).write_bytes(payload)  # the cache of the old head, every time
        assert newest_events(dated, count) == recent_events(fresh, count, moves_only=True), count
        if size == 100:  # the recent section holds every record: the part always answers
            assert _cache(dated).read_bytes() == payload  # answered from a part of this file
    for rid in [*fresh.timelines, "nope"]:  # and one record's history, likewise
        _cache(dated).write_bytes(payload)
        one = load_record(dated, rid)
        assert one.partial and events_of(one, rid) == events_of(fresh, rid), rid
        assert position_of(one, rid) == positions(fresh).get(rid)
        assert _cache(dated).read_bytes() == payload


def test_a_long_range_of_new_commits_extends_the_whole_cache(
    busy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmfiles.history import build as history_build

    git(busy, "reset", "-q", "--hard", "HEAD~3")
    load_history(busy)
    before = _cache(busy).read_bytes()
    git(busy, "reset", "-q", "--hard", "HEAD@{1}")  # three commits on again
    monkeypatch.setattr(history_build, "APPEND_AT_MOST", 2)
    fresh = load_history(busy, cache=False)
    assert newest_events(busy, 4) == recent_events(fresh, 4, moves_only=True)
    assert _cache(busy).read_bytes() != before  # read by the whole extension, and cached
    assert load_history(busy).read_commits == 0
