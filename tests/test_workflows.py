"""The workflows nx5d 3.x users bring: named repositories, environment defaults, dry runs, payload files,
export and quick looks -- through the Python API and the command line."""

import io
import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

import nx5d
from nx5d.app.cli import main
from nx5d.errors import OptionError
from nx5d_udkm.synth import ScanSpec, write_repository

SMALL = ScanSpec(delays=(-10.0, 0.0, 50.0), thetas=(18.4, 18.5, 18.6), delay_loops=1, frames=None)


@pytest.fixture
def data(tmp_path):
    write_repository(tmp_path / "data", {"20210205": ["091726", "101500"]}, SMALL)
    return tmp_path / "data"


@pytest.fixture
def config(tmp_path, monkeypatch, data):
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[repositories.lab]
url = "file://{data}/{{proposal}}/{{scan}}"
beamline = "udkm"
spice_url = "file://{tmp_path}/spice/{{proposal}}"
scan_handle = "t{{key}}"
timeout = 12
[repositories.lab.options]
reduce = 2
"""
    )
    monkeypatch.setenv("NX5D_CONFIG", str(path))
    monkeypatch.delenv("NX5D_DATA_REPO", raising=False)
    return path


def test_named_repositories_open_by_name_and_list(config, capsys):
    repo = nx5d.open("lab")
    assert repo.beamline == "udkm"
    assert repo.p20210205.handles() == ["t091726", "t101500"]
    assert (repo.storage.timeout, repo.options) == (12, {"reduce": 2})  # the core's and the beamline's, apart
    assert nx5d.open("lab", timeout=3, reduce=1).storage.timeout == 3  # given in the call: over the configuration
    assert main(["repos", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["name"], row["beamline"], row["scan_handle"]) == ("lab", "udkm", "t{key}")
    assert main(["ls", "lab", "20210205"]) == 0
    assert "t101500" in capsys.readouterr().out
    with pytest.raises(OptionError, match=r"no repository named 'lbb' in .*config.toml \(named there: lab\)"):
        nx5d.open("lbb")


SECRET = "s3cr3t-value"

CREDENTIAL_ENTRIES = [
    f'url = "s3://user:{SECRET}@bucket/{{proposal}}/{{scan}}"',
    f'url = "s3://bucket/{{proposal}}/{{scan}}"\nstorage_options = {{ s3 = {{ key = "AKIA", secret = "{SECRET}" }} }}',
    f'url = "s3://bucket/{{proposal}}/{{scan}}"\n[repositories.bad.storage_options.s3]\ntoken = "{SECRET}"',
    f'url = "https://host/{{proposal}}/{{scan}}"\n[repositories.bad.storage_options.headers]\n'
    f'Authorization = "Bearer {SECRET}"',
    f'url = "https://host/{{proposal}}/{{scan}}"\n[repositories.bad.storage_options.https.cookies]\n'
    f'session = "{SECRET}"',
    f'url = "file:///data/{{proposal}}/{{scan}}"\nspice_url = "s3://KEY:{SECRET}@bucket/spice/{{proposal}}"',
    f'url = "file:///data/{{proposal}}/{{scan}}"\n[repositories.bad.options]\npassword = "{SECRET}"',
]


@pytest.mark.parametrize("entry", CREDENTIAL_ENTRIES)
def test_credentials_are_never_kept_in_the_configuration_and_never_shown(data, tmp_path, monkeypatch, entry, capsys):
    """Every credential-bearing field alike; the refused entry is named, the others stay usable."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[repositories.good]\nurl = "file://{data}/{{proposal}}/{{scan}}"\n\n[repositories.bad]\n{entry}\n'
    )
    monkeypatch.setenv("NX5D_CONFIG", str(path))
    with pytest.raises(OptionError, match="credentials") as refused:
        nx5d.open("bad")
    assert SECRET not in str(refused.value)
    assert nx5d.open("good").keys() == ["20210205"]  # one refused entry never takes the others down
    assert main(["repos", "--json"]) == 1
    out, err = capsys.readouterr()
    assert [row["name"] for row in json.loads(out)] == ["good"]
    assert "refused repository 'bad'" in err
    assert SECRET not in out + err


def test_the_default_repository_from_the_environment(data, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NX5D_DATA_REPO", raising=False)
    with pytest.raises(OptionError, match="set NX5D_DATA_REPO"):
        nx5d.open()
    monkeypatch.setenv("NX5D_DATA_REPO", f"file://{data}/{{proposal}}/{{scan}}")
    monkeypatch.setenv("NX5D_SPICE_REPO", f"file://{tmp_path}/envspice/{{proposal}}")
    monkeypatch.setenv("NX5D_SCAN_HANDLE", "scan{key}")
    repo = nx5d.open()
    assert repo.p20210205.handles() == ["scan091726", "scan101500"]
    repo.p20210205.spice.seed("settings", grid_size=[20, 30])
    assert list((tmp_path / "envspice" / "20210205").glob("*.json"))
    assert main(["ls"]) == 0
    assert "20210205" in capsys.readouterr().out
    assert main(["ls", "20210205"]) == 0  # the proposal, of the default repository
    assert "scan091726" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    for out in (tmp_path / "cooked", "./cooked-here"):  # an option's value that looks like a path is no repository
        assert main(["cook", "--out", str(out), "--proposal", "20210205", "--scans", "091726", "--workers", "1"]) == 0
        assert main(["cook", f"--out={out}", "--proposal", "20210205", "--scans", "091726", "--workers", "1"]) == 0
        capsys.readouterr()
    assert (tmp_path / "cooked" / "20210205" / "091726.nc").exists()


def test_paths_and_path_objects_open_like_file_urls(data):
    for given in (f"{data}/{{proposal}}/{{scan}}", Path(data) / "{proposal}" / "{scan}"):
        assert nx5d.open(given, spice_url="").keys() == ["20210205"]


def test_a_dry_run_shows_spice_changes_and_writes_nothing(data, tmp_path, capsys):
    url = f"file://{data}/{{proposal}}/{{scan}}"
    spice = f"file://{tmp_path}/spice/{{proposal}}"
    nx5d.open(url, spice_url=spice).p20210205.spice.seed("settings", grid_size=[20, 30])
    dry = nx5d.open(url, spice_url=spice, spice_dry_run=True).p20210205
    dry.spice.update("101500", "settings", grid_size=[10, 10])
    assert dry.spice.view("101500")["settings"].grid_size == [10, 10]
    assert dry.r101500.cooked.qdata.shape[-2:] == (10, 10)
    assert len(list((tmp_path / "spice" / "20210205").glob("*.json"))) == 1
    assert nx5d.open(url, spice_url=spice).p20210205.spice.view("101500")["settings"].grid_size == [20, 30]
    argv = [
        "spice",
        url,
        "20210205",
        "update",
        "101500",
        "settings",
        "grid_size=[5,5]",
        "--spice-url",
        spice,
        "--dry",
        "--json",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["data"]["grid_size"] == [5, 5]
    assert "dry run: nothing written (1 record(s) would be)" in captured.err
    assert len(list((tmp_path / "spice" / "20210205").glob("*.json"))) == 1


def test_spice_payloads_from_a_file_and_standard_input(data, tmp_path, monkeypatch, capsys):
    url = f"file://{data}/{{proposal}}/{{scan}}"
    spice = f"file://{tmp_path}/spice/{{proposal}}"
    payload = tmp_path / "settings.json"
    payload.write_text(json.dumps({"img_center": [97, 241], "grid_size": [40, 50]}))
    assert main(["spice", url, "20210205", "seed", "settings", "--payload", str(payload), "--spice-url", spice]) == 0
    assert capsys.readouterr().out.startswith("wrote revision 1 of settings from the proposal start, uuid ")
    assert main(["spice", url, "20210205", "history", "settings", "--spice-url", spice, "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["data"] == {"img_center": [97, 241], "grid_size": [40, 50]}
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"Theta": 0.02}'))
    assert main(["spice", url, "20210205", "seed", "offsets", "--payload", "-", "--spice-url", spice, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == {"Theta": 0.02}
    monkeypatch.setattr(sys, "stdin", io.StringIO("[1, 2]"))
    assert main(["spice", url, "20210205", "seed", "other", "--payload", "-", "--spice-url", spice]) == 2
    assert "must be a JSON object" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["netcdf", "hdf5", "zarr"])
def test_export_raw_and_cooked(data, tmp_path, fmt):
    url = f"file://{data}/{{proposal}}/{{scan}}"
    out = tmp_path / "out"
    assert main(["export", url, "20210205", "0917*", "--raw", "--out", str(out), "--format", fmt]) == 0
    suffix = {"netcdf": ".nc", "hdf5": ".h5", "zarr": ".zarr"}[fmt]
    path = out / "20210205" / "raw" / f"091726{suffix}"
    engine = "zarr" if fmt == "zarr" else "h5netcdf"
    with xr.open_dataset(path, engine=engine) as stored:
        raw = nx5d.open(url, spice_url="").p20210205.r091726.raw
        np.testing.assert_array_equal(stored.images.values, raw.images.values)
        assert stored.attrs["nx5d_scan_url"].endswith("20210205/091726")
    if fmt == "hdf5":
        with h5py.File(path) as handle:
            assert handle["images"].shape == raw.images.shape
    assert main(["export", url, "20210205", "--out", str(out / "cooked"), "--format", fmt]) == 0
    assert sorted(p.name for p in (out / "cooked" / "20210205").iterdir()) == [f"091726{suffix}", f"101500{suffix}"]


def test_export_names_the_missing_writer_before_any_work(data, tmp_path):
    code = (
        "import sys; sys.modules['h5netcdf'] = None\n"  # as if the writer were not installed
        "from nx5d.app.cli import main\n"
        f"url = 'file://{data}/{{proposal}}/{{scan}}'\n"
        f"raise SystemExit(main(['export', url, '20210205', '--out', '{tmp_path}/out', '--format', 'netcdf']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "writing netcdf files needs h5netcdf" in done.stderr
    assert "pip install h5netcdf" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("raw", [False, True])
def test_quick_look_pictures(data, tmp_path, raw):
    pytest.importorskip("matplotlib")
    url = f"file://{data}/{{proposal}}/{{scan}}"
    out = tmp_path / "look.png"
    assert main(["plot", url, "20210205", "r091726", "--out", str(out), *(["--raw"] if raw else [])]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_raw_quick_look_draws_the_detector_against_theta_one_line_per_delay(data):
    """What `nx5d plot --raw` draws for a UDKM delay x theta scan: the Pilatus column, not the point number."""
    pytest.importorskip("matplotlib")
    from nx5d_rsm.plot import quick_look

    scan = nx5d.open(f"file://{data}/{{proposal}}/{{scan}}", spice_url="").p20210205.r091726
    figure = quick_look(scan, raw=True)
    frames, signal = [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]
    assert figure._suptitle.get_text() == "20210205, scan 091726: raw data"
    assert signal.get_xlabel() == "Theta (deg)"
    assert signal.get_ylabel() == "Pilatus [ph/s]"  # its unit once
    assert [line.get_label() for line in signal.get_lines()] == ["delay = -10 ps", "delay = 0 ps", "delay = 50 ps"]
    raw = scan.raw
    for line, delay in zip(signal.get_lines(), SMALL.delays, strict=True):
        points = raw.delay.values == delay
        np.testing.assert_array_equal(line.get_xdata(), raw.theta.values[points])
        np.testing.assert_array_equal(line.get_ydata(), raw.pilatus_rate.values[points])
    assert frames.get_title() == "detector frames, summed"
    (colourbar,) = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert colourbar.get_ylabel() == f"sum of {raw.sizes['index']} frames (counts)"


def test_the_cooked_quick_look_is_titled_by_scan_and_recipe(data):
    pytest.importorskip("matplotlib")
    from nx5d_rsm.plot import quick_look

    figure = quick_look(nx5d.open(f"file://{data}/{{proposal}}/{{scan}}", spice_url="").p20210205.r091726)
    assert figure._suptitle.get_text() == "20210205, scan 091726: reciprocal space maps (recipe delay-rsm)"


def test_ctrl_c_stops_a_cook_cleanly(tmp_path):
    """SIGINT during `nx5d cook`: 'interrupted', exit status 130, no traceback from the command or its workers."""
    import os
    import signal
    import time

    scans = [f"{n:06d}" for n in range(80000, 80040)]
    write_repository(
        tmp_path / "data", {"20210205": scans}, ScanSpec(delays=tuple(range(10)), thetas=(18.4, 18.5, 18.6, 18.7, 18.8))
    )
    url = f"file://{tmp_path}/data/{{proposal}}/{{scan}}"
    command = [sys.executable, "-m", "nx5d", "cook", url, "--out", str(tmp_path / "out"), "--workers", "1"]
    child = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "NX5D_PROGRESS": "0"}
    )
    first = child.stderr.readline()
    assert first.startswith("cooking proposal 20210205 in 1 process(es)")
    report = child.stderr.readline()  # the first scan is done: 39 are left, seconds of work
    assert report.strip().startswith(scans[0]), report
    child.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "nx5d: interrupted" in err
    assert "Traceback" not in err
    assert time.monotonic() - started < 20
    written = list((tmp_path / "out" / "20210205").glob("*.nc")) if (tmp_path / "out" / "20210205").exists() else []
    assert len(written) < len(scans)


def test_cook_reports_each_scan_as_it_is_done_and_names_a_missing_writer_first(data, tmp_path):
    import os

    url = f"file://{data}/{{proposal}}/{{scan}}"
    env = {**os.environ, "NX5D_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "nx5d", "cook", url, "--out", str(tmp_path / "out"), "--workers", "1"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "cooking proposal 20210205 in 1 process(es) ..."
    assert sorted(line.split(":")[0].strip() for line in lines[1:]) == ["091726", "101500"]
    code = (
        "import sys; sys.modules['h5netcdf'] = None\n"
        "from nx5d.app.cli import main\n"
        f"raise SystemExit(main(['cook', 'file://{data}/{{proposal}}/{{scan}}', '--out', '{tmp_path}/out2']))"
    )
    missing = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert missing.returncode == 2
    assert "writing netcdf files needs h5netcdf" in missing.stderr
    assert "pip install h5netcdf" in missing.stderr
    assert not (tmp_path / "out2").exists()


def test_shell_completion_offers_commands_and_options():
    import os

    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": "nx5d exp",
        "COMP_POINT": "8",
        "_ARGCOMPLETE_STDOUT_FILENAME": "/dev/stdout",
    }
    done = subprocess.run([sys.executable, "-m", "nx5d"], capture_output=True, text=True, env=env)
    assert "export" in done.stdout


def test_xarray_opens_a_scan_with_engine_nx5d(data):
    url = f"file://{data}/{{proposal}}/{{scan}}"
    expected = nx5d.open(url, spice_url="").p20210205.r091726.raw
    lazily = xr.open_dataset(url, engine="nx5d", proposal="20210205", scan="r091726")
    assert type(lazily.images.variable._data).__name__ != "ndarray"  # not read yet
    xr.testing.assert_identical(lazily.load(), expected.load())
    chunked = xr.open_dataset(url, engine="nx5d", proposal="20210205", scan="091726", chunks={"index": 4})
    assert chunked.images.chunks[0] == (4, 4, 1)
    np.testing.assert_array_equal(chunked.images.values, expected.images.values)
    by_url = xr.open_dataset(f"file://{data}/20210205/101500", engine="nx5d", repository=url, options={"reduce": 2})
    assert by_url.images.shape[1:] == (98, 244)
    assert by_url.images.y.values[1] == 2  # full-frame pixel numbers
    dropped = xr.open_dataset(url, engine="nx5d", proposal="20210205", scan="091726", drop_variables=["images"])
    assert "images" not in dropped
    with pytest.raises(OptionError, match="give proposal= and scan="):
        xr.open_dataset(url, engine="nx5d")
    with pytest.raises(OptionError, match="is no scan of the repository"):
        xr.open_dataset(f"file://{data}/elsewhere", engine="nx5d", repository=url)


def test_frames_load_in_the_chunks_asked_for(data):
    scan = nx5d.open(f"file://{data}/{{proposal}}/{{scan}}", spice_url="").p20210205.r091726
    chunked = scan.load(chunks={"index": 4})
    assert chunked.images.chunks[0] == (4, 4, 1)
    np.testing.assert_array_equal(chunked.images.values, scan.load(lazy=False).images.values)
    assert scan.load(chunks=2).images.chunks[0][0] == 2
    with pytest.raises(OptionError, match="chunks must be frames per chunk"):
        scan.load(chunks={"y": 4})
