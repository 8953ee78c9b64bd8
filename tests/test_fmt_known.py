"""``crm fmt`` lays out only what it does not know to be formatted: contents found
formatted are kept by blob id (per the schema line their place wants), so a second
run reads only what changed; files named on the command line are the only ones read;
many files are laid out on every core, with the same answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import commit_all, write

from crmfiles.ops import fmt as fmt_module
from crmfiles.ops import formatted
from crmfiles.ops.fmt import fmt

UNFORMATTED = "id: beta\nname:   Beta GmbH\nroles: [customer]\n\n\n"


@pytest.fixture
def laid(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths laid out (format_text called), in this process."""
    seen: list[str] = []
    real = fmt_module.format_text

    def counting(path: str, text: str) -> str:
        seen.append(path)
        return real(path, text)

    monkeypatch.setattr(fmt_module, "format_text", counting)
    monkeypatch.setattr(formatted, "SPREAD_FROM", 10**9)  # (counted here, not in workers)
    return seen


def test_a_second_run_reads_only_what_changed(repo: Path, laid: list[str]) -> None:
    fmt(repo)  # formats what is not formatted yet
    commit_all(repo, "formatted")
    laid.clear()
    assert fmt(repo, check=True).changed == []
    assert laid  # every content laid out once, and known from now on
    laid.clear()
    assert fmt(repo, check=True).changed == []
    assert laid == []
    write(repo, {"partners/beta.yaml": UNFORMATTED})
    result = fmt(repo, check=True)
    assert (result.changed, laid) == (["partners/beta.yaml"], ["partners/beta.yaml"])
    laid.clear()
    assert fmt(repo, check=True).changed == ["partners/beta.yaml"]  # never known: read again
    assert laid == ["partners/beta.yaml"]
    laid.clear()
    assert fmt(repo).changed == ["partners/beta.yaml"]
    commit_all(repo, "beta formatted")
    laid.clear()
    assert fmt(repo, check=True).changed == []
    assert laid == ["partners/beta.yaml"]  # its new content: laid out once
    laid.clear()
    assert fmt(repo, check=True).changed == [] and laid == []


def test_the_same_content_elsewhere_is_read_again(repo: Path, laid: list[str]) -> None:
    """A content formatted as a partner is not known formatted as a catalog: the
    schema line its place wants differs."""
    fmt(repo)
    commit_all(repo, "formatted")
    fmt(repo, check=True)
    text = (repo / "partners" / "acme.yaml").read_text("utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")) + "\n"
    write(repo, {"leads/acme-copy.yaml": body})
    laid.clear()
    fmt(repo, check=True)
    assert laid == ["leads/acme-copy.yaml"]


def test_named_files_are_the_only_ones_read(repo: Path, laid: list[str]) -> None:
    write(repo, {"partners/beta.yaml": UNFORMATTED})
    result = fmt(repo, ["partners/beta.yaml"], check=True)
    assert (result.changed, laid) == (["partners/beta.yaml"], ["partners/beta.yaml"])
    laid.clear()
    result = fmt(repo, ["partners"], check=True)
    assert "partners/beta.yaml" in result.changed
    assert laid and all(p.startswith("partners/") for p in laid)


def test_many_files_on_every_core_give_the_same_answer(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_NO_CACHE", "1")
    for n in range(12):
        write(repo, {f"partners/p{n}.yaml": UNFORMATTED.replace("beta", f"p{n}")})
    write(repo, {"partners/broken.yaml": "id: [unclosed\n"})
    alone = fmt(repo, check=True)
    monkeypatch.setattr(formatted, "SPREAD_FROM", 2)
    monkeypatch.setattr(formatted, "CHUNK", 3)
    spread = fmt(repo, check=True)
    assert (spread.changed, spread.skipped) == (alone.changed, alone.skipped)
    assert len(spread.changed) >= 12
    assert [p for p, _ in spread.skipped] == ["partners/broken.yaml"]
    spread = fmt(repo)
    assert fmt(repo, check=True).changed == []
    text = (repo / "partners/p3.yaml").read_text("utf-8")
    assert text.startswith("# yaml-language-server") and "\nname: Beta GmbH\n" in text
