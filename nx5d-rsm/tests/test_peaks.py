"""Peak positions are continuous in the data, not quantised to the grid, and carry their Poisson error.

A reflection of known position is rendered into detector frames, mapped as
a scan would be, and found again by `peak_positions`: moving it by 0.3 of a
bin moves the position by 0.3 of a bin (± 0.05), wherever in a bin it
starts; over Poisson draws of the frames, the spread of the positions is the
reported error.
"""

import numpy as np
import pytest

from nx5d_rsm import map_frames
from nx5d_rsm.peaks import half_maximum_centroid, peak_positions

from .helpers import lab_setup

SETUP = lab_setup((20.0, 40.0), 500.0)
THETA = np.linspace(19.8, 20.2, 9)
ROWS, COLS = np.arange(40), np.arange(80)
QY, QZ = (q for q in SETUP.q_maps([THETA], [2 * THETA], ROWS, COLS, axes=("qy", "qz")))
GRID = (20, 40)


def frames_of(qz_peak: float, height: float = 400.0) -> np.ndarray:
    """Expected counts of a reflection at (qy, qz) = (0, qz_peak), 3 bins wide (FWHM) in qz, on a flat background."""
    return height * np.exp(-(QY**2) / (2 * 0.01**2) - (QZ - qz_peak) ** 2 / (2 * 0.005**2)) + 2.0


def cook(frames: np.ndarray):
    return map_frames(SETUP, [THETA], [2 * THETA], frames, grid_size=GRID)


def step_of(maps) -> float:
    return float(maps.qz[1] - maps.qz[0])


@pytest.fixture(scope="module")
def grid():
    maps = cook(frames_of(2.79))
    return maps.qz.values, step_of(maps)


@pytest.mark.parametrize("phase", [0.0, 0.2, 0.45, 0.5, 0.7, 0.9])
def test_a_peak_moved_by_three_tenths_of_a_bin_moves_its_position_by_three_tenths(grid, phase):
    qz, step = grid
    start = qz[GRID[1] // 2] + phase * step
    before = float(peak_positions(cook(frames_of(start)), along="qz"))
    after = float(peak_positions(cook(frames_of(start + 0.3 * step)), along="qz"))
    assert (after - before) / step == pytest.approx(0.3, abs=0.05)
    assert before == pytest.approx(start, abs=0.1 * step)  # and it is where the reflection is


def test_positions_follow_the_peak_in_tenths_of_a_bin_without_steps(grid):
    qz, step = grid
    starts = qz[GRID[1] // 2] + step * np.arange(0.0, 1.01, 0.1)
    found = np.array([float(peak_positions(cook(frames_of(s)), along="qz")) for s in starts])
    np.testing.assert_allclose(np.diff(found) / step, 0.1, atol=0.03)


def test_the_reported_error_is_the_spread_of_the_positions_over_poisson_draws(grid):
    qz, _ = grid
    rng = np.random.default_rng(11)
    expected = frames_of(qz[GRID[1] // 2], height=30.0)
    found = [peak_positions(cook(rng.poisson(expected).astype(np.int32)), along="qz") for _ in range(300)]
    positions = np.array([float(f) for f in found])
    errors = np.array([float(f.qz_peak_error) for f in found])
    assert np.isfinite(errors).all()
    assert positions.std(ddof=1) == pytest.approx(np.sqrt(np.mean(errors**2)), rel=0.15)


def test_a_map_without_variances_has_positions_without_errors():
    maps = cook(frames_of(2.79))
    bare = peak_positions(maps.qdata, along="qz")
    assert np.isnan(float(bare.qz_peak_error))
    assert float(bare) == pytest.approx(float(peak_positions(maps, along="qz")), abs=0.1 * step_of(maps))
    assert np.isnan(float(peak_positions(maps, along="qz", method="max").qz_peak_error))


def test_the_centroid_of_a_sampled_gaussian_is_its_centre_wherever_it_sits():
    x = np.arange(30.0)
    for centre in np.linspace(12.0, 13.0, 11):
        profile = 100 * np.exp(-((x - centre) ** 2) / (2 * 1.3**2))
        position, error, width = half_maximum_centroid(profile, profile, x, None)
        assert position == pytest.approx(centre, abs=0.01)
        assert 0 < error < 0.2
        assert width == pytest.approx(2.355 * 1.3, rel=0.1)  # the FWHM, between the interpolated crossings


def test_a_peak_narrower_than_the_grid_resolves_is_named_in_a_warning():
    maps = map_frames(SETUP, [THETA], [2 * THETA], frames_of(2.79), grid_size=(20, 8))  # 5 times coarser bins
    with pytest.warns(UserWarning, match=r"1 of 1 peaks along 'qz' are narrower than 2 grid steps"):
        peak_positions(maps, along="qz")


def test_positions_carry_the_units_of_their_axis(grid):
    qz, _ = grid
    maps = cook(frames_of(qz[GRID[1] // 2]))
    found = peak_positions(maps, along="qz")
    assert maps.qz.attrs["units"]  # what the positions must say
    assert found.attrs["units"] == maps.qz.attrs["units"] == found["qz_peak_error"].attrs["units"]
    assert found.attrs["long_name"] == "peak position along qz"
    assert "pixel" not in str(found.attrs)  # the weight's labels stay with the weight
