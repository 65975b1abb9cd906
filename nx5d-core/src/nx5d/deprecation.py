"""Deprecations: an old spelling keeps working for a while, and says what replaces it.

The policy (the documentation's Internals page, *Deprecation policy*): a
public name, keyword or hook that is renamed or removed keeps working for
`LIFETIME` minor releases after the release that deprecates it, and every use
warns with an [`Nx5dDeprecationWarning`][nx5d.deprecation.Nx5dDeprecationWarning]
that names the new spelling and the release that removes the old one.

* [`moved_attributes`][nx5d.deprecation.moved_attributes]: a module's old
  attribute names as aliases of objects that live elsewhere now;
* [`renamed_keywords`][nx5d.deprecation.renamed_keywords]: a function's old
  keyword arguments as aliases of new ones;
* [`hook_deprecated`][nx5d.deprecation.hook_deprecated]: the warning a
  deprecated hook specification hands to pluggy's ``warn_on_impl``.

This module also records what plugin API 1 (nx5d 0.1) called things, so that
[discovery][nx5d.plugins.discovery] can tell the author of a plugin written
for it where to look ([`api_1_name`][nx5d.deprecation.api_1_name]); the
documentation's *Porting from plugin API 1* says the rest.
"""

from __future__ import annotations

import functools
import importlib
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from nx5d.errors import OptionError

__all__ = [
    "LIFETIME",
    "Nx5dDeprecationWarning",
    "removal_release",
    "deprecated",
    "moved_attributes",
    "renamed_keywords",
    "hook_deprecated",
    "NX5D3_KEYWORDS",
    "overridden",
    "PORTING_GUIDE",
    "API_1_MODULES",
    "API_1_NAMES",
    "API_1_HOOKS",
    "api_1_name",
]

F = TypeVar("F", bound=Callable[..., Any])

LIFETIME = 2
"""How many minor releases a deprecated spelling keeps working after the one that deprecates it."""


class Nx5dDeprecationWarning(DeprecationWarning):
    """An old spelling of an nx5d name, keyword or hook: it still works, until the release the message names.

    A ``DeprecationWarning``: Python shows it in tests (pytest) and in code
    run as ``__main__``, so plugin authors see it where it matters; turn it
    into an error with ``-W error::nx5d.deprecation.Nx5dDeprecationWarning``.
    """


def removal_release(since: str) -> str:
    """The release that removes what ``since`` deprecates: `LIFETIME` minor releases later (``"0.3"`` -> ``"0.5"``)."""
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?", since)
    if match is None:
        raise ValueError(f"a deprecation's release must be MAJOR.MINOR, not {since!r}")
    return f"{match[1]}.{int(match[2]) + LIFETIME}"


def _message(old: str, new: str, since: str) -> str:
    return f"{old} is deprecated since nx5d-core {since} and goes away in {removal_release(since)}: use {new}"


def deprecated(old: str, new: str, *, since: str, stacklevel: int = 2) -> None:
    """Warn that ``old`` is spelled ``new`` now (``stacklevel`` as for `warnings.warn`, from the caller)."""
    warnings.warn(Nx5dDeprecationWarning(_message(old, new, since)), stacklevel=stacklevel + 1)


def moved_attributes(
    module: str,
    moved: Mapping[str, str],
    *,
    since: str,
    otherwise: Callable[[str], Any] | None = None,
) -> Callable[[str], Any]:
    """A module ``__getattr__`` under which each old name of ``moved`` still gives its object, with a warning.

    Parameters
    ----------
    module:
        The module's name (``__name__``).
    moved:
        ``{old attribute: "package.module:attribute"}``: where each object
        lives now (``"package.module"`` alone: the module itself).  The
        target is imported on first use, so an alias costs nothing when the
        module is imported.
    since:
        The release that deprecates the old names.
    otherwise:
        The module's own ``__getattr__`` for other names, if it has one.

    Example
    -------
        # nx5d/io/storage.py, once join_url is renamed join
        __getattr__ = moved_attributes(__name__, {"join_url": "nx5d.io.storage:join"}, since="0.3")
    """

    def __getattr__(name: str) -> Any:
        target = moved.get(name)
        if target is None:
            if otherwise is not None:
                return otherwise(name)
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        where, _, attribute = target.partition(":")
        deprecated(f"{module}.{name}", f"{where}.{attribute}" if attribute else where, since=since)
        found = importlib.import_module(where)
        return getattr(found, attribute) if attribute else found

    return __getattr__


def renamed_keywords(*, since: str, **renamed: str) -> Callable[[F], F]:
    """Decorator: each old keyword argument (``old="new"``) is still accepted as the new one, with a warning.

    Giving both the old and the new keyword is an
    [`OptionError`][nx5d.errors.OptionError] naming the function and both.

    Example
    -------
        @renamed_keywords(since="0.3", roi="region")
        def load(self, *, region=None): ...
    """

    def decorate(function: F) -> F:
        where = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renamed.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise OptionError(f"{where}() got both {old}= and {new}=: {old}= is deprecated, give {new}= only")
                deprecated(f"{where}({old}=…)", f"{new}=", since=since)
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def hook_deprecated(hook: str, instead: str, *, since: str) -> Nx5dDeprecationWarning:
    """The warning for ``warn_on_impl`` of a deprecated hook specification.

    pluggy issues it, pointing at the plugin's function, whenever a plugin
    that implements ``hook`` is registered:

        @hookspec(firstresult=True, warn_on_impl=hook_deprecated("nx5d_old", "nx5d_new", since="0.3"))
        def nx5d_old(scan): ...
    """
    return Nx5dDeprecationWarning(_message(f"the hook {hook}", instead, since))


def overridden(cls: type, old: str, new: str, *, since: str) -> None:
    """Warn if class ``cls`` defines the method ``old``, a name the subclassing API no longer calls by itself.

    Called when the subclass is created (``__init_subclass__``), as pluggy
    warns about a deprecated hook when a plugin implementing it is
    registered: the warning points at the method's definition, where the
    subclass's author changes it, and names ``new``, what to write instead.
    """
    method = vars(cls).get(old)
    if method is None:
        return
    warning = Nx5dDeprecationWarning(_message(f"overriding {cls.__name__}.{old}()", new, since))
    code = getattr(method, "__code__", None)
    if code is None:
        warnings.warn(warning, stacklevel=3)
        return
    warnings.warn_explicit(
        warning, Nx5dDeprecationWarning, code.co_filename, code.co_firstlineno, module=cls.__module__
    )


NX5D3_KEYWORDS = {
    "proposal_key_parse": "proposal_key",
    "scan_key_parse": "scan_key",
    "proposal_handle_format": "proposal_handle",
    "scan_handle_format": "scan_handle",
}
"""nx5d 3.2's naming keywords of repositories and the core keywords that replace them (see `renamed_keywords`)."""


# --- what plugin API 1 (nx5d 0.1) called things ---------------------------------------------------------------------

PORTING_GUIDE = (
    "the porting guide, 'Porting from plugin API 1' in the nx5d documentation (docs/porting-from-plugin-api-1.md)"
)
"""Where the author of a plugin written for plugin API 1 learns how to port it (a page of ``docs/``)."""

API_1_MODULES: dict[str, str] = {
    "nx5d.info": "the declaration nx5d.plugins.Beamline",
    "nx5d.hookspecs": "nx5d.plugins.hookspecs",
    "nx5d.defaults": "nx5d.plugins.fallbacks",
    "nx5d.url": "nx5d.addressing.url",
    "nx5d.keys": "nx5d.addressing.keys",
    "nx5d.handles": "nx5d.addressing.handles",
    "nx5d.listing": "nx5d.addressing.listing",
    "nx5d.fs": "nx5d.io.storage",
    "nx5d.hdf5": "nx5d.io.hdf5",
    "nx5d.frames": "nx5d_tiff (distribution nx5d-tiff) and nx5d.io.frames",
    "nx5d.rsm": "nx5d_rsm (distribution nx5d-rsm)",
    "nx5d.plot": "nx5d_rsm.plot (distribution nx5d-rsm)",
    "nx5d.batch": "nx5d_results.batch (distribution nx5d-results)",
    "nx5d.opening": "nx5d.model.open",
    "nx5d.tables": "nx5d.display",
    "nx5d.cli": "nx5d.app.cli",
    "nx5d.scaffold": "nx5d.app.scaffold",
}
"""Modules of nx5d 0.1 (plugin API 1) that no longer exist, and where their contents live now."""

API_1_NAMES: dict[str, str] = {
    "nx5d.BeamlineInfo": "the declaration nx5d.plugins.Beamline",
    "nx5d.plugins.PluginRegistry": "nx5d.plugins.discovery.PluginRegistry",
    "nx5d.plugins.PluginStatus": "nx5d.plugins.discovery.PluginStatus",
    "nx5d.plugins.registry": "nx5d.plugins.discovery.registry",
}
"""Names that modules still present held in nx5d 0.1 and hold no longer."""

API_1_HOOKS: dict[str, str] = {
    "nx5d_beamline_info": "NX5D_BEAMLINE = nx5d.plugins.Beamline(...)",
    "nx5d_claim": "Beamline(schemes=, suffixes=, anchor=, accepts=, recognises=, level=)",
    "nx5d_repository": "the core builds every repository (subclassing API: nx5d.repo)",
    "nx5d_proposal_handle": "Beamline(proposal_handle=)",
    "nx5d_scan_handle": "Beamline(scan_handle=)",
    "nx5d_spice_schema": "Beamline(spice=)",
}
"""Hooks of plugin API 1 that plugin API 2 replaced by the declaration, and what says it now."""

# ``from nx5d import hdf5`` fails on the name ``nx5d.hdf5``, as ``import nx5d.hdf5`` does.
_API_1 = {**API_1_MODULES, **API_1_NAMES}
_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")


def api_1_name(exc: BaseException) -> tuple[str, str] | None:
    """``(old name, where it lives now)`` when ``exc`` is an import that failed on a name only plugin API 1 had.

    ``import nx5d.hdf5`` fails with ``ModuleNotFoundError`` naming
    ``nx5d.hdf5``; ``from nx5d import BeamlineInfo`` with ``ImportError``
    "cannot import name 'BeamlineInfo' from 'nx5d'".  Any other exception
    (a missing third-party module, a name nx5d never had) gives ``None``.
    """
    if not isinstance(exc, ImportError):
        return None
    names = []
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        names.append(exc.name)
    found = _CANNOT_IMPORT.search(str(exc))
    if found:
        names.append(f"{found[2]}.{found[1]}")
    for name in names:
        parts = name.split(".")
        for end in range(len(parts), 1, -1):  # nx5d.scaffold.template: the module nx5d.scaffold
            prefix = ".".join(parts[:end])
            if prefix in _API_1:
                return prefix, _API_1[prefix]
    return None
