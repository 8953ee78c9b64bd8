"""A new partner whose name is close to another's: the same letters once case,
spacing and accents are folded (``Muller Logistik`` and ``Müller Logistik``).

Not a rule - two companies may truly be called alike - but worth a warning that names
the other partner, so nobody creates a second record of one company by mistake (an
equal name, case and spacing aside, is refused by the ``duplicate-name`` rule).
"""

from __future__ import annotations

from crmfiles.diagnostics import Diagnostic, Severity
from crmfiles.errors import CrmError
from crmfiles.ops.workspace import RecordFile, Workspace
from crmfiles.records import loose_name_key
from crmfiles.records.yamlio import ParseError, parse


def near_duplicates(ws: Workspace, record: RecordFile) -> list[Diagnostic]:
    """Warnings, at the new partner's name, for each partner whose name is close."""
    name = record.data.get("name")
    if record.folder != "partners" or not isinstance(name, str) or not name.strip():
        return []
    wanted = loose_name_key(name)
    line = _name_line(record.text)
    out = []
    for path in _partner_paths(ws):
        if path == record.path:
            continue
        other = _name_of(ws, path)
        if other is None or loose_name_key(other) != wanted:
            continue
        other_id = path.rsplit("/", 1)[1].removesuffix(".yaml")
        out.append(
            Diagnostic(
                record.path,
                line,
                7,  # the value, after "name: " (where the rule points)
                Severity.WARNING,
                "duplicate-name",
                f"name '{name}' is close to partner {other_id} ('{other}')",
                hint=f"if it is the same company, use {other_id} "
                f"(`crm merge partner {other_id} {record.id}` merges the two)",
                record=record.id,
            )
        )
    return out


def _partner_paths(ws: Workspace) -> list[str]:
    """Every partner file (partners are few: a walk of their folder)."""
    return sorted(
        f"{folder}/{name}"
        for folder, names in ws.finder.listing("partners")
        for name in names
        if name.endswith(".yaml")
    )


def _name_of(ws: Workspace, path: str) -> str | None:
    """A partner's name from its top-level ``name:`` line alone (not a whole parse)."""
    try:
        text = ws.read_text(path)
    except CrmError:  # an unreadable file is the check's to report, not this warning's
        return None
    for line in text.splitlines():
        if line.startswith("name:"):
            try:
                data = parse(line)
            except ParseError:
                return None
            value = data.get("name") if isinstance(data, dict) else None
            return value if isinstance(value, str) else None
    return None


def _name_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("name:"):
            return number
    return 1
