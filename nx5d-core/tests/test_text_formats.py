"""The toolkit's pieces for text formats: sections, parameters, typed column blocks, frame folders, names, commands."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nx5d.errors import CorruptDataError
from nx5d.toolkit import (
    FRAME_NAMES,
    Column,
    Storage,
    VariableNames,
    column_block,
    frame_folders,
    scanned_motors,
    text_parameters,
    text_sections,
)

MARKER = r"%([a-z])"
DEFINITION = r"Col\s+\d+\s+(?P<name>\S+)\s+(?P<type>\w+)"

DOCUMENT = """!
! Comments
!
%c
ascan om 1.0 2.0 4 1.0
user someone Acquisition started at Mon Jan 06 10:00:00 2025
!
! Parameter
%p
energy = 12000.5
slit = nan
mode = fast scan
%d
 Col 1 om DOUBLE
 Col 2 n INTEGER
 Col 3 on BOOLEAN
 Col 4 where STRING
 1.0 3 True here
 1.5 4 False there
"""


def test_a_document_splits_into_named_sections_with_their_line_numbers():
    found = text_sections(DOCUMENT, MARKER, comment="!")
    assert [s.name for s in found] == ["c", "p", "d"]
    assert found[0].lines[0] == "ascan om 1.0 2.0 4 1.0"
    assert found[0].numbers == (5, 6)  # the file's own line numbers, comments skipped
    assert text_parameters(found[1], "a.fio") == {"energy": 12000.5, "slit": pytest.approx(np.nan, nan_ok=True),
                                                  "mode": "fast scan"}  # fmt: skip


def test_a_column_block_is_typed_as_declared():
    block = column_block(text_sections(DOCUMENT, MARKER, comment="!")[2], "a.fio", definition=DEFINITION)
    assert [(c.name, v.dtype.kind) for c, v in block] == [("om", "f"), ("n", "i"), ("on", "b"), ("where", "U")]
    assert block[2][1].tolist() == [True, False]
    assert block[3][1].tolist() == ["here", "there"]


def test_columns_may_be_given_instead_of_declared():
    section = text_sections("#L a b\n1 2\n3 4\n", r"#L.*()")[0]
    block = column_block(section, "t.txt", columns=[Column("a"), Column("b", "int64")])
    assert block[1][1].tolist() == [2, 4]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (" 2.0 5 True", r"a\.fio line 20: 3 values in a row of 4 columns"),
        (" 2.0 5.5 True x", r"a\.fio line 20: '5\.5' of column 'n' is no int64 value"),
        (" 2.0 5 maybe x", r"a\.fio line 20: 'maybe' of column 'on' is no boolean"),
        (" two 5 True x", r"a\.fio line 20: 'two' of column 'om' is no float64 value"),
    ],
)
def test_a_damaged_row_names_the_file_and_line(row, message):
    section = text_sections(DOCUMENT + row + "\n", MARKER, comment="!")[2]
    with pytest.raises(CorruptDataError, match=message):
        column_block(section, "a.fio", definition=DEFINITION)


def test_damaged_parameters_and_unknown_types_are_refused():
    with pytest.raises(CorruptDataError, match=r"a\.fio line 2: 'energy' is no 'name = value'"):
        text_parameters(text_sections("%p\nenergy\n", MARKER)[0], "a.fio")
    with pytest.raises(CorruptDataError, match="column type 'COMPLEX' of 'z' is unknown"):
        column_block(text_sections("%d\nCol 1 z COMPLEX\n1\n", MARKER)[0], "a.fio", definition=DEFINITION)
    with pytest.warns(UserWarning, match="'e' is given again"):
        assert text_parameters(text_sections("%p\ne = 1\ne = 2\n", MARKER)[0], "a.fio") == {"e": 2.0}


@given(st.lists(st.text(alphabet=" \t0123456789.eE-+naTrueFls", max_size=12), max_size=6))
def test_any_damaged_block_gives_columns_or_an_nx5d_error(rows):
    section = text_sections("%d\nCol 1 a DOUBLE\nCol 2 b BOOLEAN\n" + "\n".join(rows), MARKER)[0]
    try:
        block = column_block(section, "h.fio", definition=DEFINITION)
    except CorruptDataError as exc:
        message = str(exc)
    else:
        assert len({len(v) for _, v in block}) == 1
        return
    assert re.match(r"h\.fio line \d+: ", message)


def test_frame_folders_beside_a_document(tmp_path):
    (tmp_path / "scan_00001.fio").write_text(DOCUMENT)
    for detector, count in (("pilatus", 12), ("eiger", 2), ("empty", 0)):
        (tmp_path / "scan_00001" / detector).mkdir(parents=True)
        for i in range(1, count + 1):
            (tmp_path / "scan_00001" / detector / f"scan_00001_{i}.tif").write_bytes(b"")
    (tmp_path / "scan_00001" / "notes.txt").write_text("no frame")
    found = frame_folders(Storage(), f"file://{tmp_path}/scan_00001.fio")
    assert sorted(found) == ["eiger", "pilatus"]
    assert [u.rsplit("_", 1)[1] for u in found["pilatus"]] == [f"{i}.tif" for i in range(1, 13)]  # natural order
    assert frame_folders(Storage(), f"file://{tmp_path}/scan_00002.fio") == {}


def test_dmesh_marks_no_counter_as_a_motor_in_desy_commands():
    columns = ["cube1_x", "ioni", "t01", "timestamp"]
    command = "dmesh hls_y 0.0 -0.032 32 cube1_x -10 58 34 1.0 False None"
    assert scanned_motors(command, columns, dialect="desy") == ["cube1_x"]
    assert scanned_motors("a2scan om 1 2 tt 2 4 10 1", ["tt", "om", "ioni"], dialect="desy") == ["om", "tt"]
    assert scanned_motors("timescan 10 1", columns, dialect="desy") == []
    assert scanned_motors("ascan th 1 2 10 1", ["Theta", "det"]) == ["Theta"]  # SPEC's rule: the first column
    with pytest.raises(ValueError, match="dialect"):
        scanned_motors("ascan th 1 2 10 1", ["th"], dialect="bliss")  # type: ignore[arg-type]


def test_a_column_named_like_a_frame_axis_keeps_out_of_its_way():
    names = VariableNames("a.fio")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [names.name(n, "counter") for n in ("y", "x", "index", "images", "om")] == [
            "y_counter", "x_counter", "index_counter", "images_counter", "om",
        ]  # fmt: skip
    assert {"y", "x", "index", "k"} <= set(FRAME_NAMES)
