"""The dashboard as one HTML page: inline CSS, inline SVG, no script, nothing fetched.

Every figure is a field of a report's JSON payload (:mod:`crmfiles.reports.dashboard`)
formatted for people; every value from the repository is escaped."""

from __future__ import annotations

from decimal import Decimal

from crmfiles.dashboard.blocks import e, pair, table
from crmfiles.dashboard.style import CSS
from crmfiles.dashboard.svg import Bar, Row, Series
from crmfiles.money import fmt
from crmfiles.reports.dashboard import Dashboard

AMOUNT = Series("Amount", "s-amount")
WEIGHTED = Series("Weighted", "s-weighted")
WON = Series("Won", "s-won")
LOST = Series("Lost", "s-lost")
REACHED = Series("Reached", "s-amount")

SECTIONS = [
    ("funnel", "Funnel"),
    ("forecast", "Forecast"),
    ("dropoff", "Drop-off"),
    ("winloss", "Win/loss"),
    ("pipeline", "Pipeline per person"),
    ("moved", "What moved"),
    ("overdue", "Overdue tasks"),
]


def _num(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class Page:
    def __init__(self, board: Dashboard) -> None:
        self.board = board
        self.currency = board.currency

    # --- formatting -------------------------------------------------------------------

    def money(self, value: str | None) -> str:
        """A payload's money string for people; a dash when a rate was missing."""
        return "—" if value is None else f"{fmt(Decimal(value))} {self.currency}"

    def mbar(self, value: str | None) -> Bar:
        return Bar(_num(value), self.money(value))

    @staticmethod
    def cbar(value: int) -> Bar:
        return Bar(value, str(value))

    @staticmethod
    def percent(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.0f}%"

    def stage(self, stage: str) -> str:
        return self.board.stage_names.get(stage, stage)

    def kind(self, kind: str | None) -> str:
        return "all kinds" if kind is None else self.board.kind_names.get(kind, kind)

    # --- sections ---------------------------------------------------------------------

    def funnel(self) -> str:
        parts = []
        for f in self.board.funnels:
            kind = self.kind(f["kind"])
            tid = f"funnel-{f['kind']}"
            rows = [
                Row(self.stage(s["stage"]), [self.mbar(s["amount"]), self.mbar(s["weighted"])])
                for s in f["stages"]
            ]
            lines = [
                [
                    self.stage(s["stage"]),
                    str(s["count"]),
                    self.money(s["amount"]),
                    self.money(s["weighted"]),
                ]
                for s in f["stages"]
            ]
            lines.append(
                [
                    "open",
                    str(f["open"]["count"]),
                    self.money(f["open"]["amount"]),
                    self.money(f["open"]["weighted"]),
                ]
            )
            for group in ("won", "lost"):
                lines.append([group, str(f[group]["count"]), self.money(f[group]["amount"]), ""])
            grid = table(
                tid,
                f"Open {kind} by stage",
                ["stage", "count", "amount", "weighted"],
                lines,
                (1, 2, 3),
            )
            notes = []
            if f["undated"]:
                notes.append(f"{f['undated']} open without an expected close")
            if f["off_stage"]:
                notes.append(f"{f['off_stage']} open in a stage the kind does not list")
            note = f'<p class="note">{e("; ".join(notes))}</p>' if notes else ""
            parts.append(
                f"<h3>{e(kind)}</h3>"
                + pair(f"Funnel: {kind}", tid, [AMOUNT, WEIGHTED], rows, grid)
                + note
            )
        return "".join(parts) or '<p class="empty">No kind in catalogs/kinds.yaml has stages.</p>'

    def forecast(self) -> str:
        f = self.board.forecast
        rows = [
            Row(m["month"], [self.mbar(m["weighted"]), self.mbar(m["won"])]) for m in f["months"]
        ]
        lines = [
            [
                m["month"],
                str(m["count"]),
                self.money(m["amount"]),
                self.money(m["weighted"]),
                str(m["overdue"]),
                str(m["won_count"]),
                self.money(m["won"]),
            ]
            for m in f["months"]
        ]
        u = f["undated"]
        lines.append(
            [
                "undated",
                str(u["count"]),
                self.money(u["amount"]),
                self.money(u["weighted"]),
                "",
                "",
                "",
            ]
        )
        headers = ["month", "open", "amount", "weighted", "overdue", "won", "won amount"]
        grid = table(
            "forecast-table", "Forecast by month of expected close", headers, lines, range(1, 7)
        )
        note = (
            f'<p class="note">{f["overdue"]} open past their expected close '
            f"(as of {e(f['today'])}).</p>"
        )
        return (
            pair(
                "Forecast: weighted and won by month",
                "forecast-table",
                [WEIGHTED, WON],
                rows,
                grid,
            )
            + note
        )

    def dropoff(self) -> str:
        parts = []
        for d in self.board.dropoffs:
            kind = self.kind(d["kind"])
            tid = f"dropoff-{d['kind']}"
            rows = [
                Row(self.stage(s["stage"]), [self.cbar(s["reached"]), self.cbar(s["lost"])])
                for s in d["stages"]
            ]
            lines = [
                [
                    self.stage(s["stage"]),
                    str(s["reached"]),
                    str(s["lost"]),
                    str(s["open"]),
                    self.percent(s["conversion"]),
                ]
                for s in d["stages"]
            ]
            grid = table(
                tid,
                f"{kind}: reached, lost and conversion per stage",
                ["stage", "reached", "lost", "open", "conversion"],
                lines,
                (1, 2, 3, 4),
            )
            summary = (
                f'<p class="note">{d["total"]} opportunities: {d["won"]} won, {d["lost"]} lost, '
                f"{d['open']} open; win rate {e(self.percent(d['win_rate']) or '—')}.</p>"
            )
            parts.append(
                f"<h3>{e(kind)}</h3>"
                + pair(f"Drop-off: {kind}", tid, [REACHED, LOST], rows, grid)
                + summary
            )
        return "".join(parts) or '<p class="empty">No kind in catalogs/kinds.yaml has stages.</p>'

    def winloss(self) -> str:
        w = self.board.winloss
        head = (
            f'<p class="note">Won {w["won"]["count"]} ({e(self.money(w["won"]["amount"]))}), '
            f"lost {w['lost']['count']} ({e(self.money(w['lost']['amount']))}); "
            f"win rate {e(self.percent(w['win_rate']) or '—')}.</p>"
        )
        reasons = [Row(r["name"], [self.cbar(r["count"])]) for r in w["by_reason"]]
        reason_table = table(
            "winloss-reasons",
            "Lost deals by reason",
            ["reason", "lost", "amount"],
            [[r["name"], str(r["count"]), self.money(r["amount"])] for r in w["by_reason"]],
            (1, 2),
        )
        rivals = [
            Row(c["name"], [self.cbar(c["won"]), self.cbar(c["lost"])]) for c in w["by_competitor"]
        ]
        rival_table = table(
            "winloss-competitors",
            "Closed deals by competitor",
            ["competitor", "deals", "won", "lost", "lost to them", "win rate"],
            [
                [
                    c["name"],
                    str(c["deals"]),
                    str(c["won"]),
                    str(c["lost"]),
                    str(c["lost_to"]),
                    self.percent(c["win_rate"]),
                ]
                for c in w["by_competitor"]
            ],
            (1, 2, 3, 4, 5),
        )
        return (
            head
            + "<h3>By reason</h3>"
            + pair("Lost deals by reason", "winloss-reasons", [LOST], reasons, reason_table)
            + "<h3>By competitor</h3>"
            + pair(
                "Won and lost by competitor",
                "winloss-competitors",
                [WON, LOST],
                rivals,
                rival_table,
            )
        )

    def pipeline(self) -> str:
        p = self.board.pipeline
        rows = [
            Row(x["name"] or "(nobody)", [self.mbar(x["amount"]), self.mbar(x["weighted"])])
            for x in p["people"]
        ]
        lines = [
            [
                x["name"] or "(nobody)",
                str(x["count"]),
                self.money(x["amount"]),
                self.money(x["weighted"]),
            ]
            for x in p["people"]
        ]
        t = p["total"]
        lines.append(["total", str(t["count"]), self.money(t["amount"]), self.money(t["weighted"])])
        grid = table(
            "pipeline-table",
            "Open opportunities per responsible person",
            ["person", "open", "amount", "weighted"],
            lines,
            (1, 2, 3),
        )
        return pair("Pipeline per person", "pipeline-table", [AMOUNT, WEIGHTED], rows, grid)

    def moved(self) -> str:
        since = self.board.since
        if since is None:
            return ""
        if not self.board.moved:
            return f'<p class="empty">No opportunity changed stage or status since {e(since)}.</p>'
        lines = [
            [
                f"{m['name']} ({m['id']})",
                m["from"],
                m["to"],
                ""
                if m["amount"] is None
                else f"{fmt(Decimal(m['amount']))} {m['currency']}".strip(),
                ", ".join(m["by"]),
            ]
            for m in self.board.moved
        ]
        return table(
            "moved-table",
            f"Stage and status changes since {since}",
            ["opportunity", "from", "to", "amount", "by"],
            lines,
            (3,),
        )

    def overdue(self) -> str:
        if not self.board.overdue:
            return f'<p class="empty">No open task was due before {e(self.board.today)}.</p>'
        lines = [
            [
                t["due"] or "",
                t["title"] or t["id"],
                t["assignee_name"],
                t["subject"] or "",
                t["importance"] or "normal",
            ]
            for t in self.board.overdue
        ]
        return table(
            "overdue-table",
            f"Open tasks due before {self.board.today}",
            ["due", "task", "assignee", "about", "importance"],
            lines,
        )

    # --- the page ---------------------------------------------------------------------

    def render(self) -> str:
        shown = [
            (key, title)
            for key, title in SECTIONS
            if key != "moved" or self.board.since is not None
        ]
        nav = "".join(f'<a href="#{key}">{e(title)}</a>' for key, title in shown)
        body = "".join(
            f'<section id="{key}"><h2>{e(title)}'
            + (f" since {e(self.board.since)}" if key == "moved" else "")
            + f"</h2>{getattr(self, key)()}</section>"
            for key, title in shown
        )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>CRM dashboard — {e(self.board.label)}</title>"
            f"<style>{CSS}</style></head><body>"
            f'<header><h1>CRM dashboard</h1><p class="note">{e(self.notes())}</p>'
            f"<nav>{nav}</nav></header><main>{body}</main></body></html>\n"
        )

    def notes(self) -> str:
        b = self.board
        payloads = [*b.funnels, b.forecast, b.winloss, b.pipeline]
        converted = sorted({c for p in payloads for c in p.get("converted", [])})
        missing = sorted({c for p in payloads for c in p.get("missing_rates", [])})
        notes = [f"As of {b.label}", f"amounts in {b.currency}"]
        if converted:
            notes.append(
                f"{', '.join(converted)} converted at the rates of catalogs/currencies.yaml"
            )
        if missing:
            notes.append(f"no rate for {', '.join(missing)}: totals with it show as —")
        period = b.forecast.get("period") or {}
        if period.get("from") or period.get("to"):
            notes.append(f"period {period.get('from') or '…'} to {period.get('to') or '…'}")
        return "; ".join(notes)


def render(board: Dashboard) -> str:
    return Page(board).render()
