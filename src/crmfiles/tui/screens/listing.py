"""A searchable list of one record type (partners, interactions): a search box, the
table, a line saying how many are shown.  Search ignores case and accents and waits
for a pause in the typing, as the opportunities list; Escape in the search box
returns to the list, the search kept; ``x`` clears it."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Header, Input, Static

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.directory import searched
from crmfiles.tui.screens.base import CrmScreen
from crmfiles.tui.screens.opportunities import SEARCH_DELAY  # one pause for every list
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar
from crmfiles.tui.widgets.table import Column, RecordTable


class SearchableList(CrmScreen):
    """The list of ``FOLDER``'s records; the table's id is the folder (so the palette's
    "Set a field…" knows which record the cursor is on)."""

    FOLDER = ""
    NOUN = "records"
    PLACEHOLDER = "/ search"
    COLUMNS: ClassVar[Sequence[Column]] = ()
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/", id="list.search"),
        Binding("x", "clear", "Clear", id="list.clear", tooltip="Clear the search"),
    ]
    DEFAULT_CSS = """
    SearchableList #count { width: 1fr; height: 1; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.search = ""
        self._timer: Timer | None = None
        self._rows: dict[str, Any] = {}
        self._memo: tuple[Any, ...] = ()
        self._measured: object = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="toolbar"):
            yield Input(placeholder=self.PLACEHOLDER, id="search")
            yield Static(id="count")
        yield RecordTable(self.cell, dim=self.dim, id=self.FOLDER)
        yield StatusBar()
        yield CrmFooter()

    @property
    def table(self) -> RecordTable:
        return self.query_one(f"#{self.FOLDER}", RecordTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()

    # --- what each list says --------------------------------------------------------

    @abstractmethod
    def rows(self, snapshot: TuiSnapshot) -> Sequence[Any]:
        """Every row of the list in its order, each with an ``id`` and a ``hay``."""

    @abstractmethod
    def cell(self, key: str, column: str) -> str:
        """The text of one cell."""

    def dim(self, key: str) -> bool:
        return False

    def row(self, key: str | None) -> Any:
        return self._rows.get(key) if key else None

    # --- drawing --------------------------------------------------------------------

    def show(self, snapshot: TuiSnapshot) -> None:
        memo = (id(snapshot.records), id(snapshot.rows), self.search)
        if memo == self._memo:
            return
        self._memo = memo
        every = self.rows(snapshot)
        self._rows = {r.id: r for r in every}
        chosen = searched(every, self.search)
        table = self.table
        if self._measured is not snapshot.records:
            self._measured = snapshot.records
            table.set_columns(self.COLUMNS)
            table.measure([r.id for r in every])
        table.set_rows([r.id for r in chosen])
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{len(chosen):,}", style="bold")
        text.append(f" of {len(every):,} {self.NOUN}" if self.search else f" {self.NOUN}")
        self.query_one("#count", Static).update(text)

    def refresh_list(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)

    # --- search ---------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DELAY, lambda: self._apply_search(event.value))

    def _apply_search(self, value: str) -> None:
        self.search = value
        self.refresh_list()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.table.focus()

    def key_escape(self) -> None:
        if self.query_one("#search", Input).has_focus:
            self.table.focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.query_one("#search", Input).value = ""
        self._apply_search("")
        self.table.focus()
