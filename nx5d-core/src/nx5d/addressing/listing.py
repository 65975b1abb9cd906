"""Enumerate proposal and scan keys by walking a URL pattern over storage.

The walk follows the pattern one segment at a time.  Segments without unknown
placeholders are appended as they are; for a segment with unknown
placeholders, the children of the place reached so far are listed -- folder
entries in the document part, inside-document names (e.g. HDF5 groups, via
the beamline's anchor lister) in the anchor part -- and matched against the
segment.  The walk stops at the segment that fixes the wanted key, so listing
proposals never descends into scans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

from nx5d.addressing.keys import natural_sorted
from nx5d.addressing.url import UrlPattern
from nx5d.errors import MissingDataError, NotSupportedError
from nx5d.io.storage import Storage

__all__ = ["AnchorLister", "list_keys", "DEFAULT_SKIP"]

#: Called with a concrete document URL and the anchor path reached so far;
#: returns the names found there (e.g. HDF5 group members).
AnchorLister = Callable[[str, tuple[str, ...]], Iterable[str]]

#: Names never taken as keys: nx5d's own spice folder.
DEFAULT_SKIP: frozenset[str] = frozenset({"spice"})


def list_keys(
    pattern: UrlPattern,
    field: str,
    *,
    storage: Storage,
    known: Mapping[str, str] | None = None,
    anchor_lister: AnchorLister | None = None,
    key_patterns: Mapping[str, str] | None = None,
    skip: Collection[str] = DEFAULT_SKIP,
    skipped: list[str] | None = None,
) -> list[str]:
    """Keys of ``field`` (``"proposal"`` or ``"scan"``) found on storage, naturally sorted.

    Parameters
    ----------
    pattern:
        The repository URL pattern.
    known:
        Keys already fixed (e.g. ``{"proposal": "20210205"}`` to list its scans).
    anchor_lister:
        How to list names inside a document; needed when a placeholder sits in
        the anchor part of the pattern.
    key_patterns:
        Optional regular expressions a key must match in full, per field
        (a beamline's naming convention, e.g. ``{"scan": r"\\d{6}"}``).
    skip:
        Names that are never keys; names starting with ``.`` are always skipped.
    skipped:
        If given, the names found where the keys are that are not keys (they
        do not fit the pattern or the key rules) are appended to it.

    Raises
    ------
    MissingDataError
        The fixed part of the pattern (the repository root, or the proposal's
        place when listing scans) does not exist.
    """
    known = dict(known or {})
    filled = pattern.fill(**known) if known else pattern
    if field not in filled.fields:
        raise ValueError(f"{field!r} is not an open placeholder of {filled.text!r}")
    regexes = {f: re.compile(p) for f, p in (key_patterns or {}).items()}
    n_path = len(filled.path_segments)
    segments = filled.segments
    stop = next(i for i, seg in enumerate(segments) if field in seg.fields)

    states: list[tuple[list[str], dict[str, str]]] = [([], {})]
    first_listing = True
    for index in range(stop + 1):
        in_anchor = index >= n_path
        next_states: list[tuple[list[str], dict[str, str]]] = []
        for resolved, keys in states:
            seg = segments[index].fill(keys)
            if seg.is_literal:
                next_states.append((resolved + [seg.value], keys))
                continue
            levels = max([filled.spans.get(f, 1) for f in seg.fields if f not in keys] + [1])
            names = _children(filled, resolved, n_path, in_anchor, storage, anchor_lister, strict=first_listing)
            for _ in range(levels - 1):  # a key spanning folders: the names below each folder found
                names = _deeper(filled, resolved, names, n_path, in_anchor, storage, anchor_lister, skip)
            need_dir = not in_anchor and index < n_path - 1
            regex = seg.regex(filled.spans)
            for name, is_dir in names:
                if name.startswith(".") or name in skip:
                    continue
                m = None if need_dir and is_dir is False else regex.match(name)
                found = {} if m is None else m.groupdict()
                if m is None or not all(
                    pattern.is_legal_key(f, k) and (f not in regexes or regexes[f].fullmatch(k))
                    for f, k in found.items()
                ):
                    if skipped is not None and index == stop:
                        skipped.append(name)
                    continue
                next_states.append((resolved + [name], {**keys, **found}))
        if any(not segments[index].fill(k).is_literal for _, k in states):
            first_listing = False
        states = next_states

    if stop < n_path - 1:
        states = [s for s in states if _rest_of_document_exists(filled, s, stop, n_path, storage)]
    return natural_sorted({keys[field] for _, keys in states})


def _children(
    pattern: UrlPattern,
    resolved: list[str],
    n_path: int,
    in_anchor: bool,
    storage: Storage,
    anchor_lister: AnchorLister | None,
    *,
    strict: bool,
) -> list[tuple[str, bool | None]]:
    if not in_anchor:
        url = pattern.prefix + "/".join(resolved)
        try:
            return [(e.name, e.is_dir) for e in storage.ls(url)]
        except MissingDataError:
            if strict:
                raise MissingDataError(
                    f"{url} does not exist: it is the fixed part of URL pattern {pattern.text!r}"
                ) from None
            return []
    if anchor_lister is None:
        raise NotSupportedError(
            f"URL pattern {pattern.text!r} has placeholders after '#', but its beamline cannot list "
            f"names inside documents (no nx5d_list_anchor hook)"
        )
    document = pattern.prefix + "/".join(resolved[:n_path])
    return [(name, None) for name in anchor_lister(document, tuple(resolved[n_path:]))]


def _deeper(
    pattern: UrlPattern,
    resolved: list[str],
    names: list[tuple[str, bool | None]],
    n_path: int,
    in_anchor: bool,
    storage: Storage,
    anchor_lister: AnchorLister | None,
    skip: Collection[str],
) -> list[tuple[str, bool | None]]:
    """The names one level below each (folder) name: ``a/b`` for ``b`` inside ``a``."""
    out: list[tuple[str, bool | None]] = []
    for name, is_dir in names:
        if name.startswith(".") or name in skip or (not in_anchor and is_dir is False):
            continue
        below = _children(pattern, [*resolved, name], n_path, in_anchor, storage, anchor_lister, strict=False)
        out.extend((f"{name}/{child}", child_is_dir) for child, child_is_dir in below if not child.startswith("."))
    return out


def _rest_of_document_exists(
    pattern: UrlPattern, state: tuple[list[str], dict[str, str]], stop: int, n_path: int, storage: Storage
) -> bool:
    resolved, keys = state
    rest = [seg.fill(keys) for seg in pattern.path_segments[stop + 1 : n_path]]
    if not all(seg.is_literal for seg in rest):
        return True
    return storage.exists(pattern.prefix + "/".join(resolved + [seg.value for seg in rest]))


def documents(
    pattern: UrlPattern,
    storage: Storage,
    *,
    key_patterns: Mapping[str, str] | None = None,
    skip: Collection[str] = DEFAULT_SKIP,
) -> Iterator[str]:
    """URLs of the documents the pattern's path leads to, in natural key order, found lazily.

    Follows only the path part (before ``#``), listing one folder per
    placeholder segment; missing folders yield nothing.  Used to look at a
    repository's first document(s) when choosing a beamline.
    """
    regexes = {f: re.compile(p) for f, p in (key_patterns or {}).items()}
    segments = pattern.path_segments

    def walk(index: int, resolved: list[str], keys: dict[str, str]) -> Iterator[str]:
        if index == len(segments):
            yield pattern.prefix + "/".join(resolved)
            return
        seg = segments[index].fill(keys)
        if seg.is_literal:
            yield from walk(index + 1, [*resolved, seg.value], keys)
            return
        try:
            entries = [(e.name, e.is_dir) for e in storage.ls(pattern.prefix + "/".join(resolved))]
            for _ in range(max([pattern.spans.get(f, 1) for f in seg.fields if f not in keys] + [1]) - 1):
                entries = [
                    (f"{name}/{e.name}", e.is_dir)
                    for name, is_dir in entries
                    if is_dir and not name.startswith(".") and name not in skip
                    for e in storage.ls(pattern.prefix + "/".join([*resolved, name]))
                ]
        except (MissingDataError, NotSupportedError):
            return
        need_dir = index < len(segments) - 1
        regex = seg.regex(pattern.spans)
        found = {}
        for name, is_dir in entries:
            m = None if name.startswith(".") or name in skip else regex.match(name)
            if m is None or (need_dir and not is_dir):
                continue
            groups = m.groupdict()
            if all(
                pattern.is_legal_key(f, k) and (f not in regexes or regexes[f].fullmatch(k)) for f, k in groups.items()
            ):
                found[name] = groups
        for name in natural_sorted(found):
            yield from walk(index + 1, [*resolved, name], {**keys, **found[name]})

    yield from walk(0, [], {})
