"""Check the executed tutorial notebooks in the built site and keep their images.

Run after ``mkdocs build`` (``nox -s docs`` does): for every notebook page
under ``SITE/notebooks/`` it counts the rendered nx5d tables and PNG images,
fails when a page shows fewer than it must (a tutorial whose proposal table or
plot stopped rendering) or shows an error output, and writes every image to
``SITE/notebook-images/NOTEBOOK-N.png`` so the pictures can be looked at.
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

#: Per notebook: (nx5d tables, PNG images) its page must show at least.
REQUIRED = {
    "udkm-walkthrough": (2, 2),
    "spice": (3, 0),
    "kmc3": (2, 2),
}

IMAGE = re.compile(r'<img[^>]*src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')
TABLE = re.compile(r'<table class="nx5d-table"')
ERROR = re.compile(r'class="[^"]*jp-OutputArea-output[^"]*" data-mime-type="application/vnd\.jupyter\.stderr"')


def check(site: Path) -> list[str]:
    """Problems found in the notebook pages of ``site`` (empty when all is well)."""
    problems = []
    images_dir = site / "notebook-images"
    images_dir.mkdir(exist_ok=True)
    for name, (tables, images) in REQUIRED.items():
        page = site / "notebooks" / name / "index.html"
        if not page.exists():
            problems.append(f"{page}: missing (notebook not built)")
            continue
        html = page.read_text(encoding="utf-8")
        found_images = IMAGE.findall(html)
        found_tables = len(TABLE.findall(html))
        for n, data in enumerate(found_images, 1):
            (images_dir / f"{name}-{n}.png").write_bytes(base64.b64decode("".join(data.split())))
        if found_tables < tables:
            problems.append(f"{page}: {found_tables} nx5d table(s) rendered, expected at least {tables}")
        if len(found_images) < images:
            problems.append(f"{page}: {len(found_images)} image(s) rendered, expected at least {images}")
        if ERROR.search(html):
            problems.append(f"{page}: a cell wrote to stderr (an error or warning is shown to readers)")
        print(f"{name}: {found_tables} tables, {len(found_images)} images")
    return problems


def main() -> int:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "site")
    problems = check(site)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
