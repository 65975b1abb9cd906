"""Naming rules written as templates: what keys look like, and the handles made of their parts.

A *key template* says what a proposal's or scan's key looks like on storage
and names its parts:

    20{pdate}_{material}      # UDKM projects: 202403_STO -> pdate '2403', material 'STO'
    {number:d}.{order:d}      # SPEC scans: 37.1 -> number 37, order 1
    20{sdate}/{stime}         # a key spanning two folders: 20240311/141502

``{name}`` matches one or more characters within a folder name, ``{name:d}``
digits (the part is then a number).  A ``/`` makes the key span several
folders of the URL pattern's ``{scan}`` (or ``{proposal}``) segment.  Names
that do not fit the template are not keys (and are reported as skipped).

A *handle template* is a Python format string over those parts and ``key``:
``{material}_{pdate}``, ``r{number:04d}``, ``r{sdate}{stime}``; the result is
made a valid handle as [`nx5d.addressing.handles.sanitize`][nx5d.addressing.handles.sanitize] does.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from nx5d.addressing.handles import KeyToHandle, sanitize
from nx5d.errors import OptionError

__all__ = ["KeyTemplate", "Naming", "handle_from_template"]

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(d))?\}")


@attrs.frozen
class KeyTemplate:
    """What a key looks like, with named parts (see the module documentation).

    Attributes
    ----------
    text:
        The template, e.g. ``"20{pdate}_{material}"``.
    """

    text: str

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text:
            raise OptionError(f"a key template must be a non-empty string, not {self.text!r}")
        names = [m.group(1) for m in _FIELD.finditer(self.text)]
        if len(names) != len(set(names)):
            raise OptionError(f"key template {self.text!r} names a part twice")
        rest = _FIELD.sub("", self.text)
        if "{" in rest or "}" in rest:
            raise OptionError(f"key template {self.text!r}: parts are written {{name}} or {{name:d}}")
        if any(not piece for piece in self.text.split("/")):
            raise OptionError(f"key template {self.text!r} has an empty folder name")
        for piece in self.text.split("/"):
            if re.search(r"\}\{", piece):
                raise OptionError(f"key template {self.text!r}: two parts touch, so they could not be told apart")

    @property
    def levels(self) -> int:
        """How many folder levels a key spans (``20{sdate}/{stime}``: 2)."""
        return self.text.count("/") + 1

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the parts, in order."""
        return tuple(m.group(1) for m in _FIELD.finditer(self.text))

    def regex(self) -> str:
        """A regular expression matching keys of this form in full, with a named group per part."""
        out, position = [], 0
        for m in _FIELD.finditer(self.text):
            out.append(re.escape(self.text[position : m.start()]))
            out.append(f"(?P<{m.group(1)}>\\d+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+?)")
            position = m.end()
        out.append(re.escape(self.text[position:]))
        return "".join(out)

    def parse(self, key: str) -> dict[str, Any] | None:
        """The parts of ``key`` (numbers for ``{name:d}`` parts), or ``None`` if it does not fit."""
        m = re.fullmatch(self.regex(), key)
        if m is None:
            return None
        numbers = {m2.group(1) for m2 in _FIELD.finditer(self.text) if m2.group(2)}
        return {name: int(value) if name in numbers else value for name, value in m.groupdict().items()}


def handle_from_template(template: str, key_template: KeyTemplate | None, prefix: str) -> KeyToHandle:
    """A key-to-handle rule formatting ``template`` with the parts ``key_template`` finds (and ``key``).

    Keys the key template does not fit, or a template naming a part they lack,
    get the default rule (sanitised key with ``prefix``).
    """
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    known = set(key_template.names if key_template else ()) | {"key"}
    unknown = sorted(f for f in fields if f.split(".")[0].split("[")[0] not in known)
    if unknown:
        raise OptionError(
            f"handle template {template!r} names {', '.join(unknown)}, which the key template "
            f"{key_template.text if key_template else '(none)'!r} does not define; parts: {', '.join(sorted(known))}"
        )

    def rule(key: str) -> str:
        parts = key_template.parse(key) if key_template else {}
        if parts is None:
            return sanitize(key, prefix)
        try:
            text = template.format(key=key, **parts)
        except (KeyError, IndexError, ValueError):
            return sanitize(key, prefix)
        return sanitize(text, prefix) if text else sanitize(key, prefix)

    rule.__name__ = f"handle template {template!r}"
    return rule


def _key_template(value: Any, what: str) -> KeyTemplate | None:
    if value is None or isinstance(value, KeyTemplate):
        return value
    if not isinstance(value, str):
        raise OptionError(f"{what} must be a key template string such as '20{{pdate}}_{{material}}', not {value!r}")
    return KeyTemplate(value)


@attrs.frozen
class Naming:
    """A repository's own rules for keys and handles, over its beamline's (``nx5d.open`` options).

    Attributes
    ----------
    proposal_key, scan_key:
        Key templates (strings or `KeyTemplate`): only names of this
        form are proposals / scans, and their parts are there for the handles.
    proposal_handle, scan_handle:
        Handle templates over the parts (``"{material}_{pdate}"``), or
        functions ``key -> handle``.
    """

    proposal_key: KeyTemplate | None = attrs.field(default=None, converter=lambda v: _key_template(v, "proposal_key"))
    scan_key: KeyTemplate | None = attrs.field(default=None, converter=lambda v: _key_template(v, "scan_key"))
    proposal_handle: str | Callable[[str], str] | None = None
    scan_handle: str | Callable[[str], str] | None = None

    def __attrs_post_init__(self) -> None:
        for field in ("proposal", "scan"):
            handle = getattr(self, f"{field}_handle")
            if handle is not None and not (isinstance(handle, str) or callable(handle)):
                raise OptionError(f"{field}_handle must be a template string or a function, not {handle!r}")
            if isinstance(handle, str):  # fail now, not at the first listing
                handle_from_template(handle, getattr(self, f"{field}_key"), field[0])

    @property
    def is_empty(self) -> bool:
        """Whether the repository keeps its beamline's rules."""
        return all(getattr(self, f.name) is None for f in attrs.fields(type(self)))

    def spans(self) -> dict[str, int]:
        """Folder levels each field's keys span, where more than one."""
        out = {}
        for field in ("proposal", "scan"):
            template = getattr(self, f"{field}_key")
            if template is not None and template.levels > 1:
                out[field] = template.levels
        return out

    def key_patterns(self, declared: Mapping[str, str]) -> dict[str, str]:
        """The key regular expressions listing uses: the beamline's, replaced where a template is given."""
        out = dict(declared)
        for field in ("proposal", "scan"):
            template = getattr(self, f"{field}_key")
            if template is not None:
                out[field] = template.regex()
        return out

    def handle_rule(self, field: str) -> KeyToHandle | None:
        """This repository's key-to-handle rule for ``field``, or ``None`` to keep the beamline's."""
        handle = getattr(self, f"{field}_handle")
        if handle is None:
            return None
        if callable(handle):
            return handle
        return handle_from_template(handle, getattr(self, f"{field}_key"), "p" if field == "proposal" else "s")
