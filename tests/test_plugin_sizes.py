"""How much code a beamline plugin takes: the bundled .fio beamline and each scaffold template, counted and printed.

Lines of code are lines that are not blank, not comments and not
docstrings; the data generator (``synth.py``) is left out.  Run with ``-s``
to see the figures.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nx5d.app.scaffold import TEMPLATES, new_plugin

ROOT = Path(__file__).resolve().parents[1]


def code_lines(path: Path) -> int:
    """Lines of Python code in a file: not blank, not comments, not docstrings."""
    tree = ast.parse(path.read_text())
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines = path.read_text().splitlines()
    return sum(
        1
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.strip().startswith("#") and number not in docstrings
    )


def test_the_fio_beamline_is_at_most_100_lines_of_code():
    count = code_lines(ROOT / "nx5d-fio" / "src" / "nx5d_fio" / "plugin.py")
    print(f"nx5d-fio plugin.py: {count} lines of code")  # shown with -s
    assert count <= 100


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_is_a_small_plugin(tmp_path, template):
    """The NeXus template is the docs' worked example of a beamline over the generic reader: at most 40 lines."""
    count = code_lines(new_plugin("sizetest", tmp_path, template=template) / "src" / "nx5d_sizetest" / "plugin.py")
    print(f"template {template}: plugin.py {count} lines of code")  # shown with -s
    assert count <= (40 if template == "nexus" else 100)
