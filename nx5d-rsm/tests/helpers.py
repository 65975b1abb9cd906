"""Data helpers shared by the tests of maps, profiles and recipes."""

import numpy as np
import xarray as xr


def lab_setup(center, distance, energy=8048.0):
    """A two-circle lab diffractometer (theta, 2-theta about y-) with a Pilatus: its rows across the scattering
    plane, its columns in it."""
    from nx5d_rsm import Setup

    return Setup(
        energy=energy,
        sample_axes=("y-",),
        detector_axes=("y-",),
        center=center,
        distance=distance,
        pixel_size=(0.172, 0.172),
        directions=("y-", "z+"),
    )


def bragg_scan(setup, theta, two_theta, q_peak, *, width=0.004, height=500.0, background=0.0, seed=0, **variables):
    """A scan whose frames show a Gaussian Bragg peak at ``q_peak`` (qx, qy, qz) for the true angles given.

    Counts are Poisson draws of ``height * exp(-|q - q_peak|^2 / 2 width^2) + background``;
    extra keyword arguments become per-frame variables.
    """
    theta, two_theta = np.asarray(theta, float), np.asarray(two_theta, float)
    rows, cols = (
        np.arange(setup.center[0] - 30, setup.center[0] + 30),
        np.arange(setup.center[1] - 60, setup.center[1] + 60),
    )
    q = np.stack(setup.q_maps([theta], [two_theta], rows, cols), axis=-1)
    expected = height * np.exp(-np.sum((q - np.asarray(q_peak)) ** 2, axis=-1) / (2 * width**2)) + background
    frames = np.random.default_rng(seed).poisson(expected).astype(np.int32)
    data = {"theta": ("index", theta), "two_theta": ("index", two_theta)}
    data.update({name: ("index", np.asarray(values)) for name, values in variables.items()})
    images = xr.DataArray(frames, dims=("index", "y", "x"), coords={"y": rows.astype(int), "x": cols.astype(int)})
    return xr.Dataset({**data, "images": images}, attrs={"type": "rocking"})
