"""PEP 740 attestations: parse provenance objects, verify them offline, compare publishers.

Parsing is ours (plain JSON into frozen values, lenient about extra keys, strict about the
shape we rely on). Verification uses `pypi-attestations` / `sigstore` (the optional
`provenance` extra) with a trust root read from disk: sigstore's embedded production root
by default, or one the user passes. It never refreshes anything over the network, so it works
where the index's integrity API and Sigstore's TUF repository are unreachable.

The identity a file is verified against is the publisher *pinned from earlier releases*,
never the identity its own bundle claims: a bundle that names its own publisher proves only
that somebody signed it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
SLSA_V1 = "https://slsa.dev/provenance/v1"
_KNOWN_PREDICATES = frozenset({PUBLISH_V1, SLSA_V1})
_PRODUCTION_TUF = "https://tuf-repo-cdn.sigstore.dev"
_STAGING_TUF = "https://tuf-repo-cdn.sigstage.dev"
_MAX_PROVENANCE_BYTES = 4 * 1024 * 1024


class ProvenanceError(Exception):
    """A provenance object could not be parsed; the message says what is wrong with it."""


class VerifierUnavailableError(Exception):
    """`pypi-attestations` is not installed, or the trust root cannot be loaded."""


@dataclass(frozen=True, slots=True)
class Publisher:
    """A trusted publisher identity as PEP 740 describes it (GitHub, GitLab, Google, CircleCI, ...).

    `repository` is `owner/name` (GitHub) or `group/.../project` (GitLab); `workflow` is the
    workflow file name (GitHub) or CI file path (GitLab); `email` is a Google service account.
    """

    kind: str
    repository: str = ""
    workflow: str = ""
    environment: str = ""
    email: str = ""

    @property
    def label(self) -> str:
        if self.email:
            return f"{self.kind} {self.email}"
        where = f"{self.repository} ({self.workflow})" if self.workflow else self.repository
        return f"{self.kind} {where}".strip()

    @property
    def repository_url(self) -> str:
        """The source repository this publisher builds from, when the kind says where it lives."""
        hosts = {"github": "https://github.com/", "gitlab": "https://gitlab.com/"}
        host = hosts.get(self.kind.lower())
        return f"{host}{self.repository}" if host and self.repository else ""

    def same_identity(self, other: Publisher) -> bool:
        """Same kind, repository and workflow (the environment is a deployment detail)."""
        return (
            self.kind.lower() == other.kind.lower()
            and self.repository.lower() == other.repository.lower()
            and self.workflow == other.workflow
            and self.email.lower() == other.email.lower()
        )


@dataclass(frozen=True, slots=True)
class Attestation:
    """One attestation: the raw JSON (kept for verification) and what its statement says."""

    raw: str
    subject_name: str
    subject_sha256: str
    predicate_type: str


@dataclass(frozen=True, slots=True)
class AttestationBundle:
    publisher: Publisher
    attestations: tuple[Attestation, ...]


@dataclass(frozen=True, slots=True)
class Provenance:
    """A PEP 740 provenance object as served at `/integrity/<project>/<version>/<file>/provenance`."""

    bundles: tuple[AttestationBundle, ...]

    @property
    def publishers(self) -> tuple[Publisher, ...]:
        return tuple(b.publisher for b in self.bundles)


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of verifying one file: `ok`, or the reason it failed, in words a person can act on."""

    ok: bool
    reason: str = ""
    publisher: Publisher | None = None
    predicate_type: str = ""


# ------------------------------------------------------------------ parsing


def parse_provenance(data: bytes | str) -> Provenance:
    """Parse a provenance object. Raises `ProvenanceError` with the first structural problem."""
    doc = _load_json(data)
    if not isinstance(doc, dict):
        raise ProvenanceError("provenance is not a JSON object")
    if doc.get("version") != 1:
        msg = f"unsupported provenance version {doc.get('version')!r} (expected 1)"
        raise ProvenanceError(msg)
    raw_bundles = doc.get("attestation_bundles")
    if not isinstance(raw_bundles, list) or not raw_bundles:
        raise ProvenanceError("provenance has no attestation_bundles")
    bundles: list[AttestationBundle] = []
    for i, raw in enumerate(raw_bundles):
        if not isinstance(raw, dict):
            msg = f"attestation_bundles[{i}] is not an object"
            raise ProvenanceError(msg)
        publisher = parse_publisher(raw.get("publisher"), where=f"attestation_bundles[{i}].publisher")
        atts = raw.get("attestations")
        if not isinstance(atts, list) or not atts:
            msg = f"attestation_bundles[{i}] has no attestations"
            raise ProvenanceError(msg)
        parsed = tuple(_parse_attestation(a, f"attestation_bundles[{i}].attestations[{j}]") for j, a in enumerate(atts))
        bundles.append(AttestationBundle(publisher, parsed))
    return Provenance(tuple(bundles))


def parse_attestation(data: bytes | str) -> Attestation:
    """Parse one attestation object (as in a `.publish.attestation` file)."""
    return _parse_attestation(_load_json(data), "attestation")


def parse_publisher(raw: object, *, where: str = "publisher") -> Publisher:
    if not isinstance(raw, dict):
        msg = f"{where} is not an object"
        raise ProvenanceError(msg)
    kind = raw.get("kind")
    if not isinstance(kind, str) or not kind:
        msg = f"{where} has no kind"
        raise ProvenanceError(msg)

    def text(key: str) -> str:
        value = raw.get(key)
        return value if isinstance(value, str) else ""

    publisher = Publisher(
        kind=kind,
        repository=text("repository") or text("project"),
        workflow=text("workflow") or text("workflow_filepath"),
        environment=text("environment"),
        email=text("email"),
    )
    if kind in ("GitHub", "GitLab") and not (publisher.repository and publisher.workflow):
        msg = f"{where}: a {kind} publisher needs a repository and a workflow"
        raise ProvenanceError(msg)
    return publisher


def _load_json(data: bytes | str) -> Any:  # noqa: ANN401 - JSON of unknown shape, checked by the caller
    if len(data) > _MAX_PROVENANCE_BYTES:
        msg = f"provenance is {len(data)} bytes, over the {_MAX_PROVENANCE_BYTES} byte limit"
        raise ProvenanceError(msg)
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"provenance is not valid JSON: {err}"
        raise ProvenanceError(msg) from None
    except RecursionError:
        raise ProvenanceError("provenance JSON is nested too deeply") from None


def _parse_attestation(raw: object, where: str) -> Attestation:
    if not isinstance(raw, dict):
        msg = f"{where} is not an object"
        raise ProvenanceError(msg)
    envelope = raw.get("envelope")
    material = raw.get("verification_material")
    if not isinstance(envelope, dict) or not isinstance(material, dict):
        msg = f"{where} lacks an envelope or verification_material"
        raise ProvenanceError(msg)
    statement_b64 = envelope.get("statement")
    if not isinstance(statement_b64, str):
        msg = f"{where}.envelope has no statement"
        raise ProvenanceError(msg)
    try:
        statement = json.loads(base64.b64decode(statement_b64, validate=True))
    except (binascii.Error, ValueError) as err:
        msg = f"{where}.envelope.statement is not base64 JSON: {err}"
        raise ProvenanceError(msg) from None
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        msg = f"{where}: the statement must have exactly one subject"
        raise ProvenanceError(msg)
    subject = subjects[0]
    digest = subject.get("digest")
    sha = digest.get("sha256") if isinstance(digest, dict) else None
    name = subject.get("name")
    if not isinstance(name, str) or not isinstance(sha, str):
        msg = f"{where}: the subject has no name or sha256 digest"
        raise ProvenanceError(msg)
    predicate_type = statement.get("predicateType")
    return Attestation(
        raw=json.dumps(raw, separators=(",", ":")),
        subject_name=name,
        subject_sha256=sha.lower(),
        predicate_type=predicate_type if isinstance(predicate_type, str) else "",
    )


# ------------------------------------------------------------------ verification


@dataclass(frozen=True, slots=True)
class TrustRoot:
    """Which Sigstore trust root verifies signatures: a file, or sigstore's embedded one."""

    path: Path | None = None
    staging: bool = False

    def load_json(self) -> bytes:
        if self.path is not None:
            try:
                return self.path.read_bytes()
            except OSError as err:
                msg = f"cannot read trust root {self.path}: {err.strerror}"
                raise VerifierUnavailableError(msg) from err
        url = _STAGING_TUF if self.staging else _PRODUCTION_TUF
        try:
            store = resources.files("sigstore._store").joinpath(_quote_url(url), "trusted_root.json")
            return store.read_bytes()
        except (ModuleNotFoundError, FileNotFoundError, OSError) as err:
            raise VerifierUnavailableError(_missing_message()) from err


def _quote_url(url: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415 - tiny, only needed here

    return quote(url, safe="")


def _missing_message() -> str:
    return (
        "attestation verification needs the optional 'provenance' extra: "
        "pip install 'chainwarden[provenance]' (installs pypi-attestations and sigstore)"
    )


class AttestationVerifier:
    """Verifies attestations offline against a pinned publisher. Build once, reuse: loading the
    trust root and the sigstore libraries costs about half a second."""

    def __init__(self, trust_root: TrustRoot | None = None) -> None:
        try:
            from pypi_attestations import Attestation as _PA  # noqa: PLC0415, N814 - optional dependency
            from pypi_attestations import GitHubPublisher, GitLabPublisher, GooglePublisher  # noqa: PLC0415
            from sigstore.models import TrustedRoot  # noqa: PLC0415
            from sigstore.verify import Verifier  # noqa: PLC0415
        except ImportError as err:
            raise VerifierUnavailableError(_missing_message()) from err
        self._pa_attestation: Any = _PA
        self._publishers: dict[str, Any] = {
            "github": GitHubPublisher,
            "gitlab": GitLabPublisher,
            "google": GooglePublisher,
        }
        root = trust_root or TrustRoot()
        data = root.load_json()
        try:
            from sigstore_models.trustroot.v1 import TrustedRoot as _Inner  # noqa: PLC0415

            trusted = TrustedRoot(_Inner.from_json(data))
        except Exception as err:
            msg = f"the Sigstore trust root cannot be loaded: {err}"
            raise VerifierUnavailableError(msg) from err
        self._verifier: Any = Verifier(trusted_root=trusted)

    def verify(self, attestation: Attestation, filename: str, data: bytes, identity: Publisher) -> Verification:
        """Verify one attestation for the file `filename` with bytes `data` against `identity`."""
        sha = hashlib.sha256(data).hexdigest()
        return self.verify_digest(attestation, filename, sha, identity)

    def verify_digest(  # noqa: PLR0911 - one early return per way verification fails
        self, attestation: Attestation, filename: str, sha256: str, identity: Publisher
    ) -> Verification:
        if attestation.subject_name != filename and _normal_dist(attestation.subject_name) != _normal_dist(filename):
            return _failed(f"the attestation is for {attestation.subject_name!r}, not {filename!r}")
        if attestation.predicate_type not in _KNOWN_PREDICATES:
            return _failed(f"unknown attestation type {attestation.predicate_type!r}")
        try:
            policy = self._policy(identity)
        except ValueError as err:
            return _failed(str(err))
        try:
            model = self._pa_attestation.model_validate_json(attestation.raw)
            bundle = model.to_bundle()
        except Exception as err:  # noqa: BLE001 - pydantic/sigstore conversion errors have no common base
            return _failed(f"the attestation bundle is malformed: {_first_line(err)}")
        try:
            _, payload = self._verifier.verify_dsse(bundle, policy)
        except Exception as err:  # noqa: BLE001 - sigstore raises several unrelated error types
            return _failed(_explain(err, identity, _signer(model)))
        try:
            signed = json.loads(payload)
            signed_subject = signed["subject"][0]
            signed_sha = signed_subject["digest"]["sha256"]
        except (ValueError, KeyError, IndexError, TypeError):
            return _failed("the signed statement is not an in-toto statement with one subject")
        if not isinstance(signed_sha, str) or signed_sha.lower() != sha256.lower():
            # The signature is good, so the statement is what was signed: the file is what changed.
            return _failed(
                f"the file's sha256 {sha256[:16]}… is not the attested {str(signed_sha)[:16]}…: "
                "the artifact was altered after it was attested",
            )
        return Verification(ok=True, publisher=identity, predicate_type=attestation.predicate_type)

    def _policy(self, identity: Publisher) -> Any:  # noqa: ANN401 - a sigstore VerificationPolicy
        cls = self._publishers.get(identity.kind.lower())
        if cls is None:
            msg = f"cannot verify against a {identity.kind} publisher"
            raise ValueError(msg)
        kind = identity.kind.lower()
        if kind == "github":
            model = cls(repository=identity.repository, workflow=identity.workflow)
        elif kind == "gitlab":
            model = cls(repository=identity.repository, workflow_filepath=identity.workflow)
        else:
            model = cls(email=identity.email)
        # pypi-attestations keeps the publisher -> sigstore policy mapping (including the workflow
        # check against the certificate's Build Config URI) behind this method; reusing it beats
        # re-implementing certificate parsing here.
        return model._as_policy()


def _failed(reason: str) -> Verification:
    return Verification(ok=False, reason=reason)


def _normal_dist(filename: str) -> str:
    return filename.lower().replace("-", "_")


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


_BUILD_CONFIG_URI = "1.3.6.1.4.1.57264.1.18"
_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"


def _signer(model: Any) -> str:  # noqa: ANN401 - a pypi_attestations.Attestation
    """Who the certificate says signed: its Build Config URI (workflow@ref), else its repository."""
    try:
        claims: dict[str, str] = model.certificate_claims
    except Exception:  # noqa: BLE001 - a certificate we cannot read names nobody
        return ""
    return claims.get(_BUILD_CONFIG_URI) or claims.get(_SOURCE_REPOSITORY_URI) or ""


def _explain(err: BaseException, identity: Publisher, signer: str) -> str:
    text = _first_line(err)
    lowered = text.lower()
    if any(k in lowered for k in ("build config uri", "sourcerepository", "source repository", "issuer", "oidc")):
        who = f"signed by {signer}" if signer else "signed by someone else"
        return f"{who}, not by the pinned publisher {identity.label}"
    if "signature" in lowered:
        return f"the signature does not verify ({text}): the attestation bundle was altered"
    if "inclusion" in lowered or "tlog" in lowered or "log entry" in lowered or "checkpoint" in lowered:
        return f"the transparency log entry does not verify ({text}): the attestation bundle was altered"
    if "certificate" in lowered or "chain" in lowered:
        return f"the signing certificate does not chain to the Sigstore trust root ({text})"
    return f"verification failed: {text}"


def pinned_publisher(earlier: Mapping[str, Provenance | None]) -> Publisher | None:
    """The publisher of the most recent attested earlier release (`earlier` is ordered oldest first)."""
    pin: Publisher | None = None
    for provenance in earlier.values():
        if provenance is not None and provenance.bundles:
            pin = provenance.bundles[0].publisher
    return pin
