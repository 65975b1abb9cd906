"""Optional spice schemas: attrs classes declaring the fields of a spice type.

A beamline plugin returns ``{type_name: attrs_class}`` from its
``nx5d_spice_schema`` hook.  Records of a type with a schema are checked before
anything is written: unknown fields, missing required fields and values of the
wrong type are refused with a :class:`SpiceValidationError`.  Classes whose
fields all have defaults also provide default spice.

Supported annotations: ``int``, ``float`` (accepts ints), ``bool``, ``str``,
``tuple[...]`` and ``list[...]`` (JSON arrays are accepted for both),
``dict[str, ...]``, ``X | None``, ``Literal[...]`` and ``Any``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from nx5d.errors import SpiceValidationError

__all__ = ["validate", "schema_defaults", "settings_from"]

T = typing.TypeVar("T")


def _fits(value: Any, annotation: Any) -> bool:
    if annotation is Any:
        return True
    if annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if origin is tuple:
        if not isinstance(value, tuple | list):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return not args or (len(args) == len(value) and all(_fits(v, a) for v, a in zip(value, args, strict=True)))
    if origin is list:
        return isinstance(value, list | tuple) and (not args or all(_fits(v, args[0]) for v in value))
    if origin is dict:
        return isinstance(value, Mapping) and (not args or all(_fits(v, args[1]) for v in value.values()))
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True  # annotations we cannot check are not enforced


def _describe(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


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
    for name, value in data.items():
        annotation = fields[name].type
        if annotation is not None and not _fits(value, annotation):
            raise SpiceValidationError(
                f"{where}: field {name!r} must be {_describe(annotation)}, got {value!r} ({type(value).__name__})"
            )
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
