"""What every record form shares: fields with their messages under them, a check as
you type with the same engine as ``crm validate`` (debounced, on a worker), and a
save through ``update`` (which refuses when the file changed on disk since the form
loaded it) or, for a new record, through ``create``."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static

from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError
from crmfiles.records import RECORD_FOLDERS
from crmfiles.tui import ops
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.screens.base import CrmScreen
from crmfiles.tui.screens.dialogs import content_hash, options
from crmfiles.tui.validate import DELETE, candidate_text, field_of, validate

CHECK_DELAY = 0.3  # seconds of quiet typing before the form is checked


class Validated(Message):
    def __init__(
        self, text: str, diagnostics: list[Diagnostic], save: bool, problems: list[str]
    ) -> None:
        super().__init__()
        self.text = text
        self.diagnostics = diagnostics
        self.save = save
        self.problems = problems


class FormScreen(CrmScreen):
    """A record's form; ``record_id`` None makes a new record of ``folder``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "save", "Save", id="edit.save", tooltip="Check and save (commits)"),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
        # the app's screen keys (1-0, $) would leave the form unsaved: here they only
        # say so, and are not in the footer
        Binding("1,2,3,4,5,6,7,8,9,0,dollar_sign", "stay", show=False, id="edit.stay"),
    ]

    def __init__(self, folder: str, record_id: str | None, snapshot: TuiSnapshot) -> None:
        super().__init__()
        self.folder = folder
        self.record_id = record_id
        self.snap = snapshot
        record = snapshot.record(folder, record_id) if record_id is not None else None
        self.path = record.path if record is not None else ""
        self.loaded_text = record.text if record is not None else ""
        self.loaded: dict[str, Any] = dict(record.data) if record is not None else {}
        self.loaded_hash = content_hash(self.loaded_text)
        self._timer: Timer | None = None
        self._checked_text: str | None = None

    @property
    def kind(self) -> str:
        return RECORD_FOLDERS[self.folder]

    # --- building the form ------------------------------------------------------------

    def _field(self, key: str, widget: Widget, label: str = "") -> Iterable[Widget]:
        label = label or key.replace("insight.", "insight: ").replace("_", " ").capitalize()
        yield Vertical(
            Label(label, classes="field-label"), widget, self._error(key), classes="field"
        )

    def _error(self, key: str) -> Static:
        error = Static("", classes="field-error", id=f"err-{key.replace('.', '-')}")
        error.display = False
        return error

    def _choices(self, catalog: str) -> list[tuple[str, str]]:
        """(label, id) of a record folder's records or a catalog's entries."""
        snapshot = self.snap
        if catalog in snapshot.records:
            return options(
                (rid, str(r.data.get("name") or r.data.get("title") or rid))
                for rid, r in snapshot.records[catalog].items()
            )
        return options((cid, snapshot.name(catalog, cid)) for cid in snapshot.catalogs[catalog])

    def value_of(self, key: str) -> Any:
        """What a field shows first: the record's value."""
        return self.loaded.get(key)

    def _select(self, key: str, choices: list[tuple[str, str]]) -> Select[str]:
        current = self.value_of(key)
        if current is not None and str(current) not in {value for _, value in choices}:
            choices = [*choices, (f"{current} (unknown)", str(current))]
        return Select(
            choices,
            value=str(current) if current is not None else Select.NULL,
            prompt="(none)",
            compact=True,
            id=key,
        )

    def _multi(self, key: str, choices: list[tuple[str, str]]) -> SelectionList[str]:
        chosen = [str(v) for v in self.value_of(key) or []]
        known = {value for _, value in choices}
        items = [(label, value, value in chosen) for label, value in choices]
        items += [(f"{c} (unknown)", c, True) for c in chosen if c not in known]
        widget = SelectionList[str](*items, id=key)
        widget.styles.height = min(len(items), 6) + 2
        return widget

    @abstractmethod
    def changes(self) -> tuple[dict[str, Any], list[str]]:
        """What differs from the file as loaded (``DELETE`` for a cleared field), and
        what cannot even be read ("field: why"): each form (edit.py, records.py) says."""

    def setv(self, out: dict[str, Any], key: str, value: Any) -> None:
        if value is DELETE:
            if key in self.loaded:
                out[key] = DELETE
        elif self.loaded.get(key) != value:
            out[key] = value

    def multi_value(self, out: dict[str, Any], key: str) -> None:
        """A multi-select's choice, in the file's order where it was there before."""
        selected = list(self.query_one(f"#{key}", SelectionList).selected)
        old = [str(v) for v in self.loaded.get(key) or []]
        if sorted(selected) != sorted(old):
            new = [v for v in old if v in selected] + [v for v in selected if v not in old]
            self.setv(out, key, new or DELETE)

    # --- checking as you type ---------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    @on(Checkbox.Changed)
    def _edited(self) -> None:
        self.form_changed()
        self._schedule()

    def form_changed(self) -> None:
        """Redraw what follows the fields (totals...)."""

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(CHECK_DELAY, lambda: self._check(save=False))

    def _check(self, save: bool) -> None:
        changes, problems = self.changes()
        if problems:
            self._show([], problems)
            if save:
                self.notify("Not saved: fix the marked fields", severity="error")
            return
        self.query_one("#check-state", Static).update("[dim]checking…[/dim]")
        self.check_worker(changes, save)

    @work(thread=True, exclusive=True, group="validate", exit_on_error=False)
    def check_worker(self, changes: dict[str, Any], save: bool) -> None:
        if self.record_id is not None:
            text = candidate_text(self.loaded_text, changes)
            self.post_message(Validated(text, validate(self.crm.root, self.path, text), save, []))
            return
        from crmfiles.ops.new import template

        fields = {k: v for k, v in changes.items() if v is not DELETE}
        try:
            record = template(self.crm.root, self.folder, fields)
        except CrmError as err:
            self.post_message(Validated("", [], save, [err.message]))
            return
        diagnostics = validate(self.crm.root, record.path, record.text)
        self.post_message(Validated(record.text, diagnostics, save, []))

    @on(Validated)
    def _validated(self, message: Validated) -> None:
        self._checked_text = message.text
        errors = [d for d in message.diagnostics if d.severity == "error"]
        self._show(message.diagnostics, message.problems, message.text)
        if message.save:
            if errors or message.problems:
                why = [d.message for d in errors[:3]] + message.problems
                self.notify(
                    "Not saved: " + "; ".join(why),
                    title="Save refused",
                    severity="error",
                    timeout=10,
                    markup=False,
                )
            else:
                self._save()

    def _show(self, diagnostics: list[Diagnostic], problems: list[str], text: str = "") -> None:
        by_field: dict[str, list[str]] = {}
        loose: list[str] = []
        for problem in problems:
            name, _, message = problem.partition(": ")
            if message and self._error_widget(name) is not None:
                by_field.setdefault(name, []).append(message)
            else:
                loose.append(f"✖ {problem}")
        for d in diagnostics:
            key = field_of(text, d.line) if text else None
            line = f"{'✖' if d.severity == 'error' else '⚠'} {d.message} [{d.rule}]"
            if key is not None and self._error_widget(key) is not None:
                by_field.setdefault(key, []).append(line)
            else:
                loose.append(line)
        for widget in self.query(".field-error"):
            if widget.id and widget.id.startswith("err-"):
                key = widget.id.removeprefix("err-")
                messages = by_field.get(key) or by_field.get(key.replace("-", "."), [])
                cast(Static, widget).update(Text("\n".join(messages)))
                widget.display = bool(messages)
        form_errors = self.query_one("#form-errors", Static)
        form_errors.update(Text("\n".join(loose)))
        form_errors.display = bool(loose)
        count = sum(1 for d in diagnostics if d.severity == "error") + len(problems)
        state = self.query_one("#check-state", Static)
        if count:
            state.update(f"[b red]{count} error{'s' if count != 1 else ''}[/] - saving is refused")
        elif diagnostics:
            state.update("[yellow]warnings only[/] - F2 saves")
        else:
            state.update("[green]✓ valid[/] - F2 saves")

    def _error_widget(self, key: str) -> Widget | None:
        try:
            return self.query_one(f"#err-{key.replace('.', '-')}")
        except Exception:
            return None

    # --- saving -----------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        changes, problems = self.changes()
        if not changes and not problems:
            self.notify("Nothing changed")
            return
        self._check(save=True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()

    def action_stay(self) -> None:
        self.notify("Save (F2) or cancel (Esc) the form first", severity="warning")

    def _save(self) -> None:
        changes, _ = self.changes()

        def done(outcome: ops.Outcome) -> None:
            if outcome.ok:
                self.dismiss()
            else:
                self._show(outcome.diagnostics, [], self._checked_text or "")
                self.notify(
                    outcome.details,
                    title="Save refused",
                    severity="error",
                    timeout=12,
                    markup=False,
                )

        if self.record_id is None:
            fields = {k: v for k, v in changes.items() if v is not DELETE}
            self.crm.run_op(f"New {self.kind}", "create", self.folder, fields, reply=done)
            return
        self.crm.run_op(
            f"Save {self.record_id}",
            "update",
            self.record_id,
            dict(changes),  # DELETE (records.edit's) removes a field
            expected_hash=self.loaded_hash,
            reply=done,
        )
