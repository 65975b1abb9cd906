"""Naming rules as templates, and keys that span folders."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nx5d.addressing.handles import sanitize
from nx5d.addressing.listing import list_keys
from nx5d.addressing.templates import KeyTemplate, Naming, handle_from_template
from nx5d.addressing.url import UrlPattern
from nx5d.errors import InvalidKeyError, OptionError, UrlPatternError
from nx5d.io.storage import Storage

NAME = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=8)


def test_key_templates_parse_keys_into_parts():
    assert KeyTemplate("20{pdate}_{material}").parse("202403_STO") == {"pdate": "2403", "material": "STO"}
    assert KeyTemplate("{number:d}.{order:d}").parse("37.1") == {"number": 37, "order": 1}
    assert KeyTemplate("{number:d}.{order:d}").parse("x.1") is None
    assert KeyTemplate("20{sdate}/{stime}").levels == 2
    for bad in ("", "{a}{b}", "{a}/{a}", "a//b", "{a", "{a:x}"):
        with pytest.raises(OptionError):
            KeyTemplate(bad)


@given(NAME, NAME)
def test_handles_are_made_from_the_parts(material, pdate):
    rule = handle_from_template("{material}_{pdate}", KeyTemplate("20{pdate}_{material}"), "p")
    handle = rule(f"20{pdate}_{material}")
    assert handle == sanitize(f"{material}_{pdate}", "p")
    assert handle.isidentifier()
    assert rule("not-a-proposal") == "not_a_proposal"  # keys the template does not fit: the default rule


def test_handle_templates_only_name_known_parts():
    assert handle_from_template("r{number:04d}", KeyTemplate("{number:d}.{order:d}"), "s")("37.1") == "r0037"
    with pytest.raises(OptionError, match="names scan"):
        handle_from_template("r{scan}", KeyTemplate("{number:d}.{order:d}"), "s")
    with pytest.raises(OptionError):
        Naming(scan_handle=42)


@given(st.lists(NAME, min_size=2, max_size=2))
def test_spanning_keys_fill_and_match_back(parts):
    pattern = UrlPattern("file:///data/{proposal}/{scan}", spans={"scan": 2})
    key = "/".join(parts)
    url = pattern.format(proposal="p1", scan=key)
    assert url == f"file:///data/p1/{key}"
    assert pattern.match(url) == {"proposal": "p1", "scan": key}


def test_spanning_keys_are_checked_part_by_part():
    pattern = UrlPattern("file:///data/{proposal}/{scan}", spans={"scan": 2})
    for bad in ("one", "a/b/c", "a/..", "a/", "/b"):
        with pytest.raises(InvalidKeyError):
            pattern.check_key("scan", bad)
    with pytest.raises(UrlPatternError, match="must fill whole segments"):
        UrlPattern("file:///data/{proposal}/x{scan}", spans={"scan": 2})


def test_listing_walks_the_folders_a_key_spans(tmp_path):
    for path in ("p1/20240311/141502", "p1/20240311/150000", "p1/20240312/093000", "p1/loose.txt"):
        (tmp_path / path).mkdir(parents=True) if "." not in path else (tmp_path / path).write_text("x")
    (tmp_path / "p1" / "20240313").mkdir()  # an empty day: no scan
    pattern = UrlPattern(f"file://{tmp_path}/{{proposal}}/{{scan}}", spans={"scan": 2})
    keys = list_keys(pattern, "scan", storage=Storage(), known={"proposal": "p1"})
    assert keys == ["20240311/141502", "20240311/150000", "20240312/093000"]
    only = list_keys(
        pattern, "scan", storage=Storage(), known={"proposal": "p1"}, key_patterns={"scan": r"\d{8}/14\d{4}"}
    )
    assert only == ["20240311/141502"]
