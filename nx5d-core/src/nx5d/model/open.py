"""``nx5d.open``: from a URL pattern to a repository, through the beamline plugins."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from nx5d.addressing.handles import KeyToHandle
from nx5d.addressing.location import Location
from nx5d.addressing.templates import Naming
from nx5d.config import DATA_REPO, default_repository, is_repository_name, named_repository, repositories
from nx5d.deprecation import NX5D3_KEYWORDS, renamed_keywords
from nx5d.errors import MissingDataError, OptionError, UrlPatternError
from nx5d.io.faults import DEFAULT_TIMEOUT
from nx5d.model.repository import Repository
from nx5d.model.rules import parse_pattern
from nx5d.options import build_options, describe_options
from nx5d.plugins import discovery as plugins
from nx5d.plugins.discovery import PluginRegistry

__all__ = ["open_repository", "local_url", "single_file", "CORE_OPTIONS"]

#: Options of [`nx5d.open`][nx5d.open] understood by the core for every beamline (its keyword parameters).
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


class _NotGiven:
    """The default of a core parameter of `open_repository` that was not given (its real default applies)."""

    def __repr__(self) -> str:
        return "<default>"


#: The default of every core parameter of `open_repository`: a value given overrides a named repository's.
NOT_GIVEN: Any = _NotGiven()


def local_url(path: str | os.PathLike[str]) -> str:
    """``file://`` and the absolute form of a local path (``~`` expanded, placeholders kept as they are)."""
    text = os.fspath(path)
    return "file://" + os.path.abspath(os.path.expanduser(text))


def _is_path(url: Any) -> bool:
    """Whether ``url`` is a local path: a ``pathlib.Path``, text without ``://`` that is no configured name."""
    if isinstance(url, os.PathLike):
        return True
    if not isinstance(url, str) or "://" in url:
        return False
    return not is_repository_name(url) or (os.path.exists(url) and url not in repositories())


def single_file(url: str, given: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A ``file://`` URL without ``{proposal}`` and ``{scan}``: the one file it names, as a one-proposal repository.

    ``file:///data/align.spec`` becomes ``file:///data/{proposal}.spec#{scan}``
    with the proposal key ``align`` (the file's name without its last suffix),
    so its scans come from its content.  A folder, or a path that does not
    exist, is an error that says the pattern to write.  Other URLs are
    returned as they are.
    """
    if "{" in url or "}" in url or not url.lower().startswith("file://") or "proposal_key" in given:
        return url, given
    document, sep, _ = url.partition("#")
    path = document[len("file://") :]
    folder, name = os.path.split(path.rstrip("/"))
    if os.path.isdir(path):
        raise UrlPatternError(
            f"{url} is a folder; write where its proposals and scans are, e.g. "
            f"file://{path.rstrip('/')}/{{proposal}}/{{scan}} (a folder per scan) or "
            f"file://{path.rstrip('/')}/{{proposal}}.h5#{{scan}} (a file per proposal)"
        )
    stem, dot, suffix = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    pattern = f"file://{folder}/{{proposal}}{dot}{suffix}#{{scan}}"
    if not os.path.isfile(path):
        raise MissingDataError(f"{url} does not exist (to open a repository of files like it, write {pattern})")
    if sep:
        raise UrlPatternError(f"{url}: to open the scans of {name}, write {pattern} (one proposal, {stem!r})")
    return pattern, {**given, "proposal_key": stem}


def _resolve(url: Any, beamline: str | None, given: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """The URL, beamline and options of ``url``: a URL, a path, a configured name, or ``None`` (the default)."""
    if url is None or (isinstance(url, str) and url == os.environ.get(DATA_REPO)):  # the default repository
        url, defaults = default_repository()
        given = {**defaults, **given}
    if _is_path(url):
        url = local_url(url)  # a plain path, or pathlib.Path: a file:// URL pattern
    if isinstance(url, str) and is_repository_name(url):
        named = named_repository(url)
        url, beamline, given = named.url, beamline or named.beamline, {**named.options, **given}
    if not isinstance(url, str):
        raise UrlPatternError(f"a repository URL must be a string, not {type(url).__name__}")
    url, given = single_file(url, given)
    return url, beamline, given


@renamed_keywords(since="0.2", **NX5D3_KEYWORDS)
def open_repository(
    url: str | os.PathLike[str] | None = None,
    beamline: str | None = None,
    *,
    registry: PluginRegistry | None = None,
    spice_url: Any = NOT_GIVEN,
    spice_dry_run: bool = NOT_GIVEN,
    storage_options: Mapping[str, Any] | None = NOT_GIVEN,
    timeout: float | None = NOT_GIVEN,
    retries: int = NOT_GIVEN,
    proposal_k2h: KeyToHandle | None = NOT_GIVEN,
    scan_k2h: KeyToHandle | None = NOT_GIVEN,
    proposal_key: str | None = NOT_GIVEN,
    scan_key: str | None = NOT_GIVEN,
    proposal_handle: str | KeyToHandle | None = NOT_GIVEN,
    scan_handle: str | KeyToHandle | None = NOT_GIVEN,
    options: Mapping[str, Any] | None = None,
    **beamline_options: Any,
) -> Repository:
    """Open the repository at ``url`` with the beamline plugin that serves it.

    The keyword parameters are the core's, the same for every beamline;
    the beamline's own loading options (``reduce=2``; see ``nx5d plugins
    --verbose``) go as further keywords or in ``options`` -- as xarray keeps
    a backend's keywords apart in ``backend_kwargs`` -- and become defaults
    for every scan, checked against the beamline's declaration at once.  A
    beamline option named like a core parameter (``timeout``) is reached
    through ``options={"timeout": ...}`` only.

    Parameters
    ----------
    url:
        Repository URL pattern, e.g. ``"file:///data/udkm/{proposal}/{scan}"``,
        a local path pattern (``"/data/udkm/{proposal}/{scan}"``, a
        ``pathlib.Path``), the name of a repository in the configuration
        file ([`nx5d.config`][nx5d.config]), or one file (``"/data/align.spec"``,
        ``".../794932.nxs"``): a repository of one proposal, named like the
        file, whose scans are the file's (see `single_file`); ``None``:
        ``$NX5D_DATA_REPO``.
    beamline:
        Name of the beamline plugin to use; by default the installed plugin
        that claims ``url`` most confidently is chosen.
    registry:
        Plugin registry to use (default: the installed plugins).
    spice_url, spice_dry_run, storage_options, timeout, retries:
        Where spice is kept (``''``: in memory; default: beside the data) and
        whether its changes are only tried out (default no); fsspec options
        for remote storage; seconds a remote server may stay silent (default
        30) and repeats of a request that failed transiently (default 0).
        See [`nx5d.Repository`][nx5d.Repository].  What is given here
        overrides a named repository's configuration.
    proposal_k2h, scan_k2h, proposal_key, scan_key, proposal_handle, scan_handle:
        Key-to-handle rules and naming templates
        ([`nx5d.addressing.templates`][nx5d.addressing.templates]).
    options, **beamline_options:
        The beamline's loading options.

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
        An option is not known to the beamline, or not valid.
    """
    reg = registry or plugins.registry()
    given = {"spice_url": spice_url, "spice_dry_run": spice_dry_run, "storage_options": storage_options,
             "timeout": timeout, "retries": retries, "proposal_k2h": proposal_k2h, "scan_k2h": scan_k2h,
             "proposal_key": proposal_key, "scan_key": scan_key, "proposal_handle": proposal_handle,
             "scan_handle": scan_handle}  # fmt: skip
    explicit = {k: v for k, v in given.items() if v is not NOT_GIVEN}  # given here: over the configuration
    url, beamline, merged = _resolve(url, beamline, {**explicit, **beamline_options})
    core = {**_DEFAULTS, **{k: merged.pop(k) for k in CORE_OPTIONS if k in merged}}
    configured = merged.pop("options", None) or {}  # a named repository's [options] table
    loading = {**merged, **dict(configured), **dict(options or {})}  # a beamline's own names, core-like ones too
    location = Location.of(url, core.pop("storage_options"))
    storage = location.storage(timeout=core["timeout"], retries=core["retries"])
    naming = Naming(core["proposal_key"], core["scan_key"], core["proposal_handle"], core["scan_handle"])
    if beamline is None:
        beamline, pattern = reg.choose(location.url, storage, naming)  # parsed there, once
        declaration = reg.declaration(beamline)
    else:
        declaration = reg.declaration(beamline)
        pattern = parse_pattern(location.url, declaration, spans=naming.spans())
    unknown = sorted(set(loading) - {f.name for f in attrs.fields(declaration.options)})
    if unknown:
        accepted = ", ".join([*CORE_OPTIONS, *(o.name for o in describe_options(declaration.options))])
        raise OptionError(
            f"nx5d.open got unknown option(s) {', '.join(unknown)} for beamline {beamline!r}; accepted: {accepted}"
        )
    build_options(declaration.options, loading, beamline)
    storage.root = pattern.root  # reads stay below the folder the pattern's documents lie in
    repo = Repository(location, **core, storage=storage, options=loading)
    repo._nx5d_bind(beamline, reg, pattern)
    return repo


#: The core parameters' defaults, where neither the call nor the configuration gives them.
_DEFAULTS: dict[str, Any] = {
    "spice_url": None,
    "spice_dry_run": False,
    "storage_options": None,
    "timeout": DEFAULT_TIMEOUT,
    "retries": 0,
    "proposal_k2h": None,
    "scan_k2h": None,
    "proposal_key": None,
    "scan_key": None,
    "proposal_handle": None,
    "scan_handle": None,
}
