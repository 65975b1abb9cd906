"""URL patterns: parsing, filling, matching, and their errors."""

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nx5d.addressing.url import UrlPattern
from nx5d.errors import InvalidKeyError, UrlPatternError

REFERENCE_URLS = [
    "file:///tmp/drepo/{proposal}/data.h5#{scan}",
    "file:///tmp/drepo/{proposal}/{proposal}.h5#{proposal}/{scan}",
    "file:///tmp/drepo.hdf#{proposal}/{scan}",
    "file:///tmp/drepo/{proposal}/{proposal}-{scan}.h5#data/",
]


@pytest.mark.parametrize(
    ("text", "scan_url", "level", "document", "anchor"),
    [
        (
            REFERENCE_URLS[0],
            "file:///tmp/drepo/20210205/data.h5#091726",
            "proposal",
            "file:///tmp/drepo/{proposal}/data.h5",
            "{scan}",
        ),
        (
            REFERENCE_URLS[1],
            "file:///tmp/drepo/20210205/20210205.h5#20210205/091726",
            "proposal",
            "file:///tmp/drepo/{proposal}/{proposal}.h5",
            "{proposal}/{scan}",
        ),
        (
            REFERENCE_URLS[2],
            "file:///tmp/drepo.hdf#20210205/091726",
            "repository",
            "file:///tmp/drepo.hdf",
            "{proposal}/{scan}",
        ),
        (
            REFERENCE_URLS[3],
            "file:///tmp/drepo/20210205/20210205-091726.h5#data/",
            "scan",
            "file:///tmp/drepo/{proposal}/{proposal}-{scan}.h5",
            "data/",
        ),
    ],
)
def test_reference_urls_round_trip(text, scan_url, level, document, anchor):
    pattern = UrlPattern(text)
    assert pattern.text == text
    assert pattern.fields == {"proposal", "scan"}
    assert pattern.document_level == level
    assert pattern.document == document
    assert pattern.anchor == anchor
    url = pattern.format(proposal="20210205", scan="091726")
    assert url == scan_url
    assert pattern.match(url) == {"proposal": "20210205", "scan": "091726"}
    partially = pattern.fill(proposal="20210205")
    assert partially.fields == {"scan"}
    assert partially.format(scan="091726") == scan_url


def test_repeated_keys_must_agree():
    pattern = UrlPattern(REFERENCE_URLS[1])
    assert pattern.match("file:///tmp/drepo/a/a.h5#a/1") == {"proposal": "a", "scan": "1"}
    assert pattern.match("file:///tmp/drepo/a/b.h5#a/1") is None
    assert pattern.match("file:///tmp/drepo/a/a.h5#b/1") is None


def test_match_rejects_urls_of_other_shapes():
    pattern = UrlPattern("file:///data/{proposal}/{scan}")
    assert pattern.match("file:///data/a/b/c") is None
    assert pattern.match("file:///other/a/b") is None
    assert pattern.match("s3:///data/a/b") is None


def test_keys_with_separators_parse_back_via_later_repeats():
    pattern = UrlPattern("file:///r/{proposal}/{proposal}-{scan}.h5")
    url = pattern.format(proposal="a-b", scan="c-d")
    assert pattern.match(url) == {"proposal": "a-b", "scan": "c-d"}


def test_separator_between_first_captures_restricts_keys():
    pattern = UrlPattern("file:///r/{proposal}-{scan}.h5#x")
    with pytest.raises(InvalidKeyError, match="separates"):
        pattern.fill(proposal="a-b")
    assert pattern.match(pattern.format(proposal="ab", scan="c-d")) == {"proposal": "ab", "scan": "c-d"}


def test_escaped_braces_are_literal():
    pattern = UrlPattern("file:///d/{{x}}/{proposal}/{scan}")
    assert pattern.format(proposal="p", scan="s") == "file:///d/{x}/p/s"
    assert pattern.match("file:///d/{x}/p/s") == {"proposal": "p", "scan": "s"}


def test_other_schemes():
    pattern = UrlPattern("s3://bucket/udkm/{proposal}/{scan}")
    assert (pattern.scheme, pattern.netloc) == ("s3", "bucket")
    assert pattern.format(proposal="1", scan="2") == "s3://bucket/udkm/1/2"
    assert UrlPattern("https://host:8080/x/{proposal}/{scan}").netloc == "host:8080"
    assert UrlPattern("memory://demo/{proposal}/{scan}").prefix == "memory://demo"
    assert UrlPattern("tiled://h/{proposal}/{scan}", schemes={"tiled"}).scheme == "tiled"


def test_glob():
    pattern = UrlPattern(REFERENCE_URLS[3])
    assert pattern.glob() == "file:///tmp/drepo/*/*-*.h5"
    assert pattern.glob(proposal="p") == "file:///tmp/drepo/p/p-*.h5"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/tmp/{proposal}/{scan}", "does not start with 'scheme://'"),
        ("ftp:///tmp/{proposal}/{scan}", "unknown URL scheme 'ftp'"),
        ("file:///tmp/{proposal/{scan}", "unbalanced '{' at position 12"),
        ("file:///tmp/{proposal}}/{scan}", "unbalanced '}'"),
        ("file:///tmp/proposal}/{scan}", "unbalanced '}' at position 20"),
        ("file:///tmp/{proposal", "unbalanced '{'"),
        ("file:///tmp/{experiment}/{scan}", "unknown placeholder {experiment}"),
        ("file:///tmp/{}/{scan}", "unknown placeholder {}"),
        ("file:///tmp/{proposal}/{scan:03d}", "format specifications"),
        ("file:///tmp/{proposal}/", "must contain {scan}"),
        ("file:///tmp/{scan}", "must contain {proposal}"),
        ("file:///tmp/{proposal}#{scan}#x", "more than one '#'"),
        ("s3://{proposal}/{scan}", "not allowed in the location"),
        ("file://tmp/{proposal}/{scan}", "three slashes"),
        ("file:///tmp/{proposal}{scan}", "touch without a separator"),
    ],
)
def test_malformed_patterns_name_the_fault(text, message):
    with pytest.raises(UrlPatternError, match=re.escape(message)):
        UrlPattern(text)


def test_adjacent_placeholders_are_fine_when_one_is_a_repeat():
    pattern = UrlPattern("file:///d/{proposal}/{proposal}{scan}.h5")
    assert pattern.match(pattern.format(proposal="p1", scan="07")) == {"proposal": "p1", "scan": "07"}


def test_non_string_pattern():
    with pytest.raises(UrlPatternError):
        UrlPattern(42)  # type: ignore[arg-type]


def test_format_needs_every_key():
    with pytest.raises(InvalidKeyError, match="needs scan"):
        UrlPattern(REFERENCE_URLS[0]).format(proposal="p")
    with pytest.raises(InvalidKeyError, match="unknown placeholder"):
        UrlPattern(REFERENCE_URLS[0]).fill(beamtime="x")
    with pytest.raises(UrlPatternError, match="still has placeholders"):
        UrlPattern(REFERENCE_URLS[0]).url  # noqa: B018


# --- property-based ---------------------------------------------------------------

key_alphabet = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\#{}*?[]\x00")
keys = st.text(key_alphabet, min_size=1, max_size=12)

literal = st.text(st.sampled_from("abcXYZ019_-.~ "), min_size=1, max_size=4)


@st.composite
def patterns(draw):
    """Random patterns: path and anchor segments mixing literals and placeholders."""

    def segment(fields):
        parts = []
        for field in fields:
            if draw(st.booleans()):
                parts.append(draw(literal))
            parts.append("{" + field + "}")
            parts.append(draw(literal))  # every placeholder is followed by a separator
        if draw(st.booleans()):
            parts.append(draw(literal))
        return "".join(parts) or draw(literal)

    layout = draw(
        st.lists(st.sampled_from([(), ("proposal",), ("scan",), ("proposal", "scan")]), min_size=1, max_size=4)
    )
    if not any("proposal" in f for f in layout):
        layout.insert(0, ("proposal",))
    if not any("scan" in f for f in layout):
        layout.append(("scan",))
    cut = draw(st.integers(1, len(layout)))
    path = "/".join(segment(f) for f in layout[:cut])
    anchor = "/".join(segment(f) for f in layout[cut:])
    return "file:///root/" + path + ("#" + anchor if anchor or draw(st.booleans()) else "")


@given(st.sampled_from(REFERENCE_URLS), keys, keys)
def test_fill_then_parse_reference_patterns(text, proposal, scan):
    pattern = UrlPattern(text)
    assume(pattern.is_legal_key("proposal", proposal) and pattern.is_legal_key("scan", scan))
    assert pattern.match(pattern.format(proposal=proposal, scan=scan)) == {"proposal": proposal, "scan": scan}


@given(patterns(), keys, keys)
def test_fill_then_parse_random_patterns(text, proposal, scan):
    pattern = UrlPattern(text)
    assume(pattern.is_legal_key("proposal", proposal) and pattern.is_legal_key("scan", scan))
    url = pattern.format(proposal=proposal, scan=scan)
    assert pattern.match(url) == {"proposal": proposal, "scan": scan}
    assert UrlPattern(text).fill(proposal=proposal).match(url) == {"scan": scan}
    assert url == pattern.fill(proposal=proposal, scan=scan).url  # format writes what the filled pattern says


@given(
    st.sampled_from(REFERENCE_URLS),
    st.sampled_from(["proposal", "scan"]),
    keys,
    keys,
    st.sampled_from(["/", "..", "\x00"]),
)
def test_keys_escaping_the_root_are_rejected(text, field, before, after, bad):
    with pytest.raises(InvalidKeyError):
        UrlPattern(text).fill(**{field: before + bad + after})


@pytest.mark.parametrize("bad", ["..", "../etc", "a/b", "a\x00b", "", " lead", "x#y", "{scan}", "a*", "tab\t"])
def test_bad_keys_are_rejected_with_a_reason(bad):
    with pytest.raises(InvalidKeyError, match="is not acceptable"):
        UrlPattern(REFERENCE_URLS[0]).fill(proposal=bad)
