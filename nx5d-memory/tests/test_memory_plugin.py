"""nx5d-memory passes the core's conformance kit and handles its own edge cases."""

import numpy as np
import pytest
import xarray as xr

import nx5d
import nx5d_memory
from nx5d.errors import InvalidKeyError
from nx5d.testing import BeamlineConformance


def frames(n, peak):
    x = np.arange(n, dtype=float)
    return xr.Dataset({"counts": ("index", np.exp(-((x - peak) ** 2)))}, attrs={"type": "rocking"})


def normalise(raw, **spice):
    return raw.counts / spice["norm"].monitor


class TestMemoryConformance(BeamlineConformance):
    beamline = "memory"

    @pytest.fixture
    def repository_url(self):
        url = nx5d_memory.register(
            "conformance",
            {"p1": {"1": frames(5, 2.0), "2": lambda: frames(7, 3.0)}, "p2": {"1": frames(3, 1.0)}},
            cook=normalise,
            spice={"norm": {"monitor": 1.0}},
        )
        yield url
        nx5d_memory.unregister("conformance")

    @pytest.fixture
    def spice_variants(self):
        return {"norm": {"monitor": 1.0}}, {"norm": {"monitor": 4.0}}

    @pytest.fixture
    def missing_repository_url(self):
        return "memory://not-registered/{proposal}/{scan}"


def test_lazily_registered_scans_are_built_on_load():
    built = []

    def factory():
        built.append(1)
        return frames(4, 1.0)

    url = nx5d_memory.register("lazy", {"p": {"1": factory}})
    try:
        scan = nx5d.open(url).p.s1
        assert built == []  # nothing is built by listing
        assert scan.summary["steps"] == 4
        scan.raw  # noqa: B018
        assert len(built) == 2
    finally:
        nx5d_memory.unregister("lazy")


def test_without_cook_function_cooked_is_raw():
    url = nx5d_memory.register("nocook", {"p": {"1": frames(2, 0.0)}})
    try:
        scan = nx5d.open(url).p.s1
        assert scan.cooked.equals(scan.raw)  # the same data; the cooked copy carries its provenance
        assert "nx5d_spice" in scan.cooked.attrs
        assert "nx5d_spice" not in scan.raw.attrs
    finally:
        nx5d_memory.unregister("nocook")


def test_registration_checks_names_and_keys():
    with pytest.raises(InvalidKeyError):
        nx5d_memory.register("a/b", {})
    with pytest.raises(InvalidKeyError):
        nx5d_memory.register("bad", {"p": {"../x": frames(1, 0.0)}})
    nx5d_memory.register("twice", {})
    try:
        with pytest.raises(InvalidKeyError, match="already registered"):
            nx5d_memory.register("twice", {})
        assert "twice" in nx5d_memory.registered()
    finally:
        nx5d_memory.unregister("twice")
