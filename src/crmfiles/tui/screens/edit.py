"""Edit an opportunity: a form that validates as you type with the same engine as
``crm validate`` (debounced, on a worker), shows each message under its field, and
saves through ``update``, which refuses when the file changed on disk meanwhile."""

from __future__ import annotations

from typing import Any, cast

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Header, Input, Label, Select, Static

from crmfiles.money import decimal
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.rows import mapping
from crmfiles.tui.screens.dialogs import number
from crmfiles.tui.screens.form import FormScreen
from crmfiles.tui.screens.lines import CompetitorsList, ItemList, LinesList, totals_widget
from crmfiles.tui.validate import DELETE
from crmfiles.tui.widgets.footer import CrmFooter

TEXT = ("name", "site", "next_milestone", "comment")
DATES = ("opened", "expected_close")
PRODUCTION = ("production_start", "production_end")
PICKS = {
    "partner": "partners",
    "responsible": "people",
    "currency": "currencies",
    "terms": "terms",
    "channel": "channels",
    "establishment": "establishments",
    "sector": "sectors",
    "family": "families",
    "sub_family": "sub-families",
}
MULTI = {"contacts": "contacts", "team": "people", "tags": "tags"}
INSIGHT = ("problem", "pain", "reasons", "impacts", "capabilities")


class EditScreen(FormScreen):
    """The opportunity's form (its stage and status change with Move and Close)."""

    def __init__(self, record_id: str, snapshot: TuiSnapshot) -> None:
        super().__init__("opportunities", record_id, snapshot)

    # --- the form ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        snapshot = cast(TuiSnapshot, self.snapshot)
        data = self.loaded
        yield Header()
        yield Static(
            f"[b]Edit {escape(str(data.get('name', self.record_id)))}[/b]   {self.path}   "
            "[dim]stage and status change with Move and Close[/dim]",
            id="edit-title",
        )
        yield Static("", id="check-state")
        yield Static("", id="form-errors", classes="field-error")
        with VerticalScroll(id="form"):
            yield from self._field(
                "name", Input(compact=True, value=str(data.get("name") or ""), id="name")
            )
            with Horizontal(classes="pair"):
                yield from self._field(
                    "probability",
                    Input(
                        compact=True,
                        value=str(data.get("probability", "")),
                        id="probability",
                        placeholder="0-99",
                    ),
                )
                yield from self._field(
                    "amount",
                    Input(
                        str(data.get("amount", "")),
                        compact=True,
                        id="amount",
                        placeholder="empty: the sum of the lines",
                    ),
                )
            with Vertical(classes="field"):
                yield Label("Lines", classes="field-label")
                yield totals_widget()
                yield LinesList(snapshot, data.get("lines"), id="lines")
                yield self._error("lines")
            for pair in (DATES, PRODUCTION):
                with Horizontal(classes="pair"):
                    for key in pair:
                        yield from self._field(
                            key,
                            Input(
                                compact=True,
                                value=str(data.get(key) or ""),
                                id=key,
                                placeholder="YYYY-MM-DD",
                            ),
                        )
            for key, catalog in PICKS.items():
                yield from self._field(key, self._select(key, self._choices(catalog)))
            for key, catalog in MULTI.items():
                yield from self._field(key, self._multi(key, self._multi_choices(key, catalog)))
            yield from self._field(
                "competitors", CompetitorsList(snapshot, data.get("competitors"), id="competitors")
            )
            for key in ("site", "next_milestone", "comment"):
                yield from self._field(
                    key, Input(compact=True, value=str(data.get(key) or ""), id=key)
                )
            insight = mapping(data.get("insight"))
            for key in INSIGHT:
                yield from self._field(
                    f"insight.{key}",
                    Input(compact=True, value=str(insight.get(key) or ""), id=f"insight-{key}"),
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (F2)", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
        yield CrmFooter()

    def _multi_choices(self, key: str, catalog: str) -> list[tuple[str, str]]:
        """The contacts offered are the partner's (and those already chosen)."""
        choices = self._choices(catalog)
        if key != "contacts":
            return choices
        contacts = self.snap.records["contacts"]
        chosen = [str(v) for v in self.loaded.get(key) or []]
        return [
            (label, cid)
            for label, cid in choices
            if contacts[cid].data.get("partner") == self.loaded.get("partner") or cid in chosen
        ]

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#name", Input).focus()
        self._show_totals()
        self._schedule()

    # --- reading the form -------------------------------------------------------------

    def changes(self) -> tuple[dict[str, Any], list[str]]:
        """What differs from the file as loaded (``DELETE`` for a cleared field), and
        what cannot even be read (a probability that is not a number...)."""
        data = self.loaded
        out: dict[str, Any] = {}
        problems: list[str] = []

        def setv(key: str, value: Any) -> None:
            self.setv(out, key, value)

        for key in (*TEXT, *DATES, *PRODUCTION):
            value = self.query_one(f"#{key}", Input).value.strip()
            setv(key, value if value else DELETE)
        probability = self.query_one("#probability", Input).value.strip()
        if probability and not probability.lstrip("-").isdigit():
            problems.append("probability: a whole number")
        else:
            setv("probability", int(probability) if probability else DELETE)
        amount_text = self.query_one("#amount", Input).value.strip().replace(",", "")
        amount = decimal(amount_text) if amount_text else None
        if amount_text and amount is None:
            problems.append("amount: not a number")
        elif amount is None:
            setv("amount", DELETE)
        elif decimal(data.get("amount")) != amount:
            out["amount"] = number(amount)
        for key in PICKS:
            select = self.query_one(f"#{key}", Select)
            setv(key, DELETE if select.value is Select.NULL else str(select.value))
        for key in MULTI:
            self.multi_value(out, key)
        insight_old = mapping(data.get("insight"))
        insight = dict(insight_old)
        for key in INSIGHT:
            value = self.query_one(f"#insight-{key}", Input).value.strip()
            if value:
                insight[key] = value
            else:
                insight.pop(key, None)
        for key in ("lines", "competitors"):
            items = cast(ItemList, self.query_one(f"#{key}")).items  # (abstract: no type arg)
            if items != (data.get(key) or []):
                out[key] = items or DELETE
        if insight != insight_old:
            out["insight"] = insight or DELETE
        if "amount" in out and out["amount"] is DELETE and "amount" not in data:
            del out["amount"]
        return out, problems

    # --- live totals ------------------------------------------------------------------

    @on(ItemList.Changed)
    def _items_changed(self) -> None:
        self.form_changed()
        self._schedule()

    def form_changed(self) -> None:
        self._show_totals()

    def _show_totals(self) -> None:
        """Lines total, weighted amount and margin, live as the form changes."""
        amount = decimal(self.query_one("#amount", Input).value.strip().replace(",", ""))
        probability_text = self.query_one("#probability", Input).value.strip()
        probability = int(probability_text) if probability_text.isdigit() else None
        currency = self.query_one("#currency", Select).value
        code = (
            str(currency)
            if currency is not Select.NULL
            else cast(TuiSnapshot, self.snapshot).currency
        )
        lines = self.query_one("#lines", LinesList)
        self.query_one("#lines-totals", Static).update(lines.totals(amount, probability, code))
