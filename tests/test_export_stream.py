"""crm export sqlite streams the records (records/stream.py, export_stream.py): in small
batches, with half of a folder in a forked child, it writes the very database the
one-batch, one-process export writes, and says which files it left out."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest

from crmfiles import export_staging, export_stream
from crmfiles.cli.main import main
from crmfiles.ops.demo import make_demo
from crmfiles.records import stream
from crmfiles.records.store import Repository


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = make_demo(tmp_path / "demo")
    old = Path.cwd()
    os.chdir(root)
    yield root
    os.chdir(old)


def _dump(target: Path) -> list[str]:
    db = sqlite3.connect(target)
    try:
        return [line for line in db.iterdump() if "'exported_at'" not in line]
    finally:
        db.close()


def _export(target: Path, monkeypatch: pytest.MonkeyPatch, *, files: int, batch: int) -> None:
    monkeypatch.setattr(stream, "MIN_FILES", files)
    monkeypatch.setattr(export_stream, "BATCH", batch)
    assert main(["export", "sqlite", str(target)]) == 0


def test_forked_small_batches_write_the_same_database(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, streamed = tmp_path / "whole.db", tmp_path / "streamed.db"
    _export(whole, monkeypatch, files=10**9, batch=10**9)
    forks: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    _export(streamed, monkeypatch, files=2, batch=2)
    assert len(forks) >= 5  # a child for each folder of two files or more
    assert _dump(streamed) == _dump(whole)
    db = sqlite3.connect(streamed)
    ids = [row[0] for row in db.execute("SELECT id FROM opportunities")]
    records = Repository(demo).records("opportunities")
    assert ids == [r.id for r in records]  # every record, in path order


def test_a_file_it_cannot_read_is_left_out_with_a_warning_from_either_half(
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = sorted(str(p.relative_to(demo)) for p in (demo / "partners").rglob("*.yaml"))
    first, last = paths[0], paths[-1]  # one in this process's half, one in the child's
    for path in (first, last):
        (demo / path).write_text("id: x\nname: 'a \x01 control'\n", encoding="utf-8")
    target = tmp_path / "crm.db"
    _export(target, monkeypatch, files=2, batch=3)
    err = capsys.readouterr().err
    for path in (first, last):
        assert f"crm: warning: {path}:2: character U+0001 is not allowed in YAML; left out" in err
    assert err.index(first) < err.index(last)
    (count,) = sqlite3.connect(target).execute("SELECT count(*) FROM partners").fetchone()
    assert count == len(paths) - 2


def test_an_id_in_two_files_is_exported_once_as_a_list_reads_it(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = sorted((demo / "opportunities").rglob("*.yaml"))[0]
    twin = demo / "opportunities" / "0000" / source.name  # sorts first: the one kept
    twin.parent.mkdir()
    shutil.copy(source, twin)
    twin.write_text(source.read_text(encoding="utf-8") + "comment: the twin\n", encoding="utf-8")
    target = tmp_path / "crm.db"
    _export(target, monkeypatch, files=2, batch=2)
    db = sqlite3.connect(target)
    rows = db.execute("SELECT path, comment FROM opportunities WHERE id = ?", (source.stem,))
    assert rows.fetchall() == [(f"opportunities/0000/{source.name}", "the twin")]
    (count,) = db.execute("SELECT count(*) FROM opportunities").fetchone()
    assert count == len(Repository(demo).records("opportunities"))


def test_a_child_that_fails_leaves_its_half_to_the_command(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, fallback = tmp_path / "whole.db", tmp_path / "fallback.db"
    _export(whole, monkeypatch, files=10**9, batch=10**9)
    staged = export_staging.staged

    def failing(db: Any, batches: Any, forked: bool) -> Any:
        def broken() -> Any:  # the child fails after its file is made and written to
            yield next(iter(batches))
            raise RuntimeError("the child fails")

        return staged(db, broken() if forked else batches, forked)

    monkeypatch.setattr(export_stream, "staged", failing)  # (a half of a folder)
    monkeypatch.setattr(export_staging, "staged", failing)  # (the history)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    _export(fallback, monkeypatch, files=2, batch=2)
    assert _dump(fallback) == _dump(whole)
    assert list((tmp_path / "tmp").iterdir()) == []  # no staging file left behind


def test_the_progress_bar_on_a_terminal_leaves_the_export_free_to_fork(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bar's refresh thread would keep every child from starting (a threaded
    process forks none): the export's bar is redrawn at each step instead."""
    import functools

    from crmfiles import export_sqlite, progress

    monkeypatch.setenv("CRM_PROGRESS", "1")
    shown = functools.partial(progress.progress, delay=0.0)  # drawn from the first step
    monkeypatch.setattr(export_sqlite, "progress", shown)
    forks: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    _export(tmp_path / "crm.db", monkeypatch, files=2, batch=2)
    assert len(forks) >= 5


def test_a_whole_number_beyond_64_bits_is_exported_as_its_digits(
    demo: Path, tmp_path: Path
) -> None:
    """SQLite holds 64-bit integers; a bigger one in a free field (``custom``) used to
    stop the export with an internal error: it is written as its decimal text."""
    path = next((demo / "partners").glob("*.yaml"))
    big = 2**70
    path.write_text(path.read_text("utf-8") + f"custom:\n  serial: {big}\n", "utf-8")
    target = tmp_path / "big.db"
    assert main(["export", "sqlite", str(target)]) == 0
    db = sqlite3.connect(target)
    try:
        (value,) = db.execute(
            'SELECT "custom_serial" FROM partners WHERE id = ?', (path.stem,)
        ).fetchone()
    finally:
        db.close()
    assert str(value) == str(big)


def _csv_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


def test_csv_of_forked_halves_is_the_one_process_csv(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """crm export csv streams each folder (a half in a forked child) through spooled
    rows: the files are those of a read in one process, every temporary file gone."""
    spools = Path(tempfile.gettempdir())
    before = set(spools.glob("crm-export-*"))
    monkeypatch.setattr(stream, "MIN_FILES", 10**9)
    assert main(["export", "csv", "--out", str(tmp_path / "whole")]) == 0
    forks: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    monkeypatch.setattr(stream, "MIN_FILES", 2)
    assert main(["export", "csv", "--out", str(tmp_path / "halves")]) == 0
    assert len(forks) >= 5
    whole, halves = _csv_tree(tmp_path / "whole"), _csv_tree(tmp_path / "halves")
    assert whole == halves
    assert {"opportunities.csv", "lines.csv", "catalogs/stages.csv"} <= set(whole)
    capsys.readouterr()
    assert main(["export", "csv", "--type", "opportunities"]) == 0
    assert capsys.readouterr().out.encode() == whole["opportunities.csv"].replace(b"\r\n", b"\n")
    assert set(spools.glob("crm-export-*")) == before
