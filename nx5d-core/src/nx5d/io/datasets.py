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
        return np.asarray(value["__array__"], dtype=np.dtype(value["dtype"]))
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
                np.lib.format.write_array(fh, np.ascontiguousarray(values), allow_pickle=False)
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


def dataset_from_bytes(blob: bytes) -> Any:
    """The ``xarray.Dataset`` a file made by `dataset_to_bytes` holds (``ValueError`` if it is not one)."""
    import xarray as xr

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            described = json.loads(archive.read("dataset.json"))
            if described.get("format") != FORMAT:
                raise ValueError(f"not an {FORMAT} file")
            coords, data_vars = {}, {}
            for entry in described["variables"]:
                with archive.open(entry["file"]) as fh:
                    values = np.lib.format.read_array(fh, allow_pickle=False)
                attrs = {k: _restore(v) for k, v in entry["attrs"].items()}
                (coords if entry["coord"] else data_vars)[entry["name"]] = (tuple(entry["dims"]), values, attrs)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as exc:
        raise ValueError(f"not a readable {FORMAT} file: {exc}") from exc
    attrs = {k: _restore(v) for k, v in described["attrs"].items()}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
