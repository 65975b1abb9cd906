"""Loading options of the ``udkm`` beamline: the core's frame options and the naming rule."""

from __future__ import annotations

from typing import Literal

import attrs

from nx5d.io.frames import FrameOptions
from nx5d.options import option

__all__ = ["UdkmOptions"]


@attrs.frozen
class UdkmOptions(FrameOptions):
    """Frame options (``reduce``, ``roi``, ``lazy``, ``missing``, ``workers``) and ``names``."""

    names: Literal["reference", "tidy"] = option(
        "reference", help="'reference' (the reference page's variable names) or 'tidy' names"
    )
