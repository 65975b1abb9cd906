"""SPEC data files: scans indexed by byte offset, each scan parsed on its own.

A SPEC file is a file header (``#F`` name, ``#E`` epoch, ``#D`` date,
``#C`` comments, ``#O0`` ... motor names, ``#o0`` ... their mnemonics,
``#J``/``#j`` counters) followed by scans.  A scan starts with ``#S number
command`` and has header lines (``#D`` date, ``#T``/``#M`` count time or
monitor, ``#P0`` ... motor positions in the order of the ``#O`` lines, ``#N``
column count, ``#L`` column labels), then one line of numbers per point,
possibly interleaved with ``#C`` comments and ``@A`` multichannel (MCA)
spectra.  A file may hold several file headers (a new one starts at each
``#F``/``#E``); a scan belongs to the last header before it.

What real files do, and how this module takes it:

* names in ``#O``/``#L`` lines are separated by two spaces (names may then
  hold single spaces, ``Two Theta``) or by one (``psic`` at APS 6-ID-D):
  the split whose count matches the ``#P`` values or the data columns wins;
* scan numbers repeat (a restarted macro counter): the *order* tells repeats
  apart and ``N.order`` is the scan's key, as in silx's SpecH5 view;
* ``#D`` is a SPEC date or an epoch; files may have no file header, CRLF
  line ends, ``nan`` values, scans without data lines (fly scans, aborted
  scans) and a last line still being written;
* one scan that cannot be parsed is reported for itself
  ([`CorruptDataError`][nx5d.errors.CorruptDataError] naming the file, scan and line);
  it never hides the others.

`index_spec` finds the scans by scanning for ``#S`` lines only (no scan
body is parsed), `read_index` caches that index per file (size and
modification time), and `read_scan` reads and parses one scan's bytes.
"""

from __future__ import annotations

import datetime
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence

import attrs
import numpy as np

from nx5d.errors import CorruptDataError, DataWarning, MissingDataError
from nx5d.toolkit import State, Storage, depends_on, planned_points, trusted, unify_line_ends

__all__ = [
    "SpecHeader",
    "SpecEntry",
    "SpecIndex",
    "SpecScan",
    "index_spec",
    "read_index",
    "read_scan",
    "parse_scan",
    "looks_like_spec",
    "decode",
    "SPEC_DATE",
]

#: The date format of SPEC's ``#D`` lines (``Thu Jun 25 16:36:23 2015``).
SPEC_DATE = "%a %b %d %H:%M:%S %Y"

_MARKS = re.compile(rb"\n#([SFE])[ \t\r\n]")  # a line start found by its line end: ten times faster than ^ with re.M
_FIRST = re.compile(rb"#([SFE])[ \t\r\n]")
_S_LINE = re.compile(r"#S[ \t]+(\d+)[ \t]*(.*)")
_NUMBERED = re.compile(r"#([A-Za-z]+)(\d+)(?:[ \t](.*))?$")
_CACHE_SIZE = 16


def decode(data: bytes) -> str:
    """Text of SPEC bytes: UTF-8 where valid, else Latin-1 (every byte is a character)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def looks_like_spec(head: bytes) -> bool:
    """Whether the first bytes of a file look like SPEC: ``#`` lines and a ``#S``/``#F``/``#E`` line."""
    text = decode(head)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("#"):
        return False
    return any(re.match(r"#[SFE][ \t]", line) for line in lines[:200])


def _split_names(text: str, expected: int | None) -> list[str]:
    """Names of an ``#O``/``#L`` line: two-space separated, or single-space where that fits ``expected``."""
    text = text.strip()
    if not text:
        return []
    wide = [n for n in re.split(r"\s{2,}|\t", text) if n]
    narrow = text.split()
    if expected is not None:
        if len(wide) == expected:
            return wide
        if len(narrow) == expected:
            return narrow
    return wide if re.search(r"\s{2,}|\t", text) else narrow


def _numbered(lines: Sequence[str], tag: str) -> list[tuple[int, str]]:
    """``(n, text)`` of the lines ``#<tag><n> text``, sorted by ``n``."""
    out = []
    for line in lines:
        m = _NUMBERED.match(line)
        if m is not None and m.group(1) == tag:
            out.append((int(m.group(2)), m.group(3) or ""))
    return sorted(out)


def _parse_date(text: str) -> str | None:
    """ISO 8601 of a ``#D`` value: a SPEC date (local time, as written) or an epoch (UTC)."""
    text = text.strip()
    try:
        return datetime.datetime.strptime(text, SPEC_DATE).isoformat()
    except ValueError:
        pass
    try:
        return datetime.datetime.fromtimestamp(float(text), datetime.UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


@attrs.frozen
class SpecHeader:
    """One file header block: its lines, as written."""

    lines: tuple[str, ...]

    def names(self, tag: str = "O") -> tuple[tuple[int, str], ...]:
        """``(line number, text)`` of the numbered name lines (``#O0``, ``#O1`` ...; ``tag`` ``"o"``, ``"J"``...)."""
        return tuple(_numbered(self.lines, tag))

    def motors(self, positions: Sequence[tuple[int, str]] = ()) -> list[str]:
        """Motor names (``#O`` lines), each line split to match the values of the same ``#P`` line if given."""
        counts = {n: len(text.split()) for n, text in positions}
        return [name for n, text in self.names("O") for name in _split_names(text, counts.get(n))]

    def mnemonics(self, positions: Sequence[tuple[int, str]] = ()) -> dict[str, str]:
        """Motor mnemonic -> motor name, from the ``#o`` and ``#O`` lines (empty where the file has no ``#o``).

        ``#O`` lines are split as in `motors` (to match the ``#P`` ``positions`` if given).
        """
        names = self.motors(positions)
        short = [m for _, text in self.names("o") for m in text.split()]
        return dict(zip(short, names, strict=False)) if len(short) == len(names) else {}

    def value(self, tag: str) -> str | None:
        """The text of the first ``#<tag>`` line (``"F"``, ``"E"``, ``"D"`` ...)."""
        for line in self.lines:
            if line.startswith(f"#{tag} ") or line == f"#{tag}":
                return line[len(tag) + 1 :].strip()
        return None

    @property
    def file_name(self) -> str | None:
        """The ``#F`` value: the name SPEC gave the file."""
        return self.value("F")

    @property
    def comments(self) -> tuple[str, ...]:
        """The ``#C`` lines' texts."""
        return tuple(line[2:].strip() for line in self.lines if line.startswith("#C"))


_NO_HEADER = SpecHeader(())


@attrs.frozen
class SpecEntry:
    """Where one scan is in a SPEC file (found without parsing its body)."""

    number: int
    order: int  #: 1 for the first scan with this number, 2 for its first repeat ...
    command: str
    start: int  #: byte offset of the ``#S`` line
    stop: int  #: byte offset where the scan ends
    header: int  #: index of its file header in [`SpecIndex.headers`][SpecIndex.headers] (-1: none)
    line: int  #: line number of the ``#S`` line (1-based)

    @property
    def key(self) -> str:
        """``"number.order"``, e.g. ``"12.1"``."""
        return f"{self.number}.{self.order}"


@attrs.frozen
class SpecIndex:
    """The scans and file headers of one SPEC file, by byte offset."""

    where: str
    size: int
    headers: tuple[SpecHeader, ...]
    entries: tuple[SpecEntry, ...]
    complete: bool  #: whether the file ends with a line end (else a line is still being written)
    #: The file's state when it was read ([`Storage.state`][nx5d.io.storage.Storage.state]; ``None``: unknown).
    state: State | None = None
    #: The entries by key, made once: looking every scan up in a long file must not walk the file's scans each time.
    _by_key: dict[str, SpecEntry] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_key: dict[str, SpecEntry] = {}
        for entry in self.entries:
            by_key.setdefault(entry.key, entry)
        object.__setattr__(self, "_by_key", by_key)

    def keys(self) -> list[str]:
        """Scan keys in file order."""
        return [e.key for e in self.entries]

    def entry(self, key: str) -> SpecEntry:
        """The scan with key ``"N.order"`` (``MissingDataError`` listing what exists)."""
        found = self._by_key.get(key)
        if found is not None:
            return found
        keys = self.keys()
        shown = ", ".join(keys[:10]) + (f" ... ({len(keys)} scans)" if len(keys) > 10 else "")
        raise MissingDataError(f"{self.where} has no scan {key!r}; it has {shown or 'no scans'}")

    def header_of(self, entry: SpecEntry) -> SpecHeader:
        """The file header a scan belongs to."""
        return self.headers[entry.header] if entry.header >= 0 else _NO_HEADER


def _header_blocks(marks: Sequence[tuple[int, str]]) -> list[tuple[int, int]]:
    """``(first mark, mark after it)`` of each file header block among ``marks``.

    A block is the ``#F``/``#E`` lines (and what follows them) up to the next
    scan; a second ``#F`` or ``#E`` before a scan starts the next block
    (SPEC writes a new header when a file is opened again, sometimes twice
    in a row), so that the blocks' ``#O`` lines are never joined.
    """
    blocks: list[tuple[int, int]] = []
    start, kinds = None, set()
    for i, (_, kind) in enumerate(marks):
        if kind == "S" or (start is not None and kind in kinds):
            if start is not None:
                blocks.append((start, i))
            start, kinds = (None, set()) if kind == "S" else (i, {kind})
        elif start is None:
            start, kinds = i, {kind}
        else:
            kinds.add(kind)
    if start is not None:
        blocks.append((start, len(marks)))
    return blocks


def index_spec(data: bytes, where: str = "SPEC file") -> SpecIndex:
    """Index the scans of SPEC ``data``: only ``#S``/``#F``/``#E`` lines are looked at.

    A malformed ``#S`` line is skipped with a warning naming it (the scan
    cannot be addressed), never failing the others.
    """
    data = unify_line_ends(data)
    first = _FIRST.match(data)
    marks = [(0, first.group(1).decode())] if first else []
    marks += [(m.start() + 1, m.group(1).decode()) for m in _MARKS.finditer(data)]
    bounds = [pos for pos, _ in marks] + [len(data)]
    blocks = _header_blocks(marks)
    headers = [
        SpecHeader(tuple(line for line in decode(data[bounds[a] : bounds[b]]).splitlines() if line.strip()))
        for a, b in blocks
    ]
    header_at = {a: n for n, (a, _) in enumerate(blocks)}
    entries: list[SpecEntry] = []
    seen: dict[int, int] = {}
    header = -1
    line_no, last_pos = 1, 0
    for i, (pos, kind) in enumerate(marks):
        line_no += data.count(b"\n", last_pos, pos)
        last_pos = pos
        if kind != "S":
            header = header_at.get(i, header)
            continue
        line_end = data.find(b"\n", pos)
        text = decode(data[pos : line_end if line_end >= 0 else len(data)]).rstrip("\r")
        m = _S_LINE.match(text)
        if m is None:
            warnings.warn(
                f"{where}, line {line_no}: cannot read the scan line {text!r}; scan skipped", DataWarning, stacklevel=2
            )
            continue
        number = int(m.group(1))
        seen[number] = seen.get(number, 0) + 1
        entries.append(SpecEntry(number, seen[number], m.group(2).strip(), pos, bounds[i + 1], header, line_no))
    if not headers and not entries and data.strip():
        raise CorruptDataError(f"{where} is not a SPEC file: it has no '#S' scan and no '#F'/'#E' file header")
    return SpecIndex(where, len(data), tuple(headers), tuple(entries), data.endswith(b"\n") or not data)


@attrs.frozen
class SpecScan:
    """One parsed scan."""

    entry: SpecEntry
    file_header: SpecHeader
    header: tuple[str, ...]  #: the scan's ``#`` lines before its data, ``#S`` included
    labels: tuple[str, ...]  #: column labels as written (duplicates kept)
    data: np.ndarray = attrs.field(eq=False)  #: ``(points, columns)`` float64
    positions: dict[str, float] = attrs.field(factory=dict)  #: motor -> position at the scan start
    mca: dict[str, np.ndarray] = attrs.field(factory=dict, eq=False)  #: ``@A`` spectra ``(points, channels)``
    comments: tuple[str, ...] = ()  #: ``#C`` lines among and after the data

    @property
    def key(self) -> str:
        """``"number.order"``."""
        return self.entry.key

    @property
    def number(self) -> int:
        """The scan number of the ``#S`` line."""
        return self.entry.number

    @property
    def command(self) -> str:
        """The scan command (``ascan th 19.4 19.7 40 5``)."""
        return self.entry.command

    @property
    def points(self) -> int:
        """Number of data lines."""
        return int(self.data.shape[0])

    def mnemonics(self) -> dict[str, str]:
        """Motor mnemonic -> motor name, from its file header's ``#o`` and ``#O`` lines (empty without ``#o``).

        The ``#O`` names are split to match the scan's ``#P`` lines, as the keys of `positions` are.
        """
        return self.file_header.mnemonics(_numbered(self.header, "P"))

    def value(self, tag: str) -> str | None:
        """The text of the scan's first ``#<tag>`` header line (``"D"``, ``"T"`` ...)."""
        return SpecHeader(self.header).value(tag)

    @property
    def date(self) -> str | None:
        """The ``#D`` date as ISO 8601 (``None`` if absent or unreadable)."""
        text = self.value("D")
        return None if text is None else _parse_date(text)

    def column(self, label: str) -> np.ndarray:
        """The values of the first column labelled ``label``."""
        return self.data[:, self.labels.index(label)]


def _scan_lines(text: str) -> list[str]:
    return [line.rstrip("\r") for line in text.split("\n")]


def _row_error(where: str, line: int, text: str, width: int, found: int) -> CorruptDataError:
    return CorruptDataError(
        f"{where}, line {line}: not a row of numbers: {found} values where the scan has {width} columns: {text[:80]!r}"
    )


def _take_unfinished(
    line: str, rows: list[list[str]], row_lines: list[int], row_texts: list[str], entry: SpecEntry, at: int, where: str
) -> None:
    """Keep the file's last line, which has no line end, if it is a whole data row; else leave it out."""
    values = line.split()
    whole = bool(rows) and not line.lstrip().startswith(("#", "@")) and len(values) == len(rows[-1])
    if whole:
        rows.append(values)
        row_lines.append(entry.line + at)
        row_texts.append(line.strip())
    what = "read as complete (it has every column)" if whole else "left out (it is cut short)"
    warnings.warn(
        f"{where}, scan {entry.key}: the file does not end with a line end (still being written, or cut "
        f"when copied?); its last line was {what}",
        DataWarning,
        stacklevel=4,
    )


@attrs.define
class _Sections:
    """The lines of one scan, sorted into what they are."""

    header: list[str] = attrs.field(factory=list)  #: ``#`` lines before the data, ``#S`` included
    comments: list[str] = attrs.field(factory=list)  #: ``#C`` lines among and after the data, and lines of words
    rows: list[list[str]] = attrs.field(factory=list)  #: the data rows, split
    row_lines: list[int] = attrs.field(factory=list)  #: their line numbers
    row_texts: list[str] = attrs.field(factory=list)  #: as written
    mca: dict[str, list[list[str]]] = attrs.field(factory=dict)  #: ``@A`` spectra by name, split

    def add_row(self, values: list[str], number: int, text: str) -> None:
        self.rows.append(values)
        self.row_lines.append(number)
        self.row_texts.append(text)


def _is_words(values: Sequence[str]) -> bool:
    """Whether a line holds words only, none of them a number: a comment a macro wrote without ``#``."""
    for value in values:
        try:
            float(value)
        except ValueError:
            continue
        return False
    return True


def _sections(lines: Sequence[str], entry: SpecEntry, where: str) -> _Sections:
    """Sort a scan's lines: header, comments, data rows (with their line numbers) and ``@A`` spectra.

    A line of words among the data (APS 27-ID's RIXS macros write one after a
    ``#C`` line) is kept as a comment, with a warning; a line that mixes
    numbers and words stays a data row, refused later.
    """
    found = _Sections()
    spectrum: tuple[str, list[str]] | None = None
    for offset, line in enumerate(lines):
        if spectrum is not None:  # the continuation lines of a spectrum end with "\\"
            body = line.rstrip()
            spectrum[1].extend(body.rstrip("\\").split())
            if not body.endswith("\\"):
                found.mca.setdefault(spectrum[0], []).append(spectrum[1])
                spectrum = None
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            in_data = found.rows or (found.header and stripped.startswith("#C") and not stripped.startswith("#CHANN"))
            (found.comments if in_data else found.header).append(stripped[2:].strip() if in_data else stripped)
        elif stripped.startswith("@"):
            name, _, rest = stripped.partition(" ")
            body = rest.rstrip()
            spectrum = (name, body.rstrip("\\").split())
            if not body.endswith("\\"):
                found.mca.setdefault(name, []).append(spectrum[1])
                spectrum = None
        elif found.header and _is_words(stripped.split()):
            found.comments.append(stripped)
            warnings.warn(
                f"{where}, line {entry.line + offset}: a line of words among the data of scan {entry.key} "
                f"({stripped[:60]!r}): kept as a comment",
                DataWarning,
                stacklevel=4,
            )
        else:
            found.add_row(stripped.split(), entry.line + offset, stripped)
    return found


def _numbers(found: _Sections, labels: list[str], width: int | None, entry: SpecEntry, where: str) -> np.ndarray:
    """The data rows as numbers: ``(points, columns)``; ``None`` (a detector without a reading) is NaN, with a warning.

    A row of another length than the columns, or holding a word, is a
    [`CorruptDataError`][nx5d.errors.CorruptDataError] naming its line.
    """
    if not found.rows:
        return np.zeros((0, len(labels)))
    expected = len(labels) if labels else width
    bad = next((k for k, r in enumerate(found.rows) if len(r) != expected), None)
    if bad is not None:
        raise _row_error(where, found.row_lines[bad], found.row_texts[bad], expected or 0, len(found.rows[bad]))
    nones = (
        [(k, c) for k, row in enumerate(found.rows) for c, value in enumerate(row) if value == "None"]
        if any("None" in row for row in found.rows)  # looked for at C speed first: nearly no file has any
        else []
    )
    if nones:
        k, c = nones[0]
        column = labels[c] if c < len(labels) else f"column {c + 1}"
        warnings.warn(
            f"{where}, scan {entry.key}: {len(nones)} value(s) written as None (no reading), read as NaN; the "
            f"first at line {found.row_lines[k]}, column {column!r}",
            DataWarning,
            stacklevel=4,
        )
    rows = [["nan" if value == "None" else value for value in row] for row in found.rows] if nones else found.rows
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        for k, row in enumerate(rows):
            for value in row:
                try:
                    float(value)
                except ValueError:
                    raise CorruptDataError(
                        f"{where}, line {found.row_lines[k]}: not a row of numbers: {value[:30]!r} is not a number "
                        f"(scan {entry.key})"
                    ) from None
        raise


def _positions(header: Sequence[str], file_header: SpecHeader, entry: SpecEntry, where: str) -> dict[str, float]:
    """Motor -> position at the scan start, from the ``#P`` lines against the file header's ``#O`` names.

    A motor name written twice in ``#O`` (APS 27-ID has two ``ccth``) keeps
    both positions, the second named ``ccth_2``, with a warning.
    """
    positions = _numbered(header, "P")
    motors = file_header.motors(positions)
    values = [v for _, text in positions for v in text.split()]
    if not values:
        return {}
    if len(values) != len(motors):
        warnings.warn(
            f"{where}, scan {entry.key}: {len(values)} motor positions (#P) for {len(motors)} motors (#O); "
            "positions left out",
            DataWarning,
            stacklevel=4,
        )
        return {}
    found: dict[str, float] = {}
    repeated: list[str] = []
    for name, value in zip(motors, values, strict=True):
        unique, n = name, 1
        while unique in found:
            n += 1
            unique = f"{name}_{n}"
        if unique != name:
            repeated.append(f"{name} (also {unique})")
        try:
            found[unique] = float(value)
        except ValueError:
            continue
    if repeated:
        warnings.warn(
            f"{where}, scan {entry.key}: motor names written more than once in #O: {', '.join(repeated)}",
            DataWarning,
            stacklevel=4,
        )
    return found


def _spectra(mca: dict[str, list[list[str]]], points: int, entry: SpecEntry, where: str) -> dict[str, np.ndarray]:
    """The ``@A`` spectra as ``(points, channels)`` arrays; spectra that do not fit the points are left out."""
    spectra = {}
    for name, found in mca.items():
        lengths = {len(s) for s in found}
        if len(found) != points or len(lengths) != 1:
            warnings.warn(
                f"{where}, scan {entry.key}: {len(found)} {name} spectra for {points} points "
                f"(lengths {sorted(lengths)}); left out",
                DataWarning,
                stacklevel=4,
            )
            continue
        try:
            spectra[name] = np.array(found, dtype=np.float64)
        except ValueError:
            warnings.warn(
                f"{where}, scan {entry.key}: {name} spectra hold non-numbers; left out", DataWarning, stacklevel=4
            )
    return spectra


def parse_scan(text: str, entry: SpecEntry, file_header: SpecHeader, where: str, *, complete: bool = True) -> SpecScan:
    """Parse the text of one scan (from its ``#S`` line to its end).

    ``complete=False`` says the file does not end with a line end: the last
    line of this scan may be cut off, and is left out with a warning.
    """
    lines = _scan_lines(text)
    unfinished = lines[-1] if not complete and lines and lines[-1].strip() else None
    if unfinished is not None:
        lines = lines[:-1]
    found = _sections(lines, entry, where)
    if unfinished is not None:
        _take_unfinished(unfinished, found.rows, found.row_lines, found.row_texts, entry, len(lines), where)
    declared = next((h[2:].split() for h in found.header if h.startswith("#N")), None)
    digits = declared[0] if declared and re.fullmatch(r"[0-9]{1,9}", declared[0]) else None  # not "²": no int
    width = len(found.rows[0]) if found.rows else int(digits) if digits else None
    labels = _split_names(next((h[2:] for h in found.header if h.startswith("#L")), ""), width)
    data = _numbers(found, labels, width, entry, where)
    if found.rows and not labels:
        labels = [f"column{k + 1}" for k in range(data.shape[1])]
    return SpecScan(
        entry,
        file_header,
        tuple(found.header),
        tuple(labels),
        data,
        _positions(found.header, file_header, entry, where),
        _spectra(found.mca, data.shape[0], entry, where),
        tuple(found.comments),
    )


class _Cache:
    """Recently used results, keyed by what they were made from (a file's URL, size and modification time ...)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> object | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, value: object) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_INDEXES = _Cache(_CACHE_SIZE)
_SCANS = _Cache(256)


#: Comments SPEC writes when a scan was stopped before its planned end.
_ABORTED = re.compile(r"abort", re.IGNORECASE)


def scan_state(index: SpecIndex, scan: SpecScan) -> str | None:
    """Whether the file says ``scan`` is finished: ``"done"``, ``"running"`` or ``None`` (it does not say).

    A scan is done once a later scan begins in the file (file order, not
    key order: a scan number may be used again), once it holds every point
    its command plans (`nx5d.io.commands.planned_points`), or
    once a comment says it was aborted.  The last scan of the file with
    fewer points than planned is running; one whose command plans no number
    of points (a time scan) may be either.
    """
    if index.entries and index.entries[-1] != scan.entry:
        return "done"
    planned = planned_points(scan.command)
    if (planned is not None and scan.points >= planned) or any(_ABORTED.search(c) for c in scan.comments):
        return "done"
    return "running" if planned is not None else None


def read_index(storage: Storage, url: str) -> SpecIndex:
    """The index of the SPEC file at ``url``, reused while the file's state stays the same.

    A file that changes while it is read is indexed again at the next call.
    """
    state = storage.state(url)
    found = _INDEXES.get((url, state))
    if found is not None:
        depends_on(url, state)  # what is read from the index depends on the file as much as a read would
        return found  # type: ignore[return-value]
    index = attrs.evolve(index_spec(storage.read_bytes(url), url), state=state)
    if storage.state(url) == state and trusted(state):
        _INDEXES.put((url, state), index)
    return index


def read_scan(storage: Storage, url: str, key: str, index: SpecIndex | None = None) -> SpecScan:
    """The scan ``key`` (``"N.order"``) of the SPEC file at ``url``: only its bytes are read and parsed.

    Parsed scans are kept (the last 256) while the file's state is the one
    its index was read in, so a summary followed by a load parses a scan once.
    """
    index = index or read_index(storage, url)
    entry = index.entry(key)
    cache_key = (url, index.state, entry.start, entry.stop, index.complete)
    found = _SCANS.get(cache_key) if index.state is not None else None
    if found is not None:
        depends_on(url, index.state)
    else:
        data = storage.read_range(url, entry.start, entry.stop)
        last = entry.stop >= index.size
        found = parse_scan(
            decode(unify_line_ends(data)), entry, index.header_of(entry), url, complete=index.complete or not last
        )
        if index.state is not None and trusted(index.state):
            _SCANS.put(cache_key, found)
    return found  # type: ignore[return-value]
