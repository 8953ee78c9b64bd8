"""One catalog builder: the checker, ``crm lint``, an operation's workspace, the record
store and the history replay get the same catalogs from the same bytes."""

from __future__ import annotations

from pathlib import Path

from conftest import commit_all, git, write

from crmfiles.check import load
from crmfiles.git import EMPTY_TREE
from crmfiles.history.replay import build
from crmfiles.lint import revision_catalogs
from crmfiles.ops.workspace import Workspace
from crmfiles.people import read_people
from crmfiles.records import OPTIONAL_CATALOGS
from crmfiles.records.catalogs import Catalogs
from crmfiles.records.gitsources import Index, Revision
from crmfiles.records.sources import Overlay
from crmfiles.records.store import Repository
from crmfiles.records.worktree import WorkTree

# what every reader makes of the awkward catalogs below
PRODUCTS = {
    "forklift": {"id": "forklift", "name": "Forklift", "price": 15000},
    "crate": {"id": "crate", "name": "Crate"},
}


def _awkward(repo: Path) -> None:
    write(
        repo,
        {
            # a byte-order mark, an entry without an id, one whose id is a number and
            # one that is not a mapping: only the mappings with a string id count
            "catalogs/products.yaml": "\ufeff"
            "- id: forklift\n  name: Forklift\n  price: 15000\n"
            "- name: No id\n"
            "- id: 7\n  name: Seven\n"
            "- just a string\n"
            "- id: crate\n  name: Crate\n",
            "catalogs/sectors.yaml": None,  # optional and absent: empty
            "catalogs/families.yaml": "- id: [unclosed\n",  # present but unreadable: none
            "catalogs/establishments.yaml": "id: hq\n",  # not a list: none
            "catalogs/stages.yml": "- id: ghost\n  name: Ghost\n",  # reported, never read
            "catalogs/notes.yaml": "- id: stray\n",  # not a catalog
            "catalogs/people.yaml": "- id: alice\n  emails: [alice@example.com]\n- id: 3\n",
        },
    )
    commit_all(repo, "awkward catalogs")


def _check_expected(catalogs: Catalogs) -> None:
    assert catalogs["products"] == PRODUCTS
    assert catalogs["sectors"] == {}
    assert "families" not in catalogs
    assert "establishments" not in catalogs
    assert "notes" not in catalogs
    assert "ghost" not in catalogs["stages"]
    assert list(catalogs["stages"]) == ["qualify", "proposal", "negotiate", "commit"]
    assert catalogs["people"] == {"alice": {"id": "alice", "emails": ["alice@example.com"]}}


def test_every_reader_builds_the_same_catalogs(repo: Path) -> None:
    _awkward(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    checked = load(WorkTree(repo), use_cache=False).catalogs
    _check_expected(checked)
    assert load(Index(repo), use_cache=False).catalogs == checked
    assert load(Revision(repo, head), use_cache=False).catalogs == checked
    assert revision_catalogs(repo, head) == checked
    assert Workspace(repo).catalogs == checked
    assert Repository(repo).catalogs == checked
    assert Repository(repo, Revision(repo, head)).catalogs == checked
    assert {name: Repository(repo).catalog(name) for name in checked} == checked
    assert build(repo, head, None).products == checked["products"]
    assert read_people(repo) == checked["people"]


def test_a_catalog_edited_in_the_work_tree_reads_the_same_everywhere(repo: Path) -> None:
    edited = {"catalogs/terms.yaml": b"- id: net60\n  name: Net 60\n"}
    # an operation checks its edits laid over HEAD before it writes them
    overlaid = load(Overlay(Revision(repo, "HEAD"), edited), use_cache=False).catalogs
    write(repo, edited)
    checked = load(WorkTree(repo), use_cache=False).catalogs
    assert overlaid == checked
    assert Repository(repo, Overlay(Revision(repo, "HEAD"), edited)).catalogs == checked
    assert checked["terms"] == {"net60": {"id": "net60", "name": "Net 60"}}
    assert Workspace(repo).catalogs == checked
    assert Repository(repo).catalogs == checked
    # the commit still has the old one
    assert revision_catalogs(repo, "HEAD")["terms"] == {"net30": {"id": "net30", "name": "Net 30"}}


def test_the_empty_tree_has_only_the_optional_catalogs_empty(repo: Path) -> None:
    assert revision_catalogs(repo, EMPTY_TREE) == {name: {} for name in OPTIONAL_CATALOGS}
