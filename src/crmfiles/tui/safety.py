"""Control characters in values are shown escaped in the TUI, as on the command line.

Textual (like Rich) strips only a handful of control codes (BEL, BS, VT, FF, CR)
from the text it draws and passes ESC through: a record named
``"\\e]0;pwned\\a\\e[2J"`` would reach the terminal raw. Both libraries keep that list
as a translate table; adding every other control character to those tables, mapped
to its visible escape (``\\x1b``), covers every widget at once — the list, the
kanban, the record screen, dialogs — instead of escaping at each place a value is
shown. The tables are private to those libraries, whose versions the project pins;
``tests/test_tui.py::test_hostile_names_are_shown_escaped`` fails if they move.
"""

from __future__ import annotations

from crmfiles.controls import CONTROL


def _visible(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x7F else f"\\u{code:04x}"


def escape_control_codes() -> None:
    """Make Textual and Rich show every control character but tab and newline as an
    escape instead of drawing it (idempotent)."""
    import rich.control
    import textual.content

    codes = [c for c in range(0xA0) if CONTROL.match(chr(c))]
    for table in (
        textual.content._CONTROL_STRIP_TRANSLATE,
        rich.control._CONTROL_STRIP_TRANSLATE,
    ):
        for code in codes:
            table[code] = _visible(code)  # type: ignore[assignment]
