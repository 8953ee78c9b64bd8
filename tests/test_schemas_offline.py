"""The schemas `crm init` writes to `.crm/schema/` work offline in every validator.

They carry no ``$id`` and their ``$ref``s are file names (``common.schema.json#/$defs/id``),
so each tool resolves them from the folder the schema sits in.  Checked with the real
programs, on a real repository from ``crm init --example``:

- check-jsonschema ``--schemafile .crm/schema/<name>.schema.json``, as the issue ran it;
- yaml-language-server, the editors' checker, driven over LSP: every file opened
  with its ``# yaml-language-server: $schema=`` line, the diagnostics it publishes;
- Python's jsonschema, with a ``referencing`` registry that reads the folder;
- and ``crm validate`` itself.

Every process runs with its proxies pointing at a closed port, so a download could
only fail, fast: none may be tried.  yaml-language-server is installed with npm (a
pinned version) into a cache under the system's temporary folder; only when node or
npm is missing is its test skipped.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import lsp_client
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from crmfiles.records import yamlio

BIN = Path(sys.executable).parent
DEAD = "http://127.0.0.1:9"  # a closed port: any download fails at once
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
SCHEMA_HOME = ".crm/schema"
BROKEN = "opportunities/broken.yaml"
# an opportunity whose mistakes are all caught by common.schema.json's definitions:
# a probability that is no integer, a currency that is no ISO code, a negative price
# (common's `lines` -> `line` -> `money`: a $ref chain inside common)
BROKEN_TEXT = """\
# yaml-language-server: $schema=../.crm/schema/opportunity.schema.json
id: broken
name: Broken deal
kind: standard-sale
status: in_progress
partner: alpenfrost
responsible: anna.becker
probability: high
currency: eur
lines:
  - product: fl-e16
    unit_price: -5
"""
BROKEN_LINES = {"probability": 7, "currency": 8, "unit_price": 11}  # 0-based, as in LSP


def offline_env(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in ("no_proxy", "http_proxy", "https_proxy", "all_proxy")
    }
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[key] = env[key.lower()] = DEAD
    env["XDG_CACHE_HOME"] = str(home / "cache")  # no schema cached by an earlier run
    env["npm_config_update_notifier"] = "false"
    return env


@pytest.fixture(scope="module")
def crm_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository from `crm init --example`, committed, and one invalid record."""
    home = tmp_path_factory.mktemp("home")
    (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    env = {key: value for key, value in offline_env(home).items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Alice",
        GIT_AUTHOR_EMAIL="alice@example.com",
        GIT_COMMITTER_NAME="Alice",
        GIT_COMMITTER_EMAIL="alice@example.com",
    )
    root = home / "crm"
    proc = subprocess.run(
        [sys.executable, "-m", "crmfiles", "init", "--example", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (root / BROKEN).write_text(BROKEN_TEXT, "utf-8")
    return root


def committed(root: Path) -> list[str]:
    """The YAML files `crm init` committed (the broken record is not among them)."""
    out = subprocess.run(
        ["git", "ls-files", "*.yaml"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    return [path for path in out if MODELINE.match(first_line(root / path))]


def read(root: Path, path: str) -> str:
    return (root / path).read_text("utf-8")


def first_line(path: Path) -> str:
    return path.read_text("utf-8").split("\n", 1)[0]


def schema_of(root: Path, path: str) -> Path:
    """The schema a file names on its first line, as editors read it."""
    match = MODELINE.match(first_line(root / path))
    assert match, f"{path}: no yaml-language-server line"
    return (root / path).parent / match.group(1)


def by_schema(root: Path) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for path in committed(root):
        schema = schema_of(root, path).resolve()
        assert schema.parent == (root / SCHEMA_HOME).resolve(), path
        groups.setdefault(schema.name.removesuffix(".schema.json"), []).append(path)
    return groups


SCHEMA_NAMES = sorted(
    path.name.removesuffix(".schema.json")
    for path in (Path(__file__).resolve().parents[1] / "schema").glob("*.schema.json")
)
FILE_SCHEMAS = [name for name in SCHEMA_NAMES if name != "common"]


# ------------------------------------------------------------------ what init writes


def test_init_writes_schemas_without_an_id(crm_repo: Path) -> None:
    written = sorted((crm_repo / SCHEMA_HOME).glob("*.schema.json"))
    assert [p.name.removesuffix(".schema.json") for p in written] == SCHEMA_NAMES
    for path in written:
        schema = json.loads(path.read_text("utf-8"))
        assert "$id" not in schema, f"{path.name}: an $id is a base URI online"
    assert set(by_schema(crm_repo)) == set(FILE_SCHEMAS), "the example uses every schema"


# ------------------------------------------------------------------ check-jsonschema


def check_jsonschema(root: Path, schema: str, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--schemafile",
            f"{SCHEMA_HOME}/{schema}.schema.json",
            *paths,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env=offline_env(root.parent),
        timeout=120,
    )


# one invocation costs about a second: the settings, the records' hub (its $refs into
# common and through common's own), and a catalog (a $ref to itself by file name);
# jsonschema and yaml-language-server below take every schema
@pytest.mark.parametrize("name", ["crm", "opportunity", "products"])
def test_check_jsonschema_resolves_from_the_folder(crm_repo: Path, name: str) -> None:
    proc = check_jsonschema(crm_repo, name, *by_schema(crm_repo)[name])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


def test_check_jsonschema_reports_mistakes_from_common(crm_repo: Path) -> None:
    proc = check_jsonschema(crm_repo, "opportunity", BROKEN)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Schema validation errors were encountered." in proc.stdout
    assert f"{BROKEN}::$.probability: 'high' is not of type 'integer'" in proc.stdout
    assert f"{BROKEN}::$.currency: 'eur' does not match '^[A-Z]{{3}}$'" in proc.stdout
    assert f"{BROKEN}::$.lines[0].unit_price: -5 is less than the minimum of 0" in proc.stdout
    assert "Download" not in proc.stdout + proc.stderr


# ------------------------------------------------------------------ jsonschema


def folder_registry(folder: Path, asked: list[str]) -> Registry[Any]:
    """A registry that reads the schemas beside each other in ``folder``, and nothing
    else: a URI outside it (an https ``$id``'s, say) is unresolvable."""
    base = folder.as_uri() + "/"

    def retrieve(uri: str) -> Resource[Any]:
        asked.append(uri)
        target = urljoin(base, uri)
        if not target.startswith(base):
            raise NoSuchResource(ref=uri)
        return DRAFT202012.create_resource(
            json.loads((folder / target.removeprefix(base)).read_text("utf-8"))
        )

    return Registry(retrieve=retrieve)


def folder_validator(folder: Path, name: str, asked: list[str]) -> Draft202012Validator:
    schema = json.loads((folder / f"{name}.schema.json").read_text("utf-8"))
    return Draft202012Validator(
        schema,
        registry=folder_registry(folder, asked),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@pytest.mark.parametrize("example", [False, True], ids=["init", "init-example"])
def test_jsonschema_resolves_from_the_folder(crm_repo: Path, tmp_path: Path, example: bool) -> None:
    root = crm_repo
    if not example:
        root = tmp_path / "plain"
        proc = subprocess.run(
            [sys.executable, "-m", "crmfiles", "init", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = root / SCHEMA_HOME
    for name, paths in by_schema(root).items():
        asked: list[str] = []
        validator = folder_validator(folder, name, asked)
        for path in paths:
            errors = [e.message for e in validator.iter_errors(yamlio.parse(read(root, path)))]
            assert not errors, f"{path}: {errors}"
        assert set(asked) <= {f"{name}.schema.json", "common.schema.json"}, asked


def test_jsonschema_reports_mistakes_from_common(crm_repo: Path) -> None:
    asked: list[str] = []
    validator = folder_validator(crm_repo / SCHEMA_HOME, "opportunity", asked)
    errors = {
        "/".join(map(str, e.absolute_path)): e.message
        for e in validator.iter_errors(yamlio.parse(read(crm_repo, BROKEN)))
    }
    assert errors == {
        "probability": "'high' is not of type 'integer'",
        "currency": "'eur' does not match '^[A-Z]{3}$'",
        "lines/0/unit_price": "-5 is less than the minimum of 0",
    }
    assert "common.schema.json" in asked


# ------------------------------------------------------------------ crm validate


def test_crm_validate_needs_no_network(crm_repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crmfiles", "validate", "--format", "json", BROKEN],
        cwd=crm_repo,
        capture_output=True,
        text=True,
        env=offline_env(crm_repo.parent),
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = {(d["path"], d["rule"], d["message"]) for d in json.loads(proc.stdout)["diagnostics"]}
    schema_errors = {message for path, rule, message in found if rule == "schema"}
    assert schema_errors == {
        "'high' is not of type 'integer'",
        "'eur' does not match '^[A-Z]{3}$'",
        "-5 is less than the minimum of 0",
    }, found


# ------------------------------------------------------------------ yaml-language-server


@pytest.fixture(scope="module")
def yaml_language_server() -> Path:
    server = lsp_client.install()
    if server is None:
        pytest.skip("node and npm are not installed: yaml-language-server cannot run here")
    return server


@pytest.fixture(scope="module")
def editor(yaml_language_server: Path, crm_repo: Path) -> Iterator[lsp_client.LanguageServer]:
    server = lsp_client.LanguageServer(
        yaml_language_server, crm_repo, offline_env(crm_repo.parent), proxy=DEAD
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_yaml_language_server_finds_no_fault_in_a_valid_repository(
    editor: lsp_client.LanguageServer, crm_repo: Path
) -> None:
    groups = by_schema(crm_repo)
    # every schema, and up to three files of each: crm.yaml, catalogs, every record type
    paths = [path for name in FILE_SCHEMAS for path in groups[name][:3]]
    found = {path: found for path, found in editor.check(paths).items() if found}
    assert not found, json.dumps(found, indent=1)


def test_yaml_language_server_reports_mistakes_from_common(
    editor: lsp_client.LanguageServer, crm_repo: Path
) -> None:
    found = editor.check([BROKEN])[BROKEN]
    lines = {d["range"]["start"]["line"] for d in found}
    assert lines == set(BROKEN_LINES.values()), json.dumps(found, indent=1)
    common = (crm_repo / SCHEMA_HOME / "common.schema.json").as_uri()
    assert any(common in d.get("data", {}).get("schemaUri", []) for d in found), found

    def reported(field: str, text: str) -> bool:
        return any(
            d["range"]["start"]["line"] == BROKEN_LINES[field] and text in d["message"]
            for d in found
        )

    assert reported("probability", 'Incorrect type. Expected "integer"'), found
    assert reported("currency", 'String does not match the pattern of "^[A-Z]{3}$"'), found
    assert reported("unit_price", "Value is below the minimum of 0"), found
