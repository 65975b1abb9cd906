"""Every ``pip install`` command in the README, CONTRIBUTING.md and the docs works in a fresh virtual environment.

Each console block's install commands are resolved together, as a user
pasting the block into a new environment would run them: pip, in a fresh
venv holding nothing but itself, resolves them (``--dry-run
--ignore-installed``) from the checkout's folders and the package index.
An ``nx5d new-plugin`` line in the block writes the plugin folder first.
Our distributions must come from the checkout: the index's ``nx5d`` is
another project, and nothing may resolve to it.

Resolving is not enough: a line whose distributions miss a dependency that
only the test extras bring installs fine and then fails at the page's first
cooked scan.  So every distinct user line (folders of the checkout, not
editable) is installed for real, each into a venv of its own, and
``fresh_example.py`` runs the pages' example there with that venv's Python.
"""

import os
import re
import shlex
import subprocess
import sys
import venv
from concurrent.futures import ThreadPoolExecutor
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


def user_lines() -> dict[tuple[str, ...], list[str]]:
    """The distinct lines a user installs nx5d with (checkout folders, none editable), each with its places."""
    lines: dict[tuple[str, ...], list[str]] = {}
    for place, block in BLOCKS:
        if any("new-plugin" in line for line in block):
            continue  # the plugin author's block: test_scaffold.py installs and tests what it makes
        for line in block:
            words = shlex.split(line.split("&&")[0])
            packages = tuple(words[words.index("install") + 1 :])
            if packages and all(p.startswith("./nx5d-") for p in packages):
                lines.setdefault(packages, []).append(place)
    return lines


USER_LINES = user_lines()


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


def test_every_page_has_a_line_a_user_installs_with():
    places = {place.split(" block")[0] for places in USER_LINES.values() for place in places}
    assert {"README.md", "docs/quickstart.md", "docs/installing.md", "docs/beamlines.md", "docs/remote.md"} <= places


def install_and_run_example(folder: Path, checkout: Path, packages: tuple[str, ...]) -> str:
    """Install ``packages`` into a new venv in ``folder`` and run the pages' example there; what failed, or ``""``."""
    venv.create(folder / "venv", with_pip=True)
    python = str(folder / "venv" / "bin" / "python")
    env = {**os.environ, "PIP_NO_INPUT": "1", "NX5D_PROGRESS": "0", "NX5D_CACHE_DIR": str(folder / "cache")}
    env.pop("PYTHONPATH", None)
    steps = [
        [python, "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check", *packages],
        [python, str(Path(__file__).with_name("fresh_example.py")), str(folder / "data")],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=checkout, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            said = f"{done.stdout[-2000:]}{done.stderr[-3000:]}"
            return f"pip install {shlex.join(packages)}: {shlex.join(step[1:3])} failed\n{said}"
    return ""


@pytest.mark.slow
def test_each_install_line_runs_its_pages_example(tmp_path_factory):
    """Each distinct line in a venv of its own, two at a time; every failure is reported, with the pages it is on."""
    checkout = tmp_path_factory.mktemp("clone")
    for dist in ROOT.glob("nx5d-*"):
        (checkout / dist.name).symlink_to(dist)
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = pool.map(
            lambda packages: install_and_run_example(tmp_path_factory.mktemp("line"), checkout, packages), USER_LINES
        )
        failed = [
            f"{', '.join(places)}: {failure}"
            for places, failure in zip(USER_LINES.values(), failures, strict=True)
            if failure
        ]
    assert not failed, "\n\n".join(failed)
