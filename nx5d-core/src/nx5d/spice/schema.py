"""Optional spice schemas: attrs classes declaring the fields of a spice type.

A beamline plugin declares ``{type_name: attrs_class}`` as the ``spice`` of
its :class:`~nx5d.plugins.declaration.Beamline`.  Records of a type with a schema are checked before
anything is written: unknown fields, missing required fields and values of the
wrong type are refused with a :class:`SpiceValidationError`.  Classes whose
fields all have defaults also provide default spice.

Field types are checked with :func:`nx5d.annotations.fits`.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import attrs

from nx5d.annotations import misfit
from nx5d.errors import SpiceValidationError

__all__ = ["validate", "schema_defaults", "settings_from"]

T = typing.TypeVar("T")


def validate(schema: type, data: Mapping[str, Any], where: str) -> None:
    """Check ``data`` against the attrs class ``schema`` (``SpiceValidationError`` naming the field)."""
    attrs.resolve_types(schema)
    fields = attrs.fields_dict(schema)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpiceValidationError(
            f"{where}: unknown field(s) {', '.join(unknown)} for spice type {schema.__name__}; "
            f"fields are {', '.join(fields)}"
        )
    missing = [n for n, f in fields.items() if f.default is attrs.NOTHING and n not in data]
    if missing:
        raise SpiceValidationError(f"{where}: missing field(s) {', '.join(missing)} of spice type {schema.__name__}")
    wrong = misfit(schema, data)
    if wrong is not None:
        raise SpiceValidationError(f"{where}: field {wrong[0]!r} {wrong[1]}")
    try:
        schema(**data)
    except (TypeError, ValueError) as exc:
        raise SpiceValidationError(f"{where}: {exc}") from exc


def schema_defaults(schemas: Mapping[str, type]) -> dict[str, dict[str, Any]]:
    """Default spice from schemas whose fields all have defaults: ``{type: {field: value}}``."""
    out = {}
    for name, schema in schemas.items():
        fields = attrs.fields(schema)
        if all(f.default is not attrs.NOTHING for f in fields):
            out[name] = attrs.asdict(schema(), recurse=True)
    return out


def settings_from(schema: type[T], spice: Mapping[str, Any], handle: str, purpose: str) -> T:
    """The spice of ``handle`` as an instance of the attrs class ``schema``; its defaults fill the gaps.

    For cook functions: ``settings_from(RsmSettings, spice, "settings", "UDKM maps")``.
    A field the class does not have, or a value its validators refuse, raises
    :class:`SpiceValidationError` naming ``handle`` and ``purpose``.
    """
    given = spice.get(handle, {})
    try:
        return schema(**{key: given[key] for key in given})
    except (TypeError, ValueError) as exc:
        raise SpiceValidationError(f"spice {handle!r} cannot be used for {purpose}: {exc}") from exc
