"""Which rules run, in three groups that differ in what a cached result depends on.

- ``RECORD_RULES`` read one record (and the catalogs): their findings are cached with
  the file, keyed by its blob and the catalogs' fingerprint.
- ``ID_RULES`` also depend on which other records exist (references, a lead's source,
  a competitor's roles): cached too, but re-run on every file when the set of ids or
  a partner changed, and on the files parsed in this run otherwise.
- ``COLLECTIVE_RULES`` compare records with each other (duplicate ids and names,
  catalogs, currencies along quote -> order -> invoice): they run on every run, from
  the few fields kept for each file, and are never cached per file.
"""

from __future__ import annotations

from crmfiles.rules.base import GlobalRule, RecordRule
from crmfiles.rules.names import catalogs_consistent, unique_names, unique_partner_names
from crmfiles.rules.opportunity import (
    amount_matches_lines,
    currencies_follow_sources,
    currency_consistent,
    dates_in_order,
    money_exact,
    sources_fit_channels,
    stage_fits_kind,
    status_consistent,
)
from crmfiles.rules.references import (
    competitor_roles,
    config_references,
    duplicate_ids,
    unknown_references,
)

RECORD_RULES: dict[str, tuple[RecordRule, ...]] = {
    "opportunities": (
        stage_fits_kind,
        status_consistent,
        dates_in_order,
        money_exact,
        amount_matches_lines,
        currency_consistent,
    ),
    "quotes": (dates_in_order, money_exact, amount_matches_lines, currency_consistent),
    "orders": (money_exact, currency_consistent),
    "invoices": (dates_in_order, money_exact),
    "tasks": (dates_in_order,),
}

ID_RULES: tuple[GlobalRule, ...] = (competitor_roles, unknown_references, sources_fit_channels)
ID_RULE_IDS = frozenset({"unknown-reference", "competitor-role", "source-channel-mismatch"})

COLLECTIVE_RULES: tuple[GlobalRule, ...] = (
    duplicate_ids,
    unique_names,
    unique_partner_names,
    catalogs_consistent,
    currencies_follow_sources,
    config_references,
)
