"""Edit a record's text the way a person would: change only the lines that change.

A scalar edit (a stage, a probability, a status) splices the new value between the
old value's start and end marks, so comments, key order, quoting elsewhere and blank
lines survive by construction and a stage move is a one-line diff.  Structural edits
(adding a line item) use ruamel.yaml's round-trip mode on the one file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmfiles import lazy_module
from crmfiles.records.yamlio import ParseError, compose, parse

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")

_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_./@+-][A-Za-z0-9 _./@+()&,'-]*$")
_DELETE = object()


def scalar(value: Any) -> str:
    """The YAML text of one scalar, plain when it reads back as the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if text and _PLAIN_SAFE.match(text) and not text.endswith(" "):
        try:
            if parse(f"k: {text}\n") == {"k": text}:
                return text
        except ParseError:
            pass
    return json.dumps(text, ensure_ascii=False)


def set_fields(text: str, changes: Mapping[str, Any]) -> str:
    """Set (or, with value ``DELETE``, remove) top-level scalar fields of a record.

    Existing keys are edited in place; new keys are appended after the last key of the
    record, in the order given.
    """
    root = compose(text)
    if not isinstance(root, yaml.MappingNode):
        raise ValueError("a record is a YAML mapping")
    edits: list[tuple[int, int, str]] = []
    pending = dict(changes)
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode) or key.value not in pending:
            continue
        new = pending.pop(key.value)
        if new is _DELETE:
            start = text.rfind("\n", 0, key.start_mark.index) + 1
            end = _line_end(text, _value_end(text, value), value)
            edits.append((start, end, ""))
        elif isinstance(value, yaml.ScalarNode) and value.start_mark.index == value.end_mark.index:
            colon = text.index(":", key.end_mark.index) + 1
            edits.append((colon, colon, f" {scalar(new)}"))
        else:
            edits.append((value.start_mark.index, _value_end(text, value), scalar(new)))
    additions = [f"{k}: {scalar(v)}\n" for k, v in pending.items() if v is not _DELETE]
    out = text
    for start, end, replacement in sorted(edits, reverse=True):
        out = out[:start] + replacement + out[end:]
    if additions:
        if out and not out.endswith("\n"):
            out += "\n"
        out += "".join(additions)
    return out


DELETE: Any = _DELETE


def _value_end(text: str, node: yaml.Node) -> int:
    end = node.end_mark.index
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        # a block scalar's end mark sits after its trailing line break(s)
        while end > node.start_mark.index and text[end - 1] == "\n":
            end -= 1
    return end


def _line_end(text: str, index: int, node: yaml.Node) -> int:
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style is not True:
        return index  # a block collection's end mark is the start of the next line
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def write_atomic(path: Path, content: str) -> None:
    """Write text through a temporary file in the same folder and rename it into place:
    a crash leaves the old file or the new one, never half of one."""
    write_bytes_atomic(path, content.encode("utf-8"))


def write_bytes_atomic(path: Path, content: bytes, *, durable: bool = True) -> None:
    """The bytes version of :func:`write_atomic` (also for the caches under .git/,
    which are not ``durable``: a cache lost in a crash is read again, so it is not
    forced to the disk before the rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
