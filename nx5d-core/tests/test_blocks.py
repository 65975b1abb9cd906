"""`map_blocks` over dask arrays without a block reader: every chunk is computed once, however coarse."""

from __future__ import annotations

import sys
import threading

import dask
import dask.array as da
import h5py
import numpy as np
import pytest

from nx5d.io import hdf5
from nx5d.io.blocks import STREAM_FRAMES, map_blocks
from nx5d.io.storage import Storage, record_io

SHAPE = (6, 5)


def _stack(n: int) -> np.ndarray:
    return (np.arange(n * SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(n, *SHAPE) * 7) % 11


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_an_opaque_chunk_is_computed_once_for_all_its_blocks(workers):
    """A delayed chunk of 20 frames (a decoder of whole chunks) read in blocks of 8 is decoded once, not 3 times."""
    sizes = (20, 20, 13, 3)
    stack = _stack(sum(sizes))
    starts = np.cumsum([0, *sizes])
    computed: list[int] = []
    lock = threading.Lock()

    def chunk(i: int) -> np.ndarray:
        with lock:
            computed.append(i)
        return stack[starts[i] : starts[i + 1]].copy()

    images = da.concatenate(
        [da.from_delayed(dask.delayed(chunk)(i), (n, *SHAPE), np.int32) for i, n in enumerate(sizes)], axis=0
    )
    done = list(map_blocks(images, lambda part, block: (part, block.sum(axis=(1, 2))), workers=workers))
    assert sorted(computed) == list(range(len(sizes)))
    parts = [part for part, _ in done]
    assert [p.start for p in parts] == sorted(p.start for p in parts)  # in order
    assert all(0 < p.stop - p.start <= STREAM_FRAMES for p in parts)
    assert not [p for p in parts for s in starts if p.start < s < p.stop]  # no block crosses a chunk
    np.testing.assert_array_equal(np.concatenate([sums for _, (_, sums) in done]), stack.sum(axis=(1, 2)))


def test_an_hdf5_dataset_in_chunks_of_many_frames_is_read_once(tmp_path):
    """A compressed HDF5 dataset chunked 24 frames at a time: each dask chunk opens the file and reads it once."""
    stack = _stack(100)
    path = tmp_path / "frames.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=stack, chunks=(24, *SHAPE), compression="gzip")
    url = path.as_uri()
    storage = Storage(root=tmp_path.as_uri())
    with h5py.File(path, "r") as f:
        images = hdf5.lazy_array(storage, url, "/data", f["data"], target_bytes=48 * stack[0].nbytes)
    assert images.chunks[0] == (48, 48, 4)
    with record_io() as io:
        done = list(map_blocks(images, lambda part, block: block.sum(axis=(1, 2)), workers=2))
    assert io.files_opened == 3  # once per chunk (was once per block of 8 frames: 13)
    np.testing.assert_array_equal(np.concatenate([sums for _, sums in done]), stack.sum(axis=(1, 2)))


def test_stopping_early_computes_no_chunk_beyond_the_blocks_asked_for():
    """Closing the iteration after the first block leaves the later chunks unread."""
    computed: list[int] = []

    def chunk(i: int) -> np.ndarray:
        computed.append(i)
        return _stack(32)

    images = da.concatenate([da.from_delayed(dask.delayed(chunk)(i), (32, *SHAPE), np.int32) for i in range(8)])
    blocks = map_blocks(images, lambda part, block: block.sum(), workers=1)
    next(iter(blocks))
    blocks.close()
    assert computed == [0]


def test_frames_marked_sliceable_are_read_a_block_at_a_time(tmp_path):
    """An HDF5 dataset of one frame per chunk, marked: blocks of 8 frames across dask chunks, only those frames read."""
    from nx5d.io.blocks import keep_block_reader, with_sliceable_frames

    stack = _stack(100)
    path = tmp_path / "frames.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=stack, chunks=(1, *SHAPE), compression="gzip")
    with h5py.File(path, "r") as f:
        lazy = hdf5.lazy_array(Storage(), path.as_uri(), "/data", f["data"], target_bytes=48 * stack[0].nbytes)
    images = keep_block_reader(with_sliceable_frames(lazy), lazy.copy())  # as the memory extension hands it over
    with record_io() as io:
        done = list(map_blocks(images, lambda part, block: block.sum(axis=(1, 2)), workers=2))
    assert [part.stop - part.start for part, _ in done] == [STREAM_FRAMES] * 12 + [4]  # across the chunks at 48, 96
    assert io.files_opened == 13  # a read of 8 frames per block: no chunk of 48 frames in memory
    np.testing.assert_array_equal(np.concatenate([sums for _, sums in done]), stack.sum(axis=(1, 2)))
    images[0] = 0  # an assignment gives the array a new graph: the mark no longer holds, chunks are read whole
    with record_io() as io:
        assert sum(1 for _ in map_blocks(images, lambda part, block: 0, workers=2)) == 13  # 6 + 6 + 1 blocks
    assert io.files_opened == 3


@pytest.mark.parametrize("fork", ["1", "0"])
def test_map_ranges_gives_every_range_in_order_from_workers(monkeypatch, fork):
    """Worker processes (with NX5D_FORK=0: this thread) work on this process's memory; results come back in order."""
    import os

    from nx5d.io.blocks import map_ranges

    monkeypatch.setenv("NX5D_FORK", fork)
    table = np.arange(1000.0) ** 2  # what the workers read: this process's memory
    done = list(map_ranges(1000, lambda part: (os.getpid(), float(table[part].sum())), size=64, workers=2))
    assert [part for part, _ in done] == [slice(a, min(a + 64, 1000)) for a in range(0, 1000, 64)]
    assert sum(total for _, (_, total) in done) == float(table.sum())
    workers = {pid for _, (pid, _) in done}
    assert (os.getpid() not in workers) == (fork == "1" and sys.platform == "linux")


def test_an_error_in_map_ranges_is_raised_here_with_its_type():
    from nx5d.errors import OptionError
    from nx5d.io.blocks import map_ranges

    def work(part):
        if part.start >= 30:
            raise OptionError(f"range {part.start} refused")
        return part.start

    with pytest.raises(OptionError, match="range 30 refused"):
        list(map_ranges(100, work, size=10, workers=2))


def test_a_chunk_that_fails_fails_every_block_waiting_for_it_without_being_computed_again():
    computed: list[int] = []

    def chunk(i: int) -> np.ndarray:
        computed.append(i)
        raise OSError(f"chunk {i} cannot be read")

    images = da.concatenate([da.from_delayed(dask.delayed(chunk)(i), (40, *SHAPE), np.int32) for i in range(3)])
    with pytest.raises(OSError, match="chunk 0 cannot be read"):
        list(map_blocks(images, lambda part, block: block.sum(), workers=4))
    assert computed.count(0) == 1  # its 5 blocks were in flight at once (a later chunk may have been begun too)


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked on Linux only")
def test_map_ranges_gives_every_worker_process_some_ranges(monkeypatch):
    """12 ranges on 4 workers: 4 processes (ranges are not packed 8 to a message, which would leave 2 idle)."""
    import os

    from nx5d.io.blocks import map_ranges

    monkeypatch.delenv("NX5D_FORK", raising=False)
    done = list(map_ranges(12, lambda part: os.getpid(), size=1, workers=4))
    assert len({pid for _, pid in done}) == 4
