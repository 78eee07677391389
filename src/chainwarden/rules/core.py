"""Rules about the artifact as a container and about the scan itself."""

from __future__ import annotations

from chainwarden.models import Severity
from chainwarden.rules import Rule

ANALYZER_ERROR = Rule(
    id="CW000",
    title="Analyzer failed",
    severity=Severity.HIGH,
    rationale=(
        "An analyzer raised an error on this artifact, so part of it was not inspected. A "
        "scanner that silently skips what it fails on is a bypass; the failure is reported "
        "and blocks at the default threshold until it is fixed or ignored with a reason."
    ),
    category="scan",
)

RULES: tuple[Rule, ...] = (ANALYZER_ERROR,)
