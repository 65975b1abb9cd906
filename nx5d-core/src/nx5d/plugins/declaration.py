"""What a beamline plugin declares about itself: data, not code paths.

A plugin module (or object) named by an ``nx5d.beamlines`` entry point holds

* ``NX5D_PLUGIN_API`` -- the plugin API version it is written for
  (:data:`nx5d.plugins.hookspecs.PLUGIN_API`);
* ``NX5D_BEAMLINE`` -- a :class:`Beamline` declaration: description, URL
  examples, schemes and document suffixes, claim level and content check,
  key and handle rules, loading options and spice schemas;
* hook implementations (:mod:`nx5d.plugins.hookspecs`) for what it does:
  list, summarise, load, cook.

The core reads the declaration to choose a plugin for a URL
(:mod:`nx5d.plugins.selection`), to name proposals and scans, to check
loading options and spice -- so none of that needs a hook.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from nx5d.addressing.url import UrlPattern
    from nx5d.plugins.references import DocumentRef

__all__ = ["ClaimLevel", "Beamline", "NoOptions"]


class ClaimLevel(enum.IntEnum):
    """How specifically a beamline claims the URLs its declaration admits.

    When several beamlines claim a URL, the highest level wins; two at the
    same highest level are an error that lists them (choose with
    ``nx5d.open(url, beamline=...)``).
    """

    #: Any file of a general format: every SPEC file, every HDF5/NeXus/Zarr file.
    GENERIC = 1
    #: A layout or dialect within a format (a lab's folder structure, a file convention).
    FORMAT = 2
    #: One beamline's own data, recognised by its content.
    BEAMLINE = 3


@attrs.frozen
class NoOptions:
    """Loading options of a beamline that has none."""


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


def _lower(value: object) -> tuple[str, ...]:
    return tuple(s.lower() for s in _strings(value))


@attrs.frozen
class Beamline:
    """A beamline plugin's declaration (its module's ``NX5D_BEAMLINE``).

    Attributes
    ----------
    description:
        One line saying what the beamline / format is (shown by ``nx5d plugins``).
    url_examples:
        Example repository URL patterns (``"file:///…/{proposal}/{scan}"``),
        shown when no plugin claims a URL.
    schemes:
        URL schemes the beamline serves (``file``, ``http``, ``https``, ``s3``,
        ``memory`` ...); remote ones are read through fsspec.
    suffixes:
        File name endings of the documents it reads (``(".spec", ".dat")``,
        compared without case); empty: any document (folders included).
    anchor:
        ``True``: its URLs address places inside documents (``…h5#{scan}``);
        ``False``: they must not have a ``#`` part; ``None``: either.
    level:
        The :class:`ClaimLevel` of its claims.
    accepts:
        Further cheap check of the URL pattern, without reading storage
        (``lambda pattern: pattern.path_segments[-1].template == "{scan}"``).
    recognises:
        Content check: called with the first document of the repository (a
        :class:`~nx5d.plugins.references.DocumentRef`), returns whether it is
        this beamline's.  It should read little (a header, a group, a
        folder listing).  ``None``: the declared filter is enough.
    key_patterns:
        Regular expressions proposal / scan keys must match in full when the
        core lists storage (``{"scan": r"\\d{6}"}``), so that unrelated files
        beside the data are not taken for scans.  Named groups can be used in
        the handle templates.
    proposal_handle, scan_handle:
        Key-to-handle rules: a template such as ``"p{key}"`` (``{key}`` is the
        key, other fields are named groups of the key pattern) or a function
        ``key -> handle``; ``None``: the core's rule (sanitise, prefix ``p`` / ``s``).
    options:
        An attrs class of the loading options (typed, with defaults); the core
        checks what users pass and hands the ``nx5d_raw`` hook an instance.
    spice:
        Spice schemas, ``{type name: attrs class}``: records are validated
        against them, and classes whose fields all have defaults give the
        default spice.
    """

    description: str
    url_examples: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    schemes: tuple[str, ...] = attrs.field(default=("file",), converter=_lower)
    suffixes: tuple[str, ...] = attrs.field(default=(), converter=_lower)
    anchor: bool | None = None
    level: ClaimLevel = attrs.field(default=ClaimLevel.FORMAT, converter=ClaimLevel)
    accepts: Callable[[UrlPattern], bool] | None = None
    recognises: Callable[[DocumentRef], bool] | None = None
    key_patterns: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    proposal_handle: str | Callable[[str], str] | None = None
    scan_handle: str | Callable[[str], str] | None = None
    options: type = attrs.field(default=NoOptions)
    spice: Mapping[str, type] = attrs.field(factory=dict, converter=dict)

    @options.validator
    def _check_options(self, attribute: attrs.Attribute, value: Any) -> None:
        if not attrs.has(value):
            raise TypeError(f"{attribute.name} must be an attrs class of loading options, not {value!r}")

    @spice.validator
    def _check_spice(self, attribute: attrs.Attribute, value: Mapping[str, Any]) -> None:
        bad = [name for name, schema in value.items() if not attrs.has(schema)]
        if bad:
            raise TypeError(f"spice schemas must be attrs classes; not so for {', '.join(bad)}")
