"""nx5d demo: open generated data, list it, load a scan, cook it.

Run with ``nox -s demo`` (see README.md).  Uses only installed plugins and
data generated on the fly, so it runs on a fresh machine without downloads.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

import nx5d
import nx5d_memory


def rocking_scan(delay_ps: float, frames: int = 41) -> xr.Dataset:
    """A theta rocking curve whose Bragg peak shifts after the pump arrives (t > 0)."""
    theta = np.linspace(18.1, 19.1, frames)
    centre = 18.6 - (0.05 if delay_ps > 0 else 0.0) * np.exp(-max(delay_ps, 0.0) / 200.0)
    rng = np.random.default_rng(int(delay_ps) + 100)
    counts = 1000 * np.exp(-(((theta - centre) / 0.04) ** 2)) + rng.poisson(5, frames)
    return xr.Dataset(
        {"counts": ("index", counts), "theta": ("index", theta)},
        attrs={"type": "rocking", "notes": f"delay {delay_ps:g} ps"},
    )


def peak_position(raw: xr.Dataset, **spice) -> xr.Dataset:
    """Cook: background-subtracted centre of mass of the rocking curve."""
    signal = (raw.counts - spice["analysis"].background).clip(min=0)
    centre = float((signal * raw.theta).sum() / signal.sum())
    return xr.Dataset({"peak_theta": centre})


def main() -> None:
    scans = {f"{i:03d}": rocking_scan(delay) for i, delay in enumerate([-10, 0, 50, 100, 300])}
    url = nx5d_memory.register("demo", {"20210205": scans}, cook=peak_position, spice={"analysis": {"background": 5.0}})
    print(f"$ nx5d.open({url!r})")
    repo = nx5d.open(url)
    print(repo, end="\n\n")
    proposal = repo.p20210205
    print(proposal, end="\n\n")
    scan = proposal.s002
    print("raw data of scan 002:")
    print(scan.raw, end="\n\n")
    print("cooked with the default spice:", scan.cooked.peak_theta.item())
    for key in proposal.keys():
        print(f"  scan {key}: peak at theta = {proposal[key].cooked.peak_theta.item():.4f} deg")


if __name__ == "__main__":
    main()
