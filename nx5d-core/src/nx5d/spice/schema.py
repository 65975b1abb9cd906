"""Optional spice schemas: attrs classes declaring the fields of a spice type.

A beamline plugin declares ``{type_name: attrs_class}`` as the ``spice`` of
its [`Beamline`][nx5d.plugins.declaration.Beamline].  Records of a type with a schema are checked before
anything is written: unknown fields, missing required fields and values of the
wrong type are refused with a `SpiceValidationError`.  Classes whose
fields all have defaults also provide default spice.

A type whose field names are not known in advance (the core's ``offsets``:
one field per variable) has an *open* schema instead: a class with
``nx5d_open = True`` and a classmethod ``nx5d_validate(data, where)``.

Field types are checked with `nx5d.annotations.fits`.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import attrs

from nx5d.annotations import misfit
from nx5d.errors import SpiceValidationError
from nx5d.suggestions import did_you_mean

__all__ = ["validate", "schema_defaults", "settings_from", "is_open", "declared_fields"]

T = typing.TypeVar("T")


def is_open(schema: type) -> bool:
    """Whether ``schema`` is an open schema (any field names, checked by its ``nx5d_validate``)."""
    return bool(getattr(schema, "nx5d_open", False))


def declared_fields(schema: type | None) -> set[str]:
    """The field names an attrs schema declares (none for open schemas or no schema)."""
    return {f.name for f in attrs.fields(schema)} if schema is not None and attrs.has(schema) else set()


def validate(schema: type, data: Mapping[str, Any], where: str) -> None:
    """Check ``data`` against ``schema`` (``SpiceValidationError`` naming the field)."""
    if is_open(schema):
        schema.nx5d_validate(data, where)  # type: ignore[attr-defined]
        return
    attrs.resolve_types(schema)
    fields = attrs.fields_dict(schema)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpiceValidationError(
            f"{where}: unknown field(s) {', '.join(unknown)} for spice type {schema.__name__}"
            f"{did_you_mean(unknown, fields)}; fields are {', '.join(fields)}"
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
        if not attrs.has(schema):
            continue
        fields = attrs.fields(schema)
        if all(f.default is not attrs.NOTHING for f in fields):
            out[name] = attrs.asdict(schema(), recurse=True)
    return out


def settings_from(schema: type[T], spice: Mapping[str, Any], handle: str, purpose: str) -> T:
    """The spice of ``handle`` as an instance of the attrs class ``schema``; its defaults fill the gaps.

    For cook functions: ``settings_from(RsmSettings, spice, "settings", "UDKM maps")``.
    A field the class does not have, or a value its validators refuse, raises
    `SpiceValidationError` naming ``handle`` and ``purpose``.
    """
    given = spice.get(handle, {})
    plain = given.to_dict() if hasattr(given, "to_dict") else dict(given)  # nested mappings as plain dicts
    try:
        return schema(**plain)
    except (TypeError, ValueError) as exc:
        raise SpiceValidationError(f"spice {handle!r} cannot be used for {purpose}: {exc}") from exc
