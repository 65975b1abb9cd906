"""Cooking many scans into files: reproducible, incremental, in parallel.

`cook_proposal` (``nx5d.batch.cook_proposal(proposal, out=...)`` in a
notebook, ``nx5d cook`` in a shell) cooks the selected scans of a proposal
and writes each result, with its provenance (see
[`nx5d.Scan.provenance`][nx5d.Scan.provenance]), as NetCDF (h5netcdf) or Zarr into
``OUT/{proposal}/{scan}.nc``.  A file whose provenance matches what the scan
would be cooked with now (same spice records, plugin and nx5d versions,
options) is up to date and is not cooked again.  The spice of every scan is
resolved here, once; workers receive it with the task and cook the scan
without listing the repository again.  A file is up to date only if its
provenance matches **and** every file the scan was cooked from is unchanged
(its [data identity][nx5d.io.identity], kept in the file's attributes): a
replaced frame, points appended to a scan still being measured, a file
rewritten with its times restored all make it be cooked again.  Scans are
cooked by a ``dask.distributed`` client when one is given (or a scheduler
address), else by a local process pool sized to the machine.  A scan that
fails is reported with its error and does not stop the others -- nor does a
worker that dies while cooking (killed by the out-of-memory killer, say):
the scans it held are cooked again, each in a process of its own, and the
one that kills its process is reported as failed with the reason.  Files
appear atomically (written under a temporary name, then renamed); the
temporary files of killed workers are removed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import attrs

import nx5d
from nx5d import Proposal, Scan
from nx5d.errors import NotSupportedError, Nx5dError
from nx5d.toolkit import (
    DataIdentity,
    forwarded,
    progress,
    quiet,
    require_writable,
    select_keys,
    sweep,
    usable_cpus,
)
from nx5d_results.files import FORMATS, output_path, remove_result, require_writer, stored_attributes, write_dataset
from nx5d_results.files import stamp as files_stamp

__all__ = [
    "FORMATS",
    "CLUSTER_CONFIG",
    "CookTask",
    "CookOutcome",
    "cook_scan",
    "cook_proposal",
    "output_path",
    "write_cooked",
    "remove_partial",
    "PARTIAL",
]

PARTIAL = ".partial"
"""What a scan's key is followed by in the name of its map so far: ``OUT/PROPOSAL/SCAN.partial.nc``.

``write_cooked(partial_map, out, proposal, scan + PARTIAL)`` replaces the
map before by renaming a whole new file over it, so that a viewer watching
the file only ever opens a whole map (a Zarr folder is removed before the
new one is renamed in: a viewer may find none for a moment);
`remove_partial` removes it once the scan's final map is written.
"""

#: Output formats and their file name endings.

CLUSTER_CONFIG: dict[str, Any] = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
"""dask settings for a cluster that cooks: ``with dask.config.set(CLUSTER_CONFIG): LocalCluster(...)``.

dask.distributed starts its worker processes with
``MALLOC_TRIM_THRESHOLD_=65536``.  Setting that variable switches off glibc's
adaptive mmap threshold, so every large numpy temporary of the gridding is a
fresh, page-faulted mapping and cooking runs about three times slower
(measured: 0.36 s -> 1.12 s for one 600-frame UDKM scan).  ``None`` leaves the
variable unset.  dask's nanny also copies its variables into the environment
of the process that starts the cluster, so start a cluster with this setting
before any cluster with dask's defaults.  Workers started by ``dask worker``
take the same setting from their dask configuration.
"""


@attrs.frozen
class CookTask:
    """Everything a worker process needs to cook one scan (picklable)."""

    url: str
    beamline: str
    proposal: str
    scan: str
    out: str
    settings: Mapping[str, Mapping[str, Any]]  #: the scan's spice, resolved: ``{handle: {field: value}}``
    stamp: Mapping[str, str]  #: the provenance attributes the result is written with
    format: str = "netcdf"
    storage_options: Mapping[str, Any] = attrs.field(factory=dict)
    timeout: float | None = None  #: the repository's remote timeout and retries (core options) ...
    retries: int = 0
    options: Mapping[str, Any] = attrs.field(factory=dict)  #: ... and its beamline's loading options


@attrs.frozen
class CookOutcome:
    """What happened to one scan."""

    scan: str
    status: str  #: ``"written"``, ``"up to date"`` or ``"failed"``
    path: str | None = None
    error: str | None = None


def _stored_attrs(path: Path, fmt: str) -> dict[str, Any] | None:
    """The attributes of a file written before (``None`` if there is none, or it cannot be read)."""
    return stored_attributes(path, fmt)


def _up_to_date(stored: Mapping[str, Any] | None, stamp: Mapping[str, str], storage: Any) -> bool:
    """Whether a file with attributes ``stored`` holds what cooking now would give.

    Its provenance must be ``stamp`` and every file it was cooked from must
    be unchanged; a file without its data identity is cooked again.
    """
    if stored is None or any(stored.get(k) != v for k, v in stamp.items()):
        return False
    identity = DataIdentity.from_attributes(stored)
    if identity is None or not identity.states:
        return False
    try:
        return identity.unchanged(storage)
    except Nx5dError:
        return False


def write_cooked(
    dataset: Any,
    out: str | os.PathLike[str],
    proposal: str,
    scan: str,
    format: str = "netcdf",  # noqa: A002 - the natural name of the option
) -> Path:
    """Write one cooked ``dataset`` to ``OUT/PROPOSAL/SCAN.nc`` (or ``.zarr``), appearing whole; returns the path."""
    require_writer(format)
    path = output_path(out, proposal, scan, format)
    write_dataset(dataset, path, format)
    return path


def remove_partial(
    out: str | os.PathLike[str],
    proposal: str,
    scan: str,
    format: str = "netcdf",  # noqa: A002 - the natural name of the option
) -> Path | None:
    """Remove the map so far of a scan (`PARTIAL`) once it is no longer measured; its path, if there was one."""
    path = output_path(out, proposal, scan + PARTIAL, format)
    return path if remove_result(path) else None


def cook_scan(task: CookTask) -> CookOutcome:
    """Cook one scan with the spice the task carries and write it (runs in workers; nothing is listed)."""
    with quiet():  # the caller shows one bar per scan; none from inside the workers
        try:
            path = output_path(task.out, task.proposal, task.scan, task.format)
            repo = nx5d.open(
                task.url,
                beamline=task.beamline,
                storage_options=dict(task.storage_options),
                timeout=task.timeout,
                retries=task.retries,
                options=dict(task.options),
            )
            scan = Scan(Proposal(repo, task.proposal), task.scan)
            cooked = scan.cook(task.settings)
            if not hasattr(cooked, "to_netcdf"):
                raise NotSupportedError(f"{scan.url} cooks to {type(cooked).__name__}, not an xarray object")
            if not hasattr(cooked, "data_vars"):
                cooked = cooked.to_dataset(name="cooked", promote_attrs=True)
            write_dataset(cooked.assign_attrs(**task.stamp), path, task.format)
            return CookOutcome(task.scan, "written", str(path))
        except Exception as exc:  # noqa: BLE001 - one broken scan must not stop a batch; reported with its type
            return CookOutcome(task.scan, "failed", error=f"{type(exc).__name__}: {exc}")


def _plan(proposal: Proposal, keys: Sequence[str], out: str, fmt: str) -> tuple[list[CookTask], dict[str, CookOutcome]]:
    """Tasks for the scans whose files are not up to date, and the outcomes of those that are."""
    repo = proposal.repository
    if repo.beamline is None:
        raise NotSupportedError("batch cooking needs a repository opened with nx5d.open (a beamline plugin)")
    tasks, done = [], {}
    for key in keys:
        scan = proposal.scan(key)
        view = scan.spice
        stamp = files_stamp(scan.provenance(view), repo.options)
        path = output_path(out, proposal.key, key, fmt)
        if _up_to_date(_stored_attrs(path, fmt), stamp, repo.storage):
            done[key] = CookOutcome(key, "up to date", str(path))
            continue
        tasks.append(
            CookTask(
                url=repo.url,
                beamline=repo.beamline,
                proposal=proposal.key,
                scan=key,
                out=str(out),
                settings={handle: values.to_dict() for handle, values in view.settings().items()},
                stamp=stamp,
                format=fmt,
                storage_options=dict(repo.storage.storage_options),
                timeout=repo.storage.timeout,
                retries=repo.storage.retries,
                options=dict(repo.options),
            )
        )
    return tasks, done


def cook_proposal(
    proposal: Proposal,
    scans: str | Iterable[str] | None = None,
    *,
    out: str | os.PathLike[str],
    format: str = "netcdf",  # noqa: A002 - the natural name of the option
    client: Any = None,
    workers: int | None = None,
    report: Callable[[CookOutcome], None] | None = None,
) -> list[CookOutcome]:
    """Cook the scans of ``proposal`` into files under ``out``; see the module documentation.

    Parameters
    ----------
    scans:
        ``None`` (all), a glob pattern of scan keys, or a list of keys.
    format:
        ``"netcdf"`` (h5netcdf) or ``"zarr"``.
    client:
        A ``dask.distributed.Client`` or a scheduler address; ``None``: a
        local process pool of ``workers`` processes (default: the CPUs this process may use).
    report:
        Called with each scan's outcome as soon as it is known (a command
        line shows them as they come).

    Notes
    -----
    Interrupting (Ctrl-C) stops the local pool's processes at once.
    """
    _refuse_in_a_starting_worker()
    require_writer(format)
    require_writable(Path(out) / proposal.key)  # before any scan is cooked
    keys = select_keys(proposal.keys(), scans)
    tasks, outcomes = _plan(proposal, keys, str(out), format)
    for outcome in outcomes.values():
        if report is not None:
            report(outcome)
    if not tasks:
        return [outcomes[key] for key in keys]
    folders = {output_path(out, proposal.key, task.scan, format).parent for task in tasks}
    for folder in folders:
        sweep(folder)  # what killed workers of earlier runs left
    here = _process_local(proposal, client)
    with progress(len(tasks), f"cooking {proposal.key}", unit="scan") as bar:
        if here:
            for task in tasks:
                _record(cook_scan(task), outcomes, bar, report)
        elif client is not None:
            if isinstance(client, str):
                from distributed import Client

                with Client(client) as connected:
                    _run_on(connected, tasks, outcomes, bar, report)
            else:
                _run_on(client, tasks, outcomes, bar, report)
        else:
            _run_locally(tasks, max(1, min(len(tasks), workers or usable_cpus())), outcomes, bar, report)
    for folder in folders:
        sweep(folder)  # what workers that died here left
    return [outcomes[key] for key in keys]


def _refuse_in_a_starting_worker() -> None:
    """Raise if a worker process runs this while it starts: the user's script has no ``__main__`` guard.

    Workers are started fresh ("spawn"): each runs the main script again
    under the name ``__mp_main__`` (which becomes its ``__main__`` once
    that is done), and a script that cooks at its top level would cook again
    in every worker.
    """
    starting = sys.modules.get("__mp_main__")  # while a started process runs the script: not yet its __main__
    if starting is not None and starting is not sys.modules.get("__main__"):
        raise NotSupportedError(
            "cook_proposal was called while a worker process started: the worker runs your script again; "
            'put the cooking under `if __name__ == "__main__":` in the script'
        )


def _process_local(proposal: Proposal, client: Any) -> bool:
    """Whether the scans must be cooked in this process: their beamline's data lives here (``memory``).

    A dask cluster cannot read such data: asking for one is an error.
    """
    declaration = proposal.repository.declaration
    if declaration is None or not declaration.process_local:
        return False
    if client is not None:
        raise NotSupportedError(
            f"{proposal.repository.url}: the {proposal.repository.beamline!r} beamline's data lives in this Python "
            "process, where a dask cluster's workers cannot read it; cook without a client (in this process)"
        )
    return True


def _pool(workers: int, steps: Any = None) -> ProcessPoolExecutor:
    """``workers`` fresh processes; their progress steps go to the queue ``steps`` (see `_FrameBar`)."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(steps,))


class _FrameBar:
    """One bar in this process counting the frames the workers' cooks go through (a long scan shows life).

    Workers put ``(desc, unit, n)`` on a queue; a thread here moves the
    frame steps of the gridding onto the bar.
    """

    def __init__(self) -> None:
        self.queue = get_context("spawn").SimpleQueue()
        self.thread = threading.Thread(target=self._show, name="nx5d-cook-progress", daemon=True)

    def __enter__(self) -> _FrameBar:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)
        self.queue.close()

    def _show(self) -> None:
        with progress(None, "frames gridded", unit=" frames") as bar:
            while (step := self.queue.get()) is not None:
                desc, unit, n = step
                if unit == "frame" and desc == "gridding":
                    bar.update(n)


def _run_locally(
    tasks: Sequence[CookTask], workers: int, outcomes: dict[str, CookOutcome], bar: Any, report: Any
) -> None:
    """Cook ``tasks`` in a pool of ``workers`` processes; the scans of a pool whose worker died, each on its own."""
    with _FrameBar() as frames:
        pool = _pool(workers, frames.queue)
        futures = {pool.submit(cook_scan, task): task for task in tasks}
        try:
            _collect(as_completed(futures), futures, outcomes, bar, report)
        except KeyboardInterrupt:
            _stop(pool)
            raise
        pool.shutdown()
    orphans = [task for task in tasks if task.scan not in outcomes]
    if not orphans:
        return
    with ThreadPoolExecutor(workers) as alone:  # each in a fresh process: the one that dies is named
        try:
            for outcome in alone.map(_cook_alone, orphans):
                _record(outcome, outcomes, bar, report)
        except KeyboardInterrupt:
            for process in list(_ALONE):
                process.terminate()
            raise


#: The processes cooking one scan each after a worker died (stopped on Ctrl-C).
_ALONE: set[Any] = set()


def _cook_alone(task: CookTask) -> CookOutcome:
    """Cook one scan in a process of its own; if the process dies, the scan failed for that reason."""
    pool = _pool(1)
    try:
        future = pool.submit(cook_scan, task)
        processes = list(getattr(pool, "_processes", {}).values())  # to name how the process ended
        _ALONE.update(processes)
        try:
            return future.result()
        except BrokenProcessPool:
            codes = [_exit_code(process) for process in processes]
            return CookOutcome(task.scan, "failed", error=_died(codes[0] if codes else None))
        finally:
            _ALONE.difference_update(processes)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _exit_code(process: Any, timeout: float = 10.0) -> int | None:
    """The exit code of a pool's worker process that ended, or None if it has not ended within ``timeout`` s.

    The pool's own thread reaps its broken workers too.  When both wait at once, the one that loses the race
    finds the process already reaped and ``join`` returns with ``exitcode`` still None, until the winner has
    stored the code a moment later; so this waits for the code, not only for the process's end.
    """
    deadline = time.monotonic() + timeout
    process.join(timeout=timeout)
    while (code := process.exitcode) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return code


def _died(exitcode: int | None) -> str:
    """Why a worker process ended, in words."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        cause = " (perhaps by the out-of-memory killer)" if name == "SIGKILL" else ""
        return f"WorkerDied: the process cooking this scan was killed by {name}{cause}"
    return (
        f"WorkerDied: the process cooking this scan ended unexpectedly (exit code {exitcode}; its error is printed "
        "above)"
    )


def _start_worker(steps: Any) -> None:
    """Workers leave Ctrl-C to the process that started them (no traceback from every worker).

    Their progress goes to the queue ``steps`` when there is one; no bars of their own.  The pool's processes
    are the batch's parallelism: a worker's cook reads its frames in threads, not in processes of its own
    (``NX5D_FORK=0``; else every worker would fork one process per CPU).
    """
    os.environ["NX5D_FORK"] = "0"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if steps is not None:
        forwarded(lambda desc, unit, n: steps.put((desc, unit, n)))


def _stop(pool: ProcessPoolExecutor) -> None:
    """End a pool now: pending scans are dropped, running workers terminated."""
    workers = list(getattr(pool, "_processes", {}).values())  # the executor offers no public way to stop them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()


def _run_on(
    client: Any, tasks: Sequence[CookTask], outcomes: dict[str, CookOutcome], bar: Any, report: Any = None
) -> None:
    """Cook ``tasks`` on a dask cluster.

    When a worker dies, dask's scheduler suspects every scan that was on it
    and gives up on a scan suspected too often (``KilledWorker``), so scans
    that merely shared a worker with the one that kills it can fail too:
    when several do, each is cooked again on its own, one after the other,
    and only the ones that still kill their worker stay failed.
    """
    from distributed import as_completed as completed

    futures = dict(zip(client.map(cook_scan, tasks, pure=False), tasks, strict=True))
    found: dict[str, CookOutcome] = {}
    _collect(completed(list(futures)), futures, found, None, None)
    killed = [t for t in tasks if (found[t.scan].error or "").startswith("KilledWorker")]
    for task in tasks:
        if task not in killed or len(killed) == 1:
            _record(found[task.scan], outcomes, bar, report)
    for task in killed if len(killed) > 1 else ():
        future = client.submit(cook_scan, task, pure=False)
        _collect([future], {future: task}, outcomes, bar, report)


def _collect(
    finished: Iterable[Any],
    tasks: Mapping[Any, CookTask],
    outcomes: dict[str, CookOutcome],
    bar: Any,
    report: Callable[[CookOutcome], None] | None,
) -> None:
    """Record the outcome of each future as it finishes (pool or dask futures alike).

    A future whose worker died is left out of a pool's outcomes (its scans
    are cooked again alone); on dask, whose scheduler already tried the
    scan on other workers, it is the scan's failure (``KilledWorker``).
    """
    for future in finished:
        try:
            outcome = future.result()
        except BrokenProcessPool:
            continue
        except Exception as exc:  # noqa: BLE001 - dask's KilledWorker and any other loss: that scan's outcome
            outcome = CookOutcome(tasks[future].scan, "failed", error=f"{type(exc).__name__}: {exc}")
        _record(outcome, outcomes, bar, report)


def _record(
    outcome: CookOutcome, outcomes: dict[str, CookOutcome], bar: Any, report: Callable[[CookOutcome], None] | None
) -> None:
    outcomes[outcome.scan] = outcome
    if bar is not None:
        bar.update(1)
    if report is not None:
        report(outcome)
