"""The one diagnostic type shared by `crm validate`, `crm lint` and the operations.

Rules never compute line numbers: they yield :class:`Finding` values that point at a
value by its path inside the record (a JSON-pointer-like tuple).  The engine resolves
each finding to a :class:`Diagnostic` with file, line and column in the checked
revision, composing the YAML only for the few files that have findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

Pointer = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule reports, before it has a line and column.

    ``pointer`` addresses the offending value inside the file's YAML document;
    ``()`` means the record as a whole (reported at the record's first line).
    ``at_key`` points at the mapping key instead of its value (for unknown or
    misplaced fields).  ``line``/``column`` may be given directly by rules that know
    them already (YAML syntax errors, conflict markers).
    """

    rule: str
    path: str
    message: str
    pointer: Pointer = ()
    hint: str | None = None
    at_key: bool = False
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    record: str | None = None
    # other files the finding is about (the first record holding a duplicated name):
    # `check(only=...)` keeps a finding that concerns one of them too
    related: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding with its place in the head revision and its configured severity.

    Lines and columns are 1-based; ``end_line``/``end_column`` are exclusive of the
    last character plus one (the span a caret underline covers).
    """

    path: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    hint: str | None = None
    end_line: int | None = None
    end_column: int | None = None
    record: str | None = None
    commit: str | None = None
    excerpt: tuple[tuple[int, str], ...] = field(default=(), compare=False)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"
