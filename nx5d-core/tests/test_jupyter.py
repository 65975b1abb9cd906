"""What a Jupyter user meets: completion through IPython's own completer, rich reprs, quiet progress bars."""

import subprocess
import sys

import pytest

import nx5d
from nx5d import progress

from .helpers import cells

pytest.importorskip("IPython")


@pytest.fixture
def shell(memory_url):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    repo = nx5d.open(memory_url)
    shell.user_ns.update(repo=repo, proposal=repo.p20210205)
    saved = shell.Completer.use_jedi
    yield shell
    shell.Completer.use_jedi = saved
    shell.user_ns.pop("repo")
    shell.user_ns.pop("proposal")


def complete(shell, text):
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():  # the API Jupyter's kernel uses for <TAB>
        return {c.text.lstrip(".") for c in shell.Completer.completions(text, len(text))}


@pytest.mark.parametrize("jedi", [True, False], ids=["jedi", "ipython"])
def test_handles_complete_in_ipython(shell, jedi):
    shell.Completer.use_jedi = jedi
    assert "p20210205" in complete(shell, "repo.p2")
    assert {"p20210205", "p20210301"} <= complete(shell, "repo.p")
    assert {"s091726", "s9", "s10"} <= complete(shell, "proposal.s")
    assert "s091726" not in complete(shell, "proposal.sp")  # still a prefix match, not every handle


def test_handles_complete_through_a_chain_with_jedi(shell):
    shell.Completer.use_jedi = True
    assert {"s091726", "s9", "s10"} <= complete(shell, "repo.p20210205.s")


def test_keys_complete_inside_brackets(shell):
    shell.Completer.use_jedi = False
    assert {"20210205", "20210301"} <= complete(shell, 'repo["2')
    assert "091726" in complete(shell, 'proposal["0')


def test_warnings_read_as_nx5d_messages_in_a_notebook():
    """An IPython kernel's shell in a fresh process (pytest would record the warnings itself)."""
    cells = [
        "import warnings, nx5d.errors",
        "warnings.warn('x.h5, scan 3: a row left out', nx5d.errors.DataWarning)",
        "warnings.warn('not ours', UserWarning)",
    ]
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\nshell = InteractiveShell.instance()\n"
        + "".join(f"shell.run_cell({cell!r})\n" for cell in cells)
    )
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    assert "nx5d: DataWarning: x.h5, scan 3: a row left out\n" in err
    assert "UserWarning: not ours" in err  # other warnings as Python shows them
    assert "errors.py" not in err


def test_rich_and_plain_reprs(memory_url):
    repo = nx5d.open(memory_url)
    proposal = repo.p20210205
    scan = proposal.s9
    assert '<table class="nx5d-table">' in repo._repr_html_()
    assert "p20210205" in cells(repo._repr_html_())
    html = proposal._repr_html_()
    assert "type" in cells(html)
    assert "s9" in cells(html)
    assert "not loaded: scan.raw" in cells(scan._repr_html_())
    sizes = ", ".join(f"{d} {n}" for d, n in scan.raw.sizes.items())
    assert f"loaded: {sizes}" in cells(scan._repr_html_())
    assert "not cooked: scan.cooked" in cells(scan._repr_html_())
    assert "scan 9 (s9)" in repr(scan).splitlines()[0]
    view = proposal.spice.view("9")
    shown = cells(view._repr_html_())
    assert shown[:4] == ["spice", "field", "value", "from"]
    assert shown[4:8] == ["scale", "factor", "2", "beamline default"]
    assert "scale" in repr(view)
    record = proposal.spice.seed("scale", factor=3.0)
    history_html = proposal.spice.history("scale")._repr_html_()
    row = cells(history_html)
    assert record["uuid"][:8] in row
    assert row[row.index("(start)") + 1] == "1"  # anchor, revision
    assert "factor = 3.0" in repr(proposal.spice.history("scale"))
    proposal.spice.update("9", "scale", factor=4.0)
    assert "factor: 3.0 -> 4.0" in repr(proposal.spice.history("scale"))


def test_progress_bars_are_silent_when_asked(capsys):
    progress.set_enabled(False)
    try:
        with progress.progress(3, "loading", unit="frame") as bar:
            assert bar.disable
            bar.update(3)
    finally:
        progress.set_enabled(None)
    assert capsys.readouterr().err == ""
    with progress.progress(3, "loading", disable=False) as bar:
        assert not bar.disable


def test_quiet_silences_bars_and_restores_the_setting():
    progress.set_enabled(True)
    try:
        with progress.quiet():
            assert not progress.enabled()
            with progress.progress(3, "inside") as bar:
                assert bar.disable
        assert progress.enabled()
    finally:
        progress.set_enabled(None)


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked on Linux only")
def test_frames_are_read_in_worker_processes_inside_a_real_kernel(tmp_path):
    """A Jupyter kernel always runs threads (heartbeat, I/O, control): forking from it must neither hang nor
    leave processes behind, and a child's warning reaches the notebook as nx5d's one-line message."""
    pytest.importorskip("ipykernel")
    from jupyter_client.manager import start_new_kernel

    code = f"""
import os, threading, warnings
import numpy as np, dask.array as da
import nx5d.io.blocks, nx5d.io.forked
from nx5d.errors import DataWarning
from nx5d.io.storage import Storage, record_io
nx5d.io.blocks.FORK_FROM_BLOCKS = 2
root = {str(tmp_path)!r}
stack = (np.arange(200 * 30, dtype=np.int32).reshape(200, 5, 6) % 5)
urls = []
for i, frame in enumerate(stack):
    with open(f"{{root}}/f{{i}}.raw", "wb") as fh:
        fh.write(frame.tobytes())
    urls.append(f"file://{{root}}/f{{i}}.raw")
storage = Storage(root=f"file://{{root}}")
def read_into(start, stop, out):
    for k, url in enumerate(urls[start:stop]):
        out[k] = np.frombuffer(storage.read_bytes(url), np.int32).reshape(5, 6)
    if start == 96:
        warnings.warn("frame 96 looks odd", DataWarning)
images = nx5d.io.blocks.with_block_reader(da.zeros(stack.shape, np.int32), read_into, workers=2, forkable=True)
with record_io() as reading:
    done = list(nx5d.io.blocks.map_blocks(images, lambda part, block: (os.getpid(), block.sum())))
pids = {{pid for _, (pid, _) in done}}
assert os.getpid() not in pids and len(pids) == 2, pids
assert sum(total for _, (_, total) in done) == stack.sum()
assert len(reading.urls) == 200
left = open(f"/proc/self/task/{{threading.get_native_id()}}/children").read().split()
print("ok", len(threading.enumerate()), left)
"""
    manager, client = start_new_kernel(kernel_name="python3", extra_arguments=["--HistoryManager.enabled=False"])
    try:
        outputs: list[dict] = []
        reply = client.execute_interactive(code, timeout=120, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok", reply["content"]
        texts = [m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream"]
        assert any(t.startswith("ok ") and t.rstrip().endswith("[]") for t in texts), texts
        assert "nx5d: DataWarning: frame 96 looks odd" in "".join(texts)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
