"""``nx5d.repo.astor``: the array-repository classes, as the reference page imports them.

They live in the ``nx5d-nexus`` distribution ([`nx5d_nexus.astor`][nx5d_nexus.astor]),
beside the NeXus reader they build on; this module gives them their
published name.  Without ``nx5d-nexus`` installed, importing it raises an
``ImportError`` naming the distribution to install.

nx5d 3.x called the proposal and repository classes of this module
``DataProposal`` and ``DataRepository``; those names still give
`ArrayProposal` (``scan_class=`` included) and `ArrayRepository`, with an
[`Nx5dDeprecationWarning`][nx5d.deprecation.Nx5dDeprecationWarning] naming
the new spelling.
"""

from __future__ import annotations

from nx5d.deprecation import moved_attributes

try:
    from nx5d_nexus.astor import ArrayProposal, ArrayRepository, ArrayScan
except ModuleNotFoundError as exc:
    if exc.name != "nx5d_nexus":
        raise
    raise ImportError(
        "nx5d.repo.astor needs the nx5d-nexus distribution, which is not installed: pip install nx5d-nexus "
        "(from this repository: pip install ./nx5d-nexus)",
        name="nx5d_nexus",
    ) from exc

__all__ = ["ArrayRepository", "ArrayProposal", "ArrayScan"]

__getattr__ = moved_attributes(
    __name__,
    {"DataProposal": "nx5d.repo.astor:ArrayProposal", "DataRepository": "nx5d.repo.astor:ArrayRepository"},
    since="0.2",
)
