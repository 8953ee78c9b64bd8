"""The readers that read facts instead of whole folders (``crm show``'s references and
what refers to a record, the lists of every type but opportunities, ``crm
codeowners``) answer exactly what the plain path answers: every folder read whole,
each file parsed. Held to it on a copy of the example company through edits, staged
changes, commits, deletions, unreadable files and catalog changes, in the work tree,
the index and the last commit."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import commit_all, git, write
from test_list_table import crm

from crmfiles import notices
from crmfiles.cli import list_output, show
from crmfiles.errors import CrmError
from crmfiles.ops.codeowners import build
from crmfiles.records import RECORD_FOLDERS, Record
from crmfiles.records import facts_cache as facts_cache_module
from crmfiles.records.facts_cache import read_tables
from crmfiles.records.facts_file import FactsCache
from crmfiles.records.gitsources import Index, Revision
from crmfiles.records.store import Repository
from crmfiles.records.worktree import WorkTree
from crmfiles.reports.context import KINDS
from crmfiles.reports.lists import item_listing
from crmfiles.reports.record import dossier

EXAMPLE = Path(__file__).resolve().parents[1] / "example-repo"
DEAL = "mueller-logistik-e25-fleet"
# records whose pages follow every kind of reference: a deal with quotes, orders and
# invoices, its partner and contacts, a lead, a quote revised, an order invoiced
SHOWN = [
    DEAL,
    "vitalis-pharma-e16-fleet",
    "domaine-castel-roux-chariot",
    "partners/mueller-logistik",
    "partners/vitalis-pharma",
    "contacts/jan-mueller",
    "contacts/dirk-hansen",
    "q-2026-0002",
    "q-2026-0014",
    "ord-2026-0001",
    "inv-2026-0031",
]


@pytest.fixture
def company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example company, committed, in a repository of its own."""
    root = tmp_path / "crm"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".git"))
    git(root, "init", "-q")
    commit_all(root, "the example company")
    monkeypatch.chdir(root)
    monkeypatch.setenv("COLUMNS", "140")
    return root


def whole(repo: Repository) -> Repository:
    """The plain path: every folder read whole before the question."""
    for folder in RECORD_FOLDERS:
        repo.records(folder)
    return repo


def page(repo: Repository, record_id: str, record: Record | None = None) -> tuple[Any, ...]:
    """What ``crm show`` shows of a record (found by ``repo``, unless given): its page
    as text, and the JSON's computed values with the paths and data of every record
    it lists."""
    record = record or repo.get(record_id)
    shown = dossier(repo, record)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        show._print(shown)
    related = {k: [(r.path, r.data) for r in v] for k, v in shown.related.items()}
    return out.getvalue(), shown.computed(), related


# every list with its default columns, and some with names, filters and sorts
LISTS: list[tuple[str, dict[str, Any], list[str], list[str] | None]] = [
    *((folder, {}, [], None) for folder in KINDS),
    ("contacts", {"partner": ["mueller-logistik"]}, ["-name"], None),
    ("contacts", {}, [], ["id", "partner_name", "responsible_name", "tags"]),
    ("tasks", {"open": True}, ["due"], ["id", "state", "subject_type", "assignee_name"]),
    ("interactions", {"opportunity": [DEAL]}, [], None),
    ("partners", {"role": ["customer"]}, ["country"], None),
    ("leads", {"status": ["new"]}, [], ["id", "company", "responsible_name"]),
]


def listed(repo: Repository, folder: str, filters: Any, sort: list[str], columns: Any) -> Any:
    result = item_listing(repo, folder, filters, sort, columns)
    return (
        [result.column(c) for c in result.columns],
        result.left_out,
        list_output.table_text(folder, result, 140),
        list_output.json_text(folder, result),
    )


def assert_as_plain(root: Path) -> None:
    """Each reader's answer is the plain path's, and it warns of no file the plain
    read does not (a list: of the same files of its folder)."""
    for source in (WorkTree(root), Index(root), Revision(root, "HEAD")):
        fast = Repository(root, source)
        plain, warned = _answer(whole, Repository(root, source))
        for record_id in SHOWN:
            # (the record as the plain read has it: outside the work tree, get reads
            # the folders whole)
            try:
                record = plain.get(record_id)
            except CrmError:
                continue  # (deleted)
            here, said = _answer(lambda repo, r=record_id, x=record: page(repo, r, x), fast)
            assert here == page(plain, record_id, record), f"{source.label}: show {record_id}"
            assert set(said) <= set(warned), f"{source.label}: show {record_id}"
        assert not fast._folders, "a page read a folder whole"
        for folder, filters, sort, columns in LISTS:
            asked, fast = (folder, filters, sort, columns), Repository(root, source)
            here, said = _answer(lambda repo, x=asked: listed(repo, *x), fast)
            # (a list of documents reads its own folder whole: their lines' money)
            whole_ones = {folder} if KINDS[folder].money else set()
            assert set(fast._folders) <= whole_ones, f"list {folder} read a folder whole"
            what = f"{source.label}: list {folder} {filters}"
            assert here == listed(plain, folder, filters, sort, columns), what
            mine = {w for w in warned if w.startswith(f"{folder}/")}
            assert mine <= set(said) <= set(warned), what
        owners = _answer(build, Repository(root, source))[0]
        assert owners == build(plain), f"{source.label}: codeowners"


def _answer(ask: Callable[[Repository], Any], repo: Repository) -> tuple[Any, list[str]]:
    """An answer, or the error it gives, and the warnings beside it."""
    notices.drain()
    try:
        answer = ask(repo)
    except Exception as exc:  # (an error is an answer to compare too)
        answer = (type(exc).__name__, str(exc))
    said = sorted(set(notices.drain()))  # (the order files are read in is the path's)
    return answer, said


def test_pages_lists_and_codeowners_are_those_of_a_plain_read(
    company: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_cache_module, "SAVE_THRESHOLD", 0)  # every read saves its tree
    root = company
    mended = "id: broken\nname: Mended\npartner: mueller-logistik\n"
    steps: list[tuple[str, Callable[[], object]]] = [
        ("warm", lambda: None),
        ("a contact renamed", lambda: _edit(root, JAN, "Jan Müller", "J. M")),
        ("staged", lambda: git(root, "add", "-A")),
        ("a task moves to another deal", lambda: _retarget_task(root)),
        ("committed", lambda: commit_all(root, "edits")),
        ("an interaction deleted", lambda: _delete(root, "interactions", DEAL)),
        ("a partner deleted", lambda: (root / "partners/vitalis-pharma.yaml").unlink()),
        ("an order's deal dropped", lambda: _edit(root, ORDER, f"opportunity: {VITALIS}\n", "")),
        ("a contact that is no YAML", lambda: write(root, {BROKEN: "id: [broken\n"})),
        ("a task that is no mapping", lambda: write(root, {"tasks/2026/11/odd.yaml": "- a\n"})),
        ("committed again", lambda: commit_all(root, "more")),
        ("a person renamed", lambda: _edit(root, "catalogs/people.yaml", "Anna Becker", "A. B.")),
        ("a product's price", lambda: _edit(root, "catalogs/products.yaml", "36900", "37900")),
        ("a new contact (.yml)", lambda: write(root, {"contacts/new-one.yml": NEW_CONTACT})),
        ("the broken one mended", lambda: write(root, {BROKEN: mended})),
        ("staged", lambda: git(root, "add", "-A")),
        ("reset", lambda: git(root, "reset", "-q", "--hard", "HEAD~1")),
    ]  # fmt: skip
    for what, step in steps:
        step()
        try:
            assert_as_plain(root)
        except AssertionError as exc:
            raise AssertionError(f"after {what}: {exc}") from None


JAN = "contacts/jan-mueller.yaml"
ORDER = "orders/ord-2026-0001.yaml"
VITALIS = "vitalis-pharma-e16-fleet"
BROKEN = "contacts/broken.yaml"
NEW_CONTACT = "id: new-one\nname: New One\npartner: mueller-logistik\n"


def _edit(root: Path, path: str, old: str, new: str) -> None:
    text = (root / path).read_text("utf-8")
    assert old in text, f"{path} has no {old!r}"
    (root / path).write_text(text.replace(old, new), encoding="utf-8")


def _delete(root: Path, folder: str, naming: str) -> None:
    """The first record of ``folder`` whose file names ``naming``."""
    path = next(p for p in sorted((root / folder).rglob("*.yaml")) if naming in p.read_text())
    path.unlink()


def _retarget_task(root: Path) -> None:
    path = next(p for p in sorted((root / "tasks").rglob("*.yaml")) if "castel-roux" in p.name)
    text = path.read_text("utf-8").replace("domaine-castel-roux-chariot", DEAL)
    path.write_text(text, encoding="utf-8")


def test_the_command_shows_what_the_plain_read_shows(company: Path) -> None:
    done = crm(company, "show", DEAL, columns=140)
    assert done.returncode == 0, done.stderr
    plain = whole(Repository(company))
    record = plain.get(DEAL)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        show._print(dossier(plain, record, show._days(plain, record)))
    assert done.stdout == out.getvalue()
    assert "Quotes (2)" in done.stdout and "Jan Müller (jan-mueller)" in done.stdout
    as_json = json.loads(crm(company, "show", DEAL, "--format", "json").stdout)
    assert as_json["computed"]["related"]["quotes"] == ["q-2026-0014", "q-2026-0017"]


def test_a_list_of_facts_says_which_files_it_left_out(company: Path) -> None:
    write(company, {"contacts/broken.yaml": "id: x\nname: 'a \x01 control'\n"})
    commit_all(company, "a broken contact")
    for _ in range(2):  # cold, then from the cache (the broken file is read again)
        done = crm(company, "list", "contacts", columns=200)
        assert done.returncode == 0
        assert done.stderr.startswith(
            "crm: warning: contacts/broken.yaml:2: character U+0001 is not allowed in YAML; "
            "left out of this answer"
        )
        payload = json.loads(crm(company, "list", "contacts", "--format", "json").stdout)
        assert payload["totals"]["left_out"] == ["contacts/broken.yaml"]
    write(company, {"contacts/broken.yaml": "id: broken\nname: Mended\n"})
    done = crm(company, "list", "contacts", "--format", "json")
    assert done.stderr == "" and "left_out" not in json.loads(done.stdout)["totals"]
    assert "Mended" in done.stdout


def test_a_reader_of_a_few_folders_reads_them_alone(company: Path) -> None:
    tables = read_tables(WorkTree(company), folders=["tasks", "quotes"])
    assert sorted(tables) == ["quotes", "tasks"]
    store = FactsCache.for_root(company)
    assert store is not None and not store.path.exists()  # not the cache's whole tree
    every = read_tables(WorkTree(company))
    for folder in ("tasks", "quotes"):
        assert tables[folder].paths == every[folder].paths
        assert tables[folder].records() == every[folder].records()
    assert store.path.exists()
    (company / "tasks").rename(company / "elsewhere")  # the work tree has no tasks now
    assert len(read_tables(WorkTree(company), folders=["tasks"])["tasks"]) == 0
    assert len(read_tables(Index(company), folders=["tasks"])["tasks"]) == len(every["tasks"])


def test_a_reference_is_named_from_its_one_file(
    company: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``crm show`` parses the file where the layout puts a reference's record, not
    the folder: a page of a deal parses its own file, its partner's and contacts'."""
    parsed: list[str] = []
    import crmfiles.records.store as store_module

    plain = store_module.read_record

    def counted(raw: Any, place: Any) -> Any:
        parsed.append(raw.path)
        return plain(raw, place)

    monkeypatch.setattr(store_module, "read_record", counted)
    repo = Repository(company)
    deal = repo.get(DEAL).data
    page(repo, DEAL)
    rivals = {f"partners/{c['partner']}.yaml" for c in deal["competitors"]}
    assert rivals and {p for p in parsed if p.startswith("partners/")} == {
        "partners/mueller-logistik.yaml",
        *rivals,
    }
    assert {p for p in parsed if p.startswith("contacts/")} == {
        f"contacts/{c}.yaml" for c in deal["contacts"]
    }
    assert not any(p.startswith("opportunities/") for p in parsed)  # (get reads its own)
    # what refers to it: the quotes, interactions and tasks that name it, and no other
    quotes = {p for p in parsed if p.startswith("quotes/")}
    assert len(quotes) == 2 and all(DEAL in (company / p).read_text() for p in quotes)


def test_a_duplicate_id_elsewhere_names_the_file_the_layout_places(company: Path) -> None:
    """Where two files share an id (``crm validate`` reports it), a page names a
    reference by the file where crm.yaml's layout puts it; the folder read whole would
    take the first path.  Both are shown for what they are."""
    write(company, {"contacts/a/jan-mueller.yaml": "id: jan-mueller\nname: Another Jan\n"})
    text = page(Repository(company), DEAL)[0]
    assert "Jan Müller (jan-mueller)" in text
    assert "Another Jan (jan-mueller)" in page(whole(Repository(company)), DEAL)[0]
