"""Temporary files of writers: whose are stale, here and on other machines or in other containers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from nx5d.io.temporaries import GRACE, is_stale, is_temporary, sweep, temporary_name


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _left(folder, name: str, age: float = 0.0):
    path = folder / name
    path.write_bytes(b"half a file")
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


def test_a_temporary_name_says_which_process_wrote_it_and_where(tmp_path):
    name = os.path.basename(temporary_name(tmp_path / "1.1.nc"))
    assert is_temporary(name)
    assert name.startswith(f".1.1.nc.{os.getpid()}@")
    assert not is_stale(_left(tmp_path, name))  # this process: alive


def test_a_writer_elsewhere_is_not_judged_by_a_process_id_here(tmp_path):
    """A writer on another node sharing the folder, or in a container: its id means nothing here."""
    dead = _dead_pid()
    elsewhere = _left(tmp_path, f".a.nc.{dead}@0123abcd.89abcdef.tmp")
    where = os.path.basename(temporary_name(tmp_path / "b.nc")).split("@")[1][:8]  # this machine's place
    here = _left(tmp_path, f".b.nc.{dead}@{where}.89abcdef.tmp")
    older = _left(tmp_path, f".c.nc.{dead}@0123abcd.89abcdef.tmp", age=GRACE + 60)
    earlier_version = _left(tmp_path, f".d.nc.{dead}.89abcdef.tmp")  # names without a place: by the id
    assert (is_stale(elsewhere), is_stale(here), is_stale(older), is_stale(earlier_version)) == (
        False, True, True, True,
    )  # fmt: skip
    assert sweep(tmp_path) == 3
    assert [p.name for p in tmp_path.iterdir()] == [elsewhere.name]


def test_a_writer_in_another_process_namespace_keeps_its_temporary_file(tmp_path):
    """A real writer in its own process-id namespace (as in a container) writes while this machine sweeps."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare program to start a process in its own process-id namespace")
    code = (
        "import sys, time; from nx5d.io.temporaries import temporary_name; "
        f"path = temporary_name({str(tmp_path / 'a.nc')!r}); open(path, 'wb').write(b'part'); "
        "print(path, flush=True); sys.stdin.readline()"
    )
    free = _dead_pid()  # the writer gets this id in its namespace: one that no process here has
    start = f'echo {free - 1} > /proc/sys/kernel/ns_last_pid && {sys.executable} -c "{code}"; true'
    writer = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", start],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        path = writer.stdout.readline().strip()
        if not path:
            pytest.skip(f"cannot start a process in its own process-id namespace here: {writer.stderr.read()[-200:]}")
        assert os.path.basename(path).startswith(f".a.nc.{free}")
        assert sweep(tmp_path) == 0
        assert os.path.exists(path)
    finally:
        writer.communicate("done\n", timeout=60)
