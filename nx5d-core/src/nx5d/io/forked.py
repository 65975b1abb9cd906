"""Blocks of frames worked on in forked worker processes: per-frame Python work on every CPU at once.

Reading a frame file costs Python work -- opening it, checking it lies in
the repository, parsing its header, picking out the pixels that count --
and that work holds the interpreter's lock: threads decoding a scan's
frames mostly take turns (on the reference scan, two threads were no
faster than one).  Processes each have an interpreter of their own.
`ForkedBlocks` forks worker processes that each work on a share of the
blocks and hand back what they made of them, in block order, as
[`map_blocks`][nx5d.io.blocks.map_blocks] does with threads: the caller
sees the same results, in the same order, however they were made.

The children start when `ForkedBlocks` is made, and a thread of this
process collects what they hand back (up to `AHEAD_BYTES` not yet taken),
so they keep working while the caller prepares (a cook sets up its
gridder meanwhile) and never wait on a full pipe.

Nothing a child does is lost on the way back:

* what it read is counted here (`replay_io`), so the data identity of a
  result made from its work names every file it read;
* the warnings it gave are given again here;
* its error is raised here, with its own type and message; a child that
  dies without a word (killed, out of memory) raises `WorkerDiedError`
  naming how it ended.

The children are forked, not started afresh: they need nothing pickled
but their results, and start in milliseconds.  Forking is safe only where
the work touches nothing another thread of this process may hold, so
[`map_blocks`][nx5d.io.blocks.map_blocks] forks only on Linux, for block
readers marked as safe to use in a forked child (local files read with
plain system calls), and never when ``NX5D_FORK=0``.  Children ignore
Ctrl-C: it reaches this process, whose clean-up ends them.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import signal
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, Pipe
from typing import Any, TypeVar

from nx5d.errors import DataError, WorkerDiedError
from nx5d.io.storage import record_io, replay_io

__all__ = ["ForkedBlocks", "PARTS_PER_MESSAGE", "AHEAD_BYTES"]

T = TypeVar("T")

#: Blocks a child works on before it hands back their results in one message (64 frames of 8-frame blocks).
PARTS_PER_MESSAGE = 8

_PR_SET_PDEATHSIG = 1  # prctl(2)

#: Bytes of results handed back and not yet taken by the caller, beyond which the children wait: what working
#: ahead may cost in memory (the non-zero pixels of the 5,187-frame reference scan take 12.5 MB, as handed back).
AHEAD_BYTES = 8 << 20

#: How much less CPU time the children ask for than this process: the caller, which takes their results in
#: order and works on them, is the one everything waits for; the children fill the CPUs it leaves.
CHILD_NICENESS = 0


class ForkedBlocks(Iterator[tuple[slice, T]]):
    """``(part, task(part))`` for every part, in order, ``task`` run in ``processes`` forked children.

    The children are forked when this is made and start working at once.
    Child ``k`` works on messages ``k, k + processes, ...`` of
    `PARTS_PER_MESSAGE` consecutive parts each.  `close` (also on an
    error, or at the end) ends every child and the thread collecting their
    results.
    """

    def __init__(self, parts: Sequence[slice], task: Callable[[slice], T], processes: int) -> None:
        messages = [parts[i : i + PARTS_PER_MESSAGE] for i in range(0, len(parts), PARTS_PER_MESSAGE)]
        self._children: list[tuple[int, Connection]] = []
        self._results: deque[tuple[slice, T]] = deque()
        self._mailbox = _Mailbox(len(messages))
        processes = max(1, min(processes, len(messages)))
        parent = os.getpid()
        try:
            for k in range(processes):
                reader, writer = Pipe(duplex=False)
                pid = _fork()
                if pid == 0:
                    _child(messages[k::processes], task, writer, [r for _, r in self._children] + [reader], parent)
                writer.close()
                self._children.append((pid, reader))
        except BaseException:
            self.close()
            raise
        self._collector = threading.Thread(
            target=self._mailbox.collect, args=(list(self._children),), name="nx5d-forked-results", daemon=True
        )
        self._collector.start()

    def __next__(self) -> tuple[slice, T]:
        if not self._results:
            try:
                message = self._mailbox.take()
                if message is None:
                    raise StopIteration
                self._results.extend(_opened(*message))
            except BaseException:
                self.close()
                raise
        return self._results.popleft()

    def close(self) -> None:
        """End the children still working and the collecting thread (nothing more is handed back)."""
        children, self._children = self._children, []
        self._mailbox.stop()
        for pid, _ in children:
            with contextlib.suppress(ChildProcessError, ProcessLookupError):
                if os.waitpid(pid, os.WNOHANG) == (0, 0):
                    os.kill(pid, signal.SIGKILL)  # its pipe then ends: the collector stops reading it
        collector = getattr(self, "_collector", None)
        if collector is not None and collector is not threading.current_thread():
            collector.join()
        for pid, reader in children:
            reader.close()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def __del__(self) -> None:
        self.close()


class _Mailbox:
    """Messages of the children, collected in order by a thread, taken in order by the caller."""

    def __init__(self, messages: int) -> None:
        self.messages = messages
        self._waiting: deque[tuple[int, bytes | None]] = deque()
        self._bytes = 0
        self._taken = 0
        self._stopped = False
        self._changed = threading.Condition()

    def collect(self, children: list[tuple[int, Connection]]) -> None:
        """Read every message in order (child ``i % len(children)`` for message ``i``); ``None`` for a dead child."""
        for i in range(self.messages):
            pid, reader = children[i % len(children)]
            try:
                data: bytes | None = reader.recv_bytes()
            except (EOFError, OSError):
                data = None
            with self._changed:
                while self._bytes > AHEAD_BYTES and not self._stopped:
                    self._changed.wait()
                if self._stopped:
                    return
                self._waiting.append((pid, data))
                self._bytes += len(data or b"")
                self._changed.notify_all()
            if data is None:
                return

    def take(self) -> tuple[int, bytes | None] | None:
        """The next message (``None`` after the last), waiting for it."""
        with self._changed:
            if self._taken == self.messages:
                return None
            while not self._waiting:
                self._changed.wait()
            pid, data = self._waiting.popleft()
            self._bytes -= len(data or b"")
            self._taken += 1
            self._changed.notify_all()
            return pid, data

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


def _fork() -> int:
    """``os.fork()``, with the objects of this process out of the child's garbage collector's way.

    A collection in the child would write to every object it tracks, and
    so copy every page of this process's heap: the objects are frozen for
    the fork, and the child collects nothing.
    """
    gc.freeze()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns of forking a process that has threads (a notebook's kernel always has): a lock
            # another thread holds stays held in the child.  The child runs only the block reader and the work on
            # its blocks, whose locks are its own, and leaves with os._exit, running nothing else of this process.
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            pid = os.fork()
    except BaseException:
        gc.unfreeze()
        raise
    if pid == 0:
        gc.disable()
    else:
        gc.unfreeze()
    return pid


def _child(
    share: Sequence[Sequence[slice]],
    task: Callable[[slice], Any],
    writer: Connection,
    inherited: list[Connection],
    parent: int,
) -> None:
    """A child's life: work on its share, hand back each message's results, leave without running anything else."""
    code = 0
    try:
        _die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, which then ends its children
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICENESS)
        for connection in inherited:
            connection.close()
        for message in share:
            with warnings.catch_warnings(record=True) as caught, record_io(alone=True) as record:
                warnings.simplefilter("always")
                results = [(part, task(part)) for part in message]
            given = [(str(w.message), w.category) for w in caught]
            writer.send(("done", results, record.events(), given))
    except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
        code = 1
        with contextlib.suppress(BaseException):
            writer.send(("failed", _transportable(error)))
    finally:
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Have the kernel end this child if its parent ``parent`` dies (killed, out of memory): it would read on for
    nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the wish was made
        os._exit(1)


def _transportable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a `DataError` with its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any failure to pickle
        return DataError(f"{type(error).__name__}: {error}")
    return error


def _opened(pid: int, data: bytes | None) -> list[tuple[slice, Any]]:
    """A child's message: what it read counted here, its warnings given here, its error raised, its results."""
    if data is None:
        raise WorkerDiedError(f"a worker process reading frames (pid {pid}) {_ending(pid)}")
    message = pickle.loads(data)
    if message[0] == "failed":
        raise message[1]
    _, results, events, given = message
    replay_io(events)
    for text, category in given:
        warnings.warn(text, category, stacklevel=4)
    return results


def _ending(pid: int) -> str:
    """How the child ``pid`` ended, in words."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "ended without handing back its work"
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"was killed by {name} before handing back its work" + (
            " (the system may have run out of memory)" if name == "SIGKILL" else ""
        )
    return f"ended with exit code {os.WEXITSTATUS(status)} before handing back its work"
