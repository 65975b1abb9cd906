"""Frames block by block, on every CPU: how a cook streams a scan without holding its image stack.

A lazily loaded scan's frames are a dask array, one chunk per block of
frames.  `map_blocks` reads (decodes) each block and hands it to a
function in a pool of threads, a few blocks ahead, and gives back the
results in frame order; a cook that grids each block into partial sums
never needs all frames at once, and the order of the results keeps it
deterministic.  Frames already in memory are cut into blocks of views,
without copying.

A lazy array that nx5d made itself carries a *block reader*
(`with_block_reader`): then each thread decodes its blocks into one
buffer it reuses, without dask's scheduling and without touching fresh
memory for every block (new pages cost the kernel time that threads would
otherwise spend decoding in parallel).  A reader marked safe to use after a
fork is run in worker processes instead of threads, on Linux
([`nx5d.io.forked`][nx5d.io.forked]): reading and checking each file
holds Python's lock, which threads take turns for.

Blocks are `STREAM_FRAMES` frames wherever the frames are (streamed, in
memory, a dask array: there, where its chunks hold more frames, blocks end
where chunks do, so that each chunk is computed once), and the results come
back in frame order: a cook that adds up what it makes of each block in that order
(cutting it at fixed points, not at blocks, as the map cook does) gets the
same bits whether the scan's raw data was looked at first or not.
"""

from __future__ import annotations

import bisect
import collections
import contextvars
import functools
import itertools
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import attrs
import numpy as np

from nx5d.io.forked import ForkedBlocks

__all__ = [
    "block_slices",
    "map_blocks",
    "with_block_reader",
    "keep_block_reader",
    "BlockReader",
    "STREAM_FRAMES",
    "FORK_FROM_BLOCKS",
    "usable_cpus",
    "with_sliceable_frames",
    "map_ranges",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: ``read_into(start, stop, out)``: frames ``start:stop`` of a lazy array decoded into ``out``.
BlockReader = Callable[[int, int, np.ndarray], None]


class BlockResults(Iterator[tuple[slice, T_co]], Protocol):
    """What `map_blocks` gives: ``(frame range, result)`` in frame order, and ``close()`` to stop early."""

    def close(self) -> None:
        """Stop: blocks not yet read are not read, threads and processes working on others end."""


#: Frames per block, wherever the frames are: one block per thread is in memory, so small blocks keep a streamed
#: cook's memory small beside its maps (8 Pilatus 100K frames: 3 MB per thread).
STREAM_FRAMES = 8

#: Blocks from which `map_blocks` reads in worker processes (where it may): fewer are read faster in threads than
#: forking takes.
FORK_FROM_BLOCKS = 64


def block_slices(frames: int, block: int = STREAM_FRAMES) -> list[slice]:
    """Frame ranges to work in: ``block`` frames at a time."""
    starts = np.append(np.arange(0, frames, max(1, block)), frames)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(starts) if b > a]


@attrs.frozen
class _Mark:
    """How the frames of the dask graph ``graph`` are read block by block."""

    graph: str
    read_into: BlockReader
    workers: int | None
    forkable: bool


def with_block_reader(
    images: Any, read_into: BlockReader, *, workers: int | None = None, forkable: bool = False
) -> Any:
    """``images`` (a dask array of frames), marked as readable block by block with ``read_into``.

    ``workers``: how many threads or processes `map_blocks` reads with
    (default: the number of CPUs), e.g. a beamline's loading option.
    ``forkable``: ``read_into`` works in a forked child process (it reads
    local files with plain system calls, and uses no thread, event loop or
    open handle of the parent's), so `map_blocks` may run it in worker
    processes (`nx5d.io.forked`).

    The mark holds for this array's graph only: an assignment into the
    array (``images[0] = ...``, which gives it a new graph and name) drops
    it, so the edited frames are computed, never read afresh from the files.
    """
    images._nx5d_read_into = _Mark(images.name, read_into, workers, forkable)
    return images


def keep_block_reader(source: Any, copy: Any) -> Any:
    """``copy``, a new array object over ``source``'s graph, marked as ``source`` is: with its block reader
    (`with_block_reader`) and as sliceable (`with_sliceable_frames`), where it is."""
    if getattr(copy, "name", None) == getattr(source, "name", None):
        mark = _mark(source)
        if mark is not None:
            copy._nx5d_read_into = mark
        if _sliceable(source):
            copy._nx5d_sliceable = copy.name
    return copy


def _mark(images: Any) -> _Mark | None:
    """How ``images`` is read block by block, if it is marked and the mark still holds for its graph."""
    mark = getattr(images, "_nx5d_read_into", None)
    if not isinstance(mark, _Mark) or mark.graph != getattr(images, "name", None):
        return None
    return mark


class _Buffers(threading.local):
    """One reusable block buffer per thread."""

    block: np.ndarray | None = None

    def get(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        size = int(np.prod(shape))
        if self.block is None or self.block.dtype != dtype or self.block.size < size:
            self.block = np.empty(size, dtype)
        return self.block[:size].reshape(shape)


def _readers(
    images: Any, parts: list[slice], mark: _Mark | None, shared: list[slice] | None
) -> list[Callable[[], np.ndarray]]:
    """One function per block that reads it: with the block reader of ``mark`` (`_mark` of ``images``), from the
    chunk it shares with other blocks (``shared``: `_parts`), a slice of frames in memory, or a dask block
    computed here."""
    if mark is not None:
        read_into, buffers = mark.read_into, _Buffers()

        def direct(part: slice) -> np.ndarray:
            out = buffers.get((part.stop - part.start, *images.shape[1:]), np.dtype(images.dtype))
            read_into(part.start, part.stop, out)
            return out

        return [functools.partial(direct, part) for part in parts]
    if not hasattr(images, "dask"):
        return [functools.partial(np.asarray, images[part]) for part in parts]
    if shared is not None:  # chunks of more frames than a block: each computed once, for its blocks
        chunks = _SharedChunks(images.to_delayed().reshape(-1), shared, parts)
        return [functools.partial(chunks.frames, part) for part in parts]
    chunked = _chunks(images)
    # one task per chunk of a block, the graph optimised once: far cheaper than computing slices of the array
    blocks = images.to_delayed().reshape(-1) if chunked == parts else [images[part] for part in parts]
    # computed in the calling thread: the I/O accounting (context variables) and the thread count stay ours
    return [functools.partial(_compute, block) for block in blocks]


def _chunks(images: Any) -> list[slice] | None:
    """The frame ranges of a dask array's chunks, if each chunk holds whole frames (else ``None``)."""
    if not hasattr(images, "dask") or any(n != 1 for n in images.numblocks[1:]):
        return None
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(np.cumsum([0, *images.chunks[0]]))]


def with_sliceable_frames(images: Any) -> Any:
    """``images`` (a dask array of frames), marked as giving any few frames of a chunk without computing the rest.

    Mark an array whose source decodes frame by frame: an HDF5 dataset
    stored contiguously or in chunks of 1, 2, 4 or 8 frames, read by a
    ``dask.array.from_array`` getter that slices the file.  `map_blocks`
    then reads it `STREAM_FRAMES` frames at a time, a few frames in memory
    per thread.  A dask array that is not marked, whose chunks hold more
    frames than a block, is read chunk by chunk instead, each chunk computed
    once and shared by the blocks inside it: an opaque chunk (a delayed
    decoder, a compressed HDF5 chunk of 64 frames) is computed whole
    whatever part of it is asked for, so reading it a block at a time
    would decode it once per block.  Like `with_block_reader`'s, the mark
    holds for this array's graph only.
    """
    images._nx5d_sliceable = images.name
    return images


def _sliceable(images: Any) -> bool:
    """Whether ``images`` is marked by `with_sliceable_frames` and the mark holds for its graph."""
    return getattr(images, "_nx5d_sliceable", None) == getattr(images, "name", None) is not None


def _parts(images: Any, mark: _Mark | None) -> tuple[list[slice], list[slice] | None]:
    """The blocks `map_blocks` works in, and the chunks they share, if they do.

    Blocks of `STREAM_FRAMES` frames; those of an unmarked dask array whose
    chunks hold more frames (see `with_sliceable_frames`) never cross a
    chunk, and each chunk is computed once for them (`_SharedChunks`).
    """
    chunked = None if mark is not None or _sliceable(images) else _chunks(images)
    if chunked is None or all(c.stop - c.start <= STREAM_FRAMES for c in chunked):
        return block_slices(images.shape[0]), None
    parts = [slice(c.start + p.start, c.start + p.stop) for c in chunked for p in block_slices(c.stop - c.start)]
    return parts, chunked


class _SharedChunks:
    """The chunks of a dask array of frames, each computed once and shared by the blocks inside it.

    The first block of a chunk to be read computes it (in its thread, with
    its I/O accounting); the others wait for it and take their frames from
    it; the last lets it go.  At most the chunks of the blocks in flight are
    in memory.
    """

    def __init__(self, blocks: Any, chunks: list[slice], parts: list[slice]) -> None:
        self._blocks = blocks
        starts = [c.start for c in chunks]
        self._chunk_of = {p.start: bisect.bisect_right(starts, p.start) - 1 for p in parts}
        self._starts = starts
        self._uses = collections.Counter(self._chunk_of.values())
        self._locks = [threading.Lock() for _ in chunks]
        self._computed: dict[int, np.ndarray] = {}
        self._failed: dict[int, BaseException] = {}

    def frames(self, part: slice) -> np.ndarray:
        """The frames of ``part``, from its chunk (computed now if no block before it computed it)."""
        chunk = self._chunk_of[part.start]
        with self._locks[chunk]:
            if chunk in self._failed:  # the blocks waiting for a chunk that failed fail alike, without trying again
                raise self._failed[chunk]
            frames = self._computed.get(chunk)
            if frames is None:
                try:
                    frames = self._computed[chunk] = _compute(self._blocks[chunk])
                except BaseException as error:
                    self._failed[chunk] = error
                    raise
            self._uses[chunk] -= 1
            if not self._uses[chunk]:
                del self._computed[chunk]
        start = self._starts[chunk]
        return frames[part.start - start : part.stop - start]


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity, which a batch system (Slurm, a cgroup's cpuset) or
    ``taskset`` sets, else every CPU of the machine.

    The default number of threads or processes wherever nx5d works in
    parallel: a job given 4 CPUs of a 128-CPU node starts 4, not 128.
    """
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _may_fork() -> bool:
    """Whether work may be forked into worker processes here: on Linux, ``NX5D_FORK`` not ``0``, and not in a
    dask worker (a cluster's workers are its processes; their nanny sees no children)."""
    return sys.platform == "linux" and os.environ.get("NX5D_FORK", "1") != "0" and not _in_dask_worker()


def map_ranges(count: int, work: Callable[[slice], T], *, size: int, workers: int | None = None) -> BlockResults[T]:
    """``(range, work(range))`` for the ranges of ``size`` items that cover ``0 .. count``, in order, on every CPU.

    For computation on what this process holds in memory (numpy on its
    arrays: no file, lock, thread or event loop of its is used): on Linux,
    with two ranges or more, in ``workers`` forked worker processes (default:
    `usable_cpus`; see [`nx5d.io.forked`][nx5d.io.forked] for what comes
    back from them, errors included).  Elsewhere -- ``NX5D_FORK=0`` (a
    process pool's workers, which are one per CPU already), a dask worker,
    other systems -- one range after the other in this thread: threads
    would hold Python's lock for most of such work.  ``work`` runs in a
    child process where it forks, and what it returns is pickled back: it
    should be small beside the work.  Closing the iterator early ends the
    workers.
    """
    parts = block_slices(count, size)
    n = max(1, min(len(parts), workers or usable_cpus()))
    if n > 1 and _may_fork():  # n > 1: two ranges or more
        return ForkedBlocks(parts, work, n, per_message=1)  # ranges are the work: every process gets some
    return _threaded(parts, work, 1)


def _in_dask_worker() -> bool:
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except (ValueError, AttributeError):
        return False
    return True


def _compute(block: Any) -> np.ndarray:
    return np.asarray(block.compute(scheduler="synchronous"))


def map_blocks(images: Any, work: Callable[[slice, np.ndarray], T], *, workers: int | None = None) -> BlockResults[T]:
    """``(frame range, work(frame range, frames))`` for every block of ``images`` (``(frames, rows, cols)``), in order.

    Blocks are read and worked on by ``workers`` threads (default: what
    the frames' block reader was marked with, else the CPUs this process may use), at
    most ``2 x workers`` blocks in flight, so memory stays bounded by a few
    blocks.  Frames whose block reader is marked ``forkable`` are read and
    worked on in ``workers`` forked processes instead, on Linux, when there
    are at least `FORK_FROM_BLOCKS` blocks, ``NX5D_FORK`` is not ``0`` and
    this is not a dask worker (see [`nx5d.io.forked`][nx5d.io.forked]); ``work`` then runs in a
    child process, and what it returns is pickled back.  The frames handed
    to ``work`` are valid during the call only (their buffer is reused):
    ``work`` returns what it made of them, not the frames.  Worker
    processes start when this is called, so they read while the caller
    prepares; threads when the first result is asked for.  Closing the
    iterator (it has ``close()``) early, or an error in any block, cancels
    the blocks not yet started and ends the running ones: no thread or
    process outlives the iteration.
    """
    mark = _mark(images)
    parts, shared = _parts(images, mark)
    readers = dict(zip((p.start for p in parts), _readers(images, parts, mark, shared), strict=True))
    n = max(1, workers or (mark.workers if mark is not None else None) or usable_cpus())

    def task(part: slice) -> T:
        return work(part, readers[part.start]())

    if n > 1 and mark is not None and mark.forkable and len(parts) >= FORK_FROM_BLOCKS and _may_fork():
        return ForkedBlocks(parts, task, n)
    return _threaded(parts, task, n)


def _threaded(parts: list[slice], task: Callable[[slice], T], n: int) -> Generator[tuple[slice, T], None, None]:
    """``(part, task(part))`` for every part, in order, with ``n`` threads (none for one)."""
    if n == 1 or len(parts) == 1:
        for part in parts:
            yield part, task(part)
        return
    pool = ThreadPoolExecutor(n, thread_name_prefix="nx5d-blocks")
    pending: deque[tuple[slice, Future[T]]] = deque()
    upcoming = iter(parts)
    try:
        for part in itertools.islice(upcoming, 2 * n):
            pending.append((part, pool.submit(contextvars.copy_context().run, task, part)))
        while pending:
            part, future = pending.popleft()
            result = future.result()
            following = next(upcoming, None)
            if following is not None:
                pending.append((following, pool.submit(contextvars.copy_context().run, task, following)))
            yield part, result
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
