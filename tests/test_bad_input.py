"""Hostile and malformed input: every case is a diagnostic, never a crash.

Each case puts one bad file into a valid repository beside a second, ordinary
broken file (``contacts/jim.yaml``, whose partner does not exist) and runs
``crm validate --format json`` as a process.  Expected every time: exit status 1,
nothing on stderr (no traceback), the bad file's diagnostic with its rule, line and
column, the ordinary one too (the run went on), and not a byte of the repository
changed.  The timeout on the process is a generous sanity bound, not a benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import commit_all, git, write

BESIDE = ("contacts/jim.yaml", 3, 10, "unknown-reference")


class _AnyColumn:
    """A column the YAML library decides: where its parser gives up on deep nesting moves
    between releases (PyYAML 6.0.4 stops later than 6.0.2), so only the line is ours."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, int) and other >= 1

    def __lt__(self, other: object) -> bool:  # sortable beside real columns
        return False

    def __gt__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ANY"


ANY_COLUMN: Any = _AnyColumn()

Setup = Callable[[Path, Path], None]


def files(content: dict[str, str | bytes]) -> Setup:
    return lambda root, _tmp: write(root, dict(content))


def partner(body: str) -> str:
    """A partner record whose last field is ``body``."""
    return "id: bad\nname: Bad\nroles: [customer]\n" + body


def billion_laughs() -> str:
    text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for before, after in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{after}: &{after} [{', '.join([f'*{before}'] * 9)}]\n"
    return text  # 9^9 = 387,420,489 strings once expanded


def symlink(target: str | Callable[[Path], Path], link: str) -> Setup:
    def make(root: Path, tmp: Path) -> None:
        os.symlink(target(tmp) if callable(target) else target, root / link)

    return make


def outside(tmp: Path) -> Path:
    secret = tmp / "secret.yaml"
    secret.write_text("id: secret\nname: Secret\nroles: [customer]\n")
    return secret


CASES: dict[str, tuple[Setup, list[tuple[str, int, int, str]]]] = {
    "invalid-utf8": (
        files({"partners/bad.yaml": b"id: bad\nname: Caf\xe9\nroles: [customer]\n"}),
        [("partners/bad.yaml", 2, 10, "encoding")],
    ),
    "utf16-file": (
        files({"partners/bad.yaml": partner("").encode("utf-16")}),
        [("partners/bad.yaml", 1, 1, "encoding")],
    ),
    "billion-laughs": (
        files({"partners/bad.yaml": billion_laughs()}),
        [("partners/bad.yaml", 6, 8, "yaml-syntax")],
    ),
    "nested-block-100000-deep": (
        # deep enough to overflow the C stack of yaml_rs and of libyaml's composer
        files({"partners/bad.yaml": partner("custom:\n  " + "- " * 100_000 + "x\n")}),
        [("partners/bad.yaml", 5, ANY_COLUMN, "yaml-syntax")],
    ),
    "nested-mappings-1000-deep": (
        files(
            {
                "partners/bad.yaml": partner(
                    "custom:\n" + "".join(" " * n + "k:\n" for n in range(1, 1000))
                )
            }
        ),
        [("partners/bad.yaml", 68, ANY_COLUMN, "yaml-syntax")],
    ),
    "nested-flow-100000-deep": (
        files({"partners/bad.yaml": partner("custom: " + "[" * 100_000 + "]" * 100_000 + "\n")}),
        [("partners/bad.yaml", 4, ANY_COLUMN, "yaml-syntax")],
    ),
    "nested-flow-mappings": (
        files({"partners/bad.yaml": partner("custom: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")}),
        [("partners/bad.yaml", 4, ANY_COLUMN, "yaml-syntax")],
    ),
    "a-list": (
        files({"partners/bad.yaml": "- id: bad\n- name: Bad\n"}),
        [("partners/bad.yaml", 1, 1, "schema")],
    ),
    "a-scalar": (
        files({"partners/bad.yaml": "just some text\n"}),
        [("partners/bad.yaml", 1, 1, "schema")],
    ),
    "empty": (
        files({"partners/bad.yaml": ""}),
        [("partners/bad.yaml", 1, 1, "schema")],
    ),
    "only-a-comment": (
        files({"partners/bad.yaml": "# TODO: fill in\n"}),
        [("partners/bad.yaml", 1, 1, "schema")],
    ),
    "a-catalog-that-is-a-mapping": (
        files({"catalogs/tags.yaml": "priority: Priority\n"}),
        [("catalogs/tags.yaml", 1, 1, "schema")],
    ),
    "several-documents": (
        files({"partners/bad.yaml": partner("---\nid: other\n---\nid: third\n")}),
        [("partners/bad.yaml", 4, 1, "yaml-syntax")],
    ),
    "wrong-types-everywhere": (
        files(
            {
                "opportunities/bad.yaml": "id: 7\nname: [Bad]\nkind: {a: 1}\nstatus: in_progress\n"
                "partner: 1.5\nresponsible: ~\nprobability: '50'\namount: ten\nclosed: 'yes'\n"
                "opened: 20260101\ncontacts: jane\nlines: {product: forklift}\n"
            }
        ),
        [
            ("opportunities/bad.yaml", 1, 5, "schema"),
            ("opportunities/bad.yaml", 2, 7, "schema"),
            ("opportunities/bad.yaml", 3, 7, "schema"),
            ("opportunities/bad.yaml", 5, 10, "schema"),
            ("opportunities/bad.yaml", 6, 14, "schema"),
            ("opportunities/bad.yaml", 7, 14, "schema"),
            ("opportunities/bad.yaml", 8, 9, "schema"),
            ("opportunities/bad.yaml", 9, 9, "schema"),
            ("opportunities/bad.yaml", 10, 9, "schema"),
            ("opportunities/bad.yaml", 11, 11, "schema"),
            ("opportunities/bad.yaml", 12, 8, "schema"),
        ],
    ),
    "non-string-keys": (
        files({"partners/bad.yaml": partner("1: one\n")}),
        [("partners/bad.yaml", 4, 1, "schema")],
    ),
    "null-key": (
        files({"partners/bad.yaml": partner("~: nothing\n")}),
        [("partners/bad.yaml", 4, 1, "schema")],
    ),
    "sequence-key": (
        files({"partners/bad.yaml": partner("[a, b]: pair\n")}),
        [("partners/bad.yaml", 4, 1, "schema")],
    ),
    "python-object-tag": (
        files({"partners/bad.yaml": partner("comment: !!python/object:os.system ls\n")}),
        [("partners/bad.yaml", 4, 10, "yaml-syntax")],
    ),
    "python-apply-tag-on-a-list": (
        files({"partners/bad.yaml": partner("custom: !!python/object/apply:os.system [ls]\n")}),
        [("partners/bad.yaml", 4, 9, "yaml-syntax")],
    ),
    "set-tag": (
        files({"partners/bad.yaml": partner("custom: !!set {a, b}\n")}),
        [("partners/bad.yaml", 4, 9, "yaml-syntax")],
    ),
    "traversal-in-the-id": (
        files({"partners/bad.yaml": "id: ../../etc/passwd\nname: Bad\nroles: [customer]\n"}),
        [("partners/bad.yaml", 1, 5, "id-mismatch"), ("partners/bad.yaml", 1, 5, "schema")],
    ),
    "traversal-in-a-reference": (
        files({"contacts/bad.yaml": "id: bad\nname: Bad\npartner: ../partners/acme\n"}),
        [("contacts/bad.yaml", 3, 10, "schema"), ("contacts/bad.yaml", 3, 10, "unknown-reference")],
    ),
    "upper-case-file-name": (
        files({"partners/Bad.yaml": "id: bad\nname: Bad\nroles: [customer]\n"}),
        [("partners/Bad.yaml", 1, 1, "file-name")],
    ),
    "space-in-the-file-name": (
        files({"partners/bad file.yaml": "id: bad\nname: Bad\nroles: [customer]\n"}),
        [("partners/bad file.yaml", 1, 1, "file-name")],
    ),
    "newline-in-the-file-name": (
        files({"partners/bad\nname.yaml": "id: bad\nname: Bad\nroles: [customer]\n"}),
        [("partners/bad\nname.yaml", 1, 1, "file-name")],
    ),
    "yml-extension": (
        files({"partners/bad.yml": "id: bad\nname: Bad\nroles: [customer]\n"}),
        [("partners/bad.yml", 1, 1, "file-name")],
    ),
    "symlink-leaving-the-repository": (
        symlink(outside, "partners/bad.yaml"),
        [("partners/bad.yaml", 1, 1, "unsafe-path")],
    ),
    "symlinked-folder-leaving-the-repository": (
        symlink(lambda tmp: tmp, "partners/elsewhere"),
        [("partners/elsewhere", 1, 1, "unsafe-path")],
    ),
    "symlink-to-etc-passwd": (
        symlink("/etc/passwd", "partners/bad.yaml"),
        [("partners/bad.yaml", 1, 1, "unsafe-path")],
    ),
    "symlink-inside-the-repository": (
        symlink("acme.yaml", "partners/bad.yaml"),
        [("partners/bad.yaml", 1, 1, "unsafe-path")],
    ),
    "dangling-symlink": (
        symlink("nowhere.yaml", "partners/bad.yaml"),
        [("partners/bad.yaml", 1, 1, "unsafe-path")],
    ),
    "over-a-megabyte": (
        files({"partners/bad.yaml": partner("comment: " + "x" * 1_100_000 + "\n")}),
        [("partners/bad.yaml", 1, 1, "too-large")],
    ),
    "conflict-markers": (
        files(
            {
                "partners/bad.yaml": "id: bad\n<<<<<<< HEAD\nname: Ours\n=======\nname: Theirs\n"
                ">>>>>>> branch\nroles: [customer]\n"
            }
        ),
        [("partners/bad.yaml", 2, 1, "conflict-marker")],
    ),
    "bom-keeps-positions": (
        files({"partners/bad.yaml": "\ufeffid: bad\nname: Bad\nroles: [customr]\n"}),
        [("partners/bad.yaml", 3, 9, "schema")],
    ),
    "duplicate-keys": (
        files({"partners/bad.yaml": partner("name: Twice\n")}),
        [("partners/bad.yaml", 4, 1, "yaml-syntax")],
    ),
    "tab-indentation": (
        files({"partners/bad.yaml": "id: bad\nname: Bad\nroles:\n\t- customer\n"}),
        [("partners/bad.yaml", 4, 1, "yaml-syntax")],
    ),
    "nul-byte": (
        files({"partners/bad.yaml": b"id: bad\nname: Bad\x00 GmbH\nroles: [customer]\n"}),
        [("partners/bad.yaml", 2, 10, "yaml-syntax")],
    ),
    "control-character": (
        files({"partners/bad.yaml": "id: bad\nname: Bad\x1b[31m\nroles: [customer]\n"}),
        [("partners/bad.yaml", 2, 10, "yaml-syntax")],
    ),
    "number-overflow": (
        files(
            {"partners/bad.yaml": partner("custom: {big: 1e999999, huge: " + "9" * 4300 + "}\n")}
        ),
        [],  # free-form: read, kept, no diagnostic of its own; the run is still clean
    ),
    "integer-over-4300-digits": (
        # Python prints no longer integer: the schema's message about it was an internal
        # error, so the file is refused where it is read (hex counts by its value)
        files(
            {
                "partners/bad.yaml": "id: bad\nname: " + "9" * 4301 + "\nroles: [customer]\n",
                "partners/hex.yaml": partner("custom: {x: 0x" + "f" * 3600 + "}\n"),
            }
        ),
        [("partners/bad.yaml", 2, 7, "yaml-syntax"), ("partners/hex.yaml", 4, 13, "yaml-syntax")],
    ),
}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and symlink of the work tree, and the index, by content."""
    out: dict[str, bytes] = {}
    for folder, dirs, names in os.walk(root, followlinks=False):
        rel = Path(folder).relative_to(root)
        if rel.parts[:1] == (".git",):
            continue
        for name in [*names, *dirs]:
            path = Path(folder) / name
            if path.is_symlink():
                out[(rel / name).as_posix()] = b"-> " + os.readlink(path).encode()
            elif path.is_file():
                out[(rel / name).as_posix()] = path.read_bytes()
    out[".git/index"] = (root / ".git/index").read_bytes()
    return out


def validate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", "validate", "--format", "json", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_a_diagnostic(repo: Path, tmp_path: Path, case: str) -> None:
    setup, expected = CASES[case]
    write(repo, {BESIDE[0]: "id: jim\nname: Jim\npartner: nobody\n"})
    setup(repo, tmp_path)
    before = snapshot(repo)

    proc = validate(repo)

    assert proc.stderr == ""  # no traceback, no warning
    assert proc.returncode == 1
    report: Any = json.loads(proc.stdout)
    found = [(d["path"], d["line"], d["column"], d["rule"]) for d in report["diagnostics"]]
    assert sorted(found) == sorted([*expected, BESIDE])
    assert all(d["severity"] == "error" and d["message"] for d in report["diagnostics"])
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    "case",
    ["billion-laughs", "nested-block-100000-deep", "symlink-inside-the-repository", "nul-byte"],
)
def test_bad_input_in_a_commit_and_in_the_index(repo: Path, tmp_path: Path, case: str) -> None:
    """The same hostile files, read from git objects instead of the work tree."""
    setup, expected = CASES[case]
    write(repo, {BESIDE[0]: "id: jim\nname: Jim\npartner: nobody\n"})
    setup(repo, tmp_path)
    git(repo, "add", "-A")
    for args in (("--staged",), ("--rev", commit_all(repo, "hostile"))):
        proc = validate(repo, *args)
        assert proc.stderr == ""
        assert proc.returncode == 1
        found = [
            (d["path"], d["line"], d["column"], d["rule"])
            for d in json.loads(proc.stdout)["diagnostics"]
        ]
        assert sorted(found) == sorted([*expected, BESIDE])


def test_a_crm_yaml_alias_bomb_is_a_configuration_error(repo: Path) -> None:
    write(repo, {"crm.yaml": billion_laughs()})
    proc = validate(repo)
    assert proc.returncode == 2
    assert proc.stderr.startswith("crm: error: crm.yaml:6:8: too many alias expansions")
    assert proc.stdout == ""


def test_a_crm_yaml_with_a_bom_and_crlf_is_read(repo: Path) -> None:
    write(repo, {"crm.yaml": b"\xef\xbb\xbfversion: 1\r\nname: Test Co\r\ncurrency: EUR\r\n"})
    proc = validate(repo)
    assert (proc.returncode, proc.stderr) == (0, "")
