"""What a beamline plugin declares about itself: data, not code paths.

A plugin module (or object) named by an ``nx5d.beamlines`` entry point holds

* ``NX5D_PLUGIN_API`` -- the plugin API version it is written for
  (`nx5d.plugins.hookspecs.PLUGIN_API`);
* ``NX5D_BEAMLINE`` -- a `Beamline` declaration: description, URL
  examples, schemes and document suffixes, claim level and content check,
  key and handle rules, loading options, spice schemas and presets, and
  how the core's recipes cook its scans;
* hook implementations ([`nx5d.plugins.hookspecs`][nx5d.plugins.hookspecs]) for what it does:
  list, summarise, load (and cook, where the recipes do not serve).

The core reads the declaration to choose a plugin for a URL
([`nx5d.plugins.selection`][nx5d.plugins.selection]), to name proposals and scans, to check
loading options and spice -- so none of that needs a hook.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from nx5d.recipes.choice import with_core_schemas
from nx5d.recipes.contract import Cooking
from nx5d.spice.schema import validate

if TYPE_CHECKING:
    from nx5d.addressing.url import UrlPattern
    from nx5d.plugins.references import DocumentRef

__all__ = ["ClaimLevel", "Beamline", "NoOptions", "Preset"]


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


@attrs.frozen
class Preset:
    """Named spice a beamline offers, seeded with ``proposal.spice.seed_preset(name)``.

    Attributes
    ----------
    description:
        One line: what the preset is for (and where its numbers come from).
    spice:
        ``{handle: {field: value}}``: the records it seeds (type = handle).
    """

    description: str
    spice: Mapping[str, Mapping[str, Any]] = attrs.field(converter=lambda v: {h: dict(d) for h, d in v.items()})


# Typed converters: attrs' ``converter=dict`` would type the fields' parameters as ``dict``'s overloads.
def _text_map(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _schema_map(value: Mapping[str, type]) -> dict[str, type]:
    return dict(value)


def _preset_map(value: Mapping[str, Preset]) -> dict[str, Preset]:
    return dict(value)


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
        The `ClaimLevel` of its claims.
    accepts:
        Further cheap check of the URL pattern, without reading storage
        (``lambda pattern: pattern.path_segments[-1].template == "{scan}"``).
    recognises:
        Content check: called with the first document of the repository (a
        [`DocumentRef`][nx5d.plugins.references.DocumentRef]), returns whether it is
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
    cooking:
        How the core's recipes ([`nx5d.recipes`][nx5d.recipes]) cook its scans: which
        recipe per scan type, the angles of the frames, the variables playing
        the parts recipes ask for.  ``None``: the beamline's ``nx5d_cook``
        hook cooks.  With cooking declared, the core's spice types
        ``offsets`` and ``recipes`` are available in its proposals.
    presets:
        ``{name: Preset}``: named spice users can seed in one call, checked
        against ``spice`` when the declaration is made.
    process_local:
        ``True``: its data lives in the running Python process (registered
        there, as the ``memory`` beamline's), so other processes cannot read
        it; batch cooking then cooks its scans in this process, and refuses
        a dask cluster.
    """

    description: str
    url_examples: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    schemes: tuple[str, ...] = attrs.field(default=("file",), converter=_lower)
    suffixes: tuple[str, ...] = attrs.field(default=(), converter=_lower)
    anchor: bool | None = None
    level: ClaimLevel = attrs.field(default=ClaimLevel.FORMAT, converter=ClaimLevel)
    accepts: Callable[[UrlPattern], bool] | None = None
    recognises: Callable[[DocumentRef], bool] | None = None
    key_patterns: Mapping[str, str] = attrs.field(factory=dict, converter=_text_map)
    proposal_handle: str | Callable[[str], str] | None = None
    scan_handle: str | Callable[[str], str] | None = None
    options: type = attrs.field(default=NoOptions)
    spice: Mapping[str, type] = attrs.field(factory=dict, converter=_schema_map)
    cooking: Cooking | None = attrs.field(default=None)
    presets: Mapping[str, Preset] = attrs.field(factory=dict, converter=_preset_map)
    process_local: bool = False

    @options.validator
    def _check_options(self, attribute: attrs.Attribute, value: Any) -> None:
        if not attrs.has(value):
            raise TypeError(f"{attribute.name} must be an attrs class of loading options, not {value!r}")

    @spice.validator
    def _check_spice(self, attribute: attrs.Attribute, value: Mapping[str, Any]) -> None:
        bad = [name for name, schema in value.items() if not attrs.has(schema)]
        if bad:
            raise TypeError(f"spice schemas must be attrs classes; not so for {', '.join(bad)}")

    @cooking.validator
    def _check_cooking(self, attribute: attrs.Attribute, value: Cooking | None) -> None:
        if value is not None and not isinstance(value, Cooking):
            raise TypeError(f"cooking must be an nx5d.recipes.Cooking declaration, not {value!r}")

    @presets.validator
    def _check_presets(self, attribute: attrs.Attribute, value: Mapping[str, Preset]) -> None:
        schemas = self.spice_schemas()
        for name, preset in value.items():
            if not isinstance(preset, Preset):
                raise TypeError(f"preset {name!r} must be an nx5d.plugins.Preset, not {preset!r}")
            for handle, data in preset.spice.items():
                if handle in schemas:
                    validate(schemas[handle], data, f"preset {name!r}, spice {handle!r}")

    def spice_schemas(self) -> dict[str, type]:
        """The spice schemas of its proposals: its own, and the core's cooking types where the core cooks."""
        return with_core_schemas(self.spice) if self.cooking is not None else dict(self.spice)
