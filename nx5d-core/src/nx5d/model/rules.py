"""How a repository reads its URL pattern and names its proposals and scans, from the beamline's declaration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from nx5d.addressing.handles import KeyToHandle, sanitize, template_rule
from nx5d.addressing.url import DEFAULT_SCHEMES, UrlPattern

if TYPE_CHECKING:
    from nx5d.plugins.declaration import Beamline

__all__ = ["parse_pattern", "handle_rule"]


def parse_pattern(
    url: str,
    declaration: Beamline | None,
    required: tuple[str, ...] = ("proposal", "scan"),
    spans: Mapping[str, int] | None = None,
) -> UrlPattern:
    """Parse ``url`` with the schemes of the serving beamline accepted (and keys spanning ``spans`` folders)."""
    schemes = set(DEFAULT_SCHEMES) | set(declaration.schemes if declaration else ())
    return UrlPattern(url, schemes=schemes, required=required, spans=spans)


def handle_rule(declaration: Beamline | None, field: str) -> KeyToHandle:
    """The key-to-handle rule of ``field`` (``"proposal"``/``"scan"``) declared by a beamline, or the default."""
    prefix = "p" if field == "proposal" else "s"
    declared = None if declaration is None else getattr(declaration, f"{field}_handle")
    if declared is None:
        return lambda key: sanitize(key, prefix)
    if callable(declared):
        return declared
    return template_rule(declared, declaration.key_patterns.get(field), prefix)  # type: ignore[union-attr]
