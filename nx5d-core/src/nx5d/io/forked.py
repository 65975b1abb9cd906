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
process collects what they hand back, so they keep working ahead of the
caller (a cook sets up its gridder meanwhile), up to `AHEAD_BYTES` of
results not yet taken.

What a child does comes back with its results:

* what it read is counted here (`replay_io`), so the data identity of a
  result made from its work names every file it read;
* the warnings it gave are given again here;
* its error is raised here after the results of the blocks before it, with
  its own type and message (an exception that cannot be pickled becomes a
  [`DataError`][nx5d.errors.DataError] naming its type), the child's
  traceback added as a note; a child that dies without a word (killed, out
  of memory) raises [`WorkerDiedError`][nx5d.errors.WorkerDiedError]
  naming how it ended.

The children are forked, not started afresh: they need nothing pickled
but their results, and start in milliseconds.  Forking is safe only where
the work touches nothing another thread of this process may hold, so
[`map_blocks`][nx5d.io.blocks.map_blocks] forks only on Linux, for block
readers marked as safe to use in a forked child (local files read with
plain system calls), not inside a dask worker, and never when
``NX5D_FORK=0``.  Children ignore Ctrl-C (it reaches this process, whose
clean-up ends them) and are ended by the kernel if the thread that forked
them dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import signal
import threading
import traceback
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

#: Bytes of results handed back and not yet taken by the caller, beyond which the children wait: what working
#: ahead may cost in memory (the non-zero pixels of the 5,187-frame reference scan take 12.5 MB, as handed back).
AHEAD_BYTES = 8 << 20

#: Seconds the collecting thread waits for a child before it looks whether the child ended or it was stopped.
_LOOK = 0.1

_PR_SET_PDEATHSIG = 1  # prctl(2)

#: One fork at a time: a pipe's write end made for one child must not be inherited by another.
_FORKING = threading.Lock()


class ForkedBlocks(Iterator[tuple[slice, T]]):
    """``(part, task(part))`` for every part, in order, ``task`` run in ``processes`` forked children.

    The children are forked when this is made and start working at once.
    Child ``k`` works on messages ``k, k + processes, ...`` of
    ``per_message`` consecutive parts each (default `PARTS_PER_MESSAGE`).  `close` (also on an
    error, or at the end) ends every child and the thread collecting their
    results; nothing is handed out after it.
    """

    def __init__(
        self, parts: Sequence[slice], task: Callable[[slice], T], processes: int, *, per_message: int | None = None
    ) -> None:
        step = max(1, per_message or PARTS_PER_MESSAGE)
        messages = [parts[i : i + step] for i in range(0, len(parts), step)]
        self._children: list[tuple[int, Connection]] = []
        self._results: deque[tuple[slice, T]] = deque()
        self._error: BaseException | None = None
        self._mailbox = _Mailbox(len(messages))
        self._collector: threading.Thread | None = None
        processes = max(1, min(processes, len(messages)))
        parent, prctl = os.getpid(), _prctl()
        try:
            for k in range(processes):
                with _FORKING:
                    reader, writer = Pipe(duplex=False)
                    pid = _fork()
                    if pid == 0:
                        share = messages[k::processes]
                        _child(share, task, writer, [r for _, r in self._children] + [reader], parent, prctl)
                    self._children.append((pid, reader))
                    writer.close()
        except BaseException:
            self.close()
            raise
        self._collector = threading.Thread(
            target=self._mailbox.collect, args=(list(self._children),), name="nx5d-forked-results", daemon=True
        )
        self._collector.start()

    def __next__(self) -> tuple[slice, T]:
        while not self._results:
            if self._error is not None:
                error, self._error = self._error, None
                self.close()
                raise error
            try:
                message = self._mailbox.take()
                if message is None:
                    self.close()
                    raise StopIteration
                results, self._error = _opened(*message)
                self._results.extend(results)
            except BaseException:
                self.close()
                raise
        return self._results.popleft()

    def close(self) -> None:
        """End the children still working and the collecting thread; nothing more is handed out."""
        children, self._children = self._children, []
        self._results.clear()
        self._error = None
        self._mailbox.stop()
        if self._collector is not None and self._collector is not threading.current_thread():
            self._collector.join()  # it looks every _LOOK seconds whether it was stopped; then it reaps no more
        for pid, reader in children:
            reader.close()
            if pid not in self._mailbox.ended:  # not reaped: the pid is still the child's
                with contextlib.suppress(ChildProcessError, ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)

    def __del__(self) -> None:
        self.close()


class _Mailbox:
    """Messages of the children, collected in order by a thread, taken in order by the caller."""

    def __init__(self, messages: int) -> None:
        self.messages = messages
        #: How the children that ended were reaped here: ``{pid: wait status}``.
        self.ended: dict[int, int] = {}
        self._waiting: deque[tuple[int, bytes | None, int | None]] = deque()
        self._bytes = 0
        self._taken = 0
        self._stopped = False
        self._finished = False
        self._failure: BaseException | None = None
        self._changed = threading.Condition()

    def collect(self, children: list[tuple[int, Connection]]) -> None:
        """Read every message in order (child ``i % len(children)`` for message ``i``); ``None`` for a dead child."""
        try:
            for i in range(self.messages):
                pid, reader = children[i % len(children)]
                data = self._receive(pid, reader)
                if data is _STOPPED:
                    return
                with self._changed:
                    while self._bytes > AHEAD_BYTES and not self._stopped:
                        self._changed.wait()
                    if self._stopped:
                        return
                    self._waiting.append((pid, data, self.ended.get(pid)))
                    self._bytes += len(data or b"")
                    self._changed.notify_all()
                if data is None:
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the caller by take()
            self._failure = error
        finally:
            with self._changed:
                self._finished = True
                self._changed.notify_all()

    def _receive(self, pid: int, reader: Connection) -> Any:
        """The child's next message; ``None`` if it ended without one; `_STOPPED` if the caller stopped."""
        while not reader.poll(_LOOK):
            if self._stopped:
                return _STOPPED
            if pid not in self.ended:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    self.ended[pid] = status
            if pid in self.ended and not reader.poll(0):
                return None  # ended, and nothing more in its pipe (even if another process still holds its end)
        try:
            return reader.recv_bytes()
        except (EOFError, OSError):  # its pipe ended: the child is gone; reaped here, so its pid is never killed
            with contextlib.suppress(ChildProcessError):
                self.ended[pid] = os.waitpid(pid, 0)[1]
            return None

    def take(self) -> tuple[int, bytes | None, int | None] | None:
        """The next message (``None`` after the last or once stopped), waiting for it."""
        with self._changed:
            while True:
                if self._stopped or self._taken == self.messages:
                    return None
                if self._waiting:
                    message = self._waiting.popleft()
                    self._bytes -= len(message[1] or b"")
                    self._taken += 1
                    self._changed.notify_all()
                    return message
                if self._finished:
                    failure = self._failure or WorkerDiedError("the thread collecting the worker processes' work ended")
                    raise failure
                self._changed.wait()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


_STOPPED = object()


def _prctl() -> Any:
    """The C library's ``prctl``, looked up here: a child must not load libraries (another thread may hold the
    loader's lock at the fork).  ``None`` where there is none."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _fork() -> int:
    """``os.fork()``, with this process's objects out of the way of the child's garbage collector.

    A collection in the child would write to every object it tracks, and so
    copy every page of this process's heap: the objects are frozen for the
    fork (unless the application froze objects itself, which it then manages).
    """
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns of forking a process that has threads (a notebook's kernel always has): a lock
            # another thread holds stays held in the child.  The child runs only the block reader and the work on
            # its blocks, whose locks are its own, and leaves with os._exit, running nothing else of this process.
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            pid = os.fork()
    except BaseException:
        if freeze:
            gc.unfreeze()
        raise
    if freeze and pid != 0:
        gc.unfreeze()  # in the parent; in the child, the frozen objects stay out of the collector's way
    return pid


def _child(
    share: Sequence[Sequence[slice]],
    task: Callable[[slice], Any],
    writer: Connection,
    inherited: list[Connection],
    parent: int,
    prctl: Any,
) -> None:
    """A child's life: work on its share, hand back each message's results, leave without running anything else."""
    code = 0
    try:
        _die_with_parent(parent, prctl)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, which then ends its children
        os.environ["NX5D_FORK"] = "0"  # blocks read by the task read in threads: its copy of _FORKING is held
        for connection in inherited:
            connection.close()
        for message in share:
            results: list[tuple[slice, Any]] = []
            failure: BaseException | None = None
            with warnings.catch_warnings(record=True) as caught, record_io(alone=True) as record:
                warnings.simplefilter("always")
                try:
                    for part in message:
                        results.append((part, task(part)))
                except BaseException as error:  # noqa: BLE001 - handed to the parent after the results before it
                    failure = _transportable(error)
            given = [(str(w.message), w.category) for w in caught]
            writer.send((results, record.events(), given, failure))
            if failure is not None:
                code = 1
                break
    except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
        code = 1
        with contextlib.suppress(BaseException):
            writer.send(([], {}, [], _transportable(error)))
    finally:
        os._exit(code)


def _die_with_parent(parent: int, prctl: Any) -> None:
    """Have the kernel end this child when the thread of ``parent`` that forked it ends (the process killed, out of
    memory): it would read on for nothing."""
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the wish was made
        os._exit(1)


def _transportable(error: BaseException) -> BaseException:
    """``error`` with the child's traceback as a note, if it survives pickling; else a `DataError` naming it."""
    where = "".join(traceback.format_exception(error)).rstrip()
    try:
        error.add_note(f"raised in a worker process reading frames (pid {os.getpid()}):\n{where}")
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any failure to pickle or unpickle
        return DataError(f"{type(error).__name__}: {error} (raised in a worker process reading frames)")
    return error


def _opened(pid: int, data: bytes | None, status: int | None) -> tuple[list[tuple[slice, Any]], BaseException | None]:
    """A child's message: its results, and the error after them; what it read is counted here, its warnings given."""
    if data is None:
        raise WorkerDiedError(f"a worker process reading frames (pid {pid}) {_ending(status)}")
    results, events, given, failure = pickle.loads(data)
    if events:
        replay_io(events)
    for text, category in given:
        warnings.warn(text, category, stacklevel=4)
    return results, failure


def _ending(status: int | None) -> str:
    """How a child ended (its wait status, as the collector reaped it), in words."""
    if status is None:
        return "ended without handing back its work"
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"was killed by {name} before handing back its work" + (
            " (the system may have run out of memory)" if name == "SIGKILL" else ""
        )
    return f"ended with exit code {os.WEXITSTATUS(status)} before handing back its work"
