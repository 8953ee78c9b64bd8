"""The TUI's budgets (docs/performance.md), measured headless with Textual's ``run_test``:

    python bench/tui_bench.py                    10,000 opportunities (generated once)
    python bench/tui_bench.py --repo DIR         an existing CRM repository
    python bench/tui_bench.py --opportunities N  another size

- **first screen**: from creating the app to the opportunities list drawn with its
  rows and totals (the records read on a worker; Textual's own start included);
- **keystroke in search**: a key typed in the search box, until the screen has
  taken it (what the typist feels), and the refiltering of the list that follows
  once typing pauses (what the list costs: filter, totals, redraw); the **first
  search** is the first refiltering, typed a second after the list appears (the
  rows' search text is made meanwhile, between frames);
- **open a record**: Enter on the list until the record screen is drawn, the first
  time (the screen is built) and again (the screen is reused for the next record).

Keys are delivered as the terminal driver delivers them and timed until the frame
that shows their effect (not through the test Pilot, whose waits add ~50 ms a key).

Each figure is the median of several runs, each run a process of its own (as a person
starts the TUI; its peak memory is reported too), next to the floor it cannot beat:
reading the records (``TuiSnapshot.load``) for the first screen.  Budgets: 1.5 s / 100 ms / 200 ms.
``bench/run.py --large`` runs this on its 100,000-opportunity workload (``--json``) and
puts the figures in its table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUDGETS = {
    "first screen": 1.5,
    "keystroke": 0.100,
    "first search": 0.100,
    "refilter": 0.100,
    "open record": 0.200,
    "open again": 0.200,
}
SIZE = (160, 45)
LOOK = 1.0  # seconds between the list drawn and the first key


def generated(count: int) -> Path:
    """A repository from bench/generate.py, kept between runs in the temp folder."""
    root = Path(tempfile.gettempdir()) / f"crmfiles-tui-bench-{count}"
    if not (root / "crm.yaml").exists():
        commits = max(count // 5, 100)
        print(f"generating {count:,} opportunities and {commits:,} commits in {root} ...")
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                str(root),
                "--opportunities",
                str(count),
                "--commits",
                str(commits),
            ],
            check=True,
        )
    return root


async def _until(pilot: object, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Sleep in small steps until ``done()``; the app runs meanwhile (the same event
    loop), and nothing here spins it harder than a user's terminal would."""
    end = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("the TUI did not get there")
        await asyncio.sleep(0.005)


async def _frame(app: object) -> None:
    """Until the screen has been drawn again."""
    drawn = asyncio.Event()
    app.screen.call_after_refresh(drawn.set)  # type: ignore[attr-defined]
    await drawn.wait()


async def _key(app: object, key: str, done: Callable[[], bool]) -> float:
    """Seconds from a key reaching the app (as the terminal driver delivers it; no
    test-harness waits) until ``done()`` and the frame that shows it."""
    from textual import events

    start = time.perf_counter()
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)  # type: ignore[arg-type]
    app._driver.send_message(event)  # type: ignore[attr-defined]
    await _until(None, done)
    await _frame(app)
    return time.perf_counter() - start


async def one_run(root: Path, word: str) -> dict[str, float]:
    from crmfiles.tui.app import CrmApp
    from crmfiles.tui.screens.opportunities import SEARCH_DELAY, OpportunitiesScreen
    from crmfiles.tui.screens.record import RecordScreen
    from crmfiles.tui.widgets.table import RecordTable

    out: dict[str, float] = {}
    start = time.perf_counter()
    app = CrmApp(root, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:

        def listed() -> bool:
            screen = app.screen
            if not isinstance(screen, OpportunitiesScreen):
                return False
            table = screen.query_one("#list", RecordTable)
            return table.row_count > 0 and not table.loading

        await _until(pilot, listed)
        await _frame(app)  # the frame that shows them
        out["first screen"] = time.perf_counter() - start
        screen = app.screen
        assert isinstance(screen, OpportunitiesScreen)
        table = screen.query_one("#list", RecordTable)
        rows_before = table.row_count

        await asyncio.sleep(LOOK)  # a person looks at the list before typing
        await pilot.press("slash")
        search = screen.query_one("#search")
        keys, refilters = [], []
        typed = ""
        for ch in word:
            typed += ch
            keys.append(await _key(app, ch, lambda t=typed: search.value == t))  # type: ignore[attr-defined]
            # the list refilters once typing pauses; time that work on its own
            await asyncio.sleep(SEARCH_DELAY * 1.5)
            t = time.perf_counter()
            screen._apply_search(typed)
            await _frame(app)
            refilters.append(time.perf_counter() - t)
        out["keystroke"] = statistics.median(keys)
        out["first search"] = refilters[0]
        out["refilter"] = statistics.median(refilters)
        out["rows"] = rows_before
        out["matches"] = table.row_count
        for _ in word:
            await pilot.press("backspace")
        await pilot.press("enter")
        await asyncio.sleep(SEARCH_DELAY * 2)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()  # history, other folders: all read

        out["open record"] = await _key(app, "enter", lambda: isinstance(app.screen, RecordScreen))
        await pilot.press("escape")
        await pilot.pause()
        table.action_cursor(1)
        out["open again"] = await _key(app, "enter", lambda: isinstance(app.screen, RecordScreen))
    return out


def floor(root: Path) -> float:
    from crmfiles.tui.data import TuiSnapshot

    t = time.perf_counter()
    TuiSnapshot.load(root)
    return time.perf_counter() - t


def in_a_process(root: Path, word: str) -> tuple[dict[str, float], float]:
    """One run in a process of its own, as a person starts the TUI: its figures and
    its peak resident set (MiB, ``ru_maxrss`` from ``os.wait4``)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        argv = [sys.executable, __file__, "--repo", str(root), "--word", word]
        child = subprocess.Popen([*argv, "--one-run", str(out)])  # (this environment)
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) or not out.exists():
            raise SystemExit(f"tui_bench: a run failed (exit {os.waitstatus_to_exitcode(status)})")
        return json.loads(out.read_text()), usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, help="an existing CRM repository")
    parser.add_argument("--opportunities", "-n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--word", default="meta", help="what to type in the search box")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the figures")
    parser.add_argument("--one-run", type=Path, help=argparse.SUPPRESS)  # (a child's)
    args = parser.parse_args(argv)
    os.environ["CRM_PROGRESS"] = "0"
    try:  # crmfiles as installed, or as PYTHONPATH names it (bench/run.py --rev)
        import crmfiles
    except ImportError:
        sys.path.insert(0, str(HERE.parent / "src"))
    root = args.repo or generated(args.opportunities)
    import crmfiles.tui.app  # noqa: F401 - imports are not what the budgets measure

    if args.one_run:
        args.one_run.write_text(json.dumps(asyncio.run(one_run(root, args.word))))
        return 0

    floor(root)  # warm the file cache, as a second start of the TUI would find it
    floors = [floor(root) for _ in range(args.runs)]
    runs, peaks = [], []
    for _ in range(args.runs):
        run, peak_mib = in_a_process(root, args.word)
        runs.append(run)
        peaks.append(peak_mib)
    print(f"TUI with {int(runs[0]['rows']):,} opportunities listed ({root})")
    print(f"  floor: reading the records (TuiSnapshot.load)  {statistics.median(floors):7.3f} s")
    print(f"  peak memory of a session                    {max(peaks):7.0f} MiB")
    failed = False
    for name, budget in BUDGETS.items():
        value = statistics.median(r[name] for r in runs)
        ok = value <= budget
        failed |= not ok
        unit = f"{value:7.3f} s" if budget >= 1 else f"{value * 1000:7.1f} ms"
        limit = f"{budget:.1f} s" if budget >= 1 else f"{budget * 1000:.0f} ms"
        print(f"  {name:<14} {unit}   budget {limit:<7} {'ok' if ok else 'OVER'}")
    print(f"  (search '{args.word}': {int(runs[0]['matches']):,} rows after the last key)")
    if args.json:
        figures = {name: statistics.median(r[name] for r in runs) for name in BUDGETS}
        samples = {name: [round(r[name], 4) for r in runs] for name in BUDGETS}
        saved = {
            "rows": int(runs[0]["rows"]),
            "matches": int(runs[0]["matches"]),
            "floor": statistics.median(floors),
            "peak_mib": max(peaks),
            "figures": figures,
            "samples": samples,
        }
        args.json.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
