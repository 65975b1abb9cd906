"""The photon energy and the detector's frame shape of real NeXus files (``../shared/corpus``), each checked
against another place in the same file that states it, read here with h5py.

Which file gives which energy, read from where, checked against what:

* Diamond I16, GDA 9 (``794932.nxs`` 8300.0 eV, ``782761.nxs`` 14000.0,
  ``879486.nxs`` 2838.0, ``1049598.nxs`` 3580.0; the NeXus example data's
  ``538039.nxs`` 5223.0): ``sample/beam/incident_energy`` (no units: keV by
  its size), against ``before_scan/mono/en`` (keV) and
  ``sample/beam/incident_wavelength`` (nm);
* Diamond I16, the newer writer (``1040323.nxs`` and ``1054135.nxs``,
  9000.0 eV): the same place, against ``instrument/mono/en`` and the wavelength;
* Diamond I06 (``i06-353130.nxs``, soft X-rays, 707.4 eV):
  ``sample/beam/incident_energy`` (eV), against ``instrument/pgm/energy``;
* Diamond I04's NXmx Eiger master (``Therm_6_2.nxs``, 12647.9 eV):
  ``instrument/beam/incident_wavelength`` (Å), its only statement;
* APS 15-ID-D areaDetector (``AgBehenate_228.hdf5``, 16900.1 eV):
  ``instrument/monochromator/energy`` (keV), against its ``wavelength`` (Å);
* ESRF ID01 BLISS (``PTO_STO_SL_0001.h5``, 10000.0 eV):
  ``instrument/monochromator/Energy`` (no units: eV by its size), against
  ``WaveLength`` (no units: metres by its size);
* Diamond I07, SOLEIL DiffAbs: no energy stated, none read.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

import nx5d

from .shared import shared_path

#: hc in eV Å (CODATA 2018), written out here rather than taken from the code under test.
HC_EV_ANGSTROM = 12398.419843320026

#: Where GDA 9 states the energy again: the monochromator before the scan (keV) and the wavelength (nm).
GDA9 = [("before_scan/mono/en", 1e3), ("sample/beam/incident_wavelength", "nm")]
#: The same for GDA's newer writer.
GDA = [("instrument/mono/en", 1e3), ("sample/beam/incident_wavelength", "nm")]
# (file under corpus/, scan group, the energy (eV) to 0.1 eV, [(other place, factor to eV or "nm"/"A"/"m")])
ENERGIES = [
    ("set-b/dls-i16/794932.nxs", "entry1", 8300.0, GDA9),
    ("set-b/dls-i16/782761.nxs", "entry1", 14000.0, GDA9),
    ("set-b/dls-i16/879486.nxs", "entry1", 2838.0, GDA9),
    ("set-b/dls-i16/1049598.nxs", "entry1", 3580.0, GDA9),
    ("set-b/dls-i16/1040323.nxs", "entry", 9000.0, GDA),
    ("set-b/dls-i16/1054135.nxs", "entry", 9000.0, GDA),
    ("set-a/nexus-exampledata/538039.nxs", "entry1", 5223.0, GDA9),
    ("set-b/dls-i06/i06-353130.nxs", "entry", 707.4, [("instrument/pgm/energy", 1.0)]),
    ("set-b/nexus-exampledata/dls-i04/Therm_6_2.nxs", "entry", 12647.9, [("instrument/beam/incident_wavelength", "A")]),
    ("set-b/nexus-exampledata/aps-15idd/AgBehenate_228.hdf5", "entry", 16900.1,
     [("instrument/monochromator/wavelength", "A")]),
    ("set-a/id01-sxdm-utils/PTO_STO_SL_0001.h5", "20.1", 10000.0, [("instrument/monochromator/WaveLength", "m")]),
]  # fmt: skip
WITHOUT = [
    "set-b/dls-i07/i07-404875.nxs",
    "set-b/dls-i07/i07-404876.nxs",
    "set-b/nexus-exampledata/soleil-diffabs/file_2.nxs",
]


def _scan(relative, entry):
    path = shared_path("corpus", *relative.split("/"))
    proposal = nx5d.open(str(path), spice_url="")[path.stem]
    return path, proposal[entry]


def _load(scan):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # detector files carried home without them: named in other tests
        return scan.load(frames="skip")


def _in_ev(handle, place, unit):
    value = float(np.asarray(handle[place][()]).ravel()[0])
    if unit in ("nm", "A", "m"):
        return HC_EV_ANGSTROM / (value * {"nm": 10.0, "A": 1.0, "m": 1e10}[unit])
    return value * unit


@pytest.mark.parametrize(
    ("relative", "entry", "energy", "elsewhere"), ENERGIES, ids=[e[0].rsplit("/", 1)[1] for e in ENERGIES]
)
def test_the_photon_energy_of_real_files_agrees_with_what_they_state_elsewhere(relative, entry, energy, elsewhere):
    path, scan = _scan(relative, entry)
    raw = _load(scan)
    found = raw["photon_energy"]
    assert found.attrs["units"] == "eV"
    assert float(found) == pytest.approx(energy, abs=0.05)
    with h5py.File(path, "r") as handle:
        for place, unit in elsewhere:
            assert float(found) == pytest.approx(_in_ev(handle[entry], place, unit), rel=1e-6), place


@pytest.mark.parametrize("relative", WITHOUT, ids=[w.rsplit("/", 1)[1] for w in WITHOUT])
def test_real_files_stating_no_energy_get_none(relative):
    path = shared_path("corpus", *relative.split("/"))
    proposal = nx5d.open(str(path), spice_url="")[path.stem]
    assert "photon_energy" not in _load(proposal[proposal.keys()[0]])


@pytest.mark.parametrize(
    ("relative", "entry", "frames"),
    [
        ("set-b/nexus-exampledata/aps-15idd/AgBehenate_228.hdf5", "entry", "data/data"),  # one image
        ("set-b/nexus-exampledata/dls-i04/Therm_6_2.nxs", "entry", "data/data"),  # a virtual dataset, sources absent
        ("set-a/id01-sxdm-utils/PTO_STO_SL_0001.h5", "20.1", "instrument/mpx1x4/data"),
    ],
)
def test_the_summary_of_real_files_gives_the_frame_shape_their_frames_dataset_has(relative, entry, frames):
    path, scan = _scan(relative, entry)
    with h5py.File(path, "r") as handle:
        shape = list(handle[entry][frames].shape[-2:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert scan.summary["frame_shape"] == shape


def test_gda_s_lists_of_tiff_files_give_no_frame_shape_where_the_files_are_absent():
    """The frame shape of a TIFF list comes from the first file's header; I16's ``module/data_size`` is no
    substitute: GDA 9 writes (columns, rows), the newer writer (rows, columns)."""
    _, scan = _scan("set-b/dls-i16/794932.nxs", "entry1")
    summary = scan.summary
    assert summary["detector"] == "pil3_100k"
    assert "frame_shape" not in summary
