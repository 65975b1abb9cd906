"""Which recipe cooks a scan: the ``recipes`` spice of its proposal, then the beamline's declaration.

``proposal.spice.seed("recipes", by_type={"ascan z*": "profile", "tRSS": "delay-rsm"})``
sends height scans to a 1-D profile and time-resolved scans to one map per
delay; every other scan type keeps the recipe its beamline declares.  A
pattern (``fnmatch``: ``*``, ``?``, ``[...]``) is matched against the scan's
type (``ascan``) and against its type and scanned motor (``ascan th``);
the first matching pattern wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

import attrs

from nx5d.errors import RecipeNotFoundError
from nx5d.recipes.contract import RECIPE_NAME
from nx5d.recipes.offsets import OFFSETS, AngleOffsets
from nx5d.recipes.registry import recipes
from nx5d.spice.stack import STACK, StackSettings

__all__ = ["RecipeChoice", "RECIPES", "CORE_SCHEMAS", "with_core_schemas", "scan_kinds", "choose"]

#: The spice handle and type naming recipes per scan type.
RECIPES = "recipes"


def _table(instance: object, attribute: attrs.Attribute, value: Mapping[str, str]) -> None:
    for pattern, name in value.items():
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError(f"{attribute.name}: scan type patterns are non-empty strings, not {pattern!r}")
        known = recipes().names()
        if not (isinstance(name, str) and RECIPE_NAME.fullmatch(name)) or name not in known:
            raise ValueError(
                f"{attribute.name}: {pattern!r} names no installed recipe: {name!r}; known recipes: {', '.join(known)}"
            )


@attrs.define
class RecipeChoice:
    """Recipes per scan type (spice handle and type ``recipes``).

    Attributes
    ----------
    by_type:
        ``{scan type pattern: recipe name}``, tried in order before the
        beamline's own table (see the module documentation).
    """

    by_type: dict[str, str] = attrs.field(validator=_table)


#: Spice types the core cooks with, for every beamline that lets it cook.
CORE_SCHEMAS: dict[str, type] = {OFFSETS: AngleOffsets, RECIPES: RecipeChoice, STACK: StackSettings}


def with_core_schemas(declared: Mapping[str, type]) -> dict[str, type]:
    """A beamline's spice schemas with the core's cooking types added (the beamline's own win)."""
    return {**CORE_SCHEMAS, **declared}


def scan_kinds(summary: Mapping[str, Any]) -> list[str]:
    """What recipe patterns are matched against: the scan's type, and its type with the scanned motor."""
    kind = str(summary.get("type") or "")
    motor = str(summary.get("motor") or "")
    return [kind, f"{kind} {motor}"] if motor else [kind]


def choose(summary: Mapping[str, Any], spice: Mapping[str, Any], declared: Mapping[str, str], where: str) -> str:
    """The name of the recipe for a scan: from the ``recipes`` spice, else the beamline's table."""
    kinds = scan_kinds(summary)
    given = spice.get(RECIPES)
    tables = [dict(given.get("by_type", {}) if given is not None else {}), dict(declared)]
    for table in tables:
        for pattern, name in table.items():
            if any(fnmatchcase(kind, pattern) for kind in kinds):
                return name
    raise RecipeNotFoundError(
        f"no recipe for {where} (scan type {kinds[0]!r}): the beamline names none for it; name one with "
        f"proposal.spice.seed('recipes', by_type={{{kinds[0]!r}: 'rsm'}})"
    )
