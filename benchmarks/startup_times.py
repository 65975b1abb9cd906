"""Benchmark: how fast nx5d starts -- ``import nx5d``, ``nx5d --version``, one shell-completion Tab press.

Each is timed as a user meets it, a fresh process from start to exit, and
compared in the same run with

(a) the floor: a Python that imports nothing (``python -c pass``);
(b) the straightforward approach, what nx5d did before its imports were made
    lazy: importing the object model and the plugin registry at once
    (``import nx5d.model, nx5d.plugins.discovery``, which brings xarray,
    pandas and numpy).

The targets of issue 24 are printed beside the times: ``import nx5d`` at most
0.15 s, ``nx5d --version`` and a Tab press at most 0.3 s.  Run with ``nox -s
bench`` (``--quick``: fewer repetitions, as CI runs it).  Times are the best
of the repetitions; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def best(command: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    """The shortest wall time of ``command`` over ``repeat`` runs (after one run to warm the file cache)."""
    subprocess.run(command, check=True, capture_output=True, env=env)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return min(times)


def completion_env(line: str, out: Path) -> dict[str, str]:
    """The environment bash's completion function gives a program using argcomplete."""
    return {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\n",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 15")
    args = parser.parse_args()
    repeat = 3 if args.quick else 15
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "completions"
        rows = [
            ("floor: python -c pass", best([python, "-c", "pass"], repeat), None),
            ("import nx5d", best([python, "-c", "import nx5d"], repeat), 0.15),
            (
                "straightforward: import nx5d.model, nx5d.plugins.discovery",
                best([python, "-c", "import nx5d.model, nx5d.plugins.discovery"], repeat),
                None,
            ),
            ("nx5d --version", best([python, "-m", "nx5d", "--version"], repeat), 0.3),
            ("Tab after 'nx5d re'", best([python, "-m", "nx5d"], repeat, completion_env("nx5d re", out)), 0.3),
        ]
    floor = rows[0][1]
    eager = rows[2][1]
    print(f"{'what':58s} {'time':>8s} {'target':>8s} {'x floor':>8s} {'x eager':>8s}")
    for what, seconds, target in rows:
        shown = f"{target:.2f} s" if target is not None else ""
        print(f"{what:58s} {seconds:7.3f}s {shown:>8s} {seconds / floor:8.1f} {seconds / eager:8.2f}")


if __name__ == "__main__":
    main()
