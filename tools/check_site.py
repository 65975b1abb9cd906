"""Check the built documentation site as a reader would meet it.

Run after ``mkdocs build`` (``nox -s docs`` does).  It fails when

* a tutorial notebook page under ``SITE/notebooks/`` shows fewer nx5d tables
  or PNG plots than it must, or a cell wrote to stderr;
* any page shows reStructuredText as literal text: a Sphinx role
  (``:class:`Scan```) or a paragraph ending in ``::`` -- docstrings are
  rendered as Markdown by mkdocstrings;
* a page shows xarray's HTML repr without the stylesheet that hides its text
  fallback (readers would see every Dataset twice);
* a file that is no part of the site was published (``*.toml``, ``*.py``,
  ``*.cfg``: tool settings beside the pages);
* a link inside the site points at a page or anchor that does not exist, or a
  link leaves it for a placeholder host (``example.invalid``, ``localhost`` ...).

Every notebook image is written to ``SITE/notebook-images/NOTEBOOK-N.png`` so
the pictures can be looked at.
"""

from __future__ import annotations

import base64
import html
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Per notebook: (nx5d tables, PNG images) its page must show at least.
REQUIRED = {
    "udkm-walkthrough": (2, 2),
    "spice": (3, 0),
    "kmc3": (2, 2),
}

#: The stylesheet tools/mkdocs_hooks.py writes for xarray's repr.
XARRAY_CSS = "css/xarray-repr.css"

IMAGE = re.compile(r'<img[^>]*src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')
TABLE = re.compile(r'<table class="nx5d-table"')
ERROR = re.compile(r'class="[^"]*jp-OutputArea-output[^"]*" data-mime-type="application/vnd\.jupyter\.stderr"')
ROLE = re.compile(r":((?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|ref|term)):(?:`|<code>)")
LITERAL_BLOCK = re.compile(r"::</p>")
XARRAY_REPR = re.compile(r'class="xr-wrap"')
PRE = re.compile(r"<pre\b.*?</pre>", re.S)
HREF = re.compile(r'<a\b[^>]*\bhref="([^"]*)"')
ID = re.compile(r'\bid="([^"]+)"')
#: Hosts no reader can follow (RFC 2606 names, loopback): a link to one is a placeholder left in.
PLACEHOLDER_HOST = re.compile(r"(^|\.)(example\.(com|org|net)|invalid|test|localhost|127\.0\.0\.1)$")


def notebook_problems(site: Path) -> list[str]:
    """Tutorial pages that lost their tables or plots, or show an error output."""
    problems = []
    images_dir = site / "notebook-images"
    images_dir.mkdir(exist_ok=True)
    for name, (tables, images) in REQUIRED.items():
        page = site / "notebooks" / name / "index.html"
        if not page.exists():
            problems.append(f"{page}: missing (notebook not built)")
            continue
        text = page.read_text(encoding="utf-8")
        found_images = IMAGE.findall(text)
        found_tables = len(TABLE.findall(text))
        for n, data in enumerate(found_images, 1):
            (images_dir / f"{name}-{n}.png").write_bytes(base64.b64decode("".join(data.split())))
        if found_tables < tables:
            problems.append(f"{page}: {found_tables} nx5d table(s) rendered, expected at least {tables}")
        if len(found_images) < images:
            problems.append(f"{page}: {len(found_images)} image(s) rendered, expected at least {images}")
        if ERROR.search(text):
            problems.append(f"{page}: a cell wrote to stderr (an error or warning is shown to readers)")
        print(f"{name}: {found_tables} tables, {len(found_images)} images")
    return problems


def _target(site: Path, page: Path, href: str) -> tuple[Path, str] | None:
    """The file and anchor an in-site ``href`` of ``page`` points at (None for external links)."""
    parts = urlsplit(html.unescape(href))
    if parts.scheme or parts.netloc or href.startswith(("mailto:", "data:", "javascript:")):
        return None
    path = unquote(parts.path)
    if not path:
        target = page
    elif path.startswith("/"):
        target = site / path.lstrip("/")
    else:
        target = (page.parent / path).resolve()
    if target.is_dir() or path.endswith("/"):
        target = target / "index.html"
    return target, unquote(parts.fragment)


def page_problems(site: Path) -> list[str]:
    """Literal reStructuredText, unstyled xarray reprs and broken in-site links on every page."""
    problems = []
    pages = sorted(site.rglob("*.html"))
    ids: dict[Path, set[str]] = {}

    def anchors(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(ID.findall(path.read_text(encoding="utf-8"))) if path.suffix == ".html" else set()
        return ids[path]

    for page in pages:
        text = page.read_text(encoding="utf-8")
        prose = PRE.sub("", text)
        for role in sorted(set(ROLE.findall(prose))):
            problems.append(f"{page}: shows the Sphinx role :{role}: as text")
        if LITERAL_BLOCK.search(prose):
            problems.append(f"{page}: a paragraph ends in '::' (reStructuredText's literal block marker)")
        if XARRAY_REPR.search(text) and XARRAY_CSS not in text:
            problems.append(f"{page}: shows xarray's HTML repr without {XARRAY_CSS} (its text fallback shows too)")
        for href in sorted(set(HREF.findall(text))):
            host = urlsplit(html.unescape(href)).hostname or ""
            if PLACEHOLDER_HOST.search(host):
                problems.append(f"{page}: link {href!r} goes to a placeholder host")
            found = _target(site, page, href)
            if found is None:
                continue
            target, anchor = found
            if not target.exists():
                problems.append(f"{page}: link {href!r} points at a missing page")
            elif anchor and anchor not in anchors(target.resolve()):
                problems.append(f"{page}: link {href!r} points at a missing anchor")
    print(f"{len(pages)} pages checked for roles, xarray reprs and links")
    return problems


#: Suffixes of files that are tool settings or code beside the pages, never part of the site.
STRAY = (".toml", ".py", ".cfg", ".ini")


def stray_files(site: Path) -> list[str]:
    """Files published that are no part of the site (``docs/ruff.toml`` was)."""
    return [f"{path}: published, but no part of the site" for path in sorted(site.rglob("*")) if path.suffix in STRAY]


def main() -> int:
    """Check the site given as the first argument (default ``site``); print problems, exit 1 if any."""
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "site").resolve()
    problems = notebook_problems(site) + page_problems(site) + stray_files(site)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
