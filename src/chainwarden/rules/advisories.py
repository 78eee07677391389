"""Rules about dependencies: known-malicious and known-vulnerable versions (OSV advisories),
and dependency declarations that leave room for a substituted or unexpected package."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

MALICIOUS_PACKAGE = Rule(
    id="CW400",
    title="Known malicious package",
    severity=Severity.CRITICAL,
    rationale=(
        "An OSV `MAL-` record (from ossf/malicious-packages) says this exact version is malware, "
        "as with litellm 1.82.7/1.82.8 (MAL-2026-2144), which stole credentials at every interpreter "
        "start. There is no fixed version of malware: remove it, treat every machine that installed it "
        "as compromised, and rotate the secrets it could read."
    ),
    references=("https://osv.dev/vulnerability/MAL-2026-2144", "https://github.com/ossf/malicious-packages"),
    attack="T1195.002",
    category="advisories",
)

VULNERABLE_DEPENDENCY = Rule(
    id="CW401",
    title="Known vulnerable dependency",
    severity=Severity.HIGH,
    rationale=(
        "An OSV advisory (PYSEC / GHSA / CVE, aliases merged) affects this exact version. The "
        "finding's severity is the record's own (GHSA label or CVSS v3 base score); a record that "
        "states none is reported as high. The message lists the versions that fix it."
    ),
    references=("https://ossf.github.io/osv-schema/",),
    category="advisories",
)

UNPINNED_REQUIREMENT = Rule(
    id="CW402",
    title="Unpinned requirement",
    severity=Severity.LOW,
    rationale=(
        "A requirement without an exact `==` pin, and no lock or environment that pins it, installs "
        "whatever the index serves at install time - including a release uploaded with a stolen "
        "token minutes earlier. It also cannot be audited: nobody knows which version it is."
    ),
    category="advisories",
)

MISSING_HASHES = Rule(
    id="CW403",
    title="Pinned requirements without hashes",
    severity=Severity.LOW,
    rationale=(
        "A pin names a version, not a file: without `--hash` (or a lock's hashes) a replaced or "
        "re-uploaded file, another index serving the same name, or a tampered mirror installs "
        "silently. Hash-pinned installs (`pip install --require-hashes`, `uv pip sync`) refuse them."
    ),
    references=("https://pip.pypa.io/en/stable/topics/secure-installs/",),
    category="advisories",
)

UNREADABLE_DEPENDENCY_FILE = Rule(
    id="CW404",
    title="Dependency file could not be read",
    severity=Severity.HIGH,
    rationale=(
        "A lockfile, requirements file or environment record is malformed, truncated, of an "
        "unknown format version, or unreadable. Whatever it pins was not audited; a tool that "
        "said 'no vulnerabilities' here would be passing silently."
    ),
    category="advisories",
)

NOT_AUDITED = Rule(
    id="CW405",
    title="Dependency not audited",
    severity=Severity.MEDIUM,
    rationale=(
        "A pinned package could not be checked against advisories: its version is missing or not "
        "a PEP 440 version, or the advisory service could not answer for it. It is reported so that "
        "an incomplete audit never reads as a clean one."
    ),
    category="advisories",
)

CONFLICTING_PINS = Rule(
    id="CW406",
    title="Conflicting pins",
    severity=Severity.MEDIUM,
    rationale=(
        "Two dependency files (or a lock and the installed environment) pin the same package at "
        "different versions, so at least one of them does not describe what runs. Both versions "
        "are audited; the drift itself is worth a look."
    ),
    category="advisories",
)

RULES: tuple[Rule, ...] = (
    MALICIOUS_PACKAGE,
    VULNERABLE_DEPENDENCY,
    UNPINNED_REQUIREMENT,
    MISSING_HASHES,
    UNREADABLE_DEPENDENCY_FILE,
    NOT_AUDITED,
    CONFLICTING_PINS,
)
