"""`crm move` against `git add` + `git commit`, in pairs, on the 100,000 workload.

`run.py` keeps the best of three of each; on a shared 2-core machine three runs say
little about a ratio near 1.  This runs N pairs one after the other (the floor's
one-line change, then a move of a different opportunity to its next stage), pauses
between them so that a detached cache writer is done, and prints every pair, the
medians and how many moves were faster:

    python bench/move_pairs.py [--pairs 10] [--work bench/work]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import environment
from run import COMMITS, tool
from workloads import BENCH, prepare


def timed(argv: list[str], cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=environment(), capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr.decode()[-800:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--work", type=Path, default=BENCH / "work", help="generated repos")
    args = parser.parse_args()
    w = prepare("100k", args.work, 100_000, COMMITS)
    root = str(w.root)
    floors, moves = [], []
    for _ in range(args.pairs):
        _, path = w.editor.next()
        floors.append(
            timed(["git", "add", "--", path], root)
            + timed(["git", "commit", "-q", "-m", "bench: one change"], root)
        )
        time.sleep(1.5)
        record, stage = w.mover.next()
        moves.append(timed([*tool("crm"), "move", record, stage, "--repo", root], root))
        time.sleep(1.5)
    w.editor.restore()
    print(f"load {os.getloadavg()[0]:.2f}")
    for n, (floor, move) in enumerate(zip(floors, moves, strict=True), 1):
        ratio = move / floor
        print(f"pair {n:2}: git add + commit {floor:.3f} s, crm move {move:.3f} s, {ratio:.2f}×")
    faster = sum(m < f for f, m in zip(floors, moves, strict=True))
    floor, move = statistics.median(floors), statistics.median(moves)
    print(
        f"median: git add + commit {floor:.3f} s, crm move {move:.3f} s ({move / floor:.2f}×); "
        f"the move faster in {faster} of {len(moves)} pairs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
