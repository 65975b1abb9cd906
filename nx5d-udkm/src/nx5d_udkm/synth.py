"""Generate UDKM scan folders, file for file in the lab's layout.

The default scan reproduces the reference page's: a time-resolved rocking scan
with 122 distinct delays and 21 thetas (18.1 ... 19.1 degrees), looped three
times over the delays and interrupted after 5187 frames; 195 x 487 int32
Pilatus frames, zlib-compressed, with -2 marking defective pixels.  A Bragg
peak rocks through the thetas and shifts after time zero (lattice expansion).

Every table variant (see `nx5d_udkm.formats`) can be written; tests and
benchmarks use smaller scans.  Command line: ``nx5d-udkm-synth``.
"""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import tifffile

from .formats import VARIANTS, Variant

__all__ = ["REFERENCE_DELAYS", "REFERENCE_THETAS", "ScanSpec", "write_scan", "write_repository", "main"]

#: The 122 distinct delays (ps) of the reference page's scan.
REFERENCE_DELAYS: tuple[float, ...] = tuple(
    [-10.0, -8.0, -6.0, -4.0, -2.0, 0.0, 50.0, 70.0]
    + [float(d) for d in range(71, 131)]
    + [150.0, 200.0, 250.0]
    + [float(d) for d in range(270, 321)]
)
#: The reference page's theta steps (degrees).
REFERENCE_THETAS: tuple[float, ...] = tuple(round(18.1 + 0.05 * i, 2) for i in range(21))

FRAME_SHAPE = (195, 487)
DEFECTS = ((0, 0), (0, 486), (194, 0), (194, 486), (40, 300), (41, 300), (150, 77))
PILATUS_HEADER = (
    "# Detector: PILATUS 100K, 1-0105\r\n# Pixel_size 172e-6 m x 172e-6 m\r\n"
    "# Silicon sensor, thickness 0.001000 m\r\n# Exposure_time 1.0000000 s\r\n"
    "# Exposure_period 1.0050000 s\r\n# Count_cutoff 1048574 counts\r\n"
)


@attrs.frozen
class ScanSpec:
    """What to generate for one scan.

    Attributes
    ----------
    variant:
        ``"manifest"``, ``"tRSS"``, ``"sRSM"`` or ``"xRSS"``.
    delays, thetas:
        Delay values (ps) of the outer loop and theta values (degrees) of the
        inner loop.  Static variants (``sRSM``, ``xRSS``) ignore delays.
    delay_loops:
        How often the delay list is run through.
    frames:
        Stop after this many frames (an interrupted scan); ``None``: all.
    frame_shape:
        Detector frame ``(rows, cols)``.
    compression:
        ``"zlib"`` or ``None`` for the TIFF files.
    seed:
        Random seed: equal specs give byte-identical folders.
    encoding:
        Encoding of the parameters file (``"cp1252"`` as on the lab PCs, or ``"utf-8"``).
    newline:
        Line ending of the text files.
    background:
        Mean counts per pixel of the (sparse) background.
    delay_stage:
        The delay-stage variant of the time-resolved tables: ``Position set``
        and ``Position Real`` (the stage's read-back) instead of ``Delay``.
    sample_line:
        The parameters file starts with the sample name on a line of its own
        instead of a ``Sample:`` line.
    lab_clutter:
        What the lab leaves in raw folders: Windows' ``Thumbs.db`` and an
        analysis output ``rockingCurves{scan}.dat``.
    """

    variant: str = "manifest"
    delays: tuple[float, ...] = REFERENCE_DELAYS
    thetas: tuple[float, ...] = REFERENCE_THETAS
    delay_loops: int = 3
    frames: int | None = 5187
    frame_shape: tuple[int, int] = FRAME_SHAPE
    compression: str | None = "zlib"
    seed: int = 0
    encoding: str = "cp1252"
    newline: str = "\n"
    background: float = 0.002
    delay_stage: bool = False
    sample_line: bool = False
    lab_clutter: bool = False

    @property
    def layout(self) -> Variant:
        """The table variant."""
        for variant in VARIANTS:
            if variant.name == self.variant:
                return variant
        raise ValueError(f"unknown UDKM variant {self.variant!r}; known: {', '.join(v.name for v in VARIANTS)}")

    def steps(self) -> list[tuple[int, float, float]]:
        """``(delay loop, delay, theta)`` per frame, in recording order."""
        static = self.variant in ("sRSM", "xRSS")
        delays = (0.0,) if static else self.delays
        out = [(loop, d, t) for loop in range(1, self.delay_loops + 1) for d in delays for t in self.thetas]
        return out if self.frames is None else out[: self.frames]


def bragg_theta(delay: float) -> float:
    """Peak position (degrees) at ``delay`` ps: 18.6 degrees, shifted lower after time zero."""
    if delay <= 0:
        return 18.6
    return 18.6 - 0.03 * (1.0 - np.exp(-delay / 10.0)) * np.exp(-delay / 500.0)


def render_frame(spec: ScanSpec, theta: float, delay: float, rng: np.random.Generator) -> np.ndarray:
    """One detector frame: sparse background, the Bragg spot where it falls, defect markers."""
    rows, cols = spec.frame_shape
    frame = np.zeros(spec.frame_shape, np.int32)
    n_background = rng.poisson(spec.background * rows * cols)
    np.add.at(frame, (rng.integers(0, rows, n_background), rng.integers(0, cols, n_background)), 1)
    peak = bragg_theta(delay)
    rate = 4000.0 * np.exp(-(((theta - peak) / 0.25) ** 2))
    if rate > 0.5:
        centre_row = rows * 97 / 195
        centre_col = cols * 241 / 487 + 138.0 * (peak - theta) * cols / 487
        r0, r1 = int(max(0, centre_row - 15)), int(min(rows, centre_row + 16))
        c0, c1 = int(max(0, centre_col - 10)), int(min(cols, centre_col + 11))
        if r0 < r1 and c0 < c1:
            rr, cc = np.mgrid[r0:r1, c0:c1]
            shape = np.exp(-(((rr - centre_row) / 4.0) ** 2) - (((cc - centre_col) / 2.0) ** 2))
            expected = rate * shape / (np.pi * 4.0 * 2.0)
            frame[r0:r1, c0:c1] += rng.poisson(expected).astype(np.int32)
    for r, c in DEFECTS:
        if r < rows and c < cols:
            frame[r, c] = -2
    return frame


def _number(value: float) -> str:
    return f"{value:.6f}"


def write_scan(folder: str | os.PathLike[str], spec: ScanSpec | None = None) -> Path:
    """Write one scan folder (table, images, parameters); returns the folder."""
    spec = spec or ScanSpec()
    variant = spec.layout
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scan_key = folder.name
    rng = np.random.default_rng(spec.seed)
    nl = spec.newline
    try:
        date = datetime.datetime.strptime(folder.parent.name + scan_key, "%Y%m%d%H%M%S")
    except ValueError:
        date = datetime.datetime(2021, 2, 5, 9, 17, 26)
    columns = list(variant.columns)
    stage = spec.delay_stage and "Delay" in columns
    if stage:
        at = columns.index("Delay")
        columns[at : at + 1] = ["Position set", "Position Real"]
    lines = ["% " + "\t".join(columns)]
    if variant.extra_header is not None:
        lines.append("% " + variant.extra_header)
    crystal_v = 0.45
    clock = date
    for i, (loop, delay, theta) in enumerate(spec.steps()):
        frame = render_frame(spec, theta, delay, rng)
        name = f"image{i:05d}{variant.image_extension}"
        tifffile.imwrite(
            folder / name,
            frame,
            compression=spec.compression,
            description=PILATUS_HEADER,
            metadata=None,
        )
        crystal_v = float(np.clip(crystal_v + rng.normal(0, 0.02), 0.25, 0.6))
        crystal_rate = crystal_v * 3.8143e6 + rng.normal(0, 500.0)
        counts = float(frame[frame > 0].sum())
        if variant.per_frame_lines:
            end = clock + datetime.timedelta(seconds=1.005)
            lines.append(f"% {clock:%H:%M:%S.%f}"[:-3] + f"\t{end:%H:%M:%S.%f}"[:-3] + f"\t{name}")
            clock = end + datetime.timedelta(milliseconds=120)
        profile = frame.clip(min=0).sum(axis=0).astype(float)
        if variant.name in ("manifest", "tRSS"):
            row = [float(loop), delay, 1.0, theta, crystal_v, crystal_rate, counts, 0.0, float(i)]
            if stage:
                row.insert(2, delay + float(rng.normal(0, 0.002)))
            tail = "\t" if variant.name == "manifest" else "\t" + "\t".join(_number(v) for v in profile)
            lines.append("\t".join(_number(v) for v in row) + tail)
        elif variant.name == "sRSM":
            row = [float(loop), theta, 2 * theta + 0.012, crystal_v, crystal_rate]
            lines.append("\t".join(_number(v) for v in row) + "\t" + "\t".join(_number(v) for v in profile))
        else:
            row = [float(loop), theta, 2 * theta, crystal_v, crystal_rate, counts]
            lines.append("\t".join(_number(v) for v in row))
    (folder / variant.table_name(scan_key)).write_bytes((nl.join(lines) + nl).encode("ascii"))
    parameters = [
        *(["SrRuO3 (30 nm) on SrTiO3 (001)"] if spec.sample_line else []),
        f"Date: {date:%d.%m.%Y}",
        f"Time: {date:%H:%M:%S}",
        f"Type: {variant.name}",
        *([] if spec.sample_line else ["Sample: SrRuO3 (30 nm) on SrTiO3 (001)"]),
        "Comment: generated by nx5d-udkm-synth; pump 800 nm,",
        "  fluence 8.0 mJ/cm², spot 960 µm x 960 µm",
        "Temperature: 300 K",
        "Distance: 680 mm",
        "Exposure: 1.0 s",
    ]
    name = "parameters.txt" if variant.name == "manifest" else f"parameters{scan_key}.txt"
    (folder / name).write_bytes((nl.join(parameters) + nl).encode(spec.encoding))
    if spec.lab_clutter:
        (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
        analysis = ["% Theta\tIntensity", *(f"{t:.4f}\t{i * 10.0:.1f}" for i, t in enumerate(spec.thetas))]
        (folder / f"rockingCurves{scan_key}.dat").write_text(nl.join(analysis) + nl)
    return folder


def write_repository(
    root: str | os.PathLike[str],
    scans: dict[str, Sequence[str]] | None = None,
    spec: ScanSpec | None = None,
) -> str:
    """Write ``{proposal: [scan, ...]}`` under ``root``; returns the repository URL pattern."""
    root = Path(root)
    scans = scans or {"20210205": ["091726"]}
    for n, (proposal, keys) in enumerate(scans.items()):
        for m, key in enumerate(keys):
            write_scan(
                root / proposal / key, attrs.evolve(spec or ScanSpec(), seed=(spec or ScanSpec()).seed + 100 * n + m)
            )
    return f"file://{root.resolve()}/{{proposal}}/{{scan}}"


def main(argv: Sequence[str] | None = None) -> int:
    """The ``nx5d-udkm-synth`` command."""
    parser = argparse.ArgumentParser(prog="nx5d-udkm-synth", description="Write UDKM scan folders for tests and demos.")
    parser.add_argument("root", help="repository folder to write into")
    parser.add_argument("--proposal", default="20210205", help="proposal key (YYYYMMDD)")
    parser.add_argument("--scan", action="append", help="scan key (HHMMSS); repeat for several (default 091726)")
    parser.add_argument("--variant", default="manifest", choices=[v.name for v in VARIANTS])
    parser.add_argument(
        "--frames", type=int, default=5187, help="stop after this many frames (default: reference scan)"
    )
    parser.add_argument("--thetas", type=int, default=len(REFERENCE_THETAS), help="theta steps per delay")
    parser.add_argument("--delays", type=int, default=len(REFERENCE_DELAYS), help="distinct delays")
    parser.add_argument("--shape", type=int, nargs=2, default=FRAME_SHAPE, metavar=("ROWS", "COLS"))
    parser.add_argument("--no-compression", action="store_true", help="write uncompressed TIFFs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    thetas = tuple(np.round(np.linspace(18.1, 19.1, args.thetas), 4)) if args.thetas != 21 else REFERENCE_THETAS
    spec = ScanSpec(
        variant=args.variant,
        delays=REFERENCE_DELAYS[: args.delays],
        thetas=thetas,
        frames=args.frames,
        frame_shape=tuple(args.shape),
        compression=None if args.no_compression else "zlib",
        seed=args.seed,
    )
    url = write_repository(args.root, {args.proposal: args.scan or ["091726"]}, spec)
    print(url)
    return 0
