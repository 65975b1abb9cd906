"""Proposal and scan *keys*: what the storage calls things.

A key is the piece of a storage name that stands for ``{proposal}`` or
``{scan}`` in a repository URL pattern, e.g. ``20210205`` or ``091726``.
Keys are used verbatim to build paths and anchors, so a key must never be able
to step outside the place its pattern gives it: this module defines which keys
are acceptable and the natural order in which keys are listed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence

from nx5d.errors import InvalidKeyError, OptionError

__all__ = [
    "FORBIDDEN_KEY_CHARACTERS",
    "validate_key",
    "is_valid_key",
    "natural_sort_key",
    "natural_sorted",
    "select_keys",
]

#: Characters a key may never contain: path and anchor separators, NUL,
#: pattern braces and glob wildcards (so that keys cannot be mistaken for
#: structure when they are filled into a URL or used to list storage).
FORBIDDEN_KEY_CHARACTERS = frozenset("/\\\x00#{}*?[]")


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"must be a string, not {type(key).__name__}"
    if not key:
        return "must not be empty"
    if key.strip() != key:
        return "must not begin or end with white space"
    if ".." in key:
        return "must not contain '..'"
    bad = sorted(set(key) & FORBIDDEN_KEY_CHARACTERS)
    if bad:
        return "must not contain " + ", ".join(repr(c) for c in bad)
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        return "must not contain control characters"
    return None


def is_valid_key(key: object) -> bool:
    """Whether ``key`` is acceptable as a proposal or scan key."""
    return _key_problem(key) is None


def validate_key(key: object, what: str = "key") -> str:
    """Return ``key`` unchanged if it is acceptable, else raise `InvalidKeyError`.

    ``what`` names the key in the message (e.g. ``"scan key"``).
    """
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidKeyError(f"{what} {key!r} is not acceptable: it {problem}")
    return key  # type: ignore[return-value]


_RUNS = re.compile(r"(\d+)")


def natural_sort_key(key: str) -> tuple:
    """Sort key ordering digit runs numerically: ``'9' < '10'``, ``'2.1' < '10.1'``.

    Numbers compare by value, then by their text so that ``'09'`` and ``'9'``
    keep a stable, distinct order.
    """
    parts: list[tuple] = []
    for i, run in enumerate(_RUNS.split(key)):
        if i % 2:
            parts.append((1, int(run), run))
        elif run:
            parts.append((0, run.casefold(), run))
    return tuple(parts)


def natural_sorted(keys: Iterable[str]) -> list[str]:
    """``keys`` in natural order (see `natural_sort_key`)."""
    return sorted(keys, key=natural_sort_key)


def select_keys(keys: Sequence[str], chosen: str | Iterable[str] | None, what: str = "scan") -> list[str]:
    """The keys ``chosen`` names among ``keys``: ``None`` (all), a glob pattern (``"1*"``) or keys.

    A pattern that matches nothing, or a key that is not among ``keys``, is
    an [`OptionError`][nx5d.errors.OptionError] naming what there is.
    """
    if chosen is None:
        return list(keys)
    if isinstance(chosen, str):
        found = [k for k in keys if fnmatch.fnmatchcase(k, chosen)]
        if not found:
            raise OptionError(f"no {what} key matches {chosen!r}; keys: {', '.join(keys)}")
        return found
    wanted = list(chosen)
    unknown = [k for k in wanted if k not in keys]
    if unknown:
        raise OptionError(f"no {what}(s) {', '.join(unknown)} among {', '.join(keys)}")
    return wanted
