"""Variable names for data read from files: tidy, unique, and never in the way of a dimension.

Column labels, motor names and dataset names come from instruments and are
not always usable as they are: they hold spaces (``Two Theta``), repeat
(a SPEC ``#L`` line naming ``ls_t1`` twice), or equal a dimension of the
dataset being built (a motor named ``y`` beside frames on ``(index, y, x)``).
`VariableNames` hands out one name per source name so that every
reader of the core treats them alike; the original is kept for the
variable's ``long_name`` attribute.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from nx5d.errors import CorruptDataError, DataWarning, SpiceValidationError
from nx5d.io.frames import EXTRA_FRAME_DIMS

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["FRAME_NAMES", "tidy_name", "VariableNames", "find_variable", "per_frame", "agreeing", "by_header"]

#: Names a scan's data always reserves: the dimensions of frames (``index``, ``k`` ..., ``y``, ``x``) and the
#: variables nx5d readers add (``images``, ``frame_missing``).  A column named ``y`` becomes ``y_counter``.
FRAME_NAMES = ("index", *EXTRA_FRAME_DIMS, "y", "x", "images", "frame_missing")

_SPACE = re.compile(r"\s+")


def tidy_name(name: str) -> str:
    """``name`` with surrounding white space removed and inner runs of it as ``_`` (``Two Theta`` -> ``Two_Theta``)."""
    return _SPACE.sub("_", name.strip()) or "unnamed"


class VariableNames:
    """Hands out unique variable names for one dataset.

    Parameters
    ----------
    where:
        What is being read (file and scan), for warnings.
    reserved:
        Names that variables must not take: by default `FRAME_NAMES`, the
        dimensions of frames and what readers add, so that a column named
        ``y`` or ``x`` never collides with the frames' pixel axes.  Give
        more (``{*FRAME_NAMES, "start_time"}``), never fewer, unless the
        dataset can hold no frames.
    """

    def __init__(self, where: str, reserved: Collection[str] = FRAME_NAMES) -> None:
        self.where = where
        self.reserved = set(reserved)
        self.taken: set[str] = set()

    def name(self, original: str, role: str, *, base: str | None = None) -> str:
        """A free variable name for ``original`` (a ``role`` such as ``counter`` or ``motor``).

        ``base`` is the name wanted (default: `tidy_name` of
        ``original``).  A name equal to a reserved one gets ``_<role>``
        appended; a repeated name gets ``_2``, ``_3`` ... appended and a
        warning naming it.
        """
        base = tidy_name(original) if base is None else base
        if base in self.reserved:
            base = f"{base}_{role}"
        candidate, n = base, 2
        while candidate in self.taken or candidate in self.reserved:
            candidate, n = f"{base}_{n}", n + 1
        if candidate != base:
            warnings.warn(
                f"{self.where}: {role} {original!r} appears more than once; this one is {candidate!r}",
                DataWarning,
                stacklevel=3,
            )
        self.taken.add(candidate)
        return candidate


def _loose(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).casefold()


def find_variable(raw: xr.Dataset, name: str, what: str) -> str:
    """The name of the variable of ``raw`` that ``name`` refers to (see the module documentation).

    Raises [`SpiceValidationError`][nx5d.errors.SpiceValidationError] naming ``what`` and
    the variables there are (and what the reader left out: the dataset's
    ``absent`` attribute, e.g. a detector file that is not there).
    """
    if name in raw.variables:
        return name
    by_long = [str(v) for v in raw.variables if raw[v].attrs.get("long_name") == name]
    if len(by_long) == 1:
        return by_long[0]
    loose = _loose(name)
    matches = [
        str(v)
        for v in raw.variables
        if _loose(str(v)) == loose or _loose(str(raw[v].attrs.get("long_name", ""))) == loose
    ]
    if len(set(matches)) == 1:
        return matches[0]
    where = raw.attrs.get("url", "the scan")
    if by_long or matches:
        candidates = sorted(set(by_long or matches))
        raise SpiceValidationError(
            f"{what} {name!r} could be any of the variables {', '.join(candidates)} of {where}; name one of them"
        )
    absent = raw.attrs.get("absent")  # what the reader could not read (files that are not there)
    raise SpiceValidationError(
        f"{what} {name!r} is not a variable of {where}; variables: {', '.join(sorted(map(str, raw.data_vars)))}"
        + (f"; not read: {absent}" if absent else "")
    )


def per_frame(raw: xr.Dataset, name: str, what: str) -> np.ndarray:
    """One value per frame of the variable ``name`` refers to (a scalar, e.g. a fixed motor, is repeated)."""
    values = np.asarray(raw[find_variable(raw, name, what)].values, float)
    frames = raw.sizes["index"]
    if values.ndim == 0:
        return np.full(frames, float(values))
    if values.shape != (frames,):
        raise CorruptDataError(f"{what} {name!r} has shape {values.shape}, not one value per frame ({frames})")
    return values


def agreeing(values: Sequence[np.ndarray], names: Sequence[str], what: str, where: str) -> np.ndarray:
    """The one array that several columns of the same header hold; ``CorruptDataError`` if they differ.

    A header written twice is harmless when both columns hold the same
    values (a counter listed twice); when they differ, nobody can tell which
    one is meant, and guessing would give a silently wrong result.
    """
    first = values[0]
    for name, other in zip(names[1:], values[1:], strict=True):
        if first.shape != other.shape or not np.array_equal(first, other, equal_nan=True):
            raise CorruptDataError(
                f"{where}: the {what} could be any of the columns {', '.join(map(repr, names))}, which share a "
                f"header but hold different values ({names[0]!r} and {name!r} differ)"
            )
    return first


def by_header(raw: xr.Dataset, header: str, what: str) -> np.ndarray:
    """One value per frame of the column headed ``header`` in the file (the variables' ``long_name``).

    A repeated header must hold the same values in every copy
    (`agreeing`); without a variable of that header, ``header`` is
    looked up as `per_frame` does.
    """
    names = [str(v) for v in raw.variables if raw[v].attrs.get("long_name") == header]
    if len(names) < 2:
        return per_frame(raw, names[0] if names else header, what)
    values = [per_frame(raw, name, what) for name in names]
    return agreeing(values, names, what, str(raw.attrs.get("url", "the scan")))
