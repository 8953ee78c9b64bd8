"""One record lookup: ``crm show`` (the store) and every operation (the workspace) find
a record the same way and say the same when there is none, or several."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import commit_all, git, write

from crmfiles.errors import CrmError
from crmfiles.ops.workspace import Workspace
from crmfiles.records import RECORD_FOLDERS
from crmfiles.records.gitsources import Revision
from crmfiles.records.store import Repository

DEAL = "opportunities/2026/01/acme-forklifts.yaml"


def _both(repo: Path, record_id: str) -> list[tuple[str, str]]:
    """(folder, path) as the store and as the workspace find ``record_id``."""
    shown = Repository(repo).get(record_id)
    found = Workspace(repo).find(record_id)
    assert shown.data == found.data and shown.text == found.text
    return [(shown.folder, shown.path), (found.folder, found.path)]


def _refusals(repo: Path, record_id: str) -> list[tuple[str, str | None]]:
    out = []
    for lookup in (Repository(repo).get, Workspace(repo).find):
        with pytest.raises(CrmError) as caught:
            lookup(record_id)
        out.append((caught.value.message, caught.value.hint))
    return out


@pytest.mark.parametrize("given", ["acme-forklifts", "opportunities/acme-forklifts"])
def test_a_record_where_the_layout_puts_it(repo: Path, given: str) -> None:
    assert _both(repo, given) == [("opportunities", DEAL)] * 2


def test_a_type_names_the_folder_too(repo: Path) -> None:
    assert _both(repo, "partner/acme") == [("partners", "partners/acme.yaml")] * 2


def test_a_record_outside_the_layout_is_found_in_the_index_and_the_work_tree(
    repo: Path,
) -> None:
    write(repo, {"partners/old/beta.yaml": "id: beta\nname: Beta AG\n"})
    assert _both(repo, "beta") == [("partners", "partners/old/beta.yaml")] * 2  # untracked
    git(repo, "add", "-A")
    assert _both(repo, "beta") == [("partners", "partners/old/beta.yaml")] * 2  # staged


def test_no_such_record(repo: Path) -> None:
    assert (
        _refusals(repo, "nobody")
        == [("no record with id 'nobody'", "`crm list opportunities` shows the ids")] * 2
    )
    assert (
        _refusals(repo, "tasks/acme")
        == [("no record with id 'acme' in tasks/", "`crm list tasks` shows the ids")] * 2
    )


def test_an_unknown_type(repo: Path) -> None:
    assert (
        _refusals(repo, "widget/acme")
        == [("unknown record type 'widget'", "one of: " + ", ".join(RECORD_FOLDERS))] * 2
    )


def test_one_id_in_two_folders(repo: Path) -> None:
    write(repo, {"contacts/acme.yaml": "id: acme\nname: Acme reception\npartner: acme\n"})
    message = "'acme' names several records: contacts/acme.yaml, partners/acme.yaml"
    hint = "`crm validate` reports the duplicate id; give TYPE/ID when the types differ"
    assert _refusals(repo, "acme") == [(message, hint)] * 2
    assert _both(repo, "contact/acme") == [("contacts", "contacts/acme.yaml")] * 2


def test_a_broken_record_says_where(repo: Path) -> None:
    write(repo, {"partners/acme.yaml": "id: acme\nname: [Acme\n"})
    (shown, found) = _refusals(repo, "acme")
    assert shown == found and shown[0].startswith("partners/acme.yaml:")
    assert shown[1] == "fix the file first (`crm validate` shows every such file)"


def test_a_revision_is_looked_up_in_its_folders_with_the_same_sentences(repo: Path) -> None:
    write(repo, {"partners/acme.yaml": None})
    commit_all(repo, "acme gone")
    old = Repository(repo, Revision(repo, "HEAD~1"))
    assert old.get("acme").path == "partners/acme.yaml"
    with pytest.raises(CrmError) as caught:
        Repository(repo, Revision(repo, "HEAD")).get("partners/acme")
    assert caught.value.message == "no record with id 'acme' in partners/"
    assert caught.value.hint == "`crm list partners` shows the ids"
