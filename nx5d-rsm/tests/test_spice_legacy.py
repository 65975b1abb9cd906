"""nx5d 3.x spice: read from its folders (damaged files skipped and named), and its meaning translated."""

import json
import uuid
import warnings

import pytest

from nx5d.errors import SpiceValidationError, SpiceWarning
from nx5d.spice.legacy import from_nx5d3, translate
from nx5d.spice.store import FileSpiceStore
from nx5d_rsm.settings import MotorSettings, RsmSettings


def record(handle="exp_info", data=None, **fields):
    return {"version": "kmc3/1a", "type": handle, "handle": handle, "uuid": str(uuid.uuid4()), "revision": 1,
            "anchor": "", "data": data or {}, **fields}  # fmt: skip


def test_a_folder_of_nx5d3_records_reads_beside_nx5d_records(tmp_path):
    folder = tmp_path / "p1"
    folder.mkdir()
    good = record(anchor=37)
    (folder / good["uuid"]).write_text(json.dumps(good))
    renamed = record()
    (folder / str(uuid.uuid4())).write_text(json.dumps(renamed))  # the name is not its uuid
    broken = str(uuid.uuid4())
    (folder / broken).write_text('{"version": "kmc3/1a", "handle": ')
    other = record(version="something/9")
    (folder / other["uuid"]).write_text(json.dumps(other))
    (folder / "README").write_text("not a record and not named like one")
    store = FileSpiceStore([f"file://{tmp_path}/{{proposal}}"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = store.records("p1")
    assert [(r.uuid, r.anchor, r.version, r.type) for r in records] == [(good["uuid"], "37", "kmc3/1a", "exp_info")]
    messages = " ".join(str(w.message) for w in caught if issubclass(w.category, SpiceWarning))
    assert "does not match the record's uuid" in messages
    assert broken in messages
    assert "not an nx5d 3.x spice record" in messages
    assert "README" not in messages


def test_nx5d3_records_are_checked():
    for bad, message in (
        ({"revision": 0}, "revision"),
        ({"anchor": [1]}, "anchor"),
        ({"handle": ""}, "handle"),
        ({"data": [1, 2]}, "mapping"),
    ):
        with pytest.raises(SpiceValidationError, match=message):
            from_nx5d3(record(**bad), "here")
    assert from_nx5d3({**record(), "type": None}, "here").type == "exp_info"  # 3.x's type is optional


def test_exp_info_image_and_qargs_become_settings_fields():
    spice = {
        "exp_info": {"imageCenter": [0.5, 0.4], "imageChannelSpan": 0.01, "detectorTARAlign": [1.5, 0.0, -2.0],
                     "goniometerAxes": ["y-"], "beamDirection": [1, 0, 0], "sampleNormal": [0, 0, 1]},
        "qargs": {"groupby": "temp", "groupby_round": 1, "dims": ["qx", "qz"], "qsize": [10, 20]},
        "settings": {"img_distance": 500.0},
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # everything here has a meaning: no warning
        out = translate(spice, RsmSettings, "scan 1", recorded={"img_distance"})
    settings = out["settings"]
    assert settings["img_center"] == [0.5, 0.4]
    assert settings["center_units"] == "fraction"
    assert settings["channel_span"] == [0.01, 0.01]
    assert (settings["detector_tilt"], settings["detector_rotation"]) == (1.5, -2.0)
    assert settings["sample_axes"] == ["y-"]
    assert settings["inplane"] == [1.0, 0.0, 0.0]
    assert settings["group_by"] == ["temp"]
    assert settings["group_step"] == {"temp": 0.1}
    assert settings["q_axes"] == ["qx", "qz"]
    assert settings["grid_size"] == [10, 20]
    assert settings["img_distance"] == 500.0  # a settings record wins
    RsmSettings(**settings)  # and it is all valid


def test_what_has_no_meaning_is_named_and_code_locations_are_never_used():
    spice = {
        "exp_info": {"goniometerAxes": {"Theta": "y+"}, "sampleFaceUp": "x+", "roi": [0, 10, 0, 10]},
        "recipes": {"sRSM": "pymod://xraydc.cooking#sRSM", "align": "file:///home/u/mine.py#cook",
                    "__default__": "pymod://xraydc.cooking#dRSM"},
    }  # fmt: skip
    with pytest.warns(UserWarning, match="nx5d 3.x spice not used") as caught:
        out = translate(spice, RsmSettings, "scan 2")  # RsmSettings: no motors
    message = str(caught[0].message)
    for what in ("sampleFaceUp", "roi", "sample_motors", "mine.py", "code locations are never run"):
        assert what in message
    assert out["recipes"] == {"by_type": {"sRSM": "rsm", "*": "delay-rsm"}}
    with pytest.warns(UserWarning, match="sampleFaceUp"):
        motors = translate(spice, MotorSettings, "scan 2")["settings"]
    assert motors["sample_motors"] == ["Theta"]
    assert motors["sample_axes"] == ["y+"]


def test_numbers_written_as_text_are_read_as_numbers():
    spice = {
        "exp_info": {"imageDistance": "690", "imageCenter": ["74", " 225.8 "], "beamEnergy": ["9000"],
                     "imageChannelSize": "0.172", "sampleNormal": ["1", 0, "0"], "beamDirection": [0, 0, "1"]},
        "qargs": {"groupby": "delay", "groupby_round": "2", "qsize": ["40", 50]},
    }  # fmt: skip
    settings = translate(spice, RsmSettings, "scan 3")["settings"]
    assert settings["img_distance"] == 690.0  # not 6.0, the first character of the text
    assert settings["img_center"] == [74.0, 225.8]
    assert settings["energy"] == 9000.0
    assert settings["pixel_size"] == [0.172, 0.172]
    assert settings["normal"] == [1.0, 0.0, 0.0]
    assert settings["inplane"] == [0.0, 0.0, 1.0]
    assert settings["group_step"] == {"delay": 0.01}
    assert settings["grid_size"] == [40, 50]
    RsmSettings(**settings)


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("exp_info", {"imageDistance": "690 mm"}, "exp_info.imageDistance"),
        ("image", {"imageDistance": "690mm"}, "image.imageDistance"),
        ("exp_info", {"imageCenter": ["74", "centre"]}, r"exp_info.imageCenter\[1\]"),
        ("exp_info", {"beamEnergy": "nan"}, "exp_info.beamEnergy"),
        ("exp_info", {"sampleNormal": [0, 0, 0]}, "exp_info.sampleNormal"),
        ("exp_info", {"sampleNormal": [0, 1]}, "exp_info.sampleNormal"),
        ("exp_info", {"beamDirection": [0.0, 0.0, 0.0]}, "exp_info.beamDirection"),
        ("qargs", {"groupby": "delay", "groupby_round": -400}, "qargs.groupby_round"),
        ("qargs", {"groupby": "delay", "groupby_round": 1.5}, "qargs.groupby_round"),
        ("qargs", {"qsize": [10, 0]}, r"qargs.qsize\[1\]"),
        ("qargs", {"qsize": "45"}, r"qargs.qsize must be a list"),  # not the sizes 4 and 5
        ("qargs", {"qsize": 45}, r"qargs.qsize must be a list"),
        ("exp_info", {"sampleNormal": [1.5e308, 1.5e308, 0]}, "exp_info.sampleNormal"),  # its length overflows
    ],
)
def test_impossible_nx5d3_values_are_validation_errors_naming_the_field(kind, data, field):
    with pytest.raises(SpiceValidationError, match=field):
        translate({kind: data}, RsmSettings, "scan 4")


def test_a_tiny_normal_is_a_direction_like_any_other():
    settings = translate({"exp_info": {"sampleNormal": ["1e-300", 0, 0], "beamDirection": [0, 1, 1]}}, RsmSettings, "s")
    assert settings["settings"]["inplane"] == pytest.approx([0.0, 2**-0.5, 2**-0.5])


def test_impossible_geometry_in_nx5d_settings_is_a_validation_error_naming_the_field():
    from nx5d.spice.schema import settings_from

    for field, value in (("normal", (0, 0, 0)), ("beam", (0.0, 0.0, 0.0)), ("img_distance", -5.0)):
        with pytest.raises(SpiceValidationError, match=field):
            settings_from(RsmSettings, {"settings": {field: value}}, "settings", "a map")
    with pytest.raises(SpiceValidationError, match="group_step"):
        settings_from(RsmSettings, {"settings": {"group_step": {"delay": -0.5}}}, "settings", "a map")
