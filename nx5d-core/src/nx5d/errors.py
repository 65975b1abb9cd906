"""Exceptions raised by nx5d and its beamline plugins.

Every failure a user can cause -- a malformed URL, a missing or corrupt file,
wrong spice, a beamline plugin that is not installed or is broken -- surfaces as
a subclass of `Nx5dError`.  Messages name *what* went wrong and *where*
(the URL, file, key or plugin concerned), so the message alone is enough to act.

The classes also derive from the closest built-in exception (``ValueError``,
``KeyError``, ``LookupError`` ...) so that generic ``except`` clauses written
against the standard library keep working.

What nx5d reads or computes differently from what a file holds (a row left
out, a name changed, counters cut) is said by a warning of a subclass of
`Nx5dWarning`.  Importing this module makes Python show those as one line,
``nx5d: DataWarning: <message>``, without nx5d's source path and line (the
message names the file and the place); other warnings are shown as before.
"""

from __future__ import annotations

import warnings
from typing import Any

from nx5d.credentials import redact

__all__ = [
    "Nx5dError",
    "UrlPatternError",
    "InvalidKeyError",
    "HandleError",
    "HandleCollisionError",
    "NotFoundError",
    "ProposalNotFoundError",
    "ScanNotFoundError",
    "HandleNotFoundError",
    "DataError",
    "MissingDataError",
    "CorruptDataError",
    "StorageError",
    "OutsideRepositoryError",
    "UnsafeCacheError",
    "WorkerDiedError",
    "PluginError",
    "BeamlineNotInstalledError",
    "BeamlineLoadError",
    "PluginApiMismatchError",
    "NoBeamlineClaimsError",
    "AmbiguousBeamlineError",
    "BeamlineFailure",
    "RecipeError",
    "RecipeNotFoundError",
    "RecipeFailure",
    "NotSupportedError",
    "OptionError",
    "SpiceError",
    "SpiceConflict",
    "SpiceValidationError",
    "SpiceNotFoundError",
    "Nx5dWarning",
    "DataWarning",
    "CookWarning",
    "SpiceWarning",
    "CacheWarning",
    "OutputExistsError",
    "ReproductionError",
    "SpiceRecordGoneError",
    "PluginVersionError",
    "DataChangedError",
]


class Nx5dError(Exception):
    """Base class of every exception nx5d raises on purpose.

    Credentials in URLs in the message are blanked (see `nx5d.credentials.redact`).
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def __str__(self) -> str:
        # KeyError (a base of some subclasses) would otherwise quote the message.
        return " ".join(str(a) for a in self.args) if self.args else self.__class__.__name__


class UrlPatternError(Nx5dError, ValueError):
    """A repository URL pattern is malformed (unknown scheme, bad braces, ...)."""


class InvalidKeyError(Nx5dError, ValueError):
    """A proposal or scan key is not acceptable (e.g. contains ``/`` or ``..``)."""


class HandleError(Nx5dError, ValueError):
    """A key-to-handle rule produced something that is not a usable handle."""


class HandleCollisionError(HandleError):
    """Two different keys map to the same handle."""


class NotFoundError(Nx5dError, KeyError):
    """A proposal or scan that was asked for does not exist."""


class ProposalNotFoundError(NotFoundError):
    """No proposal with the requested key or handle exists in the repository."""


class ScanNotFoundError(NotFoundError):
    """No scan with the requested key or handle exists in the proposal."""


class HandleNotFoundError(NotFoundError, AttributeError):
    """Attribute access by handle found nothing (also an ``AttributeError``)."""


class DataError(Nx5dError):
    """Data on storage cannot be used as it is."""


class MissingDataError(DataError, FileNotFoundError):
    """A file, folder or object the repository layout requires does not exist."""


class CorruptDataError(DataError, ValueError):
    """A file exists but its content is truncated, malformed or inconsistent."""


class StorageError(DataError, OSError):
    """Storage could not be accessed (permissions, network, server errors)."""


class OutsideRepositoryError(StorageError, PermissionError):
    """A read would leave the repository root (a ``..`` name, a link or a symbolic link in the data)."""


class UnsafeCacheError(StorageError, PermissionError):
    """A cache folder that other users can write into: nothing it holds can be trusted, so it is not used."""


class WorkerDiedError(DataError, RuntimeError):
    """A worker process reading data for this one ended before handing back its work (killed, out of memory)."""


class PluginError(Nx5dError):
    """Problems with beamline plugins: missing, broken, or disagreeing."""


class BeamlineNotInstalledError(PluginError, LookupError):
    """A beamline was requested by name but no installed plugin provides it."""


class BeamlineLoadError(PluginError, ImportError):
    """A beamline plugin is installed but could not be imported or registered."""


class PluginApiMismatchError(BeamlineLoadError):
    """A beamline plugin targets a plugin API version this nx5d does not provide."""


class NoBeamlineClaimsError(PluginError, LookupError):
    """No installed beamline plugin recognises a repository URL."""


class AmbiguousBeamlineError(PluginError, LookupError):
    """Several beamline plugins claim a URL with the same confidence."""


class BeamlineFailure(PluginError, RuntimeError):
    """A beamline plugin raised an unexpected exception while doing its job."""


class RecipeError(PluginError):
    """Problems with cooking recipes: unknown, broken, or failing."""


class RecipeNotFoundError(RecipeError, LookupError):
    """No installed recipe has the name asked for, or none is named for a scan's type."""


class RecipeFailure(RecipeError, RuntimeError):
    """A recipe raised an unexpected exception while cooking a scan."""


class NotSupportedError(Nx5dError, NotImplementedError):
    """The beamline (or the storage) does not offer the requested operation."""


class OptionError(Nx5dError, TypeError):
    """An option passed to [`nx5d.open`][nx5d.open] or a loader is unknown or invalid."""


class SpiceError(Nx5dError):
    """A spice operation cannot be carried out as asked."""


class SpiceConflict(SpiceError):
    """Two records claim the same revision of the same spice branch.

    Happens when two writers update at once without a shared lock.  Nothing
    is lost: both records stay; ``proposal.spice.resolve(...)`` writes the next
    revision.  ``uuids`` names the records involved.
    """

    def __init__(self, message: str, uuids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.uuids = uuids


class SpiceValidationError(SpiceError, ValueError):
    """Spice data does not fit its type's schema (unknown field, wrong type ...)."""


class SpiceNotFoundError(SpiceError, LookupError):
    """No spice record or branch matches what was asked for."""


class Nx5dWarning(UserWarning):
    """Base class of every warning nx5d and its plugins give; shown as ``nx5d: Category: message``.

    Silence all of them with ``warnings.simplefilter("ignore", nx5d.errors.Nx5dWarning)``,
    or make them errors with ``-W error::nx5d.errors.Nx5dWarning``.
    """


class DataWarning(Nx5dWarning):
    """Data was read differently from how the file holds it: rows, frames or counters left out, names changed."""


class CookWarning(Nx5dWarning):
    """A result was computed, but a choice or a limit of it deserves a look (a signal guessed, peaks unresolved)."""


class SpiceWarning(Nx5dWarning):
    """Spice was used or left differently than asked (a file skipped, never deleted; a seed that wrote nothing)."""


class CacheWarning(Nx5dWarning):
    """A cache could not be used as it is (a damaged entry removed, a folder refused); results are computed afresh."""


class OutputExistsError(Nx5dError, FileExistsError):
    """A file an export would write exists already: it is never replaced unless asked to (``--overwrite``)."""


class ReproductionError(Nx5dError):
    """A result cannot be reproduced as it was made: something it was made from is no longer there."""


class SpiceRecordGoneError(ReproductionError, SpiceError):
    """A spice record (uuid and revision) a result was cooked with is no longer in the proposal's spice."""


class PluginVersionError(ReproductionError, PluginError):
    """The plugin (or nx5d) version a result was made with is not the one installed, or is not installed."""


class DataChangedError(ReproductionError, DataError):
    """The files a result was made from are gone or changed since (their data identity differs)."""


_python_format = warnings.formatwarning


def _format_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
) -> str:
    """``nx5d: Category: message`` for nx5d's warnings; the formatter found at import for any other."""
    if isinstance(category, type) and issubclass(category, Nx5dWarning):
        return f"nx5d: {category.__name__}: {message}\n"
    return _python_format(message, category, filename, lineno, line)


def _install_warning_format() -> None:
    """Show nx5d's warnings as nx5d messages; chains to the formatter in place (IPython's, pytest's)."""
    global _python_format
    current: Any = warnings.formatwarning
    if getattr(current, "__name__", "") != "_format_warning":
        _python_format = current
        warnings.formatwarning = _format_warning


_install_warning_format()
