"""The rules of one revision, by record folder, and the rules across all records."""

from __future__ import annotations

from crmfiles.rules.base import GlobalRule, RecordRule
from crmfiles.rules.names import catalogs_consistent, unique_names
from crmfiles.rules.opportunity import (
    amount_matches_lines,
    currency_consistent,
    currency_follows_source,
    dates_in_order,
    money_exact,
    source_fits_channel,
    stage_fits_kind,
    status_consistent,
)
from crmfiles.rules.references import competitor_roles, duplicate_ids, unknown_references

RECORD_RULES: dict[str, tuple[RecordRule, ...]] = {
    "opportunities": (
        stage_fits_kind,
        status_consistent,
        source_fits_channel,
        dates_in_order,
        money_exact,
        amount_matches_lines,
        currency_consistent,
    ),
    "leads": (source_fits_channel,),
    "quotes": (
        dates_in_order,
        money_exact,
        amount_matches_lines,
        currency_consistent,
        currency_follows_source,
    ),
    "orders": (money_exact, currency_consistent, currency_follows_source),
    "invoices": (dates_in_order, money_exact, currency_follows_source),
    "tasks": (dates_in_order,),
}

GLOBAL_RULES: tuple[GlobalRule, ...] = (
    duplicate_ids,
    unknown_references,
    competitor_roles,
    unique_names,
    catalogs_consistent,
)
