"""The benchmark of docs/performance.md: one run prints every figure, next to floors measured in
the same run (these machines are noisy, so a ratio says more than a second).

    python bench/run.py                  10,000 opportunities
    python bench/run.py --large          also 100,000 (generating it takes a minute or two)
    python bench/run.py --json out.json  also save every figure and sample
    python bench/run.py --rev HEAD       crmfiles as committed, not the work tree
    python bench/run.py --smoke          a tiny workload, one run each: does it all work?

Every operation runs as a subprocess and is timed whole, interpreter start-up included
(best of 3; one warm-up first where "warm" applies; a single run when one takes over
10 s).  Peak memory is the child's ``ru_maxrss`` from ``os.wait4`` (see
:func:`harness.measure`).

To add an operation, add a :class:`~harness.Case` to :func:`cases`: a name, the
command (argv lists, run one after the other and timed as one), an optional setup run
untimed before each run, and the budgets it must meet.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from harness import (
    EXTRA_ENV,
    FLOORS,
    Budget,
    Case,
    Command,
    Row,
    Setup,
    environment,
    faster,
    git,
    judge,
    note,
    peak,
    run_case,
    seconds,
    table,
    within,
)
from tui_bench import BUDGETS as TUI_BUDGETS
from workloads import BENCH, PROJECT, Workload, prepare, snapshot

CACHE_DIR = ".git/crmfiles"  # crm's own cache: deleted for a cold run
COMMITS = 20_000
GIB = 1024.0
CHANGES_MIB = 286.0  # 300 MB: crm changes reads the head's pipeline from the facts
CHANGES_RANGE = ("changes", "--base", "HEAD~5", "--head", "HEAD")
TUI_FIGURES = ".git/bench-tui.json"  # what bench/tui_bench.py measured (in the workload)
SNAPSHOT: dict[str, Path] = {}  # --rev: the extracted project ("root")

# --- commands ---------------------------------------------------------------------------

READ = """
import os, sys
for d, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [x for x in dirs if not x.startswith(".")]
    for name in files:
        if name.endswith(".yaml"):
            with open(os.path.join(d, name), "rb") as f:
                f.read()
"""
LIBYAML = """
import os, sys, yaml
for d, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [x for x in dirs if not x.startswith(".")]
    for name in files:
        if name.endswith(".yaml"):
            with open(os.path.join(d, name), "rb") as f:
                yaml.load(f.read(), Loader=yaml.CSafeLoader)
"""


def tool(name: str) -> list[str]:
    """A console script of this virtual environment (the one running the benchmark)."""
    if name == "crm" and SNAPSHOT:
        return [sys.executable, "-m", "crmfiles"]  # imported from the snapshot
    local = Path(sys.executable).with_name(name)
    if local.exists():
        return [str(local)]
    found = shutil.which(name)
    if found:
        return [found]
    if name == "crm":
        return [sys.executable, "-m", "crmfiles"]
    raise SystemExit(f"bench: {name} is not installed (pip install -e '.[test]')")


def python(script: str) -> Command:
    return lambda w: [[sys.executable, "-c", script, str(w.root)]]


def crm(*args: str) -> Command:
    return lambda w: [[*tool("crm"), *args, "--repo", str(w.root)]]


def check_jsonschema(w: Workload) -> list[list[str]]:
    """check-jsonschema on every opportunity, in as few invocations as ARG_MAX allows.

    ``--base-uri`` points relative ``$ref``s at the schema folder: today's schemas
    have no ``$id`` and resolve there anyway, but a revision measured with ``--rev``
    may be older, when the ``$id`` was an https URL (and the dead proxy of
    :func:`harness.environment` makes sure nothing is fetched)."""
    schema = SNAPSHOT.get("root", PROJECT) / "schema" / "opportunity.schema.json"
    head = [*tool("check-jsonschema"), "--schemafile", str(schema), "--base-uri", schema.as_uri()]
    env_size = sum(len(k) + len(v) + 2 + 8 for k, v in environment().items())
    room = (os.sysconf("SC_ARG_MAX") - env_size) // 2  # half: a margin for the kernel's count
    out: list[list[str]] = []
    argv, size = list(head), sum(len(a) + 9 for a in head)
    for path in w.opportunity_files():
        if size + len(path) + 9 > room and len(argv) > len(head):
            out.append(argv)
            argv, size = list(head), sum(len(a) + 9 for a in head)
        argv.append(path)
        size += len(path) + 9
    out.append(argv)
    return out


# --- setups -----------------------------------------------------------------------------


def cold(w: Workload) -> None:
    """No crm cache: deleted once a writer that outlived the last command is done."""
    lock = w.root / CACHE_DIR / "lock"
    if lock.exists():
        import fcntl

        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            shutil.rmtree(w.root / CACHE_DIR, ignore_errors=True)
    shutil.rmtree(w.root / CACHE_DIR, ignore_errors=True)


def change_one(w: Workload) -> None:
    w.editor.next()


def clean(w: Workload) -> None:
    """The work tree and the index as HEAD has them (a "warm" read is of a tree
    nobody is editing; the "1 file changed" rows measure the other case): what an
    earlier case edited or staged is undone, and its edit forgotten (a case may have
    committed it, so putting the file's old text back would be an edit of its own)."""
    w.editor.last = None
    same = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=w.root, env=environment())
    if same.returncode != 0:  # (a reset rewrites the index: git would look again at
        git(w.root, "reset", "-q", "--hard")  # every folder for untracked files)


def stage_one(w: Workload) -> None:
    previous, path = w.editor.next()
    git(w.root, "add", "--", *filter(None, (previous, path)))


# --- the cases: one per line of the table ---------------------------------------------


def git_log_raw(w: Workload) -> list[list[str]]:
    """The floor of `crm history`: git's own walk of the same range, raw diffs and all."""
    return [
        [
            "git",
            "-C",
            str(w.root),
            "log",
            "--raw",
            "--no-abbrev",
            "--format=%H %ae %at",
            "HEAD",
            "--",
            "opportunities",
        ]
    ]


def history_cold(w: Workload) -> None:
    """No history cache: deleted once a writer that outlived the last command is done."""
    with _writers_done(w):
        for item in (w.root / CACHE_DIR).glob("history-*"):
            item.unlink()


def commit_by_hand(w: Workload) -> None:
    """One commit made with git since the history was cached (a hand edit): the budget's
    warm history reads only new commits."""
    previous, path = w.editor.next()
    git(w.root, "add", "--", *filter(None, (previous, path)))
    git(w.root, "commit", "-q", "-m", "bench: a commit by hand")
    w.editor.last = None  # committed: nothing to put back


@contextlib.contextmanager
def _writers_done(w: Workload) -> Iterator[None]:
    """Hold the crm cache folder's lock (a detached writer holds it while it writes)."""
    lock = w.root / CACHE_DIR / "lock"
    if not lock.exists():
        yield
        return
    import fcntl

    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def next_move(w: Workload) -> None:
    w.mover.next()


def settled(setup: Setup | None = None) -> Setup:
    """``setup``, once the cache writer that the last command left running is done: a
    warm run is timed as a person meets it, seconds after the last command, not while
    that command's detached writer still has a core."""

    def run(w: Workload) -> None:
        with _writers_done(w):
            pass
        if setup is not None:
            setup(w)

    return run


def crm_move(w: Workload) -> list[list[str]]:
    assert w.mover.current is not None
    record, stage = w.mover.current
    return crm("move", record, stage)(w)


def export_sqlite(w: Workload) -> list[list[str]]:
    """``crm export sqlite`` into a file in the repository's git folder (out of the work
    tree; replaced each run).  It forks (half of each large folder, and the history):
    its peak is the largest of its processes' ``ru_maxrss``, as ``wait4`` reports it."""
    out = w.root / ".git" / "bench-export.sqlite"
    return [[*tool("crm"), "export", "--repo", str(w.root), "sqlite", str(out)]]


def funnel_long_ago(w: Workload) -> list[list[str]]:
    """``crm report funnel --at HEAD~1000`` (fewer on a workload with a shorter history)."""
    count = subprocess.run(
        ["git", "-C", str(w.root), "rev-list", "--count", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    back = min(1000, int(count or 1) - 1)
    return crm("report", "funnel", "--at", f"HEAD~{back}")(w)


def show_deal(w: Workload) -> list[list[str]]:
    """``crm show`` of one deal (the first by path): its names, its money, what refers
    to it."""
    return crm("show", Path(w.opportunity_files()[0]).stem)(w)


def codeowners(w: Workload) -> list[list[str]]:
    """``crm codeowners`` into a file in the repository's git folder (replaced each run)."""
    out = w.root / ".git" / "bench-CODEOWNERS"
    return crm("codeowners", "--output", str(out))(w)


def tui(w: Workload) -> list[list[str]]:
    """``bench/tui_bench.py`` on the workload: the TUI headless, its figures (medians of
    3 runs, 1 on a tiny workload) saved for :func:`tui_figures`."""
    runs = "3" if w.opportunities >= 1000 else "1"
    out = str(w.root / TUI_FIGURES)
    script = str(BENCH / "tui_bench.py")  # (with --rev, it imports that crmfiles)
    return [[sys.executable, script, "--repo", str(w.root), "--runs", runs, "--json", out]]


def no_tui_figures(w: Workload) -> None:
    clean(w)
    (w.root / TUI_FIGURES).unlink(missing_ok=True)


def tui_figures(w: Workload, whole: Row) -> list[tuple[Row, tuple[Budget, ...]]]:
    """A row per TUI figure, with the peak memory of a session (each run is a process
    of its own); none when the TUI did not get as far as saving them (the whole run's
    row then says why)."""
    path = w.root / TUI_FIGURES
    if not path.exists():
        return []
    saved = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for name, limit in TUI_BUDGETS.items():
        row = Row(
            workload=w.label,
            name=f"TUI {name}",
            seconds=saved["figures"][name],
            cpu=whole.cpu,
            peak_mib=saved["peak_mib"],
            status=0,
            samples=saved["samples"][name],
        )
        rows.append((row, (seconds(limit), peak(GIB))))
    return rows


AGAIN = "validate, cold, again"


def beside_validate_cold() -> Case:
    """Cold validate again, right before a case measured against it: on a shared
    machine the speed drifts over minutes (a run has seen every row after some point
    25–40 % slower), and a ratio holds only between figures taken side by side, as
    ``crm move`` and its floor are.  A budget's floor is the latest row of its name."""
    return Case(AGAIN, crm("validate"), cold, (peak(GIB),), workload="large")


def reads() -> list[Case]:
    """The readers at 100,000 (issue 14): every one from the facts of the warm cache."""
    warm_read = (seconds(0.5), within("validate, warm", 1.5), peak(GIB))
    large: dict[str, Any] = {"workload": "large", "warmup": True}
    return [
        *(
            Case(name, crm(*argv), settled(clean), warm_read, workload="large", warmup=True)
            for name, argv in (
                ("list opportunities, warm", ("list", "opportunities")),
                (
                    "list opportunities --format json, warm",
                    ("list", "opportunities", "--format", "json"),
                ),
                ("report funnel, warm", ("report", "funnel")),
                ("report forecast, warm", ("report", "forecast")),
                ("report winloss, warm", ("report", "winloss")),
                ("list partners, warm", ("list", "partners")),
                ("list contacts, warm", ("list", "contacts")),
            )
        ),
        # the answer kept for the tree cannot be given: the list worked out afresh from
        # the facts (the one changed file parsed), as after every edit
        Case(
            "list opportunities, 1 file changed, warm",
            crm("list", "opportunities"),
            settled(change_one),
            (peak(GIB),),
            workload="large",
            warmup=True,
        ),
        # a report of a tree with one edited file: its facts overlaid on the cache's
        Case(
            "report funnel, 1 file changed, warm",
            crm("report", "funnel"),
            settled(change_one),
            (seconds(1.0), peak(GIB)),
            workload="large",
            warmup=True,
        ),
        # the first read of a clone: every file parsed for its facts, as validate does
        # (its floor measured right before it: this machine's speed drifts over minutes)
        beside_validate_cold(),
        Case(
            "report funnel, cold",
            crm("report", "funnel"),
            cold,
            (within(AGAIN, 1.0), peak(GIB)),
            workload="large",
        ),
        Case(
            "show a deal, warm",
            show_deal,
            settled(clean),
            (seconds(0.2), peak(GIB)),
            workload="large",
            warmup=True,
        ),
        Case(
            "codeowners, warm",
            codeowners,
            settled(clean),
            (seconds(0.5), peak(200.0)),
            workload="large",
            warmup=True,
        ),
        Case(
            "report dropoff, warm",
            crm("report", "dropoff"),
            settled(clean),
            (seconds(1.0), peak(GIB)),
            workload="large",
            warmup=True,
        ),
        Case(
            "report funnel --at HEAD~1000, warm",
            funnel_long_ago,
            settled(clean),
            (seconds(2.0), peak(GIB)),
            workload="large",
            warmup=True,
        ),
        *(
            Case(name, crm(*argv), settled(clean), (seconds(1.0), peak(CHANGES_MIB)), **large)
            for name, argv in (
                ("changes, warm", ("changes",)),
                ("changes --base HEAD~5 --head HEAD, warm", CHANGES_RANGE),
            )
        ),
        beside_validate_cold(),
        Case(
            "export sqlite, warm",
            export_sqlite,
            settled(clean),
            (within(AGAIN, 1.0), peak(GIB)),
            workload="large",
            warmup=True,
        ),
        # first screen, keystroke, first search, refilter, open a record, open again
        Case(
            "TUI (bench/tui_bench.py)",
            tui,
            settled(no_tui_figures),
            workload="large",
            repeat=1,
            figures=tui_figures,
        ),
    ]


def add_and_commit(w: Workload) -> list[list[str]]:
    """The floor of `crm move`: git add + git commit of the same one-file change."""
    path = w.editor.last[0] if w.editor.last else "."
    return [
        ["git", "-C", str(w.root), "add", "--", path],
        ["git", "-C", str(w.root), "commit", "-q", "-m", "bench: one change"],
    ]


def cases() -> list[Case]:
    validate = crm("validate")
    lint_staged = crm("lint", "--staged")
    history = crm("history", "-n", "20", "--format", "json")
    history_rows = (
        [
            Case("git log --raw", git_log_raw, warmup=True, workload=size)
            for size in ("base", "large")
        ]
        + [
            Case(
                "history, cold",
                history,
                history_cold,
                (within("git log --raw", 1.5),),
                workload=size,
                warmup=True,
            )
            for size in ("base", "large")
        ]
        + [
            Case(name, history, settled(setup), (seconds(0.3),), workload=size, warmup=True)
            for name, setup in (("history, warm", None), ("history, 1 new commit", commit_by_hand))
            for size in ("base", "large")
        ]
    )
    return [
        *history_rows,
        Case("F-read", python(READ), warmup=True),
        Case("F-libyaml", python(LIBYAML)),
        Case("check-jsonschema", check_jsonschema, repeat=1),
        Case(
            "validate, cold",
            validate,
            cold,
            (within("F-libyaml", 0.5), faster("check-jsonschema", 20)),
        ),
        Case("validate, warm", validate, settled(), warmup=True),
        Case("validate, 1 file changed, warm", validate, settled(change_one), warmup=True),
        Case("lint --staged, 1 change, warm", lint_staged, settled(stage_one), warmup=True),
        Case("F-read", python(READ), workload="large", warmup=True),
        Case("F-libyaml", python(LIBYAML), workload="large"),
        Case("validate, cold", validate, cold, (peak(GIB),), workload="large"),
        Case("validate, warm", validate, settled(), (peak(GIB),), workload="large", warmup=True),
        Case(
            "validate, 1 file changed, warm",
            validate,
            settled(change_one),
            (seconds(0.5), peak(GIB)),
            workload="large",
            warmup=True,
        ),
        Case(
            "lint --staged, 1 change, warm",
            lint_staged,
            settled(stage_one),
            (seconds(0.5),),
            workload="large",
            warmup=True,
        ),
        # side by side, so that the floor and the move meet the same load
        Case(
            "git add + commit",
            add_and_commit,
            settled(change_one),
            workload="large",
            warmup=True,
        ),
        Case(
            "crm move",
            crm_move,
            settled(next_move),
            (within("git add + commit", 1.0),),
            workload="large",
            warmup=True,
        ),
        *reads(),
    ]


def machine(rev: str | None) -> dict[str, Any]:
    def out(*argv: str) -> str:
        try:
            return subprocess.run(
                argv, capture_output=True, text=True, cwd=PROJECT, env=environment()
            ).stdout.strip()
        except OSError:
            return ""

    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": out("git", "--version"),
        "crm": out(*tool("crm"), "--version"),
        # what was measured: a commit, or the work tree as it was (--dirty: uncommitted work)
        "crmfiles": out("git", "rev-parse", "--short=12", rev)
        if rev
        else out("git", "describe", "--always", "--dirty", "--abbrev=12"),
        "loadavg": os.getloadavg(),
    }


def run(cases_: list[Case], workloads: dict[str, Workload], args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    for case in cases_:
        if case.workload not in workloads:
            workloads[case.workload] = prepare("100k", args.work, 100_000, COMMITS)
        w = workloads[case.workload]
        if args.smoke and any(r.workload == w.label and r.name == case.name for r in rows):
            continue  # the tiny workload stands in for both: each case once
        whole = run_case(case, w, repeat=1 if args.smoke else None, warmup=not args.smoke)

        def floor_of(name: str, label: str = w.label) -> Row | None:
            """The latest row of that name (a floor measured again beside a case)."""
            same = (r for r in reversed(rows) if r.workload == label and r.name == name)
            return next(same, None)

        # (a command over its own budgets exits 1: its figures say which)
        figures = case.figures(w, whole) if case.figures else []
        for row, budget in figures or [(whole, case.budget)]:
            judge(row, replace(case, budget=budget), floor_of)
            rows.append(row)
            line = f"{row.seconds:.3f} s, {row.peak_mib:.0f} MiB {row.verdict}"
            note(f"  [{w.label}] {row.name}: {line}")
            if row.status:
                note(f"    exit {row.status}: {row.output.strip()[-600:]}")
    for w in {id(w): w for w in workloads.values()}.values():
        git(w.root, "reset", "-q", "--hard", "HEAD")  # the edits of the "changed" cases
    return rows


def report(info: dict[str, Any], workloads: list[Workload], rows: list[Row], smoke: bool) -> None:
    print(
        f"crmfiles benchmark, {info['date']}: {info['nproc']} cores, Python {info['python']}, "
        f"{info['git']}, load {info['loadavg'][0]:.2f} -> {info['loadavg_after'][0]:.2f}"
    )
    print(f"crmfiles {info['crmfiles']} ({info['crm']})")
    for w in workloads:
        print(w.describe())
    if smoke:
        print("smoke run: one run each, no warm-up; the figures mean nothing")
    print()
    print(table(rows))
    print()
    judged = [r for r in rows if r.verdict]
    over = [r for r in judged if r.verdict in ("FAIL", "ERROR")]
    print(
        f"{len(judged) - len(over)} of {len(judged)} operations within budget"
        + ("; over: " + ", ".join(f"{r.workload} {r.name}" for r in over) if over else "")
    )


def save(path: Path, info: dict[str, Any], workloads: list[Workload], rows: list[Row]) -> None:
    data = {
        "machine": info,
        "workloads": {
            w.label: {
                "opportunities": w.opportunities,
                "commits": w.commits,
                "root": str(w.root),
                "generated_in": w.generated_in,
            }
            for w in workloads
        },
        "rows": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="also the 100,000 workload")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the results")
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny workload and one run each (a self-test)"
    )
    parser.add_argument("--work", type=Path, default=BENCH / "work", help="generated repos")
    parser.add_argument("--only", metavar="TEXT", help="only the operations whose name has TEXT")
    parser.add_argument(
        "--rev", metavar="REV", help="measure crmfiles as committed at REV, not the work tree"
    )
    args = parser.parse_args(argv)
    if args.rev:
        commit, where = snapshot(args.rev, args.work)
        SNAPSHOT["root"] = where
        EXTRA_ENV["PYTHONPATH"] = str(where / "src")
        note(f"bench: crmfiles from {args.rev} ({commit[:12]}), extracted in {where}")
    info = machine(args.rev)
    note(
        f"bench: {info['date']}, {info['nproc']} cores, Python {info['python']}, {info['git']}, "
        f"crmfiles {info['crmfiles']}"
    )
    if args.smoke:
        tiny = prepare("smoke", args.work, 60, 5)
        workloads = {"base": tiny, "large": tiny}
    else:
        workloads = {"base": prepare("10k", args.work, 10_000, COMMITS)}
    every = [c for c in cases() if c.workload == "base" or args.large or args.smoke]
    chosen = [c for c in every if not args.only or args.only in c.name]
    # and what they are measured against
    floors = {(c.workload, b.floor) for c in chosen for b in c.budget if b.floor}
    ids = {id(c) for c in chosen}
    selected = [
        c for c in every if id(c) in ids or c.name in FLOORS or (c.workload, c.name) in floors
    ]
    rows = run(selected, workloads, args)
    info["loadavg_after"] = os.getloadavg()
    used = list({id(w): w for w in workloads.values()}.values())
    report(info, used, rows, args.smoke)
    if args.json:
        save(args.json, info, used, rows)
    return 1 if any(r.status for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
