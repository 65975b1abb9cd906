"""Partial maps that grow with the scan (nx5d_rsm.incremental): new points gridded onto the grid the command plans.

The generated SPEC scan ``ascan th 19.4 19.7 10 1`` with a line detector is cooked as ``follow(partial=...)``
cooks it -- again and again as it grows, its cooks sharing one `Growing` -- and compared with cooking the
finished scan; where the grid cannot be fixed in advance, each partial map is the ordinary cook of the points
so far, and a CookWarning says why.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import nx5d
from nx5d.errors import CookWarning
from nx5d.recipes.contract import Growing, growing
from nx5d_spec.synth import Dialect, write_spec

from .test_partial_maps import SPICE  # the line detector of the generated SPEC scans

FLOATS = ("qdata", "weight", "qdata_variance", "intensity_variance")


@pytest.fixture
def scan(tmp_path):
    write_spec(tmp_path / "beamtime.spec", scans=1, dialect=Dialect(mca=True), seed=4)
    found = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").beamtime["1.1"]
    assert found.summary["notes"] == "ascan  th 19.4 19.7  10 1"
    return found


def _grown(scan, shared, points, spice=SPICE, raw=None):
    raw = scan.raw if raw is None else raw
    with growing(shared):
        return scan.cook(spice, raw=raw.isel(index=slice(0, points)))


def test_a_growing_map_adds_the_new_points_to_the_planned_grid_and_ends_as_the_finished_scans_map(scan):
    shared = Growing()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CookWarning)  # the command plans the grid: no full re-cook
        grown = [_grown(scan, shared, points) for points in (3, 7, 11)]
    assert [int(m.frames) for m in grown] == [3, 7, 11]
    finished = scan.cook(SPICE)
    for partial in grown:  # one grid throughout: the finished scan's, its points being where the command planned
        for name in ("qx", "qz"):
            xr.testing.assert_identical(partial[name], finished[name])
    for name in FLOATS:  # the bins' sums added block by block: equal to rounding
        np.testing.assert_allclose(grown[-1][name].values, finished[name].values, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(grown[-1].pixels.values, finished.pixels.values)
    assert grown[0].weight.sum() < grown[1].weight.sum() < grown[2].weight.sum()  # earlier maps unchanged by later
    totals = shared.state.totals  # what is kept between cooks: the grid's size, whatever the points
    assert sum(part.size for part in totals.parts()) == 5 * 20 * 30


def test_a_growing_map_equals_the_same_points_mapped_at_once(scan):
    shared = Growing()
    for points in (2, 5, 6, 9):
        stepwise = _grown(scan, shared, points)
    at_once = _grown(scan, Growing(), 9)
    for name in FLOATS:
        np.testing.assert_allclose(stepwise[name].values, at_once[name].values, rtol=1e-12, atol=1e-300)
    for name in ("pixels", "frames", "qx", "qz"):
        xr.testing.assert_identical(stepwise[name], at_once[name])


def test_other_settings_start_the_growing_map_over(scan):
    shared = Growing()
    _grown(scan, shared, 4)
    finer = {**SPICE, "settings": {**SPICE["settings"], "grid_size": [40, 30]}}
    again = _grown(scan, shared, 6, finer)
    assert again.qdata.shape == (40, 30)
    assert int(again.frames) == 6
    np.testing.assert_array_equal(again.pixels.values, _grown(scan, Growing(), 6, finer).pixels.values)


def _anew(scan, shared, spice, raw, match):
    """A growing cook that falls back to the ordinary cook of the points so far, saying why."""
    with pytest.warns(CookWarning, match=match):
        partial = _grown(scan, shared, raw.sizes["index"], spice, raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ordinary = scan.cook(spice, raw=raw)
    for name in (*FLOATS, "pixels", "frames", "qx", "qz"):
        xr.testing.assert_identical(partial[name], ordinary[name])
    assert isinstance(shared.state, str)  # the reason, not totals: the next cook of the scan goes straight to it


def test_maps_grouped_by_a_variable_are_cooked_anew(scan):
    grouped = {**SPICE, "settings": {**SPICE["settings"], "group_by": ["Monitor"]}}
    raw = scan.raw.isel(index=slice(0, 5))
    _anew(scan, Growing(), grouped, raw, r"cooked anew from all points so far at each update: its maps are grouped by")


def _with_theta(raw, theta):
    return raw.assign_coords(Theta=("index", theta)) if "Theta" in raw.coords else raw.assign(Theta=("index", theta))


def test_a_point_outside_the_planned_range_turns_to_cooking_anew(scan):
    shared = Growing()
    _grown(scan, shared, 4)
    raw = scan.raw.isel(index=slice(0, 6))
    theta = raw.Theta.values.copy()
    theta[5] += 3.0  # not where the command said it would go
    _anew(scan, shared, SPICE, _with_theta(raw, theta), r"a point measured lies outside the range its command plans")
    more = scan.raw.isel(index=slice(0, 8))
    more = _with_theta(more, np.r_[theta, more.Theta.values[6:]])
    _anew(scan, shared, SPICE, more, r"a point measured lies outside the range its command plans")  # still anew


def test_a_relative_scan_is_cooked_anew(tmp_path):
    path = write_spec(tmp_path / "beamtime.spec", scans=1, dialect=Dialect(mca=True), seed=4)
    path.write_text(path.read_text().replace("#S 1  ascan  th 19.4 19.7  10 1", "#S 1  dscan  th -0.15 0.15  10 1"))
    relative = nx5d.open(f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", beamline="spec", spice_url="").beamtime["1.1"]
    raw = relative.raw.isel(index=slice(0, 5))
    _anew(relative, Growing(), SPICE, raw, r"its command 'dscan  th -0.15 0.15  10 1' plans no absolute motor range")
