"""HKL maps: B and UB as xrayutilities has them, every pixel's (H, K, L) as its Ang2HKL, a Bragg peak on its indices."""

import numpy as np
import pytest
import xarray as xr
import xrayutilities as xu
from hypothesis import given, settings
from hypothesis import strategies as st

from nx5d.errors import CorruptDataError, SpiceValidationError
from nx5d_rsm import Setup
from nx5d_rsm.cook import cook_rsm, motor_angles
from nx5d_rsm.orientation import HklSetup, Orientation, b_matrix, orientation_ub
from nx5d_rsm.settings import MotorSettings

#: A four-circle: omega (y-), chi (x+), phi (z-) on the sample, two-theta (y-) on the detector; beam along x.
FOUR_CIRCLE = MotorSettings(
    energy=10000.0,
    sample_axes=("y-", "x+", "z-"),
    detector_axes=("y-",),
    image_axes=("z-", "y+"),
    img_center=(20.0, 30.0),
    img_distance=500.0,
    pixel_size=0.172,
    sample_motors=("omega", "chi", "phi"),
    detector_motors=("tth",),
)


def _rotation(axis, degrees):
    """Right-handed rotation about a unit axis (the test's own, not nx5d's)."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    a = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


def _xu_lattice_b(lattice):
    return xu.materials.Crystal("x", xu.materials.SGLattice(1, *lattice)).B


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(*[st.floats(2.0, 12.0)] * 3),
    st.tuples(st.floats(60.0, 120.0), st.floats(60.0, 120.0), st.floats(60.0, 120.0)),
)
def test_b_matrix_is_the_reciprocal_metric_of_xrayutilities_lattice(lengths, angles):
    lattice = (*lengths, *angles)
    try:
        ours = b_matrix(lattice)
    except ValueError:  # angles whose cell has no volume: xrayutilities has no lattice either
        cos = np.cos(np.radians(angles))
        assert 1 - np.sum(cos**2) + 2 * np.prod(cos) <= 1e-12
        return
    theirs = _xu_lattice_b(lattice)
    np.testing.assert_allclose(ours.T @ ours, theirs.T @ theirs, rtol=1e-10)  # same lengths and angles of a*, b*, c*
    assert np.allclose(np.tril(ours, -1), 0.0)  # Busing and Levy: upper triangular, a* along x
    np.testing.assert_allclose(ours[2, 2], 2 * np.pi / lengths[2], rtol=1e-12)


def _four_circle_ub():
    u = _rotation((1, 0, 0), 3.0) @ _rotation((0, 0, 1), 20.0)
    return u @ b_matrix((4.0, 4.0, 4.0, 90.0, 90.0, 90.0))


def _xu_experiment(setup, rows, cols):
    qconv = xu.experiment.QConversion(setup.sample_axes, setup.detector_axes, setup.beam, en=setup.energy)
    hxrd = xu.HXRD((1, 0, 0), (0, 0, 1), en=setup.energy, qconv=qconv)
    hxrd.Ang2Q.init_area(
        *setup.directions, *setup.center, rows, cols, distance=setup.distance,
        pwidth1=setup.pixel_size[0], pwidth2=setup.pixel_size[1],
    )  # fmt: skip
    return hxrd


def _xu_hkl(setup, ub, sample, detector, rows, cols):
    hxrd = _xu_experiment(setup, rows, cols)
    h, k, l = hxrd.Ang2HKL(*sample, *detector, U=ub, dettype="area")  # noqa: E741
    return np.stack([np.reshape(c, (-1, rows, cols)) for c in (h, k, l)], axis=-1)


def test_every_pixel_hkl_equals_xrayutilities_ang2hkl():
    setup = Setup.from_settings(FOUR_CIRCLE)
    rng = np.random.default_rng(4)
    ub = _four_circle_ub() @ _rotation(rng.normal(size=3), 40.0)  # any orientation
    sample = [rng.uniform(-30, 30, 4) for _ in range(3)]
    detector = [rng.uniform(10, 80, 4)]
    ours = np.stack(HklSetup(setup, ub).q_maps(sample, detector, np.arange(40), np.arange(60)), axis=-1)
    np.testing.assert_allclose(ours, _xu_hkl(setup, ub, sample, detector, 40, 60), rtol=0, atol=1e-9)


def _bragg_002(n=21, seed=3):
    """A rocking scan through (0 0 2) of a cubic crystal (a = 4 Å, UB known); counts from xrayutilities' HKL."""
    setup = Setup.from_settings(FOUR_CIRCLE)
    ub = _four_circle_ub()
    wavelength = xu.en2lam(FOUR_CIRCLE.energy)
    theta = np.degrees(np.arcsin(wavelength * 2 / (2 * 4.0)))  # d(002) = 2 Å
    omega = theta + np.linspace(-0.4, 0.4, n)
    angles = [omega, np.full(n, -3.0), np.zeros(n)], [np.full(n, 2 * theta)]
    hkl = _xu_hkl(setup, ub, *angles, 40, 60)
    peak = 800.0 * np.exp(-np.sum((hkl - (0, 0, 2)) ** 2, axis=-1) / (2 * 0.003**2))
    frames = np.random.default_rng(seed).poisson(peak + 0.5).astype(np.int32)
    raw = xr.Dataset(
        {
            "omega": ("index", omega),
            "chi": ("index", angles[0][1]),
            "phi": ("index", angles[0][2]),
            "tth": ("index", angles[1][0]),
            "images": (("index", "y", "x"), frames),
        },
        attrs={"sample_ub_matrix": list(ub.ravel())},
    )
    return raw, setup, ub, angles


def _hkl_cook(raw, orientation):
    def reciprocal(setup):
        return (
            HklSetup(setup, orientation_ub(orientation, raw.attrs, setup, "the test scan")),
            orientation.axes,
            orientation.grid_size,
        )

    return cook_rsm(raw, FOUR_CIRCLE, **motor_angles(raw, FOUR_CIRCLE), reciprocal=reciprocal)


def _peak_is_near(maps, expected):
    """Whether the brightest bin of ``maps`` is within one grid step of ``expected`` ({axis: value}) on every axis."""
    where = maps.qdata.where(np.isfinite(maps.qdata), -1).argmax(...)
    found = {axis: float(maps[axis][index]) for axis, index in where.items()}
    steps = {axis: float(maps[axis][1] - maps[axis][0]) for axis in found}
    assert all(abs(found[a] - expected[a]) <= steps[a] for a in found), (found, steps)


def test_a_bragg_peak_at_002_lands_on_002_within_one_grid_step():
    raw, *_ = _bragg_002()
    maps = _hkl_cook(raw, Orientation(grid_size=(25, 25, 25)))
    assert maps.qdata.dims == ("H", "K", "L")
    assert maps.L.attrs["units"] == "r.l.u."
    _peak_is_near(maps, {"H": 0.0, "K": 0.0, "L": 2.0})
    flat = _hkl_cook(raw, Orientation(axes=("H", "L"), grid_size=(25, 25)))  # a subset of the axes
    assert flat.qdata.dims == ("H", "L")
    _peak_is_near(flat, {"H": 0.0, "L": 2.0})


def test_ub_from_a_lattice_and_two_reflections_is_the_true_ub():
    setup = Setup.from_settings(FOUR_CIRCLE)
    ub = _four_circle_ub() @ _rotation((1, 2, 3), 17.0)
    hxrd = _xu_experiment(setup, 40, 60)
    reflections = []
    for angles in ((10.0, -3.0, 5.0, 35.0), (30.0, 40.0, -60.0, 50.0)):  # where each was seen on the direct-beam pixel
        q = np.ravel(hxrd.Ang2Q(*angles))  # the point detector: the direct beam's direction
        reflections.append((*np.linalg.solve(ub, q), *angles))
    lattice = (4.0, 4.0, 4.0, 90.0, 90.0, 90.0)
    found = orientation_ub(Orientation(lattice=lattice, reflections=tuple(reflections)), {}, setup, "the test")
    np.testing.assert_allclose(found, ub, rtol=0, atol=1e-9)


def test_spice_overrides_the_file_and_a_file_frame_is_turned():
    raw, setup, ub, _ = _bragg_002()
    assert np.array_equal(orientation_ub(Orientation(), raw.attrs, setup, "s"), ub)
    np.testing.assert_array_equal(
        orientation_ub(Orientation(ub_matrix=tuple(np.eye(3).ravel())), raw.attrs, setup, "s"), np.eye(3)
    )
    psic = Orientation(frame=("y-", "x+", "z+"))  # SPEC psic: beam along its y, nx5d's along x
    turned = orientation_ub(psic, raw.attrs, setup, "s")
    np.testing.assert_allclose(turned @ (1, 0, 0), psic.frame_matrix() @ ub @ (1, 0, 0))
    u = ub @ np.linalg.inv(b_matrix((4.0, 4.0, 4.0, 90.0, 90.0, 90.0)))
    nexus = {"sample_orientation_matrix": list(u.ravel()), "sample_unit_cell": [4.0, 4.0, 4.0, 90.0, 90.0, 90.0]}
    np.testing.assert_allclose(orientation_ub(Orientation(), nexus, setup, "s"), ub, atol=1e-12)


def test_a_singular_ub_or_impossible_lattice_is_an_error_naming_the_field():
    setup = Setup.from_settings(FOUR_CIRCLE)
    with pytest.raises(ValueError, match=r"ub_matrix .* singular"):
        Orientation(ub_matrix=(1, 0, 0, 0, 1, 0, 0, 0, 0))
    with pytest.raises(ValueError, match=r"lattice .* no lattice"):
        Orientation(lattice=(4.0, 4.0, -4.0, 90.0, 90.0, 90.0))
    with pytest.raises(ValueError, match=r"lattice .* no lattice"):
        Orientation(lattice=(4.0, 4.0, 4.0, 120.0, 120.0, 120.0))  # a flat cell
    with pytest.raises(ValueError, match="frame"):
        Orientation(frame=("x+", "x-", "z+"))
    with pytest.raises(ValueError, match="axes"):
        Orientation(axes=("H", "Q"), grid_size=(2, 2))
    with pytest.raises(CorruptDataError, match=r"sample_ub_matrix of #G3 of f\.spec, scan 1\.1 .* singular"):
        orientation_ub(
            Orientation(),
            {"sample_ub_matrix": [0.0] * 9, "sample_orientation_source": "#G3 of f.spec, scan 1.1"},
            setup,
            "s",
        )
    with pytest.raises(SpiceValidationError, match="states no crystal orientation"):
        orientation_ub(Orientation(), {}, setup, "scan 7")
    with pytest.raises(SpiceValidationError, match="parallel"):
        orientation_ub(
            Orientation(lattice=(4, 4, 4, 90, 90, 90), reflections=((0, 0, 1, 10, 0, 0, 20), (0, 0, 2, 10, 0, 0, 20))),
            {}, setup, "s",
        )  # fmt: skip
    with pytest.raises(SpiceValidationError, match="1 detector angles"):
        orientation_ub(
            Orientation(lattice=(4, 4, 4, 90, 90, 90), reflections=((0, 0, 1, 10, 0), (1, 0, 0, 10, 0))), {}, setup, "s"
        )
