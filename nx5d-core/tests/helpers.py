"""Data helpers shared by the core tests."""

import numpy as np
import xarray as xr


def make_scan(n, offset=0.0, kind="rocking"):
    return xr.Dataset(
        {"intensity": ("index", np.arange(n, dtype=float) + offset), "theta": ("index", np.linspace(18.1, 19.1, n))},
        attrs={"type": kind, "notes": f"{n} frames"},
    )


def scale_cook(raw, **spice):
    return raw.intensity * spice["scale"].factor


def cells(markup):
    """The texts of an HTML table's header and data cells, in order."""
    import re

    return re.findall(r"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", markup)
