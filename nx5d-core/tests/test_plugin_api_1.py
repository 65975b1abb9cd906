"""A plugin written for plugin API 1 (nx5d 0.1) is reported as such, with the porting guide: no bare ImportError."""

import itertools
import re
from pathlib import Path

import pytest

import nx5d
from nx5d.app.cli import main
from nx5d.deprecation import PORTING_GUIDE
from nx5d.errors import BeamlineLoadError, PluginApiMismatchError
from nx5d.plugins import Beamline, discovery
from nx5d.plugins.discovery import BEAMLINE_GROUP, PluginRegistry

DOCS = Path(__file__).parents[2] / "docs"
GUIDE = re.escape(PORTING_GUIDE)

#: The module of a plugin of nx5d 0.1, as its scaffold wrote it (its first lines are what fails today).
API_1_PLUGIN = """
import nx5d
{imports}

NX5D_PLUGIN_API = 1


@nx5d.hookimpl
def nx5d_beamline_info():
    return BeamlineInfo(description="an nx5d 0.1 plugin", url_patterns=("file:///…/{{proposal}}/{{scan}}.h5",))
"""

_numbers = itertools.count()


@pytest.fixture
def install(tmp_path, monkeypatch):
    """``install(source)``: a distribution of one beamline plugin module, found through its entry point."""

    def installed(source: str) -> str:
        number = next(_numbers)
        name, module = f"api1-{number}", f"nx5d_api1_plugin_{number}"
        (tmp_path / f"{module}.py").write_text(source)
        info = tmp_path / f"nx5d_old_{number}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: nx5d-old-{number}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[{BEAMLINE_GROUP}]\n{name} = {module}\n")
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    return installed


def test_the_porting_guide_named_is_a_page_of_the_docs():
    (page,) = re.findall(r"docs/(\S+\.md)", PORTING_GUIDE)
    assert (DOCS / page).is_file()


def test_a_plugin_declaring_plugin_api_1_is_sent_to_the_porting_guide():
    class Old:
        NX5D_PLUGIN_API = 1
        NX5D_BEAMLINE = Beamline("an nx5d 0.1 plugin")

    registry = PluginRegistry(discover=False)
    expected = rf"beamline plugin 'old' \(nx5d-old\) was written for plugin API 1; .*provides plugin API 2: see {GUIDE}"
    with pytest.raises(PluginApiMismatchError, match=expected):
        registry.register_beamline("old", Old(), distribution="nx5d-old")
    assert registry.status("old").state == "broken"
    assert "written for plugin API 1" in registry.status("old").describe()


@pytest.mark.parametrize(
    ("imports", "old", "new"),
    [
        ("from nx5d import hdf5\nfrom nx5d.info import BeamlineInfo", "nx5d.hdf5", "nx5d.io.hdf5"),
        ("from nx5d.info import BeamlineInfo", "nx5d.info", "the declaration nx5d.plugins.Beamline"),
        ("from nx5d import BeamlineInfo", "nx5d.BeamlineInfo", "the declaration nx5d.plugins.Beamline"),
        ("from nx5d.fs import Storage\nfrom nx5d import BeamlineInfo", "nx5d.fs", "nx5d.io.storage"),
        ("from nx5d.rsm import Setup, map_frames\nfrom nx5d import BeamlineInfo", "nx5d.rsm", "nx5d_rsm"),
    ],
)
def test_a_plugin_whose_import_fails_on_a_plugin_api_1_name_is_sent_to_the_porting_guide(install, imports, old, new):
    name = install(API_1_PLUGIN.format(imports=imports))
    registry = PluginRegistry()
    with pytest.raises(PluginApiMismatchError) as info:
        registry.load(name)
    status = registry.status(name)
    assert status.state == "broken"
    assert f"it was written for plugin API 1 ({old} is {new}" in status.error
    assert status.error.endswith(f"see {PORTING_GUIDE}")
    assert status.error.startswith("importing nx5d_api1_plugin_")  # what failed, then why
    assert isinstance(info.value.__cause__, ImportError)  # the original error stays attached
    assert "nx5d-old-" in str(info.value)  # the distribution to port (or uninstall)


def test_a_plugin_failing_on_another_import_is_not_called_an_api_1_plugin(install):
    name = install("import nx5d_never_installed_anywhere\nNX5D_PLUGIN_API = 2\n")
    registry = PluginRegistry()
    with pytest.raises(BeamlineLoadError) as info:
        registry.load(name)
    assert not isinstance(info.value, PluginApiMismatchError)
    assert "No module named 'nx5d_never_installed_anywhere'" in registry.status(name).error
    assert "plugin API 1" not in registry.status(name).error


def test_hooks_only_plugin_api_1_had_point_to_the_declaration():
    class HalfPorted:
        NX5D_PLUGIN_API = 2
        NX5D_BEAMLINE = Beamline("a plugin that kept its API 1 claim")

        @nx5d.hookimpl
        def nx5d_claim(self, pattern, storage):
            return 1.0

    registry = PluginRegistry(discover=False)
    expected = (
        r"implements unknown hook\(s\): nx5d_claim; written for plugin API 1\? The declaration says it now "
        rf"\(nx5d_claim: Beamline\(schemes=, suffixes=, anchor=, accepts=, recognises=, level=\)\); see {GUIDE}"
    )
    with pytest.raises(BeamlineLoadError, match=expected):
        registry.register_beamline("half", HalfPorted())


def test_nx5d_plugins_shows_the_plugin_written_for_plugin_api_1(install, monkeypatch, capsys):
    name = install(API_1_PLUGIN.format(imports="from nx5d import hdf5"))
    monkeypatch.setattr(discovery, "_REGISTRY", PluginRegistry())
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"{name}\s+beamline\s+nx5d-old-\d+\s+0\.1\.0\s+broken", out)
    assert f"\n{name}: importing nx5d_api1_plugin_" in out
    assert f"written for plugin API 1 (nx5d.hdf5 is nx5d.io.hdf5 now); see {PORTING_GUIDE}" in out
    assert re.search(r"memory\s+beamline\s+nx5d-memory\s+\S+\s+loaded", out)  # the others are not disturbed
