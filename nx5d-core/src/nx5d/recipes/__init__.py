"""Cooking recipes: named ways of cooking a scan, chosen per scan type, extensible through entry points.

* :mod:`nx5d.recipes.contract` -- :class:`Recipe`, :class:`Cooking` (what a
  beamline declares), :class:`CookRequest` (what a recipe receives);
* :mod:`nx5d.recipes.registry` -- recipes by name, from the ``nx5d.recipes``
  entry point group;
* :mod:`nx5d.recipes.choice` -- which recipe a scan gets (spice ``recipes``);
* :mod:`nx5d.recipes.offsets` -- calibration offsets (spice ``offsets``);
* :mod:`nx5d.recipes.builtin` -- the core's recipes (``rsm``, ``delay-rsm``,
  ``temperature-rsm``, ``profile``, ``auto``, ``none``);
* :mod:`nx5d.recipes.profile` -- 1-D profiles;
* :mod:`nx5d.recipes.cook` -- :func:`cook_with_recipes`, what the core runs.
"""

from nx5d.recipes.contract import Cooking, CookRequest, Recipe
from nx5d.recipes.registry import RECIPE_GROUP, RecipeRegistry, recipes

__all__ = ["Recipe", "Cooking", "CookRequest", "RecipeRegistry", "RECIPE_GROUP", "recipes"]
