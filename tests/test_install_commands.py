"""Every ``pip install`` command in the README, CONTRIBUTING.md and the docs works in a fresh virtual environment.

Each console block's install commands are resolved together, as a user
pasting the block into a new environment would run them: pip, in a fresh
venv holding nothing but itself, resolves them (``--dry-run
--ignore-installed``) from the checkout's folders and the package index.
An ``nx5d new-plugin`` line in the block writes the plugin folder first.
Our distributions must come from the checkout: the index's ``nx5d`` is
another project, and nothing may resolve to it.
"""

import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def install_blocks() -> list[tuple[str, list[str]]]:
    """``(place, lines)`` of every console block that installs something (the README's nox lines excepted)."""
    found = []
    for page in PAGES:
        for number, block in enumerate(re.findall(r"```console\n(.+?)\n```", page.read_text(), flags=re.S)):
            lines = [line.removeprefix("$ ").split("  #")[0].strip() for line in block.splitlines()]
            lines = [line for line in lines if re.match(r"(python -m )?pip install |nx5d new-plugin ", line)]
            if any("pip install" in line for line in lines):
                found.append((f"{page.relative_to(ROOT)} block {number + 1}", lines))
    return found


BLOCKS = install_blocks()


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fresh-venv")
    venv.create(folder, with_pip=True)
    return folder / "bin" / "python"


@pytest.fixture
def checkout(tmp_path):
    """A working folder with the checkout's distribution folders, as in a clone."""
    for dist in ROOT.glob("nx5d-*"):
        (tmp_path / dist.name).symlink_to(dist)
    return tmp_path


def test_the_docs_have_install_commands():
    assert len(BLOCKS) >= 8
    assert any("nx5d new-plugin" in line for _, lines in BLOCKS for line in lines)


@pytest.mark.slow
@pytest.mark.parametrize(("place", "lines"), BLOCKS, ids=[place for place, _ in BLOCKS])
def test_install_commands_resolve_in_a_fresh_environment(fresh_python, checkout, place, lines):
    packages: list[str] = []
    for line in lines:
        words = shlex.split(line.split("&&")[0])
        if words[:2] == ["nx5d", "new-plugin"]:
            done = subprocess.run(
                [sys.executable, "-m", "nx5d", *words[1:]], cwd=checkout, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
            continue
        packages += words[words.index("install") + 1 :]
    done = subprocess.run(
        [str(fresh_python), "-m", "pip", "install", "--dry-run", "--ignore-installed", "--disable-pip-version-check",
         *[p for p in packages if p != "-q"]],
        cwd=checkout,
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )  # fmt: skip
    assert done.returncode == 0, f"{place}: {' '.join(packages)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "does not provide the extra" not in done.stderr, done.stderr
    would = re.search(r"Would install (.+)", done.stdout)
    assert would is not None, done.stdout
    assert not re.search(r"(^| )nx5d-3", would.group(1)), f"{place} would install the index's unrelated nx5d"
