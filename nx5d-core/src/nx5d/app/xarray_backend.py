"""An xarray backend: ``xr.open_dataset(..., engine="nx5d")`` opens a scan as its raw Dataset.

    import xarray as xr

    raw = xr.open_dataset("file:///data/udkm/{proposal}/{scan}", engine="nx5d", proposal="20210205", scan="r091726")
    raw = xr.open_dataset("lab", engine="nx5d", proposal="20210205", scan="091726", chunks={"index": 64})
    raw = xr.open_dataset(
        "file:///data/udkm/20210205/091726", engine="nx5d", repository="file:///data/udkm/{proposal}/{scan}"
    )

The first argument is a repository (URL pattern, path or configured name)
with ``proposal`` and ``scan`` (keys or handles), or one scan's URL with the
``repository`` pattern it belongs to.  The beamline plugin reads the scan
as ``scan.raw`` does, frames lazily: with ``chunks=`` xarray makes dask
arrays of them, without, values are read when used.  ``options`` are the
beamline's loading options (``{"reduce": 2}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np
import xarray as xr
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.core import indexing

from nx5d.errors import OptionError
from nx5d.model.open import open_repository

__all__ = ["Nx5dBackend"]


class _DaskBacked(BackendArray):
    """A lazily loaded variable's dask array as xarray's backends hand arrays over: read when indexed."""

    def __init__(self, array: Any) -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = np.dtype(array.dtype)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key: tuple) -> np.ndarray:
        return np.asarray(self.array[key])


def _scan(
    target: str,
    proposal: str | None,
    scan: str | None,
    repository: str | None,
    beamline: str | None,
    open_options: dict,
) -> Any:
    if repository is not None:
        repo = open_repository(repository, beamline, **open_options)
        keys = repo.pattern.match(target)
        if keys is None:
            raise OptionError(f"{target} is no scan of the repository {repository}")
        return repo[keys["proposal"]].scan(key=keys["scan"])
    if proposal is None or scan is None:
        raise OptionError(
            f"engine='nx5d' opens one scan: give proposal= and scan= with the repository {target!r}, "
            "or the scan's URL with repository= (its URL pattern)"
        )
    found = open_repository(target, beamline, **open_options)[proposal]
    return found.scan(key=scan) if scan in found else found.scan(handle=scan)


class Nx5dBackend(BackendEntrypoint):
    """The ``nx5d`` engine of ``xarray.open_dataset`` (see the module documentation)."""

    description = "One scan of any nx5d repository, read by its beamline plugin"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "proposal",
        "scan",
        "repository",
        "beamline",
        "options",
        "storage_options",
    )

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        proposal: str | None = None,
        scan: str | None = None,
        repository: str | None = None,
        beamline: str | None = None,
        options: Mapping[str, Any] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> xr.Dataset:
        """The raw data of one scan (see the module documentation)."""
        open_options: dict[str, Any] = {"spice_url": ""}
        if storage_options is not None:
            open_options["storage_options"] = dict(storage_options)
        found = _scan(str(filename_or_obj), proposal, scan, repository, beamline, open_options)
        loading = dict(options or {})
        declaration = found.repository.declaration
        if declaration is not None and "lazy" in attrs.fields_dict(declaration.options):
            loading.setdefault("lazy", True)
        raw = found.load(**loading)
        if drop_variables is not None:
            raw = raw.drop_vars([drop_variables] if isinstance(drop_variables, str) else list(drop_variables))
        variables = {}
        for name, variable in raw.variables.items():
            if type(variable.data).__module__.startswith("dask"):
                lazy = indexing.LazilyIndexedArray(_DaskBacked(variable.data))
                encoding = {"preferred_chunks": dict(zip(variable.dims, variable.data.chunksize, strict=True))}
                variables[name] = xr.Variable(variable.dims, lazy, variable.attrs, encoding)
            else:
                variables[name] = variable
        return xr.Dataset(
            {n: v for n, v in variables.items() if n not in raw.coords},
            coords={n: variables[n] for n in raw.coords},
            attrs=raw.attrs,
        )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """Never guessed: nx5d URLs look like any other; ask for ``engine="nx5d"``."""
        return False
