"""What a cooking recipe is, what it receives, and what a beamline declares about cooking its scans.

A *recipe* (`Recipe`) is a named way of cooking a scan: static maps,
one map per delay, a 1-D profile ...  Recipes are found by name in the
registry ([`nx5d.recipes.registry`][nx5d.recipes.registry]), never by a module path or file
name read from data.  A beamline that lets the core cook declares a
`Cooking` in its [`Beamline`][nx5d.plugins.Beamline]: which recipe each
scan type gets, how the angles of its frames are found, which variables
play the parts recipes ask for (``delay``, ``temperature``).  A recipe gets
all of it in one `CookRequest`.

A scan being measured is cooked again and again while it grows
(``follow(partial=...)``): each of those cooks carries the same `Growing`
(``request.growing``), where a recipe may keep what it needs to add only
the new points the next time (the gridding totals of a map).  Recipes that
keep nothing cook the points so far anew.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from nx5d.errors import SpiceValidationError
from nx5d.spice.schema import settings_from

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["Recipe", "Cooking", "CookRequest", "Growing", "growing", "current_growing", "Angles", "RECIPE_NAME"]

#: What recipe names look like: lower case words joined by ``-`` (``delay-rsm``).
RECIPE_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

#: The angles of every frame: ``(sample angles, detector angles)``, one array per circle, outermost first.
Angles = tuple[Sequence[Any], Sequence[Any]]
# How a Cooking names the variable playing a role: candidate names, or function(raw) -> name or None.
_Role = Sequence[str] | Callable[["xr.Dataset"], str | None]


def _name(instance: object, attribute: attrs.Attribute, value: str) -> None:
    if not (isinstance(value, str) and RECIPE_NAME.fullmatch(value)):
        raise ValueError(f"a recipe name is lower-case words joined by '-' (delay-rsm), not {value!r}")


# Typed converters: attrs' ``converter=tuple``/``dict`` would type the fields' parameters as those types' overloads.
def _handles(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _recipe_map(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _role_map(value: Mapping[str, _Role]) -> dict[str, _Role]:
    return dict(value)


@attrs.frozen
class Recipe:
    """A named way of cooking a scan, registered under the ``nx5d.recipes`` entry point group.

    Attributes
    ----------
    name:
        The name spice and declarations choose it by (``"delay-rsm"``).
    description:
        One line: what the cooked result is.
    cook:
        ``cook(request) -> result``: the function doing it, given a
        `CookRequest`; it returns an ``xarray.Dataset``.
    reads:
        The spice handles it reads (shown to users; ``("settings",)``).
    """

    name: str = attrs.field(validator=_name)
    description: str
    cook: Callable[[CookRequest], Any]
    reads: tuple[str, ...] = attrs.field(default=(), converter=_handles)


@attrs.frozen
class Cooking:
    """How a beamline's scans are cooked by the core's recipes (the ``cooking`` of its declaration).

    Attributes
    ----------
    recipes:
        ``{scan type pattern: recipe name}``, tried in order, first match
        wins: a pattern (``fnmatch``, ``"tRSS"``, ``"ascan*"``, ``"*"``) is
        matched against the scan's type and against ``"type motor"``
        (``"ascan th"``).  The ``recipes`` spice of a proposal comes first.
    angles:
        ``angles(raw, settings) -> (sample angles, detector angles)``: one
        array (or number) per circle of ``settings``; default: the variables
        ``settings.sample_motors`` and ``detector_motors`` name (the map
        recipes' ``MotorSettings``, in ``nx5d-rsm``).
    roles:
        ``{role: variable names}``: the variables playing a part recipes
        ask for (``"delay"``, ``"temperature"``), the first one present
        wins; or ``{role: function(raw) -> variable name or None}``.
    settings:
        The spice handle of the map settings (its type's schema is the
        beamline's).
    """

    recipes: Mapping[str, str] = attrs.field(factory=lambda: {"*": "rsm"}, converter=_recipe_map)
    angles: Callable[[xr.Dataset, Any], Angles] | None = None
    roles: Mapping[str, Sequence[str] | Callable[[xr.Dataset], str | None]] = attrs.field(
        factory=dict, converter=_role_map
    )
    settings: str = "settings"

    @recipes.validator
    def _check_recipes(self, attribute: attrs.Attribute, value: Mapping[str, str]) -> None:
        for pattern, name in value.items():
            if not isinstance(pattern, str) or not pattern:
                raise ValueError(f"scan type patterns must be non-empty strings, not {pattern!r}")
            _name(self, attribute, name)


@attrs.define
class Growing:
    """What the cooks of one scan being measured share: a recipe's own state between them.

    Attributes
    ----------
    state:
        Whatever the recipe keeps between cooks of the growing scan (``None``
        at the first); the recipe replaces it, and must check it still fits
        (the same settings, the points it counted still there).
    notes:
        What recipes said once about this scan (a warning's text), so that
        it is said once, not at every cook.
    """

    state: Any = None
    notes: set[str] = attrs.field(factory=set)


_GROWING: contextvars.ContextVar[Growing | None] = contextvars.ContextVar("nx5d_growing", default=None)


@contextlib.contextmanager
def growing(shared: Growing) -> Iterator[None]:
    """Cooks inside this block are of a scan being measured: their `CookRequest` carries ``shared``."""
    token = _GROWING.set(shared)
    try:
        yield
    finally:
        _GROWING.reset(token)


def current_growing() -> Growing | None:
    """The `Growing` of the cook being run (`growing`), else ``None``."""
    return _GROWING.get()


@attrs.frozen
class CookRequest:
    """Everything a recipe needs to cook one scan.

    Attributes
    ----------
    raw:
        The scan's raw data, with the ``offsets`` spice added to its variables.
    spice:
        ``{handle: settings}`` with attribute access (``spice["settings"].grid_size``).
    summary:
        The scan's cheap summary (``type``, ``motor`` ...).
    recipe:
        The name of the recipe being run.
    cooking:
        The beamline's `Cooking` declaration.
    schemas:
        The spice schemas of the proposal: ``{type name: class}``.
    where:
        The scan's URL, for messages.
    growing:
        Set while a scan being measured is cooked again and again as it grows
        (`Growing`): what the recipe kept from the cook before; ``None``
        for an ordinary cook.
    """

    raw: xr.Dataset
    spice: Mapping[str, Any]
    summary: Mapping[str, Any]
    recipe: str
    cooking: Cooking
    schemas: Mapping[str, type]
    where: str
    growing: Growing | None = None

    def settings(self, handle: str | None = None, schema: type | None = None, default: type | None = None) -> Any:
        """The spice of ``handle`` (default: the map settings) as an instance of its schema; defaults fill gaps.

        The schema is ``schema`` if given, else the proposal's for ``handle``,
        else ``default``; without any, `SpiceValidationError`.
        """
        handle = handle or self.cooking.settings
        schema = schema or self.schemas.get(handle) or default
        if schema is None:
            raise SpiceValidationError(
                f"the {self.recipe} recipe for {self.where} reads spice {handle!r}, whose type the beamline declares "
                "no schema for"
            )
        return settings_from(schema, self.spice, handle, f"the {self.recipe} recipe for {self.where}")

    def role(self, role: str) -> str | None:
        """The variable playing ``role`` in this scan (``None`` if none does); a name that is no role is looked up."""
        from nx5d.io.naming import find_variable

        found = self.cooking.roles.get(role)
        if found is None:
            return None
        if callable(found):
            return found(self.raw)
        for name in found:
            try:
                return find_variable(self.raw, name, role)
            except SpiceValidationError:
                continue
        return None

    def group_variable(self, name: str) -> str:
        """The variable a ``group_by`` entry names: a role's variable, or the variable of that name."""
        from nx5d.io.naming import find_variable

        by_role = self.role(name)
        return by_role if by_role is not None else find_variable(self.raw, name, "group_by variable")
