"""The photon energy from the places NeXus keeps it, and the detector's frame shape in summaries (generated files).

The real files of ``../shared/corpus`` are read in the cross-distribution
tests (``tests/test_nexus_energy_files.py``).
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

import nx5d
from nx5d.errors import SpiceValidationError
from nx5d_nexus.energy import photon_energy
from nx5d_nexus.synth import ENERGY_KEV, FRAME_SHAPE, write_repository

#: hc in eV Å, written out here (CODATA 2018) rather than taken from the code under test.
HC_EV_ANGSTROM = 12398.419843320026
RSM = {
    "settings": {"sample_motors": ["eta"], "detector_motors": ["delta"], "grid_size": [20, 30], "img_center": [12, 10]}
}


def _open(tmp_path, layout, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr warns about string attributes' future specification
        url = write_repository(tmp_path / "data", {"hc2103": [1]}, layout, **kwargs)
    proposal = nx5d.open(url, spice_url="").hc2103
    return proposal[proposal.keys()[0]]


@pytest.mark.parametrize("layout", ["bliss", "gda", "zarr"])
def test_the_photon_energy_is_read_in_ev_from_each_layout_s_place_and_units(tmp_path, layout):
    """BLISS-like: NXmonochromator energy in keV; GDA: NXbeam incident_energy without units; Zarr: wavelength in Å."""
    raw = _open(tmp_path, layout).raw
    energy = raw["photon_energy"]
    assert energy.dims == ()
    assert energy.attrs["units"] == "eV"
    assert float(energy) == pytest.approx(ENERGY_KEV * 1000.0, rel=1e-12)
    source = {"bliss": "monochromator/energy (keV)", "gda": "sample/beam/incident_energy (no units; by its size)",
              "zarr": "monochromator/wavelength (angstrom)"}[layout]  # fmt: skip
    assert energy.attrs["source"].endswith(source)


def test_maps_use_the_file_s_energy_unless_the_spice_gives_one(tmp_path):
    scan = _open(tmp_path, "bliss")
    by_file = scan.cook(RSM)
    given = scan.cook({"settings": {**RSM["settings"], "energy": ENERGY_KEV * 1000.0}})
    np.testing.assert_array_equal(by_file.qdata.values, given.qdata.values)
    np.testing.assert_allclose(by_file.qz.values, given.qz.values, rtol=1e-12)
    other = scan.cook({"settings": {**RSM["settings"], "energy": 8048.0}})
    # q scales with the energy at fixed angles: the grid's extent follows 11.5 keV / 8.048 keV
    ratio = float(by_file.qz.max() - by_file.qz.min()) / float(other.qz.max() - other.qz.min())
    assert ratio == pytest.approx(ENERGY_KEV * 1000.0 / 8048.0, rel=1e-6)


def test_a_map_of_a_file_stating_no_energy_says_which_spice_field_to_give_in_ev(tmp_path):
    scan = _open(tmp_path, "bliss")
    with h5py.File(tmp_path / "data" / "hc2103" / "hc2103.h5", "a") as handle:
        del handle["1.1/instrument/monochromator"]
    assert "photon_energy" not in scan.raw
    with pytest.raises(SpiceValidationError, match=r"give the photon energy in eV as the 'settings' spice's energy"):
        scan.cook(RSM)
    assert scan.cook({"settings": {**RSM["settings"], "energy": 9000.0}}).qdata.sizes == {"qy": 20, "qz": 30}


def _entry(tmp_path, members, points=4):
    """A scan group with ``members``: ``{path: (value, units or None)}`` (groups classed by their name's end)."""
    handle = h5py.File(tmp_path / "energy.h5", "w")
    entry = handle.create_group("entry")
    entry.attrs["NX_class"] = "NXentry"
    entry.create_group("instrument").attrs["NX_class"] = "NXinstrument"
    entry.create_group("sample").attrs["NX_class"] = "NXsample"
    for path, (value, units) in members.items():
        group_path, _, name = path.rpartition("/")
        group = entry.require_group(group_path)
        group.attrs["NX_class"] = {"beam": "NXbeam", "mono": "NXmonochromator"}.get(group_path.rpartition("/")[2], "")
        dataset = group.create_dataset(name, data=value)
        if units is not None:
            dataset.attrs["units"] = units
    return handle, entry


@pytest.mark.parametrize(
    ("path", "value", "units", "expected"),
    [
        ("sample/beam/incident_energy", 8.3, "keV", 8300.0),
        ("sample/beam/incident_energy", 8300.0, "eV", 8300.0),
        ("instrument/beam/incident_energy", 0.0083, "MeV", 8300.0),
        ("instrument/beam/incident_wavelength", 1.5, "Å", HC_EV_ANGSTROM / 1.5),
        ("instrument/beam/incident_wavelength", 1.5, "angstrom", HC_EV_ANGSTROM / 1.5),
        ("sample/beam/incident_wavelength", 0.15, "nm", HC_EV_ANGSTROM / 1.5),
        ("sample/beam/incident_wavelength", 1.5e-10, "m", HC_EV_ANGSTROM / 1.5),
        ("instrument/mono/energy", 17.0, "keV", 17000.0),
        ("instrument/mono/wavelength", 0.7293, "A", HC_EV_ANGSTROM / 0.7293),
        ("instrument/monochromator/Energy", 9999.998, None, 9999.998),  # BLISS: no units, no class; eV by its size
        ("instrument/monochromator/WaveLength", 1.2398e-10, None, HC_EV_ANGSTROM / 1.2398),  # metres by its size
        ("sample/beam/incident_energy", 8.3, None, 8300.0),  # GDA: keV by its size
        ("sample/beam/incident_energy", 707.4, None, None),  # eV or keV: either is an X-ray energy, so neither
        ("sample/beam/incident_wavelength", 1.5, None, None),  # Å or nm: ambiguous
        ("sample/beam/incident_energy", 8.3, "furlongs", None),  # a unit nx5d does not know
        ("sample/beam/incident_energy", 8.3, "eV", None),  # 8.3 eV is no X-ray photon
        ("sample/beam/incident_energy", np.nan, "keV", None),
        ("sample/beam/incident_energy", np.array([8.0, 8.1, 8.2, 8.3]), "keV", [8000.0, 8100.0, 8200.0, 8300.0]),
        ("sample/beam/incident_energy", np.array([8.0, 8.1]), "keV", None),  # neither one nor one per point
        ("sample/other/incident_energy", 8.3, "keV", None),  # not an NXbeam group
    ],
)
def test_energy_and_wavelength_are_converted_to_ev_by_their_units_or_unambiguous_size(
    tmp_path, path, value, units, expected
):
    handle, entry = _entry(tmp_path, {path: (value, units)})
    with handle:
        found = photon_energy(entry, "instrument", 4)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert found.path == path
    np.testing.assert_allclose(found.values, expected, rtol=1e-12)


def test_the_beam_at_the_sample_comes_before_the_monochromator(tmp_path):
    handle, entry = _entry(
        tmp_path,
        {"instrument/mono/energy": (9.0, "keV"), "sample/beam/incident_wavelength": (HC_EV_ANGSTROM / 9001.0, "Å")},
    )
    with handle:
        found = photon_energy(entry, "instrument", 4)
    assert found is not None
    assert found.path == "sample/beam/incident_wavelength"
    assert float(found.values) == pytest.approx(9001.0, rel=1e-12)
    handle, entry = _entry(
        tmp_path, {"instrument/mono/energy": (9.0, "keV"), "sample/beam/incident_energy": (707.4, None)}
    )
    with handle:  # the beam's value is ambiguous: the monochromator's is read
        assert float(photon_energy(entry, "instrument", 4).values) == 9000.0


@pytest.mark.parametrize(
    ("layout", "kwargs", "shape"),
    [
        ("bliss", {}, list(FRAME_SHAPE)),
        ("bliss", {"vds": True}, list(FRAME_SHAPE)),
        ("gda", {}, list(FRAME_SHAPE)),
        ("zarr", {}, list(FRAME_SHAPE)),
        ("gda", {"thresholds": 2}, [2, *FRAME_SHAPE]),
    ],
)
def test_the_summary_gives_the_detector_s_frame_shape_from_shapes_alone(tmp_path, layout, kwargs, shape):
    scan = _open(tmp_path, layout, **kwargs)
    summary = scan.summary
    assert summary["frame_shape"] == shape
    assert list(scan.raw.images.shape[1:]) == shape  # what loading gives


def test_a_virtual_dataset_s_frame_shape_is_given_while_its_source_file_is_absent(tmp_path):
    scan = _open(tmp_path, "bliss", vds=True)
    (tmp_path / "data" / "hc2103" / "scan0001" / "mpx_0000.h5").unlink()
    summary = scan.summary
    assert (summary["detector"], summary["frame_shape"]) == ("mpx", list(FRAME_SHAPE))


def test_an_external_link_is_never_followed_for_the_energy(tmp_path):
    """A beam group kept in another file (which may lie outside the repository) is passed over unopened."""
    elsewhere = tmp_path / "outside.h5"
    with h5py.File(elsewhere, "w") as other:
        beam = other.create_group("beam")
        beam.attrs["NX_class"] = "NXbeam"
        beam.create_dataset("incident_energy", data=8.0).attrs["units"] = "keV"
    handle, entry = _entry(tmp_path, {"instrument/mono/energy": (9.0, "keV")})
    with handle:
        entry["sample/beam"] = h5py.ExternalLink(str(elsewhere), "/beam")
        assert entry["sample/beam/incident_energy"][()] == 8.0  # h5py would follow it
        found = photon_energy(entry, "instrument", 4)
    assert found is not None
    assert (found.path, float(found.values)) == ("instrument/mono/energy", 9000.0)
