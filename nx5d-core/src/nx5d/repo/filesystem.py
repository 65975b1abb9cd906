"""Repositories whose proposals and scans are found by walking a URL pattern.

``DataRepository("file:///data/{proposal}/{scan}")`` lists proposals and
scans from folders and files on any storage nx5d can read; subclasses only
supply the scan class (and, if wanted, key-to-handle rules).
"""

from __future__ import annotations

from typing import Any

from nx5d.addressing.handles import KeyToHandle
from nx5d.deprecation import NX5D3_KEYWORDS, renamed_keywords
from nx5d.model import Proposal, Repository
from nx5d.model.repository import parse_pattern

__all__ = ["DataRepository", "DataProposal"]


class DataRepository(Repository):
    """A repository listed by walking its URL pattern over storage.

    Parameters
    ----------
    url:
        URL pattern with ``{proposal}`` and ``{scan}``; checked at once.
    proposal_k2h:
        Key-to-handle rule for proposals, e.g. ``lambda k: f"p{k}"``.
    **kw:
        Further [`nx5d.Repository`][nx5d.Repository] options (``scan_k2h``, ``spice_url``,
        ``storage_options``, ``options``, the naming templates).  nx5d 3.2's
        ``proposal_key_parse=``, ``scan_key_parse=``, ``proposal_handle_format=``
        and ``scan_handle_format=`` are the templates ``proposal_key=`` ...
        ``scan_handle=``, with a deprecation warning.
    """

    @renamed_keywords(since="0.2", **NX5D3_KEYWORDS)
    def __init__(self, url: str, proposal_k2h: KeyToHandle | None = None, **kw: Any) -> None:
        parse_pattern(url, None)
        super().__init__(url, proposal_k2h=proposal_k2h, **kw)

    @property
    def repo_url(self) -> str:
        """The repository URL pattern (as passed in)."""
        return self.url

    def _proposal(self, key: str) -> Proposal:
        return DataProposal(self, key, url=self.url)


class DataProposal(Proposal):
    """A proposal whose scans are listed by walking ``url`` with its key filled in.

    Parameters
    ----------
    repo:
        The owning repository.
    key:
        The proposal key.
    url:
        URL pattern of the scans; ``{proposal}`` in it is replaced by ``key``.
    scan_k2h:
        Key-to-handle rule for scans, e.g. ``lambda k: f"r{k}"``.
    """

    def __init__(self, repo: Repository, key: str, url: str | None = None, scan_k2h: KeyToHandle | None = None) -> None:
        super().__init__(repo, key, url=url, scan_k2h=scan_k2h)
