"""Reproducible installs: `make install` pins every version in constraints.txt.

The package keeps ranges for people who `pip install` it; the project's own
environment (`make test`, `make demo`, CI) installs exactly what constraints.txt
names, so a release of a dependency cannot change what the suite sees.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def pins() -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: {line!r} is not an exact pin"
        found[canonicalize_name(name)] = Version(version)
    return found


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    return [Requirement(text) for text in [*wanted, *build]]


def test_every_requirement_is_pinned_within_its_range() -> None:
    pinned = pins()
    for requirement in requirements():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in constraints.txt (run make lock)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside pyproject's {requirement}"
        )


def test_the_dependencies_with_a_history_of_breaking_us_have_upper_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in project["dependencies"]:
        requirement = Requirement(text)
        if requirement.marker is not None:
            continue
        assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
            f"{requirement} has no upper bound"
        )


def test_this_environment_runs_the_pinned_versions() -> None:
    """The suite runs on exactly the locked versions (what `make test` installs)."""
    if not (Path(__import__("sys").prefix) / ".installed").exists():
        pytest.skip("not the environment `make install` made")
    wrong = {}
    for name, version in pins().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue  # the build backend and platform-specific pins live elsewhere
        if installed != version:
            wrong[name] = (str(installed), str(version))
    assert wrong == {}, f"installed versions differ from constraints.txt: {wrong}"


def test_the_makefile_installs_through_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "PIP_CONSTRAINT=$(CURDIR)/constraints.txt" in makefile
    install = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert install.count("$(PINNED) $(BIN)/pip install") == 2
    assert "constraints.txt" in install.splitlines()[0]
