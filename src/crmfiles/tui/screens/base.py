"""What every screen shares: the app's snapshot, the status bar, and the actions on
an opportunity (new, edit, move, close, reopen, duplicate) with their keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.markup import escape
from textual.binding import Binding, BindingType
from textual.screen import Screen

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.rows import ListRow

if TYPE_CHECKING:
    from crmfiles.tui.app import CrmApp


NO_STAGE = "—"  # a kind without stages (consulting): not a blank to wonder about


def deal_cell(snapshot: TuiSnapshot | None, key: str, column: str) -> str:
    """An opportunity's cell as the lists show it."""
    row = snapshot.rows.get(key) if snapshot else None
    if snapshot is None or row is None:
        return ""
    text = snapshot.cell(row, column)
    return text or NO_STAGE if column == "stage" else text


class CrmScreen(Screen[None]):
    """A screen that redraws when the app's snapshot changes."""

    @property
    def crm(self) -> CrmApp:
        return cast("CrmApp", self.app)

    @property
    def snapshot(self) -> TuiSnapshot | None:
        return self.crm.snapshot

    def on_mount(self) -> None:
        self.watch(self.crm, "snapshot", self._snapshot_changed, init=False)
        if self.snapshot is not None:
            self.show(self.snapshot)

    def _snapshot_changed(self, snapshot: TuiSnapshot | None) -> None:
        if snapshot is not None:
            self.show(snapshot)

    def show(self, snapshot: TuiSnapshot) -> None:
        """Draw the screen from this snapshot."""

    def current_record(self) -> tuple[str, str] | None:
        """The record under the cursor as (folder, id), for the palette's "Set a
        field…": the cursor's row of a table whose id is a record folder (the tasks',
        the leads', the partners' lists), unless a screen says otherwise."""
        from crmfiles.records import RECORD_FOLDERS
        from crmfiles.tui.widgets.table import RecordTable

        for table in self.query(RecordTable):
            if table.id in RECORD_FOLDERS and table.cursor_key is not None:
                return table.id, table.cursor_key
        return None


OPPORTUNITY_BINDINGS: list[BindingType] = [
    Binding("n", "new_opportunity", "New", id="opp.new", tooltip="New opportunity"),
    Binding("e", "edit", "Edit", id="opp.edit", tooltip="Edit the opportunity"),
    Binding("m", "move", "Move", id="opp.move", tooltip="Move to a stage (commits)"),
    Binding("c", "close", "Close", id="opp.close", tooltip="Close as won or lost"),
    Binding("r", "reopen", "Reopen", id="opp.reopen", tooltip="Reopen a closed opportunity"),
    Binding("d", "duplicate", "Copy", id="opp.duplicate", tooltip="Duplicate the opportunity"),
]


class OpportunityActions(CrmScreen):
    """Screens showing one current opportunity get its actions."""

    BINDINGS: ClassVar[list[BindingType]] = OPPORTUNITY_BINDINGS

    def current_id(self) -> str | None:
        """The opportunity under the cursor; each screen says which (none here)."""
        return None

    def current_record(self) -> tuple[str, str] | None:
        rid = self.current_id()
        return ("opportunities", rid) if rid else None

    def current(self) -> ListRow | None:
        rid = self.current_id()
        snapshot = self.snapshot
        return snapshot.rows.get(rid) if snapshot and rid else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what fits the opportunity under the cursor shows in the footer: a
        closed one is read-only and can only be reopened or duplicated."""
        if action in ("edit", "move", "close", "reopen", "duplicate"):
            row = self.current()
            if row is None:
                return None
            # (the row's facts: no file is read for the footer of a cursor move)
            closed = bool(row.facts.get("closed"))
            if action == "reopen":
                return closed or row.facts.get("status") != "in_progress"
            if action in ("edit", "move", "close"):
                return not closed
        return True

    def current_changed(self) -> None:
        """Redraw the footer when the opportunity under the cursor allows other
        actions than the one before (rebuilding the footer on every cursor move costs
        a frame)."""
        row = self.current()
        state = None if row is None else (bool(row.facts.get("closed")), row.facts.get("status"))
        if state != getattr(self, "_actions_for", ()):
            self._actions_for = state
            self.refresh_bindings()

    def _need(self) -> ListRow | None:
        row = self.current()
        if row is None:
            self.notify("No opportunity selected", severity="warning")
        return row

    def action_new_opportunity(self) -> None:
        from crmfiles.tui.screens.actions import NewOpportunityDialog

        self.app.push_screen(NewOpportunityDialog())

    def action_edit(self) -> None:
        from crmfiles.tui.screens.edit import EditScreen

        row = self._need()
        if row is not None and self.snapshot is not None:
            self.app.push_screen(EditScreen(row.id, self.snapshot))

    def edit_partner(self) -> None:
        from crmfiles.tui.screens.records import open_form

        row = self._need()
        if row is not None and row.data.get("partner"):
            open_form(self.app, "partners", str(row.data["partner"]))

    def log_interaction(self) -> None:
        from crmfiles.tui.screens.records import open_form

        row = self._need()
        if row is not None:
            preset = {"opportunity": row.id, "partner": row.data.get("partner")}
            if row.data.get("contacts"):  # whom one talks to, most likely
                preset["contacts"] = row.data["contacts"]
            if self.crm.me:
                preset["responsible"] = self.crm.me
            open_form(self.app, "interactions", None, **preset)

    def new_task(self) -> None:
        from crmfiles.tui.screens.records import open_form

        row = self._need()
        if row is not None:
            preset: dict[str, Any] = {"subject": {"type": "opportunity", "id": row.id}}
            if self.crm.me:
                preset["assignee"] = self.crm.me
            open_form(self.app, "tasks", None, **preset)

    def action_move(self) -> None:
        from crmfiles.tui.screens.actions import MoveDialog

        row = self._need()
        if row is not None:
            self.app.push_screen(MoveDialog(row.id))

    def action_close(self, outcome: str = "") -> None:
        from crmfiles.tui.screens.actions import CloseDialog

        row = self._need()
        if row is not None:
            self.app.push_screen(CloseDialog(row.id, won=outcome == "won" if outcome else None))

    def action_reopen(self) -> None:
        from crmfiles.tui.screens.dialogs import ConfirmDialog

        row = self._need()
        if row is None:
            return
        rid = row.id

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.crm.run_op(f"Reopen {rid}", "reopen", rid)

        self.app.push_screen(
            ConfirmDialog(
                f"Reopen [b]{escape(str(row.data.get('name', rid)))}[/b]?",
                "Only a manager may reopen a closed opportunity; history keeps the step.",
                "Reopen",
            ),
            confirmed,
        )

    def action_duplicate(self) -> None:
        from crmfiles.tui.screens.actions import DuplicateDialog

        row = self._need()
        if row is not None:
            self.app.push_screen(DuplicateDialog(row.id))

    def palette_commands(self) -> list[tuple[str, Any, str]]:
        return [
            ("Edit partner", self.edit_partner, "The form of the opportunity's partner"),
            ("Log an interaction", self.log_interaction, "A call, meeting... on this deal"),
            ("New task on this deal", self.new_task, "A task about the opportunity, yours"),
            ("Close as won", lambda: self.action_close("won"), "Close the opportunity as won"),
            ("Close as lost", lambda: self.action_close("lost"), "Close it as lost, with a reason"),
        ]
