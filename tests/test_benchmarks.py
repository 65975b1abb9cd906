"""Every benchmark in ``benchmarks/`` runs: its ``--quick`` mode (small data, seconds) exits cleanly and prints ratios.

A benchmark that nothing runs rots (an import that went away, an API that
changed): CI runs each one's quick mode here, in a process of its own.
Nothing is asserted on time -- the figures are for people (``nox -s bench``
runs them in full).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared import shared_path

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))
#: What a benchmark reads from the real files, for `shared_path` to find (or skip without, fail under CI).
NEEDS = dict.fromkeys(
    ["spec_listing_and_summaries.py", "scan_index_listing_and_search.py"],
    ("realdata", "kmc3-pyEvalData", "spec_pilatus.spec"),
)


def test_every_benchmark_is_here():
    assert len(BENCHMARKS) >= 7, [p.name for p in BENCHMARKS]


@pytest.mark.parametrize("script", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_quick_run(script, tmp_path):
    env = {**os.environ, "NX5D_PROGRESS": "0", "NX5D_CACHE_DIR": str(tmp_path / "cache")}
    if script.name in NEEDS:
        env["NX5D_SHARED"] = str(shared_path(*NEEDS[script.name]).parents[len(NEEDS[script.name]) - 1])
    done = subprocess.run(
        [sys.executable, str(script), "--quick"], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
    )
    assert done.returncode == 0, f"{script.name} --quick failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert re.search(r"\d\.\d\d", done.stdout), done.stdout  # it printed its figures
