"""Progress bars for long work: notebook widgets in Jupyter, text in terminals.

Bars appear only for work that takes longer than `DELAY` seconds, so
quick loads stay quiet.  Turn them off with `set_enabled` (``False``),
the ``disable=True`` argument, or the environment variable ``NX5D_PROGRESS=0``.
Work done in another process (a batch worker) shows no bar of its own; it
hands its steps to the process that started it with `forwarded`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["DELAY", "progress", "set_enabled", "enabled", "quiet", "forwarded"]

#: Seconds of work after which a bar is shown.
DELAY = 1.0

_ENABLED: bool | None = None

#: Where the steps of every bar go instead of a display (see `forwarded`).
_SINK: Callable[[str, str, int], None] | None = None


def set_enabled(flag: bool | None) -> None:
    """Show (``True``) or hide (``False``) progress bars; ``None`` follows ``NX5D_PROGRESS``."""
    global _ENABLED
    _ENABLED = flag


def enabled() -> bool:
    """Whether progress bars are shown."""
    if _ENABLED is not None:
        return _ENABLED
    return os.environ.get("NX5D_PROGRESS", "1").lower() not in ("0", "false", "no", "off")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No progress bars inside the block (e.g. in batch workers, whose caller shows its own bar)."""
    saved = _ENABLED
    set_enabled(False)
    try:
        yield
    finally:
        set_enabled(saved)


@functools.cache
def _bar_class() -> type:
    """tqdm's notebook widget bar in Jupyter with ipywidgets, else its text bar -- without tqdm's warning."""
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        # tqdm.auto warns when Jupyter lacks ipywidgets, then falls back to text bars, which is what we want.
        warnings.simplefilter("ignore", TqdmWarning)
        from tqdm.auto import tqdm
    return tqdm


def forwarded(sink: Callable[[str, str, int], None] | None) -> None:
    """Hand the steps of every bar to ``sink(desc, unit, n)`` instead of showing them (``None``: show again).

    A batch worker process calls this once, with a function that sends the
    steps to the process that shows one bar for all workers.
    """
    global _SINK
    _SINK = sink


class _Forward:
    """A bar whose steps go to the sink of `forwarded`."""

    def __init__(self, desc: str, unit: str, sink: Callable[[str, str, int], None]) -> None:
        self.desc, self.unit, self.sink = desc, unit, sink

    def update(self, n: float = 1) -> None:
        self.sink(self.desc, self.unit, int(n))


@contextlib.contextmanager
def progress(total: int | None, desc: str, *, unit: str = "it", disable: bool | None = None) -> Iterator[Any]:
    """A tqdm bar (``bar.update(n)``) for ``total`` steps (``None``: a count), shown after `DELAY` seconds."""
    if _SINK is not None:
        yield _Forward(desc, unit, _SINK)
        return
    tqdm = _bar_class()
    off = (not enabled()) if disable is None else disable
    with tqdm(total=total, desc=desc, unit=unit, delay=DELAY, disable=off, leave=False) as bar:
        yield bar
