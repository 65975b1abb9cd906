"""``nx5d new-plugin``: the generated distribution installs and passes its own tests, conformance kit included."""

import ast
import json
import subprocess
import sys
import tomllib

import pytest

from nx5d.app.cli import main
from nx5d.app.scaffold import new_plugin, nx5d_requirement
from nx5d.errors import OptionError

pytest.importorskip("h5py")


def run(*args, cwd=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, check=False)


@pytest.fixture
def generated(tmp_path):
    assert main(["new-plugin", "scaffoldtest", "--dir", str(tmp_path), "--description", "a test beamline"]) == 0
    folder = tmp_path / "nx5d-scaffoldtest"
    done = run("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(folder))
    assert done.returncode == 0, done.stderr
    yield folder
    run("-m", "pip", "uninstall", "-q", "-y", "nx5d-scaffoldtest")


def code_lines(path):
    """Lines of Python code in a file: not blank, not comments, not docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        first = (getattr(node, "body", None) or [None])[0] if isinstance(getattr(node, "body", None), list) else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = path.read_text().splitlines()
    return sum(
        1
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.strip().startswith("#") and number not in docstrings
    )


def test_a_new_nexus_beamline_is_under_100_lines_of_code(generated):
    package = generated / "src" / "nx5d_scaffoldtest"
    counted = {name: code_lines(package / name) for name in ("__init__.py", "plugin.py")}
    print(f"plugin code: {counted}")  # shown with -s; the closing note quotes it
    assert sum(counted.values()) < 100


def test_generated_plugin_installs_and_passes_its_own_tests(generated):
    tests = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=generated)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "failed" not in tests.stdout
    assert " passed" in tests.stdout
    assert "TestConformance" in run("-m", "pytest", "--collect-only", "-q", "tests", cwd=generated).stdout
    plugins = json.loads(run("-m", "nx5d", "plugins", "--json").stdout)
    (row,) = [r for r in plugins if r["name"] == "scaffoldtest"]
    assert row["state"] == "loaded"
    assert row["distribution"] == "nx5d-scaffoldtest"


def test_generated_files_mark_the_places_to_fill_in(tmp_path):
    folder = new_plugin("p08_xrd", tmp_path)
    plugin = (folder / "src" / "nx5d_p08_xrd" / "plugin.py").read_text()
    assert plugin.count("FILL IN") >= 4
    assert "FILL IN" in (folder / "src" / "nx5d_p08_xrd" / "synth.py").read_text()
    pyproject = (folder / "pyproject.toml").read_text()
    assert 'p08_xrd = "nx5d_p08_xrd.plugin"' in pyproject
    assert f'"nx5d-core[hdf5]{nx5d_requirement()}"' in pyproject
    assert f'"nx5d-nexus{nx5d_requirement()}"' in pyproject
    assert folder.name == "nx5d-p08-xrd"
    assert "$" not in plugin + pyproject  # every placeholder was filled


@pytest.mark.parametrize("description", ['the "quoted" beamline', "back\\slash C:\\data", "émoji ✓ and 'single'"])
def test_any_one_line_description_gives_files_that_parse(tmp_path, description):
    folder = new_plugin("quoting", tmp_path, description=description)
    assert tomllib.loads((folder / "pyproject.toml").read_text())["project"]["description"] == description
    plugin = (folder / "src" / "nx5d_quoting" / "plugin.py").read_text()
    ast.parse(plugin)
    ast.parse((folder / "src" / "nx5d_quoting" / "__init__.py").read_text())
    assert f"description={json.dumps(description, ensure_ascii=False)}," in plugin


def test_multi_line_descriptions_are_refused_and_home_is_expanded(tmp_path, monkeypatch):
    with pytest.raises(OptionError, match="one line"):
        new_plugin("lines", tmp_path, description="first\nsecond")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert new_plugin("home", "~/plugins") == tmp_path / "plugins" / "nx5d-home"
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize("bad", ["P08", "8p", "my-beam", "", "a b"])
def test_bad_names_are_refused(tmp_path, bad):
    with pytest.raises(OptionError, match="beamline name"):
        new_plugin(bad, tmp_path)
    assert not any(tmp_path.iterdir())


def test_an_existing_folder_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "nx5d-taken").mkdir()
    (tmp_path / "nx5d-taken" / "mine.txt").write_text("keep")
    assert main(["new-plugin", "taken", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "nx5d-taken").iterdir()] == ["mine.txt"]


def test_requirement_follows_the_release_series():
    assert nx5d_requirement("0.1.0") == ">=0.1,<0.2"
    assert nx5d_requirement("1.4.2") == ">=1.4,<2"
    assert nx5d_requirement("0+unknown") == ""
