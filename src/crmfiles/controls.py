"""Control characters in values: found by ``crm validate`` (``control-character``) and
made visible by every renderer, so a value can never drive the terminal.

Anyone who can open a pull request can write ``name: "\\e]0;pwned\\a\\e[2J"`` (YAML's
double-quoted escapes make any character). Printed raw, such a value sets the window
title, clears the screen or forges output; printed through :func:`escape`, it shows as
``\\x1b]0;pwned\\x07\\x1b[2J`` (DEL and the C1 controls as ``\\u009b``).
"""

from __future__ import annotations

import re
from typing import Any, TextIO

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F), among
# them the one-character CSI (U+009B) some terminals obey
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# what crm's own colours are made of: Select Graphic Rendition, nothing else
_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def escape(text: str) -> str:
    """``text`` with every control character (but tab and newline) written as a
    visible escape, ``\\x1b``."""
    if CONTROL.search(text) is None:
        return text
    return CONTROL.sub(_visible, text)


def _visible(found: re.Match[str]) -> str:
    # C0 as \x1b, the form people know; DEL and C1 as \u009b, which is also what JSON
    # would write, so escaped JSON output stays valid JSON with the same value
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x7F else f"\\u{code:04x}"


def escape_keeping_colours(text: str) -> str:
    """Like :func:`escape`, but colour sequences pass (crm's own, on a terminal)."""
    if CONTROL.search(text) is None:
        return text
    out: list[str] = []
    last = 0
    for found in _SGR.finditer(text):
        out.append(escape(text[last : found.start()]))
        out.append(found.group())
        last = found.end()
    out.append(escape(text[last:]))
    return "".join(out)


def find(
    value: Any, pointer: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], str]]:
    """(pointer, string) of every string in ``value`` (keys too) with a control
    character in it."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [(pointer, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if CONTROL.search(item) is not None:
                found.append((where, item))
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and CONTROL.search(key) is not None:
                    found.append((where, key))
                stack.append(((*where, key), child))
        elif isinstance(item, list):
            stack.extend(((*where, i), child) for i, child in enumerate(item))
    found.sort(key=lambda pair: [str(part) for part in pair[0]])
    return found


class EscapingWriter:
    """A text stream that writes through :func:`escape` (or, for a terminal that gets
    crm's colours, :func:`escape_keeping_colours`): every renderer of the command line
    is covered at once, whatever it prints. JSON needs no help (it escapes control
    characters itself) and passes unchanged."""

    def __init__(self, stream: TextIO, keep_colours: bool) -> None:
        self._stream = stream
        self.unescaped = stream  # for crm's own drawing: a progress bar moves the cursor
        self._escape = escape_keeping_colours if keep_colours else escape

    def write(self, text: str) -> int:
        self._stream.write(self._escape(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, buffer, encoding...
        return getattr(self._stream, name)
