"""The filesystem flavour of the subclassing API, on real folders."""

import pytest

import nx5d
from nx5d.errors import MissingDataError, UrlPatternError
from nx5d.repo.base import DataScanBase
from nx5d.repo.filesystem import DataProposal, DataRepository


class TextScan(DataScanBase):
    def _get_raw(self):
        path = self.url[len("file://") :]
        with open(f"{path}/values.txt") as fh:
            return [int(v) for v in fh.read().split()]

    def _get_summary(self):
        return {"type": "text", "description": "values in a text file"}

    def _cook(self, data, **spice):
        return sum(data) * spice.get("gain", {}).get("factor", 1)


class TextRepository(DataRepository):
    def __init__(self, url, **kw):
        super().__init__(url, proposal_k2h=lambda x: f"p{x}", **kw)

    def _proposal(self, key):
        return TextProposal(self, key, self.repo_url)


class TextProposal(DataProposal):
    def __init__(self, repo, key, scanurl):
        super().__init__(repo, key, url=scanurl, scan_k2h=lambda x: f"r{x}")

    def _scan(self, key):
        return TextScan(self, key)


@pytest.fixture
def url(tmp_path):
    for p, s, v in [("20210205", "091726", "1 2 3"), ("20210205", "101500", "4"), ("20210301", "000001", "5")]:
        (tmp_path / p / s).mkdir(parents=True)
        (tmp_path / p / s / "values.txt").write_text(v)
    return f"file://{tmp_path}/{{proposal}}/{{scan}}"


def test_subclassed_filesystem_repository(url):
    repo = TextRepository(url=url, spice_url="")
    assert repo.all() == {"20210205": "p20210205", "20210301": "p20210301"}
    assert repo.p20210205.all() == {"091726": "r091726", "101500": "r101500"}
    scan = repo.p20210205.r091726
    assert scan.url.endswith("/20210205/091726")
    assert scan.raw == [1, 2, 3]
    assert scan.cooked == 6
    assert scan.cook(spice={"gain": {"factor": 2}}) == 12
    assert "values in a text file" in repr(repo.p20210205)
    assert repo.beamline is None


def test_plain_data_repository_lists_without_subclassing(url):
    repo = DataRepository(url)
    assert repo.keys() == ["20210205", "20210301"]
    assert repo.p20210205.keys() == ["091726", "101500"]
    with pytest.raises(nx5d.errors.NotSupportedError, match="no raw loader"):
        repo.p20210205.s091726.raw  # noqa: B018


def test_data_repository_checks_its_pattern_at_once():
    with pytest.raises(UrlPatternError, match="must contain"):
        DataRepository("file:///data/{proposal}")


def test_array_storage_classes_read_nexus_groups(tmp_path):
    import h5py
    import numpy as np

    from nx5d_nexus.astor import ArrayProposal, ArrayRepository, ArrayScan

    for number in (1, 2):
        with h5py.File(tmp_path / "run7.h5", "a") as handle:
            entry = handle.create_group(f"{number}.1")
            entry.attrs["NX_class"] = "NXentry"
            entry["title"] = f"ascan eta 10 11 4 {number}"
            entry["measurement/eta"] = np.linspace(10, 11, 5)
            entry["measurement/roi"] = np.arange(5.0) * number
            entry["measurement/mon"] = np.full(5, 2.0)
            entry.create_dataset("instrument/det/data", data=np.ones((5, 3, 4), np.int32))

    class RockingScan(ArrayScan):
        def _cook(self, data, **spice):
            return data["roi"] / data["mon"]

    class Repo(ArrayRepository):
        def _proposal(self, key):
            return ArrayProposal(self, key, url=self.url, scan_class=RockingScan)

    repo = Repo(f"file://{tmp_path}/{{proposal}}.h5#{{scan}}", spice_url="")
    assert repo.all() == {"run7": "run7"}
    assert repo.run7.all() == {"1.1": "s1_1", "2.1": "s2_1"}
    scan = repo.run7.s2_1
    assert scan.summary["type"] == "ascan"
    assert scan.summary["steps"] == 5
    assert scan.raw.images.shape == (5, 3, 4)
    assert scan.load(roi=(0, 2, 0, 2)).images.shape == (5, 2, 2)
    assert scan.cooked.values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


class EmptyScan(TextScan):
    """Reads its file through the repository's storage, and finds nothing in it."""

    def _get_raw(self):
        import xarray as xr

        self.repository.storage.read_bytes(f"{self.url}/values.txt")
        return xr.Dataset()

    def _get_summary(self):
        if self.key == "101500":
            raise MissingDataError(f"{self.url}/values.txt: " + "a reason long enough to be cut in a table " * 4)
        return super()._get_summary()


class EmptyProposal(TextProposal):
    def _scan(self, key):
        return EmptyScan(self, key)


class EmptyRepository(TextRepository):
    def _proposal(self, key):
        return EmptyProposal(self, key, self.repo_url)


def test_an_empty_dataset_from_files_that_hold_data_is_an_error(url):
    scan = EmptyRepository(url=url, spice_url="").p20210205.r091726
    with pytest.raises(MissingDataError, match=r"091726: the scan reader found no variable in file://.*/values.txt"):
        scan.raw  # noqa: B018


def test_the_text_table_says_why_a_row_is_unreadable_in_full(url):
    text = repr(EmptyRepository(url=url, spice_url="").p20210205)
    assert "101500: unreadable: file://" in text
    assert text.rstrip().endswith("a reason long enough to be cut in a table")
