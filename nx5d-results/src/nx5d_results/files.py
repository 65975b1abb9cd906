"""Writing scans' data to files: NetCDF, HDF5 or Zarr, each file appearing whole.

`require_writer` refuses an unknown format, or a writer missing from the
environment, before any work starts instead of after it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nx5d.errors import NotSupportedError, OptionError, StorageError
from nx5d.toolkit import removed_on_failure, temporary_name

__all__ = ["FORMATS", "require_writer", "output_path", "write_dataset", "portable"]

#: Output formats and their file name endings.  ``hdf5`` is NetCDF-4's HDF5 file, with what NetCDF lacks
#: (booleans, for one) kept as HDF5 has it; h5py and every HDF5 tool read both.
FORMATS = {"netcdf": ".nc", "hdf5": ".h5", "zarr": ".zarr"}
#: The module each format's writer needs, and the extra of ``nx5d-core`` that installs it.
WRITERS = {"netcdf": "h5netcdf", "hdf5": "h5netcdf", "zarr": "zarr"}


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


def output_path(out: str | os.PathLike[str], proposal: str, scan: str, fmt: str) -> Path:
    """Where a scan's file goes: ``out/{proposal}/{scan}.nc`` (``.h5``, ``.zarr``); keys spanning folders nest."""
    if fmt not in FORMATS:
        raise OptionError(f"output format {fmt!r} is not one of {', '.join(FORMATS)}")
    return Path(out) / proposal / f"{scan}{FORMATS[fmt]}"


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


def write_dataset(dataset: Any, path: Path, fmt: str) -> None:
    """Write ``dataset`` (computed first, if lazy) to ``path``: under a temporary name, then renamed.

    NetCDF and HDF5 files are encoded in memory (a cooked result is small)
    and written by Python, so a full disk is a
    [`StorageError`][nx5d.errors.StorageError] naming the file, not a crash
    inside HDF5.  The temporary file is removed if writing fails in any way, Ctrl-C
    included; one left by a killed process is removed by
    [`nx5d.io.temporaries.sweep`][nx5d.io.temporaries.sweep].
    """
    require_writer(fmt)
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
        if path.is_dir():
            shutil.rmtree(path)
        os.replace(partial, path)


@contextlib.contextmanager
def _storage_errors(path: Path) -> Iterator[None]:
    """The file system's refusals (a full disk, no permission) as a `StorageError` naming the file."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _no_cluster_lock() -> contextlib.AbstractContextManager[Any]:
    """Write without a dask cluster's lock: the data is computed, and that lock wants a file name, not a buffer."""
    try:
        import dask
    except ImportError:  # no dask: no cluster either
        return contextlib.nullcontext()
    return dask.config.set(scheduler="synchronous")
