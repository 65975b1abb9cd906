"""Plot helpers: maps per delay on a log scale, peak positions against delay."""

import numpy as np
import pytest
import xarray as xr

import nx5d
from nx5d.errors import OptionError
from nx5d_rsm import plot

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def _pyplot_closed():
    """Figures are pyplot's: each test closes what it opened."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


DELAYS = np.array([-10.0, 0.0, 50.0, 100.0, 200.0])
CENTRES = np.array([2.60, 2.60, 2.58, 2.57, 2.59])  # qz of the peak per delay


@pytest.fixture
def cooked():
    qy = np.linspace(-0.1, 0.1, 41)
    qz = np.linspace(2.4, 2.8, 201)
    peak = np.exp(-(qy[None, :, None] ** 2) / 0.001 - (qz[None, None, :] - CENTRES[:, None, None]) ** 2 / 2e-4)
    qdata = xr.DataArray(100.0 * peak, coords={"delay": DELAYS, "qy": qy, "qz": qz}, dims=("delay", "qy", "qz"))
    return xr.Dataset({"qdata": qdata, "frames": ("delay", np.full(5, 3))})


def test_rsm_draws_one_panel_per_delay_on_a_shared_log_scale(cooked):
    from matplotlib.colors import LogNorm

    figure = plot.rsm(cooked, columns=3)
    panels = [ax for ax in figure.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert len(panels) == 5
    assert [ax.get_title() for ax in panels] == [f"delay = {d:g}" for d in DELAYS]
    meshes = [ax.collections[0] for ax in panels]
    assert all(isinstance(m.norm, LogNorm) for m in meshes)
    assert meshes[0].norm is meshes[-1].norm
    assert meshes[0].norm.vmax == pytest.approx(100.0, rel=1e-3)
    assert meshes[0].norm.vmin == pytest.approx(100.0 * 1e-4, rel=1e-3)
    assert panels[-1].get_xlabel() == "qy (1/Å)"
    assert panels[0].get_ylabel() == "qz (1/Å)"
    shown = meshes[2].get_array()
    assert shown.shape == (201, 41)  # qz vertical, qy horizontal
    floor = meshes[0].norm.vmin  # below it, zeros included, the floor's colour
    np.testing.assert_allclose(shown, np.maximum(cooked.qdata.isel(delay=2).T.values, floor))


def test_rsm_of_a_single_map_and_linear_scale(cooked):
    figure = plot.rsm(cooked.qdata.isel(delay=0), log=False)
    (ax, _colorbar) = figure.axes
    assert ax.collections[0].norm.vmin == pytest.approx(0.0, abs=1e-12)


def test_peak_positions_follow_the_peak(cooked):
    com = plot.peak_positions(cooked, along="qz")
    np.testing.assert_allclose(com.values, CENTRES, atol=1e-4)
    assert com.dims == ("delay",)
    top = plot.peak_positions(cooked, along="qz", method="max")
    np.testing.assert_allclose(top.values, CENTRES, atol=0.002)


def test_a_peak_on_a_background_is_found_within_one_grid_step():
    """A reflection on 0.02 counts per pixel of Poisson background, with empty bins, as cooking gives them."""
    rng = np.random.default_rng(2)
    qy, qz = np.linspace(-0.05, 0.05, 80), np.linspace(2.40, 2.80, 800)
    step = qz[1] - qz[0]
    centres = np.array([2.712, 2.704])
    weight = rng.choice([0.0, 1.0, 2.0], size=(2, qy.size, qz.size), p=[0.23, 0.4, 0.37])  # 23 % of bins empty
    peak = 5.0 * np.exp(-(qy[None, :, None] ** 2) / 2e-4 - (qz[None, None, :] - centres[:, None, None]) ** 2 / 2e-5)
    counts = rng.poisson((peak + 0.02) * weight)
    qdata = np.where(weight > 0, counts / np.where(weight > 0, weight, 1), np.nan)
    maps = xr.Dataset(
        {"qdata": (("delay", "qy", "qz"), qdata), "weight": (("delay", "qy", "qz"), weight)},
        coords={"delay": [0.0, 100.0], "qy": qy, "qz": qz},
    )
    found = plot.peak_positions(maps, along="qz")
    assert np.all(np.abs(found.values - centres) < step)
    assert found.attrs == {  # this qz has no units to pass on
        "long_name": "peak position along qz",
        "method": "com",
        "background": "median",
    }
    # what a centre of mass of the whole profile (no background, no window) gives: every noisy bin pulls it
    profile = maps.qdata.fillna(0.0).sum("qy")
    whole = (profile * maps.qz).sum("qz") / profile.sum("qz")
    assert np.all(np.abs(whole.values - centres) > 5 * step)


def test_peak_trace_plots_the_shift_against_delay(cooked):
    figure = plot.peak_trace(cooked, relative=True)
    (line,) = figure.axes[0].get_lines()
    np.testing.assert_allclose(line.get_xdata(), DELAYS)
    np.testing.assert_allclose(line.get_ydata(), CENTRES - CENTRES[0], atol=1e-4)
    assert figure.axes[0].get_ylabel() == "shift of qz peak, centre of mass (1/Å)"  # with its unit


def test_bad_requests_name_what_exists(cooked):
    with pytest.raises(OptionError, match=r"no variable 'nope'.*qdata"):
        plot.rsm(cooked, "nope")
    with pytest.raises(OptionError, match="no dimension 'qx'"):
        plot.peak_positions(cooked, along="qx")
    with pytest.raises(OptionError, match="method must be"):
        plot.peak_positions(cooked, method="fit")
    with pytest.raises(OptionError, match="select all but one"):
        plot.rsm(cooked.qdata.expand_dims(sample=2))
    with pytest.raises(OptionError, match=r"map in 3 q dimensions; project it first, e\.g\. \.sum\('qx'\)"):
        plot.rsm(cooked.qdata.isel(delay=0).expand_dims(qx=[0.0, 0.1], axis=0))


def test_figures_show_as_png_in_jupyter_without_pyplot(cooked):
    png = plot.peak_trace(cooked)._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000


def test_maps_and_traces_are_labelled_with_units_and_draw_into_given_axes(cooked):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    maps = cooked.assign(qdata=cooked.qdata.assign_attrs(long_name="mean intensity per pixel", units="counts"))
    maps["delay"] = maps.delay.assign_attrs(units="ps")
    figure = plot.rsm(maps)
    colourbar = figure.axes[-1]
    assert colourbar.get_ylabel() == "mean intensity per pixel (counts)"
    assert figure.axes[0].get_title() == "delay = -10 ps"
    mine, ax = plt.subplots()
    assert plot.rsm(maps.isel(delay=0), ax=ax) is mine
    assert ax.get_xlabel() == "qy (1/Å)"
    with pytest.raises(OptionError, match="ax= draws one map"):
        plot.rsm(maps, ax=ax)
    trace_figure, trace_ax = plt.subplots()
    assert plot.peak_trace(maps, along="qz", ax=trace_ax) is trace_figure
    assert trace_ax.get_xlabel() == "delay (ps)"
    plt.close("all")


def test_the_colour_scale_starts_at_the_background(cooked):
    noisy = cooked.assign(qdata=cooked.qdata + 0.5)  # a flat background under the peaks
    image = plot.rsm(noisy).axes[0].collections[0]
    assert image.norm.vmin == pytest.approx(float(np.median(noisy.qdata.values)), rel=1e-6)


def test_figures_are_pyplot_figures_a_user_keeps_editing(cooked):
    import matplotlib.pyplot as plt

    figure = plot.rsm(cooked.qdata.isel(delay=0))
    assert plt.gcf() is figure  # pyplot's current figure: plt.savefig, plt.title ... reach it
    assert plt.fignum_exists(figure.number)
    plt.title("mine")
    assert figure.axes[0].get_title() == "mine"


def test_a_figure_returned_in_jupyter_is_shown_once(cooked, monkeypatch):
    """Shown where it is returned, and closed in pyplot: the inline backend does not show it again."""
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append(a))
    figure = plot.peak_trace(cooked)
    figure._ipython_display_()
    ((payload,),) = shown
    assert payload["image/png"].startswith(b"\x89PNG")
    assert not plt.fignum_exists(figure.number)
    assert figure.axes[0].get_lines()  # still the user's to edit and show again


def test_tab_completion_offers_the_public_functions_only():
    assert dir(nx5d.plot) == sorted(plot.__all__)
    assert {"rsm", "peak_trace", "raw_overview", "quick_look"} <= set(dir(nx5d.plot))
    assert not {"np", "xr", "annotations", "Any", "functools"} & set(dir(nx5d.plot))


def test_a_single_maps_long_colour_bar_label_stays_inside_the_picture(cooked):
    one = cooked.qdata.isel(delay=0).assign_attrs(long_name="mean intensity per pixel and monitor unit", units="1/s")
    figure = plot.rsm(one, title="spec_pilatus, scan 3.1: reciprocal space map (recipe rsm)")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    inside = figure.bbox
    for text in (figure.axes[-1].yaxis.label, figure._suptitle):
        box = text.get_window_extent(renderer)
        assert inside.x0 <= box.x0, text
        assert box.x1 <= inside.x1, text
        assert inside.y0 <= box.y0, text
        assert box.y1 <= inside.y1, text
    assert figure.axes[-1].get_ylabel().replace("\n", " ") == "mean intensity per pixel and monitor unit (1/s)"


def test_units_appear_once():
    rate = xr.DataArray([1.0, 2.0, 3.0], dims="theta", name="pilatus_rate", attrs={"long_name": "Pilatus [ph/s]"})
    rate = rate.assign_attrs(units="ph/s").assign_coords(theta=("theta", [1.0, 2.0, 3.0], {"units": "deg"}))
    ax = plot.lines(rate).axes[0]
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("Pilatus [ph/s]", "theta (deg)")
    theta = rate.assign_attrs(long_name="Theta / deg.", units="deg.")
    assert plot.lines(theta).axes[0].get_ylabel() == "Theta / deg."
    assert plot.lines(rate.assign_attrs(long_name="Pilatus")).axes[0].get_ylabel() == "Pilatus (ph/s)"


def test_the_colour_floor_is_the_noise_where_the_poisson_variance_is_known():
    """Sparse photons around a peak: the single-photon speckle gets the floor's colour, the peak the scale."""
    rng = np.random.default_rng(5)
    qy, qz = np.linspace(-0.1, 0.1, 60), np.linspace(2.4, 2.8, 120)
    weight = np.full((qy.size, qz.size), 20.0)
    peak = 400.0 * np.exp(-(qy[:, None] ** 2) / 2e-4 - (qz[None, :] - 2.6) ** 2 / 2e-4)
    counts = rng.poisson(peak + 0.05)
    maps = xr.Dataset(
        {"qdata": (("qy", "qz"), counts / weight), "qdata_variance": (("qy", "qz"), counts / weight**2)},
        coords={"qy": qy, "qz": qz},
    )
    maps["qdata"][0, 0] = np.nan  # a bin no pixel reached
    mesh = plot.rsm(maps).axes[0].collections[0]
    speckle = maps.qdata.values[(counts > 0) & (counts < 4) & (peak < 0.01)]
    assert speckle.size > 50
    assert speckle.max() <= mesh.norm.vmin  # single photons: all at the floor
    assert mesh.norm.vmax == pytest.approx(float(np.nanmax(maps.qdata)))
    shown = mesh.get_array()
    assert shown.mask[0, 0]
    assert shown.mask.sum() == 1  # blank: only the unmeasured bin
    without = plot.rsm(maps.qdata).axes[0].collections[0]  # no variance: the median of the measured values
    assert without.norm.vmin == pytest.approx(float(np.median(maps.qdata.values[maps.qdata.values > 0])))


def test_show_outside_jupyter_is_pyplots(cooked, monkeypatch):
    monkeypatch.setattr("IPython.get_ipython", lambda: None)  # other tests may have left a shell in this process
    shown = []
    figure = plot.rsm(cooked)
    monkeypatch.setattr(figure.canvas.manager, "show", lambda: shown.append(figure))
    figure.show()  # pyplot's window where the backend has one (here Agg's manager, recorded)
    assert shown == [figure]
