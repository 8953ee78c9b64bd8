"""The dialog box every dialog is (fields, an error area, OK and Cancel; F2 and
escape), and the dialogs that only choose: confirm, pick one, filter.  The dialogs
that run an operation are in :mod:`crmfiles.tui.screens.actions`."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Input,
    Label,
    OptionList,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from crmfiles.tui import ops
from crmfiles.tui.columns import FILTERS
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.widgets.footer import CrmFooter

if TYPE_CHECKING:
    from crmfiles.tui.app import CrmApp

T = TypeVar("T")


def number(value: Decimal) -> int | float:
    """A money amount as YAML writes it: an integer when whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def options(entries: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(label, value) pairs for a Select, sorted by label."""
    return sorted(((label, value) for value, label in entries), key=lambda o: o[0].casefold())


BODY_MAX = 30  # lines of fields at most, however tall the screen


class DialogBody(VerticalScroll, can_focus=False):
    """The fields scroll; the keyboard goes to the fields, not to the scroll area."""


class Dialog(ModalScreen[T]):
    """A titled box with fields, an error area, and OK / Cancel."""

    AUTO_FOCUS = "Input, OptionList, RadioSet, Select, SelectionList"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("f2", "submit", "OK", id="dialog.ok", tooltip="Confirm (also the OK button)"),
    ]
    TITLE_TEXT = ""
    OK_LABEL = "OK"

    @property
    def crm(self) -> CrmApp:
        return cast("CrmApp", self.app)

    @property
    def snap(self) -> TuiSnapshot:
        snapshot = self.crm.snapshot
        assert snapshot is not None
        return snapshot

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.TITLE_TEXT, classes="dialog-title")
            with DialogBody(classes="dialog-body"):
                yield from self.fields()
            yield Static("", classes="dialog-errors", id="errors")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.OK_LABEL, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")
        yield CrmFooter()

    def fields(self) -> Iterable[Widget]:
        return ()

    def field(self, label: str, widget: Widget) -> Iterable[Widget]:
        yield Vertical(Label(label, classes="field-label"), widget, classes="field")

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        """Check the form and run the operation."""

    def error(self, text: str) -> None:
        errors = self.query_one("#errors", Static)
        errors.update(Text(text))
        errors.display = bool(text)
        self.call_after_refresh(self._fit)

    def on_mount(self) -> None:
        self.query_one("#errors", Static).display = False
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """The fields get what the screen leaves (they scroll), so that the title, an
        error and the buttons are always on it, on 24 lines too."""
        if not self.is_attached:
            return
        box = self.query_one(".dialog")
        limit = (
            int(box.styles.max_height.resolve(self.size, self.size))
            if box.styles.max_height
            else self.size.height
        )
        taken = box.styles.gutter.height
        for part in box.children:
            if part.display and not isinstance(part, DialogBody):
                taken += part.outer_size.height
        room = max(3, min(BODY_MAX, limit - taken))
        body = self.query_one(DialogBody)
        if body.styles.max_height != room:
            body.styles.max_height = room

    def run(self, label: str, operation: str, *args: Any, **kwargs: Any) -> None:
        """Run the operation; close on success, show the refusal otherwise."""
        self.error("")
        self.query_one("#ok", Button).disabled = True

        def done(outcome: ops.Outcome) -> None:
            if not self.is_attached:
                return
            self.query_one("#ok", Button).disabled = False
            if outcome.ok:
                self.dismiss(cast(T, outcome))
            else:
                self.error(outcome.details)

        if not self.crm.run_op(label, operation, *args, reply=done, **kwargs):
            self.query_one("#ok", Button).disabled = False

    def value(self, selector: str) -> str:
        widget = self.query_one(selector)
        if isinstance(widget, Input):
            return widget.value.strip()
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        raise TypeError(selector)


class ConfirmDialog(Dialog[bool]):
    def __init__(self, question: str, detail: str = "", ok: str = "OK") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.OK_LABEL = ok

    def fields(self) -> Iterable[Widget]:
        yield Static(self.question)
        if self.detail:
            yield Static(self.detail, classes="dim")

    def action_submit(self) -> None:
        self.dismiss(True)


class PickDialog(Dialog[str]):
    """Choose one value from a list (sort column, stage...)."""

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str = "") -> None:
        super().__init__()
        self.TITLE_TEXT = title
        self.choices = choices
        self.current = current

    def fields(self) -> Iterable[Widget]:
        items = [
            Option(("● " if value == self.current else "  ") + label, id=value)
            for value, label in self.choices
        ]
        yield OptionList(*items, id="pick")

    def on_mount(self) -> None:
        super().on_mount()
        pick = self.query_one("#pick", OptionList)
        ids = [value for value, _ in self.choices]
        pick.highlighted = ids.index(self.current) if self.current in ids else 0
        pick.focus()

    @on(OptionList.OptionSelected, "#pick")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_submit(self) -> None:
        pick = self.query_one("#pick", OptionList)
        if pick.highlighted is not None:
            self.dismiss(pick.get_option_at_index(pick.highlighted).id)


class FilterDialog(Dialog[dict[str, list[str]]]):
    TITLE_TEXT = "Filter opportunities"
    OK_LABEL = "Apply"

    def __init__(self, current: dict[str, list[str]]) -> None:
        super().__init__()
        self.current = current

    def _choices(self, key: str) -> list[tuple[str, str]]:
        snap = self.snap
        if key == "status":
            return [("open", "in_progress"), ("won", "won"), ("lost", "lost")]
        catalog = {"stage": "stages", "responsible": "people", "tag": "tags", "kind": "kinds"}
        return options((k, snap.name(catalog[key], k)) for k in snap.catalogs[catalog[key]])

    def fields(self) -> Iterable[Widget]:
        for key in FILTERS:
            values = self.current.get(key) or []
            choices = self._choices(key)
            known = {value for _, value in choices}
            initial: Any = values[0] if len(values) == 1 and values[0] in known else Select.NULL
            yield from self.field(
                key.title() + (f"  (view: {', '.join(values)})" if len(values) > 1 else ""),
                Select(choices, prompt="any", value=initial, id=f"f-{key}"),
            )

    def action_submit(self) -> None:
        chosen: dict[str, list[str]] = {}
        for key in FILTERS:
            value = self.value(f"#f-{key}")
            if value:
                chosen[key] = [value]
            elif len(self.current.get(key) or []) > 1:
                chosen[key] = list(self.current[key])
        self.dismiss(chosen)


def content_hash(text: str) -> str:
    """What ``update`` compares to refuse a save over someone else's edit."""
    from crmfiles.ops.edit import content_hash as of

    return of(text)
