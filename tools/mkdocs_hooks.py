"""Build hooks of the documentation site (``hooks:`` in mkdocs.yml).

Executed notebook pages show xarray objects with xarray's own HTML repr.
Its stylesheet comes with each output, but the site theme's and
mkdocs-jupyter's rules for lists, inputs and ``pre`` outrank it, so the repr
showed its text fallback *and* a broken HTML copy (visible checkboxes, one
field per line).  This hook writes the installed xarray's stylesheet with
every selector scoped to notebook outputs (``.jupyter-wrapper
.jp-RenderedHTMLCommon``), which outranks those rules; ``extra_css`` links it.
"""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path
from typing import Any

#: Where the scoped stylesheet goes in the site (listed in mkdocs.yml's extra_css).
XARRAY_CSS = "css/xarray-repr.css"
SCOPE = ".jupyter-wrapper .jp-RenderedHTMLCommon"


def scoped(css: str, scope: str = SCOPE) -> str:
    """``css`` with every rule's selectors prefixed by ``scope`` (``:root`` rules become the scope's own)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        names = [s.strip() for s in selectors.split(",") if s.strip()]
        if not names or names[0].startswith("@"):
            continue
        prefixed = [scope if name == ":root" else f"{scope} {name}" for name in names]
        out.append(f"{', '.join(prefixed)} {{{body}}}")
    return "\n".join(out) + "\n"


def on_post_build(config: Any, **kwargs: Any) -> None:
    """Write xarray's stylesheet, scoped to notebook outputs, into the built site."""
    source = importlib.resources.files("xarray").joinpath("static/css/style.css").read_text(encoding="utf-8")
    target = Path(config["site_dir"]) / XARRAY_CSS
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(scoped(source), encoding="utf-8")
