"""Plugin distributions installed with pip are found through entry points alone.

Throwaway distributions are built and pip-installed into the test
environment: a working beamline, one whose import raises, one that calls
``sys.exit`` when imported, one targeting a future plugin API, and a lab's
cooking recipes (one working, one exiting on import).  Checks run in fresh interpreters, exactly as a user
would meet them; the distributions are uninstalled afterwards.
"""

import json
import subprocess
import sys
import textwrap

import pytest

PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.0.1"
dependencies = ["nx5d-core"]

[project.entry-points."{group}"]
{entry_points}

[tool.setuptools]
packages = ["{module}"]
"""


def write_distribution(folder, dist, module, group, entry_points, files):
    """A distribution folder: ``entry_points`` ({name: object reference}) in ``group``, ``files`` in ``module``."""
    (folder / module).mkdir(parents=True)
    entries = "\n".join(f'{name} = "{target}"' for name, target in entry_points.items())
    text = PYPROJECT.format(dist=dist, group=group, entry_points=entries, module=module)
    (folder / "pyproject.toml").write_text(text)
    (folder / module / "__init__.py").write_text("")
    for name, code in files.items():
        (folder / module / name).write_text(code)


WORKING = """\
import nx5d
from nx5d.plugins import Beamline, ClaimLevel

NX5D_PLUGIN_API = 2
NX5D_BEAMLINE = Beamline(
    "throwaway test beamline",
    url_examples=("file:///…/throwaway/{proposal}/{scan}",),
    level=ClaimLevel.BEAMLINE,
    accepts=lambda pattern: "/throwaway/" in pattern.text,
)


@nx5d.hookimpl
def nx5d_raw(scan, options):
    return scan.storage.read_bytes(scan.url + "/data.txt").decode()


@nx5d.hookimpl
def nx5d_cook(scan, raw, spice):
    return raw.upper()
"""

BROKEN = 'raise ImportError("this plugin is broken on purpose")\n'

FUTURE = """\
from nx5d.plugins import Beamline

NX5D_PLUGIN_API = 99
NX5D_BEAMLINE = Beamline("from the future")
"""

EXITING = "import sys\nsys.exit(7)\n"

RECIPES = """\
import xarray as xr

from nx5d.recipes import Recipe


def count(request):
    return xr.Dataset({"points": request.raw.sizes["index"]}, attrs={"scan_type": request.summary["type"]})


POINTS = Recipe("points-count", "how many points the scan has", count)
"""

DISTS = [
    ("nx5d-throwaway", "throwaway", "nx5d_throwaway", WORKING),
    ("nx5d-broken-plugin", "brokenbeam", "nx5d_broken_plugin", BROKEN),
    ("nx5d-future-plugin", "futurebeam", "nx5d_future_plugin", FUTURE),
    ("nx5d-exiting-plugin", "exitbeam", "nx5d_exiting_plugin", EXITING),
]


def pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("dists")
    paths = []
    for dist, name, module, code in DISTS:
        folder = root / dist
        write_distribution(folder, dist, module, "nx5d.beamlines", {name: f"{module}.plugin"}, {"plugin.py": code})
        paths.append(str(folder))
    recipes = root / "nx5d-lab-recipes"
    write_distribution(
        recipes,
        "nx5d-lab-recipes",
        "nx5d_lab_recipes",
        "nx5d.recipes",
        {"points-count": "nx5d_lab_recipes.recipes:POINTS", "exploding": "nx5d_lab_recipes.exploding:THING"},
        {"recipes.py": RECIPES, "exploding.py": EXITING},
    )
    pip("install", "--no-deps", "--no-build-isolation", *paths, str(recipes))
    yield
    pip("uninstall", "-y", *(d for d, *_ in DISTS), "nx5d-lab-recipes")


def run_python(code):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_installed_plugin_is_found_without_registration(installed, tmp_path):
    scan = tmp_path / "throwaway" / "p1" / "s1"
    scan.mkdir(parents=True)
    (scan / "data.txt").write_text("hello")
    out = run_python(
        f"""
        import nx5d
        repo = nx5d.open("file://{tmp_path}/throwaway/{{proposal}}/{{scan}}")
        print(repo.beamline, repo.keys(), repo.p1.s1.raw, repo.p1.s1.cooked)
        """
    )
    assert out.split() == ["throwaway", "['p1']", "hello", "HELLO"]


def test_discovery_reads_metadata_without_importing_plugins(installed):
    out = run_python(
        """
        import sys
        from nx5d.plugins.discovery import registry
        reg = registry()
        print(reg.status("throwaway").state, "nx5d_throwaway.plugin" in sys.modules)
        reg.load("throwaway")
        print(reg.status("throwaway").state, "nx5d_throwaway.plugin" in sys.modules)
        """
    )
    assert out.split() == ["available", "False", "loaded", "True"]


def test_broken_plugins_do_not_break_open_for_others(installed):
    out = run_python(
        """
        import nx5d, nx5d_memory, xarray
        url = nx5d_memory.register("x", {"p": {"1": xarray.Dataset()}})
        print(nx5d.open(url).beamline)
        """
    )
    assert out.strip() == "memory"


def test_nx5d_plugins_shows_broken_and_incompatible_plugins(installed):
    done = subprocess.run(
        [sys.executable, "-m", "nx5d", "plugins", "--json"], capture_output=True, text=True, check=True
    )
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert rows["throwaway"]["state"] == "loaded"
    assert rows["throwaway"]["distribution"] == "nx5d-throwaway"
    assert rows["brokenbeam"]["state"] == "broken"
    assert "this plugin is broken on purpose" in rows["brokenbeam"]["error"]
    assert rows["futurebeam"]["state"] == "broken"
    assert "targets nx5d plugin API 99" in rows["futurebeam"]["error"]
    assert rows["exitbeam"]["state"] == "broken"
    assert "SystemExit: 7" in rows["exitbeam"]["error"]
    text = subprocess.run([sys.executable, "-m", "nx5d", "plugins"], capture_output=True, text=True).stdout
    assert "brokenbeam: importing nx5d_broken_plugin.plugin failed: ImportError" in text


def test_asking_for_a_broken_plugin_by_name_says_why(installed, tmp_path):
    out = run_python(
        f"""
        import nx5d
        try:
            nx5d.open("file://{tmp_path}/{{proposal}}/{{scan}}", beamline="brokenbeam")
        except nx5d.errors.BeamlineLoadError as exc:
            print(exc)
        """
    )
    assert "brokenbeam (nx5d-broken-plugin 0.0.1): BROKEN: importing" in out


def test_a_labs_recipe_is_found_by_name_and_cooks_any_beamlines_scans(installed, tmp_path):
    from nx5d_nexus.synth import write_repository

    url = write_repository(tmp_path, {"hc2103": [1]}, "bliss")
    out = run_python(
        f"""
        import sys
        import nx5d
        from nx5d.recipes import recipes
        print("points-count" in recipes().names(), "nx5d_lab_recipes.recipes" in sys.modules)
        proposal = nx5d.open("{url}").hc2103
        proposal.spice.seed("recipes", by_type={{"ascan": "points-count"}})
        cooked = proposal["1.1"].cooked
        print(int(cooked.points), cooked.attrs["scan_type"], cooked.attrs["nx5d_recipe"])
        status = {{s.name: s for s in recipes().statuses()}}["exploding"]
        print(status.state, status.distribution, "SystemExit: 7" in status.error)
        """
    )
    assert out.split() == ["True", "False", "21", "ascan", "points-count", "broken", "nx5d-lab-recipes", "True"]
