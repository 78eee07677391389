"""Native binaries inside packages, found by their magic bytes rather than their names.

ELF, PE and Mach-O (thin and fat) files are recognised from their headers, with their role
(executable, shared library, object) and architecture; executables are searched for the
markers of bundled JavaScript runtimes (Bun, Node.js, Deno). The judge step weighs where a
binary sits: extension modules in a platform wheel are normal; a binary in an sdist or a
pure-Python wheel, a binary under a data or asset name, or a bundled runtime is not.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from chainwarden.analyzers.base import Analyzer, ArtifactView
from chainwarden.models import ArtifactKind, Confidence, Evidence, Finding, Location, Member, Severity, Trigger
from chainwarden.rules import native as rules

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from chainwarden.rules import Rule

_ET_DYN = 3
_PT_INTERP = 3
_MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")

EXECUTABLE = "executable"
LIBRARY = "library"
OBJECT = "object"
UNKNOWN = "unknown"

_ELF_MACHINES = {3: "x86", 0x3E: "x86_64", 0x28: "arm", 0xB7: "aarch64", 0x08: "mips", 0x14: "ppc", 0x15: "ppc64",
                 0x16: "s390", 0xF3: "riscv"}  # fmt: skip
_PE_MACHINES = {0x14C: "x86", 0x8664: "x86_64", 0xAA64: "arm64", 0x1C0: "arm", 0x1C4: "armnt"}
_MACHO_CPU = {7: "x86", 0x01000007: "x86_64", 12: "arm", 0x0100000C: "arm64", 18: "ppc", 0x01000012: "ppc64"}

#: Markers of bundled JavaScript runtimes; a runtime matches when `need` of its markers occur.
_RUNTIME_MARKERS: tuple[tuple[str, int, tuple[bytes, ...]], ...] = (
    ("bun", 1, (b"oven-sh/bun", b"BUN_INSTALL", b"bun.sh/docs")),
    ("deno", 1, (b"deno_runtime", b"DENO_DIR", b"deno.land/x")),
    ("node", 2, (b"node::Start", b"NODE_OPTIONS", b"nodejs.org", b"node_modules")),
)
_RUNTIME_NAMES = {"bun": "bun", "bunx": "bun", "node": "node", "nodejs": "node", "deno": "deno"}

_LIB_NAME = re.compile(r"\.(?:so(?:\.\d+)*|pyd|dylib|dll)$", re.IGNORECASE)
#: Suffixes of data, media and text: an executable under one of these is disguised.
_ASSET_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".svg",
        ".webp",
        ".tif",
        ".tiff",
        ".wav",
        ".mp3",
        ".ogg",
        ".flac",
        ".m4a",
        ".mp4",
        ".avi",
        ".mov",
        ".webm",
        ".txt",
        ".json",
        ".csv",
        ".tsv",
        ".xml",
        ".html",
        ".htm",
        ".css",
        ".js",
        ".mjs",
        ".md",
        ".rst",
        ".yaml",
        ".yml",
        ".toml",
        ".cfg",
        ".ini",
        ".conf",
        ".log",
        ".py",
        ".pyi",
        ".pth",
        ".ttf",
        ".otf",
        ".woff",
        ".woff2",
        ".pdf",
        ".gz",
        ".zip",
        ".tar",
        ".db",
        ".sqlite",
    ]
)
_SKIP_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True, slots=True)
class NativeFacts:
    """What one file's bytes are. `format` is "" for anything that is not a native binary."""

    format: str = ""  # "elf" | "pe" | "macho" | "macho-fat"
    role: str = ""
    arch: str = ""
    runtime: str = ""
    size: int = 0
    # set when the file is a wheel's `.dist-info/WHEEL`
    wheel_purelib: bool | None = None
    wheel_tags: tuple[str, ...] = ()


def _u16(data: bytes, off: int, little: bool) -> int:
    return int(struct.unpack_from("<H" if little else ">H", data, off)[0]) if len(data) >= off + 2 else 0


def _u32(data: bytes, off: int, little: bool) -> int:
    return int(struct.unpack_from("<I" if little else ">I", data, off)[0]) if len(data) >= off + 4 else 0


def _u64(data: bytes, off: int, little: bool) -> int:
    return int(struct.unpack_from("<Q" if little else ">Q", data, off)[0]) if len(data) >= off + 8 else 0


def _elf(data: bytes) -> NativeFacts:
    wide = data[4:5] == b"\x02"
    little = data[5:6] != b"\x02"
    e_type = _u16(data, 16, little)
    arch = _ELF_MACHINES.get(_u16(data, 18, little), f"machine-{_u16(data, 18, little)}")
    role = {1: OBJECT, 2: EXECUTABLE, 3: LIBRARY, 4: OBJECT}.get(e_type, UNKNOWN)
    if e_type == _ET_DYN and _has_interp(data, wide=wide, little=little):
        role = EXECUTABLE  # a position-independent executable: ET_DYN with an interpreter
    return NativeFacts("elf", role, arch)


def _has_interp(data: bytes, *, wide: bool, little: bool) -> bool:
    phoff = _u64(data, 32, little) if wide else _u32(data, 28, little)
    entsize = _u16(data, 54 if wide else 42, little)
    count = min(_u16(data, 56 if wide else 44, little), 64)
    if entsize < 4:  # noqa: PLR2004 - p_type is the first 4 bytes of an entry
        return False
    return any(_u32(data, phoff + i * entsize, little) == _PT_INTERP for i in range(count))


def _pe(data: bytes) -> NativeFacts | None:
    lfanew = _u32(data, 0x3C, little=True)
    if lfanew <= 0 or data[lfanew : lfanew + 4] != b"PE\x00\x00":
        return None
    machine = _u16(data, lfanew + 4, little=True)
    characteristics = _u16(data, lfanew + 22, little=True)
    role = LIBRARY if characteristics & 0x2000 else EXECUTABLE if characteristics & 0x0002 else UNKNOWN
    return NativeFacts("pe", role, _PE_MACHINES.get(machine, f"machine-{machine:#x}"))


def _macho(data: bytes) -> NativeFacts:
    little = data[:4] in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
    cpu = _u32(data, 4, little)
    filetype = _u32(data, 12, little)
    role = {1: OBJECT, 2: EXECUTABLE, 6: LIBRARY, 8: LIBRARY}.get(filetype, UNKNOWN)
    return NativeFacts("macho", role, _MACHO_CPU.get(cpu, f"cpu-{cpu:#x}"))


def _fat(data: bytes) -> NativeFacts | None:
    count = _u32(data, 4, little=False)
    if not 0 < count < 20:  # noqa: PLR2004 - larger values are Java class files (same magic)
        return None
    wide = data[:4] == b"\xca\xfe\xba\xbf"
    arches, roles = [], []
    for i in range(count):
        entry = 8 + i * (32 if wide else 20)
        arches.append(_MACHO_CPU.get(_u32(data, entry, little=False), "?"))
        offset = _u64(data, entry + 8, little=False) if wide else _u32(data, entry + 8, little=False)
        if data[offset : offset + 4] in _MACHO_MAGICS:
            roles.append(_macho(data[offset : offset + 32]).role)
    role = EXECUTABLE if EXECUTABLE in roles else roles[0] if roles else UNKNOWN
    return NativeFacts("macho-fat", role, "+".join(arches))


def _wheel_metadata(data: bytes) -> NativeFacts:
    text = data[:65536].decode("utf-8", "replace")
    purelib: bool | None = None
    tags = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "root-is-purelib":
            purelib = value.strip().lower() == "true"
        elif key.strip().lower() == "tag":
            tags.append(value.strip())
    return NativeFacts(size=len(data), wheel_purelib=purelib, wheel_tags=tuple(tags[:50]))


def identify(data: bytes) -> NativeFacts:
    """The native-binary facts of one file's bytes (never raises on hostile input)."""
    head = data[:4]
    facts: NativeFacts | None = None
    if head == b"\x7fELF":
        facts = _elf(data)
    elif head[:2] == b"MZ":
        facts = _pe(data)
    elif head in _MACHO_MAGICS:
        facts = _macho(data)
    elif head in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        facts = _fat(data)
    elif data.startswith(b"Wheel-Version:"):
        return _wheel_metadata(data)
    if facts is None:
        return NativeFacts(size=len(data))
    runtime = _runtime(data) if facts.role == EXECUTABLE else ""
    return NativeFacts(facts.format, facts.role, facts.arch, runtime, len(data))


def _runtime(data: bytes) -> str:
    for name, need, markers in _RUNTIME_MARKERS:
        if sum(1 for m in markers if m in data) >= need:
            return name
    return ""


# ---------------------------------------------------------------- judging


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _suffix(path: str) -> str:
    name = _basename(path)
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else ""


def _is_pure_wheel(view: ArtifactView, facts: Mapping[str, NativeFacts]) -> bool:
    if view.kind not in (ArtifactKind.WHEEL, ArtifactKind.INSTALLED):
        return False
    for path, f in facts.items():
        if path.endswith(".dist-info/WHEEL") and f.wheel_purelib is not None:
            tags = f.wheel_tags
            return f.wheel_purelib and (not tags or all(t.endswith("-none-any") for t in tags))
    name = _basename(view.ref.location or view.ref.label)
    return name.endswith("-none-any.whl")


@dataclass(frozen=True, slots=True)
class _Binary:
    member: Member
    facts: NativeFacts


class NativeAnalyzer(Analyzer[NativeFacts]):
    """ELF / PE / Mach-O files in packages, weighed by where they sit."""

    name: ClassVar[str] = "native"
    version: ClassVar[str] = "1"
    facts_type: ClassVar[type[NativeFacts]] = NativeFacts
    max_bytes: ClassVar[int] = 64 * 1024 * 1024
    inline: ClassVar[bool] = True

    def select(self, member: Member, view: ArtifactView) -> bool:
        del view
        path = member.path
        if member.size < 4 or path.endswith(_SKIP_SUFFIXES):  # noqa: PLR2004 - shorter than any magic
            return False
        if ".dist-info/" in path or ".egg-info/" in path:
            return path.endswith(".dist-info/WHEEL")
        return True

    def extract(self, data: bytes) -> NativeFacts:
        return identify(data)

    def judge(self, view: ArtifactView, facts: Mapping[str, NativeFacts]) -> Iterable[Finding]:
        pure = _is_pure_wheel(view, facts)
        expected: list[_Binary] = []
        for member in view.members:
            f = facts.get(member.path)
            if f is None:
                continue
            if not f.format:
                if _LIB_NAME.search(member.path):
                    yield self._not_native(view, member)
                continue
            b = _Binary(member, f)
            finding = self._judge_binary(view, b, pure=pure)
            if finding is None:
                expected.append(b)
            else:
                yield finding
        if expected:
            yield self._expected(view, expected)

    def _finding(
        self,
        view: ArtifactView,
        rule: Rule,
        path: str,
        message: str,
        evidence: Evidence,
        *,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            rule_id=rule.id,
            severity=rule.severity if severity is None else severity,
            message=message,
            location=Location(artifact=view.label, path=path),
            trigger=Trigger.NONE,
            confidence=Confidence.HIGH,
            evidence=evidence,
            capabilities=("native",),
        )

    def _judge_binary(self, view: ArtifactView, b: _Binary, *, pure: bool) -> Finding | None:
        f, path = b.facts, b.member.path
        what = f"{f.format} {f.role} ({f.arch})"
        detail = (("format", f.format), ("role", f.role), ("arch", f.arch), ("size", str(f.size)))
        evidence = Evidence(snippet=f"{path}: {what}", detail=detail)
        name = _basename(path).lower().removesuffix(".exe")
        runtime = f.runtime or (_RUNTIME_NAMES.get(name, "") if f.role in (EXECUTABLE, UNKNOWN) else "")
        disguised = _suffix(path) in _ASSET_SUFFIXES
        if runtime:
            # Some platform wheels ship a runtime on purpose (playwright's node driver); one
            # hidden in a source or pure-Python distribution, or under an asset name, is not.
            odd = disguised or pure or view.kind in (ArtifactKind.SDIST, ArtifactKind.DIRECTORY)
            where = " where no compiled code is expected" if odd else ""
            message = f"{path} is a bundled {runtime} JavaScript runtime ({what}){where}"
            severity = Severity.HIGH if odd else None
            return self._finding(view, rules.BUNDLED_RUNTIME, path, message, evidence, severity=severity)
        if disguised:
            message = f"{path} is a native {what} disguised under a {_suffix(path)} name"
            return self._finding(view, rules.DISGUISED_BINARY, path, message, evidence)
        if view.kind in (ArtifactKind.SDIST, ArtifactKind.DIRECTORY, ArtifactKind.FILE):
            message = f"{path}: prebuilt native {what} in a source distribution"
            return self._finding(view, rules.UNEXPECTED_BINARY, path, message, evidence)
        if pure:
            message = f"{path}: native {what} in a pure-Python wheel (py3-none-any / Root-Is-Purelib)"
            return self._finding(view, rules.UNEXPECTED_BINARY, path, message, evidence)
        return None

    def _not_native(self, view: ArtifactView, member: Member) -> Finding:
        message = f"{member.path} is named like a native library but is not an ELF, PE or Mach-O file"
        evidence = Evidence(snippet=member.path)
        return self._finding(view, rules.NAMED_NATIVE_NOT_BINARY, member.path, message, evidence)

    def _expected(self, view: ArtifactView, binaries: list[_Binary]) -> Finding:
        executables = [b for b in binaries if b.facts.role == EXECUTABLE]
        listing = "\n".join(f"{b.member.path}: {b.facts.format} {b.facts.role} ({b.facts.arch})" for b in binaries[:50])
        more = f"\n... and {len(binaries) - 50} more" if len(binaries) > 50 else ""  # noqa: PLR2004
        message = (
            f"{len(binaries)} native binaries at expected places ({len(executables)} executables), "
            "normal for a platform wheel"
        )
        detail = (("binaries", str(len(binaries))), ("executables", str(len(executables))))
        return self._finding(view, rules.EXPECTED_BINARIES, binaries[0].member.path, message,
                             Evidence(snippet=listing + more, detail=detail))  # fmt: skip


def iter_binaries(facts: Mapping[str, NativeFacts]) -> Iterator[tuple[str, NativeFacts]]:
    """(path, facts) of every native binary: for other analyzers that weigh who runs them."""
    for path, f in facts.items():
        if f.format:
            yield path, f
