"""Build the CycloneDX 1.6 SBOM + VEX (see `chainwarden.report.cyclonedx`) with cyclonedx-python-lib.

Components come from results that carry package metadata (audited dependencies, installed
distributions, scanned wheels); dependency edges from their requirements. Each advisory
(`CW400` malicious, `CW401` vulnerable) becomes one vulnerability that `affects` every
component it was found in, with a VEX analysis: `exploitable` for malware, `in_triage` for an
unreviewed vulnerability, `not_affected` when a policy ignore (with its reason) covers it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cyclonedx.model import XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus, ImpactAnalysisState
from cyclonedx.model.tool import ToolRepository
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from chainwarden.analyzers.mlmodels.sbom import cyclonedx_component, model_components
from chainwarden.models import Severity
from chainwarden.report.common import Judgement, Status, unicode_safe
from chainwarden.rules.advisories import MALICIOUS_PACKAGE, VULNERABLE_DEPENDENCY

if TYPE_CHECKING:
    from chainwarden.models import ArtifactResult, Finding, ScanReport, Verdict

ADVISORY_RULES = frozenset({MALICIOUS_PACKAGE.id, VULNERABLE_DEPENDENCY.id})
_SEVERITY = {
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.INFO: VulnerabilitySeverity.INFO,
}


def _osv() -> VulnerabilitySource:
    return VulnerabilitySource(name="OSV", url=XsUri("https://osv.dev"))


def _purl(name: str, version: str) -> PackageURL:
    # Names and versions come from the artifact: undecodable bytes arrive as lone surrogates.
    return PackageURL(type="pypi", name=unicode_safe(canonicalize_name(name)), version=unicode_safe(version) or None)


def _edge_names(requires: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for raw in requires:
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            if raw.strip():  # a lock's bare dependency name
                names.add(canonicalize_name(raw.split()[0]))
            continue
        if req.marker is None or "extra" not in str(req.marker):
            names.add(canonicalize_name(req.name))
    return names


def _components(report: ScanReport) -> tuple[dict[str, Component], dict[str, set[str]], dict[int, str]]:
    """Components by bom-ref, edges by bom-ref, and the bom-ref of each result (by index)."""
    components: dict[str, Component] = {}
    edges: dict[str, set[str]] = {}
    result_refs: dict[int, str] = {}
    for index, result in enumerate(report.results):
        meta = result.metadata
        if meta is None or not meta.name:
            continue
        purl = _purl(meta.name, meta.version)
        ref = purl.to_string()
        result_refs[index] = ref
        if ref not in components:
            components[ref] = Component(
                name=unicode_safe(meta.name),
                version=unicode_safe(meta.version) or None,
                type=ComponentType.LIBRARY,
                purl=purl,
                bom_ref=ref,
                description=unicode_safe(meta.summary) or None,
            )
        edges.setdefault(ref, set()).update(_edge_names(meta.requires_dist))
    # ML-BOM: every model file a scan saw, with its format, hash and verdict
    for info in model_components(report.results):
        component = cyclonedx_component(info)
        components[str(component.bom_ref)] = component
    return components, edges, result_refs


def _detail(finding: Finding, key: str) -> str:
    return next((v for k, v in finding.evidence.detail if k == key), "")


def _vulnerabilities(report: ScanReport, verdict: Verdict, result_refs: dict[int, str]) -> list[Vulnerability]:
    judged = Judgement.of(verdict)
    grouped: dict[str, list[tuple[str, ArtifactResult, Finding]]] = {}
    for index, result in enumerate(report.results):
        ref = result_refs.get(index)
        if ref is None:
            continue
        for finding in result.findings:
            ident = _detail(finding, "advisory")
            if finding.rule_id in ADVISORY_RULES and ident:
                grouped.setdefault(ident, []).append((ref, result, finding))
    out: list[Vulnerability] = []
    for ident, hits in sorted(grouped.items()):
        first = hits[0][2]
        worst = max(f.severity for _, _, f in hits)
        aliases = [a for a in _detail(first, "aliases").split(",") if a]
        fixed = _detail(first, "fixed")
        statuses = [judged.status(f) for _, _, f in hits]
        if all(s is Status.SUPPRESSED for s in statuses):
            reasons = sorted({s.reason + f" (until {s.expires})" for _, _, f in hits if (s := judged.suppression(f))})
            analysis = VulnerabilityAnalysis(
                state=ImpactAnalysisState.NOT_AFFECTED, detail="Ignored by policy: " + "; ".join(reasons)
            )
        elif first.rule_id == MALICIOUS_PACKAGE.id:
            analysis = VulnerabilityAnalysis(
                state=ImpactAnalysisState.EXPLOITABLE, detail="Malicious release: remove it and rotate credentials."
            )
        else:
            analysis = VulnerabilityAnalysis(state=ImpactAnalysisState.IN_TRIAGE)
        out.append(
            Vulnerability(
                bom_ref=f"vuln:{ident}",
                id=ident,
                source=_osv(),
                references=[VulnerabilityReference(id=a, source=_osv()) for a in aliases],
                ratings=[
                    VulnerabilityRating(source=_osv(), severity=_SEVERITY[worst], method=VulnerabilityScoreSource.OTHER)
                ],
                description=unicode_safe(first.message),
                recommendation=f"Upgrade to {fixed}." if fixed else None,
                analysis=analysis,
                affects=[
                    BomTarget(
                        ref=ref,
                        versions=[
                            BomTargetVersionRange(
                                version=unicode_safe(_detail(f, "version")) or None,
                                status=ImpactAnalysisAffectedStatus.AFFECTED,
                            )
                        ],
                    )
                    for ref, _, f in hits
                ],
            )
        )
    return out


def build_bom(report: ScanReport, verdict: Verdict) -> Bom:
    components, edges, result_refs = _components(report)
    tool = Component(name="chainwarden", version=report.tool_version, type=ComponentType.APPLICATION)
    root = Component(name="audited-target", type=ComponentType.APPLICATION, bom_ref="chainwarden:target")
    try:
        timestamp = dt.datetime.fromisoformat(report.started)
    except ValueError:
        timestamp = dt.datetime.now(dt.UTC)
    bom = Bom(
        metadata=BomMetaData(tools=ToolRepository(components=[tool]), component=root, timestamp=timestamp),
        components=components.values(),
        vulnerabilities=_vulnerabilities(report, verdict, result_refs),
    )
    by_name: dict[str, list[Component]] = {}
    for component in components.values():
        by_name.setdefault(canonicalize_name(component.name), []).append(component)
    depended: set[str] = set()
    for ref, names in edges.items():
        targets = [c for n in sorted(names) for c in by_name.get(n, [])]
        depended.update(str(c.bom_ref) for c in targets)
        bom.register_dependency(components[ref], targets)
    bom.register_dependency(root, [c for ref, c in components.items() if ref not in depended])
    return bom


def bom_json(report: ScanReport, verdict: Verdict) -> str:
    text: str = JsonV1Dot6(build_bom(report, verdict)).output_as_string(indent=2)
    return text + "\n"
