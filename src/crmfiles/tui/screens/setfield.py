"""Set one field of a record from its screen, as ``crm set ID FIELD=VALUE`` does: the
same assignment syntax (a dotted path, ``+=`` to append, ``-=`` to remove an item; the
value read as YAML) and the same ``set`` operation, so the rules refuse what they
would refuse on the command line, with their message."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Input, Static

from crmfiles.errors import CrmError
from crmfiles.tui import ops
from crmfiles.tui.screens.dialogs import Dialog


class SetFieldDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Set a field"
    OK_LABEL = "Set"

    def __init__(self, folder: str, record_id: str) -> None:
        super().__init__()
        self.folder = folder
        self.record_id = record_id

    def fields(self) -> Iterable[Widget]:
        record = self.snap.records[self.folder].get(self.record_id)
        name = str(record.data.get("name") or self.record_id) if record else self.record_id
        title = Text(name, style="bold")
        title.append(f"  {record.path if record else self.record_id}", style="dim")
        yield Static(title)
        yield from self.field(
            "field = value   (e.g. expected_close = 2026-12-31, insight.pain = …)",
            Input(placeholder="field = value", id="assignment"),
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#assignment", Input).focus()

    def action_submit(self) -> None:
        from crmfiles.ops.setfields import parse_assignment

        text = self.value("#assignment")
        if not text:
            self.error("Type a field and its value: field = value")
            return
        try:
            assignment = parse_assignment(text)
        except CrmError as err:
            self.error(err.message + (f"\nhint: {err.hint}" if err.hint else ""))
            return
        self.run(
            f"Set {assignment.field} of {self.record_id}",
            "set",
            self.record_id,
            [assignment],
            folder=self.folder,
        )
