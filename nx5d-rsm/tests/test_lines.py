"""Line detectors: every channel's q and the maps equal xrayutilities' init_linear + Ang2Q.linear + fuzzy gridder."""

import numpy as np
import pytest
import xarray as xr
import xrayutilities as xu

from nx5d.errors import SpiceValidationError
from nx5d_rsm.cook import cook_rsm, motor_angles
from nx5d_rsm.geometry import Setup
from nx5d_rsm.lines import LineDetector, line_frames
from nx5d_rsm.settings import MotorSettings

#: A lab diffractometer as xrayutilities' HXRD has it: the beam along y, omega and two-theta about x.
SETTINGS = MotorSettings(
    energy=8042.5,
    sample_axes=("x+",),
    detector_axes=("x+",),
    beam=(0.0, 1.0, 0.0),
    normal=(0.0, 0.0, 1.0),
    inplane=(0.0, 1.0, 0.0),
    q_axes=("qx", "qz"),
    grid_size=(60, 70),
    sample_motors=("om",),
    detector_motors=("tt",),
    empty_bins="zero",
)
CHANNELS = 640


def _scan(n=41, seed=5):
    """An omega/two-theta scan whose spectra show a peak moving across the channels."""
    rng = np.random.default_rng(seed)
    om = np.linspace(30.0, 32.0, n)
    tt = 2 * om + 1.0
    channel = np.arange(CHANNELS)
    centre = 300 + 40 * np.sin(np.linspace(0, 3, n))
    spectra = rng.poisson(400 * np.exp(-((channel[None, :] - centre[:, None]) ** 2) / 200.0) + 2).astype(np.int32)
    return xr.Dataset({"om": ("index", om), "tt": ("index", tt), "mca": (("index", "mca_channel"), spectra)})


def _xu_linear(line, raw, distance=None):
    qconv = xu.experiment.QConversion(["x+"], ["x+"], [0, 1, 0], en=SETTINGS.energy)
    roi = list(line.roi) if line.roi else [0, CHANNELS]
    if line.channels_per_degree:
        qconv.init_linear(line.direction, line.center_channel, CHANNELS, chpdeg=line.channels_per_degree, roi=roi)
    else:
        qconv.init_linear(
            line.direction, line.center_channel, CHANNELS, distance=distance, pixelwidth=line.pixel_size, roi=roi
        )
    _, qy, qz = qconv.linear(raw.om.values, raw.tt.values)
    return np.stack([qy, qz], axis=-1)  # nx5d's qx is along the beam (inplane), its qz the normal


@pytest.mark.parametrize(
    "line",
    [
        LineDetector(direction="z-", center_channel=315.4, channels_per_degree=120.0, roi=(20, 600)),
        LineDetector(spectra="mca", direction="z+", center_channel=100.0, pixel_size=0.05, distance=400.0),
    ],
)
def test_a_line_detector_maps_as_xrayutilities_init_linear(line):
    raw = _scan()
    images, settings = line_frames(raw, SETTINGS, line, "the scan")
    assert images["images"].shape == (41, 1, (line.roi or (0, CHANNELS))[1] - (line.roi or (0, 0))[0])
    theirs = _xu_linear(line, raw, distance=line.distance)
    setup = Setup.from_settings(settings, detector_shape=(1, CHANNELS))
    ours = np.stack(
        setup.q_maps([raw.om.values], [raw.tt.values], images.y.values, images.x.values, axes=("qx", "qz")), -1
    )
    np.testing.assert_allclose(ours[:, 0], theirs, rtol=0, atol=1e-12)  # every channel's q
    maps = cook_rsm(images, settings, **motor_angles(raw, settings))
    gridder = xu.FuzzyGridder2D(*SETTINGS.grid_size)
    gridder.dataRange(theirs[..., 0].min(), theirs[..., 0].max(), theirs[..., 1].min(), theirs[..., 1].max())
    first, stop = line.roi or (0, CHANNELS)
    gridder(theirs[..., 0].ravel(), theirs[..., 1].ravel(), raw.mca.values[:, first:stop].astype(float).ravel())
    assert gridder.data.max() > 100  # the peak is on the grid
    np.testing.assert_allclose(maps.qdata.values, gridder.data, rtol=0, atol=1e-12 * gridder.data.max())
    np.testing.assert_allclose(maps.qx.values, gridder.xaxis, rtol=0, atol=1e-12)
    np.testing.assert_allclose(maps.qz.values, gridder.yaxis, rtol=0, atol=1e-12)


def test_motors_named_like_the_frame_axes_step_aside():
    raw = _scan(n=3).assign(y=((), -2.0), x=((), 1.0))  # SPEC motors called y and x
    images, _ = line_frames(raw, SETTINGS, LineDetector(center_channel=3.0, channels_per_degree=10.0), "the scan")
    assert float(images.y_motor) == -2.0
    assert float(images.x_motor) == 1.0
    assert images.images.dims == ("index", "y", "x")


def test_a_line_detector_needs_its_channel_geometry():
    raw = _scan(n=3)
    for line, message in (
        (LineDetector(direction="z-"), "center_channel and either channels_per_degree or pixel_size"),
        (LineDetector(center_channel=3.0, channels_per_degree=10.0, pixel_size=0.05), "either"),
        (LineDetector(center_channel=3.0, channels_per_degree=10.0, roi=(700, 800)), "roi"),
    ):
        with pytest.raises(SpiceValidationError, match=message):
            line_frames(raw, SETTINGS, line, "the scan")
    two = raw.assign(other=(("index", "k"), np.ones((3, 4))))
    with pytest.raises(SpiceValidationError, match="candidates on \\(index, channel\\): mca, other"):
        line_frames(two, SETTINGS, LineDetector(center_channel=3.0, channels_per_degree=10.0), "the scan")
    for bad in ({"direction": "up"}, {"channels_per_degree": -1.0}, {"roi": (5, 5)}, {"center_channel": float("nan")}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LineDetector(**bad)
