"""``b`` on a record: every field, who last changed it, when, in which commit and what
it was before (:mod:`crmfiles.history.blame`, as ``crm blame ID``), read in a worker."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from crmfiles.errors import CrmError
from crmfiles.history.blame import show


def blame_table(root: Path, record_id: str) -> RenderableType:
    """The record's fields and their last change; a message when git cannot say."""
    from crmfiles.history.blame import blame

    try:
        found = blame(root, f"opportunities/{record_id}")
    except CrmError as error:
        return Text(str(error), style="red")
    except Exception as exc:  # a history that cannot be read is a message, not a crash
        return Text(f"Cannot read the history: {exc}", style="red")
    table = Table(expand=True)
    for column in ("Field", "Value", "By", "When", "Commit", "Before"):
        table.add_column(column, no_wrap=column in ("Field", "When", "Commit"))
    for field in found.fields:
        table.add_row(
            field.field,
            show(field.value, 40),
            field.change.author,
            field.change.date.strftime("%Y-%m-%d %H:%M"),
            field.change.commit[:10],
            Text("(new)", style="dim") if field.added else show(field.previous, 30),
        )
    head = Text(f"{found.path}  ({found.versions} commits)", style="dim")
    return Group(head, table)


class BlameLoaded(Message):
    def __init__(self, renderable: RenderableType) -> None:
        super().__init__()
        self.renderable = renderable


class BlameScreen(ModalScreen[None]):
    HELP_TITLE = "Blame"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b,q", "dismiss", "Close", key_display="esc", id="blame.close"),
    ]

    def __init__(self, root: Path, record_id: str) -> None:
        super().__init__()
        self.root = root
        self.record_id = record_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Static(
                Text(f"Who last changed each field: {self.record_id}", style="bold"),
                classes="dialog-title",
            )
            with VerticalScroll():
                yield Static(Text("Reading git history…", style="dim"), id="blame-body")

    def on_mount(self) -> None:
        self.load(self.root, self.record_id)

    @work(thread=True, exclusive=True, group="blame", exit_on_error=False)
    def load(self, root: Path, record_id: str) -> None:
        self.post_message(BlameLoaded(blame_table(root, record_id)))

    @on(BlameLoaded)
    def _loaded(self, message: BlameLoaded) -> None:
        self.query_one("#blame-body", Static).update(message.renderable)
