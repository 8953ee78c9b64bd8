"""``crm merge partner|contact KEEP DROP`` from the TUI: pick the duplicate and the
record to keep; the ``merge`` operation rewrites every reference, removes the
duplicate's file and commits, or the dialog shows why it refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App
from textual.widget import Widget
from textual.widgets import Select, Static

from crmfiles.records import RECORD_FOLDERS
from crmfiles.records.store import Record
from crmfiles.tui import ops
from crmfiles.tui.directory import choices
from crmfiles.tui.screens.dialogs import Dialog


class MergeDialog(Dialog[ops.Outcome]):
    OK_LABEL = "Merge"

    def __init__(self, folder: str, drop: str | None = None, keep: str | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.kind = RECORD_FOLDERS[folder]
        self.drop = drop
        self.keep = keep
        self.TITLE_TEXT = f"Merge duplicate {self.folder}"

    def _label(self, record: Record) -> str:
        name = str(record.data.get("name") or record.id)
        if self.folder == "contacts" and record.data.get("partner"):
            name += f"  ({self.snap.name('partners', record.data['partner'])})"
        return f"{name}  [{record.id}]"

    def fields(self) -> Iterable[Widget]:
        records = self.snap.records[self.folder]
        pairs = choices(records.values(), self._label)
        yield Static(
            f"Every reference to the duplicate becomes a reference to the {self.kind} kept;"
            " it gains the duplicate's fields it lacks; the duplicate's file is removed."
            " One commit."
        )
        drop: Any = self.drop if self.drop in records else Select.NULL
        keep: Any = self.keep if self.keep in records else Select.NULL
        yield from self.field(
            "Duplicate (merged, then removed)",
            Select(pairs, value=drop, prompt=f"pick the duplicate {self.kind}", id="drop"),
        )
        yield from self.field(
            f"Merge into ({self.kind} kept)",
            Select(pairs, value=keep, prompt=f"pick the {self.kind} to keep", id="keep"),
        )

    def on_mount(self) -> None:
        super().on_mount()
        first = "#keep" if self.drop in self.snap.records[self.folder] else "#drop"
        self.query_one(first, Select).focus()

    def action_submit(self) -> None:
        drop, keep = self.value("#drop"), self.value("#keep")
        problems = []
        if not drop:
            problems.append(f"Duplicate: pick the {self.kind} to merge")
        if not keep:
            problems.append(f"Merge into: pick the {self.kind} to keep")
        if problems:
            self.error("\n".join(problems))
            return
        self.drop, self.keep = drop, keep
        self.run(f"Merge {drop} into {keep}", "merge", self.folder, keep, drop)


def merge_commands(
    app: App[Any], partner: str | None, merge: Callable[[], Any] | None = None
) -> list[tuple[str, Any, str]]:
    """Palette entry of a screen with a partner: merge this partner into another
    (``merge``, else the plain dialog)."""
    if not partner:
        return []
    snapshot = getattr(app, "snapshot", None)
    name = snapshot.name("partners", partner) if snapshot else partner
    return [
        (
            "Merge this partner into…",
            merge or (lambda: app.push_screen(MergeDialog("partners", drop=partner))),
            f"{name} is a duplicate: merge it into the partner to keep (crm merge partner)",
        )
    ]


def merge_any_commands(app: App[Any]) -> list[tuple[str, Any, str]]:
    """Palette entries on every screen, as "New partner" is: merge two partners, merge
    two contacts, both picked in the dialog."""
    return [
        (
            "Merge two partners…",
            lambda: app.push_screen(MergeDialog("partners")),
            "A duplicate partner merged into the one to keep (crm merge partner)",
        ),
        (
            "Merge two contacts…",
            lambda: app.push_screen(MergeDialog("contacts")),
            "A duplicate contact merged into the one to keep (crm merge contact)",
        ),
    ]
