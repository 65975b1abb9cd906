"""Conformance kit: check a beamline plugin against the nx5d contract.

Plugin authors subclass `BeamlineConformance` in their own pytest
suite and provide the test data:

    import pytest
    from nx5d.testing import BeamlineConformance

    class TestMyBeamline(BeamlineConformance):
        beamline = "mybeamline"

        @pytest.fixture
        def repository_url(self, tmp_path):
            write_test_data(tmp_path)                    # your generator
            return f"file://{tmp_path}/{{proposal}}/{{scan}}"

        @pytest.fixture
        def spice_variants(self):
            return ({"settings": {"factor": 1}}, {"settings": {"factor": 2}})

Every test method then runs against the installed plugin, exactly as users
reach it through [`nx5d.open`][nx5d.open], beside every other installed plugin: the
ecosystem check makes sure none of them claims the plugin's URLs as strongly.
Requires pytest (``pip install "nx5d-core[testing]"``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import xarray

import nx5d
from nx5d.addressing.handles import is_valid_handle
from nx5d.addressing.keys import is_valid_key
from nx5d.addressing.url import UrlPattern
from nx5d.errors import InvalidKeyError, MissingDataError, NotFoundError, Nx5dError
from nx5d.io.storage import Storage, record_io
from nx5d.plugins.discovery import registry
from nx5d.plugins.hookspecs import hookimpl

__all__ = ["BeamlineConformance", "snapshot_tree", "same_result"]


def snapshot_tree(root: str) -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` of every file below ``root`` (to prove reads write nothing)."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            st = os.stat(path)
            out[path] = (st.st_size, st.st_mtime_ns)
    return out


def same_result(a: Any, b: Any) -> bool:
    """Whether two raw / cooked results are equal (xarray-aware)."""
    if isinstance(a, xarray.Dataset):
        return isinstance(b, xarray.Dataset) and type(a) is type(b) and a.identical(b)
    if isinstance(a, xarray.DataArray):
        return isinstance(b, xarray.DataArray) and type(a) is type(b) and a.identical(b)
    return bool(a == b)


def _split_fixed_root(file_url: str) -> tuple[str, str]:
    """Split a ``file://`` pattern into the folder holding everything and the rest (from ``/``)."""
    text = file_url[len("file://") :]
    first = text.index("{")
    anchor = text.find("#")
    document_end = anchor if 0 <= anchor < first else first
    cut = text.rindex("/", 0, document_end)
    return text[:cut] or "/", text[cut:]


class _RawSpy:
    """Extension that counts calls of the raw-loading and cooking hooks."""

    def __init__(self) -> None:
        self.calls = 0
        self.cooks = 0

    @hookimpl(wrapper=True)
    def nx5d_raw(self, scan: Any, options: Any) -> Iterator[None]:
        self.calls += 1
        return (yield)

    @hookimpl(wrapper=True)
    def nx5d_cook(self, scan: Any, raw: Any, spice: Any, summary: Any) -> Iterator[None]:
        self.cooks += 1
        return (yield)


@contextlib.contextmanager
def _spying(repository: nx5d.Repository) -> Iterator[_RawSpy]:
    spy = _RawSpy()
    repository.registry.register_extension(spy, "conformance-raw-spy")
    try:
        yield spy
    finally:
        repository.registry.unregister("conformance-raw-spy")


class BeamlineConformance:
    """Pytest test class checking one beamline plugin; subclass it (see module docs).

    Class attributes
    ----------------
    beamline:
        The beamline (entry point) name that must claim ``repository_url``.
    open_options:
        Extra keyword arguments for [`nx5d.open`][nx5d.open].
    """

    beamline: str = ""
    open_options: Mapping[str, Any] = {}

    # --- fixtures the plugin's test suite provides -------------------------------

    @pytest.fixture
    def repository_url(self) -> str:
        """URL pattern of a repository of test data with at least one proposal and scan."""
        raise NotImplementedError("override the repository_url fixture in your conformance test class")

    @pytest.fixture
    def spice_variants(self) -> tuple[Mapping[str, Mapping[str, Any]], Mapping[str, Mapping[str, Any]]]:
        """Two spice settings ``{handle: {field: value}}`` that must cook differently."""
        raise NotImplementedError("override the spice_variants fixture in your conformance test class")

    @pytest.fixture
    def ecosystem_urls(self, repository_url: str) -> list[str]:
        """URLs of this plugin's test data that no other installed plugin may claim as strongly.

        Default: ``[repository_url]``; override to add every URL form the plugin serves.
        """
        return [repository_url]

    @pytest.fixture
    def missing_repository_url(self, repository_url: str, tmp_path: Any) -> str:
        """A URL of the same form whose fixed part does not exist (derived for ``file://``)."""
        if UrlPattern(repository_url).scheme != "file":
            pytest.skip("override missing_repository_url for non-file repositories")
        _, rest = _split_fixed_root(repository_url)
        return f"file://{tmp_path}/does-not-exist{rest}"

    # --- helpers -------------------------------------------------------------------

    @pytest.fixture
    def repository(self, repository_url: str) -> nx5d.Repository:
        return nx5d.open(repository_url, **self.open_options)

    @pytest.fixture
    def scan(self, repository: nx5d.Repository) -> nx5d.Scan:
        proposal = repository[repository.keys()[0]]
        return proposal[proposal.keys()[0]]

    # --- the contract ----------------------------------------------------------------

    def test_plugin_is_installed_and_loads(self) -> None:
        """The ``beamline`` entry point is installed and loads (in the core's plugin API), with a description."""
        status = registry().status(self.beamline)
        registry().load(self.beamline)
        assert status.state == "loaded", status.describe()
        assert status.declaration is not None
        assert status.declaration.description

    def test_claims_its_url(self, repository_url: str) -> None:
        """``nx5d.open`` chooses this plugin for the test repository's URL without ``beamline=``."""
        repo = nx5d.open(repository_url, **self.open_options)
        assert repo.beamline == self.beamline

    def test_no_other_plugin_claims_its_urls_as_strongly(self, ecosystem_urls: list[str]) -> None:
        """The ecosystem check: with every installed plugin, this one's claim on its URLs is the only best one."""
        storage = Storage(self.open_options.get("storage_options"))
        for url in ecosystem_urls:
            found = {c.beamline: c for c in registry().claims(url, storage)}
            assert self.beamline in found, f"{self.beamline} does not claim {url}"
            mine = found.pop(self.beamline)
            assert mine.verified, f"{self.beamline}'s content check did not recognise {url}"
            rivals = [c.describe() for c in found.values() if c.rank >= mine.rank]
            assert not rivals, f"{', '.join(rivals)} claim {url} as strongly as {mine.describe()}"

    def test_lists_proposals_with_valid_keys_and_handles(self, repository: nx5d.Repository) -> None:
        """Proposals are listed, with valid keys and handles that reach them (and tab-complete)."""
        listing = repository.all()
        assert listing, "the test repository must hold at least one proposal"
        for key, handle in listing.items():
            assert is_valid_key(key), key
            assert is_valid_handle(handle), handle
            assert getattr(repository, handle).key == key
            assert handle in dir(repository)

    def test_lists_scans_with_valid_keys_and_handles(self, repository: nx5d.Repository) -> None:
        """Every proposal lists scans with valid keys and handles; key and handle give the same scan object."""
        for key in repository.keys():
            proposal = repository[key]
            scans = proposal.all()
            assert scans, f"proposal {key!r} of the test repository has no scans"
            for scan_key, handle in scans.items():
                assert is_valid_key(scan_key), scan_key
                assert is_valid_handle(handle), handle
                assert getattr(proposal, handle).key == scan_key
                assert proposal.scan(key=scan_key) is proposal.scan(handle=handle)

    def test_summary_is_cheap(self, repository_url: str) -> None:
        """A summary is a mapping with text keys that loads no raw data and reads fewer bytes than loading does."""
        repo = nx5d.open(repository_url, **self.open_options)
        with _spying(repo) as spy:
            proposal = repo[repo.keys()[0]]
            scan = proposal[proposal.keys()[0]]
            with record_io() as summary_io:
                summary = scan.summary
            assert spy.calls == 0, "the summary loaded the raw data"
            assert isinstance(summary, Mapping)
            assert all(isinstance(k, str) for k in summary)
            with record_io() as raw_io:
                scan.raw  # noqa: B018 - loading is the point
            assert spy.calls == 1
            if raw_io.bytes_read:
                assert summary_io.bytes_read < raw_io.bytes_read, (
                    f"the summary read {summary_io.bytes_read} bytes, as much as loading the scan ({raw_io.bytes_read})"
                )

    def test_proposal_table_renders(self, repository: nx5d.Repository) -> None:
        """A proposal renders as an HTML table naming every scan, and its listing does not fail."""
        proposal = repository[repository.keys()[0]]
        html = proposal._repr_html_()
        assert "<table" in html
        for key in proposal.keys():
            assert key in html
        assert "listing failed" not in repr(proposal)

    def test_raw_is_a_dataset(self, scan: nx5d.Scan) -> None:
        """Raw data is an ``xarray.Dataset`` with dimensions, loaded once; each ``scan.raw`` is the user's copy."""
        with _spying(scan.repository) as spy:
            raw = scan.raw
            assert isinstance(raw, xarray.Dataset)
            assert raw.sizes, "raw data has no dimensions"
            again = scan.raw
            assert spy.calls == 1, "raw data must be kept on the scan object while its files are unchanged"
        assert again is not raw, "each scan.raw must be a copy of the user's own"
        assert again.identical(raw)
        name = next(iter(raw.data_vars))
        raw[name] = raw[name].astype(float) * 0 + 1  # the user's copy: the scan's data stays as it was
        assert scan.raw[name].identical(again[name]), "editing scan.raw changed what the scan holds"

    def test_cooks_with_default_spice(self, scan: nx5d.Scan) -> None:
        """A scan cooks with the default spice, and the cooked result is kept while spice and files are unchanged."""
        with _spying(scan.repository) as spy:
            cooked = scan.cooked
            assert cooked is not None
            again = scan.cooked
            assert spy.cooks <= 1, "cooked data must be kept while spice and files are unchanged"
        assert same_result(again, cooked)

    def test_cook_honours_spice(self, scan: nx5d.Scan, spice_variants: tuple[Mapping, Mapping]) -> None:
        """The two ``spice_variants`` cook differently, and the same spice cooks the same result again."""
        first, second = spice_variants
        a = scan.cook(spice=first)
        b = scan.cook(spice=second)
        again = scan.cook(spice=first)
        assert not same_result(a, b), "different spice gave the same cooked result"
        assert same_result(a, again), "the same spice gave different cooked results"

    def test_unknown_keys_raise_not_found(self, repository: nx5d.Repository) -> None:
        """Unknown proposal and scan keys raise ``NotFoundError``, unknown handles ``AttributeError``."""
        with pytest.raises(NotFoundError):
            repository["no-such-proposal-xyz"]
        proposal = repository[repository.keys()[0]]
        with pytest.raises(NotFoundError):
            proposal["no-such-scan-xyz"]
        with pytest.raises(AttributeError):
            proposal.no_such_handle_xyz  # noqa: B018

    @pytest.mark.parametrize("bad", ["../escape", "a/b", "nul\x00", ""])
    def test_illegal_keys_are_rejected(self, repository: nx5d.Repository, bad: str) -> None:
        """Keys that could leave the repository or are empty raise ``InvalidKeyError``, for proposals and scans."""
        with pytest.raises(InvalidKeyError):
            repository[bad]
        proposal = repository[repository.keys()[0]]
        with pytest.raises(InvalidKeyError):
            proposal[bad]

    def test_missing_repository_raises_nx5d_error(self, missing_repository_url: str) -> None:
        """Listing a repository that does not exist raises ``MissingDataError`` or ``NotFoundError``."""
        with pytest.raises(Nx5dError) as info:
            nx5d.open(missing_repository_url, beamline=self.beamline, **self.open_options).keys()
        assert isinstance(info.value, MissingDataError | NotFoundError), info.value

    def test_reads_do_not_modify_storage(self, repository_url: str) -> None:
        """Listing, loading and cooking every scan of a ``file://`` repository changes no file."""
        pattern = UrlPattern(repository_url)
        if pattern.scheme != "file":
            pytest.skip("only checked for file:// repositories")
        root, _ = _split_fixed_root(repository_url)
        before = snapshot_tree(root)
        repo = nx5d.open(repository_url, **self.open_options)
        for pkey in repo.keys():
            proposal = repo[pkey]
            repr(proposal)
            for skey in proposal.keys():
                scan = proposal[skey]
                scan.raw  # noqa: B018
                scan.cooked  # noqa: B018
        assert snapshot_tree(root) == before, "reading the repository changed files below it"
