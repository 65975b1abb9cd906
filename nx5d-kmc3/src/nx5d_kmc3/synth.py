"""Generate KMC3-XPP data: SPEC files with Pilatus TIFF frames, ingested into the HDF5 layout.

A thin film's Bragg reflection sits at ``q = (0, 0, Q_BRAGG)`` (surface
normal = ``qz``).  Frames are rendered from the generator's own statement
of the instrument (`pixel_q`: KMC3-XPP's diffractometer, the Pilatus
columns in the scattering plane, the 2015 calibration), written out here
and not read from the plugin's settings, so that cooking the frames with
the plugin's defaults tests those defaults: the maps find the peak where it
was put only if the defaults describe the same instrument.  After time zero the
lattice expands and the peak moves to smaller ``qz``.  Two kinds of scans:

* ``theta2theta`` -- ``a2scan Theta … TwoTheta …`` across the reflection;
* ``delay`` -- ``ascan delay …`` at the Bragg angle (pump-probe).

`write_repository` writes the SPEC + TIFF sources of each proposal
and ingests them into the documents a repository URL pattern names, so any
of the URL forms (``{proposal}/{proposal}.h5#{scan}``,
``drepo.hdf#{proposal}/{scan}``, ``{proposal}/{proposal}-{scan}.h5#data/`` …)
can be generated.  Command line: ``nx5d-kmc3 synth``.
"""

from __future__ import annotations

import datetime
import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import tifffile

from nx5d.toolkit import Storage, UrlPattern
from nx5d_spec.writer import file_header, format_spec, scan_text

from .ingest import ingest

__all__ = [
    "FRAME_SHAPE",
    "Q_BRAGG",
    "ScanPlan",
    "DEFAULT_PROPOSALS",
    "bragg_qz",
    "pixel_q",
    "film_intensity",
    "write_sources",
    "write_repository",
]

FRAME_SHAPE = (195, 487)
MOTORS = ("Theta", "TwoTheta", "Chi", "Phi", "SampleX", "SampleZ", "delay")
LABELS_2THETA: tuple[str, ...] = ("Theta", "TwoTheta", "Monitor", "Pilatus", "ring_current", "Seconds")
LABELS_DELAY: tuple[str, ...] = ("delay", "Theta", "TwoTheta", "Monitor", "Pilatus", "ring_current", "Seconds")
#: Photon energy (eV), and the wavelength (Å) it gives.
ENERGY = 9000.0
WAVELENGTH = 12398.419843320026 / ENERGY
#: Pixel ``(row, column)`` hit by the direct beam with the detector arm at zero, distance and pixel size (mm).
DIRECT_BEAM = (74.0, 225.8)
DISTANCE = 705.0
PIXEL = 0.172
#: Film reflection (1/Å): Bragg angle 20.0 degrees.
Q_BRAGG = 4 * np.pi * np.sin(np.radians(20.0)) / WAVELENGTH
DEFECTS = ((10, 33), (11, 33), (120, 400), (194, 486))


def bragg_qz(delay: float) -> float:
    """Peak position (1/Å) ``delay`` ps after the pump: expands within ~30 ps, recovers over ~1 ns."""
    if delay <= 0:
        return float(Q_BRAGG)
    return float(Q_BRAGG * (1.0 - 0.003 * (1.0 - np.exp(-delay / 30.0)) * np.exp(-delay / 1000.0)))


@attrs.frozen
class ScanPlan:
    """One scan to generate."""

    kind: str = "theta2theta"  #: ``"theta2theta"`` or ``"delay"``
    points: int = 41
    theta: tuple[float, float] = (19.6, 20.4)  #: theta range of a theta2theta scan
    delays: tuple[float, float] = (-20.0, 200.0)  #: delay range (ps) of a delay scan
    count_time: float = 1.0
    frame_shape: tuple[int, int] = FRAME_SHAPE


#: What ``nx5d-kmc3 synth`` writes by default.
DEFAULT_PROPOSALS: dict[str, tuple[ScanPlan, ...]] = {
    "253-cw38-12345-doe": (ScanPlan(), ScanPlan("delay", points=23), ScanPlan(points=21, theta=(19.8, 20.2))),
    "254-cw02-23456-roe": (ScanPlan(points=31),),
}


@functools.lru_cache(maxsize=256)
def pixel_q(theta: float, two_theta: float, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The momentum transfer ``(qx, qy, qz)`` (1/Å) of every pixel, in the sample's frame, chi = phi = 0.

    The instrument: the beam travels along z; at zero angles the sample's
    surface normal is x.  The sample turns by ``theta`` about y, the detector
    arm by ``two_theta`` about y, both right-handed (a positive angle turns
    z towards x: the arm rises towards the normal).  The detector stands
    `DISTANCE` from the sample, square to the beam at zero arm angle, the
    direct beam on pixel `DIRECT_BEAM`; its columns run along -x (in the
    scattering plane, towards smaller scattering angles), its rows along -y.
    ``qz`` is along the surface normal, ``qy`` along the beam's direction in
    the surface, ``qx`` across the scattering plane (y).
    """
    rows, cols = np.meshgrid(np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float), indexing="ij")
    x, y, z = -(cols - DIRECT_BEAM[1]) * PIXEL, -(rows - DIRECT_BEAM[0]) * PIXEL, np.full(rows.shape, DISTANCE)
    arm = np.radians(two_theta)
    x, z = x * np.cos(arm) + z * np.sin(arm), z * np.cos(arm) - x * np.sin(arm)
    k = 2 * np.pi / WAVELENGTH / np.sqrt(x**2 + y**2 + z**2)
    lab = (k * x, k * y, k * z - 2 * np.pi / WAVELENGTH)  # scattered minus incident wave vector
    sample = np.radians(theta)  # the same vector turned back by theta: in the sample's frame
    normal = lab[0] * np.cos(sample) - lab[2] * np.sin(sample)
    along_beam = lab[0] * np.sin(sample) + lab[2] * np.cos(sample)
    return lab[1], along_beam, normal


def film_intensity(theta: float, two_theta: float, delay: float, shape: tuple[int, int]) -> np.ndarray:
    """The film reflection's expected counts on every pixel (a Gaussian spot in q around ``(0, 0, bragg_qz)``)."""
    qx, qy, qz = pixel_q(round(theta, 6), round(two_theta, 6), shape)
    return 3000.0 * np.exp(-(qx**2 + qy**2) / (2 * 0.006**2) - (qz - bragg_qz(delay)) ** 2 / (2 * 0.003**2))


def render_frame(
    theta: float, two_theta: float, delay: float, shape: tuple[int, int], rng: np.random.Generator
) -> np.ndarray:
    """One Pilatus frame: Poisson counts of the film reflection and a sparse background, defect markers."""
    frame = rng.poisson(film_intensity(theta, two_theta, delay, shape) + 0.002).astype(np.int32)
    for r, c in DEFECTS:
        if r < shape[0] and c < shape[1]:
            frame[r, c] = -2
    return frame


def _scan(number: int, plan: ScanPlan, when: datetime.datetime, rng: np.random.Generator) -> tuple[list[str], list]:
    n = plan.points
    if plan.kind == "theta2theta":
        theta = np.round(np.linspace(*plan.theta, n), 5)
        delay = np.zeros(n)
        command = f"a2scan Theta {plan.theta[0]:g} {plan.theta[1]:g} TwoTheta {2 * plan.theta[0]:g} {2 * plan.theta[1]:g} {n - 1} {plan.count_time:g}"  # noqa: E501
        labels = LABELS_2THETA
    elif plan.kind == "delay":
        theta = np.full(n, 20.0)
        delay = np.round(np.linspace(*plan.delays, n), 3)
        command = f"ascan delay {plan.delays[0]:g} {plan.delays[1]:g} {n - 1} {plan.count_time:g}"
        labels = LABELS_DELAY
    else:
        raise ValueError(f"unknown scan kind {plan.kind!r}: 'theta2theta' or 'delay'")
    two_theta = 2 * theta
    frames = [render_frame(t, tt, d, plan.frame_shape, rng) for t, tt, d in zip(theta, two_theta, delay, strict=True)]
    ring = np.round(300.0 - 0.01 * np.arange(n) - 0.5 * (number % 3), 4)
    columns = {
        "Theta": theta,
        "TwoTheta": two_theta,
        "delay": delay,
        "Monitor": rng.poisson(100000, n).astype(float),
        "Pilatus": np.array([float(f[f > 0].sum()) for f in frames]),
        "ring_current": ring,
        "Seconds": np.full(n, plan.count_time),
    }
    positions = {
        "Theta": float(theta[0]),
        "TwoTheta": float(two_theta[0]),
        "Chi": 0.0,
        "Phi": 0.0,
        "SampleX": 1.25,
        "SampleZ": -0.5,
        "delay": float(delay[0]),
    }
    data = np.stack([columns[label] for label in labels], axis=1)
    return scan_text(number, command, when, plan.count_time, positions, MOTORS, labels, data), frames


def write_sources(
    folder: str | os.PathLike[str], name: str, plans: Sequence[ScanPlan], *, seed: int = 0, compress: bool = True
) -> Path:
    """Write ``{folder}/{name}.spec`` and its frames ``{folder}/pilatus/{name}_{scan:03d}_{frame:05d}.tif``.

    Returns the SPEC file's path.  Equal arguments give byte-identical files.
    """
    folder = Path(folder)
    (folder / "pilatus").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    start = datetime.datetime(2025, 9, 18, 10, 0, 0)
    scans = []
    for number, plan in enumerate(plans, start=1):
        when = start + datetime.timedelta(minutes=10 * number)
        scan, frames = _scan(number, plan, when, rng)
        for i, frame in enumerate(frames):
            tifffile.imwrite(
                folder / "pilatus" / f"{name}_{number:03d}_{i:05d}.tif",
                frame,
                compression="zlib" if compress else None,
                metadata=None,
            )
        scans.append(scan)
    spec_path = folder / f"{name}.spec"
    header = file_header(str(spec_path), start, MOTORS, comment="kmc3  User = xpp")
    spec_path.write_text(format_spec(header, scans))
    return spec_path


def write_repository(
    url: str,
    proposals: Mapping[str, Sequence[ScanPlan]] | None = None,
    *,
    sources: str | os.PathLike[str],
    seed: int = 0,
) -> str:
    """Generate proposals and ingest them into the HDF5 documents of the ``file://`` pattern ``url``.

    The SPEC + TIFF sources go to ``{sources}/{proposal}/``.  Returns ``url``.
    """
    pattern = UrlPattern(url)
    proposals = DEFAULT_PROPOSALS if proposals is None else proposals
    for n, (proposal, plans) in enumerate(proposals.items()):
        spec_path = write_sources(Path(sources) / proposal, proposal, plans, seed=seed + n)
        keys = [f"{number}.1" for number in range(1, len(plans) + 1)]
        by_proposal = pattern.fill(proposal=proposal)
        if "scan" in {f for s in by_proposal.path_segments for f in s.fields}:
            targets = [(by_proposal.fill(scan=key), [key]) for key in keys]
        else:
            targets = [(by_proposal, keys)]
        for target, scan_keys in targets:
            document = Storage.local_path(target.document)
            if document is None:
                raise ValueError(f"write_repository writes file:// repositories, not {url!r}")
            ingest(spec_path, document, scans=scan_keys, group=target.anchor or "{scan}")
    return url
