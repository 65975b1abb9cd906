"""Credentials in URLs: taken out before nx5d keeps a URL, and blanked wherever a URL might still be shown.

``https://alice:secret@data.example.org/{proposal}/{scan}`` is a convenient
way to type a password, and a dangerous thing to keep: a URL ends up in
error messages, warnings, dataset attributes and files written by batch
cooking.  `split_credentials` takes user and password out of a
repository URL (the core hands them to the storage layer as options of the
scheme's file system instead), and `redact` blanks any that remain in a
text -- nx5d errors pass their messages through it.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

__all__ = ["redact", "split_credentials", "credential_options", "move_credentials", "HIDDEN"]

#: What a password (or a user name with a password) is replaced with.
HIDDEN = "***"

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s#?]*)@")


def redact(text: str) -> str:
    """``text`` with the user information of every URL in it blanked (``https://***@host/...``)."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{HIDDEN}@", text)


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without credentials, user, password)``; user and password percent-decoded, ``None`` when absent."""
    found = _USERINFO.match(url)
    if found is None:
        return url, None, None
    user, sep, password = found["userinfo"].partition(":")
    clean = found["scheme"] + url[found.end() :]
    return clean, urllib.parse.unquote(user) or None, urllib.parse.unquote(password) if sep else None


def credential_options(scheme: str, user: str | None, password: str | None) -> dict[str, Any]:
    """The fsspec options that carry ``user`` and ``password`` for ``scheme`` (empty without credentials).

    HTTP(S): basic authentication (``client_kwargs={"auth": aiohttp.BasicAuth(...)}``);
    S3: ``key`` and ``secret``; FTP, SFTP, SMB and others: ``username`` and ``password``.
    """
    if user is None and password is None:
        return {}
    if scheme in ("http", "https"):
        import aiohttp

        return {"client_kwargs": {"auth": aiohttp.BasicAuth(user or "", password or "")}}
    if scheme in ("s3", "s3a"):
        return {"key": user, "secret": password}
    return {"username": user, "password": password}


def move_credentials(url: str, storage_options: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The URL without user and password, and storage options that carry them for the URL's scheme instead.

    The options for the scheme are the ones given for it (``{"https": {...}}``)
    or else the flat ones, as [`nx5d.io.storage.Storage.options_for`][nx5d.io.storage.Storage.options_for]
    chooses them; the credentials are added there.
    """
    options = dict(storage_options or {})
    clean, user, password = split_credentials(url)
    if user is None and password is None:
        return url, options
    scheme = clean.split("://", 1)[0].lower()
    own = options.get(scheme)
    mine = dict(own) if isinstance(own, Mapping) else {k: v for k, v in options.items() if not isinstance(v, Mapping)}
    for key, value in credential_options(scheme, user, password).items():
        mine[key] = {**mine[key], **value} if isinstance(mine.get(key), Mapping) else value
    options[scheme] = mine
    return clean, options
