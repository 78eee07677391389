"""SARIF 2.1.0: one run, rules from the catalogue, locations pointing into the artifact.

Files of a directory or an installed environment are plain file URIs: relative to
`%SRCROOT%` (the working directory, normally the repository root) when they lie inside it, so
GitHub code scanning links them to the code, absolute `file://` URIs otherwise. A file inside
an archive (wheel, sdist) is a *nested artifact* (SARIF 3.24.2): `run.artifacts` lists the
archive, and the member with `parentIndex` pointing at it; the result's `artifactLocation`
names the member's path and its `index`.

Text shown to people (messages, snippets, decoded stages) has control and bidi characters
made visible; URIs are percent-encoded.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chainwarden import rules
from chainwarden.models import ArtifactKind, Severity, Trigger
from chainwarden.report.common import Judgement, Status, clip, visible

if TYPE_CHECKING:
    from chainwarden.models import ArtifactResult, Finding, ScanReport, Unscanned, Verdict
    from chainwarden.rules import Rule

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://chainwarden.invalid/"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "chainwarden/v1"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub code scanning's scale: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
_FILESYSTEM_KINDS = frozenset({ArtifactKind.DIRECTORY, ArtifactKind.INSTALLED, ArtifactKind.UNOWNED})
_SINGLE_FILE_KINDS = frozenset({ArtifactKind.MODEL, ArtifactKind.FILE})
_MAX_SNIPPET = 2000
_MAX_PREVIEW = 1000
_NOTIFICATIONS = (
    ("CWN001", "scan-error", "A target could not be scanned at all."),
    ("CWN002", "not-scanned", "Part of an artifact could not be scanned; it is never counted as clean."),
)
_NOTIFICATION_INDEX = {name: n for n, (_, name, _) in enumerate(_NOTIFICATIONS)}


def _quote(text: str) -> str:
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return quote(raw, safe="/")


def _shown(text: str, limit: int | None = None) -> str:
    out = visible(text, keep_newlines=True)
    return out if limit is None else clip(out, limit)


class _Artifacts:
    """Builds `run.artifacts` (deduplicated) and the artifactLocations that point into it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.items: list[dict[str, Any]] = []
        self._index: dict[tuple[str, str, int], int] = {}
        self.used_srcroot = False

    def _add(self, location: dict[str, Any], parent: int = -1, extra: dict[str, Any] | None = None) -> int:
        key = (location["uri"], location.get("uriBaseId", ""), parent)
        found = self._index.get(key)
        if found is not None:
            return found
        item: dict[str, Any] = {"location": dict(location)}
        if parent >= 0:
            item["parentIndex"] = parent
        item.update(extra or {})
        self._index[key] = len(self.items)
        self.items.append(item)
        return len(self.items) - 1

    def file_location(self, path: str) -> dict[str, Any]:
        """An artifactLocation for a filesystem path: relative to %SRCROOT% when inside it.

        A relative path is taken as relative to the root (the working directory by default).
        """
        p = self.root / path  # an absolute `path` replaces the root
        try:
            rel = p.relative_to(self.root)
        except ValueError:
            posix = p.as_posix()
            return {"uri": "file://" + _quote(posix if posix.startswith("/") else "/" + posix)}
        self.used_srcroot = True
        return {"uri": _quote(rel.as_posix()) or ".", "uriBaseId": SRCROOT}

    def container(self, result: ArtifactResult) -> int:
        ref = result.ref
        extra: dict[str, Any] = {
            "roles": ["analysisTarget"],
            "description": {"text": _shown(f"{result.name} ({ref.kind.value})")},
        }
        if ref.sha256:
            extra["hashes"] = {"sha-256": ref.sha256}
        return self._add(self.file_location(ref.location), extra=extra)

    def locate(self, result: ArtifactResult, path: str) -> dict[str, Any]:
        """The artifactLocation of `path` inside `result`'s artifact (or of the artifact itself)."""
        ref = result.ref
        if ref.kind in _FILESYSTEM_KINDS:
            # lstrip: a hostile absolute member name must not replace the artifact's own location
            target = str(Path(ref.location) / path.lstrip("/")) if path else ref.location
            location = self.file_location(target)
            index = self._add(location)
            return {**location, "index": index}
        parent = self.container(result)
        if not path or (ref.kind in _SINGLE_FILE_KINDS and PurePosixPath(path).name == Path(ref.location).name):
            return {**self.items[parent]["location"], "index": parent}
        location = {"uri": _quote(path.lstrip("/"))}
        index = self._add(location, parent)
        return {**location, "index": index}


def _rule_name(title: str) -> str:
    return "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", title)) or "Rule"


def _rule_descriptor(rule_id: str, rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {"id": rule_id, "shortDescription": {"text": rule_id}, "properties": {"tags": ["security"]}}
    tags = ["security", "supply-chain"]
    if rule.category:
        tags.append(rule.category)
    if rule.attack:
        tags.append(f"external/attack/{rule.attack}")
    properties: dict[str, Any] = {"tags": tags, "precision": "high"}
    if rule.severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[rule.severity]
    help_text = rule.rationale
    help_md = rule.rationale
    if rule.references:
        help_text += "\n\nReferences:\n" + "\n".join(f"- {r}" for r in rule.references)
        help_md += "\n\n**References**\n\n" + "\n".join(f"- <{r}>" for r in rule.references)
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": _rule_name(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": properties,
    }
    if rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor


def fingerprint(result: ArtifactResult, finding: Finding) -> str:
    """Stable across runs and versions: the package's name plus the finding's evidence hash."""
    package = result.metadata.name if result.metadata is not None else result.ref.label
    return hashlib.sha256(package.encode("utf-8", "surrogatepass") + b"\0" + finding.evidence_hash.encode()).hexdigest()


def _region(finding: Finding) -> dict[str, Any] | None:
    loc = finding.location
    if not loc.line:
        return None
    region: dict[str, Any] = {"startLine": loc.line}
    if loc.column is not None:
        region["startColumn"] = loc.column + 1
    if finding.evidence.snippet:
        region["snippet"] = {"text": _shown(finding.evidence.snippet, _MAX_SNIPPET)}
    return region


def _result(
    result: ArtifactResult, finding: Finding, rule_index: dict[str, int], artifacts: _Artifacts, judged: Judgement
) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifacts.locate(result, finding.location.path)}
    region = _region(finding)
    if region is not None:
        physical["region"] = region
    status = judged.status(finding)
    where = f"{result.name}: {finding.location.path}" if finding.location.path else result.name
    runs = f" (runs at {finding.trigger.value})" if finding.trigger is not Trigger.NONE else ""
    properties: dict[str, Any] = {
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "trigger": finding.trigger.value,
        "status": status.value,
        "package": _shown(result.name),
        "artifact": _shown(result.ref.label),
        "evidenceHash": finding.evidence_hash,
        "capabilities": [_shown(c) for c in finding.capabilities],
        "decoded": [
            {"stage": n, "method": _shown(s.method), "preview": _shown(s.preview, _MAX_PREVIEW)}
            for n, s in enumerate(finding.evidence.decoded, 1)
        ],
    }
    if region is None and finding.evidence.snippet:
        properties["snippet"] = _shown(finding.evidence.snippet, _MAX_SNIPPET)
    if finding.evidence.detail:
        properties["detail"] = {_shown(k): _shown(v, _MAX_PREVIEW) for k, v in finding.evidence.detail}
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "kind": "fail",
        "level": _LEVEL[finding.severity],
        "message": {"text": _shown(f"{finding.message}{runs} in {where}")},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [{"name": _shown(result.name), "kind": "package"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT: fingerprint(result, finding)},
        "properties": properties,
    }
    suppression = judged.suppression(finding)
    if suppression is not None and status is Status.SUPPRESSED:
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": _shown(f"{suppression.reason} (until {suppression.expires})"),
            }
        ]
    return out


def _notification(kind: str, level: str, text: str) -> dict[str, Any]:
    descriptor_id = _NOTIFICATIONS[_NOTIFICATION_INDEX[kind]][0]
    return {
        "descriptor": {"id": descriptor_id, "index": _NOTIFICATION_INDEX[kind]},
        "level": level,
        "message": {"text": _shown(text)},
    }


def _unscanned(result: ArtifactResult, item: Unscanned, artifacts: _Artifacts) -> dict[str, Any]:
    note = _notification("not-scanned", "warning", f"not scanned: {result.name}: {item.path or '-'}: {item.reason}")
    note["locations"] = [{"physicalLocation": {"artifactLocation": artifacts.locate(result, item.path)}}]
    return note


def _utc(stamp: str) -> str | None:
    if not stamp:
        return None
    return stamp.removesuffix("+00:00") + "Z" if stamp.endswith("+00:00") else stamp


def as_document(report: ScanReport, verdict: Verdict, *, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log as plain JSON data. `root` is `%SRCROOT%` (default: the working directory)."""
    root = (root or Path.cwd()).resolve()
    judged = Judgement.of(verdict)
    catalogue = rules.all_rules()
    rule_ids = sorted(catalogue) + sorted({f.rule_id for f in report.findings} - set(catalogue))
    rule_index = {rid: n for n, rid in enumerate(rule_ids)}
    artifacts = _Artifacts(root)
    results = []
    notifications = [_notification("scan-error", "error", e) for e in report.errors]
    for result in report.results:
        artifacts.locate(result, "")  # every scanned artifact is listed, clean ones too
        results += [_result(result, f, rule_index, artifacts, judged) for f in result.findings]
        notifications += [_unscanned(result, u, artifacts) for u in result.unscanned]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.errors,
        "toolExecutionNotifications": notifications,
    }
    started = _utc(report.started)
    if started:
        invocation["startTimeUtc"] = started
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "chainwarden",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(rid, catalogue.get(rid)) for rid in rule_ids],
                "notifications": [
                    {"id": nid, "name": name, "shortDescription": {"text": text}} for nid, name, text in _NOTIFICATIONS
                ],
            }
        },
        "invocations": [invocation],
        "artifacts": artifacts.items,
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "blocked": verdict.blocked,
            "threshold": verdict.threshold.label,
            "blocking": len(verdict.blocking),
            "suppressed": len(verdict.suppressed),
            "unscanned": len(report.unscanned),
            "notes": [_shown(n) for n in verdict.notes],
        },
    }
    if artifacts.used_srcroot:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: ScanReport, verdict: Verdict, *, color: bool = False) -> str:
    del color
    return json.dumps(as_document(report, verdict), indent=2, ensure_ascii=True) + "\n"
