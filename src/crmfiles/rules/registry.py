"""Every rule the engine knows: its id, default severity and help text, and how a
check declares which rules it reports, where it runs and what it reads.

``RULES`` is what users see (in the order of ``docs/rules.md``, the SARIF ``rules``
array and ``crm rules``); each rule module lists its :class:`Check` declarations in
``CHECKS``, and :mod:`crmfiles.rules.suite` derives from those which checks run when,
and which cached findings a change makes stale.  Rule levels in ``crm.yaml`` are
resolved and their ids checked here (:func:`level`, :func:`check_levels`), so reading
the settings knows no rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from crmfiles.config import Config

#: where a check runs: on one file's bytes (``file``), on one record with the catalogs
#: (``record``), across the records of a revision (``collective``), or on a step from
#: one revision to the next (``step``: ``crm lint`` and the operations' guard)
Scope = Literal["file", "record", "collective", "step"]

#: what a check reads besides its own record and the catalogs: ``ids`` (which other
#: records exist, and a partner's roles), ``links`` (the records a document is made
#: from: a quote's opportunity, an order's quote, an invoice's order, and their other
#: documents), ``base`` (the record before the step), ``history`` (who made the step)
DEPENDS = frozenset({"ids", "links", "base", "history"})


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    summary: str
    help: str
    default: str = "error"  # "error" | "warning" | "off"
    lifecycle: bool = False  # a lifecycle invariant: only crm.yaml may lower it


@dataclass(frozen=True, slots=True)
class Check:
    """One check function: the rule ids it reports, where it runs and what it reads.

    ``run`` takes ``(ctx, file)`` in the ``record`` scope (``folders``: the record
    folders it reads), or ``(ctx)`` when it depends on other records (``ids``,
    ``links``: it picks the records to check again itself); ``(ctx)`` in the
    ``collective`` scope; ``(step, change)`` in the ``step`` scope (``per_change``;
    else ``(step)``).  The ``file`` scope is the loader's own checks of bytes, YAML
    and schema (``run``: a raw file to a loaded one with its findings)."""

    run: Callable[..., Any]
    rules: tuple[str, ...]
    scope: Scope
    folders: tuple[str, ...] = ()
    depends: frozenset[str] = frozenset()  # of DEPENDS
    per_change: bool = True

    def __post_init__(self) -> None:
        # a programming error: caught by any test that imports the rules
        unknown = [rule for rule in self.rules if rule not in RULES]
        if unknown:
            raise ValueError(f"{self.run.__name__} declares unknown rules {unknown}")
        if not self.depends <= DEPENDS:
            raise ValueError(f"{self.run.__name__} depends on {set(self.depends) - DEPENDS}")


_RULES = [
    # --- one revision: files and syntax
    RuleInfo("encoding", "file is not valid UTF-8", "Save the file as UTF-8."),
    RuleInfo(
        "yaml-syntax",
        "file is not well-formed YAML",
        "Fix the YAML syntax at the position shown; every other file is still checked.",
    ),
    RuleInfo(
        "conflict-marker",
        "git conflict marker left in the file",
        "Resolve the merge conflict and remove the <<<<<<< ======= >>>>>>> lines.",
    ),
    RuleInfo(
        "yaml-ambiguous",
        "YAML 1.1 value that other tools read differently",
        "Quote the value ('on', 'yes') or use true/false; crmfiles reads YAML 1.2, "
        "where only true and false are booleans.",
        default="warning",
    ),
    RuleInfo(
        "unsafe-path",
        "file outside the repository or of an unsafe kind",
        "Records must be regular files inside the repository; symlinks that leave "
        "it are not followed.",
    ),
    RuleInfo(
        "file-name",
        "file name is not a valid record id",
        "Rename the file: ids match ^[a-z0-9][a-z0-9._-]{0,79}$ and end in .yaml.",
    ),
    RuleInfo(
        "too-large",
        "file is larger than a record can be",
        "Records are small YAML files; split or trim this one.",
    ),
    RuleInfo(
        "control-character",
        "control character in a value",
        "Remove it: escape sequences in a value (\\e, \\x1b, \\a in double quotes) "
        "could drive a terminal; crm shows them escaped, but a record never needs one.",
    ),
    # --- one revision: records
    RuleInfo(
        "schema",
        "record does not match its JSON Schema",
        "Fix the field as the message says; `crm show` and the schemas under "
        ".crm/schema/ list every field.",
    ),
    RuleInfo(
        "id-mismatch",
        "id differs from the file name",
        "A record's id equals its file name without .yaml; change one to match.",
    ),
    RuleInfo(
        "duplicate-id",
        "two records of the same type share an id",
        "Ids are unique per record type whatever folder a file sits in; rename one.",
    ),
    RuleInfo(
        "unknown-reference",
        "reference to a record or catalog entry that does not exist",
        "Create the referenced record first, or fix the id.",
    ),
    RuleInfo(
        "competitor-role",
        "competitor is not a partner with the competitor role",
        "Add 'competitor' to the partner's roles, or remove it from competitors.",
        default="warning",
    ),
    RuleInfo(
        "stage-not-in-kind",
        "stage is not one of the kind's stages",
        "Use one of the stages listed for the kind in catalogs/kinds.yaml.",
        lifecycle=True,
    ),
    RuleInfo(
        "stage-on-stageless",
        "a stageless kind has a stage",
        "Remove the stage: opportunities of a stageless kind have none.",
    ),
    RuleInfo(
        "stage-missing", "a staged kind needs a stage", "Set the stage to one of the kind's stages."
    ),
    RuleInfo(
        "duplicate-name",
        "name already used by another record",
        "Opportunity names are unique among opportunities, partner names among partners; "
        "case and spacing do not count (runs of spaces are one, none at either end). "
        "Make this one distinguishable; the finding names the first record (in path "
        "order) that has the name.",
    ),
    RuleInfo(
        "closed-in-progress",
        "only a won or lost record may be closed",
        "Set status to won or lost, or closed to false.",
        lifecycle=True,
    ),
    RuleInfo(
        "probability-inconsistent",
        "probability does not fit the status",
        "Won is 100, lost is 0, in progress is 0-99.",
    ),
    RuleInfo(
        "lost-without-reason",
        "lost with no loss reason from the catalog",
        "Set loss_reason to an id from catalogs/loss-reasons.yaml.",
        lifecycle=True,
    ),
    RuleInfo(
        "loss-reason-not-lost",
        "loss reason on a record that is not lost",
        "Remove loss_reason, or set status to lost.",
        default="warning",
    ),
    RuleInfo(
        "source-channel-mismatch",
        "source does not fit the channel's impact type",
        "The channel's impact type (catalogs/channels.yaml) says what the source "
        "refers to: a partner, a contact, a person or a campaign.",
    ),
    RuleInfo(
        "date-order",
        "dates out of order",
        "An end date (expected_close, production_end, valid_until, delivered_on, due, "
        "paid_on) cannot precede its start (opened, production_start, the quote's, "
        "order's or invoice's date).",
    ),
    RuleInfo(
        "currency-mismatch",
        "currencies mixed within one record",
        "Use the record's currency throughout, or convert the line.",
    ),
    RuleInfo(
        "money-precision",
        "money with more than two decimal places",
        "Amounts are exact decimals with at most two places.",
    ),
    RuleInfo(
        "money-range",
        "lines add up to more than an amount may be",
        "Each amount is under a trillion (the schema's bound); so is what the lines "
        "of a record add up to. Check the quantities and unit prices.",
    ),
    RuleInfo(
        "amount-mismatch",
        "amount differs from the sum of the lines",
        "Remove amount to use the sum of the lines, or correct it.",
        default="warning",
    ),
    RuleInfo(
        "catalog", "catalog entry is inconsistent", "Fix the catalog entry as the message says."
    ),
    # --- two revisions: transitions (crm lint)
    RuleInfo(
        "stage-skip",
        "a standard kind moved more than one stage forward",
        "Move through every stage in order.",
        lifecycle=True,
    ),
    RuleInfo(
        "stage-back",
        "a standard kind moved backward",
        "A standard sale only moves forward; use a custom kind for back-and-forth.",
        lifecycle=True,
    ),
    RuleInfo(
        "won-before-last-stage",
        "won before the last stage of a standard kind",
        "Move to the last stage first.",
        lifecycle=True,
    ),
    RuleInfo(
        "closed-modified",
        "a record closed in base was changed",
        "Closed records are read-only; a manager may reopen it first.",
        lifecycle=True,
    ),
    RuleInfo(
        "reopen-not-allowed",
        "reopened by someone who is not a manager",
        "Only a manager in catalogs/people.yaml may reopen a closed record.",
        lifecycle=True,
    ),
    RuleInfo(
        "closed-source",
        "created from a closed opportunity",
        "A closed opportunity takes no new quote, task or interaction, and a lost one no "
        "new order (a won deal's order comes after its close). One revision tells part "
        "of it, and `crm validate` reports that: a draft or active quote of a closed "
        "opportunity, an open order of a lost one. Which task or interaction came after "
        "the close only the step that adds it tells (`crm lint`, and every `crm` "
        "command before it commits); the history a closed opportunity keeps - tasks "
        "done and interactions logged before the close, the won quote and its order, "
        "the quotes lost or revised on the way - is lawful. Mark an open quote lost, "
        "cancel the order, or have a manager reopen the opportunity.",
    ),
    RuleInfo(
        "kind-not-allowed",
        "new opportunity of a kind that is not allowed",
        "Pick an allowed kind (allowed: true in catalogs/kinds.yaml).",
    ),
    RuleInfo(
        "stage-start",
        "a new standard-kind opportunity that does not start at the first stage",
        "Create it at the kind's first stage and move it on; records imported with "
        "origin: {type: import}, and the deals the commit creating the repository brings "
        "along, may start anywhere.",
    ),
    RuleInfo(
        "kind-changed",
        "kind changed after the first stage",
        "The kind can change only while the opportunity is in its first stage.",
    ),
    RuleInfo(
        "id-changed",
        "a record that exists in base was renamed",
        "Keep the file name and id; records are never renamed.",
    ),
    RuleInfo(
        "record-deleted",
        "a record that exists in base was deleted",
        "Records are never deleted: close or disqualify them instead.",
    ),
    RuleInfo(
        "demand-missing",
        "left the first stage without lines",
        "This kind requires primary demand: add lines before moving on.",
    ),
    RuleInfo(
        "stage-requirements",
        "entered a stage whose required fields are empty",
        "Fill the fields the stage requires (catalogs/stages.yaml) first.",
    ),
    RuleInfo(
        "close-with-open-quotes",
        "closed while quotes are still draft or active",
        "Win, lose or revise the open quotes first.",
    ),
    RuleInfo(
        "stage-in-use",
        "removed a stage, kind or loss reason that records use",
        "Move the records off it first, or keep the catalog entry.",
    ),
    RuleInfo(
        "quote-active-modified",
        "an active quote was edited",
        "Active quotes are read-only: revise the quote instead.",
    ),
    RuleInfo(
        "document-status",
        "a quote, order or invoice status its lifecycle does not allow",
        "A quote goes draft -> active -> won | lost | revised (a draft may also be "
        "revised or lost, never won: a customer accepts what was sent); an order open "
        "-> delivered | canceled; an invoice open -> paid | canceled; a final status "
        "stays. A paid invoice has paid_on. A new document starts at a status that is "
        "not final (a quote draft or active: one sent outside crm is recorded as "
        "sent); only the commit creating the repository brings finished documents "
        "along. Use `crm quote|order|invoice`, which take each step in order.",
    ),
    RuleInfo(
        "document-source",
        "a document not made from what it says",
        "An order comes from a won quote, for the quote's opportunity and partner, and a "
        "quote makes one order (canceled ones aside: each later one, in path order, is "
        "reported); an invoice bills its order's partner and is not open once the order "
        "is canceled (its currency is the order's: currency-mismatch), and the order's "
        "open and paid invoices add up to no more than the order's total with tax "
        "(reported on the first invoice, in path order, past it and every later one); "
        "a quote's previous is the quote of the "
        "same opportunity it replaced, now revised.",
    ),
    RuleInfo(
        "quote-open-twice",
        "a second draft or active quote of one opportunity",
        "An opportunity has at most one open quote (draft or active) at a time: the "
        "customer knows which offer stands. Reported on each open quote after the "
        "first, in path order. Revise the open one (`crm quote revise`: the new "
        "revision is the open one, the old one revised) or mark one lost.",
    ),
    RuleInfo(
        "author-not-allowed",
        "stage change or close by someone not responsible",
        "The responsible person, the team or a manager makes stage changes.",
        default="warning",
    ),
]

RULES: dict[str, RuleInfo] = {rule.id: rule for rule in _RULES}


def level(config: Config, rule: str) -> str:
    """The level of ``rule`` under ``config``: its own setting, else ``error`` with
    ``extends: strict``, else the rule's default (an unknown id: ``error``)."""
    info = RULES.get(rule)
    if info is None:
        return "error"
    return config.levels.get(rule) or ("error" if config.strict else info.default)


def check_levels(config: Config, path: str = "crm.yaml") -> None:
    """Every rule id ``crm.yaml`` sets a level for is one the engine knows; a
    :class:`~crmfiles.errors.CrmError` (exit 2) naming the closest one otherwise."""
    from crmfiles.errors import CrmError

    for rule in config.levels:
        if rule not in RULES:
            close = difflib.get_close_matches(str(rule), RULES, n=1)
            raise CrmError(
                f"{path}: lint.rules: unknown rule '{rule}'"
                + (f"; did you mean '{close[0]}'?" if close else ""),
                hint="`crm rules` lists every rule id",
            )


__all__ = ["DEPENDS", "RULES", "Check", "RuleInfo", "Scope", "check_levels", "level"]
