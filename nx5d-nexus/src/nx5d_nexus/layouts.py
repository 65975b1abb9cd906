"""Scans in NeXus, HDF5 and Zarr documents, as ``xarray.Dataset``.

One scan is one group -- a NeXus ``NXentry`` such as BLISS's ``20.1``,
Sardana's ``entry0042``, Diamond GDA's ``entry1``, or the ``N.1`` groups of
silx's SpecH5 layout.  Inside it, by the conventions these writers share:

* **counters**: the 1-D members of ``measurement/`` (BLISS, Sardana, silx),
  else the datasets of the ``NXdata`` groups (``@signal``, ``@axes``; NeXus 1's
  ``signal``/``axes`` dataset attributes too), else the ``data``/``value``
  datasets of ``instrument/*``; one value per scan point;
* **positioners**: the members of ``instrument/positioners`` (silx; one value,
  or one per point for scanned motors: attribute ``kind = "positioner"``), BLISS's ``positioners_start``, the
  ``value`` of ``NXpositioner`` groups, and Sardana's
  ``measurement/pre_scan_snapshot``;
* the storage ring current (``NXsource/current``, ``instrument/machine/current``)
  as ``machine_current``;
* **detector frames**: a 3-D member of ``measurement/`` or the ``data``
  (``image``) of an ``NXdetector`` under ``instrument/``, one frame per point
  -- or 4-D and 5-D for detectors with extra axes (Eiger threshold images),
  which become ``images`` on ``(index, k, y, x)``;
* ``title``, ``start_time``, ``end_time`` and ``sample/name``.

The attributes the published nx5d 3.x and its acquisition tools write are
honoured when present: ``k-scan-type`` (the summary's type), ``k-frame-guard``
(frames are only trusted up to it), ``k-primary:N`` (the counters on the
scan axis) and ``k-header:*`` (copied into the dataset's attributes).

Listing and summaries read group members, shapes and attributes, never array
data.  Data in other files -- external links and the sources of virtual
datasets -- is read only when the file exists inside the repository root;
otherwise [`MissingDataError`][nx5d.errors.MissingDataError] names the link and the file
(h5py would silently fill the frames of a missing virtual source with zeros).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import warnings
from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import DataWarning, MissingDataError, NotSupportedError, OutsideRepositoryError
from nx5d.toolkit import (
    EXTRA_FRAME_DIMS,
    FrameOptions,
    Region,
    Storage,
    VariableNames,
    depends_on,
    frames_array,
    hdf5,
    option,
    scan_type,
    scanned_motor,
    scanned_range,
    zarrdoc,
)

__all__ = [
    "DOCUMENT_SUFFIXES",
    "LAZY_BYTES",
    "MACHINE_CURRENT",
    "NexusOptions",
    "is_document_name",
    "open_tree",
    "is_group",
    "text_of",
    "entries",
    "entry_of",
    "Layout",
    "layout",
    "summary",
    "scan_dataset",
]

#: Document name endings read by this module.
DOCUMENT_SUFFIXES = hdf5.HDF5_SUFFIXES + zarrdoc.ZARR_SUFFIXES
#: Frames bigger than this load lazily (dask) unless told otherwise.
LAZY_BYTES = 256 * 2**20
#: The variable holding the storage ring current (NeXus ``NXsource/current``), for normalisation.
MACHINE_CURRENT = "machine_current"
#: Detector datasets with up to this many dimensions are frames: ``(points, [k ...,] rows, cols)``.
MAX_FRAME_DIMS = 3 + len(EXTRA_FRAME_DIMS)

_PRIMARY = re.compile(r"k-primary:(\d+)")


@attrs.frozen
class NexusOptions(FrameOptions):
    """Loading options of scans in NeXus, HDF5 and Zarr documents.

    The core's frame options (``reduce``, ``roi``, ``frames``), with ``lazy``
    automatic by size, and ``detector``.
    """

    # None (decide by size) is this beamline's own: wider than the core's bool, which is checked at run time and shown
    # to users of every other beamline; the core reads the option as FrameOptions.lazy_frames, typed bool | None.
    lazy: bool | None = option(  # type: ignore[assignment]
        None, help="frames as a dask array read on demand; default: when they are bigger than 256 MB"
    )
    detector: str | None = option(None, help="which detector's frames to load (default: the first found)")


def is_document_name(url: str) -> bool:
    """Whether the document part of ``url`` names an HDF5 file or a Zarr group."""
    return hdf5.is_hdf5_name(url) or zarrdoc.is_zarr_name(url)


@contextlib.contextmanager
def open_tree(storage: Storage, url: str) -> Iterator[Any]:
    """The root group of the HDF5 file or Zarr group at ``url`` (an anchor is ignored), read-only."""
    document = url.partition("#")[0]
    if zarrdoc.is_zarr_name(document):
        yield zarrdoc.open_group(storage, document)
        return
    with hdf5.open_document(storage, document) as handle:
        yield handle


def _ordered(group: Any) -> list[str]:
    """Member names of an HDF5 group in its own order, of a Zarr group by name."""
    return list(group) if hasattr(group, "file") else sorted(group)


def is_group(node: Any) -> bool:
    """Whether an HDF5/Zarr node is a group (not an array)."""
    return hasattr(node, "keys") and not hasattr(node, "shape")


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else value.ravel()[0] if value.size else ""
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _attr(node: Any, name: str) -> str | None:
    value = node.attrs.get(name)
    return None if value is None else _text(value)


def _nx_class(node: Any) -> str | None:
    return _attr(node, "NX_class")


def _names(value: Any) -> list[str]:
    """Names in an ``@axes`` attribute: a list, or ``a:b`` / ``a,b`` text."""
    if value is None:
        return []
    if isinstance(value, np.ndarray | list | tuple):
        return [_text(v) for v in value]
    return [n for n in re.split(r"[:,\s]+", _text(value).strip("[]")) if n and n != "."]


def entries(root: Any) -> list[str]:
    """Names of the scan groups at the top of a document: its ``NXentry`` groups, or every group."""
    groups = [name for name in _ordered(root) if is_group(root[name])]
    classed = [name for name in groups if _nx_class(root[name]) == "NXentry"]
    return classed or groups


def entry_of(root: Any, anchor: str, where: str) -> Any:
    """The scan group at ``anchor`` (``""``: the document's first entry)."""
    if anchor:
        try:
            node = root[anchor]
        except KeyError:
            raise MissingDataError(f"{where}#{anchor} does not exist") from None
        if not is_group(node):
            raise MissingDataError(f"{where}#{anchor} is a dataset, not a scan group")
        return node
    names = entries(root)
    if not names:
        raise MissingDataError(f"{where} holds no scan group")
    return root[sorted(names)[0]]


class _Sources:
    """Checks that data kept in other files is there, inside the repository root, before it is read."""

    def __init__(self, document: str, root: str | None) -> None:
        self.document = document
        path = Storage.local_path(document)
        self.folder = None if path is None else os.path.dirname(os.path.realpath(path))
        self.root = None if root is None else os.path.realpath(root)

    def _place(self, name: str, what: str, where: str) -> None:
        if name == ".":
            return
        if self.folder is None:
            raise NotSupportedError(
                f"{where} is {what} {name!r}; nx5d follows links to other files in local documents only"
            )
        target = os.path.realpath(os.path.join(self.folder, name))
        if self.root is not None and os.path.commonpath([self.root, target]) != self.root:
            raise OutsideRepositoryError(f"{where} is {what} {name!r}, which lies outside the repository ({self.root})")
        depends_on("file://" + target)  # read by HDF5 itself: what is read depends on it (or on its absence)
        if not os.path.exists(target):
            raise MissingDataError(f"{where} is {what} {name!r}, which does not exist ({target})")

    def link(self, group: Any, name: str, where: str) -> None:
        """Check a member that may be an external link (HDF5)."""
        get = getattr(group, "get", None)
        if get is None or not hasattr(group, "file"):
            return
        link = get(name, getlink=True)
        filename = getattr(link, "filename", None)
        if filename is not None:
            self._place(filename, "an external link to", where)

    def dataset(self, node: Any, where: str) -> None:
        """Check the sources of a virtual dataset (HDF5)."""
        if getattr(node, "is_virtual", False):
            for source in node.virtual_sources():
                self._place(source.file_name, "a virtual dataset reading from", where)


@attrs.frozen
class Layout:
    """Where a scan group keeps what nx5d reads (found from names, shapes and attributes only).

    Attributes
    ----------
    counters:
        ``{name: path}`` of the 1-D datasets, one value per point (paths relative to the scan group).
    scalars:
        ``{name: path}`` of scalar positioners.
    frames:
        ``(detector name, path)`` of the frames, or ``None``.
    points:
        Number of scan points (the counters' length).
    signal, axes:
        The NeXus default plot: signal counter and axis counters, where declared.
    lengths:
        ``{name: length}`` of counters whose length differs from ``points``.
    positioners:
        The counters that are positioners (members of ``instrument/positioners``, one position per point).
    """

    counters: dict[str, str]
    scalars: dict[str, str]
    frames: tuple[str, str] | None
    points: int
    signal: str | None = None
    axes: tuple[str, ...] = ()
    lengths: dict[str, int] = attrs.field(factory=dict)
    positioners: frozenset[str] = frozenset()


def _members(group: Any, path: str, sources: _Sources, where: str) -> Iterator[tuple[str, str, Any]]:
    """``(name, path, node)`` of the members of ``group`` (external links checked before they are followed).

    In the document's order (HDF5: by name, or by creation where the file
    tracks it); Zarr stores list members in no fixed order, so by name.
    """
    for name in _ordered(group):
        sources.link(group, name, f"{where}#{path}/{name}".replace("#/", "#"))
        try:
            node = group[name]
        except KeyError:  # a dangling soft link: nothing there
            continue
        yield name, f"{path}/{name}".strip("/"), node


def _group(entry: Any, path: str) -> Any | None:
    try:
        node = entry[path]
    except KeyError:
        return None
    return node if is_group(node) else None


def _nxdata(entry: Any, sources: _Sources, where: str) -> list[tuple[str, Any]]:
    """The entry's NXdata groups, the ``@default`` one first."""
    found = [(name, node) for name, _, node in _members(entry, "", sources, where) if is_group(node)]
    groups = [(name, node) for name, node in found if _nx_class(node) == "NXdata"]
    default = _attr(entry, "default")
    return sorted(groups, key=lambda item: item[0] != default)


@attrs.define
class _Found:
    """What `layout` has found so far in a scan group, source by source."""

    sources: _Sources
    where: str
    ones: dict[str, tuple[str, int]] = attrs.field(factory=dict)  #: name -> (path, length) of 1-D datasets
    scalars: dict[str, str] = attrs.field(factory=dict)
    frames: dict[str, tuple[str, int]] = attrs.field(factory=dict)  #: detector -> (path, frames)
    positioners: set[str] = attrs.field(factory=set)
    signal: str | None = None
    axes: tuple[str, ...] = ()

    def members(self, group: Any, path: str) -> Iterator[tuple[str, str, Any]]:
        return _members(group, path, self.sources, self.where)

    def take(self, name: str, path: str, node: Any, detector_name: str | None = None) -> None:
        """Keep a numeric dataset as a scalar, a counter or frames, by its number of dimensions."""
        if is_group(node) or not (np.issubdtype(np.dtype(node.dtype), np.number) or node.dtype == bool):
            return
        if node.ndim == 0:
            self.scalars.setdefault(name, path)
        elif node.ndim == 1:
            self.ones.setdefault(name, (path, int(node.shape[0])))
        elif 3 <= node.ndim <= MAX_FRAME_DIMS:
            self.frames.setdefault(detector_name or name, (path, int(node.shape[0])))

    def measurement(self, entry: Any) -> None:
        """``measurement/`` (BLISS, Sardana, silx): counters, and Sardana's ``pre_scan_snapshot`` positions."""
        group = _group(entry, "measurement")
        for name, path, node in self.members(group, "measurement") if group is not None else ():
            if name == "pre_scan_snapshot" and is_group(node):
                for sub, sub_path, sub_node in self.members(node, path):
                    if not is_group(sub_node) and sub_node.ndim == 0:
                        self.scalars.setdefault(sub, sub_path)
            else:
                self.take(name, path, node)

    def nxdata(self, entry: Any) -> None:
        """The ``NXdata`` groups (GDA: one per detector): their datasets, and the default plot's signal and axes."""
        for group_name, group in _nxdata(entry, self.sources, self.where):
            declared = _attr(group, "signal")
            group_axes = _names(group.attrs.get("axes"))
            for name, path, node in self.members(group, group_name):
                if is_group(node):
                    continue
                if declared is None and _attr(node, "signal") == "1":  # NeXus 1: the signal is marked on the dataset
                    declared = name
                    group_axes = group_axes or _names(node.attrs.get("axes"))
                self.take(name, path, node, detector_name=group_name)
            if self.signal is None and declared is not None:
                self.signal, self.axes = declared, tuple(a for a in group_axes if a in self.ones)

    def instrument_data(self, instrument: Any) -> None:
        """Without measurement and NXdata: each instrument group's ``data`` or ``value``."""
        for name, _, node in self.members(instrument, "instrument"):
            leaf = next((n for n in ("data", "value") if is_group(node) and n in node and not is_group(node[n])), None)
            if leaf is not None:
                self.take(name, f"instrument/{name}/{leaf}", node[leaf])

    def positioner_groups(self, entry: Any) -> None:
        """``instrument/positioners`` and ``positioners_start``: fixed, or scanned with one position per point."""
        for group_path in ("instrument/positioners", "instrument/positioners_start"):
            group = _group(entry, group_path)
            for name, path, node in self.members(group, group_path) if group is not None else ():
                if not is_group(node) and node.ndim <= 1:
                    self.take(name, path, node)
                    self.positioners.add(name)

    def instrument(self, instrument: Any) -> None:
        """Detectors' frames, positioners' fixed values and the storage ring's current, in ``instrument/``."""
        for name, _, node in self.members(instrument, "instrument"):
            if not is_group(node):
                continue
            kind = _nx_class(node)
            if (kind == "NXsource" or name in ("machine", "source")) and "current" in node:
                current = node["current"]
                if not is_group(current) and current.ndim <= 1:
                    self.take(MACHINE_CURRENT, f"instrument/{name}/current", current)
            value = node["value"] if kind == "NXpositioner" and "value" in node else None
            if value is not None and not is_group(value) and value.ndim == 0:
                self.scalars.setdefault(name, f"instrument/{name}/value")
            if kind == "NXdetector" or "data" in node or "image" in node:
                self.detector_frames(name, node)

    def detector_frames(self, name: str, node: Any) -> None:
        for leaf in ("data", "image"):
            if leaf in node and not is_group(node[leaf]) and 3 <= node[leaf].ndim <= MAX_FRAME_DIMS:
                self.frames.setdefault(name, (f"instrument/{name}/{leaf}", int(node[leaf].shape[0])))
                return

    def result(self, entry: Any, detector: str | None) -> Layout:
        """The layout: counters of the most common length are the points; the detector chosen (default: the first)."""
        lengths = [n for _, n in self.ones.values()]
        points = max(set(lengths), key=lengths.count) if lengths else next(iter(self.frames.values()), ("", 0))[1]
        primary = [key for key in entry.attrs if _PRIMARY.fullmatch(str(key))]
        axes = self.axes
        if primary and not axes:
            axes = tuple(n for n in _names(entry.attrs.get(sorted(primary)[0])) if n in self.ones)
        if detector is not None and detector not in self.frames:
            known = ", ".join(self.frames) or "none"
            raise MissingDataError(f"{self.where} has no frames of detector {detector!r}; it has {known}")
        name = detector if detector is not None else next(iter(self.frames), None)
        chosen = None if name is None else (name, self.frames[name][0])
        return Layout(
            counters={name: path for name, (path, _) in self.ones.items()},
            scalars={name: path for name, path in self.scalars.items() if name not in self.ones},
            frames=chosen,
            points=points,
            signal=self.signal if self.signal in self.ones or (chosen and self.signal == chosen[0]) else None,
            axes=axes,
            lengths={name: n for name, (_, n) in self.ones.items() if n != points},
            positioners=frozenset(self.positioners & set(self.ones)),
        )


def layout(entry: Any, where: str, *, root: str | None = None, detector: str | None = None) -> Layout:
    """Find the counters, positioners and frames of a scan group (see the module documentation).

    Sources, in order: ``measurement/``, the ``NXdata`` groups, (without
    either) the instrument groups' data, the positioner groups, and the
    instrument's detectors, positioners and ring current.
    """
    found = _Found(_Sources(where, root), where)
    found.measurement(entry)
    found.nxdata(entry)
    instrument = _group(entry, "instrument")
    if not found.ones and instrument is not None:
        found.instrument_data(instrument)
    found.positioner_groups(entry)
    if instrument is not None:
        found.instrument(instrument)
    return found.result(entry, detector)


def _path(group: Any) -> str:
    """The path of an HDF5 or Zarr group inside its document, without surrounding ``/``."""
    return str(getattr(group, "name", None) or getattr(group, "path", "")).strip("/")


def text_of(dataset: Any) -> str:
    """The text of a small string (or scalar) dataset."""
    return _text(np.asarray(dataset[()]))


def _scalar_text(entry: Any, name: str) -> str:
    """A small string dataset of the scan group (``title`` ...), else its attribute of that name, else ``""``."""
    try:
        node = entry[name]
    except KeyError:
        return _attr(entry, name) or ""
    return "" if is_group(node) else text_of(node)


def summary(entry: Any, where: str) -> dict[str, Any]:
    """Type, steps, notes (the title), start time, scanned motor (and its range, from the title), counters, sample
    and detector -- from names, shapes, small strings.

    ``state`` is ``"done"`` where the writer has written the scan's
    ``end_time`` (BLISS, GDA and Sardana write it when the scan ends).
    """
    found = layout(entry, where)
    title = _scalar_text(entry, "title")
    out: dict[str, Any] = {
        "type": _attr(entry, "k-scan-type") or scan_type(title),
        "steps": found.points,
        "notes": title if found.counters or found.frames else f"incomplete: no counters ({title})".rstrip(" ()"),
        "start": _scalar_text(entry, "start_time"),
        "motor": scanned_motor(title),
    }
    span = scanned_range(title)
    if span is not None:
        out["range"] = list(span)
    out["counters"] = list(found.counters)
    sample = _scalar_text(entry, "sample/name")
    if sample:
        out["sample"] = sample
    if found.frames is not None:
        out["detector"] = found.frames[0]
    if _scalar_text(entry, "end_time"):
        out["state"] = "done"  # written when the scan ends
    return out


def _read(node: Any, where: str, selection: Any = ()) -> np.ndarray:
    if hasattr(node, "id"):  # h5py
        return hdf5.read(node, where, selection)
    return zarrdoc.read(node, where, selection)


def _attrs_of(node: Any, original: str) -> dict[str, str]:
    out = {"long_name": _attr(node, "long_name") or original}
    units = _attr(node, "units")
    if units:
        out["units"] = units
    return out


def _frame_guard(entry: Any, points: int) -> int:
    guard = entry.attrs.get("k-frame-guard")
    if guard is None:
        return points
    try:
        return max(0, min(points, int(np.asarray(guard).ravel()[0])))
    except (TypeError, ValueError):
        return points


def _frames_array(
    storage: Storage,
    document: str,
    path: str,
    node: Any,
    points: int,
    region: Region,
    lazy: bool | None,
    chunk: int | None = None,
) -> tuple[Any, tuple[int, int]]:
    shape = tuple(int(n) for n in node.shape[-2:])
    rows, cols = region.slices(shape)  # type: ignore[arg-type]
    frame_bytes = math.prod(node.shape[1:]) * np.dtype(node.dtype).itemsize
    if lazy is None:
        lazy = points * frame_bytes > LAZY_BYTES
    where = f"{document}#{path}"
    selection = np.s_[:points, ..., rows, cols]
    if not lazy:
        return _read(node, where, selection), shape  # type: ignore[return-value]
    if hasattr(node, "id"):
        full = hdf5.lazy_array(storage, document, "/" + path, node)
    else:
        full = zarrdoc.lazy_array(node, where)
    frames = full[selection]
    return (frames if chunk is None else frames.rechunk({0: chunk})), shape  # type: ignore[return-value]


def scan_dataset(
    storage: Storage,
    url: str,
    *,
    region: Region | None = None,
    lazy: bool | None = None,
    chunk: int | None = None,
    detector: str | None = None,
    frames: bool = True,
) -> xr.Dataset:
    """The scan at ``url`` (``document#group``; no anchor: the document's first entry) as a Dataset.

    Counters on ``index`` (NeXus axes as coordinates), positioners as
    scalars, frames as ``images`` on ``(index, y, x)`` with full-frame pixel
    coordinates -- a dask array (``chunk`` frames per chunk, else the file's
    chunking) when ``lazy`` (``None``: when they are bigger
    than `LAZY_BYTES`).  Data in other files (external links, virtual
    dataset sources) is read only inside the storage's root.
    """
    document, _, anchor = url.partition("#")
    root = storage.local_root
    region = region or Region()
    with open_tree(storage, document) as tree:
        entry = entry_of(tree, anchor.strip("/"), document)
        base = f"{document}#{_path(entry)}"
        found = layout(entry, base, root=root, detector=detector)
        sources = _Sources(document, root)
        points = found.points
        if found.lengths:
            warnings.warn(
                f"{base}: counters of {points} points, but {found.lengths} differ; "
                "the counters are cut to the shortest (scan still being written?)",
                DataWarning,
                stacklevel=2,
            )
            points = min(points, *found.lengths.values())
        extra = entry[found.frames[1]].ndim - 3 if found.frames else 0
        dims = ("index", *EXTRA_FRAME_DIMS[:extra], "y", "x") if found.frames else ("index",)
        names = VariableNames(base, dims)
        data: dict[str, Any] = {}
        renamed: dict[str, str] = {}
        for original, path in found.counters.items():
            node = entry[path]
            sources.dataset(node, f"{base}/{path}")
            name = names.name(original, "counter")
            renamed[original] = name
            kind = {"kind": "positioner"} if original in found.positioners else {}
            data[name] = xr.Variable(
                "index", _read(node, f"{base}/{path}")[:points], {**_attrs_of(node, original), **kind}
            )
        for original, path in found.scalars.items():
            node = entry[path]
            value = _read(node, f"{base}/{path}")
            data[names.name(original, "motor")] = xr.Variable((), value, _attrs_of(node, original))
        if frames and found.frames is not None:
            detector_name, path = found.frames
            node = entry[path]
            sources.dataset(node, f"{base}/{path}")
            usable = min(_frame_guard(entry, int(node.shape[0])), points if found.counters else int(node.shape[0]))
            if usable < points and found.counters:
                warnings.warn(
                    f"{base}: {usable} detector frames for {points} counter values (scan still being written?); "
                    f"using the first {usable}",
                    DataWarning,
                    stacklevel=2,
                )
                data = {k: (v[:usable] if v.dims == ("index",) else v) for k, v in data.items()}
            images, shape = _frames_array(
                storage, document, f"{_path(entry)}/{path}", node, usable, region, lazy, chunk
            )
            data["images"] = frames_array(
                images, shape, region, attrs={"detector": detector_name, **_attrs_of(node, detector_name)}
            )
        attributes = {
            "title": _scalar_text(entry, "title"),
            "start_time": _scalar_text(entry, "start_time"),
            "end_time": _scalar_text(entry, "end_time"),
            "sample": _scalar_text(entry, "sample/name"),
            "url": url,
            "signal": renamed.get(found.signal or "", found.signal or ""),
            **{str(k): _text(v) for k, v in entry.attrs.items() if str(k).startswith("k-header:")},
        }
        if found.frames is not None:
            attributes["detector"] = found.frames[0]
    dataset = xr.Dataset(data, attrs=attributes)
    axes = [renamed[a] for a in found.axes if a in renamed]
    return dataset.set_coords(axes) if axes else dataset
