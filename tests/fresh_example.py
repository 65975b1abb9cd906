"""The install pages' examples, run in the fresh environment one documented install line made.

`test_install_commands.py` runs this file with the fresh environment's
Python, which holds only what the line installed (no pytest, no test
extras).  For every bundled beamline the line installed, its data generator
writes a small repository into ROOT, and the example the pages show runs on
it in a new process, in the quick start's order: list, summary, then
`scan.cooked` before anything was loaded.  Where the line installed them, the
first beamline's scan goes through `xr.open_dataset(..., engine="nx5d")`, `nx5d plot`,
`nx5d watch`, `nx5d cook` and `nx5d.batch.cook_proposal` on a dask cluster,
and an `http://` copy of the UDKM repository is cooked.  `nx5d search`
finds the scans where the line installed nx5d-index, and otherwise says to
install it (listing and summaries above worked without it).  Exits non-zero with
the failing step's output.

Usage: ``python fresh_example.py ROOT``
"""

from __future__ import annotations

import functools
import http.server
import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import threading
from pathlib import Path

BIN = Path(sys.executable).parent

#: The generator of each beamline distribution, as the command its docs page names; its last line is the URL.
GENERATORS = {
    "nx5d-udkm": ["nx5d-udkm-synth", "{root}", "--delays", "2", "--thetas", "5"],
    "nx5d-spec": ["nx5d-spec-synth", "{root}"],
    "nx5d-nexus": ["nx5d-nexus-synth", "{root}"],
    "nx5d-kmc3": ["nx5d-kmc3", "synth", "{root}"],
    "nx5d-fio": [  # no command of its own: its generator module, as its tests call it
        "-c",
        "import sys; from nx5d_fio.synth import write_repository; "
        "print(write_repository(sys.argv[1], dict(p08=['rock_00001'])))",
        "{root}",
    ],
}

#: The pages' Python example: list, summary, cooked before raw (the order that once needed dask from a test extra).
EXAMPLE = """
import sys, nx5d
repo = nx5d.open(sys.argv[1])
proposal = repo[repo.keys()[0]]
key = next(k for k in proposal.keys() if proposal[k].summary.get("steps", 1))
scan = proposal[key]
print(repo, proposal, scan.summary, sep="\\n")
cooked = scan.cooked
assert cooked.data_vars, cooked
print(cooked)
print("KEYS", proposal.key, key)
if "--engine" in sys.argv:
    import xarray as xr

    raw = xr.open_dataset(sys.argv[1], engine="nx5d", proposal=proposal.key, scan=key)
    assert raw.data_vars, raw
"""

CLUSTER = """
import sys, nx5d
from dask.distributed import Client
with Client(processes=False, n_workers=1, threads_per_worker=1) as client:
    proposal = nx5d.open(sys.argv[1])[sys.argv[2]]
    for outcome in nx5d.batch.cook_proposal(proposal, sys.argv[3], out=sys.argv[4], client=client):
        print(outcome.scan, outcome.status, outcome.path or outcome.error)
        assert outcome.status != "failed", outcome.error
"""


def installed(distribution: str) -> bool:
    """Whether ``distribution`` is installed in this environment."""
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def run(*command: str, cwd: Path | None = None) -> str:
    """Run ``command`` (a script of this environment, or Python code after ``-c``); its output, or exit."""
    argv = [sys.executable, *command] if command[0] == "-c" else [str(BIN / command[0]), *command[1:]]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    print("$", *(["python -c ..."] if command[0] == "-c" else argv[:3]), "...", f"exit {done.returncode}", flush=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def served(folder: Path) -> str:
    """``folder`` served over HTTP by a thread of this process (a plain server that lists folders); its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def search(url: str, root: Path) -> None:
    """``nx5d search`` finds the scans with nx5d-index (from the files, then from its index), else says why not."""
    command = [str(BIN / "nx5d"), "search", url, "--json", "--index", str(root / "index.sqlite3")]
    if installed("nx5d-index"):
        found = [json.loads(run("nx5d", *command[1:])) for _ in range(2)]
        if not found[0] or found[0] != found[1]:
            sys.exit(f"nx5d search found {found[0]!r}, then {found[1]!r}")
        return
    done = subprocess.run(command, capture_output=True, text=True)
    print("$ nx5d search ...", f"exit {done.returncode}", flush=True)
    if done.returncode != 2 or "pip install './nx5d-index'" not in done.stderr or "Traceback" in done.stderr:
        sys.exit(f"nx5d search without nx5d-index: exit {done.returncode}\n{done.stderr[-3000:]}")


def main(root: Path) -> None:
    """Every example the installed distributions allow, on data generated under ``root``."""
    run("nx5d", "plugins")
    beamlines = [name for name in GENERATORS if installed(name)]
    if not beamlines:
        sys.exit("the line installs no beamline: its page's example has nothing to open")
    for name in beamlines:
        folder = root / name
        generator = [word.format(root=folder) for word in GENERATORS[name]]
        url = run(*generator).strip().splitlines()[-1]
        first = name == beamlines[0]  # the tools once, on the first beamline: they work alike for every one
        proposal, scan = run("-c", EXAMPLE, url, *(["--engine"] if first else [])).rsplit("KEYS ", 1)[1].split()
        if not first:
            continue
        if importlib.util.find_spec("matplotlib"):
            run("nx5d", "plot", url, proposal, scan, "--out", str(root / f"{name}.png"))
        run("nx5d", "watch", url, proposal, "--all", "--poll", "0.2", "--idle-timeout", "1")
        search(url, root)
        if installed("nx5d-results"):
            run("nx5d", "cook", url, "--out", str(root / "cooked" / name))
            if importlib.util.find_spec("distributed"):
                run("-c", CLUSTER, url, proposal, scan, str(root / "cluster" / name))
    if "nx5d-udkm" in beamlines and importlib.util.find_spec("s3fs"):  # the remote page's extra, on its example
        folder = root / "nx5d-udkm"
        run("-c", EXAMPLE, served(folder) + "/{proposal}/{scan}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
