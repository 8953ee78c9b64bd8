"""The TUI's edit forms, driven by keys: lines and competitors in the opportunity form,
and the forms of the other record types; the repository checked after each save."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("textual")

from test_tui import (  # noqa: F401 - the demo fixtures
    demo,
    demo_template,
    finished,
    git,
    make_app,
    pick,
    record,
    settle,
    shown,
    sync,
    type_text,
)
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, SelectionList

from crmfiles.records.yamlio import parse
from crmfiles.tui.screens.edit import EditScreen
from crmfiles.tui.screens.opportunities import OpportunitiesScreen
from crmfiles.tui.screens.records import RecordForm
from crmfiles.tui.widgets.table import RecordTable

SIZE = (160, 60)


async def find(pilot: Pilot[object], word: str, record_id: str) -> None:
    await pilot.press("slash")
    await type_text(pilot, word)
    await pilot.press("enter")
    await settle(pilot)
    table = pilot.app.screen.query_one("#list", RecordTable)
    while table.cursor_key != record_id:
        await pilot.press("j")


async def replace(pilot: Pilot[object], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.press("ctrl+a", "ctrl+k")
    await type_text(pilot, text)


async def move_on(pilot: Pilot[object]) -> None:
    """Move the deal to the stage after its own (the move dialog's default)."""
    await pilot.press("m")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


@sync
async def test_a_deal_made_in_the_tui_gets_lines_and_goes_to_won(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Yard trucks")
        await pick(pilot, "#partner", "Brauerei")
        app.screen.query_one("#contacts", SelectionList).focus()
        await pilot.press("down", "space")
        await pilot.press("f2")
        await settle(pilot)
        [created] = finished(messages)
        assert created.outcome.ok, created.outcome.details
        [path] = [p for p in created.outcome.paths if p.startswith("opportunities/")]
        rid = Path(path).stem
        assert parse((demo / path).read_text("utf-8"))["contacts"]

        await find(pilot, "yard", rid)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EditScreen)
        app.screen.query_one("#lines-table", DataTable).focus()
        await pilot.press("a")
        await settle(pilot)
        await pick(pilot, "#product", "Electric forklift E16")
        assert app.screen.query_one("#unit_price", Input).value == "28500"  # its list price
        await replace(pilot, "#quantity", "2")
        await replace(pilot, "#discount", "5")
        await replace(pilot, "#margin", "20")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, EditScreen)
        await replace(pilot, "#probability", "10")
        await pilot.pause(0.4)
        await settle(pilot)
        totals = shown(app.screen.query_one("#lines-totals"))
        # 2 x 28,500 less 5 %; weighted at 10 %; margin 20 % of the line
        assert "Total 54,150.00 EUR" in totals
        assert "weighted 5,415.00 (10%)" in totals
        assert "margin 10,830.00 (20.00%)" in totals
        await replace(pilot, "#expected_close", "2027-03-31")
        await pick(pilot, "#terms", "30 days")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, OpportunitiesScreen)
        saved = finished(messages)[-1]
        assert saved.outcome.ok, saved.outcome.details
        text = (demo / path).read_text("utf-8")
        assert parse(text)["lines"] == [
            {"product": "fl-e16", "quantity": 2, "unit_price": 28500, "discount": 5, "margin": 20}
        ]
        assert git(demo, "log", "-1", "--format=%s").startswith(f"crm: edit {rid}")

        for _ in range(4):  # needs analysis, proposal, negotiation, commitment
            await move_on(pilot)
            moved = finished(messages)[-1]
            assert moved.outcome.ok, moved.outcome.details
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("space")  # Won, the radio set's first
        await pilot.press("f2")
        await settle(pilot)
        won = finished(messages)[-1]
        assert won.outcome.ok, won.outcome.details
    data = parse((demo / path).read_text("utf-8"))
    assert data["stage"] == "commitment"
    assert data["status"] == "won"
    assert data["lines"][0]["product"] == "fl-e16"
    subjects = git(demo, "log", "-7", "--format=%s").splitlines()
    assert [s.split()[1] for s in subjects] == [
        "close",
        "move",
        "move",
        "move",
        "move",
        "edit",
        "new",
    ], subjects


def changed_lines(root: Path) -> list[str]:
    diff = git(root, "show", "HEAD", "--format=", "--unified=0").splitlines()
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


async def edit_form(pilot: Pilot[object], record_id: str) -> None:
    await find(pilot, "diesel", record_id)
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(pilot.app.screen, EditScreen)


@sync
async def test_edit_and_remove_lines_of_a_deal(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    rid = "brauerei-falkenstein-stapler"
    path, _ = record(demo, rid)
    path.write_text(path.read_text("utf-8") + "# kept: a note at the end\n", "utf-8")
    git(demo, "commit", "-qam", "a note")
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await edit_form(pilot, rid)
        table = app.screen.query_one("#lines-table", DataTable)
        table.focus()
        await pilot.press("down", "delete")  # the wear parts kit goes
        await pilot.press("up", "enter")  # the forklifts: two, not three
        await settle(pilot)
        await replace(pilot, "#quantity", "2")
        await pilot.press("f2")
        await settle(pilot)
        assert "Total 82,400.00 EUR" in shown(app.screen.query_one("#lines-totals"))
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, OpportunitiesScreen)
    [done] = finished(messages)
    assert done.outcome.ok, done.outcome.details
    data = record(demo, rid)[1]
    assert data["lines"] == [
        {"product": "fl-d35", "quantity": 2, "unit_price": 41200, "margin": 16}
    ]
    assert path.read_text("utf-8").endswith("# kept: a note at the end\n")
    assert "-  - product: spare-kit" in changed_lines(demo)


@sync
async def test_competitors_picked_from_the_competitors(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    rid = "brauerei-falkenstein-stapler"
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await edit_form(pilot, rid)
        app.screen.query_one("#competitors-table", DataTable).focus()
        await pilot.press("a")
        await settle(pilot)
        offered = {value for _, value in app.screen.query_one("#partner", Select)._options}
        assert offered - {Select.NULL} == {
            "kranich-foerdertechnik",
            "logimax",
            "manutention-rapide",
        }
        await pick(pilot, "#partner", "Kranich")
        await pick(pilot, "#outcome", "unknown")
        await replace(pilot, "#comment", "cheaper by 8 %")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, OpportunitiesScreen)
        assert record(demo, rid)[1]["competitors"] == [
            {"partner": "kranich-foerdertechnik", "outcome": "unknown", "comment": "cheaper by 8 %"}
        ]
        # then the outcome changes: Kranich won it
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#competitors-table", DataTable).focus()
        await pilot.press("enter")
        await settle(pilot)
        await pick(pilot, "#outcome", "won")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
    assert all(m.outcome.ok for m in finished(messages))
    assert record(demo, rid)[1]["competitors"] == [
        {"partner": "kranich-foerdertechnik", "outcome": "won", "comment": "cheaper by 8 %"}
    ]
    assert changed_lines(demo) == ["-    outcome: unknown", "+    outcome: won"]


# --- the other record types -------------------------------------------------------------


async def palette(pilot: Pilot[object], command: str) -> None:
    await pilot.press("ctrl+p")
    await settle(pilot)
    await type_text(pilot, command)
    await pilot.pause(0.5)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


@sync
async def test_edit_a_lead_from_its_list_checks_as_you_type(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        lead = app.screen.query_one("#leads", RecordTable).cursor_key
        assert lead is not None
        _, before = record(demo, lead)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm)
        await replace(pilot, "#email", "not an address")
        await pilot.pause(0.4)
        await settle(pilot)
        assert "not an address" in shown(app.screen.query_one("#err-email"))
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm)  # refused
        assert not finished(messages)
        await replace(pilot, "#email", "einkauf@example.org")
        await pick(pilot, "#status", "working")
        await pilot.press("f2")
        await settle(pilot)
        assert not isinstance(app.screen, RecordForm)
    [done] = finished(messages)
    assert done.outcome.ok, done.outcome.details
    after = record(demo, lead)[1]
    assert after == {**before, "email": "einkauf@example.org", "status": "working"}
    assert git(demo, "log", "-1", "--format=%s").startswith(f"crm: edit {lead}")


@sync
async def test_a_form_refuses_to_save_over_an_edit_made_meanwhile(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        task = app.screen.query_one("#tasks", RecordTable).cursor_key
        assert task is not None
        path, _ = record(demo, task)
        await pilot.press("e")
        await settle(pilot)
        path.write_text(path.read_text("utf-8") + "result: written elsewhere\n", "utf-8")
        await replace(pilot, "#title", "Call back on Monday")
        await pilot.press("f2")
        await settle(pilot)
        [done] = finished(messages)
        assert not done.outcome.ok
        assert "changed on disk" in done.outcome.message
        assert isinstance(app.screen, RecordForm)
    text = path.read_text("utf-8")
    assert "written elsewhere" in text and "Call back on Monday" not in text


@sync
async def test_partner_roles_are_a_multi_select(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await find(pilot, "diesel", "brauerei-falkenstein-stapler")
        await palette(pilot, "Edit partner")
        assert isinstance(app.screen, RecordForm)
        roles = app.screen.query_one("#roles", SelectionList)
        assert roles.selected == ["customer"]
        roles.focus()
        while roles.get_option_at_index(roles.highlighted or 0).value != "supplier":
            await pilot.press("down")
        await pilot.press("space")
        await pilot.press("f2")
        await settle(pilot)
    [done] = finished(messages)
    assert done.outcome.ok, done.outcome.details
    assert record(demo, "brauerei-falkenstein")[1]["roles"] == ["customer", "supplier"]
    assert changed_lines(demo) == ["+  - supplier"]


@sync
async def test_new_contact_and_interaction_with_pickers(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await palette(pilot, "New contact")
        assert isinstance(app.screen, RecordForm)
        await type_text(pilot, "Jonas Weber")
        await pick(pilot, "#partner", "Brauerei")
        await replace(pilot, "#position", "Yard manager")
        await pilot.press("f2")
        await settle(pilot)
        assert not isinstance(app.screen, RecordForm)
        await find(pilot, "diesel", "brauerei-falkenstein-stapler")
        await palette(pilot, "Log an interaction")
        assert isinstance(app.screen, RecordForm)
        await pick(pilot, "#type", "call")
        await replace(pilot, "#at", "2026-11-21")
        await replace(pilot, "#summary", "Wants two trucks, not three")
        await pilot.press("f2")
        await settle(pilot)
        assert not isinstance(app.screen, RecordForm)
    contact, interaction = finished(messages)
    assert contact.outcome.ok, contact.outcome.details
    assert interaction.outcome.ok, interaction.outcome.details
    [contact_path] = contact.outcome.paths
    data = parse((demo / contact_path).read_text("utf-8"))
    assert data["name"] == "Jonas Weber" and data["partner"] == "brauerei-falkenstein"
    assert data["position"] == "Yard manager"
    [interaction_path] = interaction.outcome.paths
    data = parse((demo / interaction_path).read_text("utf-8"))
    assert data["type"] == "call" and data["at"] == "2026-11-21"
    assert data["opportunity"] == "brauerei-falkenstein-stapler"
    assert data["partner"] == "brauerei-falkenstein"
    assert data["responsible"] == "anna.becker"
    assert git(demo, "log", "-2", "--format=%s").count("crm: new") == 2


@sync
async def test_new_task_on_a_deal_and_editing_it_keeps_its_subject(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    rid = "brauerei-falkenstein-stapler"
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await find(pilot, "diesel", rid)
        await palette(pilot, "New task on this deal")
        assert isinstance(app.screen, RecordForm)
        await type_text(pilot, "Ask for the yard plan")
        await replace(pilot, "#due", "2026-11-27")
        await pick(pilot, "#importance", "high")
        await pilot.press("f2")
        await settle(pilot)
        assert not isinstance(app.screen, RecordForm)
        [created] = finished(messages)
        assert created.outcome.ok, created.outcome.details
        [path] = created.outcome.paths
        task = Path(path).stem
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#tasks", RecordTable)
        while table.cursor_key != task:
            await pilot.press("j")
        await pilot.press("e")
        await settle(pilot)
        await replace(pilot, "#due", "2026-11-30")
        await pilot.press("f2")
        await settle(pilot)
    edited = finished(messages)[-1]
    assert edited.outcome.ok, edited.outcome.details
    data = parse((demo / path).read_text("utf-8"))
    assert data["title"] == "Ask for the yard plan"
    assert data["subject"] == {"type": "opportunity", "id": rid}
    assert data["assignee"] == "anna.becker"
    assert data["importance"] == "high"
    assert data["due"] == "2026-11-30"
    assert changed_lines(demo) == ["-due: 2026-11-27", "+due: 2026-11-30"]
