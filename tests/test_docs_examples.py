"""The code examples of the documentation pages run (the notebooks run in the docs build).

Examples that need data get it from the generators, with the page's paths
pointed at a temporary folder.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).parents[1] / "docs"


def blocks(page, language):
    """The fenced code blocks of ``language`` in a docs page, in order."""
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / page).read_text(), flags=re.S)


def test_quick_start_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")  # the terminal the page's output was taken in (tables fit the width)
    target = str(tmp_path / "udkm")
    (console,) = blocks("quickstart.md", "console")
    synth = next(line for line in console.splitlines() if line.startswith("nx5d-udkm-synth"))
    command = shlex.split(synth.split("#")[0].replace("/tmp/udkm", target))
    command[0] = shutil.which(command[0], path=str(Path(sys.executable).parent)) or command[0]
    subprocess.run(command, check=True, capture_output=True)
    namespace = {}
    shown = blocks("quickstart.md", "text")
    for n, code in enumerate(blocks("quickstart.md", "python")):
        exec(code.replace("/tmp/udkm", target), namespace)  # the page's own example
        if n == 0:  # before the spice is seeded: the default grid
            assert repr(namespace["proposal"]).splitlines()[1:] == shown[1].splitlines()
            assert shown[2].splitlines()[1] == str(namespace["scan"].cooked.qdata.sizes)
    scan = namespace["scan"]
    listing = shown[0].splitlines()
    command = shlex.split(listing[0].removeprefix("$ ").replace("/tmp/udkm", target))
    command[0] = shutil.which(command[0], path=str(Path(sys.executable).parent)) or command[0]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    assert done.stdout.replace(target, "/tmp/udkm").splitlines() == listing[1:]  # the output the page shows
    assert scan.cooked.qdata.shape == (8, 60, 120)  # re-cooked with the seeded grid
    assert namespace["proposal"].spice.view(scan.key)["settings"].img_distance == 690.0


def test_loading_data_in_memory_example_runs_as_written():
    namespace = {}
    exec(blocks("loading-data.md", "python")[0], namespace)  # the page's own example
    simple = namespace["simple"]
    assert simple.all() == {"alpha": "alpha", "bravo": "bravo", "charlie": "charlie"}
    assert simple.alpha.keys() == ["a0", "a1", "a2", "a3"]
    assert "Nonsensical Demo Scan Class" in repr(simple.alpha)
    assert simple.alpha.a0.raw == ("alpha", "a0")
    assert simple.charlie.c3.cooked == ("CHARLIE", "C3")


def test_jupyter_page_examples_run_as_written(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from nx5d_udkm.synth import REFERENCE_DELAYS, ScanSpec, write_repository

    target = str(tmp_path / "udkm")
    write_repository(target, spec=ScanSpec(delays=REFERENCE_DELAYS[:4], frames=84))
    code = blocks("jupyter-and-tools.md", "python")
    namespace = {}
    exec(code[0].replace("/tmp/udkm", target), namespace)  # browsing
    proposal = namespace["proposal"]
    assert "20210205" in namespace["repo"]
    assert proposal.ls("09*") == {"091726": "r091726"}
    namespace["scan"] = proposal.latest  # the page's earlier pages name it
    for block in code[1:]:
        exec(block.replace("/tmp/udkm", target), namespace)  # the page's own examples
    assert list(namespace["table"].index) == ["091726"]
    raw = namespace["raw"]  # the last one opened: through the xarray engine, by scan URL
    assert raw["images"].shape == (84, 195, 487)
    assert raw["delay"].attrs["units"] == "ps"
    assert len(namespace["fig"].axes) >= 2  # both panels drawn into the user's figure


def test_cooking_page_intensity_per_frame_example_runs_and_compares_groups_of_unequal_frames(tmp_path):
    """The page's "what a map value means" example on a scan interrupted in its last loop: the delay measured
    in two of three loops holds two thirds of the counts, and the same intensity per frame within the errors."""
    import nx5d
    from nx5d_udkm.synth import ScanSpec, write_repository

    thetas = tuple(round(18.3 + 0.05 * i, 2) for i in range(13))
    spec = ScanSpec(variant="tRSS", delays=(-10.0, -8.0, -6.0), thetas=thetas, delay_loops=3, frames=8 * 13)
    proposal = nx5d.open(write_repository(tmp_path / "udkm", spec=spec), spice_url="").p20210205
    (example,) = [b for b in blocks("cooking.md", "python") if "intensity_variance" in b]
    namespace = {"proposal": proposal}
    exec(example, namespace)  # the page's own example
    frames = namespace["maps"].frames.values
    assert frames.tolist() == [39, 39, 26]  # the last delay: two loops of 13 thetas
    intensity, error = namespace["intensity"].values, namespace["error"].values
    assert intensity[2] / intensity[0] == pytest.approx(2 / 3, rel=0.05)
    per_frame, per_frame_error = namespace["per_frame"].values, namespace["per_frame_error"].values
    assert abs(per_frame[2] - per_frame[0]) < 3 * np.hypot(per_frame_error[2], per_frame_error[0])
    np.testing.assert_allclose(error, np.sqrt(intensity), rtol=1e-6)  # no monitor: the counts' Poisson error


def _names(code):
    """The names a block defines (assigns, imports, defines) and the capitalised names it reads."""
    import ast

    tree = ast.parse(textwrap.dedent(code))
    defined, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else read).add(node.id)
    return defined, {name for name in read if name[:1].isupper()}


def test_no_example_uses_a_class_it_never_defines_or_imports():
    """Every class a page's Python examples use is defined or imported in one of them (or a builtin)."""
    import builtins

    undefined = []
    for page in sorted(DOCS.rglob("*.md")):
        code = blocks(page.relative_to(DOCS), "python")
        found = [_names(block) for block in code]
        defined = set(dir(builtins)).union(*(d for d, _ in found))
        undefined += [f"{page.name}: {name}" for _, read in found for name in sorted(read - defined)]
    assert undefined == []


def test_the_url_pattern_example_of_the_plugin_page_shows_what_python_prints():
    """Each commented line of the page's ``path_segments`` example evaluates to what its comment shows."""
    (code,) = [textwrap.dedent(b) for b in blocks("writing-a-plugin.md", "python") if "path_segments" in b]
    namespace: dict = {}
    checked = 0
    for line in code.splitlines():
        expression, _, shown = line.partition("  # ")
        if not shown:
            exec(line, namespace)  # the page's own example
            continue
        assert repr(eval(expression, namespace)) == shown, line
        checked += 1
    assert checked == 3


def _plugins_json():
    command = shutil.which("nx5d", path=str(Path(sys.executable).parent)) or "nx5d"
    done = subprocess.run([command, "plugins", "--json"], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def test_the_plugins_json_is_what_the_plugin_page_documents():
    """Every object has the documented keys in order with the documented JSON types; the page's two objects are
    what the command prints for those beamlines."""
    from .test_contributor_docs import table_rows

    rows = table_rows("writing-a-plugin.md", "The plugins as JSON")
    keys = [key.strip("`") for key, _, _ in rows]
    kinds = {"string": str, "null": type(None), "array of objects": list}
    printed = _plugins_json()
    assert {"memory", "spec", "nexus"} <= {p["name"] for p in printed}
    for plugin in printed:
        assert list(plugin) == keys, plugin["name"]
        for key, types, _ in rows:
            allowed = tuple(kinds[t] for t in types.split(" or "))
            assert isinstance(plugin[key.strip("`")], allowed), (plugin["name"], key, plugin[key.strip("`")])
        assert plugin["kind"] in ("beamline", "extension")
        assert plugin["state"] in ("loaded", "available", "broken")
        assert plugin["level"] in ("GENERIC", "FORMAT", "BEAMLINE", None)
        for option in plugin["option details"]:
            assert list(option) == ["name", "type", "default", "help"]
    (example,) = blocks("writing-a-plugin.md", "json")
    by_name = {p["name"]: p for p in printed}
    for documented in json.loads(example):
        assert documented == by_name[documented["name"]]
