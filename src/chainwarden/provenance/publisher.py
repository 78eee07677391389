"""Publisher continuity: is this file attested by the publisher that attested earlier releases?

Inputs are what the index's integrity API served (recorded, or fetched by an injected client):
the provenance of this file, and the provenance of earlier releases' files. The pin is taken
from the earlier releases only, so an attacker who signs with their own workflow cannot make
their bundle vouch for itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.models import Evidence, Finding, Location, Trigger
from chainwarden.provenance.attestations import (
    AttestationVerifier,
    Provenance,
    ProvenanceError,
    Publisher,
    parse_provenance,
)
from chainwarden.rules.provenance import (
    ATTESTATION_INVALID,
    ATTESTATION_MALFORMED,
    ATTESTATION_MISSING,
    PUBLISHER_CHANGED,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chainwarden.rules import Rule

ANALYZER = "provenance"
ANALYZER_VERSION = "1"


@dataclass(frozen=True, slots=True)
class ReleaseProvenance:
    """What the integrity API served for one earlier release: raw provenance bytes, or None if the
    release had no attestation."""

    version: str
    provenance: bytes | None


@dataclass(frozen=True, slots=True)
class PublisherCheck:
    """The outcome: findings, the publisher that was pinned (if any) and the one that verified."""

    findings: tuple[Finding, ...]
    pinned: Publisher | None
    verified: Publisher | None


def _finding(rule: Rule, label: str, path: str, message: str, detail: tuple[tuple[str, str], ...] = ()) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=rule.severity,
        message=message,
        location=Location(artifact=label, path=path),
        trigger=Trigger.NONE,
        evidence=Evidence(snippet=message, detail=detail),
        analyzer=ANALYZER,
        analyzer_version=ANALYZER_VERSION,
    )


def pin_from_earlier(earlier: Sequence[ReleaseProvenance]) -> tuple[Publisher | None, str]:
    """The publisher of the most recent earlier release that has readable provenance, and its version.
    `earlier` is ordered oldest first."""
    for release in reversed(earlier):
        if release.provenance is None:
            continue
        try:
            prov = parse_provenance(release.provenance)
        except ProvenanceError:
            continue
        return prov.bundles[0].publisher, release.version
    return None, ""


def check_publisher(
    *,
    label: str,
    filename: str,
    data: bytes,
    provenance: bytes | None,
    earlier: Sequence[ReleaseProvenance],
    verifier: AttestationVerifier | None,
) -> PublisherCheck:
    """Findings about one distribution file's attestation, judged against earlier releases.

    `verifier` may be None only when there is nothing to verify (no provenance for this file);
    callers that have provenance but no verifier get a clear error from `AttestationVerifier()`.
    """
    pinned, pinned_version = pin_from_earlier(earlier)
    if provenance is None:
        if pinned is None:
            return PublisherCheck((), None, None)
        message = (
            f"{filename} has no attestation, but {pinned_version} was attested by {pinned.label}: "
            "this file did not come through the project's trusted publishing"
        )
        detail = (("pinned_publisher", pinned.label), ("pinned_from", pinned_version))
        return PublisherCheck((_finding(ATTESTATION_MISSING, label, filename, message, detail),), pinned, None)
    try:
        prov = parse_provenance(provenance)
    except ProvenanceError as err:
        finding = _finding(ATTESTATION_MALFORMED, label, filename, f"provenance for {filename} is malformed: {err}")
        return PublisherCheck((finding,), pinned, None)
    if verifier is None:
        verifier = AttestationVerifier()
    findings: list[Finding] = []
    claimed = prov.bundles[0].publisher
    if pinned is not None and not any(b.publisher.same_identity(pinned) for b in prov.bundles):
        findings.append(
            _finding(
                PUBLISHER_CHANGED,
                label,
                filename,
                f"{filename} names publisher {claimed.label}; earlier releases (up to {pinned_version}) "
                f"were published by {pinned.label}",
                (("pinned_publisher", pinned.label), ("claimed_publisher", claimed.label)),
            )
        )
    # Verify against the pin when there is one: the bundle's own claim is only used for a
    # project's first attested release, and then only proves integrity, not continuity.
    identity = pinned or claimed
    verified = _verify_any(prov, filename, data, identity, verifier)
    if verified is None and not findings:
        findings.append(_invalid(label, filename, identity, prov, data, verifier))
    elif verified is None and pinned is not None:
        # Publisher changed *and* nothing verifies even against its own claim: say both.
        own = _verify_any(prov, filename, data, claimed, verifier)
        if own is None:
            findings.append(_invalid(label, filename, claimed, prov, data, verifier))
    return PublisherCheck(tuple(findings), pinned, identity if verified else None)


def _verify_any(
    prov: Provenance, filename: str, data: bytes, identity: Publisher, verifier: AttestationVerifier
) -> Publisher | None:
    for bundle in prov.bundles:
        for attestation in bundle.attestations:
            if verifier.verify(attestation, filename, data, identity).ok:
                return identity
    return None


def _invalid(  # noqa: PLR0917 - private helper, every argument is needed
    label: str, filename: str, identity: Publisher, prov: Provenance, data: bytes, verifier: AttestationVerifier
) -> Finding:
    reasons = sorted(
        {verifier.verify(a, filename, data, identity).reason for b in prov.bundles for a in b.attestations}
    )
    reason = "; ".join(r for r in reasons if r) or "no attestation verifies"
    return _finding(
        ATTESTATION_INVALID,
        label,
        filename,
        f"the attestation for {filename} does not verify: {reason}",
        (("identity", identity.label),),
    )
