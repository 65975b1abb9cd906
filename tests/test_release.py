"""The distributions are ready to publish together: one version, ranges that admit it, a tag per distribution.

See docs/releasing.md.  The ranges are checked with ``packaging``'s
specifiers, as pip resolves them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import nx5d
from nx5d.app.scaffold import nx5d_requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = {
    folder.name: tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    for folder in sorted(ROOT.glob("nx5d-*"))
    if (folder / "pyproject.toml").is_file()
}
#: Each distribution's version; the core's is written in ``nx5d.version`` (its pyproject reads it from there).
VERSIONS = {project["name"]: Version(project.get("version") or nx5d.__version__) for project in PROJECTS.values()}


def _requirements(project: dict) -> list[str]:
    extras = project.get("optional-dependencies", {}).values()
    return [*project.get("dependencies", []), *(r for group in extras for r in group)]


def test_every_folder_is_the_distribution_of_its_name():
    assert sorted(PROJECTS) == sorted(VERSIONS)
    assert "nx5d-fio" in PROJECTS


def test_every_distribution_carries_the_core_version():
    core = VERSIONS["nx5d-core"]
    assert {name: str(v) for name, v in VERSIONS.items() if v != core} == {}


@pytest.mark.parametrize("folder", sorted(PROJECTS))
def test_ranges_on_the_other_distributions_admit_their_version(folder):
    series = nx5d_requirement(str(VERSIONS["nx5d-core"]))
    for text in _requirements(PROJECTS[folder]):
        requirement = Requirement(text)
        if requirement.name in VERSIONS:
            assert VERSIONS[requirement.name] in requirement.specifier, f"{folder}: {text}"
            assert str(requirement.specifier) == ",".join(sorted(series.split(","))), f"{folder}: {text}"


def test_the_release_workflow_publishes_every_distribution_by_tag():
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    (pattern,) = re.findall(r'tags: \["([^"]+)"\]', workflow)
    regex = re.compile(pattern.replace("*", ".*"))
    assert all(regex.fullmatch(f"{name}-v{version}") for name, version in VERSIONS.items())
    assert "id-token: write" in workflow  # trusted publishing, no stored secret
    assert "twine check --strict" in workflow
