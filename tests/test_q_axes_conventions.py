"""The q-axis table of docs/cooking.md is what each beamline's default settings compute.

Each row names a settings class; the test converts a few angle settings and
pixels with that class's defaults and checks every column of the row: the
specular reflection lies on ``qz``, a rocking step moves q∥ (negative below
the specular angle), q⊥ is the remaining component, detector rows and
columns move the listed components (strongest first), and the default maps.
"""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path

import numpy as np
import pytest

from nx5d_rsm.geometry import Setup

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cooking.md"
Q = ("qx", "qy", "qz")


def _table_rows() -> list[dict[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    block = text.split("<!-- q-axes table")[1].split("<!-- end of q-axes table")[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def _names(cell: str) -> list[str]:
    return re.findall(r"`(q[xyz])`", cell)


def _settings(cell: str):
    module, _, name = cell.strip("`").rpartition(".")
    return getattr(importlib.import_module(module), name)()


def _q(settings, omega: float, two_theta: float, row: float = 0.0, col: float = 0.0) -> np.ndarray:
    setup = Setup.from_settings(settings)
    r0, c0 = settings.img_center
    sample = [np.array([omega])] + [np.zeros(1)] * (len(settings.sample_axes) - 1)
    detector = [np.array([two_theta])] + [np.zeros(1)] * (len(settings.detector_axes) - 1)
    maps = setup.q_maps(sample, detector, np.array([r0 + row]), np.array([c0 + col]))
    return np.array([m[0, 0, 0] for m in maps])


def _moved(delta: np.ndarray) -> list[str]:
    """The components that change (over a fifth of the largest change), strongest first."""
    size = np.abs(delta)
    return [Q[i] for i in np.argsort(-size) if size[i] > 0.2 * size.max()]


ROWS = _table_rows()


def test_the_table_lists_every_beamline_with_cooking() -> None:
    assert {row["Beamline"].split(" ")[0].rstrip(",") for row in ROWS} == {"nx5d-nexus", "nx5d-udkm", "nx5d-kmc3"}


@pytest.mark.parametrize("row", ROWS, ids=[r["Beamline"] for r in ROWS])
def test_default_settings_follow_the_documented_axes(row: dict[str, str]) -> None:
    settings = _settings(row["Settings class"])
    wavelength = 12398.419843320026 / settings.energy
    specular = _q(settings, 20.0, 40.0)
    assert specular[:2] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert specular[2] == pytest.approx(4 * math.pi / wavelength * math.sin(math.radians(20.0)), rel=1e-6)

    (along,) = _names(row["q∥ (along the beam)"])
    (across,) = _names(row["q⊥ (across the plane)"])
    assert {along, across, "qz"} == set(Q)
    rocked = _q(settings, 19.0, 40.0) - specular
    assert _moved(rocked)[0] == along
    assert rocked[Q.index(along)] == pytest.approx(specular[2] * math.sin(math.radians(-1.0)), rel=1e-3)
    assert abs(rocked[Q.index(across)]) < 1e-12

    assert _moved(_q(settings, 20.0, 40.0, row=10.0) - specular) == _names(row["Detector rows move"])
    assert _moved(_q(settings, 20.0, 40.0, col=10.0) - specular) == _names(row["Detector columns move"])
    assert list(settings.q_axes) == _names(row["Default maps"])
