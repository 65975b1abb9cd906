"""Many processes writing spice of one proposal at once: no record is ever lost.

Real processes (forked) write through real file stores.  With the advisory
lock the history stays clean; without it (as on storage without working
locks) conflicts appear, are reported, and can be resolved -- and in every
case each record a writer was told it wrote is on disk.
"""

import json
import multiprocessing
import os
import sys

import pytest

from nx5d.errors import SpiceConflict, SpiceError
from nx5d.repo.filesystem import DataRepository
from nx5d.spice import FileSpiceStore

from .accounts import ALICE, BOB, become, group_folder

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses fork and POSIX advisory locks")

WRITERS = 8
UPDATES = 50
CTX = multiprocessing.get_context("fork")


class BarrierStore(FileSpiceStore):
    """A file store whose writers all meet right before writing: every writer has read the same state."""

    def __init__(self, locations, barrier):
        super().__init__(locations, lock=False)
        self.barrier = barrier

    def write(self, proposal, record):
        self.barrier.wait(timeout=60)
        super().write(proposal, record)


@pytest.fixture
def repo_url(tmp_path):
    for scan in ("1", "2"):
        (tmp_path / "data" / "p" / scan).mkdir(parents=True)
    return f"file://{tmp_path}/data/{{proposal}}/{{scan}}"


def spice_url(tmp_path):
    return f"file://{tmp_path}/spice/{{proposal}}"


def run(target, args_per_writer):
    procs = [CTX.Process(target=target, args=args) for args in args_per_writer]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def locked_writer(url, store_url, writer, start, out, user=None):
    if user is not None:
        become(user)
    book = DataRepository(url, spice_url=store_url)["p"].spice
    book.seed("settings", step=None, writer=None)
    start.wait(timeout=60)
    written = [book.update("1", "settings", step=i, writer=writer)["uuid"] for i in range(UPDATES)]
    with open(out, "w") as fh:
        json.dump(written, fh)


@pytest.fixture(params=["one user", "two users of a group"])
def writers_home(request, tmp_path):
    """The folder the writers share, and the account of each writer (``None``: this process's)."""
    if request.param == "one user":
        for scan in ("1", "2"):
            (tmp_path / "data" / "p" / scan).mkdir(parents=True)
        yield tmp_path, [None] * WRITERS
    elif os.geteuid() != 0:
        pytest.skip("switching between users needs root")
    else:
        with group_folder() as folder:
            yield folder, [(ALICE, BOB)[i % 2] for i in range(WRITERS)]


def test_locked_writers_keep_a_clean_history(writers_home):
    tmp_path, accounts = writers_home
    repo_url = f"file://{tmp_path}/data/{{proposal}}/{{scan}}"
    start = CTX.Barrier(WRITERS)
    outs = [tmp_path / f"w{i}.json" for i in range(WRITERS)]
    run(locked_writer, [(repo_url, spice_url(tmp_path), i, start, outs[i], accounts[i]) for i in range(WRITERS)])
    written = {u for out in outs for u in json.loads(out.read_text())}
    assert len(written) == WRITERS * UPDATES
    files = {p.stem for p in (tmp_path / "spice" / "p").glob("*.json")}
    assert written <= files
    assert len(files) == WRITERS * UPDATES + 1  # plus the one seed: concurrent seeding stayed idempotent
    book = DataRepository(repo_url, spice_url=spice_url(tmp_path))["p"].spice
    history = list(book.history("settings"))
    assert [r["revision"] for r in history] == list(range(1, WRITERS * UPDATES + 2))
    assert not any(r["conflict"] for r in history)
    assert book.view("2").clean


def unlocked_writer(url, store_url, writer, start, out):
    store = FileSpiceStore([store_url], lock=False)
    book = DataRepository(url, spice_url=store)["p"].spice
    me = f"writer-{writer}"
    written, conflicts = [], 0
    start.wait(timeout=60)
    for step in range(UPDATES):
        for _ in range(10_000):
            try:
                record = book.update("1", "settings", step=step, writer=writer, author=me)
                written.append(record["uuid"])
                break
            except SpiceConflict as exc:
                conflicts += 1
                try:
                    record = book.resolve("1", "settings", keep=exc.uuids[0][:12], author=me)
                except SpiceError:  # the conflict moved on meanwhile: look again
                    continue
                if record["author"] == me:
                    written.append(record["uuid"])
        else:
            raise RuntimeError("could not write")
    with open(out, "w") as fh:
        json.dump({"written": sorted(set(written)), "conflicts": conflicts}, fh)


def test_unlocked_writers_lose_nothing_and_conflicts_are_reported(repo_url, tmp_path):
    DataRepository(repo_url, spice_url=spice_url(tmp_path))["p"].spice.seed("settings", step=None, writer=None)
    start = CTX.Barrier(WRITERS)
    outs = [tmp_path / f"w{i}.json" for i in range(WRITERS)]
    run(unlocked_writer, [(repo_url, spice_url(tmp_path), i, start, outs[i]) for i in range(WRITERS)])
    results = [json.loads(out.read_text()) for out in outs]
    book = DataRepository(repo_url, spice_url=spice_url(tmp_path))["p"].spice
    records = book.records()
    for i, result in enumerate(results):
        mine = {r.uuid for r in records if r.author == f"writer-{i}"}
        assert mine == set(result["written"]), f"writer {i}: records lost or unexpected"
    assert len(records) == 1 + sum(len(r["written"]) for r in results)
    print(f"unlocked writers met {sum(r['conflicts'] for r in results)} conflicts; {len(records)} records kept")
    history = list(book.history("settings"))
    per_revision = {}
    for row in history:
        per_revision.setdefault(row["revision"], []).append(row)
    for rows in per_revision.values():
        assert all(r["conflict"] == (len(rows) > 1) for r in rows)  # every shared revision is flagged
    view = book.view("2")
    if view.clean:
        assert view["settings"].step == UPDATES - 1
    else:
        with pytest.raises(SpiceConflict):
            view.settings()


def conflicting_writer(url, store_url, writer, barrier):
    store = BarrierStore([store_url], barrier)
    DataRepository(url, spice_url=store)["p"].spice.update("1", "settings", distance=700.0 + writer)


def test_simultaneous_updates_conflict_and_are_resolved_without_loss(repo_url, tmp_path):
    url = spice_url(tmp_path)
    repo = DataRepository(repo_url, spice_url=url)
    repo["p"].spice.seed("settings", distance=680.0)
    barrier = CTX.Barrier(WRITERS)
    run(conflicting_writer, [(repo_url, url, i, barrier) for i in range(WRITERS)])
    book = DataRepository(repo_url, spice_url=url)["p"].spice
    view = book.view("1")
    assert not view.clean
    uuids = view.entries["settings"].resolution.uuids
    assert len(uuids) == WRITERS
    with pytest.raises(SpiceConflict) as info:
        DataRepository(repo_url, spice_url=url)["p"]["1"].cook()
    assert set(info.value.uuids) == set(uuids)
    assert all(u in str(info.value) for u in uuids)
    kept = next(r for r in book.records() if r.uuid == uuids[3])
    resolved = book.resolve("1", "settings", keep=uuids[3])
    assert resolved["revision"] == 3
    assert resolved["data"] == kept.data
    assert book.view("1").clean
    assert len(book.records()) == 1 + WRITERS + 1
