"""'Did you mean ...?' for names a user mistyped: scan keys, handles, spice fields."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_names(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` names of ``known`` that ``name`` was probably meant to be.

    A name that is the start of dotted names suggests those (SPEC's ``1``
    for ``1.1``, ``1.2``); otherwise the closest spellings.
    """
    known = list(known)
    dotted = [k for k in known if k.startswith(f"{name}.")]
    return dotted[:n] or difflib.get_close_matches(name, known, n=n)


def did_you_mean(names: Iterable[str], known: Iterable[str]) -> str:
    """``"; did you mean 'grid_size'?"`` when a name of ``names`` is close to one of ``known``, else ``""``."""
    known = list(known)
    found = [(name, close) for name in names if (close := close_names(name, known, n=1))]
    if not found:
        return ""
    if len(found) == 1:
        return f"; did you mean {found[0][1][0]!r}?"
    return "; did you mean " + ", ".join(f"{close[0]!r} for {name!r}" for name, close in found) + "?"
