"""PEP 740 attestations: real recorded objects verify offline; tampering fails with a clear reason."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest

from chainwarden.provenance.attestations import (
    AttestationVerifier,
    ProvenanceError,
    Publisher,
    TrustRoot,
    parse_attestation,
    parse_provenance,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "attestations"

SDIST = "pypi_attestations-0.0.19.tar.gz"
GITHUB = Publisher("GitHub", "trailofbits/pypi-attestations", "release.yml")
GITLAB_SDIST = "gitlab_oidc_project-0.0.3.tar.gz"
GITLAB = Publisher("GitLab", "facutuesca/gitlab-oidc-project", ".gitlab-ci.yml")

pytest.importorskip("pypi_attestations", reason="the optional 'provenance' extra is not installed")


@pytest.fixture(scope="module")
def verifier() -> AttestationVerifier:
    return AttestationVerifier()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline means offline: any socket connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access during an offline verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _fixture(name: str) -> bytes:
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"missing recorded fixture {path}")
    return path.read_bytes()


def test_provenance_parses_publisher_and_subject() -> None:
    prov = parse_provenance(_fixture(f"{SDIST}.provenance"))
    assert prov.publishers == (GITHUB,)
    att = prov.bundles[0].attestations[0]
    assert att.subject_name == SDIST
    assert len(att.subject_sha256) == 64
    assert GITHUB.repository_url == "https://github.com/trailofbits/pypi-attestations"


def test_real_provenance_verifies_offline_against_pinned_publisher(verifier: AttestationVerifier) -> None:
    prov = parse_provenance(_fixture(f"{SDIST}.provenance"))
    result = verifier.verify(prov.bundles[0].attestations[0], SDIST, _fixture(SDIST), GITHUB)
    assert result.ok, result.reason


def test_real_gitlab_attestation_verifies_offline(verifier: AttestationVerifier) -> None:
    att = parse_attestation(_fixture(f"{GITLAB_SDIST}.publish.attestation"))
    result = verifier.verify(att, GITLAB_SDIST, _fixture(GITLAB_SDIST), GITLAB)
    assert result.ok, result.reason


def test_tampered_artifact_fails_with_reason(verifier: AttestationVerifier) -> None:
    att = parse_provenance(_fixture(f"{SDIST}.provenance")).bundles[0].attestations[0]
    data = bytearray(_fixture(SDIST))
    data[100] ^= 0xFF
    result = verifier.verify(att, SDIST, bytes(data), GITHUB)
    assert not result.ok
    assert "artifact was altered" in result.reason


def test_tampered_signature_fails_with_reason(verifier: AttestationVerifier) -> None:
    raw = json.loads(_fixture(f"{SDIST}.publish.attestation"))
    sig = bytearray(base64.b64decode(raw["envelope"]["signature"]))
    sig[-5] ^= 0x01
    raw["envelope"]["signature"] = base64.b64encode(bytes(sig)).decode()
    att = parse_attestation(json.dumps(raw))
    result = verifier.verify(att, SDIST, _fixture(SDIST), GITHUB)
    assert not result.ok
    assert "signature does not verify" in result.reason
    assert "bundle was altered" in result.reason


def test_tampered_statement_fails(verifier: AttestationVerifier) -> None:
    """An attacker re-points the statement at their own file: the signature no longer covers it."""
    raw = json.loads(_fixture(f"{SDIST}.publish.attestation"))
    statement = json.loads(base64.b64decode(raw["envelope"]["statement"]))
    evil = bytes(_fixture(SDIST)) + b"\0evil"
    import hashlib

    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(evil).hexdigest()
    raw["envelope"]["statement"] = base64.b64encode(json.dumps(statement).encode()).decode()
    result = verifier.verify(parse_attestation(json.dumps(raw)), SDIST, evil, GITHUB)
    assert not result.ok
    assert "altered" in result.reason or "signature" in result.reason


def test_other_publisher_identity_fails(verifier: AttestationVerifier) -> None:
    att = parse_provenance(_fixture(f"{SDIST}.provenance")).bundles[0].attestations[0]
    for wrong in (
        Publisher("GitHub", "attacker/pypi-attestations", "release.yml"),
        Publisher("GitHub", "trailofbits/pypi-attestations", "other.yml"),
        GITLAB,
    ):
        result = verifier.verify(att, SDIST, _fixture(SDIST), wrong)
        assert not result.ok, wrong
        assert "not by the pinned publisher" in result.reason
        assert "trailofbits/pypi-attestations/.github/workflows/release.yml" in result.reason


def test_wrong_filename_fails(verifier: AttestationVerifier) -> None:
    att = parse_provenance(_fixture(f"{SDIST}.provenance")).bundles[0].attestations[0]
    result = verifier.verify(att, "pypi_attestations-0.0.20.tar.gz", _fixture(SDIST), GITHUB)
    assert not result.ok
    assert "not 'pypi_attestations-0.0.20.tar.gz'" in result.reason


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"version": 2, "attestation_bundles": []}', "unsupported provenance version"),
        (b'{"version": 1, "attestation_bundles": []}', "no attestation_bundles"),
        (
            b'{"version": 1, "attestation_bundles": [{"publisher": {"kind": "GitHub"}, "attestations": []}]}',
            "repository",
        ),
        (b'{"version": 1, "attestation_bundles": [{"publisher": 3, "attestations": [1]}]}', "not an object"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
    ],
)
def test_malformed_provenance_is_a_clear_error(payload: bytes, message: str) -> None:
    with pytest.raises(ProvenanceError, match=message):
        parse_provenance(payload)


def test_malformed_statement_is_a_clear_error() -> None:
    raw = json.loads(_fixture(f"{SDIST}.publish.attestation"))
    raw["envelope"]["statement"] = "!!!not-base64"
    with pytest.raises(ProvenanceError, match="statement"):
        parse_attestation(json.dumps(raw))


def test_missing_trust_root_file_is_a_clear_error(tmp_path: Path) -> None:
    from chainwarden.provenance.attestations import VerifierUnavailableError

    with pytest.raises(VerifierUnavailableError, match="cannot read trust root"):
        AttestationVerifier(TrustRoot(path=tmp_path / "absent.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(VerifierUnavailableError, match="trust root"):
        AttestationVerifier(TrustRoot(path=bad))
