"""nx5d-spec: the generic SPEC beamline for nx5d.

Any SPEC data file, whatever its name, lists its scans (``N.order`` keys),
summarises them from their header lines and loads their counters, motor
positions and MCA spectra ([`nx5d_spec.plugin`][nx5d_spec.plugin]); the default cook is a
1-D profile.  Other plugins reuse the hooks of [`nx5d_spec.plugin`][nx5d_spec.plugin] for
the SPEC part of their data.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nx5d-spec")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
