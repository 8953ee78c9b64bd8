"""What a new user sees at 80×24 and in the palette: dialogs whose buttons stay on
the screen, the palette's app-wide commands on every screen and one entry per
action, forms that number keys do not leave, and cells and footers that say whole
things at 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("textual")

from test_tui import (  # noqa: F401 - the demo fixtures
    SEARCH_FOR,
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
SEARCH_FOR.setdefault("northern-retail-dc-review", "throughput")


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


def every_dialog() -> list[tuple[str, object]]:
    """One of each dialog, on the demo's records."""
    from decimal import Decimal

    from crmfiles.tui.screens.actions import (
        CloseDialog,
        DisqualifyDialog,
        DuplicateDialog,
        MoveDialog,
        NewOpportunityDialog,
        QualifyDialog,
        TaskDoneDialog,
    )
    from crmfiles.tui.screens.dialogs import ConfirmDialog, FilterDialog, PickDialog
    from crmfiles.tui.screens.document_dialogs import (
        CloseWonOffer,
        DayDialog,
        InvoiceDialog,
        LoseQuoteDialog,
        StepDialog,
    )
    from crmfiles.tui.screens.lines import CompetitorDialog, LineDialog
    from crmfiles.tui.screens.merge import MergeDialog
    from crmfiles.tui.screens.print_dialogs import MailDialog, RenderDialog
    from crmfiles.tui.screens.setfield import SetFieldDialog

    deal, lead, quote = "mueller-logistik-e25-fleet", "student-thesis-enquiry", "q-2026-0017"
    stages = [(str(n), f"Stage {n}") for n in range(12)]
    return [
        ("confirm", ConfirmDialog("Delete it?", "It cannot be undone.")),
        ("pick", PickDialog("Sort by", stages, "3")),
        ("filter", FilterDialog({})),
        ("new", NewOpportunityDialog()),
        ("move", MoveDialog(deal)),
        ("close won", CloseDialog(deal, won=True)),
        ("close lost", CloseDialog(deal, won=False)),
        ("duplicate", DuplicateDialog(deal)),
        ("qualify", QualifyDialog(lead)),
        ("disqualify", DisqualifyDialog(lead)),
        ("task done", TaskDoneDialog("2026-11-06-mueller-quote-follow-up")),
        ("merge partners", MergeDialog("partners")),
        ("merge contacts", MergeDialog("contacts")),
        ("set deal", SetFieldDialog("opportunities", deal)),
        ("set partner", SetFieldDialog("partners", "mueller-logistik")),
        ("set a field", SetFieldDialog("opportunities", deal, "next_milestone")),
        ("step", StepDialog("Activate", "Send it.", "Activate", "x", "quote", quote)),
        ("lose quote", LoseQuoteDialog(quote)),
        ("invoice", InvoiceDialog("ord-2026-0006", Decimal("1000.00"), "EUR")),
        ("day", DayDialog("Delivered", "On which day?", "OK", "x", "order", "ord-2026-0006")),
        ("close won offer", CloseWonOffer(deal, quote)),
        ("render", RenderDialog("quotes", quote)),
        ("mail", MailDialog("quotes", quote)),
        ("line", LineDialog()),
        ("competitor", CompetitorDialog()),
    ]


@sync
async def test_every_dialogs_buttons_are_on_an_80_by_24_screen(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    off: list[str] = []
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for name, dialog in every_dialog():
            await app.push_screen(dialog)  # type: ignore[arg-type]
            await settle(pilot)
            if name == "set a field":  # a refusal of three lines takes room too
                dialog.error("The rule says no:\nline two\nline three")  # type: ignore[attr-defined]
                await settle(pilot)
            screen = app.screen.region
            for button in ("#ok", "#cancel"):
                region = app.screen.query_one(button).region
                # on the screen, above the footer's line
                if not (region.height and screen.contains_region(region)) or (
                    region.bottom > screen.bottom - 1
                ):
                    off.append(f"{name} {button} {region}")
            app.pop_screen()
            await settle(pilot)
    assert off == [], "\n".join(off)


@sync
async def test_the_record_footer_shows_the_everyday_keys_at_80_columns(demo: Path) -> None:  # noqa: F811
    from test_tui import shown

    from crmfiles.tui.screens.help import HelpScreen
    from crmfiles.tui.widgets.footer import CrmFooter

    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await go_to(pilot, "brauerei-falkenstein-stapler")
        await pilot.press("enter")
        await settle(pilot)
        footer = str(app.screen.query_one(CrmFooter).render())
        assert len(footer) == 80
        for key in ("t Task", "i Log", "= Set", "e Edit", "m Move", "c Close", "esc Back"):
            assert f" {key} " in footer, footer
        assert "Blame" not in footer and "Copy" not in footer and "Next tab" not in footer
        # the rarer keys: in the palette and in ? help
        entries = await palette_shows(pilot, "blame")
        assert "Blame  (b)" in entries, entries
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        help_text = "\n".join(shown(s) for s in app.screen.query("Static"))
        for key, what in (("b", "Blame"), ("d", "Copy"), ("]", "Next tab"), ("[", "Prev tab")):
            assert any(
                line.split()[:1] == [key] and what in line for line in help_text.splitlines()
            ), (
                key,
                help_text,
            )


def lines(widget: object) -> list[str]:
    """The widget's lines as the screen shows them."""
    size = widget.size  # type: ignore[attr-defined]
    return [widget.render_line(y).text for y in range(size.height)]  # type: ignore[attr-defined]


@sync
async def test_tasks_at_80_columns_name_what_each_task_is_about(demo: Path) -> None:  # noqa: F811
    from crmfiles.tui.widgets.table import RecordTable

    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        shown = lines(app.screen.query_one("#tasks", RecordTable))
        assert shown[0].split() == ["Due", "Task", "About", "State"]
        [follow_up] = [line for line in shown if "Follow up on the revised" in line]
        # the quote's id whole, and its deal
        assert "2026-11-27" in follow_up and "q-2026-0017 · Müller Lo" in follow_up
        [call] = [line for line in shown if "Qualification call" in line]
        assert "Holzwerk Schwarzwald" in call and "overdue" in call
        detail = lines(app.screen.query_one("#task-detail"))
        await pilot.press("j", "j", "j")
        await settle(pilot)
        detail = lines(app.screen.query_one("#task-detail"))
        about = [line for line in detail if "About:" in line]
        assert about[0].split("About: ")[1].strip() == (
            "q-2026-0017 · Müller Logistik – E25 fleet renewal Bremen"
        )


@sync
async def test_dropoff_and_winloss_say_their_whole_subtitle_at_80(demo: Path) -> None:  # noqa: F811
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for key, said in (
            ("9", "how many deals reached each stage, where the lost ones were lost"),
            ("0", "closed deals by loss reason, competitor, person"),
        ):
            await pilot.press(key)
            await settle(pilot)
            shown = lines(app.screen.query_one("#chart"))
            head = " ".join(" ".join(shown[:3]).split())
            assert said in head and "t: next kind" in head, shown[:3]
            assert "…" not in head


@sync
async def test_a_deal_of_a_kind_without_stages_shows_a_dash_for_its_stage(demo: Path) -> None:  # noqa: F811
    from crmfiles.tui.widgets.table import RecordTable

    app = make_app(demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await go_to(pilot, "northern-retail-dc-review")  # consulting: no stages
        table = app.screen.query_one("#list", RecordTable)
        shown = lines(table)
        stage_at = shown[0].index("Stage")
        [row] = [line for line in shown if "Northern Retail – DC thro" in line]
        assert row[stage_at] == "—", (shown[0], row)


@sync
async def test_1_on_a_record_opened_from_the_list_goes_back_to_the_list(demo: Path) -> None:  # noqa: F811
    from crmfiles.tui.screens.opportunities import OpportunitiesScreen
    from crmfiles.tui.screens.record import RecordScreen
    from crmfiles.tui.widgets.footer import CrmFooter

    app = make_app(demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert "1 List" not in str(app.screen.query_one(CrmFooter).render())  # on it already
        await go_to(pilot, "brauerei-falkenstein-stapler")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        assert "1 List" in str(app.screen.query_one(CrmFooter).render())
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, OpportunitiesScreen)
        assert app.screen.query_one("#list").cursor_key == "brauerei-falkenstein-stapler"  # type: ignore[attr-defined]


@sync
async def test_mail_and_set_a_field_show_every_field_above_the_status_bar(demo: Path) -> None:  # noqa: F811
    from textual.widgets import Checkbox, Input, RadioSet, Select

    from crmfiles.tui.screens.dialogs import DialogBody
    from crmfiles.tui.screens.print_dialogs import MailDialog
    from crmfiles.tui.screens.setfield import SetFieldDialog

    deal = "mueller-logistik-e25-fleet"
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for dialog in (
            MailDialog("quotes", "q-2026-0017"),
            SetFieldDialog("opportunities", deal),
            SetFieldDialog("opportunities", deal, "next_milestone"),
            SetFieldDialog("opportunities", "brauerei-falkenstein-stapler"),  # a long name
        ):
            await app.push_screen(dialog)
            await settle(pilot)
            assert dialog.query_one(DialogBody).max_scroll_y == 0  # nothing scrolled away
            box = dialog.query_one(".dialog").region
            assert box.bottom <= SMALL[1] - 2  # the status bar and the footer stay in view
            for field in dialog.query("Input, Select, RadioSet, Checkbox"):
                assert isinstance(field, (Input, Select, RadioSet, Checkbox))
                assert box.contains_region(field.region), (dialog, field)
            app.pop_screen()
            await settle(pilot)


@sync
async def test_at_160_columns_the_names_get_the_room(demo: Path) -> None:  # noqa: F811
    from crmfiles.tui.widgets.table import RecordTable

    app = make_app(demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        for key, table, name in (
            ("5", "#tasks", "Holzwerk Schwarzwald – forklift for the sawmill yard"),
            ("5", "#tasks", "q-2026-0017 · Müller Logistik – E25 fleet renewal Bremen"),
            ("8", "#interactions", "Getränke Hofmann – two E16 for the beverage depot"),
            ("8", "#interactions", "Great Lakes Packaging – pallet trucks Cleveland"),
        ):
            await pilot.press(key)
            await settle(pilot)
            shown = "\n".join(lines(app.screen.query_one(table, RecordTable)))
            assert name in shown, shown


@sync
async def test_duplicate_is_not_made_by_a_stray_key_and_enter(demo: Path) -> None:  # noqa: F811
    from test_tui import git

    from crmfiles.tui.screens.actions import DuplicateDialog
    from crmfiles.tui.screens.record import RecordScreen

    head = git(demo, "rev-parse", "HEAD")
    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await go_to(pilot, "brauerei-falkenstein-stapler")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DuplicateDialog)
        assert app.focused is dialog.query_one("#cancel")
        await pilot.press("x", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
    assert git(demo, "rev-parse", "HEAD") == head
    assert git(demo, "status", "--porcelain") == ""


@sync
async def test_a_board_card_at_80_columns_names_the_deal_then_its_partner_once(demo: Path) -> None:  # noqa: F811
    from rich.text import Text

    from crmfiles.tui.screens.kanban import CardList

    app = make_app(demo)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        cards = [
            str(cards.get_option_at_index(i).prompt)
            if not isinstance(cards.get_option_at_index(i).prompt, Text)
            else cards.get_option_at_index(i).prompt.plain  # type: ignore[union-attr]
            for cards in app.screen.query(CardList)
            for i in range(cards.option_count)
        ]
        [muller] = [c for c in cards if "Bremen" in c]
        lines = muller.splitlines()
        assert lines[:3] == ["E25 fleet", "renewal", "Bremen"], lines
        assert lines[3].startswith("Müller") and muller.count("Müller") == 1
