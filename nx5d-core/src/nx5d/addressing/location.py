"""Where a repository is, read once from the URL a user gives: the pattern nx5d keeps, its caches, its credentials.

A user's URL may carry more than the pattern: a user and password
(``https://alice:secret@host/…``) and fsspec caching file systems chained in
front (``simplecache::s3://…``).  `Location.of` takes them apart once:
the credentials move into the storage options (nx5d never keeps, shows or
writes them), the cache chain is kept beside the pattern, and what remains
is the URL pattern nx5d shows and parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from nx5d.credentials import move_credentials
from nx5d.io.faults import DEFAULT_TIMEOUT
from nx5d.io.storage import Storage, split_chain

__all__ = ["Location"]


@attrs.frozen
class Location:
    """A repository's URL pattern without credentials or caches, the caches chained in front, the storage options.

    Attributes
    ----------
    url:
        The URL pattern (``file:///data/{proposal}/{scan}``, ``s3://bucket/…``).
    chain:
        fsspec's caching file systems in front of it (``("simplecache",)``).
    storage_options:
        fsspec options, the credentials taken from the URL among them.
    """

    url: str
    chain: tuple[str, ...] = ()
    storage_options: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def of(cls, url: str, storage_options: Mapping[str, Any] | None = None) -> Location:
        """The location a user's ``url`` (and ``storage_options``) name."""
        url, options = move_credentials(url, storage_options)
        plain, chain = split_chain(url)
        return cls(plain, chain, dict(options or {}))

    def storage(self, *, timeout: float | None = DEFAULT_TIMEOUT, retries: int = 0) -> Storage:
        """A `Storage` reaching this location (its root is set once the pattern is parsed)."""
        return Storage(self.storage_options, timeout=timeout, retries=retries, chain=self.chain)
