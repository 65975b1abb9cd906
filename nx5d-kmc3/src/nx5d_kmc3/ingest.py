"""Ingest: SPEC file + one TIFF per frame -> scans in the KMC3 HDF5 layout.

New scans are appended to an existing file; scans already there are never
touched.  Each scan is written into a hidden group (``.partial-N.1``) and
renamed to ``N.1`` only when complete and flushed, so an interrupted ingest
leaves the file readable with every finished scan and no half scan visible;
the next ingest removes the leftover and writes the scan again.
"""

from __future__ import annotations

import os
import posixpath
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs
import h5py
import numpy as np

from nx5d.errors import CorruptDataError, DataWarning, MissingDataError, StorageError
from nx5d.toolkit import Storage, VariableNames
from nx5d_spec.parser import SpecScan, read_index, read_scan
from nx5d_tiff.files import load_frames
from nx5d_tiff.tiff import tifffile_fallback

from .layout import (
    DEFAULT_DETECTOR,
    MACHINE_CURRENT,
    MEASUREMENT,
    POSITIONERS,
    SPECFILE,
    START_TIME,
    TITLE,
    detector_path,
    ring_current_label,
)
from .specscan import find_frames

__all__ = ["IngestReport", "ingest", "PARTIAL_PREFIX"]

#: Name prefix of scan groups still being written.
PARTIAL_PREFIX = ".partial-"

#: Called after each block of frames with the scan key and the frames written so far.
Progress = Callable[[str, int], None]


@attrs.frozen
class IngestReport:
    """What an ingest did."""

    written: tuple[str, ...]  #: scan keys written
    skipped: tuple[str, ...]  #: scan keys already in the file


def _string(group, name: str, text: str) -> None:
    group.create_dataset(name, data=text, dtype=h5py.string_dtype("utf-8"))


def _write_scan(
    h5file: h5py.File,
    path: str,
    scan: SpecScan,
    urls: Sequence[str],
    *,
    where: str,
    detector: str,
    block: int,
    progress: Progress | None,
) -> None:
    parent, name = posixpath.split(path.strip("/"))
    partial = posixpath.join(parent, PARTIAL_PREFIX + name) if parent else PARTIAL_PREFIX + name
    if partial in h5file:
        del h5file[partial]
    group = h5file.create_group(partial)
    _string(group, TITLE, scan.command)
    _string(group, START_TIME, scan.date or "")
    measurement = group.create_group(MEASUREMENT)
    counters = VariableNames(f"{where}, scan {scan.key}")
    for k, label in enumerate(scan.labels):
        dataset = measurement.create_dataset(_h5_name(counters.name(label, "counter")), data=scan.data[:, k])
        dataset.attrs["long_name"] = label
    positioners = group.create_group(POSITIONERS)
    motors = VariableNames(f"{where}, scan {scan.key}")
    for motor, position in scan.positions.items():
        values = scan.column(motor) if motor in scan.labels else np.float64(position)
        positioners.create_dataset(_h5_name(motors.name(motor, "motor")), data=values).attrs["long_name"] = motor
    _string(group, f"{SPECFILE}/scan_header", "\n".join(scan.header))
    _string(group, f"{SPECFILE}/file_header", "\n".join(scan.file_header.lines))
    ring = ring_current_label(scan.labels)
    if ring is not None:
        group.create_dataset(MACHINE_CURRENT, data=scan.column(ring))
    storage = Storage()
    images = None
    for start in range(0, len(urls), block):
        frames = load_frames(
            storage, urls[start : start + block], fallback=tifffile_fallback, desc=f"ingest {scan.key}"
        )
        data = np.asarray(frames.data)
        if images is None:
            images = group.create_dataset(
                detector_path(detector),
                shape=(len(urls), *data.shape[1:]),
                dtype=data.dtype,
                chunks=(1, *data.shape[1:]),
                compression="gzip",
                compression_opts=1,
            )
        elif data.shape[1:] != images.shape[1:]:
            raise CorruptDataError(f"frame {urls[start]} is {data.shape[1:]}, earlier frames are {images.shape[1:]}")
        images[start : start + len(data)] = data
        if progress is not None:
            progress(scan.key, start + len(data))
    h5file.flush()
    h5file.move(partial, path.strip("/"))
    h5file.flush()


def _h5_name(name: str) -> str:
    """An HDF5 member name (no ``/``) for a variable name."""
    return name.replace("/", "_")


def ingest(
    spec_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    tiffs: str = "auto",
    scans: Iterable[str] | None = None,
    group: str = "{scan}",
    detector: str = DEFAULT_DETECTOR,
    block: int = 256,
    progress: Progress | None = None,
) -> IngestReport:
    """Convert the scans of ``spec_file`` (with their TIFF frames) into the HDF5 file ``out``.

    Counter and motor names are the SPEC names with white space as ``_``; a
    label that repeats in ``#L`` gets ``_2`` (with a warning), and each
    dataset's ``long_name`` attribute is the name as written.

    Parameters
    ----------
    tiffs:
        Where each scan's frames are, relative to the SPEC file's folder (or
        absolute), with ``{spec}`` (the SPEC file's name without extension),
        ``{fname}`` (that of the name in its ``#F`` line), ``{scan}`` (scan
        number) and ``{frame}`` (0-based frame index); ``"auto"`` tries
        `nx5d_kmc3.options.TIFF_LAYOUTS`.  Scans without frames are
        written without images, with a warning.
    scans:
        Keys (``N.1``) to ingest; default: all.
    group:
        Where a scan goes inside ``out``: ``"{scan}"`` (default, top-level
        ``N.1`` groups), ``"{scan}/data"``, ``"alfa/{scan}"`` ...
    detector:
        Name of the detector group under ``instrument/``.
    progress:
        Called as ``progress(scan_key, frames_written)``.

    """
    spec_path = Path(spec_file).resolve()
    url = f"file://{spec_path}"
    storage = Storage()
    index = read_index(storage, url)
    wanted = None if scans is None else set(scans)
    unknown = sorted((wanted or set()) - set(index.keys()))
    if unknown:
        raise MissingDataError(f"{spec_path} has no scan(s) {', '.join(unknown)}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    try:
        h5file = h5py.File(out, "a")
    except OSError as exc:
        raise StorageError(f"cannot open {out} for appending scans: {exc}") from exc
    with h5file:
        for key in index.keys():
            if wanted is not None and key not in wanted:
                continue
            path = group.format(scan=key)
            if path.strip("/") in h5file:
                skipped.append(key)
                continue
            scan = read_scan(storage, url, key, index)
            urls = find_frames(storage, url, scan.number, scan.file_header.file_name or "", scan.points, tiffs)
            if not urls and scan.points:
                warnings.warn(
                    f"{url}#{key}: no frames found (tiffs={tiffs!r}); written without images", DataWarning, stacklevel=2
                )
            _write_scan(h5file, path, scan, urls, where=url, detector=detector, block=block, progress=progress)
            written.append(key)
    return IngestReport(tuple(written), tuple(skipped))
