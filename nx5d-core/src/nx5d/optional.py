"""Parts of nx5d that live in other distributions, imported when used, with the install line when absent."""

from __future__ import annotations

import importlib
from types import ModuleType

from nx5d.errors import NotSupportedError

__all__ = ["optional_module"]


def optional_module(module: str, distribution: str, what: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` of ``distribution``; if it is not installed, `NotSupportedError` saying what to install.

    ``what`` says what needs it (``"nx5d.plot"``); ``extra`` is the
    distribution's extra to name (``"plot"``).
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
            raise  # the distribution is there, but something it needs is not: its own error says what
        wanted = f"{distribution}[{extra}]" if extra else distribution
        raise NotSupportedError(
            f"{what} needs the {distribution} distribution, which is not installed: pip install '{wanted}' "
            f"(from this repository: pip install './{wanted}')"
        ) from exc
