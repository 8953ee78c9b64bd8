"""What the TUI shows, read off the UI thread: records, list rows, filters, totals.

Textual-free, so the benchmark and the tests use it headless.  A :class:`TuiSnapshot` is
immutable once built: a reload or an operation's result builds a new one (re-reading
only the files that changed: :func:`crmfiles.tui.snapshot_rows.patched`, where its
list rows are built too) and the screens swap it in.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from crmfiles.folding import fold
from crmfiles.money import Total, fmt, rates_from
from crmfiles.records import CATALOG_DIR, CATALOGS, CONFIG_FILE, RECORD_FOLDERS, classify, facts
from crmfiles.records.facts_table import FactTable
from crmfiles.records.store import Record, Repository
from crmfiles.tui.columns import MONEY, PLAIN_SORT, sort_keys, view_fields
from crmfiles.tui.rows import Folders, ListRow, make_search_texts, read_whole
from crmfiles.tui.selection import Order, Picked, Selection, pack_rows
from crmfiles.tui.snapshot_rows import row_of, rows_of_facts
from crmfiles.tui.totals import Lanes, add_rows

Today = Callable[[], dt.date]


FIRST = (CONFIG_FILE, CATALOG_DIR, "opportunities", "partners", "views")


@dataclass(eq=False)
class TuiSnapshot:
    root: Path
    repo: Repository
    records: dict[str, dict[str, Record]]
    catalogs: dict[str, dict[str, dict[str, Any]]]
    rows: dict[str, ListRow]
    days: dict[str, int] = field(default_factory=dict)
    partial: bool = False  # only the first screen's folders are read yet
    _orders: dict[tuple[str, ...], Order] = field(default_factory=dict, repr=False)
    _named: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    # the last search: the order it searched, its words, the positions found
    _last_search: list[Any] = field(default_factory=list, repr=False)
    # the opportunities' facts the rows were made of (a load's; None: made of records)
    facts_table: FactTable | None = field(default=None, repr=False)
    # every row's amounts and weighted amounts per currency (:meth:`totals_of_all`)
    _all_totals: tuple[dict[str, Decimal], dict[str, Decimal]] | None = field(
        default=None, repr=False
    )

    @classmethod
    def load(cls, root: Path, *, first: bool = False) -> TuiSnapshot:
        """Every record, or with ``first`` only what the first screen shows (the
        opportunities, their partners, the catalogs and views); :meth:`rest` reads
        the other folders afterwards.  Opportunities are read as facts (from the
        warm cache: only the files git says changed are parsed), each one whole when
        a screen opens it; so are partners on the first load (their names)."""
        with collected_after():
            return cls._load(root, first=first)

    @classmethod
    def _load(cls, root: Path, *, first: bool) -> TuiSnapshot:
        repo = Repository(root)
        repo.config  # noqa: B018 - fail early on a broken crm.yaml
        catalogs = {name: repo.catalog(name) for name in CATALOGS}
        views = repo.facts("views")
        records: dict[str, dict[str, Record]] = {"views": {r.id: r for r in views}}
        as_facts = {"opportunities"} | ({"partners"} if first else set())
        if not facts.covers("opportunities", view_fields(views)):
            as_facts.discard("opportunities")  # a view names a field facts lack
        for folder in RECORD_FOLDERS:
            if folder in records or (first and folder not in FIRST):
                records.setdefault(folder, {})
                continue
            if folder == "opportunities" and folder in as_facts:
                continue  # the rows' records, made with the rows
            read = repo.facts(folder) if folder in as_facts else repo.records(folder)
            records[folder] = {r.id: r for r in read}
        snap = cls(root, repo, records, catalogs, {}, partial=first)
        if "opportunities" in as_facts:
            snap.rows = rows_of_facts(snap)
            records["opportunities"] = {rid: lr.row.record for rid, lr in snap.rows.items()}
        else:
            snap.rows = {rid: row_of(snap, rec) for rid, rec in records["opportunities"].items()}
        return snap

    @staticmethod
    def rest(root: Path, pause: Callable[[], object] | None = None) -> dict[str, dict[str, Record]]:
        """The folders ``load(first=True)`` left out, and the partners whole
        (``pause``: called before each file, see :class:`~crmfiles.tui.rows.Folders`)."""
        later = [f for f in RECORD_FOLDERS if f not in FIRST or f == "partners"]
        repo = Repository(root, Folders(root, tuple(later), pause))
        with collected_after():
            return {folder: {r.id: r for r in repo.records(folder)} for folder in later}

    def with_folders(self, records: Mapping[str, dict[str, Record]]) -> TuiSnapshot:
        merged = {**self.records, **records}
        return replace(self, records=merged, partial=False, _named={})

    # --- derived lookups ------------------------------------------------------------

    @property
    def currency(self) -> str:
        return self.repo.config.currency

    @property
    def rates(self) -> dict[str, Decimal]:
        return rates_from(self.catalogs["currencies"].values())

    def name(self, folder: str, ref: Any) -> str:
        """The display name of a reference (a record or a catalog entry)."""
        if ref is None or ref == "":
            return ""
        key = str(ref)
        entry: Any = self.catalogs.get(folder, {}).get(key)
        if entry is None and folder in self.records:
            record = self.records[folder].get(key)
            entry = record.data if record else None
        if isinstance(entry, dict):
            return str(entry.get("name") or entry.get("title") or key)
        return key

    def stages_of(self, kind: Any) -> list[str]:
        entry = self.catalogs["kinds"].get(str(kind)) or {}
        return [str(s) for s in entry.get("stages") or []]

    def kind_type(self, kind: Any) -> str:
        return str((self.catalogs["kinds"].get(str(kind)) or {}).get("type") or "")

    def me(self, email: str | None) -> str | None:
        """Who I am (crmfiles/people.py): the git e-mail's person, else crm.yaml's
        ``me`` (for My tasks; lint goes by the e-mail alone)."""
        from crmfiles.people import who_am_i

        return who_am_i(self.catalogs["people"], email, self.repo.config.me).id

    def views(self) -> list[dict[str, Any]]:
        """Saved opportunity views, the default one first, then by name."""
        views = [
            r.data
            for r in self.records["views"].values()
            if r.data.get("type", "opportunities") == "opportunities"
        ]
        views.sort(key=lambda v: (not v.get("default"), str(v.get("name") or v.get("id"))))
        return views or [{"id": "all", "name": "All opportunities"}]

    def record(self, folder: str, record_id: str) -> Record | None:
        """A record whole (a record read as facts is read from its file now)."""
        row = self.rows.get(record_id) if folder == "opportunities" else None
        if row is not None:
            return row.record
        record = self.records.get(folder, {}).get(record_id)
        if record is not None and not record.whole:
            whole = read_whole(self.root, record)
            if whole is not None:
                record = self.records[folder][record_id] = whole
        return record

    def record_by_path(self, path: str) -> Record | None:
        place = classify(path)
        if place is None or place.kind != "record":
            return None
        return self.record(place.name, place.id)

    @cached_property
    def _stage_index(self) -> dict[tuple[Any, Any], int]:
        return {
            (kind, stage): i
            for kind, entry in self.catalogs["kinds"].items()
            for i, stage in enumerate(entry.get("stages") or [])
        }

    def with_days(self, days: dict[str, int]) -> TuiSnapshot:
        kept = {k: v for k, v in self._orders.items() if not any("days" in c for c in k)}
        return replace(self, days=days, _orders=kept)

    # --- list values ----------------------------------------------------------------

    def value(self, lr: ListRow, column: str) -> Any:
        if column == "days_in_stage":
            return self.days.get(lr.id)
        return lr.row.value(column)

    def cell(self, lr: ListRow, column: str) -> str:
        value = self.value(lr, column)
        if value is None:
            return ""
        if column in MONEY:
            return fmt(value)
        if column in ("partner", "responsible"):
            return self.name("partners" if column == "partner" else "people", value)
        if column == "loss_reason":
            return self.name("loss-reasons", value)
        if column == "stage":
            return self.name("stages", value)
        if column == "kind":
            return self.name("kinds", value)
        if column == "status":
            return {"in_progress": "open"}.get(str(value), str(value))
        if isinstance(value, list):
            return ", ".join(map(str, value))
        if isinstance(value, bool):
            return "yes" if value else ""
        return str(value)

    def sort_value(self, lr: ListRow, column: str) -> Any:
        """Stages sort in their kind's order, references by the name the list shows."""
        if column == "stage":
            return self._stage_index.get((lr.facts.get("kind"), lr.facts.get("stage")))
        if column in ("partner", "responsible", "kind", "loss_reason"):
            return self.cell(lr, column) or None
        return self.value(lr, column)

    def ordered(self, sort: tuple[str, ...]) -> list[ListRow]:
        """Every row in this order."""
        return self.order(sort).rows

    def order(self, sort: tuple[str, ...]) -> Order:
        """Every row in this order, computed once per order: a keystroke in the search
        box filters a sorted list instead of sorting again."""
        cached = self._orders.get(sort)
        if cached is None:
            rows = list(self.rows.values())
            for key in reversed(sort):
                column = key.lstrip("+-")
                if column in PLAIN_SORT:  # (the value is the field's: read it at once)
                    values = [r.row.record.data.get(column) for r in rows]
                else:
                    values = [self.sort_value(r, column) for r in rows]
                keys, missing = sort_keys(values)
                order = sorted(range(len(rows)), key=keys.__getitem__, reverse=key[:1] == "-")
                # an empty value sorts last either way, not first when descending
                if True in missing:
                    order = [i for i in order if not missing[i]] + [i for i in order if missing[i]]
                rows = list(map(rows.__getitem__, order))
            cached = self._orders[sort] = Order(rows, self._lanes, self.currency)
        return cached

    @cached_property
    def _lanes(self) -> Lanes:
        codes = {lr.row.currency for lr in self.rows.values()} | {self.currency}
        return Lanes.of(tuple(sorted(codes)))

    def prepare(self, rows: Sequence[ListRow]) -> None:
        """Make these rows' search texts and packed amounts ahead of a search."""
        make_search_texts(rows)
        pack_rows(rows, self._lanes, self.currency)

    def totals_of_all(self) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """Every row's amounts and weighted amounts per currency, added once (a load
        adds them from the facts' columns: :func:`~crmfiles.tui.snapshot_rows.rows_of_facts`)."""
        if self._all_totals is None:
            amount, weighted = Total(self.currency, {}), Total(self.currency, {})
            add_rows((lr.row for lr in self.rows.values()), amount, weighted)
            self._all_totals = amount.by_currency, weighted.by_currency
        return self._all_totals

    def _searched(self, order: Order, words: list[str], among: list[int] | None) -> list[int]:
        """The positions (of ``among``, default all) of the rows whose search text
        holds every word; typing on narrows the last search's rows instead (a row
        that holds a longer word holds the shorter one it extends)."""
        last, base = self._last_search, among
        if (
            last
            and last[0] is order
            and last[1] is base
            and all(any(o in n for n in words) for o in last[2])
        ):
            among = last[3]
        found = order.search(words, among)
        self._last_search[:] = [order, base, words, found]
        return found

    def select(
        self,
        filters: Mapping[str, Sequence[str]],
        search: str = "",
        sort: Sequence[str] = (),
    ) -> Selection:
        """The rows that pass the filters and the search, sorted, with totals."""
        words = fold(search).split()
        order = self.order(tuple(sort) or ("name",))
        active = {k: v for k, v in filters.items() if v}
        positions = order.filtered(active) if active else None
        if words:
            positions = self._searched(order, words, positions)
        amount, weighted = Total(self.currency, self.rates), Total(self.currency, self.rates)
        if positions is None:
            for into, sums in zip((amount, weighted), self.totals_of_all(), strict=True):
                into.by_currency.update(sums)
            return Selection(order.rows, order.ids, amount, weighted)
        order.totals(positions, amount, weighted)
        rows, ids = Picked(order.rows, positions), Picked(order.ids, positions)
        return Selection(rows, ids, amount, weighted)

    # --- the names rows show (built in crmfiles.tui.snapshot_rows) --------------------

    def _names(self, folder: str) -> dict[str, str]:
        """:meth:`name` of every entry of a catalog or folder, made once (a list of
        100,000 rows names three references on each)."""
        made = self._named.get(folder)
        if made is None:
            entries: dict[str, Any] = {k: r.data for k, r in self.records.get(folder, {}).items()}
            entries.update(self.catalogs.get(folder, {}))
            made = self._named[folder] = {
                key: str(entry.get("name") or entry.get("title") or key)
                for key, entry in entries.items()
                if isinstance(entry, dict)
            }
        return made

    def row_name(self, folder: str, ref: Any) -> str:
        """The name a list row shows for a reference (of :meth:`_names`)."""
        if ref is None or ref == "":
            return ""
        key = str(ref)
        return self._names(folder).get(key, key)


@contextmanager
def collected_after() -> Iterator[None]:
    """No cyclic garbage collection while records are read (tens of thousands of
    acyclic dicts: each full collection would walk them all, and on a thread it
    pauses the screen's thread too), then what was read is kept out of later
    collections (``gc.freeze``: the records live as long as the snapshot and are
    freed by reference counting when it goes)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.freeze()
            gc.enable()


def today() -> dt.date:
    return dt.date.today()
