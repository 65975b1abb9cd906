"""Generate SPEC files in the dialects real instruments write, for tests and demos.

`write_spec` writes one file of ``scans`` rocking-curve scans (a
Gaussian peak on a counter, a monitor, a time column) with the quirks a
`Dialect` asks for -- the ones met in files from APS, BESSY, ESRF
and Bluesky: single-space name separators, repeated scan numbers, MCA
spectra, epoch dates, ``nan`` values, scans without data lines, no file
header, CRLF line ends, a last line still being written.  Equal arguments
give byte-identical files.  Command line: ``nx5d-spec-synth FOLDER``.
"""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from nx5d_spec.writer import file_header, format_spec, number_text, scan_text

__all__ = ["Dialect", "MOTORS", "LABELS", "write_spec", "main"]

MOTORS = ("Two Theta", "Theta", "Chi", "Phi", "y", "delay")
LABELS = ("Theta", "H", "Epoch", "Seconds", "Monitor", "Detector")


@attrs.frozen
class Dialect:
    """Which quirks a generated file has."""

    single_space: bool = False  #: ``#O``/``#L`` names separated by one space (no name may hold a space then)
    repeat_numbers: bool = False  #: scan numbers restart half way (keys ``N.2``)
    mca: bool = False  #: an ``@A`` spectrum per point, continued over lines ending in ``\\``
    epoch_dates: bool = False  #: ``#D`` holds an epoch instead of a date
    nan_values: bool = False  #: some counter values are ``nan``
    empty_scan: bool = False  #: one scan aborted before its first point (header only)
    file_header: bool = True  #: the ``#F``/``#E``/``#O`` block at the top
    newline: str = "\n"  #: line end: ``"\r\n"`` (Windows), ``"\r"`` (classic Mac OS)
    unfinished: bool = False  #: the last line is cut short, without a line end (a file being written)


def _scan_lines(number: int, index: int, dialect: Dialect, when: datetime.datetime, rng: np.random.Generator) -> list:
    points = 0 if dialect.empty_scan and index == 1 else 11
    theta = np.round(np.linspace(19.4 + 0.01 * index, 19.7 + 0.01 * index, points), 5)
    peak = 1000.0 * np.exp(-((theta - 19.55 - 0.01 * index) ** 2) / (2 * 0.03**2))
    data = np.stack(
        [
            theta,
            np.round(theta / 28.6, 6),
            1435058303.0 + 6 * np.arange(points) + 100 * index,
            np.full(points, 1.0),
            rng.poisson(100000, points).astype(float),
            rng.poisson(peak + 5).astype(float),
        ],
        axis=1,
    )
    if dialect.nan_values and points:
        data[points // 2, 4] = np.nan
    motors = [m.replace(" ", "") for m in MOTORS] if dialect.single_space else list(MOTORS)
    positions = dict(
        zip(motors, (2 * theta[0] if points else 39.1, theta[0] if points else 19.55, 0, 0, -2, 0), strict=True)
    )
    command = f"ascan  th {theta[0] if points else 19.4:g} {theta[-1] if points else 19.7:g}  10 1"
    lines = scan_text(number, command, when, 1.0, positions, motors, LABELS, data)
    if dialect.epoch_dates:
        lines[1] = f"#D {int(when.replace(tzinfo=datetime.UTC).timestamp())}"
    if dialect.single_space:
        lines = [line.replace("  ", " ") if line.startswith(("#L", "#S")) else line for line in lines]
    if dialect.mca:
        lines = _with_spectra(lines, points, rng)
    if points == 0:
        lines.append("#C Scan aborted after 0 points.")
    return lines


def _with_spectra(lines: list[str], points: int, rng: np.random.Generator) -> list[str]:
    """Put ``#@MCA``/``#@CHANN`` header lines and an ``@A`` spectrum (16 channels, 8 per line) before each point."""
    start = len(lines) - points
    out = lines[:start] + ["#@MCA 16C", "#@CHANN 16 0 15 1"]
    for row in lines[start:]:
        counts = [number_text(v) for v in rng.poisson(20, 16)]
        out += ["@A " + " ".join(counts[:8]) + " \\", " ".join(counts[8:]), row]
    return out


def write_spec(path: str | os.PathLike[str], *, scans: int = 4, dialect: Dialect | None = None, seed: int = 0) -> Path:
    """Write a SPEC file of ``scans`` rocking curves in ``dialect`` at ``path``; returns the path."""
    dialect = dialect or Dialect()
    path = Path(path)
    rng = np.random.default_rng(seed)
    start = datetime.datetime(2015, 6, 25, 16, 36, 23)
    motors: Sequence[str] = [m.replace(" ", "") for m in MOTORS] if dialect.single_space else MOTORS
    header = file_header(str(path), start, motors, comment="fourc  User = spec") if dialect.file_header else []
    if dialect.single_space:
        header = [line.replace("  ", " ") for line in header]
    body = []
    for index in range(scans):
        number = index + 1 if not dialect.repeat_numbers else index % max(1, scans // 2 + scans % 2) + 1
        body.append(_scan_lines(number, index, dialect, start + datetime.timedelta(minutes=5 * (index + 1)), rng))
    text = format_spec(header, body) if header else format_spec([], body).lstrip("\n")
    if dialect.unfinished:
        text = text.rstrip("\n")
        text = text[: text.rindex(" ")]
    text = text.replace("\n", dialect.newline)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``nx5d-spec-synth FOLDER``: write one file per dialect and print the repository URL pattern."""
    parser = argparse.ArgumentParser(prog="nx5d-spec-synth", description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="folder to write the SPEC files into")
    args = parser.parse_args(argv)
    folder = Path(args.folder).resolve()
    for name, dialect in DIALECTS.items():
        write_spec(folder / f"{name}.spec", dialect=dialect)
    print(f"file://{folder}/{{proposal}}.spec#{{scan}}")
    return 0


#: One dialect per quirk, as ``nx5d-spec-synth`` writes them.
DIALECTS = {
    "certified": Dialect(),
    "psic": Dialect(single_space=True),
    "restarted": Dialect(repeat_numbers=True),
    "mca": Dialect(mca=True),
    "bluesky": Dialect(epoch_dates=True, empty_scan=True, nan_values=True),
    "headerless": Dialect(file_header=False, newline="\r\n"),
    "classic-mac": Dialect(newline="\r"),
}
