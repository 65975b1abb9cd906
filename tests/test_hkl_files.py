"""HKL maps from the orientation a file states: SPEC ``#G``/``#UB`` lines (real and written), NeXus ``NXsample``.

The real file ``user6idd.dat`` (APS 6-ID-D, SPEC ``psic``) is read from ``../shared``, never copied here.
"""

from __future__ import annotations

import h5py
import numpy as np
import xrayutilities as xu

import nx5d
from nx5d_rsm.geometry import Setup
from nx5d_rsm.orientation import Orientation, b_matrix, orientation_ub
from nx5d_rsm.settings import MotorSettings

from .shared import shared_path

#: omega (y-), chi (x+), phi (z-); two-theta (y-); the beam along x.
SETTINGS = {
    "energy": 10000.0,
    "sample_axes": ["y-", "x+", "z-"],
    "detector_axes": ["y-"],
    "image_axes": ["z-", "y+"],
    "img_center": [20.0, 30.0],
    "img_distance": 500.0,
    "pixel_size": 0.172,
    "sample_motors": ["omega", "chi", "phi"],
    "detector_motors": ["tth"],
}


def _header_numbers(path, tag):
    """The numbers of the first ``#<tag>`` line of a SPEC file, read plainly."""
    for line in path.read_text().splitlines():
        if line.startswith(f"#{tag} "):
            return [float(v) for v in line.split()[1:]]
    raise AssertionError(f"no #{tag} line in {path}")


def test_the_real_psic_file_states_its_ub_and_lattice():
    folder = shared_path("realdata", "spec-aps")
    scan = nx5d.open(f"file://{folder}/{{proposal}}.dat#{{scan}}", beamline="spec", spice_url="").user6idd["1.1"]
    attributes = scan.load().attrs
    stated = _header_numbers(folder / "user6idd.dat", "UB")
    assert attributes["sample_ub_matrix"] == stated
    assert attributes["sample_orientation_source"].startswith("#UB of ")
    np.testing.assert_allclose(stated, _header_numbers(folder / "user6idd.dat", "G3"), rtol=1e-5)  # the same UB
    assert attributes["sample_unit_cell"] == [1.54, 1.54, 1.54, 90.0, 90.0, 90.0]
    assert attributes["sample_orientation_reflections"] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    # physics: UB = U B with U a proper rotation, B the cubic lattice's (2 pi / 1.54 Å on the diagonal)
    ub = np.reshape(stated, (3, 3))
    u = ub @ np.linalg.inv(b_matrix(attributes["sample_unit_cell"]))
    np.testing.assert_allclose(u @ u.T, np.eye(3), atol=1e-5)
    assert np.linalg.det(u) > 0
    setup = Setup.from_settings(MotorSettings(**SETTINGS))
    np.testing.assert_array_equal(orientation_ub(Orientation(), attributes, setup, "user6idd"), ub)


def test_a_written_spec_file_states_the_ub_its_g_lines_hold(tmp_path):
    ub = np.array([[1.2, 0.1, 0.0], [-0.1, 1.3, 0.2], [0.0, 0.05, 1.1]])
    lines = [
        "#F tmp.spec",
        "#E 1700000000",
        "#O0 omega chi phi tth",
        "",
        "#S 1 ascan omega 10 11 2 1",
        "#G0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 2",
        "#G1 5 5.5 6 90 95 90 1.2 1.1 1.0 90 85 90 1 0 0 0 0 1 10 0 0 20 30 0 0 40 1.5 1.5",
        "#G3 " + " ".join(repr(float(v)) for v in ub.ravel()),
        "#P0 10 0 0 20",
        "#N 2",
        "#L omega detector",
        "10 5",
        "10.5 6",
        "11 7",
        "",
    ]
    (tmp_path / "written.spec").write_text("\n".join(lines))
    raw = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").written["1.1"].raw
    assert np.array_equal(np.reshape(raw.attrs["sample_ub_matrix"], (3, 3)), ub)
    assert raw.attrs["sample_unit_cell"] == [5.0, 5.5, 6.0, 90.0, 95.0, 90.0]
    assert raw.attrs["sample_orientation_reflections"] == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def _rotation(axis, degrees):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    a = np.radians(degrees)
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


def _write_nexus_002(path, u, lattice, n=21):
    """A rocking scan through (0 0 2) with a Pilatus-like detector; the counts from xrayutilities' (H, K, L)."""
    qconv = xu.experiment.QConversion(SETTINGS["sample_axes"], SETTINGS["detector_axes"], (1, 0, 0), en=10000.0)
    hxrd = xu.HXRD((1, 0, 0), (0, 0, 1), en=10000.0, qconv=qconv)
    hxrd.Ang2Q.init_area("z-", "y+", 20.0, 30.0, 40, 60, distance=500.0, pwidth1=0.172, pwidth2=0.172)
    theta = np.degrees(np.arcsin(xu.en2lam(10000.0) / (2 * lattice[2] / 2)))
    omega, chi, phi, tth = theta + np.linspace(-0.4, 0.4, n), np.full(n, -3.0), np.zeros(n), np.full(n, 2 * theta)
    ub = u @ xu.materials.Crystal("c", xu.materials.SGLattice(1, *lattice)).B
    hkl = np.stack([np.reshape(c, (n, 40, 60)) for c in hxrd.Ang2HKL(omega, chi, phi, tth, U=ub, dettype="area")], -1)
    counts = 900.0 * np.exp(-np.sum((hkl - (0, 0, 2)) ** 2, axis=-1) / (2 * 0.003**2))
    with h5py.File(path, "w") as h5:
        entry = h5.create_group("scan1")
        entry.attrs["NX_class"] = "NXentry"
        entry["title"] = "ascan omega"
        measurement = entry.create_group("measurement")
        for name, values in (("omega", omega), ("chi", chi), ("phi", phi), ("tth", tth)):
            measurement[name] = values
        measurement["pilatus"] = np.random.default_rng(2).poisson(counts + 0.3).astype(np.int32)
        sample = entry.create_group("sample")
        sample.attrs["NX_class"] = "NXsample"
        sample["orientation_matrix"] = u
        sample["unit_cell"] = np.asarray(lattice) / np.array([10, 10, 10, 1, 1, 1])
        sample["unit_cell"].attrs["units"] = "nm"


def test_a_nexus_orientation_maps_a_bragg_peak_onto_002(tmp_path):
    lattice = (4.0, 4.0, 4.0, 90.0, 90.0, 90.0)
    _write_nexus_002(tmp_path / "beamtime.h5", _rotation((1, 0, 0), 3.0) @ _rotation((0, 0, 1), 20.0), lattice)
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", beamline="nexus", spice_url="").beamtime["scan1"]
    assert scan.raw.attrs["sample_unit_cell"] == list(lattice)  # nm read as nm
    maps = scan.cook(
        {"settings": SETTINGS, "orientation": {"grid_size": [25, 25, 25]}, "recipes": {"by_type": {"*": "hkl"}}}
    )
    assert maps.attrs["nx5d_recipe"] == "hkl"
    brightest = maps.qdata.where(np.isfinite(maps.qdata), -1).argmax(...)
    for axis, expected in zip("HKL", (0.0, 0.0, 2.0), strict=True):
        step = float(maps[axis][1] - maps[axis][0])
        assert abs(float(maps[axis][brightest[axis]]) - expected) <= step, (axis, step)


def test_a_spec_line_detector_scan_maps_its_g3_orientation_onto_002(tmp_path):
    """A rocking scan with a 640-channel line detector; the file's #G1/#G3 lines hold the lattice and UB."""
    lattice = (4.0, 4.0, 4.0, 90.0, 90.0, 90.0)
    ub = (
        _rotation((1, 0, 0), 1.0)
        @ _rotation((0, 0, 1), 25.0)
        @ xu.materials.Crystal("c", xu.materials.SGLattice(1, *lattice)).B
    )
    qconv = xu.experiment.QConversion(["x+"], ["x+"], [0, 1, 0], en=10000.0)
    qconv.init_linear("z+", 320.0, 640, chpdeg=100.0)
    hxrd = xu.HXRD((1, 0, 0), (0, 0, 1), en=10000.0, qconv=qconv)
    theta = np.degrees(np.arcsin(xu.en2lam(10000.0) / (2 * 2.0)))
    omega = theta - 1.0 + np.linspace(-0.3, 0.3, 31)
    tth = np.full(omega.size, 2 * theta)
    hkl = np.stack(hxrd.Ang2HKL(omega, tth, U=ub, dettype="linear"), -1).reshape(omega.size, 640, 3)
    spectra = np.random.default_rng(6).poisson(700 * np.exp(-np.sum((hkl - (0, 0, 2)) ** 2, -1) / 2e-5) + 0.2)
    lines = ["#F lines.spec", "#E 1700000000", "#O0 tth", "", f"#S 1 ascan omega {omega[0]:.5f} {omega[-1]:.5f} 30 1"]
    lines += [
        f"#G1 {' '.join(map(str, lattice))} 0 0 0 0 0 0 0 0 2 0 2 0",
        "#G3 " + " ".join(repr(float(v)) for v in ub.ravel()),
    ]
    lines += ["#P0 " + repr(float(2 * theta)), "#@MCA 640C", "#@CHANN 640 0 639 1", "#N 2", "#L omega detector"]
    for angle, counts in zip(omega, spectra, strict=True):
        lines += ["@A " + " ".join(map(str, counts)), f"{float(angle)!r} {int(counts.sum())}"]
    (tmp_path / "lines.spec").write_text("\n".join(lines) + "\n")
    scan = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").lines["1.1"]
    settings = {
        "energy": 10000.0,
        "sample_axes": ["x+"],
        "detector_axes": ["x+"],
        "beam": [0.0, 1.0, 0.0],
        "inplane": [0.0, 1.0, 0.0],
        "sample_motors": ["omega"],
        "detector_motors": ["tth"],
    }
    line = {"direction": "z+", "center_channel": 320.0, "channels_per_degree": 100.0}
    maps = scan.cook(
        {
            "settings": settings,
            "line_detector": line,
            "orientation": {"axes": ["K", "L"], "grid_size": [30, 40]},
            "recipes": {"by_type": {"*": "hkl"}},
        }
    )
    np.testing.assert_array_equal(np.reshape(maps.attrs["ub_matrix"], (3, 3)), ub)  # the #G3 line, as written
    brightest = maps.qdata.where(np.isfinite(maps.qdata), -1).argmax(...)
    for axis, expected in (("K", 0.0), ("L", 2.0)):
        step = float(maps[axis][1] - maps[axis][0])
        assert abs(float(maps[axis][brightest[axis]]) - expected) <= step, (axis, step)
