"""Blocks read in forked worker processes: the same results as threads, in order, and nothing of a child lost.

The frames here are real files in ``tmp_path`` (raw int32 pixels, one file
per frame) read through a `Storage`, as a beamline's block reader reads
them; the children are real forked processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from multiprocessing.connection import Pipe
from pathlib import Path

import dask.array as da
import numpy as np
import pytest

import nx5d.io.blocks
import nx5d.io.forked
from nx5d.errors import DataError, DataWarning, MissingDataError, WorkerDiedError
from nx5d.io.blocks import STREAM_FRAMES, BlockResults, map_blocks, with_block_reader
from nx5d.io.storage import Storage, record_io

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked on Linux only")

SHAPE = (6, 5)
FRAMES = 100  # 13 blocks of 8 frames, 2 messages of 8 blocks


@pytest.fixture(autouse=True)
def _fork_from_few_blocks(monkeypatch):
    monkeypatch.setattr(nx5d.io.blocks, "FORK_FROM_BLOCKS", 2)
    monkeypatch.setattr(nx5d.io.forked, "PARTS_PER_MESSAGE", 2)
    monkeypatch.delenv("NX5D_FORK", raising=False)
    yield
    assert _children() == [], "a worker process outlived the iteration"
    assert not [t for t in threading.enumerate() if t.name == "nx5d-forked-results"]


def _children() -> list[int]:
    """Processes this one started that are still there (also not yet reaped)."""
    with open(f"/proc/self/task/{threading.get_native_id()}/children") as fh:
        mine = fh.read().split()
    others = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as fh:
            others += fh.read().split()
    return [int(pid) for pid in {*mine, *others}]


def _frames(tmp_path: Path, n: int = FRAMES) -> tuple[Storage, list[str], np.ndarray]:
    stack = np.arange(n * SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(n, *SHAPE) % 7
    for i, frame in enumerate(stack):
        (tmp_path / f"frame{i:04d}.raw").write_bytes(frame.tobytes())
    urls = [f"file://{tmp_path}/frame{i:04d}.raw" for i in range(n)]
    return Storage(root=f"file://{tmp_path}"), urls, stack


def _lazy(storage: Storage, urls: list[str], *, forkable: bool = True, workers: int | None = 2, warn_at: int = -1):
    """A dask array of the frame files, marked with a block reader that reads them through ``storage``."""

    def read_into(start: int, stop: int, out: np.ndarray) -> None:
        for k, url in enumerate(urls[start:stop]):
            out[k] = np.frombuffer(storage.read_bytes(url), np.int32).reshape(SHAPE)
            if start + k == warn_at:
                warnings.warn(f"frame {warn_at}: {url} looks odd", DataWarning, stacklevel=2)

    images = da.zeros((len(urls), *SHAPE), np.int32, chunks=(64, *SHAPE))
    return with_block_reader(images, read_into, workers=workers, forkable=forkable)


def _where(part: slice, block: np.ndarray) -> tuple[int, int, np.ndarray]:
    return os.getpid(), threading.get_ident(), block.sum(axis=(1, 2))


def test_children_give_the_results_threads_give_in_frame_order(tmp_path):
    storage, urls, stack = _frames(tmp_path)
    forked = list(map_blocks(_lazy(storage, urls), _where))
    pids = {pid for _, (pid, _, _) in forked}
    assert os.getpid() not in pids  # read in worker processes
    assert len(pids) == 2
    assert [part.start for part, _ in forked] == list(range(0, FRAMES, STREAM_FRAMES))
    np.testing.assert_array_equal(np.concatenate([sums for _, (_, _, sums) in forked]), stack.sum(axis=(1, 2)))

    os.environ["NX5D_FORK"] = "0"
    try:
        threaded = list(map_blocks(_lazy(storage, urls), _where))
    finally:
        del os.environ["NX5D_FORK"]
    assert {pid for _, (pid, _, _) in threaded} == {os.getpid()}
    assert [part for part, _ in threaded] == [part for part, _ in forked]


def test_a_reader_not_marked_forkable_or_one_worker_stays_in_this_process(tmp_path):
    storage, urls, _ = _frames(tmp_path)
    assert {pid for _, (pid, _, _) in map_blocks(_lazy(storage, urls, forkable=False), _where)} == {os.getpid()}
    alone = list(map_blocks(_lazy(storage, urls, workers=1), _where))  # the beamline's loading option workers=1
    assert {(pid, thread) for _, (pid, thread, _) in alone} == {(os.getpid(), threading.get_ident())}


def test_what_the_children_read_is_counted_here(tmp_path):
    """The data identity of a result made in children names every file they read, with its state."""
    storage, urls, _ = _frames(tmp_path)
    with record_io() as outer, record_io() as inner:
        list(map_blocks(_lazy(storage, urls), _where))
    for record in (outer, inner):
        assert sorted(record.urls) == urls
        assert sorted(record.depends) == urls
        assert all(state is not None for state in record.depends.values())
        assert record.bytes_read == FRAMES * SHAPE[0] * SHAPE[1] * 4


def test_a_childs_warning_is_given_here(tmp_path):
    storage, urls, _ = _frames(tmp_path)
    with pytest.warns(DataWarning, match=r"frame 57: .*frame0057\.raw looks odd"):
        list(map_blocks(_lazy(storage, urls, warn_at=57), _where))


def test_a_childs_error_is_raised_here_with_its_type_and_message(tmp_path):
    storage, urls, _ = _frames(tmp_path)
    (tmp_path / "frame0061.raw").unlink()
    with pytest.raises(MissingDataError, match=r"frame0061\.raw"):
        list(map_blocks(_lazy(storage, urls), _where))


def test_an_error_that_cannot_be_pickled_keeps_its_type_name_and_message(tmp_path):
    storage, urls, _ = _frames(tmp_path)

    class Odd(Exception):
        def __reduce__(self):
            raise TypeError("not picklable")

    def work(part: slice, block: np.ndarray) -> int:
        if part.start == 48:
            raise Odd("block 48 is odd")
        return part.start

    with pytest.raises(DataError, match=r"Odd: block 48 is odd"):
        list(map_blocks(_lazy(storage, urls), work))


def test_a_child_that_dies_raises_worker_died_naming_its_signal(tmp_path):
    storage, urls, _ = _frames(tmp_path)

    def work(part: slice, block: np.ndarray) -> int:
        if part.start == 40:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        return part.start

    with pytest.raises(WorkerDiedError, match=r"worker process reading frames \(pid \d+\) was killed by SIGKILL"):
        list(map_blocks(_lazy(storage, urls), work))


def test_stopping_early_ends_the_children(tmp_path):
    storage, urls, _ = _frames(tmp_path, n=400)
    done = tmp_path / "done"
    done.mkdir()

    def slow(part: slice, block: np.ndarray) -> int:
        time.sleep(0.1)  # 2.5 s for a child's 25 blocks: far longer than this test takes to stop them
        (done / str(part.start)).touch()
        return part.start

    blocks = map_blocks(_lazy(storage, urls), slow)
    part, _ = next(blocks)
    assert part == slice(0, STREAM_FRAMES)
    assert len(_children()) == 2
    blocks.close()  # the fixture checks that nothing is left
    finished = len(list(done.iterdir()))
    time.sleep(0.1)
    assert len(list(done.iterdir())) == finished < 50  # the children were stopped, not left to finish


def test_an_error_here_ends_the_children(tmp_path):
    storage, urls, _ = _frames(tmp_path, n=400)

    def use(blocks: BlockResults) -> None:
        for part, _ in blocks:
            if part.start == 16:
                raise RuntimeError("the caller's own error")

    with pytest.raises(RuntimeError, match="the caller's own error"):
        use(map_blocks(_lazy(storage, urls), _where))


def test_children_end_when_their_parent_is_killed(tmp_path):
    """A cook's process killed (out of memory, kill -9): its worker processes do not read on for nothing."""
    _frames(tmp_path, n=800)
    script = tmp_path / "parent.py"
    script.write_text(
        f"""
import os, sys, threading, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
import numpy as np
import nx5d.io.blocks, nx5d.io.forked
from pathlib import Path
from test_forked_blocks import _lazy, _children
from nx5d.io.storage import Storage
nx5d.io.blocks.FORK_FROM_BLOCKS = 2
nx5d.io.forked.PARTS_PER_MESSAGE = 40  # 320 frames: the first message fast, the others 20 s each
urls = [f"file://{tmp_path}/frame{{i:04d}}.raw" for i in range(800)]
def slow(part, block):
    if part.start >= 320:
        time.sleep(0.5)
    return part.start
blocks = nx5d.io.blocks.map_blocks(_lazy(Storage(), urls), slow)
next(blocks)
print(*_children(), flush=True)
time.sleep(60)
"""
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2
        assert all(_alive(pid) for pid in pids)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 5  # well before they would next hand back results (and find no one there)
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if _alive(pid)]


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_nothing_is_handed_out_after_close(tmp_path):
    storage, urls, _ = _frames(tmp_path, n=400)
    blocks = map_blocks(_lazy(storage, urls), _where)
    next(blocks)
    blocks.close()
    assert list(blocks) == []  # and no wait for children that are gone


def test_the_blocks_before_a_childs_error_come_first_with_their_warnings(tmp_path):
    """As with threads: the results and warnings of the blocks before the failing one are handed out, then the
    error is raised."""
    storage, urls, _ = _frames(tmp_path)
    (tmp_path / "frame0061.raw").unlink()  # block 56-63, the second of the message of blocks 48-63
    handed: list[int] = []

    def take(blocks: BlockResults) -> None:
        handed.extend(part.start for part, _ in blocks)

    with pytest.warns(DataWarning, match="frame 50"), pytest.raises(MissingDataError, match=r"frame0061\.raw") as err:
        take(map_blocks(_lazy(storage, urls, warn_at=50), _where))
    assert handed == list(range(0, 56, STREAM_FRAMES))
    assert "raised in a worker process reading frames" in "\n".join(err.value.__notes__)


def test_a_dead_child_is_found_even_when_another_process_holds_its_pipe(tmp_path, monkeypatch):
    """A fork elsewhere in the process (another library, another thread) may keep a copy of a child's pipe open,
    so its death never shows as the pipe's end: it is found by waiting for the child itself."""
    storage, urls, _ = _frames(tmp_path)
    kept: list[int] = []

    def leaky_pipe(duplex: bool = True):
        reader, writer = Pipe(duplex)
        kept.append(os.dup(writer.fileno()))  # as a process forked meanwhile would hold it
        return reader, writer

    monkeypatch.setattr(nx5d.io.forked, "Pipe", leaky_pipe)

    def work(part: slice, block: np.ndarray) -> int:
        if part.start == 40:
            os.kill(os.getpid(), signal.SIGKILL)
        return part.start

    try:
        with pytest.raises(WorkerDiedError, match="killed by SIGKILL"):
            list(map_blocks(_lazy(storage, urls), work))
    finally:
        for fd in kept:
            os.close(fd)


def test_a_dask_worker_reads_in_threads(tmp_path):
    """A cluster's workers are its processes (their nanny counts their memory, not their children's)."""
    distributed = pytest.importorskip("distributed")
    storage, urls, _ = _frames(tmp_path)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        pids = client.submit(lambda: {pid for _, (pid, _, _) in map_blocks(_lazy(storage, urls), _where)}).result()
    assert pids == {os.getpid()}


def test_a_task_that_reads_blocks_itself_reads_them_in_threads(tmp_path):
    """A child's task that streams frames again does not fork from the child (whose fork lock is held)."""
    storage, urls, _ = _frames(tmp_path)

    def nested(part: slice, block: np.ndarray) -> tuple[int, set[int]]:
        inner = {pid for _, (pid, _, _) in map_blocks(_lazy(storage, urls[:40]), _where)}
        return os.getpid(), inner

    done = list(map_blocks(_lazy(storage, urls), nested))
    assert all(inner == {pid} for _, (pid, inner) in done)
    assert os.getpid() not in {pid for _, (pid, _) in done}


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_the_default_count_is_the_cpus_this_process_may_use():
    """A batch system's share of the machine (here: taskset's one CPU), not every CPU of the node."""
    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
        "from nx5d.toolkit import usable_cpus; print(usable_cpus())"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "1"
