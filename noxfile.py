"""The one entry point for tests, lint, docs, the demo and benchmarks.

Every session installs the repository's distributions from their own source
folders (``nx5d-core/`` first, then every ``nx5d-*/`` plugin) into one
environment, exactly as users would install them.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = ["lint", "tests", "docs"]


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def distributions() -> list[Path]:
    """The distribution folders, each after the ones it depends on (the core first).

    pip resolves a local folder given with extras only when the folders it
    depends on were named before it, so the order matters.
    """
    folders = {_project(p.parent)["name"]: p.parent for p in sorted(ROOT.glob("nx5d-*/pyproject.toml"))}
    needs = {
        name: {re.match(r"[A-Za-z0-9_.-]+", dep)[0].lower() for dep in _project(folder).get("dependencies", [])}
        & set(folders)
        for name, folder in folders.items()
    }
    ordered: list[str] = []
    while len(ordered) < len(folders):
        ready = sorted(n for n in folders if n not in ordered and needs[n] <= set(ordered))
        if not ready:
            raise RuntimeError(f"circular dependencies among {sorted(set(folders) - set(ordered))}")
        ordered.extend(ready)
    return [folders[name] for name in ordered]


def install_distributions(session: nox.Session, extra: str | None = None) -> None:
    """Install every distribution from source, with ``extra`` where a distribution defines it."""
    targets = []
    for folder in distributions():
        project = _project(folder)
        has_extra = extra in project.get("optional-dependencies", {})
        targets.append(f"{folder}[{extra}]" if has_extra else str(folder))
    session.log(f"installing {len(targets)} distributions and their dependencies with pip (quiet; minutes when fresh)")
    session.install(*targets)


@nox.session
def tests(session: nox.Session) -> None:
    """Run every distribution's tests, then the cross-distribution tests in tests/.

    Each suite runs in its own pytest process, as it would in its distribution's
    own repository (their ``tests`` packages share a name), its tests spread
    over one worker per CPU (pytest-xdist; ``nox -s tests -- -n 0`` runs them
    in one process).
    """
    install_distributions(session, "test")
    env = {"NX5D_PROGRESS": "0", "NX5D_CACHE_DIR": session.create_tmp()}  # cooked results stay in the session
    for folder in [d / "tests" for d in distributions() if (d / "tests").is_dir()] + [ROOT / "tests"]:
        session.run("pytest", "-n", "auto", str(folder), *session.posargs, env=env)


#: Type stubs of third-party libraries the distributions import that carry no annotations of their own.
TYPE_STUBS = ["pandas-stubs", "types-tqdm"]


@nox.session
def lint(session: nox.Session) -> None:
    """Static checks: ruff (lint rules and formatting), then mypy over every distribution's source.

    mypy (configured in ``pyproject.toml``) follows the imports into the
    libraries the distributions use, so they are installed with their test
    extras (every optional library is among them), with the stub packages.
    """
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    install_distributions(session, "test")
    session.install("mypy>=1.11", *TYPE_STUBS)
    session.run("mypy", "--config-file", str(ROOT / "pyproject.toml"))


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (warnings are errors), executing every tutorial notebook.

    Then check that the notebook pages show their tables and plots, and keep
    the plots as PNG files in ``site/notebook-images/``.
    """
    install_distributions(session, "plot")
    session.install(
        "mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.25", "mkdocs-jupyter>=0.25", "ipykernel>=6.29"
    )
    site = ROOT / "site"
    env = {"NO_MKDOCS_2_WARNING": "1", "NX5D_PROGRESS": "0"}
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site), env=env)
    session.run("python", str(ROOT / "tools" / "check_site.py"), str(site))


@nox.session
def build(session: nox.Session) -> None:
    """Build every distribution's sdist and wheel into ``dist/`` and check them with ``twine check --strict``.

    Each distribution is built from its own folder in an isolated build
    environment, as a publishing workflow builds it (docs/releasing.md);
    ``dist/`` is emptied first, so it holds exactly this build.
    """
    session.install("build>=1.2", "twine>=5.0")
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    for folder in distributions():
        session.run("python", "-m", "build", "--outdir", str(out), str(folder))
    built = sorted(str(p) for p in out.iterdir())
    expected = 2 * len(distributions())
    if len(built) != expected:
        session.error(f"built {len(built)} files, expected an sdist and a wheel of each distribution ({expected})")
    session.run("twine", "check", "--strict", *built)


@nox.session
def demo(session: nox.Session) -> None:
    """Generate demo data, list it, load a scan and print a cooked result."""
    install_distributions(session)
    session.run("python", str(ROOT / "demo" / "run.py"))


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks in benchmarks/ in full; each prints its ratios against the straightforward approach.

    ``nox -s bench -- --quick`` runs each on small data in seconds, as the
    tests session does (``tests/test_benchmarks.py``), so that none breaks unnoticed.
    """
    install_distributions(session)
    # the compiled SPEC parser, the page's q conversion, and an S3 server with its client
    session.install("silx>=2.0", "xrayutilities>=1.7.6", "s3fs>=2024.2", "moto[server]>=5.0")
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        session.run("python", str(script), *session.posargs)
