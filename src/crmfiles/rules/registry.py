"""Every check the engine knows, with its default severity and help text.

The registry is the single list that `crm.yaml` rule levels, the SARIF ``rules``
array, ``docs/rules.md`` and the CLI's ``--explain`` read from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    summary: str
    help: str
    default: str = "error"  # "error" | "warning" | "off"
    lifecycle: bool = False  # a lifecycle invariant: only crm.yaml may lower it
    transition: bool = False  # needs two revisions (crm lint)


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
        "An end date (expected_close, production_end, valid_until, due) cannot precede "
        "its start (opened, production_start, the quote's or invoice's date).",
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
        transition=True,
    ),
    RuleInfo(
        "stage-back",
        "a standard kind moved backward",
        "A standard sale only moves forward; use a custom kind for back-and-forth.",
        lifecycle=True,
        transition=True,
    ),
    RuleInfo(
        "won-before-last-stage",
        "won before the last stage of a standard kind",
        "Move to the last stage first.",
        lifecycle=True,
        transition=True,
    ),
    RuleInfo(
        "closed-modified",
        "a record closed in base was changed",
        "Closed records are read-only; a manager may reopen it first.",
        lifecycle=True,
        transition=True,
    ),
    RuleInfo(
        "reopen-not-allowed",
        "reopened by someone who is not a manager",
        "Only a manager in catalogs/people.yaml may reopen a closed record.",
        lifecycle=True,
        transition=True,
    ),
    RuleInfo(
        "closed-source",
        "created from a closed opportunity",
        "Quotes, tasks and interactions cannot be created for a closed opportunity.",
        transition=True,
    ),
    RuleInfo(
        "kind-not-allowed",
        "new opportunity of a kind that is not allowed",
        "Pick an allowed kind (allowed: true in catalogs/kinds.yaml).",
        transition=True,
    ),
    RuleInfo(
        "stage-start",
        "a new standard-kind opportunity that does not start at the first stage",
        "Create it at the kind's first stage and move it on; records imported with "
        "origin: {type: import}, and the deals the commit creating the repository brings "
        "along, may start anywhere.",
        transition=True,
    ),
    RuleInfo(
        "kind-changed",
        "kind changed after the first stage",
        "The kind can change only while the opportunity is in its first stage.",
        transition=True,
    ),
    RuleInfo(
        "id-changed",
        "a record that exists in base was renamed",
        "Keep the file name and id; records are never renamed.",
        transition=True,
    ),
    RuleInfo(
        "record-deleted",
        "a record that exists in base was deleted",
        "Records are never deleted: close or disqualify them instead.",
        transition=True,
    ),
    RuleInfo(
        "demand-missing",
        "left the first stage without lines",
        "This kind requires primary demand: add lines before moving on.",
        transition=True,
    ),
    RuleInfo(
        "stage-requirements",
        "entered a stage whose required fields are empty",
        "Fill the fields the stage requires (catalogs/stages.yaml) first.",
        transition=True,
    ),
    RuleInfo(
        "close-with-open-quotes",
        "closed while quotes are still draft or active",
        "Win, lose or revise the open quotes first.",
        transition=True,
    ),
    RuleInfo(
        "stage-in-use",
        "removed a stage, kind or loss reason that records use",
        "Move the records off it first, or keep the catalog entry.",
        transition=True,
    ),
    RuleInfo(
        "quote-active-modified",
        "an active quote was edited",
        "Active quotes are read-only: revise the quote instead.",
        transition=True,
    ),
    RuleInfo(
        "author-not-allowed",
        "stage change or close by someone not responsible",
        "The responsible person, the team or a manager makes stage changes.",
        default="warning",
        transition=True,
    ),
]

RULES: dict[str, RuleInfo] = {rule.id: rule for rule in _RULES}
