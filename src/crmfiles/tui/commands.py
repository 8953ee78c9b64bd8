"""The command palette: every action that fits the screen it was opened from.

The commands are the screen's active key bindings (so the palette and the footer
never disagree), plus what a screen offers beyond its keys (``palette_commands``:
switch to a saved view by name, close as won or lost...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from crmfiles.folding import fold

Command = tuple[str, Callable[[], Any], str]
RECORD_HITS = 20


class CrmCommands(Provider):
    def commands(self) -> Iterator[Command]:
        screen = self.screen
        app = self.app
        seen: set[tuple[int, str]] = set()
        set_key = ""  # a screen's own key for "Set a field…": one entry, with the key
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system:
                continue
            if binding.action in ("command_palette", "quit") and binding.key != "q":
                continue
            marker = (id(active.node), binding.action)
            if marker in seen:
                continue
            seen.add(marker)
            key = app.get_key_display(binding)
            if binding.action == "set_field":
                set_key = key
                continue
            yield (
                f"{binding.description}  ({key})",
                partial(app.run_action, binding.action, active.node),
                binding.tooltip or "",
            )
        extra = getattr(screen, "palette_commands", None)
        if callable(extra):
            yield from extra()
        yield from self._set_field(set_key)
        from crmfiles.records import RECORD_FOLDERS
        from crmfiles.tui.screens.merge import merge_any_commands
        from crmfiles.tui.screens.records import FIELDS, open_form

        for folder in FIELDS:
            kind = RECORD_FOLDERS[folder]
            yield (f"New {kind}", partial(open_form, app, folder), f"A form for a new {kind}")
        yield from merge_any_commands(app)

    def _set_field(self, key: str = "") -> Iterator[Command]:
        """``crm set`` on the record under the cursor, wherever there is one (with the
        screen's key for it, if it has one)."""
        current = getattr(self.screen, "current_record", None)
        where = current() if callable(current) else None
        snapshot = getattr(self.app, "snapshot", None)
        if where is None or snapshot is None:
            return
        from crmfiles.tui.screens.setfield import SetFieldDialog

        folder, record_id = where
        name = snapshot.name(folder, record_id)
        yield (
            f"Set a field…  ({key})" if key else "Set a field…",
            lambda: self.app.push_screen(SetFieldDialog(folder, record_id)),
            f"Change one field of {name} (as crm set)",
        )

    async def discover(self) -> Hits:
        for name, command, help_text in self.commands():
            yield DiscoveryHit(escape(name), command, name, escape(help_text) or None)

    async def search(self, query: str) -> Hits:
        # the palette reads names and help as markup: record names and keys like
        # "[" or "/" must not be taken for tags
        matcher = self.matcher(query)
        for name, command, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(escape(name)), command, name, escape(help_text) or None
                )
        for hit in self._records(query):
            yield hit

    def _records(self, query: str) -> list[Hit]:
        """Opportunities whose name, id, partner or tags hold every word of the query
        (case and accents ignored, as the list's search): at most RECORD_HITS, found
        by a scan of the search text the list keeps, not by fuzzy matching 100,000
        names."""
        snapshot = getattr(self.app, "snapshot", None)
        words = fold(query).split()
        if snapshot is None or not words or len("".join(words)) < 2:
            return []
        hits: list[Hit] = []
        for row in snapshot.rows.values():
            if all(w in row.hay for w in words):
                name = f"Open {row.facts.get('name') or row.id}  ({row.id})"
                opener = partial(self.app.open_record, row.id)  # type: ignore[attr-defined]
                hits.append(Hit(0.5, escape(name), opener, name, "open this opportunity"))
                if len(hits) >= RECORD_HITS:
                    break
        return hits
