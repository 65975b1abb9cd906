"""The reference page's UDKM example, run unchanged on generated data, gives the printed results.

The notebook cells of shared/reference/nx5d-loading-data.txt run in order in one
namespace against a repository written by our generator (the page's 5187-frame
scan), and the packaged plugin opened with ``nx5d.open`` gives the same data
and the same maps.
"""

import ast
import re
import contextlib
import io

import numpy as np
import pytest
import xrayutilities

import nx5d
from nx5d_udkm.synth import REFERENCE_DELAYS, ScanSpec, write_repository

from .page_cells import CELLS

PAGE_ROOT = "/home/jovyan/tmp/repo2"
VARIABLES = [
    "Loop_Delay", "Delay", "Loop_Theta", "Theta", "CrystalV", "Crystalphs",
    "Pilatusphs", "Repeats", "ImageNumber", "Intensitiesphs", "images",
]  # fmt: skip


class Notebook:
    """Runs cells in one namespace; the value of a cell's last expression is its output."""

    def __init__(self, root):
        self.root = str(root)
        self.namespace = {"__name__": "notebook"}
        self.out = {}

    def run(self, n):
        tree = ast.parse(CELLS[n].replace(PAGE_ROOT, self.root))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(tree, f"<In [{n}]>", "exec"), self.namespace)
            value = eval(compile(ast.Expression(last.value), f"<In [{n}]>", "eval"), self.namespace) if last else None
        self.out[n] = (value, printed.getvalue())
        return value


@pytest.fixture(scope="module")
def repo2(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo2")
    write_repository(root, {"20210205": ["091726"]}, ScanSpec())
    return root


@pytest.fixture(scope="module")
def notebook(repo2):
    book = Notebook(repo2)
    for n in (1, 3, 2, 32, 33, 34, 35, 36, 37):
        book.run(n)
    # The page's session had seeded 'settings' before: In [39] returns that earlier record
    # (grid_size (80, 150)), and the maps of In [43] are 80 x 150 accordingly.
    book.namespace["udkm"].p20210205.spice.seed(
        "settings", img_center=(50, 120), img_distance=690.0, grid_size=(80, 150)
    )
    for n in (39, 40, 41, 43):
        book.run(n)
    return book


def test_fs_load_data_gives_the_printed_dataset(notebook):
    example, _ = notebook.out[3]
    assert dict(example.sizes) == {"index": 5187, "w": 20, "h": 49}
    assert list(example.data_vars) == VARIABLES
    assert example.images.dtype == np.int32
    assert example.Loop_Delay.values[[0, -1]].tolist() == [1.0, 3.0]
    assert example.Delay.values[[0, -1]].tolist() == [-10.0, -6.0]
    assert example.Theta.values[[0, 1, 2, -3, -2, -1]].tolist() == [18.1, 18.15, 18.2, 19.0, 19.05, 19.1]
    assert example.ImageNumber.values[[0, -1]].tolist() == [0.0, 5186.0]
    assert np.isnan(example.Intensitiesphs.values).all()
    assert (example.Repeats.values == 0).all()
    assert int(example.images[0, 0, 0]) == -2
    assert np.unique(example.Delay.values).size == 122


def test_listing_and_scan_table_as_printed(notebook):
    assert notebook.out[34][0] == {"20210205": "p20210205"}
    table = notebook.out[35][0]._repr_html_()
    shown = re.findall(r"<td(?:\s[^>]*)?>(.*?)</td>", table)
    for cell in ("091726", "default", "5187", "UDKM simplified example"):
        assert cell in shown


def test_raw_and_cooked_as_printed(notebook):
    raw, _ = notebook.out[36]
    assert dict(raw.sizes) == {"index": 5187, "w": 98, "h": 244}
    assert list(raw.data_vars) == VARIABLES
    assert raw.images.values[0, [0, 0, -1, -1], [0, -1, 0, -1]].tolist() == [-2, -2, -2, -2]
    rsm, printed = notebook.out[37]
    assert printed == "loading hard-coded settings\n"
    assert dict(rsm.sizes) == {"Delay": 122, "qy": 80, "qz": 150}
    assert rsm.Delay.values.tolist() == list(REFERENCE_DELAYS)


def test_spice_as_printed(notebook):
    record, _ = notebook.out[39]
    assert {k: record[k] for k in ("type", "handle", "revision", "anchor")} == {
        "type": "settings", "handle": "settings", "revision": 1, "anchor": ""
    }  # fmt: skip
    assert record["data"] == {"img_center": (50, 120), "img_distance": 690.0, "grid_size": (80, 150)}
    view, _ = notebook.out[40]
    (row,) = view.rows()
    assert (row["viewpoint"], row["handle"], row["clean"], row["revision"], row["anchor"]) == (
        "r091726", "settings", True, 1, ""
    )  # fmt: skip
    assert row["uuid"] == record["uuid"][:6]
    rsm, printed = notebook.out[43]
    assert printed == "settings from spice\n"
    assert dict(rsm.sizes) == {"Delay": 122, "qy": 80, "qz": 150}
    assert not rsm.qdata.equals(notebook.out[37][0].qdata)  # other centre and distance, other maps


def test_packaged_plugin_gives_the_same_results(notebook, repo2):
    repo = nx5d.open(f"file://{repo2}/{{proposal}}/{{scan}}", spice_url="")
    assert repo.beamline == "udkm"
    assert repo.all() == notebook.out[34][0]
    scan = repo.p20210205.r091726
    assert scan.summary["steps"] == 5187
    page_raw = notebook.out[36][0]
    ours = scan.load(reduce=2, names="reference")
    for name in VARIABLES[:-1]:
        np.testing.assert_array_equal(ours[name].values, page_raw[name].values)
    np.testing.assert_array_equal(ours.images.values, page_raw.images.values)
    assert ours.images.dims == ("index", "y", "x")
    # The preset says, in full-frame terms, what the page hard-codes: every second pixel ([::2, ::2]), 0.172 mm per
    # kept pixel (0.086 mm per full pixel), centre (45, 150) of the halved frame = (90, 300), gap pixels kept, and
    # the energy its HXRD(...) without en= falls back to (xrayutilities' Cu K-alpha1).
    repo.p20210205.spice.seed_preset("reference-page")
    settings = repo.p20210205.spice.view("r091726")["settings"]
    assert settings.energy == xrayutilities.config.ENERGY
    cooked = scan.cooked  # loaded as recorded: full frames
    page = notebook.out[37][0]
    np.testing.assert_allclose(cooked.qy.values, page.qy.values, rtol=1e-12)
    np.testing.assert_allclose(cooked.qz.values, page.qz.values, rtol=1e-12)
    np.testing.assert_allclose(cooked.delay.values, page.Delay.values)
    assert cooked.attrs["nx5d_recipe"] == "delay-rsm"
    measured = cooked.weight.values > 0  # the page's gridder writes 0 where no pixel fell; nx5d writes NaN
    np.testing.assert_allclose(cooked.qdata.values[measured], page.qdata.values[measured], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(page.qdata.values[~measured], 0.0)
    assert np.isnan(cooked.qdata.values[~measured]).all()
