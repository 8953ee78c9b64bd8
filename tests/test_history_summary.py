"""Each record's summary in the history cache (days in stage, the stages it reached),
held to the whole computation from the versions: across commits, moves, closes,
reopenings, renames, deletions, merges, rewrites, and every state of the cache."""

from __future__ import annotations

import datetime as dt
import json
import marshal
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git, write
from test_history import ACME, BETA, commit_at, dated, edit  # noqa: F401 - the fixture

from crmfiles.cli.main import main
from crmfiles.history import (
    Summary,
    days_in_stage,
    first_seen,
    load_history,
    load_summary,
    positions,
    stages_visited,
    store,
    summarize,
)
from crmfiles.history import build as history_build
from crmfiles.history.build import follow
from crmfiles.history.model import History
from crmfiles.history.summary import COLUMNS
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period
from crmfiles.reports.dropoff import dropoff

TODAY = dt.date(2026, 3, 1)
BETA_PATH = "opportunities/2026/02/beta.yaml"


def _cache(root: Path) -> Path:
    return store.cache_path(root / ".git")


def agrees(root: Path) -> None:
    """What the summary gives, from the cache as it is, is what the versions give."""
    fresh = load_history(root, cache=False)
    where = positions(fresh)
    assert days_in_stage(root, today=TODAY) == {r: p.days(TODAY) for r, p in where.items()}
    summary = load_summary(root)
    assert sorted(summary.ids) == sorted(fresh.timelines)
    since, first, visited = (summary.column(c) for c in ("since", "first", "visited"))
    stage, status = summary.column("stage"), summary.column("status")
    for rid in fresh.timelines:
        day = first_seen(fresh, rid)
        assert day is not None and first[rid] == day.date().toordinal(), rid
        # each stage once, in the order first reached
        assert visited[rid] == tuple(dict.fromkeys(stages_visited(fresh, rid))), rid
        at = where.get(rid)
        assert since[rid] == (at.since.date().toordinal() if at else None), rid
        assert (stage[rid], status[rid]) == ((at.stage, at.status) if at else (None, None))
    # and drop-off, which reads the summary, counts what it counted from the versions
    # (in a period: of the records opened in it, or else first committed in it)
    repo = Repository(root)
    for period in PERIODS:
        got = dropoff(repo, summary, period=period).as_json()
        assert got == _dropoff_of(repo, fresh, period), period


PERIODS = [
    Period(),
    Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    Period(dt.date(2026, 2, 15), dt.date(2026, 2, 15)),
    Period(dt.date(2026, 2, 16), None),
]


def _dropoff_of(
    repo: Repository, history: History, period: Period | None = None
) -> dict[str, object]:
    """Drop-off from the versions themselves: the stages visited and the first commit
    of each record, as the report counted them before it read the summary."""
    ids = list(history.timelines)
    firsts = [first_seen(history, rid) for rid in ids]
    reference = Summary(
        ids,
        {
            "first": [day.date().toordinal() for day in firsts if day is not None],
            "visited": [tuple(stages_visited(history, rid)) for rid in ids],  # with repeats
        },
    )
    return dropoff(repo, reference, period=period).as_json()


def cached_summary(root: Path) -> dict[str, tuple[object, ...]]:
    """The summary rows the cache file holds."""
    cached = store.CacheFile.open(_cache(root))
    assert cached is not None
    with cached:
        summary = cached.summary()
    assert summary is not None
    return summary.rows()


# how the cache follows the commits: left behind (the new commits are replayed onto a
# part of it), extended whole and written again, moved on by an operation's follow-up
# after each commit, or removed before every read
MODES = ["part", "whole", "follow", "none"]


def scenario(root: Path) -> list[Callable[[], None]]:
    """Steps after ``dated``'s history (acme-forklifts lost on 2026-02-14)."""

    def three_new() -> None:
        for name, stage in (("beta", "qualify"), ("gamma", "proposal"), ("delta", "qualify")):
            text = BETA.replace("id: beta", f"id: {name}").replace(
                "stage: qualify", f"stage: {stage}"
            )
            write(root, {f"opportunities/2026/02/{name}.yaml": text})
        commit_at(root, "2026-02-15", "three new")

    def move_and_reopen() -> None:
        edit(root, BETA_PATH, stage="proposal", probability=40)
        edit(root, ACME, status="in_progress", probability=70, loss_reason="null")
        commit_at(root, "2026-02-16", "a move and a reopening in one commit", "bob")

    def no_move() -> None:
        edit(root, "opportunities/2026/02/delta.yaml", probability=15)
        commit_at(root, "2026-02-16", "an edit, no move")

    def won() -> None:
        edit(root, BETA_PATH, status="won", probability=100)
        commit_at(root, "2026-02-17", "won", "bob")

    def deleted() -> None:
        (root / "opportunities/2026/02/gamma.yaml").unlink()
        commit_at(root, "2026-02-18", "gamma goes")

    def renamed() -> None:
        git(root, "mv", "opportunities/2026/02/delta.yaml", "opportunities/delta.yaml")
        edit(root, "opportunities/delta.yaml", stage="proposal", probability=40)
        commit_at(root, "2026-02-19", "delta moved and moved on", "mia")

    def back_again() -> None:
        text = BETA.replace("id: beta", "id: gamma").replace("stage: qualify", "stage: negotiate")
        write(root, {"opportunities/2026/03/gamma.yaml": text})
        commit_at(root, "2026-02-20", "gamma again, in negotiate")

    def late_in_the_evening() -> None:
        # 2026-02-21 in the committer's offset, 2026-02-22 in UTC: the day is the former
        edit(root, ACME, stage="commit", probability=90)
        git(root, "add", "-A")
        stamp = "2026-02-21T23:30:00-05:00"
        env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        subprocess.run(
            ["git", "commit", "-q", "-m", "late"], cwd=root, check=True, env=env, timeout=60
        )

    def merged() -> None:
        git(root, "checkout", "-q", "-b", "crm/delta")
        edit(root, "opportunities/delta.yaml", stage="negotiate", probability=70)
        commit_at(root, "2026-02-22", "crm: move delta proposal -> negotiate", "bob")
        git(root, "checkout", "-q", "main")
        edit(root, BETA_PATH, status="in_progress", probability=60)
        commit_at(root, "2026-02-23", "beta reopened on main")
        env = {**os.environ, "GIT_COMMITTER_DATE": "2026-02-24T10:00:00+00:00"}
        subprocess.run(
            ["git", "merge", "-q", "--no-ff", "-m", "Merge crm/delta", "crm/delta"],
            cwd=root,
            check=True,
            env=env,
            capture_output=True,
            timeout=60,
        )

    return [three_new, move_and_reopen, no_move, won, deleted, renamed, back_again,
            late_in_the_evening, merged]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
def test_the_summary_agrees_with_the_versions_step_by_step(
    dated: Path,  # noqa: F811
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if mode == "whole":
        monkeypatch.setattr(history_build, "APPEND_AT_MOST", 0)
    agrees(dated)  # cold: builds and writes the cache
    assert _cache(dated).exists()
    for step in scenario(dated):
        parent = git(dated, "rev-parse", "HEAD").strip()
        step()
        head = git(dated, "rev-parse", "HEAD").strip()
        before = _cache(dated).read_bytes()
        if mode == "whole":
            history_build._LAST.clear()  # the base and its summary read from the file
        if mode == "follow":
            follow(dated, parent, head)
        elif mode == "none":
            _cache(dated).unlink()
        agrees(dated)
        if mode == "part" and step.__name__ != "merged":
            # answered from parts of the file of the head before (a merge: from all of it)
            assert _cache(dated).read_bytes() == before, step.__name__
        # the summary the cache holds now (extended, rebuilt or left) is that of its head
        cached = store.CacheFile.open(_cache(dated))
        assert cached is not None
        with cached:
            at = cached.head
        assert (at == head) == (mode != "part" or step.__name__ == "merged")
        assert cached_summary(dated) == summarize(load_history(dated, at, cache=False)).rows()
    assert days_in_stage(dated, today=TODAY)["acme-forklifts"] == 8  # since 2026-02-21
    assert days_in_stage(dated, today=TODAY)["delta"] == 7  # the branch's move, 2026-02-22


def test_a_rewritten_history_is_summarized_again(dated: Path) -> None:  # noqa: F811
    agrees(dated)
    git(dated, "reset", "-q", "--hard", "HEAD~2")  # back to before the last two moves
    agrees(dated)
    edit(dated, ACME, stage="commit", probability=90)
    commit_at(dated, "2026-02-25", "another way")
    agrees(dated)  # the cached head is not on the chain: read from the root
    assert days_in_stage(dated, today=TODAY) == {"acme-forklifts": 4}
    git(dated, "reset", "-q", "--hard", "HEAD@{2}")  # the first history again
    agrees(dated)
    assert days_in_stage(dated, today=TODAY) == {"acme-forklifts": 15}  # lost on 02-14


def test_a_removed_or_broken_cache_is_rebuilt(dated: Path) -> None:  # noqa: F811
    assert not _cache(dated).exists()
    agrees(dated)
    _cache(dated).write_bytes(b"not a cache")
    agrees(dated)
    whole = _cache(dated).read_bytes()
    for cut in (10, len(whole) // 2, len(whole) - 1):
        _cache(dated).write_bytes(whole[:cut])
        agrees(dated)


def _without(payload: bytes, prefix: str) -> bytes:
    """A cache file whose header lists no section named with ``prefix`` (as a file of
    the layout before the summary would be, were it of this version)."""
    size = int.from_bytes(payload[:8], "little")
    header = list(marshal.loads(payload[8 : 8 + size]))
    header[5] = {k: v for k, v in header[5].items() if not k.startswith(prefix)}
    raw = marshal.dumps(tuple(header))
    return payload[:8] + raw + b"\0" * (size - len(raw)) + payload[8 + size :]


def test_a_cache_without_a_summary_or_of_another_version_is_not_misread(
    dated: Path,  # noqa: F811
) -> None:
    load_history(dated)
    payload = _cache(dated).read_bytes()
    assert _cache(dated).name == f"history-v{store.CACHE_VERSION}.marshal"
    _cache(dated).write_bytes(_without(payload, "summary."))
    agrees(dated)  # no summary sections: from the whole history, and cached again
    assert _cache(dated).read_bytes() != _without(payload, "summary.")
    older = _cache(dated).with_name("history-v3.marshal")  # the layout before
    older.write_bytes(_without(payload, "summary."))
    _cache(dated).unlink()
    agrees(dated)
    assert not older.exists()  # rebuilt in this version's file; the old one removed


def test_a_row_is_kept_only_while_its_version_count_holds(dated: Path) -> None:  # noqa: F811
    history = load_history(dated, cache=False)
    right = summarize(history)
    # a made-up summary of a history this one extends: acme-forklifts had 4 versions
    # then (its row is made again), beta had as many as now (its row stands)
    made_up = Summary(
        ["acme-forklifts", "beta"],
        {
            "counts": [4, 1],
            "since": [1, 2],
            "stage": ["x", "y"],
            "status": ["x", "y"],
            "first": [1, 2],
            "visited": [("x",), ("y",)],
        },
    )
    write(dated, {BETA_PATH: BETA})
    commit_at(dated, "2026-02-16", "crm: new beta")
    longer = load_history(dated, cache=False)
    rows = summarize(longer, made_up).rows()
    assert rows["acme-forklifts"] == right.rows()["acme-forklifts"]
    assert rows["beta"] == (1, 2, "y", "y", 2, ("y",))


def test_the_summary_of_an_earlier_revision(dated: Path) -> None:  # noqa: F811
    load_history(dated)
    for rev in ("HEAD~1", "HEAD~3", "HEAD"):
        earlier = load_history(dated, git(dated, "rev-parse", rev).strip(), cache=False)
        assert load_summary(dated, rev).rows() == summarize(earlier).rows()


def test_list_and_dropoff_show_what_the_versions_give(
    dated: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    def crm(*args: str) -> dict[str, object]:
        capsys.readouterr()
        assert main([*args, "--repo", str(dated), "--format", "json"]) == 0
        loaded: dict[str, object] = json.loads(capsys.readouterr().out)
        return loaded

    steps = scenario(dated)
    for step in [lambda: None, *steps[:3], steps[5]]:
        step()
        for _ in ("maybe stale", "warm"):
            fresh = load_history(dated, cache=False)
            today = dt.date.today()
            days = {rid: p.days(today) for rid, p in positions(fresh).items()}
            listed = crm("list", "opportunities", "--no-view", "--columns", "id,days_in_stage")
            rows = listed["opportunities"]
            assert isinstance(rows, list)
            assert {r["id"]: r["days_in_stage"] for r in rows} == days
            drop = crm("report", "dropoff")
            assert drop.pop("version") == 1 and drop.pop("at") is None
            assert drop == _dropoff_of(Repository(dated), fresh)
            load_history(dated)  # the cache at HEAD for the second round


def test_every_column_is_written(dated: Path) -> None:  # noqa: F811
    load_history(dated)
    rows = cached_summary(dated)
    assert set(rows) == {"acme-forklifts"}
    assert len(rows["acme-forklifts"]) == len(COLUMNS)
    assert rows["acme-forklifts"] == (
        5,
        dt.date(2026, 2, 14).toordinal(),  # lost that day
        "negotiate",
        "lost",
        dt.date(2026, 1, 10).toordinal(),
        ("qualify", "proposal", "negotiate"),
    )


def test_activity_builds_the_events_of_the_records_changed_in_its_window(
    dated: Path,  # noqa: F811
) -> None:
    """``crm report activity`` builds only the events of records changed in its window:
    the events of the window are those of every record, in the same order."""
    from crmfiles.history import all_events
    from crmfiles.history.model import changed_between

    for step in scenario(dated):
        step()
    history = load_history(dated, cache=False)
    every = all_events(history, moves_only=True)
    days = sorted({e.date.date() for e in every})
    windows = [(None, None), (None, days[0]), (days[-1], None), (days[-1], days[-1])]
    windows += [(a, b) for a in days[::3] for b in days[1::4] if a <= b]
    windows.append((dt.date(2026, 2, 22), dt.date(2026, 2, 22)))  # 2026-02-21 in its offset
    for start, end in windows:
        changed = changed_between(history, start, end)
        inside = [
            e
            for e in every
            if (start is None or e.date.date() >= start) and (end is None or e.date.date() <= end)
        ]
        assert {e.id for e in inside} <= changed
        got = all_events(history, moves_only=True, records=changed)
        assert [e for e in got if e in inside] == inside, (start, end)
