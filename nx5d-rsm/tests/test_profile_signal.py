"""Profiles show the detector: the spice's, the beamline's, NeXus' signal, or a rule that never picks a
positioner, clock, monitor or machine current; summed frames leave the gap markers out, as maps do."""

import warnings

import numpy as np
import pytest
import xarray as xr

from nx5d.errors import MissingDataError
from nx5d.recipes import Cooking
from nx5d_rsm.profile import ProfileSettings, cook_profile
from nx5d_rsm.signal import choose_signal

N = 6
RNG = np.random.default_rng(3)


def scan(**extra):
    """A SPEC-like scan: the scanned motor, a detector, then what a beamline appends after it."""
    data = xr.Dataset(
        {
            "H": ("index", np.linspace(0.9, 1.1, N)),
            "Epoch": ("index", 1000.0 + np.arange(N)),
            "Seconds": ("index", np.ones(N)),
            "Detector": ("index", RNG.poisson(50, N).astype(float)),
            "Monitor": ("index", RNG.poisson(1e4, N).astype(float)),
            "chi": ("index", np.zeros(N), {"kind": "positioner"}),
            "RingCurrent": ("index", np.full(N, 250.0), {"long_name": "RingCurrent", "units": "mA"}),
            "machine_current": ("index", np.full(N, 250.0), {"units": "mA"}),
            **extra,
        },
        coords={"th": ("index", np.linspace(10, 11, N))},
        attrs={"url": "memory://lab/p/s1"},
    )
    return data


def test_the_rule_never_picks_a_positioner_clock_monitor_or_machine_current():
    data = scan()
    with pytest.warns(UserWarning, match=r"memory://lab/p/s1: no profile signal declared; .* is 'Detector'"):
        profile = cook_profile(data, ProfileSettings(), summary={"motor": "th"})
    assert profile.attrs["signal"] == "Detector"
    assert profile.attrs["signal_choice"].startswith("nx5d's rule")
    np.testing.assert_array_equal(profile.signal.values, data.Detector.values)
    assert profile.signal.dims == ("th",)


def test_the_rule_never_picks_an_empty_counter():
    """A counter the lab's software left blank (UDKM's 'Intensities [ph/s]' column) is no detector."""
    data = scan(Intensities=("index", np.full(N, np.nan), {"long_name": "Intensities [ph/s]", "units": "ph/s"}))
    with pytest.warns(UserWarning, match="is 'Detector'"):
        assert choose_signal(data).name == "Detector"
    with pytest.raises(MissingDataError, match="no counter that could be its detector"):
        choose_signal(data.drop_vars("Detector"))


def test_with_nothing_left_the_rule_refuses_naming_the_variables():
    data = scan().drop_vars("Detector")
    with pytest.raises(MissingDataError, match=r"memory://lab/p/s1 has no frames and no counter .* RingCurrent"):
        choose_signal(data)


def test_spice_then_the_beamline_then_nexus_signal_then_the_rule():
    data = scan(roi=("index", np.arange(N, dtype=float)), apd=("index", np.ones(N)))
    declared = Cooking(roles={"signal": ("pilatus_sum", "apd")})
    nexus = data.assign_attrs(signal="roi")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only the rule warns
        assert (choose_signal(nexus, declared, "Detector").name, choose_signal(nexus, declared, "Detector").how) == (
            "Detector",
            "spice",
        )
        assert choose_signal(nexus, declared).name == "apd"  # the first declared variable the scan has
        assert choose_signal(nexus, Cooking()).name == "roi"
        assert choose_signal(nexus, Cooking(roles={"signal": lambda raw: None})).how == "nexus"
    with pytest.warns(UserWarning, match="'apd'"):
        assert choose_signal(data).name == "apd"  # the last counter that is a detector


def test_summed_frames_leave_the_gap_markers_out_and_carry_their_poisson_variance():
    frames = RNG.poisson(3.0, (N, 4, 5)).astype(np.int32)
    frames[:, 1, 2] = -2  # a gap
    frames[2, 0, 0] = -1  # a defect in one frame
    data = scan(images=(("index", "y", "x"), frames, {"units": "counts"}))
    with pytest.warns(UserWarning, match="'images'"):
        profile = cook_profile(data, ProfileSettings(monitor="Monitor"), summary={"motor": "th"})
    counted = np.where(frames < 0, 0, frames).sum(axis=(1, 2))
    monitor = data.Monitor.values
    np.testing.assert_allclose(profile.signal.values, counted / monitor)
    np.testing.assert_allclose(profile.signal_variance.values, counted / monitor**2)
    np.testing.assert_array_equal(profile.pixels.values, [19, 19, 18, 19, 19, 19])
    with pytest.warns(UserWarning, match="images"):
        kept = cook_profile(data, ProfileSettings(mask_negative=False))
    np.testing.assert_array_equal(kept.signal.values, frames.sum(axis=(1, 2)))


def test_lazy_frames_are_summed_the_same_way():
    dask = pytest.importorskip("dask.array")
    frames = RNG.poisson(2.0, (N, 3, 3)).astype(np.int32)
    frames[:, 0, 0] = -2
    data = scan(images=(("index", "y", "x"), dask.from_array(frames, chunks=(2, 3, 3)), {"units": "counts"}))
    profile = cook_profile(data, ProfileSettings(signal="images"))
    np.testing.assert_array_equal(profile.signal.values, np.where(frames < 0, 0, frames).sum(axis=(1, 2)))
    assert profile.attrs["signal_choice"] == "the spice profile record's signal"


def test_rates_have_no_poisson_variance_nx5d_could_know():
    data = scan(rate=("index", np.full(N, 120.0), {"units": "ph/s"}))
    profile = cook_profile(data, ProfileSettings(signal="rate"))
    assert np.isnan(profile.signal_variance.values).all()
    profile = cook_profile(data, ProfileSettings(signal="Detector"))
    np.testing.assert_array_equal(profile.signal_variance.values, data.Detector.values)


def test_a_profile_looks_at_each_counter_a_fixed_number_of_times(monkeypatch):
    """raw[name] gathers every variable's coordinates: called per counter, a profile grew quadratically
    (10,000 counters took minutes); the work per counter must not grow with the number of counters."""

    calls = []
    real = xr.Dataset.__getitem__
    monkeypatch.setattr(xr.Dataset, "__getitem__", lambda self, key: calls.append(key) or real(self, key))

    def lookups(n):
        raw = xr.Dataset(
            {f"c{i}": ("index", np.arange(5.0) + i) for i in range(n)}, coords={"th": ("index", np.arange(5.0))}
        )
        calls.clear()
        cook_profile(raw, ProfileSettings())
        return len(calls)

    assert lookups(1000) == lookups(10)
