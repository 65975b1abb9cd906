"""Reading HDF5 documents through the core's storage layer.

Beamline plugins whose data lives in HDF5 files (one file per proposal or per
scan, scans addressed by the anchor part of the URL) share this module:

* `open_document` opens a document read-only -- local files directly
  with h5py (without taking HDF5's file lock, and in SWMR mode when a writer
  still has the file open in SWMR mode), remote files through fsspec -- and
  turns every failure into an [`nx5d.errors`][nx5d.errors] exception naming the file;
* `members` lists the names inside a group without reading datasets (the
  core uses it to list keys that sit after ``#``);
* `external_link` and `linked_file` check, before HDF5 follows a link,
  that a member leading to another file (an external link, also behind soft
  links) reaches a file that lies inside the repository root and exists;
* `ConfinedGroup` is a group in which such members are not there, for
  readers that walk a scan group freely;
* `written_length` counts the entries of a dataset being extended that are
  written (a writer extends a dataset before it writes the new frame);
* `read` reads a dataset (counted by [`nx5d.io.storage.record_io`][nx5d.io.storage.record_io], so tests
  can check that summaries never touch detector images);
* `LazyDataset` / `lazy_array` give a dask array over a dataset,
  chunked along its first axis in multiples of the file's own chunks, that
  reopens the document in whichever process computes it.

h5py is needed (``pip install 'nx5d-core[hdf5]'``); it is imported on first use.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nx5d.errors import (
    CorruptDataError,
    DataWarning,
    MissingDataError,
    NotSupportedError,
    Nx5dError,
    OutsideRepositoryError,
    StorageError,
)
from nx5d.io.limits import check_selection
from nx5d.io.storage import Storage, _note, depends_on, file_state

if TYPE_CHECKING:
    import h5py

__all__ = [
    "HDF5_SUFFIXES",
    "is_hdf5_name",
    "split_url",
    "open_document",
    "node",
    "members",
    "external_link",
    "linked_file",
    "ConfinedGroup",
    "read",
    "written_length",
    "LazyDataset",
    "lazy_array",
]

#: File name endings taken for HDF5 documents.
HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".nxs", ".nx5")

_TRUNCATED = re.compile(r"truncated file: eof = (\d+).*stored_eof = (\d+)")


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a declared dependency of HDF5 plugins
        raise NotSupportedError(
            "reading HDF5 documents needs h5py: pip install 'nx5d-core[hdf5]' (or pip install h5py)"
        ) from exc
    return h5py


def is_hdf5_name(url: str) -> bool:
    """Whether the document part of ``url`` has an HDF5 file name ending."""
    return url.split("#", 1)[0].lower().endswith(HDF5_SUFFIXES)


def split_url(url: str) -> tuple[str, str]:
    """``(document, group path)`` of ``document#anchor``; the path is ``/``-rooted (``"/"`` without anchor)."""
    document, _, anchor = url.partition("#")
    return document, "/" + anchor.strip("/")


def _open_error(url: str, exc: OSError) -> Exception:
    text = str(exc)
    if isinstance(exc, FileNotFoundError) or "No such file" in text:
        return MissingDataError(f"{url} does not exist")
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return StorageError(f"permission denied for {url}")
    found = _TRUNCATED.search(text)
    if found:
        return CorruptDataError(
            f"{url} is a truncated HDF5 file ({found.group(1)} of {found.group(2)} bytes): "
            "an interrupted copy or transfer?"
        )
    if "signature not found" in text:
        return CorruptDataError(f"{url} is not an HDF5 file (no HDF5 signature)")
    if "already open for write" in text:
        return CorruptDataError(
            f"{url} is marked as open for writing by another program that did not use SWMR mode, "
            "or that program crashed (then 'h5clear -s' clears the mark)"
        )
    return CorruptDataError(f"{url} cannot be read as HDF5: {text}")


#: HDF5's file-locking settings tried, in order, for a file this process already holds open with other ones
#: (h5py's default, xarray's h5netcdf engine): HDF5 shares one open file per process and refuses a second
#: opening whose settings differ.
_LOCKINGS: tuple[Any, ...] = (False, None, "best-effort", True)


def _open_local(h5py: Any, path: str, url: str) -> Any:
    """``h5py.File`` of a local file, read-only and without taking HDF5's file lock where HDF5 allows it.

    A file another writer holds in SWMR mode is opened as a SWMR reader.  A
    file this process already has open (h5py, xarray) is shared with that
    handle under its own locking setting; closing ours leaves theirs open.
    """
    error: OSError | None = None
    for locking in _LOCKINGS:
        try:
            return h5py.File(path, "r", locking=locking)
        except OSError as exc:
            error = exc
            if "already open for write" in str(exc):
                try:
                    return h5py.File(path, "r", locking=locking, swmr=True)
                except OSError as again:
                    raise _open_error(url, again) from again
            if "file locking" not in str(exc) or "don't match" not in str(exc):
                raise _open_error(url, exc) from exc
    assert error is not None
    raise StorageError(
        f"{url} is already open in this Python process (h5py, or xarray's h5netcdf engine) with settings HDF5 "
        f"will not share ({error}); close that handle, or open it with h5py.File(path, 'r', locking=False)"
    ) from error


@contextlib.contextmanager
def open_document(storage: Storage, url: str) -> Iterator[h5py.File]:
    """Open the HDF5 document at ``url`` read-only (a ``#`` anchor is ignored: the whole file is opened).

    Local files are opened without HDF5's file lock (a reader must not block
    or be blocked by the beamline's writer) and, when a writer holds the file
    in SWMR mode, as a SWMR reader.  Nothing is ever written.
    """
    h5py = _h5py()
    url = storage.confine(url.partition("#")[0])
    path = storage.local_path(url)
    if path is not None:
        try:
            state = file_state(os.stat(path))  # taken before the file is read
        except FileNotFoundError:
            state = None  # h5py says it is missing, below
        _note(url, opened=1, state=state)
        with _open_local(h5py, path, url) as handle, _read_errors(url):
            yield handle
        return
    with storage.open(url) as raw:
        try:
            handle = h5py.File(raw, "r")
        except OSError as exc:
            raise _open_error(url, exc) from exc
        with handle, _read_errors(url):
            yield handle


@contextlib.contextmanager
def _read_errors(url: str) -> Iterator[None]:
    """HDF5's errors while a document is read (a file being written, a damaged one) as nx5d errors naming it."""
    try:
        yield
    except Nx5dError:
        raise
    except (RuntimeError, OSError) as exc:
        raise CorruptDataError(f"{url} cannot be read as HDF5 (still being written, or damaged): {exc}") from exc


def node(handle: h5py.File, path: str, url: str) -> Any:
    """The group or dataset at ``path`` in an open document (``MissingDataError`` naming ``document#path``).

    ``url`` may be the document's URL or a scan URL with an anchor; the
    message names the document and ``path``.
    """
    where = f"{url.partition('#')[0]}#{path.strip('/')}"
    try:
        return handle[path] if path not in ("", "/") else handle
    except KeyError:
        raise MissingDataError(f"{where} does not exist") from None
    except (OSError, RuntimeError) as exc:
        raise CorruptDataError(f"{where} cannot be read: {exc}") from exc


def members(storage: Storage, document: str, path: Sequence[str] = ()) -> list[str]:
    """Names of the members of the group at ``path`` in ``document``; no dataset is read.

    A member (or a group on ``path``) that leads to a file HDF5 would read
    outside the repository root, or to an absent file, is left out with a
    [`DataWarning`][nx5d.errors.DataWarning] naming it (`linked_file`).
    """
    root = storage.local_root
    with open_document(storage, document) as handle:
        inside = "/".join(path)
        if inside:
            error = _leaves(handle, inside, document, root, f"{document}#{inside}")
            if error is not None:
                raise error
        group = node(handle, inside, document)
        if not hasattr(group, "keys"):
            raise MissingDataError(f"{document}#{'/'.join(path)} is a dataset, not a group")
        try:
            names = list(group.keys())
        except (OSError, RuntimeError) as exc:
            raise CorruptDataError(f"cannot list {document}#{'/'.join(path)}: {exc}") from exc
        kept = []
        for name in names:
            error = _leaves(group, name, document, root, f"{document}#{'/'.join((*path, name))}")
            if error is None:
                kept.append(name)
            else:
                warnings.warn(f"{error}: left out of the listing", DataWarning, stacklevel=3)
        return kept


def _leaves(group: Any, name: str, document: str, root: str | None, where: str) -> Nx5dError | None:
    """Why following ``name`` in ``group`` would read a file it must not (`linked_file`), or ``None``."""
    target = external_link(group, name, where)
    if target is None:
        return None
    return linked_file(document, target, root, "an external link to", where)[1]


#: Soft links followed one after the other before a path is taken for a loop (HDF5's own limit is 16).
_MAX_SOFT_LINKS = 16


def external_link(group: Any, name: str, where: str) -> str | None:
    """The file name of the HDF5 external link that following ``name`` in ``group`` leads through, or ``None``.

    ``name`` may be a path (``entry/measurement/counts``); every component is
    looked at without following it, soft links are resolved inside the
    document, and the first external link met is the answer -- whatever
    level it sits at, and whether a soft link leads to it.  ``None``: the
    path stays inside the document (or ends at a member that is not there;
    HDF5 says so when it is followed).  Nothing outside the document is
    opened.  A soft link round a loop is a
    [`CorruptDataError`][nx5d.errors.CorruptDataError] naming ``where``.
    A group that is not HDF5 (a Zarr group) has no links: ``None``.
    """
    h5py = _h5py()
    group = group.group if isinstance(group, ConfinedGroup) else group
    if not isinstance(group, h5py.Group):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    current, hops = group, 0
    while parts:
        part = parts.pop(0)
        try:
            link = current.get(part, getlink=True)
        except (KeyError, OSError, RuntimeError, ValueError):
            return None  # not there or damaged: HDF5 says which when it is followed
        if isinstance(link, h5py.ExternalLink):
            return str(link.filename)
        if isinstance(link, h5py.SoftLink):
            hops += 1
            if hops > _MAX_SOFT_LINKS:
                raise CorruptDataError(f"{where} cannot be followed: its soft links go round a loop")
            target = str(link.path)
            current = current.file if target.startswith("/") else current
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        if not parts:
            return None
        try:
            current = current[part]  # a hard link: inside the document
        except (KeyError, OSError, RuntimeError, ValueError):
            return None
        if not isinstance(current, h5py.Group):
            return None
    return None


def linked_file(
    document: str, name: str, root: str | None, what: str, where: str
) -> tuple[str | None, Nx5dError | None]:
    """``(local path, None)`` of a file an HDF5 document names (an external link, a virtual source), or
    ``(None, why it must not be read)``.

    ``name`` is taken as HDF5 takes it: relative to the document's folder.
    The answer is an [`OutsideRepositoryError`][nx5d.errors.OutsideRepositoryError]
    when it lies outside ``root`` (the repository's local root, symbolic links
    resolved; ``None``: not confined), a
    [`MissingDataError`][nx5d.errors.MissingDataError] when it is absent (HDF5
    would then look for it in the working directory), a
    [`NotSupportedError`][nx5d.errors.NotSupportedError] for a remote document
    (HDF5 would open the name on this machine).  Each message reads
    ``{where} is {what} {name!r}, ...``.  A file read is recorded as one the
    result depends on ([`depends_on`][nx5d.io.storage.depends_on]), as is a
    file looked for and absent.
    """
    local = Storage.local_path(document)
    if local is None:
        return None, NotSupportedError(
            f"{where} is {what} {name!r}; nx5d follows links to other files in local documents only"
        )
    target = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(local)), name))
    folder = None if root is None else os.path.realpath(root)
    if folder is not None and os.path.commonpath([folder, target]) != folder:
        return None, OutsideRepositoryError(f"{where} is {what} {name!r}, which lies outside the repository ({folder})")
    depends_on("file://" + target)  # read by HDF5 itself: what is read depends on it (or on its absence)
    if not os.path.exists(target):
        return None, MissingDataError(f"{where} is {what} {name!r}, which does not exist ({target})")
    return target, None


class ConfinedGroup:
    """An HDF5 group (read-only) in which the members that lead to files HDF5 must not read are not there.

    A member whose link leads through an external link to a file outside
    ``root`` or absent (`linked_file`), at any level and behind soft links,
    is left out of iteration, ``in``, ``get`` and ``[]`` (a ``KeyError``, as
    for any absent member), so a reader walking a scan group freely never
    makes HDF5 open it.  The groups it hands out are confined too; datasets,
    attributes and everything else are h5py's.  `external_link` sees
    through it, so a reader that reports such members (a warning naming
    them) still can.
    """

    def __init__(self, group: h5py.Group, document: str, root: str | None) -> None:
        self.group = group
        self.document = document
        self.root = root

    def _refused(self, name: str) -> bool:
        where = f"{self.document}#{'/'.join(p for p in (self.group.name.strip('/'), name.strip('/')) if p)}"
        try:
            return _leaves(self.group, name, self.document, self.root, where) is not None
        except CorruptDataError:  # a loop of soft links: h5py says so when it is followed
            return False

    def _readable(self, name: str) -> bool:
        if self._refused(name):  # first: h5py's ``in`` follows external links on a path's way
            return False
        try:
            return self.group.get(name) is not None  # a dangling soft link is not there (h5py's ``in`` says it is)
        except (RuntimeError, OSError):
            return True  # damaged, or a loop: said when it is followed

    def _confined(self, node: Any) -> Any:
        return ConfinedGroup(node, self.document, self.root) if isinstance(node, _h5py().Group) else node

    def __iter__(self) -> Iterator[str]:
        return (name for name in self.group if self._readable(name))

    def keys(self) -> list[str]:
        """The names of the members that can be read."""
        return list(iter(self))

    def values(self) -> list[Any]:
        """The members that can be read."""
        return [self[name] for name in self]

    def items(self) -> list[tuple[str, Any]]:
        """``(name, member)`` of the members that can be read."""
        return [(name, self[name]) for name in self]

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._readable(name)

    def __getitem__(self, name: str) -> Any:
        if isinstance(name, str) and self._refused(name):
            raise KeyError(f"{name!r} leads to a file outside the repository or absent: not read")
        try:
            return self._confined(self.group[name])
        except (RuntimeError, OSError) as exc:  # a link round a loop, a damaged object header
            where = f"{self.document}#{'/'.join(p for p in (self.group.name.strip('/'), str(name).strip('/')) if p)}"
            raise CorruptDataError(f"{where} cannot be followed: {exc}") from exc

    def get(self, name: str, default: Any = None, getlink: bool = False) -> Any:
        """h5py's ``get``; a member that cannot be read gives ``default`` (a link is given as it is)."""
        if getlink:
            return self.group.get(name, default, getlink=True)
        return self[name] if self._readable(name) else default

    def __getattr__(self, name: str) -> Any:
        if name in ("group", "document", "root") or name.startswith("__"):  # not set yet (a copy): not h5py's
            raise AttributeError(name)
        return getattr(self.group, name)

    def __repr__(self) -> str:
        return f"ConfinedGroup({self.group!r}, root={self.root!r})"


def read(dataset: h5py.Dataset, url: str, selection: Any = ()) -> np.ndarray:
    """Read ``dataset[selection]``, counted as a dataset read of ``url`` (``document#path``).

    A selection larger than this machine's memory is refused before anything
    is read (`nx5d.io.limits.check_read`).
    """
    check_selection(tuple(dataset.shape), selection, dataset.dtype, url)
    try:
        value = dataset[selection]
    except (OSError, RuntimeError, ValueError) as exc:
        raise CorruptDataError(f"{url} cannot be read (damaged or incompletely written?): {exc}") from exc
    array = np.asarray(value)
    _note(url, array.nbytes, dataset=True)
    return array


def written_length(dataset: h5py.Dataset, url: str) -> int:
    """How many leading entries along the first axis of ``dataset`` are written: its length, less a tail not stored.

    A writer appending frames extends the dataset, then writes the new frame
    (and, in SWMR mode, flushes it): a reader looking in between sees the
    longer dataset, and the new frame would read as the fill value (zeros)
    without any error.  A chunked dataset's chunks are stored once written, so
    the entries from the first whose chunks are not all stored are not
    counted.  Exact when every chunk holds one frame (as detectors write them);
    of a chunk of several frames, those not yet written inside a stored chunk
    cannot be told from the file.  A dataset that is not chunked (it cannot
    grow) has its length, as has a virtual dataset (its sources are read as they are).
    A chunk index that cannot be read (being rewritten) is a `CorruptDataError`
    naming ``url`` (``document#path``).
    """
    shape = tuple(int(n) for n in dataset.shape)
    chunks = dataset.chunks
    if not shape or chunks is None or shape[0] == 0 or dataset.is_virtual:
        return shape[0] if shape else 0
    per_slab = math.prod(-(-n // c) for n, c in zip(shape[1:], chunks[1:], strict=True))  # chunks per first-axis step
    slabs = -(-shape[0] // chunks[0])
    try:
        stored = dataset.id.get_num_chunks()
        if stored >= slabs * per_slab:
            return shape[0]
        offsets = (dataset.id.get_chunk_info(i).chunk_offset for i in range(stored))
        found = np.fromiter((o[0] // chunks[0] for o in offsets if o is not None), np.int64, count=-1)
    except (OSError, RuntimeError, ValueError) as exc:
        raise CorruptDataError(f"{url}: its chunks cannot be listed (still being written?): {exc}") from exc
    # per stored first-axis step (never an array of every declared step: a shape can claim 2**40 of them)
    steps, counts = np.unique(found[found < slabs], return_counts=True)
    full = steps[counts >= per_slab]
    gaps = np.flatnonzero(full != np.arange(full.size))
    complete = int(gaps[0]) if gaps.size else int(full.size)
    return min(shape[0], complete * chunks[0])


def _frames_per_chunk(shape: tuple[int, ...], chunks: tuple[int, ...] | None, itemsize: int, target: int) -> int:
    frame_bytes = max(1, math.prod(shape[1:]) * itemsize)
    step = chunks[0] if chunks else 1
    wanted = max(1, target // frame_bytes)
    return max(step, (wanted // step) * step)


class LazyDataset:
    """A picklable array-like over one HDF5 dataset, for ``dask.array.from_array``.

    Every read opens the document anew (through a [`Storage`][nx5d.io.storage.Storage]
    built from ``storage_options``), so dask can compute chunks in other
    threads or processes, and nothing keeps the file open between reads.
    """

    def __init__(
        self,
        url: str,
        path: str,
        shape: tuple[int, ...],
        dtype: Any,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.path = path
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.storage_options = dict(storage_options or {})

    def __getitem__(self, selection: Any) -> np.ndarray:
        with open_document(Storage(self.storage_options), self.url) as handle:
            dataset = node(handle, self.path, self.url)
            if dataset.shape[:1] < self.shape[:1] or dataset.shape[1:] != self.shape[1:]:
                raise CorruptDataError(
                    f"{self.url}#{self.path.strip('/')} changed shape from {self.shape} to {dataset.shape} "
                    "since it was opened"
                )
            return read(dataset, f"{self.url}#{self.path.strip('/')}", selection)

    def __repr__(self) -> str:
        return f"LazyDataset({self.url}#{self.path.strip('/')}, shape={self.shape}, dtype={self.dtype})"


def lazy_array(
    storage: Storage,
    url: str,
    path: str,
    dataset: h5py.Dataset,
    *,
    target_bytes: int = 32 * 2**20,
    length: int | None = None,
) -> Any:
    """A dask array over ``dataset`` (``url#path``), chunked along the first axis.

    Chunks are whole multiples of the file's own chunks along the first axis
    (about ``target_bytes`` each) and span the other axes completely, so
    reading one dask chunk never decodes an HDF5 chunk twice.  ``length``
    maps only that many entries of the first axis (a scan's points): a
    dataset declaring 2⁴⁰ frames in a small file would otherwise need a
    list of 10¹¹ chunks before anything is read.
    """
    try:
        import dask.array as da
    except ImportError as exc:
        raise NotSupportedError("lazy loading needs dask: pip install 'dask[array]'") from exc
    shape = tuple(dataset.shape)
    if not shape:
        raise ValueError(f"{url}#{path.strip('/')} is a scalar; read it instead of mapping it lazily")
    if length is not None:
        shape = (min(shape[0], max(0, length)), *shape[1:])
    step = _frames_per_chunk(shape, dataset.chunks, dataset.dtype.itemsize, target_bytes)
    first = (step,) * (shape[0] // step) + ((shape[0] % step,) if shape[0] % step else ())
    array = LazyDataset(url, path, shape, dataset.dtype, storage.storage_options)
    return da.from_array(
        array,
        chunks=(first or (0,), *shape[1:]),
        name=f"nx5d-h5-{url}#{path}-{shape}",
        meta=np.empty((0,) * len(shape), dataset.dtype),
    )
