"""Diffractometer geometry: a goniometer with an area detector, converted to momentum transfer.

`Setup` computes the momentum transfer of every detector pixel with
plain vector algebra (numpy only), in the conventions of xrayutilities'
``QConversion`` -- circles named ``"y-"``, ``"z+"`` (axis and right-hand
sense, outermost first), the detector's rows and columns along laboratory
directions, the pixel ``center`` hit by the primary beam at zero detector
angles -- and reports it in the sample's frame: ``qz`` along the surface
normal, ``qx`` along the in-plane reference direction, ``qy`` completing a
right-handed set.  The tests check it against xrayutilities for random
geometries and angles.

For every angle setting, with ``R_s`` and ``R_d`` the products of the sample
and detector circles' rotations (outermost first), ``b`` the unit beam
direction, ``k = 2 pi / wavelength`` and ``p`` the unit vector from the
sample to a pixel at zero detector angles (the detector plane tilted and
turned about the beam first, as xrayutilities' ``init_area`` does it):

    q_lab    = k (R_d p - b)          # scattered minus incident wave vector
    q_sample = R_s^T q_lab            # the same vector in the sample's frame at zero angles
    (qx, qy, qz) = (inplane, normal x inplane, normal) . q_sample
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from nx5d.errors import OptionError
from nx5d_rsm.gridding import LinearCoordinates

if TYPE_CHECKING:
    from nx5d_rsm.settings import RsmSettings

__all__ = ["Setup", "rotation", "direction", "HC"]

#: Planck's constant times the speed of light, in eV Å (wavelength = HC / energy).
HC = 12398.419843320026

_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


def direction(name: str) -> np.ndarray:
    """The unit vector of an axis name: ``"y-"`` is ``(0, -1, 0)``."""
    if len(name) != 2 or name[0] not in _AXES or name[1] not in "+-":
        raise OptionError(f"an axis is named 'x+', 'y-', 'z+' ..., not {name!r}")
    return np.array(_AXES[name[0]]) * (1.0 if name[1] == "+" else -1.0)


def rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(n, 3, 3)`` about ``axis`` (``"y-"``: about y, clockwise) by each angle.

    ``"+"`` turns counter-clockwise seen from the positive end of the axis
    (the right-hand rule), ``"-"`` the other way.
    """
    unit = direction(axis) * (1.0 if axis[1] == "+" else -1.0)  # the axis itself; the sign turns the angle
    angle = np.radians(np.asarray(degrees, float)) * (1.0 if axis[1] == "+" else -1.0)
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    cross = np.array(
        [[0.0, -unit[2], unit[1]], [unit[2], 0.0, -unit[0]], [-unit[1], unit[0], 0.0]]
    )  # fmt: skip
    return np.eye(3) + s * cross + (1.0 - c) * (cross @ cross)


def _two(names: Sequence[str]) -> tuple[str, str]:
    first, second = names
    return first, second


def _three(vector: Sequence[float]) -> tuple[float, float, float]:
    x, y, z = vector
    return float(x), float(y), float(z)


def _unit(vector: Sequence[float], what: str) -> np.ndarray:
    v = np.asarray(vector, float)
    size = float(np.linalg.norm(v))
    if v.shape != (3,) or not np.isfinite(size) or size == 0.0:
        raise OptionError(f"{what} must be a non-zero vector of three numbers, not {tuple(vector)!r}")
    return v / size


def _circles(axes: Sequence[str], angles: Sequence[np.ndarray], n: int) -> np.ndarray:
    """The product of the circles' rotations, outermost first: ``(n, 3, 3)``."""
    total = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    for axis, values in zip(axes, angles, strict=True):
        total = total @ rotation(axis, np.broadcast_to(np.asarray(values, float), (n,)))
    return total


def _turn(axis: np.ndarray, degrees: float) -> np.ndarray:
    """The rotation matrix about the unit vector ``axis`` by ``degrees`` (right-hand rule)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    a = np.radians(degrees)
    return np.eye(3) + np.sin(a) * k + (1.0 - np.cos(a)) * (k @ k)


def _spacing(pixels: np.ndarray, what: str) -> np.ndarray:
    """Pixel coordinates as floats, checked to be a non-empty 1-D array."""
    pixels = np.asarray(pixels, float)
    if pixels.ndim != 1 or pixels.size == 0:
        raise OptionError(f"{what} pixel coordinates must be a non-empty 1-D array")
    return pixels


@attrs.frozen
class Setup:
    """A diffractometer with an area detector.

    Attributes
    ----------
    energy:
        Photon energy in eV.
    sample_axes, detector_axes:
        Rotation axes (``"y-"``, ``"z+"`` ...), outermost first.
    center:
        Detector pixel ``(row, col)`` hit by the direct beam at zero detector angles, full-frame pixels.
    distance:
        Sample-detector distance (same unit as ``pixel_size``, e.g. mm).
    pixel_size:
        Pixel size ``(rows, cols)``.
    directions:
        Laboratory directions of increasing row and column index at zero detector angles (``("y-", "z+")``).
    beam:
        Direction of the primary beam.
    normal:
        The sample's surface normal at zero sample angles: reported as ``qz``.
    inplane:
        A direction in the sample's surface at zero sample angles: reported as ``qx``.
    detector_rotation:
        Rotation of the detector about the primary beam (degrees), for a detector mounted turned.
    tilt:
        Tilt of the detector plane in degrees (xrayutilities' ``tilt``, with
        its sign): a rotation about the in-plane axis perpendicular to the
        direction ``tilt_azimuth``, clockwise seen from the axis' tip.
    tilt_azimuth:
        Direction of the tilt in the detector plane, in degrees from the row
        direction towards the column direction (xrayutilities' ``tiltazimuth``).
    """

    energy: float
    sample_axes: tuple[str, ...]
    detector_axes: tuple[str, ...]
    center: tuple[float, float]
    distance: float
    pixel_size: tuple[float, float]
    directions: tuple[str, str]
    beam: tuple[float, float, float] = (1.0, 0.0, 0.0)
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    inplane: tuple[float, float, float] = (1.0, 0.0, 0.0)
    detector_rotation: float = 0.0
    tilt: float = 0.0
    tilt_azimuth: float = 0.0

    def __attrs_post_init__(self) -> None:
        for name in (*self.sample_axes, *self.detector_axes, *self.directions):
            direction(name)
        _unit(self.beam, "beam")
        normal, inplane = _unit(self.normal, "normal"), _unit(self.inplane, "inplane")
        if abs(float(normal @ inplane)) > 1e-9:
            raise OptionError(f"inplane {tuple(self.inplane)} must be perpendicular to normal {tuple(self.normal)}")
        if not (np.isfinite(self.energy) and self.energy > 0):
            raise OptionError(f"energy must be a number of eV above 0, not {self.energy!r}")
        for name in ("distance", "detector_rotation", "tilt", "tilt_azimuth"):
            if not np.isfinite(float(getattr(self, name))):
                raise OptionError(f"{name} must be a finite number, not {getattr(self, name)!r}")
        if len(self.pixel_size) != 2 or not all(np.isfinite(p) and p > 0 for p in self.pixel_size):
            raise OptionError(f"pixel_size must be two sizes above 0 (rows, cols), not {self.pixel_size!r}")

    @classmethod
    def from_settings(
        cls, settings: RsmSettings, *, energy: float | None = None, detector_shape: tuple[int, int] | None = None
    ) -> Setup:
        """The setup an [`RsmSettings`][nx5d_rsm.settings.RsmSettings] describes.

        ``energy`` (eV) replaces the settings' own where it was read from the
        data; ``detector_shape`` (full-frame rows, cols) is needed for a
        centre given as a fraction of the detector.
        """
        return cls(
            energy=float(settings.energy if energy is None else energy),
            sample_axes=tuple(settings.sample_axes),
            detector_axes=tuple(settings.detector_axes),
            center=settings.center_pixels(detector_shape),
            distance=float(settings.img_distance),
            pixel_size=settings.pixel_sizes(),
            directions=_two(settings.image_axes),
            beam=_three(settings.beam),
            normal=_three(settings.normal),
            inplane=_three(settings.inplane),
            detector_rotation=float(settings.detector_rotation),
            tilt=float(settings.detector_tilt),
            tilt_azimuth=float(settings.tilt_azimuth),
        )

    @property
    def wavelength(self) -> float:
        """Wavelength in Å."""
        return HC / self.energy

    def frame(self) -> np.ndarray:
        """The unit vectors along which ``qx``, ``qy``, ``qz`` are reported, as rows."""
        normal, inplane = _unit(self.normal, "normal"), _unit(self.inplane, "inplane")
        return np.stack([inplane, np.cross(normal, inplane), normal])

    def pixel_directions(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Unit vectors from the sample to the pixels ``(rows x cols)`` at zero detector angles: ``(R, C, 3)``."""
        rows, cols = _spacing(rows, "row"), _spacing(cols, "column")
        beam = _unit(self.beam, "beam")
        down, across = direction(self.directions[0]), direction(self.directions[1])
        if self.tilt:
            azimuth = np.radians(self.tilt_azimuth) + np.pi / 2.0
            axis = np.cos(azimuth) * down + np.sin(azimuth) * across
            turn = _turn(axis / np.linalg.norm(axis), -self.tilt)  # xrayutilities' sense of the tilt
            down, across = turn @ down, turn @ across
        if self.detector_rotation:
            spin = _turn(beam, self.detector_rotation)
            down, across = spin @ down, spin @ across
        position = (
            self.distance * beam
            + ((rows - self.center[0]) * self.pixel_size[0])[:, None, None] * down
            + ((cols - self.center[1]) * self.pixel_size[1])[None, :, None] * across
        )
        return position / np.linalg.norm(position, axis=-1, keepdims=True)

    def q_maps(self, *angles_and_pixels: Any, **options: Any) -> tuple[np.ndarray, ...]:
        """The q components of every pixel for each angle setting: arrays ``(settings, rows, cols)``.

        The tables of `q_coordinates`, with the same arguments.
        """
        return self.q_coordinates(*angles_and_pixels, **options).tables()

    def q_coordinates(
        self,
        sample_angles: Sequence[np.ndarray],
        detector_angles: Sequence[np.ndarray],
        rows: np.ndarray,
        cols: np.ndarray,
        *,
        axes: Sequence[str] = ("qx", "qy", "qz"),
        energies: np.ndarray | None = None,
    ) -> LinearCoordinates:
        """The q components ``axes`` of the pixels, as a transform of each pixel's direction per angle setting.

        ``sample_angles`` / ``detector_angles`` hold one array of angles
        (degrees) per circle.  ``rows`` and ``cols`` are the full-frame pixel
        coordinates of the loaded pixels (the ``y`` and ``x`` coordinates of
        loaded frames: any region of interest and stride).  ``energies``
        (eV, one per setting) replaces `energy` for scans that change it.

        q is linear in the unit vector ``p``
        from the sample to the pixel: ``q = k A p − k B b`` with ``A`` and
        ``B`` from the setting's circles, so a
        [`FrameGridder`][nx5d_rsm.gridding.FrameGridder] computes the q of
        just the pixels it grids, at just their settings.
        """
        if len(sample_angles) != len(self.sample_axes) or len(detector_angles) != len(self.detector_axes):
            raise OptionError(
                f"{len(sample_angles)} sample and {len(detector_angles)} detector angles for the circles "
                f"{self.sample_axes} and {self.detector_axes}"
            )
        picked = [("qx", "qy", "qz").index(a) for a in axes]
        pixels = self.pixel_directions(rows, cols)
        n = max([np.size(a) for a in (*sample_angles, *detector_angles)] + [1])
        sample = _circles(self.sample_axes, sample_angles, n)
        detector = _circles(self.detector_axes, detector_angles, n)
        given = np.full(n, self.energy) if energies is None else np.broadcast_to(np.asarray(energies, float), (n,))
        if not np.all(np.isfinite(given) & (given > 0)):
            raise OptionError("energies must be numbers of eV above 0")
        wave_numbers = 2.0 * np.pi / (HC / given)  # 2 pi / wavelength, as xrayutilities computes it
        beam = _unit(self.beam, "beam")
        reported = self.frame()[picked]  # (m, 3)
        matrices, offsets = np.empty((n, len(picked), 3)), np.empty((n, len(picked)))
        for i in range(n):
            # q in the sample's frame, projected on the reported axes: reported . R_s^T (k R_d p - k b)
            k = wave_numbers[i]
            to_reported = reported @ sample[i].T  # (m, 3)
            matrices[i] = k * (to_reported @ detector[i])
            # (k b) first, as xrayutilities does: the pixels that span the grid keep the same last bit
            offsets[i] = to_reported @ (k * beam)
        vectors = np.ascontiguousarray(pixels.reshape(-1, 3).T)
        return LinearCoordinates(vectors, matrices, offsets, pixels.shape[:2])
