"""The rule catalogue: every finding chainwarden emits has a stable rule ID defined here.

Rules are data. Each module under `chainwarden.rules` declares a `RULES` tuple; the explicit
list in `chainwarden.rules.catalog` gathers them. `docs/rules.md` is generated from the
catalogue (`python -m chainwarden.rules`) and a meta-test checks that every rule has a
malicious and a benign fixture.

ID ranges, one per family: CW0xx scan and archive structure, CW1xx `.pth`/`.start`, CW2xx Python
code, CW3xx native binaries, CW4xx advisories and dependency files, CW5xx provenance and index
metadata, CW6xx release diff, CW7xx install gate, CW8xx model files, CW9xx incident sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainwarden.models import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's metadata. Analyzers reference rules by `id` when they emit findings."""

    id: str
    title: str
    severity: Severity
    rationale: str
    references: tuple[str, ...] = ()
    attack: str = ""  # MITRE ATT&CK technique, where one fits
    category: str = ""


def all_rules() -> dict[str, Rule]:
    """Every rule, by ID."""
    from chainwarden.rules.catalog import CATALOG  # noqa: PLC0415 - catalog imports this module

    return CATALOG


def get(rule_id: str) -> Rule:
    return all_rules()[rule_id]
