"""Publisher continuity over recorded real provenance: missing, changed, invalid, first release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainwarden.provenance.attestations import AttestationVerifier
from chainwarden.provenance.publisher import ReleaseProvenance, check_publisher

pytest.importorskip("pypi_attestations", reason="the optional 'provenance' extra is not installed")

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "attestations"
SDIST = "pypi_attestations-0.0.19.tar.gz"


@pytest.fixture(scope="module")
def verifier() -> AttestationVerifier:
    return AttestationVerifier()


def _prov() -> bytes:
    return (FIXTURES / f"{SDIST}.provenance").read_bytes()


def _data() -> bytes:
    return (FIXTURES / SDIST).read_bytes()


def _with_publisher(**publisher: str) -> bytes:
    doc = json.loads(_prov())
    doc["attestation_bundles"][0]["publisher"] = {"kind": "GitHub", "environment": None, **publisher}
    return json.dumps(doc).encode()


def _rules(check: object) -> list[str]:
    return [f.rule_id for f in check.findings]  # type: ignore[attr-defined]


def test_same_publisher_as_before_is_clean(verifier: AttestationVerifier) -> None:
    earlier = [ReleaseProvenance("0.0.18", _prov())]
    check = check_publisher(
        label="x", filename=SDIST, data=_data(), provenance=_prov(), earlier=earlier, verifier=verifier
    )
    assert check.findings == ()
    assert check.verified is not None
    assert check.verified.repository == "trailofbits/pypi-attestations"


def test_attested_before_unattested_now(verifier: AttestationVerifier) -> None:
    earlier = [ReleaseProvenance("0.0.17", None), ReleaseProvenance("0.0.18", _prov())]
    check = check_publisher(
        label="x", filename=SDIST, data=_data(), provenance=None, earlier=earlier, verifier=verifier
    )
    assert _rules(check) == ["CW500"]
    assert "0.0.18 was attested by GitHub trailofbits/pypi-attestations" in check.findings[0].message


def test_never_attested_and_unattested_is_not_a_finding(verifier: AttestationVerifier) -> None:
    check = check_publisher(
        label="x",
        filename=SDIST,
        data=_data(),
        provenance=None,
        earlier=[ReleaseProvenance("0.0.18", None)],
        verifier=None,
    )
    assert check.findings == ()


def test_publisher_changed_is_judged_against_the_pin_not_the_claim(verifier: AttestationVerifier) -> None:
    """Earlier releases came from another repository: the real bundle, which verifies for its own
    claimed identity, must still be reported as a publisher change."""
    earlier = [
        ReleaseProvenance("0.0.18", _with_publisher(repository="original/pypi-attestations", workflow="release.yml"))
    ]
    check = check_publisher(
        label="x", filename=SDIST, data=_data(), provenance=_prov(), earlier=earlier, verifier=verifier
    )
    assert "CW501" in _rules(check)
    assert "original/pypi-attestations" in check.findings[0].message
    assert check.verified is None


def test_bundle_claiming_the_pinned_identity_is_verified_against_the_certificate(verifier: AttestationVerifier) -> None:
    """A bundle that *claims* the pinned publisher but was signed by someone else fails verification."""
    pin = _with_publisher(repository="original/pypi-attestations", workflow="release.yml")
    check = check_publisher(
        label="x",
        filename=SDIST,
        data=_data(),
        provenance=pin,
        earlier=[ReleaseProvenance("0.0.18", pin)],
        verifier=verifier,
    )
    assert _rules(check) == ["CW502"]
    assert "not by the pinned publisher GitHub original/pypi-attestations" in check.findings[0].message


def test_tampered_artifact_is_invalid(verifier: AttestationVerifier) -> None:
    data = _data() + b"appended"
    check = check_publisher(
        label="x",
        filename=SDIST,
        data=data,
        provenance=_prov(),
        earlier=[ReleaseProvenance("0.0.18", _prov())],
        verifier=verifier,
    )
    assert _rules(check) == ["CW502"]
    assert "artifact was altered" in check.findings[0].message


def test_malformed_provenance_is_a_finding(verifier: AttestationVerifier) -> None:
    check = check_publisher(label="x", filename=SDIST, data=_data(), provenance=b"{oops", earlier=[], verifier=verifier)
    assert _rules(check) == ["CW503"]
    assert "not valid JSON" in check.findings[0].message


def test_first_attested_release_verifies_its_own_claim(verifier: AttestationVerifier) -> None:
    check = check_publisher(label="x", filename=SDIST, data=_data(), provenance=_prov(), earlier=[], verifier=verifier)
    assert check.findings == ()
    assert check.pinned is None
    assert check.verified is not None
