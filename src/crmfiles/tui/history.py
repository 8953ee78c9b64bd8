"""The History tab: an opportunity's changes from git (:mod:`crmfiles.history`): when,
who, what changed (stage, status, probability, amount) and days in the stage it left."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from crmfiles.history import Event, events_of, load_record
from crmfiles.money import decimal as to_decimal
from crmfiles.money import fmt

CHANGE_STYLE = {"won": "bold green", "lost": "bold red", "moved": "bold", "reopened": "yellow"}


def record_events(root: Path, record_id: str) -> list[Event] | str:
    """The record's changes from git, oldest first, or why they cannot be read (for a
    worker: the History and Activities tabs both draw from it)."""
    try:
        return events_of(load_record(root, record_id), record_id)  # its part of the cache
    except Exception as exc:  # a history that cannot be read is a message, not a crash
        return f"Cannot read the history: {exc}"


def history_table(events: list[Event] | str) -> RenderableType:
    if isinstance(events, str):
        return Text(events, style="red")
    if not events:
        return Text("No history in git yet (not committed).", style="dim")
    return _History(events)


class _History:
    """The table, laid out for the width it gets: the numbers and the stage are never
    cut (a change goes on two lines when narrow); when and who share the column that
    gives way."""

    WIDE = 110  # from here, "proposal → negotiation" on one line

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width < self.WIDE)

    def table(self, narrow: bool) -> Table:
        table = Table(expand=True, show_edge=not narrow)
        table.add_column("When, who")
        table.add_column("Change")
        for column in ("Stage / status", "Prob.", "Amount", "Days before"):
            heading = column.replace(" ", "\n", 1) if narrow else column
            justify: JustifyMethod = "left" if column == "Stage / status" else "right"
            table.add_column(heading, justify=justify, no_wrap=True)
        for event in reversed(self.events):  # newest first
            before, after = event.before, event.after
            position = (
                event.target if event.change == "created" else f"{event.source} → {event.target}"
            )
            if event.change in ("edited", "status") and event.source == event.target:
                position = event.target
            probability = _pair(
                before.probability if before else None, after.probability if after else None, "%"
            )
            amount = _pair(
                _money(before.amount if before else None), _money(after.amount if after else None)
            )
            if narrow:
                position, probability, amount = (
                    t.replace(" → ", " →\n") for t in (position, probability, amount)
                )
            table.add_row(
                f"{event.date:%Y-%m-%d %H:%M} {event.author}",
                Text(event.change, style=CHANGE_STYLE.get(event.change, "")),
                position,
                probability,
                amount,
                "" if event.days_in_previous is None else str(event.days_in_previous),
            )
        return table


def _money(value: str | None) -> str | None:
    amount = to_decimal(value) if value is not None else None
    return fmt(amount) if amount is not None else None


def _pair(old: object, new: object, unit: str = "") -> str:
    if new is None:
        return ""
    if old is None or old == new:
        return f"{new}{unit}"
    return f"{old}{unit} → {new}{unit}"
