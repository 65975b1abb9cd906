"""The pages for contributors and plugin authors say what the code does.

* the porting guide's plugin "before" is reported as written for plugin API 1,
  its plugin "after" opens, lists, loads and cooks data, and every new place
  its names table gives exists;
* every file the Internals page's "where to change X" table names exists and
  holds the function or class the row says does it.
"""

import ast
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import nx5d
from nx5d.deprecation import API_1_MODULES, PORTING_GUIDE
from nx5d.errors import PluginApiMismatchError
from nx5d.plugins.discovery import BEAMLINE_GROUP, PluginRegistry

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"


def python_blocks(page):
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)


def table_rows(page, heading):
    """The rows of the first table under ``## heading`` of a docs page, as lists of cells."""
    text = (DOCS / page).read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


def install_module(folder, module, source, beamline=None):
    """``module`` written into ``folder``; with ``beamline``, a distribution announcing it as that beamline."""
    (folder / f"{module}.py").write_text(source)
    if beamline is not None:
        info = folder / f"{module}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[{BEAMLINE_GROUP}]\n{beamline} = {module}\n")


def test_the_porting_guide_is_the_page_discovery_names():
    assert "docs/porting-from-plugin-api-1.md" in PORTING_GUIDE
    assert (DOCS / "porting-from-plugin-api-1.md").is_file()


def test_the_guide_s_plugin_before_is_reported_as_written_for_plugin_api_1(tmp_path, monkeypatch):
    before = python_blocks("porting-from-plugin-api-1.md")[0]
    assert "NX5D_PLUGIN_API = 1" in before
    install_module(tmp_path, "nx5d_p08_api1", before, beamline="p08-api1")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = PluginRegistry()
    with pytest.raises(PluginApiMismatchError):
        registry.load("p08-api1")
    assert "written for plugin API 1 (nx5d.hdf5 is nx5d.io.hdf5 now)" in registry.status("p08-api1").error


def write_p08(root, scans):
    """A P08-style repository: ``{proposal}/{scan}.h5`` with counters and frames in /measurement."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(8)
    for proposal, keys in scans.items():
        (root / proposal).mkdir(parents=True)
        for key in keys:
            with h5py.File(root / proposal / f"{key}.h5", "w") as f:
                f.attrs["title"] = "ascan theta 10 12 4 1"
                group = f.create_group("measurement")
                group["theta"] = np.linspace(10, 12, 5)
                group["monitor"] = np.full(5, 1000.0)
                group["images"] = rng.poisson(5, (5, 6, 8)).astype(np.uint32)
    return f"file://{root}/{{proposal}}/{{scan}}.h5"


def test_the_guide_s_plugin_after_opens_lists_loads_and_cooks(tmp_path, monkeypatch):
    after = python_blocks("porting-from-plugin-api-1.md")[1]
    assert "NX5D_PLUGIN_API = 2" in after
    install_module(tmp_path, "nx5d_p08_api2", after)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = importlib.import_module("nx5d_p08_api2")
    registry = PluginRegistry(discover=False)
    registry.register_beamline("p08", plugin)
    url = write_p08(tmp_path / "data", {"20250101": ["0001", "0002"]})

    repo = nx5d.open(url, registry=registry, spice_url="")
    assert repo.beamline == "p08"
    assert repo.all() == {"20250101": "p20250101"}
    scan = repo.p20250101.s0001
    assert scan.summary == {"type": "ascan", "steps": 5, "notes": "ascan theta 10 12 4 1"}
    assert scan.raw["images"].shape == (5, 6, 8)
    assert scan.load(roi=(0, 2, 0, 3))["images"].shape == (5, 2, 3)
    whole = scan.cooked["intensity"].values
    np.testing.assert_array_equal(whole, scan.raw["images"].values.sum(axis=(1, 2)))
    repo.p20250101.spice.seed("settings", roi=[0, 2, 0, 3], background=1.0)
    expected = scan.raw["images"].values[:, :2, :3].sum(axis=(1, 2)) - 6.0
    np.testing.assert_array_equal(repo.p20250101.s0001.cook()["intensity"].values, expected)


def _module(dotted):
    """The module ``dotted`` names, or ``None`` when it names no module."""
    try:
        return importlib.import_module(dotted)
    except ImportError:
        return None


def test_every_new_place_of_the_porting_guide_exists():
    """The new place (the first name of a row's right cell) exists and holds every name the left cell lists."""
    rows = table_rows("porting-from-plugin-api-1.md", "Names")
    assert len(rows) > 20
    for old, new in rows:
        place = re.search(r"`([\w.]+)`", new)[1]
        first, *more = re.findall(r"`([\w.]+)`", old)
        names = [n for n in more if "." not in n]  # `nx5d.frames.load_frames`, `lazy_frames`: both in nx5d_tiff.files
        if first not in API_1_MODULES:
            names.insert(0, first.rpartition(".")[2])
        module = _module(place)
        if module is None:  # a renamed object (`nx5d.info.BeamlineInfo` is `nx5d.plugins.Beamline`)
            holder, _, name = place.rpartition(".")
            assert hasattr(_module(holder), name), f"{old}: {place} does not exist"
            continue
        missing = [name for name in names if not hasattr(module, name)]
        assert missing == [], f"{old}: {place} lacks {missing}"


def test_the_porting_guide_covers_every_module_discovery_recognises():
    names = " ".join(old for old, _ in table_rows("porting-from-plugin-api-1.md", "Names"))
    assert [module for module in API_1_MODULES if f"`{module}" not in names] == []


def _names(node):
    """The names a statement of a module or class body defines."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return [getattr(target, "id", None) for target in targets]


def _defines(path, dotted):
    """Whether the Python file ``path`` defines ``dotted`` (``name`` at top level, or ``Class.member``)."""
    body = ast.parse(path.read_text()).body
    for part in dotted.split("."):
        found = [node for node in body if part in _names(node)]
        if not found:
            return False
        body = getattr(found[-1], "body", [])
    return True


def test_every_where_to_change_answer_is_one_file_that_defines_what_it_names():
    rows = table_rows("internals.md", "Where to change what")
    questions = [row[0] for row in rows]
    for asked in [
        "see where a SPEC scan line is parsed",
        "see where the RSM grid is computed",
        "add a field to the SPEC scan table (the SPEC summary)",
        "add a claim to a beamline",
        "see where a NeXus scan's layout is found",
        "see where the cooked cache key is made",
        "see where TIFF frames are decoded",
        "add a hook",
        "add a CLI command",
        "see where a recipe gets chosen",
    ]:
        assert asked in questions
    for asked, where, what in rows:
        (path,) = [p for p in re.findall(r"`([^`]+)`", where) if "/" in p]  # one file
        names = re.findall(r"`([A-Za-z_][\w.]*)`", re.sub(r"\([^)]*\)", "", what))
        assert names, asked
        assert (ROOT / path).is_file(), f"{asked}: {path} does not exist"
        missing = [name for name in names if not _defines(ROOT / path, name)]
        assert missing == [], f"{asked}: {path} does not define {missing}"


def test_the_internals_page_lists_the_built_in_extensions():
    from nx5d.extensions import BUILTIN

    rows = table_rows("internals.md", "The layers of the core")
    listed = {row[0].strip("`"): row[1].strip("`") for row in rows}
    assert listed == {name: module.removeprefix("nx5d.").replace(".", "/") + ".py" for name, module in BUILTIN.items()}
