"""How ``crm list`` fits its table into a terminal: which columns stay, how wide each is.

Rich's own table squeezes every column to make a row fit, so at 80 columns an amount
becomes ``1…`` and an id can no longer be copied into ``crm move``; its ``min_width``
keeps one column whole by crushing the others to a letter.  So the layout is decided
here and the lines are written as they are.

Every column has a priority.  A *whole* column (ids, references, money, probability,
dates) is shown whole or not at all; a *flexible* one (names, reasons, tags) shortens
with an ellipsis down to a minimum width.  Columns are taken in priority order while
they fit (a column too wide for what is left is skipped, a smaller one after it may
still fit), a flexible one taking up to ``READABLE`` cells before the lesser columns
come in; the room left lengthens the flexible columns, then spells out the headers
that were abbreviated (``prob%`` for ``probability``).  The first column taken is kept
even when it alone is wider than the terminal: a line the terminal wraps beats a cut id.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

GAP = 2  # spaces between two columns
ELLIPSIS = "…"
READABLE = 24  # what a shortened column gets, room allowing, before lesser columns come in


@dataclass(frozen=True)
class Spec:
    priority: int
    numeric: bool = False  # right-aligned
    min_width: int | None = None  # set: flexible, shortened with an ellipsis down to this
    short: str | None = None  # the header when room is short


# the columns a view or --columns can name that matter more or less; anything else a
# record holds is a flexible text column of the lowest priority
SPECS: dict[str, Spec] = {
    "id": Spec(100),
    "amount": Spec(95, numeric=True),
    "gross": Spec(94, numeric=True),
    "open_amount": Spec(93, numeric=True, short="open"),
    "net": Spec(92, numeric=True),
    "tax": Spec(91, numeric=True),
    "currency": Spec(90, short="cur"),  # an amount means nothing without it
    "stage": Spec(85),
    "probability": Spec(80, numeric=True, short="prob%"),
    "weighted": Spec(75, numeric=True),
    "margin": Spec(58, numeric=True),
    "weighted_margin": Spec(57, numeric=True, short="w. margin"),
    "name": Spec(70, min_width=12),
    "status": Spec(60),
    "expected_close": Spec(55, short="close by"),
    "closed_on": Spec(55),
    "responsible": Spec(50),
    "loss_reason": Spec(45, min_width=12),
    "partner": Spec(40),
    "partner_name": Spec(40, min_width=12),
    "kind": Spec(35),
    "stage_name": Spec(30, min_width=12),
    "responsible_name": Spec(30, min_width=12),
    "opened": Spec(28),
    "days_in_stage": Spec(25, numeric=True, short="days"),
    "age": Spec(25, numeric=True),
    "tags": Spec(20, min_width=10),
    # the other record types' columns
    "due": Spec(75),
    "at": Spec(75),
    "state": Spec(72),
    "title": Spec(70, min_width=12),
    "type": Spec(65),
    "date": Spec(55),
    "assignee": Spec(50),
    "opportunity": Spec(45),
    "quote": Spec(45),
    "order": Spec(45),
    "company": Spec(60, min_width=12),
    "roles": Spec(60, min_width=10),
    "country": Spec(45),
    "email": Spec(36),
    "subject": Spec(38, min_width=12),  # an interaction's topic
    "position": Spec(35, min_width=12),
    "contact_name": Spec(35, min_width=12),
    "importance": Spec(32),
    "phone": Spec(30),
    "revision": Spec(30, numeric=True, short="rev"),
    "valid_until": Spec(30),
    "paid_on": Spec(30),
    "channel": Spec(28),
    "created": Spec(26),
}
OTHER = Spec(10, min_width=10)
# where a column means something else in one list
BY_TYPE: dict[str, dict[str, Spec]] = {
    "tasks": {"subject": Spec(40)},  # the id of the record the task is about
    "interactions": {"partner": Spec(55)},  # whom it was with, before who did it
}


# one cell per character for sure: printable ASCII, Latin, Greek, Cyrillic (without their
# combining marks) and general punctuation such as the dash in "Müller – fleet"
_NARROW = re.compile("[\x20-\x7e\xa0-\u02ff\u0370-\u0482\u048a-\u052f\u2010-\u2027\u2030-\u205e]*")


def width_of(text: str) -> int:
    """Terminal cells of ``text``: rich's per-character lookup only where one is needed."""
    return len(text) if _NARROW.fullmatch(text) else cell_len(text)


def spec(column: str, overrides: Mapping[str, Spec] | None = None) -> Spec:
    if overrides and column in overrides:
        return overrides[column]
    return SPECS.get(column, OTHER)


@dataclass(frozen=True)
class Placed:
    """A column as the table shows it."""

    index: int  # where it is in the asked columns
    column: str
    header: str
    width: int
    numeric: bool
    narrow: bool  # one cell per character in every value: str methods measure it


class Table:
    """The cells of a list, measured once: a big list has a million of them, so a
    column whose every value is narrow is measured and padded by ``str``'s C code
    and only the others character by character (rich's ``cell_len``)."""

    def __init__(
        self,
        columns: Sequence[str],
        cells: Sequence[Sequence[str]],
        overrides: Mapping[str, Spec] | None = None,
    ) -> None:
        self.overrides = overrides
        self.columns = tuple(columns)
        self._measure([[row[i] for row in cells] for i in range(len(columns))])

    @classmethod
    def of_columns(
        cls,
        columns: Sequence[str],
        values: list[list[str]],
        overrides: Mapping[str, Spec] | None = None,
    ) -> Table:
        """A table given column by column (each a list of cells)."""
        table = cls.__new__(cls)
        table.overrides, table.columns = overrides, tuple(columns)
        table._measure(values)
        return table

    def _measure(self, values: list[list[str]]) -> None:
        self.values = values
        self.narrow = [bool(_NARROW.fullmatch("".join(v))) for v in self.values]
        self.widest = [
            max(map(len if narrow else width_of, values), default=0)
            for narrow, values in zip(self.narrow, self.values, strict=True)
        ]

    def fit(self, width: int | None) -> list[Placed]:
        """The columns to show, in their asked order, and their widths; ``width=None``
        (output piped to a file or a program) shows every column whole."""
        columns = self.columns
        natural = [max(cell_len(c), self.widest[i]) for i, c in enumerate(columns)]
        headers = {
            i: c if width is None else self._spec(c).short or c for i, c in enumerate(columns)
        }
        widths: dict[int, int] = {}
        for i, column in enumerate(columns):
            least = self._spec(column).min_width
            if width is None:
                widths[i] = natural[i]
            elif least is None:
                widths[i] = max(cell_len(headers[i]), self.widest[i])
            else:  # the header itself is never cut
                widths[i] = min(natural[i], max(least, cell_len(column)))
        chosen: list[int] = []
        used = -GAP
        for i in sorted(range(len(columns)), key=lambda i: -self._spec(columns[i]).priority):
            if width is not None and chosen and used + GAP + widths[i] > width:
                continue
            chosen.append(i)
            used += GAP + widths[i]
            if width is not None and self._spec(columns[i]).min_width is not None:
                # a name readable enough before a lesser column takes the room
                grow = min(natural[i], max(widths[i], READABLE)) - widths[i]
                widths[i] += max(min(grow, width - used), 0)
                used += max(min(grow, width - used), 0)
        room = 0 if width is None else width - used
        # the room left: longer names first, then the full headers
        flexible = [i for i in chosen if self._spec(columns[i]).min_width is not None]
        while room > 0 and any(widths[i] < natural[i] for i in flexible):
            for i in flexible:
                if room > 0 and widths[i] < natural[i]:
                    widths[i] += 1
                    room -= 1
        for i in chosen:
            extra = max(cell_len(columns[i]) - widths[i], 0)
            if headers[i] != columns[i] and extra <= room:
                headers[i] = columns[i]
                widths[i] += extra
                room -= extra
        return [
            Placed(
                i, columns[i], headers[i], widths[i], self._spec(columns[i]).numeric, self.narrow[i]
            )
            for i in sorted(chosen)
        ]

    def _spec(self, column: str) -> Spec:
        return spec(column, self.overrides)

    def lines(self, placed: Sequence[Placed]) -> list[str]:
        """The header line and one line per row, without trailing spaces."""
        header = [cell(p.header, p.width, p.numeric) for p in placed]
        gap = " " * GAP
        # a row is one %-format: a column whose every value is narrow and whole is
        # padded by the format itself (%-12s), the others are padded here first
        specs: list[str] = []
        columns: list[list[str]] = []
        for p in placed:
            values, widest = self.values[p.index], self.widest[p.index]
            if p.narrow and widest <= p.width:
                specs.append(f"%{'' if p.numeric else '-'}{p.width}s")
                columns.append(values)
            else:
                specs.append("%s")
                columns.append(_column(values, p, widest))
        rows = list(map(str.rstrip, map(gap.join(specs).__mod__, zip(*columns, strict=True))))
        return [gap.join(header).rstrip(), *rows]


def _column(values: list[str], p: Placed, widest: int) -> list[str]:
    if not p.narrow:
        return [cell(v, p.width, p.numeric) for v in values]
    width, cut = p.width, max(p.width - 1, 0)
    pad = str.rjust if p.numeric else str.ljust
    return [
        pad(v, width) if len(v) <= width else pad(v[:cut].rstrip() + ELLIPSIS, width)
        for v in values
    ]


def cell(text: str, width: int, numeric: bool) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with an ellipsis."""
    if _NARROW.fullmatch(text):
        if len(text) > width:
            text = text[: max(width - 1, 0)].rstrip() + ELLIPSIS
        return text.rjust(width) if numeric else text.ljust(width)
    size = cell_len(text)
    if size > width:
        # a cut between words leaves no space before the ellipsis: "Müller –…"
        text = set_cell_size(text, max(width - 1, 0)).rstrip() + ELLIPSIS
        size = cell_len(text)
    pad = " " * (width - size)
    return pad + text if numeric else text + pad


def fill(parts: Sequence[str], width: int | None, sep: str = "   ") -> list[str]:
    """Footer parts joined on one line while they fit.  A part is split only when it
    alone is too wide, and then between words: an amount stays beside its currency."""
    lines: list[str] = []
    for part in parts:
        if lines and (width is None or cell_len(lines[-1] + sep + part) <= width):
            lines[-1] += sep + part
        elif width is not None and cell_len(part) > width:
            lines.extend(textwrap.wrap(part, width, break_long_words=False) or [part])
        else:
            lines.append(part)
    return lines
