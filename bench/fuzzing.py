"""Fuzzing's inputs and properties, shared by ``tests/test_fuzz.py`` (a short,
derandomized run inside the suite) and ``bench/fuzz.py`` (``make fuzz``: a long run
with a time budget).

Inputs (:func:`inputs`): an ``example-repo/`` file with one to four mutations (bits
flipped, bytes cut or dropped, lines doubled, dropped, swapped or re-indented, YAML
syntax inserted, deep nesting, huge numbers, unicode, NUL, CRLF, a BOM, tabs, a piece
of another file), or random bytes, or random text in YAML's punctuation.

Properties, each bounded in time (:func:`bounded`):

- :func:`check_file`: the loader turns the bytes into findings, never an exception,
  and every finding gets a line and column >= 1; the fast parser and the reference
  parser read the text alike (the same data, or both a ParseError with a position
  that is None or >= 1); crm.yaml's reader raises nothing but CrmError.
- :func:`check_repo`: ``check(WorkTree(root))`` of a repository with the file
  replaced returns diagnostics, each with a path, a rule, a message, a line and a
  column >= 1.
- :func:`check_cli`: ``crm validate --format json`` exits 0 or 1, writes nothing to
  stderr, and prints JSON whose every diagnostic has a path, a line >= 1, a column
  >= 1 and a rule.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from crmfiles.check import check, locate_all
from crmfiles.config import parse_config
from crmfiles.errors import CrmError
from crmfiles.records import classify
from crmfiles.records.sources import RawFile
from crmfiles.records.worktree import WorkTree
from crmfiles.records.yamlio import ParseError, parse, parse_reference
from crmfiles.rules.files import load_file
from crmfiles.rules.registry import RULES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example-repo"
SEEDS: dict[str, bytes] = {
    path: (EXAMPLE / path).read_bytes()
    for path in sorted(p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*.yaml"))
    if classify(path) is not None  # crm.yaml, catalogs and records: what crm reads
}
# what check() and `crm validate` read beside records: a wrong crm.yaml is exit 2
REPO_PATHS = sorted(p for p in SEEDS if p != "crm.yaml")
# rules a finding may carry besides the registry's (none today: keep it that way)
KNOWN_RULES = frozenset(RULES)

SNIPPETS = [
    "&a ", "*a", "&a [x, x, x]\n", "<<: *a\n", "!!python/object:os.system ", "!!set ",
    "!!binary ", "!!str ", "!!int ", "!local ", "!<tag:x> ", "{", "}", "[", "]", ",", "---\n",
    "...\n", "? ", ": ", ":", "- ", "|", "|-\n", ">+\n", "#", "'", '"', "\\", '"\\u0000"',
    '"\\ud800"', '"\\x1b[31m"', "%YAML 1.2\n", "%TAG ! tag:x,2000:\n", "@", "`", "~", "null",
    "yes", "on", "1e999999", "-.inf", ".nan", "0x", "0o8", "1_000", "0b101",
    "12345678901234567890123", "2026-02-30", "é", "日本", "🚜", "\u2028", "\u200b", "\t",
    "\r", "\r\n", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\ufeff", "\ufffe",
    "<<<<<<< HEAD\n", "=======\n", ">>>>>>> theirs\n", "id: ", "name: ", "stage: ",
    "amount: ", "partner: ", "- id: x\n", "\n", "  ", "{a: 1, a: 2}", "[*a, *a]",
]  # fmt: skip
BYTE_SNIPPETS = [b"\xff", b"\xc3", b"\xe2\x80", b"\xef\xbb\xbf", b"\xfe\xff", b"\x00\x00"]


# --- inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    path: str  # where the bytes go in the repository
    data: bytes
    how: str  # the mutations, for a reader of a failure

    def __repr__(self) -> str:
        return f"Input(path={self.path!r}, how={self.how!r}, data={self.data[:300]!r}...)"


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _nest(kind: str, depth: int) -> bytes:
    if kind == "flow":
        return b"[" * depth + b"x" + b"]" * depth
    if kind == "flow-map":
        return b"{a: " * depth + b"1" + b"}" * depth
    if kind == "block":
        return b"\n  " + b"- " * depth + b"x\n"
    return b"\n" + b"".join(b" " * (n + 1) + b"k:\n" for n in range(depth))


Mutation = Callable[[bytes], bytes]


def _at(position: int, data: bytes) -> int:
    return position % (len(data) + 1)


def _line_start(position: int, data: bytes) -> int:
    starts = [0, *(i + 1 for i, b in enumerate(data) if b == 0x0A)]
    return starts[position % len(starts)]


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, Mutation]:
    """One change to a file's bytes, and its name."""
    where = draw(st.integers(0, 2**20))
    kind = draw(
        st.sampled_from(
            [
                "insert", "insert-at-line", "flip", "set-byte", "delete", "truncate",
                "drop-line", "double-line", "swap-lines", "indent", "dedent", "nest",
                "huge-number", "crlf", "bom", "tabs", "splice", "value",
            ]
        )
    )  # fmt: skip
    if kind in ("insert", "insert-at-line"):
        snippet = draw(st.sampled_from(SNIPPETS).map(str.encode) | st.sampled_from(BYTE_SNIPPETS))
        locate = _line_start if kind == "insert-at-line" else _at

        def insert(d: bytes) -> bytes:
            at = locate(where, d)
            return d[:at] + snippet + d[at:]

        return f"{kind} {snippet!r} @{where}", insert
    if kind == "flip":
        bit = draw(st.integers(0, 7))
        return f"flip bit {bit} @{where}", lambda d: _set(d, where, lambda b: b ^ (1 << bit))
    if kind == "set-byte":
        value = draw(st.integers(0, 255))
        return f"set byte {value:#x} @{where}", lambda d: _set(d, where, lambda _: value)
    if kind == "delete":
        size = draw(st.integers(1, 64))
        return f"delete {size} @{where}", lambda d: d[: _at(where, d)] + d[_at(where, d) + size :]
    if kind == "truncate":
        return f"truncate @{where}", lambda d: d[: _at(where, d)]
    if kind in ("drop-line", "double-line", "swap-lines", "indent", "dedent"):
        return f"{kind} @{where}", lambda d: _line_edit(kind, where, d)
    if kind == "nest":
        shape = draw(st.sampled_from(["flow", "flow-map", "block", "mapping"]))
        depth = draw(st.sampled_from([2, 63, 64, 65, 300, 3000, 100_000]))
        if shape == "mapping":
            depth = min(depth, 1000)  # its text grows with the square of the depth
        nested = _nest(shape, depth)
        return f"nest {shape} {depth} @{where}", lambda d: _replace_value(d, where, nested)
    if kind == "huge-number":
        digits = draw(
            st.sampled_from(["9" * 5000, "9" * 4300, "-1" + "0" * 400, "0x" + "f" * 3600])
        )
        number = draw(st.sampled_from([digits, "1e999999", "-.5e-99999"])).encode()
        return f"huge number @{where}", lambda d: _replace_value(d, where, number)
    if kind == "crlf":
        return "crlf", lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "bom":
        return "bom", lambda d: b"\xef\xbb\xbf" + d
    if kind == "tabs":
        return f"tabs @{where}", lambda d: _line_edit("tabs", where, d)
    if kind == "splice":
        other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
        size = draw(st.integers(1, 200))
        piece = other[_at(where, other) : _at(where, other) + size]
        return f"splice {piece!r}", lambda d: d[: _at(where, d)] + piece + d[_at(where, d) :]
    value = draw(st.sampled_from(SNIPPETS)).encode()
    return f"value {value!r} @{where}", lambda d: _replace_value(d, where, value)


def _set(data: bytes, position: int, change: Callable[[int], int]) -> bytes:
    if not data:
        return data
    at = position % len(data)
    return data[:at] + bytes([change(data[at])]) + data[at + 1 :]


def _line_edit(kind: str, position: int, data: bytes) -> bytes:
    lines = _lines(data)
    n = position % len(lines)
    if kind == "drop-line":
        del lines[n]
    elif kind == "double-line":
        lines.insert(n, lines[n])
    elif kind == "swap-lines":
        m = (n + 1) % len(lines)
        lines[n], lines[m] = lines[m], lines[n]
    elif kind == "indent":
        lines[n] = b"  " + lines[n]
    elif kind == "dedent":
        lines[n] = lines[n][min(2, len(lines[n]) - len(lines[n].lstrip(b" "))) :]
    else:  # tabs: this line's indentation in tabs
        stripped = lines[n].lstrip(b" ")
        lines[n] = b"\t" * ((len(lines[n]) - len(stripped) + 1) // 2) + stripped
    return b"".join(lines)


def _replace_value(data: bytes, position: int, value: bytes) -> bytes:
    """``value`` in place of what follows the first ``: `` of a line (or appended)."""
    lines = _lines(data)
    n = position % len(lines)
    head, colon, _ = lines[n].partition(b": ")
    ending = b"\n" if lines[n].endswith(b"\n") else b""
    lines[n] = (head + colon + value + ending) if colon else lines[n] + b"x: " + value + b"\n"
    return b"".join(lines)


@st.composite
def mutated(draw: st.DrawFn, paths: list[str] | None = None) -> Input:
    """An example-repo file (one of ``paths``) with one to four mutations."""
    path = draw(st.sampled_from(paths or sorted(SEEDS)))
    data = SEEDS[path]
    names = []
    for name, change in draw(st.lists(mutation(), min_size=1, max_size=4)):
        data = change(data)
        names.append(name)
    return Input(path, data, "; ".join(names))


YAML_ALPHABET = [*":-[]{}&*!|>'\"#?,%@`~.\\ \t\r\n", "a", "1", "é", "\x00", "\ufeff"]


def raw(paths: list[str] | None = None) -> st.SearchStrategy[Input]:
    """Random bytes, or random text in YAML's punctuation, at an example-repo path."""
    path = st.sampled_from(paths or sorted(SEEDS))
    text = st.text(st.sampled_from(YAML_ALPHABET), max_size=200).map(str.encode)
    return st.builds(Input, path, st.binary(max_size=400) | text, st.just("random"))


def inputs(paths: list[str] | None = None) -> st.SearchStrategy[Input]:
    return mutated(paths) | raw(paths)


# --- properties --------------------------------------------------------------------


class Hang(Exception):
    """An input took longer than its bound."""


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread when the block takes over ``seconds``
    (a long computation inside C returns first: bench/fuzz.py's parent process also
    watches from outside)."""

    def expire(_signum: int, _frame: Any) -> None:
        raise Hang(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its type: 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return ("map", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(read: Callable[[str], Any], text: str) -> Any:
    try:
        return typed(read(text))
    except ParseError as err:
        assert err.message, text
        assert err.line is None or err.line >= 1, (err.line, text)
        assert err.column is None or err.column >= 1, (err.column, text)
        return "ParseError"


def check_file(case: Input, seconds: float = 10) -> None:
    """The loader and both parsers on the bytes alone."""
    with bounded(seconds):
        if case.path == "crm.yaml":
            try:
                parse_config(case.data)
            except CrmError as err:
                assert str(err), case
            return
        place = classify(case.path)
        assert place is not None, case.path
        loaded = load_file(RawFile(case.path, None, case.data), place)
        for finding in locate_all(loaded.findings, {case.path: loaded.text}):
            assert finding.rule in KNOWN_RULES, finding
            assert finding.message, finding
            assert finding.line is not None and finding.line >= 1, finding
            assert finding.column is not None and finding.column >= 1, finding
        if loaded.text is not None:
            fast = outcome(parse, loaded.text)
            assert fast == outcome(parse_reference, loaded.text), loaded.text[:2000]


def check_repo(root: Path, case: Input, seconds: float = 20) -> None:
    """``check()`` of ``root`` with ``case`` written over its file (put back after)."""
    with written(root, case), bounded(seconds):
        report = check(WorkTree(root))
    for d in report.diagnostics:
        assert d.path and d.rule in KNOWN_RULES and d.message, d
        assert d.line >= 1 and d.column >= 1, d


def check_cli(root: Path, case: Input, seconds: float = 60) -> None:
    """``crm validate --format json`` as a process on ``root`` with ``case`` written."""
    with written(root, case):
        proc = subprocess.run(
            [sys.executable, "-m", "crmfiles", "validate", "--format", "json"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=seconds,
        )
    assert proc.stderr == "", proc.stderr
    assert proc.returncode in (0, 1), proc.returncode
    report = json.loads(proc.stdout)
    assert (proc.returncode == 1) == (report["summary"]["errors"] > 0), report["summary"]
    for d in report["diagnostics"]:
        assert isinstance(d["path"], str) and d["path"], d
        assert isinstance(d["rule"], str) and d["rule"] in KNOWN_RULES, d
        assert isinstance(d["line"], int) and d["line"] >= 1, d
        assert isinstance(d["column"], int) and d["column"] >= 1, d


@contextmanager
def written(root: Path, case: Input) -> Iterator[None]:
    target = root / case.path
    before = target.read_bytes()
    target.write_bytes(case.data)
    try:
        yield
    finally:
        target.write_bytes(before)


def make_repo(root: Path) -> Path:
    """A git repository holding example-repo/, committed."""
    shutil.copytree(EXAMPLE, root)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ["-c", "user.name=Fuzz", "-c", "user.email=fuzz@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*identity, "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)
    return root
