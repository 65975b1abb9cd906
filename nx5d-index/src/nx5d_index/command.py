"""``nx5d search URL ...``: the scans of a repository that meet some criteria, as a table or JSON.

The command line (the core's ``nx5d`` command) parses the criteria and
sets ``--index`` on `scan_index`; the search is
[`Repository.search`][nx5d.Repository.search]; this prints it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nx5d.toolkit import Table
from nx5d_index.extension import scan_index

__all__ = ["search_rows", "print_search", "scan_index"]

#: The columns the table shows first (the others follow as summaries give them).
LEADING = ("proposal", "scan", "handle", "type", "steps", "motor", "range", "sample", "start", "notes")


def search_rows(repository: Any, proposals: str = "*", **criteria: Any) -> list[dict[str, Any]]:
    """The matching scans as plain rows (``proposal``, ``scan`` and each summary field)."""
    frame = repository.search(proposals, **criteria)
    rows = []
    for (proposal, scan), values in zip(frame.index, frame.to_dict("records"), strict=True):
        row = {"proposal": proposal, "scan": scan}
        row.update({k: _plain(v) for k, v in values.items() if not _missing(v)})
        rows.append(row)
    return rows


def _missing(value: Any) -> bool:
    try:
        return bool(value != value) or value is None or str(value) == "<NA>"  # NaN, NA
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, list | tuple | Mapping):
        return value.item()
    return value


def print_search(repository: Any, proposals: str, *, as_json: bool = False, **criteria: Any) -> int:
    """Print the matches (a table, or JSON); returns the number of scans found."""
    rows = search_rows(repository, proposals, **criteria)
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        shown = [{k: v for k, v in row.items() if k not in ("counters", "comments")} for row in rows]
        title = f"{repository.url}: {len(rows)} scan(s) found"
        print(Table.from_records(shown, LEADING, title=title, max_rows=None).to_text())
    return len(rows)
