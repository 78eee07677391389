"""Judge start-up hooks that outlive a package: systemd units, crontabs, shell rc, autostart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chainwarden.models import Evidence, Finding, Location, Trigger
from chainwarden.rules import sweep as rules

if TYPE_CHECKING:
    from pathlib import Path

_MAX_BYTES = 1024 * 1024
_INTERPRETER = r"(?:python[0-9.]*|sh|bash|zsh|node|bun|deno|perl)"
_USER_WRITABLE = r"(?:~|\$HOME|/home/[^/\s]+|/root|/tmp|/var/tmp|/dev/shm)"
#: An interpreter running a script from a user-writable or hidden place.
_RUNS_HIDDEN_SCRIPT = re.compile(
    rf"\b{_INTERPRETER}\b[^\n]*?\s(?:{_USER_WRITABLE}[^\s]*|[^\s]*/\.[^/\s]+/[^\s]*)\.(?:py|sh|js|pl)\b"
)
_DOWNLOAD_PIPE = re.compile(r"\b(?:curl|wget)\b[^\n|;]*\|\s*(?:sudo\s+)?" + _INTERPRETER + r"\b")
_DECODE_EXEC = re.compile(r"(?:base64\s+(?:-d|--decode)|b64decode|exec\s*\(|eval\s*\()")
_INLINE_CODE = re.compile(r"\b" + _INTERPRETER + r"\s+-c\b")
_TMP_BINARY = re.compile(r"(?:^|[\s;&|])(?:/tmp|/var/tmp|/dev/shm)/\.?[\w.-]+(?:\s|$)")


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            return fh.read(_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


def _suspicious(line: str) -> str | None:
    if _DOWNLOAD_PIPE.search(line):
        return "pipes a download into an interpreter"
    if _INLINE_CODE.search(line) and _DECODE_EXEC.search(line):
        return "runs decoded inline code"
    if _RUNS_HIDDEN_SCRIPT.search(line):
        return "runs a script from a hidden or user-writable place"
    if _TMP_BINARY.search(line):
        return "runs a program from a temporary directory"
    return None


def judge_persistence(path: Path, *, label: str) -> list[Finding]:
    text = _read(path)
    if text is None:
        return []
    is_unit = path.suffix in (".service", ".timer")
    is_autostart = path.suffix == ".desktop"
    rule = rules.SUSPICIOUS_SERVICE if is_unit else rules.SUSPICIOUS_SCHEDULE
    out: list[Finding] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if (is_unit or is_autostart) and not line.startswith(("ExecStart", "ExecStartPre", "ExecStartPost", "Exec=")):
            continue
        why = _suspicious(line)
        if why is None:
            continue
        kind = "systemd unit" if is_unit else "autostart entry" if is_autostart else "start-up file"
        out.append(
            Finding(
                rule_id=rule.id,
                severity=rule.severity,
                message=f"{kind} {path} {why}: remove it (uninstalling the package does not)",
                location=Location(artifact=label, path=str(path), line=number),
                trigger=Trigger.INTERPRETER_START if not is_unit else Trigger.NONE,
                evidence=Evidence(snippet=line[:500]),
                capabilities=("persistence",),
                analyzer="sweep",
                analyzer_version="1",
            )
        )
    return out
