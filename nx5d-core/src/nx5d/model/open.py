"""``nx5d.open``: from a URL pattern to a repository, through the beamline plugins."""

from __future__ import annotations

from typing import Any

import attrs

from nx5d.addressing.templates import Naming
from nx5d.credentials import move_credentials
from nx5d.errors import OptionError, UrlPatternError
from nx5d.io.faults import DEFAULT_TIMEOUT
from nx5d.io.storage import Storage
from nx5d.model.repository import Repository
from nx5d.model.rules import parse_pattern
from nx5d.options import build_options, describe_options
from nx5d.plugins import discovery as plugins
from nx5d.plugins.discovery import PluginRegistry

__all__ = ["open_repository", "CORE_OPTIONS"]

#: Options of :func:`nx5d.open` understood by the core for every beamline.
CORE_OPTIONS = (
    "proposal_k2h",
    "scan_k2h",
    "proposal_key",
    "scan_key",
    "proposal_handle",
    "scan_handle",
    "spice_url",
    "storage_options",
    "timeout",
    "retries",
)
#: The naming options among them.
NAMING_OPTIONS = ("proposal_key", "scan_key", "proposal_handle", "scan_handle")


def open_repository(
    url: str,
    beamline: str | None = None,
    *,
    registry: PluginRegistry | None = None,
    **options: Any,
) -> Repository:
    """Open the repository at ``url`` with the beamline plugin that serves it.

    Parameters
    ----------
    url:
        Repository URL pattern, e.g. ``"file:///data/udkm/{proposal}/{scan}"``.
    beamline:
        Name of the beamline plugin to use; by default the installed plugin
        that claims ``url`` most confidently is chosen.
    registry:
        Plugin registry to use (default: the installed plugins).
    **options:
        ``proposal_k2h`` / ``scan_k2h`` (key-to-handle rules), ``proposal_key``
        / ``scan_key`` / ``proposal_handle`` / ``scan_handle`` (naming rules as
        templates, see :mod:`nx5d.addressing.templates`), ``spice_url``
        (``''``: keep spice in memory), ``storage_options`` (fsspec options for
        remote storage), ``timeout`` (seconds a remote server may stay silent,
        default 30) and ``retries`` (repeats of a remote request that failed
        transiently, default 0), and the beamline's own loading options (see
        ``nx5d plugins``), which become defaults for every scan; they are
        checked against the beamline's declared options at once.

    Raises
    ------
    UrlPatternError
        ``url`` is not a valid pattern.
    NoBeamlineClaimsError, AmbiguousBeamlineError
        No plugin, or more than one equally, recognises ``url``; the message
        lists the installed beamlines and their URL patterns.
    BeamlineNotInstalledError, BeamlineLoadError
        ``beamline`` is not installed, or its plugin is broken.
    OptionError
        An option is not known to the core or the beamline.
    """
    reg = registry or plugins.registry()
    if not isinstance(url, str):
        raise UrlPatternError(f"a repository URL must be a string, not {type(url).__name__}")
    url, storage_options = move_credentials(url, options.get("storage_options"))
    if "storage_options" in options or storage_options:
        options["storage_options"] = storage_options
    naming = Naming(**{k: options.get(k) for k in NAMING_OPTIONS})
    if beamline is None:
        storage = Storage(
            options.get("storage_options"),
            timeout=options.get("timeout", DEFAULT_TIMEOUT),
            retries=options.get("retries", 0),
        )
        beamline, _ = reg.choose(url, storage, naming)
    declaration = reg.declaration(beamline)
    parse_pattern(url, declaration, spans=naming.spans())
    core = {k: options.pop(k) for k in CORE_OPTIONS if k in options}
    unknown = sorted(set(options) - {f.name for f in attrs.fields(declaration.options)})
    if unknown:
        accepted = ", ".join([*CORE_OPTIONS, *(o.name for o in describe_options(declaration.options))])
        raise OptionError(
            f"nx5d.open got unknown option(s) {', '.join(unknown)} for beamline {beamline!r}; accepted: {accepted}"
        )
    build_options(declaration.options, options, beamline)
    repo = Repository(url, **core, options=options)
    repo._nx5d_bind(beamline, reg)
    return repo
