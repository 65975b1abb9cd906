"""Diffractometer geometry: a goniometer with an area detector, converted to momentum transfer.

:class:`Setup` uses xrayutilities (imported only when used; plugins that cook
depend on it, the core does not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from nx5d.errors import OptionError, SpiceValidationError

__all__ = ["Setup"]


def _right_handed(instance: object, attribute: attrs.Attribute, value: tuple[str, str, str]) -> None:
    if "".join(value) not in ("xyz", "yzx", "zxy"):
        raise OptionError(f"{attribute.name} must be a cyclic order of x, y, z (xyz, yzx or zxy), not {value!r}")


def _spacing(pixels: np.ndarray, what: str) -> tuple[float, float]:
    """First pixel and step of evenly spaced pixel coordinates."""
    pixels = np.asarray(pixels, float)
    if pixels.ndim != 1 or pixels.size == 0:
        raise OptionError(f"{what} pixel coordinates must be a non-empty 1-D array")
    step = float(pixels[1] - pixels[0]) if pixels.size > 1 else 1.0
    if step <= 0 or not np.allclose(np.diff(pixels), step):
        raise OptionError(f"{what} pixel coordinates are not evenly spaced and increasing")
    return float(pixels[0]), step


@attrs.frozen
class Setup:
    """A diffractometer with an area detector, in xrayutilities' terms.

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
        Directions of increasing row and column index on the detector (``("y-", "z+")``).
    r_i, inplane, normal:
        Primary beam direction, and the sample's in-plane and surface-normal
        reference directions (xrayutilities ``HXRD(idir, ndir)``).
    lab_axes:
        The laboratory axes reported as ``qx``, ``qy``, ``qz``.  The default
        keeps xrayutilities' frame; a beamline whose beam and surface normal
        lie along other axes names them here so that, e.g., the surface
        normal comes out as ``qz`` (``("y", "z", "x")``: a cyclic relabelling,
        still right-handed).
    """

    energy: float
    sample_axes: tuple[str, ...]
    detector_axes: tuple[str, ...]
    center: tuple[float, float]
    distance: float
    pixel_size: tuple[float, float]
    directions: tuple[str, str]
    r_i: tuple[float, float, float] = (1.0, 0.0, 0.0)
    inplane: tuple[float, float, float] = (1.0, 0.0, 0.0)
    normal: tuple[float, float, float] = (0.0, 1.0, 0.0)
    lab_axes: tuple[str, str, str] = attrs.field(default=("x", "y", "z"), validator=_right_handed)

    @classmethod
    def from_settings(cls, settings: Any) -> Setup:
        """The setup an :class:`~nx5d.rsm.settings.RsmSettings` (or compatible spice) describes."""
        return cls(
            energy=float(settings.energy),
            sample_axes=tuple(settings.sample_axes),
            detector_axes=tuple(settings.detector_axes),
            center=tuple(float(c) for c in settings.img_center),  # type: ignore[arg-type]
            distance=float(settings.img_distance),
            pixel_size=(float(settings.pixel_size), float(settings.pixel_size)),
            directions=tuple(settings.image_axes),  # type: ignore[arg-type]
            r_i=tuple(float(v) for v in settings.beam),  # type: ignore[arg-type]
            inplane=tuple(float(v) for v in settings.inplane),  # type: ignore[arg-type]
            normal=tuple(float(v) for v in settings.normal),  # type: ignore[arg-type]
            lab_axes=tuple(settings.lab_axes),  # type: ignore[arg-type]
        )

    def q_maps(
        self,
        sample_angles: Sequence[np.ndarray],
        detector_angles: Sequence[np.ndarray],
        rows: np.ndarray,
        cols: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(qx, qy, qz)`` of every pixel for each angle setting: arrays ``(settings, rows, cols)``.

        ``sample_angles`` / ``detector_angles`` hold one array of angles (degrees)
        per axis.  ``rows`` and ``cols`` are the full-frame pixel coordinates
        of the loaded pixels (evenly spaced: a region of interest with a
        stride), as the ``y`` and ``x`` coordinates of loaded frames give them.
        """
        import xrayutilities as xu

        row0, row_step = _spacing(rows, "row")
        col0, col_step = _spacing(cols, "column")
        n1, n2 = len(rows), len(cols)
        try:
            qconv = xu.experiment.QConversion(self.sample_axes, self.detector_axes, self.r_i, en=self.energy)
            hxrd = xu.HXRD(self.inplane, self.normal, en=self.energy, qconv=qconv)
        except (IndexError, ValueError, TypeError, ZeroDivisionError) as exc:
            raise SpiceValidationError(
                f"the geometry (sample axes {self.sample_axes}, detector axes {self.detector_axes}, beam {self.r_i}, "
                f"in-plane {self.inplane}, normal {self.normal}) cannot be converted to q: {type(exc).__name__}: {exc}"
            ) from exc
        hxrd.Ang2Q.init_area(
            self.directions[0],
            self.directions[1],
            (self.center[0] - row0) / row_step,
            (self.center[1] - col0) / col_step,
            n1,
            n2,
            distance=self.distance,
            pwidth1=self.pixel_size[0] * row_step,
            pwidth2=self.pixel_size[1] * col_step,
        )
        angles = [np.atleast_1d(np.asarray(a, float)) for a in (*sample_angles, *detector_angles)]
        lab = dict(zip("xyz", hxrd.Ang2Q.area(*angles), strict=True))
        shape = (len(angles[0]), n1, n2)
        qx, qy, qz = (lab[axis].reshape(shape) for axis in self.lab_axes)
        return qx, qy, qz
