"""``nx5d new-plugin``: write a ready-to-install distribution folder for a new beamline.

The folder holds a pyproject with the ``nx5d.beamlines`` entry point, a
declaration and hooks for an example format with the places to adapt marked
``FILL IN``, a test-data generator, and tests that run nx5d's conformance
kit.  Freshly generated, it installs and passes its own tests beside every
installed plugin.  The example format is one of `TEMPLATES`, the shapes the
bundled beamlines show:

* ``nexus``: one NeXus file per scan, as Diamond's GDA writes them, read
  through the generic NeXus beamline (``nx5d_nexus.reading``);
* ``text``: one text file per scan -- header sections, ``name = value``
  parameters, a typed column block -- with its frames in a folder beside it
  (the toolkit's text-format helpers, as the ``fio`` beamline);
* ``folder``: a folder per scan holding a table of columns and one TIFF per
  frame (as the ``udkm`` beamline).
"""

from __future__ import annotations

import json
import os
import re
import string
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import attrs

from nx5d.errors import OptionError
from nx5d.version import __version__

__all__ = ["NAME_RULE", "TEMPLATES", "new_plugin", "nx5d_requirement"]

#: A beamline name: lower-case letters, digits and underscores, starting with a letter.
NAME_RULE = re.compile(r"[a-z][a-z0-9_]*")

_SUFFIX = ".tmpl"


@attrs.frozen
class _Shape:
    """What differs between the templates beyond their own files."""

    shape: str
    layout: str
    requires: tuple[str, ...]  # distributions of this repository, besides nx5d-core
    dependencies: tuple[str, ...]
    hdf5: bool = False


_SHAPES = {
    "nexus": _Shape(
        "one NeXus file per scan, read through the generic NeXus beamline",
        "{proposal}/{scan}.nxs",
        ("nx5d-nexus", "nx5d-rsm"),
        ("attrs>=23.1", "h5py>=3.9", "numpy>=1.24", "xarray>=2023.6"),
        hdf5=True,
    ),
    "text": _Shape(
        "one text file per scan with its frames in a folder beside it",
        "{proposal}/{scan}.txt",
        ("nx5d-rsm", "nx5d-tiff"),
        ("attrs>=23.1", "numpy>=1.24", "tifffile>=2023.1", "xarray>=2023.6"),
    ),
    "folder": _Shape(
        "a folder per scan holding a table and one TIFF per frame",
        "{proposal}/{scan}",
        ("nx5d-rsm", "nx5d-tiff"),
        ("attrs>=23.1", "numpy>=1.24", "tifffile>=2023.1", "xarray>=2023.6"),
    ),
}

#: The example formats ``nx5d new-plugin --template`` writes.
TEMPLATES = tuple(_SHAPES)


def nx5d_requirement(version: str = __version__) -> str:
    """The version range of nx5d-core (and nx5d-nexus) a new plugin depends on: this minor release series."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if not match:
        return ""
    major, minor = int(match[1]), int(match[2])
    return f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else f">={major}.{minor},<{major + 1}"


def _files(folder: Traversable, relative: str = "") -> list[tuple[str, Traversable]]:
    found = []
    for item in folder.iterdir():
        name = f"{relative}/{item.name}" if relative else item.name
        if item.is_dir():
            found.extend(_files(item, name))
        elif item.name.endswith(_SUFFIX):
            found.append((name.removesuffix(_SUFFIX), item))
    return sorted(found)


def _values(template: str) -> dict[str, str]:
    shape, nx5d_range = _SHAPES[template], nx5d_requirement()
    core = "nx5d-core[hdf5]" if shape.hdf5 else "nx5d-core"
    dependencies = [f"{core}{nx5d_range}", *(f"{d}{nx5d_range}" for d in shape.requires), *shape.dependencies]
    return {
        "template": template,
        "shape": shape.shape,
        "layout": shape.layout,
        "comes_with": " and ".join(("nx5d-core", *shape.requires)),
        "dependencies": "\n".join(f'    "{d}",' for d in dependencies),
        "nx5d_range": nx5d_range,
    }


def new_plugin(
    name: str, where: str | os.PathLike[str] = ".", *, description: str | None = None, template: str = "nexus"
) -> Path:
    """Write the distribution ``nx5d-NAME`` (module ``nx5d_NAME``) for a format of ``template``'s shape.

    ``template`` is one of `TEMPLATES` (see the module documentation).
    Returns the folder written into ``where``.  Raises
    [`OptionError`][nx5d.errors.OptionError] for a name that is not a valid
    beamline name, an unknown template, a description of more than one line,
    and when the folder already exists (nothing is overwritten).  ``~`` in
    ``where`` is the home folder.
    """
    if template not in _SHAPES:
        raise OptionError(f"template {template!r} is none of {', '.join(TEMPLATES)}")
    if not NAME_RULE.fullmatch(name):
        raise OptionError(
            f"beamline name {name!r} must be lower-case letters, digits and underscores, starting with a letter"
        )
    description = description or f"the {name} beamline"
    if "\n" in description or "\r" in description:
        raise OptionError("the description must be one line (it becomes the distribution's summary)")
    dist = f"nx5d-{name.replace('_', '-')}"
    module = f"nx5d_{name}"
    target = Path(where).expanduser() / dist
    if target.exists():
        raise OptionError(f"{target} already exists; choose another name or folder")
    values = {
        "name": name,
        "dist": dist,
        "module": module,
        # in docstrings and Markdown; quotes and backslashes would end or escape them
        "description": description.replace("\\", "/").replace('"', "'"),
        # a string literal that TOML and Python read back as the exact description
        "description_literal": json.dumps(description, ensure_ascii=False),
        **_values(template),
    }
    folders = resources.files(__package__) / "templates"
    for relative, source in _files(folders / "common") + _files(folders / template):
        path = target / relative.replace("__module__", module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(string.Template(source.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
    return target
