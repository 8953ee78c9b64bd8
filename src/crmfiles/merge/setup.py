"""Setting up the merge driver in a clone: ``.gitattributes`` and ``merge.crm``.

``.gitattributes`` is committed, so every clone routes CRM files to the driver named
``crm``; but the driver's command lives in ``.git/config``, which is not cloned.  A
clone without it merges as git always does (git falls back to its line merge for a
driver it does not know), so nothing breaks; ``crm install`` makes merges field by
field there too.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from crmfiles import git
from crmfiles.records import CATALOG_DIR, CONFIG_FILE, RECORD_FOLDERS
from crmfiles.records.edit import write_atomic

ATTRIBUTES_FILE = ".gitattributes"
DRIVER_NAME = "CRM records, field by field (crm merge-driver)"
HEADER = "# CRM files merge field by field: `crm install` sets up the driver in a clone"
ATTRIBUTE_LINES = (
    f"/{CONFIG_FILE} merge=crm",
    f"/{CATALOG_DIR}/*.yaml merge=crm",
    *(f"/{folder}/**/*.yaml merge=crm" for folder in RECORD_FOLDERS),
)


@dataclass(frozen=True)
class Installed:
    command: str  # the driver command as written to the config
    attributes_written: bool  # .gitattributes gained lines


def driver_command() -> str:
    """How git should run this crm: the ``crm`` script beside the running interpreter
    (a virtual environment's ``bin/``: it works whether or not the environment is
    activated when git merges), else the interpreter itself with ``-m crmfiles``."""
    python = Path(sys.executable)  # not resolved: a venv's python is a symlink
    script = python.parent / ("crm.exe" if sys.platform == "win32" else "crm")
    if script.is_file():
        base = shlex.quote(script.as_posix())
    else:
        base = f"{shlex.quote(python.as_posix())} -m crmfiles"
    return f"{base} merge-driver %O %A %B %P"


def attributes_text(current: str) -> str | None:
    """``.gitattributes`` with the driver's lines added; None when none is missing."""
    present = {line.strip() for line in current.splitlines()}
    missing = [line for line in ATTRIBUTE_LINES if line not in present]
    if not missing:
        return None
    head = current if not current or current.endswith("\n") else current + "\n"
    if head and not head.endswith("\n\n"):
        head += "\n"
    if HEADER not in present:
        missing.insert(0, HEADER)
    return head + "".join(f"{line}\n" for line in missing)


def write_attributes(root: Path) -> bool:
    """Add what is missing to ``root/.gitattributes``; whether the file changed."""
    path = root / ATTRIBUTES_FILE
    current = path.read_text("utf-8") if path.is_file() else ""
    text = attributes_text(current)
    if text is None:
        return False
    write_atomic(path, text)
    return True


def configure(root: Path, command: str | None = None) -> str:
    """Write ``merge.crm.name`` and ``merge.crm.driver`` into the clone's config."""
    command = command or driver_command()
    git.run(["config", "--local", "merge.crm.name", DRIVER_NAME], root)
    git.run(["config", "--local", "merge.crm.driver", command], root)
    return command


def install(root: Path) -> Installed:
    """Both: the clone's config, and ``.gitattributes`` when lines are missing."""
    command = configure(root)
    return Installed(command, write_attributes(root))
