"""Every bundled beamline's default geometry puts a known reflection of a real file where it must be.

Exact arithmetic on a wrong geometry is still a wrong map, and the tests
comparing nx5d with xrayutilities for given geometries cannot see a wrong
*default*.  Here each beamline's defaults cook a real file of that beamline
(``../shared``, never copied into this repository) and the result is held
against physics and against an independent published analysis of the same
data:

* KMC3-XPP: the 2015 rocking scans of pyEvalData's example (10 x ``ascan th
  19.4 19.7``, Pilatus 100K).  Turning theta sweeps the film reflection along
  the detector's columns, so the columns lie in the scattering plane.  The
  film's (00L) reflection of a rocking scan must be specular -- q along the
  surface normal -- and where pyEvalData's notebook for this very data puts
  it (``QConversion(['y-', 'x+', 'z+'], ['y-'], [1, 0, 0])``, ``init_area('y+',
  'z-', cch1=74, cch2=225.8, distance=705)``, 9000 eV), written out here and
  computed by xrayutilities.
* UDKM PXS: a real lab folder (corpus set A; its TIFF frames were never
  published, only the table with the detector's column profile per frame,
  ``Intensities [ph/s]``) and the lab's own analysis of it, which wrote
  the qz of every profile channel back into the folder
  (``rockingCurves*.dat``).  nx5d's UDKM geometry -- columns in the
  scattering plane, rising with the exit angle, the detector arm at twice
  theta -- must give that qz axis, once the per-beamtime calibration is the
  analysis' own; and the FeRh film's (002) reflection must lie at its
  lattice spacing.
"""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pytest
import xrayutilities as xu

import nx5d
from nx5d_rsm import Setup
from nx5d_rsm.geometry import HC
from nx5d_udkm.settings import RsmSettings as UdkmSettings

from .shared import kmc3_beamtime, shared_path

#: pyEvalData's geometry for these scans (its notebook ``pilatusAtXPPbessy2``), in xrayutilities' terms.
PYEVALDATA = {
    "energy": 9000.0,
    "sample_axes": ["y-", "x+", "z+"],  # th, chi, phi
    "detector_axes": ["y-"],  # two theta
    "beam": [1, 0, 0],
    "normal": [0, 0, 1],
    "directions": ("y+", "z-"),
    "center": (74, 225.8),
    "distance": 705.0,
    "pixel": 0.172,
}
#: (002) lattice spacing of the SrTiO3 substrate (Å): the film's is larger.
STO_002 = 3.905 / 2
#: Largest angle between the film reflection's q and the surface normal (degrees) that counts as specular.
SPECULAR = 0.05


@pytest.fixture(scope="module")
def kmc3_scans(tmp_path_factory):
    """The real KMC3 proposal, opened with the beamline's defaults (no spice)."""
    root = kmc3_beamtime(tmp_path_factory.mktemp("kmc3"))
    repo = nx5d.open(f"file://{root}/{{proposal}}.spec#{{scan}}", spice_url="")
    assert repo.beamline == "kmc3"
    return repo.spec_pilatus


def _film_peak(intensity: np.ndarray, qy: np.ndarray, qz: np.ndarray) -> tuple[float, float]:
    """Centroid of the map's brightest region (above half its maximum), weighted by the height above half."""
    values = np.nan_to_num(intensity)
    above = np.clip(values - values.max() / 2.0, 0.0, None)
    return float((above.sum(1) * qy).sum() / above.sum()), float((above.sum(0) * qz).sum() / above.sum())


def _pyevaldata_map(raw, qy_axis: np.ndarray, qz_axis: np.ndarray) -> np.ndarray:
    """The frames gridded onto the cooked map's grid with pyEvalData's geometry, by xrayutilities."""
    g = PYEVALDATA
    qconv = xu.experiment.QConversion(g["sample_axes"], g["detector_axes"], g["beam"], en=g["energy"])
    rows, cols = raw.images.shape[1:]
    qconv.init_area(
        *g["directions"], *g["center"], rows, cols,
        distance=g["distance"], pwidth1=g["pixel"], pwidth2=g["pixel"],
    )  # fmt: skip
    theta = raw.Theta.values
    zero = np.zeros_like(theta)
    along_beam, _, along_normal = qconv.area(theta, zero, zero, np.full_like(theta, float(raw.Two_Theta)))
    frames = raw.images.values.astype(float) / raw.machine_current.values[:, None, None]  # the default monitor
    frames[raw.images.values < 0] = np.nan  # gap markers are no intensity
    gridder = xu.FuzzyGridder2D(qy_axis.size, qz_axis.size)
    gridder.dataRange(qy_axis[0], qy_axis[-1], qz_axis[0], qz_axis[-1], fixed=True)
    gridder(along_beam, along_normal, frames)
    return gridder.data


@pytest.mark.parametrize("scan", [f"{n}.1" for n in range(1, 11)])
def test_kmc3_defaults_put_the_film_reflection_of_every_real_rocking_scan_where_it_is(kmc3_scans, scan):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the file's repeated counter name, its missing last line end
        raw = kmc3_scans[scan].load(lazy=False)
    cooked = kmc3_scans[scan].cook()
    assert cooked.qdata.dims == ("qy", "qz")  # the scattering plane: along the beam, along the normal
    qy, qz = _film_peak(cooked.qdata.values * cooked.weight.values, cooked.qy.values, cooked.qz.values)

    tilt = math.degrees(math.atan2(qy, qz))
    assert abs(tilt) < SPECULAR, f"scan {scan}: the film reflection's q is {tilt:.3f}° off the surface normal"
    assert 2 * math.pi / qz > STO_002  # the film's lattice spacing (2.056 Å) exceeds the substrate's

    reference = _pyevaldata_map(raw, cooked.qy.values, cooked.qz.values)
    expected = _film_peak(reference, cooked.qy.values, cooked.qz.values)
    step = (cooked.qz.values[1] - cooked.qz.values[0], cooked.qy.values[1] - cooked.qy.values[0])
    assert qz == pytest.approx(expected[1], abs=0.05 * step[0])
    assert qy == pytest.approx(expected[0], abs=0.05 * step[1])


def _lab_analysis(folder) -> tuple[np.ndarray, np.ndarray]:
    """The qz and exit angle (rad) of every profile channel, as the lab's analysis wrote them."""
    (written,) = folder.glob("rockingCurves*.dat")
    rows = [line.split() for line in written.read_text().splitlines() if not line.startswith("#")]
    return np.array(rows[0][1:], float), np.array(rows[1][1:], float)


def test_udkm_defaults_give_the_qz_axis_of_the_labs_own_analysis_of_a_real_scan():
    root = shared_path("corpus", "set-a", "udkm", "pxs", "RawData")
    raw = nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="")["20211123"]["174703"].raw
    lab_qz, lab_exit = _lab_analysis(root / "20211123" / "174703")
    assert raw.sizes["intensities_channel"] == lab_qz.size == 482
    (first_col, first_row), (last_col, last_row) = (
        map(int, pair) for pair in re.findall(r"\((\d+), (\d+)\)", json.loads(raw.attrs["parameters"])["ROI"])
    )
    columns = np.arange(first_col, last_col + 1)  # the channels: the ROI's detector columns, summed over its rows
    theta = float(np.unique(raw.theta.values).item())  # a fixed-angle time-resolved scan: 30.5 degrees
    # the analysis' calibration: its pixel step (distance), the channel where the exit angle is theta, its k
    step = float(np.mean(np.diff(lab_exit)))
    centre = first_col + (math.radians(theta) - lab_exit[0]) / step
    k = lab_qz[0] / (math.sin(lab_exit[0]) + math.sin(math.radians(theta)))
    settings = UdkmSettings(
        energy=HC * k / (2 * math.pi), img_center=((first_row + last_row) / 2, centre), img_distance=0.172 / step
    )
    assert settings.image_axes == UdkmSettings().image_axes  # the orientation is the plugin's default
    setup = Setup.from_settings(settings)
    _, qz = setup.q_maps([np.array([theta])], [np.array([2 * theta])], np.array([settings.img_center[0]]), columns,
                         axes=("qx", "qz"))  # fmt: skip
    # the lab takes the angle per pixel as constant (atan(pixel / distance)): 3e-4 1/Å at the far columns
    np.testing.assert_allclose(qz[0, 0], lab_qz, atol=5e-4)
    profile = raw.intensities.mean("index").values
    film = float(qz[0, 0, int(np.argmax(profile))])
    assert 4 * math.pi / film == pytest.approx(2.99, rel=0.015)  # FeRh's (002): c of the CsCl cell, 2.99 Å


def test_real_frames_read_in_worker_processes_give_the_maps_threads_give(kmc3_scans, monkeypatch):
    """The real Pilatus frames of a KMC3 rocking scan, streamed through forked worker processes (as a scan of 512
    frames or more is): the same bits as with threads, every frame file in the data identity."""
    import nx5d.io.blocks
    import nx5d.io.forked
    from nx5d.io.storage import record_io

    monkeypatch.setattr(nx5d.cooked_cache, "enabled", False)
    monkeypatch.setattr(nx5d.io.blocks, "FORK_FROM_BLOCKS", 1)
    monkeypatch.setattr(nx5d.io.forked, "PARTS_PER_MESSAGE", 1)
    monkeypatch.delenv("NX5D_FORK", raising=False)
    forks = []
    fork = nx5d.io.forked._fork
    monkeypatch.setattr(nx5d.io.forked, "_fork", lambda: forks.append(1) or fork())
    scan = kmc3_scans["3.1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the file's repeated counter name, its missing last line end
        scan.reload()
        with record_io() as reading:
            forked = scan.cook()
        monkeypatch.setenv("NX5D_FORK", "0")
        scan.reload()
        threaded = scan.cook()
    assert len(forks) == 2
    frames = {url for url in reading.urls if url.endswith(".tif")}
    assert len(frames) >= int(threaded.frames.sum()) > 8  # every frame gridded was read, and counted here
    for name in ("qdata", "qdata_variance", "weight", "intensity_variance", "pixels"):
        np.testing.assert_array_equal(forked[name].values, threaded[name].values)
    assert forked.attrs["nx5d_data_identity"] == threaded.attrs["nx5d_data_identity"]
