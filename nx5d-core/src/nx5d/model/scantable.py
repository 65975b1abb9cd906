"""The scan table as a ``pandas.DataFrame``: `Proposal.table`, and what a search returns.

Rows are a proposal's [`summaries`][nx5d.Proposal.summaries] (``scan``,
``handle`` and each summary field); `scan_frame` types them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["scan_frame"]

#: This machine's time zone (times with a zone are shown in it).
_LOCAL = datetime.datetime.now().astimezone().tzinfo


def scan_frame(rows: Sequence[Mapping[str, Any]], index: str | Sequence[str] = "scan") -> Any:
    """Rows of the scan table as a ``pandas.DataFrame`` indexed by ``index``, typed.

    Numbers are numbers, ``start`` times are datetimes where every one
    parses (else they stay text).  A column of ranges as the text table
    shows them (UDKM's ``theta``, ``18.1–19.1``) becomes two numeric
    columns, ``theta_min`` and ``theta_max``, in its place (a single number
    is both).
    """
    import pandas as pd

    keys = [index] if isinstance(index, str) else list(index)
    frame = (
        pd.DataFrame(list(rows)).set_index(keys) if rows else pd.DataFrame(columns=[*keys, "handle"]).set_index(keys)
    )
    frame = _split_ranges(frame).convert_dtypes()
    if "start" in frame:
        parsed = _times(frame["start"])
        if not (parsed.isna() & frame["start"].notna() & (frame["start"] != "")).any():
            frame["start"] = parsed
    return frame


def _times(texts: Any) -> Any:
    """``texts`` as datetimes (``NaT`` where one does not parse).

    Files of one repository may write their start times with and without a
    zone (a Bluesky SPEC file beside classic ones), or in several zones:
    those are all given in this machine's local time, as a search's
    ``since`` and ``until`` compare them.
    """
    import pandas as pd

    try:
        return pd.to_datetime(texts, errors="coerce", format="mixed")
    except ValueError:  # zones and no zones, or several zones: one value at a time
        return texts.map(_local_time, na_action="ignore").astype("datetime64[ns]")


def _local_time(text: Any) -> Any:
    import pandas as pd

    found = pd.to_datetime(text, errors="coerce")
    return found.tz_convert(_LOCAL).tz_localize(None) if found is not pd.NaT and found.tzinfo is not None else found


_NUMBER = r"\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
_RANGE = re.compile(f"{_NUMBER}(?:–{_NUMBER})?")  # "18.1–19.1" (en dash, as summaries write ranges) or "18.1"


def _bounds(text: str) -> tuple[float, float]:
    """The two ends of a range ``"18.1–19.1"`` (or a single number, both ends)."""
    found = _RANGE.fullmatch(text)
    assert found is not None, text  # the caller matched every value
    low, high = found.groups()
    return float(low), float(high if high is not None else low)


def _split_ranges(frame: Any) -> Any:
    """``frame`` with each text column of ranges (``"18.1–19.1"``, at least one) as ``NAME_min`` and ``NAME_max``."""
    for name in list(frame.columns):
        texts = frame[name].dropna()
        found = [_RANGE.fullmatch(v) if isinstance(v, str) else None for v in texts]
        if texts.empty or not all(found) or not any(m[2] for m in found if m):
            continue
        bounds = frame[name].map(_bounds, na_action="ignore")
        at = frame.columns.get_loc(name)
        frame = frame.drop(columns=name)
        for side, suffix in enumerate(("min", "max")):
            values = bounds.map(lambda pair, side=side: pair[side], na_action="ignore").astype("Float64")
            frame.insert(at + side, f"{name}_{suffix}", values)
    return frame
