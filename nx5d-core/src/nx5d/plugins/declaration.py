"""What a beamline plugin says about itself."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["BeamlineInfo"]


def _tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


@attrs.frozen
class BeamlineInfo:
    """Description returned by a plugin's ``nx5d_beamline_info`` hook.

    Attributes
    ----------
    description:
        One line saying what the beamline / format is.
    url_patterns:
        Example repository URL patterns this beamline serves (shown to users
        when no plugin claims a URL).
    schemes:
        URL schemes this beamline can serve (beyond the core's defaults they
        become acceptable in URL patterns).
    options:
        Loading options accepted by :func:`nx5d.open` for this beamline,
        ``{name: description}``; anything else is refused as a typo.
    key_patterns:
        Regular expressions proposal / scan keys must match in full when the
        core lists storage for this beamline (``{"scan": r"\\d{6}"}``), so
        unrelated files next to the data are not taken for scans.
    """

    description: str
    url_patterns: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    schemes: tuple[str, ...] = attrs.field(default=("file",), converter=_tuple)
    options: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    key_patterns: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
