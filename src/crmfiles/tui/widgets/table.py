"""A table that draws only the rows on screen (the Line API, as toolong's log view).

Textual's DataTable measures every new row on the event loop: about two seconds
frozen for 10,000 rows, and again whenever a search widens the list.  Here a new
list of rows is a sequence of keys, kept as given (a view of the selected positions
is read one visible row at a time): filtering, sorting and switching views cost what
computing the list costs, and a frame costs one strip per visible line.
Column widths are measured on a sample when the columns or the data change, never
per keystroke.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from crmfiles import controls

CellFn = Callable[[str, str], str]
MarkFn = Callable[[str], str]
SAMPLE = 500  # rows measured for column widths (the first ones shown)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int = 10
    right: bool = False  # numbers align right
    flexible: bool = False  # takes the room left over
    priority: int = 5  # 0 first; on a narrow screen the highest numbers go first
    fixed: bool = False  # never narrowed (an id: cut, it names nothing)
    natural: int = 0  # the widest cell measured: room to spare grows a column up to it


def _fit(text: str, width: int, right: bool) -> str:
    length = cell_len(text)
    if length > width:
        if width <= 1:
            return "…"[:width]
        out, used = [], 0
        for ch in text:
            w = cell_len(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        return "".join(out) + "…" + " " * (width - 1 - used)
    pad = " " * (width - length)
    return pad + text if right else text + pad


class RecordTable(ScrollView, can_focus=True):
    """Rows of records by key; a row cursor; a sort indicator in the header."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("home,g", "edge(0)", "First", show=False, id="table.first"),
        Binding("end,G", "edge(1)", "Last", show=False, id="table.last"),
        Binding("enter", "select", "Open", show=False, id="table.open", tooltip="Open the record"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rtable--header",
        "rtable--cursor",
        "rtable--odd",
        "rtable--mark",
        "rtable--dim",
    }
    DEFAULT_CSS = """
    RecordTable {
        height: 1fr;
        background: $surface;
        & > .rtable--header { text-style: bold; background: $panel; color: $text; }
        & > .rtable--cursor { background: $block-cursor-blurred-background; }
        &:focus > .rtable--cursor { background: $block-cursor-background;
                                    color: $block-cursor-foreground; }
        & > .rtable--odd { background: $surface-lighten-1; }
        & > .rtable--mark { color: $warning; }
        & > .rtable--dim { color: $text-muted; }
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class _TableMessage(Message):
        def __init__(self, table: RecordTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> RecordTable:
            return self.table

    class Highlighted(_TableMessage):
        def __init__(self, table: RecordTable, key: str | None) -> None:
            super().__init__(table)
            self.key = key

    class Selected(_TableMessage):
        def __init__(self, table: RecordTable, key: str) -> None:
            super().__init__(table)
            self.key = key

    class HeaderClicked(_TableMessage):
        def __init__(self, table: RecordTable, column: str) -> None:
            super().__init__(table)
            self.column = column

    def __init__(
        self,
        cell: CellFn,
        mark: MarkFn | None = None,
        dim: Callable[[str], bool] | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._cell = cell
        self._mark = mark or (lambda key: "")
        self._dim = dim or (lambda key: False)
        self.columns: list[Column] = []
        self.keys: Sequence[str] = []
        self._widths: list[int] = []
        self.sort_column = ""
        self.sort_descending = False
        self._cache: LRUCache[tuple[str, bool, int, int], Strip] = LRUCache(1024)
        self._version = 0

    # --- data -----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.keys)

    @property
    def cursor_key(self) -> str | None:
        if 0 <= self.cursor < len(self.keys):
            return self.keys[self.cursor]
        return None

    def set_columns(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self._layout_columns()
        self.invalidate()

    def measure(self, sample: Sequence[str], *, keep_widths: bool = False) -> None:
        """Fit the columns to a sample of rows (and their labels); with ``keep_widths``,
        no column wider than it was made (room to spare grows one up to its widest
        cell)."""
        measured = []
        for column in self.columns:
            widest = max((cell_len(self._cell(k, column.key)) for k in sample[:SAMPLE]), default=0)
            if keep_widths:  # narrower when no cell needs the width, never wider
                least = max(widest, cell_len(column.label) + 1, 3)
                measured.append(replace(column, width=min(column.width, least), natural=widest))
                continue
            cap = 48 if column.flexible else 28
            measured.append(
                Column(
                    column.key,
                    column.label,
                    max(min(widest, cap), cell_len(column.label) + 1, 3),
                    column.right,
                    column.flexible,
                    column.priority,
                    column.fixed,
                    natural=widest,
                )
            )
        self.columns = measured
        self._layout_columns()
        self.invalidate()

    def set_rows(self, keys: Sequence[str], keep: str | None = None) -> None:
        """Show these rows; the cursor stays on ``keep`` (default: its current row's
        key) when that row is still there."""
        keep = keep if keep is not None else self.cursor_key
        self.keys = keys
        try:
            index: int | None = keys.index(keep) if keep else None
        except ValueError:
            index = None
        self._update_virtual_size()
        self.invalidate()
        self.cursor = index if index is not None else min(self.cursor, max(len(self.keys) - 1, 0))

    def invalidate(self) -> None:
        self._version += 1
        self._cache.clear()
        self.refresh()

    def _layout_columns(self) -> None:
        """Widths that fit the widget: the flexible column takes what is left over;
        when the columns are too wide, the widest text columns give way, down to
        their label (24 for the flexible one); past that the least important columns
        are left out (width 0), never a number or an id cut."""
        available = max(self.size.width - 2 - 1, 0)  # the mark gutter, the scrollbar
        widths = [c.width for c in self.columns]
        overflow = sum(w + 2 for w in widths) - available
        flexible = [i for i, c in enumerate(self.columns) if c.flexible]
        floors = [
            c.width if c.right or c.fixed else 24 if c.flexible else max(cell_len(c.label) + 2, 10)
            for c in self.columns
        ]
        while overflow > 0:
            # the widest text column gives a cell, the flexible one counted at 2/3
            candidates = [i for i in range(len(widths)) if widths[i] > floors[i]]
            if not candidates:
                break
            widest = max(
                candidates,
                key=lambda i: widths[i] * 2 // 3 if self.columns[i].flexible else widths[i],
            )
            widths[widest] -= 1
            overflow -= 1
        if overflow > 0 and available > 0:
            # still too wide: leave out columns, the least important first (the
            # flexible one, the name, goes down to 16 before anything of priority 0)
            order = sorted(range(len(widths)), key=lambda i: -self.columns[i].priority)
            for i in order:
                if overflow <= 0 or self.columns[i].priority <= 0:
                    break
                overflow -= widths[i] + 2
                widths[i] = 0
            for i in flexible:
                if overflow > 0 and widths[i] > 16:
                    give = min(widths[i] - 16, overflow)
                    widths[i] -= give
                    overflow -= give
        if overflow < 0 and all(widths):  # nothing left out: room to spare
            overflow = -self._grow(widths, -overflow)
        if flexible and overflow < 0 and widths[flexible[0]]:
            widths[flexible[0]] -= overflow
        self._widths = widths
        self._update_virtual_size()

    def _grow(self, widths: list[int], room: int) -> int:
        """Room to spare goes first to the text columns cut short (a name), the one
        that misses least first (so that as many as can be are whole), up to its
        widest cell; what is left is returned."""
        while room > 0:
            short = [
                (column.natural - widths[i], i)
                for i, column in enumerate(self.columns)
                if widths[i] and not column.right and column.natural > widths[i]
            ]
            if not short:
                break
            miss, i = min(short)
            give = min(miss, room)
            widths[i] += give
            room -= give
        return room

    def _update_virtual_size(self) -> None:
        size = Size(2 + sum(w + 2 for w in self._widths if w), len(self.keys) + 1)
        if size != self.virtual_size:  # a new size lays out the screen again
            self.virtual_size = size

    def on_resize(self, event: events.Resize) -> None:
        self._layout_columns()
        self.invalidate()
        self._scroll_to_cursor()

    # --- cursor -----------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.keys) - 1)) if self.keys else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self._cache.clear()
        self.refresh()
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self, self.cursor_key))

    def _scroll_to_cursor(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.scrollable_content_region.height - 2, 1)

    def action_edge(self, end: int) -> None:
        self.cursor = len(self.keys) - 1 if end else 0

    def action_select(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Selected(self, self.cursor_key))

    def move_to(self, key: str) -> bool:
        try:
            self.cursor = self.keys.index(key)
        except ValueError:
            return False
        return True

    async def _on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = event.x + int(self.scroll_x) - 2
            for column, width in zip(self.columns, self._widths, strict=False):
                if not width:
                    continue  # left out on this screen
                if x < width + 2:
                    self.post_message(self.HeaderClicked(self, column.key))
                    return
                x -= width + 2
            return
        row = int(self.scroll_y) + event.y - 1
        if 0 <= row < len(self.keys):
            if row == self.cursor or event.chain > 1:
                self.cursor = row
                self.action_select()
            else:
                self.cursor = row

    # --- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            strip = self._header()
        else:
            index = scroll_y + y - 1
            if index >= len(self.keys):
                return Strip.blank(width, base)
            strip = self._row(index)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header(self) -> Strip:
        style = self.get_component_rich_style("rtable--header")
        parts = [Segment("  ", style)]
        for column, width in zip(self.columns, self._widths, strict=False):
            if not width:
                continue
            label = column.label
            if column.key == self.sort_column:
                label += " ▼" if self.sort_descending else " ▲"
            parts.append(Segment(" " + _fit(label, width, column.right) + " ", style))
        return Strip(parts)

    def _row(self, index: int) -> Strip:
        key = self.keys[index]
        is_cursor = index == self.cursor
        cache_key = (key, is_cursor, index % 2, self._version)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        base = self.rich_style
        if is_cursor:
            style = base + self.get_component_rich_style("rtable--cursor")
        elif index % 2:
            style = base + self.get_component_rich_style("rtable--odd")
        else:
            style = base
        text_style = style
        if self._dim(key) and not is_cursor:
            text_style = style + Style(color=self.get_component_rich_style("rtable--dim").color)
        mark = self._mark(key)
        mark_style = style + Style(color=self.get_component_rich_style("rtable--mark").color)
        parts = [Segment(_fit(mark, 2, False), mark_style)]
        for column, width in zip(self.columns, self._widths, strict=False):
            if not width:
                continue
            # segments reach the terminal as they are: escape what a value could hold
            text = controls.escape(self._cell(key, column.key))
            parts.append(Segment(" " + _fit(text, width, column.right) + " ", text_style))
        strip = Strip(parts)
        self._cache[cache_key] = strip
        return strip
