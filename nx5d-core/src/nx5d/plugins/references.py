"""What hooks receive: small frozen references to a repository, proposal, scan or document.

A hook never sees the core's model objects ([`nx5d.Repository`][nx5d.Repository] ...);
it gets the URL, the keys and the [`Storage`][nx5d.io.storage.Storage] to read
with, and returns plain data.  The core wraps what comes back -- the way
xarray hands a backend a file name and keyword parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from nx5d.addressing.url import UrlPattern
from nx5d.io.storage import Storage

if TYPE_CHECKING:
    from nx5d.plugins.declaration import Beamline

__all__ = ["RepositoryRef", "ProposalRef", "ScanRef", "DocumentRef"]


@attrs.frozen(eq=False)
class RepositoryRef:
    """A repository: its URL pattern, the storage to read it with, and the beamline serving it.

    Attributes
    ----------
    url:
        The repository's URL pattern (or, for repositories written with the
        subclassing API, whatever identifier they were given).
    pattern:
        ``url`` parsed, or ``None`` where it is not a URL pattern.
    storage:
        Reads files and lists folders (local or remote, with the repository's
        ``storage_options``).
    beamline:
        The name of the beamline serving the repository (``None`` for
        repositories built with the subclassing API).
    declaration:
        That beamline's declaration (``None`` without a beamline).
    """

    url: str
    pattern: UrlPattern | None
    storage: Storage
    beamline: str | None = None
    declaration: Beamline | None = None

    def proposal(self, key: str) -> ProposalRef:
        """The reference of the proposal with ``key`` (its scans at this pattern, ``{proposal}`` filled in)."""
        pattern = self.pattern
        if pattern is not None and "proposal" in pattern.fields:
            pattern = pattern.fill(proposal=key)
        return ProposalRef(self, key, pattern)


@attrs.frozen(eq=False)
class ProposalRef:
    """One proposal of a repository.

    Attributes
    ----------
    repository:
        The repository it belongs to.
    key:
        The proposal key, as on storage.
    pattern:
        URL pattern of this proposal's scans (``{proposal}`` filled in), or
        ``None`` for repositories that are not URL patterns.
    """

    repository: RepositoryRef
    key: str
    pattern: UrlPattern | None

    @property
    def storage(self) -> Storage:
        """The repository's storage."""
        return self.repository.storage

    def scan(self, key: str) -> ScanRef:
        """The reference of the scan with ``key``."""
        return ScanRef(self, key)


@attrs.frozen(eq=False)
class ScanRef:
    """One scan: its proposal, its key and its URL.

    Attributes
    ----------
    proposal:
        The proposal it belongs to.
    key:
        The scan key, as on storage.
    """

    proposal: ProposalRef
    key: str

    @property
    def storage(self) -> Storage:
        """The repository's storage."""
        return self.proposal.storage

    @property
    def url(self) -> str:
        """The scan's URL: document, and ``#anchor`` where the pattern has one (``""`` without a pattern)."""
        pattern = self.proposal.pattern
        return "" if pattern is None else pattern.format(scan=self.key)

    @property
    def document(self) -> str:
        """The URL of the file or folder holding the scan (the part before ``#``)."""
        return self.url.partition("#")[0]

    @property
    def anchor(self) -> str:
        """The place inside the document (the part after ``#``, without surrounding ``/``); ``""`` if none."""
        return self.url.partition("#")[2].strip("/")

    @property
    def document_ref(self) -> DocumentRef:
        """The scan's document as a `DocumentRef`."""
        return DocumentRef(self.document, self.storage)


@attrs.frozen(eq=False)
class DocumentRef:
    """A document (file or folder) at a concrete URL, for content checks and listing inside it.

    Attributes
    ----------
    url:
        The document's URL (no ``#`` anchor).
    storage:
        The storage to read it with.
    """

    url: str
    storage: Storage

    @property
    def name(self) -> str:
        """The last path component of the URL (the file or folder name)."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def head(self, size: int = 65536) -> bytes:
        """The first ``size`` bytes of the document (fewer if it is shorter)."""
        return self.storage.read_range(self.url, 0, size)

    def sibling(self, name: str) -> str:
        """The URL of ``name`` in the same folder as the document."""
        return self.url.rstrip("/").rsplit("/", 1)[0] + "/" + name
