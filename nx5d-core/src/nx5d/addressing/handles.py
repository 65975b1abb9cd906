"""Handles: Python-identifier names for proposals and scans.

Keys are what the storage uses (``20210205``); *handles* are derived from keys
so that proposals and scans can be reached as attributes and tab-completed in
Jupyter (``repo.p20210205.r091726``).  A key-to-handle rule ("k2h") is a plain
callable ``str -> str``; the default rule sanitises the key and prefixes it
when it does not start with a letter.  A `HandleMap` holds the handles
of one listing, looks keys up by handle and refuses collisions.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Collection, Iterable, Mapping

from nx5d.errors import HandleCollisionError, HandleError

__all__ = ["KeyToHandle", "sanitize", "prefixed", "template_rule", "is_valid_handle", "HandleMap", "build_handles"]

KeyToHandle = Callable[[str], str]

_NON_WORD = re.compile(r"\W", flags=re.ASCII)


def sanitize(key: str, prefix: str = "x") -> str:
    """Default key-to-handle rule.

    Every character that is not an ASCII letter, digit or underscore becomes
    ``_``; ``prefix`` is put in front when the result does not start with a
    letter; a trailing ``_`` is added to Python keywords.

    >>> sanitize("091726", "r"), sanitize("2.1", "s"), sanitize("alpha")
    ('r091726', 's2_1', 'alpha')
    """
    handle = _NON_WORD.sub("_", key)
    if not handle[:1].isalpha():
        handle = prefix + handle
    if keyword.iskeyword(handle):
        handle += "_"
    return handle


def prefixed(prefix: str) -> KeyToHandle:
    """A rule that always prefixes (``prefixed("p")("20210205") == "p20210205"``)."""

    def rule(key: str) -> str:
        return sanitize(prefix + key, prefix)

    rule.__name__ = f"prefixed({prefix!r})"
    return rule


def template_rule(template: str, key_pattern: str | None = None, prefix: str = "x") -> KeyToHandle:
    """A rule from a template: ``"p{key}"``, or ``"{scientist}{hzbid}"`` with named groups of ``key_pattern``.

    ``{key}`` stands for the whole key; other fields are the named groups of
    ``key_pattern`` matched against the key.  The result is sanitised like
    `sanitize`; keys the pattern does not match, or that leave a field
    empty, get the default rule.

    >>> rule = template_rule("{scientist}{hzbid}", r"\\d{3}-cw\\d\\d-(?P<hzbid>\\d{5})-(?P<scientist>\\w+)")
    >>> rule("253-cw38-12345-doe"), rule("other")
    ('doe12345', 'other')
    """
    regex = re.compile(key_pattern) if key_pattern else None

    def rule(key: str) -> str:
        fields = {"key": key}
        if regex is not None:
            m = regex.fullmatch(key)
            if m is not None:
                fields.update({k: v for k, v in m.groupdict().items() if v is not None})
        try:
            text = template.format(**fields)
        except (KeyError, IndexError, ValueError):
            return sanitize(key, prefix)
        return sanitize(text, prefix) if text else sanitize(key, prefix)

    rule.__name__ = f"template_rule({template!r})"
    return rule


def is_valid_handle(handle: object) -> bool:
    """Whether ``handle`` can be used as a public attribute name."""
    return isinstance(handle, str) and handle.isidentifier() and handle[:1].isalpha() and not keyword.iskeyword(handle)


def build_handles(keys: Iterable[str], rule: KeyToHandle, what: str = "scan") -> dict[str, str]:
    """Apply ``rule`` to every key; a failing rule is reported with the key."""
    out: dict[str, str] = {}
    for key in keys:
        try:
            out[key] = rule(key)
        except Exception as exc:  # the rule is user code
            name = getattr(rule, "__name__", repr(rule))
            raise HandleError(f"key-to-handle rule {name} failed for {what} key {key!r}: {exc!r}") from exc
    return out


class HandleMap:
    """The handles of one listing: key -> handle, with reverse lookup.

    Parameters
    ----------
    mapping:
        ``{key: handle}`` as produced by a listing (``.all()``).
    what:
        ``"proposal"`` or ``"scan"``, for messages.
    reserved:
        Names that handles must not take because the owning object already
        has attributes of that name (``keys``, ``spice``, ...).
    where:
        Description of the listing's place (URL) for messages.

    Raises
    ------
    HandleError
        A handle is not a valid identifier or clashes with a reserved name.
    HandleCollisionError
        Two keys have the same handle.
    """

    def __init__(
        self,
        mapping: Mapping[str, str],
        *,
        what: str = "scan",
        reserved: Collection[str] = (),
        where: str = "",
    ) -> None:
        self._by_key = dict(mapping)
        self._by_handle: dict[str, str] = {}
        place = f" in {where}" if where else ""
        for key, handle in self._by_key.items():
            if not is_valid_handle(handle):
                raise HandleError(
                    f"{what} key {key!r}{place} has handle {handle!r}, which is not a valid Python "
                    f"identifier starting with a letter; use a different {what}_k2h rule"
                )
            if handle in reserved:
                raise HandleError(
                    f"{what} key {key!r}{place} has handle {handle!r}, which is already an attribute "
                    f"name; use a different {what}_k2h rule"
                )
            other = self._by_handle.get(handle)
            if other is not None:
                raise HandleCollisionError(
                    f"{what} keys {other!r} and {key!r}{place} both have handle {handle!r}; "
                    f"reach them by key, or use a {what}_k2h rule that tells them apart"
                )
            self._by_handle[handle] = key

    def key_of(self, handle: str) -> str | None:
        """The key whose handle is ``handle``, or ``None``."""
        return self._by_handle.get(handle)

    def handle_of(self, key: str) -> str:
        """The handle of ``key`` (``KeyError`` if unknown)."""
        return self._by_key[key]

    def keys(self) -> list[str]:
        """Keys in listing order."""
        return list(self._by_key)

    def handles(self) -> list[str]:
        """Handles in listing order."""
        return list(self._by_key.values())

    def as_dict(self) -> dict[str, str]:
        """A copy of the ``{key: handle}`` mapping."""
        return dict(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)
