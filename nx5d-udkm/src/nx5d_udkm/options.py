"""Loading options of the ``udkm`` beamline: the core's frame options and the naming rule."""

from __future__ import annotations

from typing import Literal

import attrs

from nx5d.toolkit import option
from nx5d_tiff.files import FrameFileOptions

__all__ = ["UdkmOptions"]


@attrs.frozen
class UdkmOptions(FrameFileOptions):
    """The core's frame options (``reduce``, ``roi``, ``lazy``, ``frames``, ``missing``, ``workers``) and ``names``."""

    names: Literal["tidy", "reference"] = option(
        "tidy", help="'tidy' variable names (delay, crystal_rate ...) or 'reference': the reference page's"
    )
