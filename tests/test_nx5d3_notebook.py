"""A notebook written in nx5d 3.x's style runs unchanged from its first cell, warning where spellings changed.

``notebooks/nx5d3-style.ipynb`` uses 3.2's subclassing API (``_list_proposals``,
``nx5d.repo.astor.DataProposal(..., scan_class=ArrayScan)``), its naming
keywords (``proposal_key_parse=``, ``proposal_handle_format=``) and a proposal
whose spice folder holds 3.x records (``exp_info`` with 10000 eV and 700 mm,
where the UDKM defaults differ).  Its code cells run one after the other in
one namespace, as a kernel runs them, in a folder holding generated UDKM and
NeXus repositories; the test then checks what the cells made and warned.
"""

from __future__ import annotations

import json
import uuid
import warnings
from pathlib import Path

import pytest

from nx5d.deprecation import Nx5dDeprecationWarning
from nx5d.errors import SpiceWarning
from nx5d_nexus.synth import write_repository as write_nexus
from nx5d_udkm.synth import ScanSpec, write_repository

NOTEBOOK = Path(__file__).with_name("notebooks") / "nx5d3-style.ipynb"
SMALL = ScanSpec(delays=(-10.0, 0.0, 50.0), thetas=(18.4, 18.5, 18.6, 18.7), delay_loops=1, frames=None)


def nx5d3_record(handle: str, data: dict, anchor: str = "") -> dict:
    """A spice record as nx5d 3.x wrote it (its own format version, a file named by the uuid alone)."""
    return {"version": "kmc3/1a", "type": handle, "handle": handle, "uuid": str(uuid.uuid4()), "revision": 1,
            "anchor": anchor, "data": data}  # fmt: skip


@pytest.fixture
def beamtime_folder(tmp_path, monkeypatch):
    """A folder with ``udkm/`` (3.x spice in the proposal's spice folder) and ``nexus/``; the working directory."""
    write_repository(tmp_path / "udkm", {"20210205": ["091726", "101500"]}, SMALL)
    spice = tmp_path / "udkm" / "20210205" / "spice"
    spice.mkdir()
    exp_info = nx5d3_record("exp_info", {"beamEnergy": 10000.0, "imageDistance": 700.0})
    (spice / exp_info["uuid"]).write_text(json.dumps(exp_info))
    write_nexus(tmp_path / "nexus", {"hc2103": [1, 2], "hc2104": [1]})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_notebook(path: Path) -> tuple[dict, list[warnings.WarningMessage]]:
    """Execute the code cells of ``path`` in order in one namespace; the namespace and every warning given."""
    namespace: dict = {"__name__": "__main__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), f"<cell {number}>", "exec"), namespace)
    return namespace, caught


def test_an_nx5d3_notebook_runs_unchanged_with_warnings_naming_the_new_spelling(beamtime_folder):
    cells, caught = run_notebook(NOTEBOOK)
    deprecations = [str(w.message) for w in caught if issubclass(w.category, Nx5dDeprecationWarning)]
    for old, new in [
        ("nx5d.repo.astor.DataProposal", "nx5d.repo.astor.ArrayProposal"),
        ("Beamtime._list_proposals()", "all(), returning {key: handle}"),
        ("proposal_key_parse=", "proposal_key="),
        ("proposal_handle_format=", "proposal_handle="),
    ]:
        assert any(old in m and m.endswith(f"use {new}") for m in deprecations), (old, deprecations)
    # the subclassed beamtime: 3.2's templates, the listing by hand, scans of the class given
    assert cells["beamtime"].all() == {"hc2103": "beamtime2103", "hc2104": "beamtime2104"}
    assert type(cells["scan"]).__name__ == "ArrayScan"
    assert "images" in cells["raw"]
    assert cells["repo"].all() == {"20210205": "p20210205"}
    # 3.x spice sitting in the proposal's own spice folder: imported, and the view shows what the cook uses
    assert [r["type"] for r in cells["imported"]] == ["exp_info"]
    settings = cells["view"]["settings"]
    assert (settings.energy, settings.img_distance) == (10000.0, 700.0)
    rows = {row["field"]: row for row in cells["view"].field_rows() if row["spice"] == "settings"}
    assert rows["energy"]["from"].startswith("exp_info revision 1")
    assert rows["energy"]["from"].endswith("(nx5d 3.x)")
    assert rows["grid_size"]["from"] == "beamline default"
    assert cells["cooked"].attrs["nx5d_spice"]
    proposal = cells["p"]
    assert proposal.all() == {"091726": "r091726", "101500": "r101500", "both": "both"}  # the stack spice's too
    assert proposal["both"] is proposal.scan(handle="both") is proposal.both
    assert proposal["both"].members == ["091726", "101500"]
    assert proposal.keys() == ["091726", "101500"]  # the mapping is the scans'


def test_importing_again_writes_nothing_and_the_folder_reads_the_import(beamtime_folder):
    cells, _ = run_notebook(NOTEBOOK)
    proposal = cells["p"]
    assert proposal.spice.import_nx5d3(str(beamtime_folder / "udkm" / "20210205" / "spice")) == []
    assert [r.version for r in proposal.spice.records() if r.type == "exp_info"][:1] != ["kmc3/1a"]


def test_a_subclass_listing_scans_the_3x_way_warns_once_at_its_definition():
    from nx5d.repo.base import DataProposalBase

    with pytest.warns(Nx5dDeprecationWarning, match=r"overriding Old\._list_scans\(\) .* use all\(\)") as caught:

        class Old(DataProposalBase):
            def _list_scans(self):
                return ["1", "2"]

    assert caught[0].filename == __file__
    assert not any(issubclass(w.category, SpiceWarning) for w in caught)
