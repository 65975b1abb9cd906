"""Repositories, proposals and scans go where dask, multiprocessing and notebook caches send them: by pickle.

A pickled scan is its proposal's and repository's URL, options, storage and
spice location: in the receiving process it lists, loads and cooks from the
files with that process's plugins, and gives what the sender's scan gives.
"""

from __future__ import annotations

import multiprocessing
import operator
import pickle
from concurrent.futures import ProcessPoolExecutor

import dask
import pytest
import xarray as xr

import nx5d
from nx5d.errors import NotSupportedError
from nx5d.plugins.discovery import PluginRegistry
from nx5d_udkm.synth import ScanSpec, write_repository

SMALL = ScanSpec(delays=(-10.0, 0.0, 50.0), thetas=(18.4, 18.5, 18.6, 18.7), delay_loops=1, frames=None)


@pytest.fixture
def repo(tmp_path):
    url = write_repository(tmp_path / "data", {"20210205": ["091726", "101500"]}, SMALL)
    repo = nx5d.open(url, spice_url=(tmp_path / "spice").as_uri() + "/{proposal}")
    repo.p20210205.spice.seed("settings", grid_size=[20, 30])
    return repo


def test_a_scan_pickles_and_cooks_alike_after_unpickling(repo):
    scan = repo.p20210205.r091726
    cooked = scan.cooked
    scan.raw  # noqa: B018 - something loaded and cooked is kept: none of it travels
    again = pickle.loads(pickle.dumps(scan))
    assert (again.key, again.proposal.key, again.url, again.beamline) == (scan.key, "20210205", scan.url, "udkm")
    assert again.summary == scan.summary
    assert again.spice.settings()["settings"].grid_size == [20, 30]
    xr.testing.assert_identical(again.cooked, cooked)
    assert again.raw.images.shape == scan.raw.images.shape
    assert len(pickle.dumps(scan)) < 20_000  # neither the frames nor the cooked maps went along


def test_proposals_and_repositories_pickle_with_their_listing_and_spice(repo):
    proposal = repo.p20210205
    proposal.r101500.summary  # noqa: B018 - children made so far stay behind
    for obj in (proposal, repo):
        again = pickle.loads(pickle.dumps(obj))
        assert again.all() == obj.all()
    again = pickle.loads(pickle.dumps(proposal))
    assert again.spice.view("091726").settings()["settings"].grid_size == [20, 30]
    again.spice.update("", "settings", grid_size=[10, 10])  # written where the sender's store is
    assert proposal.spice.view("091726").settings()["settings"].grid_size == [10, 10]


def test_in_memory_spice_travels_as_a_copy(tmp_path):
    url = write_repository(tmp_path, {"20210205": ["091726"]}, SMALL)
    proposal = nx5d.open(url, spice_url="").p20210205
    proposal.spice.seed("settings", grid_size=[20, 30])
    again = pickle.loads(pickle.dumps(proposal))
    assert again.spice.view("091726").settings()["settings"].grid_size == [20, 30]
    again.spice.update("", "settings", grid_size=[10, 10])
    assert proposal.spice.view("091726").settings()["settings"].grid_size == [20, 30]


def test_a_scan_cooks_in_a_new_process_and_in_dask_workers(repo):
    scan = repo.p20210205.r091726
    expected = scan.cooked
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        xr.testing.assert_identical(pool.submit(operator.attrgetter("cooked"), scan).result(), expected)
    summaries = dask.compute(
        *[dask.delayed(operator.attrgetter("summary"))(s) for s in repo.p20210205.values()], scheduler="processes"
    )
    assert [s["steps"] for s in summaries] == [12, 12]


def test_a_repository_with_a_registry_of_its_own_cannot_travel(tmp_path):
    url = write_repository(tmp_path, {"20210205": ["091726"]}, SMALL)
    repo = nx5d.open(url, spice_url="", registry=PluginRegistry())
    with pytest.raises(NotSupportedError, match="registry of its own"):
        pickle.dumps(repo.p20210205.r091726)
