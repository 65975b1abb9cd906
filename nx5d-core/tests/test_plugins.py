"""Plugin registry: loading checks, claims, routing, failures, extensions."""

import sys
from typing import Literal

import attrs
import pytest

import nx5d
from nx5d.errors import (
    AmbiguousBeamlineError,
    BeamlineFailure,
    BeamlineLoadError,
    BeamlineNotInstalledError,
    NoBeamlineClaimsError,
    OptionError,
    PluginApiMismatchError,
)
from nx5d.plugins import Beamline, ClaimLevel, ScanRef, discovery, option
from nx5d.plugins.discovery import PluginRegistry, unrelated_nx5d


class FolderBeamline:
    """A small but real beamline: folders of text files, one number per line."""

    NX5D_PLUGIN_API = 2

    def __init__(self, name, level=ClaimLevel.FORMAT, recognises=None, **declared):
        self.name = name
        self.raw_calls = 0
        self.NX5D_BEAMLINE = Beamline(
            f"{name} test beamline",
            url_examples=(f"file:///…/{name}/{{proposal}}/{{scan}}",),
            level=level,
            recognises=recognises,
            **declared,
        )

    @nx5d.hookimpl
    def nx5d_raw(self, scan, options):
        self.raw_calls += 1
        text = scan.storage.read_bytes(scan.url + "/values.txt").decode()
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


def holds_values(document):
    """Content check: the first scan folder holds values.txt."""
    return document.storage.exists(document.url + "/values.txt")


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


def test_open_chooses_the_highest_claim_level(data):
    low, high = FolderBeamline("low", ClaimLevel.GENERIC), FolderBeamline("high", ClaimLevel.BEAMLINE)
    reg = registry_with(low, high)
    repo = nx5d.open(data, registry=reg)
    assert repo.beamline == "high"
    assert repo.keys() == ["p1", "p2"]
    assert repo.p1.s1.raw == [1.0, 2.0, 3.0]
    assert repo.p1.s1.cooked == 6.0
    assert repo.p1.s1.cook(spice={"norm": {"factor": 0.5}}) == 3.0
    assert (high.raw_calls, low.raw_calls) == (1, 0)  # calls are routed to the chosen beamline only
    assert repo.p1.s1.summary == {"type": "high"}


def test_content_checks_decide_and_verified_claims_win(data, tmp_path):
    generic = FolderBeamline("generic", ClaimLevel.GENERIC, recognises=holds_values)
    picky = FolderBeamline("picky", ClaimLevel.BEAMLINE, recognises=lambda document: False)
    assert nx5d.open(data, registry=registry_with(generic, picky)).beamline == "generic"
    reg = registry_with(FolderBeamline("g", ClaimLevel.GENERIC), FolderBeamline("b", ClaimLevel.BEAMLINE, holds_values))
    assert nx5d.open(data, registry=reg).beamline == "b"
    claims = {c.beamline: c for c in reg.claims(f"file://{tmp_path}/none/{{proposal}}/{{scan}}")}
    assert (claims["b"].verified, claims["g"].verified) == (False, True)  # no document to check: unverified
    assert nx5d.open(f"file://{tmp_path}/none/{{proposal}}/{{scan}}", registry=reg).beamline == "g"


def test_declared_filters_come_before_content(data):
    spec = FolderBeamline("spec", ClaimLevel.GENERIC, suffixes=(".spec",))
    anchored = FolderBeamline("anchored", ClaimLevel.GENERIC, anchor=True)
    fussy = FolderBeamline("fussy", ClaimLevel.GENERIC, accepts=lambda pattern: not pattern.has_anchor)
    reg = registry_with(spec, anchored, fussy)
    assert [c.beamline for c in reg.claims(data)] == ["fussy"]
    assert {c.beamline for c in reg.claims("file:///x/{proposal}.SPEC#{scan}")} == {"spec", "anchored"}


def test_explicit_beamline_overrides_claims(data):
    low, high = FolderBeamline("low", ClaimLevel.GENERIC), FolderBeamline("high", ClaimLevel.BEAMLINE)
    repo = nx5d.open(data, beamline="low", registry=registry_with(low, high))
    assert repo.beamline == "low"
    assert repo.p2.s1.raw == [7.0]
    assert low.raw_calls == 1


def test_equal_claims_are_ambiguous(data):
    reg = registry_with(FolderBeamline("a"), FolderBeamline("b"))
    equally = r"a \(FORMAT\), b \(FORMAT\) claim .* equally.*beamline=NAME.*--beamline NAME"
    with pytest.raises(AmbiguousBeamlineError, match=equally):
        nx5d.open(data, registry=reg)


def test_no_claim_lists_installed_beamlines_and_patterns(data):
    reg = registry_with(FolderBeamline("a"))
    with pytest.raises(NoBeamlineClaimsError) as info:
        nx5d.open("s3://bucket/{proposal}/{scan}", registry=reg)
    message = str(info.value)
    assert "s3://bucket/{proposal}/{scan}" in message
    assert "a: file:///…/a/{proposal}/{scan}" in message
    assert "nx5d.open(url, beamline=NAME), or --beamline NAME on the command line" in message


def test_unknown_beamline_name(data):
    with pytest.raises(BeamlineNotInstalledError, match=r"no beamline plugin named 'nope'.*installed: a"):
        nx5d.open(data, beamline="nope", registry=registry_with(FolderBeamline("a")))


def test_failing_checks_do_not_stop_other_plugins(data):
    def explode(document):
        raise RuntimeError("check exploded")

    def leave(document):
        sys.exit(3)

    good = FolderBeamline("good", ClaimLevel.GENERIC)
    raising = FolderBeamline("r", ClaimLevel.BEAMLINE, recognises=explode)
    exiting = FolderBeamline("x", ClaimLevel.BEAMLINE, recognises=leave)
    filtering = FolderBeamline("f", ClaimLevel.BEAMLINE, accepts=lambda pattern: 1 / 0)
    assert nx5d.open(data, registry=registry_with(raising, exiting, filtering, good)).beamline == "good"
    with pytest.raises(NoBeamlineClaimsError, match="check exploded") as info:
        nx5d.open(data, registry=registry_with(raising, exiting, filtering))
    assert "SystemExit" in str(info.value)
    assert "URL filter failed: ZeroDivisionError" in str(info.value)


@pytest.mark.parametrize(
    ("api", "message"),
    [(None, "does not declare NX5D_PLUGIN_API"), (9, "targets nx5d plugin API 9, but this nx5d provides API 2")],
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
    plugin.NX5D_PLUGIN_API = (2, 3)
    reg = PluginRegistry(discover=False)
    reg.register_beamline("multi", plugin)
    assert reg.status("multi").state == "loaded"


def test_unknown_hooks_and_missing_declarations_are_reported():
    class Typo(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_cok(self, scan):
            return None

    class NoDeclaration:
        NX5D_PLUGIN_API = 2

    reg = PluginRegistry(discover=False)
    with pytest.raises(BeamlineLoadError, match=r"unknown hook.*nx5d_cok"):
        reg.register_beamline("typo", Typo("typo"))
    with pytest.raises(BeamlineLoadError, match=r"NX5D_BEAMLINE must be an nx5d\.plugins\.Beamline"):
        reg.register_beamline("nodecl", NoDeclaration())
    assert [s.state for s in reg.statuses()] == ["broken", "broken"]


def test_plugin_exceptions_become_beamline_failures_naming_the_scan(data):
    class Broken(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_raw(self, scan, options):
            raise ZeroDivisionError("oops")

    class Exiting(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_raw(self, scan, options):
            sys.exit("bye")

    repo = nx5d.open(data, registry=registry_with(Broken("broken")))
    expected = r"beamline 'broken' failed while loading file://.*/p1/2: ZeroDivisionError"
    with pytest.raises(BeamlineFailure, match=expected):
        repo.p1.s2.raw  # noqa: B018
    with pytest.raises(BeamlineFailure, match="SystemExit: bye"):
        nx5d.open(data, registry=registry_with(Exiting("exiting"))).p1.s1.raw  # noqa: B018


def test_hooks_receive_references_not_model_objects(data):
    seen = []

    class Watching(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_summary(self, scan):
            seen.append(scan)
            return {}

    nx5d.open(data, registry=registry_with(Watching("w"))).p1.s2.summary  # noqa: B018
    (ref,) = seen
    assert isinstance(ref, ScanRef)
    assert (ref.key, ref.proposal.key, ref.url) == ("2", "p1", data.replace("{proposal}", "p1").replace("{scan}", "2"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ref.key = "3"


def test_extensions_wrap_every_beamline(data):
    events = []

    class Provenance:
        @nx5d.hookimpl(wrapper=True)
        def nx5d_cook(self, scan, raw, spice):
            result = yield
            events.append((scan.proposal.repository.beamline, scan.key, result))
            return result

    reg = registry_with(FolderBeamline("a", ClaimLevel.BEAMLINE), FolderBeamline("b"))
    reg.register_extension(Provenance(), "provenance")
    nx5d.open(data, registry=reg).p1.s2.cooked  # noqa: B018
    nx5d.open(data, beamline="b", registry=reg).p2.s1.cooked  # noqa: B018
    assert events == [("a", "2", 9.0), ("b", "1", 7.0)]


def test_listing_uses_the_core_walk_and_beamline_key_patterns(tmp_path):
    for s in ["1", "2", "notes"]:
        (tmp_path / "p" / s).mkdir(parents=True)
    strict = FolderBeamline("strict", key_patterns={"scan": r"\d+"}, scan_handle="r{key}")
    repo = nx5d.open(f"file://{tmp_path}/{{proposal}}/{{scan}}", registry=registry_with(strict))
    assert repo["p"].all() == {"1": "r1", "2": "r2"}


def test_schemes_declared_by_plugins_become_acceptable():
    reg = registry_with(FolderBeamline("tiled", schemes=("tiled",)))
    assert "tiled" in reg.schemes()
    assert nx5d.open("tiled://server/{proposal}/{scan}", registry=reg).beamline == "tiled"


def test_loading_options_are_declared_checked_and_handed_over(data):
    @attrs.frozen
    class Options:
        scale: float = option(1.0, help="multiply every value")
        mode: Literal["sum", "max"] = option("sum", help="how to combine")

    received = []

    class Optioned(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_raw(self, scan, options):
            received.append(options)
            return [1.0]

    reg = registry_with(Optioned("o", options=Options))
    with pytest.raises(OptionError, match=r"unknown option\(s\) scael for beamline 'o'; accepted: .*, scale, mode"):
        nx5d.open(data, registry=reg, scael=2)
    with pytest.raises(OptionError, match="loading option mode must be one of 'sum', 'max', got 'avg'"):
        nx5d.open(data, registry=reg, mode="avg")
    repo = nx5d.open(data, registry=reg, scale=2)
    repo.p1.s1.load(mode="max")
    assert received == [Options(2, "max")]
    repo.p1.s2.raw  # noqa: B018
    repo.p1.s2.load(mode="sum")  # the default, spelled out: the same options, no second load
    assert received == [Options(2, "max"), Options(2, "sum")]


def test_a_beamline_option_named_like_a_core_option_is_kept_apart(data):
    """nx5d.open's keywords are the core's; a beamline's own ``timeout`` goes through ``options=`` (xarray's model)."""

    @attrs.frozen
    class Options:
        timeout: float = option(5.0, help="seconds the detector may take per frame")

    received = []

    class Timed(FolderBeamline):
        @nx5d.hookimpl
        def nx5d_raw(self, scan, options):
            received.append(options.timeout)
            return [1.0]

    reg = registry_with(Timed("timed", options=Options))
    repo = nx5d.open(data, registry=reg, timeout=7, options={"timeout": 60.0})
    assert repo.storage.timeout == 7  # the core's: how long a remote server may stay silent
    repo.p1.s1.raw  # noqa: B018
    assert received == [60.0]  # the beamline's own
    assert nx5d.open(data, registry=reg).options == {}


def test_a_url_is_read_parsed_and_given_a_storage_once(data, monkeypatch):
    from nx5d.addressing import url as url_module
    from nx5d.io import storage as storage_module

    parsed, built = [], []
    parse, build = url_module.UrlPattern.__init__, storage_module.Storage.__init__
    monkeypatch.setattr(
        url_module.UrlPattern, "__init__", lambda self, *a, **k: parsed.append(a) or parse(self, *a, **k)
    )
    monkeypatch.setattr(
        storage_module.Storage, "__init__", lambda self, *a, **k: built.append(a) or build(self, *a, **k)
    )
    reg = registry_with(FolderBeamline("a"))
    repo = nx5d.open(data, registry=reg)
    assert (len(parsed), len(built)) == (1, 1)  # chosen by the beamlines' claims, then bound: one of each
    assert repo.pattern.root == repo.storage.root
    parsed.clear()
    nx5d.open(data, beamline="a", registry=reg)
    assert len(parsed) == 1


def test_unrelated_nx5d_distribution_is_named(tmp_path, monkeypatch):
    info = tmp_path / "nx5d-3.2.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nx5d\nVersion: 3.2.1\nSummary: NX5 Duct Tape\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert unrelated_nx5d() == "3.2.1"
    monkeypatch.setattr(discovery, "_REGISTRY", None)
    with pytest.warns(UserWarning, match=r"'nx5d' 3.2.1 is installed in this environment: it is an unrelated"):
        discovery.registry()


def test_distributions_results_depend_on_are_named_from_their_metadata(tmp_path, monkeypatch):
    """nx5d-… distributions and those with an nx5d.* entry point, from their metadata's header alone."""
    from importlib.metadata import distributions

    from nx5d.plugins.discovery import _name_and_version, nx5d_distributions

    def installed(folder, metadata, entry_points=None):
        info = tmp_path / folder
        info.mkdir()
        (info / ("PKG-INFO" if folder.endswith(".egg-info") else "METADATA")).write_text(metadata)
        if entry_points is not None:
            (info / "entry_points.txt").write_text(entry_points)

    described = "Description: first line\n        Name: not this one\n"
    installed("nx5d_lab-1.0.dist-info", f"Metadata-Version: 2.1\nName: nx5d_Lab\n{described}Version: 1.0\n\nName: x\n")
    head = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n"
    installed("labrecipes-2.0.dist-info", head.format("labrecipes", "2.0"), "[nx5d.recipes]\nr = lab:r\n")
    installed("oldlab-0.3.egg-info", head.format("oldlab", "0.3"), "[nx5d.beamlines]\nx = a:b\n")
    installed("tool-1.0.dist-info", head.format("tool", "1.0"), "[console_scripts]\nt = nx5d.x:y\n")
    installed("lower-1.1.dist-info", "metadata-version: 2.1\nname: nx5d-lower\nversion:  1.1\n")  # any case
    (tmp_path / "nx5d_single-0.9.egg-info").write_text("Metadata-Version: 1.0\nName: nx5d-single\nVersion: 0.9\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    nx5d_distributions.cache_clear()
    try:
        named = nx5d_distributions().split(", ")
    finally:
        nx5d_distributions.cache_clear()
    assert {"nx5d_Lab 1.0", "labrecipes 2.0", "oldlab 0.3", "nx5d-lower 1.1", "nx5d-single 0.9"} <= set(named)
    assert not [n for n in named if n.startswith("tool ")]
    for dist in distributions():  # every installed distribution: the same name and version as its parsed metadata
        assert _name_and_version(dist) == (dist.metadata["Name"] or "", dist.version or "")
