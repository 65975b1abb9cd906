"""Cooking a scan with recipes: offsets first, then the recipe its type gets, then the result's record of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from nx5d.errors import Nx5dError, RecipeFailure
from nx5d.recipes.choice import choose
from nx5d.recipes.contract import Cooking, CookRequest, current_growing
from nx5d.recipes.offsets import OFFSETS, apply_offsets
from nx5d.recipes.registry import RecipeRegistry, recipes

__all__ = ["cook_with_recipes"]


def cook_with_recipes(
    raw: xr.Dataset,
    spice: Mapping[str, Any],
    *,
    summary: Mapping[str, Any],
    cooking: Cooking,
    schemas: Mapping[str, type],
    where: str,
    registry: RecipeRegistry | None = None,
) -> Any:
    """Cook ``raw`` with the recipe chosen for its scan type ([`choose`][nx5d.recipes.choice.choose]).

    The ``offsets`` spice is added to the raw variables first
    ([`nx5d.recipes.offsets.apply_offsets`][nx5d.recipes.offsets.apply_offsets]); the result's attributes
    name the recipe (``nx5d_recipe``).  Inside [`growing`][nx5d.recipes.contract.growing] (a scan
    being measured) the request carries its `Growing`.  A recipe failing with anything but
    an nx5d error raises [`RecipeFailure`][nx5d.errors.RecipeFailure] naming it.
    """
    name = choose(summary, spice, cooking.recipes, where)
    recipe = (registry or recipes()).get(name)
    shifted = apply_offsets(raw, dict(spice.get(OFFSETS) or {}), where)
    request = CookRequest(shifted, spice, summary, name, cooking, schemas, where, current_growing())
    try:
        result = recipe.cook(request)
    except Nx5dError:
        raise
    except Exception as exc:
        raise RecipeFailure(f"recipe {name!r} failed cooking {where}: {type(exc).__name__}: {exc}") from exc
    if isinstance(getattr(result, "attrs", None), dict):
        result.attrs["nx5d_recipe"] = name
    return result
