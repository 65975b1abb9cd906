"""RSM helpers: gridding equals xrayutilities' fuzzy gridders; the area-detector geometry."""

import attrs
import numpy as np
import pytest
import xrayutilities as xu
from hypothesis import given, settings
from hypothesis import strategies as st

from nx5d.errors import CorruptDataError, OptionError
from nx5d.io.frames import Region
from nx5d.rsm import Axis, FrameGridder, Grid, Setup, grid_frames, grid_points, map_frames, normalise


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
    sums, norm = gridder.start(geometry, group, 2)
    for block in (slice(0, 7), slice(7, 30)):
        gridder.add(sums, norm, frames[block], geometry[block], group[block])
    np.testing.assert_allclose(gridder.maps(sums, norm), whole)
    with pytest.raises(OptionError, match="do not match"):
        gridder.add(sums, norm, frames[:, :4], geometry, group)


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
        group=("delay", delay),
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
        np.testing.assert_allclose(result.qdata.values[g], gridder.data, rtol=1e-9, atol=1e-12)
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
        detrot=setup.detector_rotation,
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
        pixel_size=(0.172, 0.172),
        directions=directions,
        beam=tuple(float(v) for v in np.eye(3)["xyz".index(beam)]),
        normal=tuple(normal),
        inplane=tuple(inplane / np.linalg.norm(inplane)),
        detector_rotation=float(rng.choice([0.0, rng.uniform(-5, 5)])),
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
    np.testing.assert_array_equal(only, qz)
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
        group=("delay", delay[keep]),
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
                group=("delay", args["group"]),
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
