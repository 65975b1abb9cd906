"""Plugin registry: loading checks, claims, routing, failures, extensions."""

import pytest

import nx5d
from nx5d.errors import (
    AmbiguousBeamlineError,
    BeamlineFailure,
    BeamlineLoadError,
    BeamlineNotInstalledError,
    NoBeamlineClaimsError,
    PluginApiMismatchError,
)
from nx5d.plugins.declaration import BeamlineInfo
from nx5d.plugins.discovery import PluginRegistry


class FolderBeamline:
    """A small but real beamline: folders of text files, one number per line."""

    NX5D_PLUGIN_API = 1

    def __init__(self, name, confidence=0.5):
        self.name = name
        self.confidence = confidence
        self.raw_calls = 0

    @nx5d.hookimpl
    def nx5d_beamline_info(self):
        return BeamlineInfo(
            f"{self.name} test beamline", url_patterns=(f"file:///…/{self.name}/{{proposal}}/{{scan}}",)
        )

    @nx5d.hookimpl
    def nx5d_claim(self, pattern):
        return self.confidence if pattern.scheme == "file" else None

    @nx5d.hookimpl
    def nx5d_raw(self, scan, options):
        self.raw_calls += 1
        text = scan.repository.storage.read_bytes(scan.url + "/values.txt").decode()
        return [float(v) for v in text.split()]

    @nx5d.hookimpl
    def nx5d_summary(self, scan):
        return {"type": self.name}

    @nx5d.hookimpl
    def nx5d_cook(self, scan, raw, spice):
        return sum(raw) * spice["norm"].factor

    @nx5d.hookimpl
    def nx5d_default_spice(self, proposal):
        return {"norm": {"factor": 1.0}}


@pytest.fixture
def data(tmp_path):
    for p, s, values in [("p1", "1", "1 2 3"), ("p1", "2", "4 5"), ("p2", "1", "7")]:
        (tmp_path / p / s).mkdir(parents=True)
        (tmp_path / p / s / "values.txt").write_text(values)
    return f"file://{tmp_path}/{{proposal}}/{{scan}}"


def registry_with(*plugins):
    reg = PluginRegistry(discover=False)
    for plugin in plugins:
        reg.register_beamline(plugin.name, plugin)
    return reg


def test_open_chooses_the_most_confident_claim(data):
    low, high = FolderBeamline("low", 0.3), FolderBeamline("high", 0.9)
    reg = registry_with(low, high)
    repo = nx5d.open(data, registry=reg)
    assert repo.beamline == "high"
    assert repo.keys() == ["p1", "p2"]
    assert repo.p1.s1.raw == [1.0, 2.0, 3.0]
    assert repo.p1.s1.cooked == 6.0
    assert repo.p1.s1.cook(spice={"norm": {"factor": 0.5}}) == 3.0
    assert (high.raw_calls, low.raw_calls) == (1, 0)  # calls are routed to the chosen beamline only
    assert repo.p1.s1.summary == {"type": "high"}


def test_explicit_beamline_overrides_claims(data):
    low, high = FolderBeamline("low", 0.3), FolderBeamline("high", 0.9)
    repo = nx5d.open(data, beamline="low", registry=registry_with(low, high))
    assert repo.beamline == "low"
    assert repo.p2.s1.raw == [7.0]
    assert low.raw_calls == 1


def test_equal_claims_are_ambiguous(data):
    reg = registry_with(FolderBeamline("a"), FolderBeamline("b"))
    with pytest.raises(AmbiguousBeamlineError, match=r"a, b claim .* equally.*beamline="):
        nx5d.open(data, registry=reg)


def test_no_claim_lists_installed_beamlines_and_patterns(data):
    reg = registry_with(FolderBeamline("a"))
    with pytest.raises(NoBeamlineClaimsError) as info:
        nx5d.open("s3://bucket/{proposal}/{scan}", registry=reg)
    message = str(info.value)
    assert "s3://bucket/{proposal}/{scan}" in message
    assert "a: file:///…/a/{proposal}/{scan}" in message


def test_unknown_beamline_name(data):
    with pytest.raises(BeamlineNotInstalledError, match=r"no beamline plugin named 'nope'.*installed: a"):
        nx5d.open(data, beamline="nope", registry=registry_with(FolderBeamline("a")))


def test_failing_or_silly_claims_do_not_stop_other_plugins(data):
    class Raising(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_claim(self, pattern):
            raise RuntimeError("claim exploded")

    class Silly(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_claim(self, pattern):
            return 7

    good = FolderBeamline("good", 0.2)
    assert nx5d.open(data, registry=registry_with(Raising("r"), Silly("s"), good)).beamline == "good"
    with pytest.raises(NoBeamlineClaimsError, match="claim exploded") as info:
        nx5d.open(data, registry=registry_with(Raising("r"), Silly("s")))
    assert "not a number in (0, 1]" in str(info.value)


@pytest.mark.parametrize(
    ("api", "message"),
    [(None, "does not declare NX5D_PLUGIN_API"), (2, "targets nx5d plugin API 2, but this nx5d provides API 1")],
)
def test_plugin_api_mismatch_is_reported(api, message):
    plugin = FolderBeamline("future")
    plugin.NX5D_PLUGIN_API = api
    reg = PluginRegistry(discover=False)
    with pytest.raises(PluginApiMismatchError, match=message):
        reg.register_beamline("future", plugin)
    assert reg.status("future").state == "broken"
    with pytest.raises(BeamlineLoadError, match="BROKEN"):
        reg.load("future")


def test_plugin_api_given_as_a_range_of_versions():
    plugin = FolderBeamline("multi")
    plugin.NX5D_PLUGIN_API = (1, 2)
    reg = PluginRegistry(discover=False)
    reg.register_beamline("multi", plugin)
    assert reg.status("multi").state == "loaded"


def test_unknown_hooks_and_missing_info_are_reported():
    class Typo(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_cok(self, scan):
            return None

    class NoInfo:
        NX5D_PLUGIN_API = 1

    reg = PluginRegistry(discover=False)
    with pytest.raises(BeamlineLoadError, match=r"unknown hook.*nx5d_cok"):
        reg.register_beamline("typo", Typo("typo"))
    with pytest.raises(BeamlineLoadError, match="must return a BeamlineInfo"):
        reg.register_beamline("noinfo", NoInfo())
    assert [s.state for s in reg.statuses()] == ["broken", "broken"]


def test_plugin_exceptions_become_beamline_failures_naming_the_scan(data):
    class Broken(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_raw(self, scan, options):
            raise ZeroDivisionError("oops")

    repo = nx5d.open(data, registry=registry_with(Broken("broken")))
    expected = r"beamline 'broken' failed while loading file://.*/p1/2: ZeroDivisionError"
    with pytest.raises(BeamlineFailure, match=expected):
        repo.p1.s2.raw  # noqa: B018


def test_extensions_wrap_every_beamline(data):
    events = []

    class Provenance:
        @nx5d.hookimpl(wrapper=True)
        def nx5d_cook(self, scan, raw, spice):
            result = yield
            events.append((scan.beamline, scan.key, result))
            return result

    reg = registry_with(FolderBeamline("a", 0.6), FolderBeamline("b", 0.4))
    reg.register_extension(Provenance(), "provenance")
    nx5d.open(data, registry=reg).p1.s2.cooked  # noqa: B018
    nx5d.open(data, beamline="b", registry=reg).p2.s1.cooked  # noqa: B018
    assert events == [("a", "2", 9.0), ("b", "1", 7.0)]


def test_listing_uses_the_core_walk_and_beamline_key_patterns(tmp_path):
    class Strict(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_beamline_info(self):
            return BeamlineInfo("strict", key_patterns={"scan": r"\d+"})

    for s in ["1", "2", "notes"]:
        (tmp_path / "p" / s).mkdir(parents=True)
    repo = nx5d.open(f"file://{tmp_path}/{{proposal}}/{{scan}}", registry=registry_with(Strict("strict")))
    assert repo["p"].keys() == ["1", "2"]


def test_schemes_declared_by_plugins_become_acceptable():
    class Tiled(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_beamline_info(self):
            return BeamlineInfo("tiled", schemes=("tiled",))

        @nx5d.hookimpl
        def nx5d_claim(self, pattern):
            return 1.0 if pattern.scheme == "tiled" else None

    reg = registry_with(Tiled("tiled"))
    assert "tiled" in reg.schemes()
    assert nx5d.open("tiled://server/{proposal}/{scan}", registry=reg).beamline == "tiled"
