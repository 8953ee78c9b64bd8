"""The record screen's Activities and Quotes tabs, the keys that make a task or an
interaction and set a field from it, and My tasks' instructions panel: driven by keys,
the repository checked (file and commit), then what is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("textual")

from test_tui import (  # noqa: F401 - the demo fixtures
    SEARCH_FOR,
    SIZE,
    demo,
    demo_template,
    finished,
    git,
    go_to,
    make_app,
    pick,
    record,
    settle,
    shown,
    sync,
    type_text,
)
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList, Tabs

from crmfiles.documents.totals import document_totals
from crmfiles.records.yamlio import parse
from crmfiles.tui.app import CrmApp
from crmfiles.tui.screens.record import RecordScreen
from crmfiles.tui.screens.records import RecordForm
from crmfiles.tui.screens.setfield import SetFieldDialog
from crmfiles.tui.widgets.record_tables import ActivitiesTable, QuotesTable
from crmfiles.tui.widgets.table import RecordTable

DEAL = "brauerei-falkenstein-stapler"
QUOTED = "mueller-logistik-e25-fleet"
SEARCH_FOR.setdefault(QUOTED, "bremen")


async def open_tab(pilot: Pilot[object], record_id: str, tab: str) -> None:
    """The record screen of ``record_id`` on ``tab``, reached with ] as a user does."""
    await settle(pilot)
    await go_to(pilot, record_id)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RecordScreen)
    tabs = pilot.app.screen.query_one("#tabs", Tabs)
    for _ in range(8):
        if tabs.active == tab:
            break
        await pilot.press("right_square_bracket")
        await settle(pilot)
    assert tabs.active == tab


def rows(app: CrmApp) -> list[list[str]]:
    table = app.screen.query_one("#activities-table", ActivitiesTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


# --- Activities -------------------------------------------------------------------------


@sync
async def test_activities_are_one_timeline_newest_first(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, DEAL, "activities")
        table = app.screen.query_one("#activities-table", ActivitiesTable)
        assert app.focused is table
        shown_rows = rows(app)
        whens = [r[0] for r in shown_rows]
        assert whens == sorted(whens, reverse=True)
        kinds = [r[1] for r in shown_rows]
        # the open task (due next), the two moves from git, the yard tour, the done
        # task, the creation: interactions, tasks and history on one timeline
        assert kinds == ["☐ task", "→ moved", "→ moved", "⌂ visit", "☑ done", "● created"]
        assert shown_rows[0][3].startswith("Prepare and send the proposal")
        assert shown_rows[1][2:] == ["Thomas Richter", "Needs analysis → Proposal"]
        assert shown_rows[3][0] == "2026-09-09" and shown_rows[3][2] == "Thomas Richter"
        assert shown_rows[3][3].startswith("Yard tour – Cobblestones")
        assert shown_rows[-1][3] == "created in Qualify"
        # Enter on the visit opens the interaction's own form
        await pilot.press("down", "down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm)
        assert app.screen.folder == "interactions"
        assert app.screen.record_id == "2026-09-09-falkenstein-yard-tour"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        # Enter on a stage change opens nothing
        await pilot.press("up", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)


@sync
async def test_activities_show_the_tasks_about_the_deals_quotes(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "activities")
        shown_rows = rows(app)
        follow_up = [r for r in shown_rows if r[3].startswith("Follow up on the revised quote")]
        assert follow_up == [["2026-11-27", "☐ task", "Anna Becker", follow_up[0][3]]]
        # Enter on it opens the task, whose subject is q-2026-0017, not the deal
        table = app.screen.query_one("#activities-table", ActivitiesTable)
        table.move_cursor(row=shown_rows.index(follow_up[0]))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm)
        assert app.screen.record_id == "2026-11-06-mueller-quote-follow-up"


@sync
async def test_t_makes_a_task_on_the_deal_and_activities_show_it(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_tab(pilot, DEAL, "activities")
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm) and app.screen.folder == "tasks"
        await type_text(pilot, "Ask for the yard plan")
        app.screen.query_one("#due", Input).focus()
        await type_text(pilot, "2026-12-02")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        [created] = finished(messages)
        assert created.outcome.ok, created.outcome.details
        [path] = created.outcome.paths
        first = rows(app)[0]
        assert first[:3] == ["2026-12-02", "☐ task", "Anna Becker"]
        assert first[3].startswith("Ask for the yard plan")
    data = parse((demo / path).read_text("utf-8"))
    assert data["subject"] == {"type": "opportunity", "id": DEAL}
    assert data["assignee"] == "anna.becker" and data["due"] == "2026-12-02"
    assert git(demo, "log", "-1", "--format=%s") == f"crm: new task {Path(path).stem}"
    assert git(demo, "show", "--name-only", "--format=", "HEAD") == path


@sync
async def test_i_logs_an_interaction_on_the_deal(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_tab(pilot, DEAL, "activities")
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm) and app.screen.folder == "interactions"
        # the deal's partner's contacts first, the deal's own ticked
        contacts = app.screen.query_one("#contacts", SelectionList)
        offered = [str(contacts.get_option_at_index(i).value) for i in range(contacts.option_count)]
        theirs = [c for c in offered if record(demo, c)[1].get("partner") == "brauerei-falkenstein"]
        assert theirs and offered[: len(theirs)] == theirs and len(offered) > len(theirs)
        deal_contacts = record(demo, DEAL)[1]["contacts"]
        assert deal_contacts and sorted(contacts.selected) == sorted(deal_contacts)
        await pick(pilot, "#type", "call")
        app.screen.query_one("#at", Input).focus()
        await type_text(pilot, "2026-11-22")
        app.screen.query_one("#summary", Input).focus()
        await type_text(pilot, "Wants two trucks")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        [created] = finished(messages)
        assert created.outcome.ok, created.outcome.details
        [path] = created.outcome.paths
        assert ["2026-11-22", "☎ call", "Anna Becker", "Wants two trucks"] in rows(app)
    data = parse((demo / path).read_text("utf-8"))
    assert data["opportunity"] == DEAL and data["partner"] == "brauerei-falkenstein"
    assert data["type"] == "call" and data["responsible"] == "anna.becker"
    assert data["contacts"] == deal_contacts
    assert git(demo, "log", "-1", "--format=%s").startswith("crm: new interaction")


# --- set a field --------------------------------------------------------------------------


async def set_field(pilot: Pilot[object], field: str, value: str) -> None:
    """``=`` on the record screen, the field picked, the value typed, F2."""
    await pilot.press("equals_sign")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SetFieldDialog)
    await pick(pilot, "#field", field)
    pilot.app.screen.query_one("#value", Input).focus()
    await pilot.press("ctrl+a", "ctrl+k")
    await type_text(pilot, value)
    await pilot.press("f2")
    await settle(pilot)


@sync
async def test_equals_sets_a_field_with_the_set_operation(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    path, before = record(demo, DEAL)
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_tab(pilot, DEAL, "general")
        await set_field(pilot, "expected_close", "2026-12-31")
        assert isinstance(app.screen, RecordScreen)
        assert "2026-12-31" in shown(app.screen.query_one("#record-body"))
    [done] = finished(messages)
    assert done.outcome.ok, done.outcome.details
    after = parse(path.read_text("utf-8"))
    assert after["expected_close"] == "2026-12-31"
    assert {k: v for k, v in after.items() if k != "expected_close"} == {
        k: v for k, v in before.items() if k != "expected_close"
    }
    assert git(demo, "log", "-1", "--format=%s") == f"crm: set {DEAL} expected_close"


@sync
async def test_a_refused_set_shows_the_rule_and_changes_nothing(demo: Path) -> None:  # noqa: F811
    path, _ = record(demo, DEAL)
    text = path.read_text("utf-8")
    head = git(demo, "rev-parse", "HEAD")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, DEAL, "general")
        await set_field(pilot, "probability", "150")
        assert isinstance(app.screen, SetFieldDialog)
        errors = shown(app.screen.query_one("#errors"))
        assert "probability" in errors and "[schema]" in errors
        app.screen.query_one("#value", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "[oops")
        await pilot.press("f2")
        await settle(pilot)
        assert "probability: the value is not YAML" in shown(app.screen.query_one("#errors"))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
    assert path.read_text("utf-8") == text
    assert git(demo, "rev-parse", "HEAD") == head


# --- Quotes ---------------------------------------------------------------------------------


@sync
async def test_quotes_tab_lists_the_deals_quotes_with_totals(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, QUOTED, "quotes")
        table = app.screen.query_one("#quotes-table", QuotesTable)
        assert app.focused is table
        assert table.quote_ids == ["q-2026-0017", "q-2026-0014"]  # newest revision first
        products = app.snapshot.catalogs["products"]  # type: ignore[union-attr]
        for i, quote_id in enumerate(table.quote_ids):
            _, data = record(demo, quote_id)
            cells = [str(c) for c in table.get_row_at(i)]
            totals = document_totals(data, products)
            assert totals is not None
            assert cells == [
                quote_id,
                str(data["revision"]),
                data["status"],
                data["date"],
                data["valid_until"],
                f"{totals.gross:,.2f} {data['currency']}",
            ]
        summary = shown(app.screen.query_one("#quotes-summary"))
        assert "q-2026-0017: 3 lines" in summary and "revises q-2026-0014" in summary
        await pilot.press("down")
        await settle(pilot)
        assert table.cursor_quote == "q-2026-0014"
        assert "q-2026-0014:" in shown(app.screen.query_one("#quotes-summary"))


@sync
async def test_a_deal_without_quotes_says_so(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, "schaerer-lagertechnik-conveyor", "quotes")
        assert app.screen.query_one("#quotes-table", QuotesTable).row_count == 0
        assert "No quotes yet." in shown(app.screen.query_one("#quotes-summary"))


# --- My tasks -------------------------------------------------------------------------------


@sync
async def test_my_tasks_show_the_highlighted_tasks_instructions(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#tasks", RecordTable)
        seen = []
        for _ in range(2):
            key = table.cursor_key
            assert key is not None
            _, data = record(demo, key)
            panel = shown(app.screen.query_one("#task-detail"))
            assert data["title"] in panel
            assert " ".join(str(data["instructions"]).split()) in " ".join(panel.split())
            assert f"Due: {data['due']}" in panel
            seen.append(key)
            await pilot.press("j")
            await settle(pilot)
        assert len(set(seen)) == 2
        panel = app.screen.query_one("#task-detail")
        assert panel.region.bottom <= 22 and table.region.height >= 4  # fits at 80x24


# --- keys -------------------------------------------------------------------------------------


def test_record_screen_keys_have_ids_and_tooltips() -> None:
    from textual.binding import Binding

    bindings = [b for b in RecordScreen.BINDINGS if isinstance(b, Binding)]
    new = {b.key: b for b in bindings if b.id in ("record.new_task", "record.new_interaction")}
    assert set(new) == {"t", "i"}
    [setter] = [b for b in bindings if b.id == "record.set_field"]
    assert setter.key == "equals_sign" and setter.key_display == "="
    assert all(b.tooltip for b in [*new.values(), setter])
    from crmfiles.tui.screens.base import OPPORTUNITY_BINDINGS

    inherited = [b for b in OPPORTUNITY_BINDINGS if isinstance(b, Binding)]
    # no key bound to two actions on the screen (d is the list's Copy, out of the footer)
    actions: dict[str, str] = {}
    for b in [*bindings, *inherited]:
        for k in b.key.split(","):
            assert actions.setdefault(k, b.action) == b.action, k
    [copy] = [b for b in bindings if b.key == "d"]
    assert copy.action == "duplicate" and not copy.show


# --- History ------------------------------------------------------------------------------


@sync
async def test_history_at_80_columns_cuts_no_amount_and_no_stage(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, QUOTED, "history")
        await settle(pilot)
        body = app.screen.query_one("#record-body")
        text = "\n".join(body.render_line(y).text for y in range(body.size.height))
        assert "…" not in text, text
        for whole in ("362,704.00", "negotiation", "needs-analysis →", "25% →", "Thomas"):
            assert whole in text, (whole, text)
        assert max(len(line.rstrip()) for line in text.splitlines()) <= 80


@sync
async def test_a_started_task_reads_started_with_a_short_local_time(demo: Path) -> None:  # noqa: F811
    import datetime as dt

    from test_tui_small import lines

    task = "2026-11-03-holzwerk-qualify"  # due 2026-11-06: overdue on the demo's day
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#tasks", RecordTable)
        assert table.move_to(task)
        await pilot.press("s")
        await settle(pilot)
        started = record(demo, task)[1]["started"]
        when = dt.datetime.fromisoformat(str(started)).astimezone()
        [row] = [line for line in lines(table) if "2026-11-06" in line]
        assert row.rstrip().endswith("started · overdue") and row.startswith("!")
        detail = "\n".join(lines(app.screen.query_one("#task-detail")))
        assert f"Started: {when:%Y-%m-%d %H:%M}   " in detail, detail
        assert "+00:00" not in detail and "(overdue)" in detail
