"""Cooking through recipes: chosen per scan type, offsets from spice, grouping, honest map values."""

import math

import numpy as np
import pytest
import xarray as xr

import nx5d
from nx5d.errors import (
    MissingDataError,
    RecipeError,
    RecipeFailure,
    RecipeNotFoundError,
    SpiceValidationError,
)
from nx5d.plugins import Beamline, ClaimLevel, Cooking
from nx5d.plugins.discovery import PluginRegistry
from nx5d.recipes import Recipe, RecipeRegistry, recipes
from nx5d_rsm import Setup
from nx5d_rsm.geometry import HC
from nx5d_rsm.settings import MotorSettings

from .helpers import bragg_scan

ENERGY = 8047.8231
SETUP = Setup(
    energy=ENERGY,
    sample_axes=("y-",),
    detector_axes=("y-",),
    center=(97.0, 243.0),
    distance=700.0,
    pixel_size=(0.172, 0.172),
    directions=("y-", "z+"),
)
K = 2 * math.pi * ENERGY / HC
THETA_B = 20.0
Q_PEAK = (0.0, 0.0, 2 * K * math.sin(math.radians(THETA_B)))  # a specular reflection
MAP = {"sample_motors": ["theta"], "detector_motors": ["two_theta"], "grid_size": [60, 200]}


def rocking(n=15, offset=0.0, **kw):
    """A rocking scan through the reflection; the recorded 2-theta is ``offset`` below the true one."""
    theta = np.linspace(THETA_B - 0.15, THETA_B + 0.15, n)
    true = np.full(n, 2 * THETA_B)
    scan = bragg_scan(SETUP, theta, true, Q_PEAK, **kw)
    return scan.assign(two_theta=("index", true - offset))


class Lab:
    """An in-process beamline whose scans the core cooks with recipes."""

    NX5D_PLUGIN_API = 2

    def __init__(self, scans, recipes_table=None, roles=None):
        self.scans = scans
        self.NX5D_BEAMLINE = Beamline(
            "recipe test lab",
            schemes=("memory",),
            level=ClaimLevel.BEAMLINE,
            spice={"settings": MotorSettings},
            cooking=Cooking(
                recipes=recipes_table or {"align*": "profile", "tscan": "temperature-rsm", "*": "rsm"},
                roles=roles or {"temperature": ("T_sample", "temp")},
            ),
        )

    @nx5d.hookimpl
    def nx5d_list_proposals(self, repository):
        return ["p"]

    @nx5d.hookimpl
    def nx5d_list_scans(self, proposal):
        return list(self.scans)

    @nx5d.hookimpl
    def nx5d_summary(self, scan):
        data = self.scans[scan.key]
        return {"type": data.attrs["type"], "motor": data.attrs.get("motor", ""), "steps": data.sizes["index"]}

    @nx5d.hookimpl
    def nx5d_raw(self, scan, options):
        return self.scans[scan.key].assign_attrs(url=scan.url)


def open_lab(scans, **kw):
    registry = PluginRegistry(discover=False)
    registry.register_beamline("lab", Lab(scans, **kw))
    return nx5d.open("memory://lab/{proposal}/{scan}", registry=registry, spice_url="").p


def peak_qz(cooked):
    """Centre of the peak along qz: the intensity (value x weight) of the whole map, weighted by qz."""
    intensity = (cooked.qdata * cooked.weight).fillna(0.0)
    return float((intensity * cooked.qz).sum() / intensity.sum())


def test_recipes_are_chosen_per_scan_type_and_by_spice():
    scans = {
        "1": rocking(),
        "2": rocking().assign_attrs(type="align", motor="z"),
        "3": rocking().assign_attrs(type="ascan", motor="z"),
    }
    proposal = open_lab(scans)
    proposal.spice.seed("settings", **MAP)
    assert proposal.s1.cooked.attrs["nx5d_recipe"] == "rsm"
    assert proposal.s2.cooked.attrs["nx5d_recipe"] == "profile"
    assert proposal.s3.cooked.attrs["nx5d_recipe"] == "rsm"
    # the spice table comes first; "type motor" patterns send height scans elsewhere
    proposal.spice.seed("recipes", by_type={"ascan z": "none", "align": "rsm"})
    for scan in (proposal.s1, proposal.s2, proposal.s3):
        scan.reload()
    assert proposal.s3.cooked.attrs["nx5d_recipe"] == "none"
    assert "images" not in proposal.s3.cooked
    assert "theta" in proposal.s3.cooked
    assert proposal.s2.cooked.attrs["nx5d_recipe"] == "rsm"
    assert proposal.s1.cooked.attrs["nx5d_recipe"] == "rsm"


def test_unknown_recipes_are_refused_naming_the_known_ones():
    proposal = open_lab({"1": rocking()})
    with pytest.raises(SpiceValidationError, match=r"names no installed recipe: 'strain'; known recipes: .*delay-rsm"):
        proposal.spice.seed("recipes", by_type={"*": "strain"})
    # recipes are names, never code locations read from data
    for location in ("pymod://os#system", "file:///tmp/recipe.py#cook", "os.system"):
        with pytest.raises(SpiceValidationError, match="names no installed recipe"):
            proposal.spice.seed("recipes", by_type={"*": location})
    with pytest.raises(RecipeNotFoundError, match=r"no recipe named 'strain'; known recipes: auto, delay-rsm"):
        recipes().get("strain")
    unlisted = open_lab({"1": rocking().assign_attrs(type="mesh")}, recipes_table={"ascan": "rsm"})
    with pytest.raises(RecipeNotFoundError, match=r"scan type 'mesh'.*seed\('recipes', by_type=\{'mesh': 'rsm'\}\)"):
        unlisted.s1.cooked  # noqa: B018


def test_offsets_shift_a_bragg_peak_by_the_expected_q():
    delta = 0.3  # the 2-theta motor reads 0.3 degrees low
    proposal = open_lab({"1": rocking(offset=delta)})
    proposal.spice.seed("settings", **MAP)
    wrong = proposal.s1.cooked
    proposal.spice.seed("offsets", two_theta=delta)
    right = proposal.s1.cooked
    step = float(right.qz[1] - right.qz[0])
    assert abs(peak_qz(right) - Q_PEAK[2]) < 0.5 * step
    # without the offset the pixel at the true 2-theta is taken for 2-theta - delta: |q| = 2k sin(theta_B - delta/2),
    # tilted by delta/2 from the surface normal
    expected = 2 * K * math.sin(math.radians(THETA_B - delta / 2)) * math.cos(math.radians(delta / 2))
    assert abs(peak_qz(wrong) - expected) < 0.5 * float(wrong.qz[1] - wrong.qz[0])
    assert peak_qz(right) - peak_qz(wrong) == pytest.approx(Q_PEAK[2] - expected, abs=step)


def test_offsets_are_checked_and_never_skipped():
    proposal = open_lab({"1": rocking()})
    proposal.spice.seed("settings", **MAP)
    with pytest.raises(SpiceValidationError, match="offset 'theta' must be a finite number"):
        proposal.spice.seed("offsets", theta="a lot")
    with pytest.raises(SpiceValidationError, match="offset 'theta' must be a finite number"):
        proposal.spice.seed("offsets", theta=float("nan"))
    proposal.spice.seed("offsets", tth=0.1)  # a name this scan does not have
    with pytest.raises(
        SpiceValidationError, match=r"offset variable 'tth' is not a variable of .*variables: .*two_theta"
    ):
        proposal.s1.cooked  # noqa: B018
    proposal.spice.update("1", "offsets", two_theta=0.1, allow_new=False)  # offsets take any variable name
    assert proposal.spice.view("1")["offsets"].two_theta == 0.1


def test_temperature_maps_group_rounded_readbacks_and_further_variables():
    rng = np.random.default_rng(4)
    n = 24
    setpoints = np.repeat([10.0, 20.0, 30.0], 8)
    readback = setpoints + rng.uniform(-0.3, 0.3, n)  # the sensor wanders around each setpoint
    pumped = np.tile([0, 1], 12)
    scan = rocking(n=n, T_sample=readback, pumped=pumped).assign_attrs(type="tscan")
    proposal = open_lab({"1": scan})
    proposal.spice.seed("settings", **{**MAP, "group_by": ["pumped"], "grid_size": [20, 40]})
    maps = proposal.s1.cooked
    assert maps.attrs["nx5d_recipe"] == "temperature-rsm"
    assert maps.qdata.dims == ("temperature", "pumped", "qy", "qz")
    assert maps.temperature.values.tolist() == [10.0, 20.0, 30.0]  # rounded to 1 K
    assert maps.pumped.values.tolist() == [0, 1]
    assert maps.frames.values.tolist() == [[4, 4]] * 3
    # each map is the map of exactly its frames (on the common grid)
    by_name = {**MAP, "grid_size": [20, 40], "group_by": ["T_sample", "pumped"], "group_step": {"T_sample": 1}}
    one = proposal.s1.cook({"settings": by_name, "recipes": {"by_type": {"*": "rsm"}}})
    np.testing.assert_array_equal(one.T_sample.values, maps.temperature.values)
    np.testing.assert_allclose(one.qdata.values, maps.qdata.values, rtol=1e-12)
    # a finer step separates the readbacks
    fine = proposal.s1.cook({"settings": {**MAP, "grid_size": [20, 40], "group_step": {"temperature": 0.1}}})
    assert fine.temperature.size > 3


def test_integrated_intensity_is_value_times_weight_and_empty_bins_are_nan():
    scan = rocking(background=0.2, seed=3)
    scan["monitor"] = ("index", np.linspace(0.9, 1.1, scan.sizes["index"]))
    proposal = open_lab({"1": scan})
    cooked = proposal.s1.cook({"settings": {**MAP, "grid_size": [300, 900], "monitor": "monitor"}})
    frames = scan.images.values.astype(float)
    counts = (frames / scan.monitor.values[:, None, None]).sum()
    total = float((cooked.qdata * cooked.weight).sum())  # NaN bins are skipped: they hold no pixel
    assert total == pytest.approx(counts, rel=1e-9)
    empty = cooked.weight.values == 0
    assert empty.any()
    assert np.isnan(cooked.qdata.values[empty]).all()
    assert not np.isnan(cooked.qdata.values[~empty]).any()
    assert cooked.weight.attrs["units"] == "pixels"
    assert cooked.qz.attrs["units"] == "1/Å"
    zero = proposal.s1.cook({"settings": {**MAP, "grid_size": [300, 900], "empty_bins": "zero"}})
    assert (zero.qdata.values[empty] == 0).all()


def test_maps_of_one_two_and_three_q_dimensions():
    proposal = open_lab({"1": rocking()})
    for axes, size in ((["qz"], [80]), (["qy", "qz"], [30, 80]), (["qx", "qy", "qz"], [5, 30, 80])):
        cooked = proposal.s1.cook({"settings": {**MAP, "q_axes": axes, "grid_size": size}})
        assert cooked.qdata.dims == tuple(axes)
        assert abs(peak_qz(cooked) - Q_PEAK[2]) < 0.5 * float(cooked.qz[1] - cooked.qz[0])


def test_a_failing_recipe_is_named_and_a_broken_one_reported():
    def explode(request):
        raise ZeroDivisionError("oops")

    registry = recipes()
    registry.register(Recipe("exploding-test", "fails on purpose", explode))
    try:
        proposal = open_lab({"1": rocking()}, recipes_table={"*": "exploding-test"})
        with pytest.raises(RecipeFailure, match=r"recipe 'exploding-test' failed cooking memory://lab/p/1.*oops"):
            proposal.s1.cooked  # noqa: B018
        with pytest.raises(RecipeError, match="already known"):
            registry.register(Recipe("exploding-test", "again", explode))
    finally:
        registry.unregister("exploding-test")
    assert "exploding-test" not in registry.names()


def test_registry_reports_entry_points_that_do_not_load(monkeypatch):
    from importlib.metadata import EntryPoint

    import nx5d.recipes.registry as module

    points = [
        EntryPoint("rsm", "nx5d_rsm.recipes:RSM", "nx5d.recipes"),
        EntryPoint("gone", "no_such_module_nx5d:THING", "nx5d.recipes"),
        EntryPoint("misnamed", "nx5d_rsm.recipes:RSM", "nx5d.recipes"),
        EntryPoint("notarecipe", "nx5d_rsm.recipes:TEMPERATURE_STEP", "nx5d.recipes"),
    ]
    monkeypatch.setattr(module, "entry_points", lambda group: points)
    registry = RecipeRegistry()
    assert registry.get("rsm").name == "rsm"
    states = {s.name: (s.state, s.error) for s in registry.statuses()}
    assert states["rsm"] == ("loaded", None)
    assert "ModuleNotFoundError" in states["gone"][1]
    assert "is named 'rsm', not 'misnamed'" in states["misnamed"][1]
    assert "is not an nx5d.recipes.Recipe" in states["notarecipe"][1]
    with pytest.raises(RecipeError, match=r"recipe 'gone' .* is broken: loading no_such_module_nx5d:THING failed"):
        registry.get("gone")


def test_scan_without_frames_or_angles_says_what_to_seed():
    counters = xr.Dataset({"z": ("index", np.linspace(0, 1, 5)), "roi": ("index", np.arange(5.0))}, attrs={"type": "s"})
    proposal = open_lab({"1": counters})
    with pytest.raises(MissingDataError, match=r"memory://lab/p/1 has no detector images to map"):
        proposal.s1.cook({"settings": MAP})
    proposal.spice.seed("recipes", by_type={"*": "auto"})
    profile = proposal.s1.cooked
    assert profile.attrs["nx5d_recipe"] == "auto"
    assert profile.signal.dims == ("z",)
    np.testing.assert_array_equal(profile.signal.values, counters.roi.values)
