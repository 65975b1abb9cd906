"""Two users of one group, for tests of spice folders a group shares (they need root to switch users)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The shared group and its two members (numeric ids; no accounts need to exist).
GROUP = 60000
ALICE, BOB = 60001, 60002

needs_root = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0, reason="switching between users needs root (Linux)"
)


def become(uid: int) -> None:
    """Turn this (forked) process into ``uid`` of ``GROUP``, with the usual umask 022."""
    os.setgroups([GROUP])
    os.setgid(GROUP)
    os.setuid(uid)
    os.umask(0o022)


@contextlib.contextmanager
def group_folder() -> Iterator[Path]:
    """A group-writable, set-group-id folder holding ``data/p/1`` and ``data/p/2``.

    It lies in /tmp, outside pytest's temporary folders, which only their
    owner may enter.
    """
    folder = Path(tempfile.mkdtemp(prefix="nx5d-group-", dir="/tmp"))
    try:
        for scan in ("1", "2"):
            (folder / "data" / "p" / scan).mkdir(parents=True)
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, 0, GROUP)
            path.chmod(0o2777 if path == folder else 0o2775)
        yield folder
    finally:
        shutil.rmtree(folder)
