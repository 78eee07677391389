"""What zip and tar readers share: limits, the reader interface, and member-name checks.

An `ArchiveReader` lists an archive's members and reads them into memory on demand, within
limits; it never writes a member to disk. Structural problems it notices become findings
(`problems`), members it refuses to read become `Unscanned` values.
"""

from __future__ import annotations

import abc
import contextlib
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainwarden.artifact import DEFAULT_MAX_MEMBER_BYTES, ArtifactError
from chainwarden.models import Evidence, Finding, Location, Member, MemberKind, Severity, Trigger, Unscanned
from chainwarden.rules import archive as rules

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from chainwarden.rules import Rule

ANALYZER = "archive"
ANALYZER_VERSION = "1"

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Resource limits for reading one archive.

    `max_ratio` applies to a member, and to the whole archive, once more than
    `ratio_floor_bytes` have been inflated (small, highly compressible files are normal).
    """

    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES
    max_total_bytes: int = 4 * 1024 * _MIB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 16 * _MIB
    max_members: int = 200_000


def make_finding(
    rule: Rule,
    message: str,
    label: str,
    path: str = "",
    *,
    severity: Severity | None = None,
    snippet: str = "",
    detail: tuple[tuple[str, str], ...] = (),
) -> Finding:
    """A finding about the container, stamped with this package's analyzer name."""
    return Finding(
        rule_id=rule.id,
        severity=rule.severity if severity is None else severity,
        message=message,
        location=Location(artifact=label, path=path),
        trigger=Trigger.NONE,
        evidence=Evidence(snippet=snippet, detail=detail),
        analyzer=ANALYZER,
        analyzer_version=ANALYZER_VERSION,
    )


class ArchiveReader(abc.ABC):
    """Read-only, in-memory view of an archive's members (paths are unique, POSIX as stored)."""

    label: str
    limits: ArchiveLimits

    def __init__(self, label: str, limits: ArchiveLimits) -> None:
        self.label = label
        self.limits = limits
        self._problems: list[Finding] = []
        self._problem_keys: set[tuple[str, str, str]] = set()
        self._unscanned: list[Unscanned] = []
        self._unscanned_paths: set[str] = set()

    @abc.abstractmethod
    def members(self) -> Sequence[Member]:
        """Files, links and special entries (directories are left out)."""

    @abc.abstractmethod
    def read(self, path: str) -> bytes:
        """A regular member's bytes; raises `ArtifactError` if it cannot be read within limits."""

    @property
    def problems(self) -> Sequence[Finding]:
        return tuple(self._problems)

    @property
    def unscanned(self) -> Sequence[Unscanned]:
        return tuple(self._unscanned)

    def close(self) -> None:  # noqa: B027 - readers holding nothing open need no cleanup
        """Release the archive file."""

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Hold the archive open across many `read` calls (a no-op for readers that need not)."""
        return contextlib.nullcontext()

    def read_all(self) -> Iterator[tuple[Member, bytes]]:
        """Every regular member that can be read, with its bytes; failures are recorded as
        problems / unscanned instead of raised. Reading everything also verifies the data."""
        for member in self.members():
            if member.kind is not MemberKind.FILE or member.path in self._unscanned_paths:
                continue
            try:
                data = self.read(member.path)
            except ArtifactError:
                continue  # `read` recorded why
            yield member, data

    def add_problem(self, finding: Finding) -> None:
        key = (finding.rule_id, finding.location.path, finding.message)
        if key not in self._problem_keys:
            self._problem_keys.add(key)
            self._problems.append(finding)

    def problem(
        self,
        rule: Rule,
        message: str,
        path: str = "",
        *,
        severity: Severity | None = None,
        snippet: str = "",
        detail: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.add_problem(
            make_finding(rule, message, self.label, path, severity=severity, snippet=snippet, detail=detail)
        )

    def skip(self, path: str, reason: str) -> None:
        if path not in self._unscanned_paths:
            self._unscanned_paths.add(path)
            self._unscanned.append(Unscanned(self.label, path, reason))

    def rename_unscanned(self, old: str, new: str) -> None:
        """A member was renamed (an earlier copy of a duplicate): its unscanned entry follows it."""
        if old in self._unscanned_paths:
            self._unscanned_paths.discard(old)
            self._unscanned_paths.add(new)
            self._unscanned = [Unscanned(u.artifact, new, u.reason) if u.path == old else u for u in self._unscanned]

    def check_names(self, names: Sequence[str]) -> None:
        """Unsafe and duplicate names, in archive order."""
        seen: dict[str, str] = {}
        for name in names:
            for rule, why in name_problems(name):
                self.problem(rule, f"member {name!r}: {why}", name, snippet=name)
            key = normalized_name(name)
            if key in seen:
                first = seen[key]
                same = "the same name" if first == name else f"a name equal to {first!r}"
                self.problem(rules.DUPLICATE_MEMBER, f"member {name!r} appears again with {same}", name, snippet=name)
            else:
                seen[key] = name

    def check_link(self, name: str, target: str, *, hard: bool) -> None:
        kind = "hardlink" if hard else "symlink"
        if link_escapes(name, target, hard=hard):
            self.problem(
                rules.LINK_ESCAPE,
                f"{kind} {name!r} points outside the archive: {target!r}",
                name,
                snippet=f"{name} -> {target}",
            )
        else:
            self.problem(rules.LINK_MEMBER, f"{kind} {name!r} -> {target!r}", name, snippet=f"{name} -> {target}")


_SHADOWED = re.compile(r" \(duplicate \d+\)$")


def shadowed_path(name: str, n: int) -> str:
    """The member path given to an earlier copy of a duplicated name (the last copy keeps the
    name, as it is the one extraction leaves on disk)."""
    return f"{name} (duplicate {n})"


def is_shadowed(path: str) -> bool:
    return _SHADOWED.search(path) is not None


_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def name_problems(name: str) -> list[tuple[Rule, str]]:
    """Why a member name is unsafe: traversal, absolute, drive letters, separators, control chars."""
    out: list[tuple[Rule, str]] = []
    if not name.strip("/"):
        return [(rules.SUSPICIOUS_NAME, "empty name")]
    unified = name.replace("\\", "/")
    if unified.startswith("/"):
        out.append((rules.PATH_TRAVERSAL, "absolute path"))
    elif _DRIVE.match(unified):
        out.append((rules.PATH_TRAVERSAL, "Windows drive letter"))
    if ".." in unified.split("/"):
        out.append((rules.PATH_TRAVERSAL, "`..` segment climbs out of the target directory"))
    if "\\" in name:
        out.append((rules.SUSPICIOUS_NAME, "backslash in name (a path separator on Windows)"))
    if _CONTROL.search(name):
        out.append((rules.SUSPICIOUS_NAME, "control character in name"))
    return out


def normalized_name(name: str) -> str:
    """The path an extractor would write, for duplicate detection (`a/./b` and `a//b` equal `a/b`)."""
    unified = name.replace("\\", "/").lstrip("/")
    return posixpath.normpath(unified) if unified else ""


def link_escapes(name: str, target: str, *, hard: bool) -> bool:
    unified = target.replace("\\", "/")
    if not unified or unified.startswith("/") or _DRIVE.match(unified):
        return True
    base = "" if hard else posixpath.dirname(normalized_name(name))
    resolved = posixpath.normpath(posixpath.join(base, unified))
    return resolved == ".." or resolved.startswith("../")


def sniff_format(path: Path) -> str:
    """'zip' or 'tar' from the file's bytes (names can lie, and cached files have none)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 65_557))
            tail = fh.read()
    except OSError as err:
        msg = f"{path}: cannot read: {err.strerror}"
        raise ArtifactError(msg) from err
    if size == 0:
        msg = f"{path}: empty file"
        raise ArtifactError(msg)
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or head[257:262] == b"ustar":
        return "tar"
    if head.startswith(b"PK") or b"PK\x05\x06" in tail:
        return "zip"
    msg = f"{path}: not a zip or tar archive"
    raise ArtifactError(msg)
