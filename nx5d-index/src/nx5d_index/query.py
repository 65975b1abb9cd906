"""What a search asks of the scan table: ``repo.search(type="ascan", motor="th", range=(19, 20))``.

A search reads the scan table -- every scan's summary, from the
[scan index][nx5d_index.extension] where the files are unchanged, so
only new and changed scans are read -- and keeps the rows a `Query`
matches ([`nx5d_index.search`][nx5d_index.search]).  The criteria use the summary fields beamlines give by convention
(see [`nx5d_summary`][nx5d.plugins.hookspecs.nx5d_summary]): ``type``,
``motor`` and ``range`` (the scanned motor and the first and last of its
positions), ``sample``, ``start``, ``counters`` and the text of ``notes``,
``command``, ``title`` and ``comments``.  A scan without the field a
criterion asks about does not match it.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from nx5d.errors import OptionError

__all__ = ["Query", "parse_time", "TEXT_FIELDS"]

#: The summary fields the free text of a query is looked for in.
TEXT_FIELDS = ("notes", "command", "title", "comments", "sample")

_SPEC_TIME = "%a %b %d %H:%M:%S %Y"  # SPEC's #D line: Thu Jun 25 16:55:23 2015


def parse_time(value: Any) -> datetime.datetime | None:
    """A time from a summary's ``start`` or a query (ISO 8601, SPEC's ``#D`` form, a datetime); ``None`` if none.

    Times with a zone are taken to this machine's local time, as times
    without one are.
    """
    if isinstance(value, datetime.datetime):
        found = value
    elif isinstance(value, datetime.date):
        found = datetime.datetime.combine(value, datetime.time())
    elif isinstance(value, str) and value.strip():
        text = " ".join(value.split())
        try:
            found = datetime.datetime.fromisoformat(text)
        except ValueError:
            try:
                found = datetime.datetime.strptime(text, _SPEC_TIME)
            except ValueError:
                return None
    else:
        return None
    return found.astimezone().replace(tzinfo=None) if found.tzinfo is not None else found


def _glob(field: str, pattern: str) -> Any:
    """A test of a row's ``field`` against the glob ``pattern``, any case."""
    match = re.compile(fnmatch.translate(pattern), re.IGNORECASE).match

    def test(row: Mapping[str, Any]) -> bool:
        value = row.get(field)
        return isinstance(value, str) and match(value) is not None

    return test


def _range(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), float(value)
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"a range is a number or two numbers (low, high), not {value!r}") from exc
    return min(low, high), max(low, high)


def _time(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    found = parse_time(value)
    if found is None:
        raise OptionError(f"not a time: {value!r} (give ISO 8601, like 2024-03-01 or 2024-03-01T12:00, or a datetime)")
    return found


def _names(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value or ())


@attrs.frozen
class Query:
    """What scans to find; every criterion given must hold (see the module documentation).

    Attributes
    ----------
    type:
        The scan type, a glob (``"ascan"``, ``"*mesh"``), any case.
    motor:
        The scanned motor, a glob.
    range:
        A number or ``(low, high)``: the scanned positions (summary field
        ``range``) must reach into it.
    sample:
        The sample's name, a glob (``"SrRuO3*"``).
    since, until:
        The scan started at or after ``since`` and before ``until`` (ISO 8601
        text or datetimes).
    counters:
        Names of counters the scan must have recorded (all of them).
    text:
        Words that must all appear (any case) in the scan's notes, command,
        title, comments or sample.
    """

    type: str | None = None
    motor: str | None = None
    range: tuple[float, float] | None = attrs.field(default=None, converter=_range)
    sample: str | None = None
    since: datetime.datetime | None = attrs.field(default=None, converter=_time)
    until: datetime.datetime | None = attrs.field(default=None, converter=_time)
    counters: tuple[str, ...] = attrs.field(default=(), converter=_names)
    text: str | None = None

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Whether the scan table's ``row`` (a summary with ``scan`` and ``handle``) meets every criterion."""
        return all(check(row) for check in self._checks())

    def _checks(self) -> list[Any]:
        checks = []
        for field in ("type", "motor", "sample"):
            pattern = getattr(self, field)
            if pattern is not None:
                checks.append(_glob(field, pattern))
        if self.range is not None:
            checks.append(self._in_range)
        if self.since is not None or self.until is not None:
            checks.append(self._in_time)
        if self.counters:
            checks.append(lambda row: _has_counters(row.get("counters"), self.counters))
        if self.text:
            words = self.text.lower().split()
            checks.append(lambda row: all(word in _text_of(row) for word in words))
        return checks

    def _in_range(self, row: Mapping[str, Any]) -> bool:
        found = row.get("range")
        if not isinstance(found, list | tuple) or len(found) != 2:
            return False
        try:
            low, high = float(found[0]), float(found[1])
        except (TypeError, ValueError):
            return False
        return min(low, high) <= self.range[1] and max(low, high) >= self.range[0]  # type: ignore[index]

    def _in_time(self, row: Mapping[str, Any]) -> bool:
        start = parse_time(row.get("start"))
        if start is None:
            return False
        return (self.since is None or start >= self.since) and (self.until is None or start < self.until)

    def filter(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The rows that match."""
        checks = self._checks()
        return [dict(row) for row in rows if all(check(row) for check in checks)]


def _has_counters(present: Any, wanted: Sequence[str]) -> bool:
    if not isinstance(present, list | tuple):
        return False
    names = {str(name).lower() for name in present}
    return all(name.lower() in names for name in wanted)


def _text_of(row: Mapping[str, Any]) -> str:
    return "\n".join(str(row[f]) for f in TEXT_FIELDS if row.get(f) is not None).lower()
