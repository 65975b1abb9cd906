"""The gridder computes q of the pixels it grids as it grids them: the same maps as from tables of every pixel's q."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nx5d.errors import OptionError
from nx5d_rsm import FrameGridder, Grid, LinearCoordinates, Setup
from nx5d_rsm.orientation import HklSetup


def _setup(energy: float = 9000.0) -> Setup:
    return Setup(
        energy=energy,
        sample_axes=("y-", "x+"),
        detector_axes=("y-",),
        center=(9.5, 14.0),
        distance=300.0,
        pixel_size=(0.172, 0.172),
        directions=("z-", "y+"),
    )


def _frames(rng: np.random.Generator, n: int, shape: tuple[int, int]) -> np.ndarray:
    frames = ((rng.random((n, *shape)) < 0.2) * rng.integers(1, 40, (n, *shape))).astype(np.int32)
    frames[:, 0, 0] = -2  # a defect marker: taken out of the normalisation
    return frames


def _grid_all(gridder, frames, geometry, group, groups, scale, blocks):
    totals = gridder.start(geometry, group, groups)
    for part in blocks:
        gridder.add(totals, frames[part], geometry[part], group[part], scale=None if scale is None else scale[part])
    return totals


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from([("qy", "qz"), ("qx", "qy", "qz"), ("qz",)]))
def test_maps_from_linear_coordinates_equal_maps_from_tables_exactly(seed, scaled, axes):
    rng = np.random.default_rng(seed)
    shape, n, settings_ = (20, 29), 24, 5
    theta = rng.uniform(10.0, 12.0, settings_)
    chi = rng.uniform(-1.0, 1.0, settings_)
    linear = _setup().q_coordinates([theta, chi], [2 * theta], np.arange(shape[0]), np.arange(shape[1]), axes=axes)
    tables = linear.tables()
    assert [t.shape for t in tables] == [(settings_, *shape)] * len(axes)
    grid_size = (7, 9, 5)[: len(axes)]
    grid = Grid.covering(linear.ranges(), grid_size)
    assert grid == Grid.covering(tables, grid_size)  # the same range, to the last bit
    frames, geometry, group = _frames(rng, n, shape), rng.integers(0, settings_, n), rng.integers(0, 3, n)
    scale = rng.uniform(0.5, 2.0, n) if scaled else None
    blocks = [slice(0, 5), slice(5, 17), slice(17, n)]
    from_linear = FrameGridder(grid, linear)
    from_tables = FrameGridder(grid, tables)
    ours = _grid_all(from_linear, frames, geometry, group, 3, scale, blocks)
    theirs = _grid_all(from_tables, frames, geometry, group, 3, scale, [slice(0, n)])
    for mine, other in zip(ours.parts(), theirs.parts(), strict=True):
        np.testing.assert_allclose(mine, other, rtol=1e-13, atol=0)  # blocks sum in another order: last bits
    same_blocks = _grid_all(from_tables, frames, geometry, group, 3, scale, blocks)
    for mine, other in zip(ours.parts(), same_blocks.parts(), strict=True):
        np.testing.assert_array_equal(mine, other)


def test_hkl_coordinates_are_ub_inverse_times_q():
    rng = np.random.default_rng(4)
    ub = np.array([[1.6, 0.02, 0.0], [0.0, 1.55, 0.01], [0.0, 0.0, 1.4]])
    theta = rng.uniform(20.0, 22.0, 3)
    chi = rng.uniform(-1.0, 1.0, 3)
    rows, cols = np.arange(6), np.arange(8)
    setup = _setup()
    hkl = HklSetup(setup, ub).q_coordinates([theta, chi], [2 * theta], rows, cols, axes=("L", "H"))
    q = np.stack(setup.q_maps([theta, chi], [2 * theta], rows, cols), axis=-1)
    expected = np.linalg.solve(ub, q.reshape(-1, 3).T).T.reshape(q.shape)
    ell, h = hkl.tables()
    np.testing.assert_allclose(ell, expected[..., 2], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(h, expected[..., 0], rtol=1e-13, atol=1e-14)


def test_coordinates_of_points_are_those_of_the_whole_setting():
    rng = np.random.default_rng(5)
    theta = rng.uniform(10.0, 12.0, 4)
    linear = _setup().q_coordinates([theta, theta * 0], [2 * theta], np.arange(7), np.arange(11))
    setting, pixel = rng.integers(0, 4, 50), rng.integers(0, 77, 50)
    whole = np.stack([linear.of_setting(g) for g in range(4)])  # (settings, dims, pixels)
    np.testing.assert_array_equal(linear.of_points(setting, pixel), whole[setting, :, pixel].T)


def test_maps_and_variances_in_place_equal_new_arrays():
    rng = np.random.default_rng(6)
    linear = _setup().q_coordinates([np.array([11.0, 11.2]), np.zeros(2)], [np.array([22.0, 22.4])],
                                    np.arange(10), np.arange(12), axes=("qy", "qz"))  # fmt: skip
    grid = Grid.covering(linear.ranges(), (6, 8))
    gridder = FrameGridder(grid, linear)
    frames, geometry, group = _frames(rng, 6, (10, 12)), np.array([0, 1, 0, 1, 0, 1]), np.array([0, 0, 1, 1, 2, 2])
    totals = _grid_all(gridder, frames, geometry, group, 4, None, [slice(0, 6)])  # group 3 has no frame: empty
    maps, variances = gridder.maps(totals, np.nan), gridder.mean_variances(totals)
    assert np.isnan(maps[3]).all()
    assert np.isnan(variances[3]).all()
    np.testing.assert_array_equal(gridder.mean_variances(totals, in_place=True), variances)
    np.testing.assert_array_equal(gridder.maps(totals, np.nan, in_place=True), maps)
    np.testing.assert_array_equal(totals.sums.reshape(maps.shape), maps)  # the sums are gone: the maps took them


def test_a_released_gridder_refuses_frames_and_dimensions_must_match():
    linear = _setup().q_coordinates([np.array([11.0]), np.zeros(1)], [np.array([22.0])], np.arange(4), np.arange(5),
                                    axes=("qy", "qz"))  # fmt: skip
    grid = Grid.covering(linear.ranges(), (3, 3))
    gridder = FrameGridder(grid, linear)
    totals = gridder.start(np.zeros(1, int), np.zeros(1, int), 1)
    gridder.release()
    with pytest.raises(OptionError, match="release"):
        gridder.add(totals, np.ones((1, 4, 5), np.int32), np.zeros(1, int), np.zeros(1, int))
    with pytest.raises(OptionError, match="dimensions"):
        FrameGridder(Grid.covering(linear.ranges()[:1], (3,)), linear)
    assert isinstance(linear, LinearCoordinates)
    assert (linear.settings, linear.dims) == (1, 2)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 5))
def test_the_normalisation_is_every_frames_pixel_area_to_the_last_bit(seed, groups, settings_):
    """Groups alike (every delay at the same angles) share one sum; groups without frames are 0; others their own."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(10.0, 12.0, settings_)
    linear = _setup().q_coordinates([theta, np.zeros(settings_)], [2 * theta], np.arange(12), np.arange(15))
    grid = Grid.covering(linear.ranges(), (6, 7, 5))
    alike = np.tile(np.arange(settings_), groups)  # each group once at every setting
    more = rng.integers(0, settings_, rng.integers(0, 8))  # then some frames anywhere
    geometry = np.concatenate([alike, more])
    group = np.concatenate([np.repeat(np.arange(groups), settings_), rng.integers(0, groups + 2, more.size)])
    gridder = FrameGridder(grid, linear)
    totals = gridder.start(geometry, group, groups + 2)  # the last groups may get no frame at all
    norm = np.zeros((groups + 2, grid.size))
    pixels = np.zeros((groups + 2, grid.size), np.int64)
    for setting in range(settings_):  # every group on its own, settings in order: the sums start() must equal
        bins, area, count = gridder._geometry_of(setting)
        setting_norm, setting_pixels = np.zeros(grid.size), np.zeros(grid.size, np.int64)
        setting_norm[bins], setting_pixels[bins] = area, count
        for g in range(groups + 2):
            frames = int(np.sum((group == g) & (geometry == setting)))
            if frames:
                norm[g] += setting_norm * float(frames)
                pixels[g] += setting_pixels * frames
    assert np.array_equal(totals.norm, norm.reshape(-1))
    assert np.array_equal(totals.pixels, pixels.reshape(-1))
    assert norm[:groups].any(axis=1).all()


@pytest.mark.parametrize("fork", ["1", "0"])
def test_pixel_areas_worked_out_on_every_cpu_are_those_of_one_process(monkeypatch, fork):
    """A rocking scan's settings, worked out in worker processes (or one after the other), give the same bits."""
    import nx5d_rsm.gridding

    monkeypatch.setenv("NX5D_FORK", fork)
    rng = np.random.default_rng(5)
    settings_ = 30
    theta = np.sort(rng.uniform(10.0, 12.0, settings_))
    linear = _setup().q_coordinates([theta, np.zeros(settings_)], [2 * theta], np.arange(20), np.arange(29))
    grid = Grid.covering(linear.ranges(), (9, 11, 7))
    geometry = np.concatenate([np.arange(settings_), rng.integers(0, settings_, 12)])
    group = rng.integers(0, 3, geometry.size)
    monkeypatch.setattr(nx5d_rsm.gridding, "FORK_FROM_PIXELS", 10**12)
    alone = FrameGridder(grid, linear).start(geometry, group, 3)
    monkeypatch.setattr(nx5d_rsm.gridding, "FORK_FROM_PIXELS", 2)
    spread = FrameGridder(grid, linear).start(geometry, group, 3)
    assert np.array_equal(spread.norm, alone.norm)
    assert np.array_equal(spread.pixels, alone.pixels)
