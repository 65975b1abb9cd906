"""What nx5d remembers is never wrong: raw data the user edits, files that change, caches others can write.

Every test here compares what nx5d hands out after the change with a cook
made with every cache off (a new repository object, the cooked cache
switched off), so the promise checked is the one the reliability page makes:
a remembered result never differs from a fresh computation.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
import xarray as xr

import nx5d
from nx5d.errors import CacheWarning
from nx5d.io.results import SUFFIX
from nx5d_udkm.synth import ScanSpec
from nx5d_udkm.synth import write_repository as write_udkm

SMALL = ScanSpec(delays=(-10.0, 50.0), thetas=(18.5, 18.6, 18.7), delay_loops=1, frames=None)
SPICE = {"settings": {"grid_size": [20, 30]}}


@pytest.fixture
def data(tmp_path):
    url = write_udkm(tmp_path / "data", {"20210205": ["091726"]}, SMALL)
    return url, tmp_path / "data" / "20210205" / "091726"


def open_scan(url):
    return nx5d.open(url, spice_url="")["20210205"]["091726"]


def uncached(url, spice=SPICE, **options):
    """The cook of the scan as the files hold it now, with every cache off."""
    enabled = nx5d.cooked_cache.enabled
    nx5d.cooked_cache.enabled = False
    try:
        return open_scan(url).cook(spice, **options)
    finally:
        nx5d.cooked_cache.enabled = enabled


def assert_same_map(got, expected):
    np.testing.assert_array_equal(got.qdata.values, expected.qdata.values)
    for name in expected.coords:
        np.testing.assert_array_equal(got[name].values, expected[name].values)


def restore_times(path, st):
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


# --- 1. raw data the user holds is the user's ------------------------------------------------------------------


EDITS = {
    "dark subtracted": lambda raw: raw.__setitem__("images", raw.images - 5),
    "theta shifted": lambda raw: raw.__setitem__("theta", raw.theta + 0.5),
    "coordinate assigned": lambda raw: raw.coords.__setitem__("theta", raw.theta * 2),
    "update": lambda raw: raw.update({"images": raw.images * 0}),
    "negative pixels dropped": lambda raw: raw.__setitem__("images", raw.images.where(raw.images >= 0)),
    "attribute changed": lambda raw: raw.attrs.__setitem__("scan_type", "sRSM"),
    "variable dropped": lambda raw: raw.__delitem__("images"),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_editing_scan_raw_never_changes_scan_cooked_nor_what_is_kept(cache, data, edit):
    url, _ = data
    scan = open_scan(url)
    raw = scan.raw
    edit(raw)
    expected = uncached(url)
    assert_same_map(scan.cook(SPICE), expected)
    assert scan.raw.identical(open_scan(url).raw)  # the next scan.raw is the files' data again
    assert_same_map(open_scan(url).cook(SPICE), expected)  # the kept result is the files' result


@pytest.mark.parametrize("name", ["images", "theta"])
def test_no_array_of_scan_raw_can_be_made_writeable_again(data, name):
    """Some image libraries call ``setflags(write=True)``: it must fail, as any write into the kept data does."""
    url, _ = data
    scan = open_scan(url)
    values = scan.raw[name].values
    with pytest.raises(ValueError, match="cannot set WRITEABLE flag"):
        values.setflags(write=True)
    with pytest.raises(ValueError, match="read-only"):
        values[...] = 0
    assert scan.raw.identical(open_scan(url).raw)


def test_arrays_a_user_cooks_stay_the_users(data):
    """Cooking edited data never freezes the user's own arrays (a recipe may hand them back)."""
    url, _ = data
    scan = open_scan(url)
    raw = scan.raw.copy(deep=True)
    scan.cook(SPICE, raw=raw)
    raw["images"].values[0, 0, 0] = 1  # still the user's to write
    assert raw["images"].values.flags.writeable


@pytest.mark.parametrize("edit", ["dark subtracted", "theta shifted", "update"])
def test_cooking_edited_data_says_so_and_is_never_kept(cache, data, edit):
    url, _ = data
    scan = open_scan(url)
    raw = scan.raw
    EDITS[edit](raw)
    edited = scan.cook(SPICE, raw=raw)
    assert edited.attrs["nx5d_raw"].startswith("edited")
    assert "nx5d_data_identity" not in edited.attrs
    assert not cache.exists() or not list(cache.glob(f"*{SUFFIX}"))
    assert "nx5d_raw" not in scan.cook(SPICE).attrs
    assert_same_map(scan.cook(SPICE), uncached(url))


def test_a_dark_subtraction_in_one_process_does_not_reach_the_next(cache, data):
    url, _ = data
    first = f"""
import nx5d
scan = nx5d.open({url!r}, spice_url="")["20210205"]["091726"]
raw = scan.raw
raw["images"] = raw.images - 1000
print(float(scan.cook({SPICE!r}).qdata.max()))
"""
    env = {**os.environ, "NX5D_PROGRESS": "0", "NX5D_CACHE_DIR": str(cache.parent)}
    done = subprocess.run([sys.executable, "-c", first], env=env, capture_output=True, text=True, check=True)
    again = subprocess.run(
        [sys.executable, "-c", first.replace('raw["images"] = raw.images - 1000', "")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = float(uncached(url).qdata.max())
    assert float(done.stdout) == pytest.approx(expected)
    assert float(again.stdout) == pytest.approx(expected)
    assert expected > 1


# --- 3. files that change ------------------------------------------------------------------------------------------


def rewrite_table_in_place(folder):
    """The table rewritten in the same inode, same size, its times restored (rsync --inplace -t, cp + touch -r)."""
    table = folder / "manifest.dat"
    st = table.stat()
    text = table.read_bytes()
    assert b"18.500000" in text
    with open(table, "r+b") as fh:
        fh.write(text.replace(b"18.500000", b"18.540000"))
    restore_times(table, st)
    after = table.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


def replace_frame_keeping_times(folder):
    """A frame replaced by another file (cp over it), its modification time set back (touch -r)."""
    frame = folder / "image00001.tiff"
    st = frame.stat()
    tifffile.imwrite(frame, np.full((195, 487), 9, np.int32), compression="zlib")
    restore_times(frame, st)


def replace_frame(folder):
    tifffile.imwrite(folder / "image00004.tiff", np.full((195, 487), 3, np.int32), compression="zlib")


CHANGES = {
    "table rewritten in place, times restored": rewrite_table_in_place,
    "frame replaced, times restored": replace_frame_keeping_times,
    "frame replaced": replace_frame,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_changed_file_is_never_served_from_a_cache(cache, data, change):
    url, folder = data
    scan = open_scan(url)
    before = scan.cook(SPICE)
    open_scan(url).cook(SPICE)  # kept on disk
    change(folder)
    expected = uncached(url)
    assert not np.array_equal(expected.qdata.values, before.qdata.values, equal_nan=True)
    assert_same_map(scan.cook(SPICE), expected)  # the scan object in memory
    assert_same_map(open_scan(url).cook(SPICE), expected)  # a new session, through the cooked cache


def test_raw_in_memory_follows_a_changed_file(data):
    url, folder = data
    scan = open_scan(url)
    assert scan.raw.images[4].values.max() != 3
    replace_frame(folder)
    assert int(scan.raw.images[4].values.max()) == 3


def test_a_masked_frame_that_arrives_is_cooked_in(cache, data, tmp_path):
    url, folder = data
    aside = tmp_path / "aside.tiff"
    shutil.move(folder / "image00002.tiff", aside)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "1 of 6 frames are missing"
        masked = open_scan(url).cook(SPICE, missing="mask")
    shutil.move(aside, folder / "image00002.tiff")
    expected = uncached(url, missing="mask")
    assert not np.array_equal(expected.qdata.values, masked.qdata.values, equal_nan=True)
    assert_same_map(open_scan(url).cook(SPICE, missing="mask"), expected)


def test_a_changed_virtual_dataset_source_is_never_served_from_a_cache(cache, tmp_path):
    import h5py

    from nx5d_nexus.synth import write_repository as write_nexus

    url = write_nexus(tmp_path / "nexus", {"p": [3]}, "bliss", vds=True)
    source = tmp_path / "nexus" / "p" / "scan0003" / "mpx_0000.h5"

    def cook():
        return nx5d.open(url, spice_url="")["p"]["3.1"].cooked

    before = cook()
    cook()
    with h5py.File(source, "r+") as h5:
        frames = h5["entry_0000/instrument/mpx/data"]
        frames[...] = frames[...][::-1]  # the same frames, in the other order
    enabled, nx5d.cooked_cache.enabled = nx5d.cooked_cache.enabled, False
    try:
        expected = cook()
    finally:
        nx5d.cooked_cache.enabled = enabled
    assert not expected.identical(before)
    xr.testing.assert_identical(cook().drop_attrs(), expected.drop_attrs())


def test_a_spec_file_rewritten_to_the_same_size_is_read_again_in_the_same_process(tmp_path):
    from nx5d_spec.synth import write_spec

    path = write_spec(tmp_path / "beamtime.spec")
    url = f"file://{tmp_path}/{{proposal}}.spec#{{scan}}"
    key = nx5d.open(url, spice_url="")["beamtime"].keys()[0]
    first = nx5d.open(url, spice_url="")["beamtime"][key].raw
    st = path.stat()
    lines = path.read_text().split("\n")
    row = lines.index(next(ln for ln in lines if ln.startswith("#L"))) + 1  # the first point of the first scan
    last = lines[row].split()[-1]
    lines[row] = lines[row][: -len(last)] + ("1" if last[-1] != "1" else "2").rjust(len(last), "0")
    path.write_text("\n".join(lines))
    restore_times(path, st)
    assert path.stat().st_size == st.st_size
    again = nx5d.open(url, spice_url="")["beamtime"][key].raw
    assert not again.equals(first)


# --- 4. cache entries are untrusted input --------------------------------------------------------------------------


def kept_entry(cache, url):
    open_scan(url).cook(SPICE)
    (entry,) = cache.glob(f"*{SUFFIX}")
    return entry


def test_a_fifo_named_like_an_entry_neither_hangs_nor_stays(cache, data):
    url, _ = data
    entry = kept_entry(cache, url)
    entry.unlink()
    os.mkfifo(entry)
    with pytest.warns(CacheWarning, match="not a regular file"):
        cooked = open_scan(url).cook(SPICE)
    assert_same_map(cooked, uncached(url))
    assert entry.is_file()  # removed, and the fresh result kept in its place


def test_a_huge_sparse_entry_is_not_read(cache, data):
    url, _ = data
    entry = kept_entry(cache, url)
    nx5d.cooked_cache.limit = 10**7
    try:
        with open(entry, "r+b") as fh:
            fh.truncate(3 * 10**9)  # 3 GB, sparse
        with pytest.warns(CacheWarning, match="more than the cache's limit"):
            cooked = open_scan(url).cook(SPICE)
    finally:
        nx5d.cooked_cache.limit = "2GB"
    assert_same_map(cooked, uncached(url))
    assert entry.stat().st_size < 10**7


def test_an_entry_of_another_user_is_not_used(cache, data):
    url, _ = data
    entry = kept_entry(cache, url)
    os.chown(entry, 4242, 4242)
    with pytest.warns(CacheWarning, match="another user"):
        open_scan(url).cook(SPICE)


# --- 5. a cache folder others can write into -----------------------------------------------------------------------


def test_a_cache_folder_others_can_write_into_is_refused(tmp_path, data, monkeypatch):
    url, _ = data
    folder = tmp_path / "shared-cache"
    (folder / "cooked").mkdir(parents=True)
    (folder / "cooked").chmod(0o777)
    monkeypatch.setenv("NX5D_CACHE_DIR", str(folder))
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", True)
    monkeypatch.setattr(nx5d.cooked_cache, "_checked", {})
    with pytest.warns(CacheWarning, match="can be written by other users"):
        open_scan(url).cook(SPICE)
    assert not list((folder / "cooked").glob(f"*{SUFFIX}"))


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="a second user needs root (Linux)")
def test_a_map_another_user_plants_in_a_shared_cache_is_never_served(data, monkeypatch):
    """With NX5D_CACHE_SHARED=1 on a folder all may write into, a forged map under the next key is refused."""
    import json
    import zipfile

    from nx5d.io.datasets import dataset_from_bytes, dataset_to_bytes

    url, _ = data
    folder = Path(tempfile.mkdtemp(prefix="nx5d-shared-cache-", dir="/tmp"))  # pytest's folders are private
    try:
        folder.chmod(0o755)
        (folder / "cooked").mkdir(mode=0o1777)
        (folder / "cooked").chmod(0o1777)
        monkeypatch.setenv("NX5D_CACHE_DIR", str(folder))
        monkeypatch.setenv("NX5D_CACHE_SHARED", "1")
        monkeypatch.setattr(nx5d.cooked_cache, "enabled", True)
        expected = open_scan(url).cook(SPICE)
        (entry,) = (folder / "cooked").glob(f"*{SUFFIX}")  # the key the next cook computes: its parts are public
        blob = entry.read_bytes()
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            made_from = archive.read("entry.json")
        forged = dataset_from_bytes(blob)
        forged["qdata"] = forged.qdata * 0 + 1234.0
        planted = io.BytesIO(dataset_to_bytes(forged))
        with zipfile.ZipFile(planted, "a") as archive:
            archive.writestr("entry.json", made_from)
        entry.unlink()
        child = os.fork()
        if child == 0:  # the other user
            try:
                os.setgid(60000)
                os.setuid(60001)
                entry.write_bytes(planted.getvalue())
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        assert entry.stat().st_uid == 60001
        assert json.loads(made_from)["identity"]  # a valid entry in every way but its owner
        with pytest.warns(CacheWarning, match="belongs to another user"):
            cooked = open_scan(url).cook(SPICE)
        assert_same_map(cooked, expected)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_new_cache_folder_is_private(cache, data):
    url, _ = data
    open_scan(url).cook(SPICE)
    assert cache.stat().st_mode & 0o077 == 0
    (entry,) = cache.glob(f"*{SUFFIX}")
    assert entry.stat().st_mode & 0o077 == 0


def test_the_folders_made_for_the_first_result_are_private_under_a_group_umask(cache, data, monkeypatch):
    """Under umask 002 (common at facilities), a cook first (the scan index off), then the index beside it.

    The cooked cache made the cache folder above its own with the umask's mode (775), and the per-user scan
    index, which lives there, refused it for good as not private.
    """
    url, _ = data
    monkeypatch.setenv("NX5D_CACHE_DIR", str(cache.parent / "new" / "nx5d"))  # none of it there yet
    monkeypatch.setenv("NX5D_INDEX", "off")
    old = os.umask(0o002)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheWarning)
            open_scan(url).cook(SPICE)
            monkeypatch.delenv("NX5D_INDEX")
            assert list(nx5d.open(url, spice_url="")["20210205"]) == ["091726"]  # the index kept its summary
    finally:
        os.umask(old)
    home = cache.parent / "new" / "nx5d"
    assert [oct(p.stat().st_mode & 0o777) for p in (home.parent, home, home / "cooked")] == ["0o700"] * 3
    assert (home / "index.sqlite3").stat().st_size > 0


# --- 6. temporary files --------------------------------------------------------------------------------------------


def test_temporary_files_of_killed_writers_are_removed_and_counted(cache, data):
    url, _ = data
    entry = kept_entry(cache, url)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = cache / f".{entry.name}.{int(dead.stdout)}.0123abcd.tmp"
    left.write_bytes(b"x" * 1000)
    assert nx5d.cooked_cache.store.nbytes >= entry.stat().st_size + 1000
    nx5d.cooked_cache.clear()
    assert not left.exists()
    assert not list(cache.iterdir()) or [p.name for p in cache.iterdir()] == [".lock"]


# --- properties ----------------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402 - the property tests' own imports
from hypothesis import strategies as st  # noqa: E402


def _json_values():
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner)
    )


def _rezip(blob, change):
    """The entry's archive with ``change(name, bytes) -> bytes | None`` applied to each member (None: left out)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info, data)
    return out.getvalue()


def _bomb(blob):
    import io
    import zipfile

    out = io.BytesIO(blob)
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": the point
        archive.writestr("entry.json", b" " * 50_000_000)  # a second, deflated entry.json: 50 MB from ~50 kB
    return out.getvalue()


def _npy_claiming(data, shape):
    header = data[: data.index(b"\n") + 1]
    claimed = header.replace(header[header.index(b"'shape'") : header.index(b")") + 1], f"'shape': {shape}".encode())
    return claimed.ljust(len(header) - 1)[: len(header) - 1] + b"\n" + data[len(header) :]


DAMAGE = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 4000)),
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("json"), _json_values()),
    st.tuples(st.just("deep"), st.integers(1000, 100_000)),
    st.tuples(st.just("claim"), st.sampled_from(["(100000000000,)", "(10, 10, 10)", "()", "(-1,)"])),
    st.tuples(st.just("bomb")),
)


def _damaged(blob, damage):
    import json

    kind, *args = damage
    if kind == "truncate":
        return blob[: args[0]]
    if kind == "flip":
        position = args[0] % len(blob)
        return blob[:position] + bytes([blob[position] ^ args[1]]) + blob[position + 1 :]
    if kind == "json":
        return _rezip(blob, lambda name, data: json.dumps(args[0]).encode() if name == "entry.json" else data)
    if kind == "deep":
        return _rezip(blob, lambda name, data: b"[" * args[0] + b"]" * args[0] if name == "dataset.json" else data)
    if kind == "claim":
        return _rezip(blob, lambda name, data: _npy_claiming(data, args[0]) if name.endswith(".npy") else data)
    return _bomb(blob)


@pytest.fixture(scope="module")
def kept_blob(tmp_path_factory):
    """A UDKM scan, its cook with every cache off, and the bytes of the entry the cooked cache keeps for it."""
    root = tmp_path_factory.mktemp("damaged")
    url = write_udkm(root / "data", {"20210205": ["091726"]}, SMALL)
    folder = root / "cache"
    os.environ["NX5D_CACHE_DIR"] = str(folder)
    try:
        expected = open_scan(url).cook(SPICE)
    finally:
        del os.environ["NX5D_CACHE_DIR"]
    (entry,) = (folder / "cooked").glob(f"*{SUFFIX}")
    return url, folder, entry.name, entry.read_bytes(), expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=DAMAGE)
def test_damaged_cache_entries_give_the_right_map_and_a_warning_never_an_error(kept_blob, damage, monkeypatch):
    url, folder, name, blob, expected = kept_blob
    monkeypatch.setenv("NX5D_CACHE_DIR", str(folder))
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", True)
    entry = folder / "cooked" / name
    damaged = _damaged(blob, damage)
    entry.write_bytes(damaged)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cooked = open_scan(url).cook(SPICE)
    assert_same_map(cooked, expected)
    if damaged != blob and not [w for w in caught if issubclass(w.category, CacheWarning)]:
        assert entry.read_bytes() in (damaged, blob)  # a change zip does not check (a time stamp): still right


STEPS = st.lists(
    st.sampled_from(["edit raw", "rewrite table", "replace frame", "mask", "unmask", "spice", "cook", "new session"]),
    min_size=1,
    max_size=8,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, edit=st.sampled_from(sorted(EDITS)), seed=st.integers(0, 2**16))
def test_what_is_remembered_always_equals_a_cook_with_every_cache_off(tmp_path, monkeypatch, steps, edit, seed):
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # each example its own files
    url = write_udkm(root / "data", {"20210205": ["091726"]}, SMALL)
    folder = root / "data" / "20210205" / "091726"
    monkeypatch.setenv("NX5D_CACHE_DIR", str(root / "cache"))
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", True)
    rng = np.random.default_rng(seed)
    scan, spice, aside = open_scan(url), SPICE, root / "aside.tiff"
    for step in [*steps, "cook"]:
        if step == "edit raw":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "1 of 6 frames are missing"
                EDITS[edit](scan.load(missing="mask"))
        elif step == "rewrite table":
            table = folder / "manifest.dat"
            st_ = table.stat()
            text = table.read_bytes()
            swapped = text.replace(b"18.5", b"18.X").replace(b"18.7", b"18.5").replace(b"18.X", b"18.7")
            with open(table, "r+b") as fh:
                fh.write(swapped)
            restore_times(table, st_)
        elif step == "replace frame":
            frame = folder / f"image0000{rng.integers(0, 6)}.tiff"
            if frame.exists():
                st_ = frame.stat()
                tifffile.imwrite(frame, rng.poisson(2.0, (195, 487)).astype(np.int32), compression="zlib")
                restore_times(frame, st_)
        elif step == "mask" and not aside.exists():
            shutil.move(folder / "image00002.tiff", aside)
        elif step == "unmask" and aside.exists():
            shutil.move(aside, folder / "image00002.tiff")
        elif step == "spice":
            spice = {"settings": {"grid_size": [21, 30]}} if spice == SPICE else SPICE
        elif step == "new session":
            scan = open_scan(url)
        elif step == "cook":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "1 of 6 frames are missing"
                assert_same_map(scan.cook(spice, missing="mask"), uncached(url, spice, missing="mask"))
