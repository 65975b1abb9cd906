"""Detector frames kept as files in a folder beside a document: which detectors there are, and their files in order.

Text-file scan formats keep their detector images outside the document, one
file per frame, in a folder named like the document: PETRA III's DESY Online
writes ``scan_00012.fio`` and ``scan_00012/pilatus/scan_00012_00001.tif`` ...,
other labs a ``scan_00012/`` of frames directly.  `frame_folders` finds them
with one listing per folder, through the storage (local disks, HTTP, S3).
"""

from __future__ import annotations

from nx5d.addressing.keys import natural_sorted
from nx5d.io.storage import Storage, join_url

__all__ = ["FRAME_SUFFIXES", "frame_folders"]

#: File name endings of detector frames stored one per file.
FRAME_SUFFIXES = (".tif", ".tiff", ".cbf", ".edf")


def _frames(storage: Storage, url: str, suffixes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    entries = storage.ls(url)
    files = natural_sorted(e.name for e in entries if not e.is_dir and e.name.lower().endswith(suffixes))
    return [join_url(url, n) for n in files], natural_sorted(e.name for e in entries if e.is_dir)


def frame_folders(
    storage: Storage, document: str, *, suffixes: tuple[str, ...] = FRAME_SUFFIXES, folder: str | None = None
) -> dict[str, list[str]]:
    """``{detector: frame file URLs in natural order}`` of the frame folder beside ``document``.

    The folder is ``folder`` (a name beside the document), by default the
    document's name without its suffix (``scan_00012.fio`` ->
    ``scan_00012/``).  Each of its sub-folders holding files ending in one of
    ``suffixes`` (compared ignoring case) is a detector named like the
    sub-folder; frame files directly in the folder are the detector ``""``.
    No folder (or none with frames) gives ``{}``: a scan without frames.
    """
    parent, _, name = document.rpartition("/")
    base = join_url(parent, folder if folder is not None else name.rsplit(".", 1)[0])
    if not storage.isdir(base):
        return {}
    found: dict[str, list[str]] = {}
    files, subfolders = _frames(storage, base, suffixes)
    if files:
        found[""] = files
    for sub in subfolders:
        files = _frames(storage, join_url(base, sub), suffixes)[0]
        if files:
            found[sub] = files
    return found
