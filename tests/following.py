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
