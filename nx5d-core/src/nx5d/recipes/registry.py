"""Finding recipes by name: the ``nx5d.recipes`` entry point group.

Every recipe -- the core's own included -- is announced by an entry point in
the ``nx5d.recipes`` group whose name is the recipe's name and whose object is
a [`Recipe`][nx5d.recipes.contract.Recipe]:

    [project.entry-points."nx5d.recipes"]
    strain-map = "my_lab.recipes:STRAIN_MAP"

Listing reads entry-point metadata only; a recipe's module is imported when
the recipe is first asked for.  One that fails to import (or exits), is not a
``Recipe`` or carries another name is reported with the reason, and never
disturbs the others.  Recipes are only ever chosen by these names: no module
path or file name read from data or spice is imported.
"""

from __future__ import annotations

import contextlib
import threading
from importlib.metadata import EntryPoint, entry_points

import attrs

from nx5d.errors import RecipeError, RecipeNotFoundError
from nx5d.recipes.contract import Recipe

__all__ = ["RECIPE_GROUP", "RecipeStatus", "RecipeRegistry", "recipes"]

#: The entry point group recipes are announced in.
RECIPE_GROUP = "nx5d.recipes"


@attrs.define
class RecipeStatus:
    """One announced recipe: where it comes from and whether it loads.

    Attributes
    ----------
    name:
        The recipe's name.
    target:
        The entry point's object reference (``module:attribute``), or ``in-process``.
    distribution:
        The distribution announcing it, if known.
    state:
        ``"announced"`` (not imported yet), ``"loaded"`` or ``"broken"``.
    error:
        Why a broken recipe does not load.
    description:
        The recipe's one-line description, once loaded.
    """

    name: str
    target: str
    distribution: str | None = None
    state: str = "announced"
    error: str | None = None
    description: str = ""


class RecipeRegistry:
    """The recipes this process knows: announced by entry points, or registered in-process.

    Parameters
    ----------
    discover:
        Read the ``nx5d.recipes`` entry points (default); ``False`` starts empty.
    """

    def __init__(self, *, discover: bool = True) -> None:
        self._lock = threading.RLock()
        self._status: dict[str, RecipeStatus] = {}
        self._points: dict[str, EntryPoint] = {}
        self._loaded: dict[str, Recipe] = {}
        if discover:
            for point in entry_points(group=RECIPE_GROUP):
                dist = getattr(point, "dist", None)
                status = RecipeStatus(point.name, point.value, dist.name if dist is not None else None)
                if point.name in self._status:  # two distributions announce one name: neither is guessed
                    first = self._status[point.name]
                    first.state, first.error = (
                        "broken",
                        (
                            f"announced twice: by {first.distribution or first.target} and by "
                            f"{status.distribution or status.target}"
                        ),
                    )
                    continue
                self._status[point.name] = status
                self._points[point.name] = point

    def names(self) -> list[str]:
        """The names of every announced recipe (loaded or not), sorted."""
        return sorted(self._status)

    def statuses(self) -> list[RecipeStatus]:
        """The status of every announced recipe, loading each to know."""
        for name in self.names():
            with contextlib.suppress(RecipeError):
                self.get(name)
        return [self._status[name] for name in self.names()]

    def register(self, recipe: Recipe) -> None:
        """Add a recipe in-process (notebooks, tests); a name already known is refused."""
        if not isinstance(recipe, Recipe):
            raise RecipeError(f"only nx5d.recipes.Recipe objects can be registered, not {recipe!r}")
        with self._lock:
            if recipe.name in self._status:
                raise RecipeError(f"a recipe named {recipe.name!r} is already known")
            self._status[recipe.name] = RecipeStatus(
                recipe.name, "in-process", None, "loaded", None, recipe.description
            )
            self._loaded[recipe.name] = recipe

    def unregister(self, name: str) -> None:
        """Forget an in-process recipe (mainly for tests)."""
        with self._lock:
            if self._status.get(name, RecipeStatus(name, "")).target == "in-process":
                self._status.pop(name)
                self._loaded.pop(name, None)

    def get(self, name: str) -> Recipe:
        """The recipe named ``name``, imported on first use.

        Raises [`RecipeNotFoundError`][nx5d.errors.RecipeNotFoundError] listing the known
        recipes for an unknown name, and [`RecipeError`][nx5d.errors.RecipeError]
        with the reason for a broken one.
        """
        with self._lock:
            status = self._status.get(name)
            if status is None:
                known = ", ".join(self.names()) or "none"
                raise RecipeNotFoundError(f"no recipe named {name!r}; known recipes: {known}")
            if name not in self._loaded and status.state != "broken":
                self._load(status)
            if status.state == "broken":
                raise RecipeError(f"recipe {name!r} ({status.distribution or status.target}) is broken: {status.error}")
            return self._loaded[name]

    def _load(self, status: RecipeStatus) -> None:
        try:
            found = self._points[status.name].load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a broken recipe must not break the others (SystemExit too)
            status.state, status.error = "broken", f"loading {status.target} failed: {type(exc).__name__}: {exc}"
            return
        if not isinstance(found, Recipe):
            status.state, status.error = "broken", f"{status.target} is not an nx5d.recipes.Recipe but {found!r}"
        elif found.name != status.name:
            status.state, status.error = "broken", f"{status.target} is named {found.name!r}, not {status.name!r}"
        else:
            status.state, status.description = "loaded", found.description
            self._loaded[status.name] = found


_REGISTRY: RecipeRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def recipes() -> RecipeRegistry:
    """The process-wide recipe registry (read from the entry points on first use)."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            _REGISTRY = RecipeRegistry()
        return _REGISTRY
