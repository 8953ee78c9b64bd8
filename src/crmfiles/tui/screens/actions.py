"""Dialogs that run an operation: new opportunity, move, close, duplicate, qualify
and disqualify a lead, mark a task done.  Each asks for what its operation needs,
with pickers wherever a reference is expected, and shows the rules' messages when
the operation is refused."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from rich.markup import escape as esc
from textual import on
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    Input,
    OptionList,
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
)
from textual.widgets.option_list import Option

from crmfiles.money import decimal
from crmfiles.tui import ops
from crmfiles.tui.rows import listing
from crmfiles.tui.screens.dialogs import Dialog, content_hash, number, options


class NewOpportunityDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "New opportunity"
    OK_LABEL = "Create"

    def fields(self) -> Iterable[Widget]:
        snap = self.snap
        kinds = [(k, e) for k, e in snap.catalogs["kinds"].items() if e.get("allowed", True)]
        partners = options(
            (pid, str(p.data.get("name") or pid))
            for pid, p in snap.records["partners"].items()
            if listing(p.data.get("roles")) != ["competitor"]
        )
        people = options(
            (pid, snap.name("people", pid))
            for pid, person in snap.catalogs["people"].items()
            if person.get("active", True)
        )
        first_kind = kinds[0][0] if kinds else Select.NULL
        yield from self.field("Name", Input(placeholder="What is being sold to whom", id="name"))
        yield from self.field(
            "Partner",
            Select(partners, prompt="pick a partner (type to search)", id="partner"),
        )
        yield from self.field(
            "Kind",
            Select(
                [(str(e.get("name") or k), k) for k, e in kinds],
                value=first_kind,
                allow_blank=False,
                id="kind",
            ),
        )
        yield from self.field("Stage", Select([], prompt="first stage", id="stage"))
        yield from self.field("Contacts", SelectionList[str](id="contacts"))
        yield from self.field(
            "Responsible",
            Select(
                people, value=self.crm.me or Select.NULL, prompt="pick a person", id="responsible"
            ),
        )
        currencies = sorted(snap.catalogs["currencies"]) or [snap.currency]
        with Horizontal(classes="pair"):
            yield from self.field("Amount", Input(placeholder="e.g. 12500", id="amount"))
            yield from self.field(
                "Currency",
                Select(
                    [(c, c) for c in currencies],
                    value=snap.currency,
                    allow_blank=False,
                    id="currency",
                ),
            )
            yield from self.field(
                "Expected close", Input(placeholder="YYYY-MM-DD", id="expected_close")
            )

    def on_mount(self) -> None:
        super().on_mount()
        self._kind_changed()
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        kind = self.value("#kind")
        stages = self.snap.stages_of(kind)
        select = cast(Select[str], self.query_one("#stage", Select))
        select.set_options([(self.snap.name("stages", s), s) for s in stages])
        if stages:
            select.value = stages[0]
        select.disabled = not stages

    @on(Select.Changed, "#partner")
    def _partner_changed(self) -> None:
        partner = self.value("#partner")
        contacts = cast(SelectionList[str], self.query_one("#contacts", SelectionList))
        contacts.clear_options()
        contacts.add_options(
            (str(c.data.get("name") or cid), cid)
            for cid, c in sorted(self.snap.records["contacts"].items())
            if partner and c.data.get("partner") == partner
        )

    def action_submit(self) -> None:
        fields: dict[str, Any] = {}
        name = self.value("#name")
        problems = []
        if not name:
            problems.append("Name: required")
        for key in ("partner", "kind", "stage", "responsible", "currency", "expected_close"):
            value = self.value(f"#{key}")
            if value:
                fields[key] = value
        if "partner" not in fields:
            problems.append("Partner: pick one")
        if "responsible" not in fields:
            problems.append("Responsible: pick one")
        contacts = self.query_one("#contacts", SelectionList).selected
        if contacts:
            fields["contacts"] = list(contacts)
        amount_text = self.value("#amount").replace(",", "").replace(" ", "")
        if amount_text:
            amount = decimal(amount_text)
            if amount is None:
                problems.append(f"Amount: '{amount_text}' is not a number")
            else:
                fields["amount"] = number(amount)
        if problems:
            self.error("\n".join(problems))
            return
        fields = {"name": name, **fields}
        self.run(f"New {name}", "create", "opportunities", fields)


class MoveDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Move to stage"
    OK_LABEL = "Move"

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id

    def fields(self) -> Iterable[Widget]:
        row = self.snap.rows[self.record_id]
        current = row.data.get("stage")
        stages = self.snap.stages_of(row.data.get("kind"))
        name = esc(str(row.data.get("name", self.record_id)))
        yield Static(f"[b]{name}[/b]  now in {current or '-'}")
        items = [
            Option(("● " if s == current else "  ") + self.snap.name("stages", s), id=s)
            for s in stages
        ]
        yield OptionList(*items, id="stages")
        yield from self.field(
            "Probability (empty: the stage's default unless set by hand)",
            Input(placeholder="0-99", id="probability"),
        )

    def on_mount(self) -> None:
        super().on_mount()
        row = self.snap.rows[self.record_id]
        stages = self.snap.stages_of(row.data.get("kind"))
        pick = self.query_one("#stages", OptionList)
        current = row.data.get("stage")
        if current in stages:
            pick.highlighted = min(stages.index(current) + 1, len(stages) - 1)
        pick.focus()

    @on(OptionList.OptionSelected, "#stages")
    def _picked(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        pick = self.query_one("#stages", OptionList)
        if pick.highlighted is None:
            self.error("Pick a stage")
            return
        stage = pick.get_option_at_index(pick.highlighted).id
        probability_text = self.value("#probability")
        kwargs: dict[str, Any] = {}
        if probability_text:
            if not probability_text.isdigit():
                self.error("Probability: a whole number from 0 to 99")
                return
            kwargs["probability"] = int(probability_text)
        self.run(f"Move {self.record_id}", "move", self.record_id, stage, **kwargs)


class CloseDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Close opportunity"
    OK_LABEL = "Close"

    def __init__(self, record_id: str, won: bool | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.won = won

    def fields(self) -> Iterable[Widget]:
        row = self.snap.rows[self.record_id]
        yield Static(f"[b]{esc(str(row.data.get('name', self.record_id)))}[/b]")
        with RadioSet(id="outcome"):
            yield RadioButton("Won", value=self.won is True, id="won")
            yield RadioButton("Lost", value=self.won is False, id="lost")
        reasons = options(
            (rid, self.snap.name("loss-reasons", rid)) for rid in self.snap.catalogs["loss-reasons"]
        )
        yield from self.field(
            "Loss reason", Select(reasons, prompt="why was it lost?", id="reason")
        )
        yield from self.field("Comment", Input(placeholder="what happened", id="comment"))
        yield Checkbox("Leave it editable (do not mark it closed yet)", id="keep_open")

    def on_mount(self) -> None:
        super().on_mount()
        self._outcome_changed()
        self.query_one("#outcome", RadioSet).focus()

    @on(RadioSet.Changed, "#outcome")
    def _outcome_changed(self) -> None:
        lost = self.query_one("#lost", RadioButton).value
        self.query_one("#reason", Select).disabled = not lost

    def action_submit(self) -> None:
        won = self.query_one("#won", RadioButton).value
        lost = self.query_one("#lost", RadioButton).value
        if not (won or lost):
            self.error("Won or lost?")
            return
        reason = self.value("#reason")
        if lost and not reason:
            self.error("Loss reason: pick one from the catalog")
            return
        kwargs: dict[str, Any] = {"won": won}
        if lost:
            kwargs["reason"] = reason
        comment = self.value("#comment")
        if comment:
            kwargs["comment"] = comment
        if self.query_one("#keep_open", Checkbox).value:
            kwargs["keep_open"] = True
        verb = "Win" if won else "Lose"
        self.run(f"{verb} {self.record_id}", "close", self.record_id, **kwargs)


class DuplicateDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Duplicate opportunity"
    OK_LABEL = "Duplicate"
    # a copy is a new file and a commit: a stray key and Enter do not make one (Enter
    # cancels; F2, the button, or Enter in the name field once there, duplicate)
    AUTO_FOCUS = "#cancel"

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id

    def fields(self) -> Iterable[Widget]:
        name = str(self.snap.rows[self.record_id].data.get("name") or self.record_id)
        yield Static(f"A new opportunity from [b]{esc(name)}[/b], in its kind's first stage.")
        yield from self.field("Name of the copy", Input(value=f"{name} (2)", id="name"))

    def action_submit(self) -> None:
        name = self.value("#name")
        if not name:
            self.error("Name: required (names are unique)")
            return
        self.run(f"Duplicate {self.record_id}", "duplicate", self.record_id, name=name)


class QualifyDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Qualify lead"
    OK_LABEL = "Qualify"

    def __init__(self, lead_id: str) -> None:
        super().__init__()
        self.lead_id = lead_id

    def fields(self) -> Iterable[Widget]:
        lead = self.snap.records["leads"][self.lead_id].data
        yield Static(
            f"[b]{esc(str(lead.get('name', self.lead_id)))}[/b]  "
            f"{esc(str(lead.get('company') or ''))} {esc(str(lead.get('contact_name') or ''))}"
            "\nCreates a partner (or uses the one you pick), "
            "a contact and an opportunity; the lead points at them."
        )
        partners = options(
            (pid, str(p.data.get("name") or pid))
            for pid, p in self.snap.records["partners"].items()
        )
        yield from self.field(
            "Partner",
            Select(partners, prompt="a new partner from the lead's company", id="partner"),
        )
        kinds = [
            (str(e.get("name") or k), k)
            for k, e in self.snap.catalogs["kinds"].items()
            if e.get("allowed", True)
        ]
        yield from self.field(
            "Kind",
            Select(kinds, value=kinds[0][1] if kinds else Select.NULL, id="kind"),
        )

    def action_submit(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.value("#partner"):
            kwargs["partner"] = self.value("#partner")
        if self.value("#kind"):
            kwargs["kind"] = self.value("#kind")
        self.run(f"Qualify {self.lead_id}", "qualify", self.lead_id, **kwargs)


class DisqualifyDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Disqualify lead"
    OK_LABEL = "Disqualify"

    def __init__(self, lead_id: str) -> None:
        super().__init__()
        self.lead_id = lead_id

    def fields(self) -> Iterable[Widget]:
        reasons = options(
            (rid, self.snap.name("loss-reasons", rid)) for rid in self.snap.catalogs["loss-reasons"]
        )
        yield from self.field("Reason", Select(reasons, prompt="why?", id="reason"))

    def action_submit(self) -> None:
        reason = self.value("#reason")
        if not reason:
            self.error("Reason: pick one")
            return
        self.run(f"Disqualify {self.lead_id}", "disqualify", self.lead_id, reason=reason)


class TaskDoneDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Mark task done"
    OK_LABEL = "Done"

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id

    def fields(self) -> Iterable[Widget]:
        task = self.snap.records["tasks"][self.task_id]
        yield Static(f"[b]{esc(str(task.data.get('title', self.task_id)))}[/b]")
        yield from self.field("Result", Input(placeholder="what came of it", id="result"))

    def action_submit(self) -> None:
        result = self.value("#result")
        if not result:
            self.error("Result: say what came of it")
            return
        task = self.snap.records["tasks"][self.task_id]
        fields = {
            "completed": True,
            "completed_on": self.crm.today().isoformat(),
            "result": result,
        }
        self.run(
            f"Done {self.task_id}",
            "update",
            self.task_id,
            fields,
            expected_hash=content_hash(task.text),
        )
