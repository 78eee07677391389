"""CycloneDX 1.6 JSON: an SBOM of every package in the report, with VEX for advisory findings.

Components come from results that carry package metadata (audited dependencies, installed
distributions, scanned wheels); dependency edges from their requirements. Each advisory
(`CW400` malicious, `CW401` vulnerable) becomes one vulnerability that `affects` every
component it was found in, with a VEX analysis: `exploitable` for malware, `in_triage` for an
unreviewed vulnerability, `not_affected` when a policy ignore (with its reason) covers it.
The library that builds it is imported only when this format is rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainwarden.models import ScanReport, Verdict


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:  # noqa: ARG001 - JSON has no colour
    from chainwarden.report.cyclonedx_bom import bom_json  # noqa: PLC0415 - keep other formats light

    return bom_json(report, verdict)
