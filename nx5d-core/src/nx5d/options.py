"""Loading options: declared once as an attrs class, checked once by the core.

A beamline declares its options as an attrs class whose fields have type
annotations and defaults, documented with `option`:

    @attrs.frozen
    class Options:
        reduce: int = option(1, help="keep every n-th detector row and column")
        lazy: bool = option(False, help="detector images as a dask array")

What users pass to [`nx5d.open`][nx5d.open] (defaults for every scan) and to
[`nx5d.Scan.load`][nx5d.Scan.load] is checked against it by `build_options`:
unknown names and values of the wrong type raise
[`OptionError`][nx5d.errors.OptionError] naming the option, and the plugin's
``nx5d_raw`` hook receives an instance -- like the explicit keyword
parameters xarray hands ``BackendEntrypoint.open_dataset``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from nx5d.annotations import describe, misfit
from nx5d.errors import OptionError

__all__ = ["option", "OptionInfo", "describe_options", "build_options", "data_options"]


def option(
    default: Any,
    *,
    help: str,  # noqa: A002 - the natural name, as in argparse
    validator: Callable[[Any, attrs.Attribute, Any], None] | None = None,
    converter: Callable[[Any], Any] | None = None,
    changes_data: bool = True,
) -> Any:
    """An attrs field for a loading option: its default, a one-line ``help``, optional validator and converter.

    ``changes_data=False`` declares an option that says only how the data is
    read, never what is read (the number of decoding threads, say): data
    loaded with any value of it is the same, so what is kept in memory or
    remembered on disk for one value serves every other (`data_options`).
    """
    metadata = {"help": help, "changes_data": changes_data}
    return attrs.field(default=default, metadata=metadata, validator=validator, converter=converter)


def data_options(options: Any) -> dict[str, Any]:
    """The fields of an options instance that change the data read (`option`'s ``changes_data``), by name."""
    return {
        f.name: getattr(options, f.name) for f in attrs.fields(type(options)) if f.metadata.get("changes_data", True)
    }


@attrs.frozen
class OptionInfo:
    """One loading option, as shown by ``nx5d plugins`` and in errors."""

    name: str
    type: str
    default: Any
    help: str

    def describe(self) -> str:
        """``name (type, default ...): help``."""
        return f"{self.name} ({self.type}, default {self.default!r}): {self.help}"


def describe_options(cls: type) -> list[OptionInfo]:
    """The options of an options class, in declaration order."""
    attrs.resolve_types(cls)
    return [
        OptionInfo(
            f.name,
            describe(f.type) if f.type is not None else "any",
            f.default if f.default is not attrs.NOTHING else None,
            f.metadata.get("help", ""),
        )
        for f in attrs.fields(cls)
    ]


def build_options(cls: type, given: Mapping[str, Any], beamline: str | None) -> Any:
    """An instance of the options class ``cls`` from ``given`` (unknown names and bad values raise ``OptionError``)."""
    attrs.resolve_types(cls)
    fields = attrs.fields_dict(cls)
    who = f"beamline {beamline!r}" if beamline else "this repository"
    unknown = sorted(set(given) - set(fields))
    if unknown:
        accepted = ", ".join(fields) or "none"
        raise OptionError(
            f"{who} does not know loading option(s) {', '.join(unknown)}; accepted: {accepted} (nx5d plugins --verbose)"
        )
    wrong = misfit(cls, given)
    if wrong is not None:
        raise OptionError(f"{who}: loading option {wrong[0]} {wrong[1]}")
    try:
        return cls(**given)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"loading options of {who}: {exc}") from exc
