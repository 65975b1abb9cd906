"""Results that go somewhere: NeXus exports that every bundled beamline's scans round-trip through, CSV, reproduce."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

import nx5d
from nx5d.app.cli import main
from nx5d.errors import DataChangedError, OutputExistsError, PluginVersionError, SpiceRecordGoneError
from nx5d_kmc3.synth import ScanPlan
from nx5d_kmc3.synth import write_repository as write_kmc3
from nx5d_nexus.synth import write_repository as write_nexus_repository
from nx5d_results.batch import cook_proposal
from nx5d_results.export import export_scans
from nx5d_results.reproduce import reproduce
from nx5d_spec.synth import write_spec
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

SMALL = ScanSpec(delays=(-10.0, 50.0), thetas=(18.5, 18.6, 18.7), delay_loops=1, frames=None)


def udkm(root):
    url = write_udkm(root / "udkm", {"20210205": ["091726"]}, SMALL)
    return url, "20210205", "091726", {"settings": {"grid_size": [20, 30]}}


def kmc3(root):
    plans = (ScanPlan(points=5, frame_shape=(40, 60)),)
    url = f"file://{root}/kmc3/{{proposal}}/{{proposal}}.h5#{{scan}}"
    write_kmc3(url, {"253-cw38-12345-doe": plans}, sources=root / "kmc3-spec")
    return url, "253-cw38-12345-doe", "1.1", {"settings": {"img_center": [20.0, 30.0], "grid_size": [20, 30]}}


def spec(root):
    (root / "spec").mkdir()
    write_spec(root / "spec" / "beamtime.spec", scans=2)
    return f"file://{root}/spec/{{proposal}}.spec#{{scan}}", "beamtime", "1.1", {}


def nexus(root):
    url = write_nexus_repository(root / "nexus", {"hc2103": [1]}, "bliss", points=7)
    return url, "hc2103", "1.1", {}


BEAMLINES = {"udkm": udkm, "kmc3": kmc3, "spec": spec, "nexus": nexus}


def same_arrays(a, b):
    """Bit-identical: the same variables, dimensions, types and bytes."""
    assert set(a.variables) == set(b.variables)
    assert set(a.coords) == set(b.coords)
    for name in a.variables:
        left, right = a[name].variable, b[name].variable
        assert (left.dims, left.dtype, left.shape) == (right.dims, right.dtype, right.shape), name
        values, back = np.asarray(left.values), np.asarray(right.values)
        assert values.tobytes() == back.tobytes() if values.dtype.kind in "biufcmM" else np.array_equal(values, back)


def check_nexus(path, kind):
    """The NeXus default plot a viewer looks for, the provenance, compression."""
    with h5py.File(path, "r") as root:
        assert root.attrs["NX_class"] == "NXroot"
        assert root.attrs["nx5d_export"] == kind
        entry = root[root.attrs["default"]]
        assert entry.attrs["NX_class"] == "NXentry"
        data = entry[entry.attrs["default"]]
        assert data.attrs["NX_class"] == "NXdata"
        signal = data[data.attrs["signal"]]
        axes = list(data.attrs["axes"])
        assert len(axes) == signal.ndim
        for k, axis in enumerate(axes):
            if axis != ".":
                assert data[axis].shape == (signal.shape[k],)
                assert data.attrs[f"{axis}_indices"] == k
        assert "long_name" in signal.attrs or kind == "raw"
        if signal.size > 1:
            assert signal.compression == "gzip"
        assert entry.attrs["nx5d_beamline"]
        assert entry.attrs["nx5d_scan_url"]
        return root.attrs["nx5d_export"], data.attrs["signal"], axes


@pytest.mark.parametrize("beamline", sorted(BEAMLINES))
def test_every_beamlines_cooked_and_raw_export_opens_again_bit_identical(beamline, tmp_path, cache):
    url, proposal, key, spice = BEAMLINES[beamline](tmp_path)
    repo = nx5d.open(url, spice_url="")
    assert repo.beamline == beamline
    for handle, values in spice.items():
        repo[proposal].spice.seed(handle, **values)
    scan = repo[proposal].scan(key)
    out = tmp_path / "out"
    (cooked_path, *csv) = export_scans(repo[proposal], [key], out)
    (raw_path,) = export_scans(repo[proposal], [key], out, raw=True)
    assert cooked_path == out / proposal / f"{key}.nxs"
    assert raw_path == out / proposal / "raw" / f"{key}.nxs"  # raw and cooked never share a name
    check_nexus(cooked_path, "cooked")
    check_nexus(raw_path, "raw")

    back = nx5d.open(f"file://{out}/{{proposal}}/{{scan}}.nxs", spice_url="")
    assert back.beamline == "results"
    cooked = back[proposal].scan(key).raw
    same_arrays(scan.cooked, cooked)
    assert cooked.attrs["nx5d_spice"] == scan.cooked.attrs["nx5d_spice"]
    assert json.loads(cooked.attrs["nx5d_options"]) == {}
    raw = nx5d.open(f"file://{out}/{{proposal}}/raw/{{scan}}.nxs", spice_url="")[proposal].scan(key).raw
    same_arrays(scan.load(lazy=False) if beamline in ("udkm", "kmc3", "nexus") else scan.raw, raw)
    if csv:  # a profile: a CSV beside, read back exactly
        (table,) = csv
        columns = np.loadtxt(table, delimiter=",", ndmin=2)
        header = table.read_text().splitlines()[1]
        names = [word.split(" [")[0] for word in header.lstrip("# ").split(", ")]
        for k, name in enumerate(names):
            assert columns[:, k].tobytes() == np.asarray(scan.cooked[name].values, dtype=float).tobytes()
        assert beamline in ("spec", "nexus")  # their scans cook to profiles


def test_the_generic_nexus_beamline_reads_a_raw_export_too(tmp_path):
    url, proposal, key, _ = udkm(tmp_path)
    repo = nx5d.open(url, spice_url="")
    export_scans(repo[proposal], [key], tmp_path / "out", raw=True)
    generic = nx5d.open(f"file://{tmp_path}/out/{{proposal}}/raw/{{scan}}.nxs", beamline="nexus", spice_url="")
    raw = generic[proposal].scan(key).load(lazy=False)
    original = repo[proposal].scan(key).raw
    assert raw.images.values.tobytes() == original.images.values.tobytes()
    assert raw.theta.values.tobytes() == original.theta.values.tobytes()


def test_an_existing_file_is_never_overwritten_without_being_told(tmp_path, capsys):
    url, proposal, key, _ = udkm(tmp_path)
    out = tmp_path / "out"
    assert main(["export", url, proposal, "--out", str(out), "--raw"]) == 0
    before = (out / proposal / "raw" / f"{key}.nxs").read_bytes()
    assert main(["export", url, proposal, "--out", str(out), "--raw"]) == 2
    assert "exist(s) already; nothing was written (--overwrite replaces them)" in capsys.readouterr().err
    assert (out / proposal / "raw" / f"{key}.nxs").read_bytes() == before
    repo = nx5d.open(url, spice_url="")
    with pytest.raises(OutputExistsError, match=f"{key}.nxs exist"):
        export_scans(repo[proposal], [key], out, raw=True)
    assert main(["export", url, proposal, "--out", str(out), "--raw", "--overwrite"]) == 0
    assert main(["export", url, proposal, "--out", str(out), "--format", "netcdf"]) == 0
    assert sorted(p.name for p in (out / proposal).iterdir()) == [f"{key}.nc", "raw"]


@pytest.mark.parametrize("beamline", ["udkm", "spec"])
def test_every_nx5d_cook_output_reproduces_identically(beamline, tmp_path, capsys):
    url, proposal, key, spice = BEAMLINES[beamline](tmp_path)
    repo = nx5d.open(url)
    for handle, values in spice.items():
        repo[proposal].spice.seed(handle, **values)
    outcomes = cook_proposal(repo[proposal], out=tmp_path / "cooked", workers=1)
    assert {o.status for o in outcomes} == {"written"}
    for outcome in outcomes:
        found = reproduce(outcome.path)
        assert found.identical, str(found)
        assert str(found) == "identical"
    assert main(["reproduce", outcomes[0].path]) == 0
    assert capsys.readouterr().out.strip() == "identical"
    export_scans(repo[proposal], [key], tmp_path / "exported")
    assert reproduce(tmp_path / "exported" / proposal / f"{key}.nxs").identical


def test_reproduce_names_what_is_no_longer_there(tmp_path):
    url, proposal, key, spice = udkm(tmp_path)
    repo = nx5d.open(url)
    repo[proposal].spice.seed("settings", **spice["settings"])
    repo[proposal].spice.update(key, "settings", grid_size=[24, 30])  # revision 2: the view moves on
    cook_proposal(repo[proposal], out=tmp_path / "cooked", workers=1)
    path = tmp_path / "cooked" / proposal / f"{key}.nc"
    assert reproduce(path).identical  # the records it was cooked with, whatever the view says now

    import xarray as xr

    def edited(name, **attrs):
        with xr.open_dataset(path, engine="h5netcdf") as stored:
            copy = stored.load().assign_attrs(**attrs)
        target = tmp_path / name
        copy.to_netcdf(target, engine="h5netcdf")
        return target

    with pytest.raises(PluginVersionError, match=r"made with nx5d-udkm 0\.0\.1 .*nx5d-udkm .* is installed"):
        reproduce(edited("plugin.nc", nx5d_plugin="nx5d-udkm 0.0.1"))
    spice = json.loads(xr.open_dataset(path, engine="h5netcdf").attrs["nx5d_spice"])
    spice["settings"]["revision"] = 7
    with pytest.raises(SpiceRecordGoneError, match=r"spice .settings. uuid [0-9a-f-]+ revision 7, which is no longer"):
        reproduce(edited("spice.nc", nx5d_spice=json.dumps(spice)))
    table = tmp_path / "udkm" / proposal / key / "manifest.dat"
    table.write_text(table.read_text())  # rewritten: its change time moves
    with pytest.raises(DataChangedError, match=r"changed or are gone since: .*manifest\.dat"):
        reproduce(path)
    shutil.rmtree(tmp_path / "udkm" / proposal / key)
    with pytest.raises(DataChangedError):
        reproduce(path)
