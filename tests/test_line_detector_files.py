"""Line detectors on a real file: the ESRF ID10B InP maps that xrayutilities ships as its own RSM example.

``../shared/corpus/set-b/xrayutilities/test.spec.bz2`` (certified SPEC, ID10B, 2010; 2048-channel PSD
spectra as ``@A`` lines) is unpacked into ``tmp_path`` only, never copied here.  xrayutilities' example
maps it with ``init_linear('z-', 715.9, ..., chpdeg=345.28, roi=[100, 1340])`` at 8042.5 eV.
"""

from __future__ import annotations

import bz2
import shutil

import h5py
import numpy as np
import pytest
import xrayutilities as xu

import nx5d

from .shared import shared_path

LINE = {"spectra": "mca", "direction": "z-", "center_channel": 715.9, "channels_per_degree": 345.28, "roi": [100, 1340]}
#: HXRD's laboratory: the beam along y, omega and gamma (two-theta) about x.
SETTINGS = {
    "energy": 8042.5,
    "sample_axes": ["x+"],
    "detector_axes": ["x+"],
    "beam": [0.0, 1.0, 0.0],
    "inplane": [0.0, 1.0, 0.0],
    "q_axes": ["qx", "qz"],
    "grid_size": [200, 201],
    "sample_motors": ["omega"],
    "detector_motors": ["gamma"],
    "empty_bins": "zero",
}
SPICE = {"settings": SETTINGS, "line_detector": LINE, "recipes": {"by_type": {"*": "line-rsm"}}}


def _equals_xrayutilities(maps, omega, gamma, spectra, line, energy):
    """``maps`` (on qx, qz) equal xrayutilities' init_linear + Ang2Q.linear + FuzzyGridder2D of the spectra."""
    qconv = xu.experiment.QConversion(["x+"], ["x+"], [0, 1, 0], en=energy)
    first, stop = line["roi"]
    channels = spectra.shape[1]
    qconv.init_linear(
        line["direction"], line["center_channel"], channels, chpdeg=line["channels_per_degree"], roi=[first, stop]
    )
    _, qy, qz = qconv.linear(omega, gamma)
    gridder = xu.FuzzyGridder2D(*maps.qdata.shape)
    gridder(qy, qz, spectra[:, first:stop].astype(float))
    np.testing.assert_allclose(maps.qx.values, gridder.xaxis, rtol=0, atol=1e-12)
    np.testing.assert_allclose(maps.qz.values, gridder.yaxis, rtol=0, atol=1e-12)
    np.testing.assert_allclose(maps.qdata.values, gridder.data, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def id10b(tmp_path_factory):
    folder = tmp_path_factory.mktemp("id10b")
    packed_path = shared_path("corpus", "set-b", "xrayutilities", "test.spec.bz2")
    with bz2.open(packed_path) as packed, open(folder / "id10b.spec", "wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    return nx5d.open(f"file://{folder}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").id10b


def test_every_id10b_scan_maps_and_the_inp_333_map_equals_xrayutilities(id10b):
    for key in ("33.1", "34.1", "35.1"):
        maps = id10b[key].cook(SPICE)
        assert int(maps.frames) == 801
        assert np.isfinite(maps.qdata.values).all()
    raw = id10b["36.1"].raw
    assert raw.mca.shape == (401, 2048)
    maps = id10b["36.1"].cook(SPICE)
    _equals_xrayutilities(maps, raw.omega.values, raw.gamma.values, raw.mca.values, LINE, 8042.5)
    # physics: the brightest bin is the InP (333) substrate peak, |q| = 2 pi sqrt(27) / a
    brightest = maps.qdata.argmax(...)
    q = np.hypot(float(maps.qx[brightest["qx"]]), float(maps.qz[brightest["qz"]]))
    assert abs(q - 2 * np.pi * np.sqrt(27) / xu.materials.InP.a) < 0.01


def test_a_nexus_line_detector_of_points_x_channels_maps_as_xrayutilities(tmp_path):
    rng = np.random.default_rng(9)
    omega = np.linspace(20.0, 21.0, 30)
    gamma = 2 * omega
    channel = np.arange(1280)
    spectra = rng.poisson(50 * np.exp(-((channel - 600 - 3 * np.arange(30)[:, None]) ** 2) / 800.0) + 1)
    with h5py.File(tmp_path / "mythen.h5", "w") as h5:
        entry = h5.create_group("scan1")
        entry.attrs["NX_class"] = "NXentry"
        measurement = entry.create_group("measurement")
        measurement["omega"], measurement["gamma"] = omega, gamma
        measurement["mythen"] = spectra.astype(np.int32)  # MYTHEN strip: one 1280-channel spectrum per point
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", beamline="nexus", spice_url="").mythen["scan1"]
    assert scan.raw.mythen.dims == ("index", "mythen_channel")
    line = {
        "spectra": "mythen",
        "direction": "z+",
        "center_channel": 640.0,
        "channels_per_degree": 80.0,
        "roi": [10, 1270],
    }
    maps = scan.cook(
        {**SPICE, "settings": {**SETTINGS, "energy": 9000.0, "grid_size": [40, 50]}, "line_detector": line}
    )
    assert np.nanmax(maps.qdata.values) > 10
    _equals_xrayutilities(maps, omega, gamma, spectra, line, 9000.0)
