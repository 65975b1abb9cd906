"""A beamtime you can search: the scan index across processes on real SPEC files, and ``nx5d search``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from .shared import shared_path

AUDITED = textwrap.dedent(
    """
    import json, sys
    opened = []
    def audit(event, args):
        if event == "open" and isinstance(args[0], str) and args[0].endswith(".spec"):
            opened.append(args[0].rsplit("/", 1)[-1])
    sys.addaudithook(audit)
    import nx5d
    repo = nx5d.open(sys.argv[1], beamline="spec", spice_url="")
    rows = {key: repo[key].summaries() for key in repo.keys()}
    print(json.dumps({"opened": sorted(set(opened)), "rows": rows}, default=str))
    """
)


@pytest.fixture
def beamtime(tmp_path):
    real = shared_path("realdata", "kmc3-pyEvalData", "spec_pilatus.spec")
    folder = tmp_path / "spec"
    folder.mkdir()
    for name in ("alignment", "beamtime"):
        shutil.copy(real, folder / f"{name}.spec")  # copies in tmp_path: one of them is changed below
    return f"file://{folder}/{{proposal}}.spec#{{scan}}", folder


def run(code, *args, env):
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_new_process_reads_no_scan_file_and_a_changed_file_alone_is_read_again(beamtime, tmp_path):
    url, folder = beamtime
    env = {**os.environ, "NX5D_INDEX": str(tmp_path / "index"), "NX5D_PROGRESS": "0"}
    (tmp_path / "index").mkdir()
    first = json.loads(run(AUDITED, url, env=env))
    assert first["opened"] == ["alignment.spec", "beamtime.spec"]
    assert len(first["rows"]["beamtime"]) == 10
    again = json.loads(run(AUDITED, url, env=env))
    assert again["opened"] == []  # listings and summaries from the index: no scan file opened
    assert again["rows"] == first["rows"]
    with open(folder / "beamtime.spec", "a") as spec:
        spec.write("\n#S 11  ascan  th 1 2  2 1\n#D Thu Jun 25 18:00:00 2015\n#L th  det\n1 5\n1.5 6\n2 7\n")
    changed = json.loads(run(AUDITED, url, env=env))
    assert changed["opened"] == ["beamtime.spec"]  # the changed document, and nothing else
    assert changed["rows"]["alignment"] == first["rows"]["alignment"]
    assert changed["rows"]["beamtime"][-1]["scan"] == "11.1"
    assert changed["rows"]["beamtime"][-1]["range"] == [1.0, 2.0]


def test_nx5d_search_on_the_command_line(beamtime, tmp_path):
    url, _ = beamtime
    env = {**os.environ, "NX5D_PROGRESS": "0", "COLUMNS": "200"}
    index = str(tmp_path / "index.sqlite3")
    command = [sys.executable, "-m", "nx5d", "search", url, "--beamline", "spec", "--index", index]
    found = subprocess.run([*command, "--type", "ascan", "--json"], capture_output=True, text=True, env=env)
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert rows
    assert {row["type"] for row in rows} == {"ascan"}
    assert {row["proposal"] for row in rows} == {"alignment", "beamtime"}
    motor = rows[0]["motor"]
    low, high = rows[0]["range"]
    narrow = subprocess.run(
        [*command, "--proposal", "beamtime", "--motor", motor, "--range", str(low), str(high), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert {(r["proposal"], r["scan"]) for r in json.loads(narrow.stdout)} >= {("beamtime", rows[0]["scan"])}
    table = subprocess.run([*command, "--text", "no such words anywhere"], capture_output=True, text=True, env=env)
    assert table.returncode == 0
    assert "0 scan(s) found" in table.stdout
    assert os.path.exists(index)
