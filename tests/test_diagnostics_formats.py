"""The renderers: exact text output, escaping, and the published SARIF schema."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

from crmfiles import __version__
from crmfiles.diagnostics import Diagnostic, Severity, formats
from crmfiles.diagnostics.formats import FORMATS, format_diagnostic, summary_line, write_report
from crmfiles.rules.registry import RULES, RuleInfo

DATA = Path(__file__).parent / "data"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What gcc, mypy and GitHub's problem matchers expect on the first line.
FIRST_LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (error|warning): .* \[[a-z-]+\]$"
)

EXAMPLE = Diagnostic(
    path="opportunities/acme-forklifts.yaml",
    line=7,
    column=8,
    end_line=7,
    end_column=17,
    severity=Severity.ERROR,
    rule="stage-skip",
    message="stage moved from 'qualify' to 'negotiate', skipping 'proposal'",
    hint="move to 'proposal' first; a standard sale goes through every stage",
    record="acme-forklifts",
    excerpt=((6, "kind: standard-sale"), (7, "stage: negotiate")),
)

EXAMPLE_TEXT = """\
opportunities/acme-forklifts.yaml:7:8: error: stage moved from 'qualify' to 'negotiate', skipping 'proposal' [stage-skip]
    6 | kind: standard-sale
    7 | stage: negotiate
      |        ^^^^^^^^^
  hint: move to 'proposal' first; a standard sale goes through every stage
"""  # noqa: E501


def diag(**changes: Any) -> Diagnostic:
    return dataclasses.replace(EXAMPLE, **changes)


def render(diagnostics: list[Diagnostic], fmt: str, **options: Any) -> str:
    stream = io.StringIO()
    write_report(diagnostics, fmt, stream, **options)
    return stream.getvalue()


def caret_line(text: str) -> str:
    return next(line for line in text.splitlines() if "^" in line)


# --- text


def test_text_matches_the_design_example() -> None:
    assert format_diagnostic(EXAMPLE) == EXAMPLE_TEXT
    assert render([EXAMPLE], "text", checked_files=1204) == (
        EXAMPLE_TEXT + "\nFound 1 error in 1 file (1,204 files checked).\n"
    )


def test_first_line_is_what_problem_matchers_parse() -> None:
    for d in (EXAMPLE, diag(commit="0123456789abcdef0123"), diag(message="two\nlines")):
        match = FIRST_LINE.match(format_diagnostic(d).splitlines()[0])
        assert match is not None
        assert (match["path"], match["line"], match["col"]) == (d.path, "7", "8")


def test_gutter_width_follows_the_largest_line_number() -> None:
    d = diag(
        line=100, end_line=100, excerpt=((99, "kind: standard-sale"), (100, "stage: negotiate"))
    )
    assert format_diagnostic(d).splitlines()[1:4] == [
        "     99 | kind: standard-sale",
        "    100 | stage: negotiate",
        "        |        ^^^^^^^^^",
    ]


def test_tabs_do_not_break_caret_alignment() -> None:
    # column 9 is 'negotiate' after a tab, 'stage:' and another tab
    d = diag(column=9, end_column=18, excerpt=((7, "\tstage:\tnegotiate"),))
    shown, carets = format_diagnostic(d).splitlines()[1:3]
    assert "\t" not in shown
    assert carets.index("^") == shown.index("negotiate")
    assert carets.count("^") == len("negotiate")


def test_wide_characters_take_two_cells() -> None:
    d = diag(column=12, end_column=13, excerpt=((7, "name: 株式会社 x"),))
    shown, carets = format_diagnostic(d).splitlines()[1:3]
    assert shown == "    7 | name: 株式会社 x"
    assert carets == "      | " + " " * 15 + "^"


@pytest.mark.parametrize(
    ("end_line", "end_column", "carets"),
    [
        (7, 17, 9),  # a span on one line: column up to end_column
        (None, 17, 9),  # no end line means the same line
        (7, None, 1),  # no end: a single caret
        (7, 8, 1),  # an empty span: still one caret
        (9, 3, 1),  # a span over several lines: a single caret at the start
    ],
)
def test_caret_span(end_line: int | None, end_column: int | None, carets: int) -> None:
    line = caret_line(format_diagnostic(diag(end_line=end_line, end_column=end_column)))
    assert line == "      | " + " " * 7 + "^" * carets


def test_caret_past_the_end_of_the_line() -> None:
    d = diag(column=7, end_column=None, excerpt=((7, "stage:"),))
    assert caret_line(format_diagnostic(d)) == "      | " + " " * 6 + "^"


def test_caret_only_under_the_diagnostic_line() -> None:
    d = diag(excerpt=((7, "stage: negotiate"), (8, "probability: 50")))
    assert format_diagnostic(d).splitlines()[1:4] == [
        "    7 | stage: negotiate",
        "      |        ^^^^^^^^^",
        "    8 | probability: 50",
    ]


def test_empty_excerpt_line_has_no_trailing_space() -> None:
    d = diag(line=8, column=1, end_column=None, excerpt=((7, "stage: negotiate"), (8, "")))
    assert format_diagnostic(d).splitlines()[2:4] == ["    8 |", "      | ^"]


def test_control_characters_are_shown_not_sent_to_the_terminal() -> None:
    d = diag(
        message="bad \x1b[2J value",
        hint="drop \x07",
        column=10,
        end_column=11,
        excerpt=((7, "stage: \x1b[31mnegotiate\r\n"),),
    )
    text = format_diagnostic(d)
    assert not any(ord(char) < 32 and char != "\n" for char in text)
    lines = text.splitlines()
    assert lines[0].endswith(": error: bad \u241b[2J value [stage-skip]")
    assert lines[1:] == [
        "    7 | stage: \u241b[31mnegotiate",
        "      |          ^",
        "  hint: drop \u2407",
    ]


def test_no_hint_and_no_excerpt() -> None:
    text = format_diagnostic(diag(hint=None, excerpt=()))
    assert text == EXAMPLE_TEXT.splitlines()[0] + "\n"


def test_commit_goes_on_a_line_of_its_own() -> None:
    lines = format_diagnostic(diag(commit="0123456789abcdef0123")).splitlines()
    assert lines[0] == EXAMPLE_TEXT.splitlines()[0]
    assert lines[1] == "  in commit 0123456789ab"


def test_message_of_several_lines_continues_below_the_rule() -> None:
    lines = format_diagnostic(diag(message="first\nsecond", excerpt=(), hint=None)).splitlines()
    assert lines == [f"{EXAMPLE.location}: error: first [stage-skip]", "  second"]


@pytest.mark.parametrize(
    ("severities", "paths", "checked", "summary"),
    [
        ([], [], 1204, "All 1,204 files passed."),
        ([], [], 0, "No problems found."),
        ("EEEW", "abab", 1204, "Found 3 errors and 1 warning in 2 files (1,204 files checked)."),
        ("W", "a", 1, "Found 1 warning in 1 file (1 file checked)."),
        ("EE", "aa", 0, "Found 2 errors in 1 file."),
    ],
)
def test_summary_line(severities: str, paths: str, checked: int, summary: str) -> None:
    severity = {"E": Severity.ERROR, "W": Severity.WARNING}
    found = [diag(severity=severity[s], path=p) for s, p in zip(severities, paths, strict=True)]
    assert summary_line(found, checked) == summary


def test_clean_text_run_is_the_summary_alone() -> None:
    assert render([], "text", checked_files=1204) == "All 1,204 files passed.\n"


def test_colour_only_when_asked_and_only_around_the_plain_text() -> None:
    warning = diag(severity=Severity.WARNING, path="b.yaml")
    plain = render([EXAMPLE, warning], "text", checked_files=3)
    coloured = render([EXAMPLE, warning], "text", checked_files=3, color=True)
    assert "\x1b" not in plain
    assert "\x1b[1;31merror\x1b[0m" in coloured
    assert "\x1b[1;33mwarning\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_text_is_sorted_by_location() -> None:
    late, early = diag(path="z.yaml"), diag(path="a.yaml")
    text = render([late, early], "text")
    assert text.index("a.yaml:7:8") < text.index("z.yaml:7:8")


def test_import_does_not_load_rich() -> None:
    code = "import sys, crmfiles.diagnostics.formats; print('rich' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


# --- json

DIAGNOSTIC_KEYS = [
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "severity",
    "rule",
    "message",
    "hint",
    "record",
    "commit",
]


def test_json_round_trip_and_key_order() -> None:
    warning = diag(severity=Severity.WARNING, path="z.yaml", hint=None, commit="abc", end_line=None)
    report = json.loads(render([warning, EXAMPLE], "json", checked_files=12))
    assert list(report) == ["version", "tool", "summary", "diagnostics"]
    assert report["version"] == 1
    assert report["tool"] == {"name": "crmfiles", "version": __version__}
    assert report["summary"] == {"errors": 1, "warnings": 1, "files": 12}
    assert [list(item) for item in report["diagnostics"]] == [DIAGNOSTIC_KEYS] * 2
    rebuilt = [
        Diagnostic(**{**item, "severity": Severity(item["severity"])})
        for item in report["diagnostics"]
    ]
    assert rebuilt == [EXAMPLE, warning]


def test_json_clean_run() -> None:
    assert json.loads(render([], "json", checked_files=5)) == {
        "version": 1,
        "tool": {"name": "crmfiles", "version": __version__},
        "summary": {"errors": 0, "warnings": 0, "files": 5},
        "diagnostics": [],
    }


# --- github


def test_github_annotation() -> None:
    assert render([EXAMPLE], "github") == (
        "::error file=opportunities/acme-forklifts.yaml,line=7,col=8,endLine=7,endColumn=17,"
        "title=stage-skip::stage moved from 'qualify' to 'negotiate', skipping 'proposal'"
        "%0Ahint: move to 'proposal' first; a standard sale goes through every stage\n"
    )


def test_github_escaping() -> None:
    d = diag(
        path="odd/a:b,c%d.yaml",
        message="100% sure\r\nbut: no, not really",
        hint=None,
        severity=Severity.WARNING,
    )
    assert render([d], "github") == (
        "::warning file=odd/a%3Ab%2Cc%25d.yaml,line=7,col=8,endLine=7,endColumn=17,"
        "title=stage-skip::100%25 sure%0D%0Abut: no, not really\n"
    )


def test_github_round_trips_through_unescaping() -> None:
    d = diag(path="x:y,z%.yaml", message="a%b\nc:d,e", hint="h%", commit="abcdef0123456789")
    command = render([d], "github").rstrip("\n")
    match = re.fullmatch(r"::(\w+) ([^:]*)::(.*)", command)
    assert match is not None
    properties = dict(item.split("=", 1) for item in match[2].split(","))
    assert unquote(properties["file"]) == d.path
    assert unquote(match[3]) == "a%b\nc:d,e\nhint: h%\nin commit abcdef012345"


def test_github_end_column_only_on_the_start_line() -> None:
    command = render([diag(end_line=9, end_column=3)], "github")
    assert "endLine=9" in command
    assert "endColumn" not in command
    assert "endLine" not in render([diag(end_line=None, end_column=None)], "github")


def test_github_one_command_per_diagnostic_and_nothing_else() -> None:
    many = [diag(path=f"{n}.yaml", message="x\ny") for n in range(3)]
    assert len(render(many, "github", color=True).splitlines()) == 3
    assert render([], "github", checked_files=10) == ""


# --- sarif


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((DATA / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def assert_valid_sarif(log: object, validator: jsonschema.protocols.Validator) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []


def test_vendored_schema_is_the_oasis_one_and_not_vacuous(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    schema = sarif_validator.schema
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert not sarif_validator.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    assert not sarif_validator.is_valid({"version": "2.2", "runs": []})


def test_sarif_is_valid_against_the_published_schema(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    diagnostics = [
        EXAMPLE,
        diag(severity=Severity.WARNING, path="dir with space/#1.yaml", hint=None),
        diag(end_line=None, end_column=None, commit="abcdef0123456789", record=None),
        diag(line=0, column=0, rule="not-a-registered-rule", message="x\ny"),
    ]
    log = json.loads(render(diagnostics, "sarif"))
    assert_valid_sarif(log, sarif_validator)


def test_sarif_clean_run_has_an_empty_results_list(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    log = json.loads(render([], "sarif", checked_files=3))
    assert_valid_sarif(log, sarif_validator)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    assert log["runs"][0]["results"] == []


def test_sarif_rules_come_from_the_registry() -> None:
    driver = json.loads(render([], "sarif"))["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("crmfiles", __version__)
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == list(RULES)
    for entry, info in zip(driver["rules"], RULES.values(), strict=True):
        assert entry["shortDescription"] == {"text": info.summary}
        assert entry["fullDescription"] == entry["help"] == {"text": info.help}
        assert entry["defaultConfiguration"] == {"level": info.default}
    stage_skip = next(rule for rule in driver["rules"] if rule["id"] == "stage-skip")
    assert stage_skip["name"] == "StageSkip"


def test_sarif_rule_that_is_off_by_default_has_level_none(
    monkeypatch: pytest.MonkeyPatch, sarif_validator: jsonschema.protocols.Validator
) -> None:
    monkeypatch.setattr(formats, "RULES", {"quiet": RuleInfo("quiet", "s", "h", default="off")})
    log = json.loads(render([], "sarif"))
    assert_valid_sarif(log, sarif_validator)
    [rule] = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"] == {"level": "none"}


def test_sarif_result() -> None:
    warning = diag(severity=Severity.WARNING, rule="author-not-allowed", path="a b.yaml")
    results = json.loads(render([EXAMPLE, warning], "sarif"))["runs"][0]["results"]
    by_rule = {result["ruleId"]: result for result in results}
    error, other = by_rule["stage-skip"], by_rule["author-not-allowed"]
    assert error["ruleIndex"] == list(RULES).index("stage-skip")
    assert error["level"] == "error"
    assert error["message"] == {"text": f"{EXAMPLE.message}\nhint: {EXAMPLE.hint}"}
    assert error["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": EXAMPLE.path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 7, "startColumn": 8, "endLine": 7, "endColumn": 17},
            }
        }
    ]
    assert error["properties"] == {"record": "acme-forklifts"}
    assert other["ruleIndex"] == list(RULES).index("author-not-allowed")
    assert other["level"] == "warning"
    location = other["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "a%20b.yaml"


def test_sarif_unknown_rule_has_no_rule_index() -> None:
    [result] = json.loads(render([diag(rule="mystery")], "sarif"))["runs"][0]["results"]
    assert result["ruleId"] == "mystery"
    assert "ruleIndex" not in result


def test_sarif_fingerprint_ignores_the_line() -> None:
    def fingerprint(d: Diagnostic) -> str:
        [result] = json.loads(render([d], "sarif"))["runs"][0]["results"]
        return str(result["partialFingerprints"]["crmfiles/v1"])

    assert fingerprint(EXAMPLE) == fingerprint(diag(line=12, column=3, message="moved"))
    assert fingerprint(EXAMPLE) != fingerprint(diag(record="other"))
    assert fingerprint(EXAMPLE) != fingerprint(diag(rule="stage-back"))


# --- gitlab

# GitLab publishes no JSON Schema for the Code Quality report; this one encodes the
# table of required fields in its documentation ("Code Quality report format",
# doc/ci/testing/code_quality.md): an array of objects with description, check_name,
# fingerprint, severity (info, minor, major, critical, blocker), location.path (a path
# relative to the repository) and location.lines.begin (an integer).
GITLAB_CODE_QUALITY = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^[^/]"},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {
                            "begin": {"type": "integer", "minimum": 1},
                            "end": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            },
        },
    },
}


def test_gitlab_report_has_the_documented_fields() -> None:
    diagnostics = [EXAMPLE, diag(severity=Severity.WARNING, path="z.yaml", line=0, end_line=9)]
    report = json.loads(render(diagnostics, "gitlab"))
    jsonschema.Draft7Validator(GITLAB_CODE_QUALITY).validate(report)
    first, second = report
    assert first == {
        "description": EXAMPLE.message,
        "check_name": "stage-skip",
        "fingerprint": first["fingerprint"],
        "severity": "major",
        "location": {"path": EXAMPLE.path, "lines": {"begin": 7, "end": 7}},
    }
    assert second["severity"] == "minor"
    assert second["location"]["lines"] == {"begin": 1, "end": 9}


def test_gitlab_fingerprint_is_rule_path_and_record_not_the_line() -> None:
    [item] = json.loads(render([EXAMPLE], "gitlab"))
    expected = "stage-skip\0opportunities/acme-forklifts.yaml\0acme-forklifts"
    assert item["fingerprint"] == hashlib.sha256(expected.encode()).hexdigest()
    [moved] = json.loads(render([diag(line=30, column=1)], "gitlab"))
    assert moved["fingerprint"] == item["fingerprint"]


def test_gitlab_fingerprints_stay_unique_and_stable() -> None:
    same_place = [diag(message=f"problem {n}") for n in range(3)]
    report = json.loads(render(same_place, "gitlab"))
    fingerprints = [item["fingerprint"] for item in report]
    assert len(set(fingerprints)) == 3
    assert [
        item["fingerprint"] for item in json.loads(render(same_place, "gitlab"))
    ] == fingerprints
    sarif = json.loads(render(same_place, "sarif"))["runs"][0]["results"]
    assert [r["partialFingerprints"]["crmfiles/v1"] for r in sarif] == fingerprints


def test_gitlab_clean_run() -> None:
    assert render([], "gitlab", checked_files=3) == "[]\n"


# --- all formats


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab"])
def test_machine_formats_write_only_json(fmt: str) -> None:
    output = render([EXAMPLE, diag(message="ünïcode ✓")], fmt, color=True, checked_files=2)
    assert "\x1b" not in output
    assert not output.startswith("\ufeff")
    json.loads(output)


def test_formats_and_unknown_format() -> None:
    assert FORMATS == ("text", "json", "github", "sarif", "gitlab")
    for fmt in FORMATS:
        render([EXAMPLE], fmt)
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render([EXAMPLE], "xml")
