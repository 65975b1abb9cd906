"""The ``settings`` spice type of the KMC3-XPP beamline: the core's map settings with the XPP diffractometer."""

from __future__ import annotations

import attrs

from nx5d.plugins import Cooking
from nx5d_rsm.settings import MotorSettings

__all__ = ["XppSettings", "COOKING"]


@attrs.define
class XppSettings(MotorSettings):
    """Reciprocal space map settings of KMC3-XPP (spice handle and type ``settings``).

    The diffractometer: the beam travels along z, the sample surface normal
    is x at zero angles; theta turns about y, chi about z, phi about x, the
    detector arm (TwoTheta) about y, so that x-z is the scattering plane.
    The Pilatus 100K's 487-pixel **columns** lie in the scattering plane
    (increasing column index: towards smaller scattering angles, ``x-``), its
    195-pixel rows across it (``y-``): turning theta sweeps a reflection
    along the columns.  Maps are reported with the surface normal (x) as
    ``qz``, the surface direction across the scattering plane (y) as ``qx``,
    so that the in-plane direction of the scattering plane (the beam's, z)
    is ``qy``.  The fields of [`nx5d_rsm.settings.MotorSettings`][nx5d_rsm.settings.MotorSettings], with
    these defaults.

    ``energy``, ``img_center`` and ``img_distance`` are per-beamtime
    calibrations; the defaults are those of the published analysis of the
    2015 beamtime (pyEvalData's example: 9000 eV, direct beam at pixel
    (74, 225.8), 705 mm).  Check them on a known reflection: a film's
    (00L) reflection in a rocking scan must come out specular (``qy`` = 0)
    at the lattice spacing of the film.
    """

    energy: float | str = 9000.0
    img_center: tuple[float, float] = (74.0, 225.8)
    img_distance: float = 705.0
    image_axes: tuple[str, str] = ("y-", "x-")
    sample_axes: tuple[str, ...] = ("y+", "z+", "x+")
    detector_axes: tuple[str, ...] = ("y+",)
    beam: tuple[float, float, float] = (0.0, 0.0, 1.0)
    normal: tuple[float, float, float] = (1.0, 0.0, 0.0)
    inplane: tuple[float, float, float] = (0.0, 1.0, 0.0)
    monitor: str | None = "machine_current"
    sample_motors: tuple[str, ...] = ("Theta", "Chi", "Phi")
    detector_motors: tuple[str, ...] = ("TwoTheta",)


#: Scans with moving angles are mapped; time and loop scans (nothing moves) are shown as profiles of the
#: detector: the Pilatus frames summed (gap markers left out), else -- frames not loaded -- the Pilatus sum
#: counter.  Delay and temperature are the variables KMC3's SPEC macros and its newer acquisition write.
COOKING = Cooking(
    recipes={"timescan": "profile", "loopscan": "profile", "*": "rsm"},
    roles={
        "signal": ("images", "pilatus_sum", "Pilatus"),
        "delay": ("delay", "delayf"),
        "temperature": ("tsample_setpoint", "tsample_readback", "temp", "SampleTemp"),
    },
)
