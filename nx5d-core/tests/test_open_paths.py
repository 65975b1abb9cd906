"""``nx5d.open`` given one file's path: a repository of one proposal, or an error saying the pattern to write."""

import os

import pytest

from nx5d.errors import MissingDataError, UrlPatternError
from nx5d.model.open import single_file


def test_one_file_is_one_proposal_named_like_it(tmp_path):
    (tmp_path / "ihsc1417_sixcvertical_0313.spec").write_text("#F x\n")
    (tmp_path / "20March2018").write_text("#F x\n")
    url, given = single_file(f"file://{tmp_path}/ihsc1417_sixcvertical_0313.spec", {"spice_url": ""})
    assert url == f"file://{tmp_path}/{{proposal}}.spec#{{scan}}"
    assert given == {"spice_url": "", "proposal_key": "ihsc1417_sixcvertical_0313"}  # that file, not its neighbours
    assert single_file(f"file://{tmp_path}/20March2018", {}) == (
        f"file://{tmp_path}/{{proposal}}#{{scan}}",
        {"proposal_key": "20March2018"},
    )


def test_patterns_and_other_schemes_are_left_as_they_are(tmp_path):
    for url in (f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", "s3://bucket/x.h5", "memory://x/{proposal}/{scan}"):
        assert single_file(url, {}) == (url, {})
    (tmp_path / "a.h5").write_bytes(b"")
    assert single_file(f"file://{tmp_path}/a.h5", {"proposal_key": "p{n}"})[0] == f"file://{tmp_path}/a.h5"


def test_folders_missing_files_and_anchors_say_the_pattern_to_write(tmp_path):
    with pytest.raises(UrlPatternError, match=rf"is a folder; .* file://{tmp_path}/{{proposal}}/{{scan}}"):
        single_file(f"file://{tmp_path}", {})
    with pytest.raises(MissingDataError, match=rf"does not exist .* write file://{tmp_path}/{{proposal}}.nxs#{{scan}}"):
        single_file(f"file://{tmp_path}/794932.nxs", {})
    (tmp_path / "794932.nxs").write_bytes(b"")
    with pytest.raises(UrlPatternError, match=r"to open the scans of 794932.nxs, write .*\{proposal\}.nxs#\{scan\}"):
        single_file(f"file://{tmp_path}/794932.nxs#entry1", {})


def test_a_relative_path_that_looks_like_a_repository_name(tmp_path, monkeypatch):
    from nx5d.errors import OptionError
    from nx5d.model.open import _resolve

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NX5D_CONFIG", os.fspath(tmp_path / "none.toml"))
    (tmp_path / "x.spec").write_text("#F x\n")
    url, _, given = _resolve("x.spec", None, {})  # a file here, and no repository of that name
    assert (url, given) == (f"file://{tmp_path}/{{proposal}}.spec#{{scan}}", {"proposal_key": "x"})
    with pytest.raises(OptionError, match=r"no repository named 'y\.spec'"):
        _resolve("y.spec", None, {})
