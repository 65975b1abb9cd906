"""The nx5d command line (run in-process, so in-memory data is visible)."""

import json

from nx5d.cli import main


def test_plugins_lists_installed_beamlines(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "memory" in out
    assert "nx5d-memory" in out
    assert "memory://NAME/{proposal}/{scan}" in out


def test_plugins_json(capsys):
    assert main(["plugins", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["memory"]["state"] == "loaded"
    assert rows["memory"]["kind"] == "beamline"


def test_ls_repository_and_proposal(capsys, memory_url):
    assert main(["ls", memory_url]) == 0
    out = capsys.readouterr().out
    assert "20210205  p20210205" in out
    assert main(["ls", memory_url, "20210205"]) == 0
    out = capsys.readouterr().out
    assert "091726  s091726  rocking  5      5 frames" in out
    assert main(["ls", memory_url, "20210205", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["scan"] for r in rows] == ["9", "10", "091726"]


def test_errors_are_one_line_messages_with_exit_status_2(capsys, tmp_path):
    assert main(["ls", f"file://{tmp_path}/{{proposal}}/{{scan}}", "--beamline", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nx5d: error: no beamline plugin named 'nope'")
    assert main(["ls", "ftp:///x/{proposal}/{scan}"]) == 2
    assert "unknown URL scheme 'ftp'" in capsys.readouterr().err
