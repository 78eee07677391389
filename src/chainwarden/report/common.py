"""What every report format shares: neutralising hostile text, ordering and counting results.

Everything a package author controls (names, paths, snippets, decoded code, messages that
quote them) is hostile. Each format escapes for its own medium; this module holds the
medium-independent parts: control and bidi characters made visible, lone surrogates (from
undecodable bytes) made printable, worst-first ordering and the finding's policy status.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.models import Finding, Severity, SuppressedFinding

if TYPE_CHECKING:
    from collections.abc import Iterable

    from chainwarden.models import ArtifactResult, ScanReport, Verdict

_SURROGATES = range(0xD800, 0xE000)
_ESCAPED_BYTES = range(0xDC80, 0xDD00)  # what `surrogateescape` makes of an undecodable byte
_LATIN1_END = 0x100
_BIDI_CONTROLS = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if code < _LATIN1_END:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"  # noqa: PLR2004 - BMP boundary


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Replace every character that can hide or restyle text with a visible escape.

    Control characters (ANSI escapes start with one), format characters (bidi overrides,
    zero-width joiners), separators other than the space, and surrogates all become `\\xNN` /
    `\\uNNNN`. Printable non-ASCII text stays as it is, so real code and names stay readable.
    """
    out: list[str] = []
    for ch in text:
        if ch == " " or (ch.isprintable() and ord(ch) not in _SURROGATES) or (keep_newlines and ch == "\n"):
            out.append(ch)
        else:
            out.append(_escape_char(ch))
    return "".join(out)


def unicode_safe(text: str) -> str:
    """Make text encodable as UTF-8 by spelling lone surrogates (undecodable bytes) as escapes."""
    if not any(ord(ch) in _SURROGATES for ch in text):
        return text
    return "".join(_escape_char(ch) if ord(ch) in _SURROGATES else ch for ch in text)


def has_bidi_control(text: str) -> bool:
    """True if the text holds a bidirectional override or isolate (Trojan Source)."""
    return any(unicodedata.bidirectional(ch) in _BIDI_CONTROLS for ch in text)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def location_text(finding: Finding) -> str:
    """`path:line:column` with a 1-based column, as editors and people count them."""
    loc = finding.location
    text = loc.path or "-"
    if loc.line:
        text += f":{loc.line}"
        if loc.column is not None:
            text += f":{loc.column + 1}"
    return text


class Status(enum.StrEnum):
    """What the policy did with a finding."""

    BLOCKING = "blocking"  # at or above the threshold and not ignored
    SUPPRESSED = "suppressed"  # matched a live ignore
    REPORTED = "reported"  # below the threshold


@dataclass(frozen=True, slots=True)
class Judgement:
    """A verdict indexed by finding, so renderers can label each one."""

    blocking: frozenset[Finding]
    suppressed: dict[Finding, SuppressedFinding]

    @classmethod
    def of(cls, verdict: Verdict) -> Judgement:
        return cls(frozenset(verdict.blocking), {s.finding: s for s in verdict.suppressed})

    def status(self, finding: Finding) -> Status:
        if finding in self.suppressed:
            return Status.SUPPRESSED
        if finding in self.blocking:
            return Status.BLOCKING
        return Status.REPORTED

    def suppression(self, finding: Finding) -> SuppressedFinding | None:
        return self.suppressed.get(finding)


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """Findings per severity, worst first, every severity present (zero included)."""
    counts = dict.fromkeys(sorted(Severity, reverse=True), 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def counts_text(findings: Iterable[Finding]) -> str:
    """`1 critical, 2 high` (non-zero severities only), or `no findings`."""
    parts = [f"{n} {sev.label}" for sev, n in severity_counts(findings).items() if n]
    return ", ".join(parts) or "no findings"


def worst(result: ArtifactResult) -> Severity | None:
    return max((f.severity for f in result.findings), default=None)


def ordered_results(report: ScanReport) -> list[ArtifactResult]:
    """Results worst first: by worst severity, then most automatic trigger; ties keep scan order."""

    def key(item: tuple[int, ArtifactResult]) -> tuple[int, int, int, int]:
        index, result = item
        sev = worst(result)
        trigger = max((f.trigger.rank for f in result.findings), default=-1)
        troubled = 1 if result.unscanned else 0
        return (-(sev if sev is not None else -1), -trigger, -troubled, index)

    return [r for _, r in sorted(enumerate(report.results), key=key)]


def ordered_findings(result: ArtifactResult) -> list[Finding]:
    """A result's findings worst first (severity, then trigger, then path and line)."""
    return sorted(result.findings, key=lambda f: f.sort_key)
