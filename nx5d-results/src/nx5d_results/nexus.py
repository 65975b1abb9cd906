"""Datasets as NeXus files that NeXus viewers plot and nx5d opens again, bit for bit.

`write_nexus` writes an ``xarray.Dataset`` -- a cooked map or profile, or a
scan's raw data -- as one HDF5 file in NeXus form:

```text
/                         @NX_class=NXroot  @default=entry  @nx5d_export=cooked|raw
/entry                    @NX_class=NXentry @default=data   the dataset's attributes (the provenance)
/entry/title              the scan's URL
/entry/data               @NX_class=NXdata  @signal  @axes  @AXIS_indices  @auxiliary_signals
/entry/data/NAME          every variable and coordinate: @long_name, @units, its attributes
/entry/data/SIGNAL_errors the square root of SIGNAL_variance where there is one (NeXus's error bars)
/entry/measurement        @NX_class=NXcollection: links to the per-point counters and frames (raw exports)
```

The signal is the variable on the most dimensions (``qdata`` of a map,
``images`` of a raw scan, else its detector counter: `signal_of`); its
axes are the coordinates of those dimensions, along a raw scan's points
the scanned motor (``.`` where a dimension has none).  Every dataset keeps its
type exactly, its dimensions (``@nx5d_dims``) and its attributes as JSON
(``@nx5d_attrs``), so `read_nexus` gives the same Dataset back: arrays
bit-identical, names, dimensions and coordinates the same.

Arrays are compressed (gzip with the shuffle filter, chunked along the
first dimension) and written block by block: a lazy (dask) array -- a raw
scan's frames, read on demand -- is computed one block of frames at a time
and never held whole.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nx5d.errors import CorruptDataError, NotSupportedError
from nx5d.toolkit import removed_on_failure, temporary_name

__all__ = [
    "MARK",
    "BLOCK_BYTES",
    "write_nexus",
    "read_nexus",
    "read_attributes",
    "read_nexus_attributes",
    "signal_of",
    "is_export",
]

#: The root attribute that marks a file nx5d exported (``"cooked"`` or ``"raw"``).
MARK = "nx5d_export"
#: How many bytes of an array are computed and written at a time.
BLOCK_BYTES = 32 * 2**20
#: Attributes of datasets that nx5d writes for NeXus readers and reads back from elsewhere.
_OWN = ("nx5d_dims", "nx5d_attrs", "nx5d_dtype", "nx5d_coord", "nx5d_derived")
_COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def signal_of(dataset: Any, *, raw: bool = False) -> str | None:
    """The variable a NeXus viewer should plot: ``images`` if there are frames, else a data variable on the most
    dimensions -- of a result the first (``qdata``), of a raw scan the one its ``signal`` attribute names, else
    the last (the detector counter, which SPEC and its readers put in the last column)."""
    names = list(dataset.data_vars)
    if not names:
        return None
    if "images" in names:
        return "images"
    named = dataset.attrs.get("signal")
    if raw and isinstance(named, str) and named in names:
        return named
    most = max(dataset[n].ndim for n in names)
    candidates = [n for n in names if dataset[n].ndim == most]
    return candidates[-1] if raw else max(candidates, key=lambda n: (dataset[n].size, -names.index(n)))


def _axis(dataset: Any, dim: str, motor: str | None) -> str:
    """The field a viewer plots along ``dim``: its coordinate, else the scanned ``motor`` or the first numeric
    coordinate along it (SPEC's scanned motor), else ``.`` (none)."""
    if dim in dataset.coords:
        return dim
    along = [str(n) for n, v in dataset.variables.items() if v.dims == (dim,) and np.dtype(v.dtype).kind in "biuf"]
    if motor in along:
        return str(motor)
    coordinates = [n for n in along if n in dataset.coords]
    return coordinates[0] if coordinates else "."


def _json(value: Any) -> str:
    def plain(item: Any) -> Any:
        if hasattr(item, "tolist"):
            return item.tolist()
        return str(item)

    return json.dumps(value, default=plain)


def _attribute(value: Any) -> Any:
    """An attribute value HDF5 holds as it is (text, numbers, arrays of numbers), else its JSON text."""
    if isinstance(value, str | int | float | bool | np.number | np.bool_):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    return _json(value)


def _stored(dtype: np.dtype) -> tuple[Any, str | None]:
    """The HDF5 type ``dtype`` is written as, and the ``nx5d_dtype`` that restores it (``None``: the same)."""
    import h5py

    if dtype.kind in "USO":
        return h5py.string_dtype("utf-8"), dtype.str
    if dtype.kind in "mM":
        return np.dtype("int64"), dtype.str
    return dtype, None


def _blocks(length: int, row_bytes: int, chunks: tuple[int, ...] | None = None) -> Iterator[slice]:
    """Slices of at most `BLOCK_BYTES` along the first axis; a lazy array's own chunks are never split."""
    step = max(1, BLOCK_BYTES // max(1, row_bytes))
    bounds = list(np.cumsum(chunks)) if chunks else list(range(step, length, step)) + [length]
    start = stop = 0
    for bound in bounds:
        if bound - start > step and stop > start:
            yield slice(start, stop)
            start = stop
        stop = int(bound)
    if stop > start:
        yield slice(start, stop)


#: Room kept free on the disk beyond a block's bytes, for what HDF5 writes besides (chunk indexes, attributes).
SPARE_BYTES = 2**20


def _require_room(path: str, nbytes: int) -> None:
    """Refuse to write ``nbytes`` more into ``path`` where the disk has less room (and `SPARE_BYTES`) left.

    HDF5 writing onto a full disk may crash the process when it closes the
    file; a block that does not fit is refused before HDF5 sees it, as
    ``OSError(ENOSPC)`` (the caller names the file).  Compression may make a
    block smaller on disk: the check is on its bytes in memory.
    """
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    if nbytes + SPARE_BYTES > free:
        raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({nbytes} bytes to write, {free} free)")


def _values(data: Any, dtype: np.dtype) -> np.ndarray:
    values = np.asarray(data)
    if dtype.kind in "mM":
        return values.view("int64")
    if dtype.kind in "USO":
        return np.asarray(values, dtype=object).astype(str).astype(object)
    return values


def _write_variable(group: Any, name: str, variable: Any, *, coord: bool) -> Any:
    dtype = np.dtype(variable.dtype)
    stored, restore = _stored(dtype)
    shape = tuple(variable.shape)
    options: dict[str, Any] = {}
    if shape and int(np.prod(shape)) > 1 and dtype.kind not in "USO":
        chunk_rows = max(1, min(shape[0], (1 << 20) // max(1, dtype.itemsize * int(np.prod(shape[1:])))))
        options = {"chunks": (chunk_rows, *shape[1:]), **_COMPRESSION}
    dataset = group.create_dataset(name, shape=shape, dtype=stored, **options)
    if shape and shape[0]:
        row_bytes = dtype.itemsize * int(np.prod(shape[1:]) if len(shape) > 1 else 1)
        chunks = getattr(variable.data, "chunks", None)
        for block in _blocks(shape[0], row_bytes, chunks[0] if chunks else None):
            values = _values(variable.data[block], dtype)
            _require_room(group.file.filename, values.nbytes)
            dataset[block] = values
    elif not shape:
        dataset[()] = _values(variable.data, dtype)
    dataset.attrs["nx5d_dims"] = _json(list(variable.dims))
    dataset.attrs["nx5d_attrs"] = _json(dict(variable.attrs))
    if restore is not None:
        dataset.attrs["nx5d_dtype"] = restore
    if coord:
        dataset.attrs["nx5d_coord"] = 1
    for key, value in variable.attrs.items():
        if key not in _OWN:
            dataset.attrs[key] = _attribute(value)
    return dataset


def _plot(group: Any, dataset: Any, signal: str | None, motor: str | None) -> None:
    """The NeXus default plot of the NXdata ``group``: signal, axes, their indices, auxiliary signals, errors."""
    if signal is None:
        return
    dims = dataset[signal].dims
    group.attrs["signal"] = signal
    axes = [_axis(dataset, dim, motor) for dim in dims]
    group.attrs["axes"] = axes or ["."]
    for k, axis in enumerate(axes):
        if axis != ".":
            group.attrs[f"{axis}_indices"] = k
    same = [n for n in dataset.data_vars if n != signal and dataset[n].dims == dims and not n.endswith("_variance")]
    if same:
        group.attrs["auxiliary_signals"] = same
    variance = f"{signal}_variance"
    if variance in dataset.data_vars and dataset[variance].dims == dims and f"{signal}_errors" not in dataset:
        errors = group.create_dataset(
            f"{signal}_errors", data=np.sqrt(np.asarray(dataset[variance].values, dtype=float)), **_compressed(dims)
        )
        errors.attrs["nx5d_derived"] = 1
        errors.attrs["long_name"] = f"standard error of {signal} (sqrt of {variance})"


def _compressed(dims: tuple[str, ...]) -> dict[str, Any]:
    return dict(_COMPRESSION) if dims else {}


def write_nexus(
    dataset: Any, path: str | os.PathLike[str], *, kind: str, overwrite: bool = False, motor: str | None = None
) -> Path:
    """Write ``dataset`` to ``path`` as NeXus (see the module documentation); the file appears whole.

    ``kind`` is ``"cooked"`` or ``"raw"`` (the root's `MARK`); ``motor``, the
    scanned motor, is the default plot's axis along a dimension without a
    coordinate (a raw scan's points).  An existing file is refused
    ([`OutputExistsError`][nx5d.errors.OutputExistsError]) unless ``overwrite``.
    """
    import h5py

    from nx5d_results.files import put_in_place, refuse_existing

    path = Path(path)
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    signal = signal_of(dataset, raw=kind == "raw")
    with removed_on_failure(temporary_name(path)) as partial:
        _require_room(str(partial), 0)  # HDF5's own first writes (superblock, groups) must fit as well
        with h5py.File(partial, "w", libver="v110") as root:
            root.attrs["NX_class"] = "NXroot"
            root.attrs["default"] = "entry"
            root.attrs[MARK] = kind
            root.attrs["creator"] = "nx5d-results"
            entry = root.create_group("entry")
            entry.attrs["NX_class"] = "NXentry"
            entry.attrs["default"] = "data"
            entry.attrs["nx5d_attrs"] = _json(dict(dataset.attrs))
            for key, value in dataset.attrs.items():
                entry.attrs[key] = _attribute(value)
            title = dataset.attrs.get("nx5d_scan_url") or dataset.attrs.get("url") or ""
            entry.create_dataset("title", data=str(title))
            data = entry.create_group("data")
            data.attrs["NX_class"] = "NXdata"
            written = {}
            for name, variable in dataset.variables.items():
                written[name] = _write_variable(data, str(name), variable, coord=name in dataset.coords)
            _plot(data, dataset, signal, motor)
            _measurement(entry, dataset, written)
        put_in_place(partial, path, overwrite)
    return path


def _measurement(entry: Any, dataset: Any, written: Mapping[Any, Any]) -> None:
    """Links to the per-point variables of a raw scan (``index``), where BLISS-style NeXus readers look."""
    if "index" not in dataset.dims:
        return
    group = entry.create_group("measurement")
    group.attrs["NX_class"] = "NXcollection"
    for name, variable in dataset.variables.items():
        if variable.dims[:1] == ("index",) and variable.ndim in (1, 3):
            group[str(name)] = written[name]  # a hard link: no second copy


def is_export(path: str | os.PathLike[str]) -> str | None:
    """``"cooked"`` or ``"raw"`` for a file `write_nexus` wrote, else ``None`` (not HDF5, or not ours)."""
    import h5py

    try:
        with h5py.File(path, "r") as root:
            mark = root.attrs.get(MARK)
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, str) and mark in ("cooked", "raw") else None


def _loads(text: Any, what: str, where: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise CorruptDataError(f"{where}: {what} is not the JSON nx5d writes ({exc})") from exc


def read_attributes(handle: Any, where: str) -> dict[str, Any]:
    """The dataset attributes (the provenance) kept on ``/entry`` of an open export."""
    entry = handle.get("entry")
    if entry is None or "nx5d_attrs" not in entry.attrs:
        raise CorruptDataError(f"{where} is not a NeXus file nx5d exported (no /entry with nx5d_attrs)")
    found = _loads(entry.attrs["nx5d_attrs"], "/entry@nx5d_attrs", where)
    if not isinstance(found, dict):
        raise CorruptDataError(f"{where}: /entry@nx5d_attrs is not a mapping")
    return found


def read_nexus_attributes(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The dataset attributes (the provenance) of an export, without reading its arrays."""
    import h5py

    try:
        with h5py.File(path, "r", locking=False) as handle:
            return read_attributes(handle, str(path))
    except OSError as exc:
        raise CorruptDataError(f"{path} cannot be read as HDF5: {exc}") from exc


def _variable(node: Any, where: str) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    dims = _loads(node.attrs.get("nx5d_dims"), f"{node.name}@nx5d_dims", where)
    attrs = _loads(node.attrs.get("nx5d_attrs", "{}"), f"{node.name}@nx5d_attrs", where)
    if not isinstance(dims, list) or len(dims) != node.ndim or not isinstance(attrs, dict):
        raise CorruptDataError(f"{where}: {node.name} has dimensions {dims!r} for {node.ndim} axes")
    restore = node.attrs.get("nx5d_dtype")
    if isinstance(restore, str) and restore[1:2] in ("U", "S", "O"):
        values = node.asstr()[()]
        if restore[1:2] != "O":
            values = np.asarray(values, dtype=object).astype(np.dtype(restore))
    else:
        values = node[()]
        if isinstance(restore, str):
            values = np.asarray(values).view(np.dtype(restore))
    return dims, np.asarray(values), attrs


def read_nexus(path: str | os.PathLike[str], *, where: str | None = None, storage: Any = None) -> Any:
    """The Dataset `write_nexus` wrote to ``path`` (or the file's URL through ``storage``), as it was."""
    import h5py
    import xarray as xr

    where = where or str(path)
    try:
        if storage is not None:
            from nx5d.toolkit import open_document

            opened: Any = open_document(storage, str(path))
        else:
            opened = h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise CorruptDataError(f"{where} cannot be read as HDF5: {exc}") from exc
    with opened as handle:
        attrs = read_attributes(handle, where)
        group = handle.get("entry/data")
        if group is None:
            raise CorruptDataError(f"{where} has no /entry/data group")
        data: dict[str, Any] = {}
        coords: dict[str, Any] = {}
        for name, node in group.items():
            if not hasattr(node, "shape") or node.attrs.get("nx5d_derived") is not None:
                continue
            dims, values, variable_attrs = _variable(node, where)
            target = coords if node.attrs.get("nx5d_coord") is not None else data
            target[name] = xr.Variable(dims, values, variable_attrs)
    try:
        return xr.Dataset(data, coords=coords, attrs=attrs)
    except ValueError as exc:
        raise CorruptDataError(f"{where}: the variables do not fit together ({exc})") from exc


def require_h5py(what: str) -> None:
    """Refuse NeXus output where h5py is missing."""
    try:
        import h5py  # noqa: F401
    except ModuleNotFoundError as exc:
        raise NotSupportedError(f"{what} needs h5py, which is not installed: pip install h5py") from exc
