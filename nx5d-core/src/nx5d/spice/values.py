"""Spice values as cook functions receive them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from nx5d.errors import SpiceValidationError
from nx5d.suggestions import did_you_mean

__all__ = ["Settings", "as_settings", "fingerprint"]


class Settings(Mapping[str, Any]):
    """Read-only settings of one spice handle, with attribute access.

    ``spice["settings"].img_center`` and ``spice["settings"]["img_center"]``
    are the same; nested mappings are wrapped too.
    """

    __slots__ = ("_data", "_handle")

    def __init__(self, data: Mapping[str, Any], handle: str = "") -> None:
        object.__setattr__(self, "_data", dict(data))
        object.__setattr__(self, "_handle", handle)

    def __getitem__(self, name: str) -> Any:
        value = self._data[name]
        if isinstance(value, Mapping) and not isinstance(value, Settings):
            return Settings(value, f"{self._handle}.{name}")
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"spice {self._handle!r} has no field {name!r}{did_you_mean([name], self._data)}; "
                f"it has {', '.join(sorted(self._data)) or 'none'}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("spice settings are read-only; change them with proposal.spice.update(...)")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._data))

    def __repr__(self) -> str:
        return f"Settings({self._handle!r}, {self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain ``dict`` copy (nested mappings as they were given, not wrapped)."""
        return dict(self._data)

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any], str]]:
        """Pickled as its data and handle (batch workers receive spice this way)."""
        return (type(self), (self._data, self._handle))


def as_settings(spice: Mapping[str, Mapping[str, Any]]) -> dict[str, Settings]:
    """``{handle: data}`` as ``{handle: Settings}`` (what cook functions receive).

    Raises [`SpiceValidationError`][nx5d.errors.SpiceValidationError] when a
    handle holds no mapping of fields (``{"img_center": [...]}`` where
    ``{"settings": {"img_center": [...]}}`` was meant).
    """
    flat = [h for h, d in spice.items() if not isinstance(d, Mapping)]
    if flat:
        raise SpiceValidationError(
            f"spice is {{handle: {{field: value}}}}, but {', '.join(map(repr, flat))} holds "
            f"{type(spice[flat[0]]).__name__}, not fields; did you mean {{'settings': {{{flat[0]!r}: ...}}}}?"
        )
    return {h: d if isinstance(d, Settings) else Settings(d, h) for h, d in spice.items()}


def fingerprint(spice: Mapping[str, Any]) -> str:
    """A stable text identifying the content of ``spice`` or of any mapping of plain values (for cooked caches)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(spice), sort_keys=True, default=repr, separators=(",", ":"))
