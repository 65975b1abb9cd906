"""Deprecations: an old spelling works and warns naming the new one; a deprecated hook warns when implemented."""

import importlib
import sys
import types
import warnings

import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nx5d
from nx5d.deprecation import (
    API_1_MODULES,
    API_1_NAMES,
    LIFETIME,
    Nx5dDeprecationWarning,
    api_1_name,
    hook_deprecated,
    moved_attributes,
    removal_release,
    renamed_keywords,
)
from nx5d.errors import OptionError
from nx5d.io.storage import join_url
from nx5d.plugins import Beamline
from nx5d.plugins.discovery import PluginRegistry
from nx5d.plugins.hookspecs import PROJECT


@given(st.integers(0, 99), st.integers(0, 999), st.one_of(st.none(), st.integers(0, 9)))
def test_a_deprecated_spelling_lives_for_two_minor_releases(major, minor, patch):
    since = f"{major}.{minor}" if patch is None else f"{major}.{minor}.{patch}"
    assert removal_release(since) == f"{major}.{minor + LIFETIME}"


@pytest.mark.parametrize("since", ["0", "next", "0.3a1", ""])
def test_a_deprecation_names_its_release(since):
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR"):
        removal_release(since)


@pytest.fixture
def old_module(monkeypatch):
    """A throwaway module whose ``join`` moved to ``nx5d.io.storage.join_url``, and whose ``io`` is ``nx5d.io``."""
    module = types.ModuleType("nx5d_throwaway_old")

    def own(name):
        if name == "still_here":
            return 42
        raise AttributeError(name)

    module.__getattr__ = moved_attributes(
        module.__name__, {"join": "nx5d.io.storage:join_url", "io": "nx5d.io"}, since="0.3", otherwise=own
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_a_moved_attribute_gives_the_object_and_names_its_new_place(old_module):
    with pytest.warns(Nx5dDeprecationWarning) as caught:
        assert old_module.join is join_url
    (warning,) = caught
    assert str(warning.message) == (
        "nx5d_throwaway_old.join is deprecated since nx5d-core 0.3 and goes away in 0.5: use nx5d.io.storage.join_url"
    )
    assert warning.filename == __file__  # it points at the line that used the old name
    with pytest.warns(Nx5dDeprecationWarning, match="use nx5d.io$"):
        assert old_module.io is importlib.import_module("nx5d.io")


def test_from_import_of_a_moved_attribute_warns_too(old_module):
    with pytest.warns(Nx5dDeprecationWarning, match="nx5d_throwaway_old.join is deprecated"):
        from nx5d_throwaway_old import join
    assert join is join_url


def test_other_names_are_the_module_s_own(old_module):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert old_module.still_here == 42
    with pytest.raises(AttributeError, match="missing"):
        old_module.missing  # noqa: B018


def test_without_a_getattr_of_its_own_unknown_names_are_attribute_errors():
    lookup = moved_attributes("nx5d_somewhere", {"old": "nx5d.io.storage:join_url"}, since="0.3")
    with pytest.raises(AttributeError, match="module 'nx5d_somewhere' has no attribute 'other'"):
        lookup("other")


@renamed_keywords(since="0.4", roi="region")
def _load(scan, *, region=None, mode="sum"):
    """Load a region."""
    return scan, region, mode


def test_a_renamed_keyword_is_an_alias_that_names_the_new_one():
    with pytest.warns(Nx5dDeprecationWarning) as caught:
        assert _load("s1", roi=(0, 10, 0, 20), mode="max") == ("s1", (0, 10, 0, 20), "max")
    (warning,) = caught
    assert str(warning.message) == (
        f"{__name__}._load(roi=…) is deprecated since nx5d-core 0.4 and goes away in 0.6: use region="
    )
    assert warning.filename == __file__


def test_the_new_keyword_does_not_warn_and_the_function_keeps_its_name():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _load("s1", region=(1, 2, 3, 4)) == ("s1", (1, 2, 3, 4), "sum")
    assert _load.__name__ == "_load"
    assert _load.__doc__ == "Load a region."


def test_old_and_new_keyword_together_are_refused():
    with pytest.raises(OptionError, match=r"_load\(\) got both roi= and region=: roi= is deprecated"):
        _load("s1", roi=(0, 1, 0, 1), region=(0, 1, 0, 1))


class _ThrowawaySpecs:
    """A hook specification deprecated the way nx5d deprecates a hook (no real hook is deprecated today)."""

    @pluggy.HookspecMarker(PROJECT)(
        firstresult=True, warn_on_impl=hook_deprecated("nx5d_throwaway", "nx5d_summary", since="0.3")
    )
    def nx5d_throwaway(self, scan):
        """Deprecated: implement nx5d_summary."""


class _Beamline:
    NX5D_PLUGIN_API = nx5d.PLUGIN_API
    NX5D_BEAMLINE = Beamline("throwaway beamline")


class _OldStyle(_Beamline):
    @nx5d.hookimpl
    def nx5d_throwaway(self, scan):
        return {}


def test_a_deprecated_hookspec_warns_when_a_plugin_implementing_it_is_registered():
    registry = PluginRegistry(discover=False)
    registry.pm.add_hookspecs(_ThrowawaySpecs)
    with pytest.warns(Nx5dDeprecationWarning) as caught:
        registry.register_beamline("old-style", _OldStyle())
    (warning,) = caught
    assert str(warning.message) == (
        "the hook nx5d_throwaway is deprecated since nx5d-core 0.3 and goes away in 0.5: use nx5d_summary"
    )
    assert warning.filename == __file__  # pluggy points at the plugin's implementation
    assert registry.status("old-style").state == "loaded"  # it still works meanwhile
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        registry.register_beamline("new-style", _Beamline())


@pytest.mark.parametrize("old", sorted(API_1_MODULES))
def test_every_module_only_plugin_api_1_had_is_gone_and_recognised(old):
    with pytest.raises(ImportError) as info:
        importlib.import_module(old)
    assert api_1_name(info.value) == (old, API_1_MODULES[old])


@pytest.mark.parametrize(
    ("statement", "old"),
    [
        ("from nx5d import hdf5", "nx5d.hdf5"),
        ("from nx5d import BeamlineInfo", "nx5d.BeamlineInfo"),
        ("from nx5d.info import BeamlineInfo", "nx5d.info"),
        ("import nx5d.scaffold.template", "nx5d.scaffold"),
        ("from nx5d.plugins import registry", "nx5d.plugins.registry"),
    ],
)
def test_imports_of_plugin_api_1_names_are_recognised(statement, old):
    with pytest.raises(ImportError) as info:
        exec(statement, {})
    assert api_1_name(info.value) == (old, {**API_1_MODULES, **API_1_NAMES}[old])


@pytest.mark.parametrize(
    "statement",
    ["import nx5d_never_installed_anywhere", "from nx5d import no_such_name", "from nx5d.io.storage import nothing"],
)
def test_other_import_failures_are_not_taken_for_plugin_api_1(statement):
    with pytest.raises(ImportError) as info:
        exec(statement, {})
    assert api_1_name(info.value) is None


def test_only_import_failures_can_be_plugin_api_1():
    assert api_1_name(ValueError("No module named 'nx5d.hdf5'")) is None
