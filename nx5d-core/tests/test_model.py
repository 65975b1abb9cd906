"""The object model through nx5d.open, served by the nx5d-memory plugin."""

import pytest
import xarray as xr

import nx5d
import nx5d_memory
from nx5d.errors import (
    HandleCollisionError,
    HandleNotFoundError,
    InvalidKeyError,
    OptionError,
    ProposalNotFoundError,
    ScanNotFoundError,
)

from .helpers import cells, make_scan


def test_listing_keys_and_handles(memory_url):
    repo = nx5d.open(memory_url)
    assert repo.beamline == "memory"
    assert repo.all() == {"20210205": "p20210205", "20210301": "p20210301"}
    assert repo.keys() == ["20210205", "20210301"]
    assert repo.handles() == ["p20210205", "p20210301"]
    proposal = repo.p20210205
    assert proposal.all() == {"9": "s9", "10": "s10", "091726": "s091726"}
    assert proposal.keys() == ["9", "10", "091726"]
    assert {"p20210205", "p20210301"} <= set(dir(repo))
    assert {"s9", "s10", "s091726"} <= set(dir(proposal))
    assert list(proposal) == ["9", "10", "091726"]
    assert len(proposal) == 3
    assert "9" in proposal


def test_access_by_key_and_handle_gives_the_same_cached_objects(memory_url):
    repo = nx5d.open(memory_url)
    assert repo["20210205"] is repo.p20210205 is repo.proposal(handle="p20210205")
    proposal = repo.p20210205
    assert proposal["9"] is proposal.s9 is proposal.scan(key="9") is proposal.scan(handle="s9")
    assert proposal.s9.key == "9"
    assert proposal.s9.handle == "s9"
    assert proposal.handle == "p20210205"
    assert dict(proposal.items())["10"] is proposal.s10


def test_urls(memory_url):
    repo = nx5d.open(memory_url)
    assert repo.url == memory_url
    assert repo.p20210205.url.endswith("/20210205/{scan}")
    assert repo.p20210205.s9.url == memory_url.replace("{proposal}", "20210205").replace("{scan}", "9")


def test_not_found_errors_name_the_place_and_suggest(memory_url):
    repo = nx5d.open(memory_url)
    with pytest.raises(ProposalNotFoundError, match=r"no proposal with key '20210206'.*did you mean 20210205"):
        repo["20210206"]
    with pytest.raises(HandleNotFoundError, match="did you mean p20210205") as info:
        repo.p20210206  # noqa: B018
    assert isinstance(info.value, AttributeError)
    assert not hasattr(repo, "p19990101")
    with pytest.raises(ScanNotFoundError, match="no scan with key '11'"):
        repo.p20210205["11"]
    with pytest.raises(InvalidKeyError):
        repo["../x"]
    with pytest.raises(TypeError, match="exactly one"):
        repo.proposal()


def test_summary_and_scan_table(memory_url):
    repo = nx5d.open(memory_url)
    scan = repo.p20210205.s10
    assert scan.summary == {"type": "rocking", "steps": 4, "notes": "4 frames"}
    text = repr(repo.p20210205)
    assert text.splitlines()[1].split() == ["scan", "handle", "type", "steps", "notes"]
    assert "091726  s091726  rocking  5      5 frames" in text
    html = repo.p20210205._repr_html_()
    assert "steps" in cells(html)
    assert "s091726" in cells(html)
    assert "p20210301" in repr(repo)
    assert "p20210301" in cells(repo._repr_html_())
    assert "not loaded" in repr(scan)
    assert "steps" in scan._repr_html_()


def test_raw_is_kept_read_only_and_not_shared_with_storage(memory_url):
    repo = nx5d.open(memory_url)
    scan = repo.p20210205.s9
    raw = scan.raw
    assert isinstance(raw, xr.Dataset)
    assert scan.raw is not raw  # each one the user's own copy, over the same read-only arrays
    assert scan.raw.identical(raw)
    with pytest.raises(ValueError, match="copy"):
        raw["intensity"][0] = -1.0  # editing in place would change what scan.cooked computes
    with pytest.raises(ValueError, match="read-only"):
        raw.intensity.values[0] = -1.0
    mine = raw.copy(deep=True)
    mine["intensity"][0] = -1.0  # a copy is the user's own
    assert scan.raw.intensity.values[0] == 1.0
    assert list(scan.cooked.values) == [2.0, 4.0, 6.0]
    raw["intensity"] = raw.intensity * 0  # the user's copy: what scan.raw and scan.cooked start from stays
    assert list(scan.raw.intensity.values) == [1.0, 2.0, 3.0]
    assert list(scan.cooked.values) == [2.0, 4.0, 6.0]


def test_raw_data_of_all_scans_is_bounded_by_the_cache_limit(memory_url, monkeypatch):
    monkeypatch.setattr(nx5d.raw_cache, "_limit", 150)  # bytes: room for two of these scans' arrays, not three
    proposal = nx5d.open(memory_url).p20210205
    first = proposal["091726"].raw  # 2 x 5 floats: 80 bytes
    proposal.s10.raw  # noqa: B018 - 64 bytes: both fit
    (kept,) = nx5d.raw_cache.holds(proposal["091726"]._nx5d_cache_owner)
    assert kept.identical(first)
    proposal.s9.raw  # noqa: B018 - 48 bytes more: the least recently used goes
    assert nx5d.raw_cache.holds(proposal["091726"]._nx5d_cache_owner) == []
    assert nx5d.raw_cache.nbytes <= 150
    again = proposal["091726"].raw
    assert again is not first
    assert again.identical(first)
    nx5d.raw_cache.limit = "0B"  # keeps nothing, reloads every time
    assert proposal.s9.raw is not proposal.s9.raw
    nx5d.raw_cache.limit = 150


def test_cooked_uses_default_spice_and_recooks_when_spice_changes(memory_url):
    repo = nx5d.open(memory_url)
    scan = repo.p20210205.s10
    assert scan.spice["scale"].factor == 2.0
    cooked = scan.cooked
    assert list(cooked.values) == [4.0, 6.0, 8.0, 10.0]
    assert scan.cooked.identical(cooked)
    other = scan.cook(spice={"scale": {"factor": 3}})
    assert list(other.values) == [6.0, 9.0, 12.0, 15.0]
    assert scan.cook(spice={"scale": {"factor": 3}}).identical(other)


def test_unknown_loading_options_are_refused(memory_url):
    repo = nx5d.open(memory_url)
    with pytest.raises(OptionError, match="reduce"):
        repo.p20210205.s10.load(reduce=2)
    with pytest.raises(OptionError, match="reduce"):
        nx5d.open(memory_url, reduce=2)


def test_new_scans_are_found_on_access(request):
    name = "test-new-scans"
    data = {"p": {"1": make_scan(2)}}
    url = nx5d_memory.register(name, data)
    request.addfinalizer(lambda: nx5d_memory.unregister(name))
    repo = nx5d.open(url)
    proposal = repo.p
    assert proposal.keys() == ["1"]
    nx5d_memory.register(name, {"p": {"1": make_scan(2), "2": make_scan(3)}}, replace=True)
    assert proposal.s2.summary["steps"] == 3
    assert proposal["2"].key == "2"


def test_custom_key_to_handle_rules(memory_url):
    repo = nx5d.open(memory_url, proposal_k2h=lambda k: f"x{k}", scan_k2h=lambda k: f"r{k}")
    assert repo.all() == {"20210205": "x20210205", "20210301": "x20210301"}
    assert repo.x20210205.r091726.key == "091726"


def test_handle_collisions_are_errors_but_keys_still_work(request):
    url = nx5d_memory.register("test-collide", {"p": {"a-1": make_scan(1), "a_1": make_scan(2)}})
    request.addfinalizer(lambda: nx5d_memory.unregister("test-collide"))
    proposal = nx5d.open(url).p
    with pytest.raises(HandleCollisionError, match="'a-1' and 'a_1'"):
        proposal.a_1  # noqa: B018
    assert proposal["a_1"].summary["steps"] == 2


def test_unregistered_memory_repository_is_reported():
    repo = nx5d.open("memory://nobody/{proposal}/{scan}")
    with pytest.raises(nx5d.errors.MissingDataError, match="no in-memory repository named 'nobody'"):
        repo.keys()
    assert "listing failed" in repr(repo)


def test_repositories_and_proposals_read_like_mappings(memory_url):
    from collections.abc import Mapping

    repo = nx5d.open(memory_url, spice_url="")
    assert isinstance(repo, Mapping)
    assert isinstance(repo["20210205"], Mapping)
    proposal = repo["20210205"]
    assert [scan.key for scan in proposal.values()] == proposal.keys()
    assert dict(proposal.items()).keys() == set(proposal.keys())
    assert "9" in proposal
    assert "nine" not in proposal
    assert len(proposal) == 3
    assert proposal.get("9").key == "9"
    assert proposal.get("nine") is None
    assert hash(repo) == hash(repo)  # still hashable, compared by identity


def test_star_import_leaves_the_builtin_open_alone():
    namespace = {}
    exec("from nx5d import *", namespace)
    assert "open" not in namespace
    assert "Repository" in namespace


def test_a_scan_table_of_times_with_and_without_a_zone_gives_them_in_local_time():
    import datetime

    import pandas as pd

    from nx5d.model.scantable import scan_frame

    rows = [
        {"scan": "1", "start": "2015-06-25T16:41:23+00:00"},  # a Bluesky SPEC file's #D line
        {"scan": "2", "start": "2015-06-25T16:41:23"},
        {"scan": "3", "start": None},
    ]
    start = scan_frame(rows)["start"]
    utc = datetime.datetime(2015, 6, 25, 16, 41, 23, tzinfo=datetime.UTC)
    assert list(start[:2]) == [
        pd.Timestamp(utc.astimezone().replace(tzinfo=None)),
        pd.Timestamp(2015, 6, 25, 16, 41, 23),
    ]
    assert start.isna().tolist() == [False, False, True]
