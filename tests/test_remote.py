"""Remote repositories: generated UDKM and KMC3 data served by real loopback HTTP and S3 (moto) servers."""

import json
import os
import subprocess
import sys

import attrs
import numpy as np
import pytest

import nx5d
from nx5d.errors import CorruptDataError, MissingDataError, ScanNotFoundError, SpiceError, StorageError
from nx5d.io.storage import record_io
from nx5d_kmc3.synth import ScanPlan
from nx5d_kmc3.synth import write_repository as write_kmc3
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

from .servers import serve

pytest.importorskip("aiohttp")
s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

SMALL = ScanSpec(delays=(-10.0, 50.0), thetas=(18.5, 18.6, 18.7), delay_loops=1, frames=None)
KMC3_PLANS = (ScanPlan(points=5, frame_shape=(40, 60)), ScanPlan("delay", points=4, frame_shape=(40, 60)))
KMC3_SPICE = {"settings": {"img_center": [20.0, 30.0], "grid_size": [20, 30]}}
UDKM_SPICE = {"settings": {"grid_size": [20, 30]}}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("remote")
    write_udkm(root / "udkm", {"20210205": ["091726", "101500"]}, SMALL)
    write_kmc3(
        f"file://{root}/kmc3/{{proposal}}/{{proposal}}.h5#{{scan}}",
        {"253-cw38-12345-doe": KMC3_PLANS},
        sources=root / "kmc3-spec",
    )
    return root


@pytest.fixture(scope="module")
def http_url(data):
    with serve(str(data)) as where:
        yield f"http://{where}"


@pytest.fixture(scope="module")
def s3(data):
    """A moto S3 server on loopback holding the generated repositories in bucket ``beamtime``."""
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
    fs.mkdir("beamtime")
    for name in ("udkm", "kmc3", "kmc3-spec"):
        fs.put(f"{data}/{name}/", f"beamtime/{name}/", recursive=True)
    yield endpoint, {"s3": {"client_kwargs": {"endpoint_url": endpoint}}}
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def local(data, url):
    return nx5d.open(f"file://{data}/{url}", spice_url="")


def assert_same_udkm(remote, data):
    here = local(data, "udkm/{proposal}/{scan}")
    assert remote.beamline == "udkm"
    assert remote.all() == here.all() == {"20210205": "p20210205"}
    assert remote.p20210205.all() == {"091726": "r091726", "101500": "r101500"}
    assert remote.p20210205.r091726.summary == here.p20210205.r091726.summary
    np.testing.assert_array_equal(remote.p20210205.r091726.raw.images, here.p20210205.r091726.raw.images)
    np.testing.assert_array_equal(
        remote.p20210205.r101500.cook(UDKM_SPICE).qdata, here.p20210205.r101500.cook(UDKM_SPICE).qdata
    )


def assert_same_kmc3(remote, data):
    here = local(data, "kmc3/{proposal}/{proposal}.h5#{scan}")
    assert remote.beamline == "kmc3"
    assert remote.all() == {"253-cw38-12345-doe": "doe12345"}
    assert remote.doe12345.keys() == ["1.1", "2.1"]
    assert remote.doe12345["1.1"].summary == here.doe12345["1.1"].summary
    np.testing.assert_array_equal(remote.doe12345["2.1"].raw.images, here.doe12345["2.1"].raw.images)
    np.testing.assert_array_equal(
        remote.doe12345["1.1"].cook(KMC3_SPICE).qdata, here.doe12345["1.1"].cook(KMC3_SPICE).qdata
    )


def test_udkm_over_http(http_url, data):
    assert_same_udkm(nx5d.open(f"{http_url}/udkm/{{proposal}}/{{scan}}", spice_url=""), data)


def test_kmc3_over_http_hdf5_and_spec(http_url, data):
    assert_same_kmc3(nx5d.open(f"{http_url}/kmc3/{{proposal}}/{{proposal}}.h5#{{scan}}", spice_url=""), data)
    spec = nx5d.open(f"{http_url}/kmc3-spec/{{proposal}}/{{proposal}}.spec#{{scan}}", spice_url="")
    here = local(data, "kmc3/{proposal}/{proposal}.h5#{scan}")
    np.testing.assert_array_equal(
        spec.doe12345["1.1"].load(lazy=False).images, here.doe12345["1.1"].load(lazy=False).images
    )


def test_udkm_over_s3(s3, data):
    _, options = s3
    assert_same_udkm(nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", storage_options=options, spice_url=""), data)


def test_kmc3_over_s3(s3, data):
    _, options = s3
    remote = nx5d.open("s3://beamtime/kmc3/{proposal}/{proposal}.h5#{scan}", storage_options=options, spice_url="")
    assert_same_kmc3(remote, data)


def test_public_bucket_is_read_anonymously_and_a_private_one_is_refused_naming_the_url(s3, data):
    endpoint, _ = s3
    # a public bucket, as beamlines publish data: bucket and objects readable by anyone (canned ACL public-read)
    publisher = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, s3_additional_kwargs={"ACL": "public-read"})
    publisher.mkdir("open-data", acl="public-read")
    publisher.put(f"{data}/udkm/", "open-data/udkm/", recursive=True)
    url = "s3://open-data/udkm/{proposal}/{scan}"
    with pytest.MonkeyPatch.context() as env:
        # no credentials anywhere botocore looks, and no instance-metadata lookups off this machine
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            env.delenv(name, raising=False)
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        env.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        anonymous = {"s3": {"anon": True, "client_kwargs": {"endpoint_url": endpoint}}}
        assert_same_udkm(nx5d.open(url, storage_options=anonymous, spice_url=""), data)
        private = nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", beamline="udkm", storage_options=anonymous)
        with pytest.raises(StorageError, match=r"permission denied for s3://beamtime/udkm/20210205/091726/"):
            private.p20210205.r091726.raw  # noqa: B018 - a private bucket read without credentials


READ_SPICE = """
import json, sys, nx5d
repo = nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", storage_options=json.loads(sys.argv[1]))
print(repo.p20210205.spice.view("101500")["settings"].grid_size)
"""


def test_spice_written_to_s3_survives_and_is_seen_by_another_process(s3):
    _, options = s3
    repo = nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", storage_options=options)
    record = repo.p20210205.spice.seed("settings", grid_size=[24, 36])
    fresh = nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", storage_options=options)  # a new client
    assert fresh.p20210205.spice.history("settings")[0]["uuid"] == record["uuid"]
    assert fresh.p20210205.r101500.cooked.qdata.shape == (2, 24, 36)
    run = subprocess.run(
        [sys.executable, "-c", READ_SPICE, json.dumps(options)], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[24, 36]"


def test_s3_spice_record_is_never_overwritten(s3):
    """The server refuses a second PUT of the same record name (If-None-Match), so no writer replaces a record."""
    _, options = s3
    book = nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", storage_options=options).p20210205.spice
    record = book.seed("sample", name="SrRuO3 on STO")
    stored = next(r for r in book.records() if r.uuid == record["uuid"])
    with pytest.raises(SpiceError, match="refusing to overwrite"):
        book.store.write("20210205", attrs.evolve(stored, data={"name": "replaced"}))
    assert next(r for r in book.records() if r.uuid == record["uuid"]).data == {"name": "SrRuO3 on STO"}


def test_listing_an_s3_prefix_is_one_list_call_not_one_request_per_object(s3, data):
    endpoint, options = s3
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
    for i in range(300):
        fs.pipe(f"beamtime/many/20210301/{i:06d}/manifest.dat", b"Theta\n1\n")
    repo = nx5d.open("s3://beamtime/many/{proposal}/{scan}", beamline="udkm", storage_options=options, spice_url="")
    proposal = repo.p20210301
    with record_io() as io:
        keys = proposal.keys()
    assert len(keys) == 300
    assert io.listings == 1
    assert io.files_opened == 0


def test_network_faults_name_the_url(http_url, data, tmp_path):
    repo = nx5d.open(f"{http_url}/udkm/{{proposal}}/{{scan}}", spice_url="")
    with pytest.raises(ScanNotFoundError, match=rf"{http_url}/udkm.* has no scan with key '999999'"):
        repo.p20210205.scan("999999")
    frame = data / "udkm" / "20210205" / "101500" / "image00002.tiff"
    original = frame.read_bytes()
    frame.write_bytes(original[: len(original) // 2])  # a truncated object
    try:
        with pytest.raises(CorruptDataError, match=r"image00002\.tiff"):
            repo.p20210205.r101500.load(workers=1)
        repo.p20210205.r101500.reload()
        frame.unlink()  # the server answers 404
        with pytest.raises(MissingDataError, match=rf"{http_url}/udkm/20210205/101500/image00002\.tiff"):
            repo.p20210205.r101500.load()
    finally:
        frame.write_bytes(original)
    gone = nx5d.open("http://127.0.0.1:9/udkm/{proposal}/{scan}", beamline="udkm", spice_url="")
    with pytest.raises(StorageError, match=r"http://127.0.0.1:9/udkm"):
        gone.keys()


def test_summaries_are_read_in_parallel_in_the_order_of_the_scans(s3, data):
    endpoint, options = s3
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
    folder = data / "udkm" / "20210205" / "091726"
    table, parameters = (folder / "manifest.dat").read_bytes(), (folder / "parameters.txt").read_bytes()
    for i in range(40):
        names = {"manifest.dat": table, "parameters.txt": parameters} if i % 7 else {"notes.txt": b"no table"}
        fs.pipe({f"beamtime/busy/20210301/{100000 + i:06d}/{name}": content for name, content in names.items()})
    url = "s3://beamtime/busy/{proposal}/{scan}"
    parallel = nx5d.open(url, beamline="udkm", storage_options=options, spice_url="").p20210301.summaries()
    one_by_one = nx5d.open(url, beamline="udkm", storage_options=options, spice_url="").p20210301.summaries(workers=1)
    assert parallel == one_by_one
    assert [row["scan"] for row in parallel] == [f"{100000 + i:06d}" for i in range(40)]
    assert sum("unreadable" in str(row.get("notes")) for row in parallel) == 6  # folders without a table say so


def test_a_cache_chained_in_front_of_http_and_s3(http_url, s3, data, tmp_path):
    """fsspec's simplecache:: in front of a remote repository: the same data, the files kept in the cache folder."""
    cache = tmp_path / "cache"
    remote = nx5d.open(
        f"simplecache::{http_url}/udkm/{{proposal}}/{{scan}}",
        storage_options={"simplecache": {"cache_storage": str(cache)}},
        spice_url="",
    )
    assert remote.url == f"{http_url}/udkm/{{proposal}}/{{scan}}"
    assert_same_udkm(remote, data)
    assert any(cache.iterdir())
    _, options = s3
    s3_cache = tmp_path / "s3cache"
    over_s3 = nx5d.open(
        "simplecache::s3://beamtime/kmc3/{proposal}/{proposal}.h5#{scan}",
        storage_options={**options, "simplecache": {"cache_storage": str(s3_cache)}},
        spice_url="",
    )
    assert_same_kmc3(over_s3, data)
    assert any(s3_cache.iterdir())
    with pytest.raises(nx5d.errors.OptionError, match="only fsspec's caching file systems"):
        nx5d.open(f"zip::{http_url}/udkm/{{proposal}}/{{scan}}")


def test_a_second_session_gets_the_cooked_map_without_reading_frames_until_an_object_changes(s3, data, cache):
    """The cooked cache keys remote scans by the objects' ETag, modification time and size."""
    endpoint, options = s3
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
    fs.put(f"{data}/udkm/", "beamtime/remembered/", recursive=True)
    url = "s3://beamtime/remembered/{proposal}/{scan}"

    def session():
        return nx5d.open(url, storage_options=options, spice_url="").p20210205.r101500

    def frames(io):
        return sorted({u for u in io.urls if u.endswith(".tiff")})

    with record_io() as io:
        first = session().cook(UDKM_SPICE)
    assert len(frames(io)) == 6
    assert any(cache.iterdir())
    with record_io() as io:
        again = session().cook(UDKM_SPICE)  # a new session: nothing in memory
    assert frames(io) == []
    assert io.bytes_read == 0
    assert again.qdata.values.tobytes() == first.qdata.values.tobytes()
    frame = "beamtime/remembered/20210205/101500/image00002.tiff"
    fs.pipe(frame, fs.cat("beamtime/remembered/20210205/101500/image00003.tiff"))  # the object changes
    with record_io() as io:
        changed = session().cook(UDKM_SPICE)
    assert len(frames(io)) == 6  # cooked again
    assert changed.qdata.values.tobytes() != first.qdata.values.tobytes()
    with record_io() as io:
        session().cook(UDKM_SPICE)
    assert frames(io) == []  # and that result is remembered in turn


def test_the_scan_index_keeps_remote_summaries_until_an_object_changes(s3, data, tmp_path, monkeypatch):
    """Index rows of remote scans are checked against the objects' ETag, modification time and size."""
    from nx5d_index.extension import scan_index

    endpoint, options = s3
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
    fs.put(f"{data}/udkm/", "beamtime/indexed/", recursive=True)
    monkeypatch.setenv("NX5D_INDEX", str(tmp_path / "index") + "/")
    monkeypatch.setattr(scan_index, "_given", None)

    def session():
        with record_io() as io:
            rows = nx5d.open("s3://beamtime/indexed/{proposal}/{scan}", storage_options=options).p20210205.summaries()
        return rows, io

    first, io = session()
    assert io.bytes_read > 0
    assert len(scan_index) > 0
    again, io = session()  # a new session: the summaries come from the index, no object is read
    assert again == first
    assert (io.files_opened, io.bytes_read) == (0, 0)
    table = next(p for p in fs.find("beamtime/indexed/20210205/101500") if p.endswith((".dat", ".txt")))
    fs.pipe(table, fs.cat(table) + b"\n")  # one scan's table object changes (its size and ETag)
    changed, io = session()
    assert changed == first
    assert io.files_opened > 0
    assert all("/101500/" in url for url in io.urls)  # that scan alone is read again


def test_an_http_server_without_etags_has_nothing_remembered(tmp_path, cache):
    """HTTP states modification times to the second and copies keep them: without an ETag nothing is kept.

    A frame replaced by one of the same size with its time restored (``cp -p``) would otherwise give the old map.
    """
    url = write_udkm(tmp_path / "served", {"20210205": ["101500"]}, attrs.evolve(SMALL, compression=None))
    scan_folder = tmp_path / "served" / "20210205" / "101500"

    def frames(io):
        return sorted({u for u in io.urls if u.endswith(".tiff")})

    with serve(str(tmp_path / "served")) as where:
        remote = f"http://{where}/{{proposal}}/{{scan}}"

        def session():
            return nx5d.open(remote, spice_url="").p20210205.r101500

        first = session().cook(UDKM_SPICE)
        assert not list(cache.glob("*.nx5d"))  # nothing kept: the server gives no ETag
        frame, other = scan_folder / "image00002.tiff", scan_folder / "image00003.tiff"
        assert frame.stat().st_size == other.stat().st_size
        times = frame.stat()
        frame.write_bytes(other.read_bytes())
        os.utime(frame, ns=(times.st_atime_ns, times.st_mtime_ns))  # as cp -p leaves it
        with record_io() as io:
            again = session().cook(UDKM_SPICE)
        assert len(frames(io)) == 6
    fresh = nx5d.open(url, spice_url="").p20210205.r101500.cook(UDKM_SPICE)
    assert again.qdata.values.tobytes() == fresh.qdata.values.tobytes()
    assert again.qdata.values.tobytes() != first.qdata.values.tobytes()
