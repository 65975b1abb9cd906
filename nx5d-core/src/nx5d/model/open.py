"""``nx5d.open``: from a URL pattern to a repository, through the beamline plugins."""

from __future__ import annotations

import os
from typing import Any

import attrs

from nx5d.addressing.templates import Naming
from nx5d.config import DATA_REPO, default_repository, is_repository_name, named_repository
from nx5d.credentials import move_credentials
from nx5d.errors import OptionError, UrlPatternError
from nx5d.io.faults import DEFAULT_TIMEOUT
from nx5d.io.storage import Storage, split_chain
from nx5d.model.repository import Repository
from nx5d.model.rules import parse_pattern
from nx5d.options import build_options, describe_options
from nx5d.plugins import discovery as plugins
from nx5d.plugins.discovery import PluginRegistry

__all__ = ["open_repository", "local_url", "CORE_OPTIONS"]

#: Options of [`nx5d.open`][nx5d.open] understood by the core for every beamline.
CORE_OPTIONS = (
    "proposal_k2h",
    "scan_k2h",
    "proposal_key",
    "scan_key",
    "proposal_handle",
    "scan_handle",
    "spice_url",
    "spice_dry_run",
    "storage_options",
    "timeout",
    "retries",
)
#: The naming options among them.
NAMING_OPTIONS = ("proposal_key", "scan_key", "proposal_handle", "scan_handle")


def local_url(path: str | os.PathLike[str]) -> str:
    """``file://`` and the absolute form of a local path (``~`` expanded, placeholders kept as they are)."""
    text = os.fspath(path)
    return "file://" + os.path.abspath(os.path.expanduser(text))


def open_repository(
    url: str | os.PathLike[str] | None = None,
    beamline: str | None = None,
    *,
    registry: PluginRegistry | None = None,
    **options: Any,
) -> Repository:
    """Open the repository at ``url`` with the beamline plugin that serves it.

    Parameters
    ----------
    url:
        Repository URL pattern, e.g. ``"file:///data/udkm/{proposal}/{scan}"``,
        a local path pattern (``"/data/udkm/{proposal}/{scan}"``, a
        ``pathlib.Path``), or the name of a repository in the configuration
        file ([`nx5d.config`][nx5d.config]); ``None``: ``$NX5D_DATA_REPO``.
    beamline:
        Name of the beamline plugin to use; by default the installed plugin
        that claims ``url`` most confidently is chosen.
    registry:
        Plugin registry to use (default: the installed plugins).
    **options:
        ``spice_dry_run`` (spice changes kept in memory, nothing written),
        ``proposal_k2h`` / ``scan_k2h`` (key-to-handle rules), ``proposal_key``
        / ``scan_key`` / ``proposal_handle`` / ``scan_handle`` (naming rules as
        templates, see [`nx5d.addressing.templates`][nx5d.addressing.templates]), ``spice_url``
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
    if url is None or (isinstance(url, str) and url == os.environ.get(DATA_REPO)):  # the default repository
        url, defaults = default_repository()
        options = {**defaults, **options}
    if isinstance(url, os.PathLike) or (isinstance(url, str) and "://" not in url and not is_repository_name(url)):
        url = local_url(url)  # a plain path, or pathlib.Path: a file:// URL pattern
    if isinstance(url, str) and is_repository_name(url):
        named = named_repository(url)
        url, beamline, options = named.url, beamline or named.beamline, {**named.options, **options}
    if not isinstance(url, str):
        raise UrlPatternError(f"a repository URL must be a string, not {type(url).__name__}")
    url, storage_options = move_credentials(url, options.get("storage_options"))
    if "storage_options" in options or storage_options:
        options["storage_options"] = storage_options
    naming = Naming(**{k: options.get(k) for k in NAMING_OPTIONS})
    plain, chain = split_chain(url)  # a cache in front of the storage: the URL itself is the one behind it
    if beamline is None:
        storage = Storage(
            options.get("storage_options"),
            timeout=options.get("timeout", DEFAULT_TIMEOUT),
            retries=options.get("retries", 0),
            chain=chain,
        )
        beamline, _ = reg.choose(plain, storage, naming)
    declaration = reg.declaration(beamline)
    parse_pattern(plain, declaration, spans=naming.spans())
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
