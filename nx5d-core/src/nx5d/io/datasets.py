"""xarray Datasets as self-contained files: NumPy arrays in a zip archive, described by JSON -- nothing pickled.

The format is what [`nx5d.io.results`][nx5d.io.results] keeps cooked results in.  A file
is a zip archive with ``dataset.json`` (dimensions, attributes and the order
of every variable) and one ``.npy`` file per variable, written and read by
NumPy's own format functions with pickling refused; any tool that reads zip
and ``.npy`` files can open it.  Datasets holding Python objects (``object``
arrays) or attributes that are not plain values cannot be written:
`dataset_to_bytes` raises ``TypeError``, and the caller keeps the
result in memory only.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from typing import Any

import numpy as np

__all__ = ["dataset_to_bytes", "dataset_from_bytes", "FORMAT"]

#: Written into every file; files of another format are not read.
FORMAT = "nx5d-dataset/1"


def _plain(value: Any) -> Any:
    """An attribute value as JSON can hold it, or ``TypeError``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufU":
            raise TypeError(f"attribute array of {value.dtype} cannot be kept")
        return {"__array__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise TypeError(f"attribute of type {type(value).__name__} cannot be kept")


def _restore(value: Any) -> Any:
    if isinstance(value, dict) and "__array__" in value:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biufU":
            raise ValueError(f"attribute array of {dtype} cannot be read")
        return np.asarray(value["__array__"], dtype=dtype)
    return value


def dataset_to_bytes(data: Any) -> bytes:
    """The bytes of a file holding ``data`` (an ``xarray.Dataset``, computed); ``TypeError`` if it cannot be kept."""
    if not hasattr(data, "data_vars"):
        raise TypeError(f"only xarray Datasets are kept, not {type(data).__name__}")
    described: dict[str, Any] = {"format": FORMAT, "attrs": {str(k): _plain(v) for k, v in data.attrs.items()}}
    variables = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for i, (name, variable) in enumerate(data.variables.items()):
            values = np.asarray(variable.values)
            if values.dtype.hasobject:
                raise TypeError(f"variable {name!r} holds Python objects and cannot be kept")
            member = f"v{i}.npy"
            with archive.open(member, "w") as fh:
                contiguous = values if values.flags.c_contiguous else values.copy()  # 0-d arrays stay 0-d
                np.lib.format.write_array(fh, contiguous, allow_pickle=False)
            variables.append(
                {
                    "name": str(name),
                    "dims": [str(d) for d in variable.dims],
                    "attrs": {str(k): _plain(v) for k, v in variable.attrs.items()},
                    "coord": name in data.coords,
                    "file": member,
                }
            )
        described["variables"] = variables
        archive.writestr("dataset.json", json.dumps(described))
    return buffer.getvalue()


def _described(archive: zipfile.ZipFile) -> dict[str, Any]:
    """``dataset.json``, checked for the shape `dataset_to_bytes` writes (``ValueError`` otherwise)."""
    described = json.loads(archive.read("dataset.json"))
    if not isinstance(described, dict) or described.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} file")
    if not isinstance(described.get("attrs"), dict) or not isinstance(described.get("variables"), list):
        raise ValueError("its description has no attributes or variables")
    for entry in described["variables"]:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("file"), str)
            and isinstance(entry.get("dims"), list)
            and all(isinstance(d, str) for d in entry["dims"])
            and isinstance(entry.get("attrs"), dict)
            and isinstance(entry.get("coord"), bool)
        ):
            raise ValueError(f"a variable is not described as written: {str(entry)[:80]}")
    return described


def _read_member_array(archive: zipfile.ZipFile, member: str) -> np.ndarray:
    """A ``.npy`` member, after checking that its header claims no more values than the member holds."""
    info = archive.getinfo(member)
    with archive.open(member) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"{member} is an .npy file of version {version}")
        if dtype.hasobject:
            raise ValueError(f"{member} holds Python objects")
        expected = math.prod(shape) * dtype.itemsize
        if expected != info.file_size - fh.tell():
            raise ValueError(f"{member} claims {shape} values of {dtype} but holds {info.file_size - fh.tell()} bytes")
        values = np.frombuffer(fh.read(expected), dtype=dtype)
    return values.reshape(shape, order="F" if fortran else "C")


def dataset_from_bytes(blob: bytes) -> Any:
    """The ``xarray.Dataset`` a file made by `dataset_to_bytes` holds (``ValueError`` if it is not one).

    The bytes are untrusted: every part is checked before it is used, and
    no array is made bigger than its member's bytes.
    """
    import xarray as xr

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            described = _described(archive)
            coords: dict[str, tuple] = {}
            data_vars: dict[str, tuple] = {}
            for entry in described["variables"]:
                values = _read_member_array(archive, entry["file"])
                attrs = {k: _restore(v) for k, v in entry["attrs"].items()}
                (coords if entry["coord"] else data_vars)[entry["name"]] = (tuple(entry["dims"]), values, attrs)
            attrs = {k: _restore(v) for k, v in described["attrs"].items()}
            return xr.Dataset(data_vars, coords=coords, attrs=attrs)
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, RecursionError, OSError) as exc:
        raise ValueError(f"not a readable {FORMAT} file: {type(exc).__name__}: {exc}") from exc
