"""The crmfiles TUI: ``run(root)`` opens it on a CRM repository.

Everything slow (reading 10,000 records, git, committing) runs in thread workers
that report back with messages (:mod:`crmfiles.tui.workers`); the UI thread only swaps
in what they built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

from crmfiles.tui.commands import CrmCommands
from crmfiles.tui.data import Today
from crmfiles.tui.safety import escape_control_codes
from crmfiles.tui.workers import BackgroundApp

escape_control_codes()

if TYPE_CHECKING:
    from crmfiles.tui.screens.record import RecordScreen


class CrmApp(BackgroundApp):
    """A salesperson's day: the pipeline, the board, the records, the tasks."""

    CSS_PATH = "crm.tcss"
    TITLE = "crmfiles"
    COMMANDS = App.COMMANDS | {CrmCommands}
    COMMAND_PALETTE_DISPLAY = "ctrl+p"
    MODES: ClassVar[dict[str, Any]] = {}  # filled below, after the screens import
    DEFAULT_MODE = "opportunities"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('opportunities')", "List", id="go.list", tooltip="Opportunities"),
        Binding("2", "show('kanban')", "Board", id="go.kanban", tooltip="Kanban by stage"),
        Binding("3", "show('funnel')", "Funnel", id="go.funnel"),
        Binding("4", "show('forecast')", "Forecast", id="go.forecast"),
        Binding("5", "show('tasks')", "Tasks", id="go.tasks", tooltip="My open tasks"),
        Binding("6", "show('leads')", "Leads", id="go.leads"),
        # 7-0 only in the palette and `?`: at 80 columns the footer has no room left
        Binding(
            "7",
            "show('partners')",
            "Partners",
            show=False,
            id="go.partners",
            tooltip="Partners with their open deals",
        ),
        Binding(
            "8",
            "show('interactions')",
            "Interactions",
            show=False,
            id="go.interactions",
            tooltip="Calls, meetings, e-mails…, newest first",
        ),
        Binding(
            "9",
            "show('dropoff')",
            "Drop-off",
            show=False,
            id="go.dropoff",
            tooltip="Where deals leave the pipeline (crm report dropoff)",
        ),
        Binding(
            "0",
            "show('winloss')",
            "Win/loss",
            show=False,
            id="go.winloss",
            tooltip="Why deals are won or lost (crm report winloss)",
        ),
        Binding(
            "dollar_sign",
            "show('documents')",
            "Quotes, orders and invoices",
            show=False,
            key_display="$",
            id="go.documents",
            tooltip="Every quote, order and invoice, by status, with totals",
        ),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            priority=True,
            id="app.palette",
            tooltip="Every action, searchable (also :)",
        ),
        Binding(
            "colon",
            "command_palette",
            "Commands",
            show=False,
            key_display=":",
            id="app.palette_colon",
        ),
        Binding(
            "B",
            "toggle_branch_mode",
            "Branch",
            id="app.branch",
            tooltip="Put each change on its own crm/<id>-<stage> branch for a pull request",
        ),
        Binding("R", "reload", "Reload", show=False, id="app.reload"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        root: Path,
        *,
        today: Today | None = None,
        poll_interval: float | None = 2.0,
    ) -> None:
        super().__init__(root, today=today, poll_interval=poll_interval)
        self._record_screens: dict[str, RecordScreen] = {}

    # --- actions ----------------------------------------------------------------------

    def open_record(
        self, record_id: str, tab: str = "general", document: tuple[str, str] | None = None
    ) -> None:
        """The record screen on ``record_id`` (on ``tab``, the cursor on ``document``):
        one screen per mode, kept and reused."""
        from crmfiles.tui.screens.record import RecordScreen

        name = f"record-{self.current_mode}"
        screen = self._record_screens.get(name)
        if screen is None:
            screen = self._record_screens[name] = RecordScreen(record_id)
            self.install_screen(screen, name)
        elif screen in self.screen_stack:
            screen = RecordScreen(record_id)  # already open below: a throwaway one
        screen.open(record_id, tab, document)
        self.push_screen(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the screen you are on needs no key in the footer; a record opened from it does
        here = parameters and parameters[0] == self.current_mode and len(self.screen_stack) == 1
        return not (action == "show" and here)

    def action_show(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)
        else:  # back to the list from a record (or what was opened from it)
            while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
                self.pop_screen()
        self.refresh_bindings()

    def action_toggle_branch_mode(self) -> None:
        self.branch_mode = not self.branch_mode
        state = "on: each change goes on a new crm/ branch" if self.branch_mode else "off"
        self.notify(f"Branch mode {state}")

    def action_reload(self) -> None:
        self.load()

    def action_help(self) -> None:
        from crmfiles.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def _modes() -> dict[str, Any]:
    from crmfiles.tui.screens.documents import DocumentsScreen
    from crmfiles.tui.screens.interactions import InteractionsScreen
    from crmfiles.tui.screens.kanban import KanbanScreen
    from crmfiles.tui.screens.leads import LeadsScreen
    from crmfiles.tui.screens.opportunities import OpportunitiesScreen
    from crmfiles.tui.screens.outcomes import DropoffScreen, WinLossScreen
    from crmfiles.tui.screens.partners import PartnersScreen
    from crmfiles.tui.screens.reports import ForecastScreen, FunnelScreen
    from crmfiles.tui.screens.tasks import TasksScreen

    return {
        "opportunities": OpportunitiesScreen,
        "kanban": KanbanScreen,
        "funnel": FunnelScreen,
        "forecast": ForecastScreen,
        "tasks": TasksScreen,
        "leads": LeadsScreen,
        "partners": PartnersScreen,
        "interactions": InteractionsScreen,
        "dropoff": DropoffScreen,
        "winloss": WinLossScreen,
        "documents": DocumentsScreen,
    }


CrmApp.MODES = _modes()


def run(root: Path) -> int:
    """Open the TUI on the repository at ``root``; the exit status for the shell."""
    # the TUI owns the terminal: no progress bar of a long read may draw over it
    os.environ["CRM_PROGRESS"] = "0"
    app = CrmApp(Path(root))
    result = app.run()
    return int(result or 0) if app.return_code is None else int(app.return_code)
