"""The staging tables of ``crm export sqlite`` (:mod:`crmfiles.export_stream` makes
the rows): each run's batches go to staging tables, in the temporary schema or, in a
forked child, in a SQLite file of its own; :func:`finish` creates a final table once
every part of it is staged, with the columns its fields make, and fills it with one
``INSERT ... SELECT`` per part: SQLite applies the column types then as on a direct
insert, and keeps the order of the rows.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from crmfiles.export_sqlite import _SQL_TYPES, _quote

if TYPE_CHECKING:
    from crmfiles.export_stream import Shape


class Part(NamedTuple):
    """One table's rows of a batch: the fields in first-seen order, a tuple of values
    per row (None where a row has no such field), and for each field whose type the
    values decide, whether every value was an integer / a number (None: no value)."""

    keys: list[str]
    rows: list[tuple[Any, ...]]
    kinds: dict[str, tuple[bool, bool] | None]


class Staged(NamedTuple):
    """One table's rows of a run, in a staging table: its columns ``c0``, ``c1``, ...
    hold the fields ``keys``; ``kinds`` as in :class:`Part`, for the whole run."""

    table: str
    keys: list[str]
    kinds: dict[str, tuple[bool, bool] | None]
    size: int  # rows


class Staging:
    """The batches of a run written to staging tables, one per table, in ``db``'s
    schema ``schema`` (``temp`` here; ``main`` of its own file in a forked child, which
    the summary calls ``label``: the name it is attached as)."""

    def __init__(self, db: Any, schema: str, label: str) -> None:
        self.db, self.schema, self.label = db, schema, label
        self.tables: dict[str, tuple[str, dict[str, int], dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, batch: dict[str, Part]) -> None:
        for name, part in batch.items():
            self._add(name, part)

    def _add(self, name: str, part: Part) -> None:
        if name not in self.tables:
            global _STAGED
            _STAGED += 1
            table = _quote(f"stage_{_STAGED}")
            self.db.execute(f"CREATE TABLE {self.schema}.{table} (_)")
            self.tables[name] = (table, {}, {})
            self.counts[name] = 0
        table, keys, kinds = self.tables[name]
        table = f"{self.schema}.{table}"
        for key in part.keys:
            if key not in keys:
                keys[key] = len(keys)
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN c{keys[key]}")
        _merge(kinds, part.kinds)
        if part.rows:
            names = ", ".join(f"c{keys[k]}" for k in part.keys)
            marks = ", ".join("?" for _ in part.keys)
            insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            try:
                self.db.execute("SAVEPOINT batch")
                self.db.executemany(insert, part.rows)
            except OverflowError:  # a whole number beyond SQLite's 64 bits: as text
                self.db.execute("ROLLBACK TO batch")
                self.db.executemany(insert, map(beyond_64_bits_as_text, part.rows))
            self.db.execute("RELEASE batch")
            self.counts[name] += len(part.rows)

    def summary(self) -> dict[str, Staged]:
        return {
            name: Staged(f"{self.label}.{table}", list(keys), kinds, self.counts[name])
            for name, (table, keys, kinds) in self.tables.items()
        }


_STAGED = 0  # staging tables made by this process (their names)


def _merge(
    kinds: dict[str, tuple[bool, bool] | None], more: dict[str, tuple[bool, bool] | None]
) -> None:
    for key, kind in more.items():
        old = kinds.get(key)
        kinds[key] = (
            kind
            if old is None
            else old
            if kind is None
            else (old[0] and kind[0], old[1] and kind[1])
        )


def finish(db: Any, name: str, shape: Shape, parts: Sequence[Staged]) -> int:
    """The table ``name`` created from its staged parts (in order) and filled."""
    keys: dict[str, None] = {}
    kinds: dict[str, tuple[bool, bool] | None] = {}
    for part in parts:
        keys.update(dict.fromkeys(part.keys))
        _merge(kinds, part.kinds)
    columns = shape.columns(list(keys))
    spec = ", ".join(
        f"{_quote(shape.name(c).replace('.', '_'))} {_type(shape, kinds, c)}" for c in columns
    )
    db.execute(f"CREATE TABLE {_quote(name)} ({spec})")
    for part in parts:
        at = {k: i for i, k in enumerate(part.keys)}
        picked = ", ".join(f"c{at[c]}" if c in at else "NULL" for c in columns)
        db.execute(f"INSERT INTO {_quote(name)} SELECT {picked} FROM {part.table} ORDER BY rowid")
        if part.table.startswith("temp."):
            db.execute(f"DROP TABLE {part.table}")
    return sum(part.size for part in parts)


def _type(shape: Shape, kinds: dict[str, tuple[bool, bool] | None], key: str) -> str:
    declared = shape.declared(key)
    if declared is not None:
        return _SQL_TYPES.get(declared, "TEXT")
    kind = kinds.get(key)
    if kind is None:
        return "TEXT"
    return "INTEGER" if kind[0] else "NUMERIC" if kind[1] else "TEXT"


def kept(db: Any, staged: Staged) -> Staged:
    """A staged part of a forked child's file copied to the temporary schema, to be
    read after the file is detached."""
    if not staged.table.startswith("half."):
        return staged
    global _STAGED
    _STAGED += 1
    table = f"temp.{_quote(f'stage_{_STAGED}')}"
    db.execute(f"CREATE TABLE {table} AS SELECT * FROM {staged.table} ORDER BY rowid")
    return staged._replace(table=table)


def staged(
    db: Any, batches: Iterable[dict[str, Part]], forked: bool
) -> tuple[str | None, dict[str, Staged]]:
    """The batches staged: in ``db``'s temporary schema, or, in a forked child, in a
    file of its own (its path back, with the summary)."""
    if not forked:
        staging = Staging(db, "temp", "temp")
        for batch in batches:
            staging.add(batch)
        return None, staging.summary()
    fd, path = tempfile.mkstemp(prefix="crm-export-", suffix=".db")
    os.close(fd)
    try:
        own = sqlite3.connect(path)
        own.execute("PRAGMA journal_mode = OFF")
        own.execute("PRAGMA synchronous = OFF")
        staging = Staging(own, "main", "half")
        for batch in batches:
            staging.add(batch)
        own.commit()
        own.close()
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return path, staging.summary()


INT64 = range(-(2**63), 2**63)


def beyond_64_bits_as_text(row: tuple[object, ...]) -> tuple[object, ...]:
    """The row with every whole number SQLite cannot hold (beyond 64 bits) as its
    decimal text, which keeps every digit; the rest as it is."""
    return tuple(str(v) if type(v) is int and v not in INT64 else v for v in row)
