"""Measuring: run a case as subprocesses, keep the best run, judge it against its
budgets, print the table.  Nothing here knows which operations exist (``run.py``
lists them)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workloads import Workload

SLOW = 10.0  # seconds: a run this long is measured once
OFFLINE_PROXY = "http://127.0.0.1:9"  # nothing measured may reach the network
FLOORS = ("F-read", "F-libyaml", "check-jsonschema")
EXTRA_ENV: dict[str, str] = {}  # e.g. PYTHONPATH of a crmfiles snapshot (run.py --rev)

Command = Callable[["Workload"], list[list[str]]]  # argv lists, run in turn, timed as one
Setup = Callable[["Workload"], None]  # untimed, before every run


def environment() -> dict[str, str]:
    """What every measured command runs with: no GIT_* leaking in from a hook, no
    colour, bytecode cached, and a dead proxy so that nothing can reach the network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # as a user's shell runs it: Python caches compiled modules (some CI images turn
    # that off, and compiling crmfiles on every start is 0.06 s of each figure)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for key in ("NO_PROXY", "no_proxy"):
        env.pop(key, None)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[key] = OFFLINE_PROXY
    env["NO_COLOR"] = "1"
    env.update(EXTRA_ENV)
    return env


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=environment(), check=True, capture_output=True)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- one measurement ------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    cpu: float  # user + system, of the process and those it waited for
    peak_mib: float
    status: int
    output: str


def measure(argvs: list[list[str]], cwd: Path) -> Sample:
    """Run the commands one after the other: wall time of all of them, CPU time of all,
    peak resident set of the largest process.

    ``os.wait4`` gives the rusage of exactly that child, and its ``ru_maxrss`` covers
    the child and every process it waited for (git, for one), as ``/usr/bin/time``
    reports it, without a wrapper process in the timing."""
    env = environment()
    peak_kib, status, output, cpu = 0, 0, "", 0.0
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        for argv in argvs:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            _, wait_status, usage = os.wait4(proc.pid, 0)
            proc.returncode = status = os.waitstatus_to_exitcode(wait_status)
            peak_kib = max(peak_kib, usage.ru_maxrss)  # KiB on Linux
            cpu += usage.ru_utime + usage.ru_stime
            if status:
                break
        elapsed = time.perf_counter() - start
        if status:
            log.seek(0)
            output = log.read().decode("utf-8", "replace")[-2000:]
    return Sample(elapsed, cpu, peak_kib / 1024, status, output)


# --- cases, rows and budgets ----------------------------------------------------------


@dataclass
class Row:
    workload: str
    name: str
    seconds: float
    cpu: float
    peak_mib: float
    status: int
    samples: list[float]
    budget: str = ""  # each budget with its verdict
    verdict: str = ""  # PASS, FAIL, n/a, ERROR; empty without a budget
    output: str = ""


Floor = Callable[[str], Row | None]  # a floor of the same workload, by name


@dataclass(frozen=True)
class Budget:
    text: str
    check: Callable[[Row, Floor], bool | None]  # None: cannot tell (a floor is missing)
    floor: str | None = None  # the operation it is measured against, if any


def within(floor: str, factor: float) -> Budget:
    def check(row: Row, floor_of: Floor) -> bool | None:
        f = floor_of(floor)
        return None if f is None else row.seconds <= factor * f.seconds

    return Budget(f"≤ {factor:g} × {floor}", check, floor)


def faster(floor: str, factor: float) -> Budget:
    def check(row: Row, floor_of: Floor) -> bool | None:
        f = floor_of(floor)
        return None if f is None else f.seconds >= factor * row.seconds

    return Budget(f"≥ {factor:g}× faster than {floor}", check, floor)


def seconds(limit: float) -> Budget:
    return Budget(f"≤ {limit:g} s", lambda row, _: row.seconds <= limit)


def peak(limit_mib: float) -> Budget:
    return Budget(f"peak ≤ {limit_mib / 1024:g} GiB", lambda row, _: row.peak_mib <= limit_mib)


@dataclass
class Case:
    """One line of the table."""

    name: str
    command: Command
    setup: Setup | None = None
    budget: tuple[Budget, ...] = ()
    workload: str = "base"  # "base" (10,000 opportunities) or "large" (100,000)
    warmup: bool = False  # one untimed run first (with its setup): page cache, crm's cache
    repeat: int = 3  # best of
    # a command that measures figures of its own (the TUI's, timed inside one process):
    # the rows it reports, each with its budgets, instead of the command's own row
    figures: Callable[[Workload, Row], list[tuple[Row, tuple[Budget, ...]]]] | None = None


def run_case(case: Case, w: Workload, repeat: int | None = None, warmup: bool = True) -> Row:
    if warmup and case.warmup:
        if case.setup:
            case.setup(w)
        measure(case.command(w), w.root)
    samples: list[Sample] = []
    for _ in range(repeat or case.repeat):
        if case.setup:
            case.setup(w)
        samples.append(measure(case.command(w), w.root))
        if samples[-1].status or samples[-1].seconds > SLOW:
            break
    best = min(samples, key=lambda s: (s.status != 0, s.seconds))
    return Row(
        workload=w.label,
        name=case.name,
        seconds=best.seconds,
        cpu=best.cpu,
        peak_mib=max(s.peak_mib for s in samples),
        status=best.status,
        samples=[round(s.seconds, 4) for s in samples],
        output=best.output,
    )


def judge(row: Row, case: Case, floor_of: Floor) -> None:
    """Each budget's verdict in ``row.budget``; the row's in ``row.verdict``: PASS when
    all are met, FAIL when one is not, ERROR when the command failed."""
    if not case.budget:
        return
    verdicts = [None if row.status else b.check(row, floor_of) for b in case.budget]
    words = {True: "PASS", False: "FAIL", None: "n/a"}
    row.budget = "; ".join(
        f"{b.text}: {words[v]}" for b, v in zip(case.budget, verdicts, strict=True)
    )
    if row.status:
        row.verdict = "ERROR"
    elif False in verdicts:
        row.verdict = "FAIL"
    else:
        row.verdict = "n/a" if None in verdicts else "PASS"


# --- the table ------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    def floor(row: Row, name: str) -> Row | None:
        return next((r for r in rows if r.workload == row.workload and r.name == name), None)

    head = ("workload", "operation", "s", "cpu s", "peak MiB", "/F-read", "/F-libyaml",
            "speed-up vs c-j", "budget")  # fmt: skip
    body: list[tuple[str, ...]] = []
    for row in rows:
        read, libyaml, cj = (floor(row, n) for n in FLOORS)
        body.append(
            (
                row.workload,
                row.name if not row.status else f"{row.name} (exit {row.status})",
                f"{row.seconds:.3f}",
                f"{row.cpu:.2f}",
                f"{row.peak_mib:.0f}",
                f"{row.seconds / read.seconds:.2f}" if read else "",
                f"{row.seconds / libyaml.seconds:.2f}" if libyaml else "",
                f"{cj.seconds / row.seconds:.1f}×" if cj else "",
                row.budget,
            )
        )
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    right = {2, 3, 4, 5, 6, 7}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    rule = "  ".join("-" * n for n in widths)
    return "\n".join([line(head), rule, *map(line, body)])
