"""``crm.yaml``: finding the repository, reading its settings and rule levels.

The levels are data here: which rule ids exist, and what a rule's default is, is the
engine's to know (:mod:`crmfiles.rules.registry`), so reading a repository's records
depends on no rule."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from crmfiles.errors import CrmError
from crmfiles.records import BY_MONTH_DEFAULT, CONFIG_FILE, RECORD_FOLDERS
from crmfiles.records.yamlio import ParseError, parse

LEVELS = ("error", "warning", "off")
PEOPLE_FILE = "catalogs/people.yaml"


@dataclass(frozen=True)
class Config:
    currency: str = "EUR"
    name: str = ""
    layout: dict[str, str] = field(default_factory=dict)
    features: dict[str, bool] = field(default_factory=dict)
    people: str = "catalogs/people.yaml"
    me: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)  # rule id -> level, as written
    strict: bool = False  # lint: {extends: strict}: every rule not set is an error
    raw: dict[str, Any] = field(default_factory=dict)

    def layout_of(self, folder: str) -> str:
        return self.layout.get(folder, "by-month" if folder in BY_MONTH_DEFAULT else "flat")


def find_root(start: Path | None = None, explicit: str | None = None) -> Path:
    """The CRM repository: ``--repo DIR``, or walk up from ``start`` to ``crm.yaml``."""
    if explicit is not None:
        root = Path(explicit).expanduser()
        if not os.path.lexists(root / CONFIG_FILE):
            raise CrmError(
                f"'{explicit}' is not a CRM repository: it has no {CONFIG_FILE}",
                hint="run `crm init` there to make one",
            )
        return root.resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        # any crm.yaml marks the root, even one that cannot be read: reading it then
        # says what is wrong with it, instead of "not in a CRM repository"
        if os.path.lexists(candidate / CONFIG_FILE):
            return candidate
    raise CrmError(
        f"not in a CRM repository: no {CONFIG_FILE} here or in any parent folder",
        hint="cd into one, pass --repo DIR, or run `crm init` to make one",
    )


def find_revisions_root(explicit: str | None = None) -> Path:
    """The repository for a command that reads committed revisions only (``crm lint
    --head REV``, ``crm changes --head REV``): as :func:`find_root`, or a bare
    repository (``--repo`` or the current folder), whose revisions hold crm.yaml."""
    try:
        return find_root(explicit=explicit)
    except CrmError:
        import subprocess

        place = Path(explicit or ".").expanduser().resolve()
        proc = subprocess.run(
            ["git", "rev-parse", "--is-bare-repository"],
            cwd=place if place.is_dir() else None,
            capture_output=True,
            check=False,
        )
        if place.is_dir() and proc.returncode == 0 and proc.stdout.strip() == b"true":
            return place
        raise


def read_config_file(root: Path) -> bytes:
    """crm.yaml's bytes from the work tree, opened as every record is (never waiting
    on a FIFO, no symlink, at most a record's size); what is wrong is a CrmError."""
    from crmfiles.records.opener import Unreadable, read_regular

    try:
        return read_regular(root / CONFIG_FILE)
    except FileNotFoundError:
        missing_config()
    except Unreadable as exc:
        raise CrmError(f"{CONFIG_FILE}: {exc.why}") from None


def missing_config(path: str = CONFIG_FILE, refusal: str | None = None) -> NoReturn:
    if refusal:
        raise CrmError(f"{path}: {refusal}", hint="crm.yaml must be a small regular YAML file")
    raise CrmError(f"{path}: missing; a CRM repository has crm.yaml at its root")


def parse_config(content: bytes | None, path: str = CONFIG_FILE) -> Config:
    """Read crm.yaml's bytes; every problem is a :class:`CrmError` (exit 2)."""
    if content is None:
        missing_config(path)
    try:
        text = content.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise CrmError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    try:
        data = parse(text)
    except ParseError as err:
        where = f"{path}:{err.line}:{err.column}" if err.line else path
        raise CrmError(f"{where}: {err.message}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CrmError(f"{path}: must be a YAML mapping, not a {type(data).__name__}")
    from crmfiles.schema import explain, fast_validator

    if not fast_validator("crm").is_valid(data):
        problems = explain("crm", data)
        first = problems[0] if problems else None
        where = "/".join(map(str, first.pointer)) if first else ""
        raise CrmError(
            f"{path}: {where + ': ' if where else ''}{first.message if first else 'invalid'}"
        )
    people = str(data.get("people", PEOPLE_FILE))
    if people != PEOPLE_FILE:
        # every reader (lint's author rules, the TUI's "me", codeowners) takes people
        # from the catalog; a setting pointing elsewhere would be ignored silently
        raise CrmError(
            f"{path}: people: '{people}': the people catalog is {PEOPLE_FILE}",
            hint=f"move the file to {PEOPLE_FILE} and remove the setting",
        )
    return Config(
        currency=str(data.get("currency", "EUR")),
        name=str(data.get("name", "")),
        layout=_layout(data.get("layout")),
        features=dict(data.get("features") or {}),
        people=people,
        defaults=dict(data.get("defaults") or {}),
        me=data.get("me"),
        levels=_levels(data.get("lint") or {}, path),
        strict=(data.get("lint") or {}).get("extends") == "strict",
        raw=data,
    )


def _layout(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {folder: value for folder in RECORD_FOLDERS if folder != "views"}
    return dict(value or {})


def _levels(lint: dict[str, Any], path: str) -> dict[str, str]:
    """The levels as written; whether each id names a rule is checked by the engine
    (:func:`crmfiles.rules.registry.check_levels`)."""
    levels: dict[str, str] = {}
    for rule, level in (lint.get("rules") or {}).items():
        if level not in LEVELS:
            raise CrmError(f"{path}: lint.rules.{rule}: level must be error, warning or off")
        levels[rule] = level
    return levels


def use_color(stream: Any) -> bool:
    """Colour on a terminal that can show it: never with ``NO_COLOR``, always with
    ``FORCE_COLOR``, else when ``stream`` is a terminal and ``TERM`` is not ``dumb``
    (Emacs' shell, some CI logs) — the rules rich follows for our tables too."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())
