"""Cooking recipes: named ways of cooking a scan, chosen per scan type, extensible through entry points.

* [`nx5d.recipes.contract`][nx5d.recipes.contract] -- `Recipe`, `Cooking` (what a
  beamline declares), `CookRequest` (what a recipe receives);
* [`nx5d.recipes.registry`][nx5d.recipes.registry] -- recipes by name, from the ``nx5d.recipes``
  entry point group;
* [`nx5d.recipes.choice`][nx5d.recipes.choice] -- which recipe a scan gets (spice ``recipes``);
* [`nx5d.recipes.offsets`][nx5d.recipes.offsets] -- calibration offsets (spice ``offsets``);
* [`nx5d.recipes.plain`][nx5d.recipes.plain] -- the core's own recipe ``none``;
* [`nx5d.recipes.cook`][nx5d.recipes.cook] -- `cook_with_recipes`, what the core runs.

The recipes of maps and profiles (``rsm``, ``delay-rsm``, ``temperature-rsm``,
``profile``, ``auto``) are the ``nx5d-rsm`` distribution's
([`nx5d_rsm.recipes`][nx5d_rsm.recipes]), announced like anybody's.
"""

from nx5d.recipes.contract import Cooking, CookRequest, Recipe
from nx5d.recipes.registry import RECIPE_GROUP, RecipeRegistry, recipes

__all__ = ["Recipe", "Cooking", "CookRequest", "RecipeRegistry", "RECIPE_GROUP", "recipes"]
