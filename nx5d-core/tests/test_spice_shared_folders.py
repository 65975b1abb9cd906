"""Spice folders shared by a group, per-user spice found under every spelling of the repository, a safe lock."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from nx5d.addressing.url import UrlPattern
from nx5d.errors import SpiceError, SpiceWarning
from nx5d.repo.filesystem import DataRepository
from nx5d.spice import default_locations

from .accounts import ALICE, BOB, GROUP, become, group_folder, needs_root


@pytest.fixture
def data(tmp_path):
    for scan in ("1", "2"):
        (tmp_path / "data" / "p" / scan).mkdir(parents=True)
    return tmp_path / "data"


@pytest.mark.parametrize(
    "spelling",
    [
        "file://localhost{root}/{{proposal}}/{{scan}}",
        "FILE://{root}/{{proposal}}/{{scan}}",
        "file://{root}//{{proposal}}/./{{scan}}",
        "file://LOCALHOST{root}/./{{proposal}}//{{scan}}",
    ],
)
def test_per_user_spice_is_found_under_every_spelling_of_the_repository(data, tmp_path, monkeypatch, spelling):
    monkeypatch.setenv("NX5D_SPICE_HOME", str(tmp_path / "home"))
    (data / "p" / "spice").write_text("a file where the spice folder would go: records go to the user folder")
    plain = f"file://{data}/{{proposal}}/{{scan}}"
    with pytest.warns(SpiceWarning, match="not a spice folder"):
        DataRepository(plain)["p"].spice.seed("settings", distance=680.0)
    other = spelling.format(root=data)
    assert default_locations(UrlPattern(other))[1] == default_locations(UrlPattern(plain))[1]
    with pytest.warns(SpiceWarning, match="not a spice folder"):
        assert DataRepository(other)["p"].spice.view("1")["settings"].distance == 680.0


def test_a_lock_file_that_is_a_symbolic_link_is_refused_and_its_target_never_made(data, tmp_path):
    folder = data / "p" / "spice"
    folder.mkdir()
    target = tmp_path / "victim"
    (folder / ".lock").symlink_to(target)
    with pytest.raises(SpiceError, match=r"cannot lock spice folder .*\.lock"):
        DataRepository(f"file://{data}/{{proposal}}/{{scan}}")["p"].spice.seed("settings", distance=1.0)
    assert not target.exists()
    assert not list(folder.glob("*.json"))


def test_an_unlistable_spice_folder_is_skipped_with_a_warning(data, tmp_path, monkeypatch):
    monkeypatch.setenv("NX5D_SPICE_HOME", str(tmp_path / "home"))
    url = f"file://{data}/{{proposal}}/{{scan}}"
    DataRepository(url)["p"].spice.seed("settings", distance=680.0)
    user_folder = Path(default_locations(UrlPattern(url))[1][len("file://") :].format(proposal="p"))
    user_folder.parent.mkdir(parents=True)
    user_folder.symlink_to(user_folder)  # a link loop: listing it fails with an OS error
    with pytest.warns(SpiceWarning, match=r"skipping .*: the folder cannot be listed"):
        assert DataRepository(url)["p"].spice.view("1")["settings"].distance == 680.0


# --- two users of one group ---------------------------------------------------


def as_user(uid: int, action, *args) -> None:
    """Run ``action(*args)`` in a forked process as ``uid`` of the group; fail if it fails."""
    context = multiprocessing.get_context("fork")

    def run() -> None:
        become(uid)
        action(*args)

    child = context.Process(target=run)
    child.start()
    child.join(timeout=300)
    assert child.exitcode == 0, f"user {uid}: {action.__name__} failed"


@pytest.fixture
def shared():
    with group_folder() as folder:
        yield folder


def _seed(url, spice):
    DataRepository(url, spice_url=spice)["p"].spice.seed("settings", distance=680.0)


def _update(url, spice, distance):
    DataRepository(url, spice_url=spice)["p"].spice.update("1", "settings", distance=distance)


@needs_root
@pytest.mark.parametrize("spice", ["beside the data", "own folder"])
def test_two_users_of_a_group_share_a_spice_folder(shared, spice):
    url = f"file://{shared}/data/{{proposal}}/{{scan}}"
    spice_url = None if spice == "beside the data" else f"file://{shared}/spice/{{proposal}}"
    as_user(ALICE, _seed, url, spice_url)  # creates the folders, the lock and the first record
    as_user(BOB, _update, url, spice_url, 700.0)  # the other user locks and writes in them
    as_user(ALICE, _update, url, spice_url, 710.0)
    folder = shared / "data" / "p" / "spice" if spice_url is None else shared / "spice" / "p"
    assert stat.S_IMODE(folder.stat().st_mode) & 0o2070 == 0o2070  # the group's write and set-group-id bits
    owners = {path.stat().st_uid for path in folder.glob("*.json")}
    assert owners == {ALICE, BOB}
    assert all(path.stat().st_gid == GROUP for path in folder.glob("*.json"))
    history = list(DataRepository(url, spice_url=spice_url)["p"].spice.history("settings"))
    assert [row["revision"] for row in history] == [1, 2, 3]
    assert DataRepository(url, spice_url=spice_url)["p"].spice.view("1")["settings"].distance == 710.0
