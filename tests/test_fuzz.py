"""Fuzzing, the short run: mutated example files and random bytes, never a traceback or
a hang.

The inputs and the properties are bench/fuzzing.py's (its docstring lists them); `make
fuzz` runs the same for minutes with fresh inputs.  Here a few hundred derandomized
inputs, so CI sees the same cases every time:

- the loader and both YAML parsers on one file's bytes (every example-repo file and
  crm.yaml: mutated, random bytes, random YAML punctuation);
- ``check()`` of a whole repository (a copy of example-repo/, committed) with one
  file replaced;
- ``crm validate --format json`` as a process on such a repository.

Each input is bounded in time; the run as a whole takes about 15 s.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
import fuzzing  # noqa: E402  (bench/ is no package)

SHORT = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def example_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield fuzzing.make_repo(tmp_path_factory.mktemp("fuzz") / "crm")


@SHORT
@given(case=fuzzing.inputs())
@example(case=fuzzing.Input("partners/logimax.yaml", b"name: " + b"9" * 4301 + b"\n", "regression"))
@example(case=fuzzing.Input("catalogs/tags.yaml", b"- id: a\n...\n- id: b\n", "regression"))
@example(case=fuzzing.Input("crm.yaml", b"version: 1\n: x\n", "regression"))
def test_the_loader_and_both_parsers_on_mutated_files(case: fuzzing.Input) -> None:
    fuzzing.check_file(case)


@settings(SHORT, max_examples=40)
@given(case=fuzzing.inputs(fuzzing.REPO_PATHS))
def test_check_of_a_repository_with_one_mutated_file(
    example_repo: Path, case: fuzzing.Input
) -> None:
    fuzzing.check_repo(example_repo, case)


@settings(SHORT, max_examples=5)
@given(case=fuzzing.inputs(fuzzing.REPO_PATHS))
@example(case=fuzzing.Input("partners/logimax.yaml", b"name: " + b"9" * 4301 + b"\n", "regression"))
def test_crm_validate_on_a_repository_with_one_mutated_file(
    example_repo: Path, case: fuzzing.Input
) -> None:
    fuzzing.check_cli(example_repo, case)


def test_the_example_repository_is_put_back_after_each_input(example_repo: Path) -> None:
    """Each input is written over one file and the file restored: the next input meets
    the example repository again, clean."""
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=example_repo, capture_output=True, text=True
    )
    assert status.stdout == ""
    fuzzing.check_cli(example_repo, fuzzing.Input("crm.yaml", fuzzing.SEEDS["crm.yaml"], "same"))


def test_a_hang_is_an_error_not_a_wait() -> None:
    with pytest.raises(fuzzing.Hang), fuzzing.bounded(0.2):
        while True:
            pass


def test_make_fuzz_runs_for_its_budget_and_counts_its_inputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "fuzz.py"),
            "--seconds",
            "2",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"fuzzing for 2 s (seed 1); failures go to {out}/"
    assert lines[-2].startswith("tried ") and " file" in lines[-2]
    assert int(lines[-2].split()[1].replace(",", "")) > 0
    assert lines[-1] == "no failure"
    assert not list(out.glob("failure-*"))


def test_a_saved_input_replays(tmp_path: Path) -> None:
    data = tmp_path / "failure-1.bin"
    data.write_bytes(b"id: logimax\nname: [\n")
    note = tmp_path / "failure-1.txt"
    note.write_text(
        f"property: cli\npath: partners/logimax.yaml\nmutations: by hand\ninput: {data}\n"
        "replay: -\n\nTraceback: none\n"
    )
    proc = subprocess.run(
        [sys.executable, str(BENCH / "fuzz.py"), "--replay", str(note)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [
        "replaying cli on partners/logimax.yaml (20 bytes): by hand",
        "no failure: it passes now",
    ]
