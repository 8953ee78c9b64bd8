"""Plain-text snapshots: the expected output lives in ``tests/snapshots/<name>.txt``.

A missing file is written and the test fails, so a new snapshot is read and committed
on purpose; ``CRM_UPDATE_SNAPSHOTS=1`` rewrites the files when the output changed on
purpose (then read the diff before committing it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def assert_snapshot(text: str, name: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("CRM_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        pytest.fail(f"new snapshot {path.relative_to(SNAPSHOTS.parent)}: read it, then commit it")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"output differs from {path.name} (CRM_UPDATE_SNAPSHOTS=1 rewrites it)"
