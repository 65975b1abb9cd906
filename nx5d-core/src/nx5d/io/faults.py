"""What goes wrong with storage, in nx5d's terms: errors naming the URL, timeouts, which faults are worth retrying.

Local file systems report failures as ``OSError``; remote ones through the
client library fsspec uses (aiohttp for HTTP, botocore for S3), each with
its own exception types.  `translate` turns any of them into an
[`nx5d.errors`][nx5d.errors] exception whose message names the URL and what was being
done; `client_options` sets the timeouts (and switches off botocore's
retries, so that retrying is [`Storage`][nx5d.io.storage.Storage]'s choice, made
the same way for every scheme; s3fs still repeats a read whose stream broke
off, as it always does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nx5d.errors import CorruptDataError, DataError, MissingDataError, StorageError

__all__ = ["translate", "client_options", "is_transient", "DEFAULT_TIMEOUT"]

#: Seconds to wait for a connection, or for the next bytes of an answer, before giving up.
DEFAULT_TIMEOUT = 30.0

_UNREACHABLE = (
    "ClientConnectorError",
    "ClientConnectionError",
    "ServerDisconnectedError",
    "ClientOSError",
    "EndpointConnectionError",
    "ConnectionClosedError",
)
_INCOMPLETE = ("ClientPayloadError", "ContentLengthError", "IncompleteRead", "ResponseStreamingError")
_TIMEOUTS = ("ConnectTimeoutError", "ReadTimeoutError", "ServerTimeoutError", "FSTimeoutError")
_CREDENTIALS = ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError")


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _status(exc: BaseException) -> int | None:
    """The HTTP status of a refused request (aiohttp's ``status``, botocore's response metadata)."""
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    return None


def _is_access_failure(exc: BaseException) -> bool:
    """A refusal, server error, timeout, lost connection or credentials problem (not a plain "no such file")."""
    status = _status(exc)
    if status is not None:
        return status != 404
    names = _names(exc)
    return bool(names & {*_UNREACHABLE, *_TIMEOUTS, *_CREDENTIALS}) or isinstance(exc, TimeoutError | ConnectionError)


def _transient(error: DataError) -> DataError:
    error.transient = True  # type: ignore[attr-defined]
    return error


def is_transient(error: BaseException) -> bool:
    """Whether a failure may go away when the request is repeated (server errors, timeouts, lost connections)."""
    return bool(getattr(error, "transient", False))


def translate(exc: BaseException, url: str, action: str, timeout: float | None = None) -> DataError:
    """The [`nx5d.errors`][nx5d.errors] exception for ``exc``, raised while ``action`` on ``url``.

    404 and missing files become `MissingDataError`; answers cut
    short `CorruptDataError`; everything else -- refusals, server
    errors, timeouts, unreachable hosts, missing credentials --
    `StorageError`.  Server errors, timeouts and lost connections are
    marked transient (see `is_transient`).
    """
    cause = exc.__cause__
    # fsspec's HTTP client calls every failure to look a file up "not found": the cause says what it was
    if isinstance(exc, FileNotFoundError) and isinstance(cause, Exception) and _is_access_failure(cause):
        return translate(cause, url, action, timeout)
    names = _names(exc)
    status = _status(exc)
    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    while_ = f"(while {action})"
    if isinstance(exc, FileNotFoundError) or status == 404:
        return MissingDataError(f"{url} does not exist {while_}")
    if isinstance(exc, IsADirectoryError | NotADirectoryError):
        return MissingDataError(f"{url} is not what was expected {while_}: {exc}")
    if isinstance(exc, PermissionError) or status in (401, 403):
        refused = f": the server answered {status}" if status else ""
        return StorageError(f"permission denied for {url} {while_}{refused}")
    if names & set(_CREDENTIALS):
        return StorageError(
            f"no credentials to read {url} {while_}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE, "
            "or read a public bucket with storage_options={'s3': {'anon': True}}"
        )
    if status is not None and status >= 500:
        return _transient(StorageError(f"the server failed on {url} {while_}: status {status} ({detail})"))
    if status is not None:
        return StorageError(f"the server refused {url} {while_}: status {status} ({detail})")
    if names & set(_INCOMPLETE):
        return _transient(CorruptDataError(f"{url} arrived incomplete {while_}: {detail}"))
    if isinstance(exc, TimeoutError) or names & set(_TIMEOUTS):
        within = f" within {timeout:g} s" if timeout else ""
        return _transient(StorageError(f"no answer from {url}{within} {while_}; a slow server needs timeout=..."))
    if names & set(_UNREACHABLE) or isinstance(exc, ConnectionError):
        return _transient(StorageError(f"cannot reach {url} {while_}: {detail}"))
    return StorageError(f"cannot access {url} {while_}: {detail}")


def client_options(scheme: str, options: Mapping[str, Any], timeout: float | None) -> dict[str, Any]:
    """fsspec options for ``scheme`` with nx5d's timeout, and botocore's own retries off.

    Options the user gave win: an explicit ``client_kwargs["timeout"]``
    (HTTP) or ``config_kwargs`` timeouts and retries (S3) are kept.
    """
    out = dict(options)
    if scheme in ("http", "https"):
        client = dict(out.get("client_kwargs") or {})
        if timeout is not None and "timeout" not in client:
            import aiohttp

            client["timeout"] = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        out["client_kwargs"] = client
    elif scheme in ("s3", "s3a"):
        config = dict(out.get("config_kwargs") or {})
        if timeout is not None:
            config.setdefault("connect_timeout", timeout)
            config.setdefault("read_timeout", timeout)
        config.setdefault("retries", {"total_max_attempts": 1})
        out["config_kwargs"] = config
    return out
