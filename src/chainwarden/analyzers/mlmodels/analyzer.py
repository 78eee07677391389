"""The model analyzer: picks files that may be models, sniffs them, and turns facts into findings.

`select` cannot read bytes, so it takes every file with a model-ish suffix and every file
without a suffix; `extract` decides from the bytes (a `.pth` path file is text, not a
model, and yields no findings here).
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections import defaultdict
from typing import TYPE_CHECKING, ClassVar

from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.analyzers.mlmodels.facts import GlobalRef, IssueKind, ModelFacts, ModelFormat
from chainwarden.analyzers.mlmodels.globals import GlobalClass, classify
from chainwarden.models import (
    ArtifactKind,
    Confidence,
    Evidence,
    Finding,
    Location,
    Member,
    MemberKind,
    Severity,
    Trigger,
)
from chainwarden.rules import mlmodels as rules

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from chainwarden.rules import Rule

#: Suffixes whose files are sniffed. Content decides; the name only decides what is looked at.
MODEL_SUFFIXES = frozenset(
    {
        ".pkl",
        ".pickle",
        ".pk",
        ".p",
        ".dill",
        ".pt",
        ".pth",
        ".bin",
        ".ckpt",
        ".joblib",
        ".jbl",
        ".sav",
        ".model",
        ".dat",
        ".weights",
        ".params",
        ".npy",
        ".npz",
        ".keras",
        ".h5",
        ".hdf5",
        ".safetensors",
        ".gguf",
        ".ggml",
        ".7z",
        ".mar",
        *(
            f".{base}.{comp}"
            for base in ("pkl", "pickle", "joblib", "pt")
            for comp in ("gz", "gzip", "bz2", "xz", "lzma")
        ),
    }
)
#: Suffixes that promise a model: unrecognisable bytes under these names are unverifiable, not ignored.
STRONG_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".pt", ".ckpt", ".joblib", ".npy", ".npz", ".keras", ".h5", ".safetensors", ".gguf"}
)
_ISSUE_RULES: dict[IssueKind, Rule] = {
    IssueKind.HIDDEN_GLOBAL: rules.HIDDEN_CALLABLE,
    IssueKind.INDIRECT_CALL: rules.HIDDEN_CALLABLE,
    IssueKind.GLOBAL_MUTATION: rules.HIDDEN_CALLABLE,
    IssueKind.BROKEN_STREAM: rules.BROKEN_STREAM,
    IssueKind.TRAILING_DATA: rules.BROKEN_STREAM,
    IssueKind.APPENDED_PICKLE: rules.BROKEN_STREAM,
    IssueKind.LIMIT: rules.ANALYSIS_LIMIT,
    IssueKind.UNVERIFIABLE: rules.UNVERIFIABLE,
    IssueKind.KERAS_LAMBDA: rules.KERAS_CODE,
    IssueKind.KERAS_MODULE: rules.KERAS_MODULE,
    IssueKind.HEADER_INVALID: rules.HEADER_INVALID,
    IssueKind.CONTAINER_ANOMALY: rules.CONTAINER_ANOMALY,
    IssueKind.TEMPLATE_CODE: rules.TEMPLATE_CODE,
    IssueKind.TORCHSCRIPT: rules.TORCHSCRIPT,
}
_NOT_CODE = frozenset({IssueKind.HEADER_INVALID, IssueKind.CONTAINER_ANOMALY})
_MAX_FINDINGS_PER_FILE = 50
#: Findings that say a file is hostile, wherever it is.
_HOSTILE = frozenset({rules.DANGEROUS_GLOBAL.id, rules.HIDDEN_CALLABLE.id, rules.KERAS_CODE.id, rules.TEMPLATE_CODE.id})
#: In a package, a pickle runs only when the package's code loads it; what is merely unknown there
#: (Sphinx doctrees, test fixtures, HDF5 test images) is reported at medium instead of blocking.
#: Standalone model files and directories stay fail-closed; so do files no RECORD owns.
_PACKAGE_KINDS = frozenset({ArtifactKind.WHEEL, ArtifactKind.SDIST, ArtifactKind.INSTALLED})
_RELAXED_IN_PACKAGES = frozenset(
    {
        rules.UNKNOWN_GLOBAL.id,
        rules.BROKEN_STREAM.id,
        rules.ANALYSIS_LIMIT.id,
        rules.UNVERIFIABLE.id,
        rules.KERAS_MODULE.id,
    }
)


def _as_package_data(finding: Finding) -> Finding:
    if finding.rule_id not in _RELAXED_IN_PACKAGES or finding.severity <= Severity.MEDIUM:
        return finding
    return dataclasses.replace(
        finding,
        severity=Severity.MEDIUM,
        message=f"{finding.message}; package data: runs only if the package's code loads this file",
    )


def _suffixes(path: str) -> tuple[str, str]:
    """(".gz", ".pkl.gz") for "model.pkl.gz"."""
    parts = posixpath.basename(path).lower().split(".")
    last = "." + parts[-1] if len(parts) > 1 else ""
    double = "." + ".".join(parts[-2:]) if len(parts) > 2 else ""  # noqa: PLR2004 - name + two suffixes
    return last, double


class ModelAnalyzer(Analyzer[ModelFacts]):
    name = "mlmodels"
    version = "2"  # bump whenever the facts change shape or meaning
    facts_type = ModelFacts
    max_bytes: ClassVar[int] = 1024 * 1024 * 1024

    def select(self, member: Member, view: ArtifactView) -> bool:
        if member.kind is not MemberKind.FILE or member.size == 0:
            return False
        if view.kind is ArtifactKind.MODEL:
            return True
        last, double = _suffixes(member.path)
        if last in MODEL_SUFFIXES or double in MODEL_SUFFIXES:
            return True
        # No suffix at all: a name says nothing, so the bytes decide (text is dropped in `extract`).
        return not last

    def extract(self, data: bytes) -> ModelFacts:
        # Imported here: the format readers are needed where bytes are read (worker processes),
        # not to start `chainwarden scan`.
        from chainwarden.analyzers.mlmodels.scan import scan_model  # noqa: PLC0415

        return scan_model(data)

    def judge(self, view: ArtifactView, facts: Mapping[str, ModelFacts]) -> Iterable[Finding]:
        for path in sorted(facts):
            yield from self._judge_file(view, path, facts[path])

    def _judge_file(self, view: ArtifactView, path: str, facts: ModelFacts) -> Iterator[Finding]:
        if facts.format is ModelFormat.UNKNOWN:
            last, _ = _suffixes(path)
            if last not in STRONG_SUFFIXES:
                return
        elif not facts.is_model:
            return
        label = view.label
        yield self._finding(
            rules.MODEL_INVENTORY,
            f"{facts.format.value or 'unrecognised'} model file ({facts.size} bytes)",
            Location(label, path),
            Trigger.NONE,
            detail=(("format", facts.format.value), ("sha256", facts.sha256), ("size", str(facts.size))),
        )
        findings: list[Finding] = []
        if facts.format is ModelFormat.UNKNOWN:
            findings.append(
                self._finding(
                    rules.UNVERIFIABLE,
                    "named like a model but its bytes are no model format this scanner can open",
                    Location(label, path),
                    Trigger.MODEL_LOAD,
                )
            )
        findings.extend(self._global_findings(label, path, facts.globals))
        for issue in facts.issues:
            rule = _ISSUE_RULES[issue.kind]
            severity = Severity.MEDIUM if issue.kind is IssueKind.TRAILING_DATA else rule.severity
            where = f"{path}!{issue.where}" if issue.where else path
            findings.append(
                self._finding(
                    rule,
                    f"{issue.detail} (byte {issue.offset} of {where})",
                    Location(label, where),
                    Trigger.NONE if issue.kind in _NOT_CODE else Trigger.MODEL_LOAD,
                    severity=severity,
                    detail=(("offset", str(issue.offset)), ("issue", issue.kind.value)),
                )
            )
        if view.kind in _PACKAGE_KINDS and not any(f.rule_id in _HOSTILE for f in findings):
            findings = [_as_package_data(f) for f in findings]
        findings.sort(key=lambda f: f.sort_key)
        yield from findings[:_MAX_FINDINGS_PER_FILE]
        if len(findings) > _MAX_FINDINGS_PER_FILE:
            yield self._finding(
                rules.ANALYSIS_LIMIT,
                f"{len(findings) - _MAX_FINDINGS_PER_FILE} more findings in this file were not listed",
                Location(label, path),
                Trigger.MODEL_LOAD,
                severity=max(f.severity for f in findings[_MAX_FINDINGS_PER_FILE:]),
            )

    def _global_findings(self, label: str, path: str, refs: tuple[GlobalRef, ...]) -> Iterator[Finding]:
        grouped: dict[tuple[str, str], list[GlobalRef]] = defaultdict(list)
        for ref in refs:
            grouped[(ref.where, ref.qualified)].append(ref)
        for (where, qualified), group in grouped.items():
            first = group[0]
            verdict = classify(first.module, first.name)
            if verdict is GlobalClass.SAFE:
                continue
            rule = rules.DANGEROUS_GLOBAL if verdict is GlobalClass.DANGEROUS else rules.UNKNOWN_GLOBAL
            called = any(r.called for r in group)
            inner = f"{path}!{where}" if where else path
            action = "imports and calls" if called else "imports"
            more = f" ({len(group)} times)" if len(group) > 1 else ""
            yield self._finding(
                rule,
                f"loading this model {action} {qualified} ({first.opcode} at byte {first.offset} of {inner}){more}",
                Location(label, inner),
                Trigger.MODEL_LOAD,
                confidence=Confidence.HIGH if verdict is GlobalClass.DANGEROUS else Confidence.MEDIUM,
                snippet=qualified,
                detail=(
                    ("callable", qualified),
                    ("offset", str(first.offset)),
                    ("opcode", first.opcode),
                    ("stream", str(first.stream)),
                    ("called", str(called).lower()),
                ),
            )

    def _finding(
        self,
        rule: Rule,
        message: str,
        location: Location,
        trigger: Trigger,
        *,
        severity: Severity | None = None,
        confidence: Confidence = Confidence.HIGH,
        snippet: str = "",
        detail: tuple[tuple[str, str], ...] = (),
    ) -> Finding:
        return Finding(
            rule_id=rule.id,
            severity=rule.severity if severity is None else severity,
            message=message,
            location=location,
            trigger=trigger,
            confidence=confidence,
            evidence=Evidence(snippet=snippet, detail=detail),
            capabilities=("model-load",) if trigger is Trigger.MODEL_LOAD else (),
            analyzer=self.name,
            analyzer_version=self.version,
        )


__all__ = ["MODEL_SUFFIXES", "ModelAnalyzer"]
