"""The README's two commands stay true: CI runs exactly the documented test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def console_commands():
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```console\n(.+?)\n```", readme)


def test_ci_runs_the_readme_test_command():
    test_command = next(c for c in console_commands() if "nox -s lint tests docs" in c)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_readme_demo_command_runs_the_demo_session():
    assert any(c.endswith("nox -s demo") and c.startswith("python3 -m venv .venv") for c in console_commands())
    noxfile = (ROOT / "noxfile.py").read_text()
    for session in ("demo", "tests", "lint", "docs"):
        assert f"def {session}(session" in noxfile
