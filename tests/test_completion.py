"""Tab in the shell completes what 3.x's ``slim`` completed: named repositories, proposals and scans."""

from __future__ import annotations

import os
import subprocess
import sys

from nx5d_udkm.synth import ScanSpec, write_repository

SMALL = ScanSpec(delays=(0.0,), thetas=(18.4, 18.5), delay_loops=1, frames=None)


def test_the_shell_completes_named_repositories_proposals_and_scans(tmp_path):
    url = write_repository(tmp_path / "data", {"20210205": ["091726", "101500"], "20210206": ["080000"]}, SMALL)
    config = tmp_path / "config.toml"
    config.write_text(f'[repositories.udkm-lab]\nurl = "{url}"\n\n[repositories.udkm-old]\nurl = "{url}"\n')

    def offered(line: str) -> list[str]:
        """What argcomplete answers bash for ``line`` (its protocol: the line in COMP_LINE, answers to a file)."""
        answer = tmp_path / "answer"
        protocol = {"_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": "\n", "COMP_LINE": line, "COMP_POINT": str(len(line))}
        env = {**os.environ, **protocol, "_ARGCOMPLETE_STDOUT_FILENAME": str(answer), "NX5D_CONFIG": str(config)}
        subprocess.run([sys.executable, "-m", "nx5d"], env=env, check=True, capture_output=True)
        return answer.read_text().split()

    assert offered("nx5d ls udkm-") == ["udkm-lab", "udkm-old"]
    assert offered("nx5d ls udkm-lab 2021020") == ["20210205", "20210206"]
    assert offered("nx5d ls udkm-lab p2021020") == ["p20210205", "p20210206"]
    assert {"091726", "101500", "r091726", "r101500"} <= set(offered("nx5d plot udkm-lab 20210205 "))
    assert offered("nx5d plot udkm-lab 20210205 09") == ["091726"]
    assert offered("nx5d plot udkm-lab p20210205 r1") == ["r101500"]
    assert offered("nx5d plot no-such-repository 20210205 0") == []  # nothing to offer, no traceback
