"""``crm blame ID``: for every field of a record, who last changed it, when, in which
commit, and what it was before.

The record's file is found at HEAD (an opportunity through the history cache, which
knows every path it had; another record by its folder's listing), its versions come
from one ``git log --follow`` of that file, their texts from one ``git cat-file``, and
each top-level field's last change is the newest version whose value differs from
the version before.  Only committed versions count: blame is of HEAD.  The versions
are kept per file (``.git/crm/blame/``) with the HEAD they were read at, so a warm run
asks git only for the commits since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.errors import CrmError
from crmfiles.records import RECORD_FOLDERS, classify
from crmfiles.records.yamlio import ParseError, parse

ABSENT: Any = object()  # a field the version before did not have


@dataclass(frozen=True)
class Change:
    commit: str
    author: str
    email: str
    date: dt.datetime
    subject: str


@dataclass(frozen=True)
class FieldBlame:
    field: str
    value: Any
    change: Change
    previous: Any  # ABSENT: the field came with this change (or the record did)

    @property
    def added(self) -> bool:
        return self.previous is ABSENT


@dataclass(frozen=True)
class Blame:
    id: str
    path: str
    fields: list[FieldBlame]
    versions: int


def _paths_of_opportunity(root: Path, record_id: str) -> list[str]:
    from crmfiles.history import load_record
    from crmfiles.history.model import V_PATH

    history = load_record(root, record_id)
    versions = history.timelines.get(record_id, [])
    return list(dict.fromkeys(v[V_PATH] for v in reversed(versions)))


def locate(root: Path, wanted: str) -> str:
    """The path at HEAD of the record ``wanted`` (an ID, TYPE/ID or a file path)."""
    if not git.has_commits(root):
        raise CrmError("no commits yet: blame reads the committed history")
    if wanted.endswith((".yaml", ".yml")):
        place = classify(wanted)
        if place is None or place.kind != "record":
            raise CrmError(f"'{wanted}' is not the path of a record")
        folder, record_id = place.name, place.id
    else:
        folder, _, record_id = wanted.rpartition("/")
        if folder and folder not in RECORD_FOLDERS:
            raise CrmError(
                f"unknown record type '{folder}'", hint=f"one of: {', '.join(RECORD_FOLDERS)}"
            )
    # opportunities last: the largest folder, and the history cache knows them
    folders = [folder] if folder else sorted(RECORD_FOLDERS, key=lambda f: f == "opportunities")
    found: list[str] = []
    if "opportunities" in folders:
        # the history cache knows the opportunity's paths: no listing of 100,000 files
        candidates = _paths_of_opportunity(root, record_id)
        if candidates:
            found = [e.path for e in git.ls_tree("HEAD", root, candidates)]
    for listed in [] if found else folders:
        for entry in git.ls_tree("HEAD", root, [listed]):
            place = classify(entry.path)
            if place is not None and place.kind == "record" and place.id == record_id:
                found.append(entry.path)
        if found:
            break  # (the same id in two folders: TYPE/ID says which)
    if not found:
        raise CrmError(
            f"no record with id '{record_id}' at HEAD" + (f" in {folder}/" if folder else ""),
            hint="`crm list` shows the ids; a new record has a history once it is committed",
        )
    if len(set(found)) > 1:
        raise CrmError(f"'{record_id}' names several records: {', '.join(sorted(set(found)))}")
    return found[0]


Version = tuple[Change, "str | None"]


def _log(root: Path, path: str, since: str | None = None) -> list[Version]:
    """The file's versions, oldest first: each commit and the blob it left (None:
    the file deleted), following renames; only those after ``since`` when given."""
    raw = git.run(
        [
            "log",
            "--follow",
            # children before parents even when a merge brings commits of one second
            # (the default date order may then list a parent first)
            "--topo-order",
            "-z",
            "--raw",
            "--no-abbrev",
            "--format=%x01%H%x02%an%x02%ae%x02%aI%x02%s",
            f"{since}..HEAD" if since else "HEAD",
            "--",
            path,
        ],
        root,
    ).stdout.decode("utf-8", "surrogateescape")
    versions: list[Version] = []
    for chunk in raw.split("\x01")[1:]:
        head, _, rest = chunk.partition("\n")
        commit, name, email, date, subject = (head.split("\x02") + [""] * 5)[:5]
        blob = None
        fields = rest.lstrip("\n").split("\x00")
        if fields and fields[0].startswith(":"):
            meta = fields[0].split()
            blob = None if meta[4].startswith("D") else meta[3]
        change = Change(commit, name, email, dt.datetime.fromisoformat(date), subject)
        versions.append((change, blob))
    versions.reverse()
    return versions


def _cache_file(root: Path, path: str) -> Path:
    from crmfiles.history.build import _locate
    from crmfiles.history.store import cache_path

    key = hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()
    return cache_path(_locate(root)[0]).parent / "blame" / f"{key}.json"


def versions_of(root: Path, path: str) -> list[Version]:
    """The file's versions up to HEAD: from the cache of an earlier HEAD plus the
    commits since (a warm run walks only those), or from the whole log."""
    head = git.resolve("HEAD", root)
    cache = _cache_file(root, path)
    cached: dict[str, Any] | None = None
    try:
        cached = json.loads(cache.read_text("utf-8"))
    except (OSError, ValueError):
        cached = None
    versions: list[Version] | None = None
    if isinstance(cached, dict) and cached.get("path") == path and cached.get("v") == 1:
        old = [
            (Change(c, n, e, dt.datetime.fromisoformat(d), s), b)
            for c, n, e, d, s, b in cached.get("versions", [])
        ]
        since = str(cached.get("head"))
        if since == head:
            return old
        ancestor = git.run(["merge-base", "--is-ancestor", since, head], root, check=False)
        if ancestor.returncode == 0:
            versions = old + _log(root, path, since)
    if versions is None:
        versions = _log(root, path)
    payload = {
        "v": 1,
        "head": head,
        "path": path,
        "versions": [
            [c.commit, c.author, c.email, c.date.isoformat(), c.subject, b] for c, b in versions
        ],
    }
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temp = cache.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps(payload), "utf-8")
        os.replace(temp, cache)
    except OSError:
        pass  # a cache that cannot be written only costs the next run time
    return versions


def _data(content: bytes | None) -> dict[str, Any] | None:
    if content is None:
        return None
    try:
        data = parse(content.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, ParseError):
        return None
    return data if isinstance(data, dict) else None


def show(value: Any, limit: int | None = None) -> str:
    """A value on one line: scalars as written, lists and mappings as JSON."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def blame(root: Path, wanted: str) -> Blame:
    path = locate(root, wanted)
    versions = versions_of(root, path)
    blobs = sorted({b for _, b in versions if b})
    contents = dict(git.cat_blobs(blobs, root))
    last: dict[str, FieldBlame] = {}
    before: dict[str, Any] = {}
    for change, blob in versions:
        data = _data(contents.get(blob)) if blob else {}
        if data is None:
            continue  # a version that was not a readable record: skipped, not blamed
        for key, value in data.items():
            old = before.get(key, ABSENT)
            if old is ABSENT or old != value:
                last[key] = FieldBlame(str(key), value, change, old)
        for key in set(before) - set(data):
            last.pop(key, None)
        before = data
    place = classify(path)
    record_id = place.id if place is not None else wanted
    order = list(before)
    return Blame(record_id, path, [last[k] for k in order if k in last], len(versions))
