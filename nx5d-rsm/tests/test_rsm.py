"""RSM helpers: gridding equals xrayutilities' fuzzy gridders; the area-detector geometry."""

import attrs
import numpy as np
import pytest
import xarray as xr
import xrayutilities as xu
from hypothesis import given, settings
from hypothesis import strategies as st

from nx5d.errors import CorruptDataError, OptionError
from nx5d.io.frames import Region
from nx5d_rsm import Axis, FrameGridder, Grid, Setup, grid_frames, grid_points, map_frames, normalise
from nx5d_rsm.cook import cook_rsm, motor_angles
from nx5d_rsm.settings import MotorSettings, RsmSettings


def xu_gridded(shape, coords, values, width=None):
    gridder = {2: xu.FuzzyGridder2D, 3: xu.FuzzyGridder3D}[len(shape)](*shape)
    limits = [v for c in coords for v in (c.min(), c.max())]
    gridder.dataRange(*limits)
    if width is None:
        gridder(*coords, values)
    else:
        gridder(*coords, values, width=width)
    return gridder.data


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.tuples(st.integers(2, 40), st.integers(2, 40)),
    st.one_of(st.none(), st.tuples(st.floats(0.01, 0.5), st.floats(0.01, 0.5))),
)
def test_grid_points_equals_xrayutilities_2d(seed, shape, width):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, 3000), rng.uniform(2, 3, 3000)
    values = rng.poisson(2.0, 3000).astype(float)
    values[::37] = np.nan
    grid = Grid.covering([x, y], shape)
    sums, norm = grid_points(grid, [x, y], values, width)
    np.testing.assert_allclose(normalise(sums, norm), xu_gridded(shape, [x, y], values, width), atol=1e-12)


def test_grid_points_equals_xrayutilities_3d():
    rng = np.random.default_rng(5)
    coords = [rng.uniform(0, 1, 4000), rng.uniform(-2, 0, 4000), rng.uniform(5, 6, 4000)]
    values = rng.random(4000)
    grid = Grid.covering(coords, (6, 9, 7))
    np.testing.assert_allclose(
        normalise(*grid_points(grid, coords, values)), xu_gridded((6, 9, 7), coords, values), atol=1e-12
    )


def test_axis_and_grid():
    axis = Axis(0.0, 1.0, 5)
    np.testing.assert_allclose(axis.values, [0, 0.25, 0.5, 0.75, 1.0])
    assert Axis(2.0, 4.0, 1).values.tolist() == [3.0]
    grid = Grid.covering([np.array([0.0, 1.0, np.nan]), np.array([2.0, 5.0, 3.0])], (3, 4))
    assert grid.shape == (3, 4)
    assert grid.size == 12
    with pytest.raises(OptionError):
        Grid.covering([np.array([np.nan])], (3,))


@pytest.mark.parametrize("mask_negative", [False, True])
def test_grid_frames_equals_per_group_gridding(mask_negative):
    rng = np.random.default_rng(2)
    geometries, rows, cols, n = 5, 20, 30, 60
    q1 = rng.uniform(0, 1, (geometries, rows, cols)) + np.arange(geometries)[:, None, None] * 0.05
    q2 = rng.uniform(2, 3, (geometries, rows, cols))
    geometry = rng.integers(0, geometries, n)
    group = rng.integers(0, 4, n)
    frames = ((rng.random((n, rows, cols)) < 0.05) * rng.integers(1, 50, (n, rows, cols))).astype(np.int32)
    frames[:, 0, 0] = -2
    scale = rng.uniform(0.5, 2.0, n)
    grid = Grid.covering([q1, q2], (12, 9))
    ours = grid_frames(grid, [q1, q2], geometry, group, 4, frames, scale=scale, mask_negative=mask_negative)
    for g in range(4):
        chosen = group == g
        data = frames[chosen].astype(float) * scale[chosen][:, None, None]
        if mask_negative:
            data[frames[chosen] < 0] = np.nan
        sums, norm = grid_points(grid, [q1[geometry[chosen]], q2[geometry[chosen]]], data)
        np.testing.assert_allclose(ours[g], normalise(sums, norm), atol=1e-12)


def test_frames_can_be_added_in_blocks():
    rng = np.random.default_rng(3)
    q1, q2 = rng.uniform(0, 1, (3, 8, 9)), rng.uniform(0, 1, (3, 8, 9))
    geometry, group = rng.integers(0, 3, 30), rng.integers(0, 2, 30)
    frames = rng.poisson(0.3, (30, 8, 9)).astype(np.int32)
    grid = Grid.covering([q1, q2], (5, 6))
    whole = grid_frames(grid, [q1, q2], geometry, group, 2, frames)
    gridder = FrameGridder(grid, [q1, q2])
    totals = gridder.start(geometry, group, 2)
    for block in (slice(0, 7), slice(7, 30)):
        gridder.add(totals, frames[block], geometry[block], group[block])
    np.testing.assert_allclose(gridder.maps(totals), whole)
    with pytest.raises(OptionError, match="do not match"):
        gridder.add(totals, frames[:, :4], geometry, group)


def test_setup_q_maps_follow_region():
    setup = Setup(
        energy=8048.0,
        sample_axes=("y-",),
        detector_axes=("y-",),
        center=(97.0, 241.0),
        distance=680.0,
        pixel_size=(0.172, 0.172),
        directions=("y-", "z+"),
    )
    theta = np.array([18.1, 18.6])
    _, qy, qz = setup.q_maps([theta], [2 * theta], np.arange(195), np.arange(487))
    assert qz.shape == (2, 195, 487)
    # the centre pixel of a symmetric scan has qy = 0 and |q| = 2 k sin(theta)
    k = 2 * np.pi / xu.en2lam(8048.0)
    assert abs(qy[1, 97, 241]) < 1e-6
    assert qz[1, 97, 241] == pytest.approx(2 * k * np.sin(np.radians(18.6)), rel=1e-6)
    region = Region((50, 150, 100, 400), 2)
    pixels = region.coordinates((195, 487))
    sub = setup.q_maps([theta], [2 * theta], pixels["y"], pixels["x"])
    np.testing.assert_allclose(sub[2], qz[:, 50:150:2, 100:400:2], rtol=1e-9)
    np.testing.assert_allclose(sub[1], qy[:, 50:150:2, 100:400:2], atol=1e-9)


def four_circle():
    return Setup(
        energy=9400.0,
        sample_axes=("y+", "z+", "x+"),
        detector_axes=("y+",),
        center=(8.0, 13.0),
        distance=500.0,
        pixel_size=(0.172, 0.172),
        directions=("z-", "y+"),
    )


PIXELS = (np.arange(20), np.arange(30))


def test_map_frames_equals_xrayutilities_per_group_on_the_common_grid():
    import dask.array as da

    rng = np.random.default_rng(3)
    setup = four_circle()
    theta = np.repeat(np.linspace(20.0, 21.0, 6), 2)
    chi, phi = np.full(12, 1.5), np.zeros(12)
    delay = np.tile([0.0, 100.0], 6)
    frames = rng.poisson(2.0, (12, 20, 30)).astype(np.int32)
    frames[:, 0, 0] = -2  # a defect marker, left out
    lazy = da.from_array(frames, chunks=(5, 20, 30))
    result = map_frames(
        setup,
        [theta, chi, phi],
        [2 * theta],
        lazy,
        grid_size=(6, 7, 8),
        q_axes=("qx", "qy", "qz"),
        groups=[("delay", delay)],
    )
    assert result.qdata.dims == ("delay", "qx", "qy", "qz")
    assert result.frames.values.tolist() == [6, 6]
    qx, qy, qz = setup.q_maps([theta, chi, phi], [2 * theta], *PIXELS)
    grid = Grid.covering([qx, qy, qz], (6, 7, 8))  # the common grid spans all frames
    for g, value in enumerate([0.0, 100.0]):
        mine = delay == value
        gridder = xu.FuzzyGridder3D(6, 7, 8)
        gridder.dataRange(*[v for axis in grid.axes for v in (axis.start, axis.stop)])
        values = np.where(frames[mine] < 0, np.nan, frames[mine]).astype(float)
        gridder(qx[mine].ravel(), qy[mine].ravel(), qz[mine].ravel(), values.ravel())
        ours = result.qdata.values[g]
        unmeasured = result.weight.values[g] == 0  # xrayutilities reads 0 there; nx5d says NaN
        assert np.isnan(ours[unmeasured]).all()
        assert not np.isnan(ours[~unmeasured]).any()
        np.testing.assert_allclose(np.where(unmeasured, 0.0, ours), gridder.data, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.qx.values, grid.axes[0].values)


def test_map_frames_without_groups_and_bad_axes():
    setup = four_circle()
    theta = np.linspace(20.0, 21.0, 4)
    frames = np.ones((4, 20, 30), np.int32)
    result = map_frames(setup, [theta, np.zeros(4), np.zeros(4)], [2 * theta], frames, grid_size=(10, 12))
    assert result.qdata.dims == ("qy", "qz")
    assert int(result.frames) == 4
    profile = map_frames(setup, [theta, np.zeros(4), np.zeros(4)], [2 * theta], frames, grid_size=(9,), q_axes=("qz",))
    assert profile.qdata.dims == ("qz",)
    with pytest.raises(OptionError, match="need 1 to 3"):
        map_frames(setup, [theta, theta, theta], [theta], frames, grid_size=(10, 10), q_axes=("qz",))
    with pytest.raises(OptionError, match="5 frames but 4"):
        map_frames(setup, [theta] * 3, [theta], np.ones((5, 20, 30)), grid_size=(3, 3))


def _xrayutilities_q(setup, sample, detector, rows, cols):
    """xrayutilities' q of every pixel, in the laboratory frame of the sample at zero angles."""
    qconv = xu.experiment.QConversion(setup.sample_axes, setup.detector_axes, setup.beam, en=setup.energy)
    qconv.init_area(
        *setup.directions, *setup.center, rows, cols,
        distance=setup.distance, pwidth1=setup.pixel_size[0], pwidth2=setup.pixel_size[1],
        detrot=setup.detector_rotation, tilt=setup.tilt, tiltazimuth=setup.tilt_azimuth,
    )  # fmt: skip
    lab = np.stack([np.reshape(q, (-1, rows, cols)) for q in qconv.area(*sample, *detector)], axis=-1)
    return lab @ setup.frame().T  # projected on the reported axes


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_q_maps_equal_xrayutilities_for_random_geometries_and_angles(seed):
    rng = np.random.default_rng(seed)
    axis = lambda: rng.choice(["x", "y", "z"]) + rng.choice(["+", "-"])  # noqa: E731
    beam = rng.choice(["x", "y", "z"])
    across = [a for a in "xyz" if a != beam]
    directions = (across[0] + rng.choice(["+", "-"]), across[1] + rng.choice(["+", "-"]))
    normal = np.zeros(3)
    normal["xyz".index(rng.choice(across))] = 1.0
    inplane = np.cross(normal, rng.normal(size=3))
    setup = Setup(
        energy=float(rng.uniform(5000, 20000)),
        sample_axes=tuple(axis() for _ in range(rng.integers(1, 4))),
        detector_axes=tuple(axis() for _ in range(rng.integers(1, 3))),
        center=tuple(rng.uniform(0, 20, 2)),
        distance=float(rng.uniform(200, 1000)),
        pixel_size=(0.172, float(rng.choice([0.172, rng.uniform(0.05, 0.2)]))),
        directions=directions,
        beam=tuple(float(v) for v in np.eye(3)["xyz".index(beam)]),
        normal=tuple(normal),
        inplane=tuple(inplane / np.linalg.norm(inplane)),
        detector_rotation=float(rng.choice([0.0, rng.uniform(-5, 5)])),
        tilt=float(rng.choice([0.0, rng.uniform(-10, 10)])),
        tilt_azimuth=float(rng.uniform(-180, 180)),
    )
    n = 3
    sample = [rng.uniform(-40, 40, n) for _ in setup.sample_axes]
    detector = [rng.uniform(-10, 80, n) for _ in setup.detector_axes]
    ours = np.stack(setup.q_maps(sample, detector, np.arange(12), np.arange(17)), axis=-1)
    np.testing.assert_allclose(ours, _xrayutilities_q(setup, sample, detector, 12, 17), rtol=0, atol=1e-12)


def test_q_maps_report_the_sample_frame_and_only_the_axes_asked_for():
    plain = four_circle()
    theta = np.array([20.0])
    angles = ([theta, np.zeros(1), np.zeros(1)], [2 * theta])
    qx, qy, qz = plain.q_maps(*angles, *PIXELS)
    turned = attrs.evolve(plain, normal=(1.0, 0.0, 0.0), inplane=(0.0, 1.0, 0.0))
    tx, ty, tz = turned.q_maps(*angles, *PIXELS)
    np.testing.assert_allclose((tx, ty, tz), (qy, qz, qx), atol=1e-12)  # (x, y, z) of the lab as (qz, qx, qy)
    (only,) = plain.q_maps(*angles, *PIXELS, axes=("qz",))
    np.testing.assert_allclose(only, qz, rtol=0, atol=1e-14)
    with pytest.raises(OptionError, match="perpendicular"):
        attrs.evolve(plain, inplane=(1.0, 0.0, 1.0))


def test_map_frames_reports_progress_per_block_of_frames(monkeypatch, capsys):
    import dask.array as da

    from nx5d import progress

    monkeypatch.setattr(progress, "DELAY", 0.0)
    progress.set_enabled(True)
    try:
        theta = np.linspace(20.0, 21.0, 12)
        frames = da.from_array(np.ones((12, 20, 30), np.int32), chunks=(5, 20, 30))
        map_frames(four_circle(), [theta, np.zeros(12), np.zeros(12)], [2 * theta], frames, grid_size=(6, 7))
    finally:
        progress.set_enabled(None)
    err = capsys.readouterr().err
    assert "gridding" in err
    assert "0/12 " in err  # a bar over all 12 frames


@pytest.mark.parametrize("spoil", ["theta", "two_theta", "monitor", "group"])
def test_frames_without_a_finite_angle_monitor_or_group_are_left_out_and_not_counted(spoil):
    import dask.array as da

    rng = np.random.default_rng(5)
    setup = four_circle()
    theta = np.linspace(20.0, 21.0, 10)
    two_theta = 2 * theta
    scale = np.full(10, 0.5)
    delay = np.tile([0.0, 100.0], 5)
    frames = rng.poisson(2.0, (10, 20, 30)).astype(np.int32)
    bad = [3, 6]
    spoilt = {"theta": theta, "two_theta": two_theta, "monitor": scale, "group": delay}[spoil].copy()
    spoilt[bad] = [np.nan, np.inf]
    args = {"theta": theta, "two_theta": two_theta, "monitor": scale, "group": delay} | {spoil: spoilt}
    keep = np.setdiff1d(np.arange(10), bad)
    expected = map_frames(
        setup,
        [theta[keep], np.zeros(8), np.zeros(8)],
        [two_theta[keep]],
        frames[keep],
        grid_size=(10, 12),
        groups=[("delay", delay[keep])],
        scale=scale[keep],
    )
    for images in (frames, da.from_array(frames, chunks=(4, 20, 30))):
        with pytest.warns(UserWarning, match=r"scan\.h5: 2 of 10 frames have a NaN or infinite .* \(first: frame 3\)"):
            result = map_frames(
                setup,
                [args["theta"], np.zeros(10), np.zeros(10)],
                [args["two_theta"]],
                images,
                grid_size=(10, 12),
                groups=[("delay", args["group"])],
                scale=args["monitor"],
                where="scan.h5",
            )
        assert result.frames.values.tolist() == expected.frames.values.tolist() == [4, 4]
        np.testing.assert_allclose(result.qdata.values, expected.qdata.values, rtol=1e-12)


def test_a_scan_without_any_finite_angle_is_an_error():
    frames = np.ones((3, 20, 30), np.int32)
    with pytest.raises(CorruptDataError, match=r"scan\.h5: no frame has finite angles"):
        map_frames(
            four_circle(), [np.full(3, np.nan)] * 3, [np.full(3, 40.0)], frames, grid_size=(4, 4), where="scan.h5"
        )


def test_a_four_circle_with_tilted_detector_configured_by_spice_equals_xrayutilities():
    """Theta/chi/phi sample circles, a tilted and turned detector given by channel span, all from settings fields."""
    settings = MotorSettings(
        energy=12400.0,
        sample_axes=("x+", "y+", "z-"),
        detector_axes=("x+",),
        beam=(0.0, 1.0, 0.0),
        normal=(0.0, 0.0, 1.0),
        inplane=(0.0, 1.0, 0.0),
        image_axes=("z-", "x+"),
        img_center=(0.45, 0.55),
        center_units="fraction",
        img_distance=850.0,
        channel_span=(0.0117, 0.0121),
        detector_tilt=2.5,
        tilt_azimuth=30.0,
        detector_rotation=-1.2,
        sample_motors=("theta", "chi", "phi"),
        detector_motors=("delta",),
    )
    rows, cols = 40, 50
    setup = Setup.from_settings(settings, detector_shape=(rows, cols))
    rng = np.random.default_rng(11)
    sample = [rng.uniform(-30, 30, 5) for _ in range(3)]
    detector = [rng.uniform(0, 60, 5)]
    ours = np.stack(setup.q_maps(sample, detector, np.arange(rows), np.arange(cols)), axis=-1)
    qconv = xu.experiment.QConversion(["x+", "y+", "z-"], ["x+"], [0, 1, 0], en=12400.0)
    qconv.init_area(
        "z-", "x+", 0.45 * (rows - 1), 0.55 * (cols - 1), rows, cols,
        chpdeg1=1 / 0.0117, chpdeg2=1 / 0.0121, tilt=2.5, tiltazimuth=30.0, detrot=-1.2,
    )  # fmt: skip
    lab = np.stack([np.reshape(q, (-1, rows, cols)) for q in qconv.area(*sample, *detector)], axis=-1)
    np.testing.assert_allclose(ours, lab @ setup.frame().T, rtol=0, atol=1e-12)


def test_settings_refuse_what_no_diffractometer_has():
    for bad, message in (
        ({"energy": 0}, "between 100 eV and 1 MeV"),
        ({"energy": 9.4}, "in keV"),
        ({"energy": " "}, "name of a variable"),
        ({"energy": "E", "energy_units": "Hz"}, "energy_units"),
        ({"pixel_size": (0.1, -1)}, "pixel_size"),
        ({"channel_span": (0.01,)}, "channel_span"),
        ({"center_units": "mm"}, "center_units"),
        ({"detector_tilt": float("nan")}, "detector_tilt"),
        ({"extra_axes": "mean"}, "extra_axes"),
        ({"pixel_stride": 0}, "pixel_stride"),
        ({"group_by": ["delay", "delay"]}, "group_by"),
        ({"group_step": {"temperature": 0}}, "group_step"),
    ):
        with pytest.raises(ValueError, match=message):
            RsmSettings(**bad)
    with pytest.raises(ValueError, match="the frames do not say its size"):
        RsmSettings(img_center=(0.5, 0.5), center_units="fraction").center_pixels()
    assert RsmSettings(img_center=(0.5, 0.5), center_units="fraction").center_pixels((195, 487)) == (97.0, 243.0)
    assert RsmSettings(pixel_size=(0.1, 0.2)).pixel_sizes() == (0.1, 0.2)


def test_energy_from_the_data_in_its_units_and_per_frame():
    theta = np.linspace(20.0, 21.0, 4)
    frames = np.random.default_rng(1).poisson(3.0, (4, 20, 30)).astype(np.int32)
    raw = xr.Dataset(
        {
            "th": ("index", theta),
            "tth": ("index", 2 * theta),
            "mono": ((), 9.4, {"units": "keV"}),
            "images": (("index", "y", "x"), frames),
        }
    )
    settings = MotorSettings(energy="mono", sample_motors=("th",), detector_motors=("tth",), grid_size=(10, 12))
    from_data = cook_rsm(raw, settings, **motor_angles(raw, settings))
    given = cook_rsm(raw, attrs.evolve(settings, energy=9400.0), **motor_angles(raw, settings))
    np.testing.assert_array_equal(from_data.qdata.values, given.qdata.values)
    with pytest.raises(CorruptDataError, match="in keV"):
        cook_rsm(raw.assign(mono=((), 9.4)), settings, **motor_angles(raw, settings))  # no units: eV assumed
    keV = cook_rsm(
        raw.assign(mono=((), 9.4)), attrs.evolve(settings, energy_units="keV"), **motor_angles(raw, settings)
    )
    np.testing.assert_array_equal(keV.qdata.values, given.qdata.values)
    # an energy scan: each frame converted with its own energy
    energies = np.array([9000.0, 9100.0, 9200.0, 9300.0])
    setup = Setup.from_settings(settings, energy=9000.0, detector_shape=(20, 30))
    per_frame = setup.q_maps([theta], [2 * theta], np.arange(20), np.arange(30), energies=energies)
    for i, energy in enumerate(energies):
        alone = attrs.evolve(setup, energy=energy).q_maps(
            [theta[i : i + 1]], [2 * theta[i : i + 1]], np.arange(20), np.arange(30)
        )
        np.testing.assert_allclose([q[i] for q in per_frame], [q[0] for q in alone], rtol=1e-13)
    scan = cook_rsm(
        raw.assign(mono=("index", energies / 1000, {"units": "keV"})), settings, **motor_angles(raw, settings)
    )
    assert int(scan.frames) == 4


def test_maps_of_each_dimension_equal_xrayutilities_gridders():
    rng = np.random.default_rng(8)
    setup = four_circle()
    theta = np.linspace(20.0, 21.0, 7)
    frames = rng.poisson(2.0, (7, 20, 30)).astype(np.int32)
    angles = ([theta, np.zeros(7), np.zeros(7)], [2 * theta])
    q = dict(zip(("qx", "qy", "qz"), setup.q_maps(*angles, *PIXELS), strict=True))
    for axes, shape in ((("qz",), (40,)), (("qy", "qz"), (12, 40)), (("qx", "qy", "qz"), (5, 12, 40))):
        result = map_frames(setup, *angles, frames, grid_size=shape, q_axes=axes, empty="zero")
        gridder = {1: xu.FuzzyGridder1D, 2: xu.FuzzyGridder2D, 3: xu.FuzzyGridder3D}[len(axes)](*shape)
        gridder.dataRange(*[v for a in axes for v in (q[a].min(), q[a].max())])
        gridder(*[q[a].ravel() for a in axes], frames.astype(float).ravel())
        np.testing.assert_allclose(result.qdata.values, gridder.data, rtol=1e-9, atol=1e-12)
