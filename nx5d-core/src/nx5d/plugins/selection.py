"""Choosing the beamline for a URL: the selection policy, in one place.

Two stages, as in bioio's reader selection:

1. **Declared filter** (no I/O): the URL's scheme is one of the beamline's
   ``schemes``, its document name ends with one of its ``suffixes``, it has
   (or lacks) a ``#`` anchor as ``anchor`` says, and ``accepts(pattern)``
   agrees.
2. **Content check**: the first document the pattern leads to is found once
   and shown to every remaining beamline's ``recognises``; a document that
   cannot be read (truncated, no permission) says nothing about the format,
   so the next one is shown instead (at most `DOCUMENTS`).

Every beamline passing both claims at its declared `ClaimLevel`.
Where no document can be found (an empty or missing repository) or none of
them can be read, content checks cannot tell: beamlines that have one then
claim *unverified*, below every verified claim.  The best claim -- verified before unverified, then the
highest level -- wins; two equal best claims raise
[`AmbiguousBeamlineError`][nx5d.errors.AmbiguousBeamlineError] listing them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import attrs

from nx5d.addressing.listing import documents
from nx5d.addressing.templates import Naming
from nx5d.addressing.url import UrlPattern
from nx5d.errors import AmbiguousBeamlineError, DataError, NoBeamlineClaimsError, StorageError
from nx5d.io.storage import Storage
from nx5d.plugins.declaration import Beamline, ClaimLevel
from nx5d.plugins.references import DocumentRef

__all__ = ["Claim", "DOCUMENTS", "passes_filter", "claims", "best_claim"]

#: How many documents a content check may be shown when the first ones cannot be read.
DOCUMENTS = 3


@attrs.frozen
class Claim:
    """One beamline's claim on a URL."""

    beamline: str
    level: ClaimLevel
    verified: bool  #: whether a content check confirmed it (or none was declared)

    @property
    def rank(self) -> tuple[bool, int]:
        """Sort key: verified claims first, then by level."""
        return self.verified, int(self.level)

    def describe(self) -> str:
        """``name (BEAMLINE)``, ``name (GENERIC, unverified)``."""
        return f"{self.beamline} ({self.level.name}{'' if self.verified else ', unverified'})"


def _document_name(pattern: UrlPattern) -> str:
    last = pattern.path_segments[-1] if pattern.path_segments else None
    return "" if last is None else last.template.lower()


def passes_filter(declaration: Beamline, pattern: UrlPattern) -> bool:
    """Stage 1: whether ``pattern`` fits the declaration's schemes, suffixes, anchor rule and ``accepts``."""
    if pattern.scheme not in declaration.schemes:
        return False
    if declaration.suffixes and not _document_name(pattern).endswith(declaration.suffixes):
        return False
    if declaration.anchor is not None and declaration.anchor != pattern.has_anchor:
        return False
    return declaration.accepts is None or bool(declaration.accepts(pattern))


def claims(
    declarations: Mapping[str, Beamline],
    pattern: UrlPattern,
    storage: Storage,
    problems: list[str] | None = None,
    naming: Naming | None = None,
) -> list[Claim]:
    """Every beamline's claim on ``pattern`` (both stages); failing checks are noted in ``problems``.

    The first documents are found with each beamline's key rules, replaced
    by the repository's own (``naming``) where it has them.
    """
    naming = naming or Naming()
    problems = [] if problems is None else problems
    candidates = {}
    for name, declaration in declarations.items():
        try:
            if passes_filter(declaration, pattern):
                candidates[name] = declaration
        except Exception as exc:  # noqa: BLE001 - one broken filter must not stop the others
            problems.append(f"{name}: URL filter failed: {type(exc).__name__}: {exc}")
    if not candidates:
        return []
    found: dict[tuple[tuple[str, str], ...], list[str]] = {}
    out = []
    for name, declaration in candidates.items():
        if declaration.recognises is None:
            out.append(Claim(name, declaration.level, True))
            continue
        rules = tuple(sorted(naming.key_patterns(declaration.key_patterns).items()))
        if rules not in found:  # the first documents, found once per set of key rules
            found[rules] = list(itertools.islice(documents(pattern, storage, key_patterns=dict(rules)), DOCUMENTS))
        verdict = _check(name, declaration, found[rules], storage, problems)
        if verdict is not False:
            out.append(Claim(name, declaration.level, bool(verdict)))
    return out


def _check(
    name: str, declaration: Beamline, candidates: list[str], storage: Storage, problems: list[str]
) -> bool | None:
    """The content check on the first readable document: ``True``/``False``, or ``None`` when none could be read."""
    for document in candidates:
        try:
            return bool(declaration.recognises(DocumentRef(document, storage)))  # type: ignore[misc]
        except StorageError:
            raise  # the storage cannot be read at all (refused, unreachable, no credentials): say so, not "no plugin"
        except DataError as exc:  # this document cannot be read: it says nothing about the format
            problems.append(f"{name}: could not check {document}: {exc}")
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a broken content check only loses its own claim
            problems.append(f"{name}: content check of {document} failed: {type(exc).__name__}: {exc}")
            return False
    return None


def best_claim(url: str, found: Iterable[Claim], no_claim_message: str) -> Claim:
    """The winning claim, or `NoBeamlineClaimsError` / `AmbiguousBeamlineError`."""
    found = list(found)
    if not found:
        raise NoBeamlineClaimsError(no_claim_message)
    best = max(c.rank for c in found)
    top = sorted((c for c in found if c.rank == best), key=lambda c: c.beamline)
    if len(top) > 1:
        raise AmbiguousBeamlineError(
            f"beamlines {', '.join(c.describe() for c in top)} claim {url} equally; "
            "choose one with nx5d.open(url, beamline=NAME) or --beamline NAME on the command line"
        )
    return top[0]
