"""Every map carries honest statistics: the reported Poisson variance is the spread of the map values.

Simulated frames of known expected counts are drawn 1000 times; each draw
is mapped as a scan would be (monitor normalisation, fuzzy gridding, one
map per group).  The standard deviation of each map value over the draws
must be the reported ``sqrt(qdata_variance)``; ``intensity_variance``
summed over a region must be the spread of the intensity summed there;
``pixels`` must count the pixel readings that reached each bin.
"""

import numpy as np
import pytest

from nx5d_rsm import map_frames

from .helpers import lab_setup

SETUP = lab_setup((6.0, 8.0), 400.0)
THETA = np.array([19.9, 19.95, 20.0, 20.05, 20.1, 20.0])
GROUP = np.array([0, 0, 0, 1, 1, 1])  # two maps, e.g. before and after time zero
MONITOR = np.array([800.0, 950.0, 1100.0, 1000.0, 1200.0, 900.0])
SHAPE = (12, 16)
REPETITIONS = 1000


def expected_counts() -> np.ndarray:
    """A reflection over a flat background, different in every frame."""
    rows, cols = np.mgrid[: SHAPE[0], : SHAPE[1]]
    spot = [60.0 * np.exp(-((rows - 6) ** 2) / 8 - (cols - 8 - 4 * (t - 20) / 0.1) ** 2 / 6) for t in THETA]
    return np.stack(spot) + 3.0


def cook(frames: np.ndarray):
    return map_frames(
        SETUP, [THETA], [2 * THETA], frames, grid_size=(5, 7), groups=[("group", GROUP)], scale=1.0 / MONITOR
    )


@pytest.fixture(scope="module")
def draws():
    rng = np.random.default_rng(20240611)
    expected = expected_counts()
    maps = [cook(rng.poisson(expected).astype(np.int32)) for _ in range(REPETITIONS)]
    return maps


def test_the_spread_of_every_map_value_is_its_reported_sigma_within_5_percent(draws):
    """1000 draws measure a standard deviation to 2.2 % (1/sqrt(2 x 999)): a bin's ratio spread/sigma is
    within 5 % but for one bin in fifty or so; pooled over the 60 bins it is known to 0.3 %."""
    values = np.stack([m.qdata.values for m in draws])
    reported = np.sqrt(np.mean(np.stack([m.qdata_variance.values for m in draws]), axis=0))
    spread = values.std(axis=0, ddof=1)
    measured = np.isfinite(reported) & (reported > 0)
    ratio = spread[measured] / reported[measured]
    assert measured.sum() >= 40  # most bins of both maps
    assert np.mean(np.abs(ratio - 1) < 0.05) >= 0.9, f"spread/sigma from {ratio.min():.3f} to {ratio.max():.3f}"
    assert np.abs(ratio - 1).max() < 0.1
    pooled = np.sqrt((spread[measured] ** 2).sum() / (reported[measured] ** 2).sum())
    assert pooled == pytest.approx(1.0, abs=0.01)


def test_the_intensity_summed_over_a_region_has_the_summed_intensity_variance(draws):
    region = (slice(None), slice(1, 4), slice(2, 6))  # both maps, a block of bins around the reflection
    summed = np.stack([(m.qdata * m.weight).values[region].sum(axis=(1, 2)) for m in draws])
    reported = np.sqrt(np.mean([m.intensity_variance.values[region].sum(axis=(1, 2)) for m in draws], axis=0))
    np.testing.assert_allclose(summed.std(axis=0, ddof=1), reported, rtol=0.05)


def test_pixels_count_the_pixel_readings_that_reached_each_bin():
    frames = np.random.default_rng(1).poisson(expected_counts()).astype(np.int32)
    whole = cook(frames)
    frames[:, 3, 5] = -2  # a gap pixel in every frame
    gapped = cook(frames)
    # every pixel box lies within one bin or straddles a few: each reading counts once per bin it reaches
    assert whole.pixels.values.sum() >= frames.size
    lost = whole.pixels.values - gapped.pixels.values
    assert lost.min() >= 0
    assert 6 <= lost.sum() <= 6 * 4
    assert whole.pixels.dtype.kind == "i"
    np.testing.assert_array_equal(whole.pixels.values == 0, np.isnan(whole.qdata.values))
