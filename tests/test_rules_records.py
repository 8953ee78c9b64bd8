"""Record rules: references, ids, names, stages, status, money, dates and catalogs.

Each test writes records into a valid CRM repository (the ``repo`` fixture, whose
catalogs are in ``conftest.BASE_FILES``) and lists every diagnostic of the work tree
as ``path:line:col: severity [rule]``.  The twin test keeps the rule quiet and
expects the repository clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import found, only, write

from crmfiles.check import check
from crmfiles.records.worktree import WorkTree

OPP = "opportunities/2026/03/x.yaml"


def report(root: Path) -> list[str]:
    return [f"{d.location}: {d.severity} [{d.rule}]" for d in check(WorkTree(root)).diagnostics]


# --- duplicate-id ----------------------------------------------------------------


def test_duplicate_id_breaks_across_month_folders(repo: Path) -> None:
    # the fixture holds opportunities/2026/01/acme-forklifts.yaml
    write(
        repo,
        {
            "opportunities/2026/02/acme-forklifts.yaml": """\
            id: acme-forklifts
            name: Acme forklifts again
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            """
        },
    )
    assert report(repo) == ["opportunities/2026/02/acme-forklifts.yaml:1:5: error [duplicate-id]"]
    assert "opportunities/2026/01/acme-forklifts.yaml" in only(repo).message


def test_duplicate_id_breaks_in_a_catalog(repo: Path) -> None:
    write(
        repo,
        {
            "catalogs/tags.yaml": """\
            - id: priority
              name: Priority
            - id: key-account
              name: Key account
            - id: priority
              name: Priority again
            """
        },
    )
    assert report(repo) == ["catalogs/tags.yaml:5:7: error [duplicate-id]"]


def test_duplicate_id_keeps_one_id_in_two_record_types(repo: Path) -> None:
    write(repo, {"contacts/acme.yaml": "id: acme\nname: Acme switchboard\npartner: acme\n"})
    assert report(repo) == []


# --- unknown-reference -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected", "message"),
    [
        ("partner: acmee", "5:10", "unknown partner 'acmee'"),
        ("partner: jane", "5:10", "unknown partner 'jane'"),
        ("contacts: [jane, jim]", "5:18", "unknown contact 'jim'"),
        ("tags: [priority, hot]", "5:18", "unknown tag 'hot'"),
        ("responsible: alicia", "5:14", "unknown person 'alicia'"),
        ("terms: net60", "5:8", "unknown terms of sale 'net60'"),
        ("origin: {type: lead, id: fair-2026}", "5:26", "unknown lead 'fair-2026'"),
    ],
)
def test_unknown_reference_breaks(repo: Path, line: str, expected: str, message: str) -> None:
    text = f"id: x\nname: X\nkind: hours\nstatus: in_progress\n{line}\n"
    text += "partner: acme\n" if not line.startswith("partner") else ""
    text += "responsible: alice\n" if not line.startswith("responsible") else ""
    write(repo, {OPP: text})
    assert report(repo) == [f"{OPP}:{expected}: error [unknown-reference]"]
    assert only(repo).message == message


def test_unknown_reference_hints_at_the_right_type(repo: Path) -> None:
    write(repo, {"contacts/jim.yaml": "id: jim\nname: Jim\npartner: jane\n"})
    diagnostic = only(repo)
    assert diagnostic.location == "contacts/jim.yaml:3:10"
    assert diagnostic.hint == "'jane' is a contact, not a partner"


def test_unknown_reference_breaks_inside_a_catalog(repo: Path) -> None:
    write(
        repo,
        {
            "catalogs/campaigns.yaml": """\
            - id: spring-fair
              name: Spring fair
              channel: events
            """
        },
    )
    assert report(repo) == ["catalogs/campaigns.yaml:3:12: error [unknown-reference]"]


def test_unknown_reference_keeps_every_kind_of_reference(repo: Path) -> None:
    write(
        repo,
        {
            "leads/fair-2026.yaml": """\
            id: fair-2026
            name: Met at the fair
            status: new
            """,
            OPP: """\
            id: x
            name: X
            kind: standard-sale
            stage: qualify
            status: in_progress
            partner: acme
            contacts: [jane]
            responsible: alice
            team: [bob, mia]
            tags: [priority]
            terms: net30
            currency: EUR
            channel: event
            source: spring-fair
            competitors:
              - partner: rival
            lines:
              - product: forklift
                quantity: 1
            origin: {type: lead, id: fair-2026}
            """,
        },
    )
    assert report(repo) == []


# --- competitor-role -------------------------------------------------------------


def test_competitor_role_breaks_on_a_customer(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            competitors:
              - partner: rival
              - partner: acme
                outcome: unknown
            """
        },
    )
    assert report(repo) == [f"{OPP}:9:14: warning [competitor-role]"]


def test_competitor_role_keeps_a_competitor(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            competitors: [{partner: rival, outcome: unknown, comment: cheaper}]
            """
        },
    )
    assert report(repo) == []


# --- stage-not-in-kind, stage-on-stageless, stage-missing -------------------------


@pytest.mark.parametrize(
    ("kind_and_stage", "expected"),
    [
        # proposal is a stage, but not one of custom-deal's
        ("kind: custom-deal\nstage: proposal", "4:8: error [stage-not-in-kind]"),
        # a stageless kind has no stage: reported at the key
        ("kind: hours\nstage: qualify", "4:1: error [stage-on-stageless]"),
        # a staged kind needs one: reported at the kind
        ("kind: standard-sale", "3:7: error [stage-missing]"),
    ],
)
def test_stage_rules_break(repo: Path, kind_and_stage: str, expected: str) -> None:
    text = f"id: x\nname: X\n{kind_and_stage}\nstatus: in_progress\npartner: acme\n"
    write(repo, {OPP: text + "responsible: alice\n"})
    assert report(repo) == [f"{OPP}:{expected}"]


def test_stage_not_in_kind_leaves_an_unknown_stage_to_the_reference_rule(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: custom-deal
            stage: negotiation
            status: in_progress
            partner: acme
            responsible: alice
            """
        },
    )
    assert report(repo) == [f"{OPP}:4:8: error [unknown-reference]"]


@pytest.mark.parametrize(
    "kind_and_stage",
    ["kind: custom-deal\nstage: negotiate", "kind: hours", "kind: standard-sale\nstage: commit"],
)
def test_stage_rules_keep(repo: Path, kind_and_stage: str) -> None:
    text = f"id: x\nname: X\n{kind_and_stage}\nstatus: in_progress\npartner: acme\n"
    write(repo, {OPP: text + "responsible: alice\n"})
    assert report(repo) == []


# --- duplicate-name --------------------------------------------------------------


def test_duplicate_name_breaks_on_every_file_after_the_first(repo: Path) -> None:
    common = "kind: hours\nstatus: in_progress\npartner: acme\nresponsible: alice\n"
    write(
        repo,
        {
            "opportunities/2026/02/b.yaml": "id: b\nname: ACME  Forklifts\n" + common,
            "opportunities/2026/03/c.yaml": "id: c\nname: acme forklifts\n" + common,
        },
    )
    # the first in path order is opportunities/2026/01/acme-forklifts.yaml
    assert report(repo) == [
        "opportunities/2026/02/b.yaml:2:7: error [duplicate-name]",
        "opportunities/2026/03/c.yaml:2:7: error [duplicate-name]",
    ]
    for diagnostic in found(repo):
        assert "opportunities/2026/01/acme-forklifts.yaml" in diagnostic.message
    assert found(repo)[0].end_column == 22


def test_duplicate_name_breaks_on_partners_case_and_space_insensitive(repo: Path) -> None:
    # the fixture holds partners/acme.yaml, named "Acme GmbH"
    write(
        repo,
        {
            "partners/acme2.yaml": "id: acme2\nname: '  ACME   gmbh '\nroles: [customer]\n",
            "partners/zeta.yaml": "id: zeta\nname: Zeta\nroles: [customer]\n",
        },
    )
    assert report(repo) == ["partners/acme2.yaml:2:7: error [duplicate-name]"]
    assert "already used by partners/acme.yaml" in only(repo).message


def test_duplicate_name_keeps_partners_that_only_share_accents(repo: Path) -> None:
    write(
        repo,
        {
            "partners/muller.yaml": "id: muller\nname: Muller Logistik\nroles: [customer]\n",
            "partners/mueller.yaml": "id: mueller\nname: Müller Logistik\nroles: [customer]\n",
        },
    )
    assert report(repo) == []


def test_duplicate_name_keeps_different_names_and_other_record_types(repo: Path) -> None:
    common = "kind: hours\nstatus: in_progress\npartner: acme\nresponsible: alice\n"
    write(
        repo,
        {
            OPP: "id: x\nname: Acme forklifts 2\n" + common,
            "partners/acme-forklifts.yaml": "id: acme-forklifts\nname: Acme forklifts\n"
            "roles: [customer]\n",
        },
    )
    assert report(repo) == []


# --- status: closed-in-progress, probability-inconsistent, lost-without-reason,
#     loss-reason-not-lost ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(
            "status: in_progress\nclosed: true\nprobability: 50",
            ["5:9: error [closed-in-progress]"],
            id="closed-in-progress",
        ),
        pytest.param(
            "status: won\nclosed: true\nprobability: 90",
            ["6:14: error [probability-inconsistent]"],
            id="won-at-90",
        ),
        pytest.param(
            "status: lost\nloss_reason: price\nprobability: 10",
            ["6:14: error [probability-inconsistent]"],
            id="lost-at-10",
        ),
        pytest.param(
            "status: in_progress\nprobability: 100",
            ["5:14: error [probability-inconsistent]"],
            id="in-progress-at-100",
        ),
        pytest.param(
            "status: lost\nprobability: 0",
            ["4:9: error [lost-without-reason]"],
            id="lost-without-reason",
        ),
        pytest.param(
            "status: in_progress\nloss_reason: price",
            ["5:1: warning [loss-reason-not-lost]"],
            id="loss-reason-not-lost",
        ),
        pytest.param(
            "status: won\nloss_reason: price\nclosed: true\nprobability: 90",
            ["5:1: warning [loss-reason-not-lost]", "7:14: error [probability-inconsistent]"],
            id="two-at-once",
        ),
    ],
)
def test_status_rules_break(repo: Path, status: str, expected: list[str]) -> None:
    write(
        repo, {OPP: f"id: x\nname: X\nkind: hours\n{status}\npartner: acme\nresponsible: alice\n"}
    )
    assert report(repo) == [f"{OPP}:{e}" for e in expected]


@pytest.mark.parametrize(
    "status",
    [
        "status: in_progress\nclosed: false\nprobability: 99",
        "status: won\nclosed: true\nprobability: 100",
        "status: lost\nclosed: true\nprobability: 0\nloss_reason: no-budget",
        "status: lost\nloss_reason: price\nloss_comment: They went with Rival",
        "status: won",
    ],
)
def test_status_rules_keep(repo: Path, status: str) -> None:
    write(
        repo, {OPP: f"id: x\nname: X\nkind: hours\n{status}\npartner: acme\nresponsible: alice\n"}
    )
    assert report(repo) == []


# --- source-channel-mismatch -----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # referral's impact type is partner; jane is a contact
        ("channel: referral\nsource: jane", "5:9: error [source-channel-mismatch]"),
        # colleague's is person; acme is a partner
        ("channel: colleague\nsource: acme", "5:9: error [source-channel-mismatch]"),
        # web takes no source
        ("channel: web\nsource: acme", "5:9: error [source-channel-mismatch]"),
    ],
)
def test_source_channel_mismatch_breaks(repo: Path, source: str, expected: str) -> None:
    text = f"id: x\nname: X\nkind: hours\n{source}\nstatus: in_progress\npartner: acme\n"
    write(repo, {OPP: text + "responsible: alice\n"})
    assert report(repo) == [f"{OPP}:{expected}"]


def test_source_channel_mismatch_breaks_a_lead(repo: Path) -> None:
    write(repo, {"leads/l.yaml": "id: l\nname: L\nstatus: new\nchannel: event\nsource: acme\n"})
    assert report(repo) == ["leads/l.yaml:5:9: error [source-channel-mismatch]"]


@pytest.mark.parametrize(
    "source",
    [
        "channel: referral\nsource: acme",
        "channel: event\nsource: spring-fair",
        "channel: colleague\nsource: bob",
        "channel: contact-referral\nsource: jane",
        "channel: web",
    ],
)
def test_source_channel_mismatch_keeps(repo: Path, source: str) -> None:
    text = f"id: x\nname: X\nkind: hours\n{source}\nstatus: in_progress\npartner: acme\n"
    write(repo, {OPP: text + "responsible: alice\n"})
    assert report(repo) == []


# --- date-order ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        pytest.param(
            OPP,
            """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            opened: 2026-03-10
            expected_close: 2026-03-09
            """,
            "8:17",
            id="opportunity",
        ),
        pytest.param(
            OPP,
            """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            production_start: 2026-05-01
            production_end: 2026-04-30
            """,
            "8:17",
            id="production",
        ),
        pytest.param(
            "tasks/2026/03/t.yaml",
            """\
            id: t
            title: Call back
            assignee: alice
            created: 2026-03-10
            completed: true
            completed_on: 2026-03-01
            """,
            "6:15",
            id="task",
        ),
    ],
)
def test_date_order_breaks(repo: Path, path: str, text: str, expected: str) -> None:
    write(repo, {path: text})
    assert report(repo) == [f"{path}:{expected}: error [date-order]"]


def test_date_order_keeps_the_same_day(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            opened: 2026-03-10
            expected_close: 2026-03-10
            production_start: 2026-05-01
            production_end: 2026-05-01
            """
        },
    )
    assert report(repo) == []


def test_date_order_breaks_an_order_delivered_before_its_date(repo: Path) -> None:
    quote = "id: q-1\nopportunity: acme-forklifts\nrevision: 1\nstatus: won\npartner: acme\n"
    order = (
        "id: o-1\nquote: q-1\nopportunity: acme-forklifts\npartner: acme\n"
        "date: 2026-03-10\nstatus: delivered\ndelivered_on: {day}\n"
    )
    path = "orders/2026/03/o-1.yaml"
    write(repo, {"quotes/2026/02/q-1.yaml": quote, path: order.format(day="2026-03-09")})
    assert report(repo) == [f"{path}:7:15: error [date-order]"]
    [d] = check(WorkTree(repo)).diagnostics
    assert d.message == "delivered_on 2026-03-09 is before date 2026-03-10"
    write(repo, {path: order.format(day="2026-03-10")})
    assert report(repo) == []


# --- currency-mismatch, money-precision, amount-mismatch --------------------------


def test_currency_mismatch_breaks_a_foreign_list_price(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            currency: EUR
            lines:
              - product: forklift
              - product: usd-widget
                quantity: 3
            """
        },
    )
    assert report(repo) == [f"{OPP}:10:14: error [currency-mismatch]"]


def test_currency_mismatch_breaks_a_line_in_another_currency(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            lines:
              - description: Import fee
                unit_price: 100
                currency: USD
            """
        },
    )
    # no currency field: the record is in crm.yaml's base currency, EUR
    assert report(repo) == [f"{OPP}:10:15: error [currency-mismatch]"]


def test_currency_mismatch_keeps_an_own_price_or_a_matching_currency(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            currency: USD
            lines:
              - product: usd-widget
              - product: forklift
                unit_price: 16000
                currency: USD
            """
        },
    )
    assert report(repo) == []


def test_currency_mismatch_breaks_a_quote_in_another_currency(repo: Path) -> None:
    # the fixture's opportunity is in EUR
    write(
        repo,
        {
            "quotes/2026/03/q-1.yaml": """\
            id: q-1
            opportunity: acme-forklifts
            revision: 1
            status: lost
            currency: USD
            """,
            "quotes/2026/03/q-2.yaml": """\
            id: q-2
            opportunity: acme-forklifts
            revision: 2
            status: draft
            """,
        },
    )
    assert report(repo) == ["quotes/2026/03/q-1.yaml:5:11: error [currency-mismatch]"]


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        ("amount: 10.005", "7:9"),
        ("amount: 1e-3", "7:9"),
        ("lines:\n  - description: Service\n    unit_price: 99.999", "9:17"),
    ],
)
def test_money_precision_breaks(repo: Path, money: str, expected: str) -> None:
    text = "id: x\nname: X\nkind: hours\nstatus: in_progress\npartner: acme\nresponsible: alice\n"
    write(repo, {OPP: text + money + "\n"})
    assert report(repo) == [f"{OPP}:{expected}: error [money-precision]"]


@pytest.mark.parametrize("money", ["amount: 10.5", "amount: 10.50", "amount: 1e3", "amount: 0"])
def test_money_precision_keeps_two_places(repo: Path, money: str) -> None:
    text = "id: x\nname: X\nkind: hours\nstatus: in_progress\npartner: acme\nresponsible: alice\n"
    write(repo, {OPP: text + money + "\n"})
    assert report(repo) == []


def test_amount_mismatch_breaks_when_the_lines_sum_differs(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            amount: 30000
            lines:
              - product: forklift
                quantity: 2
                discount: 10
            """
        },
    )
    assert report(repo) == [f"{OPP}:7:9: warning [amount-mismatch]"]
    assert "27000" in only(repo).message


def test_amount_mismatch_keeps_exact_decimal_sums(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            amount: 0.3
            lines:
              - description: A
                unit_price: 0.1
              - description: B
                unit_price: 0.2
              - description: Service contract
                unit_price: 0
                duration_months: 12
            """
        },
    )
    assert report(repo) == []  # 0.1 + 0.2 == 0.3 as decimals, never as floats


# --- catalog ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {
                "catalogs/people.yaml": """\
                - id: alice
                  name: Alice Martin
                  emails: [alice@example.com]
                  roles: [sales]
                - id: bob
                  name: Bob Stone
                  emails: [bob@example.com, Alice@Example.com]
                  roles: [sales]
                - id: mia
                  name: Mia Chef
                  emails: [mia@example.com]
                  roles: [manager]
                """
            },
            ["catalogs/people.yaml:7:29: error [catalog]"],
            id="email-of-two-people",
        ),
        pytest.param(
            {
                "catalogs/currencies.yaml": """\
                - id: USD
                  name: US dollar
                  rate: 0.9
                  rate_date: 2026-01-01
                """
            },
            # one finding, not one more per product and record in euros
            ["catalogs/currencies.yaml:1:1: error [catalog]"],
            id="base-currency-not-listed",
        ),
    ],
)
def test_catalog_breaks(repo: Path, files: dict[str, str], expected: list[str]) -> None:
    write(repo, dict(files))
    assert report(repo) == expected


KIND_PROBLEMS = {
    "no-stages": ("stages: []", "catalogs/kinds.yaml:14:11: error [schema]"),
    "no-stages-field": ("", "catalogs/kinds.yaml:10:3: error [schema]"),
    "stage-twice": (
        "stages: [qualify, negotiate, qualify]",
        "catalogs/kinds.yaml:14:11: error [schema]",
    ),
}


@pytest.mark.parametrize("problem", KIND_PROBLEMS)
def test_a_kind_problem_is_reported_once(repo: Path, problem: str) -> None:
    stages, expected = KIND_PROBLEMS[problem]
    write(
        repo,
        {
            "catalogs/kinds.yaml": f"""\
            - id: standard-sale
              name: Standard sale
              type: standard
              allowed: true
              stages: [qualify, proposal, negotiate, commit]
            - id: hours
              name: Consulting hours
              type: stageless
              allowed: true
            - id: loop
              name: Loop
              type: custom
              allowed: true
              {stages}
            """
        },
    )
    assert report(repo) == [expected]


def test_catalog_keeps_the_fixture(repo: Path) -> None:
    assert report(repo) == []


# --- cascades collapse -----------------------------------------------------------


def test_a_broken_catalog_is_one_diagnostic_not_one_per_record(repo: Path) -> None:
    common = "name: {}\nkind: standard-sale\nstage: qualify\nstatus: in_progress\n"
    common += "partner: acme\nresponsible: alice\n"
    write(
        repo,
        {
            "catalogs/kinds.yaml": "- id: standard-sale\n  name: [Standard\n",
            **{
                f"opportunities/2026/04/o{n}.yaml": f"id: o{n}\n" + common.format(f"O{n}")
                for n in range(5)
            },
        },
    )
    assert report(repo) == ["catalogs/kinds.yaml:2:9: error [yaml-syntax]"]


def test_a_missing_catalog_is_one_diagnostic(repo: Path) -> None:
    common = "kind: hours\nstatus: in_progress\npartner: acme\nresponsible: alice\n"
    write(
        repo,
        {
            "catalogs/tags.yaml": None,
            "opportunities/2026/04/a.yaml": "id: a\nname: A\ntags: [priority]\n" + common,
            "opportunities/2026/04/b.yaml": "id: b\nname: B\ntags: [priority, hot]\n" + common,
        },
    )
    assert report(repo) == ["crm.yaml:1:1: error [unknown-reference]"]
    diagnostic = only(repo)
    assert diagnostic.message == "catalogs/tags.yaml is missing, and 3 references need it"


def test_an_unreadable_partner_does_not_turn_its_references_red(repo: Path) -> None:
    write(repo, {"partners/acme.yaml": "id: acme\nname: [Acme\nroles: [customer]\n"})
    # the opportunity and the contact that point at acme stay quiet
    assert report(repo) == ["partners/acme.yaml:3:6: error [yaml-syntax]"]


# --- every finding is reported ---------------------------------------------------


def test_every_problem_of_one_file_is_reported(repo: Path) -> None:
    write(
        repo,
        {
            OPP: """\
            id: z
            name: Acme forklifts
            kind: custom-deal
            stage: proposal
            status: lost
            partner: acme
            responsible: alice
            probability: 20
            amount: 100.001
            opened: 2026-03-10
            expected_close: 2026-01-01
            tags: [hot]
            """
        },
    )
    assert report(repo) == [
        f"{OPP}:1:5: error [id-mismatch]",
        f"{OPP}:2:7: error [duplicate-name]",
        f"{OPP}:4:8: error [stage-not-in-kind]",
        f"{OPP}:5:9: error [lost-without-reason]",
        f"{OPP}:8:14: error [probability-inconsistent]",
        f"{OPP}:9:9: error [money-precision]",
        f"{OPP}:11:17: error [date-order]",
        f"{OPP}:12:8: error [unknown-reference]",
    ]


def test_every_broken_file_is_reported(repo: Path) -> None:
    write(
        repo,
        {
            "catalogs/terms.yaml": "- id: net30\n  name: Net 30\n  days: thirty\n",
            "contacts/jim.yaml": b"id: jim\nname: Jim \xc3\n",
            "leads/l.yaml": "id: l\nname: L\nstatus: maybe\n",
            "partners/p.yaml": "id: p\nname: P\nroles: [customer]\nroles: [supplier]\n",
            OPP: "id: x\nname: X\nkind: hours\nstatus: won\npartner: nobody\n"
            "responsible: alice\nprobability: 100\n",
        },
    )
    assert report(repo) == [
        "catalogs/terms.yaml:3:3: error [schema]",
        "contacts/jim.yaml:2:11: error [encoding]",
        "leads/l.yaml:3:9: error [schema]",
        f"{OPP}:5:10: error [unknown-reference]",
        "partners/p.yaml:4:1: error [yaml-syntax]",
    ]


def test_record_level_findings_never_point_at_line_zero(repo: Path) -> None:
    write(
        repo,
        {
            "partners/p.yaml": "# a partner\n\n# with comments first\nid: p\n",
            "contacts/c.yaml": "{id: c}\n",
            "leads/l.yaml": "",
            "tasks/t.yaml": "# only a comment\n",
        },
    )
    diagnostics = found(repo)
    assert [d.location for d in diagnostics] == [
        "contacts/c.yaml:1:2",  # the first key of a flow mapping
        "leads/l.yaml:1:1",
        "partners/p.yaml:4:1",  # missing name
        "partners/p.yaml:4:1",  # missing roles
        "tasks/t.yaml:1:1",
    ]
    assert all(d.line >= 1 and d.column >= 1 for d in diagnostics)


def test_every_one_revision_rule_has_a_test_that_breaks_it() -> None:
    """A new rule in the registry needs its case here (or in test_rules_files.py, or
    test_rules_documents.py)."""
    from crmfiles.rules.registry import RULES
    from crmfiles.rules.suite import is_one_revision

    here = Path(__file__).parent
    expected = "".join(
        (here / name).read_text()
        for name in ("test_rules_files.py", "test_rules_documents.py", Path(__file__).name)
    )
    untested = [
        rule.id
        for rule in RULES.values()
        if is_one_revision(rule.id)
        and f"error [{rule.id}]" not in expected
        and f"warning [{rule.id}]" not in expected
    ]
    assert untested == []


# --- money-range -----------------------------------------------------------------------


def _opportunity_with(repo: Path, body: str) -> None:
    write(
        repo,
        {
            "opportunities/2026/01/big.yaml": "id: big\nname: Big\nkind: standard-sale\n"
            "stage: qualify\nstatus: in_progress\npartner: acme\nresponsible: alice\n"
            "probability: 10\nopened: 2026-01-10\n" + body
        },
    )


def test_money_range_breaks_on_lines_adding_up_past_the_bound(repo: Path) -> None:
    _opportunity_with(
        repo,
        "lines:\n  - description: x\n    quantity: 1000000000\n    unit_price: 100000000000000\n",
    )
    assert sorted(report(repo)) == [
        "opportunities/2026/01/big.yaml:11:3: error [money-range]",
        "opportunities/2026/01/big.yaml:13:17: error [schema]",
    ]


def test_money_range_breaks_on_a_product_of_bounded_values(repo: Path) -> None:
    _opportunity_with(
        repo, "lines:\n  - description: x\n    quantity: 2\n    unit_price: 999999999999.99\n"
    )
    assert report(repo) == ["opportunities/2026/01/big.yaml:11:3: error [money-range]"]


def test_money_range_keeps_large_but_possible_deals(repo: Path) -> None:
    _opportunity_with(
        repo,
        "amount: 999999999999.99\nlines:\n  - description: x\n    quantity: 1000\n"
        "    unit_price: 999999999.99\n    duration_months: 1\n",
    )
    assert [r for r in report(repo) if "money-range" in r or "schema" in r] == []


def test_an_amount_past_the_bound_is_a_schema_error_and_readers_go_on(repo: Path) -> None:
    import json
    import sqlite3
    import subprocess
    import sys

    _opportunity_with(repo, "amount: 100000000000000000000\n")
    assert report(repo) == ["opportunities/2026/01/big.yaml:10:9: error [schema]"]
    for args in (
        ["list", "opportunities", "--format", "json"],
        ["report", "funnel"],
        ["report", "forecast"],
        ["export", "sqlite", "out.db"],
        ["export", "csv"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "crmfiles", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, (args, proc.stderr)
        assert "internal error" not in proc.stderr
        if args[0] == "list":
            rows = {r["id"]: r for r in json.loads(proc.stdout)["opportunities"]}
            assert rows["big"]["amount"] == "100000000000000000000.00"
            assert rows["acme-forklifts"]["amount"] == "30000.00"
    with sqlite3.connect(repo / "out.db") as db:
        [(kept,)] = db.execute("select count(*) from opportunities where id = 'acme-forklifts'")
    assert kept == 1


# --- unknown-reference in crm.yaml ---------------------------------------------------------


def test_crm_yaml_references_break_at_their_value(repo: Path) -> None:
    with (repo / "crm.yaml").open("a") as handle:
        handle.write("me: alise\ndefaults:\n  kind: standard-sael\n")
    lines = (repo / "crm.yaml").read_text().splitlines()
    me_line = lines.index("me: alise") + 1
    assert report(repo) == [
        f"crm.yaml:{me_line}:5: error [unknown-reference]",
        f"crm.yaml:{me_line + 2}:9: error [unknown-reference]",
    ]
    hints = [d.hint for d in found(repo)]
    assert hints == ["did you mean 'alice'?", "did you mean 'standard-sale'?"]


def test_crm_yaml_references_keep_the_rule(repo: Path) -> None:
    with (repo / "crm.yaml").open("a") as handle:
        handle.write("me: alice\ndefaults:\n  kind: standard-sale\n")
    assert report(repo) == []


def test_a_repository_without_the_newer_catalogs_checks_references_to_them(repo: Path) -> None:
    """establishments, sectors, families and sub-families came later: a repository
    without them is fine, and a reference to one is an unknown-reference on its record,
    the same warm as cold."""
    import subprocess
    import sys

    for name in ("establishments", "sectors", "families", "sub-families"):
        (repo / "catalogs" / f"{name}.yaml").unlink(missing_ok=True)
    assert report(repo) == []
    opp = "opportunities/2026/01/acme-forklifts.yaml"
    with (repo / opp).open("a") as handle:
        handle.write("sector: food\n")
    for _ in range(2):  # cold, then warm from the cache
        proc = subprocess.run(
            [sys.executable, "-m", "crmfiles", "validate"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1
        assert f"{opp}:14:9: error: unknown sector 'food' [unknown-reference]" in proc.stdout
