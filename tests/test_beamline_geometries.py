"""Every bundled beamline's default settings give the q of its diffractometer, as xrayutilities computes it.

Each geometry is written out here by hand from the beamline's description (not
read from the settings classes), configured in xrayutilities' QConversion, and
compared with nx5d's q for random angles over the whole detector.
"""

import numpy as np
import pytest
import xrayutilities as xu

from nx5d_kmc3.settings import XppSettings
from nx5d_rsm import Setup
from nx5d_udkm.settings import RsmSettings as UdkmSettings

GEOMETRIES = {
    # UDKM: Cu K-alpha, beam along x, theta and 2-theta about y-, Pilatus 100K 680 mm away, surface normal z
    "udkm": (
        UdkmSettings(),
        {"sample": ["y-"], "detector": ["y-"], "beam": [1, 0, 0], "energy": 8048.0},
        {"dirs": ("y-", "z+"), "center": (97.0, 241.0), "shape": (195, 487), "distance": 680.0},
        ((1, 0, 0), (0, 0, 1)),  # inplane, normal
    ),
    # KMC3-XPP: 9 keV, beam along z, theta/chi/phi about y+/z+/x+, the detector arm about y+, normal x; the
    # Pilatus columns in the scattering plane (x-z), rows across it (pyEvalData's calibration of 2015)
    "kmc3": (
        XppSettings(),
        {"sample": ["y+", "z+", "x+"], "detector": ["y+"], "beam": [0, 0, 1], "energy": 9000.0},
        {"dirs": ("y-", "x-"), "center": (74.0, 225.8), "shape": (195, 487), "distance": 705.0},
        ((0, 1, 0), (1, 0, 0)),
    ),
}


@pytest.mark.parametrize("beamline", sorted(GEOMETRIES))
def test_default_settings_are_the_diffractometer(beamline):
    settings, circles, detector, (inplane, normal) = GEOMETRIES[beamline]
    rows, cols = detector["shape"]
    qconv = xu.experiment.QConversion(circles["sample"], circles["detector"], circles["beam"], en=circles["energy"])
    qconv.init_area(
        *detector["dirs"], *detector["center"], rows, cols,
        distance=detector["distance"], pwidth1=0.172, pwidth2=0.172,
    )  # fmt: skip
    rng = np.random.default_rng(7)
    sample = [rng.uniform(-20, 40, 4) for _ in circles["sample"]]
    arm = [rng.uniform(0, 80, 4) for _ in circles["detector"]]
    lab = np.stack([np.reshape(q, (-1, rows, cols)) for q in qconv.area(*sample, *arm)], axis=-1)
    frame = np.stack([inplane, np.cross(normal, inplane), normal]).astype(float)
    ours = np.stack(Setup.from_settings(settings).q_maps(sample, arm, np.arange(rows), np.arange(cols)), axis=-1)
    np.testing.assert_allclose(ours, lab @ frame.T, rtol=0, atol=1e-12)
