"""Data a scan group keeps in other files: HDF5 external links, virtual dataset sources, lists of frame files.

Diamond users carry home the small ``.nxs`` files and leave the detector
files (``…-pilatus3_100k-files/…``, Eiger data files) behind; a partial copy
of an ESRF BLISS dataset lacks the Lima files its virtual datasets read
from.  Such a scan still has its counters.  So nothing here raises while a
layout is found: [`Sources`][nx5d_nexus.links.Sources] answers with an
[`Absent`][nx5d_nexus.links.Absent] record that names the member and the file,
and the reader decides -- summaries and counters go on without it, ``raw``
warns, and only an explicit request for the data raises the recorded error.

Other files are read only where they lie inside the repository root and
only from local documents (h5py opens them itself; a remote document's
links would be opened on this machine).  h5py would silently fill the frames
of a missing virtual source with zeros, so sources are checked before any
read.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from typing import Any

import attrs

from nx5d.errors import MissingDataError, Nx5dError
from nx5d.toolkit import Storage, external_link, linked_file, realpath

__all__ = ["Absent", "Sources", "frame_file_urls"]


@attrs.frozen(eq=False)
class Absent:
    """A member of a scan group whose data lies in a file that cannot be read from here.

    Attributes
    ----------
    path:
        The member's path inside the scan group (``instrument/pil3_100k/data``).
    target:
        The file as the scan group names it (``1040323-pilatus3_100k-files/1040323.hdf``).
    error:
        What is raised when the member's data is asked for explicitly: a
        [`MissingDataError`][nx5d.errors.MissingDataError] (the file does not exist), an
        [`OutsideRepositoryError`][nx5d.errors.OutsideRepositoryError] or a
        [`NotSupportedError`][nx5d.errors.NotSupportedError] (a remote document).
    """

    path: str
    target: str
    error: Nx5dError

    @property
    def message(self) -> str:
        """The error's message: the member, the file named and where it was looked for."""
        return str(self.error)


class Sources:
    """Checks that data kept in other files is there, inside the repository root, before it is read.

    Parameters
    ----------
    document:
        The URL of the HDF5 document (without anchor).
    root:
        The repository's local root folder (``None``: not confined).
    """

    def __init__(self, document: str, root: str | None) -> None:
        self.document = document
        path = Storage.local_path(document)
        self.folder = None if path is None else os.path.dirname(realpath(path))
        self.root = None if root is None else realpath(root)

    def place(self, name: str, what: str, where: str) -> tuple[str | None, Nx5dError | None]:
        """``(local path, None)`` of a file named relative to the document, or ``(None, the error)``
        ([`hdf5.linked_file`][nx5d.io.hdf5.linked_file]: outside the root, absent, or a remote document).

        ``where`` names the member (``document#path``) in the error's message.
        """
        return linked_file(self.document, name, self.root, what, where)

    def link(self, group: Any, name: str, path: str, where: str) -> Absent | None:
        """The member ``name`` of ``group`` (at ``path`` in the scan group) as `Absent` if following it leads
        through an external link whose file cannot be read (HDF5; [`hdf5.external_link`][nx5d.io.hdf5.external_link]:
        at any level of a path, also behind soft links); ``None`` otherwise."""
        filename = external_link(group, name, where)
        if filename is None:
            return None
        _, error = self.place(filename, "an external link to", where)
        return None if error is None else Absent(path, filename, error)

    def virtual(self, node: Any, path: str, where: str) -> Absent | None:
        """The first source of a virtual dataset (HDF5) that cannot be read, as `Absent`; ``None`` if all can.

        A source in the same file (``.``) may itself be an external link (an
        Eiger master's ``data`` reads from its links ``data_000001`` ...):
        then the link's file is checked.
        """
        if not getattr(node, "is_virtual", False):
            return None
        for source in node.virtual_sources():
            name = source.file_name
            if name == ".":
                link = node.file.get(source.dset_name, getlink=True)
                name = getattr(link, "filename", None)
                if name is None:
                    continue
            _, error = self.place(name, "a virtual dataset reading from", where)
            if error is not None:
                return Absent(path, name, error)
        return None


def _tail(name: str) -> str:
    """The last folder and the file name of a path (``/dls/…/782761-files/00001.tif`` -> ``782761-files/00001.tif``)."""
    return posixpath.join(*posixpath.normpath(name).split("/")[-2:])


def frame_file_urls(sources: Sources, names: list[str], path: str, where: str) -> tuple[list[str], Absent | None]:
    """URLs of frame files a scan group lists (GDA's ``image_data``), relative to the document's folder.

    An absolute name (the path at the beamline, ``/dls/i16/data/2019/…/782761-pilatus3_100k-files/00001.tif``)
    is taken where it lies inside the repository, else as its folder and file
    name beside the document (where a copied visit keeps it).  ``path`` is
    the list's place in the scan group, ``where`` its URL.  The first
    file decides which; the others are read the same way (a missing one is
    an error naming it when the frames are read).  Returns the URLs, or
    ``[]`` and an `Absent` naming the first file where it cannot be read.
    """
    if not names:
        return [], None
    forms: list[Callable[[str], str]] = [str, _tail] if posixpath.isabs(names[0]) else [str]
    error: Nx5dError | None = None
    for form in forms:
        found, error = sources.place(form(names[0]), "a list of frame files naming", where)
        if found is not None:
            folder = sources.folder or ""
            # thousands of frame files: the C library's walk (the same answer as os.path.realpath, faster)
            return ["file://" + realpath(os.path.join(folder, form(name))) for name in names], None
    if len(forms) > 1 and isinstance(error, MissingDataError):
        beside = os.path.join(sources.folder or "", _tail(names[0]))
        error = MissingDataError(
            f"{where} is a list of frame files naming {names[0]!r}, which does not exist there nor beside the "
            f"document ({beside})"
        )
    assert error is not None
    return [], Absent(path, names[0], error)
