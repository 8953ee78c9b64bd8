"""What a new user sees at 80×24 and in the palette: dialogs whose buttons stay on
the screen, the palette's app-wide commands on every screen and one entry per
action, forms that number keys do not leave, and cells and footers that say whole
things at 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("textual")

from test_tui import (  # noqa: F401 - the demo fixtures
    demo,
    demo_template,
    go_to,
    make_app,
    settle,
    sync,
    type_text,
)
from textual.command import CommandList
from textual.pilot import Pilot

SMALL = (80, 24)


async def palette_shows(pilot: Pilot[object], query: str) -> list[str]:
    """The palette's entries for ``query``, as the list shows them; the palette closed
    again."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    await type_text(pilot, query)
    await pilot.pause(0.5)
    await settle(pilot)
    commands = pilot.app.screen.query_one(CommandList)
    shown = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
    await pilot.press("escape")
    await settle(pilot)
    return [line.splitlines()[0] if line else line for line in map(_plain, shown)]


def _plain(prompt: str) -> str:
    from rich.text import Text

    return Text.from_markup(prompt).plain if "[" in prompt else prompt


@sync
async def test_merge_two_partners_or_contacts_from_every_screen(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for key in ("1", "2", "5", "6", "8", "$"):
            await pilot.press(key)
            await settle(pilot)
            entries = await palette_shows(pilot, "merge two")
            assert "Merge two partners…" in entries, (key, entries)
            assert "Merge two contacts…" in entries, (key, entries)


@sync
async def test_the_palette_has_one_set_a_field_with_the_record_screens_key(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await go_to(pilot, "brauerei-falkenstein-stapler")
        await pilot.press("enter")
        await settle(pilot)
        entries = await palette_shows(pilot, "set")
        sets = [e for e in entries if e.startswith("Set")]
        assert sets == ["Set a field…  (=)"], entries
        await pilot.press("escape")  # back to the list: no key, the same one entry
        await settle(pilot)
        entries = await palette_shows(pilot, "set")
        assert [e for e in entries if e.startswith("Set")] == ["Set a field…"], entries


@sync
async def test_number_keys_do_not_leave_an_open_form(demo: Path) -> None:  # noqa: F811
    from textual.widgets import Select

    from crmfiles.tui.screens.edit import EditScreen
    from crmfiles.tui.widgets.footer import CrmFooter

    app = make_app(demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        footer = str(app.screen.query_one(CrmFooter).render())
        assert "2 Board" in footer  # on a list, the screens' keys show
        await go_to(pilot, "brauerei-falkenstein-stapler")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditScreen)
        footer = str(form.query_one(CrmFooter).render())
        assert "Save" in footer and "Cancel" in footer
        assert "Board" not in footer and "Funnel" not in footer and "List" not in footer
        form.query(Select).first().focus()  # not a text box: a key is not typed in it
        await pilot.press("2", "5", "dollar_sign")
        await settle(pilot)
        assert app.screen is form
        assert app.current_mode == "opportunities"
        notes = [str(n.message) for n in app._notifications]
        assert "Save (F2) or cancel (Esc) the form first" in notes
