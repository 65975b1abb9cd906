"""Passwords typed into a URL reach the server and nothing else: not errors, warnings, attributes, files or listings.

A real loopback HTTP server asks for basic authentication; the repository
is opened with the user and password in its URL and used the way a notebook
and the command line use it.  Every text nx5d produces is searched for the
password.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.parse
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nx5d
from nx5d.credentials import HIDDEN, move_credentials, redact, split_credentials
from nx5d.errors import ScanNotFoundError, StorageError
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

from .servers import QuietHandler, serve

pytest.importorskip("aiohttp")

USER, PASSWORD = "alice", "s3cr@t:pw"
QUOTED = "s3cr%40t%3Apw"
SMALL = ScanSpec(delays=(-10.0, 50.0), thetas=(18.5, 18.6), delay_loops=1, frames=None)


class AuthHandler(QuietHandler):
    """Serves files to alice only (HTTP basic authentication)."""

    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def do_GET(self):
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="beamtime"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    do_HEAD = do_GET


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    write_udkm(root / "udkm", {"20210205": ["091726", "101500"]}, SMALL)
    with serve(str(root), AuthHandler) as where:
        yield where


def _no_secret(text: str) -> None:
    assert PASSWORD not in text
    assert QUOTED not in text
    assert f"{USER}:" not in text


def test_a_password_in_the_url_reaches_the_server_and_nowhere_else(server, tmp_path):
    url = f"http://{USER}:{QUOTED}@{server}/udkm/{{proposal}}/{{scan}}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        repo = nx5d.open(url, spice_url="")
        proposal = repo.p20210205
        scan = proposal.r091726
        raw = scan.raw
        cooked = scan.cook({"settings": {"grid_size": [10, 12]}})
        outcomes = nx5d.batch.cook_proposal(proposal, ["101500"], out=tmp_path / "out", workers=1)
        with pytest.raises(ScanNotFoundError) as missing:
            proposal.scan("999999")
    assert repo.url == f"http://{server}/udkm/{{proposal}}/{{scan}}"
    assert [o.status for o in outcomes] == ["written"]
    texts = [
        repo.url,
        repr(repo),
        repr(proposal),
        repr(scan),
        str(raw.attrs),
        str(cooked.attrs),
        str({name: raw[name].attrs for name in raw.variables}),
        str(missing.value),
        *(str(w.message) for w in caught),
        repr(repo.storage),
    ]
    for text in texts:
        _no_secret(text)
    for written in (tmp_path / "out").rglob("*"):
        if written.is_file():
            data = written.read_bytes()
            assert PASSWORD.encode() not in data
            assert QUOTED.encode() not in data


def test_without_the_password_the_refusal_names_the_url(server):
    with pytest.raises(StorageError, match=rf"permission denied for http://{server}/udkm.*401"):
        nx5d.open(f"http://{server}/udkm/{{proposal}}/{{scan}}", beamline="udkm", spice_url="").keys()


def test_the_command_line_prints_no_password(server):
    url = f"http://{USER}:{QUOTED}@{server}/udkm/{{proposal}}/{{scan}}"
    for args in (["ls", url], ["ls", url, "20210205"], ["ls", url, "29990101"]):
        done = subprocess.run([sys.executable, "-m", "nx5d", *args], capture_output=True, text=True, check=False)
        _no_secret(done.stdout + done.stderr)
    listing = subprocess.run([sys.executable, "-m", "nx5d", "ls", url], capture_output=True, text=True, check=True)
    assert "20210205" in listing.stdout


URL_PARTS = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20)


@given(user=URL_PARTS, password=URL_PARTS, host=st.sampled_from(["h.example", "10.0.0.1:8080"]))
def test_redact_and_split_never_let_a_password_through(user, password, host):
    userinfo = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
    url = f"https://{userinfo}@{host}/beamtime/{{proposal}}/{{scan}}"
    shown = redact(f"cannot read {url}: refused, and {url}#x too")
    plain = f"https://{HIDDEN}@{host}/beamtime/{{proposal}}/{{scan}}"
    assert shown == f"cannot read {plain}: refused, and {plain}#x too"
    clean, got_user, got_password = split_credentials(url)
    assert clean == f"https://{host}/beamtime/{{proposal}}/{{scan}}"
    assert (got_user, got_password) == (user, password)


def test_credentials_move_into_the_options_of_the_scheme():
    clean, options = move_credentials("s3://KEY:SECRET@bucket/{proposal}/{scan}", {"s3": {"anon": False}})
    assert clean == "s3://bucket/{proposal}/{scan}"
    assert options == {"s3": {"anon": False, "key": "KEY", "secret": "SECRET"}}
    clean, options = move_credentials("sftp://bob:pw@host/data/{proposal}/{scan}", {"timeout": 5})
    assert options == {"timeout": 5, "sftp": {"timeout": 5, "username": "bob", "password": "pw"}}
    assert move_credentials("file:///data/{proposal}/{scan}", None) == ("file:///data/{proposal}/{scan}", {})


def test_nx5d_errors_blank_any_password_in_their_message():
    error = StorageError("cannot read https://bob:hunter2@h.example/x and ftp://u:p@ftp.example/y")
    assert str(error) == f"cannot read https://{HIDDEN}@h.example/x and ftp://{HIDDEN}@ftp.example/y"
    assert str(StorageError("cannot read /data/p@1/x and file:///data/p@1/x")).count("p@1") == 2  # no user info
