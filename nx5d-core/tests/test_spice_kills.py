"""Spice survives writers killed at any moment: every record a writer was told it wrote is there, whole.

A forked writer updates spice in a loop and reports each record's uuid once
``update`` returned; it is killed with SIGKILL at a random moment, many
times over.  After each kill the folder reads without a single damaged
record, and holds every reported record; the next write removes the
temporary files the killed writers left.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import time
import warnings

import pytest

from nx5d.errors import SpiceWarning
from nx5d.repo.filesystem import DataRepository

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork and SIGKILL")

KILLS = 25
CTX = multiprocessing.get_context("fork")


def _writer(url: str, spice: str, report) -> None:
    book = DataRepository(url, spice_url=spice)["p"].spice
    step = 0
    while True:
        record = book.update("1", "settings", step=step)
        report.send(record["uuid"])
        step += 1


def test_killed_writers_lose_no_record_and_leave_none_damaged(tmp_path):
    for scan in ("1", "2"):
        (tmp_path / "data" / "p" / scan).mkdir(parents=True)
    url = f"file://{tmp_path}/data/{{proposal}}/{{scan}}"
    spice = f"file://{tmp_path}/spice/{{proposal}}"
    DataRepository(url, spice_url=spice)["p"].spice.seed("settings", step=-1)
    rng = random.Random(7)
    reported: set[str] = set()
    for _ in range(KILLS):
        receive, send = CTX.Pipe(duplex=False)
        child = CTX.Process(target=_writer, args=(url, spice, send))
        child.start()
        send.close()
        time.sleep(rng.uniform(0.02, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        while receive.poll():
            try:
                reported.add(receive.recv())
            except EOFError:
                break
        with warnings.catch_warnings():
            warnings.simplefilter("error", SpiceWarning)  # a damaged record would warn: make it fail the test
            records = {r.uuid for r in DataRepository(url, spice_url=spice)["p"].spice.records()}
        assert reported <= records, f"{len(reported - records)} reported records are missing"
    assert len(reported) > KILLS  # the writers did write between the kills
    history = list(DataRepository(url, spice_url=spice)["p"].spice.history("settings"))
    assert [row["revision"] for row in history] == list(range(1, len(history) + 1))
    assert not any(row["conflict"] for row in history)
    DataRepository(url, spice_url=spice)["p"].spice.update("1", "settings", step="after")
    folder = tmp_path / "spice" / "p"
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]  # the killed writers' are swept away
