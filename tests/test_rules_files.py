"""File-level rules: bytes, YAML, file names, ids and schemas.

Each test writes the broken file into a valid CRM repository (the ``repo`` fixture)
and lists every diagnostic of the whole work tree as ``path:line:col: severity
[rule]``; the twin test that keeps the rule quiet expects the repository clean.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import commit_all, found, git, only, write

from crmfiles.check import check
from crmfiles.records.gitsources import Index, Revision
from crmfiles.records.sources import RawFile
from crmfiles.records.worktree import WorkTree
from crmfiles.rules.files import load_file


def report(source: WorkTree | Index | Revision) -> list[str]:
    return [f"{d.location}: {d.severity} [{d.rule}]" for d in check(source).diagnostics]


# --- encoding --------------------------------------------------------------------


def test_encoding_breaks_at_the_first_bad_byte(repo: Path) -> None:
    write(repo, {"partners/x.yaml": b"id: x\nname: Acme \xff GmbH\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == ["partners/x.yaml:2:12: error [encoding]"]
    assert "0xff" in only(repo).message


def test_encoding_column_counts_characters_not_bytes(repo: Path) -> None:
    # "ü" is two bytes in UTF-8; an editor shows the bad byte in column 13
    write(repo, {"partners/x.yaml": "id: x\nname: Müller".encode() + b"\xfe\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == ["partners/x.yaml:2:13: error [encoding]"]


def test_encoding_keeps_utf8_and_a_bom(repo: Path) -> None:
    write(
        repo,
        {
            "partners/x.yaml": "id: x\nname: Müller & Søn, 日本\nroles: [customer]\n",
            "partners/bom.yaml": "\ufeffid: bom\nname: BOM AG\nroles: [customer]\n",
        },
    )
    assert report(WorkTree(repo)) == []


# --- yaml-syntax -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(
            """\
            id: x
            name: [Acme
            roles: [customer]
            """,
            "partners/x.yaml:3:6",
            id="unclosed-flow",
        ),
        pytest.param(
            """\
            id: x
            name: Acme
            name: Acme GmbH
            roles: [customer]
            """,
            "partners/x.yaml:3:1",
            id="duplicate-key",
        ),
        pytest.param(
            """\
            id: x
            name: Acme
              roles: [customer]
            """,
            "partners/x.yaml:3:8",
            id="bad-indentation",
        ),
        pytest.param(
            """\
            id: x
            name: Acme
            roles: [customer]
            ---
            id: y
            """,
            "partners/x.yaml:4:1",
            id="two-documents",
        ),
        pytest.param(
            """\
            id: x
            name: !!python/object/apply:os.system ["true"]
            roles: [customer]
            """,
            "partners/x.yaml:2:7",
            id="python-tag",
        ),
    ],
)
def test_yaml_syntax_breaks(repo: Path, text: str, where: str) -> None:
    write(repo, {"partners/x.yaml": text})
    assert report(WorkTree(repo)) == [f"{where}: error [yaml-syntax]"]


def test_yaml_syntax_keeps_quoting_block_scalars_and_anchors(repo: Path) -> None:
    write(
        repo,
        {
            "partners/x.yaml": """\
            # yaml-language-server: $schema=../.crm/schema/partner.schema.json
            id: x
            name: "Acme: \\"the\\" forklift people"
            roles: &roles [customer, supplier]
            comment: |
              Met at the fair.
                Indented line: yes, kept.
            custom:
              also: *roles
              tag: !!str 2026-01-01
            """
        },
    )
    assert report(WorkTree(repo)) == []


# --- conflict-marker -------------------------------------------------------------


def test_conflict_marker_breaks_at_each_conflict(repo: Path) -> None:
    write(
        repo,
        {
            "partners/acme.yaml": """\
            id: acme
            <<<<<<< HEAD
            name: Acme GmbH
            =======
            name: ACME Group
            >>>>>>> feature
            roles: [customer]
            <<<<<<< HEAD
            comment: ours
            =======
            comment: theirs
            >>>>>>> feature
            """
        },
    )
    assert report(WorkTree(repo)) == [
        "partners/acme.yaml:2:1: error [conflict-marker]",
        "partners/acme.yaml:8:1: error [conflict-marker]",
    ]
    first = found(repo)[0]
    assert (first.end_line, first.end_column) == (2, 8)


def test_conflict_marker_breaks_when_only_the_end_of_a_conflict_is_left(repo: Path) -> None:
    write(
        repo,
        {
            "partners/acme.yaml": """\
            id: acme
            name: Acme GmbH
            =======
            name: ACME Group
            >>>>>>> feature
            roles: [customer]
            """
        },
    )
    assert report(WorkTree(repo)) == ["partners/acme.yaml:3:1: error [conflict-marker]"]


def test_conflict_marker_breaks_an_unmerged_index(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"partners/acme.yaml": "id: acme\nname: ACME Group\nroles: [customer]\n"})
    commit_all(repo, "rename on feature")
    git(repo, "checkout", "-q", "main")
    write(repo, {"partners/acme.yaml": "id: acme\nname: Acme AG\nroles: [customer]\n"})
    commit_all(repo, "rename on main")
    merge = subprocess.run(["git", "merge", "-q", "feature"], cwd=repo, capture_output=True)
    assert merge.returncode != 0  # a real conflict
    assert report(WorkTree(repo)) == ["partners/acme.yaml:2:1: error [conflict-marker]"]
    assert report(Index(repo)) == ["partners/acme.yaml:1:1: error [conflict-marker]"]


def test_conflict_marker_keeps_lookalikes(repo: Path) -> None:
    write(
        repo,
        {
            "partners/acme.yaml": """\
            id: acme
            name: Acme GmbH
            roles: [customer]
            comment: |
              =======
              <<<<<<< not at the start of a line
            """
        },
    )
    assert report(WorkTree(repo)) == []


# --- yaml-ambiguous --------------------------------------------------------------


def test_yaml_ambiguous_breaks_plain_yes_no_on_off(repo: Path) -> None:
    write(
        repo,
        {
            "partners/x.yaml": """\
            id: x
            name: Acme
            roles: [customer]
            comment: on
            custom:
              answers:
                - No
                - off  # a comment after it
            """
        },
    )
    assert report(WorkTree(repo)) == [
        "partners/x.yaml:4:10: warning [yaml-ambiguous]",
        "partners/x.yaml:7:7: warning [yaml-ambiguous]",
        "partners/x.yaml:8:7: warning [yaml-ambiguous]",
    ]
    first = found(repo)[0]
    assert (first.end_line, first.end_column) == (4, 12)
    assert "'on'" in first.message


def test_yaml_ambiguous_breaks_in_a_crlf_file(repo: Path) -> None:
    write(repo, {"partners/x.yaml": b"id: x\r\nname: X\r\nroles: [customer]\r\ncomment: yes\r\n"})
    assert report(WorkTree(repo)) == ["partners/x.yaml:4:10: warning [yaml-ambiguous]"]


def test_yaml_ambiguous_keeps_quoted_values_and_block_scalars(repo: Path) -> None:
    write(
        repo,
        {
            "partners/x.yaml": """\
            id: x
            name: Acme
            roles: [customer]
            comment: |
              Budget approved: yes
              - no
            custom:
              quoted: 'on'
              double: "off"
              word: only
              folded: >
                Decision: no
            """
        },
    )
    assert report(WorkTree(repo)) == []


# --- unsafe-path -----------------------------------------------------------------


def test_unsafe_path_breaks_symlinks_leaving_the_repository(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("id: evil\nname: Evil\nroles: [customer]\n")
    os.symlink(outside, repo / "partners/evil.yaml")
    os.symlink("/", repo / "contacts/root")
    assert report(WorkTree(repo)) == [
        "contacts/root:1:1: error [unsafe-path]",
        "partners/evil.yaml:1:1: error [unsafe-path]",
    ]
    assert "leaves the repository" in found(repo)[1].message


def test_unsafe_path_breaks_symlinks_inside_the_repository(repo: Path) -> None:
    os.symlink("acme.yaml", repo / "partners/acme-alias.yaml")
    assert report(WorkTree(repo)) == ["partners/acme-alias.yaml:1:1: error [unsafe-path]"]
    commit_all(repo, "a symlink")
    assert report(Revision(repo, "HEAD")) == ["partners/acme-alias.yaml:1:1: error [unsafe-path]"]


def test_unsafe_path_keeps_regular_files_in_nested_folders(repo: Path) -> None:
    write(repo, {"partners/eu/de/x.yaml": "id: x\nname: X\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == []


# --- file-name -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Acme", id="upper-case"),
        pytest.param("acme gmbh", id="space"),
        pytest.param("-acme", id="leading-dash"),
        pytest.param("a..b", id="double-dot"),
        pytest.param("a" * 81, id="too-long"),
    ],
)
def test_file_name_breaks_invalid_ids(repo: Path, name: str) -> None:
    write(repo, {f"partners/{name}.yaml": "name: X\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == [
        f"partners/{name}.yaml:1:1: error [file-name]",
        f"partners/{name}.yaml:1:1: error [schema]",  # and the id field is missing
    ]


def test_file_name_breaks_yml_records_and_catalogs(repo: Path) -> None:
    write(
        repo,
        {
            "partners/x.yml": "id: x\nname: X\nroles: [customer]\n",
            # not read: it would shadow catalogs/stages.yaml
            "catalogs/stages.yml": "- id: only\n  name: Only\n  probability: 1\n",
        },
    )
    assert report(WorkTree(repo)) == [
        "catalogs/stages.yml:1:1: error [file-name]",
        "partners/x.yml:1:1: error [file-name]",
    ]


def test_file_name_keeps_every_id_character(repo: Path) -> None:
    write(repo, {"partners/acme-2.0_b.yaml": "id: acme-2.0_b\nname: X\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == []


# --- too-large -------------------------------------------------------------------


def test_too_large_breaks_over_a_megabyte(repo: Path) -> None:
    body = "id: x\nname: X\nroles: [customer]\ncomment: " + "a" * 1_000_000 + "\n"
    write(repo, {"partners/x.yaml": body})
    assert report(WorkTree(repo)) == ["partners/x.yaml:1:1: error [too-large]"]
    commit_all(repo, "a big one")
    assert report(Revision(repo, "HEAD")) == ["partners/x.yaml:1:1: error [too-large]"]


def test_too_large_keeps_a_file_just_under_the_limit(repo: Path) -> None:
    head = "id: x\nname: X\nroles: [customer]\ncomment: "
    write(repo, {"partners/x.yaml": head + "a" * (1_000_000 - len(head) - 1) + "\n"})
    assert (repo / "partners/x.yaml").stat().st_size == 1_000_000
    assert report(WorkTree(repo)) == []


# --- schema ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "message"),
    [
        pytest.param(
            """\
            id: x
            name: X
            roles: customer
            """,
            "partners/x.yaml:3:8",
            "is not of type 'array'",
            id="wrong-type",
        ),
        pytest.param(
            """\
            id: x
            name: X
            roles: [customer, reseller]
            """,
            "partners/x.yaml:3:19",
            "'reseller' is not one of",
            id="enum-in-a-list",
        ),
        pytest.param(
            """\
            # a comment first: the record starts on line 2
            id: x
            roles: [customer]
            """,
            "partners/x.yaml:2:1",
            "missing required field 'name'",
            id="missing-field-at-the-first-key",
        ),
        pytest.param(
            """\
            id: x
            name: X
            roles: [customer]
            fax: 040 123
            """,
            "partners/x.yaml:4:1",
            "unknown field 'fax'",
            id="unknown-field-at-its-key",
        ),
        pytest.param(
            """\
            id: x
            name: X
            roles: [customer]
            email: sales.acme.example
            """,
            "partners/x.yaml:4:8",
            "is not a 'email'",
            id="email-format",
        ),
        pytest.param(
            """\
            id: x
            name: X
            roles: [customer]
            email: sales@
            """,
            "partners/x.yaml:4:8",
            "'sales@'",
            id="email-python-jsonschema-would-pass",
        ),
        pytest.param(
            """\
            id: x
            name: X
            roles: [customer]
            country: "DE\\n"
            """,
            "partners/x.yaml:4:10",
            "does not match",
            id="pattern-dollar-is-the-end",
        ),
    ],
)
def test_schema_breaks(repo: Path, text: str, expected: str, message: str) -> None:
    write(repo, {"partners/x.yaml": text})
    assert report(WorkTree(repo)) == [f"{expected}: error [schema]"]
    assert message in only(repo).message


def test_schema_breaks_an_impossible_date_in_an_opportunity(repo: Path) -> None:
    write(
        repo,
        {
            "opportunities/2026/02/x.yaml": """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            opened: 2025-02-30
            """
        },
    )
    assert report(WorkTree(repo)) == ["opportunities/2026/02/x.yaml:7:9: error [schema]"]
    diagnostic = only(repo)
    assert "'2025-02-30' is not a 'date'" in diagnostic.message
    assert (diagnostic.end_line, diagnostic.end_column) == (7, 19)


def test_schema_breaks_deep_inside_a_record(repo: Path) -> None:
    write(
        repo,
        {
            "opportunities/x.yaml": """\
            id: x
            name: X
            kind: hours
            status: in_progress
            partner: acme
            responsible: alice
            competitors:
              - partner: rival
                outcome: maybe
            lines:
              - quantity: 2
                unit_price: 10
            """
        },
    )
    assert report(WorkTree(repo)) == [
        "opportunities/x.yaml:9:14: error [schema]",
        "opportunities/x.yaml:11:5: error [schema]",  # anyOf: neither product nor description
    ]
    outcome, line = found(repo)
    assert "'maybe' is not one of" in outcome.message
    assert "product" in line.message  # the best match, not every branch


def test_schema_breaks_catalog_entries(repo: Path) -> None:
    write(
        repo,
        {
            "catalogs/tags.yaml": """\
            - id: priority
              name: Priority
            - id: Key Account
              name: Key account
            """
        },
    )
    assert report(WorkTree(repo)) == ["catalogs/tags.yaml:3:7: error [schema]"]


def test_schema_breaks_a_catalog_that_is_a_mapping(repo: Path) -> None:
    write(repo, {"catalogs/tags.yaml": "priority: Priority\n"})
    assert report(WorkTree(repo)) == ["catalogs/tags.yaml:1:1: error [schema]"]
    assert "not a list of entries" in only(repo).message


def test_schema_keeps_every_optional_field(repo: Path) -> None:
    write(
        repo,
        {
            "partners/x.yaml": """\
            id: x
            name: X
            legal_name: X GmbH
            roles: [customer, supplier]
            country: DE
            language: de-CH
            website: https://x.example/path?q=1
            email: sales+crm@x.example
            phone: +49 40 123456
            vat_id: DE123456789
            responsible: alice
            tags: [priority]
            comment: Free text.
            x-import-id: 42
            custom:
              anything: [1, {two: 3}]
            """
        },
    )
    assert report(WorkTree(repo)) == []


# --- id-mismatch -----------------------------------------------------------------


def test_id_mismatch_breaks_at_the_id(repo: Path) -> None:
    write(repo, {"partners/acme-gmbh.yaml": "id: acme-ag\nname: X\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == ["partners/acme-gmbh.yaml:1:5: error [id-mismatch]"]
    diagnostic = only(repo)
    assert (diagnostic.end_line, diagnostic.end_column) == (1, 12)
    assert diagnostic.hint is not None and "acme-gmbh" in diagnostic.hint


def test_id_mismatch_breaks_a_hostile_id(repo: Path) -> None:
    write(repo, {"partners/x.yaml": "id: ../../etc/passwd\nname: X\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == [
        "partners/x.yaml:1:5: error [id-mismatch]",
        "partners/x.yaml:1:5: error [schema]",
    ]


def test_id_mismatch_keeps_an_id_equal_to_the_file_name(repo: Path) -> None:
    write(repo, {"partners/2026/x.yaml": "id: x\nname: X\nroles: [customer]\n"})
    assert report(WorkTree(repo)) == []


# --- the loader alone ------------------------------------------------------------


def test_a_refused_file_is_one_finding_and_never_parsed() -> None:
    from crmfiles.records import classify

    place = classify("partners/x.yaml")
    assert place is not None
    raw = RawFile("partners/x.yaml", None, None, "symlink: records must be regular files")
    loaded = load_file(raw, place)
    assert [(f.rule, f.line, f.column) for f in loaded.findings] == [("unsafe-path", 1, 1)]
    assert loaded.data is None and not loaded.ok


# --- control-character -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('name: "Acme\\e]0;pwned\\a\\e[2J"', "partners/x.yaml:2:7"),
        ('name: "Acme \\x9b2J"', "partners/x.yaml:2:7"),  # the one-character CSI
        ('name: "Acme \\u0007"', "partners/x.yaml:2:7"),
        ('name: Acme\ncomment: "line one\\rline two"', "partners/x.yaml:3:10"),
        ('name: Acme\ncustom:\n  "bad\\x1bkey": 1', "partners/x.yaml:4:3"),
        ('name: Acme\ntags: [a, "b\\x00"]', "partners/x.yaml:3:11"),
    ],
)
def test_control_character_breaks_at_the_value(repo: Path, line: str, where: str) -> None:
    write(repo, {"partners/x.yaml": f"id: x\n{line}\nroles: [customer]\n"})
    assert f"{where}: error [control-character]" in report(WorkTree(repo))


def test_control_character_message_shows_the_value_escaped(repo: Path) -> None:
    write(repo, {"partners/x.yaml": 'id: x\nname: "Acme\\e[2J"\nroles: [customer]\n'})
    [diagnostic] = [d for d in found(repo) if d.rule == "control-character"]
    assert "\x1b" not in diagnostic.message
    assert diagnostic.message == "control character in 'Acme\\\\x1b[2J'"


def test_control_character_keeps_tabs_newlines_and_escaped_text(repo: Path) -> None:
    write(
        repo,
        {
            "partners/x.yaml": (
                'id: x\nname: "Tab\\there"\ncomment: "two\\nlines and a \\\\ backslash"\n'
                "roles: [customer]\nnotes: |\n  a block\n  of text\n"
            ),
            "partners/crlf.yaml": b"id: crlf\r\nname: CRLF\r\nroles: [customer]\r\n",
        },
    )
    assert [r for r in report(WorkTree(repo)) if "control-character" in r] == []
