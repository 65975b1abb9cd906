"""Finding, loading and calling beamline plugins.

Beamline plugins are announced by entry points in the ``nx5d.beamlines``
group; cross-cutting extensions in ``nx5d.extensions``.  Discovery reads
entry-point metadata only.  A beamline's module is imported when it is first
needed (by name, or to let it claim a URL); a plugin that fails to import
(even by calling ``sys.exit``), declares another plugin API version, lacks a
[`Beamline`][nx5d.plugins.declaration.Beamline] declaration, or does not fit the
hook specifications is recorded as *broken* with the reason and never
disturbs the others.  A plugin written for plugin API 1 (nx5d 0.1) -- it
declares ``NX5D_PLUGIN_API = 1``, implements hooks only API 1 had, or fails
to import a module only API 1 had ([`nx5d.deprecation.api_1_name`][nx5d.deprecation.api_1_name]) -- is
reported as such, with the page of the documentation that tells how to port
it ([`PORTING_GUIDE`][nx5d.deprecation.PORTING_GUIDE]).

Hooks are called per beamline: [`PluginRegistry.call`][nx5d.plugins.discovery.PluginRegistry.call] routes a call to
the chosen beamline's implementations, the core fallbacks and all extensions,
leaving out every other beamline.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import threading
import warnings
from collections.abc import Iterable, Sequence
from importlib.metadata import Distribution, EntryPoint, PackageNotFoundError, distribution, distributions, entry_points
from typing import Any

import attrs
import pluggy

from nx5d.addressing.templates import Naming
from nx5d.addressing.url import DEFAULT_SCHEMES, UrlPattern
from nx5d.deprecation import API_1_HOOKS, PORTING_GUIDE, api_1_name
from nx5d.errors import (
    BeamlineFailure,
    BeamlineLoadError,
    BeamlineNotInstalledError,
    NotSupportedError,
    Nx5dError,
    Nx5dWarning,
    PluginApiMismatchError,
)
from nx5d.extensions import BUILTIN
from nx5d.io.storage import Storage
from nx5d.plugins import fallbacks, hookspecs
from nx5d.plugins.declaration import Beamline
from nx5d.plugins.hookspecs import PLUGIN_API, PROJECT
from nx5d.plugins.selection import Claim, best_claim, claims

__all__ = [
    "BEAMLINE_GROUP",
    "EXTENSION_GROUP",
    "CORE_PLUGIN_NAME",
    "PluginStatus",
    "PluginRegistry",
    "registry",
    "unrelated_nx5d",
    "nx5d_distributions",
]

BEAMLINE_GROUP = "nx5d.beamlines"
EXTENSION_GROUP = "nx5d.extensions"
CORE_PLUGIN_NAME = "nx5d-core"


@attrs.define
class PluginStatus:
    """What is known about one installed plugin."""

    name: str
    kind: str  #: ``"beamline"`` or ``"extension"``
    target: str  #: what the entry point names (``module:object``)
    distribution: str | None = None
    version: str | None = None
    state: str = "available"  #: ``"available"`` (not imported yet), ``"loaded"`` or ``"broken"``
    error: str | None = None
    declaration: Beamline | None = None

    def describe(self) -> str:
        """One line: name, distribution and state (with URL examples or the error)."""
        dist = f" ({self.distribution} {self.version})" if self.distribution else ""
        if self.state == "broken":
            return f"{self.name}{dist}: BROKEN: {self.error}"
        if self.declaration is not None and self.declaration.url_examples:
            return f"{self.name}{dist}: {', '.join(self.declaration.url_examples)}"
        return f"{self.name}{dist}: {self.state}"


def _dist_of(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


class PluginRegistry:
    """Plugin discovery and dispatch around one `pluggy.PluginManager`.

    Parameters
    ----------
    discover:
        Read the installed entry points (default).  Tests may start empty and
        `register_beamline` plugins in-process.
    """

    def __init__(self, *, discover: bool = True) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(fallbacks, name=CORE_PLUGIN_NAME)
        for name, module in BUILTIN.items():  # by name: the extensions layer sits above this one
            self.pm.register(importlib.import_module(module), name=f"nx5d:{name}")
        self._lock = threading.RLock()
        self._status: dict[str, PluginStatus] = {}
        self._entry_points: dict[str, EntryPoint] = {}
        self._beamlines: dict[str, object] = {}
        self._callers: dict[tuple[str | None, str], Any] = {}
        self._pending_extensions: list[tuple[str, EntryPoint]] = []
        if discover:
            self._discover()

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        """The process-wide registry pickles as a reference to the receiving process's own (its installed plugins).

        Another registry (one a test or a tool built, with plugins
        registered by hand) holds plugin modules and cannot travel:
        `NotSupportedError`.
        """
        if self is not _REGISTRY:
            raise NotSupportedError(
                "a repository opened with a registry of its own (registry=...) cannot be pickled: "
                "its plugins are this process's objects; open it with the installed plugins to send it elsewhere"
            )
        return registry, ()

    # --- discovery ---------------------------------------------------------

    def _discover(self) -> None:
        for ep in entry_points(group=BEAMLINE_GROUP):
            dist, version = _dist_of(ep)
            existing = self._status.get(ep.name)
            if existing is not None:
                if existing.target == ep.value and existing.distribution == dist:
                    continue  # the same distribution seen twice on sys.path
                existing.state = "broken"
                existing.error = (
                    f"beamline name {ep.name!r} is provided by both {existing.distribution} "
                    f"({existing.target}) and {dist} ({ep.value}); uninstall one"
                )
                continue
            self._status[ep.name] = PluginStatus(ep.name, "beamline", ep.value, dist, version)
            self._entry_points[ep.name] = ep
        for ep in entry_points(group=EXTENSION_GROUP):
            dist, version = _dist_of(ep)
            key = f"extension:{ep.name}"
            self._status[key] = PluginStatus(ep.name, "extension", ep.value, dist, version)
            self._pending_extensions.append((key, ep))

    def names(self) -> list[str]:
        """Names of all installed beamlines (loaded or not, broken included)."""
        return sorted(n for n, s in self._status.items() if s.kind == "beamline")

    def status(self, name: str) -> PluginStatus:
        """Status of beamline ``name`` (``BeamlineNotInstalledError`` if unknown)."""
        try:
            return self._status[name]
        except KeyError:
            raise BeamlineNotInstalledError(
                f"no beamline plugin named {name!r} is installed; installed: {', '.join(self.names()) or 'none'}"
            ) from None

    def statuses(self) -> list[PluginStatus]:
        """Status of every plugin, after trying to load each of them."""
        self.load_all()
        self._load_extensions()
        return [self._status[k] for k in sorted(self._status)]

    # --- loading -------------------------------------------------------------

    def load(self, name: str) -> object:
        """Import and register beamline ``name`` if needed; return its plugin object.

        Raises `BeamlineNotInstalledError` or `BeamlineLoadError`.
        """
        with self._lock:
            status = self.status(name)
            if status.state == "loaded":
                return self._beamlines[name]
            if status.state == "broken":
                raise BeamlineLoadError(f"beamline plugin {status.describe()}")
            ep = self._entry_points[name]
            try:
                plugin = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                old = api_1_name(exc)
                error = f"importing {ep.value} failed: {type(exc).__name__}: {exc}"
                if old is not None:
                    error += f": it was written for plugin API 1 ({old[0]} is {old[1]} now); see {PORTING_GUIDE}"
                self._broken(status, error)
                raise (BeamlineLoadError if old is None else PluginApiMismatchError)(
                    f"beamline plugin {status.describe()}"
                ) from exc
            try:
                self._register(name, plugin, status)
            except BeamlineLoadError as exc:
                self._broken(status, str(exc))
                raise
            return plugin

    def load_all(self) -> None:
        """Try to load every installed beamline; failures are recorded, not raised."""
        for name in self.names():
            with contextlib.suppress(BeamlineLoadError):
                self.load(name)

    def _broken(self, status: PluginStatus, error: str) -> None:
        status.state = "broken"
        status.error = error

    def register_beamline(
        self, name: str, plugin: object, *, distribution: str | None = None, version: str | None = None
    ) -> None:
        """Register a beamline plugin object in-process (without an entry point)."""
        with self._lock:
            if name in self._status and self._status[name].state != "broken":
                raise BeamlineLoadError(f"a beamline named {name!r} is already registered")
            status = PluginStatus(name, "beamline", repr(plugin), distribution, version)
            self._status[name] = status
            try:
                self._register(name, plugin, status)
            except BeamlineLoadError as exc:
                self._broken(status, str(exc))
                raise

    def _register(self, name: str, plugin: object, status: PluginStatus) -> None:
        declared = getattr(plugin, "NX5D_PLUGIN_API", None)
        if declared is None:
            raise PluginApiMismatchError(
                f"beamline plugin {name!r} ({status.target}) does not declare NX5D_PLUGIN_API; "
                f"this nx5d provides plugin API {PLUGIN_API}"
            )
        supported = {declared} if isinstance(declared, int) else set(declared)
        if PLUGIN_API not in supported and max(supported) == 1:
            raise PluginApiMismatchError(
                f"beamline plugin {name!r} ({status.distribution or status.target}) was written for plugin API 1; "
                f"this nx5d provides plugin API {PLUGIN_API}: see {PORTING_GUIDE}"
            )
        if PLUGIN_API not in supported:
            raise PluginApiMismatchError(
                f"beamline plugin {name!r} ({status.distribution or status.target}) targets nx5d plugin API "
                f"{', '.join(map(str, sorted(supported)))}, but this nx5d provides API {PLUGIN_API}; "
                f"install versions of nx5d-core and the plugin that match"
            )
        declaration = getattr(plugin, "NX5D_BEAMLINE", None)
        if not isinstance(declaration, Beamline):
            raise BeamlineLoadError(
                f"beamline plugin {name!r} ({status.target}): NX5D_BEAMLINE must be an nx5d.plugins.Beamline "
                f"declaration, got {declaration!r}"
            )
        try:
            self.pm.register(plugin, name=f"beamline:{name}")
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise BeamlineLoadError(f"beamline plugin {name!r} does not fit the nx5d hooks: {exc}") from exc
        unknown = [c.name for c in self.pm.get_hookcallers(plugin) or [] if c.spec is None]
        if unknown:
            self.pm.unregister(plugin)
            message = f"beamline plugin {name!r} implements unknown hook(s): {', '.join(unknown)}"
            old = [hook for hook in unknown if hook in API_1_HOOKS]
            if old:
                says = "; ".join(f"{hook}: {API_1_HOOKS[hook]}" for hook in old)
                message += f"; written for plugin API 1? The declaration says it now ({says}); see {PORTING_GUIDE}"
            raise BeamlineLoadError(message)
        self._beamlines[name] = plugin
        self._callers.clear()
        status.state = "loaded"
        status.error = None
        status.declaration = declaration

    def register_extension(self, plugin: object, name: str) -> None:
        """Register a cross-cutting extension (sees every beamline's calls)."""
        with self._lock:
            self.pm.register(plugin, name=f"extension:{name}")
            self._status.setdefault(f"extension:{name}", PluginStatus(name, "extension", repr(plugin), state="loaded"))
            self._callers.clear()

    def unregister(self, name: str) -> None:
        """Remove an in-process beamline or extension, or a built-in extension (``"nx5d:cooked_cache"``)."""
        with self._lock:
            plugin = self._beamlines.pop(name, None)
            if plugin is not None:
                self.pm.unregister(plugin)
                self._status.pop(name, None)
            else:
                ext = self.pm.get_plugin(name if name.startswith("nx5d:") else f"extension:{name}")
                if ext is not None:
                    self.pm.unregister(ext)
                    self._status.pop(f"extension:{name}", None)
            self._callers.clear()

    def _load_extensions(self) -> None:
        with self._lock:
            pending, self._pending_extensions = self._pending_extensions, []
        for key, ep in pending:
            status = self._status[key]
            try:
                self.pm.register(ep.load(), name=key)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - a broken extension must not break nx5d
                self._broken(status, f"loading {ep.value} failed: {type(exc).__name__}: {exc}")
            else:
                status.state = "loaded"
        if pending:
            self._callers.clear()

    # --- queries -------------------------------------------------------------

    def declaration(self, name: str) -> Beamline:
        """The declaration of beamline ``name`` (loading it if needed)."""
        self.load(name)
        return self._status[name].declaration  # type: ignore[return-value]

    def loaded(self) -> list[str]:
        """Names of the beamlines loaded successfully."""
        return sorted(self._beamlines)

    def schemes(self) -> set[str]:
        """URL schemes acceptable with the loaded beamlines."""
        out = set(DEFAULT_SCHEMES)
        for name in self.loaded():
            out.update(self._status[name].declaration.schemes)  # type: ignore[union-attr]
        return out

    # --- dispatch ------------------------------------------------------------

    def caller(self, beamline: str | None, hook: str) -> Any:
        """The pluggy hook caller of ``hook`` for ``beamline`` (``None``: core and extensions only)."""
        key = (beamline, hook)
        found = self._callers.get(key)
        if found is None:
            if self._pending_extensions:
                self._load_extensions()
            others = [p for n, p in self._beamlines.items() if n != beamline]
            found = self.pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[key] = found
        return found

    def call(
        self, beamline: str | None, hook: str, /, *, context: str, extra: Sequence[Any] = (), **kwargs: Any
    ) -> Any:
        """Call ``hook`` for ``beamline``; unexpected exceptions become `BeamlineFailure`.

        ``context`` says what was being done (``"loading file:///…/091726"``)
        and appears in the error message.  ``extra`` functions (with the
        hook's parameters) take part in this call before the beamline's own
        implementations: the subclassing API's methods are served this way,
        so extensions wrap them like any hook.
        """
        if beamline is not None and beamline not in self._beamlines:
            self.load(beamline)
        try:
            caller = self.caller(beamline, hook)
            return caller.call_extra(list(extra), kwargs) if extra else caller(**kwargs)
        except Nx5dError:
            raise
        except (Exception, SystemExit) as exc:
            who = f"beamline {beamline!r}" if beamline else "the repository's own code"
            raise BeamlineFailure(f"{who} failed while {context}: {type(exc).__name__}: {exc}") from exc

    def claims(
        self,
        url: str | UrlPattern,
        storage: Storage | None = None,
        problems: list[str] | None = None,
        naming: Naming | None = None,
    ) -> list[Claim]:
        """Every loaded beamline's claim on ``url`` (see [`nx5d.plugins.selection`][nx5d.plugins.selection]).

        ``url`` is a URL pattern, or one already parsed; ``naming``: the
        repository's own key rules, which content checks follow to find its
        first documents.
        """
        self.load_all()
        naming = naming or Naming()
        pattern = url if isinstance(url, UrlPattern) else self._parse(url, naming)
        declarations = {name: self._status[name].declaration for name in self.loaded()}
        return claims(declarations, pattern, storage or Storage(), problems, naming)  # type: ignore[arg-type]

    def _parse(self, url: str, naming: Naming) -> UrlPattern:
        return UrlPattern(url, schemes=self.schemes(), spans=naming.spans())

    def choose(self, url: str, storage: Storage | None = None, naming: Naming | None = None) -> tuple[str, UrlPattern]:
        """The beamline that claims ``url`` best, and the parsed pattern."""
        problems: list[str] = []
        self.load_all()
        naming = naming or Naming()
        pattern = self._parse(url, naming)
        found = self.claims(pattern, storage, problems, naming)
        claim = best_claim(url, found, self._no_claim_message(url, problems))
        return claim.beamline, pattern

    def _no_claim_message(self, url: str, problems: Iterable[str]) -> str:
        lines = [f"no installed beamline plugin recognises {url}."]
        installed = [self._status[n].describe() for n in self.names()]
        lines.append("Installed beamlines:" if installed else "No beamline plugins are installed.")
        lines.extend(f"  {line}" for line in installed)
        lines.extend(f"  {p}" for p in problems)
        lines.append("Choose one explicitly: nx5d.open(url, beamline=NAME), or --beamline NAME on the command line.")
        return "\n".join(lines)


_REGISTRY: PluginRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


@functools.cache
def nx5d_distributions() -> str:
    """The installed distributions results can depend on, as ``"name version, ..."`` (read once per process).

    Every distribution named ``nx5d-…`` (the core, beamlines, the recipes'
    ``nx5d-rsm``, readers such as ``nx5d-tiff`` a beamline uses) and every
    other one with an entry point in an ``nx5d.*`` group (a lab's own
    recipes).  Kept results (cooked files, the cooked cache, the scan index)
    record it, so that upgrading any of them makes them be made again.
    """
    found = set()
    for dist in distributions():
        name, version = _name_and_version(dist)
        ours = name.lower().replace("_", "-").startswith("nx5d-")
        if not ours and "nx5d." in (dist.read_text("entry_points.txt") or ""):  # parsed only where it may be
            ours = any(ep.group.startswith("nx5d.") for ep in dist.entry_points)
        if ours:
            found.add(f"{name} {version}")
    return ", ".join(sorted(found))


def _name_and_version(dist: Distribution) -> tuple[str, str]:
    """A distribution's ``Name`` and ``Version`` from its metadata's header lines.

    ``dist.metadata`` parses every field of the file with the ``email``
    package: for the few hundred distributions of a scientific environment
    that is most of the time `nx5d.open` takes.  Both fields are in the
    header (the core metadata specification), which ends at the first empty
    line; they are read as the ``email`` parser reads them: names in any
    case, the value without the spaces after the colon, continued on lines
    that start with a space.  The metadata file is ``METADATA``
    (``.dist-info``), ``PKG-INFO`` (``.egg-info`` folders) or the
    ``.egg-info`` file itself.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("") or ""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line:
            break
        if line[0] in " \t":  # a folded header line continues the field before it
            if key in fields:
                fields[key] += "\n" + line
            continue
        key, _, value = line.partition(":")
        key = key.lower()
        if key in ("name", "version") and key not in fields:
            fields[key] = value.lstrip(" \t")
        else:
            key = ""
    return fields.get("name", ""), fields.get("version", "")


def unrelated_nx5d() -> str | None:
    """The version of the unrelated ``nx5d`` distribution if it is installed here, else ``None``.

    The public package index's ``nx5d`` is another project that imports as
    ``nx5d`` too; installed beside ``nx5d-core`` the two overwrite each
    other's files.
    """
    try:
        return distribution("nx5d").version
    except PackageNotFoundError:
        return None


def registry() -> PluginRegistry:
    """The process-wide registry of installed plugins (created on first use)."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            other = unrelated_nx5d()
            if other is not None:
                warnings.warn(
                    f"the distribution 'nx5d' {other} is installed in this environment: it is an unrelated "
                    "project that also imports as 'nx5d' and overwrites this one's files; "
                    "'pip uninstall nx5d', then reinstall nx5d-core",
                    Nx5dWarning,
                    stacklevel=2,
                )
            _REGISTRY = PluginRegistry()
        return _REGISTRY
