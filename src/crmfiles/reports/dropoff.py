"""Drop-off: of the opportunities of one kind, how many reached each stage, where the
lost ones were lost, and the conversion from each stage to the next — from history.

An opportunity reached every stage up to the furthest one it was ever in (a custom
kind that skipped a stage still counts as past it; one moved back keeps its furthest
stage).  The conversion of a stage is the share of those that reached it that reached
the next one; for the last stage, the share that were won from it.  With a period,
the cohort is the opportunities opened in it (``opened``, else the day they were
first committed).  What it needs of history is each record's summary (the stages it
reached, the day it was first committed): :func:`crmfiles.history.load_summary`
reads it from a part of the history cache.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crmfiles.history import History, Summary, summarize
from crmfiles.records import iso_date
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period, ratio
from crmfiles.reports.deals import Deals
from crmfiles.reports.funnel import choose_kind

# the columns of the records' summaries that drop-off reads (load_summary's columns)
SUMMARY_COLUMNS = ("first", "visited")


@dataclass
class DropStage:
    stage: str
    name: str
    reached: int = 0
    lost: int = 0  # lost while in this stage
    open: int = 0  # still in this stage
    conversion: float | None = None


@dataclass
class Dropoff:
    kind: str
    kind_name: str
    period: Period
    stages: list[DropStage]
    total: int
    won: int
    lost: int
    open: int

    def as_json(self) -> dict[str, Any]:
        return {
            "report": "dropoff",
            "kind": self.kind,
            "stages": [
                {
                    "stage": s.stage,
                    "reached": s.reached,
                    "lost": s.lost,
                    "open": s.open,
                    "conversion": s.conversion,
                }
                for s in self.stages
            ],
            "total": self.total,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "win_rate": ratio(self.won, self.won + self.lost),
            "period": self.period.as_dict(),
        }


def dropoff(
    repo: Repository,
    history: Summary | History,
    kind: str | None = None,
    period: Period | None = None,
) -> Dropoff:
    period = period or Period()
    summary = history if isinstance(history, Summary) else summarize(history)
    visited = summary.column("visited")
    first = summary.column("first") if not period.open else {}
    deals = Deals(repo)
    chosen = choose_kind(repo, kind, deals)
    entry = repo.catalog("kinds")[chosen]
    order = [str(s) for s in entry.get("stages") or []]
    index = {stage: i for i, stage in enumerate(order)}
    names = {k: str(v.get("name") or k) for k, v in repo.catalog("stages").items()}
    stages = [DropStage(s, names.get(s, s)) for s in order]
    result = Dropoff(chosen, str(entry.get("name") or chosen), period, stages, 0, 0, 0, 0)
    won_from_last = 0
    for rid, kind_of, status, stage, opened_on in zip(
        deals.ids,
        deals.column("kind"),
        deals.column("status"),
        deals.column("stage"),
        deals.column("opened"),
        strict=True,
    ):
        if kind_of != chosen:
            continue
        if not period.open:
            opened = iso_date(opened_on)
            if opened is None and rid in first:  # the day it was first committed
                opened = dt.date.fromordinal(first[rid])
            if opened not in period:
                continue
        seen = [index[s] for s in visited.get(rid, ()) if s in index]
        here = index.get(str(stage))
        if here is not None:
            seen.append(here)
        if not seen:
            continue
        furthest = max(seen)
        result.total += 1
        for stage in stages[: furthest + 1]:
            stage.reached += 1
        at = here if here is not None else furthest
        if status == "won":
            result.won += 1
            won_from_last += furthest == len(stages) - 1
        elif status == "lost":
            result.lost += 1
            stages[at].lost += 1
        elif status == "in_progress":
            result.open += 1
            stages[at].open += 1
    for i, stage in enumerate(stages):
        following = stages[i + 1].reached if i + 1 < len(stages) else won_from_last
        stage.conversion = ratio(following, stage.reached)
    return result
