"""``crm demo``: the example repository in a scratch git repository with a plausible
history, so history, time in stage and drop-off have something to show.

The history is replayed from the records themselves: each opportunity is created at
its ``opened`` date in its kind's first stage and moved one stage at a time (by its
responsible person or a team member, on dates spread up to its close) to where the
example has it; every other record arrives on its own date.  One ``git fast-import``
stream writes all commits at once.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.errors import CrmError
from crmfiles.ops.init import write_files
from crmfiles.records import classify, iso_date
from crmfiles.records.edit import DELETE, set_fields
from crmfiles.records.yamlio import parse
from crmfiles.schema import data_dir

DATE_KEYS = ("opened", "created", "at", "date")


@dataclass
class Event:
    when: dt.datetime
    author: tuple[str, str]  # name, e-mail
    message: str
    files: dict[str, str]  # path -> content


def make_demo(target: Path | None = None) -> Path:
    root = Path(tempfile.mkdtemp(prefix="crm-demo-")) if target is None else target
    if target is not None:
        if any(root.iterdir()) if root.exists() else False:
            raise CrmError(f"{root} is not empty; give an empty or new folder")
        root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="crm-demo-src-"))
    try:
        written = write_files(scratch, data_dir("example-repo"))
        files = {rel: (scratch / rel).read_text("utf-8") for rel in written}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    from crmfiles.merge.setup import attributes_text

    files[".gitattributes"] = attributes_text("") or ""
    events = plan_history(files)
    git.run(["init", "-q"], root)
    git.run(["fast-import", "--quiet", "--done"], root, input=_stream(events))
    git.run(["symbolic-ref", "HEAD", "refs/heads/main"], root)
    git.run(["reset", "-q", "--hard", "main"], root)
    name, email = demo_identity(files)
    # the demo's own git identity: a salesperson of the example company, so a move made
    # in the demo is by someone crm knows (not author-not-allowed)
    git.run(["config", "user.name", name], root)
    git.run(["config", "user.email", email], root)
    from crmfiles.merge.setup import configure

    configure(root)  # record files merge field by field (the driver; .gitattributes is in)
    return root


def demo_identity(files: dict[str, str]) -> tuple[str, str]:
    """(name, e-mail) of crm.yaml's ``me`` when a salesperson, else the first
    salesperson of the people catalog."""
    config = _safe_parse(files.get("crm.yaml", ""))
    wanted = config.get("me") if isinstance(config, dict) else None
    people = _people(files)
    sales = [
        str(p["id"])
        for p in _catalog(files, "people")
        if "sales" in (p.get("roles") or []) and str(p.get("id")) in people
    ]
    chosen = wanted if wanted in sales else (sales[0] if sales else next(iter(people)))
    return people[str(chosen)]


def plan_history(files: dict[str, str]) -> list[Event]:
    people = _people(files)
    admin = next(iter(people.values()), ("crmfiles", "crm@example.com"))
    base: dict[str, str] = {}
    dated: list[Event] = []
    first_date = dt.date(2099, 1, 1)
    for path, text in files.items():
        place = classify(path)
        data = _safe_parse(text)
        if place is None or place.kind != "record" or not isinstance(data, dict):
            base[path] = text
            continue
        day = _firstiso_date(data)
        if day is None or place.name in ("partners", "contacts", "views"):
            base[path] = text
            continue
        first_date = min(first_date, day)
        who = people.get(str(data.get("responsible") or data.get("assignee")), admin)
        if place.name == "opportunities":
            dated.extend(_opportunity_events(path, text, data, day, files, people, admin))
        else:
            dated.append(Event(_at(day, path), who, f"crm: new {place.id}", {path: text}))
    start = (first_date if first_date.year < 2099 else dt.date.today()) - dt.timedelta(days=7)
    dated.extend(_retirements(base, dated, admin))
    events = [Event(_at(start, "init"), admin, "crm: init", base)]
    events.extend(sorted(dated, key=lambda e: e.when))
    return events


def _retirements(base: dict[str, str], dated: list[Event], admin: tuple[str, str]) -> list[Event]:
    """A kind that is no longer allowed was allowed when its opportunities were opened:
    the history starts with it allowed and retires it after the last one."""
    path = "catalogs/kinds.yaml"
    text = base.get(path, "")
    retired = [k.get("id") for k in _catalog(base, "kinds") if k.get("allowed") is False]
    if not retired:
        return []
    base[path] = text.replace("allowed: false", "allowed: true")
    last = max(
        (
            e.when
            for e in dated
            for p, content in e.files.items()
            if p.startswith("opportunities/") and any(f"kind: {k}" in content for k in retired)
        ),
        default=None,
    )
    if last is None:
        return []
    when = last + dt.timedelta(days=30)
    message = f"Retire kind {', '.join(map(str, retired))}: no new opportunities of it"
    return [Event(when, admin, message, {path: text})]


def _opportunity_events(
    path: str,
    text: str,
    data: dict[str, Any],
    opened: dt.date,
    files: dict[str, str],
    people: dict[str, tuple[str, str]],
    admin: tuple[str, str],
) -> list[Event]:
    rng = random.Random(path)
    kinds = {k.get("id"): k for k in _catalog(files, "kinds")}
    probabilities = {s.get("id"): s.get("probability") for s in _catalog(files, "stages")}
    kind = kinds.get(data.get("kind"), {})
    stages = list(kind.get("stages") or [])
    owner = people.get(str(data.get("responsible")), admin)
    team = [people[p] for p in data.get("team") or [] if p in people] or [owner]
    record_id = path.rsplit("/", 1)[-1].removesuffix(".yaml")
    status = data.get("status")
    end = iso_date(data.get("closed_on")) or min(dt.date.today(), opened + dt.timedelta(days=150))
    if end <= opened:
        end = opened + dt.timedelta(days=rng.randint(5, 40))
    stage = data.get("stage")
    reached = stages.index(stage) if stage in stages else 0
    span = max((end - opened).days, reached + 2)
    # stage moves spread over the life of the deal; a close happens on closed_on
    days = sorted(rng.sample(range(1, span), reached))
    events: list[Event] = []
    opening = {
        "status": "in_progress",
        "closed": DELETE,
        "closed_on": DELETE,
        "loss_reason": DELETE,
        "loss_comment": DELETE,
    }
    if stages:
        opening |= {"stage": stages[0], "probability": probabilities.get(stages[0], 10)}
    elif "probability" in data and status != "in_progress":
        opening["probability"] = 50
    events.append(
        Event(_at(opened, path), owner, f"crm: new {record_id}", {path: set_fields(text, opening)})
    )
    for step in range(1, reached + 1):
        old, new = stages[step - 1], stages[step]
        when = _at(opened + dt.timedelta(days=days[step - 1]), f"{path}{step}")
        content = set_fields(
            text, {**opening, "stage": new, "probability": probabilities.get(new, 50)}
        )
        message = (
            f"crm: move {record_id} {old} -> {new}\n\nCrm-Record: {path}\n"
            f"Crm-Stage-From: {old}\nCrm-Stage-To: {new}"
        )
        events.append(Event(when, rng.choice(team), message, {path: content}))
    if status in ("won", "lost"):
        when = _at(opened + dt.timedelta(days=span), f"{path}close")
        verb = "win" if status == "won" else "lose"
        message = f"crm: {verb} {record_id}\n\nCrm-Record: {path}\nCrm-Status: {status}"
        events.append(Event(when, owner, message, {path: text}))
    elif events[-1].files[path] != text:
        # a hand edit (a probability set by feel, a new amount) some days after the last move
        last = events[-1].when.date()
        day = min(dt.date.today(), last + dt.timedelta(days=rng.randint(1, 21)))
        when = _at(max(day, last), f"{path}edit")
        events.append(Event(when, owner, f"Update {record_id}", {path: text}))
    return events


def _stream(events: list[Event]) -> bytes:
    chunks: list[bytes] = []
    for mark, event in enumerate(events, start=1):
        name, email = event.author
        stamp = f"{int(event.when.timestamp())} +0000"
        message = (event.message + "\n").encode()
        chunks.append(
            f"commit refs/heads/main\nmark :{mark}\n"
            f"author {name} <{email}> {stamp}\n"
            f"committer {name} <{email}> {stamp}\n"
            f"data {len(message)}\n".encode()
            + message
        )
        if mark > 1:
            chunks.append(f"from :{mark - 1}\n".encode())
        for path, content in sorted(event.files.items()):
            blob = content.encode()
            chunks.append(f"M 100644 inline {path}\ndata {len(blob)}\n".encode() + blob + b"\n")
        chunks.append(b"\n")
    chunks.append(b"done\n")
    return b"".join(chunks)


def _people(files: dict[str, str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for person in _catalog(files, "people"):
        emails = person.get("emails") or []
        if person.get("id") and emails:
            out[str(person["id"])] = (str(person.get("name", person["id"])), str(emails[0]))
    return out


def _catalog(files: dict[str, str], name: str) -> list[dict[str, Any]]:
    data = _safe_parse(files.get(f"catalogs/{name}.yaml", ""))
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def _safe_parse(text: str) -> Any:
    try:
        return parse(text)
    except Exception:
        return None


def _firstiso_date(data: dict[str, Any]) -> dt.date | None:
    for key in DATE_KEYS:
        day = iso_date(data.get(key))
        if day:
            return day
    return None


def _at(day: dt.date, salt: str) -> dt.datetime:
    """A working-hours time on ``day``, the same for the same record every run."""
    rng = random.Random(salt)
    return dt.datetime(
        day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), tzinfo=dt.UTC
    )
