"""``nx5d new-plugin``: the generated distribution installs and passes its own tests, conformance kit included."""

import ast
import json
import subprocess
import sys
import tomllib

import pytest

from nx5d.app.cli import main
from nx5d.app.scaffold import TEMPLATES, new_plugin, nx5d_requirement
from nx5d.errors import OptionError

#: What each template's generated plugin imports besides the core.
NEEDS = {"nexus": ("h5py", "nx5d_nexus", "nx5d_rsm"), "text": ("tifffile", "nx5d_tiff", "nx5d_rsm")}
NEEDS["folder"] = NEEDS["text"]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, check=False)


@pytest.fixture(params=TEMPLATES)
def generated(tmp_path, request):
    """A generated plugin installed into this environment, named after its template: the templates' tests run in
    parallel (pytest-xdist), and plugins of one name would replace each other's installation midway."""
    for module in NEEDS[request.param]:
        pytest.importorskip(module)
    name = f"scaffold{request.param}"
    args = ["new-plugin", name, "--dir", str(tmp_path), "--description", "a test beamline"]
    assert main([*args, "--template", request.param]) == 0
    folder = tmp_path / f"nx5d-{name}"
    done = run("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(folder))
    assert done.returncode == 0, done.stderr
    yield name, folder
    run("-m", "pip", "uninstall", "-q", "-y", f"nx5d-{name}")


def test_generated_plugin_installs_and_passes_its_own_tests(generated):
    name, folder = generated
    tests = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=folder)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "failed" not in tests.stdout
    assert " passed" in tests.stdout
    assert "TestConformance" in run("-m", "pytest", "--collect-only", "-q", "tests", cwd=folder).stdout
    plugins = json.loads(run("-m", "nx5d", "plugins", "--json").stdout)
    (row,) = [r for r in plugins if r["name"] == name]
    assert row["state"] == "loaded"
    assert row["distribution"] == f"nx5d-{name}"


@pytest.mark.parametrize("template", TEMPLATES)
def test_generated_files_mark_the_places_to_fill_in(tmp_path, template):
    folder = new_plugin("p08_xrd", tmp_path, template=template)
    plugin = (folder / "src" / "nx5d_p08_xrd" / "plugin.py").read_text()
    assert plugin.count("FILL IN") >= 4
    assert "FILL IN" in (folder / "src" / "nx5d_p08_xrd" / "synth.py").read_text()
    pyproject = (folder / "pyproject.toml").read_text()
    assert 'p08_xrd = "nx5d_p08_xrd.plugin"' in pyproject
    assert tomllib.loads(pyproject)["project"]["dependencies"][0].startswith("nx5d-core")
    assert f'"nx5d-rsm{nx5d_requirement()}"' in pyproject
    assert (f'"nx5d-nexus{nx5d_requirement()}"' in pyproject) == (template == "nexus")
    assert (f'"nx5d-tiff{nx5d_requirement()}"' in pyproject) == (template != "nexus")
    assert folder.name == "nx5d-p08-xrd"
    assert "$" not in plugin + pyproject  # every placeholder was filled
    assert f"--template {template}" in (folder / "README.md").read_text()


def test_an_unknown_template_is_refused(tmp_path):
    with pytest.raises(OptionError, match="template 'hdf5' is none of nexus, text, folder"):
        new_plugin("t", tmp_path, template="hdf5")
    assert not any(tmp_path.iterdir())


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
