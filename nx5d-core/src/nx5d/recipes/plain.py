"""The core's own recipe ``none``: nothing mapped, the scan's counters as recorded.

Every other recipe comes from a distribution of its own through the
``nx5d.recipes`` entry point group (maps and profiles: ``nx5d-rsm``).
"""

from __future__ import annotations

from typing import Any

from nx5d.errors import SpiceValidationError
from nx5d.recipes.contract import CookRequest, Recipe

__all__ = ["NONE"]


def _none(request: CookRequest) -> Any:
    frames = [name for name, v in request.raw.data_vars.items() if "y" in v.dims or "x" in v.dims]
    if not request.raw.data_vars or len(frames) == len(request.raw.data_vars):
        raise SpiceValidationError(f"{request.where} has no counters to show; choose a recipe that maps its frames")
    return request.raw.drop_vars(frames)


NONE = Recipe("none", "nothing mapped: the scan's counters as recorded", _none)
