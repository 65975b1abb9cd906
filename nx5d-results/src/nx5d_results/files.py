"""Writing scans' data to files: NetCDF, HDF5 or Zarr, each file appearing whole.

`require_writer` refuses an unknown format, or a writer missing from the
environment, before any work starts instead of after it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

from nx5d.errors import NotSupportedError, OptionError
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

    The temporary file is removed if writing fails in any way, Ctrl-C
    included; one left by a killed process is removed by
    [`nx5d.io.temporaries.sweep`][nx5d.io.temporaries.sweep].
    """
    require_writer(fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = dataset.compute() if hasattr(dataset, "compute") else dataset
    dataset = portable(dataset.copy(), fmt)
    with removed_on_failure(temporary_name(path)) as partial:
        if fmt == "zarr":
            dataset.to_zarr(partial, mode="w")
        else:
            dataset.to_netcdf(partial, engine="h5netcdf", invalid_netcdf=fmt == "hdf5")
        if path.is_dir():
            shutil.rmtree(path)
        os.replace(partial, path)
