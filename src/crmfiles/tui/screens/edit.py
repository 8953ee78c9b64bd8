"""Edit an opportunity: a form that validates as you type with the same engine as
``crm validate`` (debounced, on a worker), shows each message under its field, and
saves through ``update``, which refuses when the file changed on disk meanwhile."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, cast

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Header, Input, Label, Select, SelectionList, Static

from crmfiles.diagnostics import Diagnostic
from crmfiles.money import decimal
from crmfiles.tui import ops
from crmfiles.tui.data import Snapshot, mapping
from crmfiles.tui.screens.base import CrmScreen
from crmfiles.tui.screens.dialogs import content_hash, number, options
from crmfiles.tui.screens.lines import CompetitorsList, ItemList, LinesList, totals_widget
from crmfiles.tui.validate import DELETE, candidate_text, field_of, validate
from crmfiles.tui.widgets.footer import CrmFooter

CHECK_DELAY = 0.3  # seconds of quiet typing before the form is checked

TEXT = ("name", "site", "next_milestone", "comment")
DATES = ("opened", "expected_close")
PRODUCTION = ("production_start", "production_end")
PICKS = {
    "partner": "partners",
    "responsible": "people",
    "currency": "currencies",
    "terms": "terms",
    "channel": "channels",
    "establishment": "establishments",
    "sector": "sectors",
    "family": "families",
    "sub_family": "sub-families",
}
MULTI = {"contacts": "contacts", "team": "people", "tags": "tags"}
INSIGHT = ("problem", "pain", "reasons", "impacts", "capabilities")


class Validated(Message):
    def __init__(self, text: str, diagnostics: list[Diagnostic], save: bool) -> None:
        super().__init__()
        self.text = text
        self.diagnostics = diagnostics
        self.save = save


class EditScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "save", "Save", id="edit.save", tooltip="Check and save (commits)"),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
    ]

    def __init__(self, record_id: str, snapshot: Snapshot) -> None:
        super().__init__()
        self.record_id = record_id
        record = snapshot.records["opportunities"][record_id]
        self.path = record.path
        self.loaded_text = record.text
        self.loaded = dict(record.data)
        self.loaded_hash = content_hash(record.text)
        self._timer: Timer | None = None
        self._errors: list[Diagnostic] = []
        self._checked_text: str | None = None

    # --- the form ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        snapshot = cast(Snapshot, self.snapshot)
        data = self.loaded
        yield Header()
        yield Static(
            f"[b]Edit {escape(str(data.get('name', self.record_id)))}[/b]   {self.path}   "
            "[dim]stage and status change with Move and Close[/dim]",
            id="edit-title",
        )
        yield Static("", id="check-state")
        yield Static("", id="form-errors", classes="field-error")
        with VerticalScroll(id="form"):
            yield from self._field(
                "name", Input(compact=True, value=str(data.get("name") or ""), id="name")
            )
            with Horizontal(classes="pair"):
                yield from self._field(
                    "probability",
                    Input(
                        compact=True,
                        value=str(data.get("probability", "")),
                        id="probability",
                        placeholder="0-99",
                    ),
                )
                yield from self._field(
                    "amount",
                    Input(
                        str(data.get("amount", "")),
                        compact=True,
                        id="amount",
                        placeholder="empty: the sum of the lines",
                    ),
                )
            with Vertical(classes="field"):
                yield Label("Lines", classes="field-label")
                yield totals_widget()
                yield LinesList(snapshot, data.get("lines"), id="lines")
                yield self._error("lines")
            for pair in (DATES, PRODUCTION):
                with Horizontal(classes="pair"):
                    for key in pair:
                        yield from self._field(
                            key,
                            Input(
                                compact=True,
                                value=str(data.get(key) or ""),
                                id=key,
                                placeholder="YYYY-MM-DD",
                            ),
                        )
            for key, catalog in PICKS.items():
                yield from self._field(key, self._select(snapshot, key, catalog))
            for key, catalog in MULTI.items():
                yield from self._field(key, self._multi(snapshot, key, catalog))
            yield from self._field(
                "competitors", CompetitorsList(snapshot, data.get("competitors"), id="competitors")
            )
            for key in ("site", "next_milestone", "comment"):
                yield from self._field(
                    key, Input(compact=True, value=str(data.get(key) or ""), id=key)
                )
            insight = mapping(data.get("insight"))
            for key in INSIGHT:
                yield from self._field(
                    f"insight.{key}",
                    Input(compact=True, value=str(insight.get(key) or ""), id=f"insight-{key}"),
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (F2)", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
        yield CrmFooter()

    def _field(self, key: str, widget: Widget) -> Iterable[Widget]:
        label = key.replace("insight.", "insight: ").replace("_", " ").capitalize()
        yield Vertical(
            Label(label, classes="field-label"), widget, self._error(key), classes="field"
        )

    def _error(self, key: str) -> Static:
        error = Static("", classes="field-error", id=f"err-{key.replace('.', '-')}")
        error.display = False
        return error

    def _select(self, snapshot: Snapshot, key: str, catalog: str) -> Select[str]:
        if catalog in snapshot.records:
            choices = options(
                (rid, str(r.data.get("name") or rid))
                for rid, r in snapshot.records[catalog].items()
            )
        else:
            choices = options(
                (cid, snapshot.name(catalog, cid)) for cid in snapshot.catalogs[catalog]
            )
        current = self.loaded.get(key)
        values = {value for _, value in choices}
        if current is not None and str(current) not in values:
            choices.append((f"{current} (unknown)", str(current)))
        return Select(
            choices,
            value=str(current) if current is not None else Select.NULL,
            prompt="(none)",
            compact=True,
            id=key,
        )

    def _multi(self, snapshot: Snapshot, key: str, catalog: str) -> SelectionList[str]:
        chosen = [str(v) for v in self.loaded.get(key) or []]
        if catalog in snapshot.records:
            entries = {
                rid: str(r.data.get("name") or rid)
                for rid, r in snapshot.records[catalog].items()
                if key != "contacts"
                or r.data.get("partner") == self.loaded.get("partner")
                or rid in chosen
            }
        else:
            entries = {cid: snapshot.name(catalog, cid) for cid in snapshot.catalogs[catalog]}
        items = [(label, value, value in chosen) for label, value in options(entries.items())]
        items += [(f"{c} (unknown)", c, True) for c in chosen if c not in entries]
        widget = SelectionList[str](*items, id=key)
        widget.styles.height = min(len(items), 6) + 2
        return widget

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#name", Input).focus()
        self._show_totals()
        self._schedule()

    # --- reading the form -------------------------------------------------------------

    def changes(self) -> tuple[dict[str, Any], list[str]]:
        """What differs from the file as loaded (``DELETE`` for a cleared field), and
        what cannot even be read (a probability that is not a number...)."""
        data = self.loaded
        out: dict[str, Any] = {}
        problems: list[str] = []

        def setv(key: str, value: Any) -> None:
            if value is DELETE:
                if key in data:
                    out[key] = DELETE
            elif data.get(key) != value:
                out[key] = value

        for key in (*TEXT, *DATES, *PRODUCTION):
            value = self.query_one(f"#{key}", Input).value.strip()
            setv(key, value if value else DELETE)
        probability = self.query_one("#probability", Input).value.strip()
        if probability and not probability.lstrip("-").isdigit():
            problems.append("probability: a whole number")
        else:
            setv("probability", int(probability) if probability else DELETE)
        amount_text = self.query_one("#amount", Input).value.strip().replace(",", "")
        amount = decimal(amount_text) if amount_text else None
        if amount_text and amount is None:
            problems.append("amount: not a number")
        elif amount is None:
            setv("amount", DELETE)
        elif decimal(data.get("amount")) != amount:
            out["amount"] = number(amount)
        for key in PICKS:
            select = self.query_one(f"#{key}", Select)
            setv(key, DELETE if select.value is Select.NULL else str(select.value))
        for key in MULTI:
            selected = list(self.query_one(f"#{key}", SelectionList).selected)
            old = [str(v) for v in data.get(key) or []]
            if sorted(selected) != sorted(old):
                out[key] = [v for v in old if v in selected] + [
                    v for v in selected if v not in old
                ] or DELETE
        insight_old = mapping(data.get("insight"))
        insight = dict(insight_old)
        for key in INSIGHT:
            value = self.query_one(f"#insight-{key}", Input).value.strip()
            if value:
                insight[key] = value
            else:
                insight.pop(key, None)
        for key in ("lines", "competitors"):
            items = self.query_one(f"#{key}", ItemList).items
            if items != (data.get(key) or []):
                out[key] = items or DELETE
        if insight != insight_old:
            out["insight"] = insight or DELETE
        if "amount" in out and out["amount"] is DELETE and "amount" not in data:
            del out["amount"]
        return out, problems

    # --- checking as you type ---------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    @on(ItemList.Changed)
    def _edited(self) -> None:
        self._show_totals()
        self._schedule()

    def _show_totals(self) -> None:
        """Lines total, weighted amount and margin, live as the form changes."""
        amount = decimal(self.query_one("#amount", Input).value.strip().replace(",", ""))
        probability_text = self.query_one("#probability", Input).value.strip()
        probability = int(probability_text) if probability_text.isdigit() else None
        currency = self.query_one("#currency", Select).value
        code = (
            str(currency) if currency is not Select.NULL else cast(Snapshot, self.snapshot).currency
        )
        lines = self.query_one("#lines", LinesList)
        self.query_one("#lines-totals", Static).update(lines.totals(amount, probability, code))

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
        text = candidate_text(self.loaded_text, changes)
        self.check_worker(text, save)

    @work(thread=True, exclusive=True, group="validate", exit_on_error=False)
    def check_worker(self, text: str, save: bool) -> None:
        diagnostics = validate(self.crm.root, self.path, text)
        self.post_message(Validated(text, diagnostics, save))

    @on(Validated)
    def _validated(self, message: Validated) -> None:
        self._checked_text = message.text
        errors = [d for d in message.diagnostics if d.severity == "error"]
        self._errors = errors
        self._show(message.diagnostics, [], message.text)
        if message.save:
            if errors:
                self.notify(
                    "Not saved: " + "; ".join(d.message for d in errors[:3]),
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
            by_field.setdefault(name, []).append(message)
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

    def _save(self) -> None:
        changes, _ = self.changes()
        fields = dict(changes)  # DELETE (records.edit's) removes a field

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

        self.crm.run_op(
            f"Save {self.record_id}",
            "update",
            self.record_id,
            fields,
            expected_hash=self.loaded_hash,
            reply=done,
        )
