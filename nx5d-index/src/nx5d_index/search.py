"""Finding scans by their summaries: what ``repo.search(...)`` and ``proposal.search(...)`` do.

[`Repository.search`][nx5d.Repository.search] and
[`Proposal.search`][nx5d.Proposal.search] are the core's names; they call
`search_repository` and `search_proposal` here.  A search reads the scan
table -- every scan's summary, from the [scan index][nx5d_index.extension]
where the files are unchanged, so only new and changed scans are read --
and keeps the rows a [`Query`][nx5d_index.query.Query] matches.  With
``fresh=False`` it reads the rows the index holds and looks at no file.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from nx5d.toolkit import natural_sort_key, scan_frame
from nx5d_index.extension import scan_index
from nx5d_index.query import Query

__all__ = ["search_repository", "search_proposal", "indexed_rows"]


def search_repository(
    repository: Any, proposals: str = "*", *, fresh: bool = True, workers: int | None = None, **criteria: Any
) -> Any:
    """The scans of ``repository``'s proposals matching the glob ``proposals`` that meet ``criteria``.

    A ``pandas.DataFrame`` indexed by proposal and scan key (see
    [`Repository.search`][nx5d.Repository.search]).
    """
    query = Query(**criteria)
    if fresh:
        rows = []
        for key in repository.ls(proposals):
            rows += [{"proposal": key, **row} for row in repository[key].summaries(workers=workers)]
    else:
        rows = [
            row
            for row in indexed_rows(repository)
            if fnmatch.fnmatchcase(row["proposal"], proposals) or fnmatch.fnmatchcase(row["proposal_handle"], proposals)
        ]
        rows = [{k: v for k, v in row.items() if k != "proposal_handle"} for row in rows]
    return scan_frame(query.filter(rows), ("proposal", "scan"))


def search_proposal(proposal: Any, *, fresh: bool = True, workers: int | None = None, **criteria: Any) -> Any:
    """The scans of ``proposal`` that meet ``criteria``: a ``pandas.DataFrame`` indexed by scan key.

    See [`Proposal.search`][nx5d.Proposal.search].
    """
    query = Query(**criteria)
    if fresh:
        rows = proposal.summaries(workers=workers)
    else:
        drop = {"proposal", "proposal_handle"}
        rows = [{k: v for k, v in row.items() if k not in drop} for row in indexed_rows(proposal.repository, proposal)]
    return scan_frame(query.filter(rows), "scan")


def indexed_rows(repository: Any, proposal: Any = None) -> list[dict[str, Any]]:
    """The scan table's rows of ``repository`` (or of one ``proposal``) as the index holds them, in natural order.

    The files are not looked at, and neither is the listing: handles come
    from the naming rules.  Each row holds ``proposal`` and
    ``proposal_handle`` besides the scan table's fields.  Only repositories
    read by a beamline are indexed.
    """
    if repository.beamline is None or not scan_index.enabled:
        return []
    found = scan_index.rows(repository.url, None if proposal is None else proposal.key)
    order = {key: natural_sort_key(key) for key in {item[0] for item in found}}
    owners = {} if proposal is None else {proposal.key: proposal}
    rows = []
    for key, scan, summary in sorted(found, key=lambda item: (order[item[0]], natural_sort_key(item[1]))):
        if key not in owners:  # made by the subclassing API's factory, not looked up: that would list
            owners[key] = repository._proposal(key)
        owner = owners[key]
        row = {"proposal": key, "proposal_handle": repository.handle_for(key), "scan": scan}
        rows.append({**row, "handle": owner.handle_for(scan), **summary})
    return rows
