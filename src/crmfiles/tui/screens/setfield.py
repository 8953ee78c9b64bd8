"""``crm set ID FIELD=VALUE`` / ``--unset FIELD`` from the TUI: one field of one
record, picked from its type's schema, changed by the ``set`` operation (the line
changes and nothing else; the rules check it; one commit) or refused with the
rule's message.  Shared by every screen that has a record under the cursor (the
palette's "Set a field…") and the record screen's key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual import on
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static

from crmfiles.errors import CrmError
from crmfiles.records import RECORD_FOLDERS
from crmfiles.tui import ops
from crmfiles.tui.screens.dialogs import Dialog

HIDDEN = frozenset({"id"})  # a record's id is its file name


def schema_fields(folder: str) -> list[str]:
    """The fields a record of ``folder`` may have, in its schema's order."""
    from crmfiles.schema import all_schemas

    properties = all_schemas()[RECORD_FOLDERS[folder]].get("properties") or {}
    return [key for key in properties if key not in HIDDEN]


def shown_value(value: Any) -> str:
    """A value as it would be typed: scalars as they are, lists and mappings as
    one-line YAML."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import yaml

        return str(yaml.safe_dump(value, default_flow_style=True, allow_unicode=True)).strip()
    return str(value)


class SetFieldDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Set a field"
    OK_LABEL = "Set"

    def __init__(self, folder: str, record_id: str, field: str | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.record_id = record_id
        self.field_name = field
        self.TITLE_TEXT = f"Set a field of {record_id}"

    @property
    def data(self) -> dict[str, Any]:
        record = self.snap.record(self.folder, self.record_id)
        return record.data if record else {}

    def fields(self) -> Iterable[Widget]:
        data = self.data
        name = data.get("name") or data.get("title") or data.get("subject") or self.record_id
        # one line, so that every field fits on 24 lines
        yield Static(Text(str(name), "bold", no_wrap=True, overflow="ellipsis"))
        keys = schema_fields(self.folder)
        pairs = [
            (f"{key}  = {shown_value(data[key])}"[:60] if key in data else key, key) for key in keys
        ]
        initial: Any = self.field_name if self.field_name in keys else Select.NULL
        yield from self.field(
            "Field", Select(pairs, value=initial, prompt="pick a field", id="field")
        )
        yield from self.field(
            "Value (a list or mapping in YAML: [a, b], {product: x, quantity: 2})",
            Input(id="value"),
        )
        yield Checkbox("Remove the field (unset)", id="unset")

    def on_mount(self) -> None:
        super().on_mount()
        if self.field_name:
            self._field_changed()
            self.query_one("#value", Input).focus()
        else:
            self.query_one("#field", Select).focus()

    @on(Select.Changed, "#field")
    def _field_changed(self) -> None:
        key = self.value("#field")
        if key:
            self.query_one("#value", Input).value = shown_value(self.data.get(key))

    def assignment(self) -> Any:
        """What ``crm set`` would be given: ``FIELD=VALUE`` or ``--unset FIELD``."""
        from crmfiles.ops.setfields import Assignment, parse_assignment
        from crmfiles.tui.screens.records import field_schema

        key = self.value("#field")
        if self.query_one("#unset", Checkbox).value:
            return Assignment((key,), "unset")
        text = self.value("#value")
        spec = field_schema(RECORD_FOLDERS[self.folder], key)
        if spec.get("type") == "string" and text and text[0] not in "[{'\"":
            # free text stays text: "Call: done" is not a mapping, "2026" not a number
            return Assignment((key,), "=", text)
        return parse_assignment(f"{key}={text}")

    def action_submit(self) -> None:
        key = self.value("#field")
        if not key:
            self.error("Field: pick one")
            return
        if not self.value("#value") and not self.query_one("#unset", Checkbox).value:
            self.error("Value: type one, or tick 'Remove the field'")
            return
        try:
            assignment = self.assignment()
        except CrmError as err:
            self.error(err.message)
            return
        self.run(
            f"Set {key} of {self.record_id}",
            "set",
            self.record_id,
            [assignment],
            folder=self.folder,
        )
