"""Every distribution's package says it is typed (PEP 561): type checkers read the annotations of what is installed."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The package of each distribution folder (``nx5d-spec/src/nx5d_spec``).
PACKAGES = sorted(p.parent.name for p in ROOT.glob("nx5d-*/src/*/__init__.py"))


def test_every_distribution_has_a_package():
    assert len(PACKAGES) == len(list(ROOT.glob("nx5d-*/pyproject.toml")))


@pytest.mark.parametrize("package", PACKAGES)
def test_the_installed_package_carries_its_py_typed_marker(package):
    assert importlib.resources.files(package).joinpath("py.typed").is_file()
