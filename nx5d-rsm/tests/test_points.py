"""Frames as their non-zero pixels, and the batches they are gridded in."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nx5d_rsm.gridding import FrameGridder, Grid, grid_frames
from nx5d_rsm.points import FramePoints, PointBatches


def _frames(seed: int, n: int = 12, shape: tuple[int, int] = (7, 9)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frames = rng.poisson(0.4, size=(n, *shape)).astype(np.int32)
    frames[:, 0, 0] = -1  # a defect marker
    return frames


def test_points_are_the_non_zero_pixels_in_frame_then_pixel_order():
    frames = _frames(1).astype(float)
    frames[3, 2, 4] = np.nan
    points = FramePoints.of(frames, first=100)
    flat = frames.reshape(len(frames), -1)
    frame, pixel = np.nonzero((flat != 0) | np.isnan(flat))
    np.testing.assert_array_equal(points.frame, frame + 100)
    np.testing.assert_array_equal(points.pixel, pixel)
    np.testing.assert_array_equal(points.value, flat[frame, pixel])
    assert np.isnan(points.value).sum() == 1


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    size=st.integers(1, 400),
    cuts=st.lists(st.integers(0, 12), max_size=8),
)
def test_batches_are_cut_at_the_same_points_however_the_frames_are_handed_in(seed, size, cuts):
    frames = _frames(seed)
    whole = FramePoints.of(frames)
    bounds = sorted({0, 12, *cuts})
    batches = PointBatches(size)
    got = []
    for a, b in itertools.pairwise(bounds):
        got.extend(batches.add(FramePoints.of(frames[a:b], first=a)))
    got.extend(batches.rest())
    assert [len(b) for b in got[:-1]] == [size] * (len(got) - 1)
    assert 0 < len(got[-1]) <= size if len(whole) else got == []
    joined = FramePoints.joined(got) if got else whole
    for name in ("frame", "pixel", "value"):
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name))


@settings(max_examples=80, deadline=None)
@given(
    frame=st.lists(st.integers(0, 2**40), max_size=30),
    pixel_high=st.sampled_from([10, 2**31 - 1, 2**31, 2**40]),
    seed=st.integers(0, 2**16),
    value_type=st.sampled_from(["int32", "uint16", "float32", "float64"]),
)
def test_points_pickled_compactly_come_back_the_same(frame, pixel_high, seed, value_type):
    """Worker processes hand points back pickled (frames as runs, 32-bit pixels where they fit): unpickled, every
    point is the same, in its order and type, whatever the frames' order, the pixels' size or the values' type."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    points = FramePoints(
        np.sort(np.asarray(frame, np.intp)) if seed % 2 else np.asarray(frame, np.intp),  # in frame order, or not
        rng.integers(0, pixel_high, n, endpoint=True).astype(np.intp),
        rng.normal(0.0, 100.0, n).astype(value_type),
    )
    again = pickle.loads(pickle.dumps(points))
    for name in ("frame", "pixel", "value"):
        np.testing.assert_array_equal(getattr(again, name), getattr(points, name))
        assert getattr(again, name).dtype == getattr(points, name).dtype


def test_points_pickled_take_eight_bytes_each():
    points = FramePoints.of(_frames(3, n=200, shape=(40, 50)))  # 0.4 counts per pixel: 130,000 points
    assert len(points) > 100_000
    assert len(pickle.dumps(points)) < 8.1 * len(points)  # 20 bytes each as they are


def test_gridding_in_batches_gives_the_maps_of_gridding_at_once():
    """Batches change the order of additions only: the maps agree to rounding; equal batches give equal bits."""
    frames = _frames(7, n=40)
    rows, cols = np.meshgrid(np.arange(7.0), np.arange(9.0), indexing="ij")
    coordinates = [np.stack([rows + 0.3 * g for g in range(4)]), np.stack([cols - 0.2 * g for g in range(4)])]
    grid = Grid.covering([c.ravel() for c in coordinates], (6, 8))
    geometry = np.arange(40) % 4
    group = np.arange(40) // 20
    at_once = grid_frames(grid, coordinates, geometry, group, 2, frames)

    def in_batches(size: int) -> np.ndarray:
        gridder = FrameGridder(grid, coordinates)
        totals = gridder.start(geometry, group, 2)
        batches = PointBatches(size)
        for start in range(0, 40, 16):
            for batch in batches.add(FramePoints.of(frames[start : start + 16], start)):
                gridder.apply(totals, gridder.contributions_of(batch, geometry, group))
        for batch in batches.rest():
            gridder.apply(totals, gridder.contributions_of(batch, geometry, group))
        return gridder.maps(totals)

    np.testing.assert_allclose(in_batches(37), at_once, rtol=1e-12)
    np.testing.assert_array_equal(in_batches(37), in_batches(37))
    np.testing.assert_allclose(in_batches(10**6), at_once, rtol=1e-12)
