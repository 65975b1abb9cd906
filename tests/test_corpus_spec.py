"""SPEC files of a second corpus (``../shared/corpus/set-b``): what nx5d once refused or dropped.

APS 27-ID's RIXS macros write a line of words among a scan's data; the same
file names the motor ``ccth`` twice; Bluesky's SPEC writer writes ``None``
for a detector without a reading; APS 30-ID's file has two file headers in a
row.  Each file is read where it is, through ``nx5d.open`` as a user would;
the expected values come from the files' own lines, read here with plain
string handling.
"""

from __future__ import annotations

import math
import shutil
import warnings

import pytest

import nx5d

from .shared import shared_path


@pytest.fixture(scope="module")
def set_b():
    return shared_path("corpus", "set-b")


def _open(folder, name, tmp_path):
    """A one-proposal repository holding a copy of the file (the original is never written, not even spice)."""
    shutil.copy(folder / name, tmp_path / name)
    return nx5d.open(f"file://{tmp_path}/{{proposal}}#{{scan}}", beamline="spec", spice_url="")[name]


def _scan_lines(path, number):
    """The lines of scan ``#S number`` (its first occurrence), as written."""
    text = path.read_text(errors="replace").split("\n")
    start = next(i for i, line in enumerate(text) if line.startswith(f"#S {number} "))
    stop = next((i for i in range(start + 1, len(text)) if text[i].startswith("#S ")), len(text))
    return text[start:stop]


def test_a_line_of_words_among_the_data_is_a_comment_not_a_refused_scan(set_b, tmp_path):
    proposal = _open(set_b / "aps-27id", "20March2018", tmp_path)
    lines = _scan_lines(set_b / "aps-27id" / "20March2018", 138)
    words = [line for line in lines if line.startswith("spectrum data is saved")]
    rows = [line for line in lines if line[:1].isdigit() or line[:1] == "-"]
    assert words  # the file is what the test is about
    with pytest.warns(UserWarning, match=r"a line of words among the data of scan 138\.1"):
        raw = proposal["138.1"].raw
    assert raw.sizes["index"] == len(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refused = [key for key in proposal.keys() if not proposal[key].raw.sizes]
    assert refused == []


def test_a_motor_named_twice_keeps_both_positions(set_b, tmp_path):
    proposal = _open(set_b / "aps-27id", "20March2018", tmp_path)
    header = (set_b / "aps-27id" / "20March2018").read_text(errors="replace").split("\n")
    names = [n for line in header if line.startswith("#O") for n in line.split(None, 1)[1].split("  ") if n.strip()]
    assert [n.strip() for n in names].count("ccth") == 2
    with pytest.warns(UserWarning, match=r"motor names written more than once in #O: ccth \(also ccth_2\)"):
        raw = proposal["1.1"].raw
    p_values = [v for line in _scan_lines(set_b / "aps-27id" / "20March2018", 1) if line.startswith("#P")
                for v in line.split()[1:]]  # fmt: skip
    first, second = (i for i, n in enumerate(names) if n.strip() == "ccth")
    assert float(raw["ccth"]) == float(p_values[first])
    assert float(raw["ccth_2"]) == float(p_values[second])
    assert float(raw["ccth"]) != float(raw["ccth_2"])


def test_none_values_are_nan_with_a_warning_naming_line_and_column(set_b, tmp_path):
    proposal = _open(set_b / "spec2nexus", "05_02_test.dat", tmp_path)
    text = (set_b / "spec2nexus" / "05_02_test.dat").read_text().split("\n")
    with_none = [k for k, line in enumerate(text, 1) if " None" in line and line[:1].isdigit()]
    assert with_none
    seen: dict[str, int] = {}
    for k, line in enumerate(text, 1):
        if line.startswith("#S "):
            number = line.split()[1]
            seen[number] = seen.get(number, 0) + 1
            key = f"{number}.{seen[number]}"  # the key nx5d gives a scan number used again
        if k == with_none[0]:
            break
    with pytest.warns(UserWarning, match=rf"written as None .* the first at line {with_none[0]}, column"):
        raw = proposal[key].raw
    values = text[with_none[0] - 1].split()
    assert any(math.isnan(float(raw[name].values[0])) for name in raw.data_vars if raw[name].sizes.get("index"))
    assert values.count("None") >= 1


def test_two_file_headers_in_a_row_are_two_headers(set_b, tmp_path):
    proposal = _open(set_b / "spec2nexus", "CdOsO", tmp_path)
    header = [line for line in _scan_lines(set_b / "spec2nexus" / "CdOsO", 1) if line.startswith("#P")]
    count = sum(len(line.split()) - 1 for line in header)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = proposal["1.2"].raw
    assert not [w for w in caught if "motor positions (#P)" in str(w.message)]  # was: 256 names for 128 positions
    positions = [name for name, var in raw.data_vars.items() if "index" not in var.dims]
    assert len(positions) >= count - 2  # every position of #P (names equal to a column stay the column)
