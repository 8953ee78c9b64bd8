"""``?``: every key of the screen below, with what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

# widget plumbing every Textual app has; the general keys below say what matters
PLUMBING = frozenset(
    {
        "scroll_left",
        "scroll_right",
        "page_left",
        "page_right",
        "focus_next",
        "focus_previous",
        "app.focus_next",
        "app.focus_previous",
        "copy",
        "screen.copy_text",
    }
)

GENERAL = (
    ("j / k, ↓ / ↑", "move the cursor; pgup / pgdn, g / G: page, first, last"),
    ("enter", "open the record under the cursor"),
    ("ctrl+p or :", "the command palette: every action, searchable"),
    ("tab / shift+tab", "next / previous field"),
    ("F2", "save a form, confirm a dialog; escape cancels"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", key_display="esc", id="help.close"),
    ]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        keys: dict[str, list[str]] = {}
        first: dict[str, Binding] = {}
        for key, active in self.below.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.system or binding.action in PLUMBING:
                continue
            first.setdefault(binding.action, binding)
            shown = binding.key_display or self.app.get_key_display(Binding(key, binding.action))
            keys.setdefault(binding.action, []).append(shown)
        for action, binding in first.items():
            names = " / ".join(dict.fromkeys(keys[action]))
            table.add_row(names, binding.description, binding.tooltip)
        general = Table.grid(padding=(0, 2))
        general.add_column(style="bold cyan", no_wrap=True)
        general.add_column()
        for where, what in GENERAL:
            general.add_row(where, what)
        title = getattr(self.below, "HELP_TITLE", type(self.below).__name__.replace("Screen", ""))
        with Vertical(classes="dialog help"):
            yield Static(Text(f"Keys: {title}", style="bold"), classes="dialog-title")
            with VerticalScroll():
                yield Static(table)
                yield Static(Text("\nEverywhere", style="bold"))
                yield Static(general)
