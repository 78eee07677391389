"""The model files of a scan as ML-BOM components (CycloneDX `machine-learning-model`).

Built from findings alone, so that it works on cached and reloaded results: every model file
carries a CW800 inventory finding (format, sha256, size) and the model rules' findings on the
same path give its verdict.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.models import Severity
from chainwarden.rules import mlmodels as rules

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cyclonedx.model.component import Component

    from chainwarden.models import ArtifactResult, Finding

_UNVERIFIED_RULES = frozenset({rules.UNVERIFIABLE.id, rules.ANALYSIS_LIMIT.id})
_MODEL_RULES = frozenset(r.id for r in rules.RULES) - {rules.MODEL_INVENTORY.id}


class ModelVerdict(enum.StrEnum):
    CLEAN = "clean"  # nothing reported beyond the inventory entry
    SUSPICIOUS = "suspicious"  # medium / low findings (header anomalies, trailing bytes)
    UNVERIFIABLE = "unverifiable"  # could not be opened or fully analysed
    MALICIOUS = "malicious"  # high or critical findings about what loading it does


@dataclass(frozen=True, slots=True)
class ModelComponentInfo:
    """One model file for the SBOM."""

    artifact: str  # the artifact's label (package or directory or file)
    path: str  # the file inside the artifact
    format: str  # a `ModelFormat` value: "pytorch-zip", "pickle", "safetensors", ...
    sha256: str
    size: int
    verdict: ModelVerdict
    severity: Severity | None  # the worst model finding on the file, None when clean
    rule_ids: tuple[str, ...]


def model_components(results: Iterable[ArtifactResult]) -> list[ModelComponentInfo]:
    """Every model file in `results`, in report order, with its format, hash and verdict."""
    components: list[ModelComponentInfo] = []
    for result in results:
        by_path: dict[str, list[Finding]] = {}
        for finding in result.findings:
            if finding.rule_id in _MODEL_RULES:
                by_path.setdefault(finding.location.path.split("!", 1)[0], []).append(finding)
        for finding in result.findings:
            if finding.rule_id != rules.MODEL_INVENTORY.id:
                continue
            detail = dict(finding.evidence.detail)
            related = by_path.get(finding.location.path, [])
            components.append(
                ModelComponentInfo(
                    artifact=result.name,
                    path=finding.location.path,
                    format=detail.get("format", ""),
                    sha256=detail.get("sha256", ""),
                    size=int(detail.get("size", "0") or 0),
                    verdict=_verdict(related),
                    severity=max((f.severity for f in related), default=None),
                    rule_ids=tuple(sorted({f.rule_id for f in related})),
                )
            )
    return components


def _verdict(findings: list[Finding]) -> ModelVerdict:
    serious = [f for f in findings if f.severity >= Severity.HIGH]
    if any(f.rule_id not in _UNVERIFIED_RULES for f in serious):
        return ModelVerdict.MALICIOUS
    if serious:
        return ModelVerdict.UNVERIFIABLE
    return ModelVerdict.SUSPICIOUS if findings else ModelVerdict.CLEAN


def cyclonedx_component(info: ModelComponentInfo) -> Component:
    """The CycloneDX 1.6 `machine-learning-model` component for one model file (hash, format, verdict as
    properties). The report module adds these next to its package components."""
    from cyclonedx.model import HashAlgorithm, HashType, Property  # noqa: PLC0415 - only SBOM output needs it
    from cyclonedx.model.component import Component, ComponentType  # noqa: PLC0415

    properties = [
        Property(name="chainwarden:model:format", value=info.format or "unknown"),
        Property(name="chainwarden:model:verdict", value=info.verdict.value),
        Property(name="chainwarden:model:artifact", value=info.artifact),
    ]
    if info.rule_ids:
        properties.append(Property(name="chainwarden:model:rules", value=",".join(info.rule_ids)))
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=info.path,
        bom_ref=f"model:{info.artifact}:{info.path}:{info.sha256[:16]}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=info.sha256)] if info.sha256 else [],
        properties=properties,
    )
