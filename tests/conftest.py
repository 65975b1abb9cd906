"""Fixtures shared by the cross-distribution tests."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import settings

import nx5d

# no time limit per example: one slow example on a loaded CI machine says nothing of the code tested
settings.register_profile("nx5d", deadline=None)
settings.load_profile("nx5d")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cooked cache for the test (``NX5D_CACHE_DIR`` in ``tmp_path``), switched on; its folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("NX5D_CACHE_DIR", str(folder))
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", True)
    return folder / "cooked"


@pytest.fixture
def small_disk(tmp_path):
    """A 256 kB file system (tmpfs), as a full disk looks to a writer; needs root (CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
