"""The status bar: git state, pending work, branch mode, who "me" is."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from crmfiles.tui.app import CrmApp


def _who(app: CrmApp) -> Text:
    """Who commits here: the person git's e-mail is in people, or plainly nobody (then
    lint reports this user's stage changes as author-not-allowed)."""
    from crmfiles.people import who_am_i

    snapshot = app.snapshot
    email = app.author_email
    if snapshot is None:
        return Text(f"me: {app.me}" if app.me else "")
    me = who_am_i(snapshot.catalogs.get("people", {}), email, snapshot.repo.config.me)
    if me.person is not None:
        return Text(f"me: {snapshot.name('people', me.person)}")
    said = f"git e-mail {email} is nobody in people" if email else "git has no user.email"
    return Text(f"{said}: lint warns author-not-allowed", style="bold yellow")


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def on_mount(self) -> None:
        app = cast("CrmApp", self.app)
        for name in ("git_state", "branch_mode", "busy", "snapshot", "me", "author_email"):
            self.watch(app, name, self._changed, init=False)
        self._changed()

    def _changed(self, *_: object) -> None:
        app = cast("CrmApp", self.app)
        state = app.git_state
        text = Text(no_wrap=True, overflow="ellipsis")
        if state.error:
            text.append(f"git: {state.error}", style="bold red")
        else:
            text.append("⎇ ", style="bold")
            text.append(state.branch or "(no branch)", style="bold")
            if state.upstream:
                text.append(f" ↑{state.ahead} ↓{state.behind}")
            dirty = state.records_dirty
            text.append("  │  ")
            if dirty:
                noun = "record" if dirty == 1 else "records"
                text.append(f"{dirty} uncommitted {noun}", style="yellow")
            else:
                text.append("clean")
            if state.branches:
                text.append(f"  │  {len(state.branches)} crm/ branch(es) pending")
        text.append("  │  ")
        if app.branch_mode:
            text.append("branch mode: each change on its own crm/ branch", style="bold magenta")
        else:
            text.append("commits on ")
            text.append(state.branch or "HEAD")
        text.append("  │  ")
        text.append_text(_who(app))
        if app.busy:
            text.append(f"  │  {app.busy}…", style="italic")
        self.update(text, layout=False)
