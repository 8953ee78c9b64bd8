"""What ``crm list`` writes of a listing: JSON (fast for 100,000 rows), CSV, or a table
fitted to the terminal with its totals under it."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from decimal import Decimal
from itertools import repeat
from typing import Any

from crmfiles import csvsafe
from crmfiles.money import CENT, fmt, plain


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    return value


def _json_values(values: list[Any]) -> list[Any]:
    """:func:`_json_value` of a column's values: amounts rounded to the cent in C where
    28 digits hold every one, other columns as they are."""
    kinds = set(map(type, values))
    if Decimal not in kinds:
        return values
    if kinds == {Decimal} and max(map(Decimal.adjusted, values)) < 24:
        return list(map(format, values, repeat(".2f")))  # (plain's own rounding)
    return [_json_value(v) for v in values]


def json_text(folder: str, result: Any) -> str:
    payload: dict[str, Any] = {
        "version": 1,
        folder: _ROWS,
    }
    totals: dict[str, Any] = {"count": len(result)}
    if result.amount is not None:
        totals.update(
            currency=result.amount.base,
            amount=plain(result.amount.in_base),
        )
        if result.weighted is not None:
            totals["weighted"] = plain(result.weighted.in_base)
        for column, total in getattr(result, "sums", {}).items():
            totals[column] = plain(total.in_base)
        totals.update(
            by_currency={k: plain(v) for k, v in sorted(result.amount.by_currency.items())},
            converted=result.amount.converted,
            missing_rates=result.amount.missing_rates,
        )
    if getattr(result, "counted", None):
        totals["counted"] = {"statuses": list(result.counted), "count": result.counted_rows}
    if getattr(result, "left_out", None):
        totals["left_out"] = result.left_out  # (unreadable files: in neither rows nor totals)
    payload["totals"] = totals
    if folder == "opportunities":
        payload["view"] = result.view
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    rows = _json_rows(result)
    return text.replace(json.dumps(_ROWS), rows, 1) + "\n"


_ROWS = "\0rows\0"  # where the rows go: json.dump's own writer takes seconds for 100,000


def _json_rows(result: Any) -> str:
    """The listed rows as ``json.dump(..., indent=2)`` writes them at the payload's
    second level, each value encoded once and column by column."""
    columns = result.columns
    if not len(result):
        return "[]"
    encoded = [_json_column(_json_values(result.column(c))) for c in columns]
    keys = [json.dumps(c, ensure_ascii=False).replace("%", "%%") for c in columns]
    row = "    {\n" + ",\n".join(f"      {k}: %s" for k in keys) + "\n    }"
    return "[\n" + ",\n".join(map(row.__mod__, zip(*encoded, strict=True))) + "\n  ]"


def _json_column(values: list[Any]) -> list[str]:
    """Each value as JSON, as it stands three levels deep in an indented dump."""
    from json.encoder import encode_basestring

    kinds = set(map(type, values))
    plain_kinds = {str: encode_basestring, int: int.__repr__, type(None): lambda _: "null"}
    if kinds <= plain_kinds.keys():
        distinct = set(values)
        if kinds <= {str} and len(distinct) * 2 > len(values):  # (ids, names)
            return list(map(encode_basestring, values))
        # (stages, kinds, currencies, people, dates...): each distinct value encoded once
        said = {v: plain_kinds[type(v)](v) for v in distinct}
        return list(map(said.__getitem__, values))
    return [
        json.dumps(v, indent=2, ensure_ascii=False, default=str).replace("\n", "\n      ")
        for v in values
    ]


def csv_text(result: Any) -> str:
    """The listed rows as CSV, a header row first."""
    out = io.StringIO()
    writer = csvsafe.Writer(out)
    writer.writerow(result.columns)
    cells = [list(map(_csv_value, result.column(c))) for c in result.columns]
    writer.writerows(zip(*cells, strict=True))
    return out.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(value: Any, column: str = "") -> str:
    if isinstance(value, Decimal):
        return fmt(value)
    if column == "at" and isinstance(value, str) and len(value) > 16 and value[10:11] == "T":
        return f"{value[:10]} {value[11:16]}"  # a time to the minute, as people read it
    return _csv_value(value).replace(";", ", ")


def _cells(values: list[Any], column: str) -> list[str]:
    """:func:`_cell` of a column's values: at once where the column holds only text,
    only amounts or only whole numbers (a list of 100,000 has a million cells)."""
    kinds = set(map(type, values))
    if kinds <= {str} and column != "at":
        if ";" not in "".join(values):  # (most columns: the values are the cells)
            return values
        return [v.replace(";", ", ") for v in values]
    if kinds <= {str, type(None)} and column != "at":
        return ["" if v is None else v.replace(";", ", ") for v in values]
    if kinds <= {Decimal} and max(map(Decimal.adjusted, values), default=0) < 24:
        # fmt's rounding to the cent is format's own where 28 digits hold the amount
        return list(map(format, values, repeat(",.2f")))
    if kinds <= {Decimal, type(None)}:  # fmt's rounding to the cent, inlined
        return [
            "" if v is None else f"{v.quantize(CENT):,.2f}" if v.adjusted() < 24 else fmt(v)
            for v in values
        ]
    if kinds <= {int, type(None)}:
        return ["" if v is None else str(v) for v in values]
    return [_cell(v, column) for v in values]


def terminal_width() -> int | None:
    """The width to fit: $COLUMNS, else the terminal's; piped, none (every column whole,
    every row one line, for grep and files)."""
    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def table_text(folder: str, result: Any, width: int | None) -> tuple[str, str]:
    """The table's header line and the lines under it, ``width`` cells wide (None:
    every column whole)."""
    from crmfiles.cli.table_fit import BY_TYPE, Table, fill

    table = Table.of_columns(
        result.columns, [_cells(result.column(c), c) for c in result.columns], BY_TYPE.get(folder)
    )
    header, *body = table.lines(table.fit(width))
    body.extend(fill(_totals(folder, result), width))
    return header, "\n".join(body) + "\n"


def print_header(header: str) -> None:
    """The header line, bold where rich would style it: on a terminal, or where the
    environment says there is one (rich's own test, made without importing rich)."""
    forced = os.environ.get("TTY_COMPATIBLE", "")
    terminal = (
        forced == "1"
        if forced in ("0", "1")
        else bool(os.environ["FORCE_COLOR"])
        if "FORCE_COLOR" in os.environ
        else sys.stdout.isatty()
    )
    if not terminal:
        sys.stdout.write(header + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    # the line is laid out already (soft_wrap: rich neither wraps nor crops it)
    console = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
    console.print(Text(header, style="bold"))


def _counted(folder: str, result: Any) -> str:
    """What a document list's total counts, when not every row: `` of the 3 open or
    delivered orders``."""
    statuses = getattr(result, "counted", None)
    if not statuses or result.counted_rows == len(result.rows):
        return ""  # (every row counted)
    n = result.counted_rows
    kind = folder if n != 1 else folder[:-1]
    return f" of the {n} {' or '.join(statuses)} {kind}"


def _left_out(result: Any) -> list[str]:
    """A document list's files that could not be read: not in its rows nor totals."""
    left = getattr(result, "left_out", [])
    if not left:
        return []
    files = f"{len(left)} unreadable file{'s' if len(left) != 1 else ''}"
    return [f"(not counting {files}: {', '.join(left)})"]


def _totals(folder: str, result: Any) -> list[str]:
    """The footer in parts that are never split across lines."""
    from crmfiles.records import RECORD_FOLDERS

    n = len(result)
    parts = [f"{n} {folder if n != 1 else RECORD_FOLDERS[folder]}"]
    if getattr(result, "view", None):
        parts.append(f"(view {result.view})")
    amount, weighted = result.amount, result.weighted
    if amount is None:
        return parts
    base = amount.base
    if amount.in_base is None:
        return [
            *parts,
            "totals per currency: "
            + ", ".join(f"{fmt(v)} {k}" for k, v in sorted(amount.by_currency.items())),
            f"(no rate for {', '.join(amount.missing_rates)} in catalogs/currencies.yaml)",
            *_left_out(result),
        ]
    parts.append(f"total {fmt(amount.in_base)} {base}" + _counted(folder, result))
    sums = getattr(result, "sums", {})
    if "tax" in sums:
        parts.append(f"(net {fmt(sums['net'].in_base)}, tax {fmt(sums['tax'].in_base)})")
    if "open_amount" in sums:
        parts.append(f"open {fmt(sums['open_amount'].in_base)} {base}")
    if weighted is not None:
        parts.append(f"weighted {fmt(weighted.in_base)} {base}")
    if amount.converted:
        others = ", ".join(k for k in sorted(amount.by_currency) if k != base)
        parts.append(f"({others} converted to {base} at the rates of catalogs/currencies.yaml)")
    return [*parts, *_left_out(result)]
