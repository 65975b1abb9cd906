"""Without the nx5d-index distribution: listings and summaries are read from the files, searching says what to install.

The distribution is made unimportable for the test (``sys.modules`` holds
``None`` for it, as Python does for a module that must not be imported), and
so its extension does not load, as when it is not installed.
"""

import sys

import pytest

import nx5d
from nx5d.app.cli import main
from nx5d.errors import NotSupportedError
from nx5d.plugins.discovery import PluginRegistry

INSTALL = r"needs the nx5d-index distribution, which is not installed: pip install 'nx5d-index' .*'\./nx5d-index'"


@pytest.fixture
def without_index(monkeypatch):
    for name in [m for m in sys.modules if m == "nx5d_index" or m.startswith("nx5d_index.")] + ["nx5d_index"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(nx5d.__dict__, "scan_index", raising=False)


def test_search_names_the_distribution_to_install(without_index, memory_url):
    repo = nx5d.open(memory_url, registry=PluginRegistry())  # its entry point, if any, fails to load: no extension
    assert [row["scan"] for row in repo["20210205"].summaries()] == ["9", "10", "091726"]  # read from the files
    with pytest.raises(NotSupportedError, match=r"repo\.search " + INSTALL):
        repo.search(type="rocking")
    with pytest.raises(NotSupportedError, match=r"proposal\.search " + INSTALL):
        repo["20210205"].search()
    with pytest.raises(NotSupportedError, match=r"nx5d\.scan_index " + INSTALL):
        nx5d.scan_index  # noqa: B018 - the attribute access is the test


def test_nx5d_search_names_the_distribution_to_install(without_index, memory_url, capsys):
    assert main(["search", memory_url, "--type", "rocking"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nx5d: error: nx5d search needs the nx5d-index distribution"), err
    assert "Traceback" not in err
