"""The plain-text alternative of a message: the Markdown rendering of the same context,
read as text - tables laid out in aligned columns without pipes or rules, emphasis
marks and heading marks gone - so that a mail client without HTML shows a letter, not
Markdown source."""

from __future__ import annotations

import re

_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def plain_text(markdown: str) -> str:
    out: list[str] = []
    table: list[list[str]] = []
    for line in markdown.splitlines():
        if line.lstrip().startswith("|"):
            if not _RULE.match(line):
                table.append([_inline(cell) for cell in _cells(line)])
            continue
        if table:
            out.extend(_columns(table))
            table = []
        heading = _HEADING.match(line)
        if heading:
            text = _inline(heading.group(2))
            out.append(text)
            if len(heading.group(1)) <= 2:
                out.append(("=" if len(heading.group(1)) == 1 else "-") * len(text))
            continue
        out.append(_inline(line))
    if table:
        out.extend(_columns(table))
    return "\n".join(out).rstrip() + "\n"


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _inline(text: str) -> str:
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    return _LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>", text)


def _columns(rows: list[list[str]]) -> list[str]:
    """A table's rows in columns two spaces apart; a column of figures right-aligned;
    empty columns dropped (a table's header row of blanks is no row)."""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [i for i in range(width) if any(r[i] for r in rows)]
    rows = [[r[i] for i in keep] for r in rows if any(r[i] for i in keep)]
    if not rows:
        return []
    sizes = [max(len(r[i]) for r in rows) for i in range(len(keep))]
    numeric = [
        all(_figure(r[i]) for r in rows[1:] if r[i]) and any(r[i] for r in rows[1:])
        for i in range(len(keep))
    ]
    lines = []
    for row in rows:
        cells = [
            c.rjust(n) if right and _figure(c) else c.ljust(n)
            for c, n, right in zip(row, sizes, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _figure(cell: str) -> bool:
    return bool(re.match(r"^-?[\d,.]+( ?%| [A-Z]{3})?$", cell))
