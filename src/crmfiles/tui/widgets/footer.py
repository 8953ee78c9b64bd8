"""The footer every screen shows: compact, so every action's key fits."""

from __future__ import annotations

from textual.widgets import Footer


class CrmFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=True)
