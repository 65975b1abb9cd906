"""The scan index on a real PostgreSQL server: what one session reads, another finds there."""

from __future__ import annotations

import pytest

from nx5d_index.extension import scan_index

from .postgres import postgres_url
from .test_scan_index import session, write


@pytest.fixture(scope="module")
def server():
    with postgres_url() as url:
        yield url


@pytest.fixture
def on_server(server, monkeypatch):
    monkeypatch.setenv("NX5D_INDEX", server)
    monkeypatch.setattr(scan_index, "_given", None)
    scan_index.clear()
    yield server
    scan_index.clear()
    scan_index._database_.close()


def test_summaries_listings_and_search_from_a_postgresql_server(tmp_path, on_server):
    url = write(tmp_path / "data")
    first, toy = session(url)
    rows = first.p1.summaries()
    assert len(toy.summaries) == 3
    assert scan_index.location == on_server
    assert len(scan_index) == 3 + 2  # the summaries, the repository's and the proposal's listings
    assert scan_index.nbytes > 0
    again, toy = session(url)
    assert again.p1.summaries() == rows
    assert toy.summaries == []
    assert toy.listings == []
    found = again.search(type="ascan", sample="SrRuO3")
    assert [f"{p}/{s}" for p, s in found.index] == ["p1/1"]
    assert [f"{p}/{s}" for p, s in again.search(fresh=False, counters=["det"]).index] == ["p1/1", "p1/2", "p2/1"]
    write(tmp_path / "data", {"p1": ["1 ascan th 1 2 Si 2024-05-01T10:00:00 det changed"]})
    changed, toy = session(url)
    assert [r["notes"] for r in changed.p1.summaries()] == ["changed"]
    assert len(toy.summaries) == 1


def test_a_server_that_does_not_answer_leaves_the_index_off_with_a_warning(tmp_path, monkeypatch):
    from nx5d.errors import CacheWarning

    monkeypatch.setattr(scan_index, "_given", "postgresql://nobody:s3cret@127.0.0.1:9/none")
    url = write(tmp_path / "data")
    repo, _ = session(url)
    with pytest.warns(
        CacheWarning, match=r"cannot reach the scan index at postgresql://\*\*\*@127\.0\.0\.1:9/none"
    ) as caught:
        assert len(repo.p1.summaries()) == 3
    assert all("s3cret" not in str(w.message) for w in caught)
    monkeypatch.setattr(scan_index, "_given", None)
