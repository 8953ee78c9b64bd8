"""The pieces every section is made of: escaped text, a table, a chart beside it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from crmfiles.dashboard.svg import Row, Series, bar_chart, drawable


def e(value: Any) -> str:
    """A value as HTML text: every value from the repository goes through here."""
    return "" if value is None else escape(str(value))


def table(
    table_id: str,
    caption: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Iterable[int] = (),
) -> str:
    right = set(numeric)

    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{' class=num' if i in right else ''}>{e(v)}</{tag}>"
            for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return (
        f'<table id="{e(table_id)}"><caption>{e(caption)}</caption>'
        f"<thead><tr>{cells('th', headers)}</tr></thead><tbody>{body}</tbody></table>"
    )


def pair(
    title: str, table_id: str, series: Sequence[Series], rows: Sequence[Row], table: str
) -> str:
    """A chart with its table beside it (the table alone when there is no bar)."""
    if not drawable(rows):
        chart = '<p class="empty">Nothing to chart.</p>'
    else:
        chart = f"<figure>{bar_chart(title, series, rows, table_id)}</figure>"
    return f'<div class="pair">{chart}{table}</div>'
