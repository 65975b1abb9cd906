"""Base classes for repositories, proposals and scans written by subclassing.

Override ``all()`` and ``_proposal(key)`` in a repository, ``all()`` and
``_scan(key)`` in a proposal, and ``_get_summary()``, ``_get_raw()`` and
``_cook(data, **spice)`` in a scan.  These are the classes of the core object
model itself ([`nx5d.Repository`][nx5d.Repository], [`nx5d.Proposal`][nx5d.Proposal],
[`nx5d.Scan`][nx5d.Scan]): a subclassed repository is served through the same
hooks, caches and displays as one opened with [`nx5d.open`][nx5d.open].
"""

from nx5d.model import Proposal as DataProposalBase
from nx5d.model import Repository as DataRepoBase
from nx5d.model import Scan as DataScanBase

__all__ = ["DataRepoBase", "DataProposalBase", "DataScanBase"]
