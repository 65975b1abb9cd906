"""Distributions built on the core import only what the core declares for them: the plugin toolkit.

Everything else in the core may move between versions; a bundled
distribution that reached past the toolkit would break with it, and so
would a third party's that copied it.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import nx5d.toolkit

ROOT = Path(__file__).resolve().parent.parent

#: What a distribution built on the core may import from it (and the subclassing API, ``nx5d.repo.*``).
ALLOWED = ("nx5d", "nx5d.errors", "nx5d.plugins", "nx5d.toolkit", "nx5d.testing", "nx5d.repo")


def _allowed(name: str) -> bool:
    return name in ALLOWED or name.startswith("nx5d.repo.")


DISTRIBUTIONS = sorted(p.name for p in ROOT.glob("nx5d-*") if p.name != "nx5d-core")


def _core_imports(source: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if name == "nx5d" or name.startswith("nx5d.")]
    return found


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_a_bundled_distribution_imports_only_the_toolkit(distribution):
    outside = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / distribution / "src").rglob("*.py"))
        for line, name in _core_imports(path)
        if not _allowed(name)
    ]
    assert not outside, "imports past the toolkit:\n" + "\n".join(outside)


def test_every_name_of_the_toolkit_is_there():
    for name in nx5d.toolkit.__all__:
        assert getattr(nx5d.toolkit, name) is not None, name
    assert sorted(nx5d.toolkit.__all__) == sorted(nx5d.toolkit._FROM)
    with pytest.raises(AttributeError, match="the toolkit holds"):
        nx5d.toolkit.ScanRef  # noqa: B018 - the contract is nx5d.plugins'


def test_the_toolkit_costs_nothing_until_used():
    import subprocess
    import sys

    code = "import sys, nx5d.toolkit; print(' '.join(m for m in ('xarray', 'numpy', 'h5py') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []
    assert importlib.import_module("nx5d.toolkit").Storage.__name__ == "Storage"
