"""A single crystal's orientation (its UB matrix) and the conversion of detector pixels to (H, K, L).

Conventions -- xrayutilities' and SPEC's, Busing and Levy's with the factor 2 pi:

* ``q = UB · (h, k, l)`` in Å⁻¹ with ``|q| = 2 pi / d``, where ``q`` is the
  momentum transfer in the laboratory frame of the sample at all angles
  zero: the frame [`Setup`][nx5d_rsm.geometry.Setup] works in (``beam`` and
  the circles as the settings name them; right-handed).  A pixel's
  ``(H, K, L) = UB⁻¹ · R_s^T · q_lab`` is what xrayutilities'
  ``HXRD(...).Ang2HKL(..., U=UB)`` returns for the same ``QConversion``.
* ``B`` is upper triangular (Busing and Levy, eq. 3, times 2 pi): the
  crystal's Cartesian frame has ``a*`` along x and ``c`` along z.
  ``UB = U · B`` with ``U`` a rotation.
* From two reflections (Busing and Levy's method): the first one's
  direction is kept exactly, the second fixes the rotation about it.

Where the orientation comes from, in order: the ``orientation`` spice
(`Orientation`: a UB matrix, or a lattice and two reflections measured on
this diffractometer), else the scan's attributes, as nx5d-spec and
nx5d-nexus read them from SPEC's ``#G``/``#UB`` lines and NeXus'
``NXsample``.  A file's UB is in the file's laboratory frame:
``Orientation.frame`` says which direction of nx5d's frame each of the
file's x, y, z axes is (SPEC ``psic``, beam along its y, z up, with nx5d's
beam along x: ``("y-", "x+", "z+")``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from nx5d.errors import CorruptDataError, SpiceValidationError
from nx5d_rsm.geometry import Setup, direction
from nx5d_rsm.gridding import LinearCoordinates

__all__ = [
    "Orientation",
    "HklSetup",
    "HKL_AXES",
    "b_matrix",
    "u_from_reflections",
    "check_ub",
    "orientation_ub",
    "UB_MATRIX",
    "U_MATRIX",
    "UNIT_CELL",
]

#: The reciprocal-lattice coordinates a map can have.
HKL_AXES = ("H", "K", "L")
#: Scan attributes the format plugins write (nx5d-spec, nx5d-nexus): UB (with 2 pi), U, the unit cell.
UB_MATRIX, U_MATRIX, UNIT_CELL = "sample_ub_matrix", "sample_orientation_matrix", "sample_unit_cell"


def b_matrix(lattice: Sequence[float], what: str = "lattice") -> np.ndarray:
    """Busing and Levy's B (times 2 pi) of the lattice ``a, b, c`` (Å), ``alpha, beta, gamma`` (degrees).

    A lattice no crystal has (a length not above 0, angles whose cell has no
    volume) is a ``ValueError`` naming ``what``.
    """
    values = [float(v) for v in lattice]
    if len(values) != 6 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what} must be six numbers a, b, c (Å), alpha, beta, gamma (degrees), not {lattice!r}")
    lengths, angles = np.array(values[:3]), np.radians(values[3:])
    cos = np.cos(angles)
    volume_factor = 1.0 - np.sum(cos**2) + 2.0 * np.prod(cos)
    if np.any(lengths <= 0) or np.any(angles <= 0) or np.any(angles >= np.pi) or volume_factor <= 1e-12:
        raise ValueError(
            f"{what} {tuple(values)!r} is no lattice: lengths must be above 0 and the cell must have volume"
        )
    a, b, c = lengths
    real = np.array(
        [
            [a, b * cos[2], c * cos[1]],
            [0.0, b * math.sin(angles[2]), c * (cos[0] - cos[1] * cos[2]) / math.sin(angles[2])],
            [0.0, 0.0, c * math.sqrt(volume_factor) / math.sin(angles[2])],
        ]
    )  # the real lattice vectors as columns
    reciprocal = 2.0 * math.pi * np.linalg.inv(real).T  # a*, b*, c* as columns
    lengths_star = np.linalg.norm(reciprocal, axis=0)
    cos_star = [
        float(reciprocal[:, j] @ reciprocal[:, k] / (lengths_star[j] * lengths_star[k]))
        for j, k in ((1, 2), (2, 0), (0, 1))
    ]
    sin_gamma_star = math.sqrt(1.0 - cos_star[2] ** 2)
    return np.array(
        [
            [lengths_star[0], lengths_star[1] * cos_star[2], lengths_star[2] * cos_star[1]],
            [0.0, lengths_star[1] * sin_gamma_star, -lengths_star[2] * math.sqrt(1.0 - cos_star[1] ** 2) * cos[0]],
            [0.0, 0.0, 2.0 * math.pi / c],
        ]
    )


def _triad(first: np.ndarray, second: np.ndarray, what: str) -> np.ndarray:
    """Busing and Levy's orthonormal triad of two vectors (as columns): the first, in-plane, normal."""
    t1 = first / np.linalg.norm(first)
    normal = np.cross(first, second)
    size = float(np.linalg.norm(normal))
    if not size > 1e-9 * float(np.linalg.norm(first) * np.linalg.norm(second)):
        raise ValueError(f"{what}: the two reflections are parallel (or one is zero); they fix no orientation")
    t3 = normal / size
    return np.stack([t1, np.cross(t3, t1), t3], axis=1)


def u_from_reflections(
    b: np.ndarray, hkl: Sequence[Sequence[float]], q: Sequence[np.ndarray], what: str = "reflections"
) -> np.ndarray:
    """U from two reflections: Miller indices ``hkl`` seen at momentum transfers ``q`` (sample frame, zero angles)."""
    crystal = _triad(b @ np.asarray(hkl[0], float), b @ np.asarray(hkl[1], float), what)
    measured = _triad(np.asarray(q[0], float), np.asarray(q[1], float), what)
    return measured @ crystal.T


def check_ub(values: Any, what: str) -> np.ndarray:
    """``values`` (nine numbers row by row, or 3 x 3) as a UB matrix; a ``ValueError`` naming ``what`` if singular."""
    try:
        ub = np.asarray(values, float).reshape(3, 3)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be nine numbers (a 3 x 3 matrix, row by row), not {values!r}") from None
    scale = float(np.linalg.norm(ub))
    if not np.all(np.isfinite(ub)) or not abs(float(np.linalg.det(ub))) > 1e-9 * scale**3:
        raise ValueError(f"{what} {ub.tolist()!r} is singular: it maps no (h, k, l) uniquely")
    return ub


def _vectors(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    if attribute.name == "ub_matrix":
        check_ub(value, "ub_matrix")
    elif attribute.name == "lattice":
        b_matrix(value, "lattice")


def _frame(instance: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    named = all(isinstance(v, str) and len(v) == 2 and v[1] in "+-" for v in value)
    if len(value) != 3 or not named or sorted(v[0] for v in value) != ["x", "y", "z"]:
        raise ValueError(f"frame must name x, y and z once each, e.g. ('y-', 'x+', 'z+'), not {value!r}")


def _axes(instance: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not 1 <= len(value) <= 3 or len(set(value)) != len(value) or any(a not in HKL_AXES for a in value):
        raise ValueError(f"axes must be one to three different of H, K, L, not {value!r}")


@attrs.define
class Orientation:
    """The ``orientation`` spice: the sample's UB matrix, and the axes of HKL maps.

    Attributes
    ----------
    ub_matrix:
        UB (nine numbers row by row, Å⁻¹ with 2 pi) in nx5d's laboratory
        frame; overrides everything else.
    lattice:
        ``a, b, c`` (Å), ``alpha, beta, gamma`` (degrees): with
        `reflections`, the orientation; alone, B for a file's U.
    reflections:
        Two reflections ``(h, k, l, *sample angles, *detector angles)``,
        the angles in the order of the map settings' ``sample_axes`` and
        ``detector_axes``, measured with the direct-beam pixel ``img_center``.
    frame:
        The directions of nx5d's frame that a file's UB's x, y and z axes are.
    axes:
        One to three of ``H``, ``K``, ``L``: the axes of the maps.
    grid_size:
        Grid points along each of `axes`.
    """

    ub_matrix: tuple[float, ...] | None = attrs.field(default=None, validator=_vectors)
    lattice: tuple[float, ...] | None = attrs.field(default=None, validator=_vectors)
    reflections: tuple[tuple[float, ...], ...] | None = None
    frame: tuple[str, str, str] = attrs.field(default=("x+", "y+", "z+"), validator=_frame)
    axes: tuple[str, ...] = attrs.field(default=HKL_AXES, validator=_axes)
    grid_size: tuple[int, ...] = (100, 100, 100)

    def __attrs_post_init__(self) -> None:
        if len(self.grid_size) != len(self.axes) or any(
            not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in self.grid_size
        ):
            raise ValueError(
                f"grid_size must be one whole number >= 1 per axis {tuple(self.axes)}, not {self.grid_size!r}"
            )
        if self.reflections is not None:
            if self.lattice is None:
                raise ValueError("reflections need the lattice they index")
            if len(self.reflections) != 2 or any(len(r) < 4 for r in self.reflections):
                raise ValueError("reflections must be two (h, k, l, *angles) tuples")

    def frame_matrix(self) -> np.ndarray:
        """The matrix taking a file's laboratory coordinates to nx5d's (its columns: `frame`'s directions)."""
        return np.stack([direction(name) for name in self.frame], axis=1)


def _measured(setup: Setup, reflection: Sequence[float], where: str) -> np.ndarray:
    """The momentum transfer (sample frame at zero angles) of a reflection seen at the direct-beam pixel."""
    angles = np.asarray(reflection[3:], float)
    n_sample, n_detector = len(setup.sample_axes), len(setup.detector_axes)
    if angles.size != n_sample + n_detector:
        raise SpiceValidationError(
            f"orientation reflections for {where} must give h, k, l and {n_sample} sample and {n_detector} detector "
            f"angles (the circles {setup.sample_axes} and {setup.detector_axes}), not {tuple(reflection)!r}"
        )
    lab = attrs.evolve(setup, normal=(0.0, 0.0, 1.0), inplane=(1.0, 0.0, 0.0))
    q = lab.q_maps(
        [angles[i : i + 1] for i in range(n_sample)],
        [angles[n_sample + i : n_sample + i + 1] for i in range(n_detector)],
        np.array([setup.center[0]]),
        np.array([setup.center[1]]),
    )
    return np.array([float(component[0, 0, 0]) for component in q])


def orientation_ub(orientation: Orientation, attributes: Mapping[str, Any], setup: Setup, where: str) -> np.ndarray:
    """The UB matrix in nx5d's frame: from the spice, else from the scan's ``attributes``.

    Errors name the field: `SpiceValidationError` for the spice,
    `CorruptDataError` for what the file states.
    """
    if orientation.ub_matrix is not None:
        return check_ub(orientation.ub_matrix, "ub_matrix")
    if orientation.lattice is not None and orientation.reflections is not None:
        b = b_matrix(orientation.lattice)
        first, second = orientation.reflections
        q = [_measured(setup, first, where), _measured(setup, second, where)]
        try:
            u = u_from_reflections(b, [first[:3], second[:3]], q, f"orientation reflections for {where}")
        except ValueError as exc:
            raise SpiceValidationError(str(exc)) from exc
        return u @ b
    to_lab = orientation.frame_matrix()
    source = attributes.get("sample_orientation_source", where)
    try:
        if UB_MATRIX in attributes:
            return to_lab @ check_ub(attributes[UB_MATRIX], f"{UB_MATRIX} of {source}")
        if U_MATRIX in attributes:
            cell = orientation.lattice if orientation.lattice is not None else attributes.get(UNIT_CELL)
            if cell is None:
                raise ValueError(f"{source} states U but no unit cell; seed the orientation spice with lattice")
            u = check_ub(attributes[U_MATRIX], f"{U_MATRIX} of {source}")
            return to_lab @ u @ b_matrix(cell, f"{UNIT_CELL} of {source}")
    except ValueError as exc:
        raise CorruptDataError(str(exc)) from exc
    raise SpiceValidationError(
        f"{where} states no crystal orientation (no SPEC #G3/#UB line, no NeXus sample/orientation_matrix); seed "
        "the 'orientation' spice with ub_matrix, or lattice and two reflections"
    )


@attrs.frozen
class HklSetup:
    """A [`Setup`][nx5d_rsm.geometry.Setup] whose `q_maps` reports (H, K, L): ``UB⁻¹`` times q in the sample's frame.

    It stands in for a `Setup` wherever maps are made
    ([`map_frames`][nx5d_rsm.maps.map_frames] with ``q_axes`` from `HKL_AXES`).
    """

    setup: Setup
    ub: np.ndarray = attrs.field(eq=False)

    def q_maps(self, *angles_and_pixels: Any, **options: Any) -> tuple[np.ndarray, ...]:
        """The components (of H, K, L) of every pixel for each angle setting: ``(settings, rows, cols)``.

        The tables of `q_coordinates`, with the same arguments.
        """
        return self.q_coordinates(*angles_and_pixels, **options).tables()

    def q_coordinates(
        self, *angles_and_pixels: Any, axes: Sequence[str] = HKL_AXES, energies: np.ndarray | None = None
    ) -> LinearCoordinates:
        """The components ``axes`` (of H, K, L) as a transform of each pixel's direction per angle setting.

        Arguments as for [`Setup.q_coordinates`][nx5d_rsm.geometry.Setup.q_coordinates]
        (sample angles, detector angles, rows, cols).  H, K, L are ``UB⁻¹``
        times q in the sample's frame: linear in the pixel's direction as q is.
        """
        lab = attrs.evolve(self.setup, normal=(0.0, 0.0, 1.0), inplane=(1.0, 0.0, 0.0))
        q = lab.q_coordinates(*angles_and_pixels, energies=energies)
        picked = [HKL_AXES.index(a) for a in axes]
        matrices = np.linalg.solve(self.ub, q.matrices)[:, picked]
        offsets = np.linalg.solve(self.ub, q.offsets[..., None])[:, picked, 0]
        return LinearCoordinates(q.vectors, matrices, offsets, q.pixel_shape)
