"""The object model a notebook user sees: repositories, proposals, scans."""

from nx5d.model.proposal import Proposal
from nx5d.model.repository import Repository
from nx5d.model.scan import Scan

__all__ = ["Repository", "Proposal", "Scan"]
