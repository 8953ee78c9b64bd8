"""``crm set`` and ``crm edit``: change any record without writing its YAML by hand.

``crm set ID FIELD=VALUE...`` takes assignments (VALUE read as YAML):

- ``name=Acme forklifts``, ``amount=12000``: a field, set;
- ``insight.pain=Slow loading``: a dotted path into mappings (made where missing);
- ``lines+={product: x, quantity: 2}``: an item appended to a list;
- ``lines-=2``: the 2nd item of a list removed (counting from 1, as ``crm show`` does);
- ``--unset FIELD`` (dotted too): a field removed.

The text is changed where the values change and nowhere else: a top-level scalar on
its line (the way ``crm move`` changes a stage); a nested or list change through
ruamel.yaml's round trip, kept only when every other line comes out as it was (else
the changed top-level field alone is written anew). Comments, key order and quoting
elsewhere are the user's. The result is checked with the rules like every operation
and committed once: ``crm: set <id> <field>, <field>``.
"""

from __future__ import annotations

import copy
import difflib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan, branch_for, subject
from crmfiles.ops.result import Stale
from crmfiles.ops.runner import Unchanged, operation
from crmfiles.ops.workspace import RecordFile, Workspace
from crmfiles.ops.yamltext import set_values
from crmfiles.records import RECORD_FOLDERS
from crmfiles.records.edit import DELETE
from crmfiles.records.yamlio import ParseError, parse


@dataclass(frozen=True)
class Assignment:
    path: tuple[str, ...]  # the dotted path
    op: str  # "=", "+=", "-=", "unset"
    value: Any = None

    @property
    def field(self) -> str:
        return ".".join(self.path)


def parse_assignment(text: str) -> Assignment:
    """``FIELD=VALUE``, ``FIELD+=VALUE``, ``FIELD-=N`` (VALUE read as YAML)."""
    for op in ("+=", "-=", "="):
        key, found, raw = text.partition(op)
        if found and key and "=" not in key:
            break
    else:
        raise CrmError(
            f"'{text}' is not FIELD=VALUE",
            hint="e.g. expected_close=2026-09-30, insight.pain='slow', lines+={product: x}",
        )
    path = tuple(part.strip() for part in key.split("."))
    if not all(path):
        raise CrmError(f"'{key}' is not a field name")
    if op == "-=":
        try:
            index = int(raw.strip())
        except ValueError:
            raise CrmError(f"{key}-= takes the number of the item to remove, not '{raw}'") from None
        return Assignment(path, op, index)
    try:
        value = parse(raw) if raw.strip() else None
    except ParseError as err:
        raise CrmError(f"{key}: the value is not YAML: {err.message}") from None
    if op == "=" and value is None and not raw.strip():
        raise CrmError(f"{key}= has no value", hint=f"to remove the field: --unset {key}")
    return Assignment(path, op, value)


def apply(data: dict[str, Any], assignments: Sequence[Assignment]) -> dict[str, Any]:
    """``data`` with the assignments made (a new mapping; ``data`` is left alone)."""
    out = copy.deepcopy(data)
    for a in assignments:
        parent: Any = out
        for depth, part in enumerate(a.path[:-1]):
            child = parent.get(part)
            if child is None and a.op != "unset":
                child = parent[part] = {}
            if not isinstance(child, dict):
                where = ".".join(a.path[: depth + 1])
                if child is None:  # unset of something that is not there
                    break
                raise CrmError(f"{where} is not a mapping: {a.field} cannot be set")
            parent = child
        else:
            _apply_one(parent, a)
    return out


def _apply_one(parent: dict[str, Any], a: Assignment) -> None:
    last = a.path[-1]
    if a.op == "=":
        parent[last] = a.value
    elif a.op == "unset":
        parent.pop(last, None)
    elif a.op == "+=":
        current = parent.get(last)
        if current is None:
            parent[last] = [a.value]
        elif isinstance(current, list):
            current.append(a.value)
        else:
            raise CrmError(f"{a.field} is not a list: += appends to a list")
    else:  # "-="
        current = parent.get(last)
        if not isinstance(current, list):
            raise CrmError(f"{a.field} is not a list: -= removes an item of a list")
        if not 1 <= a.value <= len(current):
            raise CrmError(
                f"{a.field} has {len(current)} item{'s' if len(current) != 1 else ''}; "
                f"there is no item {a.value}",
                hint="items count from 1, as `crm show` lists them",
            )
        del current[a.value - 1]
        if not current:
            del parent[last]


def edited_text(text: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    """``text`` changed from ``old`` to ``new``: only the lines that change."""
    changed = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
    nested = [k for k in changed if k in new and _is_nested(old.get(k), new.get(k))]
    flat = {k: new.get(k, DELETE) for k in changed if k not in nested}
    out = set_values(text, flat) if flat else text
    if nested:
        out = _round_trip(out, {k: new[k] for k in nested})
    return out


def _is_nested(before: Any, after: Any) -> bool:
    return isinstance(before, (dict, list)) and isinstance(after, (dict, list))


def _round_trip(text: str, changes: dict[str, Any]) -> str:
    """Nested values changed through ruamel.yaml's round trip when that leaves every
    other line as it was; else those fields are written anew by :func:`set_values`."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        doc = yaml.load(text)
        for key, value in changes.items():
            doc[key] = _merge_into(doc.get(key), value)
        out = io.StringIO()
        yaml.dump(doc, out)
        result = out.getvalue()
    except Exception:  # ruamel's doubt is not the user's problem: the plain way
        return set_values(text, changes)
    if _only_fields_changed(text, result, changes) and parse(result) == {
        **(parse(text) or {}),
        **changes,
    }:
        return result
    return set_values(text, changes)


def _merge_into(target: Any, value: Any) -> Any:
    """``value`` laid over ruamel's ``target`` node, keeping the node (and so its
    comments) wherever the two are of one shape."""
    if isinstance(target, dict) and isinstance(value, dict):
        for key in [k for k in target if k not in value]:
            del target[key]
        for key, item in value.items():
            target[key] = _merge_into(target.get(key), item) if key in target else item
        return target
    if isinstance(target, list) and isinstance(value, list) and len(target) == len(value) + 1:
        for i in range(len(target)):  # one item removed: delete it where it stands
            if list(target[:i]) + list(target[i + 1 :]) == value:
                del target[i]
                return target
    if isinstance(target, list) and isinstance(value, list) and len(target) <= len(value):
        for i, item in enumerate(value):
            if i < len(target):
                target[i] = _merge_into(target[i], item)
            else:
                target.append(item)
        return target
    return value


def _only_fields_changed(before: str, after: str, fields: dict[str, Any]) -> bool:
    """Every line that differs lies in the block of one of ``fields``."""
    old_lines, new_lines = before.splitlines(), after.splitlines()
    blocks = _blocks(old_lines)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":  # between two lines: the end of the block above counts
            if blocks.get(i1 - 1) not in fields and blocks.get(i1) not in fields:
                return False
            continue
        if any(blocks.get(i) not in fields for i in range(i1, i2)):
            return False
    return True


def _blocks(lines: list[str]) -> dict[int, str | None]:
    """Line number -> the top-level key whose block it is in (None above the first)."""
    out: dict[int, str | None] = {}
    current: str | None = None
    for i, line in enumerate(lines):
        if line and not line[0].isspace() and not line.startswith(("#", "-")) and ":" in line:
            current = line.split(":", 1)[0].strip().strip("'\"")
        out[i] = current
    return out


def plan_set_fields(
    ws: Workspace,
    record_id: str,
    assignments: Sequence[Assignment],
    *,
    folder: str | None = None,
) -> Plan | Unchanged:
    """``crm set``: the assignments made on one record, checked, in one commit."""
    if not assignments:
        raise CrmError("nothing to set", hint="crm set ID FIELD=VALUE... [--unset FIELD]")
    if any(a.path == ("id",) for a in assignments):
        raise CrmError("a record's id is its file name and never changes")
    record = find_record(ws, record_id, folder)
    new = apply(record.data, assignments)
    fields = list(dict.fromkeys(a.field for a in assignments))
    if new == record.data:
        return Unchanged(record.id, f"{record.id}: nothing changed")
    text = edited_text(record.text, record.data, new)
    plan = _plan(record, text, new, "set", subject("set", record.id, ", ".join(fields)))
    plan.summary = f"set {', '.join(fields)} of {record.id}"
    return plan


set_fields = operation(plan_set_fields)


def plan_save_text(
    ws: Workspace,
    record_id: str,
    text: str,
    *,
    folder: str | None = None,
    expected_hash: str | None = None,
) -> Plan | Unchanged:
    """``crm edit``: a record's whole new text (as the user saved it), checked, in one
    commit; refused when the file changed on disk since it was read (``expected_hash``)."""
    from crmfiles.ops.edit import content_hash

    record = find_record(ws, record_id, folder)
    if expected_hash is not None and content_hash(record.text) != expected_hash:
        raise Stale(
            f"{record.path} changed on disk while it was being edited; nothing was written",
            hint="run `crm edit` again to edit what is there now",
        )
    if text == record.text:
        return Unchanged(record.id, f"{record.id}: nothing changed")
    try:
        data = parse(text)
    except ParseError:
        data = None  # the check says where
    new = data if isinstance(data, dict) else {}
    changed = [k for k in dict.fromkeys([*record.data, *new]) if record.data.get(k) != new.get(k)]
    words = subject("edit", record.id, ", ".join(changed))
    plan = _plan(record, text, new, "edit", words)
    plan.summary = f"saved {record.id}" + (f" ({', '.join(changed)})" if changed else "")
    return plan


save_text = operation(plan_save_text)


def find_record(ws: Workspace, record_id: str, folder: str | None) -> RecordFile:
    """A record by id (or TYPE/ID), in ``folder`` (a type or folder name) when given."""
    if folder is not None and folder not in RECORD_FOLDERS:
        from crmfiles.ops.new import folder_of

        folder = folder_of(folder)
    return ws.find(record_id, (folder,) if folder else None)


def _plan(record: RecordFile, text: str, new: dict[str, Any], verb: str, subject: str) -> Plan:
    old = record.data
    trailers = [("Crm-Record", record.path)]
    if record.folder == "opportunities" and old.get("stage") != new.get("stage"):
        trailers += [
            ("Crm-Stage-From", str(old.get("stage"))),
            ("Crm-Stage-To", str(new.get("stage"))),
        ]
    if old.get("status") != new.get("status") and new.get("status") is not None:
        trailers.append(("Crm-Status", str(new.get("status"))))
    return Plan(
        verb=verb,
        record=record.id,
        texts={record.path: text},
        created=[],
        subject=subject,
        trailers=trailers,
        branch=branch_for(record.id, verb),
        summary="",
    )
