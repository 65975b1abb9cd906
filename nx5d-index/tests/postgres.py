"""A real PostgreSQL server for the tests, started from the installed server programs (never a mock).

`postgres_url` yields the URL of a server: the one ``NX5D_TEST_POSTGRESQL``
names, else one started here in a temporary folder (``initdb`` and
``pg_ctl`` from ``PATH`` or ``/usr/lib/postgresql/*/bin``; as root, the
server runs as the ``postgres`` user, as PostgreSQL requires).  Where no
server can be started the test is skipped with the reason -- and fails
under ``CI=true``, where ``.ci/run`` installs PostgreSQL, so CI never passes
without having run it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import pytest


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is expected in CI (.ci/run installs it): {reason}")
    pytest.skip(reason)


def _program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(prefix: list[str], pg_ctl: str, data: str, folder: str, run: dict) -> int:
    """Start the server on a free port; its port (another, if something took the first meanwhile)."""
    left = 3
    while True:
        left -= 1
        port = _free_port()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        try:
            subprocess.run([*prefix, pg_ctl, "-D", data, "-o", options, "-l", f"{folder}/log", "-w", "start"], **run)
            return port
        except subprocess.CalledProcessError:
            if not left:
                raise


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """The URL of a running PostgreSQL server with an empty database (see the module documentation)."""
    named = os.environ.get("NX5D_TEST_POSTGRESQL")
    if named:
        yield named
        return
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        _unavailable("the psycopg client is not installed (pip install 'nx5d-core[postgresql]')")
    initdb, pg_ctl = _program("initdb"), _program("pg_ctl")
    if initdb is None or pg_ctl is None:
        _unavailable("no PostgreSQL server programs (initdb, pg_ctl) found: apt-get install postgresql")
    prefix: list[str] = []
    folder = tempfile.mkdtemp(prefix="nx5d-postgres-")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            _unavailable("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(folder, "data")
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    try:
        subprocess.run([*prefix, initdb, "-D", data, "-U", "nx5d", "--auth=trust", "-E", "UTF8"], **run)
        port = _start(prefix, pg_ctl, data, folder, run)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        output = getattr(exc, "stderr", "") or ""
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"the PostgreSQL server could not be started: {exc} {output[-300:]}")
    try:
        yield f"postgresql://nx5d@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
