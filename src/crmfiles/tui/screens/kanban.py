"""The board: open opportunities of one kind in one column per stage.  A card moves
with a key; the move is the ``move`` operation (it commits, or shows the rule that
refused it).  One OptionList per stage, not one widget per card."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from crmfiles.money import Total, fmt
from crmfiles.tui.columns import sort_key
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.rows import ListRow
from crmfiles.tui.screens.base import OpportunityActions
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar

MAX_CARDS = 100  # a column shows the first ones by expected close; the list shows all


class CardList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="cards.down"),
        Binding("k", "cursor_up", "Up", show=False, id="cards.up"),
    ]

    def __init__(self, stage: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage = stage


def card(
    snapshot: TuiSnapshot, row: ListRow, pending: list[str] | None = None, width: int = 0
) -> Text:
    """A card's lines; with ``width``, words wrap whole (a word wider than the card is
    cut with '…', never broken onto the next line) and the figures are packed so no
    number is split."""
    data = row.facts
    text = Text(no_wrap=True, overflow="ellipsis")
    partner = snapshot.name("partners", data.get("partner")) if data.get("partner") else ""
    for line in _words(own_name(str(data.get("name") or row.id), partner), width, 3):
        text.append(line + "\n", style="bold")
    for line in _words(partner, width, 1):
        text.append(line + "\n", style="dim")
    amount = row.row.amount
    parts: list[tuple[str, str]] = []
    if amount is None:
        parts.append(("no amount", ""))
    elif width and cell_len(f"{fmt(amount)} {row.row.currency}") > width:
        figure = fmt(amount) if cell_len(fmt(amount)) <= width else _short(amount)
        parts += [(figure, ""), (row.row.currency, "")]
    else:
        parts.append((f"{fmt(amount)} {row.row.currency}", ""))
    if isinstance(data.get("probability"), int):
        parts.append((f"{data['probability']}%", ""))
    days = snapshot.days.get(row.id)
    if days is not None:
        parts.append((f"{days}d", "yellow" if days > 30 else ""))
    used = 0
    for i, (part, style) in enumerate(parts):
        joint = " · " if i else ""
        if i and width and used + len(joint) + cell_len(part) > width:
            text.append("\n")
            joint, used = "", 0
        text.append(joint)
        text.append(part, style=style)
        used += cell_len(joint) + cell_len(part)
    if pending:
        text.append(f"\n⎇ {pending[0]}", style="yellow")
    return text


def own_name(name: str, partner: str) -> str:
    """A deal's name without the partner it starts with ("Müller Logistik – E25 fleet"
    -> "E25 fleet"): the card says the partner on its own line, once."""
    head, dash, rest = name.partition(" – ")
    if dash and rest.strip() and partner and partner.casefold().startswith(head.casefold()):
        return rest.strip()
    return name


def _short(amount: Decimal) -> str:
    """An amount for a narrow card: 119.4k, 2.5M (the list and the record are exact)."""
    for limit, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(amount) >= limit:
            return f"{(amount / limit).quantize(Decimal('0.1'))}{suffix}"
    return f"{amount.quantize(Decimal('1'))}"


def _words(value: str, width: int, most: int) -> list[str]:
    """``value`` in lines of at most ``width`` cells, broken between words only; at
    most ``most`` lines, the last ending in '…' when there was more."""
    if not width:
        return [value]
    lines: list[str] = []
    current = ""
    for word in value.split():
        if cell_len(word) > width:
            word = _cut(word, width)
        candidate = f"{current} {word}" if current else word
        if cell_len(candidate) <= width:
            current = candidate
            continue
        lines.append(current)
        current = word
    if current:
        lines.append(current)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = (
            _cut(lines[-1] + " …", width)
            if cell_len(lines[-1]) + 2 <= width
            else (_cut(lines[-1] + "……", width))
        )
    return lines or [""]


def _cut(word: str, width: int) -> str:
    if cell_len(word) <= width:
        return word
    out, used = [], 0
    for ch in word:
        if used + cell_len(ch) > width - 1:
            break
        out.append(ch)
        used += cell_len(ch)
    return "".join(out) + "…"


class KanbanScreen(OpportunityActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "column(-1)", "◀ Col", show=False, id="kanban.left"),
        Binding("right,l", "column(1)", "Col ▶", show=False, id="kanban.right"),
        Binding(
            "less_than_sign,H,shift+left",
            "move_card(-1)",
            "Move ◀",
            key_display="<",
            id="kanban.back",
            tooltip="Move the card to the previous stage (commits)",
        ),
        Binding(
            "greater_than_sign,L,shift+right",
            "move_card(1)",
            "Move ▶",
            key_display=">",
            id="kanban.forward",
            tooltip="Move the card to the next stage (commits)",
        ),
        Binding("t", "next_kind", "Kind", id="kanban.kind", tooltip="Next opportunity kind"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kind: str | None = None
        self._follow: str | None = None
        self._drawn_kind: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="kanban-title")
        yield Horizontal(id="board")
        yield StatusBar()
        yield CrmFooter()

    def _card_width(self, columns: int) -> int:
        """The cells a card's text has: the board's width shared by the stages, less
        each column's border, padding and scrollbar (before the first layout, the
        screen's width)."""
        board = self.query_one("#board", Horizontal)
        total = board.size.width or self.app.size.width
        return max(total // max(columns, 1) - 7, 8)

    def kinds(self) -> list[str]:
        snapshot = self.snapshot
        if snapshot is None:
            return []
        return [k for k, entry in snapshot.catalogs["kinds"].items() if entry.get("stages")]

    def show(self, snapshot: TuiSnapshot) -> None:
        kinds = self.kinds()
        if not kinds:
            self.query_one("#kanban-title", Static).update("No kind with stages.")
            return
        if self.kind not in kinds:
            used = [r.facts.get("kind") for r in snapshot.rows.values()]
            self.kind = max(kinds, key=lambda k: (used.count(k), -kinds.index(k)))
        self.call_later(self._draw, snapshot)

    async def _draw(self, snapshot: TuiSnapshot) -> None:
        kind = self.kind
        stages = snapshot.stages_of(kind)
        entry = snapshot.catalogs["kinds"].get(str(kind), {})
        follow = self._follow or self.current_id()
        focused_stage = self._focused_stage()
        by_stage: dict[str, list[ListRow]] = {s: [] for s in stages}
        for row in snapshot.rows.values():
            data = row.facts
            if data.get("kind") == kind and data.get("status") == "in_progress":
                stage = str(data.get("stage"))
                if stage in by_stage:
                    by_stage[stage].append(row)
        board = self.query_one("#board", Horizontal)
        if self._drawn_kind != kind or len(board.children) != len(stages):
            await board.remove_children()
            columns = [
                Vertical(
                    Static(classes="column-head", id=f"head-{i}"),
                    CardList(stage, id=f"cards-{i}", classes="cards"),
                    classes="column",
                )
                for i, stage in enumerate(stages)
            ]
            await board.mount_all(columns)
            self._drawn_kind = kind
        total_open = 0
        pending = self.crm.git_state.pending(snapshot.rows)
        for i, stage in enumerate(stages):
            rows = sorted(
                by_stage[stage],
                key=lambda r: (sort_key(r.facts.get("expected_close")), str(r.facts.get("name"))),
            )
            total_open += len(rows)
            amount = Total(snapshot.currency, snapshot.rates)
            for r in rows:
                amount.add(r.row.amount, r.row.currency)
            head = Text(no_wrap=True, overflow="ellipsis")
            head.append(snapshot.name("stages", stage), style="bold")
            head.append(f"  {len(rows)}")
            if amount.in_base is not None:
                head.append(f"\n{fmt(amount.in_base)} {snapshot.currency}", style="dim")
            if len(rows) > MAX_CARDS:
                head.append(f"  (first {MAX_CARDS})", style="dim")
            self.query_one(f"#head-{i}", Static).update(head)
            cards = self.query_one(f"#cards-{i}", CardList)
            cards.stage = stage
            highlighted = cards.highlighted
            shown: list[Option | None] = []  # None: a divider
            inner = self._card_width(len(stages))
            for r in rows[:MAX_CARDS]:
                shown += [Option(card(snapshot, r, pending.get(r.id), inner), id=r.id), None]
            cards.set_options(shown[:-1])
            ids = [r.id for r in rows[:MAX_CARDS]]
            if follow in ids:
                cards.highlighted = ids.index(follow)
                if self._follow or focused_stage is None:
                    cards.focus()
            elif ids:
                cards.highlighted = min(highlighted or 0, len(ids) - 1)
        if focused_stage is not None and self._follow is None:
            for cards in self.query(CardList):
                if cards.stage == focused_stage:
                    cards.focus()
        if self.focused is None:
            first = next((c for c in self.query(CardList) if c.option_count), None)
            if first is not None:
                first.focus()
        self._follow = None
        self.refresh_bindings()
        title = Text(no_wrap=True)
        title.append(f" {entry.get('name') or kind} ", style="bold reverse")
        title.append(f"  {entry.get('type', '')} kind · {total_open} open", style="dim")
        title.append("   t: next kind   < >: move card   enter: open", style="dim")
        self.query_one("#kanban-title", Static).update(title)

    def _focused_stage(self) -> str | None:
        focused = self.focused
        return focused.stage if isinstance(focused, CardList) else None

    def current_id(self) -> str | None:
        focused = self.focused
        if isinstance(focused, CardList) and focused.highlighted is not None:
            return focused.get_option_at_index(focused.highlighted).id
        return None

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self.current_changed()

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:

        if event.option.id:
            self.crm.open_record(event.option.id)

    def action_column(self, step: int) -> None:
        columns = list(self.query(CardList))
        if not columns:
            return
        focused = self.focused
        index = columns.index(focused) if isinstance(focused, CardList) else 0
        target = columns[max(0, min(index + step, len(columns) - 1))]
        target.focus()
        if target.highlighted is None and target.option_count:
            target.highlighted = 0

    def action_move_card(self, step: int) -> None:
        snapshot = self.snapshot
        rid = self.current_id()
        if snapshot is None or rid is None:
            return
        row = snapshot.rows[rid]
        stages = snapshot.stages_of(row.data.get("kind"))
        stage = row.data.get("stage")
        index = stages.index(stage) if stage in stages else -1
        target = index + step
        if target < 0:
            self.notify("Already in the first stage", severity="warning")
            return
        if target >= len(stages):
            self.notify("Last stage: close it as won with c", severity="warning")
            return
        self._follow = rid
        self.crm.run_op(f"Move {rid}", "move", rid, stages[target])

    def action_next_kind(self) -> None:
        kinds = self.kinds()
        if not kinds or self.snapshot is None:
            return
        index = kinds.index(self.kind) if self.kind in kinds else -1
        self.kind = kinds[(index + 1) % len(kinds)]
        self.call_later(self._draw, self.snapshot)

    def palette_commands(self) -> list[tuple[str, Any, str]]:
        commands = super().palette_commands()
        snapshot = self.snapshot
        for kind in self.kinds():
            name = snapshot.name("kinds", kind) if snapshot else kind
            commands.append((f"Board: {name}", lambda k=kind: self._set_kind(k), "Show this kind"))
        return commands

    def _set_kind(self, kind: str) -> None:
        self.kind = kind
        if self.snapshot is not None:
            self.call_later(self._draw, self.snapshot)
