"""Keys (validation, natural order) and handles (rules, maps, collisions)."""

import keyword

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nx5d.addressing.handles import HandleMap, build_handles, is_valid_handle, prefixed, sanitize
from nx5d.addressing.keys import is_valid_key, natural_sort_key, natural_sorted, select_keys, validate_key
from nx5d.errors import HandleCollisionError, HandleError, InvalidKeyError, OptionError


def test_natural_order_puts_numbers_in_numeric_order():
    assert natural_sorted(["10", "9", "100", "1"]) == ["1", "9", "10", "100"]
    assert natural_sorted(["10.1", "2.1", "2.10", "2.2"]) == ["2.1", "2.2", "2.10", "10.1"]
    assert natural_sorted(["scan10", "scan9", "Scan1"]) == ["Scan1", "scan9", "scan10"]
    assert natural_sorted(["091726", "101500", "091800"]) == ["091726", "091800", "101500"]


@given(st.lists(st.text(st.sampled_from("ab019._"), max_size=6)))
def test_natural_order_is_a_total_order(items):
    once = natural_sorted(items)
    assert natural_sorted(reversed(once)) == once
    assert sorted(once) == sorted(items)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_numbers_compare_by_value(a, b):
    assert (natural_sort_key(str(a)) < natural_sort_key(str(b))) == (a < b)


@pytest.mark.parametrize("key", ["20210205", "091726", "2.1", "253-cw38-12345-doe", "a b", "ü"])
def test_valid_keys(key):
    assert validate_key(key) == key
    assert is_valid_key(key)


@pytest.mark.parametrize("key", ["", "..", "a/../b", "/", "x\\y", "\x00", "a#b", "{p}", " a", "a\n", 3, None])
def test_invalid_keys(key):
    assert not is_valid_key(key)
    with pytest.raises(InvalidKeyError, match="scan key"):
        validate_key(key, "scan key")


def test_sanitize():
    assert sanitize("091726", "r") == "r091726"
    assert sanitize("2.1", "s") == "s2_1"
    assert sanitize("alpha") == "alpha"
    assert sanitize("253-cw38-12345-doe", "p") == "p253_cw38_12345_doe"
    assert sanitize("class") == "class_"
    assert sanitize("_hidden", "s") == "s_hidden"
    assert sanitize("ü", "s") == "s_"


@given(st.text(min_size=1, max_size=20), st.sampled_from(["p", "s", "x"]))
def test_sanitize_always_gives_a_valid_handle(key, prefix):
    handle = sanitize(key, prefix)
    assert is_valid_handle(handle)
    assert not keyword.iskeyword(handle)


def test_prefixed_rule_like_the_reference_page():
    assert prefixed("p")("20210205") == "p20210205"
    assert prefixed("r")("091726") == "r091726"


def test_handle_map_lookup_both_ways():
    hmap = HandleMap({"20210205": "p20210205", "20210206": "p20210206"}, what="proposal")
    assert hmap.key_of("p20210206") == "20210206"
    assert hmap.handle_of("20210205") == "p20210205"
    assert hmap.key_of("nope") is None
    assert hmap.keys() == ["20210205", "20210206"]
    assert hmap.handles() == ["p20210205", "p20210206"]
    assert "20210205" in hmap
    assert len(hmap) == 2


def test_handle_collisions_are_reported_not_merged():
    with pytest.raises(HandleCollisionError, match=r"'a-1' and 'a_1' .* both have handle 'a_1'"):
        HandleMap(build_handles(["a-1", "a_1"], sanitize), what="scan", where="proposal x")


def test_invalid_and_reserved_handles_are_reported():
    with pytest.raises(HandleError, match="not a valid Python identifier"):
        HandleMap({"1": "1"})
    with pytest.raises(HandleError, match="already an attribute name"):
        HandleMap({"keys": "keys"}, reserved={"keys"})


def test_failing_rule_names_the_key():
    def rule(key):
        raise ValueError("boom")

    with pytest.raises(HandleError, match="failed for scan key 'x'"):
        build_handles(["x"], rule)


SCAN_KEYS = ["1.1", "2.1", "10.1", "11.1"]


def test_keys_are_chosen_by_glob_or_by_name():
    assert select_keys(SCAN_KEYS, None) == SCAN_KEYS
    assert select_keys(SCAN_KEYS, "1*") == ["1.1", "10.1", "11.1"]
    assert select_keys(SCAN_KEYS, ["10.1", "2.1"]) == ["10.1", "2.1"]
    with pytest.raises(OptionError, match=r"no scan key matches '3\*'"):
        select_keys(SCAN_KEYS, "3*")
    with pytest.raises(OptionError, match=r"no scan\(s\) 9.1"):
        select_keys(SCAN_KEYS, ["9.1"])
