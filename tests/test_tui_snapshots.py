"""SVG snapshots of the TUI's main screens (pytest-textual-snapshot), on the demo
repository with its history dated as if built on a fixed day, at a fixed terminal
size.  Review a change with ``pytest tests/test_tui_snapshots.py --snapshot-report``;
accept it with ``--snapshot-update``.

The behaviour is tested in ``test_tui.py``; these catch what a test cannot read: a
column that lost its width, a bar chart that lost its bars, a footer that overflows.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytest_textual_snapshot")

from test_tui import SEARCH_FOR, SIZE, act_as, build_demo, make_app, settle, type_text
from textual.pilot import Pilot
from textual.widgets import Input

from crmfiles.tui.widgets.table import RecordTable

Compare = Callable[..., bool]


@pytest.fixture(scope="session")
def snapshot_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("tui-snapshots") / "demo")


@pytest.fixture
def demo(
    snapshot_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    root = tmp_path / "demo"
    shutil.copytree(snapshot_template, root, symlinks=True)
    monkeypatch.setenv("CRM_PROGRESS", "0")
    act_as(monkeypatch, "anna.becker@nordwind-industrial.example")
    yield root


async def ready(pilot: Pilot[object], *keys: str) -> None:
    """Everything read (records, git, history), then the keys, then settled; no
    blinking cursor to catch half-way."""
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


async def to_record(pilot: Pilot[object], record_id: str) -> None:
    await settle(pilot)
    await pilot.press("slash")
    await type_text(pilot, SEARCH_FOR[record_id])
    await pilot.press("enter")
    await settle(pilot)
    table = pilot.app.screen.query_one("#list", RecordTable)
    while table.cursor_key != record_id:
        await pilot.press("j")


def test_list(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot)

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_list_searched_and_sorted(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "service")
        await pilot.press("enter", "s", "down", "down", "down", "down", "enter")
        await ready(pilot)

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_kanban(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "2", "l", "j")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_record_primary_demand(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await to_record(pilot, "schaerer-lagertechnik-conveyor")
        await ready(pilot, "enter", "right_square_bracket", "right_square_bracket")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_record_history(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await to_record(pilot, "brauerei-falkenstein-stapler")
        await ready(pilot, "enter", "left_square_bracket")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_edit_shows_errors_next_to_fields(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await to_record(pilot, "brauerei-falkenstein-stapler")
        await pilot.press("e")
        await settle(pilot)
        pilot.app.screen.query_one("#probability", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "150")
        await pilot.press("f2")  # checks now, and refuses to save
        await ready(pilot)

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_new_opportunity_dialog(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "n")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_funnel(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "3")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_forecast(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "4")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_my_tasks(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "5")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: Compare, demo: Path) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "question_mark")

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run_before)


# --- narrow and wide terminals ------------------------------------------------------------


SIZES = pytest.mark.parametrize(
    "size", [(80, 24), (160, 45), (200, 40)], ids=["80x24", "160x45", "200x40"]
)
SMALL_AND_LARGE = pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])


@SIZES
def test_list_at_size(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:
    """80 columns: low-value columns left out, no number cut, the footer whole keys;
    200: the names get the room."""

    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot)

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@SIZES
def test_kanban_at_size(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:
    """Cards wrap between words; a word wider than a card ends in '…'."""

    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "2")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@SMALL_AND_LARGE
def test_partners_at_size(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:
    """The most open business first; at 80 columns country and responsible give way."""

    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "7")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@SMALL_AND_LARGE
def test_partner_with_its_deals_at_size(
    snap_compare: Compare, demo: Path, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "7", "j", "enter")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@SMALL_AND_LARGE
def test_interactions_at_size(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "8")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@SMALL_AND_LARGE
def test_dropoff_at_size(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:
    """The bars shorten on a narrow screen; the figures are never cut."""

    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "9")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@SMALL_AND_LARGE
def test_winloss_at_size(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "0")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)
