"""A repository's storage never reads outside its root: links out, ``..``, folders swapped for links.

Local paths are resolved by `nx5d.io.realpath` (the C library's walk on
Linux), which must answer exactly what `os.path.realpath` answers for every
path, including the ones the C library cannot resolve.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nx5d.io.realpath as realpaths
from nx5d.errors import OutsideRepositoryError
from nx5d.io.realpath import realpath
from nx5d.io.storage import Storage

NOT_UTF8 = os.fsdecode(b"caf\xe9")  # a name in Latin-1: not UTF-8, kept by surrogate escapes


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """``base/root`` (the repository) with links in and out of it, beside files outside it."""
    base = tmp_path_factory.mktemp("confinement")
    (base / "outside.txt").write_text("outside")
    (base / "outside_dir").mkdir()
    (base / "outside_dir" / "f.bin").write_text("outside")
    a = base / "root" / "a"
    (a / "b").mkdir(parents=True)
    (a / "f.bin").write_text("inside f")
    (a / "b" / "g.bin").write_text("inside g")
    (a / NOT_UTF8).write_text("inside, not UTF-8")
    links = {
        "in_dir": "b",  # a folder link inside
        "in_file": "f.bin",  # a file link inside
        "up": "..",  # the root itself
        "out_file": str(base / "outside.txt"),  # a file link out, absolute
        "out_dir": "../../outside_dir",  # a folder link out, relative
        "loop": "loop",  # a link to itself
        "dangling": "nowhere/at/all",  # a link to nothing
    }
    for name, target in links.items():
        (a / name).symlink_to(target)
    return base


def _outside(url: str, root: Path) -> str:
    local = Storage.local_path(url) or "/"
    return f"{url} resolves to {os.path.realpath(local)}, outside the repository root {root}"


def _inside(path: str, root: Path) -> bool:
    resolved = os.path.realpath(path)
    return resolved == str(root) or resolved.startswith(f"{root}{os.sep}")


SEGMENTS = st.sampled_from(
    ["..", ".", "", "a", "b", "f.bin", "g.bin", NOT_UTF8, "in_dir", "in_file", "up", "out_file", "out_dir"]
    + ["loop", "dangling", "missing", "c d"]
)
NAMES = st.lists(SEGMENTS, min_size=1, max_size=8).map("/".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, slashes=st.sampled_from(["/", "//", "///"]), tail=st.sampled_from(["", "/"]))
def test_every_path_resolves_exactly_as_os_path_realpath(tree, name, slashes, tail):
    if sys.platform.startswith("linux"):
        assert realpaths._C_REALPATH is not None  # the C library's walk is the one compared
    path = slashes + str(tree / "root" / "a").lstrip("/") + "/" + name + tail
    assert realpath(path) == os.path.realpath(path)


def test_relative_paths_resolve_from_the_working_folder(tree, monkeypatch):
    monkeypatch.chdir(tree / "root" / "a")
    for path in ("f.bin", "in_dir/g.bin", "out_dir/f.bin", "missing/../f.bin", "", ".", "loop"):
        assert realpath(path) == os.path.realpath(path), path


@pytest.mark.parametrize("name", ["a/\0b", "a/\ud800", "a/b\0"])
def test_names_no_system_call_takes_fail_as_in_python(tree, name):
    path = f"{tree}/{name}"
    with pytest.raises(ValueError, match=r"null byte|surrogates not allowed") as python:
        os.path.realpath(path)
    with pytest.raises(ValueError, match=r"null byte|surrogates not allowed") as ours:
        realpath(path)
    assert (type(ours.value), str(ours.value)) == (type(python.value), str(python.value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_names_with_dots_empty_segments_and_links_are_read_inside_or_refused(tree, name):
    root = tree / "root"
    storage = Storage(root=f"file://{root}")
    url = f"file://{root}/a/{name}"
    local = f"{root}/a/{name}"
    if not _inside(local, root):
        with pytest.raises(OutsideRepositoryError, match=f"^{re.escape(_outside(url, root))}$"):
            storage.confine(url)
        with pytest.raises(OutsideRepositoryError):
            storage.read_bytes(url)
        return
    assert storage.confine(url) == url
    if os.path.isfile(local):
        assert storage.read_bytes(url).startswith(b"inside")


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        ("a/out_file", False),  # a file link out
        ("a/out_dir/f.bin", False),  # a folder link out
        ("a/out_dir", False),
        ("a/../../outside.txt", False),  # climbing out
        ("a/b/../../../outside_dir/f.bin", False),
        ("a/up/../outside.txt", False),  # a link inside, then climbing out of the folder it leads to
        ("a/in_dir/../../../outside.txt", False),  # .. after a link: from where the link leads
        ("a/f.bin/../../../outside.txt", False),  # a file taken for a folder (Python's walk answers)
        ("a/in_dir/g.bin", True),
        ("a/in_file", True),
        ("a/up/a/f.bin", True),
        ("a/../a/./b/../f.bin", True),
    ],
)
def test_links_and_climbs_out_of_the_root_are_refused_naming_where_they_lead(tree, name, inside):
    root = tree / "root"
    storage = Storage(root=f"file://{root}")
    url = f"file://{root}/{name}"
    if inside:
        assert storage.confine(url) == url
        assert storage.read_bytes(url).startswith(b"inside")
        return
    for action in (storage.confine, storage.read_bytes, storage.exists, storage.state, storage.open):
        with pytest.raises(OutsideRepositoryError, match=f"^{re.escape(_outside(url, root))}$"):
            action(url)


def _scan_folder(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    root = tmp_path / "root"
    scan = root / "p1" / "s1"
    scan.mkdir(parents=True)
    for i in range(3):
        (scan / f"f{i}.bin").write_bytes(b"inside %d" % i)
    return root, scan, [f"file://{scan}/f{i}.bin" for i in range(3)]


@pytest.mark.parametrize("level", ["scan", "proposal"])
@pytest.mark.parametrize("how", ["moved out and linked", "replaced by a link out"])
def test_a_folder_swapped_for_a_link_out_after_it_was_read_is_refused_from_then_on(tmp_path, level, how):
    root, scan, urls = _scan_folder(tmp_path)
    storage = Storage(root=f"file://{root}")
    assert storage.read_many(urls) == [b"inside 0", b"inside 1", b"inside 2"]
    assert [storage.confine(u) for u in urls] == urls
    folder = scan if level == "scan" else scan.parent
    elsewhere = tmp_path / "elsewhere"
    if how == "moved out and linked":  # the very folder (same inode) now lies outside
        folder.rename(elsewhere)
    else:  # another folder, holding files of the same names
        elsewhere.joinpath(*scan.relative_to(folder).parts).mkdir(parents=True)
        for i in range(3):
            (elsewhere.joinpath(*scan.relative_to(folder).parts) / f"f{i}.bin").write_bytes(b"outside")
        shutil.rmtree(folder)
    folder.symlink_to(elsewhere, target_is_directory=True)
    for url in urls:
        for action in (storage.confine, storage.read_bytes, storage.open, storage.stat):
            with pytest.raises(OutsideRepositoryError, match=f"^{re.escape(_outside(url, root))}$"):
                action(url)
    with pytest.raises(OutsideRepositoryError, match=re.escape(_outside(urls[0], root))):
        storage.read_many(urls)
    folder.unlink()  # the folder back in place: read again
    if how == "moved out and linked":
        elsewhere.rename(folder)
        assert storage.read_many(urls) == [b"inside 0", b"inside 1", b"inside 2"]


def test_threads_confining_at_once_get_the_answers_one_thread_gets(tree):
    root = tree / "root"
    storage = Storage(root=f"file://{root}")
    names = ["a/f.bin", "a/out_file", "a/in_dir/g.bin", "a/out_dir/f.bin", "a/../../outside.txt", "a/missing"]
    urls = [f"file://{root}/{names[i % len(names)]}" for i in range(3000)]

    def answer(url: str) -> str:
        try:
            return storage.confine(url)
        except OutsideRepositoryError as exc:
            return str(exc)

    alone = [answer(u) for u in urls]
    inside = {"a/f.bin", "a/in_dir/g.bin", "a/missing"}
    assert alone[: len(names)] == [u if n in inside else _outside(u, root) for n, u in zip(names, urls, strict=False)]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(answer, urls, chunksize=7)) == alone
