"""What a follower's partial maps must hold, checked in looks rather than in seconds.

``follow`` looks at the files again only after the arrival before has been
handed out, so a partial map lacking a point that was whole by then was made
from something stale (a kept read, an old listing).  Seconds would make the
check fail on a loaded machine, where the looks only become fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any


def assert_partial_maps_are_fresh(arrivals: Sequence[tuple[float, Any]], whole_at: Sequence[float]) -> None:
    """Each partial map holds at least the points whole when the arrival ahead of it was handed out.

    ``arrivals`` are ``(time handed out, arrival)`` in order, ``whole_at`` the times the writer noted each
    point whole (after writing it).
    """
    for (before, _), (_, arrival) in pairwise(arrivals):
        if arrival.partial:
            held = int(arrival.cooked.frames.sum())
            whole = sum(when <= before for when in whole_at)
            assert held >= whole, f"{arrival.note}: {whole} points were whole before the look that made it"


class ScriptedTime:
    """A clock and a sleep for ``follow(clock=..., sleep=...)`` under which a writer's steps happen on schedule.

    ``steps`` are ``(seconds, action)``: each action runs inside the sleep that passes its time, before the
    next look.  What ``follow`` sees then depends on its looks alone, not on how fast this machine runs the
    looks and cooks between them (a writer thread with real pauses raced them on a loaded machine).
    """

    def __init__(self, steps: Sequence[tuple[float, Any]] = ()) -> None:
        self.now = 0.0
        self.steps = sorted(steps, key=lambda step: step[0])

    def clock(self) -> float:
        """Seconds since following started, as the looks passed them."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Pass ``seconds``, doing the writer's steps due by then, in order."""
        self.now += seconds
        while self.steps and self.steps[0][0] <= self.now + 1e-9:
            self.steps.pop(0)[1]()

    @property
    def options(self) -> dict[str, Any]:
        """``clock`` and ``sleep`` for ``follow``."""
        return {"clock": self.clock, "sleep": self.sleep}
