"""A wheel (`.whl`) as an artifact: members with the path each lands at in site-packages.

The zip is read by the defensive `ZipReader` (parser differentials are findings). Metadata
comes from the one `*.dist-info` directory; RECORD is checked against every member's bytes
(mismatches and unlisted files are findings), lazily on first access to `problems`.
"""

from __future__ import annotations

import abc
import base64
import dataclasses
import functools
import hashlib
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING

from chainwarden.archive import ArchiveLimits, ZipReader
from chainwarden.archive.common import is_shadowed, make_finding
from chainwarden.artifact import Artifact, ArtifactError, local_archive_key
from chainwarden.models import (
    ArtifactKind,
    ArtifactRef,
    Finding,
    Member,
    MemberKind,
    PackageMetadata,
    Severity,
    Unscanned,
)
from chainwarden.rules import archive as rules
from chainwarden.sources.base import Source, SourceOptions
from chainwarden.sources.metadata import parse_core_metadata

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from chainwarden.archive import ArchiveReader
    from chainwarden.index_client import IndexFile
    from chainwarden.rules import Rule

#: `NAME.data/data/<this>/...` lands in site-packages in a venv (POSIX, free-threaded, PyPy, Windows).
_DATA_TO_SITE = re.compile(r"^(?:(?:lib|lib64)/(?:python|pypy)\d+(?:\.\d+)*t?|Lib)/site-packages/(.+)$")
_RECORD_SIGNATURES = ("RECORD", "RECORD.jws", "RECORD.p7s")
_WEAK_HASHES = frozenset({"md5", "sha1"})


def wheel_install_path(path: str) -> str:
    """Where a wheel member lands relative to site-packages, or "" if it does not land there.

    Installers treat any top-level `*.data` directory as a scheme directory: `purelib` and
    `platlib` go to site-packages, `data` to the environment prefix (which reaches
    site-packages through `lib/pythonX.Y/site-packages/`), scripts and headers elsewhere.
    """
    top, sep, rest = path.partition("/")
    if not sep or not top.endswith(".data"):
        return path
    scheme, sep, sub = rest.partition("/")
    if not sep or not sub:
        return ""
    if scheme in ("purelib", "platlib"):
        return sub
    if scheme == "data":
        match = _DATA_TO_SITE.match(sub)
        return match.group(1) if match else ""
    return ""


class FileDigest:
    """A file's size and, on demand, its digests. The sha256 of bytes read earlier can be
    remembered, so checking RECORD does not inflate a member a second time."""

    def __init__(
        self,
        size: int,
        *,
        data: bytes | None = None,
        sha256: bytes | None = None,
        reread: Callable[[], bytes] | None = None,
    ) -> None:
        self.size = size
        self._data = data
        self._sha256 = sha256
        self._reread = reread

    def digest(self, algorithm: str) -> bytes:
        if algorithm == "sha256" and self._sha256 is not None:
            return self._sha256
        data = self._data if self._data is not None else self._reread() if self._reread is not None else b""
        return hashlib.new(algorithm, data).digest()


class HashedReads(Artifact):
    """An artifact whose RECORD is checked: every member is hashed as it is read (once), and
    the check reuses those digests instead of reading the file again. Subclasses implement
    `_read` and set up `_read_sha256 = {}`."""

    _read_sha256: dict[str, tuple[bytes, int]]

    @abc.abstractmethod
    def _read(self, path: str) -> bytes:
        """The member's bytes, read safely (raises `ArtifactError`)."""

    def read(self, path: str) -> bytes:
        data = self._read(path)
        self._read_sha256[path] = (hashlib.sha256(data).digest(), len(data))
        return data

    def read_hashed(self, path: str) -> tuple[bytes, str]:
        data = self.read(path)
        return data, self._read_sha256[path][0].hex()

    def _digest_of(self, path: str) -> FileDigest:
        """The digest of a member, from its earlier read when there was one (raises `ArtifactError`)."""
        known = self._read_sha256.get(path)
        if known is not None:
            return FileDigest(known[1], sha256=known[0], reread=functools.partial(self._read, path))
        data = self._read(path)
        return FileDigest(len(data), data=data)


def _record_digest_matches(digest: bytes, expected: str) -> bool:
    """RECORD digests are urlsafe base64 without padding; some build tools write hex instead."""
    b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return expected.rstrip("=") == b64 or expected.lower() == digest.hex()


#: Code that runs when Python starts or imports: a post-install change to it is tampering.
_CODE_SUFFIXES = (".py", ".pyw", ".pyc", ".pth", ".start")


def _installed_mismatch_severity(path: str) -> Severity:
    """Installed files change for benign reasons too: distributions strip native binaries after
    install and administrators add CAs to `cacert.pem`. A changed code file stays high; other
    changes are medium (shown, not blocking at the default threshold)."""
    return Severity.HIGH if path.lower().endswith(_CODE_SUFFIXES) else Severity.MEDIUM


def check_record(
    label: str,
    record_path: str,
    metadata: PackageMetadata | None,
    files: Iterator[tuple[Member, FileDigest]],
    all_paths: Sequence[str],
    *,
    installed: bool = False,
) -> list[Finding]:
    """RECORD against the files: hash/size mismatches, files RECORD does not list, stale entries."""
    if metadata is None or metadata.record is None:
        return []
    entries = {posixpath.normpath(e.path): e for e in metadata.record}
    findings: list[Finding] = []
    when = "after install" if installed else "after the wheel was built"
    signature_dir = posixpath.dirname(record_path)

    def add(rule: Rule, message: str, path: str, severity: Severity | None = None) -> None:
        findings.append(make_finding(rule, message, label, path, severity=severity, snippet=path))

    for member, file in files:
        if posixpath.dirname(member.path) == signature_dir and posixpath.basename(member.path) in _RECORD_SIGNATURES:
            continue
        entry = entries.get(posixpath.normpath(member.path))
        if entry is None:
            if not installed:
                add(rules.RECORD_UNLISTED, f"{member.path!r} is not listed in RECORD", member.path)
            continue
        algorithm, _, expected = entry.hash.partition("=")
        if not entry.hash:
            if not installed:  # installers legitimately leave INSTALLER/REQUESTED/... unhashed
                add(rules.RECORD_UNLISTED, f"{member.path!r} is listed in RECORD without a hash", member.path)
        elif algorithm in _WEAK_HASHES or algorithm not in hashlib.algorithms_guaranteed:
            add(
                rules.RECORD_MISMATCH,
                f"{member.path!r}: RECORD uses hash {algorithm!r}, which proves nothing",
                member.path,
                Severity.MEDIUM,
            )
        elif not _record_digest_matches(file.digest(algorithm), expected):
            add(
                rules.RECORD_MISMATCH,
                f"{member.path!r} does not match its RECORD {algorithm} (changed {when})",
                member.path,
                _installed_mismatch_severity(member.path) if installed else None,
            )
        elif entry.size is not None and entry.size != file.size:
            add(rules.RECORD_MISMATCH, f"{member.path!r} is {file.size} bytes, RECORD says {entry.size}", member.path)
    present = {posixpath.normpath(p) for p in all_paths}
    for path, entry in entries.items():
        if path not in present and not installed and not path.endswith("/"):
            add(rules.RECORD_STALE, f"RECORD lists {entry.path!r}, which is not in the wheel", entry.path)
    return findings


class ArchiveArtifact(Artifact):
    """A package archive read through an `ArchiveReader`. `index_file` is set when it came from a
    package index (its result is then never cached: the index may serve other bytes next time)."""

    _members: list[Member]

    def __init__(
        self,
        ref: ArtifactRef,
        archive: ArchiveReader,
        *,
        index_file: IndexFile | None,
        extra_problems: Sequence[Finding],
    ) -> None:
        self.ref = ref
        self.index_file = index_file
        self._given = tuple(extra_problems)
        self._archive = archive

    @property
    def result_key(self) -> str:
        return local_archive_key(self.ref, from_index=self.index_file is not None or bool(self._given))

    def members(self) -> Sequence[Member]:
        return self._members

    @property
    def unscanned(self) -> Sequence[Unscanned]:
        return self._archive.unscanned

    def close(self) -> None:
        self._archive.close()


class WheelArtifact(HashedReads, ArchiveArtifact):
    """A wheel read through `ZipReader`."""

    def __init__(
        self,
        path: Path,
        ref: ArtifactRef,
        *,
        limits: ArchiveLimits | None = None,
        index_file: IndexFile | None = None,
        extra_problems: Sequence[Finding] = (),
    ) -> None:
        archive = ZipReader(path, ref.label, limits)
        super().__init__(ref, archive, index_file=index_file, extra_problems=extra_problems)
        self._extra: list[Finding] = []
        self._verified: list[Finding] | None = None
        self._read_sha256: dict[str, tuple[bytes, int]] = {}
        self._dist_info = self._find_dist_info()
        self._members = [
            dataclasses.replace(m, install_path="" if is_shadowed(m.path) else wheel_install_path(m.path))
            for m in self._archive.members()
        ]
        self.metadata = self._read_metadata()

    def _problem(self, message: str, path: str = "") -> None:
        self._extra.append(make_finding(rules.WHEEL_METADATA_PROBLEM, message, self.ref.label, path))

    def _find_dist_info(self) -> str:
        tops = sorted({m.path.split("/", 1)[0] for m in self._archive.members() if m.path.endswith("/METADATA")})
        found = [t for t in tops if t.endswith(".dist-info") and "/" not in t]
        if not found:
            self._problem("no `*.dist-info/METADATA` in the wheel")
            return ""
        if len(found) > 1:
            wanted = self.ref.label.split("-", 1)[0].lower()
            found.sort(key=lambda t: t.split("-", 1)[0].lower() != wanted)
            self._problem(
                f"{len(found)} metadata directories ({', '.join(found)}); installers and tools may "
                "disagree about which is real",
                found[0],
            )
        return found[0]

    def _member_bytes(self, name: str) -> bytes | None:
        path = f"{self._dist_info}/{name}"
        if not any(m.path == path for m in self._members):
            return None
        try:
            return self._archive.read(path)
        except ArtifactError:
            self._problem(f"{path!r} cannot be read", path)
            return None

    def _read_metadata(self) -> PackageMetadata | None:
        if not self._dist_info:
            return None
        data = self._member_bytes("METADATA")
        if data is None:
            return None
        record = self._member_bytes("RECORD")
        if record is None:
            self._problem(f"no RECORD in {self._dist_info}", f"{self._dist_info}/RECORD")
        return parse_core_metadata(data, entry_points=self._member_bytes("entry_points.txt"), record=record)

    def _read(self, path: str) -> bytes:
        return self._archive.read(path)

    def _digests(self) -> Iterator[tuple[Member, FileDigest]]:
        """Every readable member's digest; reading a member verifies its size and checksum
        (bombs, lying headers), so members not read yet are read here."""
        with self._archive.batch():
            for member in self._members:
                if member.kind is not MemberKind.FILE:
                    continue
                try:
                    yield member, self._digest_of(member.path)
                except ArtifactError:
                    continue  # the reader recorded why (unscanned / problem)

    @property
    def problems(self) -> Sequence[Finding]:
        if self._verified is None:
            self._verified = check_record(
                self.ref.label,
                f"{self._dist_info}/RECORD",
                self.metadata,
                self._digests(),
                [m.path for m in self._members],
            )
        return (*self._given, *self._archive.problems, *self._extra, *self._verified)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                h.update(chunk)
    except OSError as err:
        msg = f"{path}: cannot read: {err.strerror}"
        raise ArtifactError(msg) from err
    return h.hexdigest()


def local_file(target: str) -> Path:
    path = Path(target)
    if not path.is_file():
        msg = f"{target}: no such file" if not path.exists() else f"{target}: not a regular file"
        raise ArtifactError(msg)
    return path.resolve()


class WheelSource(Source):
    name = "wheel"
    kinds = (ArtifactKind.WHEEL,)

    def __init__(self, limits: ArchiveLimits | None = None) -> None:
        self.limits = limits

    def claims(self, target: str) -> bool:
        return target.lower().endswith(".whl") and not Path(target).is_dir()

    def open(self, target: str, options: SourceOptions) -> Iterator[Artifact]:
        del options
        path = local_file(target)
        ref = ArtifactRef(ArtifactKind.WHEEL, str(path), label=path.name, sha256=file_sha256(path))
        yield WheelArtifact(path, ref, limits=self.limits)

    def reopen(self, ref: ArtifactRef, options: SourceOptions) -> Artifact:
        del options
        return WheelArtifact(Path(ref.location), ref, limits=self.limits)
