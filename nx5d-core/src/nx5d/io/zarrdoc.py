"""Reading Zarr groups (zarr-python 3) through the core's storage layer.

A Zarr *document* is a folder (or object-store prefix) ending in ``.zarr``;
its groups and arrays are addressed like an HDF5 file's, after ``#``.  Local
folders are opened directly, remote ones through fsspec with the
repository's ``storage_options``; everything is opened read-only, and every
failure becomes an [`nx5d.errors`][nx5d.errors] exception naming the document.
Chunks an array lacks (a partial copy) are never read as zeros without a
word: see `check_chunks`.

zarr is needed (``pip install "nx5d-core[batch]"`` or ``pip install zarr``);
it is imported on first use.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from nx5d.errors import CorruptDataError, DataWarning, MissingDataError, NotSupportedError, Nx5dError
from nx5d.io.limits import check_selection
from nx5d.io.storage import Storage, _note

__all__ = [
    "ZARR_SUFFIXES",
    "is_zarr_name",
    "open_group",
    "open_document",
    "members",
    "read",
    "lazy_array",
    "check_chunks",
]

#: Document name endings taken for Zarr groups.
ZARR_SUFFIXES = (".zarr",)


def is_zarr_name(url: str) -> bool:
    """Whether the document part of ``url`` has a Zarr name ending."""
    return url.split("#", 1)[0].rstrip("/").lower().endswith(ZARR_SUFFIXES)


def _zarr() -> Any:
    try:
        import zarr
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise NotSupportedError("reading Zarr documents needs zarr: pip install zarr") from exc
    return zarr


def open_group(storage: Storage, url: str) -> Any:
    """The root group of the Zarr document at ``url`` (no anchor), opened read-only."""
    zarr = _zarr()
    document = storage.confine(url.partition("#")[0].rstrip("/"))
    path = storage.local_path(document)
    _note(document, opened=1, state=("tree", None))  # its state: every file of the store, read when asked
    try:
        if path is not None:
            return zarr.open_group(path, mode="r")
        scheme = document.split("://", 1)[0].lower()
        store = zarr.storage.FsspecStore.from_url(document, storage_options=storage.options_for(scheme), read_only=True)
        return zarr.open_group(store, mode="r")
    except FileNotFoundError as exc:
        raise MissingDataError(f"{document} does not exist") from exc
    except Exception as exc:
        if "not found" in str(exc).lower() or "no group" in str(exc).lower():
            raise MissingDataError(f"{document} is not a Zarr group (no group metadata found)") from exc
        raise CorruptDataError(f"{document} cannot be read as Zarr: {type(exc).__name__}: {exc}") from exc


@contextlib.contextmanager
def open_document(storage: Storage, url: str) -> Iterator[Any]:
    """`open_group` for reading a document's tree: what Zarr raises while it reads the metadata of the
    members (a damaged ``zarr.json``: broken JSON, an unknown data type, chunks that do not fit the shape)
    becomes a [`CorruptDataError`][nx5d.errors.CorruptDataError] naming the document.

    Zarr parses a member's metadata only when the member is first reached, so
    these errors come while the tree is walked, not when it is opened.  An
    absent member stays a ``KeyError``, as readers expect.
    """
    group = open_group(storage, url)
    try:
        yield group
    except Nx5dError:
        raise
    except (ValueError, TypeError, OverflowError, OSError) as exc:  # JSON's and zarr's errors are ValueErrors
        document = url.partition("#")[0].rstrip("/")
        raise CorruptDataError(
            f"{document} cannot be read as Zarr (damaged metadata?): {type(exc).__name__}: {exc}"
        ) from exc


def members(storage: Storage, document: str, path: Sequence[str] = ()) -> list[str]:
    """Names of the members of the group at ``path`` in the Zarr ``document``."""
    where = "/".join(path)
    with open_document(storage, document) as group:
        try:
            node = group[where] if where else group
        except KeyError:
            raise MissingDataError(f"{document}#{where} does not exist") from None
        if not hasattr(node, "keys") or hasattr(node, "shape"):
            raise MissingDataError(f"{document}#{where} is an array, not a group")
        return sorted(node.keys())


def check_chunks(array: Any, url: str) -> None:
    """Say so when chunks of ``array`` (at ``url``, ``document#path``) are not stored.

    Zarr reads an absent chunk as the array's fill value.  Without a fill
    value (Zarr 2's ``null``) nothing stands for it: `MissingDataError`.
    With one, an absent chunk is either a partial copy or a chunk its writer
    left out because it held only the fill value: a
    [`DataWarning`][nx5d.errors.DataWarning] says how many read as it.
    """
    try:
        stored, total = int(array.nchunks_initialized), int(array.nchunks)
    except Exception as exc:
        raise CorruptDataError(f"{url}: its chunks cannot be listed: {type(exc).__name__}: {exc}") from exc
    if stored >= total:
        return
    fill = array.metadata.fill_value
    if fill is None:
        raise MissingDataError(
            f"{url}: {total - stored} of {total} chunks are not stored and the array has no fill value "
            "(a partial copy?): their data is absent"
        )
    warnings.warn(
        f"{url}: {total - stored} of {total} chunks are not stored; they read as the fill value {fill} "
        "(a partial copy, or chunks left out by a writer because they held only that value)",
        DataWarning,
        stacklevel=3,
    )


def lazy_array(array: Any, url: str) -> Any:
    """``array`` as a dask array, its chunks checked first (see `check_chunks`)."""
    import dask.array as da

    check_chunks(array, url)
    return da.from_zarr(array)


def read(array: Any, url: str, selection: Any = ()) -> Any:
    """``array[selection]`` as numpy, counted as a dataset read of ``url`` (``document#path``).

    Its chunks are checked first (see `check_chunks`).
    """
    import numpy as np

    check_chunks(array, url)
    check_selection(tuple(array.shape), selection, array.dtype, url)
    try:
        value = np.asarray(array[selection])
    except Exception as exc:
        raise CorruptDataError(f"{url} cannot be read: {type(exc).__name__}: {exc}") from exc
    _note(url, value.nbytes, dataset=True)
    return value
