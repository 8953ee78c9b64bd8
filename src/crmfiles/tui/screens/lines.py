"""The opportunity form's lists: its lines (products from the catalog, quantity, unit
price, discount, margin) with their totals live, and its competitors (a partner with
role competitor and how they fared).  Each list is a table with add, edit and remove;
one item is edited in a small dialog.  Fields the dialog does not show are kept."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Select, Static

from crmfiles.money import decimal, fmt, line_total, lines_total, margin_of, to_cent, weighted
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.rows import listing
from crmfiles.tui.screens.dialogs import Dialog, number, options

SALE_TYPES = ("sale", "rental", "service", "subscription")
OUTCOMES = ("won", "lost", "unknown")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class ItemDialog(Dialog[dict[str, Any]]):
    """Edit one item of a list; dismisses with the item (the fields it does not show
    kept as they were)."""

    def __init__(self, item: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.item = dict(item or {})

    def read_number(
        self, key: str, label: str, problems: list[str], whole: bool = False
    ) -> Decimal | None:
        text = self.value(f"#{key}").replace(",", "").replace(" ", "")
        if not text:
            return None
        value = decimal(text)
        if value is None or (whole and value != value.to_integral_value()):
            problems.append(f"{label}: '{text}' is not {'a whole number' if whole else 'a number'}")
        return value

    def finish(self, values: Mapping[str, Any], problems: list[str]) -> None:
        if problems:
            self.error("\n".join(problems))
            return
        item = dict(self.item)
        for key, value in values.items():
            if value is None or value == "":
                item.pop(key, None)
            else:
                item[key] = value
        self.dismiss(item)


class LineDialog(ItemDialog):
    TITLE_TEXT = "Line"
    OK_LABEL = "OK"

    def fields(self) -> Iterable[Widget]:
        products = self.snap.catalogs["products"]
        choices = options(
            (pid, f"{p.get('name') or pid}  ({fmt(decimal(p.get('price')))})")
            for pid, p in products.items()
        )
        current = self.item.get("product")
        if current is not None and str(current) not in products:
            choices.append((f"{current} (unknown)", str(current)))
        yield from self.field(
            "Product",
            Select(
                choices,
                value=str(current) if current is not None else Select.NULL,
                prompt="pick a product (type to search)",
                id="product",
            ),
        )
        yield from self.field(
            "Description",
            Input(
                _text(self.item.get("description")), placeholder="or what is sold", id="description"
            ),
        )
        with Horizontal(classes="pair"):
            yield from self.field(
                "Quantity", Input(_text(self.item.get("quantity", 1)), id="quantity")
            )
            yield from self.field(
                "Unit price",
                Input(
                    _text(self.item.get("unit_price")),
                    placeholder="the product's price",
                    id="unit_price",
                ),
            )
            yield from self.field(
                "Discount %",
                Input(_text(self.item.get("discount")), placeholder="0", id="discount"),
            )
        with Horizontal(classes="pair"):
            yield from self.field(
                "Margin %", Input(_text(self.item.get("margin")), placeholder="-", id="margin")
            )
            yield from self.field(
                "Months",
                Input(
                    _text(self.item.get("duration_months")),
                    placeholder="recurring only",
                    id="duration_months",
                ),
            )
            sale_type = self.item.get("sale_type")
            yield from self.field(
                "Sale type",
                Select(
                    [(s, s) for s in SALE_TYPES],
                    value=sale_type if sale_type in SALE_TYPES else Select.NULL,
                    prompt="-",
                    id="sale_type",
                ),
            )

    def on_mount(self) -> None:
        super().on_mount()
        self._price_of = self._product_price(self.value("#product"))
        self.query_one("#product", Select).focus()

    def _product_price(self, product: str) -> str:
        entry = self.snap.catalogs["products"].get(product) or {}
        price = decimal(entry.get("price"))
        return "" if price is None else str(number(price))

    @on(Select.Changed, "#product")
    def _product_changed(self) -> None:
        """The unit price follows the product's list price until typed over."""
        price = self.query_one("#unit_price", Input)
        new = self._product_price(self.value("#product"))
        if price.value.strip() in ("", self._price_of):
            price.value = new
        self._price_of = new

    def action_submit(self) -> None:
        problems: list[str] = []
        product = self.value("#product")
        description = self.value("#description")
        if not product and not description:
            problems.append("Product: pick one, or describe what is sold")
        quantity = self.read_number("quantity", "Quantity", problems)
        price = self.read_number("unit_price", "Unit price", problems)
        discount = self.read_number("discount", "Discount", problems)
        margin = self.read_number("margin", "Margin", problems)
        months = self.read_number("duration_months", "Months", problems, whole=True)
        self.finish(
            {
                "product": product or None,
                "description": description,
                "sale_type": self.value("#sale_type"),
                "quantity": None if quantity is None else number(quantity),
                "unit_price": None if price is None else number(price),
                "discount": None if not discount else number(discount),
                "margin": None if margin is None else number(margin),
                "duration_months": None if months is None else int(months),
            },
            problems,
        )


class CompetitorDialog(ItemDialog):
    TITLE_TEXT = "Competitor"

    def fields(self) -> Iterable[Widget]:
        current = _text(self.item.get("partner"))
        partners = self.snap.records["partners"]
        choices = options(
            (pid, str(p.data.get("name") or pid))
            for pid, p in partners.items()
            if "competitor" in listing(p.data.get("roles")) or pid == current
        )
        if current and current not in partners:
            choices.append((f"{current} (unknown)", current))
        yield from self.field(
            "Competitor",
            Select(
                choices,
                value=current or Select.NULL,
                prompt="a partner with role competitor",
                id="partner",
            ),
        )
        outcome = self.item.get("outcome")
        yield from self.field(
            "Outcome",
            Select(
                [(o, o) for o in OUTCOMES],
                value=outcome if outcome in OUTCOMES else Select.NULL,
                prompt="-",
                id="outcome",
            ),
        )
        yield from self.field(
            "Comment",
            Input(
                _text(self.item.get("comment")), placeholder="strengths, offer, price", id="comment"
            ),
        )

    def action_submit(self) -> None:
        partner = self.value("#partner")
        problems = [] if partner else ["Competitor: pick one"]
        values = {
            "partner": partner,
            "outcome": self.value("#outcome"),
            "comment": self.value("#comment"),
        }
        self.finish(values, problems)


class ItemList(Vertical):
    """A list field of the form: a table, and keys to add (a), edit (enter) and
    remove (delete) an item."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a,insert", "add", "Add", id="items.add"),
        Binding("delete,x", "remove", "Remove", id="items.remove"),
    ]
    COLUMNS: tuple[str, ...] = ()
    NOUN = "item"

    class Changed(Message):
        pass

    def __init__(self, snapshot: TuiSnapshot, items: Any, *, id: str) -> None:
        super().__init__(id=id, classes="item-list")
        self.snap = snapshot
        self.items: list[dict[str, Any]] = [
            dict(i) if isinstance(i, dict) else {"description": str(i)} for i in items or []
        ]

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row", id=f"{self.id}-table")
        table.styles.height = "auto"
        table.styles.max_height = 10
        yield table
        with Horizontal(classes="item-buttons"):
            yield Button(f"Add {self.NOUN} (a)", compact=True, id=f"{self.id}-add")
            yield Button("Edit (enter)", compact=True, id=f"{self.id}-edit")
            yield Button("Remove (del)", compact=True, id=f"{self.id}-remove")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.COLUMNS)
        self.refresh_rows()

    @abstractmethod
    def row(self, item: Mapping[str, Any]) -> tuple[str, ...]:
        """The table's cells for one item (LinesList, CompetitorsList say)."""

    @abstractmethod
    def dialog(self, item: Mapping[str, Any] | None) -> ItemDialog:
        """The dialog that edits one item, or makes a new one (``None``)."""

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        at = table.cursor_row
        table.clear()
        for item in self.items:
            table.add_row(*self.row(item))
        if self.items:
            table.move_cursor(row=min(at, len(self.items) - 1))

    def _changed(self) -> None:
        self.refresh_rows()
        self.post_message(self.Changed())

    def action_add(self) -> None:
        def added(item: dict[str, Any] | None) -> None:
            if item is not None:
                self.items.append(item)
                self._changed()
                self.query_one(DataTable).move_cursor(row=len(self.items) - 1)

        self.app.push_screen(self.dialog(None), added)

    def action_edit(self) -> None:
        index = self.query_one(DataTable).cursor_row
        if not 0 <= index < len(self.items):
            return

        def edited(item: dict[str, Any] | None) -> None:
            if item is not None and item != self.items[index]:
                self.items[index] = item
                self._changed()

        self.app.push_screen(self.dialog(self.items[index]), edited)

    def action_remove(self) -> None:
        index = self.query_one(DataTable).cursor_row
        if 0 <= index < len(self.items):
            del self.items[index]
            self._changed()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_edit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = (event.button.id or "").rsplit("-", 1)[-1]
        {"add": self.action_add, "edit": self.action_edit, "remove": self.action_remove}[action]()


class LinesList(ItemList):
    COLUMNS = ("Product", "Qty", "Unit price", "Disc %", "Margin %", "Total")
    NOUN = "line"

    def row(self, item: Mapping[str, Any]) -> tuple[str, ...]:
        products = self.snap.catalogs["products"]
        product = item.get("product")
        name = (
            str((products.get(str(product)) or {}).get("name") or product)
            if product
            else _text(item.get("description"))
        )
        price = item.get("unit_price")
        if price is None:
            price = (products.get(str(product)) or {}).get("price")
        return (
            name,
            _text(item.get("quantity", 1)),
            fmt(decimal(price)),
            _text(item.get("discount")),
            _text(item.get("margin")),
            fmt(line_total(item, products)),
        )

    def dialog(self, item: Mapping[str, Any] | None) -> ItemDialog:
        return LineDialog(item)

    def totals(self, amount: Decimal | None, probability: int | None, currency: str) -> str:
        """The lines' total, the weighted amount and the margin, as the form stands."""
        products = self.snap.catalogs["products"]
        data = {"lines": self.items}
        total = lines_total(data, products)
        parts = []
        if self.items:
            parts.append(f"Total {fmt(total) or '?'} {currency}")
        expected = amount if amount is not None else total
        if amount is not None and total is not None and amount != total:
            parts.append(f"amount {fmt(amount)} (set by hand)")
        if expected is not None and probability is not None and 0 <= probability <= 100:
            parts.append(f"weighted {fmt(weighted(expected, probability))} ({probability}%)")
        margin = margin_of(data, products)
        if margin is not None:
            share = f" ({to_cent(margin * 100 / total)}%)" if total else ""
            parts.append(f"margin {fmt(margin)}{share}")
        return "   ".join(parts) or "No lines yet: a to add one"


class CompetitorsList(ItemList):
    COLUMNS = ("Competitor", "Outcome", "Comment")
    NOUN = "competitor"

    def row(self, item: Mapping[str, Any]) -> tuple[str, ...]:
        pid = _text(item.get("partner"))
        partner = self.snap.records["partners"].get(pid)
        name = str(partner.data.get("name") or pid) if partner is not None else pid
        return (name, _text(item.get("outcome")), _text(item.get("comment")))

    def dialog(self, item: Mapping[str, Any] | None) -> ItemDialog:
        return CompetitorDialog(item)


def totals_widget() -> Static:
    return Static("", id="lines-totals", classes="dim")
