"""Fuzz the loader, the validator and `crm validate` for a bounded time (`make fuzz`).

    python bench/fuzz.py --seconds 300          fuzz for five minutes (FUZZ_SECONDS)
    python bench/fuzz.py --seed 7               another sequence of inputs
    python bench/fuzz.py --replay FILE.txt      run one saved failure again

The inputs and properties are bench/fuzzing.py's, the ones tests/test_fuzz.py runs a
few hundred of in the suite.  Here hypothesis draws fresh inputs for as long as the
budget lasts, in rounds: the loader and both parsers on one file, ``check()`` of a
repository with one file replaced, and ``crm validate --format json`` as a process.
Every input is bounded in time (an alarm in the worker); a worker that stops
answering (a loop inside C, where no alarm reaches) or dies (a crash) is seen by the
parent process, which keeps the input it was working on.

A failure is shrunk by hypothesis and written to ``--out`` (bench/work/fuzz/): the
bytes as ``failure-N.bin`` and, in ``failure-N.txt``, the path they were written to,
the mutations, the traceback and the command that replays it.  Exit status: 0 when
nothing failed, 1 when something did.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "work" / "fuzz"
HANG_SECONDS = 120  # the parent's bound on one input (each property has its own below)


def worker(seconds: float, out: Path, seed: int, tmp: Path) -> int:
    """Fuzz until ``seconds`` have passed; a failure is written to ``out``."""
    import fuzzing

    end = time.monotonic() + seconds
    return _fuzz(fuzzing, fuzzing.make_repo(tmp / "crm"), end, out, seed)


def _fuzz(fuzzing: Any, repo: Path, end: float, out: Path, seed: int) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    tried = {"file": 0, "repo": 0, "cli": 0}
    failures: list[str] = []
    seen: set[str] = set()
    last: dict[str, Any] = {}

    def run(kind: str, prop: Callable[[fuzzing.Input], None]) -> Callable[[fuzzing.Input], None]:
        def body(case: fuzzing.Input) -> None:
            if time.monotonic() > end:
                return  # the budget is spent: let the round finish quickly
            _current(out, kind, case)
            faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
            try:
                tried[kind] += 1
                prop(case)
            except BaseException:
                last.update(case=case, kind=kind, error=traceback.format_exc())
                raise
            finally:
                faulthandler.cancel_dump_traceback_later()

        return body

    rounds = [
        ("file", 200, fuzzing.inputs(), fuzzing.check_file),
        ("repo", 20, fuzzing.inputs(fuzzing.REPO_PATHS), lambda c: fuzzing.check_repo(repo, c)),
        ("cli", 3, fuzzing.inputs(fuzzing.REPO_PATHS), lambda c: fuzzing.check_cli(repo, c)),
    ]
    n = 0
    while time.monotonic() < end and len(failures) < 10:
        kind, examples, strategy, prop = rounds[n % len(rounds)]
        test = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )(hypothesis_seed(seed * 1_000_003 + n)(given(case=strategy)(run(kind, prop))))
        n += 1
        last.clear()
        try:
            test()
        except Exception:
            if not last:
                raise  # hypothesis itself failed: not an input's fault
            key = _signature(last["error"])
            if key not in seen:
                seen.add(key)
                name = f"failure-{seed}-{len(failures) + 1}"
                failures.append(_save(out, name, last["case"], kind, last["error"]))
        _stats(out, tried, failures, done=False)
    _stats(out, tried, failures, done=True)
    return 1 if failures else 0


def _current(out: Path, kind: str, case: Any) -> None:
    """The input about to run, for the parent should the worker never come back
    (written whole or not at all: a kill may come at any moment)."""
    meta = {"kind": kind, "path": case.path, "how": case.how, "data": case.data.hex()}
    (out / "current.tmp").write_text(json.dumps(meta))
    os.replace(out / "current.tmp", out / "current.json")


def _signature(error: str) -> str:
    """A failure's kind: the exception's last line's type and the innermost frame."""
    frames = [line for line in error.splitlines() if line.strip().startswith('File "')]
    return (frames[-1].strip() if frames else "") + " " + error.strip().splitlines()[-1][:80]


def _save(out: Path, name: str, case: Any, kind: str, error: str) -> str:
    data = out / f"{name}.bin"
    data.write_bytes(case.data)
    note = out / f"{name}.txt"
    note.write_text(
        f"property: {kind}\npath: {case.path}\nmutations: {case.how}\ninput: {data}\n"
        f"replay: {sys.executable} bench/fuzz.py --replay {note}\n\n{error}"
    )
    return str(note)


def _stats(out: Path, tried: dict[str, int], failures: list[str], done: bool) -> None:
    (out / "stats.json").write_text(
        json.dumps({"tried": tried, "failures": failures, "done": done})
    )


def replay(note: Path) -> int:
    """Run a saved failure's property on its input again."""
    import fuzzing

    fields = dict(line.split(": ", 1) for line in note.read_text().split("\n\n", 1)[0].splitlines())
    case = fuzzing.Input(fields["path"], Path(fields["input"]).read_bytes(), fields["mutations"])
    kind = fields["property"]
    print(f"replaying {kind} on {case.path} ({len(case.data)} bytes): {case.how}")
    try:
        if kind in ("file", "hang"):
            fuzzing.check_file(case)
        if kind in ("repo", "hang"):
            with tempfile.TemporaryDirectory() as tmp:
                fuzzing.check_repo(fuzzing.make_repo(Path(tmp) / "crm"), case)
        if kind in ("cli", "hang"):
            with tempfile.TemporaryDirectory() as tmp:
                fuzzing.check_cli(fuzzing.make_repo(Path(tmp) / "crm"), case)
    except Exception:
        traceback.print_exc()
        return 1
    print("no failure: it passes now")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="the time budget")
    parser.add_argument("--seed", type=int, default=None, help="default: from the clock")
    parser.add_argument("--out", type=Path, default=OUT, help="where failures are written")
    parser.add_argument("--replay", type=Path, metavar="FILE", help="a failure-N.txt to replay")
    parser.add_argument("--worker", type=Path, metavar="TMP", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        return worker(args.seconds, args.out, args.seed, args.worker)
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    print(f"fuzzing for {args.seconds:g} s (seed {seed}); failures go to {args.out}/", flush=True)
    for old in args.out.glob("failure-*"):
        old.unlink()
    start = time.monotonic()
    tried: dict[str, int] = {}
    failures: list[str] = []
    while (left := args.seconds - (time.monotonic() - start)) > 1 and len(failures) < 10:
        code, stats = _spawn(args.out, left, seed)
        for kind, count in stats.get("tried", {}).items():
            tried[kind] = tried.get(kind, 0) + count
        failures += stats.get("failures", [])
        if stats.get("done"):
            break
        failures.append(_died(args.out, seed, code))
        seed += 1  # the next worker goes on with other inputs
    total = sum(tried.values())
    print(
        f"tried {total:,} inputs in {time.monotonic() - start:.0f} s: "
        + ", ".join(f"{count:,} {kind}" for kind, count in tried.items())
    )
    for note in failures:
        print(f"FAILURE: {note}\n" + "".join(f"  {line}\n" for line in _summary(Path(note))))
    print(f"{len(failures)} failure(s)" if failures else "no failure")
    return 1 if failures else 0


def _spawn(out: Path, seconds: float, seed: int) -> tuple[int, dict[str, Any]]:
    for name in ("stats.json", "current.json"):
        (out / name).unlink(missing_ok=True)
    argv = [sys.executable, __file__, "--out", str(out), "--seed", str(seed)]
    with tempfile.TemporaryDirectory(prefix="crm-fuzz-") as tmp:  # removed even after a kill
        try:
            code = subprocess.run(
                [*argv, "--worker", tmp, "--seconds", str(seconds)],
                check=False,
                timeout=seconds + HANG_SECONDS + 60,
            ).returncode
        except subprocess.TimeoutExpired:  # run() has killed it
            code = -9
    try:
        return code, json.loads((out / "stats.json").read_text())
    except (OSError, ValueError):
        return code, {}


def _died(out: Path, seed: int, code: int) -> str:
    """The worker stopped answering or crashed: keep the input it was working on."""
    try:
        meta = json.loads((out / "current.json").read_text())
    except OSError:
        meta = {"kind": "none", "path": "-", "how": "before the first input", "data": ""}
    data = out / f"failure-{seed}-died.bin"
    data.write_bytes(bytes.fromhex(meta["data"]))
    note = out / f"failure-{seed}-died.txt"
    why = f"no answer in {HANG_SECONDS} s" if code == 1 else f"the worker died (status {code})"
    note.write_text(
        f"property: hang\npath: {meta['path']}\nmutations: {meta['how']}\ninput: {data}\n"
        f"replay: {sys.executable} bench/fuzz.py --replay {note}\n\n"
        f"{why} during the {meta['kind']} property (the worker's stderr has its stack)\n"
    )
    return str(note)


def _summary(note: Path) -> list[str]:
    head, _, error = note.read_text().partition("\n\n")
    lines = error.strip().splitlines()
    return [*head.splitlines()[:3], *(lines[-1:] if lines else [])]


if __name__ == "__main__":
    sys.exit(main())
