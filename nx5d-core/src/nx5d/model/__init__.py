"""The object model a notebook user sees: repositories, proposals, scans."""

from .proposal import Proposal
from .repository import Repository
from .scan import Scan

__all__ = ["Repository", "Proposal", "Scan"]
