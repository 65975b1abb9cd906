"""Generate HDF5 / NeXus / Zarr repositories in the layouts facilities write, for tests and demos.

Every scan is a rocking curve (``eta``) across a reflection on an area
detector, with a monitor, an ROI counter and fixed positioners.  With
``thresholds=N`` the detector writes N threshold images per point, as an
Eiger does: frames ``(points, N, rows, cols)``, the photons counted above
each higher threshold a random part of those above the first.  Each
layout states the photon energy (`ENERGY_KEV`) in another of the places
and units facilities use.  Layouts:

``bliss``
    ESRF BLISS dataset files: one ``{proposal}.h5`` per proposal, scans
    ``N.1``; counters and frames under ``instrument/``, soft links in
    ``measurement/``, ``positioners_start``, an ``NXdata`` ``plotselect``,
    ``instrument/monochromator/energy`` in keV;
    frames (``vds=True``) as a virtual dataset reading from
    ``scanNNNN/mpx_0000.h5``, as Lima writes them.
``gda``
    Diamond GDA: one ``{scan}.nxs`` per scan with ``entry1``: an
    ``NXdata`` group per detector (``pil``: frames and the ``eta`` axis) and
    one for the counters, ``instrument/name``, ``sample/beam/incident_energy``
    (keV, without units, as GDA writes it).
``zarr``
    The ``bliss`` layout in a Zarr group per proposal (``{proposal}.zarr``),
    without links; title and start time as attributes; the wavelength
    (Å) as ``instrument/monochromator/wavelength``.

`write_repository` returns the repository's URL pattern.  Equal
arguments give equal data.  Command line: ``nx5d-nexus-synth FOLDER``.
`write_growing` writes one ``bliss`` scan point by point, as a beamline's
writer does while the scan is measured (HDF5 SWMR mode).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LAYOUTS", "FRAME_SHAPE", "ENERGY_KEV", "scan_data", "write_repository", "write_growing", "main"]

LAYOUTS = ("bliss", "gda", "zarr")
FRAME_SHAPE = (24, 32)
POSITIONERS = {"delta": 34.48, "nu": 0.0, "phi": 0.0, "chi": 0.0}
#: The photon energy every generated scan states, in keV.
ENERGY_KEV = 11.5
#: hc in keV Å (wavelength = hc / energy), as NIST's CODATA 2018 gives it.
_HC_KEV_ANGSTROM = 12.398419843320026


def scan_data(
    number: int, points: int = 21, frame_shape: tuple[int, int] = FRAME_SHAPE, seed: int = 0, thresholds: int = 1
) -> dict:
    """The counters, positioners and frames of one generated rocking curve."""
    rng = np.random.default_rng(seed + number)
    eta = np.round(np.linspace(16.9, 17.7, points) + 0.01 * number, 5)
    peak = 2000.0 * np.exp(-((eta - 17.24 - 0.01 * number) ** 2) / (2 * 0.08**2))
    monitor = rng.poisson(1.0e5, points).astype(float)
    rows, cols = np.indices(frame_shape)
    spot = np.exp(-((rows - frame_shape[0] / 2) ** 2 + (cols - frame_shape[1] / 3) ** 2) / 6.0)
    frames = rng.poisson(0.05 + peak[:, None, None] * spot[None] / spot.sum() * 40).astype(np.int32)
    roi = frames.reshape(points, -1).sum(axis=1).astype(float)
    if thresholds > 1:  # each higher threshold counts a part of the photons above the one before
        images = [frames]
        for _ in range(thresholds - 1):
            images.append(rng.binomial(images[-1], 0.4).astype(np.int32))
        frames = np.stack(images, axis=1)
    return {
        "title": f"ascan eta {eta[0]:g} {eta[-1]:g} {points - 1} 1",
        "start_time": f"2023-03-08T03:{10 + number:02d}:00+01:00",
        "counters": {
            "eta": eta,
            "mon": monitor,
            "roi1": roi,
            "epoch": 1678241400.0 + 1.2 * np.arange(points) + 60 * number,
        },
        "units": {"eta": "deg", "mon": "counts", "epoch": "s"},
        "positioners": dict(POSITIONERS),
        "frames": frames,
    }


def _chunks(frames: np.ndarray, per_chunk: int) -> tuple[int, ...]:
    """Chunks of ``per_chunk`` frames (at least one, at most all), each frame whole."""
    return (max(1, min(per_chunk, len(frames))), *frames.shape[1:])


def _bliss_scan(
    h5: Any, key: str, data: Mapping[str, Any], folder: Path, vds: bool, grow: bool = False, per_chunk: int = 1
) -> None:
    """One scan in the BLISS layout; ``grow``: its counters and frames extensible along the points."""
    import h5py

    def extensible(values: np.ndarray) -> dict[str, Any]:
        return {"maxshape": (None, *values.shape[1:])} if grow else {}

    entry = h5.create_group(key)
    entry.attrs.update(NX_class="NXentry", default="plotselect")
    entry["title"] = data["title"]
    entry["start_time"] = data["start_time"]
    entry["sample/name"] = "PTO_STO_SL"
    instrument = entry.create_group("instrument")
    instrument.attrs["NX_class"] = "NXinstrument"
    measurement = entry.create_group("measurement")
    measurement.attrs["NX_class"] = "NXcollection"
    for name, values in data["counters"].items():
        group = instrument.create_group(name)
        group.attrs["NX_class"] = "NXpositioner" if name == "eta" else "NXdetector"
        leaf = "value" if name == "eta" else "data"
        dataset = group.create_dataset(leaf, data=values, chunks=(64,) if grow else None, **extensible(values))
        if name in data["units"]:
            dataset.attrs["units"] = data["units"][name]
        measurement[name] = h5py.SoftLink(f"/{key}/instrument/{name}/{leaf}")
    detector = instrument.create_group("mpx")
    detector.attrs["NX_class"] = "NXdetector"
    frames = data["frames"]
    if vds:
        number = int(key.split(".")[0])
        source = folder / f"scan{number:04d}" / "mpx_0000.h5"
        source.parent.mkdir(parents=True, exist_ok=True)
        with h5py.File(source, "w") as lima:
            lima.create_dataset("entry_0000/instrument/mpx/data", data=frames, chunks=_chunks(frames, per_chunk))
        layout = h5py.VirtualLayout(shape=frames.shape, dtype=frames.dtype)
        layout[:] = h5py.VirtualSource(
            os.path.relpath(source, folder), "entry_0000/instrument/mpx/data", shape=frames.shape
        )
        detector.create_virtual_dataset("image", layout)
    else:
        detector.create_dataset(
            "image", data=frames, chunks=_chunks(frames, per_chunk), compression="gzip", **extensible(frames)
        )
    measurement["mpx"] = h5py.SoftLink(f"/{key}/instrument/mpx/image")
    start = instrument.create_group("positioners_start")
    for name, value in data["positioners"].items():
        start[name] = value
    monochromator = instrument.create_group("monochromator")
    monochromator.attrs["NX_class"] = "NXmonochromator"
    monochromator.create_dataset("energy", data=ENERGY_KEV).attrs["units"] = "keV"
    plot = entry.create_group("plotselect")
    plot.attrs.update(NX_class="NXdata", signal="roi1", axes=np.array(["eta"], dtype=object))
    plot["roi1"] = h5py.SoftLink(f"/{key}/instrument/roi1/data")
    plot["eta"] = h5py.SoftLink(f"/{key}/instrument/eta/value")


def _gda_scan(h5: Any, data: Mapping[str, Any], per_chunk: int = 1) -> None:
    entry = h5.create_group("entry1")
    entry.attrs.update(NX_class="NXentry", default="plotted")
    entry["title"] = data["title"]
    entry["start_time"] = data["start_time"]
    instrument = entry.create_group("instrument")
    instrument.attrs["NX_class"] = "NXinstrument"
    instrument["name"] = "i16"
    beam = entry.create_group("sample/beam")
    beam.attrs["NX_class"] = "NXbeam"
    beam["incident_energy"] = np.array([ENERGY_KEV])  # no units: GDA's
    detector = instrument.create_group("pil")
    detector.attrs["NX_class"] = "NXdetector"
    detector.create_dataset("data", data=data["frames"], chunks=_chunks(data["frames"], per_chunk))
    eta = instrument.create_group("eta")
    eta.attrs["NX_class"] = "NXpositioner"
    eta.create_dataset("value", data=data["counters"]["eta"]).attrs["units"] = "deg"
    for name, value in data["positioners"].items():
        positioner = instrument.create_group(name)
        positioner.attrs["NX_class"] = "NXpositioner"
        positioner["value"] = value
    frames = entry.create_group("pil")
    axes = ["eta"] + ["."] * (data["frames"].ndim - 1)
    frames.attrs.update(NX_class="NXdata", signal="data", axes=np.array(axes, dtype=object))
    frames["data"] = detector["data"]
    frames["eta"] = eta["value"]
    plotted = entry.create_group("plotted")
    plotted.attrs.update(NX_class="NXdata", signal="roi1", axes=np.array(["eta"], dtype=object))
    plotted["eta"] = eta["value"]
    for name in ("mon", "roi1", "epoch"):
        plotted.create_dataset(name, data=data["counters"][name])


def _zarr_scan(root: Any, key: str, data: Mapping[str, Any], per_chunk: int = 1) -> None:
    entry = root.create_group(key)
    entry.attrs.update(
        {"NX_class": "NXentry", "default": "plotselect", "title": data["title"], "start_time": data["start_time"]}
    )
    measurement = entry.create_group("measurement")
    for name, values in data["counters"].items():
        array = measurement.create_array(name, data=values)
        if name in data["units"]:
            array.attrs["units"] = data["units"][name]
    measurement.create_array("mpx", data=data["frames"], chunks=_chunks(data["frames"], per_chunk))
    start = entry.create_group("instrument/positioners_start")
    for name, value in data["positioners"].items():
        start.create_array(name, data=np.array(value))
    monochromator = entry.create_group("instrument/monochromator")
    monochromator.attrs["NX_class"] = "NXmonochromator"
    wavelength = monochromator.create_array("wavelength", data=np.array(_HC_KEV_ANGSTROM / ENERGY_KEV))
    wavelength.attrs["units"] = "angstrom"


def write_repository(
    root: str | os.PathLike[str],
    proposals: Mapping[str, Sequence[int]],
    layout: str = "bliss",
    *,
    points: int = 21,
    vds: bool = False,
    seed: int = 0,
    thresholds: int = 1,
    frame_shape: tuple[int, int] = FRAME_SHAPE,
    frames_per_chunk: int = 1,
) -> str:
    """Write scans (numbers per proposal) in ``layout`` under ``root``; returns the URL pattern to open.

    ``frame_shape``: the detector's ``(rows, cols)``.  ``frames_per_chunk``:
    frames per HDF5 / Zarr chunk of the frames, as writers that chunk several
    frames together store them (1: one frame per chunk).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    root = Path(root).resolve()

    def made(number: int) -> dict:
        return scan_data(number, points, frame_shape, seed=seed, thresholds=thresholds)

    for proposal, numbers in proposals.items():
        folder = root / proposal
        folder.mkdir(parents=True, exist_ok=True)
        if layout == "zarr":
            import zarr

            group = zarr.open_group(str(root / f"{proposal}.zarr"), mode="w")
            for number in numbers:
                _zarr_scan(group, f"{number}.1", made(number), frames_per_chunk)
            continue
        import h5py

        if layout == "bliss":
            with h5py.File(folder / f"{proposal}.h5", "w") as h5:
                h5.attrs.update(NX_class="NXroot", creator="nx5d-nexus-synth (BLISS layout)")
                for number in numbers:
                    _bliss_scan(h5, f"{number}.1", made(number), folder, vds, per_chunk=frames_per_chunk)
        else:
            for number in numbers:
                with h5py.File(folder / f"{number:05d}.nxs", "w") as h5:
                    h5.attrs["NX_class"] = "NXroot"
                    _gda_scan(h5, made(number), frames_per_chunk)
    return {
        "bliss": f"file://{root}/{{proposal}}/{{proposal}}.h5#{{scan}}",
        "gda": f"file://{root}/{{proposal}}/{{scan}}.nxs",
        "zarr": f"file://{root}/{{proposal}}.zarr#{{scan}}",
    }[layout]


def write_growing(
    path: str | os.PathLike[str],
    number: int = 1,
    points: int = 21,
    *,
    interval: float = 0.0,
    pause: float = 0.0,
    log: str | os.PathLike[str] | None = None,
    seed: int = 0,
    stop: int | None = None,
) -> None:
    """Write scan ``{number}.1`` of `scan_data` into a new ``bliss`` file at ``path``, one point at a time.

    The file is written in HDF5's SWMR mode, its datasets growing point by
    point: for each, the counters are extended and written, then the
    detector's frames are extended, flushed, and -- ``pause`` seconds later,
    as a detector's writer that makes room before its frame arrives -- the
    frame is written and flushed; then ``interval`` seconds pass.  After the
    last point the file is closed and opened again to write the scan's
    ``end_time``, as BLISS does when the scan ends.  With ``log``, the time
    (``time.time()``) each point was completely written is appended to that
    file, a line per point.  ``stop``: leave the file as a reader finds it
    in the middle of point ``stop`` (counted from 0): its counters written,
    room made for its frame, the frame not written, no ``end_time``.  Equal
    arguments write equal data.
    """
    import time

    import h5py

    data = scan_data(number, points, seed=seed)
    key, frames = f"{number}.1", data["frames"]
    with h5py.File(path, "w", libver="latest") as h5:
        h5.attrs.update(NX_class="NXroot", creator="nx5d-nexus-synth (BLISS layout, written while measured)")
        empty = {**data, "counters": {name: values[:0] for name, values in data["counters"].items()}}
        _bliss_scan(h5, key, {**empty, "frames": frames[:0]}, Path(path).parent, vds=False, grow=True)
        counters = {name: h5[f"{key}/measurement/{name}"] for name in data["counters"]}
        image = h5[f"{key}/instrument/mpx/image"]
        h5.swmr_mode = True
        for i in range(points):
            for name, dataset in counters.items():
                dataset.resize(i + 1, axis=0)
                dataset[i] = data["counters"][name][i]
            image.resize(i + 1, axis=0)
            h5.flush()
            if i == stop:
                return
            time.sleep(pause)
            image[i] = frames[i]
            h5.flush()
            if log is not None:
                with open(log, "a") as out:
                    out.write(f"{time.time()!r}\n")
            time.sleep(interval)
    with h5py.File(path, "r+") as h5:
        h5[f"{key}/end_time"] = f"2023-03-08T03:{11 + number:02d}:00+01:00"


def main(argv: Sequence[str] | None = None) -> int:
    """``nx5d-nexus-synth FOLDER [--layout bliss|gda|zarr]``: write two proposals, print the URL pattern."""
    parser = argparse.ArgumentParser(prog="nx5d-nexus-synth", description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--layout", choices=LAYOUTS, default="bliss")
    parser.add_argument("--vds", action="store_true", help="bliss: frames as virtual datasets in scanNNNN/ files")
    parser.add_argument("--thresholds", type=int, default=1, help="threshold images per point (Eiger)")
    args = parser.parse_args(argv)
    proposals = {"hc2103": [1, 2, 3], "hc2104": [1]}
    print(write_repository(args.folder, proposals, args.layout, vds=args.vds, thresholds=args.thresholds))
    return 0
