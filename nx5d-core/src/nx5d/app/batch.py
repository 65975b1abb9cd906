"""Cooking many scans into files: reproducible, incremental, in parallel.

`cook_proposal` (``nx5d.batch.cook_proposal(proposal, out=...)`` in a
notebook, ``nx5d cook`` in a shell) cooks the selected scans of a proposal
and writes each result, with its provenance (see
[`nx5d.Scan.provenance`][nx5d.Scan.provenance]), as NetCDF (h5netcdf) or Zarr into
``OUT/{proposal}/{scan}.nc``.  A file whose provenance matches what the scan
would be cooked with now (same spice records, plugin and nx5d versions,
options) is up to date and is not cooked again.  The spice of every scan is
resolved here, once; workers receive it with the task and cook the scan
without listing the repository again.  Scans are cooked by a
``dask.distributed`` client when one is given (or a scheduler address), else
by a local process pool sized to the machine; a scan that fails is reported
with its error and does not stop the others.  Files appear atomically (written
under a temporary name, then renamed).
"""

from __future__ import annotations

import fnmatch
import json
import os
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import attrs

from nx5d.app.files import FORMATS, output_path, require_writer, write_dataset
from nx5d.errors import NotSupportedError, OptionError
from nx5d.model.open import open_repository
from nx5d.model.proposal import Proposal
from nx5d.model.scan import Scan
from nx5d.progress import progress, quiet

__all__ = [
    "FORMATS",
    "CLUSTER_CONFIG",
    "CookTask",
    "CookOutcome",
    "cook_scan",
    "cook_proposal",
    "select_scans",
    "output_path",
]

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
    options: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class CookOutcome:
    """What happened to one scan."""

    scan: str
    status: str  #: ``"written"``, ``"up to date"`` or ``"failed"``
    path: str | None = None
    error: str | None = None


def select_scans(keys: Sequence[str], scans: str | Iterable[str] | None) -> list[str]:
    """The keys chosen by ``scans``: ``None`` (all), a glob pattern (``"1*"``) or keys."""
    if scans is None:
        return list(keys)
    if isinstance(scans, str):
        chosen = [k for k in keys if fnmatch.fnmatchcase(k, scans)]
        if not chosen:
            raise OptionError(f"no scan key matches {scans!r}; keys: {', '.join(keys)}")
        return chosen
    wanted = list(scans)
    unknown = [k for k in wanted if k not in keys]
    if unknown:
        raise OptionError(f"no scan(s) {', '.join(unknown)} in this proposal")
    return wanted


def _stamp(provenance: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, str]:
    return {**provenance, "nx5d_options": json.dumps(dict(options), sort_keys=True, default=str)}


def _stored_stamp(path: Path, fmt: str, keys: Iterable[str]) -> dict[str, Any] | None:
    import xarray as xr

    if not path.exists():
        return None
    try:
        engine = "zarr" if fmt == "zarr" else "h5netcdf"
        with xr.open_dataset(path, engine=engine) as stored:
            return {k: stored.attrs.get(k) for k in keys}
    except (OSError, ValueError, KeyError):
        return None  # unreadable: cook again


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


def cook_scan(task: CookTask) -> CookOutcome:
    """Cook one scan with the spice the task carries and write it (runs in workers; nothing is listed)."""
    with quiet():  # the caller shows one bar per scan; none from inside the workers
        try:
            path = output_path(task.out, task.proposal, task.scan, task.format)
            repo = open_repository(
                task.url, beamline=task.beamline, storage_options=dict(task.storage_options), **dict(task.options)
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
        stamp = _stamp(scan.provenance(view), repo.options)
        path = output_path(out, proposal.key, key, fmt)
        if _stored_stamp(path, fmt, stamp) == stamp:
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
                options={"timeout": repo.storage.timeout, "retries": repo.storage.retries, **repo.options},
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
        local process pool of ``workers`` processes (default: CPU count).
    report:
        Called with each scan's outcome as soon as it is known (a command
        line shows them as they come).

    Notes
    -----
    Interrupting (Ctrl-C) stops the local pool's processes at once.
    """
    require_writer(format)
    keys = select_scans(proposal.keys(), scans)
    tasks, outcomes = _plan(proposal, keys, str(out), format)
    for outcome in outcomes.values():
        if report is not None:
            report(outcome)
    if not tasks:
        return [outcomes[key] for key in keys]
    with progress(len(tasks), f"cooking {proposal.key}", unit="scan") as bar:
        if client is not None:
            if isinstance(client, str):
                from distributed import Client

                with Client(client) as connected:
                    _run_on(connected, tasks, outcomes, bar, report)
            else:
                _run_on(client, tasks, outcomes, bar, report)
        else:
            n = max(1, min(len(tasks), workers or os.cpu_count() or 1))
            pool = ProcessPoolExecutor(n, mp_context=get_context("spawn"), initializer=_ignore_interrupts)
            try:
                _collect(as_completed([pool.submit(cook_scan, task) for task in tasks]), outcomes, bar, report)
            except KeyboardInterrupt:
                _stop(pool)
                raise
            pool.shutdown()
    return [outcomes[key] for key in keys]


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the process that started them (no traceback from every worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End a pool now: pending scans are dropped, running workers terminated."""
    workers = list(getattr(pool, "_processes", {}).values())  # the executor offers no public way to stop them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()


def _run_on(
    client: Any, tasks: Sequence[CookTask], outcomes: dict[str, CookOutcome], bar: Any, report: Any = None
) -> None:
    from distributed import as_completed as completed

    _collect(completed(client.map(cook_scan, tasks, pure=False)), outcomes, bar, report)


def _collect(
    finished: Iterable[Any], outcomes: dict[str, CookOutcome], bar: Any, report: Callable[[CookOutcome], None] | None
) -> None:
    """Record the outcome of each future as it finishes (pool or dask futures alike)."""
    for future in finished:
        outcome = future.result()
        outcomes[outcome.scan] = outcome
        bar.update(1)
        if report is not None:
            report(outcome)
