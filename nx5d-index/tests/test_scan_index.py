"""The scan index: listings and summaries remembered in SQLite across sessions, searched, never trusted blindly."""

from __future__ import annotations

import os
import sqlite3
import stat
import warnings

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import nx5d
import nx5d_index.extension
import nx5d_memory
from nx5d.errors import CacheWarning, OptionError
from nx5d.plugins import Beamline, ClaimLevel
from nx5d.plugins.discovery import PluginRegistry
from nx5d_index.extension import FILE_NAME, ScanIndex, scan_index

LINES = {
    "p1": [
        "1 ascan th 10 20 SrRuO3 2024-03-01T10:00:00 det,mon align the sample",
        "2 dscan tth 30 32 SrRuO3 2024-03-01T11:00:00 det check the peak",
        "3 mesh chi -5 5 LSMO 2024-03-02T09:00:00 mon,diode map",
    ],
    "p2": [
        "1 ascan th 40 41 LSMO 2024-04-10T08:00:00 det,pilatus rocking curve",
        "2 timescan none 0 0 Si 2024-04-11T08:00:00 diode dark frames",
    ],
}


class Toy:
    """A beamline of text files: one ``PROPOSAL.scans`` file per proposal, one line per scan; counts what it reads."""

    NX5D_PLUGIN_API = 2
    NX5D_BEAMLINE = Beamline(
        "text files for the scan index tests",
        url_examples=("file:///…/{proposal}.scans#{scan}",),
        suffixes=(".scans",),
        level=ClaimLevel.BEAMLINE,
    )

    def __init__(self):
        self.summaries: list[str] = []
        self.listings: list[str] = []

    @staticmethod
    def _lines(document):
        return document.storage.read_bytes(document.url).decode().splitlines()

    @nx5d.hookimpl
    def nx5d_list_anchor(self, document, path):
        self.listings.append(document.url)
        return [] if path else [line.split()[0] for line in self._lines(document)]

    @nx5d.hookimpl
    def nx5d_summary(self, scan):
        self.summaries.append(scan.url)
        for line in self._lines(scan.document_ref):
            key, kind, motor, low, high, sample, start, counters, *text = line.split()
            if key == scan.key:
                return {
                    "type": kind,
                    "steps": 3,
                    "notes": " ".join(text),
                    "start": start,
                    "motor": motor,
                    "range": [float(low), float(high)],
                    "sample": sample,
                    "counters": counters.split(","),
                }
        raise nx5d.errors.MissingDataError(f"{scan.url}: no scan {scan.key}")


def write(root, lines=LINES):
    root.mkdir(exist_ok=True)
    for proposal, rows in lines.items():
        (root / f"{proposal}.scans").write_text("\n".join(rows) + "\n")
    return f"file://{root}/{{proposal}}.scans#{{scan}}"


@pytest.fixture
def index(tmp_path, monkeypatch):
    """A scan index of the test's own, in a folder named by NX5D_INDEX."""
    folder = tmp_path / "index"
    folder.mkdir()
    monkeypatch.setenv("NX5D_INDEX", str(folder))
    monkeypatch.setattr(scan_index, "_given", None)
    return folder / FILE_NAME


def toy_registry(toy, **status):
    """A registry of its own holding the beamline ``toy`` and the index's extension (as installed: by entry point)."""
    registry = PluginRegistry(discover=False)
    registry.register_beamline("toy", toy, **status)
    registry.register_extension(nx5d_index.extension, "scan_index")
    return registry


def session(url):
    """A new session: a registry of its own, nothing kept in memory."""
    toy = Toy()
    registry = toy_registry(toy, distribution="nx5d-toy", version="1.0")
    return nx5d.open(url, beamline="toy", registry=registry, spice_url=""), toy


def test_a_new_session_lists_and_summarises_from_the_index(tmp_path, index):
    url = write(tmp_path / "data")
    first, toy = session(url)
    rows = first.p1.summaries()
    assert len(toy.summaries) == 3
    assert len(toy.listings) == 1
    assert index.exists()
    again, toy = session(url)
    assert again.p1.summaries() == rows
    assert toy.summaries == []
    assert toy.listings == []
    assert list(rows[0]) == [
        "scan",
        "handle",
        "type",
        "steps",
        "notes",
        "start",
        "motor",
        "range",
        "sample",
        "counters",
    ]
    assert again.p1.scan("1").summary["range"] == [10.0, 20.0]
    assert toy.summaries == []


def test_a_changed_file_is_read_again_and_nothing_else(tmp_path, index):
    url = write(tmp_path / "data")
    first, _ = session(url)
    for proposal in ("p1", "p2"):
        first[proposal].summaries()
    changed = {**LINES, "p2": [*LINES["p2"], "3 ascan th 1 2 Si 2024-04-12T08:00:00 det new scan"]}
    write(tmp_path / "data", {"p2": changed["p2"]})
    again, toy = session(url)
    assert [r["scan"] for r in again.p1.summaries()] == ["1", "2", "3"]
    assert [r["scan"] for r in again.p2.summaries()] == ["1", "2", "3"]
    assert {u.partition("#")[0].rsplit("/", 1)[1] for u in toy.summaries} == {"p2.scans"}
    assert len(toy.summaries) == 3  # the changed document's scans, read once
    assert [u.rsplit("/", 1)[1] for u in toy.listings] == ["p2.scans"]


def test_search_by_type_motor_range_sample_time_counters_and_text(tmp_path, index):
    repo, _ = session(write(tmp_path / "data"))

    def found(proposals="*", **criteria):
        return [f"{p}/{s}" for p, s in repo.search(proposals, **criteria).index]

    assert found(type="ascan") == ["p1/1", "p2/1"]
    assert found(type="*scan", motor="th") == ["p1/1", "p2/1"]
    assert found(motor="th", range=(15, 16)) == ["p1/1"]
    assert found(range=40.5) == ["p2/1"]
    assert found(sample="lsmo") == ["p1/3", "p2/1"]
    assert found(since="2024-03-01T10:30", until="2024-04-01") == ["p1/2", "p1/3"]
    assert found(counters=["det", "MON"]) == ["p1/1"]
    assert found(text="the") == ["p1/1", "p1/2"]
    assert found(text="dark FRAMES") == ["p2/2"]
    assert found(type="ascan", sample="SrRuO3", text="align") == ["p1/1"]
    assert found(type="nothing") == []
    assert found("p2", type="ascan") == ["p2/1"]
    frame = repo.p1.search(motor="chi")
    assert list(frame.index) == ["3"]
    assert frame.loc["3", "sample"] == "LSMO"
    assert str(frame["start"].dtype).startswith("datetime64")
    with pytest.raises(OptionError, match="not a time: 'yesterday'"):
        repo.search(since="yesterday")
    with pytest.raises(OptionError, match="a range is a number or two numbers"):
        repo.search(range="wide")


def test_search_without_looking_at_the_files(tmp_path, index):
    url = write(tmp_path / "data")
    repo, _ = session(url)
    assert len(repo.search(fresh=False)) == 0  # nothing indexed yet
    repo.search()
    (tmp_path / "data" / "p2.scans").unlink()
    again, toy = session(url)
    kept = again.search(fresh=False, type="ascan")
    assert [f"{p}/{s}" for p, s in kept.index] == ["p1/1", "p2/1"]  # as the index holds it: p2 is gone meanwhile
    assert toy.summaries == []
    assert toy.listings == []
    assert [f"{p}/{s}" for p, s in again.search(type="ascan").index] == ["p1/1"]


def test_summaries_of_data_in_memory_are_not_kept(tmp_path, index):
    from nx5d_memory.examples import rocking_scan

    url = nx5d_memory.register("index-test", {"20210205": {"1": rocking_scan(3), "2": rocking_scan(2)}})
    try:
        assert len(nx5d.open(url)["20210205"].summaries()) == 2
    finally:
        nx5d_memory.unregister("index-test")
    assert len(scan_index) == 0  # nothing read from files: no identity, nothing kept


def test_the_installed_extension_is_found_by_its_entry_point_and_can_be_switched_off(tmp_path, index):
    registry = PluginRegistry()
    registry.register_beamline("toy", Toy())
    found = [s for s in registry.statuses() if s.kind == "extension" and s.name == "scan_index"]
    assert [(s.distribution, s.state) for s in found] == [("nx5d-index", "loaded")]
    url = write(tmp_path / "data")
    assert len(nx5d.open(url, beamline="toy", registry=registry, spice_url="").p1.summaries()) == 3
    assert len(scan_index) == 3 + 2  # the summaries, the repository's and the proposal's listings
    scan_index.clear()
    registry.unregister("scan_index")  # like pytest -p no:cacheprovider
    assert len(nx5d.open(url, beamline="toy", registry=registry, spice_url="").p1.summaries()) == 3
    assert len(scan_index) == 0


def _truth(url):
    repo, _ = session(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {p: repo[p].summaries() for p in ("p1", "p2")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=64)), max_size=6))
def test_a_damaged_index_never_gives_a_wrong_row_nor_fails(tmp_path_factory, damage):
    root = tmp_path_factory.mktemp("damaged")
    url = write(root / "data")
    location = root / "index.sqlite3"
    scan_index.location = location
    try:
        truth = _truth(url)  # builds the index
        scan_index._database_.close()
        blob = bytearray(location.read_bytes())
        for where, junk in damage:
            at = int(where * len(blob))
            blob[at : at + len(junk)] = junk
        location.write_bytes(bytes(blob[: max(len(blob), 1)]))
        for suffix in ("-wal", "-shm"):
            if os.path.exists(f"{location}{suffix}"):
                os.unlink(f"{location}{suffix}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CacheWarning)
            repo, _ = session(url)
            assert {p: repo[p].summaries() for p in ("p1", "p2")} == truth
            assert [f"{p}/{s}" for p, s in repo.search(type="ascan").index] == ["p1/1", "p2/1"]
            assert _truth(url) == truth  # and what it keeps afterwards is right too
    finally:
        scan_index.location = None


def test_a_file_that_is_no_index_is_replaced_with_a_warning(tmp_path, index):
    url = write(tmp_path / "data")
    index.write_bytes(b"these are not the bytes of a database" * 100)
    repo, toy = session(url)
    with pytest.warns(CacheWarning, match=r"scan index .*damaged.*built anew"):
        rows = repo.p1.summaries()
    assert len(rows) == 3
    assert len(toy.summaries) == 3
    again, toy = session(url)
    assert again.p1.summaries() == rows
    assert toy.summaries == []


def test_a_row_whose_bytes_changed_is_read_again(tmp_path, index):
    url = write(tmp_path / "data")
    repo, _ = session(url)
    rows = repo.p1.summaries()
    scan_index._database_.close()
    with sqlite3.connect(index) as db:  # a wrong summary, its digest left as it was
        db.execute("UPDATE nx5d_index SET value = replace(value, 'SrRuO3', 'Forged') WHERE kind = 'summary'")
    again, toy = session(url)
    with pytest.warns(CacheWarning, match=r"2 damaged row\(s\) of the scan index"):
        assert again.p1.summaries() == rows
    assert len(toy.summaries) == 2


def test_an_index_that_cannot_be_written_is_left_alone_with_a_warning(tmp_path, monkeypatch):
    url = write(tmp_path / "data")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(scan_index, "_given", str(blocker / "below" / "index.sqlite3"))
    repo, _toy = session(url)
    with pytest.warns(CacheWarning, match="cannot create the scan index"):
        assert len(repo.p1.summaries()) == 3
    assert not scan_index.enabled
    assert "not usable in this session" in repr(scan_index)
    monkeypatch.setattr(scan_index, "_given", None)


def test_the_default_index_is_private_and_holds_no_credentials(tmp_path, monkeypatch):
    url = write(tmp_path / "data")
    monkeypatch.delenv("NX5D_INDEX", raising=False)
    monkeypatch.setenv("NX5D_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(scan_index, "_given", None)
    assert scan_index.location == str(tmp_path / "cache" / "index.sqlite3")
    assert scan_index.private
    registry = toy_registry(Toy())
    repo = nx5d.open(url, beamline="toy", registry=registry, storage_options={"secret": "hunter2"}, spice_url="")
    repo.search()
    path = tmp_path / "cache" / "index.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    scan_index._database_.close()
    stored = b"".join(p.read_bytes() for p in path.parent.glob("index.sqlite3*"))
    assert b"SrRuO3" in stored
    assert b"hunter2" not in stored
    assert scan_index.nbytes > 0
    assert len(scan_index) == 8


def test_where_the_index_is(tmp_path, monkeypatch):
    index = ScanIndex()
    monkeypatch.setenv("NX5D_INDEX", "off")
    assert index.location is None
    assert not index.enabled
    assert repr(index) == "ScanIndex(off)"
    monkeypatch.setenv("NX5D_INDEX", f"file://{tmp_path}")
    assert index.location == str(tmp_path / FILE_NAME)
    assert not index.private
    monkeypatch.setenv("NX5D_INDEX", str(tmp_path / "shared.db"))
    assert index.location == str(tmp_path / "shared.db")
    index.location = "postgresql://alice:secret@db.example.org/beamtimes"
    assert index.location == "postgresql://alice:secret@db.example.org/beamtimes"
    assert "secret" not in repr(index)
    assert "***@db.example.org" in repr(index)
    index.enabled = False
    assert index.location is None
    index.location = None
    assert index.location == str(tmp_path / "shared.db")


class _PausingConnection:
    """An SQLite connection that stops after a statement starting with ``after`` until ``go`` is set."""

    def __init__(self, connection, after, reached, go):
        self._connection, self._after, self._reached, self._go = connection, after, reached, go

    def __getattr__(self, name):
        return getattr(self._connection, name)

    def cursor(self):
        return _PausingCursor(self._connection.cursor(), self)


class _PausingCursor:
    def __init__(self, cursor, owner):
        self._cursor, self._owner = cursor, owner

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def execute(self, sql, *args):
        result = self._cursor.execute(sql, *args)
        if sql.startswith(self._owner._after):
            self._owner._reached.set()
            self._owner._go.wait(30)
        return result


def test_processes_opening_a_new_index_at_once_neither_fail_nor_lose_rows(tmp_path):
    """A batch's workers open the same new index: the second must wait for the first to lay it out.

    The interleaving, laid out: A has made the tables and is between removing and writing the layout row
    when B opens the index and keeps a row.  Unguarded, B wrote its layout row too, A's then failed as a
    damaged index (and the file everyone used was removed), and A's emptying lost B's row.
    """
    import threading

    from nx5d_index.database import META, Row, SqliteDatabase

    path = str(tmp_path / "index.sqlite3")
    first, second = SqliteDatabase(path), SqliteDatabase(path)
    reached, go = threading.Event(), threading.Event()
    connect = first._connect
    first._connect = lambda: _PausingConnection(connect(), f"DELETE FROM {META}", reached, go)
    failed = []

    def run(work):
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - what the test reports
            failed.append(exc)

    opening = threading.Thread(target=run, args=(first.count,))
    opening.start()
    assert reached.wait(30)
    row = Row("summary", "file:///x#1", "file:///{proposal}#{scan}", "p", "1", "spec 1", "{}", "{}")
    keeping = threading.Thread(target=run, args=(lambda: second.put([row]),))
    keeping.start()
    keeping.join(0.5)  # B waits for A's layout (unguarded, it is done by now)
    go.set()
    opening.join(30)
    keeping.join(30)
    assert failed == []
    assert [found.url for found in SqliteDatabase(path).rows("summary")] == ["file:///x#1"]
    assert sqlite3.connect(path).execute(f"SELECT COUNT(*) FROM {META}").fetchone() == (1,)


def test_a_commit_that_times_out_leaves_no_transaction_open(tmp_path):
    """Where WAL is not available (some network shares), a reader's lock can outlast the timeout of a commit.

    That row is not kept (``IndexBusy``), but the next one is: the commit's transaction was left open, the
    next ``BEGIN`` failed as a damaged index, and the index everyone used was removed.
    """
    from nx5d_index.database import IndexBusy, Row, SqliteDatabase

    path = str(tmp_path / "index.sqlite3")
    database = SqliteDatabase(path, timeout=0.2)
    assert database.count() == 0
    database._connection.execute("PRAGMA journal_mode = DELETE")  # as on a share without WAL
    rows = [Row("summary", f"file:///x#{i}", "file:///{proposal}#{scan}", "p", str(i), "spec 1", "{}", "{}")
            for i in range(2)]  # fmt: skip
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM nx5d_index").fetchall()  # holds its read lock
    with pytest.raises(IndexBusy):
        database.put(rows[:1])
    reader.execute("COMMIT")
    assert not database._connection.in_transaction
    database.put(rows[1:])
    assert [row.url for row in database.rows("summary")] == ["file:///x#1"]
