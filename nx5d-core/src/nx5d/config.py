"""Named repositories and the default repository: a user's configuration file and environment.

``~/.config/nx5d/config.toml`` (``$NX5D_CONFIG``, or under
``$XDG_CONFIG_HOME``) names repositories, so that ``nx5d.open("udkm-project")``
and ``nx5d ls udkm-project`` need no URL:

    [repositories.udkm-project]
    url = "file:///data/udkm/{proposal}/{scan}"
    beamline = "udkm"
    proposal_key = "20{pdate}_{material}"
    proposal_handle = "{material}_{pdate}"
    scan_key = "20{sdate}/{stime}"
    scan_handle = "r{sdate}{stime}"
    spice_url = "file:///home/me/spice/{proposal}"

Every key but ``url`` and ``beamline`` is an option of [`nx5d.open`][nx5d.open]; a
table ``[repositories.NAME.options]`` holds the beamline's loading options
apart from the core's (as ``nx5d.open(..., options={...})`` does).
Credentials never go into this file: a user name or password in any URL
field, or keys named like credentials (keys, secrets, passwords, tokens,
headers, cookies, authorization) at any depth, make that entry refused --
they belong where the storage library looks for them (``~/.aws/credentials``,
``~/.netrc``, the environment).  A refused entry never takes the others
down: `refused_repositories` names it and why.

Without a URL, [`nx5d.open`][nx5d.open] opens ``$NX5D_DATA_REPO`` (a URL or a name
here); that repository keeps its spice at ``$NX5D_SPICE_REPO`` when set, and
takes naming rules from ``$NX5D_PROPOSAL_KEY``, ``$NX5D_PROPOSAL_HANDLE``,
``$NX5D_SCAN_KEY`` and ``$NX5D_SCAN_HANDLE``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from nx5d.errors import OptionError

__all__ = [
    "NamedRepository",
    "config_path",
    "repositories",
    "named_repository",
    "refused_repositories",
    "default_repository",
    "is_repository_name",
]

#: Environment variables of the default repository: the repository, its spice, its naming rules.
DATA_REPO, SPICE_REPO = "NX5D_DATA_REPO", "NX5D_SPICE_REPO"
NAMING_VARIABLES = {
    "proposal_key": "NX5D_PROPOSAL_KEY",
    "proposal_handle": "NX5D_PROPOSAL_HANDLE",
    "scan_key": "NX5D_SCAN_KEY",
    "scan_handle": "NX5D_SCAN_HANDLE",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SECRET = re.compile(
    r"(key|secret|password|passwd|token|credentials?|authorization|cookies?|headers?|auth)$", re.IGNORECASE
)
_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/#]*@")


@attrs.frozen
class NamedRepository:
    """A repository named in the configuration file.

    Attributes
    ----------
    name:
        Its name.
    url:
        Its URL pattern.
    beamline:
        The beamline plugin to use (``None``: chosen from the URL).
    options:
        Further options of [`nx5d.open`][nx5d.open].
    source:
        The file it was read from.
    """

    name: str
    url: str
    beamline: str | None
    options: Mapping[str, Any]
    source: str


def config_path() -> Path:
    """The configuration file: ``$NX5D_CONFIG``, else ``$XDG_CONFIG_HOME/nx5d/config.toml`` (``~/.config``)."""
    explicit = os.environ.get("NX5D_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "nx5d" / "config.toml"


def _secrets(value: Any, path: str) -> list[str]:
    """Where ``value`` holds what looks like a credential: a key named like one, or a URL with a user or password.

    Every field is looked at, at any depth (``storage_options``, ``headers``,
    ``cookies``, ``spice_url`` ... alike).
    """
    if isinstance(value, Mapping):
        found = []
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if _SECRET.search(str(key)) else _secrets(inner, where)
        return found
    if isinstance(value, list | tuple):
        return [hit for k, inner in enumerate(value) for hit in _secrets(inner, f"{path}[{k}]")]
    if isinstance(value, str) and _USERINFO.match(value):
        return [f"{path} (a user or password in its URL)"]
    return []


def _entry(name: str, table: Any, source: str) -> NamedRepository:
    where = f"{source}: repository {name!r}"
    if not _NAME.fullmatch(name):
        raise OptionError(f"{where}: a name is letters, digits, '.', '_' and '-'")
    if not isinstance(table, Mapping) or not isinstance(table.get("url"), str):
        raise OptionError(f'{where} needs a url = "scheme://..." entry')
    url, beamline = table["url"], table.get("beamline")
    secrets = _secrets(table, "")
    if secrets:
        raise OptionError(
            f"{where}: {', '.join(secrets)} look like credentials, which this file never holds; "
            "keep them where the storage library looks for them (~/.aws/credentials, ~/.netrc, the environment)"
        )
    if beamline is not None and not isinstance(beamline, str):
        raise OptionError(f"{where}: beamline must be a plugin name, not {beamline!r}")
    options = {k: v for k, v in table.items() if k not in ("url", "beamline")}
    return NamedRepository(name, url, beamline, options, source)


def _read() -> tuple[dict[str, NamedRepository], dict[str, OptionError]]:
    """The named repositories of the configuration file, and the entries refused with why."""
    path = config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, {}
    except OSError as exc:
        raise OptionError(f"cannot read the nx5d configuration {path}: {exc}") from exc
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OptionError(f"the nx5d configuration {path} is not valid TOML: {exc}") from exc
    tables = parsed.get("repositories", {})
    if not isinstance(tables, Mapping):
        raise OptionError(f"{path}: [repositories] must be a table of named repositories")
    good: dict[str, NamedRepository] = {}
    refused: dict[str, OptionError] = {}
    for name, table in tables.items():
        try:
            good[name] = _entry(name, table, str(path))
        except OptionError as exc:
            refused[name] = exc
    return good, refused


def repositories() -> dict[str, NamedRepository]:
    """The named repositories of the configuration file (none if there is no file).

    An entry that is refused (credentials, no URL ...) is left out here and
    named by `refused_repositories`; the others stay usable.
    """
    return _read()[0]


def refused_repositories() -> dict[str, OptionError]:
    """The entries of the configuration file that are refused, with why."""
    return _read()[1]


def is_repository_name(text: str) -> bool:
    """Whether ``text`` is a repository's name rather than a URL pattern."""
    return "://" not in text and bool(_NAME.fullmatch(text))


def named_repository(name: str) -> NamedRepository:
    """The repository called ``name`` (an ``OptionError`` naming the file and the names there are)."""
    found, refused = _read()
    if name in refused:
        raise refused[name]
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise OptionError(f"no repository named {name!r} in {config_path()} (named there: {known})")
    return found[name]


def default_repository() -> tuple[str, dict[str, Any]]:
    """``$NX5D_DATA_REPO`` and the options the environment gives it (see the module documentation)."""
    url = os.environ.get(DATA_REPO)
    if not url:
        raise OptionError(f"no repository given: pass a URL pattern or a name, or set {DATA_REPO}")
    options: dict[str, Any] = {k: os.environ[v] for k, v in NAMING_VARIABLES.items() if os.environ.get(v)}
    if os.environ.get(SPICE_REPO):
        options["spice_url"] = os.environ[SPICE_REPO]
    return url, options
