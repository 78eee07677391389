"""The values that flow through chainwarden: artifacts' metadata, findings, and scan results.

Everything here is a frozen, typed value. Analyzers produce `Finding`s, the policy turns
them into a `Verdict`, reports render them. Nothing in this module does I/O.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import NewType

RuleId = NewType("RuleId", str)


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that thresholds compare with `>=`."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            msg = f"unknown severity {text!r} (choose from {choices})"
            raise ValueError(msg) from None


class Confidence(enum.IntEnum):
    """How sure the analyzer is that the finding is what it says."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Trigger(enum.StrEnum):
    """What makes the code behind a finding run, without anyone choosing to call it."""

    INTERPRETER_START = "interpreter-start"  # .pth / .start / sitecustomize: every python process
    INSTALL = "install"  # setup.py, build backends and hooks
    IMPORT = "import"  # module top level reached when the package is imported
    ENTRY_POINT = "entry-point"  # console scripts and plugin groups hosts load by themselves
    MODEL_LOAD = "model-load"  # pickle-based model files at load time
    CALL = "call"  # only when someone calls it
    NONE = "none"  # not code: metadata, advisories, archive structure

    @property
    def rank(self) -> int:
        """How automatic the trigger is: higher runs with less help from anyone."""
        return _TRIGGER_RANK[self]


_TRIGGER_RANK = {
    Trigger.NONE: 0,
    Trigger.CALL: 1,
    Trigger.ENTRY_POINT: 2,
    Trigger.MODEL_LOAD: 3,
    Trigger.IMPORT: 3,
    Trigger.INSTALL: 4,
    Trigger.INTERPRETER_START: 5,
}


class ArtifactKind(enum.StrEnum):
    WHEEL = "wheel"
    SDIST = "sdist"
    DIRECTORY = "directory"
    INSTALLED = "installed"  # one distribution inside an environment
    UNOWNED = "unowned"  # files in site-packages that no RECORD owns
    MODEL = "model"  # a standalone model file
    FILE = "file"  # any other single file


class MemberKind(enum.StrEnum):
    FILE = "file"
    SYMLINK = "symlink"
    DIRECTORY = "directory"
    DEVICE = "device"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """Enough to find an artifact again (in a worker process, or in a report).

    `location` is a filesystem path (archive, directory, site-packages), `subject` narrows it
    (the `.dist-info` directory name of an installed distribution), `label` is what people see.
    """

    kind: ArtifactKind
    location: str
    label: str
    subject: str = ""
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class Member:
    """One entry of an artifact.

    `path` is POSIX and relative to the artifact root. `install_path` is where a wheel member
    lands relative to site-packages (`pkg-1.0.data/purelib/x.pth` -> `x.pth`), or "" if it does
    not land there (scripts, headers) or the artifact is not installable as is.
    """

    path: str
    size: int
    kind: MemberKind = MemberKind.FILE
    install_path: str = ""
    link_target: str = ""


@dataclass(frozen=True, slots=True)
class EntryPoint:
    group: str
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class RecordEntry:
    path: str
    hash: str  # "sha256=<urlsafe b64>" as in RECORD, or ""
    size: int | None


@dataclass(frozen=True, slots=True)
class PackageMetadata:
    name: str
    version: str
    summary: str = ""
    requires_dist: tuple[str, ...] = ()
    entry_points: tuple[EntryPoint, ...] = ()
    record: tuple[RecordEntry, ...] | None = None
    home_page: str = ""
    project_urls: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Location:
    artifact: str
    path: str = ""
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class DecodedStage:
    """One layer peeled off obfuscated data: how it was decoded and what came out."""

    method: str
    preview: str


@dataclass(frozen=True, slots=True)
class Evidence:
    snippet: str = ""
    decoded: tuple[DecodedStage, ...] = ()
    detail: tuple[tuple[str, str], ...] = ()

    @property
    def digest(self) -> str:
        """A stable hash of what was seen, so an ignore can be pinned to it and lapse when it changes."""
        h = hashlib.sha256()
        h.update(self.snippet.encode("utf-8", "surrogatepass"))
        for stage in self.decoded:
            h.update(b"\0" + stage.method.encode("utf-8", "surrogatepass") + b"\0")
            h.update(stage.preview.encode("utf-8", "surrogatepass"))
        return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: Severity
    message: str
    location: Location
    trigger: Trigger = Trigger.NONE
    confidence: Confidence = Confidence.HIGH
    evidence: Evidence = field(default_factory=Evidence)
    capabilities: tuple[str, ...] = ()
    analyzer: str = ""
    analyzer_version: str = ""

    @property
    def evidence_hash(self) -> str:
        h = hashlib.sha256()
        h.update(self.rule_id.encode() + b"\0" + self.location.path.encode("utf-8", "surrogatepass") + b"\0")
        h.update(self.evidence.digest.encode())
        return h.hexdigest()

    @property
    def sort_key(self) -> tuple[int, int, str, str, int]:
        return (-self.severity, -self.trigger.rank, self.location.path, self.rule_id, self.location.line or 0)


@dataclass(frozen=True, slots=True)
class Unscanned:
    """Something that could not be scanned. Reports always show these; they are never 'clean'."""

    artifact: str
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class ArtifactStats:
    files: int = 0
    bytes: int = 0
    analyzed_files: int = 0
    cache_hits: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ArtifactResult:
    ref: ArtifactRef
    metadata: PackageMetadata | None
    findings: tuple[Finding, ...]
    unscanned: tuple[Unscanned, ...] = ()
    stats: ArtifactStats = field(default_factory=ArtifactStats)

    @property
    def name(self) -> str:
        if self.metadata is not None:
            return f"{self.metadata.name} {self.metadata.version}"
        return self.ref.label


@dataclass(frozen=True, slots=True)
class SuppressedFinding:
    finding: Finding
    reason: str
    expires: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the policy decided about a set of results."""

    blocked: bool
    threshold: Severity
    blocking: tuple[Finding, ...] = ()
    suppressed: tuple[SuppressedFinding, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanReport:
    """Everything one run found, in the order the targets were given."""

    tool_version: str
    started: str  # ISO 8601 UTC
    results: tuple[ArtifactResult, ...]
    errors: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.results for f in r.findings)

    @property
    def unscanned(self) -> tuple[Unscanned, ...]:
        return tuple(u for r in self.results for u in r.unscanned)
