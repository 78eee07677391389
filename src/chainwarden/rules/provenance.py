"""Rules about where an artifact comes from: attestations, its source repository, index signals."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

_PEP740 = "https://peps.python.org/pep-0740/"

ATTESTATION_MISSING = Rule(
    id="CW500",
    title="Attested before, unattested now",
    severity=Severity.HIGH,
    rationale=(
        "Earlier releases of this project carried PEP 740 attestations from a trusted publisher, this "
        "file has none. A stolen upload token publishes without going through the project's CI, so "
        "the attestation is exactly what goes missing when a release is pushed by someone else "
        "(litellm 1.82.7/1.82.8 were uploaded with a token taken from CI)."
    ),
    references=(_PEP740, "https://docs.pypi.org/attestations/"),
    attack="T1195.002",
    category="provenance",
)

PUBLISHER_CHANGED = Rule(
    id="CW501",
    title="Publisher identity changed",
    severity=Severity.HIGH,
    rationale=(
        "The attestation verifies, but for a different publisher (repository or workflow) than the one "
        "pinned from earlier releases. An attestation only proves who built a file; trusting whatever "
        "identity the bundle names would make the check circular."
    ),
    references=(_PEP740, "https://github.com/astral-sh/uv/issues/9122"),
    attack="T1195.002",
    category="provenance",
)

ATTESTATION_INVALID = Rule(
    id="CW502",
    title="Attestation does not verify",
    severity=Severity.CRITICAL,
    rationale=(
        "The file's attestation fails verification: the file's digest is not the one that was signed "
        "(the artifact was altered after it was built), the signature or transparency-log entry does "
        "not check out (the bundle was altered), or the signing certificate is not the pinned publisher's."
    ),
    references=(_PEP740,),
    attack="T1195.002",
    category="provenance",
)

ATTESTATION_MALFORMED = Rule(
    id="CW503",
    title="Provenance object is malformed",
    severity=Severity.HIGH,
    rationale=(
        "The index served a provenance object that cannot be parsed as PEP 740 provenance. It is not "
        "evidence of anything, and a scanner that shrugs it off would let a broken object stand in for "
        "a missing one."
    ),
    references=(_PEP740,),
    category="provenance",
)

TAG_MISSING = Rule(
    id="CW510",
    title="No tag for this version in the source repository",
    severity=Severity.MEDIUM,
    rationale=(
        "Earlier releases have a matching tag in the project's source repository, this version has "
        "none. litellm 1.82.8 had no tag: the release did not come from the repository."
    ),
    references=("https://github.com/BerriAI/litellm/issues/24518",),
    attack="T1195.002",
    category="provenance",
)

FILES_NOT_IN_TAG = Rule(
    id="CW511",
    title="Artifact has files its tag does not have",
    severity=Severity.HIGH,
    rationale=(
        "The artifact contains files (other than generated metadata) that are not in the source tree "
        "at the version's tag. A `.pth` or a module that exists only in the uploaded file was added "
        "after the source was published."
    ),
    attack="T1195.002",
    category="provenance",
)

FILES_DIFFER_FROM_TAG = Rule(
    id="CW512",
    title="Artifact files differ from the tag",
    severity=Severity.MEDIUM,
    rationale=(
        "Files in the artifact differ from the same files at the version's tag (version strings and "
        "generated files are tolerated). The clean source on GitHub says nothing about a wheel whose "
        "`proxy_server.py` is different."
    ),
    attack="T1195.002",
    category="provenance",
)

REPOSITORY_UNVERIFIED = Rule(
    id="CW513",
    title="Source repository could not be checked",
    severity=Severity.LOW,
    rationale=(
        "The source repository named by earlier releases or the attestation could not be reached, or "
        "its history was rewritten (the tag moved away from the commit the attestation names). "
        "The comparison did not happen; that is reported, never taken as a pass."
    ),
    category="provenance",
)

TYPOSQUAT = Rule(
    id="CW520",
    title="Name is one edit away from a popular package",
    severity=Severity.MEDIUM,
    rationale=(
        "The name differs from a popular package's by a small edit (a swapped, missing or doubled "
        "letter, a separator, a homoglyph). Typosquats are the most common malicious upload on PyPI."
    ),
    references=("https://arxiv.org/abs/2502.20528",),
    attack="T1195.001",
    category="metadata",
)

DEPENDENCY_CONFUSION = Rule(
    id="CW521",
    title="Internal package name exists on the public index",
    severity=Severity.HIGH,
    rationale=(
        "A name configured as internal also exists on the public index. An installer that looks at "
        "both picks the higher version, which anyone can upload."
    ),
    references=("https://medium.com/@alex.birsan/dependency-confusion-4a5d60fec610",),
    attack="T1195.001",
    category="metadata",
)

LATE_FILE = Rule(
    id="CW522",
    title="New file added to an old release",
    severity=Severity.HIGH,
    rationale=(
        "A file was uploaded long after the rest of its release (PEP 700 upload times). pip prefers a "
        "wheel with a higher build tag, so a late wheel replaces what people already install under "
        "the same version number."
    ),
    references=("https://peps.python.org/pep-0700/",),
    attack="T1195.002",
    category="metadata",
)

DORMANT_RELEASE = Rule(
    id="CW523",
    title="Release after two dormant years",
    severity=Severity.MEDIUM,
    rationale=(
        "The project had no release for two years or more and now has one. Abandoned projects are "
        "taken over through expired maintainer e-mail domains and reused credentials."
    ),
    attack="T1195.002",
    category="metadata",
)

MAINTAINER_CHANGED = Rule(
    id="CW524",
    title="Maintainer or author changed",
    severity=Severity.MEDIUM,
    rationale=(
        "The author or maintainer in the metadata differs from the previous release's. Takeovers "
        "often show up first as a new name or e-mail address."
    ),
    category="metadata",
)

PROJECT_QUARANTINED = Rule(
    id="CW526",
    title="Project is quarantined",
    severity=Severity.CRITICAL,
    rationale=(
        "The index has quarantined the project (PEP 792): its administrators suspect malware and "
        "stopped serving it while they investigate."
    ),
    references=("https://peps.python.org/pep-0792/",),
    category="metadata",
)

PROJECT_INACTIVE = Rule(
    id="CW527",
    title="Project is archived or deprecated",
    severity=Severity.LOW,
    rationale=(
        "The index marks the project archived or deprecated (PEP 792): nobody will fix it, and a new "
        "release of an archived project is suspicious in itself."
    ),
    references=("https://peps.python.org/pep-0792/",),
    category="metadata",
)

RELEASE_VANISHED = Rule(
    id="CW528",
    title="Pinned release has vanished from the index",
    severity=Severity.HIGH,
    rationale=(
        "A pinned version, or one of its files, is no longer on the index. Compromised releases are "
        "deleted (litellm 1.82.7/1.82.8 were); whoever installed them before is still affected. A "
        "release the index no longer knows is never reported as clean."
    ),
    attack="T1195.002",
    category="metadata",
)

RULES: tuple[Rule, ...] = (
    ATTESTATION_MISSING,
    PUBLISHER_CHANGED,
    ATTESTATION_INVALID,
    ATTESTATION_MALFORMED,
    TAG_MISSING,
    FILES_NOT_IN_TAG,
    FILES_DIFFER_FROM_TAG,
    REPOSITORY_UNVERIFIED,
    TYPOSQUAT,
    DEPENDENCY_CONFUSION,
    LATE_FILE,
    DORMANT_RELEASE,
    MAINTAINER_CHANGED,
    PROJECT_QUARANTINED,
    PROJECT_INACTIVE,
    RELEASE_VANISHED,
)
