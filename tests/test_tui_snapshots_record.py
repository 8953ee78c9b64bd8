"""SVG snapshots of the record screen's Activities and Documents tabs (quotes; orders
and their invoices), of the list of quotes, orders and invoices, and of My tasks with
its instructions panel, at 80×24 and 160×45 (the fixtures and helpers of
``test_tui_snapshots.py``; review with ``--snapshot-report``, accept with
``--snapshot-update``)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_textual_snapshot")

from pathlib import Path

from test_tui import SEARCH_FOR, make_app
from test_tui_snapshots import Compare, demo, ready, snapshot_template, to_record  # noqa: F401
from textual.pilot import Pilot

SIZES = [(80, 24), (160, 45)]
IDS = ["80x24", "160x45"]
SEARCH_FOR.setdefault("mueller-logistik-e25-fleet", "bremen")


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_record_activities(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:  # noqa: F811
    async def run_before(pilot: Pilot[object]) -> None:
        await to_record(pilot, "brauerei-falkenstein-stapler")
        await ready(pilot, "enter", *["right_square_bracket"] * 5)

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_record_quotes(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:  # noqa: F811
    async def run_before(pilot: Pilot[object]) -> None:
        await to_record(pilot, "mueller-logistik-e25-fleet")
        await ready(pilot, "enter", "left_square_bracket", "left_square_bracket")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_record_orders_and_invoices(
    snap_compare: Compare,
    demo: Path,  # noqa: F811
    size: tuple[int, int],
) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        # reached as a user does: the list of orders, Enter on the open one
        await ready(pilot, "dollar_sign", "t", "f", "down", "enter", "enter")

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_documents_list(snap_compare: Compare, demo: Path, size: tuple[int, int]) -> None:  # noqa: F811
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "dollar_sign", "t", "t")  # the invoices

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run_before)


def test_my_tasks_instructions_at_80x24(snap_compare: Compare, demo: Path) -> None:  # noqa: F811
    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot, "5")

    assert snap_compare(make_app(demo), terminal_size=(80, 24), run_before=run_before)


def test_set_field_dialog_at_80x24(snap_compare: Compare, demo: Path) -> None:  # noqa: F811
    async def run_before(pilot: Pilot[object]) -> None:
        await to_record(pilot, "brauerei-falkenstein-stapler")
        await ready(pilot, "enter", "equals_sign")

    assert snap_compare(make_app(demo), terminal_size=(80, 24), run_before=run_before)
