"""Writing scans' data to files: NeXus, NetCDF, HDF5 or Zarr, each file appearing whole.

`require_writer` refuses an unknown format, or a writer missing from the
environment, before any work starts instead of after it.  `output_path`
names a scan's file: ``OUT/PROPOSAL/SCAN.nxs`` for cooked data,
``OUT/PROPOSAL/raw/SCAN.nxs`` for raw data (``.nc``, ``.h5``, ``.zarr``
for the other formats), so raw and cooked exports never share a name.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import io
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from nx5d.errors import NotSupportedError, Nx5dError, OptionError, OutputExistsError, StorageError
from nx5d.toolkit import remove, removed_on_failure, temporary_name

__all__ = [
    "FORMATS",
    "RAW_FOLDER",
    "require_writer",
    "output_path",
    "write_dataset",
    "portable",
    "refuse_existing",
    "stored_attributes",
    "read_result",
    "remove_result",
    "put_in_place",
    "stamp",
]

#: Output formats and their file name endings.  ``nexus`` is NeXus (HDF5) as NeXus viewers plot it and
#: ``nx5d.open`` reads it back ([`nx5d_results.nexus`][nx5d_results.nexus]); ``hdf5`` is NetCDF-4's HDF5 file,
#: with what NetCDF lacks (booleans, for one) kept as HDF5 has it; h5py and every HDF5 tool read both.
FORMATS = {"nexus": ".nxs", "netcdf": ".nc", "hdf5": ".h5", "zarr": ".zarr"}
#: The module each format's writer needs.
WRITERS = {"nexus": "h5py", "netcdf": "h5netcdf", "hdf5": "h5netcdf", "zarr": "zarr"}
#: The folder of a proposal's output that raw exports go to.
RAW_FOLDER = "raw"


def require_writer(fmt: str) -> None:
    """Refuse an unknown format, or one whose writer is not installed (naming the extra to install)."""
    if fmt not in FORMATS:
        raise OptionError(f"output format {fmt!r} is not one of {', '.join(FORMATS)}")
    module = WRITERS[fmt]
    if importlib.util.find_spec(module) is None:
        raise NotSupportedError(
            f"writing {fmt} files needs {module}, which is not installed (nx5d-results depends on it): "
            f"pip install {module}"
        )


def output_path(out: str | os.PathLike[str], proposal: str, scan: str, fmt: str, *, raw: bool = False) -> Path:
    """Where a scan's file goes: ``out/{proposal}/{scan}.nc`` (``.nxs``, ``.h5``, ``.zarr``), raw data in
    ``out/{proposal}/raw/``; keys spanning folders nest."""
    if fmt not in FORMATS:
        raise OptionError(f"output format {fmt!r} is not one of {', '.join(FORMATS)}")
    folder = Path(out) / proposal
    return (folder / RAW_FOLDER if raw else folder) / f"{scan}{FORMATS[fmt]}"


def stamp(provenance: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, str]:
    """The attributes a result is written with: its provenance and the loading options (``nx5d_options``, JSON)."""
    return {**provenance, "nx5d_options": json.dumps(dict(options), sort_keys=True, default=str)}


def refuse_existing(path: Path, overwrite: bool) -> None:
    """[`OutputExistsError`][nx5d.errors.OutputExistsError] if ``path`` exists and may not be overwritten."""
    if not overwrite and (path.exists() or path.is_symlink()):
        raise OutputExistsError(f"{path} exists already; it is not overwritten (--overwrite, or overwrite=True)")


def put_in_place(partial: str, path: Path, overwrite: bool) -> None:
    """Rename the written file or Zarr folder ``partial`` to ``path``: replacing a result there only if
    ``overwrite``.

    Without ``overwrite``, a result another writer put there since
    `refuse_existing` looked is not replaced either: the file is linked in
    (which fails where the name exists) and the folder renamed in (which
    fails onto a folder with files), raising
    [`OutputExistsError`][nx5d.errors.OutputExistsError].
    """
    is_folder = os.path.isdir(partial)
    if overwrite:
        if is_folder:
            _put_folder(partial, path)
        else:
            os.replace(partial, path)
        return
    try:
        if is_folder:
            os.rename(partial, path)
        else:
            _link_in(partial, path)
    except OSError as exc:
        if (
            not isinstance(exc, FileExistsError | IsADirectoryError | NotADirectoryError)
            and exc.errno != errno.ENOTEMPTY
        ):
            raise
        raise OutputExistsError(f"{path} was written by another writer meanwhile; it is not overwritten") from exc


def _link_in(partial: str, path: Path) -> None:
    """Give the file ``partial`` the name ``path`` unless that name exists (`FileExistsError`)."""
    try:
        os.link(partial, path)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        if os.path.lexists(path):  # a file system without hard links: looked at, then renamed
            raise FileExistsError(errno.EEXIST, "exists", os.fspath(path)) from exc
        os.rename(partial, path)
        return
    os.unlink(partial)


def portable(dataset: Any, fmt: str) -> Any:
    """``dataset`` as ``fmt`` can hold it: NetCDF has no booleans (stored as 0/1 bytes, said in an attribute)."""
    if fmt != "netcdf":
        return dataset
    flags = [name for name, var in dataset.variables.items() if var.dtype == bool]
    for name in flags:
        dataset[name] = (
            dataset[name]
            .astype("i1")
            .assign_attrs(
                {**dataset[name].attrs, "nx5d_dtype": "bool", "flag_values": [0, 1], "flag_meanings": "false true"}
            )
        )
    return dataset


def write_dataset(
    dataset: Any, path: Path, fmt: str, *, kind: str = "cooked", overwrite: bool = True, motor: str | None = None
) -> None:
    """Write ``dataset`` to ``path``: under a temporary name, then renamed.

    NeXus files are written block by block (a lazy array is computed a
    block at a time).  NetCDF and HDF5 files are encoded in memory (a
    cooked result is small) and written by Python, so a full disk is a
    [`StorageError`][nx5d.errors.StorageError] naming the file, not a crash
    inside HDF5.  The temporary file is removed if writing fails in any way, Ctrl-C
    included; one left by a killed process is removed by
    [`nx5d.io.temporaries.sweep`][nx5d.io.temporaries.sweep].  ``kind``
    (``"cooked"`` or ``"raw"``) marks a NeXus file; an existing file is
    refused unless ``overwrite``; ``motor`` (the scanned motor) is a NeXus
    file's plot axis along the scan's points.
    """
    require_writer(fmt)
    refuse_existing(path, overwrite)
    if fmt == "nexus":
        from nx5d_results.nexus import write_nexus

        with _storage_errors(path):
            write_nexus(dataset, path, kind=kind, overwrite=overwrite, motor=motor)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = dataset.compute() if hasattr(dataset, "compute") else dataset
    dataset = portable(dataset.copy(), fmt)
    with _storage_errors(path), removed_on_failure(temporary_name(path)) as partial:
        if fmt == "zarr":
            dataset.to_zarr(partial, mode="w")
        else:  # in memory first: HDF5 writing onto a full disk crashes the process; Python's write raises OSError
            encoded = io.BytesIO()
            with _no_cluster_lock():
                dataset.to_netcdf(encoded, engine="h5netcdf", invalid_netcdf=fmt == "hdf5")
            with open(partial, "wb") as handle:
                handle.write(encoded.getbuffer())
        put_in_place(partial, path, overwrite)


def _put_folder(partial: str, path: Path) -> None:
    """Rename the folder ``partial`` to ``path``, where a reader never finds a folder half removed.

    A folder there is renamed aside first, in one step (a Zarr reader
    otherwise opened its metadata while its chunks were being removed, and
    Zarr reads a missing chunk as fill values: wrong numbers, no error),
    then the new one is renamed in and the old removed.  Another writer's
    folder renamed in meanwhile is moved aside in turn (two writers of one
    result both finish, the later one's folder in place).
    """
    while True:
        aside = _move_aside(path)
        try:
            os.replace(partial, path)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                _let_go(aside)
                continue  # another writer's folder came in between: aside with it too
            if aside:  # the new one cannot go in: the old one back, not neither
                with contextlib.suppress(OSError):
                    os.rename(aside, path)
            raise
        _let_go(aside)
        return


def remove_result(path: str | os.PathLike[str]) -> bool:
    """Remove a result file or folder without a moment half removed: renamed aside in one step, then removed.

    A reader finds the whole result or none (a Zarr folder removed in place
    showed its metadata without its chunks: fill values, no error).  Whether
    there was one.
    """
    aside = _move_aside(path)
    _let_go(aside)
    return bool(aside)


def _move_aside(path: str | os.PathLike[str]) -> str:
    """Rename the result at ``path`` to a temporary name beside it, in one step; that name, or ``""`` if none
    was there (or another writer moved it aside first)."""
    aside = temporary_name(path)
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return ""
    return aside


def _let_go(aside: str) -> None:
    """Remove a result renamed aside; one that cannot be removed now is a temporary that `sweep` removes later."""
    if aside:
        with contextlib.suppress(OSError):
            remove(aside)


def _format_of(path: Path) -> str:
    for fmt, suffix in FORMATS.items():
        if path.name.endswith(suffix) and fmt != "hdf5":
            return fmt
    return "hdf5" if path.suffix in (".h5", ".hdf5", ".hdf") else "nexus"


def stored_attributes(path: Path, fmt: str | None = None) -> dict[str, Any] | None:
    """The attributes (provenance) of a result file written before; ``None`` if there is none or it is unreadable."""
    if not path.exists():
        return None
    try:
        return dict(read_result(path, fmt, attributes_only=True).attrs)
    except Exception:  # noqa: BLE001 - a file that cannot be read, whatever the reason, counts as none
        return None


def read_result(path: Path, fmt: str | None = None, *, attributes_only: bool = False) -> Any:
    """The Dataset in a result file of any of the `FORMATS` (booleans NetCDF kept as bytes restored)."""
    import xarray as xr

    fmt = fmt or _format_of(path)
    if fmt == "nexus":
        from nx5d_results.nexus import read_nexus, read_nexus_attributes

        return xr.Dataset(attrs=read_nexus_attributes(path)) if attributes_only else read_nexus(path)
    if fmt == "zarr":
        return _read_zarr(path, attributes_only)
    with xr.open_dataset(path, engine="h5netcdf") as stored:
        return xr.Dataset(attrs=stored.attrs) if attributes_only else _restored(stored.load())


def _read_zarr(path: Path, attributes_only: bool) -> Any:
    """A Zarr result read whole from one folder: read again if a writer replaced the folder meanwhile.

    A Zarr store is many files read one by one, so a replacement during a
    read would mix the old folder's chunks with the new one's.  The folder
    that was read is the same before and after, or the read is repeated.
    """
    import xarray as xr

    for attempt in range(_READS):
        before = _folder_identity(path)
        try:
            with xr.open_zarr(path) as stored:
                found = xr.Dataset(attrs=dict(stored.attrs)) if attributes_only else _restored(stored.load())
        except Exception:
            if attempt == _READS - 1 or _folder_identity(path) == before:
                raise  # not a replacement: the folder's own error
            continue
        if _folder_identity(path) == before:
            return found
    raise StorageError(f"cannot read {path}: it was replaced {_READS} times while being read")


#: How often a Zarr result replaced while it is read is read again.
_READS = 20


def _folder_identity(path: Path) -> tuple[int, int, int] | None:
    """Which folder is at ``path`` now (device, inode, change time), or ``None``."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_ctime_ns


def _restored(dataset: Any) -> Any:
    for name, variable in dataset.variables.items():
        if variable.attrs.get("nx5d_dtype") == "bool":
            attrs = {k: v for k, v in variable.attrs.items() if k not in ("nx5d_dtype", "flag_values", "flag_meanings")}
            dataset[name] = variable.astype(bool).assign_attrs(attrs) if hasattr(variable, "astype") else variable
    return dataset


@contextlib.contextmanager
def _storage_errors(path: Path) -> Iterator[None]:
    """The file system's refusals (a full disk, no permission) as a `StorageError` naming the file."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, Nx5dError):  # a StorageError, an OutputExistsError: said already
            raise
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _no_cluster_lock() -> contextlib.AbstractContextManager[Any]:
    """Write without a dask cluster's lock: the data is computed, and that lock wants a file name, not a buffer."""
    try:
        import dask
    except ImportError:  # no dask: no cluster either
        return contextlib.nullcontext()
    return dask.config.set(scheduler="synchronous")
