"""One damaged spice record never takes down the others: it is skipped with a warning naming it, and kept.

Records break in ways JSON parsers and file systems have their own errors
for: nesting deeper than the parser's recursion limit, integers longer than
Python converts, files nobody may read, bytes that are no text.  Whatever
the damage, view, cook and update keep working on the good records.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nx5d.errors import SpiceWarning
from nx5d.repo.filesystem import DataRepository


@pytest.fixture
def repo(tmp_path):
    for scan in ("1", "2"):
        (tmp_path / "data" / "p" / scan).mkdir(parents=True)
    return DataRepository(f"file://{tmp_path}/data/{{proposal}}/{{scan}}")


def _spice_folder(repo_url: str) -> Path:
    return Path(repo_url[len("file://") :].split("{proposal}")[0]) / "p" / "spice"


def _damaged(good: dict, how: str) -> bytes:
    if how == "deeply nested":
        return json.dumps({**good, "data": {"deep": "X"}}).replace('"X"', "[" * 200_000 + "]" * 200_000).encode()
    if how == "enormous number":
        return json.dumps({**good, "revision": 1}).replace('"revision": 1', '"revision": ' + "9" * 5000).encode()
    if how == "enormous number in data":
        return json.dumps({**good, "data": {"v": "X"}}).replace('"X"', "7" * 10_000).encode()
    if how == "not text":
        return b"\x89PNG\r\n\x1a\n" + os.urandom(64)
    if how == "empty":
        return b""
    raise AssertionError(how)


def _check_survivors(repo, good_distance: float) -> None:
    book = DataRepository(repo.url)["p"].spice
    assert book.view("1")["settings"].distance == good_distance
    record = book.update("1", "settings", distance=good_distance + 1)  # writing still works beside the damage
    assert DataRepository(repo.url)["p"].spice.view("2")["settings"].distance == record["data"]["distance"]


@pytest.mark.parametrize("how", ["deeply nested", "enormous number", "enormous number in data", "not text", "empty"])
def test_a_damaged_record_is_skipped_with_a_warning_and_kept(repo, how):
    good = repo["p"].spice.seed("settings", distance=680.0)
    folder = _spice_folder(repo.url)
    bad = folder / "0123456789abcdef0123456789abcdef.json"
    bad.write_bytes(_damaged(good, how))
    before = bad.read_bytes()
    with pytest.warns(SpiceWarning, match=rf"skipping .*{bad.name}: .*left untouched"):
        _check_survivors(repo, 680.0)
    assert bad.read_bytes() == before


def _view_as(uid: int, repo_url: str, result) -> None:
    os.setgid(uid)
    os.setuid(uid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        distance = DataRepository(repo_url)["p"].spice.view("1")["settings"].distance
    result.put((distance, [str(w.message) for w in caught]))


@pytest.mark.skipif(sys.platform != "linux", reason="file modes and fork")
def test_a_record_nobody_may_read_is_skipped_with_a_warning(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("NX5D_SPICE_HOME", str(tmp_path / "home"))
    repo["p"].spice.seed("settings", distance=680.0)
    folder = _spice_folder(repo.url)
    locked = folder / "fedcba9876543210fedcba9876543210.json"
    locked.write_text("{}")
    locked.chmod(0)
    if os.geteuid() != 0:
        with pytest.warns(SpiceWarning, match=rf"skipping .*{locked.name}: it cannot be read"):
            assert DataRepository(repo.url)["p"].spice.view("1")["settings"].distance == 680.0
        return
    # root reads everything: read as another user, who may read the folder but not this file
    for path in (tmp_path, tmp_path / "data", tmp_path / "data" / "p", folder):
        path.chmod(0o755)
    for record in folder.glob("*.json"):
        if record != locked:
            record.chmod(0o644)
    context = multiprocessing.get_context("fork")
    result = context.Queue()
    child = context.Process(target=_view_as, args=(60123, repo.url, result))
    parent = tmp_path.parent
    modes = []
    while parent != parent.parent:  # pytest's base folders are private to their owner
        modes.append((parent, parent.stat().st_mode))
        parent.chmod(parent.stat().st_mode | 0o005)
        parent = parent.parent
    try:
        child.start()
        distance, messages = result.get(timeout=60)
        child.join(timeout=60)
    finally:
        for path, mode in modes:
            path.chmod(mode)
    assert distance == 680.0
    assert any(locked.name in m and "cannot be read" in m for m in messages), messages


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_to_a_record_leaves_the_others_usable(repo, data):
    book = repo["p"].spice
    if not book.records():
        book.seed("settings", distance=680.0)
    good = book.records()[0]
    text = bytearray(json.dumps({**good.to_dict(), "uuid": "f" * 32}, indent=2).encode())
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(text)), label="at")
        kind = data.draw(st.sampled_from(["cut", "flip", "insert"]), label="kind")
        if kind == "cut":
            del text[at:]
        elif kind == "flip" and at < len(text):
            text[at] ^= data.draw(st.integers(1, 255), label="bits")
        else:
            text[at:at] = data.draw(st.binary(min_size=1, max_size=20), label="bytes")
    bad = _spice_folder(repo.url) / ("f" * 32 + ".json")
    bad.write_bytes(bytes(text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpiceWarning)  # a mutation may leave the record readable, or not
        records = DataRepository(repo.url)["p"].spice.records()
    assert good.uuid in {r.uuid for r in records}
    assert bad.read_bytes() == bytes(text)
    bad.unlink()
