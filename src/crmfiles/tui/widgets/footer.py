"""The footer: every action's key, drawn as one line of text.

Textual's Footer is a widget per key; it is rebuilt whenever the bindings change (a
screen opened, the cursor moved to a closed opportunity), which cost a third of the
budget for opening a record.  This one redraws a line and keeps what a footer must
do: show each key with its action, dim the ones that do not apply, run an action on
a click.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget


class CrmFooter(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"crm-footer--key"}
    DEFAULT_CSS = """
    CrmFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        & > .crm-footer--key { color: $footer-key-foreground; text-style: bold; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str, DOMNode]] = []  # start, end, action, node
        self._text = Text()
        self._palette = Text()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._build()
            self.refresh()

    def _build(self) -> None:
        key_style = self.get_component_rich_style("crm-footer--key", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        spans: list[tuple[int, int, str, DOMNode]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding: Binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            start = len(text)
            text.append(" ")
            text.append(self.app.get_key_display(binding), key_style)
            text.append(f" {binding.description}", "" if active.enabled else "dim")
            spans.append((start, len(text), binding.action, active.node))
        palette = Text(" ^p ", key_style)
        palette.append("palette ")
        self._spans = spans
        self._text = text
        self._palette = palette

    def render(self) -> Text:
        width = self.size.width
        room = width - len(self._palette)
        line = self._text.copy()
        if len(line) > room:
            # whole keys only, as many as fit (every action is in the palette too):
            # never a description cut in the middle of a word
            fitting = [span for span in self._spans if span[1] <= room]
            end = fitting[-1][1] if fitting else 0
            line = line[:end]
        line.pad_right(max(room - len(line), 0))
        line.append_text(self._palette)
        return line

    async def _on_click(self, event: events.Click) -> None:
        room = self.size.width - len(self._palette)
        for start, end, action, node in self._spans:
            if start <= event.x < end <= room:
                await self.app.run_action(action, node)
                return
        if event.x >= self.size.width - len(self._palette):
            self.app.action_command_palette()
