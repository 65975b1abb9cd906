"""Test data in the ``.fio`` format: P08-style rocking scans with Pilatus frames in a folder beside each file.

`write_scan` writes what DESY Online writes at PETRA III's P08: the command
and start line in ``%c``, motor positions (and the photon ``energy``) in
``%p``, ``Col N name TYPE`` definitions and rows in ``%d``, ``! Acquisition
ended at ...``, and one TIFF per point in ``{scan}/p100k/``.  A rocking scan
of ``om`` at a fixed ``tt`` puts a reflection at the pixel `SPOT`, at its
brightest where ``om = tt / 2``: specular, so that its map must peak at
q parallel 0 and q normal ``4 pi / lambda sin(tt / 2)``.  The geometry is
the generator's own (`ENERGY`, `SPOT`); tests give it to the spice
explicitly rather than relying on the plugin's defaults.
"""

from __future__ import annotations

import datetime
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["ENERGY", "SPOT", "FRAME_SHAPE", "write_scan", "write_repository"]

#: Photon energy (eV) written to ``%p``.
ENERGY = 18000.0
#: Detector frame shape and the pixel (row, column) the reflection falls on.
FRAME_SHAPE = (32, 40)
SPOT = (13.0, 22.0)
_WHEN = datetime.datetime(2025, 3, 11, 15, 5, 44)


def _frames(om: np.ndarray, tt: float, rng: np.random.Generator) -> np.ndarray:
    rows, cols = np.indices(FRAME_SHAPE)
    spot = np.exp(-((rows - SPOT[0]) ** 2 + (cols - SPOT[1]) ** 2) / 3.0)
    height = 5000.0 * np.exp(-((om - tt / 2) ** 2) / (2 * 0.05**2))
    return rng.poisson(0.2 + height[:, None, None] * spot[None]).astype(np.int32)


def write_scan(
    path: str | os.PathLike[str],
    *,
    steps: int = 21,
    tt: float = 30.0,
    width: float = 1.0,
    frames: bool = True,
    typed_columns: bool = False,
    seed: int = 0,
) -> Path:
    """Write ``path`` (``NAME.fio``) and, with ``frames``, ``NAME/p100k/NAME_00001.tif`` ... beside it.

    ``typed_columns`` adds DESY's other column types: ``STRING``, ``INTEGER``,
    ``BOOLEAN``, and a column whose name holds a blank (``unix time``).
    """
    import tifffile

    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    om = np.linspace(tt / 2 - width / 2, tt / 2 + width / 2, steps)
    images = _frames(om, tt, rng)
    when = _WHEN + datetime.timedelta(minutes=seed % 1000)
    columns = [("om", "DOUBLE"), ("ion1", "DOUBLE"), ("p100k_roi", "DOUBLE"), ("t01", "DOUBLE")]
    ion1 = rng.normal(1.2e6, 2.0e3, steps)
    table = [om, ion1, images.reshape(steps, -1).sum(axis=1).astype(float), np.full(steps, 1.0)]
    if typed_columns:
        columns += [("status", "STRING"), ("n_peaks", "INTEGER"), ("shutter", "BOOLEAN"), ("unix time", "DOUBLE")]
        table += [np.array(["ok"] * steps), np.arange(steps) % 3, np.arange(steps) % 2 == 0, 1.7e9 + np.arange(steps)]
    lines = [
        "!", "! Comments", "!", "%c",
        f"ascan om {om[0]:g} {om[-1]:g} {steps - 1} 1.0",
        f"user p08user Acquisition started at {when:%a %b %d %H:%M:%S %Y}",
        "!", "! Parameter", "!", "%p",
        f"energy = {ENERGY:g}", f"om = {om[0]:g}", f"tt = {tt:g}", "chi = 0", "phis = 12.5", "sample_y = 3.25",
        "!", "! Data", "!", "%d",
    ]  # fmt: skip
    lines += [f" Col {i} {name} {kind}" for i, (name, kind) in enumerate(columns, 1)]
    lines += [" " + " ".join(_cell(column[i]) for column in table) for i in range(steps)]
    lines.append(f"! Acquisition ended at {when + datetime.timedelta(seconds=steps):%a %b %d %H:%M:%S %Y}")
    path.write_text("\n".join(lines) + "\n")
    if frames:
        folder = path.parent / path.stem / "p100k"
        folder.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(images, 1):
            tifffile.imwrite(folder / f"{path.stem}_{i:05d}.tif", frame)
    return path


def _cell(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def write_repository(root: str | os.PathLike[str], layout: Mapping[str, Sequence[str]], **scan_options: object) -> str:
    """Write ``{proposal: [scan names]}`` below ``root``; returns the repository URL ``…/{proposal}/{scan}.fio``.

    Each scan's random seed is derived from its name, so data are the same on every run.
    """
    root = Path(root).absolute()
    for proposal, scans in layout.items():
        for scan in scans:
            seed = zlib.crc32(f"{proposal}/{scan}".encode())
            write_scan(root / proposal / f"{scan}.fio", seed=seed, **scan_options)  # type: ignore[arg-type]
    return f"file://{root}/{{proposal}}/{{scan}}.fio"
