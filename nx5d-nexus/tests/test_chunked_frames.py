"""Frames stored many to a compressed HDF5 chunk: streamed cooks read every chunk once, and give the same maps."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import nx5d
from nx5d.io.storage import record_io
from nx5d_nexus.layouts import _decodes_frame_by_frame
from nx5d_nexus.synth import write_repository

SPICE = {"settings": {"sample_motors": ["eta"], "detector_motors": ["delta"], "grid_size": [20, 30]}}


@pytest.mark.parametrize(
    ("chunks", "frame_by_frame"),
    [
        (None, True),  # contiguous: any frames are read alone
        ((1, 24, 32), True),
        ((8, 24, 32), True),  # a block of 8 frames holds whole chunks
        ((4, 12, 32), True),
        ((10, 24, 32), False),  # a block of 8 frames cuts chunks: each would be inflated twice or more
        ((64, 24, 32), False),
    ],
)
def test_which_datasets_are_read_a_few_frames_at_a_time(tmp_path, chunks, frame_by_frame):
    with h5py.File(tmp_path / "f.h5", "w") as h5:
        node = h5.create_dataset("d", (128, 24, 32), np.int32, chunks=chunks)
        assert _decodes_frame_by_frame(node) is frame_by_frame


def test_a_virtual_dataset_is_read_chunk_by_chunk(tmp_path):
    """Its sources' chunks are not known where it is opened: every dask chunk is computed once."""
    url = write_repository(tmp_path, {"hc1": [1]}, "bliss", vds=True)
    with h5py.File(tmp_path / "hc1" / "hc1.h5", "r") as h5:
        assert not _decodes_frame_by_frame(h5["1.1/instrument/mpx/image"])
    proposal = nx5d.open(url, spice_url="").hc1
    assert np.isfinite(proposal[proposal.keys()[0]].cook(SPICE).qdata).any()


def test_a_streamed_cook_reads_each_chunk_of_many_frames_once_and_makes_the_same_maps(tmp_path):
    """64 frames to a gzip chunk: the frames (200, one dask chunk) read once, not once per block of 8 frames (25)."""
    maps, opened = {}, {}
    for per_chunk in (1, 64):
        url = write_repository(tmp_path / str(per_chunk), {"hc1": [1]}, "bliss", points=200, frames_per_chunk=per_chunk)
        with h5py.File(tmp_path / str(per_chunk) / "hc1" / "hc1.h5", "r") as h5:
            assert h5["1.1/instrument/mpx/image"].chunks[0] == per_chunk
        proposal = nx5d.open(url, spice_url="").hc1
        scan = proposal[proposal.keys()[0]]
        with record_io() as io:
            maps[per_chunk] = scan.cook(SPICE, lazy=True)
        opened[per_chunk] = io.files_opened
    assert opened[1] - opened[64] == 25 - 1  # the same opening and listing; 25 reads of 8 frames, or 1 of 200
    for name in ("qdata", "weight", "pixels", "qdata_variance"):
        np.testing.assert_array_equal(maps[64][name].values, maps[1][name].values)


@pytest.mark.parametrize(("options", "times"), [({"roi": [2, 20, 0, 30]}, 1), ({"reduce": 2}, 1), ({"chunks": 64}, 4)])
def test_frames_of_a_region_or_new_chunks_are_read_once(tmp_path, options, times):
    """A region, a stride or other chunks make dask compute whole chunks: each is computed once, not once per block.

    The file's frames make one dask chunk of 200; in chunks of 64, each of the 4 computes it (before: 25 blocks).
    """
    url = write_repository(tmp_path, {"hc1": [1]}, "bliss", points=200)
    proposal = nx5d.open(url, spice_url="").hc1
    scan = proposal[proposal.keys()[0]]
    frame_bytes = 24 * 32 * 4
    with record_io() as io:
        cooked = scan.cook(SPICE, lazy=True, **options)
    assert np.isfinite(cooked.qdata).any()
    assert io.bytes_read < (times + 0.5) * 200 * frame_bytes  # before: the 200 frames once per block of 8 (25 times)
