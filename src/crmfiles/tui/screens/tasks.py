"""My tasks: the open tasks of the person configured as me, by due date, the
highlighted one's subject, due date, start and instructions in a panel under the list;
mark one done with a result (the ``update`` operation)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Static

from crmfiles.tui.columns import sort_key
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.screens.base import CrmScreen
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar
from crmfiles.tui.widgets.table import Column, RecordTable

# on a narrow screen the assignee (mostly me) goes first, the due date never
COLUMNS = [
    Column("due", "Due", 10, priority=0),
    Column("title", "Task", 30, flexible=True, priority=0),
    Column("subject", "About", 24, priority=1, fixed=True),  # an id in it stays whole
    Column("importance", "Importance", 10, priority=3),
    Column("assignee", "Assignee", 14, priority=4),
    Column("state", "State", 10, priority=2, fixed=True),  # "started ·…" at least
]


def quote_name(snapshot: TuiSnapshot, quote_id: str) -> str:
    """A quote as a task's subject: its id, whole (the About column is never narrowed
    below it), then its deal's name, which a narrow column cuts."""
    quote = snapshot.records["quotes"].get(quote_id)
    deal = quote.data.get("opportunity") if quote else None
    return f"{quote_id} · {snapshot.name('opportunities', deal)}" if deal else quote_id


def moment(value: object) -> str:
    """A date-time as the reader's clock shows it, to the minute
    ("2026-12-06 08:43"); a plain date as it is; text that is no date-time as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        local = value.astimezone() if value.tzinfo else value
        return f"{local:%Y-%m-%d %H:%M}"
    return str(value)


class TasksScreen(CrmScreen):
    DEFAULT_CSS = """
    TasksScreen #tasks { height: 1fr; }
    TasksScreen #task-detail {
        height: 8;
        border-top: solid $primary;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", id="tasks.edit", tooltip="Edit the task"),
        Binding("n", "new", "New", id="tasks.new", tooltip="A new task"),
        Binding("x,space", "done", "Done", id="tasks.done", tooltip="Mark done, with a result"),
        Binding("s", "start", "Start", id="tasks.start", tooltip="Record that work began (now)"),
        Binding(
            "a",
            "toggle_all",
            "All/mine",
            id="tasks.all",
            tooltip="Everyone's open tasks, or only mine",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.everyone = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="tasks-title")
        yield RecordTable(self._cell, self._mark, id="tasks")
        yield Static(id="task-detail")
        yield StatusBar()
        yield CrmFooter()

    @property
    def table(self) -> RecordTable:
        return self.query_one("#tasks", RecordTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.crm, "me", self._me_changed, init=False)
        self.table.focus()

    def _me_changed(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)

    def _cell(self, key: str, column: str) -> str:
        snapshot = self.snapshot
        task = snapshot.records["tasks"].get(key) if snapshot else None
        if snapshot is None or task is None:
            return ""
        data = task.data
        if column == "subject":
            subject = data.get("subject")
            if isinstance(subject, dict):
                folder = {
                    "opportunity": "opportunities",
                    "partner": "partners",
                    "lead": "leads",
                    "contact": "contacts",
                    "quote": "quotes",
                    "interaction": "interactions",
                }.get(str(subject.get("type")), "")
                if folder == "quotes":
                    return quote_name(snapshot, str(subject.get("id")))
                return (
                    snapshot.name(folder, subject.get("id")) if folder else str(subject.get("id"))
                )
            return ""
        if column == "assignee":
            return snapshot.name("people", data.get("assignee"))
        if column == "state":
            if data.get("completed"):
                return "done"
            due = str(data.get("due") or "")
            late = bool(due and due < self.crm.today().isoformat())
            states = ["started"] if data.get("started") else []
            return " · ".join(states + ["overdue"] * late)
        return str(data.get(column) or "")

    def _mark(self, key: str) -> str:
        return "!" if "overdue" in self._cell(key, "state") else ""

    def show(self, snapshot: TuiSnapshot) -> None:
        me = self.crm.me
        tasks = [
            t
            for t in snapshot.records["tasks"].values()
            if not t.data.get("completed")
            and (self.everyone or me is None or t.data.get("assignee") == me)
        ]
        tasks.sort(key=lambda t: (sort_key(t.data.get("due")), str(t.data.get("title"))))
        self.table.set_columns(COLUMNS)  # measured afresh: room to spare for the names
        self.table.set_rows([t.id for t in tasks])
        self.table.measure(self.table.keys, keep_widths=True)
        self._highlighted()  # the task under the cursor may have changed, not the cursor
        title = Text(no_wrap=True)
        who = "everyone" if self.everyone or me is None else snapshot.name("people", me)
        title.append(f" Open tasks: {who} ", style="bold reverse")
        title.append(f"  {len(tasks)} open, by due date", style="dim")
        if me is None:
            title.append(
                "   (who is me? set `me:` in crm.yaml, or put your git e-mail in "
                "catalogs/people.yaml)",
                style="yellow",
            )
        self.query_one("#tasks-title", Static).update(title)

    @on(RecordTable.Highlighted, "#tasks")
    def _highlighted(self) -> None:
        self.query_one("#task-detail", Static).update(self._detail(self.table.cursor_key))

    def _detail(self, key: str | None) -> Text:
        """What the highlighted task asks: its title, what it is about, when it is due
        and was started, and its instructions."""
        snapshot = self.snapshot
        task = snapshot.records["tasks"].get(key) if snapshot and key else None
        if task is None:
            return Text("No open task.", style="dim")
        data = task.data
        text = Text(str(data.get("title") or task.id), style="bold")
        about = self._cell(task.id, "subject")
        if about:
            text.append("\nAbout: ", style="dim")
            text.append(about)
        text.append("\n")
        for label, value in (
            ("Due", str(data.get("due") or "")),
            ("Started", moment(data.get("started"))),
            ("Importance", str(data.get("importance") or "")),
        ):
            if value:
                text.append(f"{label}: ", style="dim")
                text.append(value)
                if label == "Due" and "overdue" in self._cell(task.id, "state"):
                    text.append(" (overdue)", style="bold red")
                text.append("   ")
        instructions = str(data.get("instructions") or "").strip()
        text.append("\n")
        text.append(instructions or "No instructions.", style="" if instructions else "dim")
        return text

    def action_edit(self) -> None:
        from crmfiles.tui.screens.records import open_form

        key = self.table.cursor_key
        if key is not None:
            open_form(self.app, "tasks", key)

    def action_new(self) -> None:
        from crmfiles.tui.screens.records import open_form

        preset = {"assignee": self.crm.me} if self.crm.me else {}
        open_form(self.app, "tasks", None, **preset)

    def action_toggle_all(self) -> None:
        self.everyone = not self.everyone
        if self.snapshot is not None:
            self.show(self.snapshot)

    def action_start(self) -> None:
        """``crm task start``: the same operation, for the highlighted task."""
        key = self.table.cursor_key
        if key is not None:
            self.crm.run_op(f"Start {key}", "task_start", key)

    def action_done(self) -> None:
        from crmfiles.tui.screens.actions import TaskDoneDialog

        key = self.table.cursor_key
        if key is not None:
            self.app.push_screen(TaskDoneDialog(key))

    @on(RecordTable.Selected, "#tasks")
    def _open(self, event: RecordTable.Selected) -> None:

        snapshot = self.snapshot
        task = snapshot.records["tasks"].get(event.key) if snapshot else None
        subject = task.data.get("subject") if task else None
        if (
            snapshot is not None
            and isinstance(subject, dict)
            and subject.get("type") == "opportunity"
            and subject.get("id") in snapshot.rows
        ):
            self.crm.open_record(str(subject["id"]))
