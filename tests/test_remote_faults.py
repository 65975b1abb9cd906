"""Remote faults arrive as nx5d errors naming the URL: a real loopback HTTP server that misbehaves on purpose.

The server serves a generated UDKM repository and, for chosen paths, answers
with an error status, cuts the body short, or stays silent; an S3 endpoint
that nobody listens on and an S3 server asked without credentials complete
the faults users meet.  Timeouts can be set and retries are opt-in.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

import nx5d
from nx5d.errors import CorruptDataError, MissingDataError, StorageError
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

from .servers import QuietHandler, serve

pytest.importorskip("aiohttp")
s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

SMALL = ScanSpec(delays=(-10.0, 50.0), thetas=(18.5, 18.6), delay_loops=1, frames=None)
SCAN = "udkm/20210205/091726"

#: path -> what to do instead of answering: {"status": 500} / {"truncate": True} / {"hang": s}, and "times"
FAULTS: dict[str, dict] = {}
_LOCK = threading.Lock()


class FaultyHandler(QuietHandler):
    """Serves files, except where FAULTS says to fail (for a number of ``times``, or always)."""

    def _fault(self) -> dict | None:
        with _LOCK:
            fault = FAULTS.get(self.path)
            if fault is None:
                return None
            if "times" in fault:
                if fault["times"] == 0:
                    return None
                fault["times"] -= 1
            return fault

    def do_GET(self):
        fault = self._fault()
        if fault is None:
            return super().do_GET()
        if "hang" in fault:
            time.sleep(fault["hang"])
            return None
        if "status" in fault:
            self.send_error(fault["status"])
            return None
        with open(os.path.join(self.directory, self.path.lstrip("/")), "rb") as fh:
            body = fh.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])  # then the connection closes: the answer is cut short
        self.close_connection = True
        return None

    do_HEAD = do_GET


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    write_udkm(root / "udkm", {"20210205": ["091726"]}, SMALL)
    return root


@pytest.fixture(scope="module")
def server(data):
    with serve(str(data), FaultyHandler) as where:
        yield f"http://{where}"


@pytest.fixture(autouse=True)
def no_faults():
    FAULTS.clear()
    yield
    FAULTS.clear()


def _scan(server, **options):
    repo = nx5d.open(f"{server}/udkm/{{proposal}}/{{scan}}", beamline="udkm", spice_url="", **options)
    return repo.p20210205.r091726


@pytest.mark.parametrize(
    ("path", "fault", "error", "message"),
    [
        (f"/{SCAN}/image00001.tiff", {"status": 500}, StorageError, r"the server failed on {url}.*status 500"),
        (f"/{SCAN}/image00002.tiff", {"status": 503}, StorageError, r"the server failed on {url}.*status 503"),
        (f"/{SCAN}/image00001.tiff", {"status": 403}, StorageError, r"permission denied for {url}.*answered 403"),
        (f"/{SCAN}/manifest.dat", {"status": 403}, StorageError, r"permission denied for {url}"),
        (f"/{SCAN}/manifest.dat", {"status": 500}, StorageError, r"the server failed on {url}"),
        (f"/{SCAN}/image00003.tiff", {"truncate": True}, CorruptDataError, r"{url} arrived incomplete"),
    ],
)
def test_a_refused_failed_or_cut_answer_is_an_nx5d_error_naming_the_url(server, path, fault, error, message):
    FAULTS[path] = fault
    url = server + path
    with pytest.raises(error, match=message.format(url=url.replace(".", r"\."))):
        _scan(server).load(workers=1)


def test_a_silent_server_times_out_as_set(server):
    FAULTS[f"/{SCAN}/image00002.tiff"] = {"hang": 30}
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"no answer from .*image00002\.tiff within 1 s"):
        _scan(server, timeout=1).load(workers=1)
    assert time.monotonic() - started < 10


def test_retries_are_opt_in_and_carry_a_read_over_a_passing_fault(server, data):
    here = nx5d.open(f"file://{data}/udkm/{{proposal}}/{{scan}}", spice_url="").p20210205.r091726.raw
    FAULTS[f"/{SCAN}/image00001.tiff"] = {"status": 503, "times": 2}
    with pytest.raises(StorageError, match="status 503"):
        _scan(server).load(workers=1)  # no retries by default: the first failure is the answer
    FAULTS[f"/{SCAN}/image00001.tiff"] = {"status": 503, "times": 2}
    raw = _scan(server, retries=2).load(workers=1)
    np.testing.assert_array_equal(raw.images.values, here.images.values)
    FAULTS[f"/{SCAN}/image00001.tiff"] = {"status": 404, "times": 100}  # not transient: never repeated
    with pytest.raises(MissingDataError, match=r"image00001\.tiff does not exist"):
        _scan(server, retries=3).load(workers=1)
    assert FAULTS[f"/{SCAN}/image00001.tiff"]["times"] >= 98  # asked once in the batch and once on its own


def test_an_unreachable_s3_endpoint_is_a_storage_error_naming_the_url(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    options = {"s3": {"client_kwargs": {"endpoint_url": "http://127.0.0.1:9", "region_name": "us-east-1"}}}
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"cannot reach s3://beamtime/udkm"):
        nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", beamline="udkm", storage_options=options, timeout=2).keys()
    assert time.monotonic() - started < 30


@pytest.fixture(scope="module")
def moto():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_s3_without_credentials_says_so_instead_of_no_plugin(moto, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    options = {"s3": {"client_kwargs": {"endpoint_url": moto, "region_name": "us-east-1"}}}
    with pytest.raises(StorageError, match=r"no credentials to read s3://beamtime/.*anon"):
        nx5d.open("s3://beamtime/udkm/{proposal}/{scan}", storage_options=options)
