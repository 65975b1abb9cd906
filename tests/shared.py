"""Where the real instrument files are: ``../shared`` beside the checkout (never copied into it).

The files in ``../shared/realdata`` and ``../shared/corpus`` were written by
real instruments and are kept outside this repository: the project ships
only what it wrote itself.  CI has the folder beside the checkout;
``NX5D_SHARED`` names another place.  A test that needs a file calls
`shared_path`: where the folder is absent it skips with the reason, and
under ``CI=true`` it fails, so that CI never passes without the real files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from pathlib import Path

import pytest

#: The folder that holds ``realdata/`` and ``corpus/``.
SHARED = Path(os.environ.get("NX5D_SHARED") or Path(__file__).resolve().parents[2] / "shared")


def shared_path(*parts: str) -> Path:
    """``SHARED/parts...``; skips the test (fails it under ``CI=true``) where it does not exist."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"real instrument files not found at {path} (set NX5D_SHARED to the shared folder)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def kmc3_beamtime(root: Path) -> Path:
    """The real KMC3 SPEC file with its 410 Pilatus TIFFs unpacked beside it into ``root``, as at the beamline.

    Every unpacked frame is checked against the published sha256 list first.
    """
    folder = shared_path("realdata", "kmc3-pyEvalData")
    shutil.copy(folder / "spec_pilatus.spec", root)
    with tarfile.open(folder / "pilatus_S00001-S00010.tar.xz") as archive:
        archive.extractall(root, filter="data")
    for line in (folder / "pilatus_S00001-S00010.sha256").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name
    return root
