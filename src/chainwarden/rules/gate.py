"""Rules of the install gate: cooldown, allow/deny lists, hashes, dependency confusion."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

YOUNG_RELEASE = Rule(
    id="CW701",
    title="Release is younger than the minimum release age",
    severity=Severity.HIGH,
    rationale=(
        "Compromised releases are usually found and removed within hours: litellm 1.82.7 and 1.82.8 "
        "were quarantined within about 40 minutes and deleted within five hours, long before any "
        "advisory reached most users. A cooldown of a few days would have skipped them outright. A "
        "pin to a release younger than the policy's `min-release-age` is blocked until it has aged, "
        "unless the package is listed in `min-release-age-exempt`."
    ),
    references=(
        "https://simonwillison.net/2026/Mar/24/package-managers-need-to-cool-down/",
        "https://peps.python.org/pep-0700/",
    ),
    attack="T1195.001",
    category="gate",
)

DENIED_PACKAGE = Rule(
    id="CW702",
    title="Package is denied by policy",
    severity=Severity.HIGH,
    rationale=(
        "The policy's `deny` list names this package (or this exact version), or an `allow` list "
        "exists and does not name it. Lists are how an organisation records decisions that no scanner "
        "can make: a package it has banned, or the set it has reviewed."
    ),
    category="gate",
)

MISSING_HASH = Rule(
    id="CW703",
    title="Pinned package has no hash",
    severity=Severity.HIGH,
    rationale=(
        "With `require-hashes = true`, every pin must carry the sha256 of the file to install. Without "
        "one, a file replaced on the index or a mirror (or a new wheel added to an old release) is "
        "installed without anyone noticing. Generate hashes with `uv lock`, `pip-compile "
        "--generate-hashes` or `poetry lock`."
    ),
    references=("https://pip.pypa.io/en/stable/topics/secure-installs/",),
    attack="T1195.001",
    category="gate",
)

DEPENDENCY_CONFUSION = Rule(
    id="CW704",
    title="Internal package name exists on the public index",
    severity=Severity.CRITICAL,
    rationale=(
        "A name the policy marks as internal (`internal-packages`) is also published on the public "
        "index. An installer that consults both may take the public one — this is how torchtriton "
        "reached PyTorch nightly users in December 2022. Pin the internal index for that name, or "
        "register the name publicly yourself."
    ),
    references=("https://pytorch.org/blog/compromised-nightly-dependency/",),
    attack="T1195.001",
    category="gate",
)

NO_UPLOAD_TIME = Rule(
    id="CW705",
    title="Release age cannot be checked",
    severity=Severity.HIGH,
    rationale=(
        "The index gives no upload time (PEP 700) for this release's files, so the cooldown cannot be "
        "applied. The gate fails closed: mirrors without upload times must be configured with the "
        "package exempted explicitly, or the real index used."
    ),
    references=("https://peps.python.org/pep-0700/",),
    category="gate",
)

RULES: tuple[Rule, ...] = (YOUNG_RELEASE, DENIED_PACKAGE, MISSING_HASH, DEPENDENCY_CONFUSION, NO_UPLOAD_TIME)
