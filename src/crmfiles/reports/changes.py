"""What moved between two revisions: the pull-request summary of ``crm lint --summary``
and ``crm changes``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmfiles.diagnostics import Diagnostic
from crmfiles.money import amount_of, fmt
from crmfiles.rules.step import Step

if TYPE_CHECKING:
    from crmfiles.reports.delta import Delta


@dataclass
class Movement:
    id: str
    path: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    authors: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)

    @staticmethod
    def _state(data: dict[str, Any] | None) -> str:
        if data is None:
            return "(none)"
        status = data.get("status")
        stage = data.get("stage")
        if status in ("won", "lost"):
            return f"{status}" + (f" ({data.get('loss_reason')})" if status == "lost" else "")
        return str(stage or status or "")

    @property
    def origin(self) -> str:
        return self._state(self.before)

    @property
    def target(self) -> str:
        return self._state(self.after)

    @property
    def amount(self) -> Decimal | None:
        return amount_of(self.after or self.before or {})

    @property
    def currency(self) -> str:
        return str((self.after or self.before or {}).get("currency") or "")


def movements(steps: Sequence[Step]) -> list[Movement]:
    """Opportunities whose stage or status differs between the first and last step."""
    found: dict[str, Movement] = {}
    for step in steps:
        for change in step.changes:
            if change.folder != "opportunities":
                continue
            move = found.get(change.id)
            if move is None:
                name = str((change.new or change.old or {}).get("name") or change.id)
                move = found[change.id] = Movement(
                    change.id, change.path, name, change.old, change.new
                )
            move.after, move.path = change.new, change.path
            who = step.author_name or step.author_email or "(working copy)"
            if who not in move.authors:
                move.authors.append(who)
            if step.commit:
                move.commits.append(step.commit)
    return [m for m in found.values() if m.origin != m.target]


def markdown(
    moves: Sequence[Movement], diagnostics: Sequence[Diagnostic], money: Delta | None = None
) -> str:
    """``money``: the pipeline delta, shown after the verdict (reports/delta.py)."""
    findings: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        findings.setdefault(d.path, []).append(d)
    errors = sum(d.severity.value == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    lines = ["## crm lint", ""]
    verdict = (
        "All lifecycle checks passed."
        if not diagnostics
        else f"{errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}."
    )
    lines.append(verdict)
    lines.append("")
    if money is not None:
        from crmfiles.reports.delta import markdown as money_lines

        lines += [*money_lines(money), "", "### Stage changes", ""]
    if not moves:
        lines.append("No opportunity changed stage or status.")
    else:
        lines += [
            "| opportunity | from | to | amount | by | findings |",
            "| --- | --- | --- | ---: | --- | --- |",
        ]
        for m in sorted(moves, key=lambda m: m.id):
            own = findings.get(m.path, [])
            mark = ", ".join(sorted({f"`{d.rule}`" for d in own})) or "ok"
            amount = f"{fmt(m.amount)} {m.currency}".strip() if m.amount is not None else ""
            lines.append(
                f"| {_cell(m.name)} (`{m.id}`) | {_cell(m.origin)} | "
                f"{_cell(m.target)} | {amount} | {_cell(', '.join(m.authors))} | "
                f"{mark} |"
            )
    other = [d for d in diagnostics if d.path not in {m.path for m in moves}]
    if other:
        lines += ["", "<details><summary>Other findings</summary>", ""]
        lines += [
            f"- `{d.location}` {d.severity.value}: {_cell(d.message)} [`{d.rule}`]"
            for d in other[:200]
        ]
        if len(other) > 200:
            lines.append(f"- ... and {len(other) - 200} more")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
