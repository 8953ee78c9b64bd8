"""Renderers for diagnostics: one report per run, in the format ``--format`` names.

``text`` is for people: per diagnostic the line editors and CI problem matchers parse
(``path:line:col: severity: message [rule-id]``), an excerpt with a caret under the
offending value, an optional hint; then a summary line.  The other formats are for
machines and write the report and nothing else.

``json`` has this shape (keys always present and in this order; absent values are
``null``; ``summary.files`` is the number of files checked)::

    {"version": 1,
     "tool": {"name": "crmfiles", "version": "0.2.0"},
     "summary": {"errors": 1, "warnings": 0, "files": 1204},
     "diagnostics": [{"path": "opportunities/acme.yaml", "line": 7, "column": 8,
                      "end_line": 7, "end_column": 17, "severity": "error",
                      "rule": "stage-skip", "message": "...", "hint": "...",
                      "record": "acme", "commit": null}]}

``github`` writes workflow commands (annotations), ``sarif`` a SARIF 2.1.0 log and
``gitlab`` a GitLab Code Quality report.  SARIF and GitLab fingerprints hash the rule,
the path and the record id, not the line, so a finding keeps its identity when lines
move; equal fingerprints within one report get a counter to keep them unique.

Every format renders the diagnostics sorted by :meth:`Diagnostic.sort_key`.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TextIO
from urllib.parse import quote

from crmfiles import __version__
from crmfiles.diagnostics import Diagnostic, Severity
from crmfiles.rules.registry import RULES

FORMATS = ("text", "json", "github", "sarif", "gitlab")

TOOL_NAME = "crmfiles"
INFORMATION_URI = "https://pypi.org/project/crmfiles/"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
JSON_REPORT_VERSION = 1
TAB_WIDTH = 4  # excerpt lines and carets expand tabs alike, so carets stay aligned
COMMIT_CHARS = 12

_ANSI = {
    "error": "1;31",
    "warning": "1;33",
    "location": "1",
    "rule": "2",
    "gutter": "1;34",
    "hint": "1;36",
    "ok": "1;32",
}

Paint = Callable[[str, str], str]

# Control characters in a record (a broken file is shown in its excerpt) must not
# reach the terminal as escape sequences: show each as one visible character.
_PRINTABLE = str.maketrans(
    {code: 0x2400 + code for code in range(32) if code != ord("\t")}
    | {0x7F: 0x2421}
    | {code: 0xFFFD for code in range(0x80, 0xA0)}
)


def write_report(
    diagnostics: Sequence[Diagnostic],
    fmt: str,
    stream: TextIO,
    *,
    color: bool = False,
    checked_files: int = 0,
) -> None:
    """Write every diagnostic in ``fmt`` to ``stream``.

    ``color`` adds ANSI colour to the text format (the caller decides, from the
    terminal and ``NO_COLOR``); machine formats ignore it.  ``checked_files`` is
    the number of files the run checked; 0 when unknown.
    """
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    if fmt == "text":
        blocks = [format_diagnostic(d, color=color) + "\n" for d in ordered]
        stream.write("".join(blocks) + summary_line(ordered, checked_files, color=color) + "\n")
    elif fmt == "json":
        _dump_json(_json_report(ordered, checked_files), stream)
    elif fmt == "github":
        stream.write("".join(_github_command(d) + "\n" for d in ordered))
    elif fmt == "sarif":
        _dump_json(_sarif_log(ordered), stream)
    elif fmt == "gitlab":
        _dump_json(_gitlab_report(ordered), stream)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


# --- text


def format_diagnostic(diagnostic: Diagnostic, *, color: bool = False) -> str:
    """One diagnostic as people read it: location line, commit, excerpt, hint."""
    paint: Paint = _ansi if color else _plain
    d = diagnostic
    severity = d.severity.value
    # The rule id ends the first line, which problem matchers parse; a message of
    # several lines continues indented below it.
    first, *more = [line.translate(_PRINTABLE) for line in d.message.splitlines()] or [""]
    lines = [
        f"{paint(d.location.translate(_PRINTABLE), 'location')}: "
        f"{paint(severity, severity)}: {first} {paint(f'[{d.rule}]', 'rule')}",
        *(f"  {line}" for line in more),
    ]
    if d.commit:
        lines.append(f"  in commit {d.commit[:COMMIT_CHARS]}")
    lines.extend(_excerpt(d, paint))
    if d.hint:
        lines.append(f"  {paint('hint', 'hint')}: {d.hint.translate(_PRINTABLE)}")
    return "\n".join(lines) + "\n"


def summary_line(
    diagnostics: Sequence[Diagnostic], checked_files: int = 0, *, color: bool = False
) -> str:
    """``Found 3 errors and 1 warning in 2 files (1,204 files checked).`` and the like."""
    paint: Paint = _ansi if color else _plain
    checked = _count(checked_files, "file")
    if not diagnostics:
        return paint(f"All {checked} passed." if checked_files else "No problems found.", "ok")
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    found = [_count(n, noun) for n, noun in ((errors, "error"), (warnings, "warning")) if n]
    files = _count(len({d.path for d in diagnostics}), "file")
    tail = f" ({checked} checked)" if checked_files else ""
    return paint(f"Found {' and '.join(found)} in {files}{tail}.", "error" if errors else "warning")


def _excerpt(d: Diagnostic, paint: Paint) -> list[str]:
    if not d.excerpt:
        return []
    width = max(len(str(number)) for number, _ in d.excerpt)
    blank_gutter = paint(" " * (4 + width) + " |", "gutter")
    lines = []
    for number, raw in d.excerpt:
        text = raw.rstrip("\r\n").translate(_PRINTABLE)
        gutter = paint(f"    {number:>{width}} |", "gutter")
        lines.append(f"{gutter} {text.expandtabs(TAB_WIDTH)}" if text else gutter)
        if number == d.line:
            start, end = _caret_span(text, d)
            carets = paint("^" * (end - start), d.severity.value)
            lines.append(f"{blank_gutter} {' ' * start}{carets}")
    return lines


def _caret_span(text: str, d: Diagnostic) -> tuple[int, int]:
    """Start and end of the caret underline, in terminal cells after the gutter."""
    start = _cells_before(text, max(0, d.column - 1))
    same_line = d.end_line is None or d.end_line == d.line
    if same_line and d.end_column is not None and d.end_column > d.column:
        return start, max(start + 1, _cells_before(text, d.end_column - 1))
    return start, start + 1


def _cells_before(text: str, index: int) -> int:
    """Cells that the first ``index`` characters take once tabs are expanded.

    A column past the end of the line counts one cell per missing character.
    """
    shown = text[:index].expandtabs(TAB_WIDTH)
    cells = sum(_char_cells(char) for char in shown)
    return cells + max(0, index - len(text))


def _char_cells(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _ansi(text: str, style: str) -> str:
    return f"\x1b[{_ANSI[style]}m{text}\x1b[0m"


def _plain(text: str, style: str) -> str:
    return text


# --- json


def _json_report(diagnostics: Sequence[Diagnostic], checked_files: int) -> dict[str, Any]:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    return {
        "version": JSON_REPORT_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "summary": {
            "errors": errors,
            "warnings": len(diagnostics) - errors,
            "files": checked_files,
        },
        "diagnostics": [
            {
                "path": d.path,
                "line": d.line,
                "column": d.column,
                "end_line": d.end_line,
                "end_column": d.end_column,
                "severity": d.severity.value,
                "rule": d.rule,
                "message": d.message,
                "hint": d.hint,
                "record": d.record,
                "commit": d.commit,
            }
            for d in diagnostics
        ],
    }


def _dump_json(report: object, stream: TextIO) -> None:
    json.dump(report, stream, indent=2)
    stream.write("\n")


# --- github


def _github_command(d: Diagnostic) -> str:
    """A workflow command; the runner allows an end column only on the start line."""
    properties: dict[str, object] = {"file": d.path, "line": d.line, "col": d.column}
    if d.end_line is not None:
        properties["endLine"] = d.end_line
    if d.end_column is not None and d.end_line in (None, d.line):
        properties["endColumn"] = d.end_column
    properties["title"] = d.rule
    joined = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    return f"::{d.severity.value} {joined}::{_escape_data(_long_message(d))}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _long_message(d: Diagnostic) -> str:
    """The message with the hint and the commit on lines of their own."""
    lines = [d.message]
    if d.hint:
        lines.append(f"hint: {d.hint}")
    if d.commit:
        lines.append(f"in commit {d.commit[:COMMIT_CHARS]}")
    return "\n".join(lines)


# --- fingerprints


def fingerprints(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """One fingerprint per diagnostic: sha256 of rule, path and record id, made unique.

    The n-th repeat of a fingerprint (n >= 2) hashes it again with ``:n``, so the
    result depends on the order of the diagnostics; ``write_report`` sorts them.
    """
    seen: Counter[str] = Counter()
    result = []
    for d in diagnostics:
        base = _sha256("\0".join((d.rule, d.path, d.record or "")))
        seen[base] += 1
        repeat = seen[base]
        result.append(base if repeat == 1 else _sha256(f"{base}:{repeat}"))
    return result


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- sarif

_SARIF_LEVEL = {"error": "error", "warning": "warning", "off": "none"}


def _sarif_log(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    rule_index = {rule_id: index for index, rule_id in enumerate(RULES)}
    results = [
        _sarif_result(d, rule_index.get(d.rule), fingerprint)
        for d, fingerprint in zip(diagnostics, fingerprints(diagnostics), strict=True)
    ]
    driver = {
        "name": TOOL_NAME,
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [
            {
                "id": rule.id,
                "name": "".join(part.capitalize() for part in rule.id.split("-")),
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.help},
                "help": {"text": rule.help},
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.default]},
            }
            for rule in RULES.values()
        ],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _sarif_result(d: Diagnostic, rule_index: int | None, fingerprint: str) -> dict[str, Any]:
    # SARIF lines and columns start at 1; clamp so one bad position cannot void the log.
    region: dict[str, int] = {"startLine": max(1, d.line), "startColumn": max(1, d.column)}
    if d.end_line is not None:
        region["endLine"] = max(region["startLine"], d.end_line)
    if d.end_column is not None:
        region["endColumn"] = max(1, d.end_column)
    result: dict[str, Any] = {"ruleId": d.rule}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result |= {
        "level": d.severity.value,
        "message": {"text": _long_message(d)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(d.path, safe="/"), "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {f"{TOOL_NAME}/v1": fingerprint},
    }
    properties = {
        key: value for key, value in (("record", d.record), ("commit", d.commit)) if value
    }
    if properties:
        result["properties"] = properties
    return result


# --- gitlab

_GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def _gitlab_report(diagnostics: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    return [
        {
            "description": d.message,
            "check_name": d.rule,
            "fingerprint": fingerprint,
            "severity": _GITLAB_SEVERITY[d.severity],
            "location": {
                "path": d.path,
                "lines": {"begin": max(1, d.line), "end": max(1, d.line, d.end_line or 0)},
            },
        }
        for d, fingerprint in zip(diagnostics, fingerprints(diagnostics), strict=True)
    ]
