"""Array-storage repositories for the subclassing API: scans that are groups of HDF5, NeXus or Zarr documents.

``ArrayRepository("file:///data/{proposal}/{proposal}.h5#{scan}")`` lists
proposals and scans by walking the URL pattern (HDF5 and Zarr groups after
``#``) and reads every scan with this distribution's NeXus reader
([`nx5d_nexus.layouts.scan_dataset`][nx5d_nexus.layouts.scan_dataset]): counters, positioners and detector
frames by the NeXus conventions.  A subclass of `ArrayScan` adds its
own ``_cook``; the classes are published as ``nx5d.repo.astor``:

    from nx5d.repo.astor import ArrayProposal, ArrayRepository, ArrayScan

    class RockingScan(ArrayScan):
        def _cook(self, data, **spice):
            return data["roi1"] / data["mon"]

    class Repo(ArrayRepository):
        def _proposal(self, key):
            return ArrayProposal(self, key, url=self.url, scan_class=RockingScan)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from nx5d import Proposal, Repository, Scan
from nx5d.repo.filesystem import DataProposal, DataRepository
from nx5d.toolkit import KeyToHandle, build_options
from nx5d_nexus import layouts as nexus

__all__ = ["ArrayRepository", "ArrayProposal", "ArrayScan"]


class ArrayScan(Scan):
    """A scan stored as a group of an HDF5, NeXus or Zarr document.

    Loading options (``reduce``, ``roi``, ``lazy``, ``detector``,
    ``frames``) are those of [`nx5d_nexus.layouts.NexusOptions`][nx5d_nexus.layouts.NexusOptions].
    """

    def _get_summary(self) -> Mapping[str, Any]:
        url = self.url or ""
        storage = self.repository.storage
        with nexus.open_tree(storage, url) as tree:
            entry = nexus.entry_of(tree, url.partition("#")[2].strip("/"), url, confined=storage.local_root)
            return nexus.summary(entry, url)

    def _get_raw(self, **options: Any) -> xr.Dataset:
        checked = build_options(nexus.NexusOptions, options, None)
        return nexus.scan_dataset(
            self.repository.storage,
            self.url or "",
            region=checked.region,
            lazy=checked.lazy_frames,
            chunk=checked.frames_per_chunk,
            detector=checked.detector,
            frames=checked.frames != "skip",
        )


class ArrayProposal(DataProposal):
    """A proposal of array-storage scans (of ``scan_class``, `ArrayScan` by default)."""

    def __init__(
        self,
        repo: Repository,
        key: str,
        url: str | None = None,
        scan_k2h: KeyToHandle | None = None,
        scan_class: type[ArrayScan] = ArrayScan,
    ) -> None:
        super().__init__(repo, key, url=url, scan_k2h=scan_k2h)
        self.scan_class = scan_class

    def _scan(self, key: str) -> Scan:
        return self.scan_class(self, key)


class ArrayRepository(DataRepository):
    """A repository of HDF5 / NeXus / Zarr documents at a URL pattern (see the module documentation)."""

    def _proposal(self, key: str) -> Proposal:
        return ArrayProposal(self, key, url=self.url)
