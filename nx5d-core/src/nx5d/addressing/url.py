"""Repository URL patterns.

A repository is addressed by a pattern such as:

    file:///tmp/drepo/{proposal}/{proposal}.h5#{proposal}/{scan}

``scheme://location/path`` names a *document* (a folder or a file); the
optional part after ``#`` (the *anchor*) names a place inside it, e.g. an HDF5
group path.  ``{proposal}`` and ``{scan}`` may each appear several times,
anywhere in the path or the anchor.  The same pattern is used in two
directions:

* *filled* with keys ([`UrlPattern.fill`][nx5d.addressing.url.UrlPattern.fill],
  [`UrlPattern.format`][nx5d.addressing.url.UrlPattern.format]) it gives the URL of one proposal or scan;
* *parsed* ([`UrlPattern.match`][nx5d.addressing.url.UrlPattern.match], and segment by segment by
  [`nx5d.addressing.listing`][nx5d.addressing.listing]) it recovers keys from names found on storage.

Patterns are taken literally: no percent-decoding is applied, so the path of a
``file://`` URL is the file system path as written.  ``{{`` and ``}}`` stand
for literal braces.

A placeholder that fills a whole segment may *span* several: with
``spans={"scan": 2}``, ``file:///data/{proposal}/{scan}`` has scan keys such
as ``20240311/141502`` (a day folder and a time folder); each part of such a
key obeys the rules of a key, and there are exactly as many parts as the span.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from functools import cached_property

import attrs

from nx5d.addressing.keys import validate_key
from nx5d.errors import InvalidKeyError, UrlPatternError

__all__ = ["FIELDS", "DEFAULT_SCHEMES", "Field", "Segment", "UrlPattern"]

#: The placeholders a pattern may contain, in hierarchy order.
FIELDS: tuple[str, ...] = ("proposal", "scan")

#: URL schemes understood by the core; plugins may declare more.
DEFAULT_SCHEMES: frozenset[str] = frozenset({"file", "http", "https", "s3", "memory"})

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_KEY_REGEX = r"[^/#]+?"


@attrs.frozen
class Field:
    """A ``{proposal}`` or ``{scan}`` placeholder inside a segment."""

    name: str

    def __str__(self) -> str:
        return "{" + self.name + "}"


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@attrs.frozen
class Segment:
    """One ``/``-separated piece of a pattern's path or anchor.

    ``parts`` alternates literal text and `Field` placeholders; `template`
    writes the segment back as pattern text.  A plugin's ``accepts`` check
    ([`Beamline`][nx5d.plugins.declaration.Beamline]) reads them to tell
    its URL forms from others without any I/O:

    ```python
    pattern = UrlPattern("file:///data/{proposal}/scan_{scan}.fio")
    [s.template for s in pattern.path_segments]  # ['', 'data', '{proposal}', 'scan_{scan}.fio']
    pattern.path_segments[-1].fields  # ('scan',)
    pattern.path_segments[-1].parts  # ('scan_', Field(name='scan'), '.fio')
    ```
    """

    parts: tuple[str | Field, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """Names of the fields in this segment, each once, in order."""
        seen: dict[str, None] = {}
        for part in self.parts:
            if isinstance(part, Field):
                seen.setdefault(part.name)
        return tuple(seen)

    @property
    def is_literal(self) -> bool:
        """Whether the segment holds no placeholder."""
        return not self.fields

    @property
    def value(self) -> str:
        """The literal text of a segment without placeholders."""
        if not self.is_literal:
            raise UrlPatternError(f"segment {self.template!r} still has placeholders {self.fields}")
        return "".join(self.parts)  # type: ignore[arg-type]

    @property
    def template(self) -> str:
        """The segment written back as pattern text."""
        return "".join(str(p) if isinstance(p, Field) else _escape(p) for p in self.parts)

    def fill(self, keys: Mapping[str, str]) -> Segment:
        """The segment with the placeholders named in ``keys`` replaced by them."""
        parts: list[str | Field] = []
        for part in self.parts:
            if isinstance(part, Field) and part.name in keys:
                part = keys[part.name]
            if parts and isinstance(part, str) and isinstance(parts[-1], str):
                parts[-1] += part
            else:
                parts.append(part)
        return Segment(tuple(p for p in parts if p != ""))

    def regex(self, spans: Mapping[str, int] | None = None) -> re.Pattern[str]:
        """Regular expression matching a storage name against this segment.

        The first occurrence of each placeholder captures a named group, later
        occurrences must repeat the same text; a placeholder spanning ``n``
        segments matches ``n`` names joined by ``/``.
        """
        return re.compile(_regex_for(self.parts, set(), spans) + r"\Z")

    def match(self, name: str, spans: Mapping[str, int] | None = None) -> dict[str, str] | None:
        """Keys recovered from the storage name ``name``, or ``None``."""
        m = self.regex(spans).match(name)
        return None if m is None else m.groupdict()


def _regex_for(parts: Iterable[str | Field], captured: set[str], spans: Mapping[str, int] | None = None) -> str:
    out = []
    for part in parts:
        if isinstance(part, Field):
            if part.name in captured:
                out.append(f"(?P={part.name})")
            else:
                captured.add(part.name)
                levels = (spans or {}).get(part.name, 1)
                key = _KEY_REGEX + f"(?:/{_KEY_REGEX}){{{levels - 1}}}" if levels > 1 else _KEY_REGEX
                out.append(f"(?P<{part.name}>{key})")
        else:
            out.append(re.escape(part))
    return "".join(out)


def _tokenize(text: str, offset: int) -> list[str | Field]:
    """Split pattern text into literal strings and fields, checking braces."""
    parts: list[str | Field] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif c == "}" and text.startswith("}}", i):
            literal.append("}")
            i += 2
        elif c == "{":
            end = text.find("}", i + 1)
            nested = text.find("{", i + 1)
            if end < 0 or (0 <= nested < end):
                raise UrlPatternError(f"unbalanced '{{' at position {offset + i} of URL pattern")
            name = text[i + 1 : end]
            if any(ch in name for ch in ":!"):
                raise UrlPatternError(
                    f"placeholder {{{name}}} at position {offset + i}: format specifications "
                    f"and conversions are not supported in URL patterns"
                )
            if name not in FIELDS:
                raise UrlPatternError(
                    f"unknown placeholder {{{name}}} at position {offset + i} of URL pattern; "
                    f"only {{proposal}} and {{scan}} are allowed"
                )
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Field(name))
            i = end + 1
        elif c == "}":
            raise UrlPatternError(f"unbalanced '}}' at position {offset + i} of URL pattern")
        else:
            literal.append(c)
            i += 1
    if literal:
        parts.append("".join(literal))
    return parts


def _split_segments(parts: list[str | Field]) -> tuple[Segment, ...]:
    segments: list[list[str | Field]] = [[]]
    for part in parts:
        if isinstance(part, Field):
            segments[-1].append(part)
            continue
        pieces = part.split("/")
        for j, piece in enumerate(pieces):
            if j:
                segments.append([])
            if piece:
                segments[-1].append(piece)
    return tuple(Segment(tuple(s)) for s in segments)


class UrlPattern:
    """A parsed repository URL pattern (see the module documentation).

    Parameters
    ----------
    text:
        The pattern, e.g. ``"file:///data/{proposal}/{scan}"``.
    schemes:
        Acceptable URL schemes (default `DEFAULT_SCHEMES`).
    required:
        Placeholders that must appear at least once (default: both
        ``{proposal}`` and ``{scan}``).  Partially filled patterns use fewer.
    spans:
        ``{placeholder: n}``: keys of that placeholder span ``n`` segments
        (see the module documentation); the placeholder must fill whole segments.

    Attributes
    ----------
    text:
        The pattern as given.
    scheme:
        Its URL scheme, lower case (``"file"``, ``"s3"`` ...).
    netloc:
        The location between ``scheme://`` and the path (``""`` for ``file``).
    path_segments:
        The `Segment` of each ``/``-separated piece of the part before ``#``
        (the document), in order: ``file:///data/{proposal}/{scan}.h5``
        gives ``""`` (before the leading ``/``), ``data``, ``{proposal}`` and
        ``{scan}.h5`` (each segment's ``template``).  The last one is the
        document's name (``path_segments[-1].template == "{scan}.fio"``: one
        file per scan).
    anchor_segments:
        The segments after ``#`` (a place inside the document), or ``None``
        when the pattern has no ``#``.
    spans:
        ``{placeholder: n}`` of placeholders whose keys span ``n`` segments.

    Raises
    ------
    UrlPatternError
        If the pattern is malformed; the message names the fault and where.
    """

    def __init__(
        self,
        text: str,
        *,
        schemes: Collection[str] | None = None,
        required: Collection[str] = FIELDS,
        spans: Mapping[str, int] | None = None,
    ) -> None:
        if not isinstance(text, str):
            raise UrlPatternError(f"a URL pattern must be a string, not {type(text).__name__}")
        self.text = text
        m = _SCHEME.match(text)
        if m is None:
            raise UrlPatternError(
                f"URL pattern {text!r} does not start with 'scheme://' (e.g. 'file:///data/{{proposal}}/{{scan}}')"
            )
        self.scheme = m.group(1).lower()
        allowed = DEFAULT_SCHEMES if schemes is None else frozenset(s.lower() for s in schemes)
        if self.scheme not in allowed:
            raise UrlPatternError(
                f"unknown URL scheme {self.scheme!r} in {text!r}; known schemes: {', '.join(sorted(allowed))}"
            )
        rest_at = m.end()
        rest = text[rest_at:]
        if rest.count("#") > 1:
            raise UrlPatternError(f"URL pattern {text!r} has more than one '#' anchor separator")
        slash = rest.find("/")
        if slash < 0:
            slash = rest.find("#") if "#" in rest else len(rest)
        self.netloc = rest[:slash]
        if "{" in self.netloc or "}" in self.netloc:
            raise UrlPatternError(
                f"placeholders are not allowed in the location {self.netloc!r} of {text!r}; "
                f"put them in the path or the anchor"
            )
        if self.scheme == "file" and self.netloc.lower() not in ("", "localhost"):
            raise UrlPatternError(
                f"file URL {text!r} names host {self.netloc!r}; write file:///absolute/path (three slashes)"
            )
        path_and_anchor = rest[slash:]
        path_text, sep, anchor_text = path_and_anchor.partition("#")
        offset = rest_at + slash
        self.path_segments: tuple[Segment, ...] = _split_segments(_tokenize(path_text, offset))
        self.anchor_segments: tuple[Segment, ...] | None = (
            _split_segments(_tokenize(anchor_text, offset + len(path_text) + 1)) if sep else None
        )
        for name in required:
            if name not in self.fields:
                raise UrlPatternError(f"URL pattern {text!r} must contain {{{name}}}")
        self._check_adjacent_captures()
        self._separators: dict[str, tuple[str, ...]] = {}
        self.spans = {f: int(n) for f, n in (spans or {}).items() if int(n) > 1 and f in self.fields}
        for field in self.spans:
            partial = [s.template for s in self.segments if field in s.fields and s.parts != (Field(field),)]
            if partial:
                raise UrlPatternError(
                    f"{{{field}}} keys span {self.spans[field]} folders, so {{{field}}} must fill whole segments "
                    f"of {text!r}, not {partial[0]!r}"
                )

    # --- structure ------------------------------------------------------

    @property
    def segments(self) -> tuple[Segment, ...]:
        """Path segments followed by anchor segments."""
        return self.path_segments + (self.anchor_segments or ())

    @cached_property
    def fields(self) -> frozenset[str]:
        """Placeholders present in the pattern."""
        return frozenset(f for seg in self.segments for f in seg.fields)

    @property
    def is_concrete(self) -> bool:
        """Whether no placeholder is left (the pattern is a plain URL)."""
        return not self.fields

    @property
    def has_anchor(self) -> bool:
        """Whether the pattern has a ``#`` anchor part."""
        return self.anchor_segments is not None

    @property
    def prefix(self) -> str:
        """``scheme://netloc`` of the pattern."""
        return f"{self.scheme}://{self.netloc}"

    @property
    def document_level(self) -> str:
        """Where the document boundary sits: ``"scan"``, ``"proposal"`` or ``"repository"``.

        ``"scan"``: every scan is its own file or folder; ``"proposal"``: one
        document per proposal holds all its scans (addressed by the anchor);
        ``"repository"``: a single document holds everything.
        """
        doc_fields = {f for seg in self.path_segments for f in seg.fields}
        for level in reversed(FIELDS):
            if level in doc_fields:
                return level
        return "repository"

    @property
    def root(self) -> str:
        """URL of the folder every document of the pattern lies in.

        The folder holding the first path segment with a placeholder; for a
        pattern whose placeholders are all after ``#``, the document's folder.
        Reads that follow links in data must stay inside it.
        """
        first = next((i for i, seg in enumerate(self.path_segments) if not seg.is_literal), None)
        fixed = self.path_segments[: len(self.path_segments) - 1 if first is None else first]
        return self.prefix + ("/".join(seg.value for seg in fixed) or "/")

    @property
    def document(self) -> str:
        """The document part (before ``#``) as pattern text."""
        return self.prefix + "/".join(s.template for s in self.path_segments)

    @property
    def anchor(self) -> str | None:
        """The anchor part (after ``#``) as pattern text, or ``None``."""
        if self.anchor_segments is None:
            return None
        return "/".join(s.template for s in self.anchor_segments)

    def _check_adjacent_captures(self) -> None:
        captured: set[str] = set()
        for seg in self.segments:
            previous_was_capture = False
            for part in seg.parts:
                if isinstance(part, Field):
                    is_capture = part.name not in captured
                    captured.add(part.name)
                    if is_capture and previous_was_capture:
                        raise UrlPatternError(
                            f"placeholders in segment {seg.template!r} of {self.text!r} touch without a "
                            f"separator, so keys could not be told apart when listing"
                        )
                    previous_was_capture = is_capture
                else:
                    previous_was_capture = False

    # --- keys -------------------------------------------------------------

    def check_key(self, field: str, key: str) -> str:
        """Validate ``key`` for placeholder ``field`` of this pattern.

        Beyond the general rules of [`nx5d.addressing.keys.validate_key`][nx5d.addressing.keys.validate_key], a key must
        not contain the separator that ends its placeholder where another
        placeholder follows in the same segment (in ``{proposal}-{scan}.h5`` a
        proposal key cannot contain ``-``), otherwise parsing would be
        ambiguous.
        """
        if field not in FIELDS:
            raise InvalidKeyError(f"unknown placeholder {field!r}; expected one of {FIELDS}")
        levels = self.spans.get(field, 1)
        if levels > 1:
            parts = key.split("/") if isinstance(key, str) else [key]
            if len(parts) != levels:
                raise InvalidKeyError(f"{field} key {key!r} must be {levels} names joined by '/' in {self.text!r}")
            for part in parts:
                validate_key(part, f"part {part!r} of {field} key {key!r}")
            return key
        validate_key(key, f"{field} key")
        for separator in self._separators_after_capture(field):
            if (key + separator).find(separator) != len(key):
                raise InvalidKeyError(
                    f"{field} key {key!r} contains {separator!r}, which separates {{{field}}} from the next "
                    f"placeholder in URL pattern {self.text!r}"
                )
        return key

    def is_legal_key(self, field: str, key: str) -> bool:
        """Whether `check_key` accepts ``key``."""
        try:
            self.check_key(field, key)
        except InvalidKeyError:
            return False
        return True

    def _separators_after_capture(self, field: str) -> tuple[str, ...]:
        if field not in self._separators:
            self._separators[field] = self._find_separators_after_capture(field)
        return self._separators[field]

    def _find_separators_after_capture(self, field: str) -> tuple[str, ...]:
        captured: set[str] = set()
        found: list[str] = []
        for seg in self.segments:
            parts = seg.parts
            for i, part in enumerate(parts):
                if not isinstance(part, Field):
                    continue
                is_capture = part.name not in captured
                captured.add(part.name)
                if not (is_capture and part.name == field):
                    continue
                rest = parts[i + 1 :]
                later_capture = any(isinstance(p, Field) and p.name not in captured for p in rest)
                if later_capture and rest and isinstance(rest[0], str):
                    found.append(rest[0])
        return tuple(found)

    def fill(self, **keys: str) -> UrlPattern:
        """A new pattern with the given placeholders replaced by keys.

        Keys are checked with `check_key`; placeholders not given stay.
        """
        self._check_keys(keys)
        path = "/".join(s.fill(keys).template for s in self.path_segments)
        text = self.prefix + path
        if self.anchor_segments is not None:
            text += "#" + "/".join(s.fill(keys).template for s in self.anchor_segments)
        return UrlPattern(text, schemes={self.scheme}, required=(), spans=self.spans)

    def format(self, **keys: str) -> str:
        """The concrete URL for ``keys``; every placeholder must be given."""
        missing = self.fields - set(keys)
        if missing:
            raise InvalidKeyError(
                f"URL pattern {self.text!r} needs {', '.join(sorted(missing))} key(s) to name a single place"
            )
        self._check_keys(keys)
        # the filled segments' text, as `fill(**keys).url` gives it, without parsing a new pattern (listings
        # and summaries format several URLs for each of thousands of scans)
        text = self.prefix + "/".join(s.fill(keys).value for s in self.path_segments)
        if self.anchor_segments is not None:
            text += "#" + "/".join(s.fill(keys).value for s in self.anchor_segments)
        return text

    def _check_keys(self, keys: Mapping[str, str]) -> None:
        unknown = set(keys) - set(FIELDS)
        if unknown:
            raise InvalidKeyError(f"unknown placeholder(s) {sorted(unknown)}; expected {FIELDS}")
        for field, key in keys.items():
            self.check_key(field, key)

    @property
    def url(self) -> str:
        """The URL text with ``{{``/``}}`` escapes resolved; only for concrete patterns."""
        if not self.is_concrete:
            raise UrlPatternError(f"URL pattern {self.text!r} still has placeholders {sorted(self.fields)}")
        text = self.prefix + "/".join(s.value for s in self.path_segments)
        if self.anchor_segments is not None:
            text += "#" + "/".join(s.value for s in self.anchor_segments)
        return text

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        captured: set[str] = set()
        path = "/".join(_regex_for(s.parts, captured, self.spans) for s in self.path_segments)
        regex = re.escape(self.prefix) + path
        if self.anchor_segments is not None:
            regex += "#" + "/".join(_regex_for(s.parts, captured, self.spans) for s in self.anchor_segments)
        return re.compile(regex + r"\Z")

    def match(self, url: str) -> dict[str, str] | None:
        """Parse the keys out of a concrete ``url``; ``None`` if it does not fit."""
        m = self._regex.match(url)
        if m is None:
            return None
        keys = {k: v for k, v in m.groupdict().items() if v is not None}
        for field, key in keys.items():
            if not self.is_legal_key(field, key):
                return None
        return keys

    def glob(self, **keys: str) -> str:
        """The document part as a glob with ``*`` for each placeholder not in ``keys``."""
        filled = self.fill(**keys) if keys else self
        return filled.prefix + "/".join(
            "".join("/".join("*" * filled.spans.get(p.name, 1)) if isinstance(p, Field) else p for p in s.parts)
            for s in filled.path_segments
        )

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"UrlPattern({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UrlPattern) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)
