"""Judge one new release: scan every file, diff against the previous release, match advisories,
apply the policy and the cooldown, and say what an alert should say."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainwarden.advisories.check import check
from chainwarden.advisories.services.base import Query, ServiceError
from chainwarden.diff.auto import with_previous_release
from chainwarden.gate.decisions import human_age
from chainwarden.models import Finding, ScanReport, Severity
from chainwarden.report.json import as_document

if TYPE_CHECKING:
    from chainwarden.advisories.services.base import AdvisoryService
    from chainwarden.engine import Scanner
    from chainwarden.gate.config import GatePolicy
    from chainwarden.policy import Policy


@dataclass(frozen=True, slots=True)
class Judgement:
    blocked: bool
    worst: str
    summary: str
    report: dict[str, Any]
    findings: tuple[Finding, ...]
    changes: tuple[str, ...]  # the diff's findings, as sentences, newest first
    errors: tuple[str, ...]


def alert_key(kind: str, *parts: str) -> str:
    """A stable idempotency key: the same event always gets the same key (retries, restarts)."""
    return hashlib.sha256("\0".join((kind, *parts)).encode()).hexdigest()[:40]


def judge_release(
    name: str,
    version: str,
    *,
    scanner: Scanner,
    policy: Policy,
    advisories: AdvisoryService | None,
) -> Judgement:
    report = scanner.scan([f"{name}=={version}"])
    options = scanner.options.source_options()
    results = []
    for result in report.results:
        try:
            results.append(with_previous_release(result, scanner, options))
        except (OSError, ValueError) as err:
            results.append(result)
            report = dataclasses.replace(report, errors=(*report.errors, f"diff not computed: {err}"))
    report = dataclasses.replace(report, results=tuple(results))
    if advisories is not None:
        try:
            outcome = check(advisories, [Query(name, version)])
        except ServiceError as err:
            report = dataclasses.replace(report, errors=(*report.errors, f"advisories not checked: {err}"))
        else:
            for match in outcome.matches:
                report = _with_advisory(report, match.id, match.malicious, match.severity, match.summary)
    verdict = policy.evaluate(report)
    findings = tuple(f for r in report.results for f in r.findings)
    worst = max((f.severity for f in findings), default=None)
    changes = tuple(f.message for f in findings if f.rule_id.startswith("CW6") and f.severity >= Severity.MEDIUM)
    blocking = sorted(verdict.blocking, key=lambda f: f.sort_key)
    if blocking:
        top = blocking[0]
        where = top.location.path + (f":{top.location.line}" if top.location.line else "")
        summary = f"{top.rule_id} {top.severity.label}: {top.message} ({where})"
    elif report.errors:
        summary = "not fully scanned: " + "; ".join(report.errors)[:300]
    else:
        summary = f"nothing at or above {verdict.threshold.label}"
    return Judgement(
        blocked=verdict.blocked or (not report.results and bool(report.errors)),
        worst=worst.label if worst is not None else "",
        summary=summary,
        report=as_document(report, verdict),
        findings=findings,
        changes=changes,
        errors=report.errors,
    )


def _with_advisory(
    report: ScanReport, advisory_id: str, malicious: bool, severity: Severity, summary: str
) -> ScanReport:
    from chainwarden.models import Evidence, Location  # noqa: PLC0415
    from chainwarden.rules import advisories as rules  # noqa: PLC0415

    if not report.results:
        return report
    rule = rules.MALICIOUS_PACKAGE if malicious else rules.VULNERABLE_DEPENDENCY
    first = report.results[0]
    finding = Finding(
        rule_id=rule.id,
        severity=Severity.CRITICAL if malicious else severity,
        message=f"{advisory_id}: {summary}",
        location=Location(artifact=first.name),
        evidence=Evidence(snippet=advisory_id),
        analyzer="advisories",
        analyzer_version="1",
    )
    return dataclasses.replace(
        report, results=(dataclasses.replace(first, findings=(finding, *first.findings)), *report.results[1:])
    )


def cooldown_status(uploaded: str, gate: GatePolicy, name: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Whether the gate's cooldown still holds this release back, and until when."""
    now = now or dt.datetime.now(dt.UTC)
    cooldown = gate.cooldown_for(name)
    if not uploaded:
        return {
            "holding": True,
            "until": "",
            "text": "the index gives no upload time: the gate refuses it (fail closed)",
        }
    try:
        when = dt.datetime.fromisoformat(uploaded)
    except ValueError:
        return {"holding": True, "until": "", "text": f"unreadable upload time {uploaded!r}: the gate refuses it"}
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    until = when + dt.timedelta(seconds=cooldown)
    if cooldown > 0 and until > now:
        left = human_age((until - now).total_seconds())
        text = f"the cooldown still holds it back for {left} (until {until.isoformat(timespec='minutes')})"
        return {"holding": True, "until": until.isoformat(timespec="seconds"), "text": text}
    return {
        "holding": False,
        "until": until.isoformat(timespec="seconds"),
        "text": "past the cooldown: installers will take it",
    }
