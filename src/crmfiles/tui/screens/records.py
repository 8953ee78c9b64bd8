"""The form of a partner, contact, lead, task or interaction, new or existing: which
fields it shows is listed here, how each is entered comes from its record type's
schema (a reference is a picker, a list of references or of allowed values a
multi-select, a yes/no a checkbox, a number a number)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Header, Input, Select, Static

from crmfiles.money import decimal
from crmfiles.records import RECORD_FOLDERS
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.screens.dialogs import number
from crmfiles.tui.screens.form import FormScreen
from crmfiles.tui.validate import DELETE
from crmfiles.tui.widgets.footer import CrmFooter

FIELDS: dict[str, tuple[str, ...]] = {
    "partners": ("name", "legal_name", "roles", "country", "language", "industry", "website",
                 "email", "phone", "vat_id", "responsible", "parent", "tags", "comment"),
    "contacts": ("name", "partner", "position", "email", "phone", "language", "responsible",
                 "tags", "comment"),
    "leads": ("name", "status", "kind", "company", "contact_name", "email", "phone",
              "country", "channel", "responsible", "tags", "comment"),
    "tasks": ("title", "subject", "assignee", "due", "importance", "instructions", "completed",
              "completed_on", "result"),
    "interactions": ("type", "at", "subject", "partner", "contacts", "opportunity", "lead",
                     "responsible", "direction", "summary", "duration_minutes"),
}  # fmt: skip
SUBJECT_TYPES = {"opportunity": "opportunities", "lead": "leads", "partner": "partners",
                 "contact": "contacts"}  # fmt: skip
PLACEHOLDERS = {"date": "YYYY-MM-DD", "date-or-datetime": "YYYY-MM-DD or YYYY-MM-DDTHH:MM"}


def field_schema(record_type: str, key: str) -> dict[str, Any]:
    """A field's schema with ``$ref`` to the common definitions followed (keeping the
    field's own ``x-ref``), and the definition's name as ``def``."""
    from crmfiles.schema import all_schemas

    schemas = all_schemas()
    node = dict(schemas[record_type]["properties"].get(key) or {})
    for _ in range(3):
        ref = node.pop("$ref", None)
        if not isinstance(ref, str) or "#/$defs/" not in ref:
            break
        name = ref.rsplit("/", 1)[-1]
        node = {**schemas["common"]["$defs"].get(name, {}), **node, "def": node.get("def", name)}
    return node


class RecordForm(FormScreen):
    """Create (``record_id`` None) or edit a record of ``folder``."""

    def __init__(
        self,
        folder: str,
        record_id: str | None,
        snapshot: TuiSnapshot,
        preset: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(folder, record_id, snapshot)
        self.preset = dict(preset or {}) if record_id is None else {}
        self.keys = FIELDS[folder]
        self.specs = {key: field_schema(self.kind, key) for key in self.keys}

    def value_of(self, key: str) -> Any:
        value = self.loaded.get(key, self.preset.get(key))
        if self.is_subject(key) and isinstance(value, dict):
            return f"{value.get('type')}:{value.get('id')}"
        return value

    def is_subject(self, key: str) -> bool:
        """A task's subject: the record it is about, picked as ``type:id``."""
        return self.folder == "tasks" and key == "subject"

    def subject_choices(self) -> list[tuple[str, str]]:
        return [
            (f"{kind.capitalize()}: {label}", f"{kind}:{rid}")
            for kind, folder in SUBJECT_TYPES.items()
            for label, rid in self._choices(folder)
        ]

    def _partner_first(self, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The partner's contacts first (the ones asked for), then everyone else's."""
        partner = self.value_of("partner") if "partner" in self.keys else None
        contacts = self.snap.records["contacts"]

        def ours(choice: tuple[str, str]) -> bool:
            contact = contacts.get(choice[1])
            return (
                partner is not None
                and contact is not None
                and (contact.data.get("partner") == partner)
            )

        return [c for c in choices if ours(c)] + [c for c in choices if not ours(c)]

    def compose(self) -> ComposeResult:
        data = self.loaded
        yield Header()
        if self.record_id is None:
            title = f"[b]New {self.kind}[/b]"
        else:
            name = data.get("name") or data.get("title") or data.get("subject") or self.record_id
            title = f"[b]Edit {escape(str(name))}[/b]   {self.path}"
        yield Static(title, id="edit-title")
        yield Static("", id="check-state")
        yield Static("", id="form-errors", classes="field-error")
        with VerticalScroll(id="form"):
            for key in self.keys:
                yield from self._field(key, self.widget(key))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (F2)", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
        yield CrmFooter()

    def widget(self, key: str) -> Widget:
        spec = self.specs[key]
        value = self.value_of(key)
        items = spec.get("items") if spec.get("type") == "array" else None
        if isinstance(items, dict):
            ref = items.get("x-ref")
            choices = (
                self._choices(ref) if ref else [(str(v), str(v)) for v in items.get("enum", [])]
            )
            if ref == "contacts":
                choices = self._partner_first(choices)
            return self._multi(key, choices)
        if self.is_subject(key):
            return self._select(key, self.subject_choices())
        if spec.get("x-ref"):
            return self._select(key, self._choices(str(spec["x-ref"])))
        if spec.get("enum"):
            return self._select(key, [(str(v), str(v)) for v in spec["enum"]])
        if spec.get("type") == "boolean":
            return Checkbox(key.replace("_", " ").capitalize(), value=bool(value), id=key)
        return Input(
            "" if value is None else str(value),
            compact=True,
            placeholder=PLACEHOLDERS.get(str(spec.get("def")), ""),
            id=key,
        )

    def on_mount(self) -> None:
        super().on_mount()
        first = self.query_one(f"#{self.keys[0]}")
        first.focus()
        if self.preset:
            self._schedule()

    def changes(self) -> tuple[dict[str, Any], list[str]]:
        out: dict[str, Any] = {}
        problems: list[str] = []
        for key in self.keys:
            widget = self.query_one(f"#{key}")
            spec = self.specs[key]
            if isinstance(widget, Select) and self.is_subject(key):
                kind, _, rid = str(widget.value).partition(":")
                old = self.loaded.get(key)
                if widget.value is Select.NULL:
                    self.setv(out, key, DELETE)
                elif not isinstance(old, dict) or (old.get("type"), old.get("id")) != (kind, rid):
                    out[key] = {"type": kind, "id": rid}
            elif isinstance(widget, Select):
                self.setv(out, key, DELETE if widget.value is Select.NULL else str(widget.value))
            elif isinstance(widget, Checkbox):
                if widget.value or key in self.loaded:
                    self.setv(out, key, widget.value)
            elif isinstance(widget, Input):
                text = widget.value.strip()
                if not text:
                    self.setv(out, key, DELETE)
                elif spec.get("type") in ("integer", "number"):
                    amount = decimal(text.replace(",", ""))
                    whole = spec.get("type") == "integer"
                    if amount is None or (whole and amount != amount.to_integral_value()):
                        problems.append(f"{key}: {'a whole number' if whole else 'a number'}")
                    else:
                        self.setv(out, key, int(amount) if whole else number(amount))
                else:
                    self.setv(out, key, text)
            else:
                self.multi_value(out, key)
        return out, problems


def open_form(app: App[Any], folder: str, record_id: str | None = None, **preset: Any) -> None:
    """Open the form of a record (the opportunity's own form for an opportunity), or
    of a new record of ``folder`` with ``preset`` filled in: for a key or a command."""
    from crmfiles.tui.screens.edit import EditScreen

    snapshot = getattr(app, "snapshot", None)
    if snapshot is None:
        app.notify("Still loading the records", severity="warning")
        return
    if record_id is not None and record_id not in snapshot.records[folder]:
        app.notify(f"No {RECORD_FOLDERS[folder]} '{record_id}'", severity="warning")
        return
    if folder == "opportunities" and record_id is not None:
        app.push_screen(EditScreen(record_id, snapshot))
    else:
        app.push_screen(RecordForm(folder, record_id, snapshot, preset))
