"""The partners, interactions, drop-off and win/loss screens, and the actions the CLI
has for a record (merge, set, disqualify) driven by keys; the repository checked
(file and commit) first, what is shown second."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

pytest.importorskip("textual")

from test_tui import (  # noqa: F401 - the demo fixtures
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
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Checkbox, Input

from crmfiles.history import load_history
from crmfiles.money import amount_of
from crmfiles.records.store import Repository
from crmfiles.reports.dropoff import dropoff
from crmfiles.reports.winloss import winloss
from crmfiles.tui.app import CrmApp
from crmfiles.tui.screens.dialogs import Dialog
from crmfiles.tui.screens.interactions import InteractionsScreen
from crmfiles.tui.screens.merge import MergeDialog
from crmfiles.tui.screens.partner import PartnerScreen
from crmfiles.tui.screens.partners import PartnersScreen
from crmfiles.tui.screens.record import RecordScreen
from crmfiles.tui.screens.records import RecordForm
from crmfiles.tui.screens.setfield import SetFieldDialog
from crmfiles.tui.widgets.table import RecordTable


async def search(pilot: Pilot[object], table: str, words: str) -> RecordTable:
    await pilot.press("slash")
    await type_text(pilot, words)
    await pilot.press("enter")
    await settle(pilot)
    return pilot.app.screen.query_one(f"#{table}", RecordTable)


async def palette(pilot: Pilot[object], command: str) -> None:
    await pilot.press("ctrl+p")
    await settle(pilot)
    await type_text(pilot, command)
    await pilot.pause(0.5)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def opportunities_of(root: Path, partner: str) -> dict[str, dict]:
    out = {}
    for path in root.glob("opportunities/**/*.yaml"):
        _, data = record(root, path.stem)
        if data.get("partner") == partner:
            out[path.stem] = data
    return out


# --- partners -----------------------------------------------------------------------


@sync
async def test_partners_list_open_deals_amounts_and_folded_search(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PartnersScreen)
        table = screen.query_one("#partners", RecordTable)
        assert len(table.keys) == len(list(demo.glob("partners/*.yaml")))
        deals = opportunities_of(demo, "mueller-logistik")
        open_deals = [d for d in deals.values() if d["status"] == "in_progress"]
        won = [d for d in deals.values() if d["status"] == "won"]
        assert screen.cell("mueller-logistik", "open") == str(len(open_deals))
        assert screen.cell("mueller-logistik", "won") == str(len(won))
        products = Repository(demo).catalog("products")
        open_amount = sum(amount_of(d, products) for d in open_deals)  # all in EUR
        assert screen.cell("mueller-logistik", "open_amount") == f"{open_amount:,.2f}"
        # the most open business first
        assert screen.cell(table.keys[0], "open_amount") == "552,784.00"
        table = await search(pilot, "partners", "muller")  # finds Müller
        assert table.keys == ["mueller-logistik"]
        assert "1 of 28 partners" in shown(screen.query_one("#count"))
        assert app.focused is table
        await pilot.press("x")
        await settle(pilot)
        assert len(table.keys) == 28


@sync
async def test_a_partner_shows_its_deals_and_opens_one(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await search(pilot, "partners", "muller")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PartnerScreen)
        assert "Müller Logistik" in shown(screen.query_one("#partner-title"))
        body = shown(screen.query_one("#partner-body"))
        assert "Jan Müller" in body and "Anna Becker" in body  # contacts, responsible
        deals = screen.query_one("#deals", RecordTable)
        expected = opportunities_of(demo, "mueller-logistik")
        assert set(deals.keys) == set(expected)
        statuses = [expected[k]["status"] for k in deals.keys]
        assert statuses == sorted(statuses, key=lambda s: s != "in_progress")  # open first
        assert "2 open" in shown(screen.query_one("#deals-title"))
        first = deals.cursor_key
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.record_id == first
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PartnersScreen)


@sync
async def test_merge_a_duplicate_partner_into_the_one_kept(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    drop, keep = "lefevre-frais-nord", "groupe-lefevre"
    referring = sorted(opportunities_of(demo, drop))
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        table = await search(pilot, "partners", "lefevre frais")
        assert table.cursor_key == drop
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MergeDialog)
        await pick(pilot, "#keep", "Groupe")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, PartnersScreen)
        assert drop not in table.keys
    [done] = finished(messages)
    assert done.outcome.ok, done.outcome.details
    assert not (demo / "partners" / f"{drop}.yaml").exists()
    assert record(demo, keep)[1]["merged_from"] == [drop]
    assert all(record(demo, rid)[1]["partner"] == keep for rid in referring)
    assert git(demo, "log", "-1", "--format=%s") == f"crm: merge partner {drop} -> {keep}"
    assert f"Crm-Merged: {drop} -> {keep}" in git(demo, "log", "-1", "--format=%b")


@sync
async def test_merge_contacts_from_the_palette_and_a_refusal_shows_the_rule(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    head = git(demo, "rev-parse", "HEAD")
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await palette(pilot, "Merge two contacts")
        assert isinstance(app.screen, MergeDialog)
        # a contact cannot be merged into itself: the planner's refusal is shown
        await pick(pilot, "#drop", "Jan")
        await pick(pilot, "#keep", "Jan")
        await pilot.press("f2")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MergeDialog)  # refused: the dialog stays
        errors = shown(dialog.query_one("#errors"))
        assert "KEEP and DROP are the same contact 'jan-mueller'" in errors
        assert git(demo, "rev-parse", "HEAD") == head
        assert (demo / "contacts" / "jan-mueller.yaml").exists()
        await pick(pilot, "#drop", "Antoine")
        await pick(pilot, "#keep", "Julien")
        await pilot.press("f2")
        await settle(pilot)
        assert not isinstance(app.screen, Dialog)
    refused, done = finished(messages)
    assert not refused.outcome.ok
    assert done.outcome.ok, done.outcome.details
    assert not (demo / "contacts" / "antoine-lefevre.yaml").exists()
    assert record(demo, "julien-petit")[1]["merged_from"] == ["antoine-lefevre"]
    subject = git(demo, "log", "-1", "--format=%s")
    assert subject == "crm: merge contact antoine-lefevre -> julien-petit"


# --- interactions ---------------------------------------------------------------------


@sync
async def test_interactions_newest_first_searched_and_opened(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InteractionsScreen)
        table = screen.query_one("#interactions", RecordTable)
        files = list(demo.glob("interactions/**/*.yaml"))
        assert len(table.keys) == len(files)
        dates = [str(record(demo, k)[1]["at"]) for k in table.keys]
        assert dates == sorted(dates, reverse=True)
        first = record(demo, table.keys[0])[1]
        assert screen.cell(table.keys[0], "subject") == first["subject"]
        table = await search(pilot, "interactions", "falkenstein yard")
        assert [record(demo, k)[1]["subject"] for k in table.keys] == ["Yard tour"]
        key = table.cursor_key
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm)
        assert (form.folder, form.record_id) == ("interactions", key)
        assert form.query_one("#subject", Input).value == "Yard tour"


# --- drop-off and win/loss ------------------------------------------------------------


@sync
async def test_dropoff_and_winloss_show_what_the_reports_compute(demo: Path) -> None:  # noqa: F811
    repo = Repository(demo)
    drop = dropoff(repo, load_history(demo))
    wins = winloss(repo)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        text = shown(app.screen.query_one("#chart"))
        assert f"Drop-off: {drop.kind_name}" in text
        for stage in drop.stages:
            line = next(line for line in text.splitlines() if line.strip().startswith(stage.name))
            figures = re.findall(r"\d+%?", line)
            assert figures[0] == str(stage.reached)
            assert figures[-1] == f"{(stage.conversion or 0) * 100:.0f}%"
        assert f"won {drop.won}, lost {drop.lost}, open {drop.open}" in text
        await pilot.press("t")
        await settle(pilot)
        assert "Drop-off: Service contract" in shown(app.screen.query_one("#chart"))
        await pilot.press("0")
        await settle(pilot)
        text = shown(app.screen.query_one("#chart"))
        assert "Win/loss: all kinds" in text
        assert f"won {wins.total.won} " in text and f"lost {wins.total.lost} " in text
        for reason in wins.by_reason:
            assert re.search(rf"{re.escape(reason.name)}\s+{reason.lost}\s", text)
        for competitor in wins.by_competitor:
            assert competitor.name in text


# --- set a field, disqualify ------------------------------------------------------------


@sync
async def test_set_a_field_of_the_highlighted_deal_from_the_palette(demo: Path) -> None:  # noqa: F811
    messages: list[object] = []
    app = make_app(demo)
    rid = "brauerei-falkenstein-stapler"
    _, before = record(demo, rid)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        await go_to(pilot, rid)
        await palette(pilot, "Set a field")
        assert isinstance(app.screen, SetFieldDialog)
        await pick(pilot, "#field", "next_milestone")
        field = app.screen.query_one("#value", Input)
        assert field.value == str(before.get("next_milestone") or "")
        field.focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "Demo: two trucks on 3 Dec")
        await pilot.press("f2")
        await settle(pilot)
        assert not isinstance(app.screen, Dialog)
    [done] = finished(messages)
    assert done.outcome.ok, done.outcome.details
    after = record(demo, rid)[1]
    assert after["next_milestone"] == "Demo: two trucks on 3 Dec"  # text, not a mapping
    assert {k: v for k, v in after.items() if k != "next_milestone"} == {
        k: v for k, v in before.items() if k != "next_milestone"
    }
    assert git(demo, "log", "-1", "--format=%s") == f"crm: set {rid} next_milestone"


@sync
async def test_a_refused_set_shows_the_rule_and_changes_nothing(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    rid = "brauerei-falkenstein-stapler"
    path, _ = record(demo, rid)
    text = path.read_text("utf-8")
    head = git(demo, "rev-parse", "HEAD")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to(pilot, rid)
        await palette(pilot, "Set a field")
        await pick(pilot, "#field", "probability")
        app.screen.query_one("#value", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "150")
        await pilot.press("f2")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SetFieldDialog)
        assert "[schema]" in shown(dialog.query_one("#errors"))
    assert path.read_text("utf-8") == text
    assert git(demo, "rev-parse", "HEAD") == head


@sync
async def test_set_and_unset_a_partners_field_from_its_screen(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await search(pilot, "partners", "muller")
        await pilot.press("enter")
        await settle(pilot)
        await palette(pilot, "Set a field")
        await pick(pilot, "#field", "vat_id")
        app.screen.query_one("#unset", Checkbox).value = True
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, PartnerScreen)
        assert "Vat id" not in shown(app.screen.query_one("#partner-body"))
    assert "vat_id" not in record(demo, "mueller-logistik")[1]
    assert git(demo, "log", "-1", "--format=%s") == "crm: set mueller-logistik vat_id"


@sync
async def test_disqualify_a_lead_with_a_reason(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        table = app.screen.query_one("#leads", RecordTable)
        lead = table.cursor_key
        assert lead is not None
        await pilot.press("D")
        await settle(pilot)
        await pick(pilot, "#reason", "No budget")
        await pilot.press("f2")
        await settle(pilot)
        assert lead not in table.keys
    data = record(demo, lead)[1]
    assert data["status"] == "disqualified"
    assert git(demo, "log", "-1", "--format=%s").startswith(f"crm: disqualify {lead}")


# --- keys -----------------------------------------------------------------------------


def _our_classes() -> list[type[DOMNode]]:
    """Every screen, widget and the app of crmfiles' TUI that declares key bindings."""
    import importlib
    import pkgutil

    import crmfiles.tui.screens
    import crmfiles.tui.widgets

    for package in (crmfiles.tui.screens, crmfiles.tui.widgets):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    found: set[type[DOMNode]] = {CrmApp}
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("crmfiles.") and "BINDINGS" in cls.__dict__:
            found.add(cls)
    return sorted(found, key=lambda c: c.__qualname__)


def _bindings(cls: type[DOMNode]) -> list[Binding]:
    """The bindings ``cls`` has from itself and crmfiles' classes above it (Textual's
    own are Textual's to name)."""
    out = []
    for base in inspect.getmro(cls):
        if base.__module__.startswith("crmfiles.") and "BINDINGS" in base.__dict__:
            out += [b for b in base.__dict__["BINDINGS"] if isinstance(b, Binding)]
    return out


def test_every_binding_with_a_description_has_a_unique_id() -> None:
    """A user keymap names a binding by its id: every action shown (footer, palette,
    help) needs one, and one id means one action on a screen."""
    classes = _our_classes()
    assert {c.__name__ for c in classes} >= {
        "CrmApp",
        "PartnersScreen",
        "PartnerScreen",
        "InteractionsScreen",
        "DropoffScreen",
        "WinLossScreen",
        "OpportunitiesScreen",
        "RecordTable",
        "Dialog",
    }
    app_ids = [b.id for b in _bindings(CrmApp)]
    for cls in classes:
        bindings = _bindings(cls)
        missing = [b.key for b in bindings if b.description and not b.id]
        assert not missing, f"{cls.__qualname__}: bindings without an id: {missing}"
        ids = [b.id for b in bindings if b.id]
        if issubclass(cls, Screen):
            ids += [i for i in app_ids if i]  # the app's keys are on every screen too
        doubled = sorted({i for i in ids if ids.count(i) > 1})
        assert not doubled, f"{cls.__qualname__}: ids used twice: {doubled}"


@sync
async def test_set_a_field_of_the_highlighted_task(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        task = app.screen.query_one("#tasks", RecordTable).cursor_key
        assert task is not None
        await palette(pilot, "Set a field")
        dialog = app.screen
        assert isinstance(dialog, SetFieldDialog)
        assert (dialog.folder, dialog.record_id) == ("tasks", task)
        await pick(pilot, "#field", "instructions")
        dialog.query_one("#value", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "Bring the fleet list")
        await pilot.press("f2")
        await settle(pilot)
    assert record(demo, task)[1]["instructions"] == "Bring the fleet list"
    assert git(demo, "log", "-1", "--format=%s") == f"crm: set {task} instructions"
