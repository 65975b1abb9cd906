"""Checking values against type annotations, for spice schemas and loading options.

Supported annotations: ``int``, ``float`` (accepts ints), ``bool``, ``str``,
``tuple[...]`` and ``list[...]`` (JSON arrays are accepted for both),
``dict[str, ...]``, ``X | None``, ``Literal[...]``, ``Any`` and classes
(``isinstance``).  Annotations it cannot check are not enforced.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["fits", "describe", "misfit"]


def fits(value: Any, annotation: Any) -> bool:
    """Whether ``value`` is acceptable for ``annotation``."""
    if annotation is Any:
        return True
    if annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if origin is tuple:
        if not isinstance(value, tuple | list):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(fits(v, args[0]) for v in value)
        return not args or (len(args) == len(value) and all(fits(v, a) for v, a in zip(value, args, strict=True)))
    if origin is list:
        return isinstance(value, list | tuple) and (not args or all(fits(v, args[0]) for v in value))
    if origin is dict:
        return isinstance(value, Mapping) and (not args or all(fits(v, args[1]) for v in value.values()))
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def describe(annotation: Any) -> str:
    """A short text for an annotation: ``True or False``, ``one of 'raise', 'mask'``, ``int or None`` ..."""
    if annotation is bool:
        return "True or False"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("None" if a is type(None) else describe(a) for a in args)
    if isinstance(annotation, type) and not args:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def misfit(cls: type, data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first of ``data``'s values that does not fit its field of the attrs class ``cls``.

    Returns ``(field name, "must be <type>, got <value> (<its type>)")``, or
    ``None`` when every value fits.  Names ``cls`` does not have are skipped.
    """
    attrs.resolve_types(cls)
    fields = attrs.fields_dict(cls)
    for name, value in data.items():
        annotation = fields[name].type if name in fields else None
        if annotation is not None and not fits(value, annotation):
            return name, f"must be {describe(annotation)}, got {value!r} ({type(value).__name__})"
    return None
