"""What repositories and proposals share: a listing of children by key and handle."""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from nx5d.addressing.handles import HandleMap, KeyToHandle, build_handles
from nx5d.addressing.keys import validate_key
from nx5d.addressing.url import UrlPattern
from nx5d.errors import HandleNotFoundError, InvalidKeyError, NotFoundError, UrlPatternError
from nx5d.suggestions import close_names

__all__ = ["Children"]


class Children:
    """Mixin for objects that hold children reachable by key and by handle.

    It reads like a ``Mapping`` of key -> child (``keys()``, ``values()``,
    ``items()``, ``get()``, ``in``, ``len``) and is registered as one.

    Subclasses set ``_child_kind`` (``"proposal"`` / ``"scan"``) and
    ``_not_found`` (the exception class), and implement ``_list_child_keys``,
    ``_child_rule``, ``_make_child`` and, for URL patterns, ``_key_pattern``.  ``all()`` is the single source of
    truth for the listing: subclasses written against the reference page's API
    may override it and everything else follows.
    """

    _child_kind = "child"
    _not_found: type[NotFoundError] = NotFoundError

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the child objects made so far (made again on use, each pickle stays small)."""
        return {**self.__dict__, "_nx5d_children": {}}

    def _init_children(self) -> None:
        self._nx5d_skipped: list[str] = []  # names where children are that are none (the naming rule)
        self._nx5d_listing: dict[str, str] | None = None
        self._nx5d_handle_map: HandleMap | None = None
        self._nx5d_children: dict[str, Any] = {}

    # --- hooks for subclasses -------------------------------------------

    def _list_child_keys(self) -> list[str]:
        raise NotImplementedError

    def _child_rule(self) -> KeyToHandle:
        raise NotImplementedError

    def _make_child(self, key: str) -> Any:
        raise NotImplementedError

    def _where(self) -> str:
        return repr(self)

    def _key_pattern(self) -> UrlPattern:
        """The URL pattern whose ``{child kind}`` placeholder the children's keys fill.

        ``UrlPatternError`` where there is none (repositories of the
        subclassing API that are not URL patterns): keys then follow the
        general rules only.
        """
        raise UrlPatternError(f"{self._where()} has no URL pattern")

    def _check_key(self, key: str) -> None:
        """Refuse keys that cannot be a child's (``InvalidKeyError``); keys spanning folders where allowed."""
        try:
            pattern = self._key_pattern()
        except UrlPatternError:
            validate_key(key, f"{self._child_kind} key")
            return
        pattern.check_key(self._child_kind, key)

    # --- listing ----------------------------------------------------------

    def all(self) -> dict[str, str]:
        """Fresh listing of children: ``{key: handle}`` in listing order."""
        return build_handles(self._list_child_keys(), self._child_rule(), self._child_kind)

    def _fresh(self) -> dict[str, str]:
        """A fresh listing of the children the mapping holds (``all()``, unless a subclass shows more there)."""
        return self.all()

    def handle_for(self, key: str) -> str:
        """The handle the naming rules give the child ``key``, without listing (so a collision is not seen)."""
        return self._child_rule()(key)

    def keys(self) -> list[str]:
        """Keys of the children, in listing order (fresh listing)."""
        return list(self._remember(self._fresh()))

    def handles(self) -> list[str]:
        """Handles of the children, in listing order (fresh listing)."""
        return list(self._remember(self._fresh()).values())

    def ls(self, pattern: str = "*") -> dict[str, str]:
        """Children whose key or handle matches the glob ``pattern`` (``"2024*"``, ``"r01*"``): ``{key: handle}``."""
        return {
            key: handle
            for key, handle in self.listing(refresh=True).items()
            if fnmatch.fnmatchcase(key, pattern) or fnmatch.fnmatchcase(handle, pattern)
        }

    def refresh(self) -> None:
        """Forget cached listings so the next access looks at storage again."""
        self._nx5d_listing = None
        self._nx5d_handle_map = None

    def _remember(self, listing: dict[str, str]) -> dict[str, str]:
        if listing != self._nx5d_listing:
            self._nx5d_listing = dict(listing)
            self._nx5d_handle_map = None
        return listing

    def listing(self, refresh: bool = False) -> dict[str, str]:
        """The children as ``{key: handle}``, from the last listing unless ``refresh`` (or none was made yet)."""
        if refresh or self._nx5d_listing is None:
            self._remember(self._fresh())
        return self._nx5d_listing  # type: ignore[return-value]

    def _handle_map(self, refresh: bool = False) -> HandleMap:
        listing = self.listing(refresh)
        if self._nx5d_handle_map is None:
            self._nx5d_handle_map = HandleMap(
                listing, what=self._child_kind, reserved=_public_names(type(self)), where=self._where()
            )
        return self._nx5d_handle_map

    # --- access ------------------------------------------------------------

    def _resolve(self, key: str | None, handle: str | None) -> str:
        if (key is None) == (handle is None):
            raise TypeError(f"give exactly one of key= or handle= to find a {self._child_kind}")
        if handle is not None:
            found = self._handle_map().key_of(handle) or self._handle_map(refresh=True).key_of(handle)
            if found is None:
                raise self._missing(handle, "handle", self._handle_map().handles())
            return found
        if not isinstance(key, str):
            raise InvalidKeyError(f"{self._child_kind} key must be a string, not {type(key).__name__}")
        self._check_key(key)
        if key not in self.listing() and key not in self.listing(refresh=True):
            raise self._missing(key, "key", list(self.listing()))
        return key

    def _missing(self, name: str, what: str, known: list[str], cls: type[NotFoundError] | None = None) -> NotFoundError:
        close = close_names(name, known)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; {len(known)} {self._child_kind}s exist"
        exc = (cls or self._not_found)(f"{self._where()} has no {self._child_kind} with {what} {name!r}{hint}")
        return exc

    def _child(self, key: str) -> Any:
        child = self._nx5d_children.get(key)
        if child is None:
            child = self._nx5d_children[key] = self._make_child(key)
        return child

    def __getitem__(self, key: str) -> Any:
        return self._child(self._resolve(key, None))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.listing()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.listing()))

    def __len__(self) -> int:
        return len(self.listing())

    def items(self) -> Iterator[tuple[str, Any]]:
        """``(key, child object)`` pairs in listing order."""
        for key in list(self.listing()):
            yield key, self._child(key)

    def values(self) -> Iterator[Any]:
        """The child objects in listing order."""
        for key in list(self.listing()):
            yield self._child(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The child with ``key``, or ``default`` when there is none."""
        return self._child(key) if isinstance(key, str) and key in self.listing() else default

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        hmap = self._handle_map()
        key = hmap.key_of(name)
        if key is None:
            hmap = self._handle_map(refresh=True)
            key = hmap.key_of(name)
        if key is None:
            raise self._missing(name, "handle", hmap.handles(), HandleNotFoundError)
        return self._child(key)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        with contextlib.suppress(Exception):  # completion must never raise
            names.update(self._handle_map().handles())
        return sorted(names)

    def skipped(self) -> list[str]:
        """Names found where the children are that the naming rule does not take as theirs.

        From the last listing; lists first when none was made yet.
        """
        self.listing()
        return list(self._nx5d_skipped)

    def _skipped_note(self) -> str:
        names = self._nx5d_skipped
        if not names:
            return ""
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        return f"{len(names)} name(s) here are not {self._child_kind}s by the naming rule: {shown}"

    def _ipython_key_completions_(self) -> list[str]:
        """Keys offered by IPython/Jupyter after ``obj["``."""
        with contextlib.suppress(Exception):  # completion must never raise
            return list(self.listing())
        return []


# Repositories and proposals read like mappings of key -> child (keys(), values(), items(), in, len, get),
# without Mapping's equality and hashing, which would list storage to compare two objects.
Mapping.register(Children)


def _public_names(cls: type) -> frozenset[str]:
    cached = cls.__dict__.get("_nx5d_public_names")
    if cached is None:
        cached = frozenset(n for n in dir(cls) if not n.startswith("_"))
        type.__setattr__(cls, "_nx5d_public_names", cached)
    return cached
