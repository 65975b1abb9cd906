"""The Diamond I16 plugin printed in full on "Writing a beamline plugin" works as printed.

The page's code block is written into ``tmp_path`` as an installed
distribution (a module and its ``nx5d.beamlines`` entry point), discovered
beside every bundled plugin, and opens real I16 files of
``../shared/corpus/set-b`` (copied into ``tmp_path`` in a visit folder, as
at the beamline): it is chosen over the generic ``nexus`` beamline, lists,
summarises and loads them, and the photon energy it reads puts the
(0 0 12) reflection of scan 794932 where the detector arm stood.
"""

from __future__ import annotations

import math
import re
import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import nx5d
from nx5d.plugins.discovery import PluginRegistry

from .shared import shared_path
from .test_contributor_docs import install_module
from .test_plugin_sizes import code_lines

PAGE = Path(__file__).parents[1] / "docs" / "writing-a-plugin.md"
#: hc in eV Å (CODATA 2018).
HC_EV_ANGSTROM = 12398.419843320026


def i16_plugin() -> str:
    """The page's I16 plugin: the one Python block that defines ``written_at_i16``."""
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S) if "written_at_i16" in b]
    return block


def test_the_i16_example_is_at_most_40_lines_of_code_as_the_page_says(tmp_path):
    path = tmp_path / "plugin.py"
    path.write_text(i16_plugin())
    count = code_lines(path)
    print(f"the docs' I16 plugin: {count} lines of code")  # shown with -s
    assert count <= 40
    assert (
        int(re.search(r"I16 \(GDA's NeXus files, one per scan\) is (\d+)\s+lines of code", PAGE.read_text())[1])
        == count
    )


@pytest.fixture
def i16(tmp_path, monkeypatch):
    """The repository of a visit folder holding real I16 files, opened with the page's plugin installed."""
    visit = tmp_path / "data" / "mm00001-1"
    visit.mkdir(parents=True)
    for name in ("794932.nxs", "782761.nxs", "1040323.nxs"):  # GDA 9 and the newer writer
        shutil.copy(shared_path("corpus", "set-b", "dls-i16", name), visit)
    (tmp_path / "site").mkdir()
    install_module(tmp_path / "site", "nx5d_i16_example", i16_plugin(), beamline="i16")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    registry = PluginRegistry()
    assert {"i16", "nexus"} <= set(registry.names())  # discovered beside every bundled plugin
    return nx5d.open(f"file://{tmp_path}/data/{{proposal}}/{{scan}}.nxs", registry=registry, spice_url="")


def test_the_i16_example_is_chosen_and_lists_summarises_and_loads_real_files(i16):
    assert i16.beamline == "i16"  # its content check, at the beamline level, wins over the generic reader
    proposal = i16["mm00001-1"]
    assert proposal.all() == {"782761": "s782761", "794932": "s794932", "1040323": "s1040323"}
    summary = proposal.s794932.summary
    assert (summary["type"], summary["motor"], summary["steps"], summary["detector"]) == (
        "scan",
        "eta",
        61,
        "pil3_100k",
    )
    assert proposal.s1040323.summary["steps"] == 21
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Pilatus TIFFs were not carried home: named in test_real_corpus
        raw = proposal.s794932.load(frames="skip")
    with h5py.File(shared_path("corpus", "set-b", "dls-i16", "794932.nxs"), "r") as handle:
        np.testing.assert_array_equal(raw.eta.values, handle["entry1/measurement/eta"][()])


def test_the_energy_the_i16_example_reads_puts_the_reflection_where_delta_stood(i16):
    """Scan 794932 rocks eta through (0 0 12) of a hexagonal cell (c from the file's ``xtlinfo``): Bragg's law with
    the photon energy the plugin reads and the detector arm's angle gives d = c / 12."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = i16["mm00001-1"].s794932.load(frames="skip")
    settings = i16["mm00001-1"].spice.view("794932")["settings"]
    assert settings.energy == "photon_energy"  # the plugin's default: the file's energy
    wavelength = HC_EV_ANGSTROM / float(raw[settings.energy])
    two_theta = math.radians(float(np.mean(raw[settings.detector_motors[0]].values)))
    with h5py.File(shared_path("corpus", "set-b", "dls-i16", "794932.nxs"), "r") as handle:
        c = float(handle["entry1/before_scan/xtlinfo/c"][()])
        hkl = [float(handle[f"entry1/before_scan/diffractometer_sample/{n}"][()]) for n in "hkl"]
    assert [round(v) for v in hkl] == [0, 0, 12]
    assert wavelength / (2 * math.sin(two_theta / 2)) == pytest.approx(c / 12, rel=1e-5)  # 1.5e-7 measured
