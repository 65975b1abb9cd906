"""Scans in NeXus, HDF5 and Zarr documents, as ``xarray.Dataset``.

One scan is one group -- a NeXus ``NXentry`` such as BLISS's ``20.1``,
Sardana's ``entry0042``, Diamond GDA's ``entry1`` or ``entry``, or the ``N.1``
groups of silx's SpecH5 layout.  Inside it, by the conventions these writers
share:

* **counters**: the 1-D members of ``measurement/`` (BLISS, Sardana, silx),
  else the datasets of the ``NXdata`` groups (``@signal``, ``@axes``; NeXus 1's
  ``signal``, ``axes``, ``axis`` and ``primary`` dataset attributes too), else
  the ``data``/``value`` datasets of the instrument's groups; one value per
  scan point;
* **positioners**: the members of ``instrument/positioners`` (silx; one value,
  or one per point for scanned motors: attribute ``kind = "positioner"``),
  BLISS's ``positioners_start``, the ``value`` (or ``raw_value``, SOLEIL) of
  ``NXpositioner`` groups, and Sardana's ``measurement/pre_scan_snapshot``;
* the storage ring current (``NXsource/current``, ``instrument/machine/current``)
  as ``machine_current``;
* **spectra**: 2-D datasets of these groups, one spectrum per point (line
  detectors, MCAs), on ``(index, <name>_channel)``;
* **detector frames**: a 3-D member of ``measurement/`` or the ``data``
  (``image``) of an ``NXdetector`` or ``NXdata`` group, one frame per point
  -- or 4-D and 5-D for detectors with extra axes (Eiger threshold images),
  which become ``images`` on ``(index, k, y, x)``; a single 2-D image (EPICS
  areaDetector's file of one exposure) is one frame; GDA's list of TIFF
  files (``instrument/<detector>/image_data``) is read with
  [`nx5d_tiff`][nx5d_tiff.files];
* the scan command (GDA: ``scan_command``, also in ``diamond_scan/``; others:
  a ``title`` that reads like a command), ``title``, ``start_time``,
  ``end_time`` and ``sample/name``;
* a single crystal's orientation (``sample/ub_matrix``, ``orientation_matrix``,
  ``unit_cell``: `nx5d_nexus.orientation`);
* the photon energy, from ``NXbeam`` (``incident_energy``,
  ``incident_wavelength``) or ``NXmonochromator`` (``energy``,
  ``wavelength``), units converted, as ``photon_energy`` in eV
  ([`nx5d_nexus.energy`][nx5d_nexus.energy]).

Counters are 1-D datasets of the scan's points: the length most of them
have.  One of another length -- shorter, not written to the end, or longer
-- is left out of summaries and loads alike with a
[`DataWarning`][nx5d.errors.DataWarning] naming it and its length; counters
are never cut or padded to fit each other.  (Frames fewer than the counters,
a scan still being written, are another matter: the counters are cut to the
frames, with a warning.)

The instrument group is the entry's ``NXinstrument`` (``instrument``, or
SOLEIL's ``DIFFABS``).  A scan group holding its arrays directly, as the
published nx5d 3.x's acquisition tools write them, is read by
[`nx5d_nexus.flat`][nx5d_nexus.flat]: every array, nested names joined.  Their
attributes are honoured everywhere: ``k-scan-type`` (the summary's type),
``k-frame-guard`` (points are only trusted up to it: a number, or the name of
a dataset whose length -- or value, for a scalar -- is that number),
``k-primary:N`` (the counters on the scan axis) and ``k-header:*`` (into the
dataset's attributes and the summary).

Listing and summaries read group members, shapes and attributes, never array
data (a summary of GDA's TIFF list reads its first name and that file's
header).  Data in other files -- external links, the sources of virtual
datasets, frame files -- is read only when the file exists inside the
repository root ([`nx5d_nexus.links`][nx5d_nexus.links]).  Where it does not,
summaries and counters go on without it, loading with ``frames="auto"``
warns once, naming the file, and loads the rest; asking for that detector
(``detector=...``) raises the [`MissingDataError`][nx5d.errors.MissingDataError]
naming the member and the file (h5py would silently fill the frames of a
missing virtual source with zeros).
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import xarray as xr

from nx5d.errors import CorruptDataError, DataWarning, MissingDataError, Nx5dError
from nx5d.toolkit import (
    EXTRA_FRAME_DIMS,
    STREAM_FRAMES,
    FrameOptions,
    Region,
    Storage,
    VariableNames,
    check_frame_size,
    check_memory,
    frames_array,
    hdf5,
    option,
    scan_type,
    scanned_motor,
    scanned_range,
    selected_shape,
    with_sliceable_frames,
    zarrdoc,
)
from nx5d_nexus.energy import PHOTON_ENERGY, photon_energy
from nx5d_nexus.links import Absent, Sources, frame_file_urls
from nx5d_nexus.orientation import orientation_attrs

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
    "is_command",
    "FrameSource",
    "Layout",
    "layout",
    "frame_shape",
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
#: Where GDA writes the scan command (its newer writer has no ``title``).
COMMAND_PATHS = ("scan_command", "diamond_scan/scan_command")

_PRIMARY = re.compile(r"k-primary:(\d+)")
_WORD = re.compile(r"[A-Za-z_][\w.]*")


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
    detector: str | None = option(
        None,
        help="which detector's frames to load (default: the first found); naming one whose file is absent is an error",
    )


def is_document_name(url: str) -> bool:
    """Whether the document part of ``url`` names an HDF5 file or a Zarr group."""
    return hdf5.is_hdf5_name(url) or zarrdoc.is_zarr_name(url)


@contextlib.contextmanager
def open_tree(storage: Storage, url: str) -> Iterator[Any]:
    """The root group of the HDF5 file or Zarr group at ``url`` (an anchor is ignored), read-only."""
    document = url.partition("#")[0]
    if zarrdoc.is_zarr_name(document):
        with zarrdoc.open_document(storage, document) as group:
            yield group
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


def _numeric(node: Any) -> bool:
    return np.issubdtype(np.dtype(node.dtype), np.number) or node.dtype == bool


def _one_value(node: Any) -> bool:
    """A scalar, or an array of one value (SOLEIL and areaDetector write fixed values as ``(1,)``)."""
    return node.ndim == 0 or tuple(node.shape) == (1,)


def entries(root: Any, *, confined: str | None = None, where: str = "") -> list[str]:
    """Names of the scan groups at the top of a document: its ``NXentry`` groups, or every group.

    With ``confined`` (the repository's local root), groups that are external
    links to files outside it, or absent, are left out with a
    [`DataWarning`][nx5d.errors.DataWarning] naming them (``where``: the document).
    """
    names = _ordered(root)
    if confined is not None:
        sources = Sources(where, confined)
        absent = [a for a in (sources.link(root, n, n, f"{where}#{n}") for n in names) if a is not None]
        for found in absent:
            warnings.warn(f"{found.message}: left out of the listing", DataWarning, stacklevel=3)
        names = [n for n in names if n not in {a.path for a in absent}]
    groups = [name for name in names if is_group(root[name])]
    classed = [name for name in groups if _nx_class(root[name]) == "NXentry"]
    return classed or groups


def entry_of(root: Any, anchor: str, where: str, *, confined: str | None = None) -> Any:
    """The scan group at ``anchor`` (``""``: the document's first entry).

    With ``confined`` (the repository's local root), a scan group that is
    (or a group on its path) an external link to a file outside it, or absent, is refused
    before it is followed (`nx5d_nexus.links.Sources`), and inside the scan
    group such members are not there ([`ConfinedGroup`][nx5d.io.hdf5.ConfinedGroup]).
    """
    if anchor and confined is not None:  # every level of the anchor, and soft links on the way
        absent = Sources(where.partition("#")[0], confined).link(root, anchor, anchor, f"{where}#{anchor}")
        if absent is not None:
            raise absent.error
    if anchor:
        try:
            node = root[anchor]
        except KeyError:
            raise MissingDataError(f"{where}#{anchor} does not exist") from None
        if not is_group(node):
            raise MissingDataError(f"{where}#{anchor} is a dataset, not a scan group")
        return _confined(node, where, confined)
    names = entries(root, confined=confined, where=where.partition("#")[0])
    if not names:
        raise MissingDataError(f"{where} holds no scan group")
    return _confined(root[sorted(names)[0]], where, confined)


def _confined(node: Any, where: str, root: str | None) -> Any:
    """An HDF5 scan group whose members leading to files outside ``root`` (or absent, or from a remote
    document: HDF5 would look for them on this machine) are not there."""
    return node if not hasattr(node, "file") else hdf5.ConfinedGroup(node, where.partition("#")[0], root)


def is_command(title: str) -> bool:
    """Whether a title reads like a scan command: a word, then other words of which one is a number.

    ``ascan eta 15.24 19.24 50 1`` and ``loopscan 10 0.1`` are commands;
    ``Glassy carbon C6 fixed`` and ``redemarrage`` are titles.
    """
    words = title.split()
    if len(words) < 2 or not _WORD.fullmatch(words[0]):
        return False
    for word in words[1:]:
        with contextlib.suppress(ValueError):
            float(word.strip("[](),"))
            return True
    return False


@attrs.frozen
class FrameSource:
    """Where a scan group keeps the frames of one detector.

    Attributes
    ----------
    detector:
        The detector's name (its group's name).
    path:
        The member holding them, relative to the scan group.
    count:
        How many frames (``None``: unknown, its file is absent).
    kind:
        ``"array"``: a dataset ``(frames, [k ...,] rows, cols)``; ``"image"``:
        one 2-D image, one frame; ``"files"``: a list of frame file names.
    absent:
        Where the frames are kept in a file that cannot be read: what and why.
    urls:
        The frame files of a list (``kind="files"``), once read.
    shape:
        One frame's shape, ``([k ...,] rows, cols)``, from the dataset's
        shape (``()``: unknown -- a list of frame files, or a file that is absent).
    """

    detector: str
    path: str
    count: int | None
    kind: str = "array"
    absent: Absent | None = None
    urls: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()


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
        The chosen detector's frames, or ``None``.
    points:
        Number of scan points (the counters' length).
    signal, axes:
        The NeXus default plot: signal counter and axis counters, where declared.
    left_out:
        ``{name: length}`` of the 1-D datasets whose length is not ``points``:
        not counters, left out with a warning (`Found.unequal`).
    positioners:
        The counters that are positioners (members of ``instrument/positioners``, one position per point).
    others:
        ``{name: path}`` of arrays of other shapes (the nx5d 3.x layout: every array is loaded).
    absent:
        Members whose data lies in files that cannot be read, in the order found.
    all_frames:
        The frames of every detector, in the order found.
    grid:
        The shape of an n-D scan (GDA's ``scan_shape``: ``(3, 21)``): its
        arrays are read flattened, in the order written, onto ``index``.
    spectra:
        ``{name: path}`` of 2-D datasets with one spectrum per point (line detectors, MCAs: points x channels).
    """

    counters: dict[str, str]
    scalars: dict[str, str]
    frames: FrameSource | None
    points: int
    signal: str | None = None
    axes: tuple[str, ...] = ()
    left_out: dict[str, int] = attrs.field(factory=dict)
    positioners: frozenset[str] = frozenset()
    others: dict[str, str] = attrs.field(factory=dict)
    absent: tuple[Absent, ...] = ()
    all_frames: tuple[FrameSource, ...] = ()
    grid: tuple[int, ...] = ()
    spectra: dict[str, str] = attrs.field(factory=dict)


def _path(group: Any) -> str:
    """The path of an HDF5 or Zarr group inside its document, without surrounding ``/``."""
    return str(getattr(group, "name", None) or getattr(group, "path", "")).strip("/")


@attrs.define
class Found:
    """What `layout` has found so far in a scan group, source by source.

    Members whose data lies in files that cannot be read are recorded in
    ``absent`` and passed over; nothing here reads array data.
    """

    sources: Sources
    document: str
    entry: Any
    ones: dict[str, tuple[str, int]] = attrs.field(factory=dict)  #: name -> (path, length) of 1-D datasets
    scalars: dict[str, str] = attrs.field(factory=dict)
    frames: dict[str, FrameSource] = attrs.field(factory=dict)  #: detector -> frames
    images: dict[str, str] = attrs.field(factory=dict)  #: detector -> path of a 2-D image (one frame)
    others: dict[str, str] = attrs.field(factory=dict)
    spectra: dict[str, tuple[str, int]] = attrs.field(factory=dict)  #: name -> (path, points) of 2-D datasets
    positioners: set[str] = attrs.field(factory=set)
    absent: dict[str, Absent] = attrs.field(factory=dict)
    signal: str | None = None
    axes: tuple[str, ...] = ()
    grid: tuple[int, ...] = ()  #: the shape of an n-D scan (GDA's ``scan_shape``), else ``()``

    def where(self, path: str) -> str:
        """The URL of a member: ``document#entry/path``."""
        return f"{self.document}#{'/'.join(p for p in (_path(self.entry), path) if p)}"

    def member(self, group: Any, name: str, path: str) -> Any | None:
        """The member ``name`` of ``group`` (at ``path`` in the scan group); ``None`` if absent or dangling."""
        absent = self.sources.link(group, name, path, self.where(path))
        if absent is not None:
            self.absent.setdefault(path, absent)
            return None
        try:
            return group[name]
        except KeyError:  # a dangling soft link, or not there
            return None
        except (RuntimeError, OSError) as exc:  # a link round a loop, a damaged object header
            raise CorruptDataError(f"{self.where(path)} cannot be followed: {exc}") from exc

    def members(self, group: Any, path: str) -> Iterator[tuple[str, str, Any]]:
        """``(name, path, node)`` of the members of ``group`` that can be read.

        In the document's order (HDF5: by name, or by creation where the file
        tracks it); Zarr stores list members in no fixed order, so by name.
        """
        every = group.group if isinstance(group, hdf5.ConfinedGroup) else group  # those it hides are reported
        for name in _ordered(every):
            sub = f"{path}/{name}".strip("/")
            node = self.member(group, name, sub)
            if node is not None:
                yield name, sub, node

    def readable(self, node: Any, path: str) -> bool:
        """Whether a dataset's data can be read (a virtual dataset's sources are there); recorded if not."""
        absent = self.sources.virtual(node, path, self.where(path))
        if absent is not None:
            self.absent.setdefault(path, absent)
        return absent is None

    def dims(self, node: Any) -> tuple[int, int]:
        """``(dimensions, length of the first)`` of a dataset, the grid of an n-D scan counted as one dimension."""
        shape = tuple(int(n) for n in node.shape)
        if len(self.grid) > 1 and shape[: len(self.grid)] == self.grid:
            return len(shape) - len(self.grid) + 1, math.prod(self.grid)
        return len(shape), shape[0] if shape else 0

    def take(self, name: str, path: str, node: Any, detector_name: str | None = None) -> None:
        """Keep a numeric dataset as a scalar, a counter or frames, by its number of dimensions."""
        if is_group(node) or not _numeric(node):
            return
        ndim, length = self.dims(node)
        if 3 <= ndim <= MAX_FRAME_DIMS:
            self.add_frames(detector_name or name, path, node)
        elif not self.readable(node, path):
            return
        elif ndim == 0:
            self.scalars.setdefault(name, path)
        elif ndim == 1:
            self.ones.setdefault(name, (path, length))
        elif ndim == 2 and detector_name is not None:
            self.images.setdefault(detector_name, path)
        elif ndim == 2:
            self.spectra.setdefault(name, (path, length))

    def add_frames(self, detector: str, path: str, node: Any) -> None:
        if detector not in self.frames:
            absent = self.sources.virtual(node, path, self.where(path))
            ndim, count = self.dims(node)
            shape = tuple(int(n) for n in node.shape[len(node.shape) - ndim + 1 :])
            self.frames[detector] = FrameSource(detector, path, count, absent=absent, shape=shape)

    def add_absent_frames(self, detector: str, path: str) -> bool:
        """Frames at ``path`` whose file is absent (an external link): recorded without a shape."""
        absent = self.absent.get(path)
        if absent is not None:
            self.frames.setdefault(detector, FrameSource(detector, path, None, absent=absent))
        return absent is not None

    def measurement(self) -> None:
        """``measurement/`` (BLISS, Sardana, silx): counters, and Sardana's ``pre_scan_snapshot`` positions."""
        group = _group(self.entry, "measurement")
        if group is None or _nx_class(group) == "NXdata":  # GDA's newer writer: an NXdata group, read as one
            return
        for name, path, node in self.members(group, "measurement"):
            if name == "pre_scan_snapshot" and is_group(node):
                for sub, sub_path, sub_node in self.members(node, path):
                    if not is_group(sub_node) and sub_node.ndim == 0:
                        self.scalars.setdefault(sub, sub_path)
            else:
                self.take(name, path, node)

    def nxdata(self) -> None:
        """The ``NXdata`` groups (GDA: one per detector): their datasets, and the default plot's signal and axes."""
        for group_name, group in self.nxdata_groups():
            declared = _attr(group, "signal")
            group_axes = _names(group.attrs.get("axes"))
            primary: list[str] = []
            for name, path, node in self.members(group, group_name):
                if is_group(node):
                    continue
                if declared is None and _attr(node, "signal") == "1":  # NeXus 1: the signal is marked on the dataset
                    declared = name
                    group_axes = group_axes or _names(node.attrs.get("axes"))
                if _attr(node, "primary") == "1":  # NeXus 1: an axis marked on the dataset
                    primary.append(name)
                self.take(name, path, node, detector_name=group_name)
            if declared is not None:
                self.add_absent_frames(group_name, f"{group_name}/{declared}")
            if self.signal is None and declared is not None:
                axes = group_axes or primary
                self.signal, self.axes = declared, tuple(a for a in axes if a in self.ones)

    def nxdata_groups(self) -> list[tuple[str, Any]]:
        """The entry's NXdata groups, the ``@default`` one first."""
        found = [(name, node) for name, _, node in self.members(self.entry, "") if is_group(node)]
        groups = [(name, node) for name, node in found if _nx_class(node) == "NXdata"]
        default = _attr(self.entry, "default")
        return sorted(groups, key=lambda item: item[0] != default)

    def instrument_data(self, instrument: str) -> None:
        """Without measurement and NXdata: each instrument group's ``data`` or ``value``."""
        for name, path, node in self.members(self.entry[instrument], instrument):
            if not is_group(node):
                continue
            for leaf in ("data", "value"):
                member = self.member(node, leaf, f"{path}/{leaf}")
                if member is not None and not is_group(member):
                    if self.dims(member)[0] != 2:
                        self.take(name, f"{path}/{leaf}", member)
                    break

    def positioner_groups(self, instrument: str | None) -> None:
        """``instrument/positioners`` and ``positioners_start``: fixed, or scanned with one position per point."""
        for group_path in (f"{instrument}/positioners", f"{instrument}/positioners_start"):
            group = _group(self.entry, group_path) if instrument else None
            for name, path, node in self.members(group, group_path) if group is not None else ():
                if not is_group(node) and node.ndim <= 1:
                    self.take(name, path, node)
                    self.positioners.add(name)

    def instrument(self, instrument: str) -> None:
        """Detectors' frames, positioners' fixed values and the storage ring's current, in the instrument group."""
        for name, path, node in self.members(self.entry[instrument], instrument):
            if not is_group(node):
                continue
            kind = _nx_class(node)
            if kind == "NXsource" or name in ("machine", "source"):
                self.ring_current(node, path)
            if kind == "NXpositioner":
                self.positioner(name, node, path)
            if kind == "NXdetector" or "data" in node or "image" in node or "image_data" in node:
                self.detector_frames(name, node, path)

    def ring_current(self, source: Any, path: str) -> None:
        current = self.member(source, "current", f"{path}/current")
        if current is None or is_group(current) or current.ndim > 1:
            return
        if _one_value(current):
            self.scalars.setdefault(MACHINE_CURRENT, f"{path}/current")
        else:
            self.take(MACHINE_CURRENT, f"{path}/current", current)

    def positioner(self, name: str, node: Any, path: str) -> None:
        """An ``NXpositioner``'s ``value`` (SOLEIL: ``raw_value``), where it is one value.

        A positioner of named states, one per point (Diamond I06's
        polarisation ``pol``: ``pc``, ``nc``), is a text counter marked as
        positioner; numeric values per point come from the ``NXdata`` groups.
        """
        for leaf in ("value", "raw_value"):
            value = self.member(node, leaf, f"{path}/{leaf}")
            if value is None or is_group(value):
                continue
            if _numeric(value) and _one_value(value):
                self.scalars.setdefault(name, f"{path}/{leaf}")
                return
            ndim, length = self.dims(value)
            if value.dtype.kind in "SUO" and ndim == 1 and length > 1:
                self.ones.setdefault(name, (f"{path}/{leaf}", length))
                self.positioners.add(name)
                return

    def detector_frames(self, name: str, node: Any, path: str) -> None:
        for leaf in ("data", "image"):
            member = self.member(node, leaf, f"{path}/{leaf}")
            if self.add_absent_frames(name, f"{path}/{leaf}"):
                return
            if member is None or is_group(member) or not _numeric(member):
                continue
            if 3 <= self.dims(member)[0] <= MAX_FRAME_DIMS:
                self.add_frames(name, f"{path}/{leaf}", member)
                return
            if self.dims(member)[0] == 2:
                self.images.setdefault(name, f"{path}/{leaf}")
                return
        files = self.member(node, "image_data", f"{path}/image_data")
        if files is not None and not is_group(files) and self.dims(files)[0] == 1 and not _numeric(files):
            self.frames.setdefault(name, FrameSource(name, f"{path}/image_data", self.dims(files)[1], kind="files"))

    def points(self) -> int:
        """Counters of the most common length (of two as common, the longer) are the points; else the frames'."""
        lengths = [n for _, n in self.ones.values()]
        if lengths:
            return max(set(lengths), key=lambda n: (lengths.count(n), n))
        counts = [f.count for f in self.frames.values() if f.count is not None]
        return counts[0] if counts else (1 if self.images else 0)

    def unequal(self, points: int) -> dict[str, int]:
        """Counters whose length is not ``points``, left out with a warning naming each: ``{name: length}``.

        Never cut or padded: a counter shorter than the others was not
        written to the end (a scan still being written, a detector that
        stopped), a longer one counts points the others lack; the scan's
        points are the length most counters have (`points`).
        """
        unequal = {name: n for name, (_, n) in self.ones.items() if n != points}
        if unequal:
            named = ", ".join(f"{name} ({n})" for name, n in unequal.items())
            warnings.warn(
                f"{self.where('')}: counters of another length than the scan's {points} points left out: {named}",
                DataWarning,
                stacklevel=5,
            )
            self.ones = {name: kept for name, kept in self.ones.items() if name not in unequal}
        return unequal

    def result(self, detector: str | None) -> Layout:
        """The layout: the points, and the detector chosen (default: the first)."""
        points = self.points()
        unequal = self.unequal(points)
        if not self.ones and not any(f.count for f in self.frames.values()):
            for name, path in self.images.items():  # no counters, no frames: a single exposure
                shape = tuple(int(n) for n in self.entry[path].shape)
                self.frames.setdefault(name, FrameSource(name, path, 1, kind="image", shape=shape))
        axes = tuple(a for a in self.axes or self.primary_axes() if a in self.ones)
        if detector is not None and detector not in self.frames:
            known = ", ".join(self.frames) or "none"
            raise MissingDataError(f"{self.where('')} has no frames of detector {detector!r}; it has {known}")
        chosen = self.frames[detector] if detector is not None else next(iter(self.frames.values()), None)
        frame_name = chosen.detector if chosen is not None else None
        short = sorted(name for name, (_, n) in self.spectra.items() if n < points)
        if short:
            warnings.warn(
                f"{self.where('')}: spectra {', '.join(short)} hold fewer than {points} points; left out",
                DataWarning,
                stacklevel=4,
            )
        return Layout(
            counters={name: path for name, (path, _) in self.ones.items()},
            scalars={name: path for name, path in self.scalars.items() if name not in self.ones},
            frames=chosen,
            points=points,
            signal=self.signal if self.signal in self.ones or self.signal == frame_name else None,
            axes=axes,
            left_out=unequal,
            positioners=frozenset(self.positioners & set(self.ones)),
            others=dict(self.others),
            absent=tuple(self.absent.values()),
            all_frames=tuple(self.frames.values()),
            grid=self.grid,
            spectra={name: path for name, (path, n) in self.spectra.items() if n >= points > 0},
        )

    def primary_axes(self) -> tuple[str, ...]:
        """The counters named by the entry's ``k-primary:N`` attributes (nx5d 3.x)."""
        primary = sorted((int(m.group(1)), str(key)) for key in self.entry.attrs if (m := _PRIMARY.fullmatch(str(key))))
        by_path = {path: name for name, (path, _) in self.ones.items()}
        names = [n for _, key in primary for n in _names(self.entry.attrs.get(key))]
        return tuple(
            dict.fromkeys(by_path.get(n.strip("/"), n) for n in names if by_path.get(n.strip("/"), n) in self.ones)
        )


def _group(entry: Any, path: str) -> Any | None:
    try:
        node = entry[path]
    except KeyError:
        return None
    return node if is_group(node) else None


def _instrument(entry: Any) -> str | None:
    """The name of the entry's ``NXinstrument`` group (``instrument``, SOLEIL's ``DIFFABS`` ...), if any."""
    if _group(entry, "instrument") is not None:
        return "instrument"
    for name in _ordered(entry):
        with contextlib.suppress(KeyError):
            if is_group(entry[name]) and _nx_class(entry[name]) == "NXinstrument":
                return name
    return None


#: Where GDA writes the shape of an n-D scan (``scan_shape``, the classic writer's ``scan_dimensions``).
GRID_PATHS = ("scan_shape", "diamond_scan/scan_shape", "scan_dimensions")


def _grid(entry: Any) -> tuple[int, ...]:
    """The shape of an n-D scan where the writer records it (two or more dimensions), else ``()``."""
    for path in GRID_PATHS:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            node = entry[path]
            if not is_group(node) and _numeric(node) and node.size <= 8:
                shape = tuple(int(n) for n in np.asarray(node[()]).ravel())
                return shape if len(shape) > 1 else ()
    return ()


def layout(entry: Any, where: str, *, root: str | None = None, detector: str | None = None) -> Layout:
    """Find the counters, positioners and frames of a scan group (see the module documentation).

    Sources, in order: ``measurement/``, the ``NXdata`` groups, (without
    either) the instrument groups' data, the positioner groups, and the
    instrument's detectors, positioners and ring current; a group holding
    none of these is read as the nx5d 3.x layout
    ([`nx5d_nexus.flat`][nx5d_nexus.flat]).  ``where`` is the scan's URL (its
    document part is used).
    """
    from nx5d_nexus import flat

    document = where.partition("#")[0]
    found = Found(Sources(document, root), document, entry, grid=_grid(entry))
    found.measurement()
    found.nxdata()
    instrument = _instrument(entry)
    if not found.ones and instrument is not None:
        found.instrument_data(instrument)
    found.positioner_groups(instrument)
    if instrument is not None:
        found.instrument(instrument)
    if not (found.ones or found.frames or found.images or found.absent):
        flat.find(found)
    return found.result(detector)


def text_of(dataset: Any) -> str:
    """The text of a small string (or scalar) dataset."""
    return _text(np.asarray(dataset[()]))


def _scalar_text(entry: Any, name: str) -> str:
    """A small string dataset of the scan group (``title`` ...), else its attribute of that name, else ``""``."""
    try:
        node = entry[name]
    except KeyError:
        return _attr(entry, name) or ""
    return "" if is_group(node) or node.size > 1 else text_of(node)


def command_of(entry: Any) -> str:
    """The scan command: GDA's ``scan_command``, else the title where it reads like a command, else ``""``."""
    for path in COMMAND_PATHS:
        command = _scalar_text(entry, path)
        if command:
            return command
    title = _scalar_text(entry, "title")
    return title if is_command(title) else ""


def headers(entry: Any) -> dict[str, str]:
    """The entry's ``k-header:*`` attributes (nx5d 3.x), by full name."""
    return {str(k): _text(v) for k, v in entry.attrs.items() if str(k).startswith("k-header:")}


def frame_shape(entry: Any, frames: FrameSource, where: str, storage: Storage | None = None) -> tuple[int, ...]:
    """One frame's shape: the frames dataset's, or for a list of frame files the first file's TIFF header.

    The list's first name is read and its file's header (with ``storage``,
    where the file is inside the repository and there); ``()`` where
    neither tells (frames in a file that is absent or cannot be read, no ``storage``).
    """
    if frames.shape or frames.kind != "files" or frames.absent is not None or storage is None:
        return frames.shape
    from nx5d_tiff.files import frame_file_shape

    listed = f"{where}/{frames.path}"
    first = _text(_read(entry[frames.path], listed, np.s_[:1])).strip()
    if not first:
        return ()
    urls, _ = frame_file_urls(Sources(where.partition("#")[0], storage.local_root), [first], frames.path, listed)
    if not urls:
        return ()
    try:
        return frame_file_shape(storage, urls[0]) or ()
    except (Nx5dError, OSError):  # not a file that can be read: loading the frames says so, naming it
        return ()


def summary(entry: Any, where: str, storage: Storage | None = None) -> dict[str, Any]:
    """Type, steps, notes (the title), start time, scanned motor (and its range, from the title), counters, sample,
    detector and its frame shape -- from names, shapes, small strings.

    The type and motor come from the scan command (GDA's ``scan_command``,
    else a title that reads like one), the motor else from the default
    plot's first axis.  ``state`` is ``"done"`` where the writer has written
    the scan's ``end_time`` (BLISS, GDA and Sardana write it when the scan
    ends).  The ``k-header:*`` values of nx5d 3.x scans are columns of their
    own (``k-header:sample`` as ``sample``).  A detector whose file is absent
    is still named: the summary never opens it.  ``frame_shape`` is one
    frame's ``[rows, cols]`` (``[k, rows, cols]`` for threshold images), from
    the frames dataset's shape -- a virtual dataset's too, its sources absent
    or not -- or, given the ``storage``, for a list of frame files (GDA's
    TIFFs) from the first file's header (`frame_shape`); frames in a file
    that is absent give none.  Counters of another length than the scan's points
    are left out of ``counters`` with a warning, as loading leaves them out.
    """
    found = layout(entry, where)
    title = _scalar_text(entry, "title")
    command = command_of(entry)
    notes = title or command
    out: dict[str, Any] = {
        "type": _attr(entry, "k-scan-type") or scan_type(command),
        "steps": found.points,
        "notes": notes if found.counters or found.frames else f"incomplete: no counters ({notes})".rstrip(" ()"),
        "start": _scalar_text(entry, "start_time") or _scalar_text(entry, "diamond_scan/start_time"),
        "motor": scanned_motor(command) or (_base(found.axes[0]) or found.axes[0] if found.axes else ""),
    }
    span = scanned_range(title)
    if span is not None:
        out["range"] = list(span)
    out["counters"] = list(found.counters)
    sample = _scalar_text(entry, "sample/name")
    if sample:
        out["sample"] = sample
    if found.frames is not None:
        out["detector"] = found.frames.detector
        shape = frame_shape(entry, found.frames, where, storage)
        if shape:
            out["frame_shape"] = list(shape)
    if _scalar_text(entry, "end_time"):
        out["state"] = "done"  # written when the scan ends
    for key, value in headers(entry).items():
        name = key.removeprefix("k-header:")
        out[name if name not in out else key] = value
    return out


def _read(node: Any, where: str, selection: Any = ()) -> np.ndarray:
    if hasattr(node, "id"):  # h5py
        return hdf5.read(node, where, selection)
    return zarrdoc.read(node, where, selection)


def _attrs_of(node: Any, original: str) -> dict[str, str]:
    out = {"long_name": _attr(node, "long_name") or original}
    units = _attr(node, "units")
    if units and units.strip():
        out["units"] = units
    return out


def frame_guard(entry: Any, points: int, where: str) -> int:
    """How many points the entry's ``k-frame-guard`` trusts (nx5d 3.x): a number, or a dataset named by it.

    A dataset named by the guard counts by its length, or by its value when it
    is a scalar; a guard naming nothing the group holds is an error.
    """
    guard = entry.attrs.get("k-frame-guard")
    if guard is None:
        return points
    value = np.asarray(guard).ravel()
    if value.size and np.issubdtype(value.dtype, np.number):
        return max(0, min(points, int(value[0])))
    name = _text(guard).strip("/")
    try:
        node = entry[name]
    except KeyError:
        raise CorruptDataError(f"{where}: k-frame-guard names {name!r}, which the scan group does not hold") from None
    if is_group(node):
        raise CorruptDataError(f"{where}: k-frame-guard names {name!r}, a group, not a dataset")
    trusted = int(np.asarray(_read(node, f"{where}/{name}")).ravel()[0]) if node.ndim == 0 else int(node.shape[0])
    return max(0, min(points, trusted))


def _frames_array(
    storage: Storage,
    document: str,
    path: str,
    node: Any,
    points: int,
    region: Region,
    lazy: bool | None,
    chunk: int | None = None,
    grid: int = 1,
) -> tuple[Any, tuple[int, int]]:
    """The first ``points`` frames of ``node``; its first ``grid`` dimensions are the scan's (n-D: flattened)."""
    where = f"{document}#{path}"
    check_frame_size(tuple(int(n) for n in node.shape[grid:]), node.dtype, None, where)  # the limits every format keeps
    shape = (int(node.shape[-2]), int(node.shape[-1]))
    rows, cols = region.slices(shape)
    frame_bytes = math.prod(node.shape[grid:]) * np.dtype(node.dtype).itemsize
    if lazy is None:
        lazy = points * frame_bytes > LAZY_BYTES
    selection = np.s_[:points, ..., rows, cols] if grid == 1 else np.s_[..., rows, cols]
    frames: Any
    if not lazy:
        check_memory((points, *selected_shape(tuple(node.shape[grid:]), np.s_[..., rows, cols])), node.dtype, where)
        frames = _read(node, where, selection)
    elif hasattr(node, "id"):
        made = hdf5.lazy_array(storage, document, "/" + path, node, length=points if grid == 1 else None)
        frames = made[selection]
    else:
        frames = zarrdoc.lazy_array(node, where)[selection]
    if grid > 1:
        frames = frames.reshape(-1, *frames.shape[grid:])[:points]
    if lazy and chunk is not None:
        frames = frames.rechunk({0: chunk})
    if lazy and hasattr(node, "id") and frames.name == made.name and _decodes_frame_by_frame(node):
        # whole frames of a 1-D scan, as read from the file: dask reads just the frames a block slices out of it,
        # so it is streamed a few frames at a time (a region, a reshape or new chunks would compute whole chunks)
        frames = with_sliceable_frames(frames)
    return frames, shape


def _decodes_frame_by_frame(node: Any) -> bool:
    """Whether reading a few frames of the HDF5 dataset ``node`` decodes just those: stored contiguously, or in
    chunks of frames that a block of `STREAM_FRAMES` holds whole (a virtual dataset's sources' chunks are not
    known here: no)."""
    if node.is_virtual:
        return False
    return node.chunks is None or STREAM_FRAMES % int(node.chunks[0]) == 0


def _base(original: str) -> str | None:
    """The variable name of an array kept by its path (nx5d 3.x groups): the nested names joined."""
    from nx5d_nexus.flat import variable_name

    return variable_name(original) if "/" in original else None


@attrs.define
class _Reader:
    """Builds one scan's Dataset from its layout (`scan_dataset`)."""

    storage: Storage
    document: str
    entry: Any
    found: Layout
    base: str
    names: VariableNames
    data: dict[str, Any] = attrs.field(factory=dict)
    renamed: dict[str, str] = attrs.field(factory=dict)

    def counters(self, points: int) -> None:
        for original, path in self.found.counters.items():
            node = self.entry[path]
            name = self.names.name(original, "counter", base=_base(original))
            self.renamed[original] = name
            kind = {"kind": "positioner"} if original in self.found.positioners else {}
            # no more than the points (a frame guard may trust fewer than the counters hold)
            selection = np.s_[:points] if node.ndim == 1 else ()
            values = _read(node, f"{self.base}/{path}", selection).reshape(-1)[:points]
            if values.dtype.kind in "SO":  # text (named states): as str
                values = np.array([_text(v) for v in values], dtype=str)
            self.data[name] = xr.Variable("index", values, {**_attrs_of(node, original), **kind})

    def spectra(self, points: int) -> None:
        """A line detector's or MCA's spectra: ``(index, <name>_channel)``."""
        for original, path in self.found.spectra.items():
            node = self.entry[path]
            name = self.names.name(original, "spectrum")
            values = _read(node, f"{self.base}/{path}")[:points]
            self.data[name] = xr.Variable(("index", f"{name}_channel"), values, _attrs_of(node, original))

    def scalars(self) -> None:
        for original, path in self.found.scalars.items():
            node = self.entry[path]
            value = _read(node, f"{self.base}/{path}")
            value = value.reshape(()) if value.shape == (1,) else value
            name = self.names.name(original, "motor", base=_base(original))
            self.data[name] = xr.Variable((), value, _attrs_of(node, original))

    def energy(self, points: int) -> None:
        """The photon energy the scan group states (`nx5d_nexus.energy`), in eV: one value, or one per point."""
        found = photon_energy(self.entry, _instrument(self.entry), self.found.points)
        if found is None:
            return
        name = self.names.name(PHOTON_ENERGY, "motor")
        values = found.values[:points] if found.values.ndim else found.values
        source = f"{found.path} ({found.units or 'no units; by its size'})"
        attributes = {"long_name": "photon energy", "units": "eV", "source": source}
        self.data[name] = xr.Variable(("index",) if values.ndim else (), values, attributes)

    def others(self, points: int) -> None:
        """Arrays of other shapes (nx5d 3.x groups): on ``index`` where their first axis is the points."""
        for original, path in self.found.others.items():
            node = self.entry[path]
            name = self.names.name(original, "array", base=_base(original))
            first = "index" if node.shape[0] == points else f"{name}_dim0"
            dims = (first, *(f"{name}_dim{i}" for i in range(1, node.ndim)))
            self.data[name] = xr.Variable(dims, _read(node, f"{self.base}/{path}"), _attrs_of(node, original))

    def frames(self, source: FrameSource, points: int, options: dict[str, Any]) -> None:
        """The chosen detector's frames as ``images`` (the counters cut to the frames written, with a warning)."""
        node = self.entry[source.path]
        region = options["region"]
        if source.kind == "files":
            images, shape = self.frame_files(node, source, options)
        elif source.kind == "image":
            shape = (int(node.shape[0]), int(node.shape[1]))
            rows, cols = region.slices(shape)
            images = _read(node, f"{self.base}/{source.path}", np.s_[rows, cols])[np.newaxis]
        else:
            usable = frame_guard(self.entry, int(source.count or 0), self.base)
            if hasattr(node, "id") and node.shape[0] == source.count:  # HDF5 along points: a frame the writer
                # has made room for but not written is not read
                usable = min(usable, hdf5.written_length(node, f"{self.base}/{source.path}"))
            images, shape = _frames_array(
                self.storage, self.document, f"{_path(self.entry)}/{source.path}", node,
                min(usable, points) if self.found.counters else usable, region, options["lazy"], options["chunk"],
                grid=max(1, len(self.found.grid)) if node.shape[: len(self.found.grid)] == self.found.grid else 1,
            )  # fmt: skip
        if self.found.counters and images.shape[0] < points:
            warnings.warn(
                f"{self.base}: {images.shape[0]} detector frames for {points} counter values "
                f"(scan still being written?); using the first {images.shape[0]}",
                DataWarning,
                stacklevel=4,
            )
            cut = images.shape[0]
            self.data = {k: (v[:cut] if v.dims[:1] == ("index",) else v) for k, v in self.data.items()}
        elif self.found.counters and images.shape[0] > points:
            images = images[:points]
        attributes = {"detector": source.detector, **_attrs_of(node, source.detector)}
        if source.kind == "files":
            attributes["long_name"] = source.detector
        self.data["images"] = frames_array(images, shape, region, attrs=attributes)

    def frame_files(self, node: Any, source: FrameSource, options: dict[str, Any]) -> tuple[Any, tuple[int, int]]:
        """GDA's list of frame files, read with nx5d-tiff (relative to the document, inside the repository)."""
        from nx5d_tiff.files import lazy_frames, load_frames
        from nx5d_tiff.tiff import tifffile_fallback

        urls = list(source.urls)
        if options["lazy"]:
            loaded = lazy_frames(self.storage, urls, region=options["region"], fallback=tifffile_fallback,
                                 chunk=options["chunk"] or 64)  # fmt: skip
        else:
            loaded = load_frames(self.storage, urls, region=options["region"], fallback=tifffile_fallback)
        return loaded.data, loaded.frame_shape

    def attributes(self, url: str) -> dict[str, Any]:
        signal = self.found.signal or ""
        out = {
            "title": _scalar_text(self.entry, "title"),
            "command": command_of(self.entry),
            "start_time": _scalar_text(self.entry, "start_time"),
            "end_time": _scalar_text(self.entry, "end_time"),
            "sample": _scalar_text(self.entry, "sample/name"),
            "url": url,
            "signal": self.renamed.get(signal, signal),
            **headers(self.entry),
            **orientation_attrs(self.entry, self.base),
        }
        if "images" in self.data:
            out["detector"] = self.data["images"].attrs["detector"]
        return out


def _frame_files(found: Layout, entry: Any, base: str, sources: Sources) -> Layout:
    """The layout with the chosen detector's list of frame files read, and `Absent` where the first is missing."""
    chosen = found.frames
    if chosen is None or chosen.kind != "files":
        return found
    where = f"{base}/{chosen.path}"
    names = [_text(v) for v in _read(entry[chosen.path], where).ravel()]
    urls, absent = frame_file_urls(sources, names, chosen.path, where)
    resolved = attrs.evolve(chosen, absent=absent, urls=tuple(urls))
    others = tuple(resolved if f is chosen else f for f in found.all_frames)
    return attrs.evolve(found, frames=resolved, all_frames=others)


def _without_absent(found: Layout, base: str, detector: str | None, frames: bool) -> tuple[Layout, str]:
    """The layout to read when parts of the scan lie in files that cannot be read.

    A detector named explicitly (``detector=...``) whose frames are absent
    raises their error.  Otherwise the absent parts are left out with one
    warning that names each absent file once -- the frames' only where frames
    were asked for -- and counters and positions are read.  Returns the
    layout and what was left out (``""``: nothing).
    """
    chosen = found.frames
    if chosen is not None and chosen.absent is not None and detector is not None and frames:
        raise chosen.absent.error
    frame_files = {f.absent.target for f in found.all_frames if f.absent is not None}
    by_file: dict[str, Absent] = {}
    for absent in (*found.absent, *(f.absent for f in found.all_frames if f.absent is not None)):
        if frames or absent.target not in frame_files:
            by_file.setdefault(absent.target, absent)
    what = "; ".join(a.message for a in by_file.values())
    if what:
        warnings.warn(f"{base}: read without what is kept in other files: {what}", DataWarning, stacklevel=4)
    if chosen is not None and chosen.absent is not None:
        return attrs.evolve(found, frames=None), what
    return found, what


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
    dataset sources, frame files) is read only inside the storage's root;
    where such a file is absent, the rest is read with a warning naming it,
    unless ``detector`` names the detector whose frames it holds (then its
    [`MissingDataError`][nx5d.errors.MissingDataError] is raised).
    """
    document, _, anchor = url.partition("#")
    with open_tree(storage, document) as tree:
        entry = entry_of(tree, anchor.strip("/"), document, confined=storage.local_root)
        base = f"{document}#{_path(entry)}"
        sources = Sources(document, storage.local_root)
        found = layout(entry, base, root=storage.local_root, detector=detector)
        if frames:
            found = _frame_files(found, entry, base, sources)
        found, left_out = _without_absent(found, base, detector, frames)
        points = found.points
        if found.counters and "k-frame-guard" in entry.attrs and not (frames and found.frames):
            points = frame_guard(entry, points, base)
        chosen = found.frames if frames else None
        extra = entry[chosen.path].ndim - 3 if chosen is not None and chosen.kind == "array" else 0
        dims = ("index", *EXTRA_FRAME_DIMS[:extra], "y", "x") if chosen is not None else ("index",)
        reader = _Reader(storage, document, entry, found, base, VariableNames(base, dims))
        reader.counters(points)
        reader.spectra(points)
        reader.scalars()
        reader.energy(points)
        reader.others(points)
        if chosen is not None:
            reader.frames(chosen, points, {"region": region or Region(), "lazy": lazy, "chunk": chunk})
        attributes = reader.attributes(url)
        if left_out:
            attributes["absent"] = left_out
    dataset = xr.Dataset(reader.data, attrs=attributes)
    axes = [reader.renamed[a] for a in found.axes if a in reader.renamed]
    return dataset.set_coords(axes) if axes else dataset
