"""Hostile HDF5 and Zarr documents over their spaces (Hypothesis), through every beamline that reads them.

Link graphs -- soft, external and hard links at any level, loops, dangling
links, links out of the root -- are drawn into a generated NeXus (``nexus``)
and KMC3 (``kmc3``) document; every outcome of listing, summarising and
loading, and of the core's HDF5 listing, must be a result or an nx5d error,
and no file outside the root may be opened.  The witness of an opening is
the secret files' access time (set to 0; a read sets it on this file
system, which the fixture checks first), not only the secret's absence from
the results.  HDF5 looks for a linked file that is absent beside the
document in the working directory too: the tests run in a folder holding
such files.

Declared shapes (frame datasets and counters of any shape, type and
chunking, huge ones in tiny files, zero-length ones, lengths that disagree)
and damaged Zarr metadata (shapes, chunks, types, fill values, missing
chunks, ``zarr.json`` cut short) must read, or fail with an nx5d error of
the reader's own naming the document -- never a raw exception (which the
core wraps in ``BeamlineFailure``), never ``MemoryError``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import nx5d
from nx5d.errors import BeamlineFailure, Nx5dError
from nx5d.io import hdf5
from nx5d.io.storage import Storage
from nx5d_kmc3.synth import ScanPlan
from nx5d_kmc3.synth import write_repository as write_kmc3
from nx5d_nexus.synth import write_repository as write_nexus

SECRET = 987654321

#: The secret files an example may name: beside the root, and absent from the root (HDF5 then looks in the
#: working directory, where they lie).
SECRETS = ("secret.h5", "missing.h5")


def _write_secret(path: Path) -> None:
    with h5py.File(path, "w") as handle:
        entry = handle.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry["title"] = f"ascan th 0 1 4 1 {SECRET}"
        entry["measurement/counts"] = np.full(5, SECRET, float)
        entry["instrument/specfile/file_header"] = f"#F kmc3 {SECRET}"
        entry["instrument/mpx/image"] = np.full((5, 4, 4), SECRET, np.int32)


def _explains(exc: Nx5dError, document: str) -> None:
    """An nx5d error of the reader's own naming the document -- not a raw exception wrapped by the core."""
    assert not isinstance(exc, BeamlineFailure), f"a raw exception escaped the beamline: {exc}"
    assert document in str(exc), exc


def _untouched(path: Path) -> None:
    st_ = os.stat(path)
    os.utime(path, ns=(0, st_.st_mtime_ns))


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """``{beamline: (template root, URL pattern)}`` of one small scan each, and a check of the witness."""
    base = tmp_path_factory.mktemp("templates")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nexus_url = write_nexus(base / "nexus", {"hc2103": [1]}, "bliss", points=5)
        kmc3_url = "file://" + str(base / "kmc3") + "/{proposal}/{proposal}.h5#{scan}"
        write_kmc3(kmc3_url, {"p1": (ScanPlan(points=5, frame_shape=(8, 8)),)}, sources=base / "spec")
    probe = base / "probe.h5"
    _write_secret(probe)
    _untouched(probe)
    with h5py.File(probe, "r") as handle:
        handle["entry/measurement/counts"][()]
    if os.stat(probe).st_atime_ns == 0:
        pytest.skip("this file system does not update access times: the witness of an opening cannot see one")
    return {"nexus": (base / "nexus", nexus_url), "kmc3": (base / "kmc3", kmc3_url)}


@pytest.fixture(scope="module")
def playground(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("examples")


def _example(templates, playground, beamline: str) -> tuple[Path, Path, str]:
    """A fresh copy of ``beamline``'s template in a folder of its own with the secrets beside it."""
    folder = Path(tempfile.mkdtemp(dir=playground))
    template, url = templates[beamline]
    shutil.copytree(template, folder / "repo")
    for name in SECRETS:
        _write_secret(folder / name)
        _untouched(folder / name)
    document = next((folder / "repo").rglob("*.h5"))
    return folder, document, url.replace(str(template), str(folder / "repo"))


# --- link graphs --------------------------------------------------------------------------------------------

#: Where a link is put: a new scan group, members at each level of the scan group, a group on the way.
PLACES = ("9.1", "ext", "{scan}/extra", "{scan}/measurement/extra", "{scan}/instrument/extra", "{scan}/measurement")
EXTERNAL = st.tuples(
    st.just("external"),
    st.sampled_from(["../../secret.h5", "{abs}/secret.h5", "missing.h5", "/nonexistent/secret.h5", "../secret.h5"]),
    st.sampled_from(["/entry", "/entry/measurement", "/entry/measurement/counts", "/", "/nowhere"]),
)
SOFT = st.tuples(
    st.just("soft"),
    st.sampled_from(["/{scan}", "/9.1", "/ext", "/ext/measurement", "/{scan}/measurement", "/nowhere", "SELF"]),
    st.just(""),
)
HARD = st.tuples(
    st.just("hard"), st.sampled_from(["/{scan}/measurement", "/{scan}/instrument", "/{scan}"]), st.just("")
)
LINKS = st.lists(st.tuples(st.sampled_from(PLACES), st.one_of(EXTERNAL, SOFT, HARD)), min_size=1, max_size=4)


def _draw_links(document: Path, scan: str, folder: Path, links: list[tuple[str, tuple[str, str, str]]]) -> None:
    with h5py.File(document, "a") as handle:
        for place, (kind, target, inside) in links:
            place = place.format(scan=scan)
            target = target.format(scan=scan, abs=folder)
            try:
                _draw(handle, place, kind, target, inside)
            except (RuntimeError, OSError, KeyError, ValueError):
                continue  # cannot be drawn there (a group on the way is a link now): the graph goes without it


def _draw(handle: h5py.File, place: str, kind: str, target: str, inside: str) -> None:
    if _parents(place) and _through_link(handle, _parents(place)[-1]):
        return  # h5py would write through the link (into the secret file, for an external one)
    if handle.get(place, getlink=True) is not None:
        del handle[place]
    if kind == "external":
        handle[place] = h5py.ExternalLink(target, inside)
    elif kind == "soft":
        handle[place] = h5py.SoftLink("/" + place if target == "SELF" else target)
    elif target in handle and not _through_link(handle, target):
        handle[place] = handle[target]


def _parents(place: str) -> list[str]:
    parts = place.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _through_link(handle: h5py.File, path: str) -> bool:
    return any(not isinstance(handle.get(p, getlink=True), h5py.HardLink) for p in [*_parents(path), path])


def _values(found: Any) -> list[np.ndarray]:
    """The values a result holds, without computing lazy (dask) arrays."""
    if hasattr(found, "variables"):
        return [np.asarray(v.data) for v in found.variables.values() if type(v.data).__module__.startswith("numpy")]
    if isinstance(found, dict):
        return [np.asarray(v) for v in found.values() if isinstance(v, int | float | np.ndarray)]
    return []


def _outcomes(calls: list[Callable[[], Any]]) -> list[str]:
    """What each call gave: a result's values are checked for the secret; an nx5d error's message kept."""
    texts = []
    for call in calls:
        try:
            found = call()
        except BeamlineFailure as exc:
            raise AssertionError(f"a raw exception escaped the beamline: {exc}") from exc
        except Nx5dError as exc:
            texts.append(str(exc))
            continue
        for values in _values(found):
            assert not np.isin(np.asarray(values, dtype=object), [SECRET, float(SECRET)]).any()
        texts.append(repr(found))
    return texts


def _reads_or_explains(scan: Any, document: str) -> None:
    """Summary, lazy and eager load of ``scan``: each reads, or fails with an nx5d error naming ``document``."""
    for load in (lambda: scan.summary, lambda: scan.load(lazy=True), lambda: scan.load(lazy=False)):
        try:
            load()
            event("read")
        except Nx5dError as exc:
            event(type(exc).__name__)
            _explains(exc, document)


def _exercise(url: str, beamline: str, document: Path) -> list[str]:
    """List, summarise and load every scan (also the drawn ``9.1``) and list with the core's helper."""
    texts: list[str] = []
    storage = Storage(root="file://" + str(document.parent.parent))
    for path in [(), ("9.1",), ("ext",), ("1.1",), ("1.1", "measurement")]:
        texts += _outcomes([lambda path=path: hdf5.members(storage, "file://" + str(document), path)])
    try:
        repo = nx5d.open(url, spice_url="", beamline=beamline)
        proposal = repo[repo.keys()[0]]
        keys = sorted({*proposal.keys(), "9.1", "1.1", "ext"})
    except Nx5dError as exc:
        return [*texts, str(exc)]
    for key in keys:

        def scan(key: str = key) -> Any:
            return proposal[key]

        texts += _outcomes(
            [
                lambda: scan().summary,
                lambda: scan().raw,
                lambda: scan().load(lazy=False),
            ]
        )
    return texts


@pytest.mark.parametrize("beamline", ["nexus", "kmc3"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=LINKS)
def test_any_link_graph_reads_inside_the_root_or_fails_by_name(templates, playground, monkeypatch, beamline, links):
    folder, document, url = _example(templates, playground, beamline)
    monkeypatch.chdir(folder)  # where HDF5 looks for a linked file absent beside the document
    _draw_links(document, "1.1", folder, links)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        texts = _exercise(url, beamline, document)
    texts += [str(w.message) for w in caught]
    assert not [t for t in texts if str(SECRET) in t]
    opened = [name for name in SECRETS if os.stat(folder / name).st_atime_ns != 0]
    assert not opened, f"opened outside the root: {opened}"


# --- declared shapes ----------------------------------------------------------------------------------------

#: ``{beamline: (frame dataset, a counter)}`` of the templates.
MEMBERS = {
    "nexus": ("1.1/instrument/mpx/image", "1.1/instrument/mon/data"),
    "kmc3": ("1.1/instrument/pilatus/data", "1.1/measurement/Monitor"),
}
LENGTHS = st.sampled_from([0, 1, 3, 5, 7, 10**6, 10**10, 2**40])
SIDES = st.sampled_from([0, 1, 8, 100_000, 2**31])
DTYPES = st.sampled_from(["f8", "i4", "u2", "u8", "S8", "bool", "c16", "f8,i4"])
DECLARED = st.fixed_dictionaries(
    {
        "counter": st.tuples(st.lists(LENGTHS, min_size=0, max_size=3).map(tuple), DTYPES, st.booleans()),
        "extra": st.tuples(st.lists(LENGTHS, min_size=0, max_size=2).map(tuple), DTYPES, st.booleans()),
        "frames": st.tuples(
            st.tuples(LENGTHS, SIDES, SIDES).map(tuple) | st.lists(SIDES, min_size=1, max_size=4).map(tuple),
            DTYPES,
            st.booleans(),
        ),
    }
)


def _declare(handle: h5py.File, path: str, shape: tuple[int, ...], dtype: str, chunked: bool) -> None:
    """Replace ``path`` by a dataset declaring ``shape``, nothing written (a tiny file)."""
    if path in handle:
        del handle[path]
    chunks = tuple(max(1, min(n, 64)) for n in shape) if chunked and shape and all(shape) else None
    for layout in ({"chunks": chunks}, {}):  # HDF5 may refuse the chunks, or the size itself: then it is absent
        try:
            handle.create_dataset(path, shape=shape, dtype=np.dtype(dtype), **layout)
            return
        except (ValueError, OSError):
            continue


@pytest.mark.parametrize("beamline", ["nexus", "kmc3"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(declared=DECLARED)
def test_any_declared_shape_reads_or_fails_by_name_before_allocating(templates, playground, beamline, declared):
    _, document, url = _example(templates, playground, beamline)
    frames, counter = MEMBERS[beamline]
    with h5py.File(document, "a") as handle:
        _declare(handle, counter, *declared["counter"])
        _declare(handle, counter.rsplit("/", 1)[0] + "/drawn", *declared["extra"])
        _declare(handle, frames, *declared["frames"])
    assert document.stat().st_size < 2**20  # declared, not written
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan = nx5d.open(url, spice_url="", beamline=beamline)[document.parent.name].scan("1.1")
        _reads_or_explains(scan, document.name)


# --- Zarr metadata ----------------------------------------------------------------------------------------

VALUES = st.sampled_from([0, 1, -1, 5, 10**10, 2**63, None, "5", [5], [], 1.5, {"a": 1}])
SHAPES = st.lists(st.sampled_from([0, 1, 5, 24, 32, -1, 10**10]), min_size=0, max_size=4) | VALUES
FIELDS = st.one_of(
    st.tuples(st.just("shape"), SHAPES),
    st.tuples(st.just("chunk_shape"), SHAPES),
    st.tuples(
        st.just("data_type"), st.sampled_from(["int32", "float64", "uint64", "bool", "complex128", "string", "x"])
    ),
    st.tuples(st.just("fill_value"), st.sampled_from([0, None, "NaN", "x", 1e308, [1, 2], True])),
    st.tuples(st.just("node_type"), st.sampled_from(["array", "group", "x", None])),
    st.tuples(st.just("zarr_format"), st.sampled_from([3, 2, "3", None])),
    st.tuples(st.just("codecs"), st.sampled_from([[], [{"name": "x"}], None, "zstd"])),
)
DAMAGE = st.fixed_dictionaries(
    {
        "array": st.sampled_from(["measurement/mpx", "measurement/mon", "measurement", ""]),
        "edits": st.lists(FIELDS, max_size=3),
        "cut": st.none() | st.integers(0, 400),  # the metadata file cut short at this byte
        "chunks_removed": st.integers(0, 5),
    }
)


@pytest.fixture(scope="module")
def zarr_template(tmp_path_factory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return base / "data", write_nexus(base / "data", {"hc2103": [1]}, "zarr", points=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=DAMAGE)
def test_any_damaged_zarr_metadata_reads_or_fails_by_name(zarr_template, playground, damage):
    import json

    template, url = zarr_template
    root = Path(tempfile.mkdtemp(dir=playground)) / "data"
    shutil.copytree(template, root)
    node = root / "hc2103.zarr" / "1.1" / damage["array"]
    meta = node / "zarr.json"
    document = json.loads(meta.read_text())
    for field, value in damage["edits"]:
        if field == "chunk_shape":
            document.setdefault("chunk_grid", {}).setdefault("configuration", {})[field] = value
        else:
            document[field] = value
    text = json.dumps(document)
    meta.write_text(text if damage["cut"] is None else text[: damage["cut"]])
    for chunk in sorted(p for p in node.rglob("*") if p.is_file() and p.name != "zarr.json")[
        : damage["chunks_removed"]
    ]:
        chunk.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = url.replace(str(template), str(root))
        try:
            scan = nx5d.open(url, spice_url="", beamline="nexus").hc2103.scan("1.1")
        except Nx5dError as exc:  # the scan group's own metadata is damaged: it is no scan group
            _explains(exc, "hc2103")
            return
        _reads_or_explains(scan, "hc2103.zarr")
