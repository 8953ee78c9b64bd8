"""Files that are not regular files, and a crm.yaml that cannot be read.

A FIFO named like a catalog or a record used to hang every reader (a plain open()
waits for a writer); each command now says what the file is and goes on, or stops
with a clear configuration error, within a timeout that a hang would exceed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

READERS = [
    ["validate"],
    ["list", "opportunities"],
    ["fmt", "--check"],
    ["export", "csv"],
    ["move", "acme-forklifts", "proposal", "--no-commit"],
]


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,  # a hang on a FIFO would wait forever
    )


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_fifo_as_a_catalog_is_reported_not_waited_on(repo: Path, args: list[str]) -> None:
    os.mkfifo(repo / "catalogs" / "tags.yaml.new")
    (repo / "catalogs" / "tags.yaml").unlink()
    os.rename(repo / "catalogs" / "tags.yaml.new", repo / "catalogs" / "tags.yaml")
    proc = crm(repo, *args)
    assert "Traceback" not in proc.stderr
    out = proc.stdout + proc.stderr
    if args[0] == "validate":
        assert proc.returncode == 1
        assert "catalogs/tags.yaml:1:1: error: not a regular file (a FIFO) [unsafe-path]" in out
    elif args[0] == "fmt":
        assert proc.returncode == 1
        assert "catalogs/tags.yaml: skipped: not a regular file (a FIFO)" in proc.stderr
    else:
        assert "catalogs/tags.yaml: not a regular file (a FIFO)" in proc.stderr


@pytest.mark.parametrize("args", READERS[:4], ids=lambda a: " ".join(a[:2]))
def test_a_fifo_named_like_a_record_is_left_out_with_a_warning(repo: Path, args: list[str]) -> None:
    os.mkfifo(repo / "partners" / "x.yaml")
    proc = crm(repo, *args)
    assert "Traceback" not in proc.stderr
    if args[0] == "export":
        assert proc.returncode == 0, proc.stderr
        assert "crm: warning: partners/x.yaml: not a regular file (a FIFO)" in proc.stderr
    elif args[0] == "list":
        # the list reads the facts of what git lists, as validate does: git lists no
        # FIFO, so there is no record there to leave out
        assert proc.returncode == 0, proc.stderr
        assert "acme-forklifts" in proc.stdout
    elif args[0] == "fmt":
        assert "partners/x.yaml: skipped: not a regular file (a FIFO)" in proc.stderr
    else:  # git lists no FIFO: validate checks what git would commit
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_socket_named_like_a_record_is_left_out(repo: Path) -> None:
    import socket

    path = repo / "partners" / "s.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        proc = crm(repo, "export", "csv")
    assert proc.returncode == 0
    assert "crm: warning: partners/s.yaml: not a regular file (a socket)" in proc.stderr


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_fifo_as_crm_yaml_is_a_configuration_error(repo: Path, args: list[str]) -> None:
    (repo / "crm.yaml").unlink()
    os.mkfifo(repo / "crm.yaml")
    proc = crm(repo, *args)
    if args[0] == "fmt":  # formats every file it can, and names the one it cannot
        assert proc.returncode == 1
        assert "crm.yaml: skipped: not a regular file (a FIFO)" in proc.stderr
    else:
        assert proc.returncode == 2
        assert "crm: error: crm.yaml: not a regular file (a FIFO)" in proc.stderr
    assert "not in a CRM repository" not in proc.stderr


def test_a_crm_yaml_over_the_size_limit_is_not_called_missing(repo: Path) -> None:
    with (repo / "crm.yaml").open("a") as handle:
        handle.write("# " + "x" * 1_100_000 + "\n")
    for args in (["validate"], ["list", "opportunities"], ["move", "acme-forklifts", "x"]):
        proc = crm(repo, *args)
        assert proc.returncode == 2
        assert "crm.yaml: file is 1,100,0" in proc.stderr
        assert "missing" not in proc.stderr


def test_a_people_setting_naming_another_file_is_an_error(repo: Path) -> None:
    with (repo / "crm.yaml").open("a") as handle:
        handle.write("people: staff/people.yaml\n")
    proc = crm(repo, "validate")
    assert proc.returncode == 2
    assert (
        "crm: error: crm.yaml: people: 'staff/people.yaml': the people catalog is "
        "catalogs/people.yaml" in proc.stderr
    )


def test_the_default_people_setting_is_fine(repo: Path) -> None:
    with (repo / "crm.yaml").open("a") as handle:
        handle.write("people: catalogs/people.yaml\n")
    proc = crm(repo, "validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
