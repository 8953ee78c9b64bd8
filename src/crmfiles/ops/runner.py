"""One runner for every operation: a planner decides, the runner carries it out.

A planner is a plain function ``planner(ws, *args, **kwargs)`` that reads what it
needs through the :class:`~crmfiles.ops.workspace.Workspace` and returns a
:class:`~crmfiles.ops.commit.Plan` (the edits, the commit's subject, trailers and
branch), or :class:`Alternatives` when a name may be taken (``crm duplicate``,
``crm qualify`` try "X (copy)", "X (copy 2)"...). It writes nothing. :func:`operation`
turns it into the function the CLI and the TUI call (through
:mod:`crmfiles.ops.registry`): ``op(root, *args, commit=, branch=, runtime=, **kwargs)``,
which owns the workspace and the commit (:func:`crmfiles.ops.commit.execute`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmfiles.ops.commit import Plan, execute
from crmfiles.ops.result import OpResult, Refused
from crmfiles.ops.workspace import Workspace
from crmfiles.runtime import Runtime


@dataclass
class Alternatives:
    """Plans to try in order while the rules refuse only for ``retry_on`` (a name
    another record has); the last one's refusal stands."""

    plans: Iterable[Plan]
    retry_on: str = "duplicate-name"


@dataclass
class Unchanged:
    """Nothing to do: the record already is as asked (no commit, no error)."""

    record: str
    message: str


Planner = Callable[..., Plan | Alternatives | Unchanged]
Operation = Callable[..., OpResult]


def carry_out(
    ws: Workspace, planned: Plan | Alternatives | Unchanged, *, commit: bool, branch: bool
) -> OpResult:
    if isinstance(planned, Unchanged):
        return OpResult([], None, None, planned.message, id=planned.record)
    if isinstance(planned, Plan):
        return execute(ws, planned, commit=commit, branch=branch)
    plans = iter(planned.plans)  # made one by one: most operations need the first
    plan = next(plans, None)
    while plan is not None:
        following = next(plans, None)
        try:
            return execute(ws, plan, commit=commit, branch=branch)
        except Refused as refused:
            if following is None or not all(d.rule == planned.retry_on for d in refused.errors):
                raise
        plan = following
    raise AssertionError("no plan to carry out")


def operation(planner: Planner) -> Operation:
    """The operation that plans with ``planner`` and carries the plan out."""

    def run(
        root: Path,
        /,
        *args: Any,
        commit: bool = True,
        branch: bool = False,
        runtime: Runtime | None = None,
        **kwargs: Any,
    ) -> OpResult:
        with Workspace(root, staging=commit and not branch, runtime=runtime) as ws:
            return carry_out(ws, planner(ws, *args, **kwargs), commit=commit, branch=branch)

    run.__name__ = run.__qualname__ = planner.__name__.removeprefix("plan_")
    run.__doc__ = planner.__doc__
    run.planner = planner  # type: ignore[attr-defined]
    return run
