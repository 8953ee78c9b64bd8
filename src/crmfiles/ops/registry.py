"""Every operation, by the name the CLI and the TUI call it: one table, read by both.

An operation is ``op(root, *args, commit=True, branch=False, runtime=None, **kwargs)``
returning an :class:`~crmfiles.ops.result.OpResult`; each is a planner turned into an
operation by :func:`crmfiles.ops.runner.operation`, so the workspace, the rules and
the commit are handled in one place. A new writing command is a planner and a line
here, then its CLI arguments.
"""

from __future__ import annotations

from crmfiles.ops import (
    edit,
    invoices,
    leads,
    merge_records,
    new,
    orders,
    pipeline,
    quotes,
    setfields,
    tasks,
)
from crmfiles.ops.runner import Operation

OPERATIONS: dict[str, Operation] = {
    "create": new.create,
    "create_text": new.create_text,
    "update": edit.update,
    "set": setfields.set_fields,
    "edit": setfields.save_text,
    "move": pipeline.move,
    "close": pipeline.close,
    "reopen": pipeline.reopen,
    "duplicate": pipeline.duplicate,
    "qualify": leads.qualify,
    "disqualify": leads.disqualify,
    "merge": merge_records.merge,
    "task_start": tasks.start,
    "task_done": tasks.done,
    "quote_new": quotes.new,
    "quote_activate": quotes.activate,
    "quote_win": quotes.win,
    "quote_lose": quotes.lose,
    "quote_revise": quotes.revise,
    "order_new": orders.new,
    "order_deliver": orders.deliver,
    "order_cancel": orders.cancel,
    "invoice_new": invoices.new,
    "invoice_paid": invoices.paid,
    "invoice_cancel": invoices.cancel,
}


def operation_named(name: str) -> Operation:
    """The operation called ``name``; a KeyError names the ones there are."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise KeyError(f"no operation '{name}'; there are: {', '.join(OPERATIONS)}") from None
