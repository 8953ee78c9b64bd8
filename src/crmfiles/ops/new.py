"""New records: ``crm new``, and the records other operations create (tasks from a
stage's templates, the parties of a qualified lead).

A new record gets what a person would otherwise type every time: an id from its name
(made unique), today's date, the first stage of its kind with that stage's
probability, the base currency, and the person working as responsible (the one whose
e-mail git records as the author).  It is placed by crm.yaml's layout.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan, branch_for, subject
from crmfiles.ops.init import SCHEMA_COMMENT, with_schema_comment
from crmfiles.ops.near_names import near_duplicates
from crmfiles.ops.runner import operation
from crmfiles.ops.workspace import RecordFile, Workspace, check_id, slug
from crmfiles.ops.yamltext import dump, plain
from crmfiles.records import RECORD_FOLDERS
from crmfiles.records.yamlio import ParseError, parse
from crmfiles.schema import all_schemas

CREATABLE = ("opportunities", "partners", "contacts", "leads", "interactions", "tasks")
NAME_KEYS = {"tasks": "title", "interactions": "subject"}  # else "name"


def folder_of(record_type: str) -> str:
    """``opportunity`` or ``opportunities`` -> ``opportunities``."""
    if record_type in RECORD_FOLDERS:
        return record_type
    for folder, name in RECORD_FOLDERS.items():
        if name == record_type:
            return folder
    raise CrmError(
        f"unknown record type '{record_type}'",
        hint=f"one of: {', '.join(RECORD_FOLDERS[f] for f in CREATABLE)}",
    )


def field_order(folder: str) -> list[str]:
    """The order a record's fields are written in: the schema's."""
    return list(all_schemas()[RECORD_FOLDERS[folder]].get("properties", {}))


def ordered(folder: str, data: Mapping[str, Any]) -> dict[str, Any]:
    order = {key: n for n, key in enumerate(field_order(folder))}
    keys = sorted(data, key=lambda k: (order.get(k, len(order)), list(data).index(k)))
    return {k: plain(data[k]) for k in keys if data[k] is not None}


def default_kind(ws: Workspace, wanted: str | None) -> tuple[str, dict[str, Any]]:
    kinds = ws.catalog("kinds")
    if wanted is not None:
        if wanted not in kinds:
            raise CrmError(
                f"unknown kind '{wanted}'", hint=f"one of: {', '.join(sorted(kinds)) or '(none)'}"
            )
        return wanted, kinds[wanted]
    configured = ws.config.defaults.get("kind")
    if isinstance(configured, str) and configured in kinds:
        return configured, kinds[configured]
    allowed = [k for k, v in kinds.items() if v.get("allowed") is not False]
    if len(allowed) != 1:
        raise CrmError(
            "which kind of opportunity?",
            hint=f"pass --kind (or set defaults.kind in crm.yaml), one of: "
            f"{', '.join(allowed) or '(none in catalogs/kinds.yaml)'}",
        )
    return allowed[0], kinds[allowed[0]]


def stages_of(kind: Mapping[str, Any]) -> list[str]:
    stages = kind.get("stages")
    return [str(s) for s in stages] if isinstance(stages, list) else []


def stage_probability(ws: Workspace, stage: Any) -> int | None:
    entry = ws.catalog("stages").get(str(stage)) if stage is not None else None
    value = entry.get("probability") if entry else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def with_defaults(ws: Workspace, folder: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a person gave, and the defaults for the rest."""
    today = ws.today.isoformat()
    given = prefilled(ws, folder, fields)
    out: dict[str, Any] = {}
    if folder == "opportunities":
        kind_id, kind = default_kind(ws, given.get("kind"))
        stages = stages_of(kind)
        stage = given.get("stage", stages[0] if stages else None)
        responsible = given.get("responsible", ws.me)
        if responsible is None:
            raise CrmError(
                "who is responsible for it?",
                hint=f"pass --responsible, or add your git e-mail ({ws.author_email or 'unset'}) "
                "to catalogs/people.yaml",
            )
        out = {
            "kind": kind_id,
            "stage": stage,
            "status": "in_progress",
            "responsible": responsible,
            "probability": stage_probability(ws, stage),
            "currency": ws.config.currency,
            "opened": today,
        }
    elif folder == "partners":
        out = {"roles": ["prospect"], "responsible": ws.me, "opened": today}
    elif folder == "contacts":
        out = {"opened": today}
    elif folder == "leads":
        out = {"status": "new", "responsible": ws.me, "created": today}
    elif folder == "interactions":
        out = {"type": "note", "at": today, "responsible": ws.me}
    elif folder == "tasks":
        out = {"assignee": ws.me, "created": today}
    out.update(given)
    return out


def prefilled(ws: Workspace, folder: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields given, with what the record they come from says where nobody gave
    it: an interaction or a task about an opportunity takes its partner and contacts;
    an opportunity from an interaction (``origin: {type: interaction}``) takes the
    interaction's partner, contacts and subject as its name."""
    given = dict(fields)
    source: dict[str, Any] | None = None
    if folder == "interactions" and isinstance(given.get("opportunity"), str):
        source = ws.find(given["opportunity"], ("opportunities",)).data
    elif folder == "tasks":
        subject = given.get("subject")
        if not isinstance(subject, dict) or subject.get("type") != "opportunity":
            return given
        if "assignee" not in given:
            # (an opportunity being created with its stage's tasks is not on disk yet:
            # those tasks name their assignee)
            opportunity = ws.find(str(subject.get("id")), ("opportunities",)).data
            given["assignee"] = opportunity.get("responsible") or ws.me
        return given
    elif folder == "opportunities":
        origin = given.get("origin")
        if isinstance(origin, dict) and origin.get("type") == "interaction":
            source = ws.find(str(origin.get("id")), ("interactions",)).data
            if isinstance(source.get("subject"), str):
                given.setdefault("name", source["subject"])
    if source is not None:
        for key in ("partner", "contacts"):
            if source.get(key) is not None:
                given.setdefault(key, source[key])
    return given


def new_id(ws: Workspace, folder: str, data: Mapping[str, Any], taken: set[str]) -> str:
    given = data.get("id")
    if given is not None:
        record_id = str(given)
        check_id(folder, record_id)
        if ws.exists(folder, record_id) or record_id in taken:
            raise CrmError(
                f"{RECORD_FOLDERS[folder]} '{record_id}' already exists",
                hint="give another --id, or leave it out for one made from the name",
            )
        return record_id
    name = data.get(NAME_KEYS.get(folder, "name"))
    if not isinstance(name, str) or not name.strip():
        if folder == "interactions":
            name = f"{data.get('type', 'interaction')} {data.get('at', ws.today.isoformat())}"
        else:
            raise CrmError(
                f"a new {RECORD_FOLDERS[folder]} needs a {NAME_KEYS.get(folder, 'name')}",
                hint=f"pass --{NAME_KEYS.get(folder, 'name')} (and --id to choose its id)",
            )
    return ws.unique_id(folder, slug(str(name)), taken)


def new_record(
    ws: Workspace, folder: str, fields: Mapping[str, Any], taken: set[str] | None = None
) -> RecordFile:
    """A new record with its defaults, id and place, not written anywhere yet."""
    taken = taken if taken is not None else set()
    data = with_defaults(ws, folder, fields)
    record_id = new_id(ws, folder, data, taken)
    taken.add(record_id)
    data = ordered(folder, {"id": record_id, **{k: v for k, v in data.items() if k != "id"}})
    path = ws.place(folder, record_id, data)
    return RecordFile(folder, record_id, path, dump(path, data), data)


def plan_create(
    ws: Workspace,
    folder: str,
    fields: Mapping[str, Any],
) -> Plan:
    """``crm new``: a record from its fields and the defaults."""
    folder = folder_of(folder)
    record = new_record(ws, folder, fields)
    return _plan(ws, record)


create = operation(plan_create)


def template(root: Path, folder: str, fields: Mapping[str, Any]) -> RecordFile:
    """What ``crm new --edit`` opens in the editor: the record :func:`create` would
    write, its required fields still missing where nobody gave them."""
    return new_record(Workspace(root), folder_of(folder), fields)


def plan_create_text(
    ws: Workspace,
    folder: str,
    text: str,
    *,
    fallback_id: str,
) -> Plan:
    """A new record from its whole text (``crm new --edit``), placed by its ``id`` (or
    ``fallback_id`` when it has none fit for a file name: the check then says why)."""
    folder = folder_of(folder)
    try:
        data = parse(text)
    except ParseError:
        data = None
    data = data if isinstance(data, dict) else {}
    record_id = str(data.get("id", ""))
    if not _usable_id(record_id):
        record_id = fallback_id
    if ws.exists(folder, record_id):
        raise CrmError(f"{RECORD_FOLDERS[folder]} '{record_id}' already exists")
    path = ws.place(folder, record_id, data)
    if text.startswith(SCHEMA_COMMENT):  # the one for where the record goes
        text = text.split("\n", 1)[1] if "\n" in text else ""
    text = with_schema_comment(path, text)
    record = RecordFile(folder, record_id, path, text, data)
    return _plan(ws, record)


create_text = operation(plan_create_text)


def _usable_id(record_id: str) -> bool:
    from crmfiles.records import is_valid_id

    return is_valid_id(record_id)


def _plan(ws: Workspace, record: RecordFile) -> Plan:
    kind = RECORD_FOLDERS[record.folder]
    trailers = [("Crm-Record", record.path)]
    stage = record.data.get("stage") if record.folder == "opportunities" else None
    if stage:
        trailers.append(("Crm-Stage-To", str(stage)))
    plan = Plan(
        verb="new",
        record=record.id,
        texts={record.path: record.text},
        created=[record.path],
        subject=subject("new", kind, record.id),
        trailers=trailers,
        branch=branch_for(record.id, "new"),
        summary=f"created {kind} {record.id} ({record.path})",
    )
    plan.warnings = near_duplicates(ws, record)  # a partner named almost like another
    return with_entry_tasks(ws, plan, record)


def with_entry_tasks(ws: Workspace, plan: Plan, opportunity: RecordFile) -> Plan:
    """``plan`` with the tasks the templates of the opportunity's stage make: an
    opportunity entering a stage by any operation (created, moved, duplicated,
    qualified, reopened) gets them; an import does not."""
    stage = opportunity.data.get("stage") if opportunity.folder == "opportunities" else None
    if not isinstance(stage, str):
        return plan
    tasks = stage_tasks(ws, opportunity, stage, set())
    if not tasks:
        return plan
    return dataclasses.replace(
        plan,
        texts={**plan.texts, **{t.path: t.text for t in tasks}},
        created=[*plan.created, *(t.path for t in tasks)],
        notes=[*plan.notes, *(f"  created task {t.path}: {t.data.get('title')}" for t in tasks)],
    )


def stage_tasks(
    ws: Workspace, opportunity: RecordFile, stage: str, taken: set[str]
) -> list[RecordFile]:
    """The tasks a stage's templates make for an opportunity entering it: assigned to
    its responsible person, due so many days from today."""
    entry = ws.catalog("stages").get(stage) or {}
    templates = entry.get("tasks")
    out = []
    for template_entry in templates if isinstance(templates, list) else []:
        if not isinstance(template_entry, dict) or not isinstance(template_entry.get("title"), str):
            continue
        due_days = template_entry.get("due_days")
        due = (
            (ws.today + dt.timedelta(days=due_days)).isoformat()
            if isinstance(due_days, int) and not isinstance(due_days, bool)
            else None
        )
        fields = {
            "id": ws.unique_id(
                "tasks", slug(f"{opportunity.id} {template_entry['title']}", 80), taken
            ),
            "title": template_entry["title"],
            "assignee": opportunity.data.get("responsible"),
            "due": due,
            "importance": template_entry.get("importance"),
            "instructions": template_entry.get("instructions"),
            "subject": {"type": "opportunity", "id": opportunity.id},
            "created": ws.today.isoformat(),
        }
        out.append(
            new_record(ws, "tasks", {k: v for k, v in fields.items() if v is not None}, taken)
        )
    return out
