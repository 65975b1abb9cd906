"""Scan selection and output naming of batch cooking (the cooking itself is tested across distributions)."""

import pytest

import nx5d
from nx5d.app.batch import output_path, select_scans
from nx5d.errors import NotSupportedError, OptionError
from nx5d.plugins.discovery import PluginRegistry

KEYS = ["1.1", "2.1", "10.1", "11.1"]


def test_select_scans():
    assert select_scans(KEYS, None) == KEYS
    assert select_scans(KEYS, "1*") == ["1.1", "10.1", "11.1"]
    assert select_scans(KEYS, ["10.1", "2.1"]) == ["10.1", "2.1"]
    with pytest.raises(OptionError, match=r"no scan key matches '3\*'"):
        select_scans(KEYS, "3*")
    with pytest.raises(OptionError, match=r"no scan\(s\) 9.1"):
        select_scans(KEYS, ["9.1"])


def test_output_path(tmp_path):
    assert output_path(tmp_path, "p", "1.1", "netcdf") == tmp_path / "p" / "1.1.nc"
    assert output_path(tmp_path, "p", "1.1", "zarr") == tmp_path / "p" / "1.1.zarr"
    with pytest.raises(OptionError, match="'hdf4' is not one of netcdf, zarr"):
        output_path(tmp_path, "p", "1.1", "hdf4")


def test_in_memory_spice_cannot_reach_worker_processes(tmp_path):
    class Beamline:
        NX5D_PLUGIN_API = 1

        @nx5d.hookimpl
        def nx5d_beamline_info(self):
            return nx5d.BeamlineInfo("a tiny test beamline", schemes=("memory",))

        @nx5d.hookimpl
        def nx5d_list_proposals(self, repository):
            return ["p"]

        @nx5d.hookimpl
        def nx5d_list_scans(self, proposal):
            return ["1"]

    registry = PluginRegistry(discover=False)
    registry.register_beamline("tiny", Beamline())
    repo = nx5d.open("memory://x/{proposal}/{scan}", beamline="tiny", registry=registry, spice_url="")
    with pytest.raises(NotSupportedError, match="in-memory spice"):
        repo["p"].cook(out=tmp_path)
