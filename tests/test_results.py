"""Results that go somewhere: NeXus exports that every bundled beamline's scans round-trip through, CSV, reproduce."""

from __future__ import annotations

import json
import re
import shutil

import h5py
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from nexusformat.nexus import nxload

import nx5d
import nx5d_memory
from nx5d.app.cli import main
from nx5d.errors import (
    CorruptDataError,
    DataChangedError,
    OutputExistsError,
    PluginVersionError,
    ReproductionError,
    SpiceRecordGoneError,
)
from nx5d_kmc3.synth import ScanPlan
from nx5d_kmc3.synth import write_repository as write_kmc3
from nx5d_nexus.synth import write_repository as write_nexus_repository
from nx5d_results.batch import cook_proposal
from nx5d_results.export import export_scans
from nx5d_results.nexus import read_nexus
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


def memory(root):
    """Frames registered in this process, cooked to a map by a recipe of the test's own."""
    frames = np.random.default_rng(7).poisson(5.0, size=(4, 6, 8)).astype("int32")
    data = xr.Dataset({"images": (("index", "y", "x"), frames)}, coords={"th": ("index", [1.0, 1.1, 1.2, 1.3])})

    def cook(raw, norm):
        summed = raw.images.sum("index").values / norm.monitor
        qdata = xr.Variable(("qy", "qz"), summed, {"long_name": "summed counts per monitor"})
        axes = {q: (q, np.arange(n, dtype=float), {"units": "1/Å"}) for q, n in (("qy", 6), ("qz", 8))}
        return xr.Dataset({"qdata": qdata}, coords=axes)

    url = nx5d_memory.register(f"results-{root.name}", {"p1": {"1": data}}, cook=cook, spice={"norm": {"monitor": 2.0}})
    return url, "p1", "1", {}


BEAMLINES = {"udkm": udkm, "kmc3": kmc3, "spec": spec, "nexus": nexus, "memory": memory}
#: The default plot of each beamline's raw export: the frames (or SPEC's detector counter, its last column)
#: against the scanned motor.
RAW_PLOTS = {
    "udkm": ("images", ["theta", "y", "x"]),
    "kmc3": ("images", ["Theta", "y", "x"]),
    "spec": ("Detector", ["Theta"]),
    "nexus": ("images", ["eta", "y", "x"]),
    "memory": ("images", ["th", ".", "."]),  # no motor named: the coordinate along the points
}


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
    """The NeXus default plot a viewer looks for (read with h5py, and with nexusformat), the provenance,
    compression; returns the plot's signal and axes."""
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
        signal_name = data.attrs["signal"]
    plot = nxload(str(path)).plottable_data  # what NeXpy plots as the file opens
    assert plot.nxpath == "/entry/data"
    assert plot.nxsignal.nxname == signal_name
    assert [a.nxname for a, name in zip(plot.nxaxes, axes, strict=True) if name != "."] == [a for a in axes if a != "."]
    return signal_name, axes


@pytest.mark.parametrize("beamline", sorted(BEAMLINES))
def test_every_beamlines_cooked_and_raw_export_opens_again_bit_identical(beamline, tmp_path, cache):
    url, proposal, key, spice = BEAMLINES[beamline](tmp_path)
    repo = nx5d.open(url)  # the spice kept where reproduce finds it
    assert repo.beamline == beamline
    for handle, values in spice.items():
        repo[proposal].spice.seed(handle, **values)
    scan = repo[proposal].scan(key)
    out = tmp_path / "out"
    (cooked_path, *csv) = export_scans(repo[proposal], [key], out)
    (raw_path,) = export_scans(repo[proposal], [key], out, raw=True)
    assert cooked_path == out / proposal / f"{key}.nxs"
    assert raw_path == out / proposal / "raw" / f"{key}.nxs"  # raw and cooked never share a name
    signal, axes = check_nexus(cooked_path, "cooked")
    assert signal == ("qdata" if "qdata" in scan.cooked else "signal")  # a map, or a profile
    assert axes == list(scan.cooked[signal].dims)  # each axis of a result is its coordinate
    assert check_nexus(raw_path, "raw") == RAW_PLOTS[beamline]
    assert str(reproduce(cooked_path)) == "identical"

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


def test_an_export_into_a_folder_that_cannot_be_written_fails_before_any_scan_is_read(tmp_path, capsys):
    from nx5d.errors import StorageError
    from nx5d.io.storage import record_io

    url, proposal, key, _ = udkm(tmp_path)
    (tmp_path / "a file").write_text("not a folder")
    out = tmp_path / "a file" / "out"
    repo = nx5d.open(url, spice_url="")
    with record_io() as io_, pytest.raises(StorageError, match=r"cannot write into .*a file/out/"):
        export_scans(repo[proposal], [key], out, raw=True)
    assert io_.bytes_read == 0
    assert main(["export", url, proposal, "--out", str(out), "--raw"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("nx5d: error: cannot write into ")


@pytest.mark.parametrize("beamline", sorted(set(BEAMLINES) - {"memory"}))  # nx5d cook works in other processes
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


def test_reproduce_reports_the_differences_of_a_result_that_is_not_what_its_recipe_gives(tmp_path, capsys):
    url, proposal, key, _ = spec(tmp_path)
    repo = nx5d.open(url)
    (exported, table) = export_scans(repo[proposal], [key], tmp_path / "out")
    with h5py.File(exported, "r+") as root:  # a result edited after it was made
        signal = root["entry/data/signal"]
        signal[3] = signal[3] + 1.0
        points = signal.shape[0]
    found = reproduce(exported)
    assert not found.identical
    assert found.differences == (f"signal: 1 of {points} values differ",)
    assert main(["reproduce", str(exported)]) == 1
    assert capsys.readouterr().out.splitlines() == ["different:", f"  signal: 1 of {points} values differ"]
    assert main(["reproduce", "--json", str(exported)]) == 1
    told = json.loads(capsys.readouterr().out)
    assert (told["identical"], told["differences"]) == (False, [f"signal: 1 of {points} values differ"])
    assert main(["reproduce", str(table)]) == 2  # a CSV file says nothing of how it was made
    assert "cannot be read as HDF5" in capsys.readouterr().err


def test_reproduce_names_what_is_no_longer_there(tmp_path):
    url, proposal, key, spice = udkm(tmp_path)
    repo = nx5d.open(url)
    repo[proposal].spice.seed("settings", **spice["settings"])
    repo[proposal].spice.update(key, "settings", grid_size=[24, 30])  # revision 2: the view moves on
    cook_proposal(repo[proposal], out=tmp_path / "cooked", workers=1)
    path = tmp_path / "cooked" / proposal / f"{key}.nc"
    assert reproduce(path).identical  # the records it was cooked with, whatever the view says now

    def edited(name, **attrs):
        with xr.open_dataset(path, engine="h5netcdf") as stored:
            copy = stored.load().assign_attrs(**attrs)
        target = tmp_path / name
        copy.to_netcdf(target, engine="h5netcdf")
        return target

    with pytest.raises(PluginVersionError, match=r"made with nx5d-udkm 0\.0\.1 .*nx5d-udkm .* is installed"):
        reproduce(edited("plugin.nc", nx5d_plugin="nx5d-udkm 0.0.1"))
    with pytest.raises(PluginVersionError, match=r"version\.nc was made with nx5d 0\.0\.1; nx5d \S+ is installed"):
        reproduce(edited("version.nc", nx5d_version="0.0.1"))
    with pytest.raises(PluginVersionError, match=r"made with nx5d-gone 1\.0, which is not installed"):
        reproduce(edited("beamline.nc", nx5d_beamline="gone", nx5d_plugin="nx5d-gone 1.0"))
    made = xr.open_dataset(path, engine="h5netcdf").attrs["nx5d_distributions"]
    older = made.replace("nx5d-rsm ", "nx5d-rsm 0.0.1+")  # the recipes' distribution was another version then
    noted = reproduce(edited("distributions.nc", nx5d_distributions=older))
    assert noted.identical
    (note,) = noted.notes
    assert "nx5d-rsm 0.0.1+" in note
    assert "a difference may come from them" in note
    bare = tmp_path / "bare.nc"
    xr.Dataset({"x": ("i", np.arange(3))}).to_netcdf(bare, engine="h5netcdf")
    with pytest.raises(ReproductionError, match=r"bare\.nc does not say how it was made: it lacks nx5d_repository"):
        reproduce(bare)
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


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A cooked profile exported to NeXus, the bytes of the file."""
    root = tmp_path_factory.mktemp("exported")
    url, proposal, key, _ = spec(root)
    (path, _) = export_scans(nx5d.open(url, spice_url="")[proposal], [key], root / "out")
    return path.read_bytes()


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_damaged_export_is_a_named_error_never_wrong_arrays(exported, data, tmp_path_factory):
    """Cut short anywhere, or with garbage in any attribute nx5d reads back: CorruptDataError naming the file."""
    path = tmp_path_factory.mktemp("damaged") / "1.1.nxs"
    if data.draw(st.booleans(), label="truncated"):
        path.write_bytes(exported[: data.draw(st.integers(0, len(exported) - 1), label="length")])
    else:
        path.write_bytes(exported)
        with h5py.File(path, "r+") as root:
            names = [
                "entry",
                *(f"entry/data/{n}" for n in root["entry/data"] if "nx5d_dims" in root["entry/data"][n].attrs),
            ]
            node = root[data.draw(st.sampled_from(names), label="node")]
            attribute = (
                "nx5d_attrs" if node.name == "/entry" else data.draw(st.sampled_from(["nx5d_dims", "nx5d_attrs"]))
            )
            wrong = ["", "[oops", "7", "null", '["a", "b", "c"]', "{}" if attribute == "nx5d_dims" else "[]"]
            node.attrs[attribute] = data.draw(st.sampled_from(wrong), label="value")  # none of them a valid one
    with pytest.raises(CorruptDataError, match=re.escape(str(path))):
        read_nexus(path)
