"""Profiles of real files show each beamline's detector: never a positioner, a clock or the ring current.

Real files from ``../shared`` (never copied into this repository): the KMC3
2015 rocking scans (Pilatus frames with -2 gap markers), SPEC files of APS
beamlines and Bluesky, the NeXus manual's example, and a real UDKM lab
folder (its table only; the lab's TIFF frames are not public).
"""

import warnings

import numpy as np
import pytest
import tifffile

import nx5d
from nx5d_rsm.plot import quick_look

from .shared import kmc3_beamtime, shared_path

PROFILE = {"recipes": {"by_type": {"*": "profile"}}}


@pytest.fixture(scope="module")
def kmc3(tmp_path_factory):
    root = kmc3_beamtime(tmp_path_factory.mktemp("kmc3"))
    return root, nx5d.open(f"file://{root}/{{proposal}}.spec#{{scan}}", spice_url="").spec_pilatus


def test_the_real_kmc3_profile_is_the_pilatus_with_its_gap_markers_left_out(kmc3):
    root, proposal = kmc3
    frames = np.stack([tifffile.imread(root / f"pilatus/S00004/examplePilatus_4_{i}.tif") for i in range(41)])
    assert (frames == -2).any()  # the real detector marks its defect pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # declared by the beamline: no rule, no warning about it
        warnings.filterwarnings("ignore", message=".*appears more than once")  # the file's repeated ls_t1 column
        warnings.filterwarnings("ignore", message=".*its last line")
        profile = proposal["4.1"].cook(PROFILE)
    assert profile.attrs["signal"] == "images"
    assert profile.attrs["signal_choice"] == "the beamline's declared profile signal"
    counted = np.where(frames < 0, 0, frames).sum(axis=(1, 2))
    np.testing.assert_array_equal(profile.signal.values, counted)
    np.testing.assert_array_equal(profile.signal_variance.values, counted)  # Poisson: the counts
    np.testing.assert_array_equal(profile.pixels.values, (frames >= 0).sum(axis=(1, 2)))
    raw = proposal["4.1"].load(frames="skip")
    assert np.all(profile.signal.values != raw.pilatus_sum.values)  # the camserver's sum counts the -2s
    assert np.all(np.abs(profile.signal.values - raw.machine_current.values) > 1)  # not the ring current (mA)
    assert profile.signal.dims == ("Theta",)
    figure = quick_look(proposal["4.1"], raw=True)  # what `nx5d plot --raw` draws
    (line,) = [line for ax in figure.axes for line in ax.lines]
    np.testing.assert_array_equal(line.get_ydata(), counted)
    np.testing.assert_array_equal(line.get_xdata(), raw.Theta.values)  # against the scanned motor
    assert line.axes.get_xlabel() == "Theta (deg)"
    assert line.axes.get_ylabel() == "images, summed per point (counts)"


def test_real_spec_files_profile_their_detector_column(monkeypatch):
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", False)  # cooked here, so that the rule's warning is seen
    aps = nx5d.open(f"file://{shared_path('realdata', 'spec-aps')}/{{proposal}}.dat#{{scan}}", spice_url="")
    expected = {
        ("APS_spec_data", "5.1"): "USAXS_PD",  # not I0, Monitor, ringc or Epoch
        ("user6idd", "1.1"): "Detector",
        ("20220311-161530", "1.1"): "incremental_diode",  # not the scaler's count time or the I00/I000 chambers
    }
    for (proposal, scan), detector in expected.items():
        with pytest.warns(UserWarning, match=f"the last counter that is no .* is {detector!r}"):
            profile = aps[proposal][scan].cooked
        assert profile.attrs["signal"] == detector
        assert profile.attrs["signal_choice"].startswith("nx5d's rule")


def test_the_nexus_manual_example_profiles_its_declared_signal():
    repo = nx5d.open(f"file://{shared_path('realdata', 'nexus')}/{{proposal}}.h5#{{scan}}", spice_url="")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        profile = repo.writer_1_3.Scan.cooked
    assert (profile.attrs["signal"], profile.attrs["signal_choice"]) == ("counts", "the NeXus NXdata @signal")
    np.testing.assert_array_equal(profile.signal_variance.values, profile.signal.values)  # units: counts


def test_a_real_udkm_table_profiles_its_pilatus_column():
    root = shared_path("corpus", "set-a", "udkm", "pxs", "RawData")
    scan = nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="")["20211123"]["174703"]
    profile = scan.cook(PROFILE)
    assert profile.attrs["signal"] == "pilatus_rate"  # the table's 'Pilatus [ph/s]' column
    assert profile.attrs["signal_choice"] == "the beamline's declared profile signal"
    np.testing.assert_array_equal(profile.signal.values, scan.raw.pilatus_rate.values)
    assert np.isnan(profile.signal_variance.values).all()  # a rate in ph/s: no Poisson variance without the counts
