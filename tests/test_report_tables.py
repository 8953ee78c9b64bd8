"""A report's table for a file or a pipe (cli/report_tables.py lays it out itself)
against rich's own layout of the same table: the same characters, line by line,
with markup, emoji codes, wide characters and a blank last column among the cells;
a table wider than the console is rich's."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from crmfiles.cli.report_tables import _Laid, _rich_table

COLUMNS = ("competitor", "deals", "note", "")
NUMERIC = ("deals",)
ROWS: list[tuple[str, ...] | None] = [
    ("Müller [b]Logistik[/b]", "12", ":thumbs_up: won twice", "████▍"),
    ("東京 Trading", "3", "a [link] that is no markup", ""),
    None,  # a section: nothing drawn without a box
    ("total", "15", "", "▏"),
]


def rendered(table: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=200, no_color=True, highlight=False)
    console.print(table)
    return out.getvalue()


def laid(rows: list[tuple[str, ...] | None], columns: tuple[str, ...] = COLUMNS) -> _Laid:
    table = _Laid(columns, NUMERIC)
    for row in rows:
        if row is None:
            table.add_section()
        else:
            table.add_row(*row)
    return table


@pytest.mark.parametrize("rows", [ROWS, [], ROWS[:1]])
def test_a_table_for_a_pipe_is_the_table_rich_lays_out(
    rows: list[tuple[str, ...] | None],
) -> None:
    ours = rendered(laid(rows))
    assert ours == rendered(_rich_table(COLUMNS, NUMERIC, rows))
    assert ours.splitlines()[0].startswith("competitor")


def test_a_table_wider_than_the_console_is_left_to_rich() -> None:
    rows: list[tuple[str, ...] | None] = [("x" * 150, "1", "y" * 80, "")]
    assert rendered(laid(rows)) == rendered(_rich_table(COLUMNS, NUMERIC, rows))
