"""One folder's facts (:mod:`crmfiles.records.facts`) as columns: the ids and paths of
its records and, per field, a list of values, one a record.

This is the form the facts cache keeps (each column marshalled on its own), so a
report that reads four fields of 100,000 opportunities decodes four lists, not
100,000 dicts, and aggregates them without making an object per record.  Readers
that want records as :class:`~crmfiles.records.Record` get them from
:meth:`FactTable.records`, made once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from itertools import compress, repeat
from typing import Any

from crmfiles.records import Record
from crmfiles.records.facts import UNREADABLE
from crmfiles.records.facts_file import Column, Rows, decoded, stems

# a field the record does not have (marshal keeps Ellipsis; no YAML value is one)
MISSING: Any = ...


class FactTable:
    """One folder's records as facts, in path order, each id once (its first path)."""

    def __init__(
        self,
        folder: str,
        paths: list[str] | Callable[[], list[str]],
        columns: dict[str, Column],
        count: int,
        ids: list[str] | None = None,
    ) -> None:
        self.folder, self._paths, self._ids, self._count = folder, paths, ids, count
        self._columns = columns  # not a list: marshalled, decoded when asked for
        self._plain: dict[str, list[Any]] = {}
        self._records: list[Record] | None = None
        self._of_records = False  # columns made from _records when asked for
        self._index: dict[str, int] | None = None
        #: files of the folder that could not be read: path -> what is wrong
        #: (``path:line: message``), in neither the rows nor any total
        self.unreadable: dict[str, str] = {}

    def __len__(self) -> int:
        return self._count

    @property
    def paths(self) -> list[str]:
        if callable(self._paths):
            self._paths = self._paths()
        return self._paths

    @property
    def ids(self) -> list[str]:
        """Each record's id: its file's name (records are read under it)."""
        if self._ids is None:
            self._ids = stems(self.paths)
        return self._ids

    def where(self, record_id: str) -> int | None:
        """The row of a record by id (None: no such record)."""
        if self._index is None:
            self._index = {rid: i for i, rid in enumerate(self.ids)}
        return self._index.get(record_id)

    @property
    def fields(self) -> list[str]:
        """The fields of the facts, one column each."""
        return list(self._columns)

    def values(self, name: str) -> list[Any]:
        """A field's values, :data:`MISSING` where a record lacks it."""
        column = self._columns.get(name)
        if column is None and self._of_records and self._records is not None:
            column = self._columns[name] = [r.data.get(name, MISSING) for r in self._records]
        if column is None:
            return [MISSING] * self._count
        if not isinstance(column, list):
            column = self._columns[name] = decoded(column)
        return column

    def column(self, name: str) -> list[Any]:
        """A field's values as ``data.get(name)`` reads them (None where missing)."""
        plain = self._plain.get(name)
        if plain is None:
            values = self.values(name)
            plain = [None if v is MISSING else v for v in values] if MISSING in values else values
            self._plain[name] = plain
        return plain

    def row(self, i: int) -> dict[str, Any]:
        """One record's facts as a dict."""
        if self._of_records and self._records is not None:
            return self._records[i].data
        out = {}
        for name in self._columns:
            value = self.values(name)[i]
            if value is not MISSING:
                out[name] = value
        return out

    def records(self) -> list[Record]:
        """The records, their data the facts (made once)."""
        if self._records is None:
            self._records = self._made(list(self._columns))
        return self._records

    def records_with(self, fields: Collection[str]) -> list[Record]:
        """The records, their data only these of the facts (made each time: for a
        reader that keeps 100,000 of them and reads a few fields, a third less to
        make and to hold)."""
        if self._of_records:
            return self.records()
        return self._made([n for n in self._columns if n in fields])

    def _made(self, names: list[str]) -> list[Record]:
        columns = [self.values(n) for n in names]
        datas = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        datas = datas or [{} for _ in range(self._count)]
        for name, column in zip(names, columns, strict=True):  # then the fields lacked
            if MISSING in column:
                for i in [i for i, v in enumerate(column) if v is MISSING]:
                    del datas[i][name]
        return list(
            map(
                Record,
                repeat(self.folder),
                self.ids,
                self.paths,
                datas,
                repeat(""),
                repeat(False),
            )
        )

    @classmethod
    def of_records(cls, folder: str, records: Sequence[Record]) -> FactTable:
        """A table of records already read (whole, or facts); a column is made when
        first asked for."""
        ids = [r.id for r in records]
        table = cls(folder, [r.path for r in records], {}, len(records), ids)
        table._records, table._of_records = list(records), True
        return table

    @classmethod
    def of_rows(cls, folder: str, rows: Rows) -> FactTable:
        """A table of one tree's rows, the first path of an id only; the rows of files
        that could not be read are left out, and named in :attr:`unreadable`."""
        said = rows.columns.get(UNREADABLE)
        if said is not None:
            return cls._readable(folder, rows, decoded(said))
        if rows.unique:
            return cls(folder, lambda: rows.paths, rows.columns, len(rows))
        paths = rows.paths
        ids = stems(paths)
        if len(set(ids)) == len(ids):
            return cls(folder, paths, rows.columns, len(paths), ids)
        seen: set[str] = set()
        keep = [not (i in seen or seen.add(i)) for i in ids]  # type: ignore[func-returns-value]
        return cls(
            folder,
            list(compress(paths, keep)),
            {n: list(compress(decoded(c), keep)) for n, c in rows.columns.items()},
            sum(keep),
            list(compress(ids, keep)),
        )

    @classmethod
    def _readable(cls, folder: str, rows: Rows, said: list[Any]) -> FactTable:
        keep = [v is MISSING for v in said]
        paths = rows.paths
        readable = Rows(
            list(compress(paths, keep)),
            list(compress(rows.blobs, keep)),
            {
                n: list(compress(decoded(c), keep))
                for n, c in rows.columns.items()
                if n != UNREADABLE
            },
        )
        table = cls.of_rows(folder, readable)
        table.unreadable = {p: str(s) for p, s in zip(paths, said, strict=True) if s is not MISSING}
        return table
