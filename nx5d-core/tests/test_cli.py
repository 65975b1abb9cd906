"""The nx5d command line (run in-process, so in-memory data is visible)."""

import json

from nx5d.app.cli import main


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
    assert rows["memory"]["level"] == "BEAMLINE"
    assert rows["udkm"]["options"].startswith("reduce, roi, lazy")
    reduce = rows["udkm"]["option details"][0]
    assert reduce == {"name": "reduce", "type": "int", "default": 1, "help": "keep every n-th detector row and column"}


def test_plugins_verbose_lists_loading_options(capsys):
    assert main(["plugins", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "udkm loading options:" in out
    assert "names (one of 'tidy', 'reference', default 'tidy')" in out


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


def test_ls_takes_a_proposal_by_its_handle_too(capsys, memory_url):
    assert main(["ls", memory_url, "p20210205"]) == 0
    assert "091726  s091726" in capsys.readouterr().out
    assert main(["ls", memory_url, "p2021"]) == 2
    assert "has no proposal with key 'p2021'" in capsys.readouterr().err


def test_errors_are_one_line_messages_with_exit_status_2(capsys, tmp_path):
    assert main(["ls", f"file://{tmp_path}/{{proposal}}/{{scan}}", "--beamline", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nx5d: error: no beamline plugin named 'nope'")
    assert main(["ls", "ftp:///x/{proposal}/{scan}"]) == 2
    assert "unknown URL scheme 'ftp'" in capsys.readouterr().err


def test_spice_from_the_shell(capsys, tmp_path):
    (tmp_path / "data" / "p1" / "1").mkdir(parents=True)
    (tmp_path / "data" / "p1" / "2").mkdir(parents=True)
    from nx5d.plugins import Beamline, ClaimLevel
    from nx5d.plugins.discovery import registry

    class Folders:
        NX5D_PLUGIN_API = 2
        NX5D_BEAMLINE = Beamline(
            "folders for the CLI test", level=ClaimLevel.BEAMLINE, accepts=lambda pattern: "cli-spice" in pattern.text
        )

    registry().register_beamline("cli-folders", Folders())
    try:
        url = f"file://{tmp_path}/data/{{proposal}}/{{scan}}#cli-spice"
        base = ["spice", url, "p1"]
        assert main([*base, "seed", "settings", "img_center=[50,120]", "img_distance=690.0", "name=first"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("wrote revision 1 of settings from the proposal start, uuid ")
        assert out.rstrip().endswith(': img_center=[50, 120], img_distance=690.0, name="first"')
        assert main([*base, "seed", "settings", "img_center=[50,120]", "img_distance=690.0", "name=first"]) == 0
        assert capsys.readouterr().out.startswith("kept revision 1 of settings")  # seeded before: nothing written
        assert main([*base, "seed", "settings", "name=first", "--json"]) == 0
        seeded = json.loads(capsys.readouterr().out)
        assert seeded["data"] == {"img_center": [50, 120], "img_distance": 690.0, "name": "first"}
        assert main([*base, "update", "2", "settings", "img_distance=700"]) == 0
        assert capsys.readouterr().out.startswith("wrote revision 2 of settings from the proposal start")
        assert main([*base, "history", "settings", "--json"]) == 0
        assert [r["revision"] for r in json.loads(capsys.readouterr().out)] == [1, 2]
        assert main([*base, "update", seeded["uuid"][:8], "name=second", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["data"]["name"] == "second"
        assert main([*base, "view", "s2", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert rows[0]["data"]["img_distance"] == 700
        assert rows[0]["viewpoint"] == "s2"
        assert main([*base, "anchor", "2", "settings"]) == 0
        capsys.readouterr()
        assert main([*base, "history", "settings"]) == 0
        assert "(start)" in capsys.readouterr().out
        assert main([*base, "ls", "--json"]) == 0
        assert len(json.loads(capsys.readouterr().out)) == 4
        assert main([*base, "update", "2", "settings", "nope=1"]) == 2
        assert "allow_new" in capsys.readouterr().err
        assert main([*base, "view"]) == 2
        assert "usage: nx5d spice URL PROPOSAL view SCAN" in capsys.readouterr().err
        assert (tmp_path / "data" / "p1" / "spice").is_dir()
    finally:
        registry().unregister("cli-folders")


def test_loading_options_from_the_shell_are_checked(capsys, tmp_path):
    url = f"file://{tmp_path}/{{proposal}}/{{scan}}"
    assert main(["ls", url, "--beamline", "udkm", "-o", "reduse=2"]) == 2
    assert "unknown option(s) reduse for beamline 'udkm'" in capsys.readouterr().err
    assert main(["ls", url, "--beamline", "udkm", "-o", "reduce"]) == 2
    assert "--option takes name=value, not 'reduce'" in capsys.readouterr().err
    assert main(["ls", url, "--beamline", "udkm", "-o", "reduce=two"]) == 2
    assert "loading option reduce must be int, got 'two'" in capsys.readouterr().err


def test_recipes_lists_the_installed_recipes(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    for name in ("rsm", "delay-rsm", "temperature-rsm", "profile", "auto", "none"):
        assert f"{name} " in out
    assert main(["recipes", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["rsm"]["distribution"] == "nx5d-rsm"
    assert rows["none"]["distribution"] == "nx5d-core"
    assert rows["rsm"]["state"] == "loaded"


def test_tables_fit_an_80_column_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert max(len(line) for line in lines) <= 80
    examples = lines[lines.index("url examples (nx5d.open(URL), nx5d ls URL):") + 1 :]
    assert ["memory", "memory://NAME/{proposal}/{scan}"] in [line.split() for line in examples]  # whole, never cut
    assert not any("…/" not in line and "…" in line for line in examples)


def test_columns_equal_in_every_row_give_way_before_others_are_cut():
    from nx5d.display import Table

    notes = "SrRuO3 (30 nm) on SrTiO3 (001)"
    rows = [{"scan": str(i), "type": "tRSS", "notes": notes, "start": f"2021-02-05 09:1{i}:26"} for i in range(3)]
    text = Table(["scan", "type", "notes", "start"], rows, title="t").to_text(width=40)
    lines = text.splitlines()
    assert lines[1] == "in every row: type = tRSS; notes = SrRu…"  # said once, cut to the width
    assert lines[2].split() == ["scan", "start"]
    assert lines[4].split() == ["0", "2021-02-05", "09:10:26"]  # the varying column stays whole
    assert "in every row" not in Table(["scan", "type"], rows).to_text(width=80)  # fits: nothing moves


def test_long_tables_show_their_ends_and_count_the_rest():
    from nx5d.display import Table

    rows = [{"scan": str(i), "notes": f"{i} " + "x" * 200} for i in range(300)]
    table = Table(["scan", "notes"], rows, title="300 scans", more="proposal.table() has them all")
    text = table.to_text(width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "… 240 more rows (proposal.table() has them all)" in text  # 50 first, 10 last shown
    assert "\n0 " in text
    assert "\n299 " in text
    markup = table.to_html()
    assert markup.count("<tr>") == 1 + 50 + 1 + 10  # header, first rows, the count, last rows
    assert 'style="text-align:left' in markup  # inline: a notebook's own table style cannot override it
    assert "white-space:normal" in markup  # long values wrap instead of being cut
    # every style inline: untrusted notebooks and GitHub's renderer drop <style> blocks
    assert "<style" not in markup
    assert '<caption style="caption-side:top;text-align:left;font-weight:bold;white-space:nowrap;">' in markup


def test_the_shell_completes_commands_and_options(tmp_path):
    """argcomplete's protocol, as bash's completion function drives it: the command line in COMP_LINE."""
    import os
    import subprocess
    import sys

    def complete(line):
        out = tmp_path / "completions"
        env = {
            **os.environ,
            "_ARGCOMPLETE": "1",
            "_ARGCOMPLETE_IFS": "\n",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        }
        done = subprocess.run([sys.executable, "-m", "nx5d"], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return out.read_text().split()

    assert complete("nx5d re") == ["recipes", "reproduce", "repos"]
    assert "--payload" in complete("nx5d spice --p")


def test_start_times_and_spice_changes_stay_whole_at_80_columns():
    from nx5d.display import Table

    rows = [
        {"scan": f"{i}", "notes": f"{i} a long note about the sample" * 3, "start": f"2021-02-05 09:1{i}:26"}
        for i in range(3)
    ]
    lines = Table(["scan", "notes", "start"], rows, whole=("scan", "start")).to_text(width=60).splitlines()
    assert lines[2].split()[-2:] == ["2021-02-05", "09:10:26"]  # the notes gave way, the start did not
    assert max(map(len, lines)) <= 60
    change = {"changes": "img_center = [50, 120]; img_distance = 700", "uuid": "4599d2a1", "from scan": "(start)"}
    history = Table(["from scan", "uuid", "changes"], [change], whole=("changes",)).to_text(width=62)
    assert history.splitlines()[-1].split("  ")[-1] == change["changes"]
    assert "(start)" in history  # the others shorten only to their header's width first


def test_output_into_a_pipe_that_closes_early_ends_quietly():
    """``nx5d plugins --json | head``: the reader goes away before nx5d writes; no traceback follows."""
    import subprocess
    import sys

    command = [sys.executable, "-c", "import sys; from nx5d.app.cli import main; sys.exit(main())", "plugins", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before anything is written
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err
